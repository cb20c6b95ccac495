"""Self-checks for notebook 13, normalization.

Batch-first, as everywhere: ``x`` has one example per row, shape (N, D). Batch norm normalises
each column (feature) over the batch, layer norm each row (example) over its features; both then
scale by ``gamma`` and shift by ``beta`` (shape (D,)). Expected gradients come from the engine on a
graph of primitives (mean, subtract, square, sqrt, divide) written out here, never from
``bl.batch_norm`` / ``bl.layer_norm``, whose signatures a learner could call. The wrong answers
the hints recognise are computed here from the compact formulas, with one piece changed.
Evaluation mode's exercise is in ``_eval_mode.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Feedback, attempt, correct, hint, result_array
from ._draws import check_rng
from ._eval_mode import check_batch_norm_eval_backward
from ._normalization import (
    EPS,
    FLOOR,
    NOTEBOOK_EPS,
    UNBIASED,
    _case,
    _close,
    _compare,
    _other_eps,
    _pieces,
)

__all__ = [
    "check_batch_norm_backward",
    "check_batch_norm_eval_backward",
    "check_fold_batch_norm",
    "check_layer_norm_backward",
]


# --------------------------------------------------------------------------- batch_norm_backward
ROW_MEAN = (
    "on the path through the batch mean mu, your sum runs along each example's features (a "
    "row): mu is one number per feature, computed over the batch, so what reaches it is "
    "collected over the examples, down each column."
)
ROW_VARIANCE = (
    "on the path through the batch variance and sigma, your sum runs along each example's "
    "features (a row): each is one number per feature, computed over the batch, so what reaches "
    "it is collected over the examples, down each column."
)
ROW_BOTH = (
    "on the paths through the batch mean and the batch variance, your sums run along each "
    "example's features (a row): both are one number per feature, computed over the batch, so "
    "what reaches them is collected over the examples, down each column."
)


def _walk(
    case: dict[str, np.ndarray], mu_axis: int, sigma_axis: int, mean: bool, inside: int = 2,
    direct: bool = False,
) -> np.ndarray:  # fmt: skip
    """dx by section 2's walk down the graph, node by node, with the sums that collect the
    gradients of sigma and of mu over the axes given (0, over the batch, is right); ``mean``:
    mu's sum over axis 1 divided by D, not by N; ``inside``: the power of sigma inside sigma's
    sum, 2 as section 2's table has it, 0 as its dL/dv (sigma after the sum), 3 all of dL/dv's
    (one number per feature, sigma may go in or out of a sum down a column, not one along a row);
    ``direct``: mu's gradient by the direct path alone, as section 2 has it once the variance's
    path drops out (it does when sigma's sum runs down the columns)."""
    g, x, gamma = case["g"], case["x"], case["gamma"]
    centred = x - x.mean(axis=0)
    sigma = np.sqrt((centred**2).mean(axis=0) + EPS)
    d_x_hat = g * gamma
    d_sigma = -(d_x_hat * centred / sigma**inside).sum(axis=sigma_axis, keepdims=True)
    d_sigma = d_sigma / sigma ** (2 - inside)
    d_centred = d_x_hat / sigma + d_sigma / (2 * sigma) * 2 * centred / len(x)
    d_mu = -(d_x_hat / sigma if direct else d_centred).sum(axis=mu_axis, keepdims=True)
    return d_centred + d_mu / (x.shape[1] if mean else len(x))


def _batch_norm_wrong_dx(case: dict[str, np.ndarray]) -> list[tuple[np.ndarray, str]]:
    """Plausible wrong dx for batch norm, each with the hint that names its mistake."""
    g, x, gamma = case["g"], case["x"], case["gamma"]
    x_hat, sigma = _pieces(x, 0)
    x_hat_u, sigma_u = _pieces(x, 0, ddof=1)
    x_hat_f, sigma_f = _pieces(x, 0, floor=True)
    n = len(x)
    path = "the term from the path through the batch variance"

    def compact(x_hat_=x_hat, sigma_=sigma, centre=1.0, spread=1.0, mean=np.mean, axes=(0, 0)):
        """The compact formula; ``centre`` and ``spread`` scale its two last terms, ``axes``
        are those of their means."""
        out = g - centre * mean(g, axis=axes[0], keepdims=True)
        out = out - spread * x_hat_ * mean(g * x_hat_, axis=axes[1], keepdims=True)
        return gamma * out / sigma_

    def total(a, axis, keepdims):
        return a.sum(axis=axis, keepdims=keepdims)

    # the variance's term with a mean along each row, of g times c, sigma taken out after it
    row_spread = x_hat * (g * x_hat * sigma).mean(axis=1, keepdims=True) / sigma

    return [
        (
            gamma * g / sigma,
            "you treated the batch mean and variance as constants: they are computed from x "
            "too, so x reaches the output along more paths than the direct one.",
        ),
        (
            compact(centre=0.0),
            "the path through the batch mean mu is missing (the centring term): every x_i "
            "moves mu, and mu is subtracted from every example.",
        ),
        (
            compact(spread=0.0),
            "the path through the batch variance is missing: every x_i moves the variance, "
            "which divides every example.",
        ),
        (compact(x_hat_u, sigma_u), UNBIASED),
        (compact(x_hat_f, sigma_f), FLOOR),
        (
            compact(mean=total),
            f"two terms are {n} times too large: sums where the formula has means (a 1/N is "
            "missing).",
        ),
        (
            compact(centre=n),
            f"the centring term (the path through the batch mean mu) is {n} times too large: "
            "a 1/N is missing there, for mu is a mean over the batch, not a sum.",
        ),
        (
            compact(spread=n),
            f"{path} is {n} times too large: a 1/N is missing there, for the variance is a mean "
            "over the batch, not a sum.",
        ),
        (
            compact(spread=n / (n - 1)),
            f"{path} is {n}/{n - 1} times too large: it divides by N - 1, but the variance of "
            "the forward pass is the biased one, a mean over the N examples.",
        ),
        (
            compact(centre=-1.0),
            "the centring term (the path through the batch mean mu) has the wrong sign: mu is "
            "subtracted from every example, and that minus stays on the gradient through it.",
        ),
        (
            compact(spread=-1.0),
            f"{path} has the wrong sign: a larger sigma makes every x_hat smaller in size, so "
            "that path carries the minus of the division by sigma.",
        ),
        (
            compact(spread=0.5),
            f"{path} is half its size: a factor 2 is missing on that path (the variance is a "
            "mean of squares).",
        ),
        (
            compact(spread=2.0),
            f"{path} is twice its size: on that path a factor 2 is counted once too often, or "
            "the 1/2 that the square root brings is missing.",
        ),
        (
            compact(spread=sigma),
            f"{path} is sigma times too large, feature by feature: on that path, how does c "
            "divided by sigma change as sigma changes? Its derivative divides by sigma squared.",
        ),
        (
            compact(spread=sigma / gamma),
            f"{path} lacks the factor gamma over sigma that the other two terms share: that "
            "path too reaches the output through x_hat (c divided by sigma), then gamma.",
        ),
        (compact(axes=(1, 0)), ROW_MEAN),
        (compact(axes=(0, 1)), ROW_VARIANCE),
        (gamma / sigma * (g - g.mean(axis=0) - row_spread), ROW_VARIANCE),
        (compact(axes=(1, 1)), ROW_BOTH),
        *(  # section 2's walk with a sum along a row, sigma in it or out, mu by its direct path
            (_walk(case, mu_axis, sigma_axis, mean, inside, direct), message)
            for mu_axis, sigma_axis, message in (
                (1, 0, ROW_MEAN),
                (0, 1, ROW_VARIANCE),
                (1, 1, ROW_BOTH),
            )
            for mean in ((False, True) if mu_axis == 1 else (False,))
            for inside in (2, 0, 3)
            for direct in (False, True)
        ),
        (
            compact() / gamma,
            "gamma is missing from dx: the gradient reaches x_hat through "
            "o = gamma * x_hat + beta.",
        ),
        (
            compact() * sigma,
            "all three terms of dx share one factor per feature, the one that dividing c by "
            "sigma brings, and yours lacks it: dx is sigma times too large.",
        ),
    ]


def check_batch_norm_backward(batch_norm_backward: Callable) -> Feedback:
    """``batch_norm_backward(g, x, gamma, eps)`` -> ``(dx, dgamma, dbeta)`` for training-mode
    batch norm o = gamma * (x - mu) / sqrt(var + eps) + beta, statistics over the batch (axis 0),
    given g = dL/do of shape (N, D)."""
    name = "batch_norm_backward"
    rng = check_rng(130)
    for n, d in ((6, 4), (2, 3)):  # N = 2: the smallest batch, where every term is large
        case = _case(rng, n, d, 0)
        feedback = _compare(name, batch_norm_backward, case, 0, _batch_norm_wrong_dx)
        if feedback is not None:
            return feedback
    feedback = _other_eps(name, batch_norm_backward, case, 0)  # a number written in for eps
    if feedback is not None:
        return feedback
    return correct(
        name,
        "dx, dgamma and dbeta match the engine's backward through mean, variance, sqrt and "
        "divide, including a feature that is constant over the batch.",
    )


# --------------------------------------------------------------------------- layer_norm_backward
def _layer_norm_wrong_dx(case: dict[str, np.ndarray]) -> list[tuple[np.ndarray, str]]:
    """Plausible wrong dx for layer norm, each with the hint that names its mistake."""
    g, x, gamma = case["g"], case["x"], case["gamma"]
    x_hat, sigma = _pieces(x, 1)
    gh = g * gamma  # dL/dx_hat
    d = x.shape[1]
    # batch norm's compact formula with the statistics (and means) over the batch axis
    xb_hat, sigma_b = _pieces(x, 0)
    ghb = g * gamma
    over_batch = (
        ghb - ghb.mean(axis=0, keepdims=True) - xb_hat * (ghb * xb_hat).mean(axis=0, keepdims=True)
    ) / sigma_b
    return [
        (
            over_batch,
            "these are batch norm's statistics: layer norm takes the mean and variance of each "
            "example over its own features, so the means in dx run along the other axis.",
        ),
        (  # each example's x_hat, but exercise 1's means over the batch (a novice walk's slip)
            (gh - gh.mean(axis=0, keepdims=True) - x_hat * (gh * x_hat).mean(axis=0, keepdims=True))
            / sigma,
            "x_hat is each example's, but the means in dx run over the batch, as in batch norm: "
            "here every example has a mean and a variance of its own, so the means run over its "
            "features.",
        ),
        (
            gamma
            * (g - g.mean(axis=1, keepdims=True) - x_hat * (g * x_hat).mean(axis=1, keepdims=True))
            / sigma,
            "gamma was pulled out of the means: in layer norm gamma changes along the axis you "
            "average over, so it has to act on g before the means are taken.",
        ),
        (
            (gh - x_hat * (gh * x_hat).mean(axis=1, keepdims=True)) / sigma,
            "the path through each example's mean is missing (the centring term).",
        ),
        (
            (gh - gh.mean(axis=1, keepdims=True)) / sigma,
            "the path through each example's variance is missing.",
        ),
        (
            (gh - gh.sum(axis=1, keepdims=True) - x_hat * (gh * x_hat).sum(axis=1, keepdims=True))
            / sigma,
            f"two terms are {d} times too large: sums where the formula has means over the "
            "features.",
        ),
    ]


def check_layer_norm_backward(layer_norm_backward: Callable) -> Feedback:
    """``layer_norm_backward(g, x, gamma, eps)`` -> ``(dx, dgamma, dbeta)`` for layer norm:
    statistics of each example over its D features (axis 1), then o = gamma * x_hat + beta with
    gamma, beta of shape (D,), given g = dL/do of shape (N, D)."""
    name = "layer_norm_backward"
    rng = check_rng(131)
    for n, d in ((5, 4), (3, 2)):
        case = _case(rng, n, d, 1)
        feedback = _compare(name, layer_norm_backward, case, 1, _layer_norm_wrong_dx)
        if feedback is not None:
            return feedback
    feedback = _other_eps(name, layer_norm_backward, case, 1)  # a number written in for eps
    if feedback is not None:
        return feedback
    return correct(
        name,
        "dx, dgamma and dbeta match the engine's backward through each example's mean and "
        "variance, including an example whose features are all equal.",
    )


# ------------------------------------------------------------------------------ fold_batch_norm
def check_fold_batch_norm(fold_batch_norm: Callable) -> Feedback:
    """``fold_batch_norm(linear, bn)`` -> ``(W, b)``: one affine map x W^T + b that equals
    ``bn(linear(x))`` in evaluation mode, for a ``bl.nn.Linear`` and a ``bl.nn.BatchNorm1d``.

    The reference is numpy on the layers' arrays: gamma * (z - running_mean) /
    sqrt(running_var + eps) + beta with z = x W^T + b. The batch norm here has eps = 0.1, so that
    forgetting eps shows, and running statistics far from 0 and 1; a second one, alike but for
    its eps of 0.03, refuses an eps written in."""
    from ..nn import BatchNorm1d, Linear  # here: nn imports this package's siblings

    name = "fold_batch_norm"
    rng = check_rng(132)
    n_in, n_out = 5, 3  # not square: a transposed or misplaced scale cannot go unnoticed
    linear = Linear(n_in, n_out, rng=rng)
    assert linear.bias is not None  # (a Linear has a bias unless bias=False)
    linear.bias.data = rng.standard_normal(n_out)
    bn = BatchNorm1d(n_out, eps=0.1)
    bn.weight.data = rng.uniform(0.5, 2.0, n_out) * np.array([1.0, -1.0, 1.0])
    bn.bias.data = rng.standard_normal(n_out)
    bn.running_mean[:] = rng.standard_normal(n_out) * 2
    bn.running_var[:] = rng.uniform(0.2, 3.0, n_out)
    arrays = {
        "linear.weight": linear.weight.data,
        "linear.bias": linear.bias.data,
        "bn.weight": bn.weight.data,
        "bn.bias": bn.bias.data,
        "bn.running_mean": bn.running_mean,
        "bn.running_var": bn.running_var,
    }
    before = {key: value.copy() for key, value in arrays.items()}
    bn.eval()
    result = attempt(name, fold_batch_norm, linear, bn)
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return hint(name, "return two arrays, in this order: (W, b).")
    W = result_array(name, result[0], what="W")
    if isinstance(W, Feedback):
        return W
    if W.shape == (n_in, n_out):
        return hint(name, f"W has shape {W.shape}: keep Linear's layout (n_out, n_in).")
    W = result_array(name, W, (n_out, n_in), "W")
    if isinstance(W, Feedback):
        return W
    b = result_array(name, result[1], (n_out,), "b")
    if isinstance(b, Feedback):
        return b
    for key, value in arrays.items():
        if not np.array_equal(value, before[key]):
            return hint(
                name,
                f"{key} changed: build new arrays, and leave the trained layers as they were.",
            )
    x = rng.standard_normal((7, n_in))
    w0, b0 = before["linear.weight"], before["linear.bias"]
    gamma, beta = before["bn.weight"], before["bn.bias"]
    mean, var = before["bn.running_mean"], before["bn.running_var"]
    z = x @ w0.T + b0
    expected = gamma * (z - mean) / np.sqrt(var + bn.eps) + beta
    got = x @ W.T + b
    if _close(got, expected):
        return _fold_other_eps(name, fold_batch_norm, linear, bn, x, (W, b)) or correct(
            name, "x W^T + b equals the two layers in evaluation mode."
        )
    scale = gamma / np.sqrt(var + bn.eps)
    if _close(W, w0 * scale[:, None]):
        if _close(b, scale * b0 + beta):
            return hint(name, "W is right; b forgets that the running mean is subtracted.")
        if _close(b, scale * (b0 - mean)):
            return hint(name, "W is right; b forgets batch norm's own shift, beta.")
        if _close(b, b0 - mean + beta) or _close(b, scale * b0 - mean + beta):
            return hint(name, "W is right; in b, which terms does the scale multiply?")
        return hint(name, "W is right, b is not yet: expand gamma * (z - mean) / s + beta.")
    if _close(W, w0 * (gamma / np.sqrt(var))[:, None]):
        return hint(
            name, "close, but eps is missing: it sits under the square root in evaluation too."
        )
    if _close(W, w0 * (gamma / np.sqrt(var + NOTEBOOK_EPS))[:, None]):
        return hint(
            name,
            f"close, but this batch norm's eps is {bn.eps:g}, not {NOTEBOOK_EPS:g}: take eps "
            "from the layer.",
        )
    if _close(W, w0 * (gamma / (np.sqrt(var) + bn.eps))[:, None]):
        return hint(name, "close, but eps belongs under the square root, added to the variance.")
    if _close(W, w0 * (gamma / (var + bn.eps))[:, None]):
        return hint(
            name, "you divided by the variance: batch norm divides by a standard deviation."
        )
    return hint(
        name,
        "not yet: each output unit o of the Linear layer is scaled by its own factor: which "
        "axis of W belongs to o?",
    )


_FOLD_OTHER_EPS = 0.03  # neither the first batch norm's 0.1 nor the notebook's 1e-5


def _fold_other_eps(
    name: str, fold_batch_norm: Callable, linear, bn, x: np.ndarray, first: tuple
) -> Feedback | None:
    """None if ``fold_batch_norm``, right for ``bn``, is right for a batch norm alike but for
    its eps as well, else the hint: an answer with a number written in for eps is right for one
    eps only. ``first`` is its (W, b) for ``bn``."""
    from ..nn import BatchNorm1d

    other = BatchNorm1d(len(bn.running_var), eps=_FOLD_OTHER_EPS)
    other.weight.data, other.bias.data = bn.weight.data.copy(), bn.bias.data.copy()
    other.running_mean[:], other.running_var[:] = bn.running_mean, bn.running_var
    other.eval()
    at = f"right for a batch norm with eps = {bn.eps:g}, but for one with eps = {_FOLD_OTHER_EPS:g}"
    result = attempt(name, fold_batch_norm, linear, other)
    if isinstance(result, Feedback):
        return hint(name, f"{at}: {result.message}")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return hint(name, f"{at}, your function does not return two arrays (W, b).")
    arrays = []
    for value, want, key in zip(result, first, "Wb"):
        array = result_array(name, value, want.shape, key)
        if isinstance(array, Feedback):  # no array, or another shape, at this eps only
            return hint(name, f"{at}: {array.message}")
        arrays.append(array)
    W, b = arrays
    scale = other.weight.data / np.sqrt(other.running_var + _FOLD_OTHER_EPS)
    z = x @ linear.weight.data.T + linear.bias.data
    if _close(x @ W.T + b, scale * (z - other.running_mean) + other.bias.data):
        return None
    if _close(W, first[0]) and _close(b, first[1]):
        return hint(name, f"{at} your W and b are the same: they do not change with eps. Take "
                    "eps from the layer, not a number of your own.")  # fmt: skip
    return hint(name, f"{at}, x W^T + b is not the two layers: does every place where eps "
                "belongs take it from the layer?")  # fmt: skip
