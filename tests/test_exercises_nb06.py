"""The self-checks of notebook 06: pass, hint and not-done paths."""

import numpy as np
import pytest

from backproplab.exercises import nb06


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    "check", [nb06.check_through_relu, nb06.check_tiny_net_backward, nb06.check_gd_predicted_change]
)
def test_not_done(check):
    assert check(stub).status == "not done"


# ----------------------------------------------------------------------------- through_relu
def test_through_relu():
    assert nb06.check_through_relu(lambda dL_dh, z1: dL_dh * (z1 > 0)).passed
    unchanged = nb06.check_through_relu(lambda dL_dh, z1: dL_dh)
    assert unchanged.status == "hint" and "unchanged" in unchanged.message
    by_output = nb06.check_through_relu(lambda dL_dh, z1: dL_dh * np.maximum(z1, 0))
    assert by_output.status == "hint" and "output" in by_output.message
    by_gradient = nb06.check_through_relu(lambda dL_dh, z1: dL_dh * (dL_dh > 0))
    assert by_gradient.status == "hint" and "its own input" in by_gradient.message
    assert "z1 > 0)" not in by_gradient.message


# ------------------------------------------------------------------------ tiny_net_backward
def backward(x, y, W1, b1, W2, b2, relu_mask=True, factor=2.0, transpose_W1=False):
    z1 = W1 @ x + b1
    h = np.maximum(z1, 0)
    y_hat = W2 @ h + b2
    dy = factor * (y_hat - y)
    dW2, db2 = np.outer(dy, h), dy
    dz1 = (W2.T @ dy) * ((z1 > 0) if relu_mask else 1.0)
    dW1 = np.outer(dz1, x)
    return (dW1.T if transpose_W1 else dW1), dz1, dW2, db2


def test_tiny_net_backward_pass():
    assert nb06.check_tiny_net_backward(backward).passed


def test_tiny_net_backward_hints():
    no_relu = nb06.check_tiny_net_backward(lambda *a: backward(*a, relu_mask=False))
    assert no_relu.status == "hint" and "off" in no_relu.message
    half = nb06.check_tiny_net_backward(lambda *a: backward(*a, factor=1.0))
    assert half.status == "hint" and "half" in half.message and "db2" in half.message
    transposed = nb06.check_tiny_net_backward(lambda *a: backward(*a, transpose_W1=True))
    assert transposed.status == "hint" and "dW1 is transposed" in transposed.message
    not_a_tuple = nb06.check_tiny_net_backward(lambda *a: backward(*a)[0])
    assert "tuple of four" in not_a_tuple.message


# ---------------------------------------------------------------------- gd_predicted_change
def test_gd_predicted_change():
    right = lambda grads, lr: -lr * sum(float((g**2).sum()) for g in grads)
    assert nb06.check_gd_predicted_change(right).passed
    sign = nb06.check_gd_predicted_change(lambda grads, lr: -right(grads, lr))
    assert sign.status == "hint" and "sign" in sign.message
    no_lr = nb06.check_gd_predicted_change(lambda grads, lr: right(grads, lr) / lr)
    assert no_lr.status == "hint" and "learning rate" in no_lr.message
    no_square = nb06.check_gd_predicted_change(
        lambda grads, lr: -lr * sum(float(g.sum()) for g in grads)
    )
    assert no_square.status == "hint" and "**" not in no_square.message


@pytest.mark.parametrize(
    "check", [nb06.check_through_relu, nb06.check_tiny_net_backward, nb06.check_gd_predicted_change]
)
@pytest.mark.parametrize("answer", [None, "abc", ("a", "b", "c", "d")])
def test_checks_never_raise_on_odd_answers(check, answer):
    assert check(lambda *args: answer).status == "hint"
