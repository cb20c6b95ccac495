"""Self-checks for notebook 09, an MLP from scratch.

Code is batch-first, as in ``bl.nn.Linear``: a batch holds one example per row, a weight W has
shape (n_out, n_in), and a layer computes Z = A W^T + b. Expected answers are central finite
differences of numpy forward passes written here, never the learner's code or the engine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Feedback, attempt, close, correct, hint, numeric_gradient, result_array

__all__ = ["check_hidden_delta", "check_linear_backward", "check_sigmoid_hidden_delta"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def check_linear_backward(linear_backward: Callable) -> Feedback:
    """``linear_backward(delta, A_prev, W)`` -> ``(dW, db, dA_prev)`` for Z = A_prev W^T + b,
    given delta = dL/dZ of shape (N, n_out)."""
    name = "linear_backward"
    rng = np.random.default_rng(21)
    n, n_in, n_out = 5, 4, 3
    A = rng.standard_normal((n, n_in))
    W = rng.standard_normal((n_out, n_in))
    b = rng.standard_normal(n_out)
    delta = rng.standard_normal((n, n_out))

    # L = sum(delta * Z) is a loss whose gradient with respect to Z is exactly delta
    def loss(A_: np.ndarray, W_: np.ndarray, b_: np.ndarray) -> float:
        return float((delta * (A_ @ W_.T + b_)).sum())

    expected = {
        "dW": numeric_gradient(lambda v: loss(A, v, b), W),
        "db": numeric_gradient(lambda v: loss(A, W, v), b),
        "dA_prev": numeric_gradient(lambda v: loss(v, W, b), A),
    }
    result = attempt(name, linear_backward, delta.copy(), A.copy(), W.copy())
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return hint(name, "return three arrays, in this order: (dW, db, dA_prev).")
    raw = dict(zip(expected, result))
    got = {}
    for key, value in raw.items():
        shape = expected[key].shape
        if value is None:
            return hint(name, f"{key} is None: is something missing from the returned tuple?")
        array = result_array(name, value, what=key)  # any shape yet: two shapes get own hints
        if isinstance(array, Feedback):
            return array
        if key == "dW" and array.shape == shape[::-1] and close(array.T, expected["dW"]):
            return hint(name, "dW is transposed: a gradient always has the shape of its parameter, "
                        f"here W's {shape}.")  # fmt: skip
        if key == "db" and array.shape == (n, n_out):
            return hint(
                name,
                f"db has one row per example; the bias has shape {shape}, and every example "
                "used the same bias: its contributions add up.",
            )
        checked = result_array(name, array, shape, key)
        if isinstance(checked, Feedback):
            return checked
        got[key] = checked
    wrong = [key for key in expected if not close(got[key], expected[key])]
    if not wrong:
        return correct(name, "dW, db and dA_prev all match finite differences.")
    if "db" in wrong and close(got["db"] * n, expected["db"]):
        return hint(name, "db is off by a factor of the batch size: add the rows, don't average.")
    if "dW" in wrong and close(got["dW"] * n, expected["dW"]):
        return hint(name, "dW is off by a factor of the batch size: delta already holds the 1/N.")
    return hint(name, f"{', '.join(wrong)} not yet right (the others are): check the shapes of "
                "the product you wrote, term by term.")  # fmt: skip


def check_hidden_delta(hidden_delta: Callable) -> Feedback:
    """``hidden_delta(delta_next, W_next, Z)``: dL/dZ for A = relu(Z), Z_next = A W_next^T + b."""
    name = "hidden_delta"
    rng = np.random.default_rng(22)
    n, width, n_next = 4, 6, 3
    Z = rng.standard_normal((n, width))
    Z[np.abs(Z) < 1e-2] = 0.5  # no entry at the kink of ReLU
    W_next = rng.standard_normal((n_next, width))
    delta_next = rng.standard_normal((n, n_next))

    def loss(Z_: np.ndarray) -> float:
        return float((delta_next * (np.maximum(Z_, 0) @ W_next.T)).sum())

    expected = numeric_gradient(loss, Z)
    got = result_array(
        name, attempt(name, hidden_delta, delta_next.copy(), W_next.copy(), Z.copy()), Z.shape
    )
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return correct(name, "matches finite differences through the weights and the ReLU.")
    through_weights = delta_next @ W_next
    if close(got, through_weights):
        return hint(
            name,
            "you carried the error back through the weights, but not through the ReLU: "
            "some of these units were switched off in the forward pass.",
        )
    if close(got, through_weights * Z) or close(got, through_weights * np.maximum(Z, 0)):
        return hint(name, "multiply by the derivative of ReLU at Z, not by Z (or ReLU(Z)) itself.")
    if close(got, through_weights * (Z < 0)):
        return hint(name, "the ReLU mask is inverted: which units let the gradient through?")
    return hint(name, "not yet: two links of the chain, the weights, then the activation.")


def check_sigmoid_hidden_delta(sigmoid_hidden_delta: Callable) -> Feedback:
    """``sigmoid_hidden_delta(delta_out, w2, h)`` for seed 000's network, h = sigmoid(X @ w1),
    logits = h @ w2: dL/d(X @ w1) given delta_out = dL/dlogits."""
    name = "sigmoid_hidden_delta"
    rng = np.random.default_rng(23)
    n, hidden, classes = 4, 5, 3
    Zh = rng.standard_normal((n, hidden))
    w2 = rng.standard_normal((hidden, classes))
    delta_out = rng.standard_normal((n, classes))
    h = _sigmoid(Zh)

    def loss(Z_: np.ndarray) -> float:
        return float((delta_out * (_sigmoid(Z_) @ w2)).sum())

    expected = numeric_gradient(loss, Zh)
    got = result_array(
        name, attempt(name, sigmoid_hidden_delta, delta_out.copy(), w2.copy(), h.copy()), h.shape
    )
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return correct(name, "matches finite differences through w2 and the sigmoid.")
    through_weights = delta_out @ w2.T
    if close(got, through_weights):
        return hint(
            name,
            "you went back through w2 but stopped before the sigmoid (and a sigmoid's "
            "output h is always > 0, so a ReLU mask would change nothing).",
        )
    if close(got, through_weights * _sigmoid(h) * (1 - _sigmoid(h))):
        return hint(name, "h already is the sigmoid's output: do not apply the sigmoid again.")
    return hint(name, "not yet: back through w2 (mind its layout here: h @ w2), then the sigmoid.")
