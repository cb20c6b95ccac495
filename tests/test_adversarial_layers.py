"""Adversarial tests for layers, optimizers and training: each one caught a silent wrong number
(or an unclear error) that the other test files did not. Every expected value is computed here
with plain numpy, never by the code under test."""

import subprocess
import sys

import numpy as np
import pytest

import backproplab as bl
from backproplab import nn, optim, train


# ---------------------------------------------------------------------------------- optimizers
@pytest.mark.parametrize("make", [optim.SGD, optim.Adam])
def test_an_optimizer_given_the_same_parameter_twice_raises_instead_of_updating_it_twice(make):
    p = nn.Parameter(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"item 1 .*same parameter as item 0"):
        make([p, p], lr=0.1)
    layer = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="same parameter"):  # e.g. two parameters() lists joined
        make(layer.parameters() + [layer.weight], lr=0.1)


# --------------------------------------------------------------------------------------- Module
class _Heads(nn.Module):
    """Sub-modules kept in a dict and in a list inside a list."""

    def __init__(self):
        self.heads = {"a": nn.Linear(2, 3, rng=0), "b": nn.Linear(2, 3, rng=1)}
        self.nested = [[nn.Linear(3, 1, rng=2)], nn.Dropout(0.5)]
        self.config = {"width": 3}  # a dict of plain values is not a container of layers

    def forward(self, x):
        return self.nested[0][0](self.heads["a"](x) + self.heads["b"](x))


def test_modules_in_dicts_and_nested_lists_are_found_trained_and_saved():
    model = _Heads()
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "heads.a.weight",
        "heads.a.bias",
        "heads.b.weight",
        "heads.b.bias",
        "nested.0.0.weight",
        "nested.0.0.bias",
    ]
    assert model.num_parameters() == 2 * (6 + 3) + (3 + 1)
    model.eval()
    assert not model.nested[1].training and not model.heads["a"].training
    # every parameter gets a gradient and an optimizer update
    before = [p.data.copy() for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(bl.Tensor(np.ones((4, 2)))).sum().backward()
    opt.step()
    assert all(not np.array_equal(b, p.data) for b, p in zip(before, model.parameters()))
    assert set(model.state_dict()) == set(names)
    assert "(heads.a): Linear" in repr(model) and "(nested.0.0): Linear" in repr(model)


# ----------------------------------------------------------------------------------- accuracy
def test_accuracy_refuses_a_single_logit_column_where_argmax_is_always_0():
    logits = np.array([[2.0], [-1.0], [3.0]])  # one binary logit per row
    with pytest.raises(ValueError, match=r"accuracy: .*\(3, 1\).*one column"):
        train.accuracy(logits, np.array([1, 0, 1]))


# ------------------------------------------------------------------------- predict / evaluate
def test_predict_and_evaluate_on_no_rows_give_clear_results():
    model = nn.MLP([2, 3, 4], rng=0)
    assert train.predict(model, np.zeros((0, 2))).shape == (0, 4)
    with pytest.raises(ValueError, match=r"evaluate: X has no rows \(shape \(0, 2\)\)"):
        train.evaluate(model, np.zeros((0, 2)), np.zeros(0, dtype=int))


def test_predict_and_evaluate_run_in_evaluation_mode_and_restore_the_modes():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 2)), rng.integers(0, 2, 40)
    model = nn.Sequential(
        nn.Linear(2, 8, rng=0),
        nn.BatchNorm1d(8),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(8, 2, rng=1),
    )
    model[1].running_mean[:] = rng.standard_normal(8)  # some running averages, as after training
    model[1].running_var[:] = rng.random(8) + 0.5
    model[3].training = False  # a mixed state that must come back unchanged
    running = model[1].running_mean.copy(), model[1].running_var.copy()
    # by hand: Linear, BatchNorm with the running averages, ReLU, Dropout as identity, Linear
    W1, b1 = model[0].weight.data, model[0].bias.data
    W2, b2 = model[4].weight.data, model[4].bias.data
    h = (X @ W1.T + b1 - running[0]) / np.sqrt(running[1] + 1e-5)
    expected = np.maximum(h, 0) @ W2.T + b2
    np.testing.assert_allclose(train.predict(model, X), expected, rtol=1e-12, atol=1e-12)
    loss, acc = train.evaluate(model, X, y)
    assert acc == np.mean(expected.argmax(axis=1) == y)
    shifted = expected - expected.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-np.mean(log_p[np.arange(40), y]), rel=1e-12)
    # nothing moved: not the running averages, not the modes
    assert np.array_equal(model[1].running_mean, running[0])
    assert np.array_equal(model[1].running_var, running[1])
    assert [m.training for m in model] == [True, True, True, False, True]


