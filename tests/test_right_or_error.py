"""The right gradient or an error, never a silently wrong one: each case here was once wrong.

Expected values are written out by hand (calculus, PyTorch's documented formulas) or come from
central finite differences in float64; none is computed by the code under test.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from graphs import arity, leaf, numeric_grad

import backproplab as bl
from backproplab import nn, ops, optim, symbolic


# ------------------------------------------------------------------------ 1. transpose, axes < 0
@pytest.mark.parametrize(
    "shape, axes", [((3, 3), (-1, 0)), ((2, 3), (-1, -2)), ((2, 3, 4), (1, -1, 0))]
)
def test_transpose_with_negative_axes_sends_back_the_transposed_gradient(shape, axes):
    x = leaf(np.ones(shape))
    G = np.arange(np.prod(shape), dtype=float).reshape(np.transpose(np.ones(shape), axes).shape)
    (x.transpose(*axes) * G).sum().backward()
    np.testing.assert_array_equal(
        x.grad, np.transpose(G, np.argsort([a % len(shape) for a in axes]))
    )


# ----------------------------------------------------------- 2. BCE with logits at a logit of 0
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
def test_bce_with_logits_at_zero_is_sigmoid_minus_target(y):
    z = leaf(np.zeros(4))
    bl.binary_cross_entropy_with_logits(z, np.full(4, y)).backward()
    np.testing.assert_allclose(z.grad, np.full(4, (0.5 - y) / 4), rtol=1e-15)


def test_bce_with_logits_passes_gradcheck_at_zero_and_at_huge_logits():
    for values in ([0.0, 0.0, 0.0], [1e4, -1e4, 0.0], [40.0, -40.0, 1e-300]):
        z = leaf(values)
        assert bl.gradcheck(
            lambda t: bl.binary_cross_entropy_with_logits(t, np.array([1.0, 0.0, 1.0])), z
        ).passed


# ------------------------------------------------- 3. probability rows that do not sum to one
def test_cross_entropy_gradient_matches_its_loss_for_rows_not_summing_to_one():
    target = np.array([[1.0, 1.0, 0.0], [0.2, 0.2, 0.2]])
    logits = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -2.0]])
    z = leaf(logits)
    bl.cross_entropy(z, target).backward()

    def loss(a):
        log_p = a - np.log(np.exp(a).sum(axis=1, keepdims=True))
        return -(target * log_p).sum() / 2

    np.testing.assert_allclose(z.grad, numeric_grad(loss, logits), atol=1e-8)


# ---------------------------------------------------------- 4. BCE at probabilities 0 and 1
def test_binary_cross_entropy_at_exact_zero_and_one_is_finite_as_in_pytorch():
    p = leaf([1.0, 0.0, 1.0, 0.0])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    loss = bl.binary_cross_entropy(p, y)
    # right and sure: 0; wrong and sure: each log clamped at -100 (PyTorch's rule), mean of 4
    assert loss.item() == pytest.approx(200 / 4)
    loss.backward()
    # PyTorch: grad = (p - y) / max(p (1 - p), 1e-12) / N
    np.testing.assert_allclose(p.grad, np.array([0.0, 0.0, 1e12, -1e12]) / 4)


def test_a_confident_right_sigmoid_gives_a_zero_loss_not_nan():
    z = leaf([40.0, -40.0])
    p = bl.sigmoid(z)  # exactly 1.0 and about 4e-18 in float64
    loss = bl.binary_cross_entropy(p, np.array([1.0, 0.0]))
    assert np.isfinite(loss.item()) and loss.item() < 1e-15
    loss.backward()
    assert np.all(np.isfinite(z.grad))


# ------------------------------------------------------------------------------- 5. x ** 0
def test_x_to_the_zero_has_gradient_zero_at_zero():
    x = leaf([0.0, 2.0, -3.0])
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_tensor_power_at_zero_base_and_zero_exponent():
    x, y = leaf([0.0, 0.0, 2.0]), leaf([0.0, 2.0, 0.0])
    (x**y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])  # d/dx x^0 = 0; d/dx x^2 at 0 = 0
    np.testing.assert_allclose(y.grad, [0.0, 0.0, np.log(2.0)])  # 0^y is flat in y for y >= 0


# ---------------------------------------------------------- 6. in-place updates after forward
def test_backward_after_an_optimizer_step_raises_instead_of_using_new_weights():
    layer = nn.Linear(3, 2, rng=0)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    loss = layer(np.ones((4, 3))).sum()
    loss.backward()
    opt.step()
    with pytest.raises(RuntimeError, match=r"^backward: .*modified in place.*run the forward pass"):
        loss.backward(accumulate=True)


def test_backward_after_load_state_dict_raises():
    layer = nn.Linear(3, 2, rng=0)
    loss = layer(np.ones((4, 3))).sum()
    layer.load_state_dict(layer.state_dict())
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_a_fresh_forward_after_the_step_backpropagates_normally():
    layer = nn.Linear(3, 2, rng=0)
    opt = optim.Adam(layer.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        layer(np.ones((4, 3))).sum().backward()
        opt.step()
    assert layer.weight.modified > 0


# ------------------------------------------------------------------ switches are per thread
def test_no_grad_in_one_thread_does_not_switch_off_another():
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with bl.no_grad():
            inside.set()
            outside.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    x = leaf(2.0)
    seen["grad"] = (x * 3).requires_grad
    seen["enabled"] = bl.is_grad_enabled()
    outside.set()
    t.join()
    assert seen == {"grad": True, "enabled": True}


def test_anomaly_mode_is_per_thread():
    result = []
    with bl.detect_anomaly():
        t = threading.Thread(target=lambda: result.append(bl.is_anomaly_enabled()))
        t.start()
        t.join()
        assert bl.is_anomaly_enabled()
    assert result == [False]


# ------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "data", [None, [1, None], "1.5", np.array(["a"]), [1 + 2j], np.array([1], dtype=object)]
)
def test_non_numeric_data_is_a_one_line_type_error(data):
    with pytest.raises(TypeError, match=r"^Tensor: cannot make a tensor from .* of dtype"):
        bl.Tensor(data)
    with pytest.raises(TypeError, match=r"^Tensor: cannot make a tensor"):
        leaf(1.0) + data  # a constant goes through the same check


# ------------------------------------------------------------------- dtypes (numpy 2, NEP 50)
f32, f64 = np.float32, np.float64


@pytest.mark.parametrize(
    "other, want",
    [
        (2.0, f32),  # a Python number never changes the tensor's dtype
        (2, f32),
        (True, f32),
        (np.array([1, 2]), f32),  # an integer array takes the tensor's floating dtype
        ([1, 2], f32),
        (np.array([1.0, 2.0], dtype=f64), f64),  # a float64 array promotes, as in numpy
        (np.array([1.0, 2.0], dtype=f32), f32),
        (np.float64(2.0), f64),  # a numpy scalar is an array, not a Python number
        (bl.Tensor([1.0, 2.0]), f64),
        (bl.Tensor([1.0, 2.0], dtype=f32), f32),
    ],
)
def test_promotion_table_for_a_float32_tensor(other, want):
    x = bl.Tensor([1.0, 2.0], dtype=f32, requires_grad=True)
    for out in (x + other, other + x, x * other):
        assert out.dtype == want
    (x * other).sum().backward()
    assert x.grad.dtype == f32  # a gradient has its tensor's dtype


def test_a_float64_tensor_stays_float64_with_float32_arrays():
    assert (bl.Tensor([1.0]) + np.array([1.0], dtype=f32)).dtype == f64


# -------------------------------------------------------------------------------- messages
def test_fit_on_empty_data_says_so():
    from backproplab.train import fit

    model = nn.MLP([2, 3, 2])
    with pytest.raises(ValueError, match=r"^fit: X_train has no rows"):
        fit(
            model, np.zeros((0, 2)), np.zeros(0, dtype=int), optimizer=optim.SGD(model.parameters())
        )


def test_linear_with_zero_width_says_so():
    with pytest.raises(
        ValueError, match=r"^Linear: n_in and n_out must be at least 1, got 0 and 3"
    ):
        nn.Linear(0, 3)


def test_cross_entropy_with_zero_classes_says_so():
    with pytest.raises(
        ValueError, match=r"^cross_entropy: logits of shape \(2, 0\) have no classes"
    ):
        bl.cross_entropy(leaf(np.zeros((2, 0))), np.array([0, 0]))


def test_cross_entropy_that_overflows_says_why():
    with pytest.raises(ValueError, match=r"^cross_entropy: the loss overflows float64 .*apart"):
        bl.cross_entropy(leaf([[1e308, -1e308]]), np.array([1]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_refuses_logits_further_apart_than_the_dtypes_range(dtype):
    # the labelled class is the largest: the loss is finite (PyTorch gives it), but a wrong
    # class's log-softmax is -inf and 0 * -inf is NaN. Refused, as cross_entropy's docstring
    # says (a diverged model); giving the loss would cost every loss an np.where (4 us of a
    # 176 us digits step, measured): not worth it for a run that has diverged anyway
    big = float(np.finfo(dtype).max) / 1.5
    logits = np.array([[big, -big, 0.0]], dtype)
    for labels in (np.array([0]), np.eye(3)[[0]]):
        with pytest.raises(ValueError, match=r"^cross_entropy: the loss overflows .*diverged"):
            bl.cross_entropy(bl.Tensor(logits, requires_grad=True), labels)


def test_an_op_is_not_called_directly():
    cube = bl.Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x**2,))
    with pytest.raises(TypeError, match=r"bl\.apply\(cube, x"):
        cube(leaf(1.0))
    x = leaf(2.0)
    bl.apply(cube, x).backward()
    assert x.grad == 12.0


def test_a_vjp_that_forgets_the_tuple_is_named():
    sin = bl.Op("sin", np.sin, lambda g, out, x: g * np.cos(x))  # no (..., )
    with pytest.raises(TypeError, match=r"^vjp of 'sin' returned a ndarray for 1 input"):
        bl.apply(sin, leaf([0.1])).sum().backward()


def test_star_import_does_not_shadow_builtins():
    namespace: dict = {}
    exec("from backproplab import *", namespace)
    for name in ("sum", "max", "abs", "pow", "min"):
        assert name not in namespace
    assert "Tensor" in namespace and "cross_entropy" in namespace


# --------------------------------------------------------------- every op at its special points
@pytest.mark.parametrize(
    "fn, x, want",
    [
        # kinks: the convention PyTorch uses, written out (a finite difference straddles the kink)
        (lambda t: t.relu(), [0.0, -1.0, 2.0], [0.0, 0.0, 1.0]),
        (lambda t: t.abs(), [0.0, -1.0, 2.0], [0.0, -1.0, 1.0]),
        (lambda t: t.leaky_relu(0.1), [0.0, -1.0, 2.0], [0.1, 0.1, 1.0]),
        # ties: the gradient is shared equally
        (lambda t: t.max(), [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
        (lambda t: bl.maximum(t, bl.Tensor([2.0, 0.0, 5.0])), [2.0, 1.0, 5.0], [0.5, 1.0, 0.5]),
        # saturation: no NaN, no overflow
        (lambda t: t.sigmoid(), [1e4, -1e4, 0.0], [0.0, 0.0, 0.25]),
        (lambda t: t.tanh(), [1e4, -1e4, 0.0], [0.0, 0.0, 1.0]),
        (lambda t: t**2, [0.0, 1.0, -3.0], [0.0, 2.0, -6.0]),
        (lambda t: t**0.5, [4.0, 1.0, 0.25], [0.25, 0.5, 1.0]),
    ],
)
def test_ops_at_their_special_points(fn, x, want):
    t = leaf(x)
    fn(t).sum().backward()
    np.testing.assert_allclose(t.grad, want, rtol=1e-12, atol=0)


# Each row of one input that acts entry by entry, where a careless formula breaks: huge inputs
# (np.log(1 + np.exp(x)) overflows at x = 1e4), a kink, the edge of its domain. The forward and
# the gradient must be these numbers, with numpy raising on overflow, division by 0 and NaN on
# the way (underflow to 0 is fine): a right answer that went through inf does not pass.
# name: (x, settings, forward, gradient)
UNARY_SPECIAL_POINTS = {
    "neg": ([-1e300, 0.0, 1e300], {}, [1e300, -0.0, -1e300], [-1.0, -1.0, -1.0]),
    "exp": ([-1e4, 0.0, 700.0], {}, [0.0, 1.0, np.exp(700.0)], [0.0, 1.0, np.exp(700.0)]),
    "log": ([1e-300, 1.0, 1e300], {}, [np.log(1e-300), 0.0, np.log(1e300)], [1e300, 1.0, 1e-300]),
    "sqrt": ([1e-300, 4.0, 1e300], {}, [1e-150, 2.0, 1e150], [5e149, 0.25, 5e-151]),
    "abs": ([0.0, -1.0, 2.0], {}, [0.0, 1.0, 2.0], [0.0, -1.0, 1.0]),
    "relu": ([0.0, -1e300, 1e300], {}, [0.0, 0.0, 1e300], [0.0, 0.0, 1.0]),
    "leaky_relu": ([0.0, -1.0, 2.0], {"slope": 0.1}, [0.0, -0.1, 2.0], [0.1, 0.1, 1.0]),
    "sigmoid": ([1e4, -1e4, 0.0], {}, [1.0, 0.0, 0.5], [0.0, 0.0, 0.25]),
    "tanh": ([1e4, -1e4, 0.0], {}, [1.0, -1.0, 0.0], [0.0, 0.0, 1.0]),
    "power": ([0.0, -3.0, 1e150], {"p": 2}, [0.0, 9.0, 1e300], [0.0, -6.0, 2e150]),
}
# the other rows: the tests above that hold them at their special points ...
SPECIAL_POINTS_TESTED_BY = {
    "maximum": "test_ops_at_their_special_points",  # ties
    "max": "test_ops_at_their_special_points",  # ties
    "pow": "test_tensor_power_at_zero_base_and_zero_exponent",
    "log_softmax": "test_log_softmax_at_huge_logits",
    "cross_entropy": "test_losses_at_huge_logits_are_finite_and_right",
    "bce_with_logits": "test_bce_with_logits_passes_gradcheck_at_zero_and_at_huge_logits",
    "binary_cross_entropy": "test_binary_cross_entropy_at_exact_zero_and_one_is_finite_as_in_pytorch",
}
# ... or why a row has none
NO_SPECIAL_POINTS = {
    "add": "linear: one rule everywhere",
    "sub": "linear: one rule everywhere",
    "mul": "bilinear: one rule everywhere",
    "div": "its one special point, a zero divisor, is a pole: no gradient to get right there",
    "matmul": "bilinear",
    "linear": "affine",
    "sum": "linear",
    "mean": "linear",
    "reshape": "moves entries",
    "transpose": "moves entries",
    "getitem": "moves entries (a repeated index: test_ops.py's getitem-repeated-fancy)",
    "concatenate": "moves entries",
    "stack": "moves entries",
    "where": "chooses entries by a condition given as data",
}


def test_every_row_of_the_table_is_held_at_its_special_points_or_says_why_not():
    lists = [UNARY_SPECIAL_POINTS, SPECIAL_POINTS_TESTED_BY, NO_SPECIAL_POINTS]
    named = [name for names in lists for name in names]
    missing = sorted(set(ops.TABLE) - set(named))
    assert not missing, f"rows of ops.TABLE with no entry in any of the three lists: {missing}"
    assert sorted(named) == sorted(ops.TABLE)  # each row once, and no row that has gone
    for test in SPECIAL_POINTS_TESTED_BY.values():
        assert callable(globals().get(test)), f"no test named {test} here"
    unary = {n for n in symbolic.ELEMENTWISE if arity(ops.TABLE[n]) == 1}
    assert unary <= set(UNARY_SPECIAL_POINTS), "give a new row of one input its special points"


@pytest.mark.parametrize("name", sorted(UNARY_SPECIAL_POINTS))
def test_unary_rows_at_their_special_points(name):
    x, settings, forward, gradient = UNARY_SPECIAL_POINTS[name]
    t = leaf(x)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        out = bl.apply(ops.TABLE[name], t, **settings)
        out.sum().backward()
    np.testing.assert_allclose(out.data, forward, rtol=1e-12, atol=0)
    np.testing.assert_allclose(t.grad, gradient, rtol=1e-12, atol=0)


def test_losses_at_huge_logits_are_finite_and_right():
    z = leaf([[1e4, -1e4, 0.0], [0.0, 0.0, 1e4]])
    loss = bl.cross_entropy(z, np.array([0, 1]))
    assert np.isfinite(loss.item())
    assert loss.item() == pytest.approx(1e4 / 2)  # row 0 right and sure; row 1 off by 1e4
    loss.backward()
    np.testing.assert_allclose(z.grad, np.array([[0, 0, 0], [0, -1, 1]]) / 2, atol=1e-12)
    z2 = leaf([1e4, -1e4, 0.0])
    bl.binary_cross_entropy_with_logits(z2, np.array([1.0, 1.0, 0.0])).backward()
    np.testing.assert_allclose(z2.grad, np.array([0.0, -1.0, 0.5]) / 3, atol=1e-12)


def test_log_softmax_at_huge_logits():
    z = leaf([1e4, -1e4, 0.0])
    out = bl.log_softmax(z)
    assert np.all(np.isfinite(out.data))
    out[1].backward()  # d log p_1 / dz = e_1 - softmax
    np.testing.assert_allclose(z.grad, [-1.0, 1.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("p", [1e-6, 1 - 1e-6, 0.5])
def test_binary_cross_entropy_gradcheck_near_zero_and_one(p):
    # (below p(1 - p) = 1e-12 the gradient follows PyTorch's floored formula, as documented)
    q = leaf([p, 1 - p])
    y = np.array([1.0, 0.0])
    assert bl.gradcheck(lambda t: bl.binary_cross_entropy(t, y), q, eps=min(p, 1 - p) / 1000).passed


@pytest.mark.parametrize("dtype", [np.int64, bool, np.complex128])
def test_a_tensor_of_a_non_float_dtype_is_refused(dtype):
    with pytest.raises(TypeError, match=r"^Tensor: dtype .* is not a floating-point dtype"):
        bl.Tensor([1, 2], dtype=dtype)


def test_a_row_of_your_own_that_returns_integers_gives_a_float_node_and_the_right_gradient():
    # An op's output becomes a node without Tensor()'s conversions; integers must not slip through
    # (a later gradient cast to an integer node's dtype would be truncated: 0.5 -> 0).
    rounded = bl.Op("round_to_int", lambda x: np.round(x).astype(np.int64), lambda g, out, x: (g,))
    x = bl.Tensor([0.4, 1.6, 2.2], requires_grad=True)
    y = bl.apply(rounded, x)
    assert y.dtype == np.float64 and y.op is rounded
    (y * 0.5).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.5, 0.5, 0.5])


def test_a_row_of_your_own_that_returns_text_is_a_type_error():
    words = bl.Op("words", lambda x: np.array(["a"] * x.size), lambda g, out, x: (g,))
    with pytest.raises(TypeError, match="cannot make a tensor"):
        bl.apply(words, bl.Tensor([1.0, 2.0], requires_grad=True))


def test_mixed_dtypes_in_backward_keep_each_tensors_dtype():
    # backward's fast path compares dtypes by identity; a gradient of another dtype is converted
    a = bl.Tensor(np.ones(3, np.float32), requires_grad=True)
    b = bl.Tensor(np.full(3, 2.0), requires_grad=True)
    big_endian = bl.Tensor(np.ones(3, dtype=">f8"), requires_grad=True)
    ((a * b) * big_endian).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    assert big_endian.grad.dtype == np.dtype(">f8")
    np.testing.assert_array_equal(a.grad, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(big_endian.grad, [2.0, 2.0, 2.0])
