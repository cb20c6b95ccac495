"""The derivative table: every primitive op, its forward beside its backward.

Each row is ``Op(name, forward, vjp)``:

* ``forward(*arrays, **settings)`` computes the output on numpy arrays;
* ``vjp(g, out, *arrays, **settings)`` gets the upstream gradient ``g`` (shaped like ``out``),
  the output and the inputs, and returns one gradient per input: the *local* derivative times
  the upstream gradient (a vector-Jacobian product).

Arrays are positional; settings (``axis``, ``p``, ``slope``, ``labels``...) are keywords and get
no gradient. The rules are plain calculus on numpy arrays: they never add into ``.grad`` and
never undo broadcasting (``autodiff.backward`` does both), and this file knows nothing of
tensors or graphs. ``Tensor`` (tensor.py) applies a row to tensors and records it on the output.

NB: PyTorch keeps the same table in ``tools/autograd/derivatives.yaml``; JAX and HIPS autograd
call the backward of an op its vjp, as we do.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np


class Op:
    """A primitive: a name, a forward on numpy arrays, and its vector-Jacobian product.

    Apply it to tensors with ``bl.apply``; the result works with backward, gradcheck, drawing
    and anomaly mode::

        cube = Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x**2,))
        y = bl.apply(cube, x)

    ``explain(*arrays, **settings)`` may return a one-sentence error for inputs the forward
    rejects; the default names the op and the shapes.

    A rule may hand over a costly gradient as a function of no arguments instead of an array
    (``linear``'s ``lambda: g @ w`` for its input): the engine calls it only for an input that
    needs a gradient, so the first layer never computes a gradient for the data.

    A rule that needs a value its forward computed on the way (``cross_entropy``'s needs the
    softmax) is made with ``saves=True``: its forward returns ``(out, saved)`` and its vjp gets
    ``saved`` where other rules get ``out``. That is the memory backprop costs: every value kept
    for the backward pass stays alive until the graph is freed. (NB: PyTorch's custom functions
    call ``ctx.save_for_backward``; JAX's ``custom_vjp`` forward returns "residuals".)
    """

    __slots__ = ("name", "forward", "vjp", "explain", "saves")

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],  # an array; with saves=True, (out, saved)
        vjp: Callable[..., tuple],
        explain: Callable[..., str] | None = None,
        saves: bool = False,
    ) -> None:
        self.name = name
        # numpy takes an array past a ufunc's inputs as its `out` and writes into it; with `out`
        # named, one array too many is a TypeError, which run() turns into an error naming the op
        self.forward = (
            functools.partial(forward, out=None) if type(forward) is np.ufunc else forward
        )
        self.vjp = vjp
        self.explain = explain
        self.saves = saves

    def run(self, arrays: list[np.ndarray], settings: dict) -> tuple[np.ndarray, object]:
        """The forward on numpy arrays: ``(output, saved)``, where ``saved`` is what the vjp
        will get as ``out``: the output itself, unless the row keeps another value (``saves``).
        A failure becomes a ShapeError naming the op."""
        try:
            out = self.forward(*arrays, **settings)
        except (ValueError, IndexError, TypeError) as error:
            raise ShapeError(self.error_message(error, arrays, settings)) from None
        return out if self.saves else (out, out)

    def error_message(self, error: Exception, arrays: list, settings: dict) -> str:
        """One line naming the op and what does not fit."""
        wanted = getattr(getattr(self.forward, "func", None), "nin", len(arrays))  # a ufunc's
        if len(arrays) != wanted:
            return f"{self.name}: takes {wanted} input(s), got {len(arrays)}"
        first_line = str(error).splitlines()[0]
        if isinstance(error, TypeError) and not _takes(self.forward, arrays, settings):
            # the arguments, not the shapes (an unknown or missing setting): asked about shapes,
            # explain would crash on the setting or blame shapes that fit
            return f"{self.name}: its forward refused the arguments ({first_line})"
        try:
            message = self.explain(*arrays, **settings) if self.explain is not None else ""
        except TypeError:  # settings the forward's signature takes but explain does not
            message = ""  # (np.matmul's axis=): the line below says what was refused
        if message:
            return f"{self.name}: {message}"
        if isinstance(error, TypeError):  # a forward of your own that reads a setting wrongly...
            return f"{self.name}: its forward refused the arguments ({first_line})"
        shapes = " and ".join(str(a.shape) for a in arrays)
        return f"{self.name}: cannot apply to shapes {shapes} ({first_line})"

    def __call__(self, *args: object, **kwargs: object) -> None:
        raise TypeError(
            f"Op '{self.name}' is a row of the table, not a function: apply it to tensors with "
            f"bl.apply({self.name}, x, ...)"
        )

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


# the keywords numpy's ufuncs take (their signature, where numpy gives them one); a generalized
# ufunc (np.matmul) takes its axes as well
_UFUNC_KEYWORDS = frozenset({"out", "where", "casting", "order", "dtype", "subok", "signature"})
_GUFUNC_KEYWORDS = _UFUNC_KEYWORDS | {"axes", "axis", "keepdims"}


def _takes(forward: Callable[..., Any], arrays: list, settings: dict) -> bool:
    """Whether ``forward(*arrays, **settings)`` fits the forward's signature (True when it has
    none to read, unless it is a ufunc, whose keywords are known)."""
    try:
        signature = inspect.signature(forward)
    except (TypeError, ValueError):
        ufunc = getattr(forward, "func", forward)
        if isinstance(ufunc, np.ufunc):  # numpy < 2.4 gives a ufunc no signature: its keywords
            allowed = _UFUNC_KEYWORDS if ufunc.signature is None else _GUFUNC_KEYWORDS
            return set(settings) <= allowed
        return True
    try:
        signature.bind(*arrays, **settings)
    except TypeError:
        return False
    return True


class ShapeError(ValueError):
    """An op was given inputs whose shapes (or axes, or indices) it cannot work with. The
    message names the op and the shapes."""


# --------------------------------------------------------------------- explanations of errors
def _broadcast_error(x: np.ndarray, y: np.ndarray, **_: object) -> str:
    return f"shapes {x.shape} and {y.shape} cannot be broadcast together"


def _matmul_error(x: np.ndarray, y: np.ndarray) -> str:
    if x.ndim == 0 or y.ndim == 0:
        return f"needs tensors with at least one dimension, got shapes {x.shape} and {y.shape}"
    k1, k2 = x.shape[-1], y.shape[-2] if y.ndim > 1 else y.shape[0]
    if k1 != k2:
        return f"cannot multiply {x.shape} by {y.shape}: inner dimensions {k1} and {k2} differ"
    return f"batch dimensions of {x.shape} and {y.shape} cannot be broadcast together"


def _linear_error(x: np.ndarray, w: np.ndarray, b: np.ndarray, **_: object) -> str:
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        return f"inputs of shape {x.shape} do not fit a weight of shape {w.shape} (n_out, n_in)"
    if b.shape != (w.shape[0],):
        return f"bias of shape {b.shape} does not fit a weight of shape {w.shape}"
    return f"dtypes {x.dtype}, {w.dtype}, {b.dtype} do not mix; use one dtype"


def _axis_error(x: np.ndarray, axis: object = None, keepdims: object = False, **_: object) -> str:
    axes = tuple(range(x.ndim)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    if not all(_is_int(a) for a in axes):  # axis=1.0, axis="rows"
        return f"axis must be a whole number or a tuple of them, got {axis!r}"
    if not all(-x.ndim <= a < x.ndim for a in axes):
        return f"axis {axis!r} is out of range for a tensor of shape {x.shape} ({x.ndim} axes)"
    if len({a % x.ndim for a in axes}) < len(axes):
        return f"axis {axis} names an axis twice (tensor of shape {x.shape})"
    if not isinstance(keepdims, (bool, np.bool_)):  # keepdims="yes"
        return f"keepdims must be True or False, got {keepdims!r}"
    if axis is None:  # max of nothing: numpy has no answer, and neither do we
        return f"a tensor of shape {x.shape} has no elements to reduce"
    return f"axis {axis} of shape {x.shape} has length 0: there is nothing to reduce"


def _is_int(a: object) -> bool:
    return isinstance(a, (int, np.integer)) and not isinstance(a, bool)  # True is not 1


def _reshape_error(x: np.ndarray, shape: tuple) -> str:
    return f"cannot reshape {x.shape} ({x.size} elements) into {tuple(shape)}"


def _transpose_error(x: np.ndarray, axes: tuple | None = None) -> str:
    return f"axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}"


def _index_error(x: np.ndarray, index: object) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, np.ndarray) and i.dtype.kind == "f" for i in parts):  # bl.Tensor([0, 2])
        return (
            f"index {index!r} holds floats (a Tensor always does): index with a numpy array of "
            f"integers, or of booleans for a mask (e.g. x[x.data > 0])"
        )
    if any(isinstance(i, np.ndarray) and i.ndim > 1 for i in parts):  # its repr spans lines
        said = ", ".join(
            f"an array of shape {i.shape} ({i.dtype})" if isinstance(i, np.ndarray) else repr(i)
            for i in parts
        )
        return f"index [{said}] does not fit a tensor of shape {x.shape}"
    return f"index {index!r} does not fit a tensor of shape {x.shape}"


def _where_error(x: np.ndarray, y: np.ndarray, *, cond: np.ndarray) -> str:
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        return _broadcast_error(x, y)
    return f"condition of shape {cond.shape} does not fit values of shapes {x.shape} and {y.shape}"


def _join_error(*xs: np.ndarray, axis: object = 0) -> str:
    shapes = ", ".join(str(x.shape) for x in xs)
    if not _is_int(axis) and not (axis is None and len({x.shape for x in xs}) > 1):
        return f"axis must be a whole number, got {axis!r}"  # (concatenate's None flattens)
    if len({x.ndim for x in xs}) == 1 and len({x.shape for x in xs}) == 1:  # the axis is wrong
        return f"axis {axis} is out of range for joining shapes {shapes} ({xs[0].ndim} axes each)"
    return f"cannot join shapes {shapes} along axis {axis}"


# ------------------------------------------------------------------------- helpers for rules
def _expand(g: np.ndarray, x: np.ndarray, axis: int | tuple | None, keepdims: bool) -> np.ndarray:
    """Put back the axes a reduction removed, then broadcast ``g`` to ``x``'s shape."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, x.shape)


def _mean(x, *, axis=None, keepdims=False):
    if x.size == 0:  # the mean of nothing: NaN, as in PyTorch (numpy adds two RuntimeWarnings)
        return np.full(x.sum(axis, keepdims=keepdims).shape, np.nan, x.dtype)
    return x.mean(axis, keepdims=keepdims)


def _mean_vjp(g, out, x, *, axis=None, keepdims=False):
    # each of the n entries averaged into one output gets 1/n of its gradient (n = 0: none)
    return (_expand(g, x, axis, keepdims) * (out.size / x.size if x.size else 0.0),)


def _max_vjp(g, out, x, *, axis=None, keepdims=False):
    winners = x == _expand(out, x, axis, keepdims)  # ties share the gradient equally
    share = (winners / winners.sum(axis=axis, keepdims=True)).astype(x.dtype)
    return (_expand(g, x, axis, keepdims) * share,)


def _matmul_vjp(g, out, x, y):
    if x.ndim == 1 and y.ndim == 1:  # dot product: out is a scalar
        return g * y, g * x
    if x.ndim == 1:  # (k,) @ (..., k, n) -> (..., n)
        return (y @ g[..., None])[..., 0], x[:, None] * g[..., None, :]
    if y.ndim == 1:  # (..., m, k) @ (k,) -> (..., m)
        return g[..., None] * y, (np.swapaxes(x, -1, -2) @ g[..., None])[..., 0]
    # (..., m, k) @ (..., k, n) -> (..., m, n):  dX = G Y^T,  dY = X^T G
    return g @ np.swapaxes(y, -1, -2), np.swapaxes(x, -1, -2) @ g


def _maximum_vjp(g, out, x, y):
    tie = 0.5 * g * (x == y)  # at a tie both inputs get half
    return np.where(x > y, g, 0) + tie, np.where(x < y, g, 0) + tie


def _power_vjp(g, out, x, *, p):
    if p == 0:  # x ** 0 is the constant 1, even at x = 0 (where x ** -1 would be inf)
        # PyTorch's rule too, and JAX's for an integer 0 (its lax.pow, with the float 0.0, gives
        # 0 * inf = NaN at x = 0)
        return (np.zeros_like(g * x),)
    return (g * p * x ** (p - 1),)


def _pow_vjp(g, out, x, y):
    with np.errstate(divide="ignore", invalid="ignore"):  # x ** (y - 1) and log(x) at x <= 0
        dx = np.where(y == 0, 0.0, g * y * x ** (y - 1))  # x ** 0 = 1 for every x
        dy = np.where((x == 0) & (y >= 0), 0.0, g * out * np.log(x))  # 0 ** y: flat in y
    return dx, dy  # both zeros are PyTorch's (pow_backward_self, pow_backward_exponent)


def _transpose_vjp(g, out, x, *, axes=None):
    if axes is None:  # all axes reversed: reversing again undoes it
        return (np.transpose(g),)
    return (np.transpose(g, np.argsort([a % x.ndim for a in axes])),)  # the inverse permutation


def _getitem_vjp(g, out, x, *, index):
    gx = np.zeros_like(x)
    np.add.at(gx, index, g)  # add.at, not =, so a repeated index collects every copy
    return (gx,)


def _split_vjp(g, out, *xs, axis=0):
    if axis is None:  # numpy flattened the inputs first: split the flat g, then unflatten
        ends = np.cumsum([x.size for x in xs])[:-1]
        return tuple(part.reshape(x.shape) for part, x in zip(np.split(g, ends), xs))
    ends = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return tuple(np.split(g, ends, axis=axis))


def _stack_vjp(g, out, *xs, axis=0):
    return tuple(np.moveaxis(g, axis, 0))


def _sigmoid(x):
    e = np.exp(-np.abs(x))  # <= 1, so nothing overflows for any x
    return np.where(x >= 0, 1.0, e) / (1 + e)  # 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below


def _log_softmax(x, *, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)  # largest logit becomes 0: no overflow
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _cross_entropy(logits, *, labels):
    """Mean over the batch of -sum_k y_k log softmax(logits)_k, and what the vjp needs: the
    softmax and the target rows y. ``labels`` are integer classes of shape (N,) (row k of the
    identity is class k) or rows of class probabilities of shape (N, K)."""
    if labels.dtype.kind == "f":
        target = labels.astype(logits.dtype)  # a copy: the caller may refill labels before backward
    else:
        target = _identity(logits.shape[-1], logits.dtype)[labels]  # row k of I is class k
    log_a = _log_softmax(logits, axis=-1)
    a = np.exp(log_a)  # the softmax: the forward has it at hand, so the row keeps it
    return 0.0 - (target * log_a).sum() / _batch(logits), (a, target)  # 0.0 -: never -0.0


@functools.cache
def _identity(classes: int, dtype: np.dtype) -> np.ndarray:
    """The (classes, classes) identity matrix, made once per size and never written to (a cache:
    measured with timeit in December 2026, it saves 2.7 us a step, 0.5 % of a training step of
    notebook 09's MLP, 5 % of a linear model's)."""
    eye = np.eye(classes, dtype=dtype)
    eye.flags.writeable = False
    return eye


def _cross_entropy_vjp(g, saved, logits, *, labels):
    a, y = saved  # the softmax and the target rows, kept by the forward
    # d/dz of -sum_k y_k log a_k is a * sum_k y_k - y: delta = a - y when each row sums to 1, as
    # one-hot rows of integer labels do (the shortcut saves 1.6 % of notebook 09's training step)
    delta = a - y if labels.dtype.kind != "f" else a * y.sum(axis=-1, keepdims=True) - y
    delta *= g / _batch(logits)  # the loss is a mean over the batch (in place: delta is ours)
    return (delta,)


def _batch(logits):
    return logits.size // logits.shape[-1]


def _binary_cross_entropy(p, *, target):
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped at -100 as PyTorch does
        log_p, log_q = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
    return 0.0 - (target * log_p + (1 - target) * log_q).mean()  # 0.0 -: never -0.0


def _binary_cross_entropy_vjp(g, out, p, *, target):
    # d/dp = (p - y) / (p (1 - p)), with PyTorch's floor of 1e-12 on p (1 - p) at p = 0 or 1
    return (g * (p - target) / np.maximum(p * (1 - p), 1e-12) / p.size,)


def _bce_with_logits(z, *, target):
    return (np.logaddexp(0, z) - z * target).mean()  # log(1 + e^z) - z y, never overflows


def _linear(x, w, b):
    if b.ndim > 1:  # numpy would add a (1, n_out) or (N, n_out) b, whose gradient is not G's sum
        raise ValueError("a bias has one entry per output")  # (explained by _linear_error)
    out = x @ w.T  # (..., n_in) @ (n_in, n_out) -> (..., n_out)
    # in place (out is a fresh array); "safe": a float64 b is not rounded into a float32 out
    return np.add(out, b, out=out, casting="safe")


def _linear_vjp(g, out, x, w, b):
    # every leading axis is a batch axis: (..., n) as a matrix of rows (a batch already is one)
    G, X = (g, x) if g.ndim == 2 else (g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1]))
    # dL/dX = G W, handed over as a function: computed only if X needs a gradient (not for data);
    # dL/dW = G^T X (a sum over the batch's rows); dL/db = the sum of G's rows
    return (lambda: g @ w), G.T @ X, G.sum(axis=0)