# --------------------------------------------------------------------------------- diagnostics
def test_dead_fraction_of_a_convolution_counts_every_channel_and_pixel_as_a_unit():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 1, 6, 6)), rng.integers(0, 3, 16)
    conv = nn.Conv2d(1, 2, 3, rng=0)
    conv.bias.data[0] = -100.0  # channel 0 is dead: ReLU gives 0 for every image and pixel
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3, rng=1))
    history = train.fit(
        model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.0), epochs=1, batch_size=16,
        diagnostics=True,
    )  # fmt: skip
    out = np.maximum(bl.conv2d(X, conv.weight, conv.bias).data, 0)  # (16, 2, 4, 4)
    dead = np.mean(np.all(out == 0, axis=0))  # units are (channel, row, column)
    assert dead >= 0.5
    assert history.diagnostics.dead_fraction[0, 0] == dead


# -------------------------------------------------------------------------------- conv init
def test_conv2d_xavier_init_uses_the_fan_out_of_a_convolution():
    # Glorot & Bengio's fan-out of a convolution counts every output a pixel reaches:
    # out_channels * kh * kw (as torch.nn.init.xavier_normal_ on a conv weight)
    conv = nn.Conv2d(16, 32, 3, init="xavier", rng=0)
    fan_in, fan_out = 16 * 9, 32 * 9
    assert conv.weight.data.std() == pytest.approx(np.sqrt(2 / (fan_in + fan_out)), rel=0.03)
    he = nn.Conv2d(16, 32, 3, rng=0)  # He: fan-in only, unchanged
    assert he.weight.data.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.03)


# ------------------------------------------------------------------------------ normalization
def test_layer_norm_layer_computes_data_in_its_parameters_dtype():
    layer = nn.LayerNorm(3, dtype=np.float32)
    out = layer(np.array([[1.0, 2.0, 4.0]]))  # float64 data, as the other layers accept
    assert out.dtype == np.float32


@pytest.mark.parametrize("momentum", [None, -0.1, 1.5])
def test_batch_norm_rejects_a_momentum_that_is_not_a_fraction(momentum):
    with pytest.raises(ValueError, match=r"BatchNorm1d: momentum must be a number in \[0, 1\]"):
        nn.BatchNorm1d(3, momentum=momentum)


def test_flatten_keeps_an_empty_batch():
    assert nn.Flatten()(bl.Tensor(np.zeros((0, 2, 3, 3)))).shape == (0, 18)


# ------------------------------------------------------------------------------------ datasets
@pytest.mark.parametrize("classes", [0, -1])
def test_spirals_without_classes_say_so(classes):
    with pytest.raises(ValueError, match=rf"spirals: need at least 1 class, got classes={classes}"):
        bl.datasets.spirals(classes=classes)


class _Block(nn.Module):
    def __init__(self, owner=None):
        self.linear = nn.Linear(2, 2, rng=0)
        self.owner = [owner] if owner is not None else []  # a reference back to the model


class _Model(nn.Module):
    def __init__(self):
        self.block = _Block(owner=self)


def test_a_module_that_contains_itself_gets_a_clear_error_not_a_recursion_error():
    with pytest.raises(ValueError, match=r"_Model: attribute 'block.owner.0' holds a module"):
        _Model().parameters()
    shared = nn.Linear(2, 2, rng=0)  # the same layer twice is not a cycle
    assert len(nn.Sequential(shared, nn.Tanh(), shared).parameters()) == 2


def test_batch_norm_with_one_running_average_missing_raises_instead_of_skipping_the_other():
    x = np.random.default_rng(0).standard_normal((4, 3))
    running_var = np.ones(3)
    with pytest.raises(bl.ShapeError, match="batch_norm: running_mean and running_var must both"):
        bl.batch_norm(x, None, running_var, training=True)  # running_var was silently kept
    assert np.array_equal(running_var, np.ones(3))
    with pytest.raises(bl.ShapeError, match="batch_norm: running_mean and running_var must both"):
        bl.batch_norm(x, np.zeros(3), None, training=True)


@pytest.mark.parametrize(
    "running", [[0.0, 0.0, 0.0], np.zeros(3, dtype=int)], ids=["list", "int array"]
)
def test_batch_norm_running_averages_must_be_float_arrays_it_can_update(running):
    x = np.random.default_rng(0).standard_normal((4, 3))
    with pytest.raises(bl.ShapeError, match="batch_norm: running_mean must be a float numpy array"):
        bl.batch_norm(x, running, np.ones(3), training=True)


