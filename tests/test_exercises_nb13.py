"""Self-checks of notebook 13: a correct answer passes, typical mistakes get their hint, stubs
are "not done", and no hint gives the answer away."""

from functools import partial

import numpy as np
import pytest
from exercise_helpers import ESTIMATE_WORDS, estimated_vjp, grade_one_exercise, our_words

import backproplab as bl
from backproplab import nn
from backproplab.exercises import _eval_mode, nb13, numeric_gradient
from backproplab.exercises._draws import draw


def stub(*args):
    raise NotImplementedError


def norm_backward(g, x, gamma, eps, axis, ddof=0, centre=True, spread=True, n_scale=True,
                  gamma_first=True, floor=False):  # fmt: skip
    """The compact formula over ``axis``, with switches for the mistakes (``floor``: eps as a
    floor under the variance, not added to it)."""
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    sigma = np.sqrt(np.maximum(var, eps) if floor else var + eps)
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


def bn_node_by_node(g, x, gamma, eps, var_count=0, square=2.0, root=0.5, mu_sign=1.0,
                    mu_count=None, sigma_sign=1.0, mu_axis=0, sigma_axis=0, mu_by_mean=False):  # fmt: skip
    """The same gradient, step by step through the graph (mu, centred, var, sigma, x_hat), with
    switches for the slips of a walk: the variance's derivative over ``var_count`` examples
    (0: N), the square's factor 2 (``square``), the root's 1/2 (``root``), the signs of the
    gradients through mu and sigma, the count mu's gradient is divided by (None: N), the axes
    their sums run over, and ``mu_by_mean``: mu's gradient as a mean over ``mu_axis``."""
    n = len(x)
    mu = x.mean(axis=0)
    centred = x - mu
    var = (centred**2).mean(axis=0)
    sigma = np.sqrt(var + eps)
    x_hat = centred / sigma
    d_x_hat = g * gamma
    d_sigma = -sigma_sign * (d_x_hat * centred / sigma**2).sum(axis=sigma_axis, keepdims=True)
    d_var = d_sigma * root / sigma
    d_centred = d_x_hat / sigma + d_var * square * centred / (var_count or n)
    if mu_by_mean:
        dx = d_centred - mu_sign * d_centred.mean(axis=mu_axis, keepdims=True)
    else:
        d_mu = -mu_sign * d_centred.sum(axis=mu_axis, keepdims=True)
        dx = d_centred + d_mu / (mu_count or n)
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)


def walk(**slips):
    return lambda g, x, gamma, eps: bn_node_by_node(g, x, gamma, eps, **slips)


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


def gamma_in_dbeta(g, x, gamma, eps):  # dx's factor gamma carried into dbeta
    dx, dgamma, dbeta = bn(g, x, gamma, eps)
    return dx, dgamma, dbeta * gamma


def gamma_in_dgamma(g, x, gamma, eps):  # and into dgamma
    dx, dgamma, dbeta = bn(g, x, gamma, eps)
    return dx, dgamma * gamma, dbeta


def swapped(answer):
    """``answer`` returning dgamma and dbeta in each other's place (shapes alike: no shape hint)."""

    def wrong(*args):
        dx, dgamma, dbeta = answer(*args)
        return dx, dbeta, dgamma

    return wrong


def without_one_over_sigma(g, x, gamma, eps):
    dx, dgamma, dbeta = bn(g, x, gamma, eps)
    return dx * np.sqrt(x.var(axis=0) + eps), dgamma, dbeta  # the common 1/sigma left out


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
        (without_one_over_sigma, "sigma times too large"),  # was 'dx is not yet: derive it ...'
        (with_shape(1, lambda g, x, dgamma: dgamma / len(x)), "dgamma is off by a factor"),
        (with_shape(2, lambda g, x, dbeta: dbeta / len(x)), "dbeta is off by a factor"),
        (with_shape(2, lambda g, x, dbeta: g), "one row per example"),
        (with_shape(1, lambda g, x, dgamma: (g * x).sum(axis=0)), "not x itself"),
        (gamma_in_dbeta, "dbeta not yet right: beta is added"),
        (gamma_in_dgamma, "dgamma not yet right: what does gamma multiply"),
        # 4e-4 of dx's largest entry (25); 1e-3 added, 4e-5 of it, is as close as an estimate
        # with a step of 1e-3 lands, and gets the estimate's hint (test_estimates_everywhere)
        (with_shape(0, lambda g, x, dx: dx + 1e-2), "dx is not yet"),
        (lambda g, x, gamma, eps: bn(g, x, gamma, eps)[:2], "three arrays"),
        (notebook_eps(0), "use the eps it is given"),
        (eps_outside_sqrt, "under the square root"),
        (
            g_means_over_features,
            "your sums run along each example's features",
        ),  # was 'dx is not yet'
        (variance_term_unscaled, "lacks the factor gamma over sigma"),  # was 'dx is not yet'
        (centring_g_in_place, "in place"),
        (with_shape(1, lambda g, x, dgamma: dgamma[None]), "should have shape (4,)"),
        (swapped(bn), "in each other's place"),  # was 'dbeta not yet right: beta is added'
    ],
)
def test_batch_norm_backward_hints(wrong, words):
    feedback = nb13.check_batch_norm_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    for code in ("mean(", "sum(", "np.", "x_hat *", "/ sigma"):
        assert code not in feedback.message


