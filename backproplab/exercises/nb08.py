"""Self-checks for notebook 08, softmax and cross-entropy.

Exercises (the softmax output is called ``a``, as in notebooks 08 and 09):

* ``softmax_vjp(g, a)``: g^T J for a = softmax(z), without the K x K Jacobian (an answer that
  builds a K x K array is refused by the memory one call with K = 2000 takes);
* ``stable_log_softmax(z)``: log softmax of each row, finite for logits near +-1000;
* ``cross_entropy_grad(logits, labels)``: dL/dlogits of the mean cross-entropy, huge logits too;
* ``label_smoothing_grad(logits, labels, eps)``, the challenge: the same for label smoothing.

Expected answers come from numpy alone (``np.logaddexp.reduce`` for log-sum-exp, closed forms
for gradients: g^T J with notebook 07's Jacobian, (a - q) / N), never from the package or the
learner's code. They are exact to rounding, so that an answer estimated by finite differences,
right to 8-11 digits only, can be told from a derived one (``estimated``). Answers that call the
package are refused (``uses_package``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import (
    Feedback,
    attempt,
    attempt_own,
    call_measured,
    close,
    correct,
    estimated,
    hint,
    names_used,
    result_array,
    roughly,
)
from ._draws import check_rng

__all__ = [
    "check_cross_entropy_grad",
    "check_label_smoothing_grad",
    "check_softmax_vjp",
    "check_stable_log_softmax",
]


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax along the last axis via numpy's log(e^a + e^b), which never overflows."""
    return z - np.logaddexp.reduce(z, axis=-1, keepdims=True)


_SQUARE_MATRIX = {"outer", "diag", "diagflat", "eye", "identity"}  # ways to build a K x K array
# Any other way (broadcasting, np.einsum, a loop filling np.zeros) shows in the memory a call
# takes: at K = 2000 a K x K float64 array is 32 MB (measured: 8.0 K^2 bytes and more), a K x K
# array of booleans 4 MB (1.04 K^2), while the O(K) answers take 32 KB (a Python loop 80 KB).
_BIG_K = 2000
_MATRIX_BYTES = _BIG_K**2 // 2  # 2 MB: more is refused
_K_BY_K = (
    "right values, but your function builds a K x K array (the Jacobian, the identity, an outer "
    "product): the exercise is to simplify the sum first, so that O(K) memory and work are enough."
)
_OVERFLOW = (
    "e^1000 overflows to inf (then inf/inf = nan). Softmax does not change if you subtract the "
    "same number from every logit of a row: choose that number well."
)


def check_softmax_vjp(softmax_vjp: Callable) -> Feedback:
    """``softmax_vjp(g, a)``: g^T J for a = softmax(z), without building the K x K Jacobian J.

    Tried on ordinary logits, on ties and on one logit far ahead (a nearly one-hot); then, once
    the values are right, called with K = 2000, where any K x K array shows in the memory the
    call takes (``call_measured``).
    """
    name = "softmax_vjp"
    g = np.array([1.5, -0.5, 0.3, 2.0, -1.0])
    for z, to_rounding in (
        (np.array([0.2, -1.3, 2.1, 0.7, -0.4]), True),
        (np.zeros(5), True),  # ties
        # one logit far ahead: the vjp is ~1e-10, and g_j - g . a cancels; right forms differ
        # from each other by 3e-8 of it (measured), so there "exact" is close() alone
        (np.array([25.0, 0.0, 1.0, -2.0, 0.5]), False),
    ):
        a = np.exp(_log_softmax(z))
        expected = g @ (np.diag(a) - np.outer(a, a))  # g^T J, J from notebook 07
        got = result_array(name, attempt_own(name, softmax_vjp, g, a), z.shape)
        if isinstance(got, Feedback):
            return got
        # and to rounding, as a derived answer computed in float64 is (an estimate by finite
        # differences, or a computation in float32, is refused here as in the other checks)
        if close(got, expected):
            derived = estimated(name, got, expected) if to_rounding else None
            if derived is not None:
                return derived
            continue
        if close(got, g * a * (1 - a)):
            return hint(
                name,
                "that uses only the diagonal of the Jacobian: moving z_j moves every a_i, "
                "because they share one denominator.",
            )
        if close(got, a * (g - g.sum())) or close(got, a * (g - g.mean())):
            return hint(
                name,
                "close, but the number you subtract from g treats every g_i alike: in "
                "sum_i g_i J_ij, each g_i comes with a factor of its own.",
            )
        if close(got, g - a * g.sum()):
            return hint(name, "that is the vjp of log-softmax, not of softmax.")
        if close(got, a * (g - a)) or close(got, a * g - a * a):
            return hint(
                name,
                "close, but what you subtract from g is a itself, which leaves g out of "
                "those terms: write sum_i g_i J_ij out term by term; what multiplies -a_j?",
            )
        if close(got, -expected):
            return hint(name, "right size, wrong sign.")
        dot = g @ a
        if close(got, g - dot):
            return hint(
                name,
                "close: both terms of sum_i g_i a_i (1[i = j] - a_j) share a factor, and your "
                "answer left it out.",
            )
        if close(got, a * (g + dot)):
            return hint(
                name,
                "close, but the term that comes from the shared denominator, -a_i a_j in J_ij, "
                "enters with a minus sign: yours adds it.",
            )
        if close(got, a * g):
            return hint(
                name,
                "you kept only the i = j term of the sum, as if a_j moved with z_j alone: the "
                "-a_i a_j part of every J_ij (the shared denominator) is missing.",
            )
        return roughly(name, got, expected) or hint(
            name, "not yet: write out sum_i g_i J_ij with J_ij = a_i (1[i = j] - a_j)."
        )
    if names_used(softmax_vjp) & _SQUARE_MATRIX:
        return hint(name, _K_BY_K)
    big = _big_matrix(name, softmax_vjp)
    if big is not None:
        return big
    return correct(name, "matches the exact vjp of softmax, also for ties and a far lead.")


