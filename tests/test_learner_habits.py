"""Code a learner who knows numpy and a little PyTorch writes without thinking, and what it gets.

Each test is one habit that used to give a silent wrong result (the model not learning, a loss
of the wrong thing) or a Python-internal error, and now gives the right result or a one-line
message naming the mistake.
"""

import gc
import warnings

import numpy as np
import pytest

import backproplab as bl
from backproplab import nn, optim

X, Y = bl.datasets.moons(32, rng=0)


# ------------------------------------------------------------------------------ custom modules
class _PlainTensorScale(nn.Module):
    """A layer followed by a learned scale made the numpy way, not as a Parameter."""

    def __init__(self):
        self.layer = nn.Linear(2, 2, rng=0)
        self.scale = bl.Tensor(np.ones(2), requires_grad=True)

    def forward(self, x):
        return self.layer(x) * self.scale


def test_a_plain_tensor_that_requires_grad_as_an_attribute_is_refused_not_left_untrained():
    model = _PlainTensorScale()  # the scale was silently left out of parameters(): never trained
    with pytest.raises(TypeError, match=r"_PlainTensorScale: attribute 'scale' is a Tensor .*"
                       r"not a Parameter.*bl\.nn\.Parameter"):  # fmt: skip
        bl.optim.SGD(model.parameters(), lr=0.1)


def test_a_nested_plain_tensor_is_named_by_its_dotted_path():
    outer = nn.Sequential(nn.Linear(2, 2, rng=0))
    outer.layers[0].gain = bl.Tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"attribute '0\.gain' is a Tensor"):
        outer.parameters()


def test_constant_tensors_stored_outputs_and_a_layer_used_twice_are_still_fine():
    class Model(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2, rng=0)
            self.twice = [self.layer, self.layer]  # the same layer applied twice
            self.mask = bl.Tensor([1.0, 0.0])  # a constant: requires_grad=False
            self.frozen = nn.Parameter(np.ones(2), requires_grad=False)  # PyTorch's spelling

        def forward(self, x):
            self.last = self.twice[1](self.twice[0](x)) * self.mask  # kept to look at later
            return self.last

    model = Model()
    model(X)  # `last` is a tensor in the graph, not a leaf: not a parameter, not refused
    names = [name for name, _ in model.named_parameters()]
    assert names == ["frozen", "layer.weight", "layer.bias"]
    assert not model.frozen.requires_grad
    assert sorted(model.state_dict()) == sorted(names)


def test_a_set_of_layers_is_refused_instead_of_holding_parameters_nobody_finds():
    class Model(nn.Module):
        def __init__(self):
            self.heads = {nn.Linear(2, 1, rng=0), nn.Linear(2, 1, rng=1)}

        def forward(self, x):
            return sum(h(x) for h in self.heads)

    with pytest.raises(TypeError, match=r"Model: attribute 'heads' is a set.*use a list"):
        Model().parameters()


@pytest.mark.parametrize("in_no_grad", [False, True])
def test_replacing_a_weight_by_an_update_that_is_not_in_place_is_refused(in_no_grad):
    layer = nn.Linear(2, 2, rng=0)
    bl.cross_entropy(layer(X), Y).backward()
    with pytest.raises(TypeError, match=r"Linear: cannot replace the Parameter 'weight'.*in place"):
        if in_no_grad:  # the weight became a plain tensor: dropped from parameters() silently
            with bl.no_grad():
                layer.weight = layer.weight - 0.1 * layer.weight.grad
        else:
            layer.weight = layer.weight - 0.1 * layer.weight.grad
    assert isinstance(layer.weight, nn.Parameter)
    layer.weight = nn.Parameter(np.zeros((2, 2)))  # a new Parameter is fine, as None is
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_replacing_a_parameter_an_optimizer_holds_is_named():
    """A new Parameter after the optimizer was made: the optimizer goes on updating the old one,
    and backward() warned only "call zero_grad()", which the learner was calling."""
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=1))
    model.layers[0].weight = nn.Parameter(np.zeros((3, 2)))  # before the optimizer: silent
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        model.layers[2].bias = None  # removing one is fine: nothing will need training
    with pytest.warns(UserWarning, match=r"Linear: the Parameter 'weight' is replaced, but an "
                      r"optimizer made before holds the old one") as caught:  # fmt: skip
        model.layers[0].weight = nn.Parameter(np.ones((3, 2)))
    assert caught.pop(UserWarning).filename == __file__  # points at the learner's line
    assert optimizer.params[0] is not model.layers[0].weight


