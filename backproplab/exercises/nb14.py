"""Self-checks for notebook 14, convolution.

Layouts are PyTorch's: images ``x`` are (N, C, H, W), a convolution's weight is
(out_channels, in_channels, kh, kw), and ``conv2d`` is a cross-correlation (no flip) with
stride 1: out[n, o, p, q] = sum over c, i, j of weight[o, c, i, j] * x_pad[n, c, p + i, q + j].
Expected gradients are exact, written here from that formula (a sliding window and one einsum
for the weight; for the input, each kernel offset's products added back where they came from),
never through ``bl.conv2d``; an answer that agrees with them only as an estimate by finite
differences does, or a computation in float32, is told so (``estimated``). Max pooling's
challenge is in ``_pooling.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..convolution import col2im, im2col
from . import (
    Feedback,
    attempt,
    changed_input,
    close,
    correct,
    estimated,
    hint,
    result_array,
    roughly,
    uses_package,
)
from ._draws import check_rng
from ._pooling import check_max_pool2d_backward

__all__ = ["check_conv2d_input_grad", "check_conv2d_weight_grad", "check_max_pool2d_backward"]


def _windows(x: np.ndarray, kernel: tuple[int, int], padding: int) -> np.ndarray:
    """(N, C, H, W) -> (N, C, H', W', kh, kw): the window of x_pad under every output position."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    # the ignore is for numpy < 2.3, whose type hints allow one axis only
    return sliding_window_view(x, kernel, axis=(2, 3))  # type: ignore[call-overload, unused-ignore]


def _conv(x: np.ndarray, weight: np.ndarray, padding: int = 0) -> np.ndarray:
    """Stride-1 cross-correlation, (N, C, H, W) and (O, C, kh, kw) -> (N, O, H', W')."""
    return np.einsum("ncpqij,ocij->nopq", _windows(x, weight.shape[2:], padding), weight)


def _weight_grad(g: np.ndarray, x: np.ndarray, weight: np.ndarray, padding: int) -> np.ndarray:
    """dL/dweight for L = sum(g * conv(x, weight)): weight[o, c, i, j] met x_pad[n, c, p + i,
    q + j] at every output (n, o, p, q), so its gradient sums g times those pixels."""
    return np.einsum("nopq,ncpqij->ocij", g, _windows(x, weight.shape[2:], padding))


def _input_grad(g: np.ndarray, x: np.ndarray, weight: np.ndarray, padding: int) -> np.ndarray:
    """dL/dx for L = sum(g * conv(x, weight)): each kernel offset (i, j) sent weight[:, :, i, j]
    times g to the pixels x_pad[..., p + i, q + j]; added up there, and the padding cut off."""
    n, c, h, w = x.shape
    oh, ow = g.shape[2:]
    dx_pad = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for i, j in np.ndindex(*weight.shape[2:]):
        dx_pad[:, :, i : i + oh, j : j + ow] += np.einsum("nopq,oc->ncpq", g, weight[:, :, i, j])
    return dx_pad[:, :, padding : padding + h, padding : padding + w]


# (N, C, H, W, out_channels): a batch of 2 images with 3 channels, 5x6 (not square), and 4 output
# channels (out != in), the sizes of the notebook's x and W; then other sizes, all changed at once
_SIZES = (2, 3, 5, 6, 4)
_OTHER_SIZES = (3, 2, 7, 4, 5)


def _inputs(
    rng: np.random.Generator, padding: int, kernel: tuple[int, int] = (3, 3), sizes=_SIZES
) -> dict[str, np.ndarray]:
    """Images x of ``sizes``' (N, C, H, W), a (out_channels, C, kh, kw) weight, and g."""
    x = rng.standard_normal(sizes[:4])
    weight = rng.standard_normal((sizes[4], sizes[1], *kernel))
    g = rng.standard_normal(_conv(x, weight, padding).shape)
    return {"x": x, "weight": weight, "g": g}


# (kernel, padding) of each case: 3x3 without and with padding, then one more kernel, where an
# answer that fixed the kernel's size (3, or kh for kw) stops working, a padding of 2, where an
# answer that pads (or crops) by 1 whenever padding is not 0 stops working, and last
# _OTHER_SIZES, where an answer that fixed a size of the images or the channels stops working
_CASES = (((3, 3), 0), ((3, 3), 1))
_WIDE_PADDING = ((3, 3), 2)


def _unordered(g: np.ndarray) -> np.ndarray:
    """The upstream gradient whose rows G, taken in the order of im2col's windows (n, p, q), are
    those of ``g.reshape(-1, out_channels)``: an answer that reshaped g without moving its channel
    axis last computed the right gradient for this g instead of for ``g``."""
    n, o, oh, ow = g.shape
    return g.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)


