"""The gradient checkers met the way a learner meets them, hunting both of their lies: a false
pass (a wrong vjp called right, or nothing checked at all) and a false alarm (a right vjp called
wrong, or a verdict whose words blame the gradient for what the finite differences cannot see).

Every expected value is worked out by hand in the comments, never taken from the code under test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import backproplab as bl

SQUARE = bl.Op("square", lambda x: x**2, lambda g, out, x: (2 * x * g,))
HALF_SQUARE = bl.Op("square", lambda x: x**2, lambda g, out, x: (x * g,))  # missing factor 2


def tensor(values, name="x"):
    return bl.Tensor(np.array(values, dtype=np.float64), requires_grad=True, name=name)


def _relu_in_place(x):  # a learner's forward that clamps its input array itself
    x[x < 0] = 0
    return x


def _square_vjp_reusing_x(g, out, x):  # the right numbers, 2 x g, written into x's array
    x *= 2 * g
    return (x,)


RELU_IN_PLACE = bl.Op("relu_ip", _relu_in_place, lambda g, out, x: (g * (x > 0),))
SQUARE_VJP_IN_PLACE = bl.Op("square_ip", lambda x: x**2, _square_vjp_reusing_x)
CHECKS = [bl.gradcheck, bl.check_direction]


# ------------------------------------------------------------------ ops that write into their input
@pytest.mark.parametrize("check", CHECKS)
def test_a_forward_that_writes_into_its_input_is_named_and_the_input_put_back(check):
    # before: gradcheck FAILED the right vjp g * (x > 0) (blaming the gradient) and the check left
    # the learner's x clamped to [0, 2, 0, 0.5]
    x = tensor([-1.0, 2.0, -3.0, 0.5])
    with pytest.raises(ValueError, match=r"forward pass changed input 0 \(shape \(4,\)\) in place"):
        check(lambda t: bl.apply(RELU_IN_PLACE, t), x)
    assert x.data.tolist() == [-1.0, 2.0, -3.0, 0.5]


@pytest.mark.parametrize("check", CHECKS)
def test_a_vjp_that_writes_into_its_input_is_named_and_the_input_put_back(check):
    # before: the vjp's numbers 2 x g are right, but x's array became 2 x g, and the differences
    # were then taken at that other point: gradcheck blamed the gradient
    x = tensor([1.0, -2.0, 3.0])
    array = x.data
    with pytest.raises(ValueError, match=r"backward \(an op's vjp\) changed input 0"):
        check(lambda t: bl.apply(SQUARE_VJP_IN_PLACE, t), x)
    assert x.data is array and array.tolist() == [1.0, -2.0, 3.0]


def test_nudge_check_names_a_vjp_that_writes_into_a_parameter_and_puts_it_back():
    # before: "loss_fn gives different outputs for the same inputs (Dropout ...?)", with w left
    # holding 2 x g = 2 * [1, -2] (the vjp's numbers) instead of its own values
    w = tensor([1.0, -2.0], name="w")
    with pytest.raises(
        ValueError, match=r"nudge_check: backward \(an op's vjp\) changed parameter 0"
    ):
        bl.nudge_check(lambda: bl.apply(SQUARE_VJP_IN_PLACE, w).sum(), [w])
    assert w.data.tolist() == [1.0, -2.0]


# ---------------------------------------------------------------------- nothing checked is no pass
@pytest.mark.parametrize("check", CHECKS)
def test_a_function_that_ignores_its_inputs_is_refused_not_passed(check):
    # fn uses the notebook's w, not its argument t: w's wrong rule was never looked at, and the
    # check said "passed" (t's gradient 0 equals its finite differences 0)
    w = tensor([0.5, -1.5], name="w")
    t = tensor([1.0, 2.0], name="t")
    with pytest.raises(ValueError, match="does not depend on any input it was given"):
        check(lambda t: bl.apply(HALF_SQUARE, w).sum(), t)


def test_an_input_left_unused_next_to_a_used_one_still_passes():
    x, unused = tensor([0.5, -1.5]), tensor([2.0], name="u")
    assert bl.gradcheck(lambda a, b: bl.apply(SQUARE, a).sum(), x, unused).passed


# ------------------------------------------------------ differences that cannot judge say so
def test_near_a_kink_the_report_says_the_differences_cannot_judge():
    # relu at 1e-7, within eps = 1e-6 of its kink: the central difference is
    # (1e-7 + 1e-6 - 0) / 2e-6 = 0.55, against the right one-sided slope 1 (and 0.45 at -2e-7);
    # with steps 2e-6 and 5e-7 it is 0.525 and 0.6, so its own error is ~0.05: the check fails
    # (it is never made looser) but must not blame the gradient
    x = tensor([1e-7, -2e-7, 0.5])
    report = bl.gradcheck(lambda t: bl.relu(t).sum(), x, raise_exception=False)
    assert not report.passed
    assert report.rows[0].unsure == 2  # the entries 1e-7 and -2e-7, not 0.5
    assert "2 failing entries are within 10 times the finite differences' own error" in str(report)
    assert "kink" in str(report)


def test_a_wrong_rule_away_from_kinks_gets_no_excuse():
    # x**2 with the rule x g: off by |x| = 0.5 .. 2, while the differences' own error is ~1e-10
    x = tensor([0.5, -1.5, 2.0])
    report = bl.gradcheck(lambda t: bl.apply(HALF_SQUARE, t).sum(), x, raise_exception=False)
    assert not report.passed and report.rows[0].unsure == 0
    assert "cannot judge" not in str(report)
    direction = bl.check_direction(
        lambda t: bl.apply(HALF_SQUARE, t).sum(), x, raise_exception=False
    )
    assert not direction.passed and "cannot judge" not in str(direction)


def test_a_function_of_size_1e10_is_said_to_be_beyond_the_differences():
    # 1e10 + x**2: float64 spaces numbers near 3e10 by 3.8e-6, so a step of 1e-6 in x changes
    # f by less than its rounding: the differences come out 0 (or a multiple of 1.9); the right
    # rule 2 x cannot be confirmed, and the report must say why instead of blaming it
    x = tensor([0.3, -0.5, 1.2])
    fn = lambda t: (bl.apply(SQUARE, t) + 1e10).sum()  # noqa: E731
    report = bl.gradcheck(fn, x, raise_exception=False)
    assert not report.passed and report.rows[0].unsure == 3
    direction = bl.check_direction(fn, x, raise_exception=False)
    assert not direction.passed and "cannot judge" in str(direction)


def test_a_failing_report_whose_differences_are_zero_prints_no_warning():
    # 1e20 + x**2: a step of 1e-6 changes f by ~1e-6, far below float64's spacing of 16384 near
    # 1e20, so every difference is exactly 0 and the relative error |2 x - 0| / 0 is infinite;
    # numpy warned of an overflow computing it, a warning in a learner's notebook
    x = tensor([3.0, -5.0])  # errors 6 and 10: 10 / 2.2e-308 (numpy's smallest float) overflows
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = bl.gradcheck(
            lambda t: (bl.apply(SQUARE, t) + 1e20).sum(), x, raise_exception=False
        )
    assert report.rows[0].max_abs_error == 10.0 and report.rows[0].max_rel_error == np.inf


# ------------------------------------------------------------ large inputs: the step really taken
@pytest.mark.parametrize("offset", [1e6, 1e8])
@pytest.mark.parametrize("check", CHECKS)
def test_a_right_rule_passes_on_inputs_far_from_zero(check, offset):
    # (x - c)**2 at x = c + [0.3, -0.5, 1.2]: f is small, but x is not. Near 1e8 float64 spaces
    # numbers by 1.49e-8, so x + 1e-6 is stored as x + 67 * 1.49e-8 = x + 0.998e-6 (and the other
    # side alike): dividing by 2e-6 made the slope 0.2 % small, a false alarm (rtol is 0.1 %);
    # near 1e6 (spacing 1.2e-10) check_direction's rtol of 1e-5 was broken the same way
    x = tensor(offset + np.array([0.3, -0.5, 1.2]))
    assert check(lambda t: bl.apply(SQUARE, t - offset).sum(), x, raise_exception=False).passed


@pytest.mark.parametrize("check", CHECKS)
def test_a_wrong_rule_still_fails_on_inputs_far_from_zero(check):
    # the rule x g for x**2 is off by |x - c| = 0.3 .. 1.2 in every entry
    x = tensor(1e8 + np.array([0.3, -0.5, 1.2]))
    report = check(lambda t: bl.apply(HALF_SQUARE, t - 1e8).sum(), x, raise_exception=False)
    assert not report.passed and "cannot judge" not in str(report)


@pytest.mark.parametrize("check", CHECKS)
def test_a_step_lost_in_rounding_is_refused(check):
    # near 3e10 float64's numbers are 3.8e-6 apart: 3e10 + 1e-6 is stored as 3e10 itself, so the
    # two sides of the difference are one point and its slope 0 / 0 (check_direction first
    # takes eps / 2, whose loss it names)
    x = tensor([3e10, 4e10])
    with pytest.raises(
        ValueError,
        match=r"a step of (1e-06|5e-07) is lost in float64's rounding at the entry 3e\+10",
    ):
        check(lambda t: (t * 3.0).sum(), x)
    assert bl.gradcheck(lambda t: (t * 3.0).sum(), x, eps=1e4).passed  # 1e-6 times its size


# ------------------------------------------------- check_backward where float64's terms cancel
def _confident_logits():
    # logits (30, 0) and (0, 30) for the classes 0 and 1: softmax 1 - e^-30 = 1 - 9.36e-14 on the
    # right class. dL/dlogit is (softmax - onehot) / 2: +-4.68e-14, the difference of numbers of
    # size 1, which float64 (spacing 1.1e-16 near 1) gets only to about 1e-3 of itself
    return bl.Tensor([[30.0, 0.0], [0.0, 30.0]], requires_grad=True, name="z")


def test_check_backward_agrees_with_a_confident_classifiers_right_gradient():
    # before: "The derivation and the code DISAGREE on: z", sympy -4.67881e-14 against
    # backward -4.67404e-14: the tolerance had shrunk with the gradient to 4.7e-24
    z = _confident_logits()
    loss = bl.cross_entropy(z, np.array([0, 1]))
    loss.backward()
    exact = np.exp(-30) / (1 + np.exp(-30)) / 2  # 1 - softmax = e^-30 / (1 + e^-30), over 2
    assert z.grad[0, 1] == pytest.approx(exact, rel=1e-12)  # the wrong class's entry: no cancelling
    assert abs(z.grad[0, 0] + exact) > 1e-18  # the right class's: float64 is off by ~5e-17
    assert symbolic_ok(loss)
    x = tensor([30.0, 0.0])
    root = bl.log_softmax(x)[0]  # d/dx = (1 - softmax_1, -softmax_2) = (9.36e-14, -9.36e-14)
    root.backward()
    assert symbolic_ok(root)


def test_check_backward_still_catches_a_wrong_rule_at_the_confident_logits():
    # softmax - onehot without dividing by the batch of 2: every entry twice the truth
    wrong = bl.Op(
        "ce",
        lambda z: bl.ops.cross_entropy.forward(z, labels=np.array([0, 1]))[0],
        lambda g, out, z: (g * (np.exp(bl.ops.log_softmax.forward(z)) - np.eye(2)),),
    )
    bl.symbolic.register(
        "ce",
        lambda z: bl.symbolic.SYMPY_OPS["cross_entropy"](z, labels=np.array([0, 1])),
        elementwise=False,
    )
    try:
        z = _confident_logits()
        loss = bl.apply(wrong, z)
        loss.backward()
        assert not symbolic_ok(loss)
    finally:
        del bl.symbolic.SYMPY_OPS["ce"]


def test_check_backward_still_catches_a_wrong_rule_on_a_tiny_function():
    # 1e-20 x**2 with the rule x g (missing factor 2): gradients ~1e-20, no terms cancel, so the
    # tolerance stays far below the error 1e-20 |x|
    x = tensor([0.5, -1.5])
    root = bl.apply(HALF_SQUARE, x).sum() * 1e-20
    root.backward()
    bl.symbolic.register("square", lambda e: e**2)
    try:
        assert not symbolic_ok(root)
    finally:
        del bl.symbolic.SYMPY_OPS["square"]


def symbolic_ok(root):
    return bl.symbolic.check_backward(root).ok


# ------------------------------------------- an upstream gradient whose entries all differ
MIXED_UP_G = {  # x**2 entry by entry, with rules right only when every entry of g is the same
    "g transposed": bl.Op("square", lambda x: x**2, lambda g, out, x: (2 * x * g.T,)),
    "g averaged": bl.Op("square", lambda x: x**2, lambda g, out, x: (2 * x * g.mean(),)),
}


@pytest.mark.parametrize("rule", sorted(MIXED_UP_G))
@pytest.mark.parametrize("check", CHECKS)
def test_checking_the_op_itself_catches_a_vjp_that_mixes_up_g(check, rule):
    # the advice of gradcheck's docstring and notebook 12: check bl.apply(op, t), whose output is
    # weighted by random numbers, so g's entries differ (after .sum() they are all -1.7, and these
    # rules give the right 2 x g there). For a 3 x 3 x, g.T puts g_ji where g_ij belongs.
    x = tensor(np.random.default_rng(0).standard_normal((3, 3)))
    assert not check(lambda t: bl.apply(MIXED_UP_G[rule], t), x, raise_exception=False).passed
    right = bl.Op("square", lambda x: x**2, lambda g, out, x: (2 * x * g,))
    assert check(lambda t: bl.apply(right, t), x, raise_exception=False).passed


# ------------------------------------------------------ reports print the tolerance they used
def test_check_direction_prints_the_tolerance_it_compared_with():
    # the slope of tanh(x) . u along v is below 1 here, so atol' = 1e-6 |slope| and the
    # allowed gap is (1e-6 + 1e-5) |slope|
    x = tensor([0.3, 0.5])
    report = bl.check_direction(lambda t: bl.tanh(t), x)
    assert abs(report.numeric) < 1
    assert report.allowed == pytest.approx(1.1e-5 * abs(report.numeric), rel=1e-12)
    assert f"allowed {1.1e-5 * abs(report.numeric):.2e} -> passed" in str(report)


def test_check_backward_prints_each_leafs_tolerance():
    # L = (x + y) z at (2, 1, -0.5): dL/dx = dL/dy = -0.5, so their atol is 1e-10 * 0.5;
    # dL/dz = 3 keeps 1e-10
    x, y, z = tensor(2.0, "x"), tensor(1.0, "y"), tensor(-0.5, "z")
    L = (x + y) * z
    L.backward()
    text = str(bl.symbolic.check_backward(L))
    assert "rtol 1e-07; atol x 5.0e-11, y 5.0e-11, z 1.0e-10)" in text


def test_check_direction_takes_a_tensor_passed_twice_as_one():
    # f(a, b) = sum(a * b) at a = b = x: the slope along v is 2 x . v. Before, x was moved along
    # the second direction only while backward's slope counted both: "FAILED", error 6.4e-01
    x = tensor([0.3, 0.5])
    report = bl.check_direction(lambda a, b: (a * b).sum(), x, x)
    assert report.passed
    wrong = bl.Op("mul", np.multiply, lambda g, out, a, b: (g * b, g * b * 2))  # db = 2 g a: wrong
    assert not bl.check_direction(
        lambda a, b: bl.apply(wrong, a, b).sum(), x, x, raise_exception=False
    ).passed


def test_to_sympy_of_an_op_without_a_sympy_form_names_both_ways_to_register_one():
    # conv2d has no sympy form; the hint was `lambda x: ...`, the elementwise form, which a
    # convolution cannot use
    x = bl.Tensor(np.ones((1, 1, 3, 3)), requires_grad=True, name="x")
    w = bl.Tensor(np.ones((1, 1, 2, 2)), requires_grad=True, name="w")
    with pytest.raises(KeyError, match=r"register\('conv2d', f\).*elementwise=False"):
        bl.symbolic.to_sympy(bl.conv2d(x, w).sum())