def floor_in_dx_only(g, x, gamma, eps):  # dgamma from the right x_hat, dx from a floored one
    dx = bn(g, x, gamma, eps, floor=True)[0]
    return (dx, *bn(g, x, gamma, eps)[1:])


CATCH_ALL = "dgamma and dbeta are right, dx is not yet"
VARIANCE_PATH = "the term from the path through the batch variance"


@pytest.mark.parametrize(
    "wrong, words",
    [  # each got the catch-all before (CATCH_ALL), or a dgamma one for the floor
        (lambda g, x, gamma, eps: bn(g, x, gamma, eps, floor=True), "dgamma: eps is not a floor"),
        (floor_in_dx_only, "eps is not a floor for the variance"),
        (walk(var_count=5), f"{VARIANCE_PATH} is 6/5 times too large"),  # N - 1 for N = 6
        (walk(square=1.0), f"{VARIANCE_PATH} is half its size"),
        (walk(root=1.0), f"{VARIANCE_PATH} is twice its size"),
        (walk(var_count=1), f"{VARIANCE_PATH} is 6 times too large"),
        (walk(sigma_sign=-1.0), f"{VARIANCE_PATH} has the wrong sign"),
        (walk(mu_sign=-1.0), "centring term (the path through the batch mean mu) has the wrong"),
        (walk(mu_count=1), "centring term (the path through the batch mean mu) is 6 times"),
        (walk(mu_axis=1), "path through the batch mean mu, your sum runs along each example's"),
        (walk(mu_axis=1, mu_by_mean=True), "batch mean mu, your sum runs along each example's"),
        (walk(sigma_axis=1), "batch variance and sigma, your sum runs along each example's"),
        (walk(mu_axis=1, sigma_axis=1), "your sums run along each example's features"),
    ],
)
def test_batch_norm_backward_slips_of_the_walk_are_named(wrong, words):
    """A walk down section 2's graph with one slip (or eps as a floor under the variance) gets
    the hint that names it: before, each got the catch-all that asks for the walk."""
    feedback = nb13.check_batch_norm_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    for code in ("mean(", "sum(", "np.", "x_hat *", "/ sigma", "max", "axis"):
        assert code not in feedback.message


@pytest.mark.parametrize(
    "wrong",
    [
        walk(square=1.0, mu_count=1),  # two slips: no one-slip hint may claim them
        walk(mu_sign=-1.0, sigma_sign=-1.0),
        walk(var_count=5, mu_axis=1),
    ],
)
def test_batch_norm_backward_two_slips_get_no_one_slip_hint(wrong):
    feedback = nb13.check_batch_norm_backward(wrong)
    assert feedback.status == "hint" and CATCH_ALL in feedback.message, feedback


def sigma_not_squared(g, x, gamma, eps):  # dL/dsigma from c / sigma: variance term sigma times
    mu = x.mean(axis=0)
    sigma = np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mu) / sigma
    dx = gamma / sigma * (g - g.mean(axis=0) - sigma * x_hat * (g * x_hat).mean(axis=0))
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (sigma_not_squared, f"{VARIANCE_PATH} is sigma times too large, feature by feature"),
        (variance_term_unscaled, f"{VARIANCE_PATH} lacks the factor gamma over sigma"),
    ],
)
def test_batch_norm_backward_variance_term_slips_are_named(wrong, words):
    """Two slips on the path through the variance that got the catch-all are named: dL/dsigma
    from c over sigma (not sigma squared), and that term without the gamma over sigma the other
    two share."""
    feedback = nb13.check_batch_norm_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    for code in ("mean(", "sum(", "np.", "x_hat *", "/ sigma", "max", "axis"):
        assert code not in feedback.message


def two_slips_on_the_variance_path(g, x, gamma, eps):  # c over sigma, and gamma over sigma lost
    mu = x.mean(axis=0)
    sigma = np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mu) / sigma
    dx = gamma / sigma * (g - g.mean(axis=0)) - sigma * x_hat * (g * x_hat).mean(axis=0)
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)


