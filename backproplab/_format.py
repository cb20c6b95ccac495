"""How a value or a gradient is written in one short line. The graph drawings, the backward
step-through and the sympy verdict all write numbers this way."""

from __future__ import annotations

import numpy as np


def format_array(a: np.ndarray | None, digits: int = 4) -> str:
    """A short text for a value or gradient: the number for a scalar, the entries of a tiny
    array, otherwise the shape (and the norm, which says how big it is)."""
    if a is None:
        return "?"
    a = np.asarray(a)
    if a.size == 1:
        return f"{a.item() + 0.0:.{digits}g}"  # + 0.0: -0.0 shows as 0
    if a.size <= 4:
        return "[" + ", ".join(f"{v + 0.0:.3g}" for v in a.ravel()) + "]"
    return f"{a.shape} |{np.linalg.norm(a):.3g}|"
