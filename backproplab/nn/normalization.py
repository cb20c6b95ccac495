"""Normalization layers: BatchNorm1d, BatchNorm2d (running averages as buffers), LayerNorm."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numbers import count, is_real
from ..normalization import NO_CUMULATIVE, batch_norm, layer_norm, normalized_shape_of
from ..tensor import Tensor
from .module import Module, Parameter


def _check_eps(layer: str, eps: object) -> None:
    """One line, when the layer is made, for an eps that is no number >= 0 (else refused only at
    the first forward, or, for False, taken as 0 without a word)."""
    if isinstance(eps, (bool, np.bool_)):  # LayerNorm(4, False): a flag where eps goes
        hint = "; elementwise_affine is a keyword: LayerNorm(4, elementwise_affine=False)"
        hint = hint if layer == "LayerNorm" else ""
        raise TypeError(f"{layer}: eps must be a number >= 0, got {eps!r}{hint}")
    if not is_real(eps) or not eps >= 0:
        raise ValueError(f"{layer}: eps must be a number >= 0, got {eps!r}")


class _BatchNorm(Module):
    """Batch normalization with a learned scale ``weight`` (gamma, starts at 1) and shift
    ``bias`` (beta, starts at 0), one per channel, and running averages of the mean and
    variance (``running_mean`` starts at 0, ``running_var`` at 1): plain arrays, not Parameters,
    so optimizers leave them alone; they are buffers (``named_buffers``) and ``state_dict``
    saves them. In training mode (``train()``) the layer normalizes with the batch's statistics
    and updates the running averages; in evaluation mode (``eval()``) it uses the averages."""

    buffer_names = ("running_mean", "running_var")
    dims: tuple[int, ...] = ()  # the numbers of axes the layer accepts

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        dtype: Any = np.float64,
    ) -> None:
        if not is_real(momentum) or not 0 <= momentum <= 1:
            raise ValueError(
                f"{type(self).__name__}: momentum must be a number in [0, 1], got {momentum!r}"
                + (NO_CUMULATIVE if momentum is None else "")
            )
        num_features = count(type(self).__name__, "num_features", num_features, 1)
        _check_eps(type(self).__name__, eps)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features), dtype=dtype)
        self.bias = Parameter(np.zeros(num_features), dtype=dtype)
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        """x normalized channel by channel (batch or running statistics, by mode); same shape."""
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=self.weight.dtype)
        if x.ndim not in self.dims:
            shapes = " or ".join(["(N, C)", "(N, C, L)", "(N, C, H, W)"][d - 2] for d in self.dims)
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected an input of shape "
                f"{shapes}, got {x.shape}"
            )
        return batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            self.training, self.momentum, self.eps,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch norm over features: input (N, C) (or (N, C, L)), each of the C features
    normalized over the batch. See ``batch_norm``."""

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over image channels: input (N, C, H, W), each channel normalized over the
    batch and all pixels (N * H * W values). See ``batch_norm``. Channels-last images
    (N, H, W, C) are refused, with a hint, unless H == C: then nothing can tell them apart."""

    dims = (4,)


class LayerNorm(Module):
    """Layer normalization over the last axes, ``normalized_shape`` (an int for the last axis
    alone), with a learned ``weight`` (starts at 1) and ``bias`` (starts at 0) of that shape.
    The same in training and evaluation. See ``layer_norm``."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        shape = normalized_shape_of("LayerNorm", normalized_shape)
        _check_eps("LayerNorm", eps)
        if not isinstance(elementwise_affine, (bool, np.bool_)):  # "no" would be read as True
            raise TypeError(
                f"LayerNorm: elementwise_affine must be True or False, got {elementwise_affine!r}"
            )
        self.normalized_shape, self.eps, self.dtype = shape, eps, np.dtype(dtype)
        self.weight = Parameter(np.ones(shape), dtype=dtype) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape), dtype=dtype) if elementwise_affine else None

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        """x normalized example by example over its last axes; same shape."""
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=self.dtype)  # data given as a numpy array
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"
