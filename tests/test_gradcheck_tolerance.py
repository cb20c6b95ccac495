"""gradcheck's tolerances: a wrong rule fails at every scale of the function, a right one passes,
and a gradient that is truly 0 passes though its finite differences come out as rounding noise.

The verdicts and errors expected here are worked out by hand (a rule missing a factor 2 on
c * sum(x**2) is off by c * |x|); none comes from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import backproplab as bl

SQUARE = bl.Op("square", lambda x: x**2, lambda g, out, x: (2 * x * g,))
WRONG_SQUARES = {
    "missing factor 2": bl.Op("square", lambda x: x**2, lambda g, out, x: (x * g,)),
    "wrong sign": bl.Op("square", lambda x: x**2, lambda g, out, x: (-2 * x * g,)),
    "forgets g": bl.Op("square", lambda x: x**2, lambda g, out, x: (2 * x,)),
    "derivative of x**3": bl.Op("square", lambda x: x**2, lambda g, out, x: (3 * x**2 * g,)),
}
SWAPPED = bl.Op("matmul_swapped", np.matmul, lambda g, out, x, y: (g @ y.T, g.T @ x))
MATMUL = bl.Op("matmul", np.matmul, lambda g, out, x, y: (g @ y.T, x.T @ g))
SCALES = st.integers(-8, 4).map(lambda k: 10.0**k)


@st.composite
def away_from_zero(draw, max_size=6):
    """float64 entries with 0.5 <= |x| <= 2, so that every wrong rule above is off by a lot
    relative to the gradient (x**3's slope 3x**2 equals 2x only at x = 0 and 2/3)."""
    size = draw(st.integers(1, max_size))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.5, 2.0, size) * rng.choice([-1.0, 1.0], size)
    values[np.abs(values - 2 / 3) < 0.05] = 1.5
    return bl.Tensor(values, requires_grad=True, name="x")


# ------------------------------------------------------------------- wrong and right at any scale
@given(x=away_from_zero(), c=SCALES, rule=st.sampled_from(sorted(WRONG_SQUARES)))
def test_a_wrong_rule_fails_at_every_scale(x, c, rule):
    wrong = WRONG_SQUARES[rule]
    assert not bl.gradcheck(lambda t: bl.apply(wrong, t).sum() * c, x, raise_exception=False).passed
    assert not bl.gradcheck(lambda t: bl.apply(wrong, t) * c, x, raise_exception=False).passed
    assert not bl.check_direction(lambda t: bl.apply(wrong, t) * c, x, raise_exception=False).passed


@given(x=away_from_zero(), c=SCALES)
def test_the_error_of_a_missing_factor_two_is_c_times_x(x, c):
    # d/dx of c x**2 is 2 c x; the rule gives c x: off by c |x|
    report = bl.gradcheck(
        lambda t: bl.apply(WRONG_SQUARES["missing factor 2"], t).sum() * c, x, raise_exception=False
    )
    assert report.rows[0].max_abs_error == pytest.approx(c * np.abs(x.data).max(), rel=1e-4)


@given(x=away_from_zero(), c=SCALES)
def test_a_right_rule_passes_at_every_scale(x, c):
    assert bl.gradcheck(lambda t: bl.apply(SQUARE, t).sum() * c, x).passed
    assert bl.gradcheck(lambda t: bl.apply(SQUARE, t) * c, x).passed
    assert bl.check_direction(lambda t: bl.apply(SQUARE, t) * c, x).passed


@pytest.mark.parametrize("c", [1e-8, 1e-4, 1.0, 1e4])
def test_a_transposed_matmul_rule_fails_at_every_scale_and_the_right_one_passes(c):
    rng = np.random.default_rng(1)
    x = bl.Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    w = bl.Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    report = bl.gradcheck(lambda a, b: bl.apply(SWAPPED, a, b) * c, x, w, raise_exception=False)
    assert [r.passed for r in report.rows] == [True, False]
    assert bl.gradcheck(lambda a, b: bl.apply(MATMUL, a, b) * c, x, w).passed


@pytest.mark.parametrize("c", [1e-6, 1e-3])
def test_a_wrong_rule_on_a_small_input_fails_next_to_a_large_one(c):
    # each input gets its own scale: y's gradients (2c y) are far below x's (2x)
    x = bl.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True, name="x")
    y = bl.Tensor(np.array([0.7, -1.2]), requires_grad=True, name="y")
    wrong = WRONG_SQUARES["missing factor 2"]
    report = bl.gradcheck(
        lambda a, b: (a * a).sum() + bl.apply(wrong, b).sum() * c, x, y, raise_exception=False
    )
    assert [r.passed for r in report.rows] == [True, False]


@pytest.mark.parametrize("c", [1e-8, 1e-3, 1e4])
def test_a_zero_d_input_is_checked_at_every_scale(c):
    x = bl.Tensor(1.5, requires_grad=True)
    wrong = WRONG_SQUARES["missing factor 2"]
    assert not bl.gradcheck(lambda t: bl.apply(wrong, t) * c, x, raise_exception=False).passed
    assert bl.gradcheck(lambda t: bl.apply(SQUARE, t) * c, x).passed


