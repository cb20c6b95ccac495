"""What a learner who knows a little PyTorch does with the layers beyond the MLP: Conv2d, the
pooling layers, BatchNorm1d/2d, LayerNorm, Dropout, Flatten, ResidualBlock.

Each fix is a test that failed before it (a residual branch of width 1 was broadcast across x
without a word, images in channels-last order got no hint, a pooling kernel of 0 was blamed on
the stride, ...); the guards after them pin down what was already right and agrees with PyTorch
(running averages that move in no_grad, float32 kept end to end). Expected numbers are worked
out with numpy, never by the code tested.
"""

import numpy as np
import pytest

import backproplab as bl
from backproplab import nn

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------------------------- fixes
def test_a_residual_branch_that_changes_the_width_is_refused_not_broadcast():
    # F(x) of width 1 was added to every column of x: a (3, 4) output, wrong, without a word
    x = RNG.standard_normal((3, 4))
    block = nn.ResidualBlock(4, rng=0)
    block.f = nn.Sequential(nn.Linear(4, 1, rng=0), nn.ReLU())
    with pytest.raises(ValueError, match=r"^ResidualBlock: F\(x\) has shape \(3, 1\) but x has "
                                         r"shape \(3, 4\); x \+ F\(x\) needs F to keep the shape$"):  # fmt: skip
        block(x)
    block.f = nn.Sequential(nn.Linear(4, 2, rng=0), nn.ReLU())  # was numpy's broadcast error
    with pytest.raises(ValueError, match=r"^ResidualBlock: F\(x\) has shape \(3, 2\)"):
        block(bl.Tensor(x))


def test_a_residual_block_still_adds_its_branch_to_x():
    x = RNG.standard_normal((3, 4))
    block = nn.ResidualBlock(4, rng=0)
    w, b = block.f[0].weight.data, block.f[0].bias.data
    assert np.allclose(block(x).data, x + np.maximum(x @ w.T + b, 0), rtol=1e-12, atol=1e-12)
    assert block(x[0]).shape == (4,)  # one example, as before


def test_images_in_channels_last_order_get_a_hint_from_conv2d():
    nhwc = np.zeros((2, 8, 8, 3))  # a Keras/PIL habit: (N, H, W, C)
    with pytest.raises(bl.ShapeError) as err:
        nn.Conv2d(3, 4, 3, rng=0)(nhwc)
    assert str(err.value) == (
        "conv2d: input of shape (2, 8, 8, 3) has 8 channels but the weight (4, 3, 3, 3) expects "
        "3; images in (N, H, W, C) order? put the channels first: x.transpose(0, 3, 1, 2)"
    )
    with pytest.raises(bl.ShapeError) as err:  # no hint where the last axis is not C either
        nn.Conv2d(3, 4, 3, rng=0)(np.zeros((2, 8, 8, 5)))
    assert "transpose" not in str(err.value)


@pytest.mark.parametrize(
    "layer, shape, transpose",
    [
        (nn.BatchNorm2d(3), (2, 8, 8, 3), "(0, 3, 1, 2)"),
        (nn.BatchNorm1d(3), (4, 5, 3), "(0, 2, 1)"),
    ],
)
def test_channels_on_the_last_axis_get_a_hint_from_batch_norm(layer, shape, transpose):
    with pytest.raises(bl.ShapeError) as err:
        layer(np.zeros(shape))
    assert str(err.value) == (
        f"batch_norm: weight of shape (3,) does not fit an input of shape {shape}: expected "
        f"({shape[1]},); channels on the last axis? put them on axis 1: x.transpose{transpose}"
    )


@pytest.mark.parametrize("pool", [bl.max_pool2d, bl.avg_pool2d])
def test_a_pooling_kernel_of_0_is_named_as_the_kernel_not_the_stride(pool):
    # the stride defaults to the kernel, and the message said "stride (0, 0) must be positive"
    with pytest.raises(bl.ShapeError, match=r"^\w+_pool2d: kernel \(0, 2\) must be at least 1 by"):
        pool(np.zeros((1, 1, 4, 4)), (0, 2))


@pytest.mark.parametrize("layer", [nn.MaxPool2d, nn.AvgPool2d])
@pytest.mark.parametrize("kernel, stride", [(0, None), (2, 0), ((2, -1), None), (2, (1, 0))])
def test_pooling_layers_refuse_a_kernel_or_stride_below_1_when_made(layer, kernel, stride):
    # accepted until the first forward, unlike Conv2d
    with pytest.raises(ValueError, match=rf"^{layer.__name__}: kernel_size and stride must be"):
        layer(kernel, stride)
    with pytest.raises(
        TypeError, match=rf"^{layer.__name__}: kernel_size must be an int or a pair"
    ):
        layer(2.0)


def test_layer_norm_without_affine_keeps_its_dtype():
    # with elementwise_affine=False the dtype was ignored: float32 layer, float64 output
    x = RNG.standard_normal((2, 5))
    out = nn.LayerNorm(5, elementwise_affine=False, dtype=np.float32)(x)
    assert out.dtype == np.float32
    centred = x - x.mean(axis=1, keepdims=True)
    expected = centred / np.sqrt((centred**2).mean(axis=1, keepdims=True) + 1e-5)
    assert np.allclose(out.data, expected, rtol=1e-5, atol=1e-6)


