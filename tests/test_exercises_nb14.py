"""Self-checks of notebook 14: a correct answer passes, typical mistakes get their hint, stubs
are "not done", and no hint gives the answer away."""

import numpy as np
import pytest
from exercise_helpers import our_words
from numpy.lib.stride_tricks import sliding_window_view

import backproplab as bl
from backproplab.convolution import col2im, im2col
from backproplab.exercises import nb14


def stub(*args):
    raise NotImplementedError


def pad(a, p):
    return np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)))


def windows(a, kh, kw):
    return sliding_window_view(a, (kh, kw), axis=(2, 3))  # (N, C, H', W', kh, kw)


# ------------------------------------------------------------------------- conv2d_weight_grad
def weight_grad(x, g, k, padding=0):
    return np.einsum("ncpqij,nopq->ocij", windows(pad(x, padding), k, k), g)


def weight_grad_loops(x, g, k, padding=0):
    xp = pad(x, padding)
    n, o, hh, ww = g.shape
    dW = np.zeros((o, x.shape[1], k, k))
    for i in range(k):
        for j in range(k):
            patch = xp[:, :, i : i + hh, j : j + ww]  # what weight offset (i, j) met
            dW[:, :, i, j] = np.einsum("ncpq,nopq->oc", patch, g)
    return dW


@pytest.mark.parametrize("solution", [weight_grad, weight_grad_loops])
def test_conv2d_weight_grad_correct(solution):
    feedback = nb14.check_conv2d_weight_grad(solution)
    assert feedback.passed, feedback


def mutating_weight_grad(x, g, k, padding=0):
    result = weight_grad(x, g, k, padding)
    g *= 0
    return result


def weight_grad_fixed_3(x, g, k, padding=0):  # the kernel size of the notebook's examples
    return weight_grad(x, g, 3, padding)


def weight_grad_channels_last_kept(x, g, k, padding=0):
    # g flattened to one row per window without moving its channel axis last first
    cols = (
        windows(pad(x, padding), k, k).transpose(0, 2, 3, 1, 4, 5).reshape(-1, x.shape[1] * k * k)
    )
    return (g.reshape(-1, g.shape[1]).T @ cols).reshape(g.shape[1], x.shape[1], k, k)


def weight_grad_untransposed(x, g, k, padding=0):  # cols^T G, (C k k, O), reshaped as it stands
    dW = weight_grad(x, g, k, padding)
    return dW.reshape(len(dW), -1).T.reshape(dW.shape)


def weight_grad_mean_over_windows(x, g, k, padding=0):
    return weight_grad(x, g, k, padding) / (len(x) * g.shape[2] * g.shape[3])


