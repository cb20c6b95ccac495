"""Self-checks for notebook 01 · Why backprop.

Four exercises and a challenge:

* ``gradient_descent_step(params, grads, lr)``: the easy half of training, once gradients exist;
* ``count_parameters(sizes)``: how many numbers an MLP learns, i.e. how many forward passes the
  numerical method needs per gradient;
* ``central_difference_gradient(f, w, eps)``: two perturbed passes per parameter, far more precise;
* ``chain_cost(shapes, mode)``: what forward and reverse mode multiply (in ``_chain_cost.py``);
* the challenge ``train(X, Y, W1, W2, lr, steps)``: gradient descent on the notebook's network,
  written from a blank cell with ``backward()``.

Expected answers are written out in this file (a count per layer, ``p - lr * g``, derivatives and
a numpy forward and backward pass of the challenge's network), never taken from the learner's
function or from a package function the learner could call instead. Every call of ``f`` is
counted: counting forward passes is the point of the notebook.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from . import Feedback, attempt, correct, hint, names_used, uses_package
from ._chain_cost import check_chain_cost
from ._difference_inputs import loss as _loss
from ._difference_inputs import other_inputs
from ._difference_slips import far_off
from ._draws import check_rng
from ._training import (  # noqa: F401 - _network_loss_and_grads: the tests read it here
    _challenge_data,
    _network_loss_and_grads,
    _trajectory,
    other_step_size,
)

__all__ = [
    "check_central_difference_gradient",
    "check_chain_cost",
    "check_count_parameters",
    "check_gradient_descent_step",
    "check_train",
]


# ------------------------------------------------------------------------ count_parameters
# One layer (n_in -> n_out = [2, 7]), two layers with unequal widths, and the digits network:
# widths that differ tell "a bias per output" from "a bias per input" apart.
_SIZES = [[2, 7], [3, 5, 3], [784, 128, 64, 10]]
# One more, not printed, so that an answer which looks the printed cases up cannot pass.
_HIDDEN_SIZES = [6, 11, 2, 9, 4]


def _layer_count(sizes: list[int]) -> int:
    """Learned numbers of an MLP: each layer has an (n_out, n_in) weight and n_out biases."""
    return sum(n_out * n_in + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _source(fn: Callable) -> str:
    """The learner's source code, or "" when Python cannot find it."""
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""


def check_count_parameters(count_parameters: Callable[[list[int]], int]) -> Feedback:
    """Check ``count_parameters(sizes)`` against a count made layer by layer in this file."""
    exercise = "count_parameters"
    asks_a_network = uses_package(count_parameters) or "num_parameters" in names_used(
        count_parameters
    )
    if asks_a_network or "num_parameters" in _source(count_parameters):
        return hint(
            exercise,
            "you asked a network to count for you; count from the layer widths yourself, one "
            "layer at a time",
        )
    for sizes in [*_SIZES, _HIDDEN_SIZES]:
        given = list(sizes)
        result = attempt(exercise, count_parameters, given)
        if isinstance(result, Feedback):
            return result
        if given != sizes:  # (the widths popped off, say: a later cell builds from them)
            return hint(exercise, "your function changed the list of widths it was given: read "
                        "it, and leave it as it was (the caller still needs it)")  # fmt: skip
        expected = _layer_count(sizes)
        if result == expected:
            continue
        pairs = list(zip(sizes[:-1], sizes[1:]))
        weights_only = sum(a * b for a, b in pairs)
        if result == weights_only:
            return hint(
                exercise,
                f"for sizes {sizes} you counted only the weight matrices: what else does each "
                "Linear layer learn besides its weights?",
            )
        if result == weights_only + sum(n_in for n_in, _ in pairs):
            return hint(
                exercise,
                f"for sizes {sizes} you gave each layer one bias per input; a bias is added to "
                "each number the layer computes",
            )
        if result == weights_only + sum(sizes):
            return hint(
                exercise,
                f"for sizes {sizes} you also counted biases for the input layer: the inputs are "
                "data, nothing there is learned",
            )
        return _count_hint(exercise, sizes, result)
    return correct(exercise, f"right for all of {_SIZES}.")


