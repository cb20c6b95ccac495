"""Notebook 01's exercise 4: what forward mode and reverse mode cost for a chain of Jacobians.

``chain_cost(shapes, mode)``: ``shapes`` lists the Jacobians J_1 ... J_k of a chain, the first
layer's first, J_i of shape (m_i, m_{i-1}). Forward mode starts from the identity with one column
per input (m_0 x m_0) and multiplies it by J_1, then J_2, ... up to J_k; reverse mode starts from
the identity with one row per output (m_k x m_k) and multiplies it by J_k, then J_{k-1}, ... down
to J_1. Either way k products, each of an (a, b) by a (b, c) matrix costing a * b * c
multiplications; the function returns their total, and raises ValueError for shapes that do not
chain.

The reference is not such a loop: every product carries the m_0 columns (the m_k rows) of the
mode's start through one Jacobian of m_i * m_{i-1} entries, so forward mode costs m_0 times the
sum of the Jacobians' sizes and reverse mode m_k times the same sum. The typical slips (the two
modes swapped, the identity's product left out, two of the three sizes per product, one product
too many or too few, one width for every layer, the costs per product instead of their total,
the caller's list reversed or popped) get hints of their own.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Feedback, attempt, correct, hint, stub_feedback, uses_package
from ._draws import check_rng

Shapes = list[tuple[int, int]]
MODES = ("forward", "reverse")


def _shapes(widths: list[int]) -> Shapes:
    """The Jacobians of a chain of widths m_0 ... m_k: J_i is (m_i, m_{i-1}), J_1 first."""
    return [(int(b), int(a)) for a, b in zip(widths[:-1], widths[1:])]


def _widths(shapes: Shapes) -> list[int]:
    """m_0 ... m_k of a chain that fits (J_1's columns, then every Jacobian's rows)."""
    return [shapes[0][1], *(rows for rows, _ in shapes)]


def cost(shapes: Shapes, mode: str) -> int:
    """The reference: (inputs for forward mode, outputs for reverse mode) x the sum of the
    Jacobians' sizes."""
    carried = shapes[0][1] if mode == "forward" else shapes[-1][0]
    return carried * sum(rows * cols for rows, cols in shapes)


def _cases() -> list[tuple[str, Shapes]]:
    """(what, shapes): a loss (many inputs, one output), its mirror (one input, many outputs),
    as many inputs as outputs (the modes tie), a single Jacobian, then five chains of 2 to 6
    Jacobians of random widths 1 to 9, other at every draw of the grader."""
    rng = check_rng(11)
    cases = [
        ("a loss: 6 inputs, 1 output", _shapes([6, 5, 4, 1])),
        ("1 input, 6 outputs", _shapes([1, 4, 5, 6])),
        ("3 inputs, 3 outputs", _shapes([3, 7, 2, 3])),
        ("a single Jacobian", _shapes([5, 3])),
    ]
    for k in (2, 5, 3, 6, 4):
        cases.append((f"{k} Jacobians", _shapes(list(rng.integers(1, 10, k + 1)))))
    return cases


# A chain whose shapes do not fit: J_2 has 5 columns, J_1 only 4 rows.
BAD = [(4, 3), (2, 5)]


def check_chain_cost(fn: Callable[[Shapes, str], int]) -> Feedback:
    """Check ``fn(shapes, mode)``: the multiplications forward or reverse mode makes for a chain
    of Jacobians of these shapes (J_1 first), against m_0 (or m_k) times the sum of their sizes;
    chains of 1 to 6 Jacobians, both modes, including ones where forward mode wins and where the
    two tie; the list given must be left as it was, and shapes that do not chain raise
    ValueError."""
    exercise = "chain_cost"
    if uses_package(fn):  # the check's own count, say: right numbers, no work
        return hint(
            exercise,
            "your function calls the package (backproplab) to do the work: count it yourself",
        )
    for what, shapes in _cases():
        results = {}
        for mode in MODES:
            given = _pairs(shapes)
            result = attempt(exercise, fn, given, mode)
            if isinstance(result, Feedback):
                return result
            if given != _pairs(shapes):
                return hint(
                    exercise,
                    "your function changed the list of shapes it was given (reversed it, or took "
                    "Jacobians out of it): walk it without changing it; the caller still needs it",
                )
            results[mode] = result
        for mode in MODES:
            if not (_is_count(results[mode]) and results[mode] == cost(shapes, mode)):
                why = _why(shapes, mode, results)
                return hint(exercise, f"for {_pairs(shapes)} ({what}), {mode} mode: {why}")
    return _refuses_bad_shapes(exercise, fn) or correct(
        exercise,
        "right in both modes for chains of 1 to 6 Jacobians, and shapes that do not chain are "
        "refused.",
    )


