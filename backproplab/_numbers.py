"""``is_real``: the check "is this a real number?", in a form type checkers understand;
``count``, the check of a size or a number of steps, with its one-line error; and ``seeded``, a
Generator from a seed, with its one-line error."""

from __future__ import annotations

import numbers
from typing import TypeGuard

import numpy as np


def is_real(value: object) -> TypeGuard[float]:
    """``isinstance(value, numbers.Real)``: True for int, float, bool and numpy's integer and
    floating scalars. A type checker learns from it that ``value`` is a float: typeshed's
    ``numbers.Real`` declares no comparisons, and mypy does not count float as a Real, so the
    plain ``isinstance`` would hide the code after it from the checker."""
    return isinstance(value, numbers.Real)


def count(caller: str, what: str, value: object, smallest: int) -> int:
    """``value`` if it is a whole number >= smallest, else a one-line error naming it (True is
    not a count, nor is 3.0: ``64 / 2`` is a float)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{caller}: {what} must be a whole number, got {value!r}")
    if value < smallest:
        raise ValueError(f"{caller}: {what} must be >= {smallest}, got {value}")
    return int(value)


def seeded(rng: object, caller: str) -> np.random.Generator:
    """``rng`` if it is a Generator, else a Generator seeded with it; a value that is no seed
    gets a one-line error naming ``caller`` (numpy's names neither the caller nor the argument)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)):  # numpy would take True as seed 1, the same each run
        raise TypeError(
            f"{caller}: rng={rng!r} is no seed; pass a seed (a whole number >= 0) or a numpy "
            f"Generator (np.random.default_rng() draws a new one each run)"
        )
    try:
        return np.random.default_rng(rng)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # numpy: "SeedSequence expects int or sequence of ints..."
        raise TypeError(
            f"{caller}: rng must be a numpy Generator or a seed (a whole number >= 0), got {rng!r}"
        ) from None
