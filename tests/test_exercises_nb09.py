"""Self-checks of notebook 09: a correct answer passes, typical mistakes get their hint, stubs
are "not done", and no hint gives the answer away."""

import numpy as np
import pytest

from backproplab.exercises import nb09


def stub(*args):
    raise NotImplementedError


# ---------------------------------------------------------------------------- linear_backward
def test_linear_backward_correct():
    feedback = nb09.check_linear_backward(lambda d, A, W: (d.T @ A, d.sum(axis=0), d @ W))
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda d, A, W: (A.T @ d, d.sum(axis=0), d @ W), "transposed"),
        (lambda d, A, W: (d.T @ A, d, d @ W), "its contributions add up"),
        (lambda d, A, W: (d.T @ A, d.mean(axis=0), d @ W), "factor of the batch size"),
        (lambda d, A, W: (d.T @ A / len(d), d.sum(axis=0), d @ W), "factor of the batch size"),
        (lambda d, A, W: (d.T @ A, d.sum(axis=0)), "three arrays"),
        (lambda d, A, W: (d.T @ A, d.sum(axis=0), d @ W.T), "ValueError"),
        (lambda d, A, W: (d.T @ A, -d.sum(axis=0), d @ W), "db not yet right"),
    ],
)
def test_linear_backward_hints(wrong, words):
    feedback = nb09.check_linear_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "d.T @ A" not in feedback.message and "delta.T" not in feedback.message


def test_linear_backward_not_done():
    assert nb09.check_linear_backward(stub).status == "not done"


# ------------------------------------------------------------------------------- hidden_delta
def test_hidden_delta_correct():
    feedback = nb09.check_hidden_delta(lambda d, W, Z: (d @ W) * (Z > 0))
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda d, W, Z: d @ W, "not through the ReLU"),
        (lambda d, W, Z: (d @ W) * Z, "not by Z"),
        (lambda d, W, Z: (d @ W) * (Z < 0), "inverted"),
        (lambda d, W, Z: (d @ W.T) * (Z > 0), "ValueError"),
        (lambda d, W, Z: -(d @ W) * (Z > 0), "not yet"),
    ],
)
def test_hidden_delta_hints(wrong, words):
    feedback = nb09.check_hidden_delta(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "(Z > 0)" not in feedback.message and "@ W" not in feedback.message


def test_hidden_delta_not_done():
    assert nb09.check_hidden_delta(stub).status == "not done"


# ----------------------------------------------------------------------- sigmoid_hidden_delta
def test_sigmoid_hidden_delta_correct():
    feedback = nb09.check_sigmoid_hidden_delta(lambda d, w2, h: (d @ w2.T) * h * (1 - h))
    assert feedback.passed, feedback


def sig(v):
    return 1 / (1 + np.exp(-v))


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda d, w2, h: d @ w2.T, "stopped before the sigmoid"),
        (lambda d, w2, h: (d @ w2.T) * (h > 0), "stopped before the sigmoid"),
        (lambda d, w2, h: (d @ w2.T) * sig(h) * (1 - sig(h)), "again"),
        (lambda d, w2, h: (d @ w2) * h * (1 - h), "ValueError"),
        (lambda d, w2, h: (d @ w2.T) * h, "not yet"),
    ],
)
def test_sigmoid_hidden_delta_hints(wrong, words):
    feedback = nb09.check_sigmoid_hidden_delta(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "h * (1 - h)" not in feedback.message and "w2.T" not in feedback.message


def test_sigmoid_hidden_delta_not_done():
    assert nb09.check_sigmoid_hidden_delta(stub).status == "not done"


def test_a_missing_return_is_named():
    def forgot_return(d, W, Z):
        (d @ W) * (Z > 0)

    feedback = nb09.check_hidden_delta(forgot_return)
    assert feedback.status == "hint" and "return" in feedback.message
    feedback = nb09.check_linear_backward(lambda d, A, W: (d.T @ A, None, d @ W))
    assert feedback.status == "hint" and "db is None" in feedback.message


def test_linear_backward_non_numbers_get_a_hint_not_a_crash():
    feedback = nb09.check_linear_backward(lambda d, A, W: (d.T @ A, "db", d @ W))
    assert feedback.status == "hint" and feedback.message.startswith("db is a str"), feedback
