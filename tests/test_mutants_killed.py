"""Gradients at the places the other tests step around: found by mutation testing.

Each test here kills mutants of the engine (a flipped sign, a dropped factor, a rule changed at a
special point) that the rest of the suite let through: the rows' gradients are checked at
exponents 0 and 1, at 0 and ties, at probabilities 0 and 1, and with settings the other cases
never use. Expected values are written by hand from calculus (or PyTorch's documented
convention at a kink), or computed by central differences in float64 with ``graphs.numeric_grad``;
never by the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from graphs import leaf, numeric_grad

import backproplab as bl
from backproplab import ops


def grad_of(fn, *values):
    """The gradients of ``fn(*tensors).sum()`` with respect to each of ``values`` (float64)."""
    xs = [leaf(v) for v in values]
    fn(*xs).sum().backward()
    return [x.grad for x in xs]


# ----------------------------------------------------------------------- power and pow rows
@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0, [0.0, 0.0, 0.0]),  # x ** 0 is the constant 1, even at x = 0 (never NaN)
        (1, [1.0, 1.0, 1.0]),  # x ** 1 is x
        (2, [-4.0, 0.0, 6.0]),  # 2 x
        (3, [12.0, 0.0, 27.0]),  # 3 x ** 2
    ],
)
def test_power_gradient_at_the_exponents_0_and_1_and_at_x_0(p, expected):
    (gx,) = grad_of(lambda x: x**p, [-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(gx, expected)


def test_pow_gradients_at_exponents_0_1_2_and_at_base_0():
    # x ** y with a tensor exponent; by hand: d/dx = y x^(y-1) (0 where y = 0: x^0 = 1 is flat),
    # d/dy = x^y log x (0 where x = 0 and y >= 0: 0^y is flat in y, as in PyTorch)
    x = [0.0, 0.0, 0.0, 2.0, 2.0, 3.0]
    y = [0.0, 1.0, 2.0, 0.0, 1.0, 2.0]
    gx, gy = grad_of(lambda a, b: a**b, x, y)
    np.testing.assert_array_equal(gx, [0.0, 1.0, 0.0, 0.0, 1.0, 6.0])
    np.testing.assert_allclose(gy, [0.0, 0.0, 0.0, np.log(2), 2 * np.log(2), 9 * np.log(3)],
                               rtol=1e-15)  # fmt: skip


# -------------------------------------------------------------- kinks: PyTorch's convention
def test_abs_relu_and_leaky_relu_at_0_take_pytorchs_one_sided_values():
    # at the kink each row takes one value of its subgradient, PyTorch's: abs'(0) = sign(0) = 0,
    # relu'(0) = 0, leaky_relu'(0) = slope (the left side)
    x = [-2.0, 0.0, 3.0]
    np.testing.assert_array_equal(grad_of(bl.abs, x)[0], [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_of(bl.relu, x)[0], [0.0, 0.0, 1.0])
    (g,) = grad_of(lambda t: t.leaky_relu(0.25), x)
    np.testing.assert_array_equal(g, [0.25, 0.25, 1.0])


def test_leaky_relu_uses_the_slope_it_is_given():
    (g,) = grad_of(lambda t: t.leaky_relu(0.3) * np.array([1.0, 2.0, 3.0]), [-1.0, -2.0, 4.0])
    np.testing.assert_allclose(g, [0.3, 0.6, 3.0], rtol=1e-15)


def test_maximum_at_ties_gives_each_input_half():
    gx, gy = grad_of(bl.maximum, [1.0, 2.0, 3.0], [1.0, 5.0, 0.0])
    np.testing.assert_array_equal(gx, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gy, [0.5, 1.0, 0.0])


@pytest.mark.parametrize(
    ("axis", "expected"),
    [
        (1, [[0, 1 / 2, 1 / 2], [1 / 3, 1 / 3, 1 / 3]]),  # each row's winners share its gradient
        (None, [[0, 1 / 2, 1 / 2], [0, 0, 0]]),
    ],
)
def test_max_ties_share_the_gradient_equally_within_each_reduction(axis, expected):
    (g,) = grad_of(lambda t: t.max(axis=axis), [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(g, expected, rtol=1e-15)


# ---------------------------------------------------------------------------- the losses
def test_binary_cross_entropy_gradient_at_probabilities_0_and_1_and_near_them():
    # (p - y) / (N max(p (1 - p), 1e-12)), PyTorch's, N = 4 entries
    p = np.array([0.0, 1.0, 1e-7, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    prob = leaf(p)
    bl.binary_cross_entropy(prob, y).backward()
    expected = [-1e12 / 4, 1e12 / 4, 1 / (1 - 1e-7) / 4, -0.5 / 0.25 / 4]
    np.testing.assert_allclose(prob.grad, expected, rtol=1e-12)


def test_binary_cross_entropy_with_logits_gradient_at_huge_logits():
    # (sigmoid(z) - y) / N: sigmoid(-800) = 0 and sigmoid(800) = 1 in float64
    z = leaf([-800.0, 0.0, 800.0, 2.0])
    bl.binary_cross_entropy_with_logits(z, np.array([1.0, 0.5, 0.0, 1.0])).backward()
    expected = [-1 / 4, 0.0, 1 / 4, (1 / (1 + np.exp(-2.0)) - 1) / 4]
    np.testing.assert_allclose(z.grad, expected, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_binary_losses_gradient_is_scaled_by_the_upstream_gradient(scale):
    p, z = leaf([0.2, 0.7]), leaf([0.5, -1.0])
    y = np.array([1.0, 0.0])
    (
        bl.binary_cross_entropy(p, y) * scale + bl.binary_cross_entropy_with_logits(z, y) * scale
    ).backward()
    np.testing.assert_allclose(p.grad, scale * np.array([-0.8 / 0.16, 0.7 / 0.21]) / 2, rtol=1e-13)
    s = 1 / (1 + np.exp(-np.array([0.5, -1.0])))
    np.testing.assert_allclose(z.grad, scale * (s - y) / 2, rtol=1e-13)


def test_cross_entropy_with_probability_rows_that_do_not_sum_to_1_matches_finite_differences():
    # rows of weights summing to 0.7 and 1.5: the gradient is (softmax * sum(y) - y) / N
    labels = np.array([[0.2, 0.5, 0.0], [1.0, 0.25, 0.25]])
    logits = np.array([[0.3, -1.0, 2.0], [0.0, 0.5, -0.5]])
    z = leaf(logits)
    bl.cross_entropy(z, labels).backward()
    expected = numeric_grad(lambda a: bl.cross_entropy(bl.Tensor(a), labels).item(), logits)
    np.testing.assert_allclose(z.grad, expected, rtol=1e-7, atol=1e-10)


def test_log_softmax_rows_far_apart_stay_finite_and_exact():
    # each row is shifted by its own max: a shift shared by all rows underflows the small row
    x = leaf([[0.0, 1.0, 2.0], [1000.0, 1001.0, 1002.0]])
    out = bl.log_softmax(x, axis=-1)
    row = np.array([0.0, 1.0, 2.0]) - np.log(1 + np.e + np.e**2)
    np.testing.assert_allclose(out.data, [row, row], rtol=1e-14)
    (out * np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])).sum().backward()
    softmax = np.exp(row)
    np.testing.assert_allclose(x.grad, [[1, 0, 0] - softmax, [0, 0, 1] - softmax], rtol=1e-13)


# ------------------------------------------------------------------------- the backward pass
def test_inputs_of_one_node_get_arrays_of_their_own():
    # add hands the same g to both inputs (and g is the output's gradient): each input must get
    # its own array, or an in-place change of one gradient (clipping) changes the others
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = a + b
    y.backward(np.array([1.0, 1.0]))
    assert not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, y.grad) and not np.shares_memory(b.grad, y.grad)
    a.grad *= 10
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])


def test_a_rule_returning_float64_for_a_float32_input_gives_a_float32_gradient():
    twice = ops.Op("twice", lambda x: 2 * x, lambda g, out, x: ((2 * g).astype(np.float64),))
    x = bl.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    bl.apply(twice, x).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_a_rule_returning_more_axes_than_its_output_is_refused_not_summed():
    # a gradient of shape (2, 3) for an input of shape (3,) whose output is (3,): no broadcasting
    # made it, so summing it down would hide a wrong rule
    wrong = ops.Op("wrong", lambda x: x * 1.0, lambda g, out, x: (np.stack([g, g]),))
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="check that rule"):
        bl.apply(wrong, x).sum().backward()


# ------------------------------------- fused rows of convolution.py and normalization.py, tight
def assert_matches_central_differences(fn, *arrays, rtol=1e-6):
    """The gradients of sum(fn(*tensors) * W), W fixed random weights, against float64 central
    differences (eps = 1e-6) to a relative 1e-6: bl.gradcheck's rtol of 1e-3 lets a rule off by
    0.1 % through."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    weights = np.random.default_rng(7).uniform(0.5, 2, fn(*map(bl.Tensor, arrays)).shape)
    xs = [leaf(a) for a in arrays]
    fn(*xs).backward(weights)
    for k, x in enumerate(xs):

        def f(v, k=k):
            others = [bl.Tensor(a) for a in arrays]
            others[k] = bl.Tensor(v)
            return float(np.sum(fn(*others).data * weights))

        np.testing.assert_allclose(
            x.grad, numeric_grad(f, arrays[k]), rtol=rtol, atol=1e-8, err_msg=f"input {k}"
        )


