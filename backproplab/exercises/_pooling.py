"""Notebook 14's challenge: max pooling's backward pass, by hand.

``max_pool2d_backward(g, x, kernel_size)`` with stride = kernel size: each window passes its
upstream gradient on to its maximum. Without ties the answer is unique, and compared with g
routed to each window's maximum here (``_routed``), never by the package; where entries tie,
any split of g among the maxima is accepted. (The convolution checks are in ``nb14.py``.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

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
    uses_package,
)
from ._draws import check_rng

_PACKAGE_POOL = (
    "your function lets the package (backproplab) do the work: of the package, use only im2col "
    "and col2im (they cut the windows out and put them back); where each window's g goes is "
    "yours to write, with numpy."
)


def _max_pool(x: np.ndarray, k: int) -> np.ndarray:
    """Non-overlapping k x k max pooling of (N, C, H, W), H and W multiples of k."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // k, k, w // k, k).max(axis=(3, 5))


def _routed(g: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    """dL/dx for L = sum(g * _max_pool(x, k)) where no window has a tie: each window's g at its
    maximum, 0 elsewhere (exact: the max moves one for one with its winner, and not at all with
    the others)."""
    winners = x == np.kron(_max_pool(x, k), np.ones((k, k)))
    return np.kron(g, np.ones((k, k))) * winners


def _windows(a: np.ndarray, k: int) -> np.ndarray:
    """(N, C, H, W) -> (N, C, H/k, W/k, k*k): each pooling window's entries in a row."""
    n, c, h, w = a.shape
    return (
        a.reshape(n, c, h // k, k, w // k, k)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(n, c, h // k, w // k, k * k)
    )


def _row_run_windows(g: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    """A plausible slip's answer: x reshaped straight to (N, C, H/k, W/k, k, k), whose "windows"
    are runs of k*k entries along the rows, each one's maxima given its g."""
    n, c, h, w = x.shape
    runs = x.reshape(n, c, h // k, w // k, k, k)
    winners = runs == runs.max(axis=(-2, -1), keepdims=True)
    return (winners * g[..., None, None]).reshape(x.shape)


def _pooled_elsewhere(
    max_pool2d_backward: Callable, g: np.ndarray, x: np.ndarray, k: int, words: str
) -> Feedback | None:
    """None if the answer's dx on another case (no ties) is g routed to the maxima, else the
    hint ``words`` with what went wrong there."""
    name = "max_pool2d_backward"
    expected = _routed(g, x, k)
    got = result_array(name, attempt(name, max_pool2d_backward, g, x.copy(), k), x.shape, "dx")
    if isinstance(got, Feedback) or not close(got, expected):
        message = got.message if isinstance(got, Feedback) else "dx is not the gradient."
        return hint(name, f"{words} (Here: {message})")
    return None


def check_max_pool2d_backward(max_pool2d_backward: Callable) -> Feedback:
    """``max_pool2d_backward(g, x, kernel_size)`` -> dL/dx for out = max_pool2d(x, kernel_size)
    with stride = kernel_size, given g = dL/dout.

    Without ties the answer is unique (checked against g routed to each window's maximum, to
    rounding: an estimate by finite differences, or g carried in float32, is told so). Where
    several entries of a window tie for the maximum, any split of g among them (all to one, or
    shared) is a valid gradient; the check asks that each window passes on exactly g, and only
    to its maxima."""
    name = "max_pool2d_backward"
    if uses_package(max_pool2d_backward, (im2col, col2im)):  # the windows, as in exercises 1-2
        return hint(name, _PACKAGE_POOL)
    rng = check_rng(142)
    k = 2
    x = rng.permutation(2 * 3 * 4 * 6).reshape(2, 3, 4, 6) / 10.0  # distinct: no ties
    g = rng.standard_normal((2, 3, 2, 3))
    expected = _routed(g, x, k)
    case = {"g": g, "x": x}
    passed = {key: value.copy() for key, value in case.items()}
    got = result_array(name, attempt(name, max_pool2d_backward, passed["g"], passed["x"], k))
    if isinstance(got, Feedback):
        return got
    got = result_array(name, got, x.shape, "dx")
    if isinstance(got, Feedback):
        return got
    changed = changed_input(name, case, passed)
    if changed is not None:
        return changed
    if not close(got, expected):
        spread = np.kron(g, np.ones((k, k)))
        winners = (x == np.kron(_max_pool(x, k), np.ones((k, k)))).astype(float)
        if close(got, spread / (k * k)):
            return hint(
                name,
                "you spread g evenly over each window: that is average pooling's backward. Only "
                "one entry of a window decided the max.",
            )
        if close(got, spread):
            return hint(name, "every entry of a window got g: only the maximum moved the output.")
        if close(got, -spread * winners):
            return hint(name, "right places and sizes, wrong sign: the max passes g on as it is.")
        if close(got, winners):
            return hint(
                name,
                "you found the maxima, but passed on 1 instead of the upstream gradient g.",
            )
        if close(got, _row_run_windows(g, x, k)):
            return hint(
                name,
                "each of your windows holds k*k entries that follow one another along a row of "
                "the image, not a k x k block of it (k rows by k columns): what reshaping the "
                "image straight into windows gives.",
            )
        if close(np.sort(got, axis=None), np.sort(expected, axis=None)):  # the g's, moved
            if np.all((got == 0) | (winners == 1)):  # on the maxima: another window's g
                return hint(name, "each window's maximum gets a whole g, but another window's: "
                            "which entry of g belongs to which window?")  # fmt: skip
            return hint(name, "each window passes on its whole g, but to an entry other than its "
                        "maximum: where in the image does each window's winner sit?")  # fmt: skip
        return hint(
            name,
            "not yet: nudge one input entry by a little and ask which output moves, and by "
            "how much.",
        )
    derived = estimated(name, got, expected)  # to rounding: g itself, moved, not estimated
    if derived is not None:
        return derived
    # ties: ReLU outputs pool over windows full of zeros, and equal pixels are common
    x_tied = np.round(rng.standard_normal((2, 3, 4, 6)))
    x_tied[0, 0, :2, :2] = 0.0  # one window of four tied entries
    x_tied[1, 2, 2:, 4:] = [[1.0, 3.0], [3.0, 0.0]]  # two tied maxima
    g_tied = rng.standard_normal((2, 3, 2, 3))
    got = result_array(name, attempt(name, max_pool2d_backward, g_tied, x_tied.copy(), k))
    if isinstance(got, Feedback):
        return got
    got = result_array(name, got, x.shape, "dx")
    if isinstance(got, Feedback):
        return got
    at_max = _windows(x_tied, k) == _max_pool(x_tied, k)[..., None]
    shares = _windows(got, k)
    if np.any((shares != 0) & ~at_max):
        return hint(
            name,
            "where several entries of a window tie for the max, some gradient went to an "
            "entry that is not a maximum.",
        )
    if np.any(shares * g_tied[..., None] < -1e-12):
        return hint(
            name,
            "in windows where several entries tie for the max, one of your tied entries gets a "
            "share of g with the opposite sign: at a tie the max has no derivative, and each "
            "tied entry may take a part of g between none and all of it, never more.",
        )
    if not close(shares.sum(axis=-1), g_tied):
        return hint(
            name,
            "in windows where several entries tie for the max, your gradients add up to more "
            "(or less) than the upstream gradient: moving all the tied entries together moves "
            "the output by the same amount, so each window must pass on exactly g.",
        )
    # a batch of another size: in the cases above the batch (2) equals the number of rows of
    # windows (2), so an answer that swaps those two sizes when cutting the windows goes unseen
    x3, g3 = np.concatenate([x, x[:1] - 50.0]), np.concatenate([g, g[:1]])  # no ties either
    wrong = _pooled_elsewhere(
        max_pool2d_backward, g3, x3, k, "right for a batch of 2 images, not for a batch of 3: "
        "is the batch size mixed up with another size where the windows are cut?"
    )  # fmt: skip
    if wrong is not None:
        return wrong
    # windows of another size: an answer that fixed the size to 2 (the example's) stops working
    rng = check_rng(143)
    x = rng.permutation(2 * 2 * 6 * 9).reshape(2, 2, 6, 9) / 10.0  # distinct: no ties
    g = rng.standard_normal((2, 2, 2, 3))
    wrong = _pooled_elsewhere(
        max_pool2d_backward, g, x, 3, "right with 2x2 windows, not with 3x3 ones: is the size 2 "
        "fixed somewhere in your code instead of taken from kernel_size?"
    )  # fmt: skip
    if wrong is not None:
        return wrong
    return correct(
        name,
        "matches the exact gradient where no entries tie, with 2x2 and 3x3 windows, and "
        "windows with tied maxima pass on exactly g.",
    )
