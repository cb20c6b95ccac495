"""Notebook 01's training challenge, worked out independently of the engine: the network's loss
and gradients written out in numpy, the gradient descent trajectory the check compares with, the
check's data, and what a wrong trajectory's step size was."""

from __future__ import annotations

import numpy as np

from ._draws import check_rng


def _network_loss_and_grads(
    X: np.ndarray, Y: np.ndarray, W1: np.ndarray, W2: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """The notebook's network in numpy, forward and backward written out by hand.

    h = sigmoid(X W1^T), logits = h W2^T, L = mean over rows of -log softmax(logits)[label].
    """
    h = 1 / (1 + np.exp(-(X @ W1.T)))  # (N, hidden)
    logits = h @ W2.T  # (N, classes)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(Y)
    loss = float(-log_p[np.arange(n), Y].mean())
    d_logits = np.exp(log_p)  # softmax - one-hot, over N
    d_logits[np.arange(n), Y] -= 1
    d_logits /= n
    dW2 = d_logits.T @ h
    dz = (d_logits @ W2) * h * (1 - h)  # through the sigmoid
    dW1 = dz.T @ X
    return loss, dW1, dW2


def _trajectory(X, Y, W1, W2, lr, steps, accumulate=False):  # noqa: ANN001, ANN202
    """Losses before each step and the final weights of plain gradient descent (or, with
    ``accumulate``, of a loop that never clears its gradients)."""
    losses, sum1, sum2 = [], np.zeros_like(W1), np.zeros_like(W2)
    for _ in range(steps):
        loss, g1, g2 = _network_loss_and_grads(X, Y, W1, W2)
        losses.append(loss)
        if accumulate:
            sum1, sum2 = sum1 + g1, sum2 + g2
            g1, g2 = sum1, sum2
        W1, W2 = W1 - lr * g1, W2 - lr * g2
    return losses, W1, W2


def _challenge_data() -> tuple[np.ndarray, ...]:
    """Data and weights of the check: 8 examples, 3 features, 5 hidden units, 3 classes."""
    rng = check_rng(11)
    X = rng.standard_normal((8, 3))
    Y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    return X, Y, rng.standard_normal((5, 3)), rng.standard_normal((3, 5))


def other_step_size(X, Y, W1, W2, lr, steps, losses):  # noqa: ANN001, ANN201
    """The learning rate other than ``lr`` whose gradient descent gives ``losses`` (lr / N, lr N
    or a round number of the learner's own), or None."""
    n = len(X)
    for other in (lr / n, lr * n, 1.0, 0.1, 0.05, 0.01, 0.001):
        if not np.isclose(other, lr) and np.allclose(
            losses, _trajectory(X, Y, W1, W2, other, steps)[0], rtol=1e-8
        ):
            return other
    return None
