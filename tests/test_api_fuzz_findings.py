"""Findings of a systematic fuzz of the public API with bad and edge inputs (wrong shapes, dtypes,
None, keyword slips): each was a silent wrong result or an error from deep inside numpy, Python or
scikit-learn. Each now gets one line naming the function and what is wrong.

Expected values are written out by hand, never computed by the code under test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_errors import raises_one_line

import backproplab as bl
from backproplab import datasets, nn, optim, train


# ------------------------------------------- the optimizer of another model: a step of nothing
@pytest.mark.parametrize("make", [optim.SGD, optim.Adam])
def test_train_step_refuses_an_optimizer_that_holds_none_of_the_models_parameters(make):
    # the model's cell run again, not the optimizer's: fit refused this, train_step returned
    # the loss and trained nothing, step after step (train_step's source is printed by
    # notebook 09, so the check lives in the optimizer's step)
    X, y = np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0, 1])
    model, other = nn.MLP([2, 3, 2], rng=0), nn.MLP([2, 3, 2], rng=1)
    before = model.layers[0].weight.data.copy()
    raises_one_line(
        ValueError,
        rf"^{make.__name__}\.step: none of its 4 parameters has a gradient.*model\.parameters\(\)",
        lambda: train.train_step(model, make(other.parameters(), lr=0.1), X, y),
    )
    np.testing.assert_array_equal(model.layers[0].weight.data, before)


def test_a_loop_of_ones_own_with_the_optimizer_of_another_model_is_refused_at_the_step():
    X, y = np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0, 1])
    model, other = nn.MLP([2, 3, 2], rng=0), nn.MLP([2, 3, 2], rng=1)
    opt = optim.SGD(other.parameters(), lr=0.1)
    opt.zero_grad()
    bl.cross_entropy(model(X), y).backward()
    raises_one_line(ValueError, r"^SGD\.step: none of its 4 parameters", opt.step)


def test_train_step_still_trains_a_model_whose_optimizer_holds_some_of_its_parameters():
    X, y = np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0, 1])
    model = nn.MLP([2, 3, 2], rng=0)
    first, last = model.layers[0].weight, model.layers[2].weight
    before_first, before_last = first.data.copy(), last.data.copy()
    train.train_step(model, optim.SGD([last], lr=0.1), X, y)  # only the last layer is trained
    np.testing.assert_array_equal(first.data, before_first)
    assert not np.array_equal(last.data, before_last)


# --------------------------------------------------------- leaky_relu's slope is one number
@pytest.mark.parametrize(
    "slope", [np.array([0.1, 0.5]), np.full((3, 2), 0.1), [0.1, 0.5], "a", None, True]
)
def test_leaky_relu_refuses_a_slope_that_is_not_one_number(slope):
    # an array of slopes was broadcast along the last axis: one slope per column, silently
    x = np.array([[-1.0, -1.0]])
    raises_one_line(
        TypeError,
        r"^leaky_relu: slope must be a number",
        lambda: bl.leaky_relu(x, slope=slope),
    )


@pytest.mark.parametrize("slope", [np.array([0.1, 0.5]), "a", None])
def test_the_leaky_relu_layer_refuses_such_a_slope_when_made(slope):
    raises_one_line(TypeError, r"^LeakyReLU: slope must be a number", lambda: nn.LeakyReLU(slope))


@pytest.mark.parametrize("slope", [0.2, np.float32(0.2), 1])
def test_leaky_relu_takes_a_number_of_any_kind(slope):
    out = bl.leaky_relu(np.array([-2.0, 3.0]), slope=slope)
    np.testing.assert_allclose(out.data, [-2.0 * float(slope), 3.0], rtol=1e-7)
    out = nn.LeakyReLU(slope)(np.array([-2.0, 3.0]))
    np.testing.assert_allclose(out.data, [-2.0 * float(slope), 3.0], rtol=1e-7)


# ------------------------------------------------------------------ indexing: one line
def test_a_boolean_mask_of_the_wrong_shape_gets_a_one_line_error_with_both_shapes():
    x = bl.Tensor(np.ones((3, 4)))
    mask = np.ones((3, 2), dtype=bool)  # the repr of the mask spread over three lines
    raises_one_line(
        bl.ShapeError,
        r"^getitem: .*\(3, 2\).*\(3, 4\)",
        lambda: x[mask],
    )


# ------------------------------------------------------------- Sequential: past the end
@pytest.mark.parametrize("i", [5, -4])
def test_a_layer_index_past_the_end_names_the_sequential_and_its_length(i):
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=0))
    raises_one_line(IndexError, r"^Sequential: .*3 layers", lambda: model[i])
    raises_one_line(IndexError, r"^Sequential: .*3 layers", lambda: model.__setitem__(i, nn.ReLU()))


def test_a_layer_index_that_is_no_whole_number_is_named():
    model = nn.Sequential(nn.ReLU())
    raises_one_line(TypeError, r"^Sequential: .*'a'", lambda: model["a"])


# ------------------------------------------------------------------ digits: test_size
@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1, "a", None])
def test_digits_names_a_test_size_that_is_no_fraction_in_its_own_words(test_size):
    # scikit-learn answered, naming its train_test_split, not digits (or, for None, used 0.25)
    raises_one_line(
        (TypeError, ValueError),
        r"^digits: test_size must be a fraction between 0 and 1",
        lambda: datasets.digits(test_size=test_size),
    )


# ------------------------------------------------------ deep_network: residual is a flag
@pytest.mark.parametrize("residual", ["tanh", "yes", 1, None])
def test_deep_network_refuses_a_residual_that_is_not_true_or_false(residual):
    # deep_network(2, 4, "tanh") meant the activation: it built a residual ReLU network
    raises_one_line(
        TypeError,
        r"^deep_network: residual must be True or False, got .*activation='tanh'",
        lambda: nn.deep_network(2, 4, residual),
    )


@pytest.mark.parametrize("residual, block", [(True, nn.ResidualBlock), (False, nn.Sequential)])
def test_deep_network_still_takes_true_and_false(residual, block):
    model = nn.deep_network(2, 4, residual, rng=0)
    assert [type(layer) for layer in model.layers[2:4]] == [block, block]


# ------------------------------------- stack and concatenate: the axis, when shapes fit
@pytest.mark.parametrize("join", [bl.stack, bl.concatenate])
@pytest.mark.parametrize("axis", [1.0, "rows"])
def test_an_axis_that_is_no_whole_number_is_named_not_the_shapes(join, axis):
    # "cannot join shapes (2,), (2,) along axis 1.0" blamed shapes that fit
    x = np.ones(2)
    raises_one_line(
        bl.ShapeError,
        rf"^{join.__name__}: axis must be a whole number, got {axis!r}$",
        lambda: join([x, x], axis=axis),
    )


def test_stack_names_axis_none_which_only_concatenate_takes():
    x = np.ones(2)
    raises_one_line(bl.ShapeError, r"^stack: axis must be a whole number, got None$",
                    lambda: bl.stack([x, x], axis=None))  # fmt: skip
    np.testing.assert_array_equal(bl.concatenate([x, 2 * x], axis=None).data, [1, 1, 2, 2])


@pytest.mark.parametrize("join, axis", [(bl.stack, 2), (bl.stack, -3), (bl.concatenate, 1)])
def test_an_axis_out_of_range_for_shapes_that_fit_is_named_with_the_number_of_axes(join, axis):
    x = np.ones(2)
    raises_one_line(
        bl.ShapeError,
        rf"^{join.__name__}: axis {axis} is out of range for joining shapes \(2,\), \(2,\) "
        rf"\(1 axes each\)$",
        lambda: join([x, x], axis=axis),
    )


# ---------------------------------------------------- a forward without return
class _NoReturn(nn.Module):
    def __init__(self):
        self.layer = nn.Linear(2, 2, rng=0)

    def forward(self, x):
        self.layer(x)  # the return forgotten


def test_a_forward_that_returns_nothing_is_named_at_the_call():
    # the None reached the loss, and the error blamed Tensor: "cannot make a tensor from
    # NoneType data", a call the learner never wrote
    raises_one_line(
        TypeError,
        r"^_NoReturn\.forward returned None.*return",
        lambda: _NoReturn()(np.ones((1, 2))),
    )


def test_a_forward_that_returns_nothing_is_named_by_fit():
    model = _NoReturn()
    X, y = np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0, 1])
    raises_one_line(
        TypeError,
        r"^_NoReturn\.forward returned None",
        lambda: train.fit(model, X, y, optim.SGD(model.parameters(), lr=0.1), epochs=1),
    )


# --------------------------------------------- norm layers: eps and flags, checked when made
@pytest.mark.parametrize("layer", [nn.LayerNorm, nn.BatchNorm1d, nn.BatchNorm2d])
@pytest.mark.parametrize("eps", [False, True, -1.0, "a", None])
def test_a_norm_layer_refuses_an_eps_that_is_no_number_when_made(layer, eps):
    # LayerNorm(4, False), meant as elementwise_affine=False, made eps = False = 0 silently
    raises_one_line(
        (TypeError, ValueError),
        rf"^{layer.__name__}: eps must be a number >= 0",
        lambda: layer(4, eps),
    )


def test_layer_norm_points_a_flag_given_as_eps_to_its_keyword():
    raises_one_line(TypeError, r"elementwise_affine=False", lambda: nn.LayerNorm(4, False))


@pytest.mark.parametrize("flag", ["no", 0, None])
def test_layer_norm_refuses_an_elementwise_affine_that_is_not_true_or_false(flag):
    # "no" was read as True: a weight and a bias were made and trained
    raises_one_line(
        TypeError,
        r"^LayerNorm: elementwise_affine must be True or False",
        lambda: nn.LayerNorm(4, elementwise_affine=flag),
    )


@pytest.mark.parametrize("eps", [0, 1e-5, np.float32(1e-3)])
def test_norm_layers_take_an_eps_of_any_kind_of_number(eps):
    x = np.array([[1.0, 3.0], [3.0, 1.0]])
    out = nn.LayerNorm(2, eps).forward(x).data
    expected = np.array([[-1.0, 1.0], [1.0, -1.0]]) / np.sqrt(1.0 + float(eps))  # var 1, mean 2
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    out = nn.BatchNorm1d(2, eps).forward(x).data  # per column: values 1, 3 (mean 2, var 1)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


# ------------------------------------------------------------------- col2im: x_shape
@pytest.mark.parametrize("x_shape", [None, (2, 3, 5.0, 5), 5, (2, 3, -5, 5)])
def test_col2im_names_an_x_shape_that_is_no_shape(x_shape):
    # None: "object of type 'NoneType' has no len()"; floats: numpy's broadcast_to error
    cols = np.zeros((18, 27))
    raises_one_line(
        TypeError,
        r"^col2im: x_shape must be a shape \(N, C, H, W\) of sizes",
        lambda: bl.col2im(cols, x_shape, 3),
    )


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam])
def test_a_step_over_parameters_all_frozen_changes_nothing_and_says_nothing(make):
    # frozen on purpose (requires_grad = False): the step skips each, as PyTorch's does; the
    # refusal above is for parameters that want a gradient and got none
    layer = nn.Linear(3, 2, rng=0)
    before = [p.data.copy() for p in layer.parameters()]
    for p in layer.parameters():
        p.requires_grad = False
    make(layer.parameters(), lr=0.1).step()
    assert all(np.array_equal(p.data, b) for p, b in zip(layer.parameters(), before))


# ----------------------------------- the left-overs: Tensor.leaky_relu's slope, one check
@pytest.mark.parametrize("slope", [np.array([0.1, 0.5]), [0.1, 0.5], "a", None, True])
def test_the_leaky_relu_method_refuses_a_slope_that_is_not_one_number(slope):
    # x.leaky_relu(array) took one slope per column, silently (bl.leaky_relu refused it)
    x = bl.Tensor(np.array([[-1.0, -1.0]]), requires_grad=True)
    raises_one_line(TypeError, r"^leaky_relu: slope must be a number", lambda: x.leaky_relu(slope))


def test_the_leaky_relu_method_still_takes_a_number():
    x = bl.Tensor(np.array([-2.0, 3.0]), requires_grad=True)
    np.testing.assert_allclose(x.leaky_relu(np.float32(0.5)).data, [-1.0, 3.0])


# --------------------------------------------- backward(grad=...): a gradient of numbers
@pytest.mark.parametrize("grad", ["a", "1.5", object(), [None], {"g": 1.0}])
def test_backward_refuses_a_seed_gradient_that_is_no_numbers(grad):
    # "a": numpy's "could not convert string to float"; "1.5" was read as the number 1.5
    x = bl.Tensor(2.0, requires_grad=True)
    L = x * x
    raises_one_line(TypeError, r"^backward: the gradient must be numbers .*shape \(\)",
                    lambda: L.backward(grad))  # fmt: skip
    assert x.grad is None


def test_backward_still_takes_a_seed_gradient_of_numbers_in_any_form():
    x = bl.Tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward([1, 0.5])  # a list of ints and floats: d(x^2) = 2x, times the seed
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    assert x.grad.dtype == np.float64


# ------------------------------------------ a .grad set by hand that is no numbers
@pytest.mark.parametrize("held", ["a", np.array(["a", "b"]), object()])
def test_backward_refuses_a_held_gradient_that_is_no_numbers(held):
    # a 0-d one reached `x.grad + g`: numpy's "ufunc 'add' did not contain a loop"
    x = bl.Tensor(np.array([1.0, 2.0]) if np.ndim(held) else 1.0, requires_grad=True, name="x")
    x.grad = held
    raises_one_line(TypeError, r"^backward: 'x' holds a gradient of dtype .*set by hand\?",
                    lambda: (x * x).sum().backward(accumulate=True))  # fmt: skip


# ---------------------------------------------------------------- the mean of nothing
@pytest.mark.parametrize(
    "shape, axis, expected", [((0,), None, np.nan), ((0, 3), 0, [np.nan] * 3), ((0, 3), 1, [])]
)
def test_the_mean_of_an_empty_tensor_is_nan_without_numpy_warnings(shape, axis, expected):
    # as torch.tensor([]).mean(): nan; numpy's "Mean of empty slice" and "invalid value
    # encountered in scalar divide" pointed into ops.py and numpy's _methods.py
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = bl.Tensor(np.zeros(shape), requires_grad=True).mean(axis=axis)
        np.testing.assert_array_equal(out.data, expected)
        out.backward(np.ones(out.shape))


# ------------------------------------------------ nudge_check: None and swapped arguments
def _loss_and_w():
    w = bl.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    return (lambda: (w * w).sum()), w


@pytest.mark.parametrize("params", [None, 3.0])
def test_nudge_check_names_params_that_are_no_list_of_tensors(params):
    loss_fn, _ = _loss_and_w()
    raises_one_line(TypeError, r"^nudge_check: params must be a list of tensors",
                    lambda: bl.nudge_check(loss_fn, params))  # fmt: skip


@pytest.mark.parametrize("loss_fn", [None, "loss", "swapped"])
def test_nudge_check_names_a_loss_fn_that_is_no_function(loss_fn):
    fn, w = _loss_and_w()
    args = ([w], fn) if loss_fn == "swapped" else (loss_fn, [w])
    raises_one_line(TypeError, r"^nudge_check: loss_fn must be a function of no arguments",
                    lambda: bl.nudge_check(*args))  # fmt: skip


@pytest.mark.parametrize("nudge", [None, "a", ["a", "b"], object()])
def test_nudge_check_names_a_nudge_that_is_no_number_nor_arrays(nudge):
    loss_fn, w = _loss_and_w()
    raises_one_line((TypeError, ValueError), r"^nudge_check: .*nudge",
                    lambda: bl.nudge_check(loss_fn, [w], nudge))  # fmt: skip
    np.testing.assert_array_equal(w.data, [1.0, -2.0])


@pytest.mark.parametrize("nudge", [1e-3, np.float32(1e-3), [np.array([1e-3, 1e-3])]])
def test_nudge_check_still_takes_a_number_or_one_array_per_parameter(nudge):
    loss_fn, w = _loss_and_w()
    report = bl.nudge_check(loss_fn, [w], nudge)
    # sum(w^2) = 5; grad 2w = (2, -4); predicted change (2 - 4) * 1e-3
    assert report.loss_before == 5.0
    assert report.predicted_change == pytest.approx(-2e-3, rel=1e-6)


# --------------------------------------------- gradcheck, check_direction: the seed
@pytest.mark.parametrize("check", [bl.gradcheck, bl.check_direction])
@pytest.mark.parametrize("seed", [None, "a", 1.5, -1])
def test_the_gradient_checks_name_a_seed_that_is_no_whole_number(check, seed):
    # "a": numpy's SeedSequence error; check_direction's None: "unsupported operand type(s)";
    # gradcheck's None: a new random direction each run
    w = bl.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    raises_one_line((TypeError, ValueError), rf"^{check.__name__}: seed must be (a whole number|>= 0)",
                    lambda: check(lambda t: t * t, w, seed=seed))  # fmt: skip


# ------------------------------------------------ train_step: model and optimizer swapped
@pytest.mark.parametrize("order", ["swapped", "X first", "None"])
def test_train_step_names_a_model_and_optimizer_given_in_the_wrong_order(order):
    # "'MLP' object has no attribute 'params'", "'numpy.ndarray' object has no attribute
    # 'zero_grad'", "'NoneType' object is not callable": from inside train_step
    X, y = np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0, 1])
    model = nn.MLP([2, 3, 2], rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    args = {"swapped": (opt, model, X, y), "X first": (X, opt, model, y),
            "None": (None, opt, X, y)}[order]  # fmt: skip
    raises_one_line(TypeError, r"^train_step: expected a Module and an Optimizer, got a .*; "
                    r"call train_step\(model, optimizer, X, y\)$",
                    lambda: train.train_step(*args))  # fmt: skip
