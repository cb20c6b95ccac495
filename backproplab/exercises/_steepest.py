"""Notebook 02's exercise 3: steps of one fixed length h, each against the gradient.

The direction of a step and its length are two separate choices. Among all steps of one small
length, the one against the gradient lowers f the most (to first order); where the gradient is
exactly zero no direction lowers f, and the path stays put. The learner's
``steepest_steps(grad_f, w0, h, steps)`` returns the points visited, w0 first.

The cases are quadratic bowls f(w) = (w - c)ᵀ A (w - c) / 2 of several shapes (1, 2, 3 and 5
dimensions, round, long and turned, very flat, very steep), one walk that starts at the minimum
and one into a bowl with a flat bottom, where the gradient becomes exactly zero after a few
steps. Their gradients are functions of the check's own, called back by the learner's function;
the reference path is worked out here, step by step (``_path``), never by the learner's
function. The wrong answers that get a specific hint are the usual slips: plain gradient descent
(a step h times the gradient), uphill, a step of h in every coordinate, the gradient divided by
another measure of its size, nan where it is zero, one direction for all steps, one array stored
at every row, the start left out or a step too few or many.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import Feedback, attempt_own, close, correct, hint, result_array
from ._draws import check_rng

Gradient = Callable[[np.ndarray], np.ndarray]
Rule = Callable[[np.ndarray, float], np.ndarray]


@dataclass(frozen=True)
class _Case:
    what: str  # "in a long 2-d bowl", for the hints
    grad_f: Gradient
    w0: np.ndarray
    h: float
    steps: int
    flat: bool = False  # a bowl so flat that its gradient is tiny everywhere
    zero: bool = False  # the path meets a point where the gradient is exactly 0


def _bowl(a: np.ndarray, c: np.ndarray) -> Gradient:
    """The gradient of f(w) = (w - c)ᵀ a (w - c) / 2, a symmetric: a (w - c)."""

    def grad_f(w: np.ndarray) -> np.ndarray:
        w = np.array(w, dtype=np.float64)  # a copy: the learner may change it afterwards
        if w.shape != c.shape:
            raise ValueError(f"grad_f: a point has shape {c.shape}, not {w.shape}")
        return a @ (w - c)

    return grad_f


def _flat_bottom(a: float, c: np.ndarray, r: float) -> Gradient:
    """The gradient of f(w) = a (max(|w - c| - r, 0))**2 / 2: a bowl whose bottom is flat within
    the distance r of c, where the gradient is exactly 0 (not a rounding of 0)."""

    def grad_f(w: np.ndarray) -> np.ndarray:
        w = np.array(w, dtype=np.float64)
        if w.shape != c.shape:
            raise ValueError(f"grad_f: a point has shape {c.shape}, not {w.shape}")
        d = w - c
        distance = float(np.sqrt(d @ d))
        return a * (distance - r) * d / distance if distance > r else np.zeros_like(d)

    return grad_f


def _cases() -> list[_Case]:
    """The walks, from the simplest. Each start lies far enough from the minimum that the path
    does not reach it (where a fixed step hops to and fro, and rounding grows) unless the case
    is about reaching it: the 1-d bowl, where a hop is exact, the walk that starts at the
    minimum and the flat bottom."""
    rng = check_rng(2)

    def offset(n: int, size: float) -> np.ndarray:  # no entry near 0 (nor the gradient's)
        return size * rng.uniform(0.6, 1.0, n) * rng.choice([-1.0, 1.0], n) / np.sqrt(n)

    def turned(curvatures: list[float]) -> np.ndarray:  # curvatures along turned axes
        q, _ = np.linalg.qr(rng.standard_normal((len(curvatures), len(curvatures))))
        return q @ np.diag(curvatures) @ q.T

    m = rng.standard_normal((5, 5))
    cases = []
    for what, a, h, steps, flat in [
        ("a 1-d bowl", np.array([[rng.uniform(0.5, 3.0)]]), 0.3, 6, False),
        ("a round 2-d bowl", 2.0 * np.eye(2), 0.25, 5, False),
        ("a long, turned 2-d bowl", turned([1.0, 10.0]), 0.2, 8, False),
        ("a 5-d bowl", m @ m.T / 5 + np.eye(5), 0.1, 6, False),
        ("a very flat 3-d bowl", turned([2e-10, 1e-10, 5e-10]), 0.5, 4, True),
        ("a steep 2-d bowl", turned([1e3, 4e3]), 0.1, 5, False),
    ]:
        n = len(a)
        c = rng.uniform(-1.0, 1.0, n)
        far = 1.0 if n == 1 else h * steps + 0.5  # the 1-d walk crosses the minimum
        cases.append(_Case(f"in {what}", _bowl(a, c), c + offset(n, far), h, steps, flat))
    c = np.round(rng.uniform(-1.0, 1.0, 2) * 64) / 64  # in float32 too, still the minimum
    cases.append(_Case("starting at the minimum", _bowl(turned([1.0, 3.0]), c), c, 0.25, 3,
                       zero=True))  # fmt: skip
    c = rng.uniform(-1.0, 1.0, 3)
    d = rng.standard_normal(3)
    w0 = c + 1.0 * d / np.sqrt(d @ d)  # at distance 1: 0.7, then 0.4 < r, flat, after 2 steps
    cases.append(_Case("in a bowl with a flat bottom", _flat_bottom(2.0, c, 0.45), w0, 0.3, 5,
                       zero=True))  # fmt: skip
    return cases


def _steepest(g: np.ndarray, h: float) -> np.ndarray:
    """The reference step: length h, against the gradient; none where the gradient is 0."""
    length = np.sqrt(np.sum(g * g))
    return np.zeros_like(g) if length == 0 else -h * g / length


def _path(grad_f: Gradient, w0: np.ndarray, h: float, steps: int, rule: Rule = _steepest,
          first_only: bool = False) -> np.ndarray:  # fmt: skip
    """The points visited from w0 by ``steps`` steps ``rule(gradient, h)``, w0 first: shape
    (steps + 1, len(w0)). ``first_only``: every step uses the gradient at w0."""
    points = [np.array(w0, dtype=np.float64)]
    g0 = grad_f(points[0])
    for _ in range(steps):
        g = g0 if first_only else grad_f(points[-1])
        points.append(points[-1] + rule(g, h))
    return np.array(points)


def _unless_zero(step: Callable[[np.ndarray, float], np.ndarray]) -> Rule:
    """A wrong answer's step, with no step where the gradient is 0 (its other slip alone)."""
    return lambda g, h: np.zeros_like(g) if not np.any(g) else step(g, h)


