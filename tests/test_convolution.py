"""conv2d, im2col/col2im and pooling: against loops written here, finite differences, and the
adjoint identity <im2col(x), c> = <x, col2im(c)>."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import backproplab as bl
from backproplab import nn
from backproplab.convolution import output_size


# ------------------------------------------------------------------ loops written out by hand
def naive_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0)):
    """out[n, o, r, c] = sum over the window at (r * sh, c * sw) of x * w[o], + b[o]."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n_images, _, height, width = xp.shape
    n_out, _, kh, kw = w.shape
    oh, ow = (height - kh) // sh + 1, (width - kw) // sw + 1
    out = np.zeros((n_images, n_out, oh, ow))
    for n in range(n_images):
        for o in range(n_out):
            for r in range(oh):
                for c in range(ow):
                    window = xp[n, :, r * sh : r * sh + kh, c * sw : c * sw + kw]
                    out[n, o, r, c] = np.sum(window * w[o]) + (0 if b is None else b[o])
    return out


def naive_pool(x, k, s, reduce):
    (kh, kw), (sh, sw) = k, s
    n_images, channels, height, width = x.shape
    oh, ow = (height - kh) // sh + 1, (width - kw) // sw + 1
    out = np.zeros((n_images, channels, oh, ow))
    for r in range(oh):
        for c in range(ow):
            out[:, :, r, c] = reduce(x[:, :, r * sh : r * sh + kh, c * sw : c * sw + kw], (2, 3))
    return out


def pair(v):
    return (v, v) if isinstance(v, int) else v


# x shape, weight shape, stride, padding: odd sizes, non-square kernels, strides 1 and 2,
# padding 0/1/2, batch 1, a 1x1 kernel, a kernel as large as the input
CONFIGS = [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((1, 2, 7, 6), (3, 2, 3, 2), 2, 1),
    ((2, 1, 6, 7), (2, 1, 2, 3), (2, 1), (0, 2)),
    ((3, 2, 4, 4), (2, 2, 1, 1), 1, 0),
    ((1, 1, 3, 3), (1, 1, 3, 3), 1, 2),
    ((2, 2, 5, 4), (3, 2, 5, 4), 1, 0),
    ((1, 2, 5, 5), (2, 2, 3, 3), 2, 0),
]


def make(x_shape, w_shape, seed=0, bias=True):
    rng = np.random.default_rng(seed)
    x = bl.Tensor(rng.standard_normal(x_shape), requires_grad=True, name="x")
    w = bl.Tensor(rng.standard_normal(w_shape), requires_grad=True, name="w")
    b = bl.Tensor(rng.standard_normal(w_shape[0]), requires_grad=True, name="b") if bias else None
    return x, w, b


# -------------------------------------------------------------------------------- im2col
def test_im2col_puts_each_window_in_a_row_in_channel_row_column_order():
    x = np.arange(18.0).reshape(1, 2, 3, 3)  # channel 0: 0..8, channel 1: 9..17
    cols = bl.im2col(x, 2)
    assert cols.shape == (4, 8)  # 2x2 windows of a 3x3 image; 2 channels * 2 * 2 values
    assert cols[0].tolist() == [0, 1, 3, 4, 9, 10, 12, 13]  # top-left window
    assert cols[3].tolist() == [4, 5, 7, 8, 13, 14, 16, 17]  # bottom-right window
    padded = bl.im2col(x[:, :1], 3, stride=2, padding=1)  # 5x5 padded image, windows at 0 and 2
    assert padded.shape == (4, 9)
    assert padded[0].tolist() == [0, 0, 0, 0, 0, 1, 0, 3, 4]


def test_col2im_adds_where_windows_overlap():
    ones = np.ones((4, 4))  # the 2x2 windows of a 3x3 image, every entry 1
    counts = bl.col2im(ones, (1, 1, 3, 3), 2)
    assert counts[0, 0].tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]  # windows per pixel