def test_batch_norm_backward_both_variance_term_slips_get_no_one_slip_hint():
    feedback = nb13.check_batch_norm_backward(two_slips_on_the_variance_path)
    assert feedback.status == "hint" and CATCH_ALL in feedback.message, feedback


def bn_by_section_2(g, x, gamma, eps, axis=0, inside=False, direct=False):
    """dx by section 2's lines: dL/dv as the notebook writes it, a sum of g_hat c times
    -1 / (2 sigma^3) with sigma after the sum (``inside``: in it), over ``axis`` (1: along each
    example's features, the slip); ``direct``: dL/dmu by its direct path alone, as the notebook
    has it once the variance's path drops out."""
    n = len(x)
    centred = x - x.mean(axis=0)
    sigma = np.sqrt((centred**2).mean(axis=0) + eps)
    g_hat = g * gamma
    if inside:
        d_v = -(g_hat * centred / (2 * sigma**3)).sum(axis=axis, keepdims=True)
    else:
        d_v = -(g_hat * centred).sum(axis=axis, keepdims=True) / (2 * sigma**3)
    d_c = g_hat / sigma + d_v * 2 * centred / n
    d_mu = -(g_hat / sigma if direct else d_c).sum(axis=0, keepdims=True)
    return d_c + d_mu / n, (g * centred / sigma).sum(axis=0), g.sum(axis=0)


def sigma_after_a_row_mean(g, x, gamma, eps):  # the compact formula, c = sigma x_hat put back
    mu = x.mean(axis=0)
    sigma = np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mu) / sigma
    spread = x_hat * (g * (x - mu)).mean(axis=1, keepdims=True) / sigma
    dx = gamma / sigma * (g - g.mean(axis=0) - spread)
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)


SECTION_2 = [{"inside": i, "direct": d} for i in (False, True) for d in (False, True)]


@pytest.mark.parametrize("way", SECTION_2)
def test_batch_norm_backward_by_section_2s_lines_is_right(way):
    feedback = nb13.check_batch_norm_backward(lambda *args: bn_by_section_2(*args, **way))
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong",
    [
        *(partial(bn_by_section_2, axis=1, **way) for way in SECTION_2),
        sigma_after_a_row_mean,
    ],
    ids=["sigma after", "sigma after, mu direct", "sigma in", "sigma in, mu direct", "compact"],
)
def test_batch_norm_backward_names_the_sum_along_a_row_with_sigma_taken_out(wrong):
    """Task SLIPS: dL/dv summed along each example's features, sigma after that sum (or in it,
    or mu's gradient by its direct path), got the catch-all on main; it is the slip of a sum
    along a row on the variance's path, and gets that hint."""
    feedback = nb13.check_batch_norm_backward(wrong)
    assert feedback.status == "hint", feedback
    assert "batch variance and sigma, your sum runs along each example's" in feedback.message
    for code in ("mean(", "sum(", "np.", "x_hat *", "/ sigma", "axis"):
        assert code not in feedback.message


def in_float32(answer):
    """``answer`` computed in float32 (its inputs cast), its three results handed back as float64."""

    def wrong(g, x, gamma, eps):
        g, x, gamma = (a.astype(np.float32) for a in (g, x, gamma))
        return tuple(a.astype(np.float64) for a in answer(g, x, gamma, np.float32(eps)))

    return wrong


@pytest.mark.parametrize(
    "check, answer",
    [
        (nb13.check_batch_norm_backward, bn),
        (nb13.check_batch_norm_backward, bn_node_by_node),
        (nb13.check_layer_norm_backward, lambda g, x, gamma, eps: ln(g, x, gamma, eps)),
    ],
)
def test_norm_backward_in_float32_is_told_its_precision(check, answer):
    """Task SLIPS: the batch-norm solution in float32 was told 'dbeta not yet right: beta is
    added to every example's output' (dbeta's rounding at an entry near 0.1, held to the exact
    reference entry by entry, before the gate that names an estimate was reached)."""
    feedback = check(in_float32(answer))
    assert feedback.status == "hint" and all(w in feedback.message for w in ESTIMATE_WORDS), (
        feedback
    )
    assert "float32" in feedback.message and "dbeta" not in feedback.message, feedback