_SLIPS: list[tuple[Rule, bool, str]] = [  # (step, first_only, the hint)
    (
        _unless_zero(lambda g, h: h * g / np.sqrt(g @ g)),
        False,
        "your steps go along the gradient, uphill: it points where f rises fastest, and the "
        "path should fall",
    ),
    (
        lambda g, h: -h * g,
        False,
        "your steps are h times the gradient (plain gradient descent), so their length follows "
        "the gradient's size; here every step is exactly h long, and the gradient gives only "
        "the direction",
    ),
    (
        lambda g, h: -h * np.sign(g),
        False,
        "each of your steps moves every coordinate by h, up or down: in n dimensions that step "
        "is h times the square root of n long, and it is the steepest one for another way of "
        "measuring a step (by its largest coordinate), not for its straight-line length",
    ),
    (
        _unless_zero(lambda g, h: -h * g / np.sum(np.abs(g))),
        False,
        "your steps point the right way but are shorter than h when the gradient has two or "
        "more entries that are not 0 (right in 1-d): you divided by another measure of the "
        "gradient's size than its length, the straight-line one",
    ),
    (
        _unless_zero(lambda g, h: -h * g / (g @ g)),
        False,
        "your steps point the right way, but each is h divided by the gradient's length long: "
        "the gradient's size is divided out once too often",
    ),
    (
        _unless_zero(lambda g, h: -h * g / np.sqrt(g @ g)),
        True,
        "every step of yours goes the way the gradient pointed at the start: the steepest "
        "direction changes as you move; ask for the gradient again at each new point",
    ),
]


