"""The self-checks of notebook 01: pass, hint and not-done paths."""

import numpy as np

from backproplab.exercises import nb01


def stub(*args):
    raise NotImplementedError


# ------------------------------------------------------------------------- count_parameters
def count_with_biases(sizes):
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def test_count_parameters_pass():
    assert nb01.check_count_parameters(count_with_biases).passed


def test_count_parameters_known_value():
    # 784*128 + 128 + 128*64 + 64 + 64*10 + 10, worked out by hand
    assert count_with_biases([784, 128, 64, 10]) == 109386
    assert nb01._mlp_parameters([784, 128, 64, 10]) == 109386


def test_count_parameters_weights_only_hint():
    def weights_only(sizes):
        return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))

    feedback = nb01.check_count_parameters(weights_only)
    assert feedback.status == "hint"
    assert "only the weight matrices" in feedback.message
    assert "bias" not in feedback.message  # the hint does not name the missing piece


def test_count_parameters_other_hint_and_not_done():
    assert nb01.check_count_parameters(lambda sizes: sum(sizes)).status == "hint"
    assert nb01.check_count_parameters(stub).status == "not done"


# ------------------------------------------------------------------- difference quotients
def forward_difference(f, w, eps):
    grad = np.zeros_like(w)
    base = f(w)
    for idx in np.ndindex(*w.shape):
        old = w[idx]
        w[idx] = old + eps
        grad[idx] = (f(w) - base) / eps
        w[idx] = old
    return grad


def central_difference(f, w, eps, scale=2.0):
    grad = np.zeros_like(w)
    for idx in np.ndindex(*w.shape):
        old = w[idx]
        w[idx] = old + eps
        up = f(w)
        w[idx] = old - eps
        down = f(w)
        w[idx] = old
        grad[idx] = (up - down) / (scale * eps)
    return grad


def test_gradient_descent_step_pass():
    def step(params, grads, lr):
        return [p - lr * g for p, g in zip(params, grads)]

    assert nb01.check_gradient_descent_step(step).passed


def test_gradient_descent_step_hints():
    uphill = nb01.check_gradient_descent_step(
        lambda params, grads, lr: [p + lr * g for p, g in zip(params, grads)]
    )
    assert uphill.status == "hint" and "along the gradient" in uphill.message
    assert "minus" not in uphill.message and "-" not in uphill.message

    no_lr = nb01.check_gradient_descent_step(
        lambda params, grads, lr: [p - g for p, g in zip(params, grads)]
    )
    assert no_lr.status == "hint" and "ignores lr" in no_lr.message

    def in_place(params, grads, lr):  # updates but returns nothing
        for p, g in zip(params, grads):
            p -= lr * g

    assert "return a list" in nb01.check_gradient_descent_step(in_place).message


def test_gradient_descent_step_not_done():
    assert nb01.check_gradient_descent_step(stub).status == "not done"


def test_forward_difference_is_one_sided():
    # the helper below is what the central-difference check must reject; make sure it is sane
    w = np.array([[0.5]])
    assert abs(forward_difference(lambda a: float(a[0, 0] ** 2), w, 1e-6)[0, 0] - 1.0) < 1e-5


def test_central_difference_pass():
    feedback = nb01.check_central_difference_gradient(central_difference)
    assert feedback.passed, feedback
    assert "12 forward passes" in feedback.message


def test_central_difference_hints():
    one_sided = nb01.check_central_difference_gradient(forward_difference)
    assert one_sided.status == "hint" and "both sides" in one_sided.message
    assert "2 * eps" not in one_sided.message and "/ (2" not in one_sided.message

    factor = nb01.check_central_difference_gradient(
        lambda f, w, eps: central_difference(f, w, eps, scale=1.0)
    )
    assert factor.status == "hint" and "factor of 2" in factor.message

    def not_restored(f, w, eps):
        grad = np.zeros_like(w)
        for idx in np.ndindex(*w.shape):
            w[idx] += eps
            up = f(w)
            w[idx] -= 2 * eps
            grad[idx] = (up - f(w)) / (2 * eps)
        return grad

    leaked = nb01.check_central_difference_gradient(not_restored)
    assert leaked.status == "hint" and "put every entry back" in leaked.message

    def no_division(f, w, eps):
        return central_difference(f, w, eps) * 2 * eps

    tiny = nb01.check_central_difference_gradient(no_division)
    assert tiny.status == "hint" and "divided by" in tiny.message

    wrong_shape = nb01.check_central_difference_gradient(lambda f, w, eps: np.zeros(3))
    assert wrong_shape.status == "hint" and "shaped like w" in wrong_shape.message


def test_central_difference_not_done():
    assert nb01.check_central_difference_gradient(stub).status == "not done"
