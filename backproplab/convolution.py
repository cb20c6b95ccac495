"""Convolution and pooling: a matmul over every window of an image.

A convolution slides a small kernel over an image and, at every position, takes the dot product of
the kernel with the window of pixels under it. ``im2col`` copies every window into a row of a
matrix; the convolution is then one matmul, the same ``X @ W.T`` as a Linear layer, applied to
every window at once::

    cols = im2col(x, (kh, kw), stride, padding)      # (N*OH*OW, C*kh*kw): one window per row
    out  = cols @ weight.reshape(out_channels, -1).T  # (N*OH*OW, out_channels)

So the backward pass is notebook 05's matmul rule, with G = dL/dout as one row per window
(N*OH*OW, out_channels): dW = G^T cols and dcols = G W, plus one more step: ``col2im``, which
sends each row of dcols back to the pixels its window was copied from and adds up where
windows overlap (a pixel that sits in nine windows gets nine contributions).
col2im is the adjoint (the transpose) of im2col: <im2col(x), c> = <x, col2im(c)> for every x, c.

Layouts are PyTorch's: images are NCHW (batch, channels, height, width), a weight is
(out_channels, in_channels, kh, kw). The output is OH = (H + 2 padding - kh) // stride + 1 high
(and likewise wide), as in ``torch.nn.functional.conv2d``.

NB: like PyTorch and every deep-learning framework, "convolution" here is a cross-correlation:
the kernel is not flipped. Frameworks on GPUs use im2col too, or Winograd transforms (for small
kernels such as 3 x 3) and FFTs (for large ones); the gradient rules are the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeGuard

import numpy as np

from ._arrays import rounded
from .ops import Op, ShapeError, _is_int
from .tensor import ArrayLike, Tensor, apply

__all__ = ["avg_pool2d", "col2im", "conv2d", "im2col", "max_pool2d"]

Pair = int | tuple[int, int]


def _pair(value: Pair, what: str, op: str) -> tuple[int, int]:
    pair: tuple = (value, value) if _is_int(value) else tuple(value) if _is_pair(value) else ()
    if len(pair) != 2 or not all(_is_int(v) for v in pair):
        raise TypeError(f"{op}: {what} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _is_pair(value: object) -> TypeGuard[tuple | list | np.ndarray]:
    return isinstance(value, (tuple, list)) or isinstance(value, np.ndarray) and value.ndim == 1


def _pairs(op: str, kernel_size: Pair, stride: Pair, padding: Pair) -> tuple[tuple[int, int], ...]:
    return (
        _pair(kernel_size, "kernel_size", op),
        _pair(stride, "stride", op),
        _pair(padding, "padding", op),
    )


def output_size(
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int] = (0, 0),
) -> tuple[int, int]:
    """(OH, OW): how many windows fit down and across an image of ``size`` (H, W)."""
    oh, ow = ((n + 2 * p - k) // s + 1 for n, k, s, p in zip(size, kernel, stride, padding))
    return oh, ow


def _offsets(kernel, stride, out) -> Iterator[tuple[int, int, tuple]]:
    """For each kernel offset (i, j): the slice of the (padded) image that this offset of the
    kernel sees, in every window at once. Loops run over the kh*kw offsets, never over pixels."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out
    for i in range(kh):
        for j in range(kw):
            down = slice(i, i + sh * (oh - 1) + 1, sh)  # rows i, i + sh, ... (oh of them)
            across = slice(j, j + sw * (ow - 1) + 1, sw)  # columns j, j + sw, ... (ow of them)
            yield i, j, (..., down, across)