def check(fn: Callable) -> Feedback:
    """Check ``fn(grad_f, w0, h, steps)``: the (steps + 1, len(w0)) points of a walk, w0 first,
    each step of length h against the gradient, no step where the gradient is exactly 0."""
    exercise = "steepest_steps"
    for case in _cases():
        result = attempt_own(exercise, fn, case.grad_f, case.w0, case.h, case.steps)
        got = result_array(exercise, result)
        if isinstance(got, Feedback):
            return got
        want = _path(case.grad_f, case.w0, case.h, case.steps)
        problem = _shape_problem(got, want, case)
        if problem:
            return hint(exercise, problem)
        if not np.all(np.isfinite(got)):
            return hint(exercise, _not_finite(case))
        if close(got, want, rtol=1e-5, atol=1e-5):
            continue
        return hint(exercise, f"{case.what} (h = {case.h:g}): {_slip(got, want, case)}")
    return correct(
        exercise,
        "every step h long and steepest down, in bowls of 1 to 5 dimensions; no step where "
        "the gradient is 0.",
    )


def _shape_problem(got: np.ndarray, want: np.ndarray, case: _Case) -> str | None:
    """The hint for a result of another shape than ``want``'s, else None."""
    if got.shape == want.shape:
        return None
    rows, n = want.shape
    if got.ndim == 2 and got.shape[1] == n and len(got) < rows and case.zero:
        if close(got, want[: len(got)], rtol=1e-5, atol=1e-5):
            return (
                f"{case.what} your walk ended early, with {len(got)} point"
                f"{'s' if len(got) > 1 else ''} for {case.steps} steps: where the gradient "
                "is 0 there is no way down, but a step still counts (it stays where it is)"
            )
    if got.ndim == 2 and got.shape[1] == n and len(got) in (rows - 1, rows + 1):
        if len(got) == rows - 1 and close(got, want[1:], rtol=1e-5, atol=1e-5):
            return "the starting point w0 is missing: it is the first row, before any step"
        more = "too few" if len(got) < rows else "too many"
        return (
            f"you returned {len(got)} points for {case.steps} steps, one {more}: the start w0, "
            "then one point after each step"
        )
    return (
        f"your result has shape {got.shape}; for {case.steps} steps from a point of {n} "
        f"coordinates it should have shape {want.shape}: w0 and one point after each step, a "
        "row each"
    )


def _not_finite(case: _Case) -> str:
    if case.zero:
        return (
            f"{case.what} your points hold nan or inf: where the gradient is exactly 0 it has "
            "no direction (and no length to divide by); no step lowers f, so stay where you are"
        )
    return f"{case.what} your points hold nan or inf: each step should be h long"


def _slip(got: np.ndarray, want: np.ndarray, case: _Case) -> str:
    """What is wrong with a path of the right shape that is not the reference, in words."""
    if np.allclose(got, case.w0, rtol=1e-5, atol=1e-5):
        if case.flat:
            return (
                "your walk never moved: the gradient is tiny here, but it still points "
                "somewhere, and a step's length is h however small the gradient is; only a "
                "gradient that is exactly 0 means stay put"
            )
        return "your walk never moved: from each point, take a step of length h"
    if np.array_equal(got, np.repeat(got[-1:], len(got), axis=0)):
        return (
            "every row of your result is the last point: one array, changed in place at each "
            "step and stored each time, makes every row the same; store a new array per point"
        )
    if not close(got[0], case.w0, rtol=1e-5, atol=1e-5):
        return "your first row is not w0: the walk starts where it is given"
    for rule, first_only, words in _SLIPS:
        other = _path(case.grad_f, case.w0, case.h, case.steps, rule, first_only)
        if np.all(np.isfinite(other)) and close(got, other, rtol=1e-5, atol=1e-5):
            return words
    if case.zero:
        return (
            "where the gradient is exactly 0 your walk did not stay put: no direction lowers f "
            "there, so the point stays where it is"
        )
    steps = np.diff(got, axis=0)
    lengths = np.sqrt(np.sum(steps * steps, axis=1))
    downhill = np.array([_steepest(case.grad_f(w), 1.0) for w in got[:-1]])
    along = np.sum(steps * downhill, axis=1)  # the part of each step along the steepest way
    if np.allclose(lengths, case.h, rtol=1e-5):
        return "your steps are h long, but not against the gradient where each one starts"
    if np.allclose(along, lengths, rtol=1e-6, atol=1e-12):
        return (
            "your steps go the steepest way down, but they are not h long (from "
            f"{lengths.min():.3g} to {lengths.max():.3g} here): every step is exactly h long"
        )
    return "not yet: from each point, a step of length h against the gradient there"
