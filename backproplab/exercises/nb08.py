"""Self-checks for notebook 08, softmax and cross-entropy.

Expected answers come from numpy alone (``np.logaddexp.reduce`` for log-sum-exp, central finite
differences for gradients), never from the package's own softmax or the learner's code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Feedback, attempt, close, correct, hint, numeric_gradient, result_array

__all__ = ["check_cross_entropy_grad", "check_softmax_vjp", "check_stable_log_softmax"]


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax along the last axis via numpy's log(e^a + e^b), which never overflows."""
    return z - np.logaddexp.reduce(z, axis=-1, keepdims=True)


def _quiet_attempt(name: str, fn: Callable, *args: object) -> object:
    """``attempt`` with numpy's overflow warnings silenced: the check reports them as a hint."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        return attempt(name, fn, *args)


def check_stable_log_softmax(stable_log_softmax: Callable) -> Feedback:
    """``stable_log_softmax(z)``: log softmax of each row of z, finite even for huge logits."""
    name = "stable_log_softmax"
    gentle = np.array([[1.0, 2.0, 0.5, -1.0], [0.0, 0.3, -0.2, 2.0]])
    huge = np.array([[1000.0, 1001.0, 1002.0, 999.0], [-1000.0, 0.0, 5.0, -3.0]])
    results = {}
    for label, z in (("gentle", gentle), ("huge", huge)):
        got = result_array(name, _quiet_attempt(name, stable_log_softmax, z.copy()), z.shape)
        if isinstance(got, Feedback):
            return got
        results[label] = got
    got, expected = results["gentle"], _log_softmax(gentle)
    if not close(got, expected):
        with np.errstate(under="ignore"):
            if close(got, np.exp(expected)):
                return hint(name, "those are the probabilities; the function returns their log.")
            if close(np.exp(got).sum(axis=0), np.ones(gentle.shape[1])):
                return hint(name, "you normalised each column; normalise each row (the classes).")
            return hint(name, "not yet, even for small logits: check log(e^z_i / sum_k e^z_k).")
    got, expected = results["huge"], _log_softmax(huge)
    if close(got, expected):
        return correct(name, "right for small logits, and finite and right for logits near 1000.")
    if not np.all(np.isfinite(got)):
        if np.any(np.isnan(got[0])) or np.any(np.isposinf(got[0])):
            return hint(
                name,
                "right for small logits, but e^1000 overflows to inf (then inf/inf = nan). "
                "Softmax does not change if you subtract the same number from every logit "
                "of a row: choose that number well.",
            )
        return hint(
            name,
            "a -inf appears: a probability underflowed to 0 and then you took its log. "
            "Stay in log space: never take the log of a probability.",
        )
    return hint(name, "right for small logits but not for large ones: check what you subtract.")


def check_cross_entropy_grad(cross_entropy_grad: Callable) -> Feedback:
    """``cross_entropy_grad(logits, labels)``: dL/dlogits of the mean cross-entropy."""
    name = "cross_entropy_grad"
    rng = np.random.default_rng(11)
    logits = rng.standard_normal((5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    n = labels.size

    def loss(z: np.ndarray) -> float:
        return float(-_log_softmax(z)[np.arange(n), labels].mean())

    expected = numeric_gradient(loss, logits)
    got = result_array(
        name, _quiet_attempt(name, cross_entropy_grad, logits.copy(), labels.copy()), logits.shape
    )
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return correct(name, "matches finite differences of the mean cross-entropy (5 x 4).")
    if close(got, expected * n):
        return hint(name, "right shape, but off by a factor of the batch size (L is a mean).")
    if close(got, -expected) or close(got, -expected * n):
        return hint(name, "right size, wrong sign: the loss grows as the true class's score falls.")
    probs = np.exp(_log_softmax(logits))
    one_hot = np.eye(logits.shape[1])[labels]
    if close(got, -one_hot / probs / n) or close(got, -one_hot / probs):
        return hint(
            name,
            "that is the gradient with respect to the probabilities s; the question asks for "
            "the gradient with respect to the logits z (one more link of the chain).",
        )
    if close(got, probs / n) or close(got, probs):
        return hint(name, "the labels do not appear in your answer: where does the true class go?")
    return hint(name, "not yet: derive dL/dz for one example first, then average over the batch.")


def check_softmax_vjp(softmax_vjp: Callable) -> Feedback:
    """``softmax_vjp(g, s)``: g^T J for s = softmax(z), without building the K x K Jacobian J."""
    name = "softmax_vjp"
    z = np.array([0.2, -1.3, 2.1, 0.7, -0.4])
    g = np.array([1.5, -0.5, 0.3, 2.0, -1.0])
    s = np.exp(_log_softmax(z))
    expected = numeric_gradient(lambda v: float(g @ np.exp(_log_softmax(v))), z)
    got = result_array(name, attempt(name, softmax_vjp, g.copy(), s.copy()), z.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return correct(name, "matches finite differences of g . softmax(z) (K = 5).")
    if close(got, g * s * (1 - s)):
        return hint(
            name,
            "that uses only the diagonal of the Jacobian: moving z_j moves every s_i, "
            "because they share one denominator.",
        )
    if close(got, s * (g - g.sum())) or close(got, s * (g - g.mean())):
        return hint(name, "close: the number you subtract from g should weigh each g_i by s_i.")
    if close(got, g - s * g.sum()):
        return hint(name, "that is the vjp of log-softmax, not of softmax.")
    return hint(name, "not yet: write out sum_i g_i J_ij with J_ij = s_i (delta_ij - s_j).")