def test_replacing_a_parameter_no_living_optimizer_holds_is_silent():
    """The optimizer of an earlier cell gone (``opt`` made again for another model, or deleted):
    re-initialising a weight then making the optimizer was warned about, "an optimizer made
    before holds the old one", though none did any more."""
    model = nn.Linear(2, 3, rng=0)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    del optimizer
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.weight = nn.Parameter(np.zeros((3, 2)))
        optim.SGD(model.parameters(), lr=0.1)


def test_replacing_a_parameter_of_another_model_or_by_itself_is_silent():
    """(Found by mutation testing.) An optimizer alive for one model says nothing of another
    model's parameters, and a Parameter assigned to itself is no replacement."""
    model, other = nn.Linear(2, 3, rng=0), nn.Linear(2, 3, rng=1)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        other.weight = nn.Parameter(np.zeros((3, 2)))
        model.weight = model.weight
    assert optimizer.params[0] is model.weight


def test_forward_with_keyword_arguments_is_called_like_pytorchs():
    class Scaled(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2, rng=0)

        def forward(self, x, scale=1.0):
            return self.layer(x) * scale

    model = Scaled()
    np.testing.assert_allclose(model(X, scale=2.0).data, 2 * model(X).data)


# ---------------------------------------------------------------------------------- losses
def _logits():
    return bl.Tensor(np.random.default_rng(0).standard_normal((8, 3)), requires_grad=True)


def test_cross_entropy_of_softmax_outputs_is_refused_not_a_softmax_applied_twice():
    z = _logits()
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match=r"^cross_entropy: the logits of shape \(8, 3\) are the "
                       r"output of softmax.*before the softmax"):  # fmt: skip
        bl.cross_entropy(bl.softmax(z), y)
    bl.cross_entropy(bl.log_softmax(z), y)  # log_softmax is unchanged by log_softmax: allowed
    with bl.no_grad():  # no graph, nothing to see, as for any array of numbers
        bl.cross_entropy(bl.softmax(z), y)


def test_bce_with_logits_of_sigmoid_outputs_is_refused():
    z = bl.Tensor(np.linspace(-2, 2, 6), requires_grad=True)
    y = np.array([0.0, 0, 1, 0, 1, 1])
    with pytest.raises(ValueError, match=r"^binary_cross_entropy_with_logits: the logits of "
                       r"shape \(6,\) are the output of sigmoid"):  # fmt: skip
        bl.binary_cross_entropy_with_logits(z.sigmoid(), y)
    bl.binary_cross_entropy(z.sigmoid(), y)  # the probabilities go to this one


@pytest.mark.parametrize(
    ("labels", "hint"),
    [
        (bl.Tensor([0, 1, 2, 0, 1, 2, 0, 1]), r"not bl\.Tensor\(y\)"),  # Tensor() made them floats
        (np.array([0.0, 1, 2, 0, 1, 2, 0, 1]), r"pass labels\.astype\(int\)"),
        (np.array([0, 1, 1, 0, 1, 1, 0, 1]) == 1, r"True/False labels: pass labels\.astype"),
        (np.eye(3, dtype=int)[[0, 1, 2, 0, 1, 2, 0, 1]], r"one-hot rows\? pass labels\.argmax"),
    ],
    ids=["tensor", "whole-floats", "booleans", "int-one-hot"],
)
def test_cross_entropy_labels_of_the_wrong_kind_get_the_fix_in_the_message(labels, hint):
    with pytest.raises(ValueError, match=r"^cross_entropy: .*" + hint):
        bl.cross_entropy(_logits(), labels)


