"""Self-checks for notebook 07, derivatives of standard layers and losses.

Every expected answer is computed here by central finite differences of the forward function,
never from the learner's code, so a check cannot agree with a wrong formula by construction.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import (
    Feedback,
    attempt,
    close,
    correct,
    elementwise_slope,
    hint,
    numeric_gradient,
    result_array,
)

__all__ = [
    "check_binary_cross_entropy_grad",
    "check_leaky_relu_backward",
    "check_sigmoid_backward",
    "check_softmax_jacobian",
]

_EPS = 1e-6


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def check_sigmoid_backward(sigmoid_backward: Callable) -> Feedback:
    """``sigmoid_backward(g, out)``: the gradient reaching x, given g and out = sigmoid(x)."""
    name = "sigmoid_backward"
    rng = np.random.default_rng(7)
    x = rng.uniform(-4, 4, size=(3, 5))
    g = rng.standard_normal((3, 5))
    out = _sigmoid(x)
    expected = g * elementwise_slope(_sigmoid, x)
    got = result_array(name, attempt(name, sigmoid_backward, g.copy(), out.copy()), x.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return correct(name, "matches finite differences of sigmoid at 15 points.")
    if close(got * g, expected) or close(got, expected / g):
        return hint(name, "right local slope, but the upstream gradient g is not multiplied in.")
    if close(got, g * _sigmoid(out) * (1 - _sigmoid(out))):
        return hint(name, "you applied sigmoid to `out` again: `out` already is sigmoid(x).")
    if close(got, g * out) or close(got, g * (1 - out)):
        return hint(name, "half of the slope is there: sigmoid' has two factors, not one.")
    return hint(
        name, "not yet: differentiate 1 / (1 + e^-x) and write the result in terms of sigmoid(x)."
    )


def check_leaky_relu_backward(leaky_relu_backward: Callable) -> Feedback:
    """``leaky_relu_backward(g, x, slope)``: the gradient reaching x through leaky ReLU."""
    name = "leaky_relu_backward"
    rng = np.random.default_rng(8)
    x = rng.uniform(-3, 3, size=(4, 6))
    x[np.abs(x) < 1e-2] = 0.5  # stay away from the kink, where no derivative exists
    g = rng.standard_normal((4, 6))
    slope = 0.1

    def leaky(v: np.ndarray) -> np.ndarray:
        return np.where(v > 0, v, slope * v)

    expected = g * elementwise_slope(leaky, x)
    got = result_array(name, attempt(name, leaky_relu_backward, g.copy(), x.copy(), slope), x.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return correct(name, "matches finite differences on both sides of the kink.")
    positive, negative = x > 0, x <= 0
    if close(got[positive], expected[positive]) and close(got[negative], 0 * g[negative]):
        return hint(name, "negative inputs get zero gradient: that is ReLU, not leaky ReLU.")
    if close(got[positive], expected[positive]):
        return hint(name, "right for x > 0; look again at the slope of the line for x < 0.")
    if close(got[negative], expected[negative]):
        return hint(name, "right for x < 0; look again at the slope of the line for x > 0.")
    if close(got, elementwise_slope(leaky, x)):
        return hint(name, "right local slope, but the upstream gradient g is not multiplied in.")
    return hint(name, "not yet: leaky ReLU is two straight lines; what is each line's slope?")


def check_softmax_jacobian(softmax_jacobian: Callable) -> Feedback:
    """``softmax_jacobian(s)``: the K x K matrix J[i, j] = d s_i / d z_j, given s = softmax(z)."""
    name = "softmax_jacobian"
    z = np.array([0.5, -1.0, 2.0, 0.1])
    s = _softmax(z)
    k = z.size
    expected = np.empty((k, k))
    for j in range(k):  # column j: how every output moves when z_j moves
        step = np.zeros(k)
        step[j] = _EPS
        expected[:, j] = (_softmax(z + step) - _softmax(z - step)) / (2 * _EPS)
    got = result_array(name, attempt(name, softmax_jacobian, s.copy()), (k, k))
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return correct(name, "matches the finite-difference Jacobian of softmax (K = 4).")
    off = ~np.eye(k, dtype=bool)
    if close(np.diag(got), np.diag(expected)) and np.allclose(got[off], 0):
        return hint(
            name,
            "the diagonal is right, but moving z_j also moves the other outputs: they share "
            "the denominator, so the off-diagonal entries are not zero.",
        )
    if close(got[off], expected[off]):
        return hint(name, "the off-diagonal entries are right; check the diagonal.")
    if close(np.diag(got), np.diag(expected)):
        return hint(name, "the diagonal is right; check the sign and size of the off-diagonal.")
    return hint(name, "not yet: differentiate e^{z_i} / sum_k e^{z_k} by z_j, once for i = j "
                "and once for i != j (quotient rule).")  # fmt: skip


def check_binary_cross_entropy_grad(binary_cross_entropy_grad: Callable) -> Feedback:
    """``binary_cross_entropy_grad(p, y)``: d/dp of mean(-(y log p + (1-y) log(1-p)))."""
    name = "binary_cross_entropy_grad"
    rng = np.random.default_rng(9)
    p = rng.uniform(0.05, 0.95, size=8)
    y = (rng.uniform(size=8) > 0.5).astype(float)
    y[:2] = [0.0, 1.0]  # both classes present

    def loss(q: np.ndarray) -> float:
        return float(np.mean(-(y * np.log(q) + (1 - y) * np.log(1 - q))))

    expected = numeric_gradient(loss, p)
    got = result_array(name, attempt(name, binary_cross_entropy_grad, p.copy(), y.copy()), p.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return correct(name, "matches finite differences of the mean BCE (batch of 8).")
    if close(got, expected * p.size):
        return hint(name, "right shape, but off by a factor of the batch size (L is a mean).")
    if close(got, -expected) or close(got, -expected * p.size):
        return hint(name, "right size, wrong sign: the loss has a minus sign in front.")
    if close(got, p - y) or close(got, (p - y) / p.size):
        return hint(
            name,
            "that is the gradient with respect to the logit z (through the sigmoid); here "
            "we want the gradient with respect to the probability p itself.",
        )
    return hint(name, "not yet: differentiate each of the two log terms by p, then average.")
