"""Self-checks of notebook 07: a correct answer passes, plausible mistakes get a hint that names
them without giving the code, stubs are "not done", and the package cannot do the exercise."""

import math

import numpy as np
import pytest
from exercise_helpers import ESTIMATE_WORDS, estimated_vjp, hint_asserter, stub

import backproplab as bl
from backproplab.exercises import nb07, uses_package

CHECKS = [
    nb07.check_sigmoid_backward,
    nb07.check_leaky_relu_backward,
    nb07.check_softmax_jacobian,
    nb07.check_binary_cross_entropy_grad,
    nb07.check_gelu_backward,
]
CODE = ["out * (1 - out)", "1 - out", "np.", "outer", "diag(s)", "y / p"]


assert_hint = hint_asserter(CODE)


@pytest.mark.parametrize("check", CHECKS)
def test_not_done(check):
    assert check(stub).status == "not done"


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("answer", [None, "abc", [[1, 2]]])
def test_checks_never_raise_on_odd_answers(check, answer):
    assert check(lambda *args: answer).status == "hint"


# --------------------------------------------------------------------------- sigmoid_backward
def test_sigmoid_backward_correct():
    assert nb07.check_sigmoid_backward(lambda g, out: g * out * (1 - out)).passed


def sigmoid_in_place(g, out):
    g *= out * (1 - out)
    return g


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda g, out: out * (1 - out), ["upstream gradient g"]),
        (lambda g, out: g * out, ["two factors"]),
        (lambda g, out: g * (1 / (1 + np.exp(-out))) * (1 - 1 / (1 + np.exp(-out))), ["again"]),
        (lambda g, out: g * (1 - out**2), ["tanh"]),
        (lambda g, out: -g * out * (1 - out), ["sign"]),
        (lambda g, out: (g * out * (1 - out)).ravel(), ["shape"]),
        (sigmoid_in_place, ["in place"]),
        (lambda g, out: bl.ops.sigmoid.vjp(g, out, None)[0], ["calls the package"]),
    ],
)
def test_sigmoid_backward_wrong(wrong, words):
    assert_hint(nb07.check_sigmoid_backward(wrong), *words)


def through_the_input(g, out):
    x = np.log(out / (1 - out))  # undo the sigmoid, then differentiate it the long way
    return g * np.exp(-x) / (1 + np.exp(-x)) ** 2


def through_artanh(g, out):  # the input by logit(p) = 2 artanh(2p - 1), e^-x as a power of e
    s = 1 / (1 + np.e ** (-2 * np.arctanh(2 * out - 1)))
    return g * s * (1 - s)


def through_asinh(g, out):  # the same logit by asinh(y) = log(y + sqrt(y^2 + 1))
    x = 2 * np.arcsinh((2 * out - 1) / (2 * np.sqrt(out * (1 - out))))
    s = 1 / (1 + np.e**-x)
    return g * s * (1 - s)


@pytest.mark.parametrize("answer", [through_the_input, through_artanh, through_asinh])
def test_sigmoid_backward_refuses_exponentials(answer):
    # the values come out right (within the check's tolerance), but the exercise is the rule in out
    assert_hint(nb07.check_sigmoid_backward(answer), "exponential", "output alone")


def test_the_package_cannot_answer():
    def through_tensor(g, out):
        x = bl.Tensor(np.log(out / (1 - out)), requires_grad=True)
        x.sigmoid().backward(g)
        return x.grad

    assert_hint(nb07.check_sigmoid_backward(through_tensor), "calls the package")
    assert not uses_package(lambda g, out: np.multiply(g, out))


# ------------------------------------------------------------------------ leaky_relu_backward
def test_leaky_relu_backward_correct():
    answer = lambda g, x, slope: g * np.where(x > 0, 1.0, slope)
    feedback = nb07.check_leaky_relu_backward(answer)
    assert feedback.passed, feedback
    # its neighbours' words: what the answer matched (an exact reference), not the answer itself
    assert "matches the exact gradient" in feedback.message, feedback


