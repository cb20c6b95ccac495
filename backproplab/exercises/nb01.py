"""Self-checks for notebook 01 · Why backprop.

Three exercises:

* ``count_parameters(sizes)``: how many numbers an MLP learns, i.e. how many forward passes the
  numerical method needs per gradient;
* ``gradient_descent_step(params, grads, lr)``: the easy half of training, once gradients exist;
* ``central_difference_gradient(f, w, eps)``: two perturbed passes per parameter, far more precise.

Expected answers come from ``nn.MLP``, from ``p - lr * g`` and from derivatives written out in this
file, never from the learner's function. Every call of ``f`` is counted: counting forward passes
is the point of the notebook.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Feedback, attempt, correct, hint

__all__ = [
    "check_central_difference_gradient",
    "check_count_parameters",
    "check_gradient_descent_step",
]


# ------------------------------------------------------------------------ count_parameters
_SIZES = [[3, 5, 3], [784, 128, 64, 10], [2, 1]]


def _mlp_parameters(sizes: list[int]) -> int:
    """The number of parameters of ``nn.MLP(sizes)``, counted on the real module."""
    from ..nn import MLP  # imported here: nn is a larger module than the checks need

    return MLP(sizes, rng=0).num_parameters()


def check_count_parameters(count_parameters: Callable[[list[int]], int]) -> Feedback:
    """Check ``count_parameters(sizes)`` against the parameters of ``nn.MLP(sizes)``."""
    exercise = "count_parameters"
    for sizes in _SIZES:
        result = attempt(exercise, count_parameters, list(sizes))
        if isinstance(result, Feedback):
            return result
        expected = _mlp_parameters(sizes)
        if result == expected:
            continue
        weights_only = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        if result == weights_only:
            return hint(
                exercise,
                f"for sizes {sizes} you counted only the weight matrices: what else does each "
                "Linear layer learn besides its weights?",
            )
        return hint(
            exercise,
            f"for sizes {sizes} you returned {result}, which is not what nn.MLP({sizes}) has: "
            "a layer from n_in to n_out neurons has a weight matrix of which shape?",
        )
    return correct(exercise, f"right for all of {_SIZES}.")


# --------------------------------------------------------------- the test function and counter
def _loss(w: np.ndarray) -> float:
    """A smooth scalar function of a (2, 3) array: sum(sin(w) * c) + (sum(w**2))**2 / 4."""
    c = np.arange(1.0, 7.0).reshape(2, 3)
    return float(np.sum(np.sin(w) * c) + np.sum(w**2) ** 2 / 4)


def _exact_gradient(w: np.ndarray) -> np.ndarray:
    """The derivative of ``_loss``, written out by hand: cos(w) * c + sum(w**2) * w."""
    c = np.arange(1.0, 7.0).reshape(2, 3)
    return np.cos(w) * c + np.sum(w**2) * w


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
    grad = np.asarray(result, dtype=float) if result is not None else None
    if grad is None or grad.shape != w.shape:
        shape = None if grad is None else grad.shape
        return hint(exercise, f"return an array shaped like w {w.shape}; yours has shape {shape}")
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
    """Check ``fn(params, grads, lr)`` returns the list of new parameters ``p - lr * g``."""
    exercise = "gradient_descent_step"
    rng = np.random.default_rng(1)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    saved = [p.copy() for p in params]
    lr = 0.1
    result = attempt(exercise, fn, params, grads, lr)
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, (list, tuple)) or len(result) != len(params):
        return hint(
            exercise, f"return a list with one new array per parameter ({len(params)} here)"
        )
    new = [np.asarray(r, dtype=float) for r in result]
    if any(n.shape != p.shape for n, p in zip(new, saved)):
        return hint(exercise, "each new parameter must have the shape of the old one")
    step = [p - lr * g for p, g in zip(saved, grads)]
    if all(np.allclose(n, s) for n, s in zip(new, step)):
        return correct(exercise, "every parameter moved a step of size lr against its gradient.")
    if all(np.allclose(n, p + lr * g) for n, p, g in zip(new, saved, grads)):
        return hint(
            exercise,
            "you stepped along the gradient: it points to where the loss grows fastest",
        )
    if all(np.allclose(n, p - g) for n, p, g in zip(new, saved, grads)):
        return hint(exercise, "your step ignores lr: how big should a step be?")
    return hint(exercise, "the new parameters are not one small step downhill from the old ones")


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
    if error > 1e-8 and error < 1e-3:
        return hint(
            exercise,
            f"close, but the error is {error:.1e}, what a one-sided difference gives: evaluate f "
            "on both sides of each entry",
        )
    if error >= 1e-3:
        return hint(
            exercise,
            "your gradient is not close to the true one: for each entry compare f with that "
            "entry raised by eps and lowered by eps",
        )
    if f.calls != 2 * n:
        return hint(
            exercise,
            f"right values, but f was called {f.calls} times for {n} parameters: two passes "
            "per parameter are enough",
        )
    return correct(exercise, f"{n} parameters, {f.calls} forward passes, error below 1e-8.")
