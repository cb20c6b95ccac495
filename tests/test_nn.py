"""Tests for backproplab.nn: parameter discovery, Linear's layout and init, MLP, residual blocks."""

import numpy as np
import pytest

import backproplab as bl
from backproplab import nn, optim


def test_parameter_is_a_tensor_that_requires_grad_and_owns_a_copy():
    a = np.array([1.0, 2.0])
    p = nn.Parameter(a)
    assert isinstance(p, bl.Tensor) and p.requires_grad
    p.data += 1  # in-place updates must not reach the caller's array
    assert a.tolist() == [1.0, 2.0]
    assert nn.Parameter([1, 2]).dtype == np.float64
    assert nn.Parameter([1, 2], dtype=np.float32).dtype == np.float32
    frozen = nn.Parameter(a, requires_grad=False)
    frozen.data += 1  # a frozen parameter owns a copy too
    assert a.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="dtype int32 is not a floating-point dtype"):
        nn.Parameter(a, dtype=np.int32)  # it gave float64 without a word, as Tensor.astype did


class Tiny(nn.Module):
    def __init__(self):
        self.scale = nn.Parameter(2.0)
        self.blocks = [nn.Linear(2, 3, rng=0), nn.Linear(3, 1, rng=1)]
        self.pair = (nn.Parameter(np.zeros(2)), nn.Tanh())
        self.not_a_param = bl.Tensor([1.0])  # a constant tensor is not learned
        self.shared = self.blocks[0]  # the same module twice: its parameters are listed once

    def forward(self, x):
        return self.blocks[1](self.blocks[0](x)) * self.scale


def test_named_parameters_walks_attributes_lists_and_tuples_with_dotted_names():
    names = [name for name, _ in Tiny().named_parameters()]
    assert names == [  # the module's own parameters first, then its children's (as PyTorch)
        "scale",
        "pair.0",
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "blocks.1.bias",
    ]
    model = Tiny()
    assert len(model.parameters()) == 6
    assert model.num_parameters() == 1 + (6 + 3) + (3 + 1) + 2


def test_zero_grad_clears_every_parameter():
    model = Tiny()
    model(bl.Tensor(np.ones((4, 2)))).sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p is not model.pair[0])
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_set_the_flag_everywhere():
    model = nn.MLP([2, 3, 1])
    assert model.eval() is model
    assert not any(m.training for _, m in model.named_modules())
    model.train()
    assert all(m.training for _, m in model.named_modules())


@pytest.mark.parametrize("mode", ["eval", "no", 0, None])
def test_train_refuses_a_mode_that_is_not_true_or_false(mode):
    # train("eval") set training = "eval", which Dropout and BatchNorm read as training mode
    model = nn.Sequential(nn.Dropout(0.5))
    with pytest.raises(TypeError, match=r"^Sequential.train: mode must be True or False"):
        model.train(mode)
    assert model.train(np.bool_(False)).layers[0].training is False


def test_linear_layout_matches_W_a_plus_b_row_by_row():
    layer = nn.Linear(3, 2, rng=0)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    layer.bias.data = np.array([0.5, -1.0])
    X = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]])
    out = layer(bl.Tensor(X)).data
    W, b = layer.weight.data, layer.bias.data
    for i in range(2):  # each row is the column-vector formula z = W a + b
        z = [sum(W[j, k] * X[i, k] for k in range(3)) + b[j] for j in range(2)]
        np.testing.assert_allclose(out[i], z)


def test_linear_gradients_are_the_outer_products_of_the_derivations():
    layer = nn.Linear(3, 2, rng=0)
    X = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]])
    G = np.array([[1.0, -2.0], [0.5, 3.0]])
    layer(bl.Tensor(X)).backward(G)
    expected_dW = np.outer(G[0], X[0]) + np.outer(G[1], X[1])  # sum of delta a^T over the batch
    np.testing.assert_allclose(layer.weight.grad, expected_dW)
    np.testing.assert_allclose(layer.bias.grad, G[0] + G[1])


