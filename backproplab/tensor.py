"""Tensor: a numpy array that remembers how it was made.

A Tensor holds ``data`` (a numpy array; a scalar is a 0-d array), ``grad`` (filled in by
``backward``), and -- when it was computed by an op and gradients are wanted -- the ``op`` and the
``inputs`` that made it, plus the op's keyword ``settings`` (and, for the few rows that keep one,
a value ``saved`` by the forward for the backward). That is the whole computational graph:
each node points at its inputs, never at its outputs, so the graph has no reference cycles and
is freed the moment the last name for the loss goes away.

The operators (+, -, *, /, **, @, unary -, indexing) and methods (sum, exp, relu, ...) only call
rows of the op table in ``ops.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import autodiff

ArrayLike = Any  # numbers, nested lists, numpy arrays, Tensors
_CREATION_ORDER = itertools.count()  # numbers every tensor as it is made: 0, 1, 2, ...


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    >>> x = Tensor(2.0, requires_grad=True, name="x")
    >>> L = (x + 1) * x
    >>> L.backward(); x.grad          # d/dx (x^2 + x) = 2x + 1
    array(5.)

    Values are float64 unless you pass float32 data or ``dtype``; integers and Python numbers
    are converted to floating point (gradients need it).
    """

    __slots__ = (
        "data", "grad", "requires_grad", "name", "op", "inputs", "settings", "saved", "seq",
        "order", "__weakref__",
    )  # fmt: skip
    __array_ufunc__ = None  # numpy defers to us: ndarray + Tensor calls Tensor.__radd__

    def __init__(
        self,
        data: ArrayLike,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        array = np.asarray(data, dtype=dtype)
        if array.dtype.kind != "f":  # ints, bools, Python numbers: gradients need floats
            array = array.astype(np.float64)
        self.data: np.ndarray = array
        self.grad: np.ndarray | None = None
        self.requires_grad: bool = bool(requires_grad)
        self.name: str | None = name
        self.op = None  # the ops.Op that computed this tensor (None for a leaf)
        self.inputs: tuple[Tensor, ...] = ()
        self.settings: dict = {}
        self.saved: Any = None  # what a row's forward kept for its vjp (see ops.Op), if anything
        self.seq: int = next(_CREATION_ORDER)  # larger than the number of any tensor made before
        self.order: list[Tensor] | None = None  # see _node

    @classmethod
    def _node(
        cls,
        data: np.ndarray,
        op: Any,
        inputs: tuple,
        settings: dict,
        saved: Any,
        requires_grad: bool,
    ) -> Tensor:
        """An op's output (skips __init__'s conversions: ops already return arrays)."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = requires_grad
        t.name = None
        t.op = op
        t.inputs = inputs
        t.settings = settings
        t.saved = saved
        t.seq = next(_CREATION_ORDER)  # larger than its inputs': they were made before it
        t.order = None  # the topological order, kept only by a graph that is replayed (tape.py)
        return t

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
        """The same values, cut from the graph: no gradient flows through the result."""
        return Tensor(self.data, name=self.name)

    def astype(self, dtype: Any) -> Tensor:
        """A copy in another floating dtype (a new leaf)."""
        return Tensor(self.data.astype(dtype), requires_grad=self.requires_grad, name=self.name)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    # ------------------------------------------------------------------------------- autodiff
    def backward(
        self, grad: ArrayLike = None, *, accumulate: bool = False, retain_grads: bool = True
    ) -> None:
        """Compute d(self)/d(t) for every tensor t this one depends on, into ``t.grad``.

        ``grad`` is the upstream gradient, needed when ``self`` is not a scalar. Leaves add
        to the gradient they hold; ``accumulate=True`` silences the warning about it.
        ``retain_grads=False`` frees the intermediate nodes' gradients once used (only the
        leaves keep theirs), as a training step wants.
        """
        autodiff.backward(self, grad, accumulate=accumulate, retain_grads=retain_grads)

    def zero_grad(self) -> None:
        """Forget the gradient (sets ``grad`` to None)."""
        self.grad = None

    # ------------------------------------------------------------------------------- operators
    def __add__(self, other: ArrayLike) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: ArrayLike) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return ops.div(other, self)

    def __pow__(self, other: ArrayLike) -> Tensor:
        if isinstance(other, (int, float)):  # a fixed exponent: x ** 2
            return ops.power(self, p=other)
        return ops.pow(self, other)  # a tensor exponent gets a gradient too

    def __rpow__(self, other: ArrayLike) -> Tensor:
        return ops.pow(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return ops.matmul(other, self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index=_plain_index(index))

    # comparisons give plain boolean arrays: they have no gradient
    def __lt__(self, other: ArrayLike) -> np.ndarray:
        return self.data < _plain(other)

    def __le__(self, other: ArrayLike) -> np.ndarray:
        return self.data <= _plain(other)

    def __gt__(self, other: ArrayLike) -> np.ndarray:
        return self.data > _plain(other)

    def __ge__(self, other: ArrayLike) -> np.ndarray:
        return self.data >= _plain(other)

    def __eq__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return self.data == _plain(other)

    def __ne__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return self.data != _plain(other)

    __hash__ = object.__hash__  # tensors are hashed by identity, like PyTorch's

    # --------------------------------------------------------------------------------- methods
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default)."""
        return ops.sum(self, axis=_axis(axis), keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default)."""
        return ops.mean(self, axis=_axis(axis), keepdims=keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; ties share the gradient equally."""
        return ops.max(self, axis=_axis(axis), keepdims=keepdims)

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same values in a new shape: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape=shape)

    def transpose(self, *axes: int) -> Tensor:
        """Permute the axes (reverse them when none are given)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops.transpose(self, axes=axes or None)

    def exp(self) -> Tensor:
        """e to the power of each element."""
        return ops.exp(self)

    def log(self) -> Tensor:
        """Natural logarithm of each element."""
        return ops.log(self)

    def sqrt(self) -> Tensor:
        """Square root of each element."""
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        """Absolute value of each element."""
        return ops.abs(self)

    def relu(self) -> Tensor:
        """max(x, 0) for each element."""
        return ops.relu(self)

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        """x where x > 0, else slope * x."""
        return ops.leaky_relu(self, slope=slope)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e^-x) for each element, computed without overflow."""
        return ops.sigmoid(self)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent of each element."""
        return ops.tanh(self)

    # --------------------------------------------------------------------------------- display
    def __repr__(self) -> str:
        body = np.array2string(self.data, prefix="Tensor(", separator=", ", precision=4)
        if self.ndim == 0:
            body = f"{self.data.item():.6g}"
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


def as_array(x: ArrayLike) -> np.ndarray:
    """The numpy array behind a Tensor, or ``x`` (number, list, array) as a numpy array.

    (Not ``getattr(x, "data", x)``: a numpy array's own ``.data`` is a raw memory buffer.)
    """
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _plain(x: object) -> object:
    return x.data if isinstance(x, Tensor) else x


def _plain_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_plain(i) for i in index)
    return _plain(index)


def _axis(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


from . import ops  # noqa: E402  (ops builds Tensors, so it imports this module first)