def leaky_in_place(g, x, slope):
    g[x <= 0] *= slope
    return g


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda g, x, slope: g * np.where(x >= 0, 1.0, slope), ["x = 0", "strict"]),
        (lambda g, x, slope: g * (x > 0), ["that is ReLU"]),
        (lambda g, x, slope: g * np.where(x > 0, 1.0, -slope), ["x < 0"]),
        (lambda g, x, slope: g * np.where(x > 0, slope, slope), ["x > 0"]),
        (lambda g, x, slope: np.where(x > 0, 1.0, slope), ["upstream gradient g"]),
        # g forgotten on the negative side only (was told to look again at the slope)
        (lambda g, x, slope: np.where(x > 0, g, slope), ["you return the slope itself"]),
        (leaky_in_place, ["in place"]),
        (lambda g, x, slope: g * np.where(x > 0, 1.0, 0.01), ["fixed number"]),  # the default
        (lambda g, x, slope: g * np.where(x > 0, 1.0, 0.1), ["fixed number"]),  # the check's slope
        (lambda g, x, slope: g * (x > 0) + slope * g * (x < 0), ["x = 0"]),  # 0 at the kink
        # the forward's max applied to g (a novice walk: it heard the catch-all "two straight
        # lines"; notebook 06's through_relu names the same slip)
        (lambda g, x, slope: np.maximum(g, slope * g), ["depends on the input x", "gradient g"]),
        (lambda g, x, slope: g * np.where(x > 0, x, slope * x), ["not yet"]),  # the forward
    ],
)
def test_leaky_relu_backward_wrong(wrong, words):
    feedback = nb07.check_leaky_relu_backward(wrong)
    assert_hint(feedback, *words)
    assert "slope *" not in feedback.message


# --------------------------------------------------------------------------- softmax_jacobian
def softmax_again(a):
    s = np.exp(a) / np.exp(a).sum()  # a taken for the logits
    return np.diag(s) - np.outer(s, s)


def test_softmax_jacobian_correct():
    assert nb07.check_softmax_jacobian(lambda s: np.diag(s) - np.outer(s, s)).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda s: np.diag(s * (1 - s)), ["off-diagonal entries are not zero"]),
        (lambda s: -np.outer(s, s), ["off-diagonal entries are right"]),
        (lambda s: np.diag(s * (1 - s)) + np.outer(s, s) - np.diag(s * s), ["sign and size"]),
        (lambda s: np.outer(s, s) - np.diag(s), ["wrong sign", "raises a_i"]),
        (lambda s: np.outer(s, s), ["quotient rule"]),
        (lambda s: np.diag(s) - s * s, ["off-diagonal"]),  # broadcasting, not an outer product
        (lambda s: np.eye(4) * s - np.outer(s, s), ["ValueError"]),  # K hard-coded as 4
        (lambda s: np.eye(s.size) - s, ["quotient rule"]),  # d log a_i / d z_j, not d a_i / d z_j
        # a dot product, not the table of products (a.T is a for a 1-d array): was the
        # catch-all, which sent the learner back to the calculus they had right
        (lambda s: np.diag(s) - s @ s, ["the dot product", "a.T is a itself"]),
        (lambda s: np.diag(s) - s.T @ s, ["the dot product"]),
        # softmax applied to the probabilities again, as sigmoid_backward's "again": was the
        # catch-all, which sent the learner back to the quotient rule they had right
        (softmax_again, ["softmax to `a` again", "already holds the probabilities"]),
    ],
)
def test_softmax_jacobian_wrong(wrong, words):
    assert_hint(nb07.check_softmax_jacobian(wrong), *words)


def test_softmax_jacobian_crash_is_named():
    feedback = nb07.check_softmax_jacobian(lambda s: s @ np.ones((3, 3)))
    assert feedback.status == "hint" and "ValueError" in feedback.message


