"""Self-checks for notebook 10, vanishing and exploding gradients.

Expected answers come from the engine (``backward`` on the same network), from a measurement (the
signal's mean square through a deep random network), or from data built so that the answer is
known by construction -- never from the learner's code. The clipping check is in
``_clipping.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from ..datasets import digits
from ..functional import cross_entropy
from ..nn import deep_network
from ..tensor import Tensor, as_array
from . import (
    Feedback,
    attempt,
    attempt_own,
    changed_input,
    close,
    correct,
    estimated,
    hint,
    result_array,
)
from ._clipping import check_clip_gradients
from ._deep_inputs import on_and_off, steady_layer
from ._draws import check_rng

__all__ = [
    "check_clip_gradients",
    "check_dead_fraction",
    "check_init_std",
    "check_input_gradient",
    "check_trainable_init",
]

# The references here are exact (the engine, numpy formulas), so agreement can be tighter than
# close()'s default, which allows for finite differences.
_close = partial(close, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- input_gradient
def _masked_only_at(
    x: np.ndarray, weights: list[np.ndarray], g: np.ndarray, masked: set[int], mask_x: bool
) -> np.ndarray:
    """Back through each layer, with its own ReLU mask only for the layers in ``masked`` (counted
    from 0 at the input), and then x's sign as a mask if ``mask_x``. Masks one layer late, each
    from the layer below, are: every layer but the last, then x's sign (or not)."""
    zs, a = [], x
    for W in weights:
        zs.append(a @ W.T)
        a = np.maximum(zs[-1], 0)
    for i in reversed(range(len(weights))):
        g = (g * (zs[i] > 0) if i in masked else g) @ weights[i]
    return g * (x > 0) if mask_x else g


def _relu_for_its_slope(x: np.ndarray, weights: list[np.ndarray], g: np.ndarray) -> np.ndarray:
    """Back through each layer multiplying by relu(z), the layer's output, where relu'(z) was meant
    (found by a novice walk: it got only the catch-all hint)."""
    zs, a = [], x
    for W in weights:
        zs.append(a @ W.T)
        a = np.maximum(zs[-1], 0)
    for W, z in zip(reversed(weights), reversed(zs)):
        g = (g * np.maximum(z, 0)) @ W
    return g


def check_input_gradient(input_gradient: Callable) -> Feedback:
    """``input_gradient(x, weights, g)``: dL/dx through layers a = relu(a @ W.T), given g = dL/da_n
    (n layers; L is the loss).

    ``weights[l]`` has the package's layout (n_out, n_in); x has shape (batch, n_in of layer 0).
    """
    name = "input_gradient"
    # every layer has active and inactive units for each example, so the answer is not all
    # zeros (seed 10 killed every unit of the last layer, and zeros passed)
    rng = check_rng(11)
    widths = [5, 7, 4, 6]  # all different, so a missing or extra transpose cannot go unnoticed
    for _ in range(1000):  # drawn again until that holds (seed 11: at once)
        weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(widths, widths[1:])]
        x = rng.standard_normal((3, widths[0]))
        if on_and_off(x, weights):
            break
    g = rng.standard_normal((3, widths[-1]))
    expected = _engine_gradient(x, weights, g)
    result = attempt_own(name, input_gradient, x, weights, g)  # numpy only, inputs untouched
    if isinstance(result, Feedback):
        return result
    got = result_array(name, result, x.shape)
    if isinstance(got, Feedback):  # not an array of the right shape: add where to look
        return hint(
            name,
            got.message
            + " Going back through a layer multiplies by its weight matrix; let the shapes "
            "tell you which side and whether it is transposed.",
        )
    if _close(got, expected):
        kink_g = rng.standard_normal((1, widths[-1]))
        return (
            estimated(name, got, expected)  # to 8 or 10 digits only: an estimate, not derived
            or _other_depth(input_gradient, x, weights, g)
            or _at_the_kink(input_gradient, weights, kink_g)
        )
    every = set(range(len(weights)))
    if _close(got, _masked_only_at(x, weights, g, set(), mask_x=False)):
        return hint(
            name,
            "this is the gradient of the same network without its ReLUs: every layer also "
            "multiplies by ReLU'(z), which is 0 or 1 for each unit.",
        )
    if _close(got, _relu_for_its_slope(x, weights, g)):
        return hint(
            name,
            "each layer multiplied by ReLU(z), the units' outputs: going back, a layer multiplies "
            "by ReLU's derivative at z, 1 where the unit was on and 0 where it was off.",
        )
    if _close(got, _masked_only_at(x, weights, g, every - {len(weights) - 1}, mask_x=True)):
        return hint(
            name,
            "your ReLU masks are one layer late: going back through a layer, its own ReLU comes "
            "first, with the units that were off in that layer (its own z), and then its "
            "weights; yours switches off the units of the layer below, its input.",
        )
    for layer in sorted(every, reverse=True):  # one layer's ReLU left out on the way back
        if _close(got, _masked_only_at(x, weights, g, every - {layer}, mask_x=False)):
            which = "the last layer" if layer == max(every) else f"layer {layer + 1}"
            return hint(name, f"{which}'s ReLU is missing on your way back: every layer here, the "
                        "last one included, ends with a ReLU, and going back through a layer "
                        "multiplies by its ReLU's derivative at its own z first, then by its "
                        "weights" + (" (masks one layer late, from the layer below, give the same "
                                     "numbers)." if layer == max(every) else "."))  # fmt: skip
    return hint(
        name,
        "not the engine's x.grad. Run the forward pass first and keep every pre-activation z; "
        "then go backward from the last layer, one layer at a time (try a single layer first).",
    )