def check_slope(caller: str, slope: object) -> None:
    """One line for a leaky_relu slope that is not one number: an array of slopes would be
    broadcast along the last axis (one slope per column) without a word. ``bl.leaky_relu``,
    ``x.leaky_relu`` and ``nn.LeakyReLU`` call it before the row runs."""
    if not isinstance(slope, numbers.Real) or isinstance(slope, (bool, np.bool_)):
        given = f"an array of shape {slope.shape}" if isinstance(slope, np.ndarray) else repr(slope)
        raise TypeError(f"{caller}: slope must be a number, e.g. 0.01, got {given}")


# ------------------------------------------------------------------------------ the table
# fmt: off
# name                  forward      vjp(g, out, *inputs) -> one grad per input  explain
add     = Op("add",     np.add,      lambda g, out, x, y: (g, g),                _broadcast_error)
sub     = Op("sub",     np.subtract, lambda g, out, x, y: (g, -g),               _broadcast_error)
mul     = Op("mul",     np.multiply, lambda g, out, x, y: (g * y, g * x),        _broadcast_error)
div     = Op("div",     np.divide,   lambda g, out, x, y: (g / y, -g * out / y), _broadcast_error)
neg     = Op("neg",     np.negative, lambda g, out, x: (-g,))
power   = Op("power",   lambda x, *, p: x ** p,
                                     _power_vjp)
