"""The hint for a central difference that lands far from the true gradient (notebook 01).

Two slips land there often enough to name: the entries nudged together (a whole row, or all of w
at once: fewer than two calls of f per entry), and a division by 2 that multiplies by eps after
it (Python reads ``a / 2 * eps`` as ``(a / 2) * eps``), which gives eps² times the slope.
"""

from __future__ import annotations

import numpy as np


def far_off(grad: np.ndarray, exact: np.ndarray, eps: float, calls: int, n: int) -> str:
    """What a gradient far from ``exact`` (error 1e-3 or more) most likely got wrong."""
    if calls < 2 * n:
        return (
            f"f was called {calls} times for {n} entries: nudge one entry at a time, the others "
            "held still, once up and once down"
        )
    if np.allclose(grad, exact * eps**2, rtol=1e-3, atol=0):
        return (
            f"your slopes are eps² times the true ones (eps = {eps:g}): the change of f was "
            "divided by 2 and then multiplied by eps, instead of divided by the whole distance "
            "between the two points (Python reads a / b * c as (a / b) * c)"
        )
    return (
        "your gradient is not close to the true one: for each entry compare f with that "
        "entry raised by eps and lowered by eps"
    )