# ----------------------------------------------------- what atol means (as documented), by hand
def off_at_zero(delta):
    """x**2 with a rule that is right except at x == 0, where it is off by delta."""
    return bl.Op("square", lambda x: x**2, lambda g, out, x: ((2 * x + delta * (x == 0)) * g,))


@pytest.mark.parametrize(("c", "delta", "passes"), [
    (1.0, 2e-5, False), (1.0, 5e-6, True),  # largest gradient 2: atol' = atol = 1e-5
    (1e-3, 5e-5, False), (1e-3, 1e-5, True),  # largest gradient 2e-3: atol' = 2e-8
])  # fmt: skip
def test_atol_is_absolute_for_gradients_of_one_or_more_and_scaled_below(c, delta, passes):
    # at x = 0 the true gradient is 0 and the central difference is exactly 0 (an even
    # function), so the error there is c * delta, against atol' (rtol * 0 adds nothing); the
    # old fixed atol of 1e-5 passed both errors at c = 1e-3 (5e-8 and 1e-8)
    x = bl.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    report = bl.gradcheck(lambda t: bl.apply(off_at_zero(delta), t).sum() * c, x,
                          raise_exception=False)  # fmt: skip
    assert report.rows[0].max_abs_error == pytest.approx(c * delta, rel=1e-6)
    assert report.passed is passes


def off_by_a_factor(r):
    """x**2 with a rule that is everywhere off by the relative error r: 2x (1 + r)."""
    return bl.Op("square", lambda x: x**2, lambda g, out, x: (2 * x * (1 + r) * g,))


@pytest.mark.parametrize(("r", "passes"), [(3e-3, False), (-3e-3, False), (3e-4, True)])
def test_rtol_is_one_in_a_thousand_for_gradcheck(r, passes):
    # gradients 2x with |x| in [0.5, 2] are >= 1, so atol' = 1e-5 and the entry may be off by
    # 1e-5 + 1e-3 * |2x|: a relative error of 3e-3 is beyond that, 3e-4 within it. A rtol ten
    # times looser (1e-2) would pass 3e-3, one ten times tighter (1e-4) would fail 3e-4.
    x = bl.Tensor(np.array([0.5, -1.25, 2.0]), requires_grad=True)
    report = bl.gradcheck(lambda t: bl.apply(off_by_a_factor(r), t).sum(), x,
                          raise_exception=False)  # fmt: skip
    assert report.rows[0].max_rel_error == pytest.approx(abs(r), rel=1e-3)
    assert report.passed is passes


@pytest.mark.parametrize(("r", "passes"), [(3e-5, False), (-3e-5, False), (3e-6, True)])
def test_rtol_is_one_in_a_hundred_thousand_for_check_direction(r, passes):
    # one slope s = sum(2x v) along a unit direction v; the rule gives s (1 + r). |s| is 2.7
    # here (measured), so the slope may be off by 1e-6 + 1e-5 |s|: 3e-5 |s| is beyond, 3e-6 |s| within
    x = bl.Tensor(np.array([0.5, -1.25, 2.0, 1.5]), requires_grad=True)
    report = bl.check_direction(lambda t: bl.apply(off_by_a_factor(r), t).sum(), x,
                                raise_exception=False)  # fmt: skip
    assert abs(report.numeric) > 0.1  # the direction is not orthogonal to the gradient
    assert report.error == pytest.approx(abs(r * report.numeric), rel=1e-2)
    assert report.passed is passes


@pytest.mark.parametrize(("r", "passes"), [(1.5e-5, False), (7e-6, True)])
def test_check_direction_atol_scales_with_a_slope_below_one(r, passes):
    # c sum(x**2) with c = 1e-3: the slope s is far below 1, so atol' = 1e-6 |s| and the slope
    # may be off by (1e-6 + 1e-5) |s|: a relative error of 1.5e-5 is beyond, 7e-6 within (an
    # atol of 1e-5 would let 1.5e-5 through: it would allow 2e-5 |s|)
    x = bl.Tensor(np.array([0.5, -1.25, 2.0, 1.5]), requires_grad=True)
    report = bl.check_direction(lambda t: bl.apply(off_by_a_factor(r), t).sum() * 1e-3, x,
                                raise_exception=False)  # fmt: skip
    assert 1e-4 < abs(report.numeric) < 1e-2
    assert report.error == pytest.approx(abs(r * report.numeric), rel=1e-2)
    assert report.passed is passes


# ------------------------------------------------------------------- gradients that are truly 0
def test_a_gradient_that_is_truly_zero_passes_though_the_differences_are_noise():
    # sum(x - mean(x)) is 0 for every x: its gradient is 0, its differences are rounding noise
    x = bl.Tensor(np.random.default_rng(0).uniform(0.5, 1.5, 10), requires_grad=True)
    report = bl.gradcheck(lambda t: (t - t.mean()).sum(), x)
    assert report.passed and 0 < report.rows[0].max_abs_error < 1e-7
    assert bl.check_direction(lambda t: (t - t.mean()).sum(), x).passed