def _label(kernel: tuple[int, int], padding: int, sizes=_SIZES) -> str:
    if sizes != _SIZES:
        return (
            f"with images of shape {sizes[:4]}, {sizes[4]} output channels and padding={padding}:"
        )
    return (
        f"with padding={padding}:"
        if kernel == (3, 3)
        else (f"with a {kernel[0]}x{kernel[1]} kernel and padding={padding}:")
    )


def _other_kernel(name: str, feedback: Feedback, kernel: tuple[int, int]) -> Feedback:
    """A failure on the last case, after the 3x3 ones passed: say that only the kernel changed."""
    if feedback.status != "hint":
        return feedback
    return hint(
        name,
        f"right with 3x3 kernels, not with a {kernel[0]}x{kernel[1]} one: is a size fixed "
        f"somewhere in your code instead of taken from the arguments? (Here: {feedback.message})",
    )


def _padded_case(name: str, feedback: Feedback) -> Feedback:
    """A crash on the second case (padding=1), after the first (padding=0) passed: say that only
    the padding changed, before the crash's own words (which may suggest a transpose)."""
    if feedback.status != "hint" or not feedback.message.startswith("your code raised"):
        return feedback
    return hint(name, "right with padding=0, not with padding=1, the only change: does your code "
                f"use the padding it is given, where the forward pass did? (Here: "
                f"{feedback.message})")  # fmt: skip


def _other_sizes(name: str, feedback: Feedback) -> Feedback:
    """A failure on the last case, after the others passed: say that only the sizes changed."""
    if feedback.status != "hint":
        return feedback
    n, c, h, w, o = _OTHER_SIZES
    return hint(
        name,
        f"right for 2 images of 3 channels, 5x6 pixels, and 4 output channels, not for {n} images "
        f"of {c} channels, {h}x{w} pixels, and {o} output channels: is a size fixed somewhere in "
        "your code (perhaps taken from one of the notebook's arrays, which have the first "
        f"sizes) instead of from the arguments? (Here: {feedback.message})",
    )


def _after_first(name: str, feedback: Feedback, k: int, kernel, padding: int) -> Feedback:
    """The hint of case ``k`` (0-based) when it failed, with the cases before it passed."""
    if k == 0:
        return feedback
    if k == 4:
        return _other_sizes(name, feedback)
    return _padded_case(name, feedback) if k == 1 else _other_case(name, feedback, kernel, padding)


def _other_case(name: str, feedback: Feedback, kernel: tuple[int, int], padding: int) -> Feedback:
    """The hint for a failure after the first two cases passed: only the kernel changed, or (the
    last case) only the padding."""
    if (kernel, padding) != _WIDE_PADDING:
        return _other_kernel(name, feedback, kernel)
    if feedback.status != "hint":
        return feedback
    return hint(
        name,
        f"right with padding 0 and 1, not with padding={padding}: is an amount of padding fixed "
        f"somewhere in your code instead of taken from the arguments? (Here: {feedback.message})",
    )


_ORDER = (
    "the rows of your matrix of upstream gradients are not in the order of the windows (the rows "
    "of im2col's output run over n, then p, then q): g is (N, O, OH, OW), with the channels "
    "before the positions."
)


_READ_CHANNEL_LAST = (
    "the right numbers, in the wrong places within each output channel's weights: you read a "
    "row of im2col's output as running over (kh, kw, channel), the channels innermost, but "
    "im2col lays each window out channel by channel: all kh * kw pixels of channel 0, then those "
    "of channel 1, and so on. (im2col on a small image of two channels shows the order.)"
)
_LAID_OUT_CHANNEL_LAST = (
    "the right numbers, in the wrong places within each output channel's weights: your entries "
    "run over (kh, kw, channel), the channels innermost (windows cut channel-last), but the "
    "weight is laid out (out_channels, in_channels, kh, kw), the channels before the kernel's "
    "rows and columns, and a reshape keeps the entries in the order they are in."
)


_PACKAGE_BUT = (
    "your function lets the package (backproplab) do the work: of the package, use only im2col "
    "and col2im, and notebook 05's rule for the rest."
)


