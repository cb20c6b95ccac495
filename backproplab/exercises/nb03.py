"""Self-checks for notebook 03 · The computational graph of (x + y) z.

Three exercises:

* ``backward_by_hand(x, y, z)``: (dL/dx, dL/dy, dL/dz) for L = (x + y) z, node by node;
* ``mul_backward(upstream, a, b)``: the downstream gradients of a multiplication node;
* ``fan_out(x, y)``: (dL/dx, dL/dy) for L = (x + y) x, where x feeds two nodes.

Expected answers are central differences of the functions written in this file, never the
learner's function. The typical slips (local instead of downstream gradients, mul not swapped,
one path of a fan-out forgotten) get their own hints.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Feedback, attempt, close, correct, hint, numeric_gradient

__all__ = ["check_backward_by_hand", "check_fan_out", "check_mul_backward"]


def _as_vector(result: object, n: int) -> np.ndarray | None:
    """The learner's tuple of n numbers as a float array, or None."""
    if not isinstance(result, (tuple, list)) or len(result) != n:
        return None
    try:
        return np.array([float(np.asarray(r)) for r in result])
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------ backward_by_hand
_POINTS = [(-2.0, 5.0, -4.0), (1.5, 0.5, 3.0), (0.3, -1.2, 2.5)]


def check_backward_by_hand(fn: Callable[[float, float, float], tuple]) -> Feedback:
    """Check ``fn(x, y, z)`` = (dL/dx, dL/dy, dL/dz) for L = (x + y) * z at three points."""
    exercise = "backward_by_hand"
    for x, y, z in _POINTS:
        result = attempt(exercise, fn, x, y, z)
        if isinstance(result, Feedback):
            return result
        got = _as_vector(result, 3)
        if got is None:
            return hint(exercise, "return three numbers: (dL/dx, dL/dy, dL/dz)")
        want = numeric_gradient(lambda v: (v[0] + v[1]) * v[2], np.array([x, y, z]))
        if close(got, want):
            continue
        q = x + y
        at = f"at x={x}, y={y}, z={z}"
        if close(got, [1.0, 1.0, q]):
            return hint(
                exercise,
                f"{at}: dL/dx and dL/dy are the add node's local gradients; the add node must "
                "also multiply them by its upstream gradient",
            )
        if close(got[:2], want[:2]) and np.isclose(got[2], z):
            return hint(
                exercise,
                f"{at}: dL/dx and dL/dy are right, dL/dz is not: a mul node's local gradient "
                "for one input is the value of the *other* input",
            )
        if np.isclose(got[2], want[2]):
            return hint(
                exercise,
                f"{at}: dL/dz is right; for dL/dx and dL/dy take the upstream gradient that "
                "reaches q, then pass it through the add node",
            )
        return hint(exercise, f"{at}: not yet: go node by node from L back to x, y and z")
    return correct(exercise, "right at all three points, including seed 002's x=-2, y=5, z=-4.")


# ---------------------------------------------------------------------------- mul_backward
def check_mul_backward(fn: Callable[..., tuple]) -> Feedback:
    """Check ``fn(upstream, a, b)`` = (dL/da, dL/db) for a node out = a * b (arrays allowed)."""
    exercise = "mul_backward"
    rng = np.random.default_rng(3)
    a, b, upstream = (rng.standard_normal(4) + 1.5 for _ in range(3))
    result = attempt(exercise, fn, upstream, a, b)
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return hint(exercise, "return a pair: (gradient for a, gradient for b)")
    try:
        ga, gb = (np.broadcast_to(np.asarray(r, dtype=float), a.shape) for r in result)
    except ValueError:
        return hint(exercise, f"each gradient has the shape of its input, {a.shape}")

    # L = sum(upstream * a * b) is a loss whose gradient arriving at the node is `upstream`
    def loss(ab: np.ndarray) -> float:  # ab: a's 4 entries, then b's 4
        return float(np.sum(upstream * ab[:4] * ab[4:]))

    want = numeric_gradient(loss, np.concatenate([a, b]))
    want_a, want_b = want[:4], want[4:]
    if close(ga, want_a) and close(gb, want_b):
        return correct(exercise, "the node multiplies the upstream gradient by the other input.")
    if close(ga, upstream * a) and close(gb, upstream * b):
        return hint(
            exercise,
            "how much does a * b change when a moves by 1? Not by a: the local gradients are "
            "swapped",
        )
    if close(ga, b) and close(gb, a):
        return hint(
            exercise,
            "those are the local gradients; a downstream gradient also carries the upstream one",
        )
    return hint(exercise, "not yet: downstream = upstream x local, for each input")


# --------------------------------------------------------------------------------- fan_out
def check_fan_out(fn: Callable[[float, float], tuple]) -> Feedback:
    """Check ``fn(x, y)`` = (dL/dx, dL/dy) for L = (x + y) * x at three points."""
    exercise = "fan_out"
    for x, y in [(-2.0, 5.0), (1.5, 0.5), (0.7, -2.0)]:
        result = attempt(exercise, fn, x, y)
        if isinstance(result, Feedback):
            return result
        got = _as_vector(result, 2)
        if got is None:
            return hint(exercise, "return two numbers: (dL/dx, dL/dy)")
        want = numeric_gradient(lambda v: (v[0] + v[1]) * v[0], np.array([x, y]))
        if close(got, want):
            continue
        q = x + y
        if np.isclose(got[0], q) or np.isclose(got[0], x):
            path = "straight into the mul node" if np.isclose(got[0], q) else "through q"
            return hint(
                exercise,
                f"at x={x}, y={y} your dL/dx counts only the gradient that arrives {path}; x "
                "feeds two nodes, and it receives a gradient from each",
            )
        if np.isclose(got[0], want[0]):
            return hint(exercise, f"at x={x}, y={y} dL/dx is right; dL/dy reaches y through q only")
        return hint(exercise, f"at x={x}, y={y}: not yet: draw the graph and go node by node")
    return correct(exercise, "x collects the gradients from both of its consumers.")