# ------------------------------------------------------------------ binary_cross_entropy_grad
def test_binary_cross_entropy_grad_correct():
    answer = lambda p, y: (-y / p + (1 - y) / (1 - p)) / p.size
    assert nb07.check_binary_cross_entropy_grad(answer).passed
    same = lambda p, y: (p - y) / (p * (1 - p)) / len(p)
    assert nb07.check_binary_cross_entropy_grad(same).passed


def clipped(p, y):
    q = np.clip(p, 0.01, 0.99)
    return (-y / q + (1 - y) / (1 - q)) / p.size


def shifted(p, y):  # a small number added against division by 0: was 'not yet: differentiate'
    return (-y / (p + 1e-3) + (1 - y) / (1 - p + 1e-3)) / p.size


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda p, y: -y / p + (1 - y) / (1 - p), ["factor of the batch size"]),
        (lambda p, y: (y / p - (1 - y) / (1 - p)) / p.size, ["wrong sign"]),
        (lambda p, y: (p - y) / p.size, ["logit z"]),
        (lambda p, y: -y / p / p.size, ["not yet"]),
        (clipped, ["close to p = 0 or p = 1"]),
        (lambda p, y: (-y / p - (1 - y) / (1 - p)) / p.size, ["inner function", "chain rule"]),
        (lambda p, y: (p - y) / (p * (1 - p)) / p.size**2, ["8 times too small"]),  # mean twice
        (shifted, ["close to p = 0 or p = 1", "small number"]),
        (lambda p, y: np.mean(-y / p + (1 - y) / (1 - p)), ["shape"]),  # the mean of the gradient
    ],
)
def test_binary_cross_entropy_grad_wrong(wrong, words):
    assert_hint(nb07.check_binary_cross_entropy_grad(wrong), *words)


def test_binary_cross_entropy_grad_for_a_batch_of_eight_only_is_refused():
    """The check called with one batch of 8 (the size its hints name): a division by 8 written in
    passed."""
    feedback = nb07.check_binary_cross_entropy_grad(lambda p, y: (p - y) / (p * (1 - p)) / 8)
    assert_hint(feedback, "not for one of 5", "the batch it is given")


# ------------------------------------------------------------------------------ gelu_backward
erf = np.vectorize(math.erf)


def gelu_grad(g, x, scale=1.0, second=1.0):
    cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
    pdf = np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi) * scale
    return g * (cdf + second * x * pdf)


def cdf(x):
    return 0.5 * (1 + erf(x / math.sqrt(2)))


def pdf(x):
    return np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)


def gelu_tanh_backward(g, x):
    """The slope of 0.5 x (1 + tanh(c (x + 0.044715 x^3))), GELU's common approximation."""
    c = math.sqrt(2 / math.pi)
    t = np.tanh(c * (x + 0.044715 * x**3))
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t**2) * c * (1 + 3 * 0.044715 * x**2))


def gelu_sigmoid_backward(g, x):
    """The slope of x sigmoid(1.702 x), GELU's other approximation."""
    s = 1 / (1 + np.exp(-1.702 * x))
    return g * (s + 1.702 * x * s * (1 - s))


def test_gelu_backward_correct():
    assert nb07.check_gelu_backward(gelu_grad).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda g, x: gelu_grad(g, x, second=0.0), ["product"]),
        (lambda g, x: gelu_grad(g, x, scale=math.sqrt(2 * math.pi)), ["normalising"]),
        (lambda g, x: gelu_grad(g, x, second=-1.0), ["sign"]),
        (lambda g, x: gelu_grad(np.ones_like(g), x), ["upstream gradient g"]),
        # the x of the second term lost (a novice walk: it heard "use the product rule", which
        # the answer had used)
        (lambda g, x: g * (cdf(x) + pdf(x)), ["second term", "short of a factor"]),
        # erf(x) for erf(x / sqrt 2), and phi's exponent -x^2 for -x^2 / 2: were the catch-all
        # "use the product rule", which these answers had used
        (lambda g, x: g * (0.5 * (1 + erf(x)) + x * pdf(x)), ["Phi", "x / sqrt(2)"]),
        (
            lambda g, x: g * (0.5 * (1 + erf(x)) + x * np.exp(-(x**2)) / math.sqrt(math.pi)),
            ["Phi", "x / sqrt(2)"],  # the slope of x (1 + erf(x)) / 2, consistently
        ),
        (
            lambda g, x: g * (cdf(x) + x * np.exp(-(x**2)) / math.sqrt(2 * math.pi)),
            ["density phi", "exponent"],
        ),
        (
            gelu_tanh_backward,
            ["approximation"],
        ),  # used the product rule: not 'use the product rule'
        (gelu_sigmoid_backward, ["approximation"]),
        (lambda g, x: -gelu_grad(g, x), ["wrong sign"]),
    ],
)
def test_gelu_backward_wrong(wrong, words):
    assert_hint(nb07.check_gelu_backward(wrong), *words)