def _case_by_case(
    name: str, fn: Callable, one_case: Callable, seed: int, other_kernel: tuple[int, int]
) -> Feedback:
    """Check a convolution's gradient ``fn``: refused if the package does more than im2col and
    col2im, then ``one_case`` (None if right, else the hint) on each case in turn: 3x3 kernels
    with padding 0 and 1, ``other_kernel`` with padding 1, a 3x3 kernel with padding 2, and a
    3x3 kernel with padding 1 at _OTHER_SIZES. The first case that fails gives its hint, saying
    what changed from the cases that passed."""
    if uses_package(fn, (im2col, col2im)):
        return hint(name, _PACKAGE_BUT)
    rng = check_rng(seed)
    cases = [(*case, _SIZES) for case in (*_CASES, (other_kernel, 1), _WIDE_PADDING)]
    for k, (kernel, padding, sizes) in enumerate([*cases, ((3, 3), 1, _OTHER_SIZES)]):
        feedback = one_case(name, fn, rng, kernel, padding, sizes)
        if feedback is not None:
            return _after_first(name, feedback, k, kernel, padding)
    return correct(name, "matches the exact gradient, with and without padding.")


# ----------------------------------------------------------------------------- conv2d_weight_grad
def check_conv2d_weight_grad(conv2d_weight_grad: Callable) -> Feedback:
    """``conv2d_weight_grad(x, g, kernel_size, padding)`` -> dL/dweight, shape
    (out_channels, in_channels, k, k), given g = dL/dout of shape (N, out_channels, H', W')."""
    return _case_by_case(
        "conv2d_weight_grad", conv2d_weight_grad, _weight_grad_case, seed=140, other_kernel=(2, 2)
    )


def _weight_grad_case(
    name: str, conv2d_weight_grad: Callable, rng: np.random.Generator, kernel, padding: int, sizes
) -> Feedback | None:
    """One case of check_conv2d_weight_grad: None if right, else the hint."""
    case = _inputs(rng, padding, kernel, sizes)
    x, weight, g = case["x"], case["weight"], case["g"]
    expected = _weight_grad(g, x, weight, padding)
    passed = {key: value.copy() for key, value in case.items()}
    result = attempt(name, conv2d_weight_grad, passed["x"], passed["g"], kernel[0], padding)
    if isinstance(result, Feedback):
        return result
    got = result_array(name, result, what="dW")
    if isinstance(got, Feedback):
        return got
    o, c = weight.shape[:2]
    if got.shape == (c, o, *kernel):
        return hint(
            name,
            "dW has the in- and out-channel axes swapped: a gradient has the shape of its "
            f"parameter, here (out_channels, in_channels, kh, kw) = {weight.shape}.",
        )
    got = result_array(name, got, weight.shape, "dW")
    if isinstance(got, Feedback):
        return got
    changed = changed_input(name, case, passed)
    if changed is not None:
        return changed
    if close(got, expected):
        return estimated(name, got, expected)  # None when right to rounding, as derived is
    label = _label(kernel, padding, sizes)
    if close(got, -expected):
        return hint(name, f"{label} right size, wrong sign: nothing in a convolution flips one.")
    first = _weight_grad(g[:1], x[:1], weight, padding)
    if close(got * len(x), expected):
        return hint(
            name,
            f"{label} dW is off by a factor of the batch size: every example used the same "
            "weight, so their contributions add up (g already carries any 1/N).",
        )
    if close(got, first):
        return hint(name, f"{label} only the first example contributes: sum over the batch.")
    if close(got[..., ::-1, ::-1], expected):
        return hint(
            name,
            f"{label} dW is rotated by 180 degrees: conv2d correlates without flipping, so "
            "weight[o, c, i, j] met x at offset (i, j) from each output position.",
        )
    if close(got.transpose(0, 1, 3, 2), expected):
        h, w = x.shape[2:]
        return hint(name, f"{label} the two spatial axes of dW are swapped (the image is {h}x{w}).")
    if close(got, _weight_grad(_unordered(g), x, weight, padding)):
        return hint(name, f"{label} {_ORDER}")
    if close(got, expected.reshape(len(weight), -1).T.reshape(weight.shape)):
        return hint(
            name,
            f"{label} the right numbers in the wrong places: a matrix of shape "
            "(in_channels * kh * kw, out_channels) does not reshape into (out_channels, "
            "in_channels, kh, kw) as it stands; which of its axes is out_channels?",
        )
    by_kernel = expected.reshape(o, c, -1)  # each output channel's kernel, channel by channel
    if close(got, by_kernel.reshape(o, *kernel, c).transpose(0, 3, 1, 2)):
        return hint(name, f"{label} {_READ_CHANNEL_LAST}")
    if close(got, expected.transpose(0, 2, 3, 1).reshape(weight.shape)):
        return hint(name, f"{label} {_LAID_OUT_CHANNEL_LAST}")
    if close(np.sort(got.reshape(o, -1)), np.sort(by_kernel.reshape(o, -1))):
        return hint(
            name,
            f"{label} each output channel has the right numbers, in the wrong places: which axis "
            "of your dW is which? The weight is (out_channels, in_channels, kh, kw).",
        )
    if close(got * g[0, 0].size * len(x), expected):
        return hint(
            name,
            f"{label} dW is too small by the number of windows (N * OH * OW): every window used "
            "the same weight, so their contributions add up, with no mean.",
        )
    if padding == 1 and kernel == (3, 3) and sizes == _SIZES:
        return hint(
            name,
            f"{label} right without padding, not with it: the forward pass padded x before "
            "sliding the kernel over it.",
        )
    return roughly(name, got, expected) or hint(
        name,
        f"not yet {label} write dW[o, c, i, j] as a sum over n, p, q of the upstream "
        "gradient times the input that weight met, from the forward formula.",
    )