def _pairs(shapes: Shapes) -> Shapes:
    """The shapes as the learner gets them: a new list of (rows, columns) tuples, like numpy's
    shapes (the grader copies back into it what the learner's call changed: a list reversed in
    place is reversed in the check's hands too)."""
    return [(int(rows), int(cols)) for rows, cols in shapes]


def _is_count(result: object) -> bool:
    return isinstance(result, (int, float, np.integer, np.floating)) and not isinstance(
        result, (bool, np.bool_)
    )


def _terms(
    shapes: Shapes, mode: str, price: Callable[[int, int, int], int] = lambda a, b, c: a * b * c
) -> list[int]:
    """The cost of each of the mode's products, in the order they are made, each of an (a, b) by
    a (b, c) matrix priced ``price(a, b, c)`` (another price than a * b * c: a slip below)."""
    m, k = _widths(shapes), len(shapes)
    if mode == "forward":  # J_i (m_i, m_{i-1}) @ the carried (m_{i-1}, m_0), J_1 first
        return [price(m[i], m[i - 1], m[0]) for i in range(1, k + 1)]
    return [price(m[k], m[i], m[i - 1]) for i in range(k, 0, -1)]  # (m_k, m_i) @ J_i, J_k first


def _why(shapes: Shapes, mode: str, results: dict[str, object]) -> str:
    """What is wrong with ``results[mode]``, the learner's count for ``shapes`` in ``mode``, in
    words that name the mistake, not the count (``results``: the counts of both modes)."""
    result, other_mode = results[mode], MODES[mode == "forward"]
    want, other = cost(shapes, mode), cost(shapes, other_mode)
    terms, k = _terms(shapes, mode), len(shapes)
    if result is None:
        return "your function returned None: is a `return` missing?"
    if isinstance(result, (list, tuple, np.ndarray)):
        try:
            total = float(np.sum(np.asarray(result, dtype=float)))
        except (TypeError, ValueError):
            total = None
        if total == want:
            return "those are the costs of the products one by one: return their total, one number"
        return f"return one number, the total count, not a {type(result).__name__}"
    if not _is_count(result):
        return f"return one number, the total count, not a {type(result).__name__}"
    if results[other_mode] == result == other != want:  # right in the other mode only
        return (
            "your count is the same in both modes: does your function read `mode`? The order "
            "of the products changes the shapes multiplied, and what each product costs"
        )
    if result == other and results[other_mode] == want:
        return (
            "that is what the other mode costs: forward mode starts at the inputs (J_1's side) "
            "and carries one column per input; reverse mode starts at the output end and "
            "carries one row per output"
        )
    if result == want - terms[0]:
        return (
            "one product is missing, the first: the mode starts from an identity (one column "
            "per input, or one row per output) and multiplies it by the first Jacobian it meets "
            f"too, so {k} Jacobians take {k} products"
        )
    for price in (lambda a, b, c: a * b, lambda a, b, c: b * c, lambda a, b, c: a * c):
        if result == sum(_terms(shapes, mode, price)):
            return (
                "each product is priced with two of the three sizes: an (a, b) by (b, c) product "
                "has a*c entries, each a sum of b products"
            )
    m = _widths(shapes)
    extra = m[0] * m[k] * (m[k] if mode == "forward" else m[0])  # the other end's identity too
    if result in [want - t for t in terms] or result == want + extra:
        return (
            f"one product too many or too few: {k} Jacobians, {k} products, each of the matrix "
            "you carry by the next Jacobian"
        )
    for w in sorted(set(_widths(shapes))):
        square = [(w, w)] * k
        if result == cost(square, mode):
            return (
                f"you priced every product as if every width were {w}: these Jacobians are not "
                "square, read each one's own shape"
            )
    return (
        f"your count is {result}: go product by product; what shape is the matrix you carry "
        "after each one, and what does the next product cost?"
    )


def _refuses_bad_shapes(exercise: str, fn: Callable) -> Feedback | None:
    """None if ``fn`` raises ValueError for ``BAD`` in both modes, else the hint."""
    for mode in MODES:
        try:
            result = fn(_pairs(BAD), mode)
        except NotImplementedError as error:
            return stub_feedback(exercise, fn, error)
        except ValueError:
            continue
        except Exception as error:
            return hint(
                exercise,
                f"for {_pairs(BAD)}, which do not chain, your code raised {type(error).__name__}: "
                "raise a ValueError (the error numpy raises for matrices that do not fit)",
            )
        return hint(
            exercise,
            f"for {_pairs(BAD)} ({mode} mode) you returned {result!r}: these shapes do not "
            "chain (J_2's columns must match J_1's rows), so there is no product to count: raise "
            "a ValueError",
        )
    return None