def _count_hint(exercise: str, sizes: list[int], result: object) -> Feedback:
    """The hint for a count none of the common mistakes above: no number, layers left out, one
    bias per layer, weights of another shape, or words true for every other wrong count."""
    if not isinstance(result, (int, float, np.integer, np.floating)) or isinstance(result, bool):
        if result is None:
            return hint(exercise, "your function returned None: is a `return` missing?")
        return hint(exercise, f"for sizes {sizes} you returned a {type(result).__name__}: return "
                    "one number, the total over all layers")  # fmt: skip
    pairs = list(zip(sizes[:-1], sizes[1:]))
    per_layer, n = [n_out * n_in + n_out for n_in, n_out in pairs], len(pairs)
    layers = f"{n} layer" + ("s" if n != 1 else "")
    if any(result == sum(per_layer[i:j]) for i in range(n) for j in range(i, n + 1)):
        return hint(exercise, f"for sizes {sizes} you left out at least one layer: a network "
                    f"of {len(sizes)} widths has {layers}, one per pair of neighbours")  # fmt: skip
    weights, biases = sum(a * b for a, b in pairs), sum(b for _, b in pairs)
    if result == weights + n:
        return hint(exercise, f"for sizes {sizes} you gave each layer a single bias; a bias is "
                    "added to each number the layer computes")  # fmt: skip
    if result in (sum(b * b for _, b in pairs) + biases, sum(a * a for a, _ in pairs) + biases):
        return hint(exercise, f"for sizes {sizes} your weight counts are off: a layer from n_in "
                    "to n_out units has a weight matrix of which shape?")  # fmt: skip
    return hint(
        exercise,
        f"for sizes {sizes} you returned {result}, which is not the number of learned values: go "
        f"through the {layers} one at a time; which arrays does each learn, and of which shapes?",
    )


# --------------------------------------------------------------- the test function and counter
def _exact_gradient(w: np.ndarray) -> np.ndarray:
    """The derivative of ``_loss`` at a (2, 3) array, written out by hand: cos(w) * c +
    sum(w**2) * w."""
    c = np.arange(1.0, 7.0).reshape(2, 3)
    return np.cos(w) * c + np.sum(w**2) * w


def _one_sided(w: np.ndarray, eps: float, side: float) -> np.ndarray:
    """The forward (side = 1) or backward (side = -1) difference of ``_loss`` at w, per entry."""
    grad = np.zeros_like(w)
    for idx in np.ndindex(*w.shape):
        step = np.zeros_like(w)
        step[idx] = side * eps
        grad[idx] = side * (_loss(w + step) - _loss(w)) / eps
    return grad


class _Counted:
    """Wraps a function of an array and counts its calls (the notebook's unit of cost)."""

    def __init__(self, f: Callable[[np.ndarray], float]) -> None:
        self.f = f
        self.calls = 0

    def __call__(self, w: np.ndarray) -> float:
        self.calls += 1
        return self.f(np.array(w, dtype=np.float64))  # a copy: later edits of w change nothing


_W0 = np.array([[0.3, -1.2, 0.8], [1.5, -0.4, 0.1]])


def _run(exercise: str, fn: Callable, eps: float) -> tuple[object, _Counted, np.ndarray]:
    """Call the learner's gradient function on a counted f and a fresh copy of _W0."""
    f = _Counted(_loss)
    w = _W0.copy()
    return attempt(exercise, fn, f, w, eps), f, w


