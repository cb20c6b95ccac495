"""An adversarial audit of the engine: inputs a careless user or a confused learner might pass.

Each test here failed on the code before its fix (or is marked ``xfail(strict=True)`` with the
reason when the fix belongs to the core path: it then fails the moment the bug is fixed, as a
reminder to drop the mark). Expected values are written out by hand or come from central finite
differences in float64; none is computed by the code under test.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from graphs import leaf, numeric_grad

import backproplab as bl
from backproplab import ops


def one_line_error(exc, pattern, fn):
    with pytest.raises(exc) as info:
        fn()
    message = str(info.value)
    assert "\n" not in message and re.search(pattern, message), message


# ---------------------------------------------------------------------------- empty tensors
@pytest.mark.parametrize("axis", [1, -1, (0, 1), None])
def test_mean_of_an_empty_tensor_gets_an_empty_gradient(axis):
    # was: ZeroDivisionError inside the backward pass (out.size / x.size with x.size == 0)
    x = leaf(np.zeros((0, 3)))
    with np.errstate(invalid="ignore"), warnings.catch_warnings():  # the mean of nothing: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        y = x.mean(axis=axis)
    y.backward(np.ones(y.shape))
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize(
    "fn, pattern",
    [
        (lambda: leaf(np.zeros((0, 3))).max(axis=0), r"^max: axis 0 of shape \(0, 3\) has length 0"),
        (lambda: leaf(np.zeros((0, 3))).max(), r"^max: a tensor of shape \(0, 3\) has no elements"),
        (lambda: bl.log_softmax(leaf(np.zeros((2, 0)))), r"^log_softmax: axis -1 of shape \(2, 0\) has length 0"),
        (lambda: leaf(np.ones((2, 3))).sum(axis=(0, -2)), r"^sum: axis \(0, -2\) names an axis twice"),
    ],
)  # fmt: skip
def test_a_reduction_that_cannot_be_done_says_why_not_out_of_range(fn, pattern):
    # was: "axis 0 is out of range for a tensor of shape (0, 3)", for an axis that exists
    one_line_error(bl.ShapeError, pattern, fn)


def test_concatenate_with_axis_none_flattens_and_backpropagates_as_numpy():
    # was: the forward flattened (numpy's axis=None); the backward raised a bare TypeError
    a, b = leaf(np.arange(6.0).reshape(2, 3)), leaf([[10.0], [20.0]])
    out = bl.concatenate([a, b], axis=None)
    np.testing.assert_array_equal(out.data, [0, 1, 2, 3, 4, 5, 10, 20])
    (out * np.arange(8.0)).sum().backward()
    np.testing.assert_array_equal(a.grad, [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(b.grad, [[6], [7]])


# ------------------------------------------------------------------ functional == methods
@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_functional_reductions_take_a_list_of_axes_like_the_methods(name):
    # was: bl.sum(x, axis=[0, 2]) raised "axis [0, 2] is out of range"; x.sum(axis=[0, 2]) worked
    data = np.random.default_rng(0).standard_normal((2, 3, 4))
    x, y = leaf(data), leaf(data)
    by_function = getattr(bl, name)(x, axis=[0, -1])
    by_method = getattr(y, name)(axis=[0, -1])
    np.testing.assert_array_equal(by_function.data, getattr(data, name)(axis=(0, -1)))
    (by_function * np.arange(3.0)).sum().backward()
    (by_method * np.arange(3.0)).sum().backward()
    np.testing.assert_array_equal(x.grad, y.grad)


def test_log_softmax_takes_a_list_of_axes():
    data = np.random.default_rng(1).standard_normal((2, 3))
    out = bl.log_softmax(leaf(data), axis=[0, 1])
    np.testing.assert_allclose(np.exp(out.data).sum(), 1.0, rtol=1e-12)


def test_where_with_a_condition_that_does_not_fit_names_the_condition():
    # was: "where: shapes (3,) and (3,) cannot be broadcast together", two shapes that can
    one_line_error(
        bl.ShapeError,
        r"^where: condition of shape \(4,\) does not fit values of shapes \(3,\) and \(3,\)$",
        lambda: bl.where(np.ones(4, dtype=bool), leaf(np.ones(3)), leaf(np.ones(3))),
    )


# --------------------------------------------- targets changed after the forward pass
def _reused_buffer(loss_fn, x0, first, second):
    """loss_fn(x, buffer) with buffer = first, then the buffer refilled with second before
    backward (a data loader reusing one array): the gradient must be the one for first."""
    x = leaf(x0)
    buffer = np.array(first, dtype=np.float64)
    loss = loss_fn(x, buffer)
    buffer[...] = second
    loss.backward()

    def value(a):
        return loss_fn(bl.Tensor(a), np.array(first, dtype=np.float64)).item()

    return x.grad, numeric_grad(value, np.asarray(x0, dtype=np.float64))


@pytest.mark.parametrize(
    "loss_fn, x0, first, second",
    [
        (bl.binary_cross_entropy, [0.2, 0.7], [1.0, 0.0], [0.0, 1.0]),
        (bl.binary_cross_entropy_with_logits, [0.2, -0.7], [1.0, 0.0], [0.0, 1.0]),
        (bl.cross_entropy, [[0.2, -0.7, 1.0]], [[1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0]]),
        (bl.cross_entropy, [[0.2, -0.7, 1.0]], [[0.2, 0.5, 0.3]], [[0.0, 0.0, 1.0]]),
    ],
)
def test_a_target_array_refilled_before_backward_does_not_change_the_gradient(
    loss_fn, x0, first, second
):
    # was: the rows kept the caller's array, so the vjp read the new targets (forward: old ones)
    analytic, numeric = _reused_buffer(loss_fn, x0, first, second)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "loss",
    [
        lambda z, t: bl.cross_entropy(z, t),
        lambda z, t: bl.binary_cross_entropy(z.sigmoid(), t),
        lambda z, t: bl.binary_cross_entropy_with_logits(z, t),
    ],
)
def test_a_target_tensor_that_requires_grad_is_refused_not_silently_detached(loss):
    # was: the target's .grad stayed None, with no error (PyTorch's cross_entropy gives soft
    # targets a gradient; its binary_cross_entropy raises)
    z = leaf([[0.3, -0.2]])
    target = leaf([[0.4, 0.6]])
    one_line_error(
        ValueError, r"^[a-z_]+: the target is a tensor that requires grad", lambda: loss(z, target)
    )
    loss(z, target.detach()).backward()  # a target without a graph is fine
    with bl.no_grad():
        loss(z, target)  # and nothing is recorded inside no_grad


def test_cross_entropy_of_a_sure_right_answer_is_zero_not_minus_zero():
    # was: -0.0 (binary_cross_entropy already avoided it)
    loss = bl.cross_entropy(leaf([[1e4, -1e4]]), np.array([0]))
    assert loss.item() == 0.0 and not np.signbit(loss.item())


# -------------------------------- tensors that own their arrays, and what is still to be fixed
def test_an_index_array_refilled_before_backward_does_not_move_the_gradient():
    x = leaf([1.0, 2.0, 3.0])
    index = np.array([0, 0])
    y = x[index]
    index[:] = [2, 2]
    (y * np.array([1.0, 10.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [11.0, 0.0, 0.0])


@pytest.mark.parametrize(
    "fn, first, want",
    [
        (lambda x, a: x * a, [3.0, 4.0], [3.0, 4.0]),  # d/dx sum(x a) = a
        (lambda x, a: a * x, [3.0, 4.0], [3.0, 4.0]),  # the array on the left: numpy's operator
        (lambda x, a: x / a, [2.0, 4.0], [0.5, 0.25]),  # 1 / a
        (lambda x, a: x**a, [3.0, 2.0], [3.0, 4.0]),  # a x^(a - 1) at x = (1, 2)
        (lambda x, a: a @ x, [[1.0, 2.0], [3.0, 4.0]], [4.0, 6.0]),  # the columns' sums
        (lambda x, a: bl.maximum(x, a), [0.0, 3.0], [1.0, 0.0]),  # x wins, then a
    ],
)
def test_an_array_operand_refilled_before_backward_does_not_change_the_gradient(fn, first, want):
    # was: the constant kept the caller's array, so the vjp read the new values (a data buffer
    # refilled with the next batch before backward: wrong gradients, no error)
    x = leaf([1.0, 2.0])
    a = np.array(first)
    y = fn(x, a).sum()
    a[...] = -5.0
    y.backward()
    np.testing.assert_array_equal(x.grad, want)


def test_gradcheck_fails_a_rule_missing_a_factor_two_on_a_small_function():
    wrong = bl.Op("square_wrong", lambda x: x**2, lambda g, out, x: (g * x,))  # 2x is right
    x = leaf([1.0, 2.0, 3.0])
    report = bl.gradcheck(lambda t: bl.apply(wrong, t) * 1e-6, x, raise_exception=False)
    assert not report.passed


def test_the_rows_touched_here_still_pass_gradcheck():
    rng = np.random.default_rng(2)
    x = leaf(rng.standard_normal((2, 3)))
    assert bl.gradcheck(lambda t: t.mean(axis=[0]), x).passed
    assert bl.gradcheck(lambda t: bl.concatenate([t, t[:1]], axis=None), x).passed
    assert bl.gradcheck(
        lambda t: bl.cross_entropy(t, np.array([[0.1, 0.2, 0.3], [1.0, 0, 0]])), x
    ).passed
    assert bl.gradcheck(lambda t: bl.apply(ops.cross_entropy, t, labels=np.array([2, 0])), x).passed


def test_two_leaves_made_from_one_array_do_not_share_an_optimizer_step():
    start = np.array([1.0, -2.0])
    a = bl.Tensor(start, requires_grad=True)
    b = bl.tensor(start, requires_grad=True)  # spelled like torch.tensor, which copies
    loss_b = (b * b).sum()  # a graph on b, made before a's step
    (a * a).sum().backward()
    bl.optim.SGD([a], lr=0.1).step()
    np.testing.assert_array_equal(start, [1.0, -2.0])
    loss_b.backward()
    np.testing.assert_array_equal(b.grad, [2.0, -4.0])  # d/db sum(b^2) = 2b at b = (1, -2)


def test_a_tensor_made_from_a_list_of_tensors_that_require_grad_is_refused():
    a, b = leaf(2.0), leaf(3.0)
    with pytest.raises((TypeError, ValueError), match="stack"):
        bl.Tensor([a, b])


@pytest.mark.parametrize("wrap", [bl.Tensor, bl.tensor, lambda t: bl.Tensor(t, dtype=np.float32)])
def test_a_tensor_made_from_a_tensor_that_requires_grad_is_refused_not_cut_from_the_graph(wrap):
    # logits = bl.Tensor(model(X)) made a new leaf: the model's weights got no gradient and an
    # optimizer skipped them (their .grad stayed None), so the model silently stopped learning
    w = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match=r"detach\(\)"):
        wrap(w * 3)
    with pytest.raises(TypeError, match=r"detach\(\)"):
        wrap(bl.nn.Parameter([1.0]))
    np.testing.assert_array_equal(bl.Tensor((w * 3).detach()).data, [3.0, 6.0])  # said so: fine
    with bl.no_grad():  # no graph is being recorded: a copy of the values is all it can be
        np.testing.assert_array_equal(wrap(w * 3).data, [3.0, 6.0])


def test_a_tensor_made_from_a_tensor_is_a_snapshot_of_its_values():
    # "the weights before training" made inside no_grad shared the parameter's memory, so it
    # followed every optimizer step
    w, c = leaf([1.0, 2.0]), bl.Tensor([5.0, 6.0])
    with bl.no_grad():
        before = bl.Tensor(w)
    copy_of_c = bl.Tensor(c)
    with bl.no_grad():
        w -= 1.0  # an update in place, as an optimizer step makes
    c.data[0] = 0.0
    np.testing.assert_array_equal(before.data, [1.0, 2.0])
    np.testing.assert_array_equal(copy_of_c.data, [5.0, 6.0])


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: np.stack([a, b]),
        lambda a, b: np.dot(a, b),
        lambda a, b: np.where(True, a, b),
        lambda a, b: np.clip(a, 0.0, 1.0),
    ],
)
def test_numpy_functions_that_are_not_ufuncs_refuse_tensors(fn):
    # numpy's own TypeError (no implementation found...) would not say what to do instead
    with pytest.raises(TypeError, match=r"^np\.(stack|dot|where|clip) would turn a tensor that "
                       r"requires grad into a plain array .* use the package's op"):  # fmt: skip
        fn(leaf([0.5, 2.0]), leaf([1.0, 1.0]))


@pytest.mark.parametrize(
    "fn", [np.sum, np.mean, np.max, np.min, np.prod, np.std, np.median, np.argmax, np.sort]
)
def test_numpy_functions_run_on_the_values_of_a_tensor_that_needs_no_gradient(fn):
    # numpy's reductions call the object's own method with numpy's keywords: np.sum(t) raised
    # "Tensor.sum() got an unexpected keyword argument 'out'", np.mean(t) the same of 'dtype'
    values = np.array([[1.0, 3.0], [2.0, -4.0]])
    t = bl.Tensor(values)
    np.testing.assert_array_equal(fn(t), fn(values))
    np.testing.assert_array_equal(fn(t, axis=1), fn(values, axis=1))
    with bl.no_grad():  # a tensor that requires grad, where no graph is being recorded
        np.testing.assert_array_equal(fn(leaf(values)), fn(values))


def test_backward_on_a_leaf_with_accumulate_adds_to_its_gradient():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    x.backward(np.ones(2), accumulate=True)
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])


def test_a_detached_parameter_stepped_before_backward_is_not_used_with_its_new_values():
    w, x = leaf([1.0, 2.0]), leaf([1.0, 1.0])
    loss = (x * w.detach()).sum()  # d loss / dx = w as the forward saw it: (1, 2)
    (w * w).sum().backward()
    bl.optim.SGD([w], lr=0.5).step()
    try:
        loss.backward()
    except RuntimeError:
        return  # refusing, as for w itself, would be right too
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


@pytest.mark.parametrize("p", [np.int64(2), np.array(2.0)])
def test_anomaly_mode_does_not_flag_the_gradient_of_a_constant_exponent(p):
    # a numpy scalar is a fixed exponent; a 0-d array is a constant tensor, whose gradient,
    # log(x) = NaN at x < 0, the backward throws away
    x = leaf([-2.0, 3.0])
    with bl.detect_anomaly(), np.errstate(invalid="ignore"):
        (x**p).sum().backward()
    np.testing.assert_array_equal(x.grad, [-4.0, 6.0])


def test_np_array_of_a_tensor_is_a_snapshot():
    w = leaf([1.0, 2.0])
    before, before_copy = np.array(w), np.array(w, copy=True)
    (w * w).sum().backward()
    bl.optim.SGD([w], lr=0.5).step()  # w becomes (0, 0)
    np.testing.assert_array_equal(before, [1.0, 2.0])
    np.testing.assert_array_equal(before_copy, [1.0, 2.0])


def test_a_refused_backward_leaves_no_gradient_behind():
    x, w = leaf([1.0, 2.0]), leaf([1.0, 1.0])
    loss = (x.reshape(-1) * w).sum()  # reshape's output is a view of x's data
    (x * x).sum().backward()
    bl.optim.SGD([x], lr=0.5).step()  # x becomes (0, 0), in place
    x.grad = None
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
    assert w.grad is None, w.grad


def test_a_refused_backward_keeps_earlier_gradients_and_names_the_changed_input():
    a, b = leaf([1.0, 2.0], name="a"), leaf([3.0, 4.0], name="b")
    loss = (b * b).sum() + (a * a).sum()  # the pass reaches a*a (made later) before b*b
    a.grad, b.grad = np.array([5.0, 5.0]), np.array([7.0, 7.0])  # from an earlier pass
    with bl.no_grad():
        b -= 1.0
    with pytest.raises(RuntimeError, match=r"^backward: 'b', an input of 'mul', was modified"):
        loss.backward(accumulate=True)
    np.testing.assert_array_equal(a.grad, [5.0, 5.0])  # untouched, not half-accumulated
    np.testing.assert_array_equal(b.grad, [7.0, 7.0])


def test_anomaly_mode_still_flags_a_nan_gradient_of_an_input_that_needs_one():
    x, p = leaf([-2.0, 3.0]), leaf([2.0, 2.0])
    with bl.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(FloatingPointError, match="'pow'.*input 1"):
            (x**p).sum().backward()


def test_a_numpy_scalar_exponent_is_a_fixed_exponent():
    x = leaf([-2.0, 3.0])
    for p in (np.int64(3), np.float32(3.0)):
        x.grad = None
        (x**p).sum().backward()
        np.testing.assert_array_equal(x.grad, [12.0, 27.0])  # 3 x^2


def test_a_leaf_that_requires_grad_owns_its_data_and_one_that_does_not_shares_it():
    start = np.array([1.0, 2.0])
    assert not np.shares_memory(bl.Tensor(start, requires_grad=True).data, start)
    assert np.shares_memory(bl.Tensor(start).data, start)  # data batches are not copied


def test_np_array_without_copy_still_shares_and_a_dtype_converts():
    w = leaf([1.0, 2.0])
    assert np.shares_memory(np.asarray(w), w.data)
    assert np.array(w, dtype=np.float32).dtype == np.float32


def test_backward_on_a_leaf_that_holds_a_gradient_warns_and_adds_as_it_says():
    x = leaf([1.0, 2.0])
    x.backward(np.ones(2))
    with pytest.warns(bl.autodiff.GradientAccumulationWarning, match="being added"):
        x.backward(np.full(2, 2.0))
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_a_refused_seed_leaves_a_leaf_root_gradient_as_it_was():
    x = leaf([1.0, 2.0])
    x.grad = np.array([5.0, 5.0])
    with pytest.raises(ValueError, match="the gradient has shape"):
        x.backward(np.ones(3), accumulate=True)
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])


# --------------------------------------------- x -= y: PyTorch's update idiom on parameters
def test_updating_parameters_in_place_inside_no_grad_changes_them():
    # was: p -= ... made a new tensor p and left the model's parameter unchanged, without a word
    model = bl.nn.Linear(2, 1, rng=0)
    before = [p.data.copy() for p in model.parameters()]
    (model(np.ones((4, 2))) ** 2).mean().backward()
    with bl.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    for p, old in zip(model.parameters(), before):
        np.testing.assert_allclose(p.data, old - 0.1 * p.grad, rtol=1e-15)


def test_each_in_place_operator_on_a_parameter():
    w = leaf([2.0, 4.0])
    ident = id(w)
    with bl.no_grad():
        w += 1.0  # [3, 5]
        w *= np.array([2.0, 1.0])  # [6, 5]
        w /= 2  # [3, 2.5]
        w -= leaf([1.0, 0.5])  # [2, 2]: a tensor on the right is read for its values
    assert id(w) == ident and w.requires_grad and w.op is None
    np.testing.assert_array_equal(w.data, [2.0, 2.0])


def test_a_graph_that_used_the_old_values_is_refused_after_an_update_in_place():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    with bl.no_grad():
        w -= 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_an_update_in_place_of_a_parameter_outside_no_grad_is_refused():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 0.1
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_an_update_in_place_that_does_not_fit_names_the_shapes():
    w = leaf([1.0, 2.0])
    with bl.no_grad(), pytest.raises(ValueError, match=r"-=.*shape \(2,\).*shape \(3,\)"):
        w -= np.ones(3)
    with bl.no_grad(), pytest.raises(TypeError, match="still None"):
        w -= w.grad  # no backward() yet
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_plus_equals_on_a_graph_node_or_a_constant_still_makes_a_new_tensor():
    w = leaf([1.0, 2.0])
    total = 0
    for _ in range(3):
        total += (w * w).sum()  # a loss summed over terms: total is a graph node
    total.backward()
    np.testing.assert_array_equal(w.grad, [6.0, 12.0])  # 3 * 2w
    data = np.array([1.0, 2.0])
    x = bl.Tensor(data)  # needs no gradient, shares the caller's array
    x += 1.0
    np.testing.assert_array_equal(data, [1.0, 2.0])  # the caller's array is unchanged
    np.testing.assert_array_equal(x.data, [2.0, 3.0])


def test_a_float32_parameter_stays_float32_when_updated_with_float64():
    w = bl.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    with bl.no_grad():
        w -= np.array([0.5, 0.25])  # float64
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w.data, [0.5, 0.75])