@pytest.mark.parametrize(
    "wrong, words",
    [
        (weight_grad_fixed_3, "right with 3x3 kernels, not with a 2x2"),
        (weight_grad_channels_last_kept, "not in the order of the windows"),
        (weight_grad_untransposed, "which of its axes is out_channels"),
        (weight_grad_mean_over_windows, "number of windows"),
        (lambda x, g, k, p: weight_grad(x, g, k, p) / len(x), "factor of the batch size"),
        (lambda x, g, k, p: weight_grad(x[:1], g[:1], k, p), "only the first example"),
        (lambda x, g, k, p: weight_grad(x, g, k, p)[..., ::-1, ::-1], "rotated by 180"),
        (lambda x, g, k, p: weight_grad(x, g, k, p).transpose(1, 0, 2, 3), "swapped"),
        (lambda x, g, k, p: weight_grad(x, g, k, p).transpose(0, 1, 3, 2), "spatial axes"),
        (lambda x, g, k, p: weight_grad(x, g, k, 0), "raised ValueError"),
        (lambda x, g, k, p: weight_grad(x, g, k, p) + 1, "not yet"),
        (mutating_weight_grad, "in place"),
    ],
)
def test_conv2d_weight_grad_hints(wrong, words):
    feedback = nb14.check_conv2d_weight_grad(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "einsum" not in our_words(feedback.message) and "sum(" not in our_words(feedback.message)


def weight_grad_read_channel_last(x, g, k, padding=0):
    # takes a row of im2col's output to run over (kh, kw, c), and moves c forward to match W
    n_out, n_in = g.shape[1], x.shape[1]
    cols = im2col(x, k, 1, padding)
    G = g.transpose(0, 2, 3, 1).reshape(-1, n_out)
    return (G.T @ cols).reshape(n_out, k, k, n_in).transpose(0, 3, 1, 2)


def weight_grad_own_channel_last_cols(x, g, k, padding=0):
    # its own im2col, on the image made channel-last (N, H, W, C): columns (kh, kw, c)
    n_out, n_in = g.shape[1], x.shape[1]
    image = pad(x, padding).transpose(0, 2, 3, 1)
    cut = sliding_window_view(image, (k, k), axis=(1, 2))  # (N, OH, OW, C, k, k)
    cols = cut.transpose(0, 1, 2, 4, 5, 3).reshape(-1, k * k * n_in)
    G = g.transpose(0, 2, 3, 1).reshape(-1, n_out)
    return (G.T @ cols).reshape(n_out, n_in, k, k)


def weight_grad_loops_channel_last(x, g, k, padding=0):
    # loops over the kernel's offsets that fill a (O, kh, kw, C) array, reshaped to W's shape
    xp = pad(x, padding)
    n, o, hh, ww = g.shape
    dW = np.zeros((o, k, k, x.shape[1]))
    for i in range(k):
        for j in range(k):
            dW[:, i, j, :] = np.einsum("ncpq,nopq->oc", xp[:, :, i : i + hh, j : j + ww], g)
    return dW.reshape(o, x.shape[1], k, k)


READ_AS = "you read a row of im2col's output as running over (kh, kw, channel)"
LAID_OUT = "your entries run over (kh, kw, channel), the channels innermost"


@pytest.mark.parametrize(
    "wrong, words, not_words",
    [  # each got 'not yet ... write dW[o, c, i, j] as a sum' before
        (weight_grad_read_channel_last, READ_AS, LAID_OUT),
        (weight_grad_own_channel_last_cols, LAID_OUT, READ_AS),
        (weight_grad_loops_channel_last, LAID_OUT, READ_AS),
        # other permutations within an output channel: told so, never the channel-last slips
        (
            lambda x, g, k, p: weight_grad(x, g, k, p).transpose(0, 2, 1, 3),
            "each output channel has the right numbers, in the wrong places",
            "(kh, kw, channel)",
        ),
        (
            lambda x, g, k, p: weight_grad_read_channel_last(x, g, k, p)[..., ::-1, ::-1],
            "each output channel has the right numbers, in the wrong places",
            "(kh, kw, channel)",
        ),
        (  # channel-last and g's rows out of order: the numbers are not W's at all
            lambda x, g, k, p: (
                weight_grad_channels_last_kept(x, g, k, p)
                .reshape(g.shape[1], k, k, x.shape[1])
                .transpose(0, 3, 1, 2)
            ),
            "not yet with padding=0: write dW",
            "right numbers",
        ),
    ],
)
def test_conv2d_weight_grad_channel_last_columns_are_named(wrong, words, not_words):
    """dW computed from windows laid out (kh, kw, channel): the right numbers, permuted within
    each output channel's weights, named as such (and other permutations not as that)."""
    feedback = nb14.check_conv2d_weight_grad(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert not_words not in feedback.message, feedback
    assert "einsum" not in our_words(feedback.message) and "transpose" not in feedback.message


def test_conv2d_weight_grad_padding_mistake_is_named():
    # crop g instead of padding x: right shape, right with padding=0, wrong with padding=1
    def cropped(x, g, k, p):
        return weight_grad(x, g[:, :, p : g.shape[2] - p or None, p : g.shape[3] - p or None], k, 0)

    feedback = nb14.check_conv2d_weight_grad(cropped)
    assert feedback.status == "hint" and "padding=1" in feedback.message, feedback


def weight_grad_pads_by_one(x, g, k, padding=0):  # "same" padding for 3x3, whatever padding is
    return weight_grad(x, g, k, 1 if padding else 0)


def test_conv2d_weight_grad_padding_fixed_to_one_is_refused():
    # right with padding 0 and 1, the first cases' paddings: a padding of 2 shows it
    feedback = nb14.check_conv2d_weight_grad(weight_grad_pads_by_one)
    assert feedback.status == "hint" and "not with padding=2" in feedback.message, feedback


def test_conv2d_weight_grad_not_done():
    assert nb14.check_conv2d_weight_grad(stub).status == "not done"


# -------------------------------------------------------------------------- conv2d_input_grad
def input_grad(g, weight, padding=0, flip=True, swap=True, full=True, crop=True):
    kh, kw = weight.shape[2:]
    kernel = weight[..., ::-1, ::-1] if flip else weight
    kernel = kernel.transpose(1, 0, 2, 3) if swap else kernel  # (in, out, kh, kw)
    gp = np.pad(g, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1))) if full else g
    dx_padded = np.einsum("nopqij,coij->ncpq", windows(gp, kh, kw), kernel)
    if crop and padding:
        return dx_padded[:, :, padding:-padding, padding:-padding]
    return dx_padded


def input_grad_loops(g, weight, padding=0):
    n, o, hh, ww = g.shape
    _, c, kh, kw = weight.shape
    dx = np.zeros((n, c, hh + kh - 1, ww + kw - 1))  # the padded input's gradient
    for i in range(kh):
        for j in range(kw):  # output (p, q) met input (p + i, q + j) through weight[:, :, i, j]
            dx[:, :, i : i + hh, j : j + ww] += np.einsum("nopq,oc->ncpq", g, weight[:, :, i, j])
    return dx[:, :, padding : dx.shape[2] - padding, padding : dx.shape[3] - padding]


