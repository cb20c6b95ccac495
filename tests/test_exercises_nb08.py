"""Self-checks of notebook 08: a correct answer passes, typical mistakes get their hint, stubs
are "not done", and no hint gives the answer away."""

import numpy as np
import pytest

from backproplab.exercises import nb08


def stub(*args):
    raise NotImplementedError


# ------------------------------------------------------------------------- stable_log_softmax
def correct_log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def naive_log_softmax(z):
    return np.log(np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True))


def shifted_then_log(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return np.log(e / e.sum(axis=-1, keepdims=True))


def test_stable_log_softmax_correct():
    feedback = nb08.check_stable_log_softmax(correct_log_softmax)
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (naive_log_softmax, "overflows"),
        (shifted_then_log, "underflowed"),
        (lambda z: np.exp(correct_log_softmax(z)), "probabilities"),
        (lambda z: z - np.log(np.exp(z).sum(axis=0, keepdims=True)), "each column"),
        (lambda z: z - z.max(axis=-1, keepdims=True), "not yet"),
    ],
)
def test_stable_log_softmax_hints(wrong, words):
    with np.errstate(all="ignore"):  # the wrong answers overflow; the check must stay quiet
        feedback = nb08.check_stable_log_softmax(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "z.max" not in feedback.message and "largest" not in feedback.message


def test_stable_log_softmax_check_emits_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from the naive answer would fail here
        assert nb08.check_stable_log_softmax(naive_log_softmax).status == "hint"


def test_stable_log_softmax_not_done():
    assert nb08.check_stable_log_softmax(stub).status == "not done"


# ------------------------------------------------------------------------- cross_entropy_grad
def softmax_rows(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def one_hot(labels, k):
    return np.eye(k)[labels]


def test_cross_entropy_grad_correct():
    feedback = nb08.check_cross_entropy_grad(
        lambda z, y: (softmax_rows(z) - one_hot(y, z.shape[1])) / len(y)
    )
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda z, y: softmax_rows(z) - one_hot(y, z.shape[1]), "factor of the batch size"),
        (lambda z, y: (one_hot(y, z.shape[1]) - softmax_rows(z)) / len(y), "wrong sign"),
        (lambda z, y: -one_hot(y, z.shape[1]) / softmax_rows(z) / len(y), "probabilities s"),
        (lambda z, y: softmax_rows(z) / len(y), "labels do not appear"),
        (lambda z, y: softmax_rows(z) - 1, "not yet"),
    ],
)
def test_cross_entropy_grad_hints(wrong, words):
    feedback = nb08.check_cross_entropy_grad(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "s - y" not in feedback.message and "a - y" not in feedback.message


def test_cross_entropy_grad_not_done_and_bad_shape():
    assert nb08.check_cross_entropy_grad(stub).status == "not done"
    feedback = nb08.check_cross_entropy_grad(lambda z, y: softmax_rows(z)[:, 0])
    assert feedback.status == "hint" and "shape" in feedback.message


# -------------------------------------------------------------------------------- softmax_vjp
def test_softmax_vjp_correct():
    feedback = nb08.check_softmax_vjp(lambda g, s: s * (g - g @ s))
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda g, s: g * s * (1 - s), "only the diagonal"),
        (lambda g, s: s * (g - g.sum()), "weigh each g_i"),
        (lambda g, s: g - s * g.sum(), "log-softmax"),
        (lambda g, s: s * g, "not yet"),
    ],
)
def test_softmax_vjp_hints(wrong, words):
    feedback = nb08.check_softmax_vjp(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "g @ s" not in feedback.message and "(g - " not in feedback.message


def test_softmax_vjp_not_done():
    assert nb08.check_softmax_vjp(stub).status == "not done"


def test_a_missing_return_is_named():
    def forgot_return(g, s):
        s * (g - g @ s)

    feedback = nb08.check_softmax_vjp(forgot_return)
    assert feedback.status == "hint" and "return" in feedback.message
