"""Composites: functions built from the primitive ops, with no derivative rules of their own.

Their gradients come for free from the rows they are made of. The exception, for numerical
stability, is ``log_softmax``/``cross_entropy``: fused rows in ``ops.py`` (see notebook 08).
"""

from __future__ import annotations

import numpy as np

from . import ops
from .tensor import ArrayLike, Tensor, as_array

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "concatenate",
    "cross_entropy",
    "log_softmax",
    "mse_loss",
    "softmax",
    "stack",
    "where",
]


def log_softmax(x: ArrayLike, axis: int = -1) -> Tensor:
    """log(softmax(x)) along ``axis``, computed stably (shift by the max, log-sum-exp)."""
    return ops.log_softmax(x, axis=axis)


def softmax(x: ArrayLike, axis: int = -1) -> Tensor:
    """e^x / sum(e^x) along ``axis``: positive, sums to 1. Built as exp(log_softmax(x))."""
    return ops.exp(log_softmax(x, axis=axis))


def cross_entropy(logits: Tensor, labels: ArrayLike) -> Tensor:
    """Mean cross-entropy of softmax(logits) against ``labels``, like PyTorch's.

    ``logits`` has shape (N, C) (or (C,) for one example). ``labels`` are integer class indices
    of shape (N,), or rows of class probabilities (e.g. one-hot) of shape (N, C).
    The gradient with respect to the logits is (softmax(logits) - one_hot(labels)) / N.
    """
    logits = logits if isinstance(logits, Tensor) else Tensor(logits)
    y = as_array(labels)
    shape = logits.data.shape
    if len(shape) not in (1, 2):
        raise ValueError(f"cross_entropy: logits must have shape (N, C) or (C,), got {shape}")
    if y.dtype.kind in "iu":
        if y.shape != shape[:-1]:
            raise ValueError(
                f"cross_entropy: integer labels must have shape {shape[:-1]} for logits "
                f"of shape {shape}, got {y.shape}"
            )
    elif y.dtype.kind != "f" or y.shape != shape:
        raise ValueError(
            f"cross_entropy: labels of dtype {y.dtype} and shape {y.shape} do not fit logits of "
            f"shape {shape}; pass integer class indices of shape {shape[:-1]} or "
            f"one-hot rows of shape {shape}"
        )
    if y.size == 0:
        raise ValueError("cross_entropy: the batch is empty")
    return ops.cross_entropy(logits, labels=y)  # the row checks the values (labels in range...)


def mse_loss(prediction: Tensor, target: ArrayLike) -> Tensor:
    """Mean squared error, mean((prediction - target)^2). The shapes must match exactly."""
    t_shape = as_array(target).shape
    if prediction.shape != t_shape:
        raise ValueError(
            f"mse_loss: prediction shape {prediction.shape} and target shape {t_shape} differ "
            f"(broadcasting them would silently compare every pair); reshape one of them"
        )
    return ((prediction - target) ** 2).mean()


def binary_cross_entropy(probability: Tensor, target: ArrayLike) -> Tensor:
    """Mean of -(y log p + (1 - y) log(1 - p)) for probabilities p in (0, 1).

    Prefer ``binary_cross_entropy_with_logits`` on the raw score: it never takes log(0).
    """
    y = as_array(target)
    if probability.shape != np.shape(y):
        raise ValueError(
            f"binary_cross_entropy: probability shape {probability.shape} and target shape "
            f"{np.shape(y)} differ"
        )
    p = probability.data
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError("binary_cross_entropy: probabilities must lie in [0, 1]")
    y = Tensor(y, dtype=probability.dtype)  # so that 1 - y is an op, which a replay runs again
    return -(y * ops.log(probability) + (1 - y) * ops.log(1 - probability)).mean()


def binary_cross_entropy_with_logits(logits: Tensor, target: ArrayLike) -> Tensor:
    """``binary_cross_entropy(sigmoid(z), y)`` computed stably from the raw scores z:
    mean(max(z, 0) - z y + log(1 + e^-|z|)), which never overflows."""
    y = as_array(target)
    if logits.shape != np.shape(y):
        raise ValueError(
            f"binary_cross_entropy_with_logits: logits shape {logits.shape} and target shape "
            f"{np.shape(y)} differ"
        )
    return (ops.relu(logits) - logits * y + ops.log(1 + ops.exp(-ops.abs(logits)))).mean()


def where(condition: ArrayLike, x: ArrayLike, y: ArrayLike) -> Tensor:
    """Elementwise ``x`` where ``condition`` holds, else ``y`` (the condition gets no gradient)."""
    return ops.where(x, y, cond=as_array(condition).astype(bool))


def concatenate(tensors: list[ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return ops.concatenate(*tensors, axis=axis)


def stack(tensors: list[ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    return ops.stack(*tensors, axis=axis)