@pytest.mark.parametrize(
    "slip", [dict(centre=False), dict(spread=False), dict(n_scale=False), dict(ddof=1)]
)
def test_batch_norm_backward_in_float32_with_a_slip_is_told_its_precision_first(slip):
    """Such an answer was told "dbeta not yet right: beta is added to every example's output"
    (dbeta's float32 rounding, held to the exact reference, before dx's slip was looked at),
    sending the learner to a right dbeta. Told its precision first (naming dbeta), the slip's own
    hint follows once the answer is in float64."""
    feedback = nb13.check_batch_norm_backward(in_float32(partial(bn, **slip)))
    assert feedback.status == "hint" and all(w in feedback.message for w in ESTIMATE_WORDS), (
        feedback
    )
    assert feedback.message.startswith("dbeta: ") and "not yet right" not in feedback.message


def own_eps(axis, number=1e-3):
    # ignores its eps argument and uses a number of its own: the check's first eps
    return lambda g, x, gamma, eps: norm_backward(g, x, gamma, number, axis=axis)


def eps_in_dx_only(axis):
    # dgamma uses the eps it is given, dx the check's first eps, written in
    def wrong(g, x, gamma, eps):
        dx = norm_backward(g, x, gamma, 1e-3, axis=axis)[0]
        return (dx, *norm_backward(g, x, gamma, eps, axis=axis)[1:])

    return wrong


def eps_doubled(axis):  # right where eps is 1e-3 only: 2 eps - 1e-3 in place of eps
    return lambda g, x, gamma, eps: norm_backward(g, x, gamma, 2 * eps - 1e-3, axis=axis)


@pytest.mark.parametrize(
    "check, axis",
    [(nb13.check_batch_norm_backward, 0), (nb13.check_layer_norm_backward, 1)],
    ids=["batch norm", "layer norm"],
)
def test_an_eps_written_in_is_refused(check, axis):
    """The checks called with eps = 1e-3 only: an answer with 1e-3 written in passed. A second
    call with eps = 0.02 names it."""
    feedback = check(own_eps(axis))
    assert feedback.status == "hint", feedback
    assert "with eps = 0.02 your dx is the same: it does not change with eps" in feedback.message
    feedback = check(eps_in_dx_only(axis))
    assert feedback.status == "hint" and "your dx is the same" in feedback.message, feedback
    feedback = check(eps_doubled(axis))
    assert feedback.status == "hint", feedback
    assert "dx is not with eps = 0.02: does every place where eps belongs" in feedback.message


@pytest.mark.parametrize("draw_", [16, 2024])
def test_eps_as_a_floor_is_named_at_other_draws(draw_):
    """The floor and the right eps agree where a variance is 0, and only there: at the grader's
    draws too, the floor is refused and named, in both exercises that take eps."""
    with draw(draw_):
        for check, answer in (
            (
                nb13.check_batch_norm_backward,
                lambda g, x, gamma, eps: bn(g, x, gamma, eps, floor=True),
            ),
            (
                nb13.check_layer_norm_backward,
                lambda g, x, gamma, eps: ln(g, x, gamma, eps, floor=True),
            ),
        ):
            feedback = check(answer)
            assert feedback.status == "hint" and "not a floor" in feedback.message, feedback


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


def ln_means_over_batch(g, x, gamma, eps):
    """Each example's x_hat and sigma, but exercise 1's means over the batch (axis 0) in dx: a
    novice walk's copy of the batch-norm answer, which got only "derive it node by node"."""
    _, dgamma, dbeta = ln(g, x, gamma, eps)
    x_hat = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    sigma = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    gh = g * gamma
    dx = (gh - gh.mean(axis=0) - x_hat * (gh * x_hat).mean(axis=0)) / sigma
    return dx, dgamma, dbeta


@pytest.mark.parametrize(
    "wrong, words",
    [
        (ln_over_batch, "batch norm's statistics"),
        (ln_means_over_batch, "the means in dx run over the batch"),
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
        (swapped(ln), "in each other's place"),
        (lambda g, x, gamma, eps: ln(g, x, gamma, eps, floor=True), "dgamma: eps is not a floor"),
    ],
)
def test_layer_norm_backward_hints(wrong, words):
    feedback = nb13.check_layer_norm_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    for code in ("mean(", "sum(", "np.", "axis=", "x_hat *"):
        assert code not in feedback.message


def bn_stats_over_features(g, x, gamma, eps):
    mu = x.mean(axis=1)  # each example's mean (layer norm's), (N,): lined up with the features
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=1) + eps), g.sum(axis=0), g.sum(axis=0)


def ln_stats_without_keepdims(g, x, gamma, eps):
    mu = x.mean(axis=1)  # (N,): lined up with the features, not with the examples
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=1) + eps), g.sum(axis=0), g.sum(axis=0)


