"""What numpy does with a tensor. numpy asks an object it is given through three hooks, and a
``Tensor`` answers them here, so that ``tensor.py`` holds the graph and nothing else:

* ``__array__``: ``np.array(t)``, matplotlib (through ``to_numpy``), a list of tensors given
  to a numpy function (``np.mean([l1, l2])``): a copy of the values. ``np.asarray(t)`` (numpy's
  "copy only if needed") gives the tensor's own array: a write into it is not noticed, as one
  into ``t.data`` is not.
* ``__array_ufunc__``: ``np.exp(t)``, ``np.isnan(t)``, and ``array * t`` (which becomes the
  tensor's own ``t.__rmul__(array)``, in the graph).
* ``__array_function__``: every other numpy function, ``np.stack``, ``np.dot``, ``np.sum`` ...

What comes back is a plain array, outside any graph. Where that would drop a gradient without a
word, the hooks refuse, each with one line saying what to write instead: a ufunc or function on a
tensor that requires grad (unless what it returns has no gradient: ``np.isnan``, ``np.argmax``,
``np.shape``), and a copy of the output of an op, while a graph is being recorded. Inside
``no_grad()``, or on tensors that need no gradient, they all run on the values.

(No ``__getattr__`` here to point ``t.argmax()`` at ``t.data.argmax()``: a class that defines one
makes every attribute read of every tensor slower, 3 % of a training step of the deep net in
``benchmarks/train_step.py``.)
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


_NO_VALUES = {"zeros_like", "ones_like", "empty_like", "full_like"}  # the shape, not the values


class NumpyInterop:
    """numpy's hooks, mixed into ``Tensor`` (which holds ``data``, ``requires_grad``, ``op``)."""

    __slots__ = ()
    data: np.ndarray
    requires_grad: bool
    op: Any

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """The values: a copy for ``np.array(t)`` (a snapshot), the tensor's own array for
        ``np.asarray(t)``, which asks for no copy. Refused for the output of an op while a graph
        is being recorded: in ``l0 + np.mean([l1, l2])`` the mean would be a constant, and l1 and
        l2 would get no gradient."""
        if self.op is not None and MODE.grad_enabled:
            raise TypeError(
                f"np.array(): this tensor is the output of '{self.op.name}' in a graph; as a "
                f"plain array it would leave the graph and its gradient would be lost; use t.data "
                f"for its values (t.item() for a number: losses.append(loss.item()))"
            )
        return np.array(self.data, dtype=dtype, copy=copy)

    def to_numpy(self) -> np.ndarray:
        """A copy of the values, as ``np.array(t)`` gives (and refused as it is). matplotlib asks
        for it by this name (pandas' name), so ``plt.plot(w)`` and ``plt.hist(w)`` plot ``w``."""
        return self.__array__(copy=True)  # (copy=None would hand over the tensor's own array)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """numpy functions that are not ufuncs (``np.dot``, ``np.stack``, ``np.linalg.norm``...)
        run on the values and return plain arrays. Where that result holds numbers computed from
        a tensor that requires grad, its graph would be dropped without a word, so it is refused;
        results with no gradient (indices, counts, shapes, True/False: ``np.argmax``,
        ``np.allclose``, ``np.shape``) and ``np.zeros_like(t)`` and the like are returned."""
        result = func._implementation(*_values(args), **kwargs)  # np.sum(x): x.data
        if (MODE.grad_enabled and func.__name__ not in _NO_VALUES and _has_floats(result)
                and _needs_grad_inside((args, kwargs))):  # fmt: skip
            raise TypeError(
                f"np.{func.__name__} would turn a tensor that requires grad into a plain array "
                f"and its gradient would be lost; use the package's op (bl.stack, @, .sum() ...) "
                f"or, for its values only, t.data"
            )
        return result

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


def _has_floats(result: object) -> bool:
    """Whether a numpy function's result holds floating-point numbers (through which a gradient
    could have flowed), not only indices, counts, shapes or True/False."""
    if isinstance(result, (list, tuple)):  # np.shape(x), np.nonzero(x), np.histogram(x)
        return any(_has_floats(item) for item in result)
    return np.asarray(result).dtype.kind in "fc"


def _needs_grad_inside(obj: object) -> bool:
    """Whether ``obj`` is, or holds in lists, tuples or dicts, a tensor that requires grad."""
    if isinstance(obj, NumpyInterop):
        return obj.requires_grad
    if isinstance(obj, (list, tuple)):
        return any(_needs_grad_inside(item) for item in obj)
    if isinstance(obj, dict):
        return any(_needs_grad_inside(item) for item in obj.values())
    return False


def _values(obj: Any) -> Any:
    """``obj`` with every tensor in it, also in lists and tuples (``np.stack([x, y])``), replaced
    by its array."""
    if isinstance(obj, (list, tuple)):
        return type(obj)(_values(item) for item in obj)
    return _plain(obj)


def _plain(x: object) -> object:
    """A tensor's array (``x.data``); anything else as it is."""
    return x.data if isinstance(x, NumpyInterop) else x
