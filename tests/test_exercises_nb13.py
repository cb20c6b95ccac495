"""Self-checks of notebook 13: a correct answer passes, typical mistakes get their hint, stubs
are "not done", and no hint gives the answer away."""

import numpy as np
import pytest

import backproplab as bl
from backproplab.exercises import nb13


def stub(*args):
    raise NotImplementedError


def norm_backward(g, x, gamma, eps, axis, ddof=0, centre=True, spread=True, n_scale=True,
                  gamma_first=True):  # fmt: skip
    """The compact formula over ``axis``, with switches for the mistakes."""
    mu = x.mean(axis=axis, keepdims=True)
    sigma = np.sqrt(x.var(axis=axis, ddof=ddof, keepdims=True) + eps)
    x_hat = (x - mu) / sigma
    reduce = np.mean if n_scale else np.sum
    gh = g * gamma if gamma_first else g
    dx = gh.copy()
    if centre:
        dx = dx - reduce(gh, axis=axis, keepdims=True)
    if spread:
        dx = dx - x_hat * reduce(gh * x_hat, axis=axis, keepdims=True)
    dx = dx / sigma if gamma_first else gamma * dx / sigma
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)


# --------------------------------------------------------------------------- batch_norm_backward
def bn(g, x, gamma, eps, **mistake):
    return norm_backward(g, x, gamma, eps, axis=0, **mistake)


def bn_node_by_node(g, x, gamma, eps):
    # the same gradient, step by step through the graph (mu, centred, var, sigma, x_hat)
    n = len(x)
    mu = x.mean(axis=0)
    centred = x - mu
    var = (centred**2).mean(axis=0)
    sigma = np.sqrt(var + eps)
    x_hat = centred / sigma
    d_x_hat = g * gamma
    d_sigma = -(d_x_hat * centred).sum(axis=0) / sigma**2
    d_var = d_sigma / (2 * sigma)
    d_centred = d_x_hat / sigma + d_var * 2 * centred / n
    d_mu = -d_centred.sum(axis=0)
    dx = d_centred + d_mu / n
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)


@pytest.mark.parametrize("solution", [bn, bn_node_by_node])
def test_batch_norm_backward_correct(solution):
    feedback = nb13.check_batch_norm_backward(solution)
    assert feedback.passed, feedback


def no_stats(g, x, gamma, eps):
    dx, dgamma, dbeta = bn(g, x, gamma, eps)
    return gamma * g / np.sqrt(x.var(axis=0) + eps), dgamma, dbeta


def no_eps(g, x, gamma, eps):
    with np.errstate(divide="ignore", invalid="ignore"):
        return bn(g, x, gamma, 0.0)


def no_gamma(g, x, gamma, eps):
    dx, dgamma, dbeta = bn(g, x, gamma, eps)
    return dx / gamma, dgamma, dbeta


def mutating(g, x, gamma, eps):
    result = bn(g, x, gamma, eps)
    x -= x.mean(axis=0)
    return result


def notebook_eps(axis):
    # ignores its eps argument and uses the notebook's global EPS = 1e-5
    return lambda g, x, gamma, eps: norm_backward(g, x, gamma, 1e-5, axis=axis)


def eps_outside_sqrt(g, x, gamma, eps):
    mu = x.mean(axis=0)
    sigma = x.std(axis=0) + eps
    x_hat = (x - mu) / sigma
    dx = gamma / sigma * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)


def g_means_over_features(g, x, gamma, eps):
    mu = x.mean(axis=0)
    sigma = np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mu) / sigma
    dx = (
        gamma
        / sigma
        * (g - g.mean(axis=1, keepdims=True) - x_hat * (g * x_hat).mean(axis=1, keepdims=True))
    )
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)


def variance_term_unscaled(g, x, gamma, eps):  # gamma / sigma on two of the three terms only
    mu = x.mean(axis=0)
    sigma = np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mu) / sigma
    dx = gamma / sigma * (g - g.mean(axis=0)) - x_hat * (g * x_hat).mean(axis=0)
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)


def centring_g_in_place(g, x, gamma, eps):
    result = bn(g, x, gamma, eps)
    g -= g.mean(axis=0)
    return result