@pytest.mark.parametrize(
    "check, wrong, shapes",
    [
        (nb13.check_batch_norm_backward, bn_stats_over_features, ((6, 4), (6,))),
        (nb13.check_layer_norm_backward, ln_stats_without_keepdims, ((5, 4), (5,))),
    ],
    ids=["batch norm", "layer norm"],
)
def test_statistics_that_do_not_line_up_get_the_shapes_by_name(check, wrong, shapes):
    """A per-example statistic without keepdims, combined with x: numpy's "operands could not be
    broadcast together with shapes (6,4) (6,)" is said in words, with the arrays given."""
    feedback = check(wrong)
    (n, d), _ = shapes
    assert feedback.status == "hint", feedback
    assert (
        f"an elementwise operation on arrays of shapes {shapes[0]} and {shapes[1]}, which do not "
        "fit together" in feedback.message
    ), feedback
    assert (
        f"Your function was given g of shape {(n, d)}, x of shape {(n, d)} and gamma of shape "
        f"{(d,)}: check the shape of each array you combine" in feedback.message
    ), feedback
    for code in ("keepdims", "axis=", "[:, None]", "np.", "operands", "broadcast together"):
        assert code not in our_words(feedback.message), feedback


def test_layer_norm_backward_not_done():
    assert nb13.check_layer_norm_backward(stub).status == "not done"


# ---------------------------------------------------------------------- batch_norm_eval_backward
check_eval = nb13.check_batch_norm_eval_backward
EVAL_CODE = ("np.", "sum(", "mean(", "sqrt(", "axis=", "/ sigma", "* g")


def bn_eval(g, x, gamma, running_mean, running_var, eps):  # the notebook's solution
    inv_std = 1 / np.sqrt(running_var + eps)
    x_hat = (x - running_mean) * inv_std
    return gamma * inv_std * g, (g * x_hat).sum(axis=0), g.sum(axis=0)


def bn_eval_node_by_node(g, x, gamma, running_mean, running_var, eps):
    # section 2's table with mu and v constants: only the direct routes are left
    c = x - running_mean
    sigma = np.sqrt(running_var + eps)
    x_hat = c / sigma
    d_x_hat = g * gamma
    d_c = d_x_hat / sigma
    return d_c, np.sum(g * x_hat, axis=0), np.sum(g, axis=0)


def bn_eval_loop(g, x, gamma, running_mean, running_var, eps):  # one example at a time
    dx = np.zeros_like(x)
    dgamma = np.zeros_like(gamma)
    dbeta = np.zeros_like(gamma)
    scale = gamma / np.sqrt(running_var + eps)
    for i in range(len(x)):
        dx[i] = g[i] * scale
        dgamma += g[i] * (x[i] - running_mean) / np.sqrt(running_var + eps)
        dbeta += g[i]
    return dx, dgamma, dbeta


@pytest.mark.parametrize("answer", [bn_eval, bn_eval_node_by_node, bn_eval_loop])
def test_batch_norm_eval_backward_correct(answer):
    feedback = check_eval(answer)
    assert feedback.passed, feedback


@pytest.mark.parametrize("index", [0, 1, 2])
def test_eval_reference_agrees_with_the_layer_and_finite_differences(index):
    """The check's reference (the engine through a graph of primitives) against two others:
    nn.BatchNorm1d in evaluation mode with backward(), and central differences of
    L = sum(g * o) on a numpy forward pass written here."""
    label, case = _eval_mode._eval_cases()[index]
    g, x, gamma, mean, var = (np.asarray(case[k], dtype=np.float64) for k in _eval_mode.EVAL_INPUTS)
    eps = _eval_mode.EPS
    dx, dgamma, dbeta = _eval_mode._engine_eval_grads(case, eps)

    by_layer = by_the_layer(g, x, gamma, mean, var, eps)  # nn.BatchNorm1d in eval mode
    for got, want in zip(by_layer, (dx, dgamma, dbeta)):
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12), label

    def loss(x_, gamma_):
        return np.sum(g * (gamma_ * (x_ - mean) / np.sqrt(var + eps)))

    assert np.allclose(numeric_gradient(lambda x_: loss(x_, gamma), x), dx, rtol=1e-6, atol=1e-6)
    assert np.allclose(numeric_gradient(lambda c: loss(x, c), gamma), dgamma, rtol=1e-6, atol=1e-6)
    assert np.allclose(dbeta, g.sum(axis=0))  # beta adds to every example


def test_eval_cases_are_what_the_docstring_promises():
    (_, big), (_, one), (_, small) = _eval_mode._eval_cases()
    assert big["x"].shape == (5, 5) and one["x"].shape == (1, 3)
    assert 0.0 in big["running_var"] and 0.0 in big["gamma"] and np.any(big["gamma"] < 0)
    assert all(value.dtype == np.float32 for value in small.values())
    assert not np.allclose(big["running_mean"], big["x"].mean(axis=0), atol=0.1)