def _big_matrix(name: str, softmax_vjp: Callable) -> Feedback | None:
    """A hint if one call with K = 2000 takes memory of the order of K^2 (a K x K array built,
    by whatever route), or does not give the K right numbers; None for a right O(K) answer."""
    rng = check_rng(8)
    a = np.exp(_log_softmax(rng.standard_normal(_BIG_K)))
    g = rng.standard_normal(_BIG_K)
    with np.errstate(all="ignore"):
        measured = attempt(name, lambda: call_measured(softmax_vjp, g, a))
    if isinstance(measured, Feedback):
        return measured
    result, peak = measured
    got = result_array(name, result, (_BIG_K,), what=f"your result for K = {_BIG_K}")
    if isinstance(got, Feedback):
        return got
    if peak > _MATRIX_BYTES:
        return hint(name, _K_BY_K)
    if not close(got, a * (g - g @ a)):  # the formula, checked on the small cases above
        return hint(
            name,
            f"right for K = 5, but not for K = {_BIG_K}: does your function assume a number of "
            f"classes, or a particular input?",
        )
    return None


def check_stable_log_softmax(stable_log_softmax: Callable) -> Feedback:
    """``stable_log_softmax(z)``: log softmax of each row of z, finite even for huge logits."""
    name = "stable_log_softmax"
    gentle = np.array([[1.0, 2.0, 0.5, -1.0], [0.0, 0.3, -0.2, 2.0], [0.7, 0.7, 0.7, 0.7]])
    huge = np.array(
        [
            [1000.0, 1001.0, 1002.0, 999.0],
            [-1000.0, 0.0, 5.0, -3.0],
            [800.0, -800.0, 0.0, 1.0],  # spread out: a shift by the row's mean still overflows
        ]
    )
    results = {}
    for label, z in (("gentle", gentle), ("huge", huge)):
        got = result_array(name, attempt_own(name, stable_log_softmax, z), z.shape)
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
            off = got - expected
            if np.allclose(off, off[:, :1]):  # every row off by a constant of its own
                return hint(
                    name,
                    "each row is off by one constant: the number you subtract from the logits "
                    "of a row must be log sum_k e^z_k, whatever shift you used inside the sum.",
                )
            return hint(name, "not yet, even for small logits: check log(e^z_i / sum_k e^z_k).")
    got, expected = results["huge"], _log_softmax(huge)
    if close(got, expected):
        return correct(name, "right for small logits, and finite and right for logits near 1000.")
    finite = np.isfinite(got)
    if not finite[0].all():
        return hint(name, "right for small logits, but " + _OVERFLOW)
    if np.all(np.isposinf(got[1])):  # every e^(z - shift) of row 1 underflowed: log 0 = -inf
        return hint(
            name,
            "the row with the largest logit is right, but every entry of a row far below it is "
            "inf or nan: you subtracted one maximum for the whole batch, and that row's "
            "exponentials all underflowed to 0. Each row needs its own maximum.",
        )
    if not finite.any(axis=1).all():
        return hint(
            name,
            "a whole row is inf or nan: after your shift, some exponent of that row is still far "
            "above 0, and e^1000 overflows. Which shift makes every exponent of a row at most 0?",
        )
    if not finite.all():
        return hint(
            name,
            "a -inf appears: a probability underflowed to 0 and then you took its log. "
            "Stay in log space: never take the log of a probability.",
        )
    return hint(name, "right for small logits but not for large ones: check what you subtract.")