def _common_problems(exercise: str, result: object, w: np.ndarray, eps: float) -> Feedback | None:
    """Hints shared by both difference quotients: shape, w left modified, forgotten division."""
    try:
        grad = np.asarray(result, dtype=float) if result is not None else None
    except (TypeError, ValueError):
        return hint(exercise, f"return an array of numbers shaped like w; yours is a "
                    f"{type(result).__name__}")  # fmt: skip
    if grad is None or grad.shape != w.shape:
        shape = None if grad is None else grad.shape
        return hint(exercise, f"return an array shaped like w {w.shape}; yours has shape {shape}")
    if not np.all(np.isfinite(grad)):  # NaN compares as neither close nor far: say so first
        return hint(
            exercise,
            "your gradient holds nan or inf: each entry is a difference of two values of f "
            "divided by a step, all finite numbers here",
        )
    if np.max(np.abs(w - _W0)) > eps / 100:  # += eps then -= eps may leave rounding dust
        return hint(
            exercise,
            "after your function w is not what it was: put every entry back after you perturb "
            "it, or the next entries are measured at the wrong point",
        )
    exact = _exact_gradient(_W0)
    if np.allclose(grad, exact * eps, rtol=1e-2, atol=1e-12) or np.allclose(
        grad, 2 * exact * eps, rtol=1e-2, atol=1e-12
    ):
        return hint(
            exercise,
            "your numbers are tiny: they are changes of f; a slope is a change of f divided by "
            "a change of w",
        )
    return None


# ------------------------------------------------------------------ gradient_descent_step
def check_gradient_descent_step(fn: Callable) -> Feedback:
    """Check ``fn(params, grads, lr)``: new arrays ``p - lr * g``, the inputs left alone.

    Two learning rates (0.1 and 0.5), so that a step of lr**2 or a fixed step cannot pass; two
    parameters, then three, so that an answer written for two cannot either.
    """
    exercise = "gradient_descent_step"
    rng = check_rng(1)
    for lr, shapes in ((0.1, [(3, 4), (4,)]), (0.5, [(3, 4), (4,), (2, 3)])):
        params = [rng.standard_normal(shape) for shape in shapes]
        grads = [rng.standard_normal(shape) for shape in shapes]
        saved = [p.copy() for p in params]
        saved_grads = [g.copy() for g in grads]
        result = attempt(exercise, fn, params, grads, lr)
        if isinstance(result, Feedback):
            return result
        changed = any(not np.array_equal(p, s) for p, s in zip(params, saved))
        if changed:
            return hint(
                exercise,
                "your function changed the parameter arrays it was given (an update in place): "
                "the old parameters must stay as they were, and the new ones be new arrays",
            )
        if any(not np.array_equal(g, s) for g, s in zip(grads, saved_grads)):
            return hint(exercise, "your function changed the gradients it was given")
        if not isinstance(result, (list, tuple)) or len(result) != len(params):
            return hint(
                exercise, f"return a list with one new array per parameter ({len(params)} here)"
            )
        if any(r is p for r, p in zip(result, params)):
            return hint(exercise, "return new arrays, not the parameter arrays you were given")
        new = [np.asarray(r, dtype=float) for r in result]
        if any(n.shape != p.shape for n, p in zip(new, saved)):
            return hint(exercise, "each new parameter must have the shape of the old one")
        step = [p - lr * g for p, g in zip(saved, grads)]
        if all(np.allclose(n, s) for n, s in zip(new, step)):
            continue
        if all(np.allclose(n, p + lr * g) for n, p, g in zip(new, saved, grads)):
            return hint(
                exercise,
                "you stepped along the gradient: it points to where the loss grows fastest",
            )
        if all(np.allclose(n, p - g) for n, p, g in zip(new, saved, grads)):
            return hint(exercise, "your step ignores lr: how big should a step be?")
        factor = _step_factor(new, saved, grads)
        if factor is not None:
            return hint(
                exercise,
                f"with lr = {lr:g} every parameter stepped against its gradient, but by "
                f"{factor:.3g} times the gradient: how big should a step be?",
            )
        if any(np.allclose(n, p) for n, p in zip(new, saved)):
            return hint(
                exercise, "at least one parameter did not move: every parameter takes a step"
            )
        return hint(
            exercise, "the new parameters are not one small step downhill from the old ones"
        )
    return correct(exercise, "every parameter moved a step of size lr against its gradient.")


