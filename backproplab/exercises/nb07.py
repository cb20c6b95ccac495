"""Self-checks for notebook 07, derivatives of standard layers and losses.

Every expected answer is computed here by central finite differences of the forward function,
never from the learner's code, so a check cannot agree with a wrong formula by construction.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Feedback, attempt, correct, hint

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


def _elementwise_slope(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """f'(x) for an elementwise f, by central differences."""
    return (f(x + _EPS) - f(x - _EPS)) / (2 * _EPS)


def _as_array(result: object, shape: tuple[int, ...]) -> np.ndarray | str:
    """The learner's result as a float array of ``shape``, or a sentence saying why not."""
    if result is None:
        return "your function returned None: is a `return` missing?"
    try:
        array = np.asarray(getattr(result, "data", result), dtype=np.float64)
    except (TypeError, ValueError):
        return f"your function returned {type(result).__name__}, not an array of numbers."
    if array.shape != shape:
        return f"your result has shape {array.shape}, but it should have shape {shape}."
    return array


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=1e-5, atol=1e-7))


def check_sigmoid_backward(sigmoid_backward: Callable) -> Feedback:
    """``sigmoid_backward(g, out)``: the gradient reaching x, given g and out = sigmoid(x)."""
    name = "sigmoid_backward"
    rng = np.random.default_rng(7)
    x = rng.uniform(-4, 4, size=(3, 5))
    g = rng.standard_normal((3, 5))
    out = _sigmoid(x)
    expected = g * _elementwise_slope(_sigmoid, x)
    result = attempt(name, sigmoid_backward, g.copy(), out.copy())
    if isinstance(result, Feedback):
        return result
    got = _as_array(result, x.shape)
    if isinstance(got, str):
        return hint(name, got)
    if _close(got, expected):
        return correct(name, "matches finite differences of sigmoid at 15 points.")
    if _close(got * g, expected) or _close(got, expected / g):
        return hint(name, "right local slope, but the upstream gradient g is not multiplied in.")
    if _close(got, g * _sigmoid(out) * (1 - _sigmoid(out))):
        return hint(name, "you applied sigmoid to `out` again: `out` already is sigmoid(x).")
    if _close(got, g * out) or _close(got, g * (1 - out)):
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

    expected = g * _elementwise_slope(leaky, x)
    result = attempt(name, leaky_relu_backward, g.copy(), x.copy(), slope)
    if isinstance(result, Feedback):
        return result
    got = _as_array(result, x.shape)
    if isinstance(got, str):
        return hint(name, got)
    if _close(got, expected):
        return correct(name, "matches finite differences on both sides of the kink.")
    positive, negative = x > 0, x <= 0
    if _close(got[positive], expected[positive]) and _close(got[negative], 0 * g[negative]):
        return hint(name, "negative inputs get zero gradient: that is ReLU, not leaky ReLU.")
    if _close(got[positive], expected[positive]):
        return hint(name, "right for x > 0; look again at the slope of the line for x < 0.")
    if _close(got[negative], expected[negative]):
        return hint(name, "right for x < 0; look again at the slope of the line for x > 0.")
    if _close(got, _elementwise_slope(leaky, x)):
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
    result = attempt(name, softmax_jacobian, s.copy())
    if isinstance(result, Feedback):
        return result
    got = _as_array(result, (k, k))
    if isinstance(got, str):
        return hint(name, got)
    if _close(got, expected):
        return correct(name, "matches the finite-difference Jacobian of softmax (K = 4).")
    off = ~np.eye(k, dtype=bool)
    if _close(np.diag(got), np.diag(expected)) and np.allclose(got[off], 0):
        return hint(
            name,
            "the diagonal is right, but moving z_j also moves the other outputs: they share "
            "the denominator, so the off-diagonal entries are not zero.",
        )
    if _close(got[off], expected[off]):
        return hint(name, "the off-diagonal entries are right; check the diagonal.")
    if _close(np.diag(got), np.diag(expected)):
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

    expected = np.empty_like(p)
    for i in range(p.size):
        step = np.zeros_like(p)
        step[i] = _EPS
        expected[i] = (loss(p + step) - loss(p - step)) / (2 * _EPS)
    result = attempt(name, binary_cross_entropy_grad, p.copy(), y.copy())
    if isinstance(result, Feedback):
        return result
    got = _as_array(result, p.shape)
    if isinstance(got, str):
        return hint(name, got)
    if _close(got, expected):
        return correct(name, "matches finite differences of the mean BCE (batch of 8).")
    if _close(got, expected * p.size):
        return hint(name, "right shape, but off by a factor of the batch size (L is a mean).")
    if _close(got, -expected) or _close(got, -expected * p.size):
        return hint(name, "right size, wrong sign: the loss has a minus sign in front.")
    if _close(got, p - y) or _close(got, (p - y) / p.size):
        return hint(
            name,
            "that is the gradient with respect to the logit z (through the sigmoid); here "
            "we want the gradient with respect to the probability p itself.",
        )
    return hint(name, "not yet: differentiate each of the two log terms by p, then average.")
