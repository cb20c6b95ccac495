"""The derivative table: every primitive op, its forward beside its backward.

Each row is ``Op(name, forward, vjp)``:

* ``forward(*arrays, **settings)`` computes the output on numpy arrays;
* ``vjp(g, out, *arrays, **settings)`` gets the upstream gradient ``g`` (shaped like ``out``),
  the output and the inputs, and returns one gradient per input: the *local* derivative times
  the upstream gradient (a vector-Jacobian product).

Arrays are positional; settings (``axis``, ``p``, ``slope``...) are keywords and get no gradient.
The rules are plain calculus: they never add into ``.grad`` and never undo broadcasting -- the
one line in ``autodiff.backward`` does both. A rule may return a gradient shaped like the
broadcast output; ``autodiff.sum_to_shape`` sums it back to the input's shape.

NB: PyTorch keeps the same table in ``tools/autograd/derivatives.yaml``; JAX and HIPS autograd
call the backward of an op its vjp, as we do.
"""

from __future__ import annotations

import builtins
import functools
import math
from collections.abc import Callable

import numpy as np

from .autodiff import MODE
from .tensor import Tensor


class Op:
    """A primitive: a name, a forward on numpy arrays, and its vector-Jacobian product.

    Calling an op on tensors (or numbers/arrays) runs the forward and, when gradients are
    needed, records the op and its inputs on the output so that ``backward`` can find them::

        cube = Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x**2,))
        y = cube(x)          # works with backward, gradcheck, drawing and anomaly mode

    ``explain(*arrays, **settings)`` may return a one-sentence error for inputs the forward
    rejects; the default names the op and the shapes.

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
        forward: Callable[..., np.ndarray],
        vjp: Callable[..., tuple],
        explain: Callable[..., str] | None = None,
        saves: bool = False,
    ) -> None:
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.explain = explain
        self.saves = saves

    def __call__(self, *inputs: object, **settings: object) -> Tensor:
        for x in inputs:
            if not isinstance(x, Tensor):
                inputs = _as_tensors(inputs)  # numbers and arrays become constant tensors
                break
        data, saved = self.run([t.data for t in inputs], settings)
        if MODE.grad_enabled:
            for t in inputs:
                if t.requires_grad:  # record the op only when a gradient can flow back
                    return Tensor._node(data, self, inputs, settings, saved, True)
        if MODE.recording:  # tape.py keeps every op, so that a replay can run it again
            return Tensor._node(data, self, inputs, settings, saved, False)
        return Tensor._node(data, None, (), {}, None, False)

    def run(self, arrays: list[np.ndarray], settings: dict) -> tuple[np.ndarray, object]:
        """The forward on numpy arrays: (output, the saved value or None). A failure becomes a
        ShapeError that names the op (``explain``); anomaly mode checks the output."""
        try:
            data = self.forward(*arrays, **settings)
        except (ValueError, IndexError, TypeError) as error:
            raise ShapeError(self._explain(error, arrays, settings)) from None
        saved = None
        if self.saves:
            data, saved = data
        if type(data) is not np.ndarray:
            data = np.asarray(data)  # numpy returns scalars for 0-d inputs
        if MODE.anomaly:
            _check_forward(self, data, arrays)
        return data, saved

    def _explain(self, error: Exception, arrays: list, settings: dict) -> str:
        if self.explain is not None:
            message = self.explain(*arrays, **settings)
            if message:
                return f"{self.name}: {message}"
        shapes = " and ".join(str(a.shape) for a in arrays)
        detail = str(error).split("\n")[0]
        return f"{self.name}: cannot apply to shapes {shapes} ({detail})"

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


class ShapeError(ValueError):
    """An op was given inputs it cannot work with: shapes, axes, or values such as a label out
    of range. The message names the op and says which."""


def _as_tensors(inputs: tuple) -> tuple[Tensor, ...]:
    """Wrap numbers and arrays as constant tensors, in the dtype of the first tensor input."""
    like = next((x.dtype for x in inputs if isinstance(x, Tensor)), None)
    return tuple(x if isinstance(x, Tensor) else Tensor(x, dtype=like) for x in inputs)


def _check_forward(op: Op, data: np.ndarray, arrays: list) -> None:
    finite_in = builtins.all(np.all(np.isfinite(a)) for a in arrays if a.dtype.kind == "f")
    if finite_in and data.dtype.kind == "f" and not np.all(np.isfinite(data)):
        shapes = ", ".join(str(a.shape) for a in arrays)
        bad = data[~np.isfinite(data)].flat[0]
        raise FloatingPointError(
            f"detect_anomaly: the forward of '{op.name}' (inputs {shapes}) turned finite "
            f"inputs into a non-finite output ({bad})"
        )


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


def _axis_error(x: np.ndarray, axis: object = None, **_: object) -> str:
    return f"axis {axis} is out of range for a tensor of shape {x.shape} ({x.ndim} axes)"


def _reshape_error(x: np.ndarray, shape: tuple) -> str:
    return f"cannot reshape {x.shape} ({x.size} elements) into {tuple(shape)}"


def _transpose_error(x: np.ndarray, axes: tuple | None = None) -> str:
    return f"axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}"


def _index_error(x: np.ndarray, index: object) -> str:
    return f"index {index!r} does not fit a tensor of shape {x.shape}"


def _join_error(*xs: np.ndarray, axis: int = 0) -> str:
    shapes = ", ".join(str(x.shape) for x in xs)
    return f"cannot join shapes {shapes} along axis {axis}"


# ------------------------------------------------------------------------- helpers for rules
def _expand(g: np.ndarray, x: np.ndarray, axis: object, keepdims: bool) -> np.ndarray:
    """Put back the axes a reduction removed, then broadcast ``g`` to ``x``'s shape."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, x.shape)


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