@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    ph=st.integers(0, 2),
    pw=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_col2im_is_the_adjoint_of_im2col(n, c, h, w, kh, kw, sh, sw, ph, pw, seed):
    assume(kh <= h + 2 * ph and kw <= w + 2 * pw)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    cols = bl.im2col(x, (kh, kw), (sh, sw), (ph, pw))
    oh, ow = output_size((h, w), (kh, kw), (sh, sw), (ph, pw))
    assert cols.shape == (n * oh * ow, c * kh * kw)
    other = rng.standard_normal(cols.shape)
    back = bl.col2im(other, x.shape, (kh, kw), (sh, sw), (ph, pw))
    assert back.shape == x.shape
    # <im2col(x), c> = <x, col2im(c)>: col2im is im2col's transpose
    np.testing.assert_allclose(np.sum(cols * other), np.sum(x * back), rtol=1e-10, atol=1e-10)


def naive_im2col(x, k, s, p):
    """The windows cut out one by one, each flattened (channel, row, column): one row each."""
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    rows = [xp[n, :, r * sh : r * sh + kh, c * sw : c * sw + kw].ravel()
            for n in range(len(x)) for r in range(oh) for c in range(ow)]  # fmt: skip
    return np.array(rows).reshape(len(rows), x.shape[1] * kh * kw)


def naive_col2im(cols, x_shape, k, s, p):
    """Each row added onto the pixels of its window, window by window; the padding cut off."""
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    n_images, channels, height, width = x_shape
    xp = np.zeros((n_images, channels, height + 2 * ph, width + 2 * pw), dtype=cols.dtype)
    oh, ow = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    rows = iter(cols)
    for n in range(n_images):
        for r in range(oh):
            for c in range(ow):
                window = next(rows).reshape(channels, kh, kw)
                xp[n, :, r * sh : r * sh + kh, c * sw : c * sw + kw] += window
    return xp[:, :, ph : ph + height, pw : pw + width]


@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    ph=st.integers(0, 2),
    pw=st.integers(0, 2),
)
@example(n=1, c=2, h=5, w=6, kh=1, kw=1, sh=1, sw=1, ph=0, pw=0)  # N = 1, 1x1, no padding
@example(n=2, c=3, h=7, w=5, kh=3, kw=2, sh=2, sw=3, ph=0, pw=1)  # strides above 1
@example(n=1, c=1, h=1, w=1, kh=3, kw=3, sh=2, sw=1, ph=1, pw=1)  # all but one pixel padding
def test_im2col_and_col2im_match_the_loops_exactly(n, c, h, w, kh, kw, sh, sw, ph, pw):
    # im2col picks the windows out by an index, col2im adds offset by offset: both against the
    # loops, over padding 0, strides above 1, 1x1 kernels and a single image (N = 1)
    assume(kh <= h + 2 * ph and kw <= w + 2 * pw)
    k, s, p = (kh, kw), (sh, sw), (ph, pw)
    rng = np.random.default_rng(n * 1000 + h * 100 + w * 10 + kh)
    x = rng.standard_normal((n, c, h, w))
    np.testing.assert_array_equal(bl.im2col(x, k, s, p), naive_im2col(x, k, s, p))
    # whole numbers: their sums are exact in any order, so the two must agree to the last bit
    cols = rng.integers(-9, 10, naive_im2col(x, k, s, p).shape).astype(float)
    np.testing.assert_array_equal(
        bl.col2im(cols, x.shape, k, s, p), naive_col2im(cols, x.shape, k, s, p)
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_col2im_adds_up_every_image_of_a_batch_larger_than_its_blocks(dtype):
    # col2im works through a batch a few images at a time (about 512 kB of cols each): nine
    # 8-channel 16x16 images (1.3 MB of float64 cols) take several blocks, the last one short
    x_shape, k, s, p = (9, 8, 16, 16), (3, 3), (1, 1), (1, 1)
    x = np.arange(np.prod(x_shape), dtype=dtype).reshape(x_shape)
    cols = bl.im2col(x, k, s, p)
    np.testing.assert_array_equal(cols, naive_im2col(x, k, s, p))
    signs = np.random.default_rng(0).choice(np.array([-1, 1], dtype=dtype), size=cols.shape)
    back = bl.col2im(cols * signs, x_shape, k, s, p)
    assert back.dtype == dtype and back.flags.c_contiguous
    np.testing.assert_array_equal(back, naive_col2im(cols * signs, x_shape, k, s, p))


# -------------------------------------------------------------------------------- conv2d
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONFIGS)
def test_conv2d_matches_the_loops(x_shape, w_shape, stride, padding):
    x, w, b = make(x_shape, w_shape)
    out = bl.conv2d(x, w, b, stride=stride, padding=padding)
    want = naive_conv2d(x.data, w.data, b.data, pair(stride), pair(padding))
    assert out.shape == want.shape
    np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-12)
    no_bias = bl.conv2d(x, w, stride=stride, padding=padding)
    np.testing.assert_allclose(no_bias.data, naive_conv2d(x.data, w.data, None, pair(stride),
                                                          pair(padding)), atol=1e-12)  # fmt: skip


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONFIGS)
def test_conv2d_gradients_match_finite_differences(x_shape, w_shape, stride, padding):
    x, w, b = make(x_shape, w_shape, seed=1)
    bl.gradcheck(lambda x, w, b: bl.conv2d(x, w, b, stride, padding), x, w, b)
    bl.gradcheck(lambda x, w: bl.conv2d(x, w, stride=stride, padding=padding), x, w)