def _engine_gradient(x: np.ndarray, weights: list[np.ndarray], g: np.ndarray) -> np.ndarray:
    """The expected dL/dx: the engine's backward() through the same layers."""
    x_t = Tensor(x, requires_grad=True)
    a = x_t
    for W in weights:
        a = (a @ Tensor(W).T).relu()
    a.backward(g)
    assert x_t.grad is not None  # backward() reached x_t
    return x_t.grad


def _other_depth(
    input_gradient: Callable, x: np.ndarray, weights: list[np.ndarray], g: np.ndarray
) -> Feedback | None:
    """None if ``input_gradient``, right through the check's 3 layers, is right through the first
    2 of them as well, else the hint: an answer written for 3 layers (three weight matrices
    unpacked, three steps back) ignores how many it is given."""
    name = "input_gradient"
    fewer = weights[:2]
    g_fewer = g[:, : fewer[-1].shape[0]]  # dL/da at the second layer's output
    result = attempt_own(name, input_gradient, x, fewer, g_fewer)
    got = result_array(name, result, x.shape)
    if not isinstance(got, Feedback) and _close(got, _engine_gradient(x, fewer, g_fewer)):
        return None
    words = (
        f"right through {len(weights)} layers, but not through a network of {len(fewer)}: does "
        "your function go through every layer it is given, however many?"
    )
    if isinstance(got, Feedback) and got.status == "hint":
        return hint(name, f"{words} (Here: {got.message})")
    return hint(name, words)


def _at_the_kink(input_gradient: Callable, weights: list[np.ndarray], g: np.ndarray) -> Feedback:
    """The verdict for an ``input_gradient`` right on the batch: an example of zeros puts every
    unit exactly at ReLU's kink, z = 0, where the unit counts as off, so nothing reaches x."""
    name = "input_gradient"
    x = np.zeros((1, weights[0].shape[1]))
    got = result_array(name, attempt_own(name, input_gradient, x, weights, g), x.shape)
    if isinstance(got, Feedback):
        return got
    if not _close(got, _engine_gradient(x, weights, g)):
        return hint(
            name,
            "right on the batch, but not for an input of zeros, where every unit's z is exactly "
            "0: there a unit counts as off (slope 0, the package's and PyTorch's convention, as "
            "in notebook 06), so no gradient reaches x; is your comparison strict?",
        )
    return correct(name, "matches the engine's x.grad through 3 ReLU layers.")


# ----------------------------------------------------------------------------------- init_std
_CHECK_WIDTHS = [128, 512] * 6 + [128]  # the width changes at every layer: fan-in != fan-out


_ZERO_STD = (  # the symmetry a zero initialisation never breaks ("Why random at all?")
    "With a std of 0 every weight starts at 0: all the units of a layer then compute the same "
    "number and get the same gradient, so no update can ever make them differ. The weights must "
    "start random; the question is how large (if you meant a fraction, did a division round "
    "down to a whole number?)."
)


def _layer_factors(init_std: Callable, activation: str) -> np.ndarray | Feedback:
    """How much the mean square of the pre-activations changes from one layer to the next."""
    name = "init_std"
    rng = check_rng(11)
    a = rng.standard_normal((256, _CHECK_WIDTHS[0]))
    mean_squares: list[float] = []
    last = len(_CHECK_WIDTHS) - 2  # (no layer after it)
    for layer, (n_in, n_out) in enumerate(zip(_CHECK_WIDTHS, _CHECK_WIDTHS[1:])):
        std = attempt(name, init_std, n_in, n_out, activation)
        if isinstance(std, Feedback):
            return std
        try:
            std = float(std)
        except (TypeError, ValueError):
            return hint(name, f"init_std returned {type(std).__name__}; return one number.")
        if std == 0:
            return hint(name, f"init_std({n_in}, {n_out}, {activation!r}) returned 0. {_ZERO_STD}")
        if not np.isfinite(std) or std < 0:
            return hint(
                name,
                f"init_std({n_in}, {n_out}, {activation!r}) returned {std}; a "
                "standard deviation is a positive number.",
            )
        square, a = steady_layer(rng, a, std, n_out, activation, mean_squares, layer < last)
        mean_squares.append(square)
    ms = np.array(mean_squares)
    if not np.all(np.isfinite(ms)):
        return hint(
            name,
            f"with activation={activation!r} the signal grows until it overflows: "
            "your std is far too large.",
        )
    if np.any(ms == 0):
        return hint(
            name,
            f"with activation={activation!r} the signal shrinks until it is exactly "
            "0: your std is far too small.",
        )
    return ms[1:] / ms[:-1]


