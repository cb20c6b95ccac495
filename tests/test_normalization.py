"""batch_norm and layer_norm: forward against numpy written here, the running averages against a
hand computation, and the compact backward against the graph of primitive ops, finite differences
and sympy."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

import backproplab as bl
from backproplab import nn, optim

EPS = 1e-5
# (N, C), (N, C, L), (N, C, H, W); batch 1 (with pixels: 4 values per channel)
SHAPES = [(5, 3), (4, 2, 3), (3, 2, 3, 4), (1, 3, 2, 2), (2, 1, 1, 3)]


def axes_of(shape):
    return (0, *range(2, len(shape)))


def line_up(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def composite_batch_norm(x, w, b, eps=EPS):
    """Batch norm in training mode built node by node from primitive rows (no fused row)."""
    axes = axes_of(x.shape)
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    x_hat = (x - mu) / bl.sqrt(var + eps)
    return x_hat * w.reshape(line_up(w.data, x.ndim).shape) + b.reshape(
        line_up(b.data, x.ndim).shape
    )


def inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    x = bl.Tensor(rng.standard_normal(shape) * 2 + 1, requires_grad=True, name="x")
    c = shape[1]
    w = bl.Tensor(rng.uniform(0.5, 2.0, c), requires_grad=True, name="weight")
    b = bl.Tensor(rng.standard_normal(c), requires_grad=True, name="bias")
    return x, w, b


# ------------------------------------------------------------------------------ forward
@pytest.mark.parametrize("shape", SHAPES)
def test_training_forward_normalizes_each_channel_with_the_batch_statistics(shape):
    x, w, b = inputs(shape)
    out = bl.batch_norm(x, None, None, w, b, training=True)
    a = x.data
    axes = axes_of(shape)
    mean, var = a.mean(axis=axes), a.var(axis=axes)  # numpy's var is the biased one (ddof=0)
    want = (a - line_up(mean, a.ndim)) / np.sqrt(line_up(var, a.ndim) + EPS)
    np.testing.assert_allclose(out.data, want * line_up(w.data, a.ndim) + line_up(b.data, a.ndim),
                               rtol=1e-12, atol=1e-12)  # fmt: skip
    plain = bl.batch_norm(x, None, None, training=True)  # no weight, no bias: x_hat itself
    np.testing.assert_allclose(plain.data.mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(plain.data.var(axis=axes), var / (var + EPS), rtol=1e-12)


def test_running_averages_update_in_place_with_the_unbiased_variance():
    x = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [6.0, 10.0]])  # feature 1 is constant
    running_mean, running_var = np.zeros(2), np.ones(2)
    keep = running_mean, running_var
    bl.batch_norm(x, running_mean, running_var, training=True, momentum=0.1)
    assert keep[0] is running_mean and keep[1] is running_var  # the same arrays, updated
    # feature 0: mean 3, squared deviations 4 + 1 + 0 + 9 = 14, unbiased variance 14 / 3
    # running = 0.9 * running + 0.1 * statistic
    np.testing.assert_allclose(running_mean, [0.3, 1.0], rtol=1e-14)
    np.testing.assert_allclose(running_var, [0.9 + 0.1 * 14 / 3, 0.9], rtol=1e-14)
    bl.batch_norm(x, running_mean, running_var, training=True, momentum=0.5)
    np.testing.assert_allclose(running_mean, [0.5 * 0.3 + 0.5 * 3, 0.5 + 5.0], rtol=1e-14)
    # pixels count as values of their channel: (N, C, H, W) -> N * H * W values per channel
    img = np.arange(16.0).reshape(2, 2, 2, 2)  # channel 0: 0-3 and 8-11
    rm, rv = np.zeros(2), np.zeros(2)
    bl.batch_norm(img, rm, rv, training=True, momentum=1.0)
    c0 = np.array([0, 1, 2, 3, 8, 9, 10, 11.0])
    np.testing.assert_allclose(rm[0], 5.5)
    np.testing.assert_allclose(rv[0], np.sum((c0 - 5.5) ** 2) / 7)  # divides by m - 1 = 7


def test_evaluation_uses_the_running_averages_and_changes_nothing():
    x, w, b = inputs((4, 3, 2, 2), seed=1)
    running_mean, running_var = np.array([0.5, -1.0, 2.0]), np.array([4.0, 0.25, 1.0])
    out = bl.batch_norm(x, running_mean, running_var, w, b, training=False)
    want = (x.data - line_up(running_mean, 4)) / np.sqrt(line_up(running_var, 4) + EPS)
    np.testing.assert_allclose(out.data, want * line_up(w.data, 4) + line_up(b.data, 4),
                               rtol=1e-12)  # fmt: skip
    assert running_mean.tolist() == [0.5, -1.0, 2.0] and running_var.tolist() == [4.0, 0.25, 1.0]
    # in evaluation each example is normalized on its own: one example gives the same result
    one = bl.batch_norm(x[1:2], running_mean, running_var, w, b, training=False)
    np.testing.assert_allclose(one.data, out.data[1:2], rtol=1e-14)


# ------------------------------------------------------------------------------ backward
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients_match_finite_differences(shape, training):
    x, w, b = inputs(shape, seed=2)
    c = shape[1]
    rm, rv = np.linspace(-1, 1, c), np.linspace(0.5, 2, c)
    bl.gradcheck(lambda x, w, b: bl.batch_norm(x, rm.copy(), rv.copy(), w, b, training), x, w, b)


@pytest.mark.parametrize("shape", SHAPES)
def test_compact_backward_matches_the_graph_of_primitive_ops(shape):
    x, w, b = inputs(shape, seed=3)
    g = np.random.default_rng(4).standard_normal(shape)
    fused = bl.batch_norm(x, None, None, w, b, training=True)
    fused.backward(g)
    grads = [t.grad for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    composite = composite_batch_norm(x, w, b)
    assert fused.op.name == "batch_norm" and composite.op.name == "add"
    np.testing.assert_allclose(fused.data, composite.data, rtol=1e-12, atol=1e-12)
    composite.backward(g)
    for t, fused_grad in zip((x, w, b), grads):
        np.testing.assert_allclose(fused_grad, t.grad, rtol=1e-9, atol=1e-12, err_msg=t.name)


def test_compact_formula_equals_sympy_diff_of_the_node_by_node_expression():
    m = 3  # one channel, a batch of three
    xs = sp.symbols("x0:3", real=True)
    gs = sp.symbols("g0:3", real=True)
    gamma, beta, eps = sp.symbols("gamma beta epsilon", positive=True)
    mu = sum(xs) / m
    var = sum((xi - mu) ** 2 for xi in xs) / m
    sigma = sp.sqrt(var + eps)
    x_hat = [(xi - mu) / sigma for xi in xs]
    y = [gamma * xh + beta for xh in x_hat]
    L = sum(gi * yi for gi, yi in zip(gs, y))  # dL/dy = g
    sum_g, sum_gx = sum(gs), sum(gi * xh for gi, xh in zip(gs, x_hat))
    compact = [gamma / sigma / m * (m * gi - sum_g - xh * sum_gx) for gi, xh in zip(gs, x_hat)]
    for i in range(m):
        assert sp.simplify(sp.diff(L, xs[i]) - compact[i]) == 0
    # and the package's row gives the same numbers as sympy.diff at a point
    point = {xs[0]: 0.3, xs[1]: -1.2, xs[2]: 2.0, gs[0]: 0.5, gs[1]: -2.0, gs[2]: 1.5,
             gamma: 1.7, beta: -0.4, eps: EPS}  # fmt: skip
    x = bl.Tensor([[point[s]] for s in xs], requires_grad=True)
    w, b = bl.Tensor([1.7], requires_grad=True), bl.Tensor([-0.4], requires_grad=True)
    bl.batch_norm(x, None, None, w, b, training=True).backward(np.array([[0.5], [-2.0], [1.5]]))
    want = [float(sp.diff(L, xs[i]).subs(point)) for i in range(m)]
    np.testing.assert_allclose(x.grad[:, 0], want, rtol=1e-10)
    np.testing.assert_allclose(w.grad[0], float(sp.diff(L, gamma).subs(point)), rtol=1e-10)
    np.testing.assert_allclose(b.grad[0], float(sp.diff(L, beta).subs(point)), rtol=1e-10)


def test_the_input_gradient_sums_to_zero_per_channel_in_training():
    """The centring term: moving every value of a channel by the same amount changes nothing
    after the mean is taken out, so dL/dx has no component along that direction."""
    x, w, b = inputs((6, 3, 2, 2), seed=5)
    bl.batch_norm(x, None, None, w, b, training=True).backward(
        np.random.default_rng(6).standard_normal((6, 3, 2, 2))
    )
    np.testing.assert_allclose(x.grad.sum(axis=(0, 2, 3)), 0, atol=1e-12)


def test_batch_norm_keeps_float32():
    layer = nn.BatchNorm2d(3, dtype=np.float32)
    x = bl.Tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)).astype(np.float32),
                  requires_grad=True)  # fmt: skip
    out = layer(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == layer.weight.grad.dtype == np.float32
    assert layer.running_mean.dtype == np.float32
    assert layer.eval()(x).dtype == np.float32


# ------------------------------------------------------------------------------ modules
def test_batch_norm_layers_keep_running_averages_as_buffers_not_parameters():
    layer = nn.BatchNorm2d(4)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.data.tolist() == [1.0] * 4 and layer.bias.data.tolist() == [0.0] * 4
    assert layer.running_mean.tolist() == [0.0] * 4 and layer.running_var.tolist() == [1.0] * 4
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4), nn.ReLU())
    assert [n for n, _ in model.named_buffers()] == ["1.running_mean", "1.running_var"]
    assert sorted(model.state_dict()) == [
        "0.bias", "0.weight", "1.bias", "1.running_mean", "1.running_var", "1.weight",
    ]  # fmt: skip
    x = np.random.default_rng(1).standard_normal((8, 3))
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = (model(x) ** 2).mean()
    before = model[1].running_mean.copy()
    assert not np.array_equal(before, np.zeros(4))  # the forward pass moved them
    loss.backward()
    opt.step()
    np.testing.assert_array_equal(model[1].running_mean, before)  # the optimizer did not
    # a state_dict round trip restores the running averages, into the layer's own arrays
    state = model.state_dict()
    fresh = nn.Sequential(nn.Linear(3, 4, rng=5), nn.BatchNorm1d(4), nn.ReLU())
    own = fresh[1].running_var
    fresh.load_state_dict(state)
    assert fresh[1].running_var is own
    np.testing.assert_array_equal(own, model[1].running_var)
    fresh.eval(), model.eval()
    np.testing.assert_array_equal(fresh(x).data, model(x).data)
    del state["1.running_var"]
    with pytest.raises(KeyError, match=r"missing \['1.running_var'\], unexpected \[\]"):
        fresh.load_state_dict(state)


def test_batch_norm_layer_switches_between_batch_statistics_and_running_averages():
    layer = nn.BatchNorm2d(2, momentum=0.5)
    x = np.random.default_rng(7).standard_normal((5, 2, 3, 3)) * 3 + 2
    train_out = layer(x).data
    np.testing.assert_allclose(train_out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    stats = layer.running_mean.copy(), layer.running_var.copy()
    layer.eval()
    eval_out = layer(x).data
    np.testing.assert_array_equal(layer.running_mean, stats[0])  # eval changes nothing
    want = (x - line_up(stats[0], 4)) / np.sqrt(line_up(stats[1], 4) + EPS)
    np.testing.assert_allclose(eval_out, want, rtol=1e-12)
    assert not np.allclose(eval_out, train_out)  # half-way running averages: not the batch's
    layer.train()
    layer(x)
    assert not np.array_equal(layer.running_mean, stats[0])


def test_layer_norm_and_module_shapes():
    x = np.random.default_rng(8).standard_normal((2, 3, 4))
    out = nn.LayerNorm(4)(x)
    np.testing.assert_allclose(out.data.mean(axis=-1), 0, atol=1e-12)
    out2 = nn.LayerNorm((3, 4))(x)
    np.testing.assert_allclose(out2.data.mean(axis=(1, 2)), 0, atol=1e-12)
    want = (x - x.mean(axis=(1, 2), keepdims=True)) / np.sqrt(
        x.var(axis=(1, 2), keepdims=True) + EPS
    )
    np.testing.assert_allclose(out2.data, want, rtol=1e-12)
    layer = nn.LayerNorm(4)
    assert layer.weight.shape == layer.bias.shape == (4,)
    assert nn.LayerNorm(4, elementwise_affine=False).parameters() == []


@pytest.mark.parametrize("shape, normalized", [((4, 5), 5), ((2, 3, 4), 4), ((2, 3, 4), (3, 4)),
                                               ((1, 6), (6,))])  # fmt: skip
def test_layer_norm_gradients_match_finite_differences(shape, normalized):
    rng = np.random.default_rng(9)
    norm_shape = (normalized,) if isinstance(normalized, int) else normalized
    x = bl.Tensor(rng.standard_normal(shape), requires_grad=True)
    w = bl.Tensor(rng.uniform(0.5, 2, norm_shape), requires_grad=True)
    b = bl.Tensor(rng.standard_normal(norm_shape), requires_grad=True)
    bl.gradcheck(lambda x, w, b: bl.layer_norm(x, normalized, w, b), x, w, b)
    bl.gradcheck(lambda x: bl.layer_norm(x, normalized), x)


def test_layer_norm_is_batch_norm_over_the_other_axis():
    x = bl.Tensor(np.random.default_rng(10).standard_normal((4, 6)), requires_grad=True)
    g = np.random.default_rng(11).standard_normal((4, 6))
    bl.layer_norm(x, 6).backward(g)
    ln_grad, x.grad = x.grad, None
    # batch norm of x.T normalizes each column of x.T over its 6 rows: each example over its
    # features, which is layer norm of x
    out = bl.batch_norm(x.T, None, None, training=True).T
    np.testing.assert_allclose(out.data, bl.layer_norm(x, 6).data, rtol=1e-12, atol=1e-14)
    out.backward(g)
    np.testing.assert_allclose(x.grad, ln_grad, rtol=1e-10, atol=1e-14)


# ------------------------------------------------------------------------------ errors
def test_batch_norm_errors_name_the_op_and_the_shapes():
    with pytest.raises(bl.ShapeError) as err:
        bl.batch_norm(np.zeros((1, 3)), np.zeros(3), np.ones(3), training=True)
    assert str(err.value) == (
        "batch_norm: expected more than 1 value per channel when training, got input of shape "
        "(1, 3); one example has no spread to normalize by: call model.eval() to use the network "
        "on one example (in fit, choose a batch_size that leaves no last batch of one)"
    )
    with pytest.raises(bl.ShapeError) as err:  # no example at all: not "one example"
        bl.batch_norm(np.zeros((0, 3)), np.zeros(3), np.ones(3), training=True)
    assert str(err.value).endswith("got input of shape (0, 3)")
    with pytest.raises(bl.ShapeError) as err:
        bl.batch_norm(np.zeros((4, 3)), np.zeros(2), np.ones(3), training=True)
    assert str(err.value) == (
        "batch_norm: running_mean of shape (2,) does not fit an input of shape (4, 3): "
        "expected (3,)"
    )
    with pytest.raises(bl.ShapeError) as err:
        bl.batch_norm(np.zeros((4, 3, 2, 2)), None, None, bl.Tensor(np.ones(4)), training=True)
    assert str(err.value) == (
        "batch_norm: weight of shape (4,) does not fit an input of shape (4, 3, 2, 2): "
        "expected (3,)"
    )
    with pytest.raises(bl.ShapeError) as err:
        bl.batch_norm(np.zeros((4, 3)), None, None, training=False)
    assert str(err.value) == (
        "batch_norm: evaluation (training=False) needs running_mean and running_var"
    )
    with pytest.raises(bl.ShapeError) as err:
        bl.batch_norm(np.zeros(4), None, None, training=True)
    assert str(err.value) == (
        "batch_norm: expected an input of shape (N, C, ...), such as (N, C, H, W), got shape (4,)"
    )  # it said "(N, C) or (N, C, H, W)", but (N, C, L) is normalized too
    assert bl.batch_norm(np.ones((4, 3, 5)), None, None, training=True).shape == (4, 3, 5)
    with pytest.raises(bl.ShapeError) as err:
        bl.batch_norm(np.zeros((4, 3)), np.zeros(3, dtype=int), np.ones(3))
    assert str(err.value) == (  # it said "got a array"
        "batch_norm: running_mean must be a float numpy array (updated in place), got an array "
        "of dtype int64"
    )
    with pytest.raises(ValueError) as err:
        nn.BatchNorm2d(3)(np.zeros((4, 3)))
    assert str(err.value) == "BatchNorm2d(3): expected an input of shape (N, C, H, W), got (4, 3)"
    with pytest.raises(ValueError) as err:
        nn.BatchNorm1d(3)(np.zeros((4, 3, 2, 2)))
    assert str(err.value) == (
        "BatchNorm1d(3): expected an input of shape (N, C) or (N, C, L), got (4, 3, 2, 2)"
    )
    with pytest.raises(bl.ShapeError) as err:
        nn.BatchNorm1d(3)(np.zeros((4, 5)))
    assert str(err.value) == (
        "batch_norm: weight of shape (3,) does not fit an input of shape (4, 5): expected (5,)"
    )


def test_layer_norm_errors_name_the_op_and_the_shapes():
    with pytest.raises(bl.ShapeError) as err:
        bl.layer_norm(np.zeros((2, 3, 4)), 5)
    assert str(err.value) == (
        "layer_norm: normalized_shape (5,) does not match the last axes of the input of shape "
        "(2, 3, 4)"
    )
    with pytest.raises(bl.ShapeError) as err:
        bl.layer_norm(np.zeros((2, 3, 4)), 4, bl.Tensor(np.ones(3)))
    assert str(err.value) == "layer_norm: weight of shape (3,) does not fit normalized_shape (4,)"


@given(
    shape=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple),
    training=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_batch_norm_over_shapes_matches_the_composite_graph_and_a_directional_check(
    shape, training, seed
):
    assume(not training or np.prod(shape) // shape[1] > 1)
    x, w, b = inputs(shape, seed)
    c = shape[1]
    rm, rv = np.linspace(-1, 1, c), np.linspace(0.5, 2, c)
    fn = lambda x, w, b: bl.batch_norm(x, rm.copy(), rv.copy(), w, b, training)  # noqa: E731
    assert bl.check_direction(fn, x, w, b, seed=seed).passed
    if training:
        np.testing.assert_allclose(fn(x, w, b).data, composite_batch_norm(x, w, b).data,
                                   rtol=1e-10, atol=1e-12)  # fmt: skip


@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    k=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_layer_norm_over_shapes_passes_a_directional_check(shape, k, seed):
    assume(k <= len(shape) and np.prod(shape[-k:]) > 1)
    rng = np.random.default_rng(seed)
    x = bl.Tensor(rng.standard_normal(shape), requires_grad=True)
    w = bl.Tensor(rng.uniform(0.5, 2, shape[-k:]), requires_grad=True)
    fn = lambda x, w: bl.layer_norm(x, shape[-k:], w, w)  # noqa: E731
    assert bl.check_direction(fn, x, w, seed=seed).passed


def test_layer_norm_names_an_eps_it_cannot_use_and_takes_a_list_weight():
    x = np.random.default_rng(0).standard_normal((4, 3))
    # eps=-10 gave NaN everywhere (sqrt of a negative variance), eps="a" Python's float() error
    for eps in (-10.0, "a", float("nan")):
        with pytest.raises(ValueError, match=r"^layer_norm: eps must be a number >= 0, got "):
            bl.layer_norm(x, 3, eps=eps)
    # a list weight gave "'list' object has no attribute 'shape'"
    out = bl.layer_norm(x, 3, [2.0, 2.0, 2.0], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(out.data, 2 * bl.layer_norm(x, 3).data + 1)
    with pytest.raises(bl.ShapeError, match=r"^layer_norm: weight of shape \(2,\) does not fit"):
        bl.layer_norm(x, 3, [1.0, 1.0])
