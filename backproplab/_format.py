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
        return _number(a.item(), digits)
    if a.size <= 4:
        return "[" + ", ".join(_number(v, 3) for v in a.ravel()) + "]"
    return f"{a.shape} |{np.linalg.norm(a):.3g}|"


def _number(v: float, digits: int) -> str:
    """``v`` to ``digits`` significant digits, but never rounded to a whole number it is not:
    tanh(-6) = -0.9999877 reads as -1 at 4 digits, and a learner then checks 1 - out^2 against
    a gradient that is not 0. Such a number gets as many digits as it takes (up to 8)."""
    text = f"{v + 0.0:.{digits}g}"  # + 0.0: -0.0 shows as 0
    while text.lstrip("-").isdigit() and float(text) != v and digits < 8:  # (complex: no digits)
        digits += 1
        text = f"{v + 0.0:.{digits}g}"
    return text