# ------------------------------------------------------------------------------------- Dropout
@pytest.mark.parametrize("dtype", [np.int64, np.uint8])
def test_dropout_scales_integer_data_exactly(dtype):
    p = 0.3
    out = nn.Dropout(p, rng=0)(np.full(1000, 200, dtype=dtype))  # e.g. raw pixel values
    kept = out.data[out.data != 0]
    assert 0 < len(kept) < 1000
    np.testing.assert_allclose(kept, 200 / (1 - p), rtol=1e-12)  # not 200 (scale cast to 1)


# ------------------------------------------------------------------------------------ training
def test_training_with_an_optimizer_made_for_another_model_raises():
    X, y = bl.datasets.moons(40, rng=0)
    old = nn.MLP([2, 8, 2], rng=0)
    opt = optim.SGD(old.parameters(), lr=0.5)
    model = nn.MLP([2, 8, 2], rng=1)  # e.g. the model's cell was run again, the optimizer's not
    with pytest.raises(ValueError, match="fit: none of the optimizer's parameters belongs"):
        train.fit(model, X, y, optimizer=opt, epochs=1)
    assert all(p.grad is None for p in model.parameters())  # refused before any step
    part = optim.SGD(model.parameters()[:2], lr=0.5)  # training part of a model is fine
    train.fit(model, X, y, optimizer=part, epochs=1)


# ------------------------------------------------------------------- layers built without rng
def test_two_layers_built_without_rng_start_from_different_weights():
    # both started from seed 0: two same-shaped layers side by side got the same gradients and
    # stayed identical for ever (half the model, silently)
    a, b = nn.Linear(2, 4), nn.Linear(2, 4)
    assert not np.array_equal(a.weight.data, b.weight.data)
    one, two = nn.MLP([2, 3, 2]), nn.MLP([2, 3, 2])
    assert not np.array_equal(one.layers[0].weight.data, two.layers[0].weight.data)
    x = bl.Tensor(np.ones((1000, 1)))
    masks = [nn.Dropout(0.5)(x).data != 0 for _ in range(2)]  # two Dropout layers, fresh
    assert not np.array_equal(*masks)


def test_a_seed_still_repeats_the_same_weights_and_masks():
    np.testing.assert_array_equal(
        nn.Linear(2, 4, rng=3).weight.data, nn.Linear(2, 4, rng=3).weight.data
    )
    np.testing.assert_array_equal(
        nn.MLP([2, 3, 2], rng=3).layers[2].weight.data,
        nn.MLP([2, 3, 2], rng=3).layers[2].weight.data,
    )
    x = bl.Tensor(np.ones((1000, 1)))
    np.testing.assert_array_equal(nn.Dropout(0.5, rng=3)(x).data, nn.Dropout(0.5, rng=3)(x).data)


def test_a_fresh_python_session_builds_the_same_layers_without_rng():
    code = (
        "import numpy as np, backproplab as bl\n"
        "a, b = bl.nn.Linear(3, 2), bl.nn.Linear(3, 2)\n"
        "print(np.array2string(np.concatenate([a.weight.data, b.weight.data]).ravel(), "
        "precision=17))\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.strip()
    first = np.random.default_rng(0).standard_normal((2, 3)) * np.sqrt(2.0 / 3)  # He, seed 0
    np.testing.assert_allclose(
        np.array(runs[0].stdout.strip()[1:-1].split(), float)[:6], first.ravel()
    )


def test_functional_batch_norm_rejects_a_momentum_above_1_as_the_layer_does():
    x = bl.Tensor(np.arange(6.0).reshape(3, 2))
    mean, var = np.zeros(2), np.ones(2)
    with pytest.raises(
        ValueError, match=r"^batch_norm: momentum must be a number in \[0, 1\], got 1.5$"
    ):
        bl.batch_norm(x, mean, var, training=True, momentum=1.5)
    assert np.array_equal(mean, np.zeros(2)) and np.array_equal(var, np.ones(2))  # untouched


@pytest.mark.parametrize("setting", [{"stride": 0}, {"stride": (1, 0)}, {"padding": -1}])
def test_conv2d_layer_refuses_a_stride_below_1_or_a_negative_padding_when_made(setting):
    with pytest.raises(ValueError, match=r"^Conv2d: kernel_size and stride must be at least 1"):
        nn.Conv2d(1, 2, 3, **setting)


def test_load_state_dict_loads_nothing_when_one_shape_does_not_fit():
    model = nn.MLP([3, 4, 2], rng=0)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    state = {k: v + 1.0 for k, v in model.state_dict().items()}
    last = list(state)[-1]
    state[last] = np.zeros(state[last].shape + (1,))  # the last entry does not fit
    with pytest.raises(ValueError, match="nothing was loaded"):
        model.load_state_dict(state)
    for k, v in model.state_dict().items():
        assert np.array_equal(v, before[k]), k  # the entries before it were not loaded either