def with_eval(k, fn):
    """The solution with its result k replaced by fn(g, x, result, *the other arguments)."""

    def wrong(g, x, gamma, running_mean, running_var, eps):
        out = list(bn_eval(g, x, gamma, running_mean, running_var, eps))
        out[k] = fn(g, x, out[k], gamma, running_mean, running_var, eps)
        return tuple(out)

    return wrong


def eval_training_mode(g, x, gamma, running_mean, running_var, eps):
    return bn(g, x, gamma, eps)  # Exercise 1's answer: batch statistics, all three paths


def eval_batch_std(g, x, gamma, running_mean, running_var, eps):
    dx, dgamma, dbeta = bn_eval(g, x, gamma, running_mean, running_var, eps)
    return gamma * g / np.sqrt(x.var(axis=0) + eps), dgamma, dbeta


def eval_dgamma_batch_stats(g, x, gamma, running_mean, running_var, eps):
    dx, _, dbeta = bn_eval(g, x, gamma, running_mean, running_var, eps)
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return dx, (g * x_hat).sum(axis=0), dbeta


def eval_scaled(scale):
    """The solution with 1/sqrt(running_var + eps) replaced by scale(running_var, eps)."""

    def wrong(g, x, gamma, running_mean, running_var, eps):
        inv_std = scale(running_var, eps)
        return gamma * g * inv_std, (g * (x - running_mean) * inv_std).sum(axis=0), g.sum(axis=0)

    return wrong


def eval_g_in_place(g, x, gamma, running_mean, running_var, eps):
    g *= gamma / np.sqrt(running_var + eps)  # "dx is g scaled": scaled where it lies
    return g, (g * (x - running_mean)).sum(axis=0) / gamma, g.sum(axis=0)


def eval_x_in_place(g, x, gamma, running_mean, running_var, eps):
    x -= running_mean
    x /= np.sqrt(running_var + eps)  # x_hat, computed in the array x came in
    return gamma * g / np.sqrt(running_var + eps), (g * x).sum(axis=0), g.sum(axis=0)


def eval_float64(g, x, gamma, running_mean, running_var, eps):
    dx = np.zeros(x.shape)  # float64, whatever x is
    dx[:] = gamma * g / np.sqrt(running_var + eps)
    return dx, *bn_eval(g, x, gamma, running_mean, running_var, eps)[1:]


def eval_squeezed(g, x, gamma, running_mean, running_var, eps):
    return tuple(np.squeeze(a) for a in bn_eval(g, x, gamma, running_mean, running_var, eps))


def eval_unbiased_guard(g, x, gamma, running_mean, running_var, eps):
    # right, times the batch's spread over itself: 1 until a single example makes it 0/0
    spread = ((x - x.mean(axis=0)) ** 2).sum(axis=0) / (len(x) - 1)  # the unbiased variance
    ratio = spread / spread
    dx, dgamma, dbeta = bn_eval(g, x, gamma, running_mean, running_var, eps)
    return dx * ratio, dgamma, dbeta


