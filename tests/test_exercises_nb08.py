"""Self-checks of notebook 08: a correct answer passes, plausible mistakes (no max-shift, one
global max, the log of a probability, a mean missed, ...) get a hint that names them without
giving the code, stubs are "not done", and the package cannot do the exercise."""

import time

import numpy as np
import pytest
from exercise_helpers import ESTIMATE_WORDS, estimated_vjp, hint_asserter, stub

import backproplab as bl
from backproplab.exercises import nb08

CHECKS = [
    nb08.check_softmax_vjp,
    nb08.check_stable_log_softmax,
    nb08.check_cross_entropy_grad,
    nb08.check_label_smoothing_grad,
]
CODE = ["np.", "max(axis", "keepdims", "g @ a", "a * (g", "eye(", "logits -"]


assert_hint = hint_asserter(CODE)


@pytest.mark.parametrize("check", CHECKS)
def test_not_done(check):
    assert check(stub).status == "not done"


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("answer", [None, "abc", [[1, 2]]])
def test_checks_never_raise_on_odd_answers(check, answer):
    assert check(lambda *args: answer).status == "hint"


def softmax_rows(z, shift=True):
    e = np.exp(z - z.max(axis=-1, keepdims=True) if shift else z)
    return e / e.sum(axis=-1, keepdims=True)


# -------------------------------------------------------------------------------- softmax_vjp
def vjp_through_engine(g, a):
    z = bl.Tensor(np.log(a), requires_grad=True)  # softmax(log a) = a
    (bl.softmax(z) * g).sum().backward()
    return z.grad


def test_softmax_vjp_correct():
    assert nb08.check_softmax_vjp(lambda g, a: a * (g - g @ a)).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda g, a: g * a * (1 - a), ["only the diagonal"]),
        (lambda g, a: a * (g - g.sum()), ["treats every g_i alike"]),
        (lambda g, a: g - a * g.sum(), ["log-softmax"]),
        (lambda g, a: -a * (g - g @ a), ["sign"]),
        (vjp_through_engine, ["calls the package"]),
        (lambda g, a: g @ (np.diag(a) - np.outer(a, a)), ["K x K array"]),  # J built after all
        (lambda g, a: g @ (a[:, None] * (np.eye(a.size) - a)), ["K x K array"]),
        (lambda g, a: g - g @ a, ["share a factor", "left it out"]),  # the factor a_j lost
        (lambda g, a: a * (g + g @ a), ["enters with a minus sign"]),  # sign slip in J
        (lambda g, a: a * g, ["only the i = j term"]),  # the denominator's part of J forgotten
        (lambda g, a: a * (g - a), ["what you subtract from g is a itself"]),  # g left out
        (lambda g, a: a * (g - g @ a) / a.size, ["not yet"]),  # a mean that is not there
    ],
)
def test_softmax_vjp_wrong(wrong, words):
    assert_hint(nb08.check_softmax_vjp(wrong), *words)


# The Jacobian built by routes no name gives away: refused by the memory a call with K = 2000
# takes (a K x K float64 array is 32 MB; the O(K) answers take some 32 KB).
def jacobian_by_loop(g, a):
    J = np.zeros((a.size, a.size))
    for i in range(a.size):  # row by row: J_ij = a_i (1[i = j] - a_j)
        J[i] = -a[i] * a
        J[i, i] += a[i]
    return g @ J


def mask_of_booleans(g, a):  # a K x K array of booleans: K^2 bytes, 4 MB at K = 2000
    same = np.arange(a.size)[:, None] == np.arange(a.size)[None, :]
    return a * (g @ same) - a * (g @ a)


def in_float32(g, a):  # a float32 K x K array: half the bytes of a float64 one
    g32, a32 = g.astype(np.float32), a.astype(np.float32)
    return g32 * a32 - g32 @ (a32[:, None] * a32[None, :])


def by_python_loop(g, a):  # O(K) in lists of Python floats
    total = sum(g_i * a_i for g_i, a_i in zip(g, a))
    return np.array([a_j * (g_j - total) for g_j, a_j in zip(g, a)])