@pytest.mark.parametrize("solution", [input_grad, input_grad_loops])
def test_conv2d_input_grad_correct(solution):
    feedback = nb14.check_conv2d_input_grad(solution)
    assert feedback.passed, feedback


def mutating_input_grad(g, weight, padding=0):
    result = input_grad(g, weight, padding)
    weight[...] = 0
    return result


def input_grad_square_kernel(g, weight, padding=0):  # kw taken to be kh
    k = weight.shape[2]
    return input_grad(g, weight[:, :, :, :k] if weight.shape[3] >= k else weight, padding)


def input_grad_channels_last_kept(g, weight, padding=0):
    # g flattened to one row per window without moving its channel axis last first
    n, o, oh, ow = g.shape
    return input_grad(g.reshape(n, oh, ow, o).transpose(0, 3, 1, 2), weight, padding)


def input_grad_col2im_flipped_by_hand(g, weight, padding=0):
    # im2col's route, with the kernel flipped by hand ("the input gradient uses the flipped
    # kernel"): col2im already runs through each window backwards, so this flips it twice
    n, o, oh, ow = g.shape
    _, c, kh, kw = weight.shape
    x_shape = (n, c, oh + kh - 1 - 2 * padding, ow + kw - 1 - 2 * padding)
    dcols = g.transpose(0, 2, 3, 1).reshape(-1, o) @ weight[..., ::-1, ::-1].reshape(o, -1)
    return col2im(dcols, x_shape, (kh, kw), 1, padding)


def input_grad_cropped_one_side(g, weight, padding=0):
    dx = input_grad(g, weight, 0)  # the padded input's gradient ...
    return dx[:, :, : dx.shape[2] - 2 * padding, : dx.shape[3] - 2 * padding]  # ... cropped


def input_grad_size_with_the_padding(g, weight, padding=0):
    # H = OH + kh - 1 + 2P: the padded image's size where x's was meant
    n, o, oh, ow = g.shape
    _, c, kh, kw = weight.shape
    x_shape = (n, c, oh + kh - 1 + 2 * padding, ow + kw - 1 + 2 * padding)
    dcols = g.transpose(0, 2, 3, 1).reshape(-1, o) @ weight.reshape(o, -1)
    return col2im(dcols, x_shape, (kh, kw), 1, padding)


def input_grad_padding_left_out_of_col2im(g, weight, padding=0):
    n, o, oh, ow = g.shape
    _, c, kh, kw = weight.shape
    x_shape = (n, c, oh + kh - 1 - 2 * padding, ow + kw - 1 - 2 * padding)
    dcols = g.transpose(0, 2, 3, 1).reshape(-1, o) @ weight.reshape(o, -1)
    return col2im(dcols, x_shape, (kh, kw))  # the size is right; col2im never hears of padding