@pytest.mark.parametrize("shape", [(8,), (8, 1)])
def test_cross_entropy_on_one_score_per_example_points_at_two_outputs_or_the_binary_loss(shape):
    z = bl.Tensor(np.zeros(shape), requires_grad=True)
    y = np.array([0, 1, 1, 0, 1, 1, 0, 1])
    with pytest.raises(ValueError, match=r"one score per example\?.*binary_cross_entropy_with"):
        bl.cross_entropy(z, y)


# ------------------------------------------------------------------------------- optimizers
@pytest.mark.parametrize("make", [bl.optim.SGD, bl.optim.Adam])
def test_an_optimizer_given_the_model_or_the_uncalled_method_says_call_parameters(make):
    class Net(nn.Module):  # not a Sequential, which list() would walk into
        def __init__(self):
            self.layer = nn.Linear(2, 2, rng=0)

        def forward(self, x):
            return self.layer(x)

    model = Net()
    for wrong, what in [
        (model, r"the model itself \(a Net\)"),
        (model.parameters, "parameters without calling it"),
    ]:
        with pytest.raises(
            TypeError, match=rf"^{make.__name__}: got {what}.*model\.parameters\(\)"
        ):
            make(wrong, lr=0.1)


@pytest.mark.parametrize(
    ("make", "kwargs", "error", "message"),
    [
        (
            bl.optim.SGD,
            {"lr": "0.1"},
            TypeError,
            r"^SGD: learning rate must be a number, got '0\.1'",
        ),
        (bl.optim.SGD, {"lr": None}, TypeError, r"^SGD: learning rate must be a number, got None"),
        (
            bl.optim.SGD,
            {"lr": 0.1, "weight_decay": -1e-4},
            ValueError,
            r"weight_decay must be >= 0",
        ),
        (bl.optim.Adam, {"betas": 0.9}, TypeError, r"^Adam: betas must be a pair"),
        (bl.optim.Adam, {"eps": -1e-8}, ValueError, r"^Adam: eps must be >= 0"),
        (bl.optim.Adam, {"lr": float("nan")}, ValueError, r"^Adam: learning rate must be >= 0"),
    ],
    ids=["lr-str", "lr-none", "negative-decay", "one-beta", "negative-eps", "nan-lr"],
)
def test_optimizer_settings_that_are_not_usable_numbers_are_named(make, kwargs, error, message):
    with pytest.raises(error, match=message):
        make(nn.Linear(2, 2, rng=0).parameters(), **kwargs)


def test_a_schedule_that_drives_the_learning_rate_below_zero_is_stopped_not_climbing():
    layer = nn.Linear(2, 2, rng=0)
    opt = bl.optim.SGD(layer.parameters(), lr=0.1)
    opt.lr *= 0.5  # a schedule changing opt.lr between steps works
    assert opt.lr == 0.05
    with pytest.raises(ValueError, match=r"^SGD: learning rate must be >= 0, got -0\.05"):
        opt.lr = 0.1 - 0.05 * 3  # lr0 - k * epoch, gone past zero: gradient ascent


# --------------------------------------------------------------------------- fit and friends
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"batch_size": 32.0}, TypeError, r"^fit: batch_size must be a whole number, got 32\.0"),
        ({"batch_size": None}, TypeError, r"^fit: batch_size must be a whole number, got None"),
        ({"epochs": 2.5}, TypeError, r"^fit: epochs must be a whole number, got 2\.5"),
        ({"diagnostics": 0.5}, TypeError, r"^fit: diagnostics .* must be a whole number"),
        ({"diagnostics": -1}, ValueError, r"^fit: diagnostics .* must be >= 0, got -1"),
    ],
    ids=["float-batch", "none-batch", "float-epochs", "fraction-diagnostics", "negative-diag"],
)
def test_fit_arguments_of_the_wrong_kind_are_named(kwargs, error, message):
    model = nn.MLP([2, 4, 2], rng=0)  # diagnostics=0.5 used to record nothing, without a word
    with pytest.raises(error, match=message):
        bl.train.fit(model, X, Y, optimizer=bl.optim.SGD(model.parameters(), lr=0.1), **kwargs)


