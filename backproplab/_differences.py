"""The arithmetic of ``gradcheck.py``'s finite differences: one central difference, the most
rounding can move it, and how far backward's gradient may be from it (see gradcheck's module
docstring for the reasons)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .tensor import Tensor

# How many times its own measured error a finite difference may be off (see the module's doc).
NOISE_FACTOR = 10.0


def _difference(
    project, inputs: Sequence[Tensor], x: Tensor, idx: tuple, step: float, strict: bool = True
) -> tuple[float, float]:
    """The central difference of ``project`` in entry ``idx`` of ``x`` (``x.data`` a copy), and
    the most its rounding can be off (see ``_rounding``)."""
    start = x.data[idx]
    x.data[idx] = start + step
    up, above = project(inputs), x.data[idx]
    x.data[idx] = start - step
    down, below = project(inputs), x.data[idx]
    x.data[idx] = start
    # divided by the step float64 really took: 1 + 1e-6 is stored as 1.00000099999999991773, and
    # near 1e8 (spacing 1.5e-8) the step is off by 0.2 %, more than rtol, for f = 3 x too
    taken = float(above - below)
    if taken == 0:  # for a second opinion's step, no opinion
        if not strict:
            return np.inf, 0.0
        raise ValueError(_lost_step("gradcheck", step, start))
    return (up - down) / taken, _rounding(up, down, taken / 2)


def _lost_step(caller: str, step: float, start: float) -> str:
    """The error for a step that rounding lost entirely: x + step == x == x - step."""
    return (
        f"{caller}: a step of {step:g} is lost in float64's rounding at the entry "
        f"{float(start):g} (x + step == x); an input this large needs a larger eps, about 1e-6 "
        f"times its size"
    )


def _rounding(up: float, down: float, step: float) -> float:
    """How far rounding alone can move (up - down) / (2 step): each value is off by up to
    machine epsilon times its size. For a gradient that is truly 0, the two other steps may
    agree to the last bit (all three differences exactly 0) while backward's rounding leaves
    1e-17: this floor lets that pass (softmax(x).sum() at x near 1000)."""
    return float(np.finfo(np.float64).eps * (abs(up) + abs(down)) / (2 * step))


def _allowed(numeric: np.ndarray, atol: float, rtol: float, noise=None) -> np.ndarray:
    """How far each analytic entry may be from ``numeric``: atol' + rtol * |numeric|, where
    atol' = atol * min(1, largest |numeric|), raised to NOISE_FACTOR * noise (at most atol)."""
    scale = np.max(np.abs(numeric), initial=0.0)
    floor = atol * np.minimum(1.0, scale)
    if noise is not None:
        floor = np.maximum(floor, np.minimum(atol, NOISE_FACTOR * noise))
    return floor + rtol * np.abs(numeric)
