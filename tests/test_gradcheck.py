"""The checkers must pass right rules and fail wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bl

RIGHT = bl.Op("square", lambda x: x**2, lambda g, out, x: (2 * x * g,))
OFF_BY_TWO = bl.Op("square", lambda x: x**2, lambda g, out, x: (x * g,))
SWAPPED = bl.Op("matmul_swapped", np.matmul, lambda g, out, x, y: (g @ y.T, g.T @ x))


def leaf(shape, seed=0, name=None):
    return bl.Tensor(
        np.random.default_rng(seed).uniform(0.5, 1.5, shape), requires_grad=True, name=name
    )


def test_gradcheck_passes_a_right_rule_and_reports_each_input():
    report = bl.gradcheck(lambda x: bl.apply(RIGHT, x).sum(), leaf((2, 3), name="x"))
    assert report.passed
    assert [r.name for r in report.rows] == ["x"]
    assert report.rows[0].max_abs_error < 1e-8
    assert "gradcheck passed" in str(report)


def test_gradcheck_fails_a_wrong_rule_with_a_table():
    x = leaf((2, 3), name="x")
    with pytest.raises(bl.GradcheckError, match=r"(?s)x\s+\(2, 3\).*NO.*gradcheck FAILED"):
        bl.gradcheck(lambda x: bl.apply(RIGHT, x) * bl.apply(OFF_BY_TWO, x), x)
    assert not bl.gradcheck(OFF_BY_TWO, x, raise_exception=False).passed


def test_gradcheck_catches_a_wrong_rule_on_one_input_only():
    x, w = leaf((3, 3), 1, "x"), leaf((3, 3), 2, "w")  # square, so the wrong transpose still runs
    report = bl.gradcheck(SWAPPED, x, w, raise_exception=False)
    assert [r.passed for r in report.rows] == [True, False]


def test_gradcheck_leaves_inputs_and_grads_untouched():
    x = leaf((3,))
    before = x.data.copy()
    x.grad = np.full(3, 7.0)
    bl.gradcheck(lambda x: (x * x).sum(), x)
    np.testing.assert_array_equal(x.data, before)
    np.testing.assert_array_equal(x.grad, np.full(3, 7.0))


def test_non_scalar_outputs_are_checked_through_a_random_projection():
    x = leaf((4,))
    assert bl.gradcheck(lambda x: x.exp(), x).passed
    flawed = bl.Op(
        "exp_flawed", np.exp, lambda g, out, x: (out * g.mean(),)
    )  # right only for one-hot g
    assert not bl.gradcheck(flawed, x, raise_exception=False).passed


def test_check_direction():
    x, w = leaf((20, 30), 3), leaf((30, 10), 4)
    report = bl.check_direction(lambda x, w: (x @ w).tanh().sum(), x, w)
    assert report.passed and report.error < 1e-7
    bad = bl.check_direction(SWAPPED, leaf((5, 5), 5), leaf((5, 5), 6), raise_exception=False)
    assert not bad.passed
    with pytest.raises(bl.GradcheckError, match="FAILED"):
        bl.check_direction(SWAPPED, leaf((5, 5), 5), leaf((5, 5), 6))


def test_nudge_check_predicts_the_change_of_the_loss():
    w = leaf((3,), 7, "w")
    target = np.array([1.0, -1.0, 0.5])

    def loss():
        return ((w - target) ** 2).sum()

    small = bl.nudge_check(loss, [w], 1e-4)
    # exact for a quadratic: change = sum(2 (w - t) eps) + 3 eps^2
    np.testing.assert_allclose(small.predicted_change, np.sum(2 * (w.data - target) * 1e-4))
    np.testing.assert_allclose(small.actual_change, small.predicted_change + 3e-8, rtol=1e-6)
    assert small.relative_difference < 1e-3
    step = [-0.1 * 2 * (w.data - target)]  # one gradient-descent step, lr = 0.1
    report = bl.nudge_check(loss, [w], step)
    assert report.actual_change < 0 and report.predicted_change < report.actual_change
    assert w.grad is None  # left as it was


def test_nudge_check_needs_one_array_per_parameter():
    w = leaf((3,))
    with pytest.raises(ValueError, match="one nudge array per parameter"):
        bl.nudge_check(lambda: w.sum(), [w], [np.ones(2)])


def test_nudge_check_keeps_each_parameter_in_its_own_dtype():
    # every nudge is cast to its own parameter's dtype (it once took the last parameter's)
    a = bl.Tensor(np.ones(2, np.float32), requires_grad=True)
    b = bl.Tensor(np.ones(3), requires_grad=True)
    seen = []

    def loss():
        seen.append((a.data.dtype, b.data.dtype))
        return a.sum() * 2 + b.sum()

    for nudge in ([np.full(2, 1e-3), np.full(3, 1e-3, np.float32)], 1e-3):
        seen.clear()
        report = bl.nudge_check(loss, [a, b], nudge)
        assert seen == [(np.float32, np.float64)] * 3  # the forward pass, again, then nudged
        np.testing.assert_allclose(report.actual_change, 7e-3, rtol=1e-4)  # 2 * 2e-3 + 3e-3
    with pytest.raises(ValueError, match="one nudge array per parameter"):
        bl.nudge_check(loss, [a], [np.ones(2), np.ones(3)])  # one array too many


def test_checks_give_the_inputs_back_even_when_fn_raises():
    # gradcheck left x.data a copy nudged by +eps, check_direction a nudged array, and
    # nudge_check the nudged parameters with the new gradients, when fn raised part-way
    def fn(t):
        if t.data[0] > 0.5:  # raises only at a nudged value
            raise RuntimeError("boom")
        return (t * t).sum()

    for check in (bl.gradcheck, bl.check_direction):
        x = bl.Tensor(np.array([0.5, 0.5]), requires_grad=True)
        data = x.data
        with pytest.raises(RuntimeError, match="boom"):
            check(fn, x)
        assert x.data is data and x.data.tolist() == [0.5, 0.5]

    w = bl.Tensor(np.array([0.5, -1.0]), requires_grad=True)
    w.grad = np.array([7.0, 7.0])
    with pytest.raises(RuntimeError, match="boom"):
        bl.nudge_check(lambda: fn(w), [w], 1e-3)
    assert w.data.tolist() == [0.5, -1.0] and w.grad.tolist() == [7.0, 7.0]


def test_nudge_check_refuses_one_tensor_for_the_list_of_parameters():
    # nudge_check(fn, w) nudged w's rows (new tensors) and reported a change of 0
    w = bl.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError, match=r"^nudge_check: params must be a list of tensors"):
        bl.nudge_check(lambda: (w * w).sum(), w)
    report = bl.nudge_check(lambda: (w * w).sum(), iter([w]))  # an iterator is fine
    assert report.predicted_change == pytest.approx(6e-3)


def test_a_second_opinion_step_lost_in_rounding_gives_no_opinion():
    # At 1.5 * 2**33 float64's spacing is 1.9e-6: the step eps = 1e-6 moves x (to the next
    # float), but the second opinion's eps / 2 is lost (x + 5e-7 == x). That step must give no
    # opinion, not the "step is lost" error of the first step, and a wrong rule still fails
    # (found by the coverage sweep: no test reached a lost second-opinion step)
    x = bl.Tensor(np.array([1.5 * 2.0**33]), requires_grad=True, name="x")
    assert x.data[0] + 5e-7 == x.data[0] != x.data[0] + 1e-6
    slope_five = bl.Op("identity", lambda v: v * 1.0, lambda g, out, v: (5 * g,))
    report = bl.gradcheck(lambda v: bl.apply(slope_five, v).sum(), x, raise_exception=False)
    assert not report.passed
    assert report.rows[0].max_abs_error == pytest.approx(4.0)  # the differences read slope 1
    right = bl.Op("identity", lambda v: v * 1.0, lambda g, out, v: (g,))
    assert bl.gradcheck(lambda v: bl.apply(right, v).sum(), x).passed