@given(x=away_from_zero(max_size=8), offset=st.sampled_from([0.0, 10.0, 1e3]))
def test_truly_zero_gradients_pass_over_shapes_and_offsets(x, offset):
    x.data = x.data + offset  # the larger the numbers, the larger the rounding noise
    assert bl.gradcheck(lambda t: (t - t.mean()).sum(), x).passed
    assert bl.gradcheck(lambda t: bl.softmax(t, axis=0).sum(), x).passed  # always 1


def test_a_zero_d_input_whose_gradient_is_truly_zero_passes():
    # the sum of y + x less its mean is 0 for every x and y: their differences are noise
    x = bl.Tensor(0.3, requires_grad=True)
    y = bl.Tensor(np.array([0.7, -1.1, 2.3, 0.4]), requires_grad=True)
    report = bl.gradcheck(lambda a, b: ((b + a) - (b + a).mean()).sum(), x, y)
    assert [r.passed for r in report.rows] == [True, True]
    assert 0 < report.rows[0].max_abs_error < 1e-8


def test_a_truly_zero_gradient_passes_next_to_a_nonzero_one():
    x = bl.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = bl.Tensor(np.array([0.3, 0.9, 1.4, 2.2]), requires_grad=True)
    report = bl.gradcheck(lambda a, b: (a * a).sum() + (b - b.mean()).sum(), x, y)
    assert [r.passed for r in report.rows] == [True, True]


def test_batch_norm_of_large_numbers_passes_its_summed_gradient_of_zero():
    # the sum of a normalized column is 0 whatever x is: noise ~1e-6 with entries ~1e3
    x = bl.Tensor(np.random.default_rng(3).uniform(0.5, 1.5, (4, 5)) + 1e3, requires_grad=True)
    assert bl.gradcheck(lambda t: bl.batch_norm(t, None, None, training=True).sum(), x).passed


def test_a_rule_claiming_a_small_gradient_where_the_truth_is_zero_fails():
    # the noise allowance is a few times the differences' noise (~1e-9 here), not atol
    lie = bl.Op("zero", lambda x: np.zeros(()), lambda g, out, x: (np.full(x.shape, 1e-6) * g,))
    x = bl.Tensor(np.random.default_rng(0).uniform(0.5, 1.5, 10), requires_grad=True)
    report = bl.gradcheck(lambda t: (t - t.mean()).sum() + bl.apply(lie, t), x,
                          raise_exception=False)  # fmt: skip
    assert not report.passed
    assert report.rows[0].max_abs_error == pytest.approx(1e-6, rel=1e-2)


# ---------------------------------------------------------------------------------- float32
@pytest.mark.parametrize("check", [bl.gradcheck, bl.check_direction])
def test_float32_inputs_and_outputs_are_refused(check):
    x32 = bl.Tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32), requires_grad=True)
    name = check.__name__
    with pytest.raises(TypeError, match=rf"^{name}: input 0 is float32; finite differences"):
        check(lambda t: (t * t).sum(), x32)
    x = bl.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    # a cast inside fn: the step of 1e-6 on 3.0 is lost in float32, every difference reads 0
    with pytest.raises(TypeError, match=rf"^{name}: fn's output of shape \(\) is float32"):
        check(lambda t: (t.astype(np.float32) ** 2).sum(), x)


def test_a_float32_constant_in_a_float64_function_is_fine():
    x = bl.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    w = bl.Tensor(np.array([0.5, -1.5, 2.0], dtype=np.float32))  # promoted to float64
    assert bl.gradcheck(lambda t: (t * t * w).sum(), x).passed


def test_a_zero_gradient_whose_differences_are_exactly_zero_passes():
    # softmax sums to 1 whatever x is, so every gradient is 0. Near x = 1000 the sum comes out
    # exactly 1.0 for x +- eps (and +- 2 eps, eps / 2): every difference is exactly 0, while
    # backward's rounding leaves 3e-17. That must pass: it is far below the difference's own
    # rounding, 2.2e-16 * |f| / eps ~ 2e-10. (Found by hypothesis 6.80 at these inputs.)
    values = [1001.6822076896324, 1001.7307542080839, 1001.8761195896448, 998.9157702128599,
              1001.5679618691016]  # fmt: skip
    x = bl.Tensor(np.array(values), requires_grad=True)
    assert bl.gradcheck(lambda t: bl.softmax(t, axis=0).sum(), x).passed
    assert bl.check_direction(lambda t: bl.softmax(t, axis=0).sum(), x).passed
    # ...while a rule 1e-6 off at the same place still fails (the floor is ~2e-9, not atol)
    off = bl.Op("off", lambda t: t, lambda g, out, t: (g + 1e-6,))
    assert not bl.gradcheck(
        lambda t: bl.softmax(bl.apply(off, t), axis=0).sum(), x, raise_exception=False
    ).passed
