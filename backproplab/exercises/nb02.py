"""Self-checks for notebook 02 · Derivatives and the chain rule.

Three exercises and a challenge:

* ``d_sin_of_square(x)``: the derivative of sin(x^2), the chain rule with one inner function;
* ``partials(x, y)``: both partial derivatives of f(x, y) = x^2 y + e^(x y);
* ``two_paths(x)``: dL/dx for L = u v, u = x^3 and v = cos(x): x reaches L along two paths;
* the challenge ``three_paths(x)``: dL/dx for a = x^2, b = sin(a) + x, L = a b, derived from a
  blank cell: x reaches L along three paths.

Expected answers are central differences of the functions written in this file, never the learner's
function. The wrong answers that get a specific hint are the usual chain-rule slips.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Feedback, attempt, close, correct, elementwise_slope, hint, result_array

__all__ = ["check_d_sin_of_square", "check_partials", "check_three_paths", "check_two_paths"]

_POINTS = np.array([-1.7, -0.6, 0.3, 0.9, 2.2])  # away from 0, where some wrong answers agree
# Each check hands the learner copies of its points: an answer that overwrote them (with zeros,
# where every derivative here is 0) would otherwise move the reference computed after the call.


# ------------------------------------------------------------------------- d_sin_of_square
def check_d_sin_of_square(fn: Callable[[np.ndarray], np.ndarray]) -> Feedback:
    """Check ``fn(x)`` = d/dx sin(x^2) on an array of points."""
    exercise = "d_sin_of_square"
    x = _POINTS.copy()
    got = result_array(exercise, attempt(exercise, fn, x.copy()), x.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, elementwise_slope(lambda t: np.sin(t**2), x)):
        return correct(exercise, "matches finite differences at all five points.")
    if close(got, np.cos(x**2)):
        return hint(
            exercise,
            "that is the outer function's derivative, at the right place; the chain rule "
            "multiplies it by one more factor",
        )
    if close(got, np.cos(x) * 2 * x) or close(got, np.cos(x)):
        return hint(
            exercise,
            "you evaluated the outer derivative at x; the outer function sees the inner "
            "function's value, not x",
        )
    return hint(
        exercise,
        "not yet: name the outer function and the inner function, differentiate each, then "
        "chain them",
    )


# --------------------------------------------------------------------------------- partials
def _f(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 * y + np.exp(x * y)


def check_partials(fn: Callable[[np.ndarray, np.ndarray], tuple]) -> Feedback:
    """Check ``fn(x, y)`` = (df/dx, df/dy) for f(x, y) = x^2 y + e^(x y)."""
    exercise = "partials"
    x = _POINTS.copy()
    y = np.array([0.4, -1.1, 1.3, 0.7, -0.5])
    result = attempt(exercise, fn, x.copy(), y.copy())
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return hint(exercise, "return a pair: (df/dx, df/dy)")
    dx, dy = (
        result_array(exercise, r, x.shape, what) for r, what in zip(result, ["df/dx", "df/dy"])
    )
    for partial in (dx, dy):
        if isinstance(partial, Feedback):
            return partial
    want_dx = elementwise_slope(lambda t: _f(t, y), x)
    want_dy = elementwise_slope(lambda t: _f(x, t), y)
    if close(dx, want_dx) and close(dy, want_dy):
        return correct(exercise, "both partial derivatives match finite differences.")
    if close(dx, want_dy) and close(dy, want_dx):
        return hint(exercise, "right derivatives, wrong order: return df/dx first")
    if close(dx, want_dx):
        return hint(
            exercise,
            "df/dx is right; df/dy is not. Hold x fixed, treat it like a number, and "
            "differentiate in y (e^(x y) needs the chain rule)",
        )
    if close(dy, want_dy):
        return hint(
            exercise,
            "df/dy is right; df/dx is not. Hold y fixed, treat it like a number, and "
            "differentiate in x (e^(x y) needs the chain rule)",
        )
    return hint(
        exercise,
        "neither partial derivative matches: differentiate in one variable while the other "
        "stays a constant",
    )


# -------------------------------------------------------------------------------- two_paths
def check_two_paths(fn: Callable[[np.ndarray], np.ndarray]) -> Feedback:
    """Check ``fn(x)`` = dL/dx for L = u * v, u = x^3, v = cos(x)."""
    exercise = "two_paths"
    x = _POINTS.copy()
    got = result_array(exercise, attempt(exercise, fn, x.copy()), x.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, elementwise_slope(lambda t: t**3 * np.cos(t), x)):
        return correct(exercise, "both paths counted: matches finite differences.")
    u, v = x**3, np.cos(x)
    through_u = v * 3 * x**2  # dL/du * du/dx alone
    through_v = u * -np.sin(x)  # dL/dv * dv/dx alone
    if close(got, through_u) or close(got, through_v):
        which = "u" if close(got, through_u) else "v"
        return hint(
            exercise,
            f"you followed only the path through {which}; x reaches L along another path too, "
            "and every path contributes",
        )
    if close(got, through_u - through_v):
        return hint(
            exercise,
            "the path through v has the wrong sign: what is the derivative of cos?",
        )
    if close(got, 3 * x**2 * -np.sin(x)):
        return hint(
            exercise,
            "you multiplied du/dx by dv/dx; each path's contribution is dL/d(that variable) "
            "times d(that variable)/dx",
        )
    return hint(
        exercise,
        "not yet: for each path from x to L, multiply the derivatives along it; then combine "
        "the paths",
    )


# ------------------------------------------------------------------------ challenge: three_paths
def check_three_paths(fn: Callable[[np.ndarray], np.ndarray]) -> Feedback:
    """Check ``fn(x)`` = dL/dx for a = x^2, b = sin(a) + x, L = a * b (three paths from x)."""
    exercise = "three_paths"
    x = _POINTS.copy()
    got = result_array(exercise, attempt(exercise, fn, x.copy()), x.shape)
    if isinstance(got, Feedback):
        return got
    want = elementwise_slope(lambda t: t**2 * (np.sin(t**2) + t), x)
    if close(got, want):
        return correct(exercise, "all three paths: matches finite differences at five points.")
    a, b = x**2, np.sin(x**2) + x
    paths = {  # the product of local derivatives along each path, written out here
        "x -> a -> L": 2 * x * b,
        "x -> a -> b -> L": 2 * x * np.cos(a) * a,
        "x -> b -> L": 1.0 * a,
    }
    for name, contribution in paths.items():
        if close(got, want - contribution):
            return hint(
                exercise,
                f"one of the three paths from x to L is missing: the path {name}",
            )
    if close(got, want - paths["x -> a -> b -> L"] + 2 * x * np.cos(x) * a):
        return hint(
            exercise,
            "the sine's derivative is evaluated at the wrong place: sin sees a, not x",
        )
    if close(got, want - 2 * paths["x -> a -> b -> L"]):
        return hint(exercise, "one path has the wrong sign: what is the derivative of sin?")
    if close(got, paths["x -> a -> L"] * paths["x -> a -> b -> L"] * paths["x -> b -> L"]):
        return hint(exercise, "the paths' contributions do not multiply with each other")
    return hint(
        exercise,
        "not yet: draw the graph x -> a -> b -> L with every edge, write each edge's local "
        "derivative, then go path by path",
    )
