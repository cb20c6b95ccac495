"""Notebook 01's central difference at inputs other than the check's first: another eps, another
shape of w.

An answer can be right at the check's first call and wrong at any other: a step of its own
written in (1e-5, the eps the first call passes) instead of the eps it is given, or loops written
for the (2, 3) array of the first call (two nested loops, over rows and columns) where the
exercise asks for a w of any shape. The references are central differences worked out here, of
the check's function written for an array of any shape; never the learner's function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Feedback, attempt, hint, numeric_gradient

_OTHER_EPS = 1e-2  # a step whose truncation error (about 1e-4 here) shows in the result
_OTHER_W = np.array([[[0.4, -0.9], [1.1, 0.2]], [[-0.6, 0.7], [0.3, -1.3]]])  # 3 axes, 8 entries


def loss(w: np.ndarray) -> float:
    """sum(sin(w) * c) + (sum(w**2))**2 / 4, with c = 1, 2, ... over the entries of w in order:
    a smooth scalar function of an array of any shape."""
    c = np.arange(1.0, w.size + 1).reshape(w.shape)
    return float(np.sum(np.sin(w) * c) + np.sum(w**2) ** 2 / 4)


def _agrees(fn: Callable, exercise: str, w: np.ndarray, eps: float) -> Feedback | bool:
    """Whether ``fn`` at a copy of ``w`` with ``eps`` gives the central difference (a crash or a
    stub: its Feedback)."""
    result = attempt(exercise, fn, lambda v: loss(np.array(v, dtype=np.float64)), w.copy(), eps)
    if isinstance(result, Feedback):
        return result
    try:
        grad = np.asarray(result, dtype=float)
    except (TypeError, ValueError):
        return False
    want = numeric_gradient(loss, w, eps)  # the central difference, entry by entry
    return grad.shape == want.shape and np.allclose(grad, want, rtol=1e-7)


def other_inputs(exercise: str, fn: Callable, w0: np.ndarray, eps: float) -> Feedback | None:
    """None if ``fn``, right at ``w0`` with ``eps``, is right with a step of ``_OTHER_EPS`` and at
    a w of another shape as well; else the hint."""
    agrees = _agrees(fn, exercise, w0, _OTHER_EPS)
    if isinstance(agrees, Feedback):
        return agrees
    if not agrees:
        return hint(
            exercise,
            f"right at eps = {eps:g}, but with eps = {_OTHER_EPS:g} your numbers are not the "
            "central difference with that step: move each entry by exactly the eps your function "
            "is given (not a number of your own), once up and once down",
        )
    agrees = _agrees(fn, exercise, _OTHER_W, eps)
    if agrees is True:
        return None
    return hint(
        exercise,
        f"right for the w of shape {w0.shape}, but not for a w of shape {_OTHER_W.shape}: "
        "the function should work for an array of any shape (any number of axes); does your "
        "loop visit every entry of w, one at a time, whatever its shape?",
    )