def test_a_missing_return_is_named():
    def forgot_return(g, out):
        g * out * (1 - out)

    feedback = nb07.check_sigmoid_backward(forgot_return)
    assert feedback.status == "hint" and "return" in feedback.message


def test_sigmoid_backward_matching_no_known_mistake_gets_the_general_hint():
    # (coverage sweep: no wrong answer fell through to the last hint)
    assert_hint(nb07.check_sigmoid_backward(lambda g, out: 2.0 * g), "not yet: differentiate")


# Finite-difference answers: central differences of a forward pass of the answer's own, right to
# 8-11 digits, within close() of the gradient. The references are exact now (closed forms), so
# the checks tell them from derived answers (exercises.estimated) instead of calling them right.
def _sigmoid_by_tanh(x):  # no exponential or logarithm: the check's hint for those stays silent
    return 0.5 * (1 + np.tanh(x / 2))


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


_erf = np.vectorize(math.erf)


def _estimated_sigmoid_backward(h):
    def sigmoid_backward(g, out):
        lo, hi = np.full(out.shape, -40.0), np.full(out.shape, 40.0)
        for _ in range(200):  # x recovered from out by bisection
            mid = (lo + hi) / 2
            below = _sigmoid_by_tanh(mid) < out
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return estimated_vjp(_sigmoid_by_tanh, g, [(lo + hi) / 2], 0, h)

    return nb07.check_sigmoid_backward, sigmoid_backward


def _estimated_softmax_jacobian(h):
    def softmax_jacobian(a):  # row i: the vjp of the i-th unit vector
        return np.array([estimated_vjp(_softmax, e, [np.log(a)], 0, h) for e in np.eye(a.size)])

    return nb07.check_softmax_jacobian, softmax_jacobian


def _estimated_bce_grad(h):
    def binary_cross_entropy_grad(p, y):
        def loss(q):
            return np.mean(-(y * np.log(q) + (1 - y) * np.log(1 - q)))

        return estimated_vjp(loss, 1.0, [p], 0, h)

    return nb07.check_binary_cross_entropy_grad, binary_cross_entropy_grad


def _estimated_gelu_backward(h):
    def gelu_backward(g, x):
        return estimated_vjp(lambda v: 0.5 * v * (1 + _erf(v / np.sqrt(2))), g, [x], 0, h)

    return nb07.check_gelu_backward, gelu_backward


def _estimated_leaky_relu_backward(h):
    def leaky_relu_backward(g, x, slope):
        def leaky(v):
            return np.where(v > 0, v, slope * v)

        estimate = estimated_vjp(leaky, g, [x], 0, h)
        return np.where(x == 0, slope * g, estimate)  # the kink by the notebook's convention

    return nb07.check_leaky_relu_backward, leaky_relu_backward


@pytest.mark.parametrize("h", [1e-5, 1e-6])
@pytest.mark.parametrize(
    "estimate",
    [_estimated_sigmoid_backward, _estimated_softmax_jacobian, _estimated_bce_grad,
     _estimated_gelu_backward, _estimated_leaky_relu_backward],
)  # fmt: skip
def test_a_finite_difference_answer_is_refused_with_the_estimate_hint(estimate, h):
    check, answer = estimate(h)
    assert_hint(check(answer), *ESTIMATE_WORDS)
