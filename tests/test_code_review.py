"""Findings of a review of the package's code, each pinned by a test that failed before its fix."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bl
from backproplab import ops


def _message(fn) -> str:
    with pytest.raises(bl.ShapeError) as info:
        fn()
    message = str(info.value)
    assert "\n" not in message, message
    return message


@pytest.mark.parametrize(
    "op, inputs, settings, refused",
    [
        # the row's explain took the setting and blamed shapes that fit
        (ops.add, "xx", {"foo": 1}, "foo"),
        (ops.sum, "x", {"axes": 0}, "axes"),  # was "has no elements to reduce"
        (ops.log_softmax, "x", {"dim": 1}, "dim"),  # PyTorch's name; the same lie
        (ops.linear, "xwb", {"foo": 1}, "foo"),  # was "dtypes ... do not mix"
        # the row's explain crashed on the setting: a TypeError naming a private function
        (ops.reshape, "x", {"shap": (3, 2)}, "shap"),
        (ops.transpose, "x", {"axs": (1, 0)}, "axs"),
        (ops.getitem, "x", {"idx": 0}, "idx"),
        (ops.concatenate, "xx", {"dim": 0}, "dim"),
        (ops.where, "xx", {"cnd": True}, "cnd"),
        (ops.where, "xx", {}, "cond"),  # a setting left out
        (ops.matmul, "xy", {"axis": 0}, "axis"),  # np.matmul takes axis=, _matmul_error not
    ],
)
def test_a_rows_wrong_settings_are_named_not_blamed_on_the_shapes(op, inputs, settings, refused):
    tensors = {
        "x": bl.Tensor(np.ones((2, 3)), requires_grad=True),
        "y": bl.Tensor(np.ones((3, 2))),
        "w": bl.Tensor(np.ones((4, 3))),
        "b": bl.Tensor(np.ones(4)),
    }
    message = _message(lambda: bl.apply(op, *[tensors[k] for k in inputs], **settings))
    assert message.startswith(f"{op.name}: its forward refused the arguments ("), message
    assert refused in message, message
    assert "broadcast" not in message and "reduce" not in message and "dtypes" not in message


def test_without_a_signature_of_the_ufunc_a_wrong_setting_is_still_named(monkeypatch):
    # numpy 2.0 gives a ufunc no signature (inspect raises ValueError): add's foo=1 was then
    # blamed on the shapes ("add: shapes (2, 3) and (2, 3) cannot be broadcast together")
    signature = ops.inspect.signature

    def numpy_20(f, *args, **kwargs):
        if isinstance(getattr(f, "func", f), np.ufunc):
            raise ValueError(f"callable {f!r} is not supported by signature")
        return signature(f, *args, **kwargs)

    monkeypatch.setattr(ops.inspect, "signature", numpy_20)
    x, y = bl.Tensor(np.ones((2, 3))), bl.Tensor(np.ones((3, 2)))
    assert _message(lambda: bl.apply(ops.add, x, x, foo=1)).startswith(
        "add: its forward refused the arguments ("
    )
    assert "axis" in _message(lambda: bl.apply(ops.mul, x, x, axis=0))  # matmul's, not mul's
    # the ufuncs' own keywords still reach the row's explanation of the shapes
    assert _message(lambda: bl.apply(ops.add, x, y, where=True)) == (
        "add: shapes (2, 3) and (3, 2) cannot be broadcast together"
    )


def test_settings_the_forward_takes_still_get_the_rows_own_explanation():
    x = bl.Tensor(np.ones((2, 3)), requires_grad=True)
    assert _message(lambda: bl.apply(ops.sum, x, axis=1.0)) == (
        "sum: axis must be a whole number or a tuple of them, got 1.0"
    )
    assert _message(lambda: x @ x).startswith("matmul: cannot multiply (2, 3) by (2, 3)")
    assert (
        _message(lambda: x.reshape(4, 2))
        == "reshape: cannot reshape (2, 3) (6 elements) into (4, 2)"
    )


@pytest.mark.parametrize("bias_shape", [(1, 4), (5, 4)])
def test_a_linear_row_refuses_a_bias_its_vjp_cannot_sum(bias_shape):
    # numpy added a (1, n_out) or (N, n_out) bias in the forward; backward then blamed the
    # package's own rule: "vjp of 'linear' ... returned a gradient of shape (4,) for input 2,
    # which has shape (1, 4): check that rule"
    x = bl.Tensor(np.ones((5, 3)), requires_grad=True)
    w = bl.Tensor(np.ones((4, 3)), requires_grad=True)
    b = bl.Tensor(np.ones(bias_shape), requires_grad=True)
    message = _message(lambda: bl.apply(ops.linear, x, w, b))
    assert message == f"linear: bias of shape {bias_shape} does not fit a weight of shape (4, 3)"


@pytest.mark.parametrize("bias_shape", [(4,), (1,), ()])
def test_a_linear_rows_bias_of_one_entry_per_output_or_one_in_all_is_differentiated(bias_shape):
    rng = np.random.default_rng(1)
    x = bl.Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    w = bl.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = bl.Tensor(rng.standard_normal(bias_shape), requires_grad=True)
    assert bl.gradcheck(lambda x, w, b: bl.apply(ops.linear, x, w, b), x, w, b).passed


@pytest.mark.parametrize(
    "make, second, owner",
    [
        (bl.Tensor, np.float32, "Tensor"),  # read as requires_grad=True: a float64 tensor
        (bl.Tensor, "x", "Tensor"),  # the name: requires_grad=True, and no name
        (bl.tensor, None, "Tensor"),
        (bl.nn.Parameter, np.float32, "Parameter"),
    ],
)
def test_a_second_argument_that_is_no_flag_is_refused_not_read_as_true(make, second, owner):
    with pytest.raises(TypeError) as info:
        make(np.ones(3), second)
    message = str(info.value)
    assert message.startswith(f"{owner}: requires_grad must be True or False, got "), message
    assert f"{owner}(data, dtype=np.float32)" in message and "\n" not in message


def test_requires_grad_takes_pythons_and_numpys_true_and_false():
    assert bl.Tensor([1.0], np.bool_(True)).requires_grad is True
    assert bl.Tensor([1.0], False).requires_grad is False
    assert bl.nn.Parameter([1.0], requires_grad=False).requires_grad is False


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_numpys_true_as_keepdims_keeps_the_axis(reduce):
    # numpy's reductions refuse np.True_ as keepdims; the row's explanation then blamed the axis:
    # "sum: axis 0 of shape (2, 3) has length 0: there is nothing to reduce"
    data = np.array([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
    x = bl.Tensor(data, requires_grad=True)
    kept = np.float64(1.0) == 1.0  # a numpy comparison gives np.True_
    assert type(kept) is np.bool_
    for y in (getattr(x, reduce)(0, kept), getattr(bl, reduce)(x, 0, keepdims=kept)):
        assert y.shape == (1, 3)
        assert y.data.tolist() == [getattr(np, reduce)(data, axis=0).tolist()]
    assert getattr(x, reduce)(0, np.False_).shape == (3,)


@pytest.mark.parametrize(
    "make, layer",
    [
        (lambda: bl.nn.Linear(3, 2, "xavier"), "Linear"),  # was He weights and a bias
        (lambda: bl.nn.Conv2d(1, 2, 3, 1, 0, "zeros"), "Conv2d"),
    ],
)
def test_an_init_in_the_place_of_bias_is_refused(make, layer):
    with pytest.raises(TypeError) as info:
        make()
    assert str(info.value).startswith(f"{layer}: bias must be True or False, got '"), info.value
    assert bl.nn.Linear(3, 2, False).bias is None and bl.nn.Conv2d(1, 2, 3, bias=False).bias is None


@pytest.mark.parametrize("factor", ["0.5", None, True])
def test_circles_names_itself_for_a_factor_that_is_no_number(factor):
    # was Python's "'<' not supported between instances of 'int' and 'str'", naming nothing
    with pytest.raises(TypeError, match=r"^circles: factor must be a number in \(0, 1\), got "):
        bl.datasets.circles(factor=factor)


def test_mse_loss_of_a_float32_prediction_stays_float32_as_the_other_losses():
    # a float64 target array made the loss, and the backward of (p - t)**2, float64, while
    # cross_entropy and the binary losses take their targets in the prediction's dtype
    rng = np.random.default_rng(2)
    p = bl.Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    target = rng.standard_normal((4, 3))  # float64, as the package's data sets are
    loss = bl.mse_loss(p, target)
    assert loss.dtype == np.float32
    loss.backward()
    assert p.grad.dtype == np.float32
    exact = 2 * (p.data.astype(np.float64) - target) / p.size
    np.testing.assert_allclose(p.grad, exact, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(loss.item(), np.mean((p.data - target) ** 2), rtol=1e-6)
    y = bl.binary_cross_entropy_with_logits(p, rng.uniform(0, 1, (4, 3)))
    assert y.dtype == np.float32


def test_to_numpy_is_a_copy_as_its_docstring_says():
    # it called __array__() with numpy's copy=None and handed over the parameter's own array:
    # a write into what matplotlib's name for "the values" returned changed the parameter
    w = bl.nn.Parameter([1.0, 2.0])
    values = w.to_numpy()
    values[0] = 99.0
    assert w.data.tolist() == [1.0, 2.0]
    assert not np.shares_memory(values, w.data)


def test_mse_loss_refuses_an_empty_batch_as_the_other_losses():
    # was NaN with numpy's "Mean of empty slice" warning; cross_entropy and the binary losses
    # already said "the batch is empty"
    empty = bl.Tensor(np.zeros((0, 3)), requires_grad=True)
    for loss, target in (
        (bl.mse_loss, np.zeros((0, 3))),
        (bl.binary_cross_entropy_with_logits, np.zeros((0, 3))),
    ):
        with pytest.raises(ValueError, match=r"^\w+: the batch is empty$"):
            loss(empty, target)
