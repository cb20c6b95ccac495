"""Convolution layers: Conv2d, MaxPool2d, AvgPool2d, Flatten (PyTorch's names and NCHW layout)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numbers import count
from ..convolution import _pair, avg_pool2d, conv2d, max_pool2d
from ..tensor import Tensor
from .layers import RngLike, _bias_flag, _generator, init_weight
from .module import Module, Parameter


class Conv2d(Module):
    """A 2-d convolution layer: ``conv2d(x, weight, bias, stride, padding)`` on images x of shape
    (N, in_channels, H, W), as ``torch.nn.Conv2d``.

    ``weight`` has shape (out_channels, in_channels, kh, kw): each output channel is a Linear
    unit looking at one kh x kw window of all input channels, so its fan-in is
    in_channels * kh * kw, and He init draws it with std sqrt(2 / fan-in) (``init`` as in
    ``Linear``). Xavier init uses sqrt(2 / (fan-in + fan-out)) with the fan-out of a
    convolution, out_channels * kh * kw (as ``torch.nn.init.xavier_normal_``). The bias (one
    per output channel) starts at zero.

    Images in channels-last order (N, H, W, C) are refused, with a hint, when H differs from C;
    when H == C nothing can tell them from (N, C, H, W) and they are convolved as such.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        init: str | float = "he",
        rng: RngLike = None,
        dtype: Any = np.float64,
    ) -> None:
        _bias_flag("Conv2d", bias)
        in_channels = count("Conv2d", "in_channels", in_channels, 1)
        out_channels = count("Conv2d", "out_channels", out_channels, 1)
        kh, kw = _pair(kernel_size, "kernel_size", "Conv2d")
        (sh, sw), (ph, pw) = _pair(stride, "stride", "Conv2d"), _pair(padding, "padding", "Conv2d")
        if min(kh, kw, sh, sw) < 1 or min(ph, pw) < 0:  # else refused only at the first forward
            raise ValueError(
                f"Conv2d: kernel_size and stride must be at least 1 and padding at least 0, got "
                f"kernel_size={kernel_size!r}, stride={stride!r}, padding={padding!r}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = (kh, kw), stride, padding
        fan_in, fan_out = in_channels * kh * kw, out_channels * kh * kw
        if isinstance(init, str) and init in ("xavier", "glorot"):  # each pixel feeds fan_out
            init = float(np.sqrt(2.0 / (fan_in + fan_out)))
        rng = _generator(rng, "Conv2d")
        w = init_weight(fan_in, out_channels, init, rng, dtype)  # (out, in * kh * kw)
        self.weight = Parameter(w.reshape(out_channels, in_channels, kh, kw))
        self.bias = Parameter(np.zeros(out_channels), dtype=dtype) if bias else None

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        """Images (N, in_channels, H, W) -> (N, out_channels, OH, OW)."""
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=self.weight.dtype)  # data given as a numpy array
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        bias = "" if self.bias is not None else ", bias=False"
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}{bias}"
        )


class MaxPool2d(Module):
    """``max_pool2d(x, kernel_size, stride)``: the maximum of every window, channel by channel."""

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ) -> None:
        name = type(self).__name__
        kernel = _pair(kernel_size, "kernel_size", name)
        if min(kernel + (kernel if stride is None else _pair(stride, "stride", name))) < 1:
            raise ValueError(  # else refused only at the first forward
                f"{name}: kernel_size and stride must be at least 1, got "
                f"kernel_size={kernel_size!r}, stride={stride!r}"
            )
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: Tensor) -> Tensor:
        """Images (N, C, H, W) -> (N, C, OH, OW), the maximum of each window."""
        return max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}"


class AvgPool2d(MaxPool2d):
    """``avg_pool2d(x, kernel_size, stride)``: the mean of every window, channel by channel."""

    def forward(self, x: Tensor) -> Tensor:
        """Images (N, C, H, W) -> (N, C, OH, OW), the mean of each window."""
        return avg_pool2d(x, self.kernel_size, self.stride)


class Flatten(Module):
    """Flattens every axis from ``start_dim`` on: (N, C, H, W) -> (N, C * H * W) by default."""

    def __init__(self, start_dim: int = 1) -> None:
        self.start_dim = start_dim

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        """The same values with the axes from ``start_dim`` on merged into one."""
        x = x if isinstance(x, Tensor) else Tensor(x)
        if not (
            isinstance(self.start_dim, (int, np.integer)) and -x.ndim <= self.start_dim < x.ndim
        ):
            raise ValueError(
                f"Flatten: start_dim {self.start_dim!r} is not an axis of the input of shape "
                f"{x.shape} ({x.ndim} axes)"
            )
        kept = x.shape[: self.start_dim]
        return x.reshape(*kept, int(np.prod(x.shape[len(kept) :])))  # -1 fails on 0 rows