pow     = Op("pow",     np.power,    _pow_vjp,                                   _broadcast_error)
exp     = Op("exp",     np.exp,      lambda g, out, x: (g * out,))
log     = Op("log",     np.log,      lambda g, out, x: (g / x,))
sqrt    = Op("sqrt",    np.sqrt,     lambda g, out, x: (g / (2 * out),))
abs     = Op("abs",     np.abs,      lambda g, out, x: (g * np.sign(x),))
maximum = Op("maximum", np.maximum,  _maximum_vjp,                               _broadcast_error)
relu    = Op("relu",    lambda x: np.maximum(x, 0),
                                     lambda g, out, x: (g * (x > 0),))
leaky_relu = Op("leaky_relu", lambda x, *, slope=0.01: np.where(x > 0, x, slope * x),
                                     lambda g, out, x, *, slope=0.01:
                                         (np.where(x > 0, g, slope * g),))
sigmoid = Op("sigmoid", _sigmoid,    lambda g, out, x: (g * out * (1 - out),))
tanh    = Op("tanh",    np.tanh,     lambda g, out, x: (g * (1 - out**2),))
matmul  = Op("matmul",  np.matmul,   _matmul_vjp,                                _matmul_error)
sum     = Op("sum",     lambda x, *, axis=None, keepdims=False: x.sum(axis, keepdims=keepdims),
                                     lambda g, out, x, *, axis=None, keepdims=False:
                                         (_expand(g, x, axis, keepdims).copy(),), _axis_error)