@pytest.mark.parametrize(
    "wrong, words",
    [
        (eval_training_mode, "training mode's backward"),
        (eval_batch_std, "this batch's standard deviation"),
        (eval_dgamma_batch_stats, "dgamma: your x_hat is normalised with this batch's mean"),
        (eval_scaled(lambda v, eps: 1 / np.sqrt(v)), "only eps keeps the division finite"),
        (
            # nan from a root of the centred x, in every feature: eps is not to blame
            with_eval(1, lambda g, x, dgamma, gamma, m, v, eps: (g * np.sqrt(x - m)).sum(0)),
            "eps is not the cause there",
        ),  # fmt: skip
        (eval_scaled(lambda v, eps: 1 / np.sqrt(v + 1e-5)), "use the eps it is given"),
        (eval_scaled(lambda v, eps: 1 / (np.sqrt(v) + eps)), "under the square root"),
        (eval_scaled(lambda v, eps: 1 / np.sqrt(np.maximum(v, eps))), "not a floor"),
        (eval_scaled(lambda v, eps: 1 / (v + eps)), "divided by the variance"),
        (eval_scaled(lambda v, eps: np.sqrt(v + eps)), "multiplied by the standard deviation"),
        (
            with_eval(0, lambda g, x, dx, gamma, m, v, eps: g / np.sqrt(v + eps)),
            "gamma is missing from dx",
        ),  # fmt: skip
        (
            with_eval(1, lambda g, x, dgamma, gamma, m, v, eps: g * (x - m) / np.sqrt(v + eps)),
            "dgamma has one row per example",
        ),  # fmt: skip
        (with_eval(2, lambda g, x, dbeta, *rest: g.copy()), "dbeta has one row per example"),
        (with_eval(1, lambda g, x, dgamma, *rest: g.sum(axis=0)), "sum of g alone"),
        (with_eval(1, lambda g, x, dgamma, *rest: (g * x).sum(axis=0)), "not x itself"),
        (
            with_eval(1, lambda g, x, dgamma, gamma, m, v, eps: (g * x / np.sqrt(v + eps)).sum(0)),
            "centred with the running mean",
        ),  # fmt: skip
        (with_eval(1, lambda g, x, dgamma, *rest: dgamma / len(x)), "dgamma is off by a factor"),
        (with_eval(2, lambda g, x, dbeta, *rest: dbeta / len(x)), "dbeta is off by a factor"),
        (with_eval(2, lambda g, x, dbeta, *rest: -dbeta), "dbeta not yet right"),
        (with_eval(0, lambda g, x, dx, *rest: -dx), "dx not yet right"),
        (  # gamma, dx's factor, carried into dgamma too
            with_eval(1, lambda g, x, dgamma, gamma, *rest: dgamma * gamma),
            "dgamma not yet right: what does gamma multiply",
        ),  # fmt: skip
        (eval_g_in_place, "changed one of its inputs in place"),
        (eval_x_in_place, "changed one of its inputs in place"),
        (eval_float64, "with float32 inputs: the values are right, but dx came back as float64"),
        (eval_squeezed, "with a single example (N = 1): dx has shape (3,)"),
        (eval_unbiased_guard, "with a single example (N = 1): dx has nan or inf"),
        (lambda *args: bn_eval(*args)[:2], "three arrays"),
        (swapped(bn_eval), "in each other's place"),  # was 'dgamma holds the sum of g alone'
    ],
)
def test_batch_norm_eval_backward_hints(wrong, words):
    feedback = check_eval(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    for code in EVAL_CODE:
        assert code not in feedback.message, feedback


def test_batch_norm_eval_backward_refuses_an_eps_written_in():
    """Called with eps = 1e-3 only, the check passed an answer with 1e-3 written in for eps."""

    def own_eps(g, x, gamma, running_mean, running_var, eps):
        return bn_eval(g, x, gamma, running_mean, running_var, 1e-3)

    def eps_in_dgamma_only(g, x, gamma, running_mean, running_var, eps):
        dx, _, dbeta = bn_eval(g, x, gamma, running_mean, running_var, eps)
        return dx, bn_eval(g, x, gamma, running_mean, running_var, 1e-3)[1], dbeta

    feedback = check_eval(own_eps)
    assert feedback.status == "hint", feedback
    assert "with eps = 0.02 your dx is the same: it does not change with eps" in feedback.message
    feedback = check_eval(eps_in_dgamma_only)
    assert feedback.status == "hint" and "your dgamma is the same" in feedback.message, feedback


def test_batch_norm_eval_backward_mean_over_the_batch():
    # both sums replaced by means: the first of them named
    def means(g, x, gamma, running_mean, running_var, eps):
        dx, dgamma, dbeta = bn_eval(g, x, gamma, running_mean, running_var, eps)
        return dx, dgamma / len(x), dbeta / len(x)

    assert "dgamma is off by a factor of the batch size" in check_eval(means).message


def test_batch_norm_eval_backward_not_done():
    assert check_eval(stub).status == "not done"


def by_the_layer(g, x, gamma, running_mean, running_var, eps):
    layer = nn.BatchNorm1d(x.shape[1], eps=eps)
    layer.weight.data = gamma.copy()
    layer.running_mean[:] = running_mean
    layer.running_var[:] = running_var
    layer.eval()
    xt = bl.Tensor(x, requires_grad=True)
    layer(xt).backward(g)
    return xt.grad, layer.weight.grad, layer.bias.grad


def by_batch_norm(g, x, gamma, running_mean, running_var, eps):
    xt, w = bl.Tensor(x, requires_grad=True), bl.Tensor(gamma, requires_grad=True)
    b = bl.Tensor(np.zeros_like(gamma), requires_grad=True)
    bl.batch_norm(xt, running_mean, running_var, w, b, training=False, eps=eps).backward(g)
    return xt.grad, w.grad, b.grad


def by_a_helper(g, x, gamma, running_mean, running_var, eps):  # the engine one call down
    return by_batch_norm(g, x, gamma, running_mean, running_var, eps)


@pytest.mark.parametrize("answer", [by_the_layer, by_batch_norm, by_a_helper])
def test_batch_norm_eval_backward_by_the_package_is_refused(answer):
    feedback = check_eval(answer)
    assert feedback.status == "hint" and "numpy only" in feedback.message, feedback


EVAL_FLOAT64 = """    dx = np.zeros(x.shape)
    dx[:] = gamma * g / np.sqrt(running_var + eps)
    x_hat = (x - running_mean) / np.sqrt(running_var + eps)
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)
"""
EVAL_CHANGES_X = """    x -= running_mean
    x /= np.sqrt(running_var + eps)
    return gamma * g / np.sqrt(running_var + eps), (g * x).sum(axis=0), g.sum(axis=0)
"""


@pytest.mark.parametrize(
    "body, status, words",
    [
        (None, "correct", "float32 gradients back"),
        (EVAL_FLOAT64, "hint", "came back as float64"),
        (EVAL_CHANGES_X, "hint", "changed one of its inputs in place"),
    ],
    ids=["solution", "float64", "changes x"],
)
def test_batch_norm_eval_backward_through_the_grader(tmp_path, body, status, words):
    """In the grader the function runs in the student's kernel: float32 arrays and a Python eps
    go there as data and the dtype of what comes back survives the trip."""
    check = grade_one_exercise(
        tmp_path, "13_normalization.ipynb", "nb13", "nb13-batch_norm_eval_backward", body
    )
    assert check.status == status and words in check.message, check
    assert check.score == (1.0 if status == "correct" else 0.0)


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
        # the check's eps written in: right for its batch norm, not for another eps
        (lambda linear, bn: fold(linear, bn, eps=0.1), "your W and b are the same"),
        (lambda linear, bn: fold(linear, bn, eps=3 * bn.eps - 0.2), "every place where eps"),
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


def test_a_fold_with_the_right_weight_and_a_bias_wrong_in_no_known_way_gets_the_last_hint():
    # (coverage sweep: no answer reached this hint)
    def fold_bias_off(linear, bn):
        W, b = fold(linear, bn)
        return W, b + 1.0

    feedback = nb13.check_fold_batch_norm(fold_bias_off)
    assert feedback.status == "hint"
    assert feedback.message == "W is right, b is not yet: expand gamma * (z - mean) / s + beta."


# ------------------------------------------------------- answers estimated by finite differences
def normalized(x, gamma, eps, axis):
    """The forward pass over ``axis`` (0: batch norm, 1: layer norm), without beta."""
    mu = x.mean(axis=axis, keepdims=True)
    return gamma * (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=axis, keepdims=True) + eps)