def _step_factor(
    new: list[np.ndarray], old: list[np.ndarray], grads: list[np.ndarray]
) -> float | None:
    """c > 0 when every new parameter is ``old - c * grad`` for one c (a step downhill of another
    size than lr), else None."""
    steps = np.concatenate([(o - n).ravel() for n, o in zip(new, old)])
    flat = np.concatenate([g.ravel() for g in grads])
    c = float(steps @ flat / (flat @ flat))
    return c if c > 0 and np.allclose(steps, c * flat) else None


# ------------------------------------------------------------ central_difference_gradient
def check_central_difference_gradient(fn: Callable) -> Feedback:
    """Check ``fn(f, w, eps)``: two calls of f per entry and an error below 1e-8 at eps = 1e-5."""
    exercise = "central_difference_gradient"
    eps = 1e-5
    result, f, w = _run(exercise, fn, eps)
    if isinstance(result, Feedback):
        return result
    problem = _common_problems(exercise, result, w, eps)
    if problem:
        return problem
    grad = np.asarray(result, dtype=float)
    exact = _exact_gradient(_W0)
    error = float(np.max(np.abs(grad - exact)))
    n = w.size
    if np.allclose(grad, 2 * exact, rtol=1e-4, atol=1e-6) or np.allclose(
        grad, exact / 2, rtol=1e-4, atol=1e-6
    ):
        return hint(
            exercise,
            "off by a factor of 2: how far apart are the two points you compare?",
        )
    if np.allclose(grad, -exact, rtol=1e-4, atol=1e-6):
        return hint(
            exercise,
            "right size, wrong sign: a slope is the change of f when w goes up, divided by the "
            "change of w",
        )
    one_sided = [_one_sided(_W0, eps, side) for side in (1.0, -1.0)]
    if any(np.allclose(grad, g, rtol=1e-6, atol=1e-9) for g in one_sided):
        return hint(
            exercise,
            f"close, but the error is {error:.1e}, what a one-sided difference gives: evaluate f "
            "on both sides of each entry",
        )
    if error > 1e-8 and error < 1e-3:
        return hint(
            exercise,
            f"close, but the error is {error:.1e}, more than a central difference with "
            f"eps = {eps:g} leaves: do you step by the eps you were given, up and down?",
        )
    if error >= 1e-3:
        return hint(exercise, far_off(grad, exact, eps, f.calls, n))
    if f.calls != 2 * n:
        return hint(
            exercise,
            f"right values, but f was called {f.calls} times for {n} parameters: two passes "
            "per parameter are enough",
        )
    calls = f.calls
    other = other_inputs(exercise, fn, _W0, eps)  # another eps, another shape of w
    if other is not None:
        return other
    return correct(exercise, f"{n} parameters, {calls} forward passes, error below 1e-8.")


# ------------------------------------------------------------------------- challenge: train
# (the network, its trajectory and the data: _training.py)
def check_train(fn: Callable) -> Feedback:
    """Check ``fn(X, Y, W1, W2, lr, steps)`` -> ``(losses, W1_new, W2_new)``: gradient descent.

    ``losses[k]`` is the loss before step k; the given arrays must be left unchanged. A second,
    short run with another lr and number of steps refuses an answer that writes in numbers of
    its own (the notebook's step uses lr = 0.5, the first run's lr too).
    """
    feedback = _train_run(fn, 0.5, 30)
    if not feedback.passed:
        return feedback
    second = _train_run(fn, 0.2, 4)
    if second.status == "hint":
        return hint(
            "train",
            "right with lr = 0.5 and 30 steps, but not with lr = 0.2 and 4 steps: is a number "
            f"of your own used where lr or steps should be? (Here: {second.message})",
        )
    return feedback