def _steady_as_a_variance(init_std: Callable, activation: str) -> bool:
    """Whether the square root of the learner's number keeps the signal steady: the variance
    s^2 returned where the standard deviation s was asked for (a novice walk's slip)."""

    def its_root(n_in: int, n_out: int, activation: str) -> float:
        return float(np.sqrt(abs(float(init_std(n_in, n_out, activation)))))

    factors = _layer_factors(its_root, activation)
    return not isinstance(factors, Feedback) and 1 / 1.4 <= factors.min() <= factors.max() <= 1.4


def check_init_std(init_std: Callable) -> Feedback:
    """``init_std(n_in, n_out, activation)``: the weight std that keeps the forward signal steady.

    Measured, not compared with a formula: random data goes through 12 layers whose widths
    alternate between 128 and 512, and the mean square of the pre-activations must change by
    less than a factor 1.4 from every layer to the next (for "linear" and for "relu").
    """
    name = "init_std"
    for activation in ("linear", "relu"):
        factors = _layer_factors(init_std, activation)
        if isinstance(factors, Feedback):
            return factors
        typical = float(np.exp(np.log(factors).mean()))  # geometric mean: the per-layer trend
        low, high = float(factors.min()), float(factors.max())
        if 1 / 1.4 <= low and high <= 1.4:
            continue
        where = f"with activation={activation!r}"
        if typical < 0.8 and _steady_as_a_variance(init_std, activation):
            return hint(
                name,
                f"{where} the signal shrinks by a factor of about {typical:.3g} per layer, but "
                "the square root of your number keeps it steady: you returned the variance s^2 "
                "of the weights; return their standard deviation s.",
            )
        if typical < 0.8:
            return hint(
                name,
                f"{where} the signal shrinks by a factor of about {typical:.3g} per layer: "
                "your std is too small. Redo the variance argument for this activation.",
            )
        if typical > 1.25:
            return hint(
                name,
                f"{where} the signal grows by a factor of about {typical:.3g} per layer: "
                "your std is too large. Redo the variance argument for this activation.",
            )
        return hint(
            name,
            f"{where} the signal is steady on average but swings by factors between "
            f"{low:.2f} and {high:.2f} where the width changes: which width does the sum in "
            "z = W a run over?",
        )
    return correct(
        name,
        "the mean square stays within a factor 1.4 at every one of 12 layers, for linear and ReLU.",
    )