@pytest.mark.parametrize(
    "wrong",
    [
        lambda g, a: g * a - g @ (a[:, None] * a[None, :]),  # an outer product by broadcasting
        lambda g, a: g @ (a[:, None] * ((np.arange(a.size)[:, None] == np.arange(a.size)) - a)),
        lambda g, a: g * a - g @ np.einsum("i,j->ij", a, a),
        lambda g, a: g * a - g @ np.tensordot(a, a, 0),
        lambda g, a: g * a - np.einsum("i,ij->j", g, a[:, None] * a),  # the vjp in one einsum
        jacobian_by_loop,
        mask_of_booleans,
    ],
    ids=["broadcast", "broadcast J", "einsum", "tensordot", "einsum vjp", "loop", "bool"],
)
def test_softmax_vjp_refuses_a_k_by_k_array_however_it_is_built(wrong):
    small = np.random.default_rng(0).random(5)
    small /= small.sum()
    g = np.arange(5.0)
    assert np.allclose(wrong(g, small), small * (g - g @ small), atol=1e-6)  # right values
    feedback = nb08.check_softmax_vjp(wrong)
    assert_hint(feedback, "right values", "K x K array", "O(K) memory")


@pytest.mark.parametrize(
    "in_float32_only",
    [in_float32, lambda g, a: a.astype(np.float32) * (g - g @ a).astype(np.float32)],
    ids=["K x K", "O(K)"],
)
def test_softmax_vjp_computed_in_float32_is_refused_as_in_the_other_checks(in_float32_only):
    # float64 in, float64 out: the rule of every derivation check with an exact reference (a
    # float32 answer agrees to about 7 digits only, as an estimate by finite differences does)
    small = np.random.default_rng(0).random(5)
    small /= small.sum()
    g = np.arange(5.0)
    assert np.allclose(in_float32_only(g, small), small * (g - g @ small), atol=1e-6)
    assert_hint(nb08.check_softmax_vjp(in_float32_only), "float32", "about 7 digits")


def test_softmax_vjp_that_fails_for_a_large_k_is_not_correct():
    def small_only(g, a):
        if a.size > 100:
            raise ValueError("too many classes")
        return a * (g - g @ a)

    assert_hint(nb08.check_softmax_vjp(small_only), "ValueError: too many classes")
    feedback = nb08.check_softmax_vjp(lambda g, a: a * (g - g @ a) if a.size < 10 else None)
    assert_hint(feedback, "your result for K = 2000 is None")


@pytest.mark.parametrize(
    "wrong",
    [
        lambda g, a: a * (g - g @ a) if a.size < 10 else np.zeros_like(a),  # small cases only
        lambda g, a: a * (g - g[:5] @ a[:5]),  # a sum over the first five classes
        lambda g, a: a * (g - g @ a) * (a.size < 10),
    ],
    ids=["zeros", "five classes", "masked"],
)
def test_softmax_vjp_is_checked_for_values_at_a_large_k(wrong):
    assert_hint(nb08.check_softmax_vjp(wrong), "not for K = 2000")


@pytest.mark.parametrize(
    "right",
    [
        lambda g, a: a * (g - g @ a),
        lambda g, a: a * (g - (g * a).sum()),
        by_python_loop,
    ],
    ids=["g @ a", "sum", "python loop"],
)
def test_softmax_vjp_accepts_o_of_k_answers_quickly(right):
    start = time.perf_counter()
    assert nb08.check_softmax_vjp(right).passed
    assert time.perf_counter() - start < 2.0  # measured: 0.02 s for the first two


# ------------------------------------------------------------------------- stable_log_softmax
def right_log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def test_stable_log_softmax_correct():
    assert nb08.check_stable_log_softmax(right_log_softmax).passed


def global_max(z):
    shifted = z - z.max()  # one maximum for the whole batch
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def shifted_by(z, shift):
    s = shift(z)
    return z - s - np.log(np.exp(z - s).sum(axis=-1, keepdims=True))


def shift_left_behind(z):
    m = z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))  # log-sum of z - m, not of z


