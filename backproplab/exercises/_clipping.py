"""Notebook 10's clipping exercise: ``clip_gradients(grads, max_norm)`` scales all the gradients by
one factor so that their global norm (all entries of all arrays together) is at most max_norm.

The check is ``nb10.check_clip_gradients``. Its cases: a global norm above max_norm, below it,
exactly at it, twice it, then all-zero gradients (no division by a norm of 0). The expected arrays
are worked out here from the gradients (one factor, min(1, max_norm / norm)), never by the
learner's function. The wrong answers that get a specific hint: the inputs changed or handed back,
gradients scaled up to max_norm, gradients left alone above max_norm, every entry clipped on its
own, every array clipped on its own, and five slips with squares: the sum of the squares taken for
the norm, a factor that is the square of the right one (squared norms compared, and their ratio
kept), the sum of the squares brought down to max_norm, and both comparisons with a square on one
side only, the right factor kept; and a norm from a mean of the squares where their sum belongs
(over all the entries, over the arrays, or within each). The sum of the squares compared with
max_norm is wrong only for a max_norm between the norm and its square (with the check's norm of
about 14, at 50 it scales the gradients up; a norm below 1 would go unclipped between its square
and itself); the norm compared with max_norm's square, only for a norm between max_norm and its
square (the case twice max_norm). Two more calls, at 0.9 and 1.1 times the square (the square
root), tell each from a slip that always scales or never does.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from . import Feedback, attempt, close, correct, hint, result_array
from ._draws import check_rng

# The references are exact (numpy formulas), so agreement can be tighter than close()'s default.
_close = partial(close, rtol=1e-6, atol=1e-9)


def _global_norm(grads: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(float((g**2).sum()) for g in grads)))


def _clipped_arrays(
    name: str, result: list | tuple, grads: list[np.ndarray]
) -> list[np.ndarray] | Feedback:
    """The learner's clipped gradients ``result`` as arrays, each of the shape of its gradient in
    ``grads``; or the hint for the first that is not."""
    got = []
    for g, r in zip(grads, result):
        array = result_array(name, r, g.shape, "each clipped gradient")
        if isinstance(array, Feedback):
            return array
        got.append(array)
    return got


def _switches_at(clip_gradients: Callable, grads: list[np.ndarray], threshold: float) -> bool:
    """Whether ``clip_gradients`` brings the global norm of ``grads`` to max_norm (one factor,
    up or down) for a max_norm of 0.9 ``threshold`` and leaves them alone at 1.1 ``threshold``:
    its comparison switches there, not at their norm."""
    total = _global_norm(grads)
    for max_norm, scaled in ((0.9 * threshold, True), (1.1 * threshold, False)):
        with np.errstate(all="ignore"):
            result = attempt("", clip_gradients, [g.copy() for g in grads], max_norm)
        if not isinstance(result, (list, tuple)) or len(result) != len(grads):
            return False
        got = _clipped_arrays("", result, grads)
        factor = max_norm / total if scaled else 1.0
        if isinstance(got, Feedback) or not all(_close(a, g * factor) for a, g in zip(got, grads)):
            return False
    return True


def check_clip_gradients(clip_gradients: Callable) -> Feedback:
    """``clip_gradients(grads, max_norm)``: new arrays, all scaled by one factor so that their
    global norm (all entries of all arrays together) is at most ``max_norm``."""
    name = "clip_gradients"
    rng = check_rng(13)
    grads = [rng.standard_normal((4, 3)) * 3, rng.standard_normal(4), rng.standard_normal((2, 4))]
    total = _global_norm(grads)  # about 14
    cases = [  # (max_norm, what it tests): above the norm, below it, exactly at it, and a norm
        (2.0, "a global norm above max_norm"),  # between max_norm and max_norm's square
        (50.0, "a global norm below max_norm"),
        (total, "a global norm exactly at max_norm"),
        (total / 2, "a global norm twice max_norm"),
    ]
    for max_norm, what in cases:
        originals = [g.copy() for g in grads]
        result = attempt(name, clip_gradients, grads, max_norm)
        if isinstance(result, Feedback):
            return result
        if any(not np.array_equal(g, o) for g, o in zip(grads, originals)):
            grads[:] = originals
            return hint(name, "your function changed the gradients it was given: return new "
                        "arrays (a caller may still need the originals).")  # fmt: skip
        if not isinstance(result, (list, tuple)) or len(result) != len(grads):
            return hint(name, f"return a list of {len(grads)} arrays, one per gradient, in order.")
        if any(isinstance(r, np.ndarray) and np.shares_memory(r, g) for r, g in zip(result, grads)):
            return hint(name, f"with {what} you returned the arrays you were given (or views of "
                        "them): return new arrays, also when nothing needs clipping.")  # fmt: skip
        got = _clipped_arrays(name, result, grads)
        if isinstance(got, Feedback):
            return got
        want = [g * min(1.0, max_norm / total) for g in grads]
        if all(_close(a, b) for a, b in zip(got, want)):
            continue
        if max_norm > total and _close(_global_norm(got), max_norm):
            if _switches_at(clip_gradients, grads, total**2):
                return hint(name, f"with {what} you scaled the gradients up to max_norm: their "
                            f"global norm, {total:.3g}, is below max_norm, {max_norm:.3g}, but "
                            f"its square, {total**2:.3g}, is above it. Did you compare the sum "
                            "of the squares with max_norm? It is the norm, the square root of "
                            "that sum, that max_norm limits.")  # fmt: skip
            return hint(name, f"with {what} you scaled the gradients up to max_norm: clipping only "
                        "ever shrinks them.")  # fmt: skip
        if max_norm < total and all(_close(a, g) for a, g in zip(got, grads)):
            left = (f"with {what} you left the gradients as they were, but their global norm, "
                    f"{total:.3g}, is above max_norm, {max_norm:.3g}: they must be scaled down "
                    "to it.")  # fmt: skip
            if _switches_at(clip_gradients, grads, np.sqrt(total)):
                left += (f" Their norm is below max_norm's square, {max_norm**2:.3g}: did you "
                         "compare the norm with the square of max_norm?")  # fmt: skip
            return hint(name, left)
        if all(_close(a, np.clip(g, -max_norm, max_norm)) for a, g in zip(got, grads)):
            return hint(name, "you clipped every entry on its own: that changes the gradient's "
                        "direction. Scale all of it by one factor.")  # fmt: skip
        one_by_one = [min(max_norm, _global_norm([g])) for g in grads]
        if all(_close(_global_norm([a]), n) for a, n in zip(got, one_by_one)):
            return hint(
                name,
                "each array was clipped to max_norm on its own; the norm to limit is that of all "
                "the gradients together, and one factor scales them all.",
            )
        squared = total**2  # the sum of the squares, taken for the norm
        if _close(got[0], grads[0] * min(1.0, max_norm / squared)):
            return hint(name, f"with {what}: your factor divides by the sum of the squares of "
                        "all the entries; the global norm is the square root of that "
                        "sum.")  # fmt: skip
        factor = min(1.0, max_norm / total)  # the right one, to compare two square slips with
        if factor < 1 and all(_close(a, g * factor**2) for a, g in zip(got, grads)):
            return hint(name, f"with {what}: every entry was scaled by the square of the factor "
                        "that brings the global norm down to max_norm. Scaling all the entries by "
                        "a factor scales their norm by that factor itself, not by its square "
                        "(did you compare squared norms?).")  # fmt: skip
        if factor < 1 and all(_close(a, g * np.sqrt(max_norm) / total) for a, g in zip(got, grads)):
            return hint(name, f"with {what}: your result's global norm is the square root of "
                        "max_norm: you brought the sum of the squares down to max_norm. It is "
                        "the norm, the square root of that sum, that max_norm limits.")  # fmt: skip
        # a mean of the squares where their sum is asked for: over all the entries (a root mean
        # square), over the arrays, or within each array
        means = [total / np.sqrt(sum(g.size for g in grads)), total / np.sqrt(len(grads)),
                 np.sqrt(sum(float((g**2).mean()) for g in grads))]  # fmt: skip
        if factor < 1 and any(all(_close(a, g * min(1.0, max_norm / norm))
                                  for a, g in zip(got, grads)) for norm in means):  # fmt: skip
            return hint(name, f"with {what}: your norm is smaller than the global norm, "
                        f"{total:.3g}: it averages the squares, where the global norm adds up "
                        "the squares of all the entries of all the arrays, then takes the "
                        "square root of that sum.")  # fmt: skip
        return hint(name, f"with {what}: the global norm of your result is "
                    f"{_global_norm(got):.4g}, expected {_global_norm(want):.4g}.")  # fmt: skip
    zeros = [np.zeros((2, 2)), np.zeros(3)]
    with np.errstate(all="ignore"):
        result = attempt(name, clip_gradients, zeros, 1.0)
    if isinstance(result, Feedback):
        return hint(name, f"all-zero gradients (a global norm of 0): {result.message}")
    if not isinstance(result, (list, tuple)) or len(result) != len(zeros):
        return hint(name, f"all-zero gradients (a global norm of 0): return a list of "
                    f"{len(zeros)} arrays, one per gradient, here too.")  # fmt: skip
    got = _clipped_arrays(name, result, zeros)
    if isinstance(got, Feedback):
        return got
    if not all(np.array_equal(a, z) for a, z in zip(got, zeros)):
        return hint(name, "all-zero gradients must come back as zeros (no division by a norm "
                    "of 0: NaN).")  # fmt: skip
    return correct(name, "one factor for all the gradients, only when the global norm is above "
                   "max_norm; zeros and the inputs left alone.")  # fmt: skip