mean    = Op("mean",    _mean,       _mean_vjp,                                  _axis_error)
max     = Op("max",     lambda x, *, axis=None, keepdims=False: x.max(axis, keepdims=keepdims),
                                     _max_vjp,                                   _axis_error)
reshape = Op("reshape", lambda x, *, shape: x.reshape(shape),
                                     lambda g, out, x, *, shape: (g.reshape(x.shape),),
                                                                                 _reshape_error)
transpose = Op("transpose", lambda x, *, axes=None: np.transpose(x, axes),
                                     _transpose_vjp,                             _transpose_error)
getitem = Op("getitem", lambda x, *, index: x[index],
                                     _getitem_vjp,                               _index_error)
concatenate = Op("concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis),
                                     _split_vjp,                                 _join_error)
stack   = Op("stack",   lambda *xs, axis=0: np.stack(xs, axis=axis),
                                     _stack_vjp,                                 _join_error)
where   = Op("where",   lambda x, y, *, cond: np.where(cond, x, y),
                                     lambda g, out, x, y, *, cond:
                                         (np.where(cond, g, 0.0), np.where(cond, 0.0, g)),
                                                                                 _where_error)
# fused for numerical stability: the max-shift, and the losses' delta = a - y in one place
# (the binary losses: logs clamped at -100 as in PyTorch, delta = sigmoid(z) - y)
log_softmax = Op("log_softmax", _log_softmax,
                                     lambda g, out, x, *, axis=-1:
                                         (g - np.exp(out) * g.sum(axis=axis, keepdims=True),),
                                                                                 _axis_error)
cross_entropy = Op("cross_entropy", _cross_entropy, _cross_entropy_vjp, saves=True)
binary_cross_entropy = Op("binary_cross_entropy", _binary_cross_entropy, _binary_cross_entropy_vjp)
bce_with_logits = Op("bce_with_logits", _bce_with_logits,
                                     lambda g, out, z, *, target:
                                         (g * (_sigmoid(z) - target) / z.size,))
# fused for speed: a Linear layer Z = X @ W.T + b is one node instead of three (nn.Linear uses it).
# Its vjp is notebook 05's result.
linear  = Op("linear",  _linear,     _linear_vjp,                                _linear_error)
# fmt: on

TABLE: dict[str, Op] = {
    op.name: op
    for op in (
        add, sub, mul, div, neg, power, pow, exp, log, sqrt, abs, maximum, relu, leaky_relu,
        sigmoid, tanh, matmul, sum, mean, max, reshape, transpose, getitem, concatenate, stack,
        where, log_softmax, cross_entropy, binary_cross_entropy, bce_with_logits, linear,
    )
}  # fmt: skip
