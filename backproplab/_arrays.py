"""Turning what a learner passes to ``Tensor`` into a numpy array of floats, with a one-line
error for data that are not real numbers or not a rectangular array (numpy's own messages for
these run to several lines and never say "Tensor")."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def _asarray(data: ArrayLike) -> np.ndarray:
    """``np.asarray(data)``, with one line for nested lists whose rows differ in length."""
    try:
        return np.asarray(data)
    except ValueError:  # numpy: "setting an array element with a sequence. The requested..."
        raise TypeError(
            "Tensor: cannot make a tensor from nested lists whose rows differ in length (or "
            "hold lists beside numbers); every row of a tensor has the same shape"
        ) from None


def _floats(data: object, array: np.ndarray, dtype: Any) -> np.ndarray:
    """``array`` in ``dtype`` (float64 for integers and booleans), or a TypeError for data that
    are not real numbers (None, strings, complex numbers, Python objects)."""
    numbers = not isinstance(data, np.ndarray)  # an object array stays refused, as in PyTorch
    if numbers and array.dtype.kind == "O" and all(type(v) is int for v in array.flat):
        try:  # Python integers beyond 64 bits, e.g. 10**30
            array = np.array(array, dtype=np.float64)
        except OverflowError:
            raise ValueError("Tensor: an integer is too large for a float (over 1.8e308)") from None
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"Tensor: cannot make a tensor from {type(data).__name__} data of dtype "
            f"{array.dtype}; pass real numbers, nested lists of them or a numeric numpy array"
        )
    result = array.astype(dtype or np.float64, copy=False)
    if result.dtype.kind != "f":
        raise TypeError(
            f"Tensor: dtype {result.dtype} is not a floating-point dtype; gradients need float32 "
            f"or float64"
        )
    return result


def rounded(b: np.ndarray, *arrays: np.ndarray) -> bool:
    """Whether the float array ``b`` would be rounded when added in place into the product of
    ``arrays`` (a float64 bias into a float32 output, which unfused would be float64). Integer
    arrays are not: ``apply`` gives them the tensors' dtype."""
    return b.dtype.kind == "f" and not np.can_cast(b.dtype, np.result_type(*arrays), "safe")
