"""Self-checks of notebook 10: a correct answer passes, typical mistakes get their hint, stubs
are "not done", and no hint gives the answer away."""

import numpy as np
import pytest

from backproplab import Tensor
from backproplab.exercises import nb10


def stub(*args):
    raise NotImplementedError


# ----------------------------------------------------------------------------- input_gradient
def input_gradient_solution(x, weights, g):
    zs, a = [], x
    for W in weights:
        z = a @ W.T
        zs.append(z)
        a = np.maximum(z, 0)
    for W, z in zip(reversed(weights), reversed(zs)):
        g = (g * (z > 0)) @ W
    return g


def test_input_gradient_correct():
    feedback = nb10.check_input_gradient(input_gradient_solution)
    assert feedback.passed, feedback


def test_input_gradient_accepts_a_tensor():
    feedback = nb10.check_input_gradient(lambda *args: Tensor(input_gradient_solution(*args)))
    assert feedback.passed, feedback


def no_masks(x, weights, g):
    for W in reversed(weights):
        g = g @ W
    return g


def transposed(x, weights, g):
    zs, a = [], x
    for W in weights:
        zs.append(a @ W.T)
        a = np.maximum(zs[-1], 0)
    for W, z in zip(reversed(weights), reversed(zs)):
        g = (g * (z > 0)) @ W.T  # shapes do not fit: raises inside the learner's code
    return g


def mask_one_layer_late(x, weights, g):
    zs, a = [], x
    for W in weights:
        zs.append(a @ W.T)
        a = np.maximum(zs[-1], 0)
    for i in reversed(range(len(weights))):
        g = g @ weights[i]
        if i > 0:
            g = g * (zs[i - 1] > 0)  # the last layer's own ReLU is never applied
    return g


@pytest.mark.parametrize(
    "wrong, words",
    [
        (no_masks, "without its ReLUs"),
        (transposed, "raised ValueError"),
        (lambda x, weights, g: g, "shape"),
        (mask_one_layer_late, "one layer at a time"),
    ],
)
def test_input_gradient_hints(wrong, words):
    feedback = nb10.check_input_gradient(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "@ W" not in feedback.message and "z > 0" not in feedback.message


def test_input_gradient_not_done():
    assert nb10.check_input_gradient(stub).status == "not done"


# ----------------------------------------------------------------------------------- init_std
def init_std_solution(n_in, n_out, activation):
    return np.sqrt((2.0 if activation == "relu" else 1.0) / n_in)


def test_init_std_correct():
    feedback = nb10.check_init_std(init_std_solution)
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda n_in, n_out, act: np.sqrt(1.0 / n_in), "relu' the signal shrinks by a factor"),
        (lambda n_in, n_out, act: np.sqrt(2.0 / n_in), "'linear' the signal grows"),
        (lambda n_in, n_out, act: 0.01, "too small"),
        (lambda n_in, n_out, act: np.sqrt(1.0 / n_out), "swings"),
        (lambda n_in, n_out, act: -1.0, "positive"),
        (lambda n_in, n_out, act: 1e30, "overflows"),
        (lambda n_in, n_out, act: 1e-200, "exactly 0"),
        (lambda n_in, n_out, act: "big", "one number"),
    ],
)
def test_init_std_hints(wrong, words):
    feedback = nb10.check_init_std(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "n_in" not in feedback.message and "sqrt" not in feedback.message


def test_init_std_xavier_is_a_compromise():
    # Xavier averages fan-in and fan-out: where the width changes, the forward signal swings
    feedback = nb10.check_init_std(lambda n_in, n_out, act: np.sqrt(2.0 / (n_in + n_out)))
    assert feedback.status == "hint" and "swings" in feedback.message, feedback


def test_init_std_not_done():
    assert nb10.check_init_std(stub).status == "not done"


# ------------------------------------------------------------------------------ dead_fraction
def test_dead_fraction_correct():
    feedback = nb10.check_dead_fraction(lambda a: np.all(a == 0, axis=0).mean())
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda a: (a == 0).mean(), "EVERY example"),
        (lambda a: np.all(a == 0, axis=1).mean(), "wrong axis"),
        (lambda a: np.all(a == 0, axis=0).sum(), "fraction"),
        (lambda a: np.any(a == 0, axis=0).mean(), "never fire"),
        (lambda a: [1, 2], "one number"),
    ],
)
def test_dead_fraction_hints(wrong, words):
    feedback = nb10.check_dead_fraction(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "np.all" not in feedback.message and "axis=0" not in feedback.message


def test_dead_fraction_not_done():
    assert nb10.check_dead_fraction(stub).status == "not done"