@pytest.mark.parametrize(
    "wrong, words",
    [
        # was 'does your code use the padding it is given, where the forward pass did?': it did
        (input_grad_size_with_the_padding, "the size you recovered for x is not x's"),
        (input_grad_padding_left_out_of_col2im, "use the padding it is given"),
        (input_grad_square_kernel, "right with 3x3 kernels, not with a 2x3"),
        (input_grad_channels_last_kept, "not in the order of the windows"),
        (input_grad_cropped_one_side, "not yet with padding=1: write dx"),
        (lambda g, w, p: input_grad(g, w, p, flip=False), "rotated by 180 degrees"),
        (input_grad_col2im_flipped_by_hand, "before col2im, don't"),
        (lambda g, w, p: input_grad(g, w, p, swap=False), "raised ValueError"),  # out != in
        (lambda g, w, p: input_grad(g, w, p, full=False), "smaller than x"),
        (lambda g, w, p: input_grad(g, w, p, crop=False), "shape of the padded input"),
        (lambda g, w, p: -input_grad(g, w, p), "wrong sign"),
        (mutating_input_grad, "in place"),
    ],
)
def test_conv2d_input_grad_hints(wrong, words):
    feedback = nb14.check_conv2d_input_grad(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "[..., ::-1" not in our_words(feedback.message) and "einsum" not in our_words(
        feedback.message
    )


def test_conv2d_input_grad_channels_not_swapped_is_named():
    # the sum runs over the weight's in-channels instead of its out-channels
    def wrong_sum(g, weight, padding=0):
        kh, kw = weight.shape[2:]
        gp = np.pad(g, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
        dx = np.einsum("nopqij,ocij->nopq", windows(gp, kh, kw), weight[..., ::-1, ::-1])
        return dx[:, :, padding : dx.shape[2] - padding, padding : dx.shape[3] - padding]

    feedback = nb14.check_conv2d_input_grad(wrong_sum)
    assert feedback.status == "hint" and "trade places" in feedback.message, feedback


def input_grad_crops_one(g, weight, padding=0):  # the border of "same" padding for 3x3 only
    dx = input_grad(g, weight, 0)  # the padded input's gradient ...
    return dx[:, :, 1:-1, 1:-1] if padding else dx  # ... cropped by 1, whatever padding is


def test_conv2d_input_grad_padding_fixed_to_one_is_refused():
    feedback = nb14.check_conv2d_input_grad(input_grad_crops_one)
    assert feedback.status == "hint" and "not with padding=2" in feedback.message, feedback
    assert "1:-1" not in our_words(feedback.message)


def test_conv2d_input_grad_not_done():
    assert nb14.check_conv2d_input_grad(stub).status == "not done"


# ------------------------------------------------ estimates and float32 (exact references)
def conv_forward(x, weight, padding):  # what a learner who did notebook 01 would write
    kh, kw = weight.shape[2:]
    return np.einsum("ncpqij,ocij->nopq", windows(pad(x, padding), kh, kw), weight)


def central_differences(f, at, h=1e-6):  # notebook 01's, written by the learner
    grad = np.zeros_like(at)
    for i in np.ndindex(at.shape):
        up, down = at.copy(), at.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


def weight_grad_estimated(x, g, k, padding=0):  # central differences at a random weight
    w = np.random.default_rng(0).standard_normal((g.shape[1], x.shape[1], k, k))
    return central_differences(lambda v: float((g * conv_forward(x, v, padding)).sum()), w)


def input_grad_estimated(g, weight, padding=0):  # central differences at random images
    kh, kw = weight.shape[2:]
    n, _, oh, ow = g.shape
    shape = (n, weight.shape[1], oh + kh - 1 - 2 * padding, ow + kw - 1 - 2 * padding)
    x = np.random.default_rng(0).standard_normal(shape)
    return central_differences(lambda v: float((g * conv_forward(v, weight, padding)).sum()), x)


def weight_grad_float32(x, g, k, padding=0):  # the formula, computed in float32
    return weight_grad(x.astype(np.float32), g.astype(np.float32), k, padding).astype(np.float64)


def input_grad_float32(g, weight, padding=0):
    return input_grad(g.astype(np.float32), weight.astype(np.float32), padding).astype(np.float64)


@pytest.mark.parametrize(
    "check, answer",
    [
        (nb14.check_conv2d_weight_grad, weight_grad_estimated),
        (nb14.check_conv2d_input_grad, input_grad_estimated),
        (nb14.check_conv2d_weight_grad, weight_grad_float32),
        (nb14.check_conv2d_input_grad, input_grad_float32),
    ],
    ids=["dW estimated", "dx estimated", "dW float32", "dx float32"],
)
def test_an_estimate_or_a_float32_computation_is_told_from_a_derived_gradient(check, answer):
    # the references are exact (no longer finite differences), so the gate of the other
    # derivation checks applies: close, but only to 7-11 digits; the hint says why, at once
    feedback = check(answer)
    assert feedback.status == "hint", feedback
    assert "only to about" in feedback.message and "float32" in feedback.message, feedback
    assert "right with" not in feedback.message  # not blamed on a size fixed in the code


# ------------------------------------------------------------------------ max_pool2d_backward
def pool_windows(a, k):
    n, c, h, w = a.shape
    return a.reshape(n, c, h // k, k, w // k, k)


def max_pool_backward_first(g, x, k):
    # all of g to the first maximum of each window (PyTorch's choice)
    n, c, h, w = x.shape
    flat = pool_windows(x, k).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // k, w // k, k * k)
    first = flat.argmax(axis=-1)
    dflat = np.zeros_like(flat)
    np.put_along_axis(dflat, first[..., None], g[..., None], axis=-1)
    return dflat.reshape(n, c, h // k, w // k, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)


def max_pool_backward_shared(g, x, k, share=True):
    # g shared equally among tied maxima (the engine's choice), or to every one of them
    out = pool_windows(x, k).max(axis=(3, 5), keepdims=True)
    winners = pool_windows(x, k) == out
    count = winners.sum(axis=(3, 5), keepdims=True) if share else 1
    return (winners * g[:, :, :, None, :, None] / count).reshape(x.shape)


@pytest.mark.parametrize("solution", [max_pool_backward_first, max_pool_backward_shared])
def test_max_pool2d_backward_correct(solution):
    feedback = nb14.check_max_pool2d_backward(solution)
    assert feedback.passed, feedback
    # the convolution checks' words: the reference is exact where no entries tie
    assert "matches the exact gradient where no entries tie" in feedback.message, feedback


def max_pool_backward_by_windows(g, x, k):
    # the notebook's own im2col and col2im cut the windows out and put them back (as in
    # exercises 1 and 2); the routing of g, all of it to one maximum per window, is the answer's
    n, c, h, w = x.shape
    cols = im2col(x.reshape(n * c, 1, h, w), k, k)  # one window per row
    dcols = np.zeros_like(cols)
    dcols[np.arange(len(cols)), cols.argmax(axis=1)] = g.reshape(-1)
    return col2im(dcols, (n * c, 1, h, w), k, k).reshape(x.shape)


def test_max_pool2d_backward_with_im2col_and_col2im_is_accepted():
    feedback = nb14.check_max_pool2d_backward(max_pool_backward_by_windows)
    assert feedback.passed, feedback


def max_pool_backward_image_max(g, x, k):  # the maximum of the whole image, not of the window
    return np.where(x == x.max(axis=(2, 3), keepdims=True), spread(g, k), 0.0)


def max_pool_backward_window_transposed(g, x, k):  # each window's rows and columns swapped
    dx = pool_windows(max_pool_backward_first(g, x, k), k)
    return dx.transpose(0, 1, 2, 5, 4, 3).reshape(x.shape)


def max_pool_backward_row_runs(g, x, k):
    n, c, h, w = x.shape
    runs = x.reshape(n, c, h // k, w // k, k, k)  # not blocks: k*k entries along a row
    winners = runs == runs.max(axis=(4, 5), keepdims=True)
    return (winners * g[:, :, :, :, None, None]).reshape(x.shape)


def max_pool_backward_not_put_back(g, x, k):  # windows cut with a transpose, not undone after
    n, c, h, w = x.shape
    rows = (
        x.reshape(n, c, h // k, k, w // k, k).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, -1, k * k)
    )
    winners = np.eye(k * k)[rows.argmax(axis=-1)] * g.reshape(n, c, -1, 1)
    return winners.reshape(x.shape)  # in window order (h/k, w/k, k*k), not the image's


def spread(g, k):
    return np.kron(g, np.ones((k, k)))


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda g, x, k: spread(g, k) / k**2, "average pooling"),
        (lambda g, x, k: spread(g, k), "only the maximum"),
        (
            lambda g, x, k: max_pool_backward_shared(np.ones_like(g), x, k),
            "instead of the upstream",
        ),
        (lambda g, x, k: max_pool_backward_shared(g, x, k, share=False), "add up to more"),
        (lambda g, x, k: max_pool_backward_first(g, -x, k), "other than its maximum"),
        (lambda g, x, k: max_pool_backward_first(g, x, k)[..., :-1], "shape"),
        (lambda g, x, k: max_pool_backward_shared(g, x, 2), "not with 3x3"),
        (max_pool_backward_image_max, "not yet"),
        (max_pool_backward_window_transposed, "other than its maximum"),  # was the catch-all
        (max_pool_backward_not_put_back, "other than its maximum"),  # was the catch-all
        # the maxima found, but g read in another order: another window's g (a row's reversed,
        # the pooled rows reversed), not "an entry other than its maximum"
        (lambda g, x, k: max_pool_backward_first(g[..., ::-1], x, k), "another window's"),
        (lambda g, x, k: max_pool_backward_first(g[:, :, ::-1], x, k), "another window's"),
        # windows made by reshaping the image straight to (N, C, H/k, W/k, k, k): runs along a
        # row, not blocks (got the catch-all "not yet"; a novice's walk of the workbook)
        (max_pool_backward_row_runs, "follow one another along a row"),
    ],
)
def test_max_pool2d_backward_hints(wrong, words):
    feedback = nb14.check_max_pool2d_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "argmax" not in feedback.message and "kron" not in feedback.message


def max_pool_backward_sizes_swapped(g, x, k):
    # the notebook's answer with the batch size and the number of rows of windows swapped when
    # the windows are cut: the same windows while the two are equal (2 in the first cases)
    n, c, h, w = x.shape
    windows = x.reshape(h // k, c, n, k, w // k, k)
    is_max = windows == windows.max(axis=(3, 5), keepdims=True)
    share = is_max / is_max.sum(axis=(3, 5), keepdims=True)
    return (share * g[:, :, :, None, :, None]).reshape(x.shape)


def test_max_pool2d_backward_batch_size_swapped_with_another_size_is_rejected():
    # found by mutating the notebook's solution: every case of the check had a batch of 2 and 2
    # rows of windows, so this answer, which breaks on a batch of any other size, was "correct"
    feedback = nb14.check_max_pool2d_backward(max_pool_backward_sizes_swapped)
    assert feedback.status == "hint" and "not for a batch of 3" in feedback.message, feedback
    assert "reshape" not in our_words(feedback.message)


def test_max_pool2d_backward_gradient_to_a_non_maximum_in_a_tied_window():
    def last_of_window(g, x, k):  # right without ties, but a tied window's g goes to its last entry
        dx = max_pool_backward_first(g, x, k)
        tied = (pool_windows(x, k) == pool_windows(x, k).max(axis=(3, 5), keepdims=True)).sum(
            axis=(3, 5)
        ) > 1
        w = pool_windows(dx, k)
        w[tied[:, :, :, None, :, None].repeat(k, 3).repeat(k, 5)] = 0
        w[:, :, :, -1, :, -1][tied] = g[tied]
        return dx

    feedback = nb14.check_max_pool2d_backward(last_of_window)
    assert feedback.status == "hint" and "not a maximum" in feedback.message, feedback


def test_max_pool2d_backward_tied_shares_of_opposite_signs_are_rejected():
    def over_and_back(g, x, k):  # sums to g in each tied window, but as 2g and a negative rest
        windows = pool_windows(x, k)
        winners = windows == windows.max(axis=(3, 5), keepdims=True)
        count = winners.sum(axis=(3, 5), keepdims=True)
        gw = g[:, :, :, None, :, None]
        dx = pool_windows(max_pool_backward_first(g, x, k), k)  # g to the first maximum
        tied = winners & (count > 1)
        first = pool_windows(max_pool_backward_first(np.ones_like(g), x, k), k) == 1
        share = np.where(first, 2 * gw, -gw / np.maximum(count - 1, 1))
        dx = np.where(tied, share, dx)
        return dx.reshape(x.shape)

    feedback = nb14.check_max_pool2d_backward(over_and_back)
    assert feedback.status == "hint" and "opposite sign" in feedback.message, feedback


@pytest.mark.parametrize(
    "steps", [(1, -1), (1, 0), (0, -1)], ids=["central", "forward", "backward"]
)
@pytest.mark.parametrize("h", [1e-4, 1e-6])
def test_max_pool2d_backward_estimated_by_differences_is_refused(steps, h):
    # Without ties an estimate agrees with g routed to the maxima only to 8-11 digits (the gate
    # of the other derivation checks). At the ties it would fail anyway: nudging one of two tied
    # entries moves the max one way only, so an estimate hands each tied entry g/2 (central), g
    # (forward) or 0 (backward), and the window passes on 2g, 2g or 0.
    up, down = steps

    def estimated_by_differences(g, x, k):
        def loss(v):
            return float((g * pool_windows(v, k).max(axis=(3, 5))).sum())

        dx = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            hi, lo = x.copy(), x.copy()
            hi[i] += up * h
            lo[i] += down * h
            dx[i] = (loss(hi) - loss(lo)) / ((up - down) * h)
        return dx

    feedback = nb14.check_max_pool2d_backward(estimated_by_differences)
    assert feedback.status == "hint" and "only to about" in feedback.message, feedback


def test_max_pool2d_backward_with_g_carried_in_float32_is_told_so():
    def in_float32(g, x, k):  # the right routing, of g rounded to float32
        return max_pool_backward_first(g.astype(np.float32), x, k).astype(np.float64)

    feedback = nb14.check_max_pool2d_backward(in_float32)
    assert feedback.status == "hint" and "float32" in feedback.message, feedback


def test_max_pool2d_backward_not_done():
    assert nb14.check_max_pool2d_backward(stub).status == "not done"


# ------------------------------------------------------------ the package may not do the work
def weight_grad_im2col(x, g, k, padding=0):  # the notebook's way: im2col, then notebook 05's rule
    cols = im2col(x, k, 1, padding)
    return (g.transpose(0, 2, 3, 1).reshape(-1, g.shape[1]).T @ cols).reshape(
        g.shape[1], x.shape[1], k, k
    )


def input_grad_col2im(g, weight, padding=0):
    n, o, oh, ow = g.shape
    _, c, kh, kw = weight.shape
    dcols = g.transpose(0, 2, 3, 1).reshape(-1, o) @ weight.reshape(o, -1)
    return col2im(
        dcols, (n, c, oh + kh - 1 - 2 * padding, ow + kw - 1 - 2 * padding), (kh, kw), 1, padding
    )


def test_im2col_and_col2im_are_allowed():
    assert nb14.check_conv2d_weight_grad(weight_grad_im2col).passed
    assert nb14.check_conv2d_input_grad(input_grad_col2im).passed


def weight_grad_by_engine(x, g, k, padding=0):
    w = bl.Tensor(np.zeros((g.shape[1], x.shape[1], k, k)), requires_grad=True)
    bl.conv2d(x, w, padding=padding).backward(g)
    return w.grad


def input_grad_by_engine(g, weight, padding=0):
    n, o, oh, ow = g.shape
    _, c, kh, kw = weight.shape
    x = bl.Tensor(np.zeros((n, c, oh + kh - 1 - 2 * padding, ow + kw - 1 - 2 * padding)), True)
    bl.conv2d(x, bl.Tensor(weight), padding=padding).backward(g)
    return x.grad


def input_grad_by_forward_conv(g, weight, padding=0):  # notebook 14's section 4, with bl.conv2d
    kh, kw = weight.shape[2:]
    g_full = np.pad(g, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    dx = bl.conv2d(g_full, bl.Tensor(flipped)).data
    return dx[:, :, padding : dx.shape[2] - padding, padding : dx.shape[3] - padding]


def max_pool_by_engine(g, x, k):
    xt = bl.Tensor(x, requires_grad=True)
    bl.max_pool2d(xt, k).backward(g)
    return xt.grad


@pytest.mark.parametrize(
    "check, answer, words",
    [
        (nb14.check_conv2d_weight_grad, weight_grad_by_engine, "use only im2col and col2im"),
        (nb14.check_conv2d_input_grad, input_grad_by_engine, "use only im2col and col2im"),
        (nb14.check_conv2d_input_grad, input_grad_by_forward_conv, "use only im2col and col2im"),
        (nb14.check_max_pool2d_backward, max_pool_by_engine, "use only im2col and col2im"),
    ],
)
def test_answers_the_package_computes_are_refused(check, answer, words):
    feedback = check(answer)
    assert feedback.status == "hint" and words in feedback.message, feedback


# ------------------------------------------------------- a shape mistake gets a hint in words
def weight_grad_G_untransposed(x, g, kernel_size, padding=0):
    cols = im2col(x, kernel_size, 1, padding)  # (N*OH*OW, C*k*k)
    G = g.transpose(0, 2, 3, 1).reshape(-1, g.shape[1])  # (N*OH*OW, O)
    return (G @ cols).reshape(g.shape[1], x.shape[1], kernel_size, kernel_size)


def input_grad_weight_transposed(g, weight, padding=0):
    n, o, oh, ow = g.shape
    _, c, kh, kw = weight.shape
    dcols = g.transpose(0, 2, 3, 1).reshape(-1, o) @ weight.reshape(o, -1).T  # the forward's
    return col2im(
        dcols, (n, c, oh + kh - 1 - 2 * padding, ow + kw - 1 - 2 * padding), (kh, kw), 1, padding
    )


def max_pool_g_not_spread(g, x, kernel_size):
    k = kernel_size
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // k, k, w // k, k)
    is_max = windows == windows.max(axis=(3, 5), keepdims=True)
    return (is_max * g).reshape(x.shape)  # g has no axes for the places in a window


@pytest.mark.parametrize(
    "check, wrong, words",
    [
        (nb14.check_conv2d_weight_grad, weight_grad_G_untransposed,
         ["ValueError: a matrix product whose inner sizes differ: the left factor has 4 columns, "
          "the right factor 24 rows. Your function was given x of shape (2, 3, 5, 6) and g of "
          "shape (2, 4, 3, 4): check which side each factor goes on"]),
        (nb14.check_conv2d_input_grad, input_grad_weight_transposed,
         ["ValueError: a matrix product whose inner sizes differ: the left factor has 4 columns, "
          "the right factor 27 rows. Your function was given g of shape (2, 4, 3, 4) and weight "
          "of shape (4, 3, 3, 3): check which side each factor goes on"]),
        (nb14.check_max_pool2d_backward, max_pool_g_not_spread,
         ["ValueError: an elementwise operation on arrays of shapes (2, 3, 2, 2, 3, 2) and "
          "(2, 3, 2, 3), which do not fit together", "Your function was given g of shape "
          "(2, 3, 2, 3) and x of shape (2, 3, 4, 6): check the shape of each array you combine"]),
    ],
    ids=["weight grad", "input grad", "max pool"],
)  # fmt: skip
def test_shape_mistakes_get_the_shapes_by_name(check, wrong, words):
    feedback = check(wrong)
    assert feedback.status == "hint" and all(w in feedback.message for w in words), feedback
    for code in ("@", ".T", "None", "reshape", "transpose(", "operand", "gufunc", "broadcast to"):
        assert code not in our_words(feedback.message), feedback


# ------------------------------------------------------- round 4: each hint names the mistake
def _input_grad_cropping(g, weight, padding):
    """A right dx of the padded image, then the padding cut off with a slice [p:-p]."""
    n, o, oh, ow = g.shape
    _, c, kh, kw = weight.shape
    rows = g.transpose(0, 2, 3, 1).reshape(-1, o) @ weight.reshape(o, -1)
    dx = col2im(rows, (n, c, oh + kh - 1, ow + kw - 1), (kh, kw), 1, 0)
    return dx[:, :, padding:-padding, padding:-padding]


def test_conv2d_input_grad_empty_crop_at_padding_0_is_not_called_a_valid_correlation():
    feedback = nb14.check_conv2d_input_grad(_input_grad_cropping)
    assert feedback.status == "hint" and "no entries at all" in feedback.message, feedback
    assert "valid" not in feedback.message


def test_conv2d_weight_grad_crash_with_padding_names_the_padding():
    def padding_ignored(x, g, kernel_size, padding=0):
        rows = g.transpose(0, 2, 3, 1).reshape(-1, g.shape[1])
        cols = im2col(x, kernel_size, 1, 0)  # the padding it was given is never used
        return (rows.T @ cols).reshape(g.shape[1], x.shape[1], kernel_size, kernel_size)

    feedback = nb14.check_conv2d_weight_grad(padding_ignored)
    assert feedback.status == "hint" and "not with padding=1" in feedback.message, feedback


def test_sign_errors_are_named():
    def weight_grad_negated(x, g, kernel_size, padding=0):
        rows = g.transpose(0, 2, 3, 1).reshape(-1, g.shape[1])
        cols = im2col(x, kernel_size, 1, padding)
        return -(rows.T @ cols).reshape(g.shape[1], x.shape[1], kernel_size, kernel_size)

    def pool_negated(g, x, k):
        n, c, h, w = x.shape
        windows = x.reshape(n, c, h // k, k, w // k, k)
        is_max = windows == windows.max(axis=(3, 5), keepdims=True)
        return -(is_max * g[:, :, :, None, :, None]).reshape(x.shape)

    def input_grad_negated(g, weight, padding=0):
        n, o, oh, ow = g.shape
        _, c, kh, kw = weight.shape
        rows = g.transpose(0, 2, 3, 1).reshape(-1, o) @ weight.reshape(o, -1)
        shape = (n, c, oh + kh - 1 - 2 * padding, ow + kw - 1 - 2 * padding)
        return -col2im(rows, shape, (kh, kw), 1, padding)

    for feedback in (
        nb14.check_conv2d_weight_grad(weight_grad_negated),
        nb14.check_conv2d_input_grad(input_grad_negated),
        nb14.check_max_pool2d_backward(pool_negated),
    ):
        assert feedback.status == "hint" and "wrong sign" in feedback.message, feedback


def max_pool_maxima_by_package(g, x, k):
    """Right, ties split equally, but the window maxima come from bl.max_pool2d's forward."""
    up = lambda a: np.repeat(np.repeat(a, k, axis=2), k, axis=3)  # noqa: E731
    winners = (x == up(bl.max_pool2d(x, k).data)).astype(float)
    n, c, h, w = x.shape
    count = winners.reshape(n, c, h // k, k, w // k, k).sum(axis=(3, 5))
    return winners * up(g / count)


def test_the_challenge_says_what_its_check_refuses():
    """A novice walk found the maxima with bl.max_pool2d, met in section 5 just above, and the
    check refused a right answer by a rule the challenge never stated: the notebook now states
    it where the learner reads the task."""
    import json
    from pathlib import Path

    assert nb14.check_max_pool2d_backward(max_pool_maxima_by_package).status == "hint"
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "14_convolution_resnet.ipynb"
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    (task,) = [
        "".join(cell["source"])
        for cell in cells
        if "Challenge · max pooling" in "".join(cell["source"])
    ]
    for words in ("`im2col` and `col2im`", "`bl.max_pool2d` included", "refuses"):
        assert words in task, words


# ------------------------------------------------- sizes written in: the notebook's x and W's
NOTEBOOK_X_SHAPE, NOTEBOOK_W_SHAPE = (2, 3, 5, 6), (4, 3, 3, 3)  # the sizes of its x and W


def weight_grad_sizes_written_in(x, g, k, padding=0):  # the notebook's 4 and 3 channels
    n_out, n_in = NOTEBOOK_W_SHAPE[:2]
    return weight_grad(x, g, k, padding).reshape(n_out, n_in, k, k)


def input_grad_x_shape_written_in(g, weight, padding=0):  # col2im told the notebook's x.shape
    n_out, _, kh, kw = weight.shape
    dcols = g.transpose(0, 2, 3, 1).reshape(-1, n_out) @ weight.reshape(n_out, -1)
    return col2im(dcols, NOTEBOOK_X_SHAPE, (kh, kw), 1, padding)


@pytest.mark.parametrize(
    "check, wrong",
    [
        (nb14.check_conv2d_weight_grad, weight_grad_sizes_written_in),
        (nb14.check_conv2d_input_grad, input_grad_x_shape_written_in),
    ],
    ids=["weight grad", "input grad"],
)
def test_sizes_of_the_notebooks_arrays_written_in_are_refused(check, wrong):
    """Every case had the notebook's sizes (2 images of 3 channels, 5x6, 4 output channels), so
    an answer with those written in passed; a last case of other sizes says so."""
    feedback = check(wrong)
    assert feedback.status == "hint", feedback
    assert "not for 3 images of 2 channels, 7x4 pixels, and 5 output channels" in feedback.message
    assert "is a size fixed somewhere in your code" in feedback.message, feedback