@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    o=st.integers(1, 3),
    h=st.integers(2, 6),
    w=st.integers(2, 6),
    k=st.integers(1, 3),
    s=st.integers(1, 2),
    p=st.integers(0, 1),
)
def test_conv2d_matches_the_loops_and_a_directional_check_over_shapes(n, c, o, h, w, k, s, p):
    assume(k <= h + 2 * p and k <= w + 2 * p)
    x, weight, b = make((n, c, h, w), (o, c, k, k), seed=n * 100 + h * 10 + w)
    out = bl.conv2d(x, weight, b, stride=s, padding=p)
    np.testing.assert_allclose(out.data, naive_conv2d(x.data, weight.data, b.data, (s, s), (p, p)),
                               atol=1e-12)  # fmt: skip
    assert bl.check_direction(lambda x, w, b: bl.conv2d(x, w, b, s, p), x, weight, b).passed


def test_conv2d_keeps_no_copy_of_the_windows_for_its_backward_pass():
    # cols is kh * kw times the size of x: kept by notebook 14's 13 layers through each training
    # step, it made the step slower (fresh memory every step); the vjp copies it again from x
    x, w, b = make((4, 3, 6, 6), (5, 3, 3, 3))
    out = bl.conv2d(x, w, b, padding=1)
    assert out.saved is out.data  # what the vjp will get: the output itself, not the windows
    out.backward(np.ones(out.shape))  # and the gradients are still those of the loops
    rows = naive_im2col(x.data, (3, 3), (1, 1), (1, 1))  # (N*OH*OW, C*kh*kw)
    np.testing.assert_allclose(w.grad.reshape(5, -1), np.tile(rows.sum(axis=0), (5, 1)))


def test_conv2d_keeps_float32():
    rng = np.random.default_rng(0)
    x = bl.Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    layer = nn.Conv2d(3, 5, 3, padding=1, rng=0, dtype=np.float32)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == layer.weight.grad.dtype == np.float32
    assert layer.bias.grad.dtype == np.float32


def test_conv2d_layer_shapes_and_he_init():
    layer = nn.Conv2d(8, 32, (3, 5), stride=2, padding=(1, 2), rng=0)
    assert layer.weight.shape == (32, 8, 3, 5) and layer.bias.shape == (32,)
    assert not layer.bias.data.any()
    fan_in = 8 * 3 * 5
    std = layer.weight.data.std()
    assert abs(std - np.sqrt(2 / fan_in)) < 0.1 * np.sqrt(2 / fan_in)  # 3840 draws: within 10 %
    x = np.random.default_rng(1).standard_normal((2, 8, 9, 10))
    assert layer(x).shape == (2, 32, 5, 5)
    assert nn.Conv2d(1, 2, 3, bias=False, rng=0).bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert repr(layer) == "Conv2d(8, 32, kernel_size=(3, 5), stride=2, padding=(1, 2))"


# -------------------------------------------------------------------------------- pooling
POOLS = [  # input shape, kernel, stride
    ((2, 3, 6, 6), 2, None),
    ((1, 2, 7, 5), (3, 2), (2, 1)),
    ((2, 1, 5, 5), 3, 1),  # overlapping windows
    ((1, 1, 4, 4), 4, None),  # one window: global pooling
]