def _ce_case() -> tuple[np.ndarray, np.ndarray]:
    rng = check_rng(11)
    logits = rng.standard_normal((5, 4))
    logits[1] = [1000.0, 1001.0, 1002.0, 999.0]  # would overflow e^z
    logits[2] = [-800.0, 800.0, 0.0, -5.0]  # the true class far behind (a_c underflows), and
    # logits so spread out that a shift by the row's mean, not its maximum, still overflows
    logits[3] = [2.0, 2.0, 2.0, 2.0]  # a tie
    labels = np.array([0, 3, 0, 1, 2])
    return logits, labels


def _classes_missing(name: str, fn: Callable, eps: float | None = None) -> Feedback | None:
    """Two more, ordinary batches of other sizes: one of 6 examples that holds every one of its 3
    classes, then one of 4 whose labels miss some of its 5 classes, the last one among them (as a
    minibatch's may). None if ``fn`` (``cross_entropy_grad``, or with ``eps``
    ``label_smoothing_grad``) is right on both, else the hint. A size of the first batch written
    in fails on the first of them; the classes counted from the labels (their largest value, or
    how many different ones occur), on the second only."""
    rng = check_rng(12)
    missing = rng.standard_normal((4, 5)), np.array([1, 1, 3, 0])  # classes 2 and 4 never occur
    every = rng.standard_normal((6, 3)), np.array([2, 0, 1, 1, 0, 2])
    for logits, labels in (every, missing):
        n, k = logits.shape
        q = np.eye(k)[labels] if eps is None else (1 - eps) * np.eye(k)[labels] + eps / k
        expected = (np.exp(_log_softmax(logits)) - q) / n
        args = (logits, labels) if eps is None else (logits, labels, eps)
        result = attempt_own(name, fn, *args)
        got = result_array(name, result, logits.shape)
        if not isinstance(got, Feedback) and close(got, expected):
            continue
        if isinstance(result, Feedback) and result.status != "hint":
            return result
        if labels is every[1]:
            return hint(
                name,
                f"right on the first batch, but not on one of {n} examples and {k} classes that "
                "holds every class: does your function write in a size of the first batch (its "
                "5 examples, its 4 classes)? Every size can be read from the arrays it is given.",
            )
        return hint(
            name,
            f"right on a batch that holds every class, but not on one of {n} examples whose "
            f"labels ({', '.join(map(str, labels))}) miss some of the {k} classes, the last one "
            "among them: does your function count the classes from the labels? A batch need not "
            "hold every class; the logits have one column per class.",
        )
    return None


def _grad_hints(name: str, got: np.ndarray, expected: np.ndarray, logits, labels) -> Feedback:
    n = labels.size
    if not np.all(np.isfinite(got)):
        with np.errstate(all="ignore"):  # one maximum for the whole batch: which rows fail
            e = np.exp(logits - logits.max())
            one_max = ~np.isfinite(e / e.sum(axis=1, keepdims=True)).all(axis=1)
        if np.array_equal(~np.isfinite(got).all(axis=1), one_max):
            return hint(
                name,
                "inf or nan in the rows far below the batch's largest logit, while its own row "
                "is fine: one maximum for the whole batch makes every e^(z - shift) of such a "
                "row underflow to 0 (then 0/0 = nan). Each row needs its own maximum.",
            )
        return hint(name, "inf or nan in your gradient for the rows with huge logits: " + _OVERFLOW)
    if close(got, expected * n):
        return hint(name, "right shape, but off by a factor of the batch size (L is a mean).")
    classes = logits.shape[1]
    if close(got, expected * n / classes) or close(got, expected / classes):
        return hint(
            name,
            "right direction, but divided as if L were a mean over the classes too: L averages "
            "the examples' losses, and each example's loss is already a sum over its classes.",
        )
    if close(got, -expected) or close(got, -expected * n):
        return hint(name, "right size, wrong sign: the loss grows as the true class's score falls.")
    true_class = np.eye(logits.shape[1])[labels]  # 1 at each row's true class, 0 elsewhere
    if close(got, expected * true_class) or close(got, expected * true_class * n):
        return hint(
            name,
            "only the true class's logit gets a gradient in your answer, the others none. But "
            "moving any logit moves every probability (they share one denominator), so every "
            "logit of a row gets a gradient.",
        )
    probs = np.exp(_log_softmax(logits))
    if close(got, probs / n) or close(got, probs):
        return hint(name, "the labels do not appear in your answer: where does the true class go?")
    every_label = np.zeros_like(probs)
    every_label[:, labels] = 1.0  # each row marked at the labels of all the rows
    if close(got, (probs - every_label) / n) or close(got, probs - every_label):
        return hint(
            name,
            "every row has its 1 subtracted at the true class of every example of the batch: "
            "row n's true class is labels[n], in row n only.",
        )
    columns = np.exp(_log_softmax(logits.T)).T  # each column normalised instead of each row
    if close(got, (columns - np.eye(logits.shape[1])[labels]) / n):
        return hint(name, "you normalised each column; softmax normalises each row (the classes).")
    ordinary = np.abs(logits).max(axis=1) < 100  # the rows without huge logits
    if close(got[ordinary], expected[ordinary]):
        return hint(
            name,
            "right for ordinary logits, but not for the rows with huge ones: what you did to keep "
            "them finite changed the softmax (clipping the logits does): which change of a "
            "row's logits does softmax not see?",
        )
    return roughly(name, got, expected) or hint(
        name, "not yet: derive dL/dz for one example first, then average over the batch."
    )