def with_shape(k, fn):
    def wrong(g, x, gamma, eps):
        out = list(bn(g, x, gamma, eps))
        out[k] = fn(g, x, out[k])
        return tuple(out)

    return wrong


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda g, x, gamma, eps: bn(g, x, gamma, eps, centre=False), "centring term"),
        (lambda g, x, gamma, eps: bn(g, x, gamma, eps, spread=False), "through the batch variance"),
        (lambda g, x, gamma, eps: bn(g, x, gamma, eps, ddof=1), "unbiased variance"),
        (lambda g, x, gamma, eps: bn(g, x, gamma, eps, n_scale=False), "1/N"),
        (no_stats, "as constants"),
        (no_eps, "eps"),
        (mutating, "in place"),
        (no_gamma, "gamma is missing"),
        (with_shape(1, lambda g, x, dgamma: dgamma / len(x)), "dgamma is off by a factor"),
        (with_shape(2, lambda g, x, dbeta: dbeta / len(x)), "dbeta is off by a factor"),
        (with_shape(2, lambda g, x, dbeta: g), "one row per example"),
        (with_shape(1, lambda g, x, dgamma: (g * x).sum(axis=0)), "not x itself"),
        (with_shape(0, lambda g, x, dx: dx + 1e-3), "dx is not yet"),
        (lambda g, x, gamma, eps: bn(g, x, gamma, eps)[:2], "three arrays"),
        (notebook_eps(0), "use the eps it is given"),
        (eps_outside_sqrt, "under the square root"),
        (g_means_over_features, "dx is not yet"),
        (variance_term_unscaled, "dx is not yet"),
        (centring_g_in_place, "in place"),
        (with_shape(1, lambda g, x, dgamma: dgamma[None]), "should have shape (4,)"),
    ],
)
def test_batch_norm_backward_hints(wrong, words):
    feedback = nb13.check_batch_norm_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    for code in ("mean(", "sum(", "np.", "x_hat *", "/ sigma"):
        assert code not in feedback.message


def test_batch_norm_backward_not_done():
    assert nb13.check_batch_norm_backward(stub).status == "not done"


# --------------------------------------------------------------------------- layer_norm_backward
def ln(g, x, gamma, eps, **mistake):
    return norm_backward(g, x, gamma, eps, axis=1, **mistake)


def test_layer_norm_backward_correct():
    feedback = nb13.check_layer_norm_backward(ln)
    assert feedback.passed, feedback


def halving_x_in_place(g, x, gamma, eps):
    result = ln(g, x, gamma, eps)
    x /= 2
    return result


def ln_over_batch(g, x, gamma, eps):
    dx, _, dbeta = bn(g, x, gamma, eps)
    _, dgamma, _ = ln(g, x, gamma, eps)
    return dx, dgamma, dbeta


@pytest.mark.parametrize(
    "wrong, words",
    [
        (ln_over_batch, "batch norm's statistics"),
        (bn, "wrong axis"),
        (lambda g, x, gamma, eps: ln(g, x, gamma, eps, gamma_first=False), "pulled out"),
        (lambda g, x, gamma, eps: ln(g, x, gamma, eps, centre=False), "centring term"),
        (lambda g, x, gamma, eps: ln(g, x, gamma, eps, spread=False), "each example's variance"),
        (lambda g, x, gamma, eps: ln(g, x, gamma, eps, n_scale=False), "sums where"),
        (notebook_eps(1), "use the eps it is given"),
        (lambda g, x, gamma, eps: ln(g, x, gamma, eps, ddof=1), "unbiased variance"),
        (halving_x_in_place, "in place"),
        (
            lambda g, x, gamma, eps: ln(g, x, gamma, eps)[:2] + (g.mean(axis=0),),
            "dbeta is off by a factor",
        ),  # fmt: skip
        (
            lambda g, x, gamma, eps: (ln(g, x, gamma, eps)[0], g.sum(axis=1), g.sum(axis=0)),
            "shape",
        ),  # fmt: skip
    ],
)
def test_layer_norm_backward_hints(wrong, words):
    feedback = nb13.check_layer_norm_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    for code in ("mean(", "sum(", "np.", "axis=", "x_hat *"):
        assert code not in feedback.message