def test_batch_norm_momentum_none_says_the_cumulative_average_is_not_supported():
    # PyTorch's momentum=None (a cumulative average) was refused as "not a number in [0, 1]"
    with pytest.raises(ValueError, match=r"^BatchNorm2d: momentum .* got None \(momentum=None, "
                                         r"PyTorch's cumulative average, is not supported\)$"):  # fmt: skip
        nn.BatchNorm2d(3, momentum=None)
    with pytest.raises(ValueError, match=r"^batch_norm: .* got None \(momentum=None, PyTorch's"):
        bl.batch_norm(np.ones((4, 3)), np.zeros(3), np.ones(3), training=True, momentum=None)


@pytest.mark.parametrize("training", ["False", "eval", None, 0])
def test_batch_norm_training_must_be_a_bool(training):
    # bool("False") is True: the batch statistics were used, and the running averages moved
    running_mean = np.zeros(3)
    with pytest.raises(TypeError, match=r"^batch_norm: training must be True or False, got"):
        bl.batch_norm(RNG.standard_normal((4, 3)), running_mean, np.ones(3), training=training)
    assert np.all(running_mean == 0)


def test_a_float64_bias_is_not_rounded_into_a_float32_convolution_or_batch_norm():
    # conv2d and batch_norm added the bias in place into their float32 output: a float64 bias of
    # 1 + 1e-9 came out as 1.0 (float32), where the unfused x * w + b gives float64, as linear
    # (which refuses it) does
    x = np.ones((1, 2, 3, 3), dtype=np.float32)
    w32, b64 = bl.Tensor(np.ones((1, 2, 1, 1), dtype=np.float32)), bl.Tensor([1 + 1e-9])
    with pytest.raises(bl.ShapeError, match=r"^conv2d: dtypes float32, float32, float64 do not"):
        bl.conv2d(x, w32, b64)
    conv = nn.Conv2d(2, 1, 1, rng=0, dtype=np.float32)
    conv.bias = nn.Parameter(np.zeros(1))  # float64, into a float32 layer
    with pytest.raises(bl.ShapeError, match=r"^conv2d: dtypes float32, float32, float64 do not"):
        conv(x)
    ones32 = bl.Tensor(np.ones(2, dtype=np.float32))
    with pytest.raises(bl.ShapeError, match=r"^batch_norm: dtypes float32, float32, float64 do"):
        bl.batch_norm(x, None, None, ones32, bl.Tensor(np.zeros(2)), training=True)
    # integer biases take the tensors' dtype, as everywhere; float64 weights make it float64
    assert bl.conv2d(x, w32, np.array([1])).dtype == np.float32
    assert bl.batch_norm(x, None, None, ones32, np.zeros(2, dtype=int), True).dtype == np.float32
    out = bl.conv2d(x, bl.Tensor(np.ones((1, 2, 1, 1))), b64)
    assert out.dtype == np.float64 and np.all(out.data == 2 + (1 + 1e-9))


# ------------------------------------------------------------- guards: what was already right
def test_running_averages_move_in_no_grad_in_training_mode_as_in_pytorch():
    x = RNG.standard_normal((6, 3)) * 2 + 1
    layer = nn.BatchNorm1d(3)
    with bl.no_grad():
        layer(x)
    assert np.allclose(layer.running_mean, 0.1 * x.mean(axis=0), rtol=1e-12)
    assert np.allclose(layer.running_var, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-12)
    layer.eval()  # then eval, then train again: the averages stand still, then move on
    layer(x)
    layer.train()
    layer(x)
    assert np.allclose(layer.running_mean, 0.19 * x.mean(axis=0), rtol=1e-12)


def test_a_small_conv_net_stays_float32_end_to_end():
    model = nn.Sequential(
        nn.Conv2d(1, 4, (3, 2), stride=(1, 2), padding=1, rng=0, dtype=np.float32),
        nn.BatchNorm2d(4, dtype=np.float32), nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d((1, 2)),
        nn.Flatten(), nn.Dropout(0.5, rng=0), nn.LayerNorm(12, dtype=np.float32),
        nn.Linear(12, 3, rng=0, dtype=np.float32),
    )  # fmt: skip
    x = RNG.standard_normal((2, 1, 6, 8))  # float64 data, converted by the first layer
    loss = bl.cross_entropy(model(x), np.array([0, 2]))
    loss.backward()
    assert loss.dtype == np.float32
    assert {p.grad.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    assert {b.dtype for _, b in model.named_buffers()} == {np.dtype(np.float32)}


def test_conv2d_on_1x1_images_and_a_kernel_the_size_of_the_image():
    x, w = RNG.standard_normal((2, 3, 1, 1)), RNG.standard_normal((4, 3, 1, 1))
    assert np.allclose(bl.conv2d(x, bl.Tensor(w)).data[:, :, 0, 0], x[:, :, 0, 0] @ w[:, :, 0, 0].T)
    x, w = RNG.standard_normal((2, 1, 3, 5)), RNG.standard_normal((2, 1, 3, 5))
    out = bl.conv2d(x, bl.Tensor(w)).data  # one window: the whole image
    assert out.shape == (2, 2, 1, 1)
    assert np.allclose(out[:, :, 0, 0], x.reshape(2, -1) @ w.reshape(2, -1).T)


def test_pooling_with_a_stride_beyond_the_kernel_skips_pixels():
    x = bl.Tensor(np.arange(25.0).reshape(1, 1, 5, 5), requires_grad=True)
    out = bl.max_pool2d(x, 2, 3)  # windows at rows/columns 0-1 and 3-4: row and column 2 unseen
    assert out.data[0, 0].tolist() == [[6.0, 9.0], [21.0, 24.0]]
    out.sum().backward()
    expected = np.zeros((5, 5))
    expected[[1, 1, 4, 4], [1, 4, 1, 4]] = 1
    assert np.array_equal(x.grad[0, 0], expected)