def _pow_vjp(g, out, x, y):
    with np.errstate(divide="ignore", invalid="ignore"):  # d/dy needs log(x): x > 0
        return g * y * x ** (y - 1), g * out * np.log(x)


def _getitem_vjp(g, out, x, *, index):
    gx = np.zeros_like(x)
    np.add.at(gx, index, g)  # add.at, not =, so a repeated index collects every copy
    return (gx,)


def _split_vjp(g, out, *xs, axis=0):
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
    """Mean over the batch of -log softmax(logits)[label], and what the vjp needs: the softmax
    and the target rows. ``labels`` are integer classes of shape (N,), or rows of class
    probabilities of shape (N, C); ``functional.cross_entropy`` checks the shapes, the row checks
    the values (so that a replayed graph, see tape.py, checks them too)."""
    target = _target_rows(labels, logits)
    log_a = _log_softmax(logits, axis=-1)
    a = np.exp(log_a)  # the softmax: the forward has it at hand, so the row keeps it
    loss = -(target * log_a).sum() / _batch(logits)
    if not math.isfinite(loss):  # finite logits and labels always give a finite loss
        raise ValueError("the loss is not finite")
    return loss, (a, target)


def _target_rows(labels, logits):
    if labels.dtype.kind == "f":  # class probabilities (one-hot or soft), in the logits' dtype
        return labels.astype(logits.dtype, copy=False)
    if labels.min() < 0:  # numpy would count a negative label from the end
        raise IndexError("a negative label")
    return _identity(logits.shape[-1], logits.dtype)[labels]  # row k of I is class k


@functools.cache
def _identity(classes: int, dtype: np.dtype) -> np.ndarray:
    """The (classes, classes) identity matrix, made once per size (never written to)."""
    eye = np.eye(classes, dtype=dtype)
    eye.flags.writeable = False
    return eye


def _cross_entropy_vjp(g, saved, logits, *, labels):
    a, target = saved  # the softmax and the target rows, kept by the forward
    delta = a - target  # delta = a - y
    delta *= g / _batch(logits)  # the loss is a mean over the batch (in place: delta is ours)
    return (delta,)


def _cross_entropy_error(logits, *, labels):
    classes = logits.shape[-1]
    if labels.dtype.kind in "iu" and labels.size:
        low, high = labels.min(), labels.max()
        if low < 0 or high >= classes:
            return (
                f"label {low if low < 0 else high} is out of range for {classes} classes "
                f"(labels must be 0..{classes - 1})"
            )
    if not np.all(np.isfinite(logits)):
        return f"the logits of shape {logits.shape} contain NaN or inf"
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        return f"the target rows of shape {labels.shape} contain NaN or inf"
    return ""


def _batch(logits):
    return logits.size // logits.shape[-1]


def _linear(x: np.ndarray, w: np.ndarray, b: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
    out = x @ w.T  # (..., n_in) @ (n_in, n_out) -> (..., n_out)
    out += b  # in place: out is a fresh array
    return out


def _linear_vjp(g, out, x, w, b, *, input_grad=True):
    dx = g @ w if input_grad else None  # dL/dX = G W; skipped when X is data (first layer)
    if g.ndim != 2:  # (..., n) -> (batch, n): every leading axis is part of the batch
        g, x = g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1])
    return dx, g.T @ x, g.sum(axis=0)  # dL/dW = G^T X (sum of delta a^T), dL/db = sum of G