def in_place(z):
    z -= z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda z: np.log(softmax_rows(z, shift=False)), ["overflows"]),
        (global_max, ["one maximum for the whole batch", "its own maximum"]),
        (lambda z: np.log(softmax_rows(z)), ["log of a probability"]),
        (lambda z: softmax_rows(z), ["probabilities"]),
        (lambda z: right_log_softmax(z.T).T, ["column"]),
        (in_place, ["in place"]),
        (lambda z: shifted_by(z, lambda v: v.mean(axis=-1, keepdims=True)), ["whole row"]),
        (lambda z: shifted_by(z, lambda v: v.min(axis=-1, keepdims=True)), ["whole row"]),
        (lambda z: shifted_by(z, lambda v: v[:, :1]), ["whole row"]),  # the first logit
        (lambda z: z - z.max(axis=-1, keepdims=True), ["off by one constant"]),  # no log-sum
        (shift_left_behind, ["off by one constant"]),
    ],
)
def test_stable_log_softmax_wrong(wrong, words):
    feedback = nb08.check_stable_log_softmax(wrong)
    assert_hint(feedback, *words)
    if wrong is global_max:
        assert "probability" not in feedback.message


# ------------------------------------------------------------------------- cross_entropy_grad
def ce_grad(logits, labels, shift=True, mean=True, sign=1.0, use_labels=True, by_mean=False):
    if by_mean:  # shifted by each row's mean instead of its maximum
        logits, shift = logits - logits.mean(axis=1, keepdims=True), False
    a = softmax_rows(logits, shift=shift)
    y = np.eye(logits.shape[1])[labels] if use_labels else 0.0
    return sign * (a - y) / (len(labels) if mean else 1)


def ce_grad_global_max(logits, labels):
    """The notebook's 1-d stable_softmax applied to a batch: one maximum for all the rows."""
    e = np.exp(logits - logits.max())
    a = e / e.sum(axis=1, keepdims=True)
    return (a - np.eye(logits.shape[1])[labels]) / len(labels)


def ce_grad_every_label(logits, labels):
    """``a[:, labels] -= 1``: numpy indexes every row at every label, not row n at labels[n]."""
    a = softmax_rows(logits)
    a[:, labels] -= 1
    return a / len(labels)


def ce_grad_true_class_only(logits, labels, mean=True):
    """The loss reads a_c only, so only the true class's logit gets a gradient: a_c - 1 there,
    0 at every other logit (forgetting that every probability shares one denominator)."""
    rows = np.arange(len(labels))
    grad = np.zeros(logits.shape)
    grad[rows, labels] = softmax_rows(logits)[rows, labels] - 1
    return grad / (len(labels) if mean else 1)


def ce_grad_clipped(logits, labels):
    """e^z kept finite by clipping the logits to +-700 (a habit from the naive softmax): right
    for ordinary logits, but the row near 1000 becomes a tie."""
    a = softmax_rows(np.clip(logits, -700, 700), shift=False)
    return (a - np.eye(logits.shape[1])[labels]) / len(labels)


def ce_grad_columns(logits, labels):
    """The softmax taken along axis 0: each column (a class over the batch) sums to 1."""
    a = softmax_rows(logits.T).T
    return (a - np.eye(logits.shape[1])[labels]) / len(labels)


def test_cross_entropy_grad_correct():
    assert nb08.check_cross_entropy_grad(ce_grad).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda z, c: ce_grad(z, c, shift=False), ["overflows", "subtract"]),
        (lambda z, c: ce_grad(z, c, mean=False), ["batch size"]),
        (lambda z, c: ce_grad(z, c, sign=-1.0), ["wrong sign"]),
        (lambda z, c: ce_grad(z, c, use_labels=False), ["labels do not appear"]),
        (lambda z, c: -np.eye(z.shape[1])[c] / softmax_rows(z) / len(c), ["probabilities a"]),
        (lambda z, c: ce_grad(z, c, by_mean=True), ["overflows"]),  # shifted by the row's mean
        # divided by K (the classes) instead of N, or by N K (.mean() of the whole table): got
        # the catch-all "derive dL/dz for one example first" (a novice's walk of the workbook)
        (lambda z, c: ce_grad(z, c) * len(c) / z.shape[1], ["mean over the classes"]),
        (lambda z, c: ce_grad(z, c) / z.shape[1], ["mean over the classes"]),
        (lambda z, c: ce_grad(z, (c + 1) % z.shape[1]), ["not yet"]),  # labels off by one
        (ce_grad_global_max, ["whole batch", "own maximum"]),  # notebook 08's 1-d stable_softmax
        (ce_grad_every_label, ["every example", "labels[n]"]),  # a[:, labels] -= 1
        (ce_grad_true_class_only, ["only the true class", "denominator"]),
        (lambda z, c: ce_grad_true_class_only(z, c, mean=False), ["only the true class"]),
        # logits clipped to keep e^z finite, and a softmax of each column: both got only the
        # catch-all "derive dL/dz for one example first" (found in the review of 08 and 09)
        (ce_grad_clipped, ["ordinary logits", "clipping", "does softmax not see"]),
        (ce_grad_columns, ["each column", "each row"]),
    ],
)
def test_cross_entropy_grad_wrong(wrong, words):
    assert_hint(nb08.check_cross_entropy_grad(wrong), *words)