@pytest.mark.parametrize("x_shape", [(5, 3), (3,), (2, 4, 3)])
def test_fused_linear_op_passes_gradcheck(x_shape):
    rng = np.random.default_rng(0)
    x = bl.Tensor(rng.standard_normal(x_shape), requires_grad=True, name="x")
    w = bl.Tensor(rng.standard_normal((2, 3)), requires_grad=True, name="W")
    b = bl.Tensor(rng.standard_normal(2), requires_grad=True, name="b")
    report = bl.gradcheck(bl.ops.linear, x, w, b)
    assert report.passed and len(report.rows) == 3
    np.testing.assert_allclose(bl.apply(bl.ops.linear, x, w, b).data, x.data @ w.data.T + b.data)


def test_linear_accepts_data_and_gives_its_input_a_gradient_when_asked():
    layer = nn.Linear(3, 2, rng=0)
    out = layer(np.ones((4, 3)))  # a numpy array is accepted and needs no gradient
    assert out.op is bl.ops.linear
    out.sum().backward()
    assert layer.weight.grad.shape == (2, 3) and layer.bias.grad.shape == (2,)
    x = bl.Tensor(np.ones((4, 3)), requires_grad=True)
    layer.zero_grad()
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad, np.ones((4, 2)) @ layer.weight.data)


def test_linear_rejects_a_wrong_input_width_naming_both_shapes():
    with pytest.raises(ValueError, match=r"Linear\(3 -> 2\).*\(5, 4\).*\(batch, 3\)"):
        nn.Linear(3, 2)(bl.Tensor(np.ones((5, 4))))


def test_linear_with_a_fitting_input_but_a_broken_weight_gives_the_rows_message():
    layer = nn.Linear(3, 2)
    layer.weight.data = np.ones((2, 5))  # replaced by hand with the wrong shape
    with pytest.raises(
        bl.ShapeError, match=r"^linear: inputs of shape \(4, 3\) do not fit a weight"
    ):
        layer(bl.Tensor(np.ones((4, 3))))


def test_linear_refuses_a_float64_bias_on_a_float32_product_instead_of_rounding_it():
    x, w = bl.Tensor(np.ones((4, 3), np.float32)), bl.Tensor(np.ones((2, 3), np.float32))
    b = bl.Tensor(np.full(2, 0.1), requires_grad=True)  # X @ W.T + b unfused gives float64
    with pytest.raises(bl.ShapeError, match=r"^linear: dtypes float32, float32, float64 do not"):
        bl.apply(bl.ops.linear, x, w, b)  # it gave float32 (0.1 rounded) without a word
    out = bl.apply(bl.ops.linear, bl.Tensor(np.ones((4, 3))), w, b)  # float64 X: nothing lost
    assert out.dtype == np.float64 and out.data[0, 0] == 3.1


@pytest.mark.parametrize(
    "make",
    [lambda: nn.Linear(3, 2, dtype=np.int32), lambda: nn.Conv2d(1, 2, 3, dtype=np.int32),
     lambda: nn.BatchNorm1d(3, dtype=np.int32), lambda: nn.LayerNorm(3, dtype=np.int32),
     lambda: nn.init_weight(3, 2, dtype=np.int64)],
)  # fmt: skip
def test_layers_refuse_an_integer_dtype(make):
    # Linear(3, 2, dtype=np.int32) had all-zero float64 weights (He draws rounded to 0)
    with pytest.raises(TypeError, match="dtype int(32|64) is not a floating-point dtype"):
        make()


@pytest.mark.parametrize(
    "init, std",
    [("he", np.sqrt(2 / 400)), ("kaiming", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / 700)),
     ("glorot", np.sqrt(2 / 700)), (0.05, 0.05)],
)  # fmt: skip
def test_init_standard_deviations(init, std):
    w = nn.Linear(400, 300, init=init, rng=1).weight.data
    assert abs(w.mean()) < 0.05 * std
    assert w.std() == pytest.approx(std, rel=0.02)  # 120,000 draws: 0.4 % standard error


def test_init_zeros_seeding_and_errors():
    assert not nn.Linear(4, 3, init="zeros").weight.data.any()
    a, b, c = nn.Linear(4, 3, rng=7), nn.Linear(4, 3, rng=7), nn.Linear(4, 3, rng=8)
    assert np.array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    with pytest.raises(ValueError, match="unknown init 'lecun'"):
        nn.Linear(4, 3, init="lecun")


