"""Self-checks of notebook 07: a correct answer passes, typical mistakes get their hint, stubs
are "not done", and no hint gives the answer away."""

import numpy as np
import pytest

from backproplab.exercises import nb07


def stub(*args):
    raise NotImplementedError


# --------------------------------------------------------------------------- sigmoid_backward
def test_sigmoid_backward_correct():
    feedback = nb07.check_sigmoid_backward(lambda g, out: g * out * (1 - out))
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda g, out: out * (1 - out), "upstream gradient g"),
        (lambda g, out: g * out, "two factors"),
        (lambda g, out: g * (1 / (1 + np.exp(-out))) * (1 - 1 / (1 + np.exp(-out))), "again"),
        (lambda g, out: g * (1 - out**2), "not yet"),
    ],
)
def test_sigmoid_backward_hints(wrong, words):
    feedback = nb07.check_sigmoid_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "out * (1 - out)" not in feedback.message and "1 - out" not in feedback.message


def test_sigmoid_backward_not_done_and_bad_shape():
    assert nb07.check_sigmoid_backward(stub).status == "not done"
    feedback = nb07.check_sigmoid_backward(lambda g, out: (g * out * (1 - out)).ravel())
    assert feedback.status == "hint" and "shape" in feedback.message


# ------------------------------------------------------------------------ leaky_relu_backward
def test_leaky_relu_backward_correct():
    feedback = nb07.check_leaky_relu_backward(lambda g, x, slope: g * np.where(x > 0, 1.0, slope))
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda g, x, slope: g * (x > 0), "that is ReLU"),
        (lambda g, x, slope: g * np.where(x > 0, 1.0, -slope), "x < 0"),
        (lambda g, x, slope: g * np.where(x > 0, slope, slope), "x > 0"),
        (lambda g, x, slope: np.where(x > 0, 1.0, slope), "upstream gradient g"),
    ],
)
def test_leaky_relu_backward_hints(wrong, words):
    feedback = nb07.check_leaky_relu_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "np.where" not in feedback.message and "slope *" not in feedback.message


def test_leaky_relu_backward_not_done():
    assert nb07.check_leaky_relu_backward(stub).status == "not done"


# --------------------------------------------------------------------------- softmax_jacobian
def test_softmax_jacobian_correct():
    feedback = nb07.check_softmax_jacobian(lambda s: np.diag(s) - np.outer(s, s))
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda s: np.diag(s * (1 - s)), "off-diagonal entries are not zero"),
        (lambda s: -np.outer(s, s), "off-diagonal entries are right"),
        (lambda s: np.diag(s * (1 - s)) + np.outer(s, s) - np.diag(s * s), "sign and size"),
        (lambda s: np.outer(s, s), "quotient rule"),
    ],
)
def test_softmax_jacobian_hints(wrong, words):
    feedback = nb07.check_softmax_jacobian(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "outer" not in feedback.message and "diag(s)" not in feedback.message


def test_softmax_jacobian_not_done_and_crash():
    assert nb07.check_softmax_jacobian(stub).status == "not done"
    feedback = nb07.check_softmax_jacobian(lambda s: s @ np.ones((3, 3)))
    assert feedback.status == "hint" and "ValueError" in feedback.message


# ------------------------------------------------------------------ binary_cross_entropy_grad
def test_binary_cross_entropy_grad_correct():
    feedback = nb07.check_binary_cross_entropy_grad(
        lambda p, y: (-y / p + (1 - y) / (1 - p)) / p.size
    )
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda p, y: -y / p + (1 - y) / (1 - p), "factor of the batch size"),
        (lambda p, y: (y / p - (1 - y) / (1 - p)) / p.size, "wrong sign"),
        (lambda p, y: (p - y) / p.size, "logit z"),
        (lambda p, y: -y / p / p.size, "not yet"),
    ],
)
def test_binary_cross_entropy_grad_hints(wrong, words):
    feedback = nb07.check_binary_cross_entropy_grad(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "(1 - y) / (1 - p)" not in feedback.message and "y / p" not in feedback.message


def test_binary_cross_entropy_grad_not_done():
    assert nb07.check_binary_cross_entropy_grad(stub).status == "not done"


def test_a_missing_return_is_named():
    def forgot_return(g, out):
        g * out * (1 - out)

    feedback = nb07.check_sigmoid_backward(forgot_return)
    assert feedback.status == "hint" and "return" in feedback.message
