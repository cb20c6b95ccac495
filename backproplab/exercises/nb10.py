"""Self-checks for notebook 10, vanishing and exploding gradients.

Expected answers come from the engine (``backward`` on the same network), from a measurement (the
signal's mean square through a deep random network), or from data built so that the answer is
known by construction -- never from the learner's code.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from ..tensor import Tensor, as_array
from . import Feedback, attempt, close, correct, hint, result_array

__all__ = ["check_dead_fraction", "check_init_std", "check_input_gradient"]

# The references here are exact (the engine, numpy formulas), so agreement can be tighter than
# close()'s default, which allows for finite differences.
_close = partial(close, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- input_gradient
def _relu_network(x: np.ndarray, weights: list[np.ndarray], g: np.ndarray) -> np.ndarray:
    """dL/dx by the engine, for a = relu(a @ W.T) layer after layer and dL/d(output) = g."""
    x_t = Tensor(x, requires_grad=True)
    a = x_t
    for W in weights:
        a = (a @ Tensor(W).T).relu()
    a.backward(g)
    return x_t.grad


def _without_masks(weights: list[np.ndarray], g: np.ndarray) -> np.ndarray:
    for W in reversed(weights):
        g = g @ W
    return g


def check_input_gradient(input_gradient: Callable) -> Feedback:
    """``input_gradient(x, weights, g)``: dL/dx through layers a = relu(a @ W.T), given g = dL/da_L.

    ``weights[l]`` has the package's layout (n_out, n_in); x has shape (batch, n_in of layer 0).
    """
    name = "input_gradient"
    rng = np.random.default_rng(10)
    widths = [5, 7, 4, 6]  # all different, so a missing or extra transpose cannot go unnoticed
    weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(widths, widths[1:])]
    x = rng.standard_normal((3, widths[0]))
    g = rng.standard_normal((3, widths[-1]))
    expected = _relu_network(x, weights, g)
    result = attempt(name, input_gradient, x.copy(), [W.copy() for W in weights], g.copy())
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
        return correct(name, "matches the engine's x.grad through 3 ReLU layers.")
    if _close(got, _without_masks(weights, g)):
        return hint(
            name,
            "this is the gradient of the same network without its ReLUs: every layer also "
            "multiplies by ReLU'(z), which is 0 or 1 for each unit.",
        )
    return hint(
        name,
        "not the engine's x.grad. Run the forward pass first and keep every pre-activation z; "
        "then go backward from the last layer, one layer at a time (try a single layer first).",
    )


# ----------------------------------------------------------------------------------- init_std
_CHECK_WIDTHS = [128, 512] * 6 + [128]  # the width changes at every layer: fan-in != fan-out


def _layer_factors(init_std: Callable, activation: str) -> np.ndarray | Feedback:
    """How much the mean square of the pre-activations changes from one layer to the next."""
    name = "init_std"
    rng = np.random.default_rng(11)
    a = rng.standard_normal((256, _CHECK_WIDTHS[0]))
    mean_squares = []
    for n_in, n_out in zip(_CHECK_WIDTHS, _CHECK_WIDTHS[1:]):
        std = attempt(name, init_std, n_in, n_out, activation)
        if isinstance(std, Feedback):
            return std
        try:
            std = float(std)
        except (TypeError, ValueError):
            return hint(name, f"init_std returned {type(std).__name__}; return one number.")
        if not np.isfinite(std) or std <= 0:
            return hint(
                name,
                f"init_std({n_in}, {n_out}, {activation!r}) returned {std}; a "
                "standard deviation is a positive number.",
            )
        W = rng.standard_normal((n_out, n_in)) * std
        with np.errstate(all="ignore"):  # a huge std overflows: reported below, not warned
            z = a @ W.T
            a = np.maximum(z, 0) if activation == "relu" else z
            mean_squares.append(float((z**2).mean()))
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
def _layer_with_dead_units(rng: np.random.Generator, n: int, units: int, dead: list[int]):
    z = rng.standard_normal((n, units))
    z[:, dead] = -np.abs(z[:, dead]) - 0.1  # these units never fire
    alive = [u for u in range(units) if u not in dead]
    z[rng.integers(0, n, len(alive)), alive] = 1.0  # every other unit fires at least once
    return np.maximum(z, 0)


def check_dead_fraction(dead_fraction: Callable) -> Feedback:
    """``dead_fraction(a)``: the fraction of units (columns) that are 0 for every example (row)."""
    name = "dead_fraction"
    rng = np.random.default_rng(12)
    cases = [(40, 20, [1, 4, 5, 11, 19]), (30, 16, [0, 7, 15])]  # (examples, units, dead units)
    for n, units, dead in cases:
        a = _layer_with_dead_units(rng, n, units, dead)
        expected = len(dead) / units  # known by construction
        result = attempt(name, dead_fraction, a.copy())
        if isinstance(result, Feedback):
            return result
        try:
            got = float(as_array(result))
        except (TypeError, ValueError):
            return hint(name, "return one number: the fraction of dead units in the layer.")
        if abs(got - expected) < 1e-9:
            continue
        if abs(got - len(dead)) < 1e-9:
            return hint(name, "you returned how many units are dead; return the fraction (0 to 1).")
        if abs(got - float((a == 0).mean())) < 1e-9:
            return hint(
                name,
                "you counted zero entries. A zero on one example is normal for a ReLU; a unit is "
                "dead only when it is zero for EVERY example in the batch.",
            )
        if abs(got - float(np.all(a == 0, axis=1).mean())) < 1e-9:
            return hint(
                name, "you looked along the wrong axis: rows are examples, columns are units."
            )
        return hint(
            name,
            f"a layer of {units} units with {len(dead)} that never fire should give "
            f"{len(dead)}/{units}; yours gave {got:.4g}.",
        )
    return correct(name, "right on two layers with a known number of dead units.")