@pytest.mark.parametrize("shape, k, s", POOLS)
def test_pooling_matches_the_loops_and_finite_differences(shape, k, s):
    rng = np.random.default_rng(4)
    # distinct values at least 0.01 apart: no ties, so max pooling is differentiable
    values = rng.permutation(np.prod(shape)).reshape(shape) * 0.01
    x = bl.Tensor(values, requires_grad=True)
    stride = pair(s) if s is not None else pair(k)
    np.testing.assert_allclose(bl.max_pool2d(x, k, s).data, naive_pool(values, pair(k), stride,
                                                                       np.max))  # fmt: skip
    np.testing.assert_allclose(bl.avg_pool2d(x, k, s).data, naive_pool(values, pair(k), stride,
                                                                       np.mean))  # fmt: skip
    bl.gradcheck(lambda x: bl.max_pool2d(x, k, s), x, eps=1e-4)  # eps well below the gaps
    bl.gradcheck(lambda x: bl.avg_pool2d(x, k, s), x)


def test_max_pool_ties_share_the_gradient_equally():
    image = [[1.0, 1.0, 0.0, 2.0], [1.0, 1.0, 0.0, 0.0], [5.0, 3.0, 4.0, 4.0], [5.0, 2.0, 0.0, 4.0]]
    x = bl.Tensor(np.array(image).reshape(1, 1, 4, 4), requires_grad=True)
    out = bl.max_pool2d(x, 2)
    assert out.data[0, 0].tolist() == [[1.0, 2.0], [5.0, 4.0]]
    out.backward(np.array([[[[4.0, 1.0], [2.0, 3.0]]]]))
    # four-way tie: 1 each; no tie: all of it; two-way: 1 each; three-way: 1 each
    assert x.grad[0, 0].tolist() == [
        [1.0, 1.0, 0.0, 1.0],
        [1.0, 1.0, 0.0, 0.0],
        [1.0, 0.0, 1.0, 1.0],
        [1.0, 0.0, 0.0, 1.0],
    ]


