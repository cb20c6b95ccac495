"""Mutation testing of the gradient checkers (gradcheck.py, _differences.py, _gradcheck_inputs.py,
symbolic.py's check_backward, symbolic_verdict.py): each test here kills mutants that the other
tests let through, most of them lenient ones (a noise allowance ten times looser, a cap dropped,
a refusal dropped), under which a WRONG gradient is reported as right.

The verdicts expected here are worked out by hand from the tolerances the modules' docstrings
state (gradcheck: an entry passes when |a - n| <= atol' + rtol |n|, atol' raised to at most
NOISE_FACTOR = 10 times the differences' own error, which is at least what rounding alone does,
machine_eps * |f| / eps), never taken from the code's output.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import backproplab as bl

MACHINE_EPS = 2.0**-52  # float64's


def tensor(values, name="x"):
    return bl.Tensor(np.array(values, dtype=np.float64), requires_grad=True, name=name)


def lie(delta):
    """An op whose forward is exactly 0 (so f is exactly the constant it is added to, and every
    finite difference is exactly 0) but whose vjp claims the gradient delta for every entry."""
    return bl.Op("lie", lambda x: np.zeros(()), lambda g, out, x: (np.full(x.shape, delta) * g,))


# ------------------------------------------------ the noise allowance: 10 times rounding, <= atol
# f = C + lie(x): its differences are exactly 0, its true gradient is 0, so the lie's delta is the
# error. The largest gradient is 0, so atol' = atol * 0 = 0 and only the differences' own error
# can excuse delta: rounding alone moves f(x +- eps) by machine_eps * C each, so the difference by
# machine_eps * 2C / (2 eps) = 2.2e-10 * C, and the allowance is min(atol, 10 * 2.2e-10 * C):
# 2.2e-9 at C = 1 (gradcheck and check_direction alike), atol = 1e-5 (gradcheck) or 1e-6
# (check_direction) at C = 1e6, where 10 times the rounding, 2.2e-3, is far above atol.
@pytest.mark.parametrize(("C", "delta", "passes"), [
    (1.0, 1e-8, False),  # 4.5 times the allowance: a noise allowance 10x looser passed it
    (1.0, 3e-9, False),  # 1.35 times: rounding taken over the step eps, not 2 eps, passed it
    (1.0, 1e-9, True),
    (1e6, 5e-5, False),  # 5 atol: an allowance capped at 10 atol (or not capped) passed it
    (1e6, 5e-6, True),
])  # fmt: skip
def test_gradcheck_excuses_a_zero_gradients_error_up_to_ten_times_rounding_and_no_more(
    C, delta, passes
):
    x = tensor([0.5, -1.25, 2.0])
    assert 10 * MACHINE_EPS * C / 1e-6 == pytest.approx(2.2e-9 * C, rel=0.01)  # the hand figure
    report = bl.gradcheck(lambda t: bl.apply(lie(delta), t) + C, x, raise_exception=False)
    assert report.rows[0].max_abs_error == pytest.approx(delta, rel=1e-9)
    assert report.passed is passes


@pytest.mark.parametrize(("C", "delta", "passes"), [
    (1.0, 1e-8, False), (1.0, 3e-9, False), (1.0, 1e-9, True),
    (1e6, 5e-6, False), (1e6, 5e-7, True),  # check_direction's atol is 1e-6
])  # fmt: skip
def test_check_direction_excuses_a_zero_slopes_error_up_to_ten_times_rounding_and_no_more(
    C, delta, passes
):
    # one entry, so the unit direction is +-1 and the lie's slope along it is +-delta
    x = tensor([0.75])
    report = bl.check_direction(lambda t: bl.apply(lie(delta), t) + C, x, raise_exception=False)
    assert report.numeric == 0.0 and report.error == pytest.approx(delta, rel=1e-6)
    assert report.passed is passes


def test_the_noise_allowance_is_the_larger_of_atol_prime_and_the_noise_not_their_sum():
    # f = 1e6 + x_1: x_0's true gradient is 0 and its differences exactly 0, x_1's is 1. The
    # largest gradient is 1, so atol' = atol = 1e-5; x_0's rounding, 2.2e-10 * 1e6 = 2.2e-4, gives
    # 10 times that capped at atol: 1e-5 again. The larger of the two is 1e-5, so the lie of
    # 1.5e-5 at x_0 fails (their sum, 2e-5, passed it). x_1 passes: its difference is off by at
    # most f's spacing over the step, 1.2e-10 / 2e-6 = 6e-5, within rtol * 1 = 1e-3.
    x = tensor([0.5, 1.0])
    pick = np.array([0.0, 1.0])
    report = bl.gradcheck(
        lambda t: (t * pick).sum() + bl.apply(lie(1.5e-5), t) + 1e6, x, raise_exception=False
    )
    assert report.rows[0].max_abs_error == pytest.approx(1.5e-5, rel=1e-6)
    assert not report.passed


# ------------------------------------------------------ the second opinion's steps: 2 eps and eps/2
def cube_off_at_zero(delta):
    """1000 x**3 with a rule that is right (3000 x**2 g) except at x == 0, where it adds delta."""
    return bl.Op(
        "cube",
        lambda x: 1000.0 * x**3,
        lambda g, out, x: ((3000.0 * x**2 + delta * (x == 0)) * g,),
    )


@pytest.mark.parametrize(("delta", "passes"), [(1e-7, False), (1e-8, True)])
@pytest.mark.parametrize("check", [bl.gradcheck, bl.check_direction])
def test_the_second_opinion_uses_the_steps_two_eps_and_half_eps(check, delta, passes):
    # At x = 0 the true gradient of 1000 x**3 is 0, and a central difference with step h reads
    # (1000 h**3 - (-1000 h**3)) / 2h = 1000 h**2: 1e-9 for h = eps = 1e-6, 4e-9 for 2 eps and
    # 2.5e-10 for eps / 2 (truncation error: no rounding to speak of, f is ~1e-15). So the
    # differences' own error is 3e-9 and the allowance 10 times that, 3e-8: a claim of 1e-7
    # fails, one of 1e-8 passes. A second opinion at 20 eps (1000 * 4e-10 = 4e-7 off) allowed
    # 4e-6 (capped at atol) and passed the claim of 1e-7.
    x = tensor([0.0])
    report = check(lambda t: bl.apply(cube_off_at_zero(delta), t), x, raise_exception=False)
    assert report.passed is passes


# ---------------------------------------------------------------- the projection's random signs
RELU_OF_G = bl.Op("relu", lambda x: np.maximum(x, 0.0), lambda g, out, x: (np.maximum(g, 0.0),))


@pytest.mark.parametrize("check", [bl.gradcheck, bl.check_direction])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_vjp_right_only_where_g_is_positive_fails(check, seed):
    # on positive inputs relu's vjp is g itself; a learner's rule that takes relu of g instead
    # agrees wherever g > 0. A non-scalar output is checked through sum(u * f) with u random
    # normal, so g = u has negative entries (all 8 positive: 1 chance in 256 per seed) and the
    # rule is caught; weights u all positive (|u|) let it pass.
    x = tensor([0.5, 1.25, 2.0, 0.8, 1.6, 0.3, 1.1, 0.9])
    assert not check(lambda t: bl.apply(RELU_OF_G, t), x, seed=seed, raise_exception=False).passed


# ------------------------------------------------------------------------------ refusals
HALF_SQUARE = bl.Op("square", lambda x: x**2, lambda g, out, x: (x * g,))  # missing factor 2


@pytest.mark.parametrize("check", [bl.gradcheck, bl.check_direction])
def test_a_function_with_a_new_dropout_mask_each_call_is_refused(check):
    # two calls at the same inputs give different outputs: the differences would measure the
    # masks, not the gradient (the outputs' shape is the same, their values are not)
    drop = bl.nn.Dropout(0.5)
    x = tensor(np.linspace(0.5, 2.0, 8))
    with pytest.raises(ValueError, match=rf"^{check.__name__}: fn gives different outputs"):
        check(lambda t: drop(t), x)


def test_check_direction_refuses_a_step_lost_at_one_entry_while_the_others_move():
    # near 1e12 float64's numbers are 1.2e-4 apart, so x_1 + 5e-7 v_1 == x_1: that entry never
    # moves, and both slopes would leave its gradient out (a rule off there only would pass)
    x = tensor([1.0, 1e12])
    wrong_at_big = bl.Op("scale", lambda t: 3.0 * t, lambda g, out, t: (3.0 * g * (1 + (t > 10)),))
    with pytest.raises(ValueError, match=r"a step of 5e-07 is lost .* at the entry 1e\+12"):
        bl.check_direction(lambda t: bl.apply(wrong_at_big, t).sum(), x)


def test_nudge_check_refuses_a_parameter_that_does_not_require_grad():
    # it would be nudged, but no gradient predicts its share of the change: the prediction
    # would miss it (here 1e-3 * 2 * 3 = 6e-3 of the change would go unpredicted)
    w = tensor([1.0, 2.0])
    b = bl.Tensor(np.array([3.0]))  # requires_grad=False
    with pytest.raises(ValueError, match=r"parameter 1 \(shape \(1,\)\) does not require grad"):
        bl.nudge_check(lambda: (w * w).sum() + (b * b).sum(), [w, b])


@pytest.mark.parametrize("container", [list, tuple])
def test_tensors_passed_in_a_list_or_tuple_next_to_a_tensor_are_refused(container):
    # gradcheck(fn, x, (y,)) would check x only: y's wrong rule would never be compared
    x, y = tensor([0.5, 1.5]), tensor([2.0, -1.0], name="y")
    fn = lambda a, ys: (a * a).sum() + bl.apply(HALF_SQUARE, ys[0]).sum()  # noqa: E731
    name = container.__name__
    with pytest.raises(TypeError, match=rf"^gradcheck: input 1 is a {name}; pass the tensors"):
        bl.gradcheck(fn, x, container([y]))


@pytest.mark.parametrize("setting", ["atol", "rtol"])
@pytest.mark.parametrize("check", [bl.gradcheck, bl.check_direction])
def test_an_infinite_tolerance_is_refused(check, setting):
    # atol or rtol = inf would pass every gradient, a wrong rule too
    x = tensor([0.5, 1.5])
    with pytest.raises(ValueError, match=rf"{setting} must be a finite number >= 0, got inf"):
        check(lambda t: bl.apply(HALF_SQUARE, t).sum(), x, **{setting: np.inf})


def _clamp_second_in_place(x, y):  # a learner's forward that clamps its second input's array
    y[y < 0] = 0
    return x * y


CLAMP_SECOND = bl.Op("mul_relu_ip", _clamp_second_in_place, lambda g, out, x, y: (g * y, g * x))


@pytest.mark.parametrize("check", [bl.gradcheck, bl.check_direction])
def test_a_forward_that_writes_into_its_second_input_is_named_and_it_put_back(check):
    # every input is watched, not only the first: y's array is clamped by the forward, and the
    # differences would be taken at another point than the gradient
    x, y = tensor([1.0, 2.0, 3.0]), tensor([-1.0, 0.5, -2.0], name="y")
    array = y.data
    with pytest.raises(ValueError, match=r"forward pass changed input 1 \(shape \(3,\)\) in place"):
        check(lambda a, b: bl.apply(CLAMP_SECOND, a, b), x, y)
    assert y.data is array and array.tolist() == [-1.0, 0.5, -2.0]


# --------------------------------------------------------------------------- check_backward
def test_check_backward_uses_an_explicit_atol_below_the_rounding_floor_as_given():
    # L = x * x at x = 1.5: dL/dx = 3 exactly. A .grad one float64 step above (3 + 4.4e-16) is
    # within the default's rounding floor, 16 machine epsilons times the formula's size 3
    # (1.1e-14), but an explicit atol = 0 with rtol = 0 asks for the exact value: it differs
    x = bl.Tensor(1.5, requires_grad=True, name="x")
    L = x * x
    L.backward()
    assert bl.symbolic.check_backward(L).ok
    x.grad = np.array(np.nextafter(3.0, 4.0))
    assert bl.symbolic.check_backward(L).ok  # the default floor: rounding, not a wrong rule
    assert not bl.symbolic.check_backward(L, atol=0.0, rtol=0.0).ok


def test_check_backward_floors_atol_at_the_largest_entrys_rounding_not_their_total():
    # L = sum(x * (y - 1)) with every y_i = 1 + 1e-12: dL/dx_i = y_i - 1 = d (1.0000889e-12,
    # y - 1 is exact in float64). A hand derivation 10 % off, 1.1 (y_i - 1), is off by 1e-13 at
    # each of x's 30 entries. Its gradients are far below 1, so atol' = 1e-10 * 1.1e-12, raised
    # to the rounding floor: 16 machine epsilons times the size of the numbers the formula adds
    # up, 1.1 (|y_i| + 1) = 2.2, so 7.8e-15 for the largest entry. 1e-13 is 13 times that: the
    # derivation DIFFERS. (Summed over the 30 entries the floor was 2.3e-13, and it agreed.)
    n = 30
    x = bl.Tensor(np.full(n, 0.5), requires_grad=True, name="x")
    y = bl.Tensor(np.full(n, 1.0 + 1e-12), requires_grad=True, name="y")
    L = (x * (y - 1.0)).sum()
    L.backward()
    ys = bl.symbolic.leaf_symbols("y", (n,))
    right = sp.Matrix([y_i - 1 for y_i in ys])
    off = sp.Matrix([sp.Rational(11, 10) * (y_i - 1) for y_i in ys])
    assert bl.symbolic.check_backward(L, {"x": right}).ok
    comparison = bl.symbolic.check_backward(L, {"x": off})
    assert not comparison.ok
    assert comparison.leaf_atols["x"] == pytest.approx(16 * MACHINE_EPS * 2.2, rel=1e-3)


def test_a_registered_form_off_by_one_in_100000_from_its_op_is_caught_by_the_value_check():
    # the op computes x**3 but its vjp, 3.00003 x**2, is the derivative of the registered form
    # 1.00001 x**3: sympy agrees with the vjp, and only the traced formula's value, 1e-5 off the
    # graph's (100 times rtol = 1e-7), shows that the formula is not the op's function
    bad = bl.Op("cube_mutants7", lambda x: x**3, lambda g, out, x: (g * 3 * 1.00001 * x**2,))
    bl.symbolic.register("cube_mutants7", lambda e: sp.Float("1.00001") * e**3)
    try:
        x = tensor([0.5, -1.25, 2.0])
        L = bl.apply(bad, x).sum()
        L.backward()
        result = bl.symbolic.check_backward(L)
        assert result.rows[0][4]  # the gradients agree with the registered form...
        assert not result.value_agrees and not result.ok  # ...which is not the op's function
    finally:
        del bl.symbolic.SYMPY_OPS["cube_mutants7"]


def test_a_float64_leaf_next_to_a_float32_one_gets_float32s_tolerance():
    # "rtol = 1e-4, atol = 1e-6 if any gradient is float32": y is float64, but its gradient
    # 2 y (x_1 + x_2 - 1) comes from x's float32 sum, 1 + 0.05 rounded to float32's 1.04999995:
    # 5e-8 off the exact 0.0500000007 (x_2 is float32's 0.05). Within float32's tolerance
    # (1e-4 * 0.05 = 5e-6), far beyond float64's (5e-9): the right rule must not be blamed
    x = bl.Tensor(np.array([1.0, 0.05], dtype=np.float32), requires_grad=True, name="x")
    y = bl.Tensor(np.array([0.5, 1.5]), requires_grad=True, name="y")
    L = (y * y).sum() * (x.sum() - 1.0)
    L.backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    comparison = bl.symbolic.check_backward(L)
    assert comparison.rtol == 1e-4 and comparison.atol == 1e-6
    assert comparison.ok


def test_the_rounding_floor_counts_every_term_a_sum_adds_up():
    # s = y_0 + y_1 + ... + y_48 added in that order, y_0 = 1 and the 48 others 2**-53: each
    # 1 + 2**-53 rounds back to 1 (to even), so float64's s - 1 is 0, the exact value
    # 48 * 2**-53 = 5.3e-15. dL/dx of L = x (s - 1) is that difference: backward's 0 is as right
    # as float64 can get it. The formula adds up numbers of total size 1 + 48 * 2**-53 + 1 = 2,
    # so the floor is 16 eps * 2 = 7.1e-15 and 0 agrees; sizing a sum by its largest term (1)
    # gave 3.6e-15 and blamed the right gradient.
    k = 48
    y = bl.Tensor(np.array([1.0] + [2.0**-53] * k), requires_grad=True, name="y")
    x = bl.Tensor(0.5, requires_grad=True, name="x")
    s = y[0]
    for i in range(1, k + 1):
        s = s + y[i]
    L = x * (s - 1.0)
    L.backward()
    assert x.grad == 0.0
    comparison = bl.symbolic.check_backward(L)
    assert comparison.leaf_atols["x"] == pytest.approx(16 * MACHINE_EPS * 2, rel=1e-9)
    assert comparison.ok


# ------------------------------------------------------------- a bug the mutants led to (fixed)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_float64_leaf_whose_gradient_cancels_in_float32_is_not_blamed(dtype):
    # x = [1, 1e-4] in float32: x_1 + x_2 = 1.0001 is rounded to float32's spacing 1.2e-7, so
    # x_1 + x_2 - 1 keeps only 3 digits (1.00017e-4 for the exact 0.99999997e-4). y's gradient
    # 2 y (x_1 + x_2 - 1) inherits that: right for float32 arithmetic, 1.7e-4 off the exact
    # value. Its formula adds up numbers of size 2 y (1 + 1e-4 + 1) ~ 4 y, so float32's rounding
    # floor, 16 * 1.2e-7 * 4 y = 7.6e-6 y, covers the error 3.3e-8 y (rtol alone allows
    # 1e-4 * 2e-4 y = 2e-8 y) whether y itself is float32 or float64: a float64 y was judged by
    # float64's floor (1.4e-14 y) and said to DIFFER, while the same y in float32 agreed.
    x = bl.Tensor(np.array([1.0, 1e-4], dtype=np.float32), requires_grad=True, name="x")
    y = bl.Tensor(np.array([0.5, 1.5], dtype=dtype), requires_grad=True, name="y")
    L = (y * y).sum() * (x.sum() - 1.0)
    L.backward()
    exact = 2 * y.data * (1.0 + float(np.float32(1e-4)) - 1.0)
    assert np.abs(y.grad - exact).max() > 1.5e-4 * np.abs(exact).max()  # float32's cancellation
    assert bl.symbolic.check_backward(L).ok