# ------------------------------------------------------------------------------ conv2d_input_grad
def check_conv2d_input_grad(conv2d_input_grad: Callable) -> Feedback:
    """``conv2d_input_grad(g, weight, padding)`` -> dL/dx of shape (N, in_channels, H, W), where
    the forward pass was out = conv2d(x, weight, stride=1, padding=padding)."""
    return _case_by_case(  # the other kernel is not square
        "conv2d_input_grad", conv2d_input_grad, _input_grad_case, seed=141, other_kernel=(2, 3)
    )


def _input_grad_case(
    name: str, conv2d_input_grad: Callable, rng: np.random.Generator, kernel, padding: int, sizes
) -> Feedback | None:
    """One case of check_conv2d_input_grad: None if right, else the hint."""
    case = _inputs(rng, padding, kernel, sizes)
    x, weight, g = case["x"], case["weight"], case["g"]
    expected = _input_grad(g, x, weight, padding)
    passed = {key: value.copy() for key, value in case.items()}
    result = attempt(name, conv2d_input_grad, passed["g"], passed["weight"], padding)
    if isinstance(result, Feedback):
        if (
            padding
            and "do not fit images of shape" in result.message
            and f"images of shape {x.shape}" not in result.message
        ):  # col2im got a size for x that is not x's: the padding was not taken off
            return hint(
                name,
                f"{_label(kernel, padding, sizes)} the size you recovered for x is not x's: the "
                "output came from x with its border of padding, so x itself is smaller by the "
                f"padding on both sides. (Here: {result.message})",
            )
        return result
    got = result_array(name, result, what="dx")
    if isinstance(got, Feedback):
        return got
    label = _label(kernel, padding, sizes)
    n, c, h, w = x.shape
    if got.shape == (n, weight.shape[0], h, w):
        return hint(
            name,
            f"{label} dx has one channel per output channel ({weight.shape[0]}), but x has {c}: "
            "going backward, the weight's in- and out-channel axes trade places.",
        )
    if got.shape == (n, c, h + 2 * padding, w + 2 * padding) and padding:
        return hint(
            name,
            f"{label} dx has the shape of the padded input: the padding is not part of x, "
            "so its border's gradient goes nowhere.",
        )
    if got.size == 0 and padding == 0:
        return hint(
            name,
            f"{label} your dx has no entries at all (shape {got.shape}): if you cut the padding "
            "off with a slice that ends at minus the padding, that slice ends at 0 when the "
            "padding is 0, and keeps nothing.",
        )
    if got.shape[:2] == (n, c) and got.shape[2] < h:
        return hint(
            name,
            f"{label} dx is smaller than x: a 'valid' correlation shrinks g; every input "
            "pixel needs every output it contributed to, so g must be padded ('full').",
        )
    got = result_array(name, got, x.shape, "dx")
    if isinstance(got, Feedback):
        return got
    changed = changed_input(name, case, passed)
    if changed is not None:
        return changed
    if close(got, expected):
        return estimated(name, got, expected)  # None when right to rounding, as derived is
    if close(got, -expected):
        return hint(name, f"{label} right size, wrong sign: nothing in a convolution flips one.")
    unflipped = _input_grad(g, x, weight[..., ::-1, ::-1], padding)
    if close(got, unflipped):
        return hint(
            name,
            f"{label} your dx is the one of the kernel rotated by 180 degrees: input pixel p met "
            "weight offset i at output p - i, so walking over the outputs runs through the "
            "kernel backwards. (If you flipped the kernel before col2im, don't: col2im already "
            "adds each window back onto the pixels it came from.)",
        )
    if close(got, _input_grad(_unordered(g), x, weight, padding)):
        return hint(name, f"{label} {_ORDER}")
    return roughly(name, got, expected) or hint(
        name,
        f"not yet {label} write dx[n, c, h, w] as a sum over the outputs that this pixel "
        "reached, from the forward formula, then compare with your loops on a 3x3 example.",
    )
