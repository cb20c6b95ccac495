"""Self-checks for notebook 02 · Derivatives and the chain rule.

Four exercises and a challenge:

* ``d_sin_of_square(x)``: the derivative of sin(x^2), the chain rule with one inner function;
* ``partials(x, y)``: both partial derivatives of f(x, y) = x^2 y + e^(x y);
* ``steepest_steps(grad_f, w0, h, steps)``: a walk of steps of length h, each against the
  gradient, none where it is exactly 0 (the cases and hints are in ``_steepest.py``);
* ``two_paths(x)``: dL/dx for L = u v, u = x^3 and v = cos(x): x reaches L along two paths;
* the challenge ``three_paths(x)``: dL/dx for a = x^2, b = sin(a) + x, L = a b, derived from a
  blank cell: x reaches L along three paths.

The derivative exercises' expected answers are written out in this file (the tests check them
against sympy and central differences), never the learner's function. An answer must agree with
them to rounding: one that only agrees as well as a finite difference does, or that hands the work
to ``slope``, sympy or the package, gets a hint, since each exercise asks for the rule worked out.
The wrong answers that get a specific hint are the usual chain-rule slips.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import (
    Feedback,
    _steepest,
    attempt,
    changed_input,
    close,
    correct,
    hint,
    is_pair,
    names_used,
    result_array,
    uses_package,
)

__all__ = [
    "check_d_sin_of_square",
    "check_partials",
    "check_steepest_steps",
    "check_three_paths",
    "check_two_paths",
]

_POINTS = np.array([-1.7, -0.6, 0.3, 0.9, 2.2])  # away from 0, where some wrong answers agree
# Each check hands the learner copies of its points: an answer that overwrote them (with zeros,
# where every derivative here is 0) would otherwise move the reference computed after the call.

# Names that find a derivative for the learner: the notebook's `slope` and the package's difference
# quotients, and (as sympy's or numpy's, not a function of the learner's own) `diff`, `lambdify`
# and `gradient`.
_SLOPES = {"slope", "numeric_gradient"}
_TOOLS = {"diff", "lambdify", "gradient"}


def _shortcut(exercise: str, fn: Callable) -> Feedback | None:
    """A hint when ``fn`` lets something else find the derivative, else None."""
    names = names_used(fn)
    scope = getattr(fn, "__globals__", {})
    tools = {  # used as an attribute (sp.diff), or a global imported from sympy or numpy
        name
        for name in names & _TOOLS
        if name not in scope
        or str(getattr(scope[name], "__module__", "")).split(".")[0] in ("sympy", "numpy")
    }
    if uses_package(fn) or names & _SLOPES or tools:
        return hint(
            exercise,
            "your function lets something else find the derivative (a finite difference, sympy "
            "or the package): work it out with the rules and write it with numpy",
        )
    return None


def _exact(got: np.ndarray, want: np.ndarray) -> bool:
    """Agreement to rounding: a formula passes, a finite difference (about 10 digits) does not."""
    return bool(np.allclose(got, want, rtol=1e-11, atol=1e-13))


def _roughly(got: np.ndarray, want: np.ndarray) -> bool:
    """Agreement to 1e-3 of the largest entry, which ``close`` refused: a slope measured with a
    poor step (central differences with h = 1e-2, forward ones with h = 1e-4 or 1e-6, off by
    up to 3e-4 where these curves bend hardest, at x = 2.2), not a wrong rule: each slip the
    checks name is off by more than a tenth somewhere. Asked just before the catch-all hint."""
    return bool(np.all(np.abs(got - want) <= 1e-3 * np.max(np.abs(want))))


def _measured(exercise: str, got: np.ndarray, want: np.ndarray) -> Feedback:
    """The hint for an answer close to the derivative but not equal to it."""
    digits = int(-np.log10(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300))))
    return hint(
        exercise,
        f"your values agree with the derivative to about {digits} digits, as a measured slope "
        "does; a formula from the rules agrees to rounding: work it out and write it with numpy",
    )


def _call(exercise: str, fn: Callable, **points: np.ndarray) -> Any:
    """``fn`` called on copies of ``points`` (by position): its result, a Feedback when it
    crashed, or a hint when it changed one of them in place (a notebook plots its points after
    the call)."""
    passed = {key: value.copy() for key, value in points.items()}
    result = attempt(exercise, fn, *passed.values())
    if isinstance(result, Feedback):
        return result
    return changed_input(exercise, points, passed) or result


# ------------------------------------------------------------------------- d_sin_of_square
def check_d_sin_of_square(fn: Callable[[np.ndarray], np.ndarray]) -> Feedback:
    """Check ``fn(x)`` = d/dx sin(x^2) on an array of points."""
    exercise = "d_sin_of_square"
    x = _POINTS.copy()
    got = result_array(exercise, _call(exercise, fn, x=x), x.shape)
    if isinstance(got, Feedback):
        return got
    want = 2 * x * np.cos(x**2)
    if _exact(got, want):
        return _shortcut(exercise, fn) or correct(
            exercise, "the exact derivative at all five points."
        )
    if close(got, want):
        return _shortcut(exercise, fn) or _measured(exercise, got, want)
    if close(got, np.cos(x**2)):
        return hint(
            exercise,
            "that is the outer function's derivative, at the right place; the chain rule "
            "multiplies it by one more factor",
        )
    if close(got, 2 * x * np.sin(x**2)) or close(got, -2 * x * np.sin(x**2)):
        return hint(exercise, "the outer function's derivative is not right: what is the "
                    "derivative of sin?")  # fmt: skip
    if close(got, -want):
        return hint(exercise, "right size, wrong sign: which of your two factors has a minus "
                    "sign it should not have?")  # fmt: skip
    if close(got, x**2 * np.cos(x**2)):
        return hint(
            exercise,
            "you multiplied the outer function's derivative by the inner function itself; the "
            "chain rule multiplies it by the inner function's derivative",
        )
    if close(got, x * np.cos(x**2)) or close(got, 2 * np.cos(x**2)):
        return hint(
            exercise,
            "the outer function's derivative is right, at the right place; the factor beside it "
            "is not the inner function's derivative: differentiate the inner function again",
        )
    if close(got, np.cos(x) * 2 * x) or close(got, np.cos(x)):
        return hint(
            exercise,
            "you evaluated the outer derivative at x; the outer function sees the inner "
            "function's value, not x",
        )
    if _roughly(got, want):
        return _shortcut(exercise, fn) or _measured(exercise, got, want)
    return hint(
        exercise,
        "not yet: name the outer function and the inner function, differentiate each, then "
        "chain them",
    )


# --------------------------------------------------------------------------------- partials
def check_partials(fn: Callable[[np.ndarray, np.ndarray], tuple]) -> Feedback:
    """Check ``fn(x, y)`` = (df/dx, df/dy) for f(x, y) = x^2 y + e^(x y)."""
    exercise = "partials"
    x = _POINTS.copy()
    y = np.array([0.4, -1.1, 1.3, 0.7, -0.5])
    result = _call(exercise, fn, x=x, y=y)
    if isinstance(result, Feedback):
        return result
    if not is_pair(result):
        return hint(exercise, "return a pair: (df/dx, df/dy)")
    dx = result_array(exercise, result[0], x.shape, "df/dx")
    if isinstance(dx, Feedback):
        return dx
    dy = result_array(exercise, result[1], x.shape, "df/dy")
    if isinstance(dy, Feedback):
        return dy
    want_dx = 2 * x * y + y * np.exp(x * y)
    want_dy = x**2 + x * np.exp(x * y)
    if _exact(dx, want_dx) and _exact(dy, want_dy):
        return _shortcut(exercise, fn) or correct(exercise, "both partial derivatives are exact.")
    if close(dx, want_dx) and close(dy, want_dy):
        return _shortcut(exercise, fn) or _measured(
            exercise, np.concatenate([dx, dy]), np.concatenate([want_dx, want_dy])
        )
    if close(dx, want_dy) and close(dy, want_dx):
        return hint(exercise, "right derivatives, wrong order: return df/dx first")
    e = np.exp(x * y)
    if (close(dx, 2 * x * y + e) and close(dy, x**2 + e)) or (
        close(dx, 2 * x * y + x * e) and close(dy, x**2 + y * e)
    ):
        return hint(
            exercise,
            "the x^2 y terms are right; e^(x y) is not: its exponent is itself a function of x "
            "and y, so the chain rule multiplies e^(x y) by the exponent's own partial "
            "derivative, the one in the variable you differentiate in",
        )
    right = {"df/dx": close(dx, want_dx), "df/dy": close(dy, want_dy)}
    flipped = {"df/dx": close(dx, want_dx - 2 * y * e), "df/dy": close(dy, want_dy - 2 * x * e)}
    if all(right[d] or flipped[d] for d in right):  # (both right was answered above)
        which = " and of ".join(d for d in flipped if flipped[d])
        return hint(
            exercise,
            f"the x^2 y terms are right, and so is the size of the e^(x y) term of {which}, but "
            "not its sign: e^u is its own derivative, with no minus sign (e^(-u) would bring "
            "one), and the chain rule multiplies it by the exponent's partial derivative as it is",
        )
    if close(dx, -want_dx) and close(dy, -want_dy):
        return hint(
            exercise,
            "both partial derivatives have the opposite sign, in every term: return the partials "
            "of f itself, not of -f",
        )
    both, want = np.concatenate([dx, dy]), np.concatenate([want_dx, want_dy])
    if _roughly(both, want):  # one of them, or both, outside close(): measured, not derived
        return _shortcut(exercise, fn) or _measured(exercise, both, want)
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


# ---------------------------------------------------------------------------- steepest_steps
def check_steepest_steps(fn: Callable) -> Feedback:
    """Check ``fn(grad_f, w0, h, steps)``: the points of a walk from w0, shape (steps + 1,
    len(w0)), each step of length h against the gradient ``grad_f(w)`` there, and no step where
    the gradient is exactly 0; walks in bowls of 1 to 5 dimensions (``_steepest.py``)."""
    return _steepest.check(fn)


# -------------------------------------------------------------------------------- two_paths
def check_two_paths(fn: Callable[[np.ndarray], np.ndarray]) -> Feedback:
    """Check ``fn(x)`` = dL/dx for L = u * v, u = x^3, v = cos(x)."""
    exercise = "two_paths"
    x = _POINTS.copy()
    got = result_array(exercise, _call(exercise, fn, x=x), x.shape)
    if isinstance(got, Feedback):
        return got
    u, v = x**3, np.cos(x)
    through_u = v * 3 * x**2  # dL/du * du/dx alone
    through_v = u * -np.sin(x)  # dL/dv * dv/dx alone
    want = through_u + through_v
    if _exact(got, want):
        return _shortcut(exercise, fn) or correct(exercise, "both paths counted: exact.")
    if close(got, want):
        return _shortcut(exercise, fn) or _measured(exercise, got, want)
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
    if close(got, through_u * through_v):
        return hint(exercise, "the two paths' contributions add up; they do not multiply")
    if close(got, 3 * x**2 * -np.sin(x)):
        return hint(
            exercise,
            "you multiplied du/dx by dv/dx; each path's contribution is dL/d(that variable) "
            "times d(that variable)/dx",
        )
    du, dv = 3 * x**2, -np.sin(x)  # a path's last factor alone: its dL/du or dL/dv left out
    for short, which in [
        (du + through_v, "path through u is"),
        (through_u + dv, "path through v is"),
        (du + dv, "paths through u and v are"),
    ]:
        if close(got, short):
            return hint(
                exercise,
                f"the {which} short of a factor: each path's contribution is "
                "dL/d(that variable) times d(that variable)/dx, and in L = u * v neither dL/du "
                "nor dL/dv is 1",
            )
    if _roughly(got, want):
        return _shortcut(exercise, fn) or _measured(exercise, got, want)
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
    got = result_array(exercise, _call(exercise, fn, x=x), x.shape)
    if isinstance(got, Feedback):
        return got
    a, b = x**2, np.sin(x**2) + x
    paths = {  # the product of local derivatives along each path, written out here
        "x -> a -> L": 2 * x * b,
        "x -> a -> b -> L": 2 * x * np.cos(a) * a,
        "x -> b -> L": 1.0 * a,
    }
    want = sum(paths.values())
    if _exact(got, want):
        return _shortcut(exercise, fn) or correct(
            exercise, "all three paths: exact at five points."
        )
    if close(got, want):
        return _shortcut(exercise, fn) or _measured(exercise, got, want)
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
    if close(got, want - paths["x -> a -> b -> L"] + np.cos(a) * a):
        return hint(
            exercise,
            "the path x -> a -> b -> L is short of a factor: it has three arrows, so its product "
            "has three local derivatives, the first one that of x -> a",
        )
    if close(got, want - paths["x -> a -> L"] + b):  # the path's x -> a factor forgotten
        return hint(
            exercise,
            "the path x -> a -> L is short of a factor: it has two arrows, so its product has "
            "two local derivatives, the first one that of x -> a",
        )
    both = want - paths["x -> a -> L"] - paths["x -> a -> b -> L"] + b + np.cos(a) * a
    if close(got, both):  # the x -> a factor forgotten on both paths through a
        return hint(
            exercise,
            "the two paths through a are short of a factor: each product has one local "
            "derivative per arrow, and both paths begin with the arrow x -> a",
        )
    if close(got, paths["x -> a -> L"] * paths["x -> a -> b -> L"] * paths["x -> b -> L"]):
        return hint(exercise, "the paths' contributions do not multiply with each other")
    if _roughly(got, want):
        return _shortcut(exercise, fn) or _measured(exercise, got, want)
    return hint(
        exercise,
        "not yet: draw the graph x -> a -> b -> L with every edge, write each edge's local "
        "derivative, then go path by path",
    )
