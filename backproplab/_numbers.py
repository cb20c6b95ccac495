"""``is_real``: the check "is this a real number?", in a form type checkers understand."""

from __future__ import annotations

import numbers
from typing import TypeGuard


def is_real(value: object) -> TypeGuard[float]:
    """``isinstance(value, numbers.Real)``: True for int, float, bool and numpy's integer and
    floating scalars. A type checker learns from it that ``value`` is a float: typeshed's
    ``numbers.Real`` declares no comparisons, and mypy does not count float as a Real, so the
    plain ``isinstance`` would hide the code after it from the checker."""
    return isinstance(value, numbers.Real)