def test_cross_entropy_grad_refuses_the_package():
    def through_engine(logits, labels):
        z = bl.Tensor(logits, requires_grad=True)
        bl.cross_entropy(z, labels).backward()
        return z.grad

    assert_hint(nb08.check_cross_entropy_grad(through_engine), "calls the package")


# ----------------------------------------------------------------------- label_smoothing_grad
def smooth_grad(logits, labels, eps, spread_over_others=False, smooth=True, shift=True):
    n, k = logits.shape
    y = np.eye(k)[labels]
    if not smooth:
        q = y
    elif spread_over_others:
        q = (1 - eps) * y + eps / (k - 1) * (1 - y)
    else:
        q = (1 - eps) * y + eps / k
    return (softmax_rows(logits, shift=shift) - q) / n


def by_row_mean(logits, labels, eps):
    centred = logits - logits.mean(axis=1, keepdims=True)  # the mean, not the maximum
    return smooth_grad(centred, labels, eps, shift=False)


def test_label_smoothing_grad_correct():
    assert nb08.check_label_smoothing_grad(smooth_grad).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda z, c, e: smooth_grad(z, c, e, smooth=False), ["without smoothing"]),
        (lambda z, c, e: smooth_grad(z, c, e, spread_over_others=True), ["eps / K", "sums to 1."]),
        (lambda z, c, e: smooth_grad(z, c, e, shift=False), ["overflows"]),
        (lambda z, c, e: smooth_grad(z, c, e) * len(c), ["batch size"]),
        (by_row_mean, ["overflows"]),
        (lambda z, c, e: smooth_grad(z, c, 0.1), ["take eps from the argument"]),  # 0.1 written in
        # every class gets eps instead of eps / K: a novice walk got only the catch-all hint
        (
            lambda z, c, e: (softmax_rows(z) - (1 - e) * np.eye(4)[c] - e) / len(c),
            ["gets eps / K", "q sums to 1."],
        ),
        # only the true class's logit gets a gradient (a_c - q_c), the others none
        (lambda z, c, e: smooth_grad(z, c, e) * np.eye(4)[c], ["only the true class"]),
        # eps taken from the true class and given to none (q sums to 1 - eps): got only the
        # catch-all "derive dL/dz for one example first" (found trying the likely slips)
        (
            lambda z, c, e: (softmax_rows(z) - (1 - e) * np.eye(4)[c]) / len(c),
            ["gets eps / K", "q sums to 1."],
        ),
        # the true class keeps 1 - eps and only the others get eps / K (q sums to 1 - eps / K),
        # and eps / (K - 1) given to every class: both got only the catch-all hint (found in the
        # review of 08 and 09); the check now knows any target of that form whose rows miss 1
        (
            lambda z, c, e: (
                (softmax_rows(z) - (1 - e) * np.eye(4)[c] - e / 4 * (1 - np.eye(4)[c])) / len(c)
            ),
            ["gets eps / K", "q sums to 1."],
        ),
        (
            lambda z, c, e: (softmax_rows(z) - (1 - e) * np.eye(4)[c] - e / 3) / len(c),
            ["gets eps / K", "q sums to 1."],
        ),
    ],
)
def test_label_smoothing_grad_wrong(wrong, words):
    assert_hint(nb08.check_label_smoothing_grad(wrong), *words)


# ------------------------------------------------- classes counted from the labels (a minibatch)
def probs_of(logits):
    return softmax_rows(logits)


def ce_classes_from_largest_label(logits, labels):
    # right when the batch holds the last class (the check's first batch does)
    return (probs_of(logits) - np.eye(labels.max() + 1)[labels]) / labels.size


def smoothing_over_classes_seen(logits, labels, eps):
    # eps spread over the classes that occur in the batch: silently wrong when one is missing
    k = len(np.unique(labels))
    q = np.full(logits.shape, eps / k)
    q[np.arange(labels.size), labels] += 1 - eps
    return (probs_of(logits) - q) / labels.size