def test_max_pool_with_overlapping_windows_adds_the_shares():
    # a 3x3 image, 2x2 windows, stride 1: the centre 9 wins all four windows
    x = bl.Tensor(np.array([[[[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]]]),
                  requires_grad=True)  # fmt: skip
    bl.max_pool2d(x, 2, 1).sum().backward()
    assert x.grad[0, 0].tolist() == [[0, 0, 0], [0, 4, 0], [0, 0, 0]]
    x.grad = None
    flat = bl.Tensor(np.ones((1, 1, 3, 3)), requires_grad=True)  # every window a 4-way tie
    bl.max_pool2d(flat, 2, 1).sum().backward()
    # each window gives 1/4 to each of its pixels; a pixel gets 1/4 per window it is in
    assert flat.grad[0, 0].tolist() == [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]


def test_avg_pool_spreads_the_gradient_over_the_window():
    x = bl.Tensor(np.zeros((1, 1, 4, 4)), requires_grad=True)
    bl.avg_pool2d(x, 2).backward(np.array([[[[4.0, 8.0], [0.0, 4.0]]]]))
    assert x.grad[0, 0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [0, 0, 1, 1], [0, 0, 1, 1]]


def test_pooling_layers():
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    assert nn.MaxPool2d(2)(x).data[0, 1].tolist() == [[21, 23], [29, 31]]
    assert nn.AvgPool2d(2, 2)(x).data[0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert nn.Flatten()(bl.Tensor(x)).shape == (1, 32)
    assert repr(nn.MaxPool2d(3, 1)) == "MaxPool2d(kernel_size=3, stride=1)"


# -------------------------------------------------------------------------------- errors
def test_conv2d_errors_name_the_op_and_the_shapes():
    x = np.zeros((2, 3, 8, 8))
    cases = [
        (x, np.zeros((16, 4, 3, 3)), None, 1, 0,
         "conv2d: input of shape (2, 3, 8, 8) has 3 channels but the weight (16, 4, 3, 3) "
         "expects 4"),
        (np.zeros((3, 8, 8)), np.zeros((16, 3, 3, 3)), None, 1, 0,
         "conv2d: expected an input of shape (N, C, H, W), got shape (3, 8, 8)"),
        (x, np.zeros((16, 3, 3)), None, 1, 0,
         "conv2d: expected a weight of shape (out_channels, in_channels, kh, kw), got shape "
         "(16, 3, 3)"),
        (x, np.zeros((16, 3, 3, 3)), np.zeros(8), 1, 0,
         "conv2d: bias of shape (8,) does not fit the weight (16, 3, 3, 3): expected (16,), one "
         "per output channel"),
        (np.zeros((2, 3, 4, 4)), np.zeros((16, 3, 7, 7)), None, 1, 1,
         "conv2d: kernel (7, 7) does not fit in the input of shape (2, 3, 4, 4) (padded to "
         "(6, 6) with padding (1, 1))"),
        (x, np.zeros((16, 3, 3, 3)), None, 0, 0,
         "conv2d: stride (0, 0) must be positive and padding (0, 0) non-negative"),
    ]  # fmt: skip
    for inp, w, b, stride, padding, message in cases:
        with pytest.raises(bl.ShapeError) as err:
            bl.conv2d(inp, bl.Tensor(w), None if b is None else bl.Tensor(b), stride, padding)
        assert str(err.value) == message
    with pytest.raises(TypeError, match=r"^conv2d: stride must be an int or a pair of ints, got"):
        bl.conv2d(x, bl.Tensor(np.zeros((1, 3, 3, 3))), stride=(1, 2, 3))
    with pytest.raises(bl.ShapeError) as err:
        nn.Conv2d(4, 16, 3, rng=0)(x)
    assert str(err.value) == (
        "conv2d: input of shape (2, 3, 8, 8) has 3 channels but the weight (16, 4, 3, 3) expects 4"
    )


def test_pooling_errors_name_the_op_and_the_shapes():
    with pytest.raises(bl.ShapeError) as err:
        bl.max_pool2d(np.zeros((2, 3, 4, 4)), 5)
    assert str(err.value) == (
        "max_pool2d: kernel (5, 5) does not fit in the input of shape (2, 3, 4, 4) (padded to "
        "(4, 4) with padding (0, 0))"
    )
    with pytest.raises(bl.ShapeError) as err:
        bl.avg_pool2d(np.zeros((4, 4)), 2)
    assert str(err.value) == "avg_pool2d: expected an input of shape (N, C, H, W), got shape (4, 4)"


def test_im2col_and_col2im_name_shapes_they_cannot_use():
    # im2col of a kernel bigger than the image returned a (0, 9) array without a word, and an
    # (H, W) image or cols of the wrong shape gave numpy's unpack and reshape errors
    with pytest.raises(bl.ShapeError, match=r"^im2col: kernel \(3, 3\) does not fit"):
        bl.im2col(np.ones((1, 1, 2, 2)), 3)
    with pytest.raises(bl.ShapeError, match=r"^im2col: expected images of shape \(N, C, H, W\)"):
        bl.im2col(np.ones((5, 5)), 3)
    with pytest.raises(bl.ShapeError, match=r"^col2im: cols of shape \(5, 5\) do not fit"):
        bl.col2im(np.ones((5, 5)), (1, 1, 4, 4), 3)
    with pytest.raises(bl.ShapeError, match=r"^col2im: expected images of shape"):
        bl.col2im(np.ones((4, 9)), (1, 4, 4), 3)
    assert bl.col2im(np.ones((4, 9)), (1, 1, 4, 4), 3).shape == (1, 1, 4, 4)  # (still works)


def test_col2im_names_a_window_that_does_not_fit_its_x_shape():
    # (found by the coverage sweep: col2im's window check had no test; im2col's has)
    with pytest.raises(bl.ShapeError, match=r"^col2im: kernel \(3, 3\) does not fit in the input"):
        bl.col2im(np.ones((1, 9)), (1, 1, 2, 2), 3)
    with pytest.raises(bl.ShapeError, match=r"^col2im: stride \(0, 0\) must be positive"):
        bl.col2im(np.ones((1, 9)), (1, 1, 3, 3), 3, stride=0)