@pytest.mark.parametrize("std", [-0.1, float("nan"), float("inf")])
def test_init_refuses_a_std_that_is_not_one(std):
    # -0.1 drew weights of std 0.1 (the sign of a std is lost), NaN drew all-NaN weights
    with pytest.raises(ValueError, match=r"^init_weight: a std must be a finite number >= 0"):
        nn.Linear(4, 3, init=std)
    assert nn.init_weight(4, 3, 0.0).shape == (3, 4)  # 0 is a std (all zeros)


def test_init_takes_a_std_held_in_a_0d_array():
    # notebook 10's check_trainable_init accepts my_std() returning np.array(0.2), and the cell
    # after it, nn.deep_network(init=my_std()), raised "unknown init array(0.2)"
    for std in (np.array(0.2), np.array(0.2, np.float32), np.float32(0.2)):
        assert np.array_equal(
            nn.init_weight(40, 30, std, rng=1), nn.init_weight(40, 30, float(std), rng=1)
        )
    assert nn.deep_network(4, 3, init=np.array(0.2), rng=0) is not None
    with pytest.raises(ValueError, match=r"unknown init array\(\[0.2\]\)"):
        nn.init_weight(4, 3, np.array([0.2]))  # an array of one number is not a number
    with pytest.raises(ValueError, match="unknown init array\\(True\\)"):
        nn.init_weight(4, 3, np.array(True))


def test_init_weight_and_conv2d_name_a_size_of_0():
    # both gave "ZeroDivisionError: float division by zero" from sqrt(2 / n_in)
    with pytest.raises(ValueError, match=r"^init_weight: n_in must be >= 1, got 0$"):
        nn.init_weight(0, 3)
    with pytest.raises(
        ValueError,
        match=r"^Conv2d: kernel_size and stride must be at least 1 .* got kernel_size=0,",
    ):
        nn.Conv2d(1, 2, 0)


@pytest.mark.parametrize(
    "make, caller",
    [(lambda r: nn.Linear(2, 2, rng=r), "Linear"), (lambda r: nn.MLP([2, 2], rng=r), "MLP"),
     (lambda r: nn.Conv2d(1, 1, 2, rng=r), "Conv2d"), (lambda r: nn.Dropout(rng=r), "Dropout"),
     (lambda r: nn.deep_network(1, 2, rng=r), "deep_network")],
)  # fmt: skip
def test_a_bad_rng_is_named_with_the_layer_that_got_it(make, caller):
    with pytest.raises(TypeError, match=rf"^{caller}: rng must be a numpy Generator or a seed"):
        make("abc")


def test_make_activation_names_something_that_is_not_an_activation():
    with pytest.raises(TypeError, match=r"^make_activation: expected a name .* got None$"):
        nn.make_activation(None)  # was "'NoneType' object is not callable"


def test_one_rng_gives_each_layer_of_a_model_different_weights():
    model = nn.MLP([5, 5, 5, 5], rng=0)
    w = [m.weight.data for m in model if isinstance(m, nn.Linear)]
    assert not np.array_equal(w[0], w[1]) and not np.array_equal(w[1], w[2])
    again = nn.MLP([5, 5, 5, 5], rng=0)
    assert all(
        np.array_equal(p.data, q.data) for p, q in zip(model.parameters(), again.parameters())
    )


def test_activations_compute_their_functions():
    x = bl.Tensor([-2.0, 0.5])
    np.testing.assert_allclose(nn.ReLU()(x).data, [0.0, 0.5])
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).data, [-0.2, 0.5])
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp([2.0, -0.5])))
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh([-2.0, 0.5]))
    assert nn.make_activation("tanh").__class__ is nn.Tanh
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.make_activation("swish")


def test_mlp_structure_names_and_repr():
    model = nn.MLP([64, 128, 64, 10], activation="relu", rng=0)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert model.num_parameters() == 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    names = [n for n, _ in model.named_parameters()]
    assert names[:2] == ["0.weight", "0.bias"] and names[-1] == "4.bias"
    text = repr(model)
    assert "(0): Linear(64 -> 128: weight (128, 64), bias (128,))" in text
    assert "(1): ReLU()" in text
    with pytest.raises(ValueError, match="MLP: sizes"):
        nn.MLP([3])