def _train_run(fn: Callable, lr: float, steps: int) -> Feedback:
    """``check_train``'s verdict on one run of ``fn`` with ``lr`` and ``steps``."""
    exercise = "train"
    X, Y, W1, W2 = _challenge_data()
    saved = (W1.copy(), W2.copy())
    data = (X.copy(), Y.copy())  # the reference trajectory runs on X and Y: they must not change
    result = attempt(exercise, fn, X, Y, W1, W2, lr, steps)
    if isinstance(result, Feedback):
        return result
    if not np.array_equal(X, data[0]) or not np.array_equal(Y, data[1]):
        return hint(
            exercise,
            "the data X, Y you were given changed: training reads the data, it never writes it",
        )
    if not np.array_equal(W1, saved[0]) or not np.array_equal(W2, saved[1]):
        return hint(
            exercise,
            "the arrays W1, W2 you were given changed: step tensors made from them (or copies), "
            "not the arrays themselves",
        )
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return hint(exercise, "return three things: (losses, W1, W2)")
    losses, new1, new2 = result
    try:
        losses = np.array([float(np.asarray(getattr(v, "data", v))) for v in losses])
    except (TypeError, ValueError):
        return hint(exercise, "losses should be a list of numbers, one per step")
    new1 = np.asarray(getattr(new1, "data", new1), dtype=float)
    new2 = np.asarray(getattr(new2, "data", new2), dtype=float)
    if len(losses) != steps:
        return hint(exercise, f"losses has {len(losses)} entries for {steps} steps: one per step")
    want, want1, want2 = _trajectory(X, Y, W1, W2, lr, steps)
    if new1.shape == want2.shape and new2.shape == want1.shape and np.allclose(new1, want2):
        return hint(exercise, "W1 and W2 come back in each other's place: return (losses, W1, W2)")
    if new1.shape != W1.shape or new2.shape != W2.shape:
        return hint(exercise, "return the weights in the shapes you were given them")
    if (
        np.allclose(losses, want, rtol=1e-8, atol=1e-12)
        and np.allclose(new1, want1)
        and np.allclose(new2, want2)
    ):
        return correct(
            exercise,
            f"{steps} steps of gradient descent: the loss fell from {want[0]:.3f} to "
            f"{want[-1]:.3f}.",
        )
    if not np.isclose(losses[0], want[0], rtol=1e-8):
        if np.isclose(losses[0], want[1], rtol=1e-8):
            return hint(
                exercise,
                "losses[0] should be the loss of the weights you were given, before any step",
            )
        return hint(
            exercise,
            "your first loss is not the loss of the given weights: is the network h = "
            "sigmoid(X W1ᵀ), logits = h W2ᵀ, cross-entropy averaged over the examples?",
        )
    if np.allclose(losses, losses[0]):
        return hint(
            exercise,
            "your loss never changes: does each forward pass use the weights of the last step?",
        )
    if losses[-1] > losses[0]:
        return hint(exercise, "your loss goes up: which way does the gradient point?")
    if np.allclose(losses, _trajectory(X, Y, W1, W2, lr, steps, accumulate=True)[0], rtol=1e-8):
        return hint(
            exercise,
            "from the second step on your steps are too big: backward() adds to .grad, so what "
            "is still in .grad from the step before?",
        )
    if np.allclose(losses, want, rtol=1e-8):
        return hint(
            exercise, "the losses are right; the weights you returned are not the last ones"
        )
    other = other_step_size(X, Y, W1, W2, lr, steps, losses)
    if other is not None:
        n = len(X)
        words = {
            lr / n: f"N = {n} times too small: the loss is already the mean over the examples, "
            "so its gradient needs no further division by N",
            lr * n: f"N = {n} times too big: each step is lr times the gradient of the mean "
            "loss, not of the sum",
        }
        return hint(
            exercise,
            "your steps are "
            + words.get(
                other,
                f"those of a learning rate of {other:g}, not of the lr your "
                f"function is given ({lr:g})",
            ),  # fmt: skip
        )
    return hint(
        exercise,
        "your losses drift away from plain gradient descent with this lr: one forward pass, "
        "one backward pass and one step of size lr per iteration",
    )
