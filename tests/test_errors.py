"""Every misuse gets one sentence that names the op and the shapes (DESIGN.md: errors a learner understands)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from graphs import arity

import backproplab as bl
from backproplab import ops, symbolic


def t(*shape, grad=True):
    return bl.Tensor(np.ones(shape), requires_grad=grad)


def raises_one_line(exc, pattern, fn):
    with pytest.raises(exc) as info:
        fn()
    message = str(info.value)
    assert "\n" not in message, message
    assert re.search(pattern, message), message
    error = info.value  # no numpy traceback chained behind ours
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return message


@pytest.mark.parametrize(
    "name, fn",
    [
        ("add", lambda a, b: a + b),
        ("sub", lambda a, b: a - b),
        ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b),
        ("pow", lambda a, b: a**b),
        ("maximum", bl.maximum),
        ("where", lambda a, b: bl.where(np.ones((3, 4), dtype=bool), a, b)),
    ],
)
def test_binary_shape_mismatch(name, fn):
    raises_one_line(
        bl.ShapeError,
        rf"^{name}: shapes \(3, 4\) and \(5,\) cannot be broadcast together$",
        lambda: fn(t(3, 4), t(5)),
    )


@pytest.mark.parametrize(
    "name", [n for n in symbolic.ELEMENTWISE if arity(ops.TABLE[n]) == 2]
)  # fmt: skip
def test_every_elementwise_row_of_two_inputs_names_shapes_that_do_not_broadcast(name):
    # the list above calls them as a learner does; this one goes through the table, so that a
    # new row of two inputs without its explain (ops._broadcast_error) is noticed
    raises_one_line(
        bl.ShapeError,
        rf"^{name}: shapes \(3, 4\) and \(5,\) cannot be broadcast together$",
        lambda: bl.apply(ops.TABLE[name], t(3, 4), t(5)),
    )


def test_matmul_inner_dimensions():
    raises_one_line(
        bl.ShapeError,
        r"^matmul: cannot multiply \(3, 4\) by \(5, 2\): inner dimensions 4 and 5 differ$",
        lambda: t(3, 4) @ t(5, 2),
    )
    raises_one_line(bl.ShapeError, r"inner dimensions 4 and 3 differ", lambda: t(3, 4) @ t(3))
    raises_one_line(bl.ShapeError, r"at least one dimension.*\(\) and \(3,\)", lambda: t() @ t(3))
    raises_one_line(
        bl.ShapeError,
        r"batch dimensions of \(2, 3, 4\) and \(5, 4, 2\)",
        lambda: t(2, 3, 4) @ t(5, 4, 2),
    )


@pytest.mark.parametrize("method", ["sum", "mean", "max"])
def test_bad_axis(method):
    raises_one_line(
        bl.ShapeError,
        rf"^{method}: axis 2 is out of range for a tensor of shape \(3, 4\) \(2 axes\)$",
        lambda: getattr(t(3, 4), method)(axis=2),
    )
    raises_one_line(  # was: "axis 1.0 is out of range", for an axis that exists
        bl.ShapeError,
        rf"^{method}: axis must be a whole number or a tuple of them, got 1\.0$",
        lambda: getattr(t(3, 4), method)(axis=1.0),
    )


def test_reshape_transpose_index_concatenate():
    raises_one_line(
        bl.ShapeError,
        r"^reshape: cannot reshape \(3, 4\) \(12 elements\) into \(5,\)$",
        lambda: t(3, 4).reshape(5),
    )
    raises_one_line(
        bl.ShapeError,
        r"^transpose: axes \(0, 0\) are not a permutation",
        lambda: t(3, 4).transpose(0, 0),
    )
    raises_one_line(
        bl.ShapeError,
        r"^getitem: index 7 does not fit a tensor of shape \(3, 4\)$",
        lambda: t(3, 4)[7],
    )
    raises_one_line(  # a Tensor as an index: it holds floats, whatever it was made from
        bl.ShapeError,
        r"^getitem: index array\(\[0\., 2\.\]\) holds floats \(a Tensor always does\): index with",
        lambda: t(3, 4)[bl.Tensor([0, 2])],
    )
    raises_one_line(
        bl.ShapeError,
        r"^concatenate: cannot join shapes \(2, 3\), \(3, 3\) along axis 1$",
        lambda: bl.concatenate([t(2, 3), t(3, 3)], axis=1),
    )
    raises_one_line(bl.ShapeError, r"^log_softmax: axis 3", lambda: bl.log_softmax(t(2, 3), axis=3))


def test_backward_on_a_non_scalar():
    raises_one_line(
        ValueError,
        r"^backward: the output of 'mul' has shape \(3, 4\); pass a gradient of that shape",
        lambda: (t(3, 4) * 2).backward(),
    )
    raises_one_line(
        ValueError,
        r"^backward: the gradient has shape \(4,\) but the output of 'mul' has shape \(3, 4\)",
        lambda: (t(3, 4) * 2).backward(np.ones(4)),
    )
    # an unnamed leaf: its shape once ("a tensor of shape (3,) has shape (3,)" said it twice)
    raises_one_line(
        ValueError,
        r"^backward: an unnamed tensor has shape \(3,\); pass a gradient of that shape",
        lambda: bl.Tensor(np.ones(3), requires_grad=True).backward(),
    )
    raises_one_line(
        ValueError,
        r"^backward: the gradient has shape \(4,\) but an unnamed tensor has shape \(3,\)",
        lambda: bl.Tensor(np.ones(3), requires_grad=True).backward(np.ones(4)),
    )


def test_backward_without_anything_to_differentiate():
    raises_one_line(
        RuntimeError, r"does not require grad", lambda: (t(3, grad=False) * 2).sum().backward()
    )


def test_a_vjp_of_the_wrong_shape_names_the_rule():
    bad = bl.Op("bad_square", lambda x: x**2, lambda g, out, x: (np.outer(g, x),))
    raises_one_line(
        ValueError,
        r"^vjp of 'bad_square' \(inputs \(3,\)\) returned a gradient of shape \(3, 3\) for input 0, which has shape \(3,\): check that rule$",
        lambda: bl.apply(bad, t(3)).sum().backward(),
    )
    transposed = bl.Op("bad_t", lambda x: x * 2, lambda g, out, x: (g.T,))
    raises_one_line(
        ValueError,
        r"vjp of 'bad_t'.*shape \(4, 2\) for input 0, which has shape \(2, 4\)",
        lambda: bl.apply(transposed, t(2, 4)).sum().backward(),
    )
    second = bl.Op("bad_second", lambda x, y: x * y, lambda g, out, x, y: (g * y, g.sum(axis=0)))
    raises_one_line(
        ValueError,
        r"vjp of 'bad_second'.*shape \(3,\) for input 1, which has shape \(2, 3\)",
        lambda: bl.apply(second, t(2, 3), t(2, 3)).sum().backward(),
    )
    too_few = bl.Op("too_few", lambda x, y: x * y, lambda g, out, x, y: (g * y,))
    raises_one_line(
        TypeError,
        r"^vjp of 'too_few' returned 1 gradient\(s\) for 2 input\(s\)",
        lambda: bl.apply(too_few, t(2), t(2)).sum().backward(),
    )


def test_cross_entropy_labels():
    logits = t(4, 3)
    raises_one_line(
        ValueError,
        r"^cross_entropy: label 3 is out of range for 3 classes \(labels must be 0\.\.2\)$",
        lambda: bl.cross_entropy(logits, np.array([0, 1, 2, 3])),
    )
    raises_one_line(
        ValueError,
        r"label -1 is out of range",
        lambda: bl.cross_entropy(logits, np.array([0, -1, 2, 2])),
    )
    raises_one_line(
        ValueError,
        r"integer labels must have shape \(4,\) for logits of shape \(4, 3\), got \(3,\)",
        lambda: bl.cross_entropy(logits, np.array([0, 1, 2])),
    )
    raises_one_line(
        ValueError,
        r"labels of dtype float64 and shape \(4,\) do not fit logits of shape \(4, 3\)",
        lambda: bl.cross_entropy(logits, np.array([0.0, 1.0, 2.0, 1.0])),
    )
    raises_one_line(
        ValueError,
        r"must have shape \(N, K\) or \(K,\), got \(2, 2, 3\)",
        lambda: bl.cross_entropy(t(2, 2, 3), np.zeros((2, 2), dtype=int)),
    )
    raises_one_line(
        ValueError,
        r"^cross_entropy: the batch is empty$",
        lambda: bl.cross_entropy(t(0, 3), np.zeros(0, dtype=int)),
    )
    nan_logits = bl.Tensor([[np.nan, 0.0, 1.0]])
    raises_one_line(
        ValueError,
        r"^cross_entropy: the logits of shape \(1, 3\) contain NaN or inf$",
        lambda: bl.cross_entropy(nan_logits, np.array([0])),
    )


def test_loss_shape_mismatches():
    raises_one_line(
        ValueError,
        r"^mse_loss: prediction shape \(4, 1\) and target shape \(4,\) differ",
        lambda: bl.mse_loss(t(4, 1), np.ones(4)),
    )
    raises_one_line(
        ValueError,
        r"^binary_cross_entropy: probabilities must lie in \[0, 1\]$",
        lambda: bl.binary_cross_entropy(bl.Tensor([1.5]), np.ones(1)),
    )
    raises_one_line(
        ValueError,
        r"^binary_cross_entropy_with_logits: logits shape \(3,\) and target shape \(2,\) "
        r"differ; they must match$",
        lambda: bl.binary_cross_entropy_with_logits(t(3), np.ones(2)),
    )


def test_binary_losses_say_how_to_fit_one_output_column_to_targets_of_shape_n():
    # a model with one output gives (N, 1); the labels are (N,): the message says what to write
    for loss, x, name in [
        (bl.binary_cross_entropy, bl.Tensor(np.full((4, 1), 0.5)), "probability"),
        (bl.binary_cross_entropy_with_logits, t(4, 1), "logits"),
    ]:
        raises_one_line(
            ValueError,
            rf"^{loss.__name__}: {name} shape \(4, 1\) and target shape \(4,\) differ; pass "
            rf"{name}\[:, 0\], or the targets as target\[:, None\]$",
            lambda loss=loss, x=x: loss(x, np.ones(4)),
        )


def test_sequential_given_a_class_or_a_list_says_what_to_write():
    raises_one_line(
        TypeError,
        r"^Sequential: item 1 is the class ReLU, not a Module; make one: ReLU\(\)$",
        lambda: bl.nn.Sequential(bl.nn.Linear(2, 3), bl.nn.ReLU),
    )
    raises_one_line(
        TypeError,
        r"^Sequential: item 0 is a list, not a Module; pass the layers one by one: "
        r"Sequential\(\*layers\)$",
        lambda: bl.nn.Sequential([bl.nn.Linear(2, 3), bl.nn.ReLU()]),
    )


def test_load_state_dict_given_something_else_than_a_dict_says_what_to_pass(tmp_path):
    model = bl.nn.MLP([3, 4, 2], rng=0)
    before = model.state_dict()
    saved = tmp_path / "weights.npy"
    np.save(saved, model.state_dict())  # a dict saved with np.save: a 0-d object array
    what = r"^load_state_dict: expected a dict of arrays from state_dict\(\), got a "
    for given, pattern in [
        (bl.nn.MLP([3, 4, 2], rng=1), r"MLP \(a model\); pass its state: "
         r"load_state_dict\(model\.state_dict\(\)\)$"),
        (str(saved), r"str \(a file name\?\); load the file first"),
        (saved, r"PosixPath \(a file name\?\)|WindowsPath \(a file name\?\)"),
        (np.load(saved, allow_pickle=True), r"ndarray holding a dict \(saved with np\.save\); "
         r"pass np\.load\(path, allow_pickle=True\)\.item\(\)$"),
        (list(before.items()), r"list$"),
        (None, r"NoneType$"),
    ]:  # fmt: skip
        raises_one_line(TypeError, what + pattern, lambda g=given: model.load_state_dict(g))
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # nothing was loaded
    model.load_state_dict(np.load(saved, allow_pickle=True).item())  # what the message says
    np.savez(tmp_path / "w.npz", **before)
    with np.load(tmp_path / "w.npz") as archive:  # an .npz archive is a mapping: accepted
        model.load_state_dict(archive)


def test_gradcheck_refuses_what_it_cannot_check():
    raises_one_line(
        TypeError,
        r"^gradcheck: input 0 is float32; finite differences need float64",
        lambda: bl.gradcheck(
            lambda x: x * 2, bl.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
        ),
    )
    raises_one_line(
        ValueError,
        r"^gradcheck: no input has requires_grad=True",
        lambda: bl.gradcheck(lambda x: x * 2, t(2, grad=False)),
    )
    raises_one_line(
        ValueError,
        r"^check_direction: input 0 of shape \(2,\) contains NaN or inf$",
        lambda: bl.check_direction(lambda x: x * 2, bl.Tensor([1.0, np.inf], requires_grad=True)),
    )


def test_item_of_a_vector():
    raises_one_line(
        ValueError,
        r"^item: only a one-element tensor has an item, not shape \(3,\)$",
        lambda: t(3).item(),
    )


def test_bool_and_float_of_a_vector_name_themselves_not_item():
    # `if loss_vector:` or float(per_example_losses) used to blame item(), which the learner
    # never called
    raises_one_line(
        ValueError,
        r"^the truth value of a tensor of shape \(3,\) is ambiguous \(one per element\)",
        lambda: bool(t(3)),
    )
    raises_one_line(
        TypeError,
        r"^float\(\): only a one-element tensor is a number, not shape \(2, 2\)$",
        lambda: float(t(2, 2)),
    )
    assert bool(bl.Tensor([0.5])) and float(bl.Tensor([[2.0]])) == 2.0


# --------------------------------------------- found by a sweep of the public API (bad inputs)
def test_an_optimizer_given_one_tensor_refuses_it():
    # list(p) iterates over p's rows: the optimizer updated the rows, never p, without a word
    p = bl.nn.Parameter(np.ones((2, 3)))
    raises_one_line(
        TypeError,
        r"^SGD: got one tensor of shape \(2, 3\), not a list of tensors; pass .*\[p\] for one",
        lambda: bl.optim.SGD(p, lr=0.1),
    )
    raises_one_line(TypeError, r"^Adam: got 3, not a list of tensors", lambda: bl.optim.Adam(3))


def test_an_optimizer_refuses_an_infinite_rate_and_a_gradient_it_cannot_use():
    p = bl.nn.Parameter(np.ones((2, 3)))
    raises_one_line(
        ValueError,
        r"^SGD: learning rate must be finite, got inf$",
        lambda: bl.optim.SGD([p], lr=float("inf")),
    )
    for grad, pattern in [
        (
            "abc",
            r"^SGD: a gradient of dtype <U3 \(str\) cannot update a parameter of shape \(2, 3\)",
        ),
        (np.ones((2, 3), complex), r"^SGD: a gradient of dtype complex128 \(ndarray\) cannot"),
    ]:
        p.grad = grad
        raises_one_line(TypeError, pattern, bl.optim.SGD([p], lr=0.1).step)
    p.grad = bl.Tensor(np.ones((2, 3)))  # a gradient set by hand as a Tensor still works
    bl.optim.SGD([p], lr=0.5).step()
    assert np.array_equal(p.data, np.full((2, 3), 0.5))
    used = (q for q in [p])
    bl.optim.SGD(used)
    raises_one_line(ValueError, r"^SGD: got an empty list .*used up", lambda: bl.optim.SGD(used))


def test_concatenate_and_stack_want_a_list():
    # one tensor was split into its rows: bl.concatenate(x) gave x flattened, bl.stack(x) x
    for op in ("concatenate", "stack"):
        raises_one_line(
            TypeError,
            rf"^{op}: got one Tensor of shape \(4, 3\), which would be split into its rows; pass "
            rf"a list of tensors, e.g. bl.{op}\(\[x, y\]\)$",
            lambda op=op: getattr(bl, op)(t(4, 3)),
        )
        raises_one_line(ValueError, rf"^{op}: got an empty list", lambda op=op: getattr(bl, op)([]))
    assert bl.stack(x for x in [t(2), t(2)]).shape == (2, 2)  # any iterable of tensors


def test_where_refuses_a_condition_that_is_not_true_or_false():
    for cond in (None, "abc"):  # numpy's bool(None) is False: every value came from y
        raises_one_line(
            TypeError,
            r"^where: the condition must be an array of booleans, got \w+ of dtype",
            lambda cond=cond: bl.where(cond, t(3), t(3)),
        )


def test_mse_loss_of_an_array_is_a_tensor_or_a_clear_error():
    # an array prediction gave a numpy number (no .backward()), a list an AttributeError
    loss = bl.mse_loss(np.ones(3), np.zeros(3))
    assert isinstance(loss, bl.Tensor) and loss.item() == 1.0
    raises_one_line(
        ValueError,
        r"^mse_loss: prediction shape \(1, 3\) and target shape \(3,\) differ",
        lambda: bl.mse_loss([[1.0, 2.0, 3.0]], np.zeros(3)),
    )
    raises_one_line(
        TypeError, r"^Tensor: cannot make a tensor from NoneType", lambda: bl.mse_loss(None, 1.0)
    )


def test_flatten_refuses_a_start_dim_past_the_last_axis():
    # Flatten(5) on (2, 3, 4) gave (2, 3, 4, 1), and Flatten() on (3,) gave (3, 1)
    raises_one_line(
        ValueError,
        r"^Flatten: start_dim 5 is not an axis of the input of shape \(2, 3, 4\) \(3 axes\)$",
        lambda: bl.nn.Flatten(5)(t(2, 3, 4)),
    )
    raises_one_line(
        ValueError, r"^Flatten: start_dim 1 .* shape \(3,\)", lambda: bl.nn.Flatten()(t(3))
    )
    assert bl.nn.Flatten(-1)(t(2, 3, 4)).shape == (2, 3, 4)
    assert isinstance(bl.nn.Flatten()(np.ones((2, 3, 4))), bl.Tensor)  # an array: a Tensor too


@pytest.mark.parametrize(
    "make, exc, pattern",
    [  # numpy's words before: "float division by zero", "negative dimensions are not allowed"...
        (lambda: bl.nn.Conv2d(0, 2, 3), ValueError, r"^Conv2d: in_channels must be >= 1, got 0$"),
        (lambda: bl.nn.Conv2d(3, -1, 3), ValueError, r"^Conv2d: out_channels must be >= 1"),
        (
            lambda: bl.nn.Conv2d(3, 2, 1.5),
            TypeError,
            r"^Conv2d: kernel_size must be an int or a pair",
        ),
        (
            lambda: bl.nn.BatchNorm1d("3"),
            TypeError,
            r"^BatchNorm1d: num_features must be a whole number, got '3'$",
        ),
        (
            lambda: bl.nn.BatchNorm2d(0),
            ValueError,
            r"^BatchNorm2d: num_features must be >= 1, got 0$",
        ),
        (
            lambda: bl.nn.LayerNorm(None),
            TypeError,
            r"^LayerNorm: normalized_shape must be a size or a tuple",
        ),
        (
            lambda: bl.nn.LayerNorm(-1),
            ValueError,
            r"^LayerNorm: each size in normalized_shape must be >= 1",
        ),
        (
            lambda: bl.layer_norm(t(4, 3), 1.5),
            TypeError,
            r"^layer_norm: normalized_shape must be a size",
        ),
        (
            lambda: bl.nn.MLP(3),
            TypeError,
            r"^MLP: sizes must be a list of widths, e.g. \[64, 32, 10\], got 3$",
        ),
        (
            lambda: bl.nn.Linear(True, 2),
            TypeError,
            r"^Linear: n_in and n_out must be whole numbers, got True",
        ),
        (
            lambda: bl.nn.Dropout("0.5"),
            TypeError,  # not a number at all, as for the other layers' sizes
            r"^Dropout: p must be a probability in \[0, 1\], got '0.5'$",
        ),
        (
            lambda: bl.nn.Dropout(True),
            TypeError,
            r"^Dropout: p must be a probability .* got True$",
        ),
    ],
)
def test_layer_constructors_refuse_sizes_that_are_not_counts(make, exc, pattern):
    raises_one_line(exc, pattern, make)


def test_layer_norm_takes_a_numpy_integer_size():
    # bl.layer_norm(x, X.shape[1]) with a numpy integer: "'numpy.int64' object is not iterable"
    assert bl.layer_norm(t(4, 3), np.int64(3)).shape == (4, 3)


def test_window_sizes_are_ints_not_floats_none_or_true():
    # conv2d(stride=1.5): "'float' object is not iterable"; padding=True was padding 1
    for value in (1.5, None, True):
        raises_one_line(
            TypeError,
            rf"^conv2d: padding must be an int or a pair of ints, got {value!r}$",
            lambda value=value: bl.conv2d(t(1, 2, 5, 5), t(3, 2, 3, 3), padding=value),
        )
        raises_one_line(
            TypeError,
            rf"^max_pool2d: kernel_size must be an int or a pair of ints, got {value!r}$",
            lambda value=value: bl.max_pool2d(t(1, 2, 4, 4), value),
        )


def test_ragged_nested_lists_get_one_line():
    # numpy's "setting an array element with a sequence. The requested array has an
    # inhomogeneous shape after 1 dimensions..." named no op and no tensor
    pattern = r"^Tensor: cannot make a tensor from nested lists whose rows differ in length"
    raises_one_line(TypeError, pattern, lambda: bl.Tensor([[1.0, 2.0], [3.0]]))
    raises_one_line(TypeError, pattern, lambda: bl.exp([[1.0, 2.0], [3.0]]))
    raises_one_line(TypeError, pattern, lambda: t(2) + [[1.0, 2.0], [3.0]])


def test_comparisons_that_numpy_cannot_make_name_the_shapes():
    # numpy's "operands could not be broadcast together with shapes (4,3) (5,3)"
    raises_one_line(
        bl.ShapeError,
        r"^<: cannot compare a tensor of shape \(4, 3\) with ndarray of shape \(5, 3\)$",
        lambda: t(4, 3) < np.ones((5, 3)),
    )
    raises_one_line(
        bl.ShapeError,
        r"^==: cannot compare a tensor of shape \(4, 3\) with Tensor of shape \(4,\)$",
        lambda: t(4, 3) == t(4),
    )
    raises_one_line(TypeError, r"^>=: cannot compare .* with NoneType None$", lambda: t(3) >= None)
    assert (t(2, 3) < np.full(3, 2.0)).all()  # broadcasting still works


def test_accuracy_refuses_labels_that_are_not_classes():
    # labels 0.5 and 1.5, or 7 with 2 classes, never equal an argmax: the accuracy was 0.0
    logits = np.array([[1.0, 0.0], [0.0, 1.0]])
    for labels, pattern in [
        (np.array([0.5, 1.5]), r"got dtype float64 from 0\.5 to 1\.5$"),
        (np.array([0, 7]), r"got dtype int64 from 0 to 7$"),
    ]:
        raises_one_line(
            ValueError,
            r"^accuracy: labels must be class indices 0\.\.1 \(integers\), " + pattern,
            lambda labels=labels: bl.train.accuracy(logits, labels),
        )
    assert bl.train.accuracy(logits, np.array([0, 0])) == 0.5


def test_binary_losses_refuse_targets_that_are_not_real_numbers():
    # text gave numpy's "could not convert string to float"; complex lost its imaginary part
    for loss in (bl.binary_cross_entropy, bl.binary_cross_entropy_with_logits):
        for target, dtype in [(np.array(["a", "b"]), "<U1"), (np.ones(2, complex), "complex128")]:
            raises_one_line(
                TypeError,
                rf"^{loss.__name__}: targets must be real numbers in \[0, 1\], got dtype {dtype}$",
                lambda loss=loss, target=target: loss(bl.Tensor([0.5, 0.5]), target),
            )


def test_batch_norm_refuses_a_momentum_or_eps_that_is_not_a_number_at_least_0():
    for kw, shown in [
        ({"momentum": "a"}, "momentum .* got 'a'"),
        ({"eps": -1.0}, "eps .* got -1.0"),
    ]:
        raises_one_line(
            ValueError,
            rf"^batch_norm: {shown}$",
            lambda kw=kw: bl.batch_norm(t(4, 3), np.zeros(3), np.ones(3), training=True, **kw),
        )


def test_gradcheck_refuses_a_step_or_tolerance_it_cannot_use():
    x = bl.Tensor(np.ones(3), requires_grad=True)
    f = lambda x: (x * 2).sum()  # noqa: E731
    for kw, pattern in [  # eps=0: "float division by zero"; eps="a": numpy's ufunc paragraph
        ({"eps": 0.0}, r"^gradcheck: eps must be a finite number > 0, got 0\.0$"),
        ({"eps": "a"}, r"^gradcheck: eps must be a finite number > 0, got 'a'$"),
        ({"atol": float("nan")}, r"^gradcheck: atol must be a finite number >= 0, got nan$"),
        ({"rtol": -1.0}, r"^gradcheck: rtol must be a finite number >= 0, got -1\.0$"),
    ]:
        raises_one_line(ValueError, pattern, lambda kw=kw: bl.gradcheck(f, x, **kw))
    raises_one_line(
        TypeError,
        r"^check_direction: fn must be a function of the input tensors \(or an Op\), got a Tensor",
        lambda: bl.check_direction(x, f),
    )


def test_fit_names_what_it_was_given_instead_of_a_model_an_optimizer_or_a_loss():
    model = bl.nn.MLP([3, 2], rng=0)
    sgd = bl.optim.SGD(model.parameters(), lr=0.1)
    X, y = np.ones((8, 3)), np.zeros(8, dtype=int)
    fit = bl.train.fit
    for call, exc, pattern in [  # Python's "'Linear' object has no attribute 'params'" and so on
        (lambda: fit(model, X, y, optimizer=model), TypeError, r"^fit: expected a Module and an Optimizer, got a MLP and a MLP"),
        (lambda: fit(bl.relu, X, y, optimizer=sgd), TypeError, r"^fit: expected a Module .* got a function and a SGD"),
        (lambda: fit(model, X, y, optimizer=sgd, loss_fn="cross_entropy"), TypeError, r"^fit: loss_fn must be a function"),
        (lambda: fit(model, X, None, optimizer=sgd), ValueError, r"^fit: X_train has 8 rows but y_train has no labels$"),
        (lambda: fit(model, X.astype(complex), y, optimizer=sgd), TypeError, r"^fit: X_train holds complex numbers"),
    ]:  # fmt: skip
        raises_one_line(exc, pattern, call)


def test_reductions_name_a_keepdims_that_is_not_true_or_false():
    # the message said "axis 0 of shape (4, 3) has length 0: there is nothing to reduce"
    raises_one_line(
        bl.ShapeError,
        r"^sum: keepdims must be True or False, got 'yes'$",
        lambda: t(4, 3).sum(axis=0, keepdims="yes"),
    )
    raises_one_line(
        bl.ShapeError,
        r"^mean: axis must be a whole number .*got '0'$",
        lambda: t(4, 3).mean(axis="0"),
    )


def test_a_seed_that_is_not_one_and_a_batch_size_of_0_get_one_line():
    raises_one_line(  # numpy's "SeedSequence expects int or sequence of ints for entropy not abc"
        TypeError,
        r"^Linear: rng must be a numpy Generator or a seed \(a whole number >= 0\), got 'abc'$",
        lambda: bl.nn.Linear(3, 2, rng="abc"),
    )
    raises_one_line(
        ValueError,  # Python's "range() arg 3 must not be zero"
        r"^predict: batch_size must be >= 1, got 0$",
        lambda: bl.train.predict(bl.nn.Linear(3, 2, rng=0), np.ones((4, 3)), batch_size=0),
    )


@pytest.mark.parametrize(
    "row, count, pattern",
    [
        (bl.ops.exp, 2, r"^exp: takes 1 input\(s\), got 2$"),
        (bl.ops.add, 3, r"^add: takes 2 input\(s\), got 3$"),
        (bl.ops.matmul, 1, r"^matmul: takes 2 input\(s\), got 1$"),
    ],
)
def test_apply_with_the_wrong_number_of_inputs_names_the_row_and_changes_nothing(
    row, count, pattern
):
    # numpy took the array past a ufunc's inputs as its `out` and wrote the result into it
    inputs = [bl.Tensor([1.0, 2.0], requires_grad=True)] + [bl.Tensor([5.0, 6.0])] * (count - 1)
    raises_one_line(bl.ShapeError, pattern, lambda: bl.apply(row, *inputs))
    for t, start in zip(inputs, [[1.0, 2.0]] + [[5.0, 6.0]] * (count - 1)):
        np.testing.assert_array_equal(t.data, start)


@pytest.mark.parametrize("sizes", [(4, 3, 2), range(4, 1, -1), np.array([4, 3, 2])])
def test_mlp_takes_any_sequence_of_widths(sizes):
    model = bl.nn.MLP(sizes, rng=0)
    assert model.sizes == [4, 3, 2] and all(type(n) is int for n in model.sizes)
    assert model(np.ones((5, 4))).shape == (5, 2)


def test_indexing_with_a_tensor_says_to_use_a_numpy_array_of_integers_or_booleans():
    x = bl.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for index in (bl.Tensor([0, 2]), bl.Tensor([True, False, True])):  # both hold floats
        raises_one_line(
            bl.ShapeError,
            r"^getitem: index .* holds floats \(a Tensor always does\): index with a numpy array "
            r"of integers, or of booleans for a mask",
            lambda index=index: x[index],
        )
    assert x[np.array([True, False, True])].data.tolist() == [1.0, 3.0]


def test_integers_beyond_64_bits_are_numbers_too():
    # numpy holds 10**30 as a Python object: the tensor was refused as "not real numbers"
    assert bl.Tensor(10**30).item() == 1e30
    x = bl.Tensor([1.0, 2.0], requires_grad=True)
    (x * 10**30).sum().backward()
    assert x.grad.tolist() == [1e30, 1e30]
    raises_one_line(
        ValueError, r"^Tensor: an integer is too large for a float", lambda: bl.Tensor(10**400)
    )
    for mixed in ([1, None], [10**30, None]):  # never None as nan
        raises_one_line(
            TypeError,
            r"^Tensor: cannot make a tensor from list data",
            lambda mixed=mixed: bl.Tensor(mixed),
        )


def test_a_custom_rows_wrong_arguments_are_not_called_a_shape_problem():
    cube = bl.Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x**2,))
    x = t(2, 3)
    raises_one_line(
        bl.ShapeError,
        r"^cube: its forward refused the arguments \(.*unexpected keyword argument 'p'\)$",
        lambda: bl.apply(cube, x, p=2),
    )
    raises_one_line(
        bl.ShapeError,
        r"^bad: cannot apply to shapes \(2, 3\) \(.*\)$",  # a forward's own ValueError
        lambda: bl.apply(bl.Op("bad", lambda x: x.reshape(5), lambda g, out, x: (g,)), x),
    )
