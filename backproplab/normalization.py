"""Normalization: rescale activations to mean 0 and variance 1, then let the layer learn a scale.

Batch norm and layer norm compute the same thing over different axes. For the values x_1..x_m
along those axes::

    mu    = mean(x)                       sigma^2 = mean((x - mu)^2)   (biased: divides by m)
    x_hat = (x - mu) / sqrt(sigma^2 + eps)
    o     = gamma * x_hat + beta        (o: the output)

* ``batch_norm`` normalizes each channel over the batch (and the pixels): axes (N, H, W) of an
  (N, C, H, W) input, axis N of an (N, C) one. Every example's output depends on the others in
  its batch, so in evaluation it uses running averages of the statistics instead.
* ``layer_norm`` normalizes each example over its own features (the last axes): no batch
  statistics, the same in training and evaluation.

Each is one ``Op`` row, kept here beside its function rather than in ``ops.py``, with the
compact backward: ``batch_norm``'s row computes o (gamma and beta included), ``layer_norm``'s
only x_hat (its gamma and beta are ordinary mul and add nodes). Node by node, the gradient
reaches x three ways: directly through x_hat, through mu (every x moves the mean) and
through sigma^2 (every x moves the variance). Added up, they simplify to::

    dL/dx = gamma / sigma * (g - mean(g) - x_hat * mean(g * x_hat))
          = (1/m) * gamma / sigma * (m g - sum(g) - x_hat * sum(g * x_hat))

with g = dL/do, sigma = sqrt(sigma^2 + eps) (what x_hat divides by), and the means and sums
over the normalized axes. The ``- mean(g)`` term is the
centring: a gradient that would move every x the same way moves nothing after the mean is taken
out. The ``- x_hat * mean(g * x_hat)`` term does the same for a change of scale. (A test checks
this formula against the graph of primitive ops, finite differences, and sympy.)

NB: PyTorch's ``torch.nn.functional.batch_norm`` and ``layer_norm`` take the same arguments in
the same order, and its ``batch_norm`` updates the running averages in place the same way.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._arrays import rounded
from ._numbers import count, is_real
from .ops import Op, ShapeError
from .tensor import ArrayLike, Tensor, apply

__all__ = ["batch_norm", "layer_norm"]


# ----------------------------------------------------------------------------- batch norm row
def _channel_axes(x: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes batch norm averages over (all but the channel axis 1), and the shape that lines
    a per-channel vector up with x: (1, C) or (1, C, 1, 1)."""
    axes = (0, *range(2, x.ndim))
    return axes, (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _batch_norm(x, w, b, *, running_mean, running_var, training, momentum, eps):
    axes, line_up = _channel_axes(x)
    if training:
        mean = x.mean(axis=axes)
        centred = x - mean.reshape(line_up)
        var = np.mean(centred * centred, axis=axes)  # biased: normalise with the batch's own
        if running_mean is not None:  # update the running averages in place (PyTorch's rule)
            m = x.size // x.shape[1]  # values per channel
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += momentum * var * (m / (m - 1))  # unbiased: an estimate for new data
    else:
        centred = x - running_mean.astype(x.dtype, copy=False).reshape(line_up)
        var = running_var.astype(x.dtype, copy=False)
    inv_std = 1 / np.sqrt(var + eps)  # 1 / sigma, per channel
    x_hat = centred * inv_std.reshape(line_up)
    out = x_hat * w.reshape(line_up)
    np.add(out, b.reshape(line_up), out=out, casting="safe")  # a float64 b is not rounded
    return out, (x_hat, inv_std)  # the backward needs x_hat and 1/sigma: keep them


def _batch_norm_vjp(g, saved, x, w, b, *, training, **_):
    x_hat, inv_std = saved
    axes, line_up = _channel_axes(x)
    d_bias = g.sum(axis=axes)  # sum(g)
    d_weight = (g * x_hat).sum(axis=axes)  # sum(g * x_hat)
    scale = (w * inv_std).reshape(line_up)  # gamma / sigma
    if not training:  # the statistics are constants: o is just a scaled, shifted x
        return g * scale, d_weight, d_bias
    m = x.size // x.shape[1]
    # the compact formula: (1/m) gamma/sigma (m g - sum(g) - x_hat sum(g x_hat))
    dx = scale * (g - (d_bias / m).reshape(line_up) - x_hat * (d_weight / m).reshape(line_up))
    return dx, d_weight, d_bias


def _batch_norm_error(x, w, b, *, running_mean, running_var, training, **_) -> str:
    if x.ndim < 2:
        return f"expected an input of shape (N, C, ...), such as (N, C, H, W), got shape {x.shape}"
    if (running_mean is None) != (running_var is None):  # one would be left out of the update
        return "running_mean and running_var must both be arrays or both be None"
    for name, a in (("running_mean", running_mean), ("running_var", running_var)):
        if a is not None and not (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
            is_array = isinstance(a, np.ndarray)
            kind = f"an array of dtype {a.dtype}" if is_array else f"a {type(a).__name__}"
            return f"{name} must be a float numpy array (updated in place), got {kind}"
    c = x.shape[1]
    for name, a in (("weight", w), ("bias", b), ("running_mean", running_mean),
                    ("running_var", running_var)):  # fmt: skip
        if a is not None and a.shape != (c,):
            last = x.ndim > 2 and a.shape == x.shape[-1:]  # (N, H, W, C) or (N, L, C)
            return (
                f"{name} of shape {a.shape} does not fit an input of shape {x.shape}: "
                f"expected ({c},)" + (_channels_last(x.ndim) if last else "")
            )
    if rounded(b, x, w):  # a float64 bias added into a float32 output
        return f"dtypes {x.dtype}, {w.dtype}, {b.dtype} do not mix; use one dtype"
    if training and x.size // max(c, 1) <= 1:
        return (
            f"expected more than 1 value per channel when training, got input of shape {x.shape}"
            + (_ONE_EXAMPLE if len(x) == 1 else "")
        )
    if not training and (running_mean is None or running_var is None):
        return "evaluation (training=False) needs running_mean and running_var"
    return ""


_ONE_EXAMPLE = (
    "; one example has no spread to normalize by: call model.eval() to use the network on one"
    " example (in fit, choose a batch_size that leaves no last batch of one)"
)


def _channels_last(ndim: int) -> str:
    """The hint for channels on the last axis (caught unless axis 1 has as many entries)."""
    axes = (0, ndim - 1, *range(1, ndim - 1))
    return f"; channels on the last axis? put them on axis 1: x.transpose{axes}"


# fused: one node instead of a dozen, and the compact three-term backward, stable and fast
batch_norm_op = Op("batch_norm", _batch_norm, _batch_norm_vjp, _batch_norm_error, saves=True)


def batch_norm(
    x: ArrayLike,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization of ``x`` (N, C), (N, C, L) or (N, C, H, W), channel by channel, then
    ``weight * x_hat + bias`` (one gamma and beta per channel; ones and zeros when None).

    ``training=True``: normalise with the batch's mean and (biased) variance, and update the
    running averages in place, ``running = (1 - momentum) * running + momentum * statistic``,
    with the unbiased variance (m / (m - 1) times the biased one, m values per channel).
    ``training=False``: normalise with ``running_mean`` and ``running_var``; nothing changes.
    Training needs more than one value per channel, as in PyTorch: an input of shape (1, C) is
    refused, and so is an empty batch (which PyTorch returns empty, its averages unchanged).
    The running averages are plain numpy arrays of shape (C,) (or None, in training only); they
    get no gradient. Arguments and rules are ``torch.nn.functional.batch_norm``'s.
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    for name, value, top in (("momentum", momentum, 1), ("eps", eps, np.inf)):
        if not is_real(value) or not 0 <= value <= top:  # float("a"), sqrt(var - 1)...
            limits = "in [0, 1]" if top == 1 else ">= 0"
            raise ValueError(f"batch_norm: {name} must be a number {limits}, got {value!r}"
                             + (NO_CUMULATIVE if value is None else ""))  # fmt: skip
    if not isinstance(training, (bool, np.bool_)):  # bool("False") is True
        raise TypeError(f"batch_norm: training must be True or False, got {training!r}")
    c = x.shape[1] if x.ndim >= 2 else 0
    weight = Tensor(np.ones(c, dtype=x.dtype)) if weight is None else weight
    bias = Tensor(np.zeros(c, dtype=x.dtype)) if bias is None else bias
    settings = dict(
        running_mean=running_mean,
        running_var=running_var,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
    )
    arrays = [t.data if isinstance(t, Tensor) else np.asarray(t) for t in (x, weight, bias)]
    message = _batch_norm_error(*arrays, **settings)
    if message:
        raise ShapeError(f"batch_norm: {message}")
    return apply(batch_norm_op, x, weight, bias, **settings)


# PyTorch's momentum=None
NO_CUMULATIVE = " (momentum=None, PyTorch's cumulative average, is not supported)"


# ----------------------------------------------------------------------------- layer norm row
def normalized_shape_of(caller: str, value: int | tuple[int, ...]) -> tuple[int, ...]:
    """``normalized_shape`` as a tuple of sizes (an int, such as ``X.shape[1]``, is one size),
    or a one-line error naming ``caller``."""
    shape = (value,) if isinstance(value, numbers.Integral) else value
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TypeError(
            f"{caller}: normalized_shape must be a size or a tuple of sizes (the last axes of "
            f"the input), got {value!r}"
        )
    return tuple(count(caller, "each size in normalized_shape", n, 1) for n in shape)


def _layer_norm(x, *, axes, eps):
    centred = x - x.mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(np.mean(centred * centred, axis=axes, keepdims=True) + eps)
    x_hat = centred * inv_std
    return x_hat, (x_hat, inv_std)  # the output, and what the backward needs


def _layer_norm_vjp(g, saved, x, *, axes, eps):
    x_hat, inv_std = saved
    mean_g = g.mean(axis=axes, keepdims=True)
    mean_gx = (g * x_hat).mean(axis=axes, keepdims=True)
    return (inv_std * (g - mean_g - x_hat * mean_gx),)  # the compact formula with gamma = 1


# x_hat only; the scale and shift are ordinary mul and add nodes (see layer_norm)
layer_norm_op = Op("layer_norm", _layer_norm, _layer_norm_vjp, saves=True)


def layer_norm(
    x: ArrayLike,
    normalized_shape: int | tuple[int, ...],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalization: normalise each example over its last axes, those of
    ``normalized_shape`` (e.g. the features of (N, D) with ``normalized_shape=D``), then
    ``weight * x_hat + bias`` if given (both of shape ``normalized_shape``).

    The same in training and evaluation: no running statistics. Arguments are
    ``torch.nn.functional.layer_norm``'s.
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    shape = normalized_shape_of("layer_norm", normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k :] != shape:
        raise ShapeError(
            f"layer_norm: normalized_shape {shape} does not match the last axes of the input of "
            f"shape {x.shape}"
        )
    if not is_real(eps) or not eps >= 0:  # float("a"), or sqrt(var - 1): NaN without a word
        raise ValueError(f"layer_norm: eps must be a number >= 0, got {eps!r}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        p_shape = p.shape if isinstance(p, Tensor) else np.shape(p)  # a list has no .shape
        if p_shape != shape:
            raise ShapeError(
                f"layer_norm: {name} of shape {p_shape} does not fit normalized_shape {shape}"
            )
    out = apply(layer_norm_op, x, axes=tuple(range(x.ndim - k, x.ndim)), eps=float(eps))
    if weight is not None:
        out = out * weight  # broadcasts over the leading axes; backward sums them back
    if bias is not None:
        out = out + bias
    return out