def test_sequential_slices_share_the_layers():
    model = nn.MLP([3, 4, 2], rng=0)
    body = model[:-1]
    assert isinstance(body, nn.Sequential) and len(body) == 2 and body[0] is model[0]
    x = bl.Tensor(np.ones((5, 3)))
    np.testing.assert_allclose(model[-1](body(x)).data, model(x).data)


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="Sequential: item 1 is a ufunc, not a Module"):
        nn.Sequential(nn.ReLU(), np.tanh)


def test_residual_block_adds_its_input():
    block = nn.ResidualBlock(3, activation="relu", rng=0)
    x = np.array([[1.0, -2.0, 0.5]])
    W, b = block.f[0].weight.data, block.f[0].bias.data
    np.testing.assert_allclose(block(bl.Tensor(x)).data, x + np.maximum(x @ W.T + b, 0))


def test_residual_block_gradient_has_the_identity_path():
    # with F's weights at zero and a sigmoid, dF/dx = 0, so dH/dx = I exactly
    block = nn.ResidualBlock(4, activation="sigmoid", init="zeros")
    x = bl.Tensor(np.ones((2, 4)), requires_grad=True)
    block(x).sum().backward()
    np.testing.assert_allclose(x.grad, np.ones((2, 4)))


def test_deep_network_plain_and_residual_have_the_same_parameters():
    plain = nn.deep_network(5, 8, residual=False, activation="tanh", rng=3)
    res = nn.deep_network(5, 8, residual=True, activation="tanh", rng=3)
    assert len(plain) == len(res) == 5 + 3  # input Linear, activation, 5 hidden, output Linear
    assert [p.shape for p in plain.parameters()] == [p.shape for p in res.parameters()]
    assert all(np.array_equal(p.data, q.data) for p, q in zip(plain.parameters(), res.parameters()))
    assert sum(isinstance(m, nn.ResidualBlock) for m in res) == 5
    assert plain(bl.Tensor(np.ones((2, 64)))).shape == (2, 10)


def test_gradcheck_mlp_float64():
    rng = np.random.default_rng(0)
    model = nn.MLP([3, 4, 4, 2], activation="tanh", rng=1)
    x = bl.Tensor(rng.standard_normal((5, 3)))
    labels = np.array([0, 1, 1, 0, 1])
    report = bl.gradcheck(lambda *params: bl.cross_entropy(model(x), labels), *model.parameters())
    assert report.passed and len(report.rows) == 6


def test_gradcheck_residual_block_float64_inputs_and_parameters():
    rng = np.random.default_rng(1)
    block = nn.ResidualBlock(4, activation="sigmoid", init="xavier", rng=2)
    x = bl.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    report = bl.gradcheck(lambda x, *params: (block(x) ** 2).sum(), x, *block.parameters())
    assert report.passed and len(report.rows) == 3


def test_gradcheck_catches_a_broken_layer():
    class Broken(nn.Linear):  # forgets the transpose's effect by using a detached weight
        def forward(self, x):
            return x @ self.weight.detach().T + self.bias

    layer = Broken(2, 2, rng=0)
    x = bl.Tensor(np.ones((3, 2)))
    with pytest.raises(bl.GradcheckError):
        bl.gradcheck(lambda w, b: (layer(x) ** 2).sum(), layer.weight, layer.bias)


def test_float32_model_runs_in_float32_end_to_end():
    model = nn.MLP([4, 8, 3], rng=0, dtype=np.float32)
    x = bl.Tensor(np.ones((2, 4), dtype=np.float32))
    out = model(x)
    assert out.dtype == np.float32
    bl.cross_entropy(out, np.array([0, 2])).backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_state_dict_round_trip_and_mismatch_errors():
    a, b = nn.MLP([3, 4, 2], rng=0), nn.MLP([3, 4, 2], rng=1)
    b.load_state_dict(a.state_dict())
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))
    state = a.state_dict()
    state["0.weight"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match="'0.weight' has shape \\(4, 3\\)"):
        b.load_state_dict(state)
    with pytest.raises(KeyError, match="missing"):
        b.load_state_dict({})