def test_conv2d_with_unequal_kernel_stride_and_padding_matches_central_differences():
    # rows and columns differ in every setting (kernel 3x2, stride 2x1, padding 1x0) and the
    # output is not square: a rule that mixes up the two directions gets a wrong number
    rng = np.random.default_rng(3)
    x, w, b = (
        rng.standard_normal((2, 2, 5, 4)),
        rng.standard_normal((3, 2, 3, 2)),
        rng.standard_normal(3),
    )
    assert bl.conv2d(bl.Tensor(x), bl.Tensor(w), stride=(2, 1), padding=(1, 0)).shape == (
        2,
        3,
        3,
        3,
    )
    assert_matches_central_differences(
        lambda x, w, b: bl.conv2d(x, w, b, stride=(2, 1), padding=(1, 0)), x, w, b
    )
    x2 = rng.standard_normal((1, 2, 4, 6))  # an output 2 high and 5 wide
    assert_matches_central_differences(
        lambda x, w: bl.conv2d(x, w, padding=(0, 1)), x2, w[:, :, :, :]
    )


@pytest.mark.parametrize(("kernel", "stride"), [((3, 2), (2, 1)), ((2, 3), (1, 2)), (2, 1)])
def test_pooling_with_unequal_and_overlapping_windows_matches_central_differences(kernel, stride):
    # distinct values 0.01 apart: no tie within eps, so max pooling is differentiable
    x = np.random.default_rng(5).permutation(2 * 6 * 5).reshape(1, 2, 6, 5) * 0.01
    assert_matches_central_differences(lambda t: bl.max_pool2d(t, kernel, stride), x)
    assert_matches_central_differences(lambda t: bl.avg_pool2d(t, kernel, stride), x)


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 2, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_central_differences(shape, training):
    rng = np.random.default_rng(11)
    c = shape[1]
    x, w, b = rng.standard_normal(shape), rng.uniform(0.5, 2, c), rng.standard_normal(c)
    mean, var = np.linspace(-1, 1, c), np.linspace(0.5, 2, c)
    assert_matches_central_differences(
        lambda x, w, b: bl.batch_norm(x, mean.copy(), var.copy(), w, b, training), x, w, b
    )


