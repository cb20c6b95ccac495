"""Tensor: a numpy array that remembers how it was made.

A Tensor holds ``data`` (a numpy array; a scalar is a 0-d array), ``grad`` (filled in by
``backward``), and -- when it was computed by an op and gradients are wanted -- the ``op`` and the
``inputs`` that made it, plus the op's keyword ``settings`` and ``saved``, what the op's vjp will
get as ``out`` (the output itself, or the value a row kept for it). That is the whole graph: each
node points at its inputs, never at its outputs, so the graph has no reference cycles and is
freed the moment the last name for the loss goes away.

``apply(op, *inputs)`` runs a row of the op table (``ops.py``) on tensors and builds the node.
The operators (``+``, ``-``, ``*``, ``/``, ``**``, ``@``, unary ``-``, indexing) and methods
(``sum``, ``exp``, ``relu``, ...) only call it.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import autodiff, ops
from ._arrays import _asarray, _floats
from ._numpy_interop import NumpyInterop, _needs_grad_inside, _plain
from .autodiff import MODE
from .ops import Op

ArrayLike = Any  # numbers, nested lists, numpy arrays, Tensors
_seq = itertools.count()  # numbers every tensor as it is made: 0, 1, 2, ... (see toposort)


class Tensor(NumpyInterop):  # numpy's hooks (np.array(t), np.exp(t) ...): _numpy_interop.py
    """An n-dimensional array with reverse-mode automatic differentiation.

    >>> x = Tensor(2.0, requires_grad=True, name="x")
    >>> L = (x + 1) * x
    >>> L.backward(); x.grad          # d/dx (x^2 + x) = 2x + 1
    array(5.)

    Values are float64 unless you pass float32 data or ``dtype``; integers and booleans are
    converted to floating point (gradients need it). A tensor that requires grad gets a copy of
    ``data`` (as ``torch.tensor`` does), so its updates never reach your array. Any other tensor
    shares a float array it is given (as ``torch.from_numpy`` does; data batches are not copied):
    refill that array before ``backward()`` and the gradients read the new values. The updates
    the package makes to ``data`` (optimizer steps, in place; ``load_state_dict``, which gives it
    a new array) call ``mark_modified``, so that ``backward`` can refuse a graph that used the old
    values, and so does ``p -= lr * p.grad`` on a tensor that requires grad inside ``no_grad()``
    (PyTorch's update idiom: ``+=``, ``-=``, ``*=``, ``/=``, ``**=`` work so). Writing into
    ``data`` yourself (``t.data[...] = ...``, ``t.data -= ...``) is not noticed, as in PyTorch.
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "op", "inputs", "settings", "saved",
                 "seq", "modified", "__weakref__")  # fmt: skip
    data: np.ndarray
    grad: np.ndarray | None  # d(root)/d(this tensor), filled in by backward
    op: Op | None  # the row of ops.py that computed this tensor (None: a leaf)
    inputs: tuple[Tensor, ...]  # the tensors it was computed from, in order
    settings: dict  # the row's keyword settings (axis, p, labels, ...)
    saved: Any  # what the row's vjp gets as `out`: the output, or what the row kept
    modified: int  # when data was last changed in place: a number from the seq counter, or 0
    seq: int  # larger than the number of every tensor made before (see toposort)

    def __init__(
        self,
        data: ArrayLike,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        if not isinstance(requires_grad, (bool, np.bool_)):  # Tensor(X, np.float32): a dtype
            raise TypeError(_not_a_flag(type(self).__name__, requires_grad))  # read as True
        if isinstance(data, (Tensor, list, tuple)) and _needs_grad_inside(data):
            if MODE.grad_enabled:  # the new tensor would have no graph
                raise TypeError(
                    "Tensor: cannot make a tensor from a tensor that requires grad, or a list of "
                    "them (its gradient would stop here); use the tensor itself (bl.stack for a "
                    "list), or t.detach() for a constant copy"
                )
        array = np.array(data.data) if isinstance(data, Tensor) else _asarray(data)  # a copy
        if array.dtype.kind != "f" or dtype is not None:  # gradients need floating point
            array = _floats(data, array, dtype)
        if requires_grad:  # a copy of its own: an update in place (an optimizer step) must
            array = array.copy()  # not reach the caller's array, nor another tensor's
        self.data, self.grad, self.requires_grad, self.name = array, None, bool(requires_grad), name
        self.op, self.inputs, self.settings, self.saved = None, (), {}, None  # a leaf; see apply
        self.modified, self.seq = 0, next(_seq)

    @classmethod
    def _node(cls, data: Any, op: Op, inputs: tuple, settings: dict, saved: Any) -> Tensor:
        """The output of the row ``op`` on ``inputs``: a node of the graph (``apply`` makes it)."""
        array = np.asarray(data)  # (numpy hands back a scalar for 0-d arrays)
        if array.dtype.kind != "f":  # a row of your own may return integers: floats, as Tensor()
            array = _floats(data, array, None)
        out = object.__new__(cls)  # __init__'s work is done: data is a float array
        out.data, out.grad, out.requires_grad, out.name = array, None, True, None
        out.op, out.inputs, out.settings, out.saved = op, inputs, settings, saved
        out.modified, out.seq = 0, next(_seq)
        return out

    # ------------------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes (0 for a scalar)."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of ``data``."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors you created; False for outputs of ops that are part of a graph."""
        return self.op is None

    @property
    def T(self) -> Tensor:
        """The transpose (all axes reversed)."""
        return self.transpose()

    # ----------------------------------------------------------------------------- conversions
    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor has an item, not shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying numpy array (shared, not copied)."""
        return self.data

    def detach(self) -> Tensor:
        """The same values, cut from the graph: no gradient flows through the result.

        The values are copied, so a later update of this tensor in place (an optimizer step)
        does not change them. (PyTorch shares the memory and refuses such a graph instead.)"""
        return Tensor(self.data.copy(), name=self.name)

    def astype(self, dtype: Any) -> Tensor:
        """A copy in another floating dtype (a new leaf); an integer dtype is refused, as by
        ``Tensor(data, dtype=...)``, and so is the output of an op while a graph is recorded."""
        if self.op is not None and MODE.grad_enabled:  # the new leaf would end the gradient
            raise TypeError(
                f"astype: this tensor is the output of '{self.op.name}' in a graph, and its copy "
                f"would be a new leaf: the gradient would stop there; give the leaves the dtype "
                f"(bl.Tensor(X, dtype=np.float32), the parameters), or t.detach().astype(...)"
            )
        return Tensor(self.data.copy(), self.requires_grad, self.name, dtype=dtype)

    def __float__(self) -> float:
        return float(self._number("float()"))

    def __int__(self) -> int:  # truncated, as int(2.7) is (and as in PyTorch)
        return int(self._number("int()"))

    def _number(self, caller: str) -> float:
        if self.data.size != 1:
            raise TypeError(
                f"{caller}: only a one-element tensor is a number, not shape {self.shape}"
            )
        return self.data.item()

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"``: a one-element tensor formats as its number (PyTorch formats a 0-d
        tensor so, and refuses a format spec for one of shape (1,))."""
        if spec and self.data.size != 1:
            raise TypeError(
                f"format: only a one-element tensor formats as a number (':{spec}'), not shape "
                f"{self.shape}; format its values (t.data) or one of them (t[0].item())"
            )
        return format(self.item(), spec) if spec else str(self)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous (one per "
                f"element): test one element, or reduce the tensor first (.max(), .sum())"
            )
        return bool(self.item())

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    # ------------------------------------------------------------------------------- autodiff
    backward = autodiff.backward  # L.backward() is autodiff.backward(L): no code in between

    def mark_modified(self) -> None:
        """Record that ``data`` was just changed (in place, or replaced): a graph made before now
        used the old values, so ``backward`` through it raises. The optimizers and
        ``load_state_dict`` call this; write ``t.data`` yourself and nothing is recorded."""
        self.modified = next(_seq)  # larger than the number of every tensor made before now

    def zero_grad(self) -> None:
        """Forget the gradient (sets ``grad`` to None)."""
        self.grad = None

    # ------------------------------------------------------------------------------- operators
    def __add__(self, other: ArrayLike) -> Tensor:
        return apply(ops.add, self, other)

    def __radd__(self, other: ArrayLike) -> Tensor:
        return apply(ops.add, other, self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return apply(ops.sub, self, other)

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return apply(ops.sub, other, self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return apply(ops.mul, self, other)

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return apply(ops.mul, other, self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return apply(ops.div, self, other)

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return apply(ops.div, other, self)

    def __pow__(self, other: ArrayLike) -> Tensor:
        if isinstance(other, (int, float, np.integer, np.floating)):  # x ** 2; int(): keeps float32
            return apply(ops.power, self, p=int(other) if isinstance(other, np.integer) else other)
        return apply(ops.pow, self, other)  # a tensor exponent gets a gradient too

    def __rpow__(self, other: ArrayLike) -> Tensor:
        return apply(ops.pow, other, self)

    def __iadd__(self, other: ArrayLike) -> Tensor:
        return self._update(np.add, "+=", other)

    def __isub__(self, other: ArrayLike) -> Tensor:
        return self._update(np.subtract, "-=", other)

    def __imul__(self, other: ArrayLike) -> Tensor:
        return self._update(np.multiply, "*=", other)

    def __itruediv__(self, other: ArrayLike) -> Tensor:
        return self._update(np.divide, "/=", other)

    def __ipow__(self, other: ArrayLike) -> Tensor:
        return self._update(np.power, "**=", other)

    def _update(self, ufunc: np.ufunc, symbol: str, other: ArrayLike) -> Tensor:
        """``x -= y`` on a leaf that requires grad (a parameter), inside ``no_grad()``: x changes
        in place, and ``mark_modified`` records it (``with bl.no_grad(): p -= lr * p.grad``, as
        in PyTorch). Outside ``no_grad()`` it is refused, as in PyTorch. On any other tensor it
        is ``x = x - y``: a new tensor, x itself unchanged."""
        if self.op is not None or not self.requires_grad:
            return NotImplemented  # Python then makes a new tensor: x = x - y
        if MODE.grad_enabled:
            raise RuntimeError(
                f"x {symbol} ...: x is a tensor that requires grad, and an update in place would "
                f"not be part of any graph; update it inside `with bl.no_grad():` (or with an "
                f"optimizer), or write x = x {symbol[:-1]} ... for a new tensor"
            )
        if other is None:  # e.g. p -= lr * p.grad before any backward(): p.grad is None
            raise TypeError(f"x {symbol} None: there is nothing to update x with (a gradient "
                            f"that is still None? run backward() first)")  # fmt: skip
        value = as_array(other)
        try:
            ufunc(self.data, value, out=self.data, casting="same_kind")
        except (ValueError, TypeError):
            raise ops.ShapeError(
                f"{symbol}: cannot update a tensor of shape {self.shape} and dtype {self.dtype} "
                f"in place with shape {value.shape} and dtype {value.dtype}"
            ) from None
        self.mark_modified()  # a graph that used the old values can no longer backpropagate
        return self

    def __neg__(self) -> Tensor:
        return apply(ops.neg, self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return apply(ops.matmul, self, other)

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return apply(ops.matmul, other, self)

    def __getitem__(self, index: Any) -> Tensor:
        return apply(ops.getitem, self, index=_plain_index(index))

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            "t[...] = ...: a tensor is not changed entry by entry (its graph would not see it); "
            "make a new one (bl.where(mask, value, t), bl.stack), or write into its array "
            "outside any graph: t.data[...] = ..."
        )

    # comparisons give plain boolean arrays: they have no gradient
    def __lt__(self, other: ArrayLike) -> np.ndarray:
        return _compare(operator.lt, "<", self, other)

    def __le__(self, other: ArrayLike) -> np.ndarray:
        return _compare(operator.le, "<=", self, other)

    def __gt__(self, other: ArrayLike) -> np.ndarray:
        return _compare(operator.gt, ">", self, other)

    def __ge__(self, other: ArrayLike) -> np.ndarray:
        return _compare(operator.ge, ">=", self, other)

    def __eq__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return _compare(operator.eq, "==", self, other)

    def __ne__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return _compare(operator.ne, "!=", self, other)

    __hash__ = object.__hash__  # tensors are hashed by identity, like PyTorch's

    # --------------------------------------------------------------------------------- methods
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default)."""
        return apply(ops.sum, self, axis=_axis(axis), keepdims=_keepdims(keepdims))

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default)."""
        return apply(ops.mean, self, axis=_axis(axis), keepdims=_keepdims(keepdims))

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; ties share the gradient equally (as ``torch.amax``)."""
        return apply(ops.max, self, axis=_axis(axis), keepdims=_keepdims(keepdims))

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same values in a new shape: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(ops.reshape, self, shape=shape)

    def transpose(self, *axes: int) -> Tensor:
        """Permute the axes (reverse them when none are given)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return apply(ops.transpose, self, axes=axes or None)

    def exp(self) -> Tensor:
        """e to the power of each element."""
        return apply(ops.exp, self)

    def log(self) -> Tensor:
        """Natural logarithm of each element."""
        return apply(ops.log, self)

    def sqrt(self) -> Tensor:
        """Square root of each element."""
        return apply(ops.sqrt, self)

    def abs(self) -> Tensor:
        """Absolute value of each element."""
        return apply(ops.abs, self)

    __abs__ = abs  # abs(x) is x.abs()

    def relu(self) -> Tensor:
        """max(x, 0) for each element."""
        return apply(ops.relu, self)

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        """x where x > 0, else slope * x."""
        ops.check_slope("leaky_relu", slope)
        return apply(ops.leaky_relu, self, slope=slope)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e^-x) for each element, computed without overflow."""
        return apply(ops.sigmoid, self)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent of each element."""
        return apply(ops.tanh, self)

    # --------------------------------------------------------------------------------- display
    def __repr__(self) -> str:
        body = np.array2string(self.data, prefix="Tensor(", separator=", ", precision=4)
        if self.ndim == 0:  # 6 significant digits; "2." as numpy prints it: a float, not an int
            body = f"{self.data.item():.6g}"
            body += "." if body.lstrip("-").isdigit() else ""
        extras = []
        if self.name:
            extras.append(f"name={self.name!r}")
        if self.op is not None:
            extras.append(f"op={self.op.name!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.dtype != np.float64:
            extras.append(f"dtype={self.dtype}")
        return "Tensor(" + ", ".join([body, *extras]) + ")"


def tensor(data: ArrayLike, requires_grad: bool = False, name: str | None = None,
           dtype: Any = None) -> Tensor:  # fmt: skip
    """Create a Tensor (the same as ``Tensor(...)``, spelled like ``torch.tensor``)."""
    return Tensor(data, requires_grad=requires_grad, name=name, dtype=dtype)


def _not_a_flag(owner: str, requires_grad: object) -> str:
    """Why ``requires_grad`` is refused: the second argument is not the dtype, nor the name."""
    given = getattr(requires_grad, "__name__", None) or repr(requires_grad)[:40]
    return (
        f"{owner}: requires_grad must be True or False, got {given}; the dtype and the name are "
        f"keywords: {owner}(data, dtype=np.float32), {owner}(data, name='x')"
    )


def as_array(x: ArrayLike) -> np.ndarray:
    """The numpy array behind a Tensor, or ``x`` (number, list, array) as a numpy array (not
    ``getattr(x, "data", x)``: a numpy array's own ``.data`` is a raw memory buffer)."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _compare(test: Any, symbol: str, x: Tensor, other: object) -> np.ndarray:
    """``x.data < other`` (or another comparison), with one line when numpy cannot compare."""
    try:
        return test(x.data, _plain(other))
    except (ValueError, TypeError) as error:  # shapes that do not broadcast; None, text...
        what = f"of shape {other.shape}" if hasattr(other, "shape") else repr(other)[:40]
        kind = ops.ShapeError if isinstance(error, ValueError) else TypeError
        raise kind(
            f"{symbol}: cannot compare a tensor of shape {x.shape} with {type(other).__name__} "
            f"{what}"
        ) from None


def _plain_index(index: Any) -> Any:
    """The index with tensors replaced by their arrays, and arrays copied: the backward reads
    the index again, after the caller may have refilled it."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    index = _plain(index)
    return index.copy() if isinstance(index, np.ndarray) else index


def _axis(axis: Any) -> Any:
    """A list of axes as a tuple: numpy's reductions take an int, a tuple or None."""
    return tuple(axis) if isinstance(axis, list) else axis


def _keepdims(keepdims: Any) -> Any:
    """numpy's True and False (``np.bool_``, what ``a == b`` of numpy numbers gives) as Python's:
    numpy's reductions refuse them as keepdims ("cannot be interpreted as an integer")."""
    return bool(keepdims) if isinstance(keepdims, np.bool_) else keepdims


def apply(op: Op, *inputs: ArrayLike, **settings: Any) -> Tensor:
    """Run the row ``op`` on ``inputs`` (numbers and arrays become constants) and, when a
    gradient can flow back, record the op and its inputs on the result: the graph is built here.

    >>> cube = Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x**2,))
    >>> x = Tensor(2.0, requires_grad=True)
    >>> y = apply(cube, x); y.backward(); x.grad
    array(12.)
    """
    for x in inputs:
        if not isinstance(x, Tensor):
            inputs = _with_constants(inputs)
            break
    data, saved = op.run([x.data for x in inputs], settings)
    if MODE.anomaly:
        autodiff.check_forward(op.name, data, [x.data for x in inputs])
    for x in inputs:
        if x.requires_grad and MODE.grad_enabled:  # a gradient can flow back: record the node
            return Tensor._node(data, op, inputs, settings, saved)
    return Tensor(data)


def _with_constants(inputs: tuple) -> tuple[Tensor, ...]:
    """The inputs with numbers and arrays made constant tensors: a Python number takes the dtype
    of the tensors it meets (numpy's NEP 50 rule), and so does an integer array (our rule: numpy
    makes float32 + int64 float64); a float array keeps its own. Arrays are copied: the backward
    pass reads a constant's values after the caller may have refilled its array (a data buffer,
    with the next batch)."""
    like = next((t.dtype for t in inputs if isinstance(t, Tensor)), None)
    return tuple([x if isinstance(x, Tensor) else _constant(x, like) for x in inputs])


def _constant(x: ArrayLike, like: np.dtype | None) -> Tensor:
    weak = type(x) in (bool, int, float) or _asarray(x).dtype.kind in "iub"
    if isinstance(x, np.ndarray) and not weak:  # a float array, which Tensor() would share
        x = x.copy()  # (a weak one becomes a new array of dtype `like` anyway)
    return Tensor(x, dtype=like if weak else None)