def test_a_saved_state_dict_survives_training_and_brings_the_model_back():
    # the "best model so far" habit: save, train on, restore
    model = nn.MLP([3, 4, 2], rng=0)
    before = [p.data.copy() for p in model.parameters()]
    saved = model.state_dict()
    opt = optim.SGD(model.parameters(), lr=0.5)
    bl.cross_entropy(model(bl.Tensor(np.ones((2, 3)))), np.array([0, 1])).backward()
    opt.step()  # updates the parameters in place
    assert not np.array_equal(model.parameters()[0].data, before[0])
    assert all(np.array_equal(saved[n], b) for (n, _), b in zip(model.named_parameters(), before))
    model.load_state_dict(saved)
    assert all(np.array_equal(p.data, b) for p, b in zip(model.parameters(), before))
    opt.step()  # training on after the restore leaves the saved copy alone too
    assert all(np.array_equal(saved[n], b) for (n, _), b in zip(model.named_parameters(), before))


@pytest.mark.parametrize(
    "depth, width, error, message",
    [(-1, 4, ValueError, "depth must be >= 0, got -1"), (2, 0, ValueError, "width must be >= 1"),
     (2.0, 4, TypeError, "depth must be a whole number, got 2.0"),  # was: 'float' object cannot...
     ("2", 4, TypeError, "depth must be a whole number, got '2'")],  # was: '<' not supported...
)  # fmt: skip
def test_deep_network_names_a_depth_or_width_it_cannot_use(depth, width, error, message):
    with pytest.raises(error, match=f"^deep_network: {message}"):
        nn.deep_network(depth, width)


def test_linear_without_bias():
    layer = nn.Linear(3, 2, bias=False, rng=0)
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data.T)
    assert "no bias" in repr(layer)


class _PReLU(nn.Module):  # an activation with a learned slope
    def __init__(self):
        self.a = nn.Parameter(np.array(0.25))

    def forward(self, x):
        return bl.relu(x) - self.a * bl.relu(-x)


def test_an_activation_instance_with_parameters_is_refused_its_class_gives_one_per_layer():
    # MLP(..., activation=_PReLU()) copied the instance but not its Parameter: both layers
    # trained the same slope, and parameters() listed it once
    with pytest.raises(TypeError, match=r"^_PReLU has parameters, which every layer would share"):
        nn.MLP([2, 3, 3, 1], activation=_PReLU())
    model = nn.MLP([2, 3, 3, 1], activation=_PReLU)
    slopes = [m.a for m in model if isinstance(m, _PReLU)]
    assert len(slopes) == 2 and slopes[0] is not slopes[1]
    leaky = [m for m in nn.MLP([2, 3, 3, 1], activation=nn.LeakyReLU(0.2))]
    assert leaky[1] is not leaky[3] and leaky[1].slope == leaky[3].slope == 0.2


def test_every_test_starts_the_shared_generator_afresh():
    # tests/conftest.py: with the suite on several workers, a layer made without rng would get
    # weights that depend on which tests ran before it in its worker
    first = nn.Linear(3, 2)  # the first draw of a fresh session's generator
    np.testing.assert_array_equal(first.weight.data, nn.init_weight(3, 2, rng=0))


def test_reprs_name_the_settings_of_a_layer():
    # (found by the coverage sweep: these reprs were never printed by a test or a notebook)
    assert repr(nn.Parameter(np.zeros((2, 3)))) == "Parameter(shape=(2, 3), dtype=float64)"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(slope=0.2)"
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05)"


def test_identity_passes_its_input_through_in_an_mlp():
    # MLP(activation="identity") is two affine maps: no test ran Identity.forward
    x = np.random.default_rng(0).standard_normal((5, 2))
    model = nn.MLP([2, 3, 1], activation="identity")
    first, last = model[0], model[2]
    want = (x @ first.weight.data.T + first.bias.data) @ last.weight.data.T + last.bias.data
    np.testing.assert_allclose(model(bl.Tensor(x)).data, want, rtol=1e-12)
    t = bl.Tensor(x)
    assert nn.Identity()(t) is t


def test_make_activation_uses_a_module_as_is_and_refuses_a_factory_of_something_else():
    relu = nn.ReLU()
    assert nn.make_activation(relu) is relu  # (not a copy: MLP(activation=module) shares it)
    with pytest.raises(TypeError, match=r"^make_activation: .* did not build a Module$"):
        nn.make_activation(lambda: 3)