@pytest.mark.parametrize(("shape", "normalized"), [((3, 5), 5), ((2, 3, 4), (3, 4))])
def test_layer_norm_matches_central_differences(shape, normalized):
    rng = np.random.default_rng(12)
    x = rng.standard_normal(shape)
    w = rng.uniform(0.5, 2, shape[-1:] if normalized == 5 else normalized)
    assert_matches_central_differences(lambda x, w: bl.layer_norm(x, normalized, w, w), x, w)


def test_a_node_no_gradient_reached_is_skipped_not_sent_none():
    # a rule may return None for an input (no gradient): a node computed before it then gets
    # no gradient at all, and the pass must skip it rather than call its rule with None
    stop = ops.Op("stop", lambda x: x.copy(), lambda g, out, x: (None,))
    x = leaf([1.0, 2.0])
    h = x * 3.0
    (bl.apply(stop, h) + x).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_cross_entropy_of_one_example_is_minus_its_log_softmax_and_not_divided_by_k():
    # logits of shape (K,) are one example: the loss is -log softmax(z)_label, a mean over a
    # batch of 1, and its gradient softmax(z) - onehot (the forward and backward could share a
    # wrong batch size and still agree with each other, so the values are by hand)
    z = leaf([1.0, 2.0, 3.0])
    loss = bl.cross_entropy(z, 2)
    total = np.exp(1.0) + np.exp(2.0) + np.exp(3.0)
    np.testing.assert_allclose(loss.item(), np.log(total) - 3.0, rtol=1e-14)
    loss.backward()
    expected = np.exp([1.0, 2.0, 3.0]) / total - [0.0, 0.0, 1.0]
    np.testing.assert_allclose(z.grad, expected, rtol=1e-13)
