"""What numpy does with a tensor. numpy asks an object it is given through three hooks, and a
``Tensor`` answers them here, so that ``tensor.py`` holds the graph and nothing else:

* ``__array__``: ``np.array(t)``, ``np.asarray(t)``, matplotlib, a list of tensors given to a
  numpy function (``np.mean([l1, l2])``): a copy of the values.
* ``__array_ufunc__``: ``np.exp(t)``, ``np.isnan(t)``, and ``array * t`` (which becomes the
  tensor's own ``t.__rmul__(array)``, in the graph).
* ``__array_function__``: every other numpy function, ``np.stack``, ``np.dot``, ``np.sum`` ...

What comes back is a plain array, outside any graph. Where that would drop a gradient without a
word, the hooks refuse, each with one line saying what to write instead: a ufunc or function on a
tensor that requires grad, and a copy of the output of an op, while a graph is being recorded.
Inside ``no_grad()``, or on tensors that need no gradient, they all run on the values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autodiff import MODE

_REFLECTED = {  # numpy's operator with a tensor on the right: array * x is x.__rmul__(array)
    "add": "__radd__", "subtract": "__rsub__", "multiply": "__rmul__", "divide": "__rtruediv__",
    "power": "__rpow__", "matmul": "__rmatmul__", "less": "__gt__", "less_equal": "__ge__",
    "greater": "__lt__", "greater_equal": "__le__", "equal": "__eq__", "not_equal": "__ne__",
}  # fmt: skip


class NumpyInterop:
    """numpy's hooks, mixed into ``Tensor`` (which holds ``data``, ``requires_grad``, ``op``)."""

    __slots__ = ()
    data: np.ndarray
    requires_grad: bool
    op: Any

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """A copy of the values (``np.array(t)`` is a snapshot). Refused for the output of an op
        while a graph is being recorded: in ``l0 + np.mean([l1, l2])`` the mean would be a
        constant, and l1 and l2 would get no gradient."""
        if self.op is not None and MODE.grad_enabled:
            raise TypeError(
                f"np.array(): this tensor is the output of '{self.op.name}' in a graph; as a "
                f"plain array it would leave the graph and its gradient would be lost; use t.data "
                f"for its values (t.item() for a number: losses.append(loss.item()))"
            )
        return np.array(self.data, dtype=dtype, copy=copy)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """numpy functions that are not ufuncs (``np.dot``, ``np.stack``, ``np.linalg.norm``...)
        return plain arrays: on a tensor that requires grad they would drop its graph without a
        word, so they are refused; on other tensors they run on the values."""
        if MODE.grad_enabled and _needs_grad_inside((args, kwargs)):
            raise TypeError(
                f"np.{func.__name__} would turn a tensor that requires grad into a plain array "
                f"and its gradient would be lost; use the package's op (bl.stack, @, .sum() ...) "
                f"or, for its values only, t.data"
            )
        return func._implementation(*[_plain(a) for a in args], **kwargs)  # np.sum(x): x.data

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``array * x`` is numpy's ``np.multiply(array, x)``: it becomes the tensor's own operator
        (``x.__rmul__(array)``), in the graph. Other ufuncs (``np.exp(x)``, ``array += x``) return
        plain arrays: refused on a tensor that requires grad, run on the values otherwise (and
        always for tests such as ``np.isnan(x)``, which have no gradient, like comparisons)."""
        reflected = _REFLECTED.get(ufunc.__name__)
        if reflected and method == "__call__" and not kwargs and inputs[-1] is self:
            return getattr(self, reflected)(inputs[0])  # array + x: x.__radd__(array)
        into_tensor = any(isinstance(a, NumpyInterop) for a in kwargs.get("out", ()))
        true_or_false = {loop[-1] for loop in ufunc.types} <= {"?", "O"}  # np.isnan, np.isfinite
        if into_tensor or MODE.grad_enabled and not true_or_false and _needs_grad_inside(inputs):
            raise TypeError(
                f"np.{ufunc.__name__} on a tensor that requires grad (or into one, out=) works "
                f"around the graph: the gradient would be lost; use the package's op (x.exp(), "
                f"bl.maximum(x, 0), array + x ...) or, for the values only, x.data"
            )
        return getattr(ufunc, method)(*[_plain(a) for a in inputs], **kwargs)


def _needs_grad_inside(obj: object) -> bool:
    """Whether ``obj`` is, or holds in lists, tuples or dicts, a tensor that requires grad."""
    if isinstance(obj, NumpyInterop):
        return obj.requires_grad
    if isinstance(obj, (list, tuple)):
        return any(_needs_grad_inside(item) for item in obj)
    if isinstance(obj, dict):
        return any(_needs_grad_inside(item) for item in obj.values())
    return False


def _plain(x: object) -> object:
    """A tensor's array (``x.data``); anything else as it is."""
    return x.data if isinstance(x, NumpyInterop) else x