def check_cross_entropy_grad(cross_entropy_grad: Callable) -> Feedback:
    """``cross_entropy_grad(logits, labels)``: dL/dlogits of the mean cross-entropy.

    The batch has an ordinary row, a row of logits near 1000, a row whose true class is 1600
    behind, and a tie: an answer without the max-shift (or with another shift) fails.
    """
    name = "cross_entropy_grad"
    logits, labels = _ce_case()
    n = labels.size
    one_hot = np.eye(logits.shape[1])[labels]
    probs = np.exp(_log_softmax(logits))
    expected = (probs - one_hot) / n  # exact to rounding: a - y, over the batch's N
    got = result_array(name, attempt_own(name, cross_entropy_grad, logits, labels), logits.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        missing = estimated(name, got, expected) or _classes_missing(name, cross_entropy_grad)
        if missing is not None:
            return missing
        return correct(name, "matches the exact gradient, also for logits near 1000 and a tie.")
    with np.errstate(divide="ignore", invalid="ignore"):
        wrt_probs = -one_hot / probs
    rows = np.isfinite(wrt_probs).all(axis=1)  # rows where no probability underflowed to 0
    if close(got[rows], wrt_probs[rows] / n) or close(got[rows], wrt_probs[rows]):
        return hint(
            name,
            "that is the gradient with respect to the probabilities a; the question asks for "
            "the gradient with respect to the logits z (one more link of the chain).",
        )
    return _grad_hints(name, got, expected, logits, labels)


def _misspread(target: np.ndarray, one_hot: np.ndarray) -> bool:
    """True if ``target``, what an answer of the form (a - target) / N subtracts, is one number at
    every true class and one at every other class, but its rows do not sum to 1: eps spread in
    some other way than eps / K to every class (given whole, to the other classes only, taken from
    the true class and given to none, ...)."""
    on, off = target[one_hot == 1], target[one_hot == 0]
    if not (np.all(np.isfinite(target)) and np.ptp(on) < 1e-6 and np.ptp(off) < 1e-6):
        return False
    return not close(target.sum(axis=1), np.ones(len(target)))


def check_label_smoothing_grad(label_smoothing_grad: Callable) -> Feedback:
    """``label_smoothing_grad(logits, labels, eps)``: dL/dlogits of the mean cross-entropy
    against the smoothed target q = (1 - eps) y + eps / K. Two values of eps are tried, so that
    a number written into the answer cannot stand in for ``eps``."""
    name = "label_smoothing_grad"
    logits, labels = _ce_case()
    n, k = logits.shape
    one_hot = np.eye(k)[labels]
    probs = np.exp(_log_softmax(logits))
    for eps in (0.1, 0.3):
        q = (1 - eps) * one_hot + eps / k
        expected = (probs - q) / n  # exact to rounding
        got = result_array(
            name, attempt_own(name, label_smoothing_grad, logits, labels, eps), logits.shape
        )
        if isinstance(got, Feedback):
            return got
        if close(got, expected):  # and to rounding, as a derived answer is
            derived = estimated(name, got, expected)
            if derived is not None:
                return derived
            continue
        if close(got, (probs - one_hot) / n):
            return hint(
                name, "that is the gradient without smoothing: the target is not one-hot now."
            )
        if eps != 0.1 and close(got, (probs - 0.9 * one_hot - 0.1 / k) / n):
            return hint(
                name,
                f"right for eps = 0.1, but with eps = {eps} your answer still smooths by 0.1: "
                "take eps from the argument.",
            )
        others = (1 - eps) * one_hot + eps / (k - 1) * (1 - one_hot)  # q sums to 1, spread wrong
        if close(got, (probs - others) / n) or _misspread(probs - n * got, one_hot):
            return hint(
                name,
                "check how eps is spread: here every one of the K classes, the true one "
                "included, gets eps / K, so that q sums to 1.",
            )
        return _grad_hints(name, got, expected, logits, labels)
    missing = _classes_missing(name, label_smoothing_grad, eps=0.2)
    if missing is not None:
        return missing
    return correct(name, "the gradient is (a - q) / N: prediction minus smoothed target.")