# ------------------------------------------------------------------------------ dead_fraction
def _layer_with_dead_units(
    rng: np.random.Generator, n: int, units: int, dead: list[int], weak: tuple[int, ...] = ()
):
    z = rng.standard_normal((n, units))
    z[:, dead] = -np.abs(z[:, dead]) - 0.1  # these units never fire
    alive = [u for u in range(units) if u not in dead]
    z[rng.integers(0, n, len(alive)), alive] = 1.0  # every other unit fires at least once
    for unit in weak:  # alive, barely: it fires on one example only, with a small output
        z[:, unit] = -1.0
        z[n // 2, unit] = 1e-3
    return np.maximum(z, 0)


def check_dead_fraction(dead_fraction: Callable) -> Feedback:
    """``dead_fraction(a)``: the fraction of units (columns) that are 0 for every example (row)."""
    name = "dead_fraction"
    rng = check_rng(12)
    # (examples, units, dead units, units that fire once, weakly): a typical layer, another,
    # none dead, all dead, one example
    cases = [
        (40, 20, [1, 4, 5, 11, 19], (2, 8)),
        (30, 16, [0, 7, 15], ()),
        (12, 8, [], ()),
        (12, 6, list(range(6)), ()),
    ]
    cases.append((1, 10, [2, 3], ()))
    for n, units, dead, weak in cases:
        a = _layer_with_dead_units(rng, n, units, dead, weak)
        if n > 1:  # and one example that no unit fires on: zero in every unit is not a dead unit
            a = np.vstack([a, np.zeros(units)])
        expected = len(dead) / units  # known by construction
        given = a.copy()
        result = attempt(name, dead_fraction, given)
        if isinstance(result, Feedback):
            return result
        # the notebook measures the same activations again after counting their dead units
        changed = changed_input(name, {"a": a}, {"a": given})
        if changed is not None:
            return changed
        try:
            got = float(as_array(result))
        except (TypeError, ValueError):
            return hint(name, "return one number: the fraction of dead units in the layer.")
        if abs(got - expected) < 1e-6:  # float32's rounding passes; fractions differ by 1/units
            continue
        if weak and abs(got - (len(dead) + len(weak)) / units) < 1e-9:
            return hint(name, "you counted units that fire on one example only, weakly, as dead: "
                        "any output above 0, however small, means the unit is alive.")  # fmt: skip
        if abs(got - len(dead)) < 1e-9:
            return hint(name, "you returned how many units are dead; return the fraction (0 to 1).")
        if abs(got - float((a == 0).mean())) < 1e-9:
            return hint(
                name,
                "you counted zero entries. A zero on one example is normal for a ReLU; a unit is "
                "dead only when it is zero for EVERY example in the batch.",
            )
        if got == 0 and dead:
            return hint(
                name,
                f"you found no dead units in a layer of {units} with {len(dead)} dead: a ReLU's "
                "output is never negative, and a dead unit's is exactly 0 on every example.",
            )
        if abs(got - float(np.all(a == 0, axis=1).mean())) < 1e-9:
            return hint(
                name, "you looked along the wrong axis: rows are examples, columns are units."
            )
        if dead and abs(got - 100 * expected) < 1e-6:
            return hint(name, "you returned the share of dead units as a percentage (0 to 100); "
                        "return it as a fraction, a number from 0 to 1.")  # fmt: skip
        return hint(
            name,
            f"a layer of {units} units with {len(dead)} that never fire should give "
            f"{len(dead)}/{units}; yours gave {got:.4g}.",
        )
    return correct(name, "right on layers with a known number of dead units (also none, all, "
                   "units that fire once, weakly, and a batch of one example).")  # fmt: skip


# ----------------------------------------------------------------------- the challenge: an init
def hidden_gradient_norms(model: Any, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||dL/da|| after every activation layer of a ``deep_network``, input side first."""
    h = Tensor(X)
    outputs = []
    for layer in model:
        h = layer(h)
        outputs.append(h)
    cross_entropy(h, y).backward()
    return np.array([np.linalg.norm(t.grad) for t in outputs[1:-1]])


def check_trainable_init(std: object) -> Feedback:
    """The challenge: a standard deviation for every weight of ``deep_network(20, 48, "relu")``
    at which the gradient keeps its size through the layers (a factor per layer of 0.93..1.07).

    ``std`` is the learner's function ``my_std()`` returning the number (or the number itself).
    """
    name = "trainable init"
    if callable(std):
        std = attempt(name, std)
        if isinstance(std, Feedback):  # still the stub ("not done"), or it crashed
            return std
    try:
        if isinstance(std, (str, bytes)):  # text ("0.2"), which float() would read as a number
            raise TypeError
        value = float(as_array(std))
    except (TypeError, ValueError):
        return hint(name, f"my_std is a {type(std).__name__}; it should be one number, a "
                    "standard deviation.")  # fmt: skip
    if value == 0:
        return hint(name, f"my_std is 0. {_ZERO_STD}")
    if not np.isfinite(value) or value < 0:
        return hint(name, "a standard deviation is a positive number.")
    data = digits()
    X, y = data.X_train[:256], data.y_train[:256]
    with np.errstate(all="ignore"):
        model = deep_network(20, 48, activation="relu", init=value, rng=3)
        try:
            norms = hidden_gradient_norms(model, X, y)
        except ValueError:  # the logits overflowed to inf, which cross_entropy refuses
            norms = np.array([np.inf])
    if not np.all(np.isfinite(norms)) or np.any(norms == 0):
        return hint(name, "with this std the gradients overflow or vanish to exactly 0.")
    factor = float(np.exp(np.mean(np.log(norms[:-1] / norms[1:]))))  # per layer, input side
    ratio = norms[0] / norms[-1]
    if factor < 0.93:
        return hint(name, f"vanishing: with this std each layer passes on about {factor:.2f} of "
                    f"the gradient it receives, so layer 1 gets {ratio:.1e} of what the last "
                    "layer gets.")  # fmt: skip
    if factor > 1.07:
        return hint(name, f"exploding: each layer multiplies the gradient by about {factor:.2f}, "
                    f"so layer 1 gets {ratio:.1e} times what the last layer gets.")  # fmt: skip
    return correct(name, f"the gradient keeps its size: about {factor:.3f} per layer, "
                   f"{ratio:.2f} from the last layer to the first.")  # fmt: skip