def test_layer_norm_backward_not_done():
    assert nb13.check_layer_norm_backward(stub).status == "not done"


# ------------------------------------------------------------------------------- fold_batch_norm
def fold(linear, bn, eps=None, mean=True, scale_bias=True, sqrt=True, beta=True,
         eps_inside=True):  # fmt: skip
    eps = bn.eps if eps is None else eps
    var = bn.running_var + (eps if eps_inside else 0)
    s = bn.weight.data / (np.sqrt(var) if sqrt else var)
    s = s if eps_inside else bn.weight.data / (np.sqrt(var) + eps)
    W = linear.weight.data * s[:, None]  # row o of W feeds output unit o
    shift = linear.bias.data - (bn.running_mean if mean else 0)
    b = (s * shift if scale_bias else shift) + (bn.bias.data if beta else 0)
    return W, b


def folding_weight_in_place(linear, bn):
    W, b = fold(linear, bn)
    w = linear.weight.data
    w *= W / w  # returns the trained layer's own (now changed) array
    return w, b


def mean_not_scaled(linear, bn):
    W, _ = fold(linear, bn)
    s = bn.weight.data / np.sqrt(bn.running_var + bn.eps)
    return W, s * linear.bias.data - bn.running_mean + bn.bias.data


def test_fold_batch_norm_correct():
    feedback = nb13.check_fold_batch_norm(fold)
    assert feedback.passed, feedback


def folding_in_place(linear, bn):
    W, b = fold(linear, bn)
    linear.weight.data *= 1.0 + 0 * W[:, :1]  # unchanged values, but ...
    bn.running_var[:] = 1.0  # ... the trained statistics are overwritten
    return W, b


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda linear, bn: fold(linear, bn, eps=0.0), "eps is missing"),
        (lambda linear, bn: fold(linear, bn, mean=False), "running mean"),
        (lambda linear, bn: fold(linear, bn, scale_bias=False), "which terms"),
        (lambda linear, bn: fold(linear, bn, sqrt=False), "standard deviation"),
        (lambda linear, bn: (fold(linear, bn)[0].T, fold(linear, bn)[1]), "layout"),
        (
            lambda linear, bn: (linear.weight.data * bn.weight.data[:, None], fold(linear, bn)[1]),
            "not yet",
        ),  # fmt: skip
        (
            lambda linear, bn: (linear.weight.data * bn.weight.data[None, :], linear.bias.data),
            "ValueError",
        ),  # fmt: skip
        (folding_in_place, "leave the trained layers"),
        (lambda linear, bn: fold(linear, bn, eps=1e-5), "take eps from the layer"),
        (lambda linear, bn: fold(linear, bn, eps_inside=False), "under the square root"),
        (lambda linear, bn: fold(linear, bn, beta=False), "own shift, beta"),
        (folding_weight_in_place, "linear.weight changed"),
        (mean_not_scaled, "which terms"),
        (lambda linear, bn: fold(linear, bn)[0], "two arrays"),
    ],
)
def test_fold_batch_norm_hints(wrong, words):
    feedback = nb13.check_fold_batch_norm(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "[:, None]" not in feedback.message and "np." not in feedback.message


def test_fold_batch_norm_not_done():
    assert nb13.check_fold_batch_norm(stub).status == "not done"


# ------------------------------------------------------------ the package may not do the work
def by_engine(norm):
    def answer(g, x, gamma, eps):
        xt = bl.Tensor(x, requires_grad=True)
        w = bl.Tensor(gamma, requires_grad=True)
        b = bl.Tensor(np.zeros_like(gamma), requires_grad=True)
        if norm == "batch":
            out = bl.batch_norm(xt, None, None, w, b, training=True, eps=eps)
        else:
            out = bl.layer_norm(xt, x.shape[1], w, b, eps=eps)
        out.backward(g)
        return xt.grad, w.grad, b.grad

    return answer


@pytest.mark.parametrize(
    "check, answer",
    [
        (nb13.check_batch_norm_backward, by_engine("batch")),
        (nb13.check_layer_norm_backward, by_engine("layer")),
    ],
)
def test_answers_the_engine_computes_are_refused(check, answer):
    feedback = check(answer)
    assert feedback.status == "hint" and "numpy only" in feedback.message, feedback