# ------------------------------------------------------------------------------ the table
# fmt: off
# name                 forward                        vjp(g, out, *inputs) -> one grad per input
add         = Op("add",         np.add,         lambda g, out, x, y: (g, g),                _broadcast_error)
sub         = Op("sub",         np.subtract,    lambda g, out, x, y: (g, -g),               _broadcast_error)
mul         = Op("mul",         np.multiply,    lambda g, out, x, y: (g * y, g * x),        _broadcast_error)
div         = Op("div",         np.divide,      lambda g, out, x, y: (g / y, -g * out / y), _broadcast_error)
neg         = Op("neg",         np.negative,    lambda g, out, x: (-g,))
power       = Op("power",       lambda x, *, p: x ** p,
                                                lambda g, out, x, *, p: (g * p * x ** (p - 1),))
pow         = Op("pow",         np.power,       _pow_vjp,                                   _broadcast_error)
exp         = Op("exp",         np.exp,         lambda g, out, x: (g * out,))
log         = Op("log",         np.log,         lambda g, out, x: (g / x,))
sqrt        = Op("sqrt",        np.sqrt,        lambda g, out, x: (g / (2 * out),))
abs         = Op("abs",         np.abs,         lambda g, out, x: (g * np.sign(x),))
maximum     = Op("maximum",     np.maximum,     _maximum_vjp,                               _broadcast_error)
relu        = Op("relu",        lambda x: np.maximum(x, 0),
                                                lambda g, out, x: (g * (x > 0),))
leaky_relu  = Op("leaky_relu",  lambda x, *, slope=0.01: np.where(x > 0, x, slope * x),
                                                lambda g, out, x, *, slope=0.01: (np.where(x > 0, g, slope * g),))
sigmoid     = Op("sigmoid",     _sigmoid,       lambda g, out, x: (g * out * (1 - out),))
tanh        = Op("tanh",        np.tanh,        lambda g, out, x: (g * (1 - out**2),))
matmul      = Op("matmul",      np.matmul,      _matmul_vjp,                                _matmul_error)
sum         = Op("sum",         lambda x, *, axis=None, keepdims=False: x.sum(axis=axis, keepdims=keepdims),
                                                lambda g, out, x, *, axis=None, keepdims=False:
                                                    (_expand(g, x, axis, keepdims),),        _axis_error)
mean        = Op("mean",        lambda x, *, axis=None, keepdims=False: x.mean(axis=axis, keepdims=keepdims),
                                                lambda g, out, x, *, axis=None, keepdims=False:
                                                    (_expand(g, x, axis, keepdims) * (out.size / x.size),),
                                                                                            _axis_error)
max         = Op("max",         lambda x, *, axis=None, keepdims=False: x.max(axis=axis, keepdims=keepdims),
                                                _max_vjp,                                   _axis_error)
reshape     = Op("reshape",     lambda x, *, shape: x.reshape(shape),
                                                lambda g, out, x, *, shape: (g.reshape(x.shape),),
                                                                                            _reshape_error)
transpose   = Op("transpose",   lambda x, *, axes=None: np.transpose(x, axes),
                                                lambda g, out, x, *, axes=None:
                                                    (np.transpose(g, None if axes is None else np.argsort(axes)),),
                                                                                            _transpose_error)
getitem     = Op("getitem",     lambda x, *, index: x[index],
                                                _getitem_vjp,                               _index_error)
concatenate = Op("concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis),
                                                _split_vjp,                                 _join_error)
stack       = Op("stack",       lambda *xs, axis=0: np.stack(xs, axis=axis),
                                                _stack_vjp,                                 _join_error)
where       = Op("where",       lambda x, y, *, cond: np.where(cond, x, y),
                                                lambda g, out, x, y, *, cond: (np.where(cond, g, 0.0), np.where(cond, 0.0, g)),
                                                                                            _broadcast_error)
# fused for numerical stability: the max-shift and delta = a - y in one place
log_softmax = Op("log_softmax", _log_softmax,   lambda g, out, x, *, axis=-1:
                                                    (g - np.exp(out) * g.sum(axis=axis, keepdims=True),),
                                                                                            _axis_error)
cross_entropy = Op("cross_entropy", _cross_entropy, _cross_entropy_vjp,                _cross_entropy_error, saves=True)
# fused for speed: a Linear layer Z = X @ W.T + b is one node instead of three (nn.Linear uses it).
# Its vjp is notebook 05's result. ``input_grad=False`` skips dL/dX when X is data (the first layer):
# on MNIST-sized inputs that matmul is a quarter of the backward pass.
linear      = Op("linear",      _linear,        _linear_vjp,                                _linear_error)
# fmt: on

TABLE: dict[str, Op] = {
    op.name: op
    for op in (
        add, sub, mul, div, neg, power, pow, exp, log, sqrt, abs, maximum, relu, leaky_relu,
        sigmoid, tanh, matmul, sum, mean, max, reshape, transpose, getitem, concatenate, stack,
        where, log_softmax, cross_entropy, linear,
    )
}  # fmt: skip