def test_fit_with_whole_number_arguments_of_numpy_types_still_runs():
    model = nn.MLP([2, 4, 2], rng=0)
    opt = bl.optim.SGD(model.parameters(), lr=0.1)
    history = bl.train.fit(model, X, Y, optimizer=opt, epochs=np.int64(2), batch_size=np.int64(8),
                           diagnostics=True)  # fmt: skip
    assert len(history.train_loss) == 2 and len(history.diagnostics.step) == 2 * 4


def test_minibatches_with_a_float_batch_size_is_named():
    with pytest.raises(
        TypeError, match=r"^minibatches: batch_size must be a whole number, got 4\.0"
    ):
        next(bl.datasets.minibatches(X, Y, 4.0))


def test_evaluate_with_one_hot_labels_gives_the_accuracy_not_nan():
    model = nn.MLP([2, 4, 2], rng=0)
    one_hot = np.eye(2)[Y]
    loss, acc = bl.train.evaluate(model, X, one_hot)
    want = float(np.mean(bl.train.predict(model, X).argmax(axis=1) == Y))  # counted here
    assert acc == want and loss == pytest.approx(bl.train.evaluate(model, X, Y)[0])
    model_mse = nn.MLP([2, 4, 2], rng=0)  # regression targets shaped like the outputs: still NaN
    targets = np.random.default_rng(0).standard_normal((len(X), 2))
    assert np.isnan(bl.train.evaluate(model_mse, X, targets, loss_fn=bl.mse_loss)[1])


# ---------------------------------------------------------------------------------- gradcheck
def _x():
    return bl.Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)


@pytest.mark.parametrize(
    "fn",
    [lambda t: np.sum(t.data**2), lambda t: float((t**2).sum().item()), lambda t: ((t**2).sum(),)],
    ids=["numpy", "float", "tuple"],
)
def test_gradcheck_of_a_function_that_does_not_return_a_tensor_says_so(fn):
    with pytest.raises(TypeError, match=r"^gradcheck: fn returned a \w+, not a Tensor"):
        bl.gradcheck(fn, _x())


def test_gradcheck_of_a_function_that_cut_its_graph_says_so_and_keeps_the_gradient():
    x = _x()
    x.grad = np.ones(x.shape)  # the learner's own gradient from before: given back afterwards
    with pytest.raises(ValueError, match=r"^check_direction: fn's output has no graph back"):
        bl.check_direction(lambda t: bl.Tensor((t.data**2).sum()), x)
    np.testing.assert_array_equal(x.grad, np.ones(x.shape))


def test_gradcheck_with_the_inputs_in_a_list_says_pass_them_separately():
    with pytest.raises(TypeError, match=r"^gradcheck: input 0 is a list; pass the tensors as "):
        bl.gradcheck(lambda a, b: (a * b).sum(), [_x(), _x()])
    assert bl.gradcheck(lambda a, b: (a * b).sum(), *[_x(), _x()]).passed