def smoothing_classes_from_largest_label(logits, labels, eps):
    k = labels.max() + 1
    return (probs_of(logits) - (1 - eps) * np.eye(k)[labels] - eps / k) / labels.size


def ce_four_classes(logits, labels):  # the number of classes of the first batch, written in
    return (probs_of(logits) - np.eye(4)[labels]) / labels.size


@pytest.mark.parametrize(
    "check, wrong",
    [
        (nb08.check_cross_entropy_grad, ce_classes_from_largest_label),
        (nb08.check_label_smoothing_grad, smoothing_over_classes_seen),
        (nb08.check_label_smoothing_grad, smoothing_classes_from_largest_label),
    ],
)
def test_classes_counted_from_the_labels_are_refused(check, wrong):
    feedback = check(wrong)
    assert_hint(feedback, "miss some of the 5 classes", "count the classes")
    assert "write in" not in feedback.message, feedback


def ce_five_examples(logits, labels):  # the first batch's 5 examples written in for the mean
    return (probs_of(logits) - np.eye(logits.shape[1])[labels]) / 5


def smoothing_five_examples(logits, labels, eps):
    k = logits.shape[1]
    return (probs_of(logits) - (1 - eps) * np.eye(k)[labels] - eps / k) / 5


@pytest.mark.parametrize(
    "check, wrong",
    [
        (nb08.check_cross_entropy_grad, ce_four_classes),
        (nb08.check_cross_entropy_grad, ce_five_examples),
        (nb08.check_label_smoothing_grad, smoothing_five_examples),
    ],
)
def test_a_size_written_in_is_not_blamed_on_the_labels(check, wrong):
    """It said 'count the classes from the labels?' to an answer dividing by 5, the first batch's
    number of examples, whose classes were read from the logits."""
    feedback = check(wrong)
    assert_hint(feedback, "write in a size of the first batch", "5 examples")
    assert "count the classes from the labels" not in feedback.message, feedback


def _log_softmax_rows(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# Hints no test reached before the coverage sweep: each is reachable by the answer below
@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda z: 2.0 * z, "not yet, even for small logits"),
        (lambda z: _log_softmax_rows(np.clip(z, -50, 50)), "right for small logits but not for"),
    ],
)
def test_stable_log_softmax_wrong_in_no_known_way_gets_the_general_hints(answer, words):
    assert nb08.check_stable_log_softmax(_log_softmax_rows).passed
    assert_hint(nb08.check_stable_log_softmax(answer), words)


# Finite-difference answers: central differences of a forward pass of the answer's own, right to
# 8-11 digits, within close() of the gradient. The references are exact now (closed forms), so
# the checks tell them from derived answers (exercises.estimated) instead of calling them right.
def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _estimated_softmax_vjp(g, a, h):
    return estimated_vjp(_softmax, g, [np.log(a)], 0, h)


def _estimated_cross_entropy_grad(logits, labels, h):
    q = np.eye(logits.shape[1])[labels]
    return _estimated_smoothing_grad(logits, q, h)


def _estimated_smoothing_grad(logits, q, h):
    def loss(z):  # the mean cross-entropy, with the row's maximum shifted out
        shifted = z - z.max(axis=1, keepdims=True)
        return -(q * (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))).sum(1).mean()

    return estimated_vjp(loss, 1.0, [logits], 0, h)


def _estimated_label_smoothing_grad(logits, labels, eps, h):
    k = logits.shape[1]
    return _estimated_smoothing_grad(logits, (1 - eps) * np.eye(k)[labels] + eps / k, h)


@pytest.mark.parametrize("h", [1e-5, 1e-6])
@pytest.mark.parametrize(
    "check, estimate",
    [
        (nb08.check_softmax_vjp, _estimated_softmax_vjp),
        (nb08.check_cross_entropy_grad, _estimated_cross_entropy_grad),
        (nb08.check_label_smoothing_grad, _estimated_label_smoothing_grad),
    ],
    ids=["softmax_vjp", "cross_entropy_grad", "label_smoothing_grad"],
)
def test_a_finite_difference_answer_is_refused_with_the_estimate_hint(check, estimate, h):
    assert_hint(check(lambda *args: estimate(*args, h)), *ESTIMATE_WORDS)