def estimated_norm_backward(axis, h, only_dx=False):
    """dx, dgamma and dbeta by central differences of the forward pass (``only_dx``: dx alone,
    dgamma and dbeta written out): right to 8 or 10 digits, and no backward pass derived."""

    def answer(g, x, gamma, eps):
        dx = estimated_vjp(lambda v: normalized(v, gamma, eps, axis), g, [x], 0, h)
        if only_dx:
            x_hat = normalized(x, np.ones_like(gamma), eps, axis)
            return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)
        dgamma = estimated_vjp(lambda v: normalized(x, v, eps, axis), g, [gamma], 0, h)
        dbeta = estimated_vjp(lambda v: g * 0 + v, g, [np.zeros_like(gamma)], 0, h)
        return dx, dgamma, dbeta

    return answer


@pytest.mark.parametrize("h", [1e-4, 1e-5, 1e-6])
@pytest.mark.parametrize("only_dx", [False, True])
@pytest.mark.parametrize(
    "check, axis", [(nb13.check_batch_norm_backward, 0), (nb13.check_layer_norm_backward, 1)]
)
def test_norm_backward_refuses_an_estimate_by_finite_differences(check, axis, only_dx, h):
    feedback = check(estimated_norm_backward(axis, h, only_dx))
    assert feedback.status == "hint" and all(w in feedback.message for w in ESTIMATE_WORDS), (
        feedback
    )


def estimated_eval_backward(h):
    def answer(g, x, gamma, running_mean, running_var, eps):
        def forward(x, gamma, beta):
            return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta

        arrays = [np.asarray(a, dtype=np.float64) for a in (x, gamma, np.zeros_like(gamma))]
        grads = (estimated_vjp(forward, g, arrays, k, h) for k in range(3))
        return tuple(grad.astype(x.dtype) for grad in grads)

    return answer


@pytest.mark.parametrize("h", [1e-5, 1e-6])
def test_batch_norm_eval_backward_refuses_an_estimate_by_finite_differences(h):
    feedback = check_eval(estimated_eval_backward(h))
    assert feedback.status == "hint" and all(w in feedback.message for w in ESTIMATE_WORDS), (
        feedback
    )