# ------------------------------------------------------------------------------ building layers
def test_a_layer_width_computed_with_a_true_division_is_named():
    with pytest.raises(TypeError, match=r"^Linear: n_in and n_out must be whole numbers, got 2 and "
                       r"32\.0 \(use // to divide widths\)"):  # fmt: skip
        nn.Linear(2, 64 / 2)
    assert nn.Linear(np.int64(2), 64 // 2)(X).shape == (len(X), 32)  # numpy integers are fine


def test_layer_norm_over_a_width_taken_from_an_array_shape():
    width = np.prod(X.shape[1:])  # a numpy integer, not a Python int
    assert nn.LayerNorm(width)(X).shape == X.shape


def test_an_activation_given_as_the_function_bl_relu_says_pass_a_name_or_a_module():
    with pytest.raises(TypeError, match=r"^make_activation: relu is a function of a tensor; pass "
                       r"a name such as 'relu'"):  # fmt: skip
        nn.MLP([2, 4, 2], activation=bl.relu)
    assert isinstance(nn.MLP([2, 4, 2], activation=lambda: nn.LeakyReLU(0.2)).layers[1],
                      nn.LeakyReLU)  # fmt: skip


def test_cross_entropy_refuses_probability_rows_with_a_negative_entry():
    # a target row of (1.2, -0.2) gave a loss that could be negative, without a word
    logits = bl.Tensor([[2.0, 0.0], [0.0, 1.0]], requires_grad=True)
    with pytest.raises(
        ValueError, match=r"^cross_entropy: probability rows must be >= 0, got -0.2$"
    ):
        bl.cross_entropy(logits, np.array([[1.2, -0.2], [0.0, 1.0]]))
    smoothed = np.array([[0.9, 0.1], [0.1, 0.9]])  # label smoothing: still fine
    assert np.isfinite(bl.cross_entropy(logits, smoothed).item())


def test_python_abs_of_a_tensor_is_the_abs_op_with_its_gradient():
    # abs(x) used to fail with "bad operand type for abs(): 'Tensor'"; torch.Tensor supports it.
    # The slope is -1 left of 0, +1 right of it, and 0 at the kink itself (as x.abs() and PyTorch).
    x = bl.Tensor([-2.5, 0.0, 4.0], requires_grad=True)
    out = abs(x)
    assert out.op is bl.ops.abs
    np.testing.assert_array_equal(out.data, [2.5, 0.0, 4.0])
    (out * bl.Tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 3.0])


def test_a_loss_formats_as_its_number_in_an_f_string():
    # print(f"loss {loss:.4f}") got Python's "unsupported format string passed to
    # Tensor.__format__"; PyTorch formats a one-element tensor as its number
    w = bl.Tensor([0.5, -1.25], requires_grad=True)
    loss = (w * w).sum()
    assert f"{loss:.4f}" == "1.8125" and f"{loss:>8.1e}" == " 1.8e+00"
    assert f"{bl.Tensor([2.0], dtype=np.float32):.2f}" == "2.00"  # one element of any shape
    assert f"{loss}" == str(loss) == "Tensor(1.8125, op='sum')"  # no format: the tensor itself
    with pytest.raises(TypeError, match=r"^format: only a one-element tensor formats as a number "
                       r"\(':\.2f'\), not shape \(2,\); format its values \(t\.data\)"):  # fmt: skip
        f"{w:.2f}"


def test_a_graph_tensor_made_a_numpy_array_is_refused_not_dropped_from_the_loss():
    # l0 + np.mean([l1, l2]) added the mean as a constant: l1 and l2 sent no gradient back,
    # without a word (numpy turns each tensor of the list into an array through __array__)
    w = bl.Tensor([1.0, 2.0], requires_grad=True)
    l0, l1, l2 = (w * w).sum(), (w * 3).sum(), w.sum()
    refused = r"^np\.array\(\): this tensor is the output of 'sum' in a graph; .* use t\.data"
    for convert in (lambda: l0 + np.mean([l1, l2]), lambda: np.array(l1), lambda: np.asarray([l2])):
        with pytest.raises(TypeError, match=refused):
            convert()
    with bl.no_grad():  # no graph is being recorded: the values, as before
        assert np.mean([l1, l2]) == 6.0
    assert np.mean([l1.item(), l2.item()]) == 6.0  # what the message says to write
    np.testing.assert_array_equal(np.array(w), [1.0, 2.0])  # a leaf: a snapshot of its values
    assert np.mean([bl.Tensor(1.0), bl.Tensor(3.0)]) == 2.0  # tensors that need no gradient