def _window_index(
    channels: int,
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> np.ndarray:
    """Where each number of im2col's rows sits in one zero-padded image (C, H', W'), flattened:
    an array of shape (OH * OW, C * kh * kw), laid out as the rows of one image's windows."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = output_size(size, kernel, stride, padding)
    hp, wp = size[0] + 2 * ph, size[1] + 2 * pw  # the padded image
    down = np.arange(oh)[:, None] * sh + np.arange(kh)  # (OH, kh): row r * sh + i
    across = np.arange(ow)[:, None] * sw + np.arange(kw)  # (OW, kw): column q * sw + j
    channel = np.arange(channels)[:, None, None] * (hp * wp)  # (C, 1, 1): where channel c starts
    # index[r, q, c, i, j]: channel c, row r * sh + i, column q * sw + j of the padded image
    index = channel + down[:, None, None, :, None] * wp + across[None, :, None, None, :]
    return index.reshape(oh * ow, channels * kh * kw)


def im2col(x: np.ndarray, kernel_size: Pair, stride: Pair = 1, padding: Pair = 0) -> np.ndarray:
    """Every kernel-sized window of the images ``x`` (N, C, H, W), one window per row.

    Returns an array of shape (N * OH * OW, C * kh * kw). Row ``(n * OH + r) * OW + c`` is the
    window of image n whose top-left corner is at (r * stride, c * stride) of the zero-padded
    image, flattened in the order (channel, row in kernel, column in kernel) -- the order of
    ``weight.reshape(out_channels, -1)``, so a convolution is ``im2col(x, ...) @ W.T``.
    """
    kernel, stride, padding = _pairs("im2col", kernel_size, stride, padding)
    x = np.asarray(x)
    if x.ndim != 4:  # numpy's "not enough values to unpack"
        raise ShapeError(f"im2col: {_NOT_NCHW.format(shape=x.shape)}")
    message = _window_error(x, kernel, stride, padding)
    if message:  # a kernel bigger than the image gave 0 windows, without a word
        raise ShapeError(f"im2col: {message}")
    (n, c, h, w), (ph, pw) = x.shape, padding
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)  # the zero-padded images
    xp[:, :, ph : ph + h, pw : pw + w] = x
    index = _window_index(c, (h, w), kernel, stride, padding)  # (OH * OW, C * kh * kw)
    # one copy: every image's windows picked out of it by the same index, (N, OH*OW, C*kh*kw)
    # (a loop over the kh * kw kernel offsets, as col2im's, took three times as long)
    cols = np.take(xp.reshape(n, c * xp.shape[2] * xp.shape[3]), index, axis=1)
    return cols.reshape(n * len(index), index.shape[1])


def col2im(
    cols: np.ndarray,
    x_shape: tuple[int, ...],
    kernel_size: Pair,
    stride: Pair = 1,
    padding: Pair = 0,
) -> np.ndarray:
    """The adjoint of ``im2col``: add every row of ``cols`` back onto the pixels of the window it
    came from, and return an array of ``x_shape`` (N, C, H, W).

    Where windows overlap, their values add up; values that landed on the zero padding are
    dropped (the padding is not part of x). ``im2col`` copies, ``col2im`` adds, one kernel
    offset (i, j) at a time: each pixel adds its windows' values in the order of the offsets.
    """
    kernel, stride, padding = _pairs("col2im", kernel_size, stride, padding)
    cols = np.asarray(cols)
    if not _is_pair(x_shape) or not all(_is_int(n) and n >= 0 for n in x_shape):  # None, 5.0
        raise TypeError(f"col2im: x_shape must be a shape (N, C, H, W) of sizes, got {x_shape!r}")
    if len(x_shape) != 4:
        raise ShapeError(f"col2im: {_NOT_NCHW.format(shape=tuple(x_shape))}")
    message = _window_error(np.broadcast_to(0.0, x_shape), kernel, stride, padding)
    if message:
        raise ShapeError(f"col2im: {message}")
    n, c, h, w = x_shape
    (ph, pw), (oh, ow) = padding, output_size((h, w), kernel, stride, padding)
    if cols.shape != (n * oh * ow, c * kernel[0] * kernel[1]):  # not what im2col made
        raise ShapeError(
            f"col2im: cols of shape {cols.shape} do not fit images of shape {tuple(x_shape)}: "
            f"im2col makes ({n * oh * ow}, {c * kernel[0] * kernel[1]}) (N*OH*OW, C*kh*kw)"
        )
    cols = cols.reshape(n, oh, ow, c, *kernel)
    # channels last, laid out as cols[..., i, j] below: (images, OH, OW, C)
    xp = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=cols.dtype)
    # a few images at a time (about 512 kB of cols): each offset reads every kh*kw-th number of
    # the block, and the block stays in the cache from one offset to the next (a whole batch of
    # 64 digits did not, and took 1.8 times as long)
    per_block = max(1, 2**19 // max(cols[:1].nbytes, 1))
    for block in range(0, n, per_block):
        images = slice(block, block + per_block)
        for i, j, (_, down, across) in _offsets(kernel, stride, (oh, ow)):
            xp[images, down, across] += cols[images, ..., i, j]  # (images, OH, OW, C)
    return np.ascontiguousarray(xp[:, ph : ph + h, pw : pw + w].transpose(0, 3, 1, 2))  # NCHW


# ------------------------------------------------------------------------------- conv2d row
def _conv2d(x, w, *bias, stride, padding):
    """Forward: im2col, then one matmul. ``cols`` is not kept for the backward pass: it is
    kh * kw times the size of x, which the graph keeps anyway, and the vjp copies it again."""
    cols = im2col(x, w.shape[2:], stride, padding)  # (N*OH*OW, C*kh*kw)
    out = cols @ w.reshape(len(w), -1).T  # (N*OH*OW, C*kh*kw) @ (C*kh*kw, O) -> (N*OH*OW, O)
    if bias:  # one bias per output channel; "safe": a float64 bias is not rounded into float32
        np.add(out, bias[0], out=out, casting="safe")
    oh, ow = output_size(x.shape[2:], w.shape[2:], stride, padding)
    out = out.reshape(len(x), oh, ow, len(w)).transpose(0, 3, 1, 2)  # NHWC -> NCHW
    return np.ascontiguousarray(out)


def _conv2d_vjp(g, out, x, w, *bias, stride, padding):
    # cols again, rather than kept from the forward pass: notebook 14's 13 layers kept 31 MB of
    # cols through every training step, fresh memory each time (2.6 million page faults in its
    # training cell); copying them twice costs less
    cols = im2col(x, w.shape[2:], stride, padding)  # (N*OH*OW, C*kh*kw), as in the forward
    G = g.transpose(0, 2, 3, 1).reshape(-1, len(w))  # (N*OH*OW, O): one row per window, as cols
    dw = (G.T @ cols).reshape(w.shape)  # dL/dW = G^T cols (notebook 05), back to (O, C, kh, kw)
    # dL/dcols = G W, (N*OH*OW, C*kh*kw), then the windows back onto pixels: only if x needs it
    dx = lambda: col2im(G @ w.reshape(len(w), -1), x.shape, w.shape[2:], stride, padding)  # noqa: E731
    return (dx, dw, G.sum(axis=0)) if bias else (dx, dw)


def _conv2d_error(x, w, *bias, stride=(1, 1), padding=(0, 0)) -> str:
    if x.ndim != 4:
        return f"expected an input of shape (N, C, H, W), got shape {x.shape}"
    if w.ndim != 4:
        return (
            f"expected a weight of shape (out_channels, in_channels, kh, kw), got shape {w.shape}"
        )
    if x.shape[1] != w.shape[1]:
        return (
            f"input of shape {x.shape} has {x.shape[1]} channels but the weight {w.shape} "
            f"expects {w.shape[1]}" + (_CHANNELS_LAST if x.shape[-1] == w.shape[1] else "")
        )
    if bias and bias[0].shape != (w.shape[0],):
        return (
            f"bias of shape {bias[0].shape} does not fit the weight {w.shape}: expected "
            f"({w.shape[0]},), one per output channel"
        )
    if bias and rounded(bias[0], x, w):
        return f"dtypes {x.dtype}, {w.dtype}, {bias[0].dtype} do not mix; use one dtype"
    return _window_error(x, w.shape[2:], stride, padding)


_NOT_NCHW = "expected images of shape (N, C, H, W), got shape {shape}"
# images in channels-last order (N, H, W, C) are caught when H differs from C, never when H == C
_CHANNELS_LAST = "; images in (N, H, W, C) order? put the channels first: x.transpose(0, 3, 1, 2)"


def _window_error(x, kernel, stride, padding=(0, 0)) -> str:
    if min(kernel) < 1:  # before the stride, which pooling copies from the kernel
        return f"kernel {tuple(kernel)} must be at least 1 by 1"
    if min(stride) < 1 or min(padding) < 0:
        return f"stride {stride} must be positive and padding {padding} non-negative"
    padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        return (
            f"kernel {tuple(kernel)} does not fit in the input of shape {x.shape} "
            f"(padded to {padded} with padding {padding})"
        )
    return ""


# fmt: off
# fused for speed and for the lesson: im2col + matmul forward, the matmul rule + col2im backward
conv2d_op = Op("conv2d", _conv2d, _conv2d_vjp, _conv2d_error)
# fmt: on


def conv2d(
    x: ArrayLike, weight: Tensor, bias: Tensor | None = None, stride: Pair = 1, padding: Pair = 0
) -> Tensor:
    """2-d convolution (cross-correlation) of images ``x`` (N, C, H, W) with ``weight``
    (out_channels, C, kh, kw), plus ``bias`` (out_channels,) if given: PyTorch's
    ``torch.nn.functional.conv2d``. ``stride`` and ``padding`` (zeros) are an int or a pair
    (rows, columns). The output has shape (N, out_channels, OH, OW).
    """
    x = x if isinstance(x, Tensor) else Tensor(x, dtype=getattr(weight, "dtype", None))
    stride, padding = _pair(stride, "stride", "conv2d"), _pair(padding, "padding", "conv2d")
    inputs = (x, weight) if bias is None else (x, weight, bias)
    arrays = [t.data if isinstance(t, Tensor) else np.asarray(t) for t in inputs]
    message = _conv2d_error(*arrays, stride=stride, padding=padding)
    if message:
        raise ShapeError(f"conv2d: {message}")
    return apply(conv2d_op, *inputs, stride=stride, padding=padding)


# ------------------------------------------------------------------------------- pooling rows
def _max_pool2d(x, *, kernel_size, stride):
    out_size = output_size(x.shape[2:], kernel_size, stride)
    out = None
    for _, _, window in _offsets(kernel_size, stride, out_size):  # running maximum over offsets
        out = x[window].copy() if out is None else np.maximum(out, x[window], out=out)
    return out


def _max_pool2d_vjp(g, out, x, *, kernel_size, stride):
    slices = [window for _, _, window in _offsets(kernel_size, stride, out.shape[2:])]
    winners = [x[window] == out for window in slices]  # which offset holds each window's max
    share = g / sum(winners)  # ties share the gradient equally (as the package's max row)
    dx = np.zeros_like(x)
    for window, won in zip(slices, winners):
        dx[window] += won * share  # += : overlapping windows (stride < kernel) add up
    return (dx,)


def _avg_pool2d(x, *, kernel_size, stride):
    out_size = output_size(x.shape[2:], kernel_size, stride)
    out = sum(x[window] for _, _, window in _offsets(kernel_size, stride, out_size))
    return out / (kernel_size[0] * kernel_size[1])


def _avg_pool2d_vjp(g, out, x, *, kernel_size, stride):
    share = g / (kernel_size[0] * kernel_size[1])  # every pixel of a window gets 1/(kh*kw)
    dx = np.zeros_like(x)
    for _, _, window in _offsets(kernel_size, stride, out.shape[2:]):
        dx[window] += share
    return (dx,)


def _pool_error(x, *, kernel_size, stride) -> str:
    if x.ndim != 4:
        return f"expected an input of shape (N, C, H, W), got shape {x.shape}"
    return _window_error(x, kernel_size, stride)


# fmt: off
# name                          forward         vjp                 explain
max_pool2d_op = Op("max_pool2d", _max_pool2d,   _max_pool2d_vjp,    _pool_error)
avg_pool2d_op = Op("avg_pool2d", _avg_pool2d,   _avg_pool2d_vjp,    _pool_error)
# fmt: on


def _pool(op: Op, x: ArrayLike, kernel_size: Pair, stride: Pair | None) -> Tensor:
    kernel = _pair(kernel_size, "kernel_size", op.name)
    stride = kernel if stride is None else _pair(stride, "stride", op.name)
    x = x if isinstance(x, Tensor) else Tensor(x)
    message = _pool_error(x.data, kernel_size=kernel, stride=stride)
    if message:
        raise ShapeError(f"{op.name}: {message}")
    return apply(op, x, kernel_size=kernel, stride=stride)


def max_pool2d(x: ArrayLike, kernel_size: Pair, stride: Pair | None = None) -> Tensor:
    """The maximum of every ``kernel_size`` window of the images ``x`` (N, C, H, W), channel by
    channel; ``stride`` defaults to ``kernel_size`` (windows side by side, no overlap).

    Backward, each window's gradient goes to the pixel that held its maximum. At a tie the
    winners share it equally, as the package's ``max`` does. (NB: PyTorch gives all of it to the
    first winner; both are valid subgradients, and ties are rare in real images.)
    """
    return _pool(max_pool2d_op, x, kernel_size, stride)


def avg_pool2d(x: ArrayLike, kernel_size: Pair, stride: Pair | None = None) -> Tensor:
    """The mean of every ``kernel_size`` window of the images ``x`` (N, C, H, W), channel by
    channel; ``stride`` defaults to ``kernel_size``. Backward, every pixel of a window gets
    1 / (kh * kw) of the window's gradient."""
    return _pool(avg_pool2d_op, x, kernel_size, stride)
