"""Self-checks for notebook 07, derivatives of standard layers and losses.

Every expected answer is computed here in numpy, never from the learner's code and never with
a package function: by closed forms, exact to rounding (leaky ReLU's is the slope of each of its
two lines, and at the kink the convention the notebook states), so that an answer estimated by
finite differences, right to 8-11 digits only, can be told from a derived one (``estimated``).
A check also refuses an answer that calls the package's own rule (``bl.ops.sigmoid.vjp``, a
Tensor's ``backward``...): the exercise is to write the rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import (
    Feedback,
    attempt_own,
    close,
    correct,
    estimated,
    hint,
    names_used,
    result_array,
    roughly,
)
from ._draws import check_rng

__all__ = [
    "check_binary_cross_entropy_grad",
    "check_gelu_backward",
    "check_leaky_relu_backward",
    "check_sigmoid_backward",
    "check_softmax_jacobian",
]

# and the inverse hyperbolic functions, logarithms by another name: logit(p) = 2 artanh(2p - 1)
_EXP_AND_LOG = {"exp", "expm1", "exp2", "log", "log1p", "log2", "log10", "logaddexp", "logit",
                "expit", "arctanh", "arcsinh", "arccosh"}  # fmt: skip


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def check_sigmoid_backward(sigmoid_backward: Callable) -> Feedback:
    """``sigmoid_backward(g, out)``: the gradient reaching x, given g and out = sigmoid(x)."""
    name = "sigmoid_backward"
    rng = check_rng(7)
    x = rng.uniform(-4, 4, size=(3, 5))
    x[0, :3] = [0.0, 30.0, -30.0]  # the top of the slope, and two saturated points
    g = rng.standard_normal((3, 5))
    out = _sigmoid(x)
    expected = g * np.exp(-x) / (1 + np.exp(-x)) ** 2  # the quotient rule's slope, written with x
    got = result_array(name, attempt_own(name, sigmoid_backward, g, out), x.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected) and names_used(sigmoid_backward) & _EXP_AND_LOG:
        return hint(  # right values the long way, e.g. x recovered as log(out / (1 - out))
            name,
            "right values, but your rule takes an exponential or a logarithm: the exercise asks "
            "for the slope written with the output alone; rewrite sigmoid'(x) in terms of "
            "sigmoid(x).",
        )
    if close(got, expected):
        return estimated(name, got, expected) or correct(  # right to 8-11 digits only: estimated
            name, "matches the exact derivative of sigmoid at 15 points."
        )
    if close(got * g, expected) or close(got, expected / g):
        return hint(name, "right local slope, but the upstream gradient g is not multiplied in.")
    if close(got, g * _sigmoid(out) * (1 - _sigmoid(out))):
        return hint(name, "you applied sigmoid to `out` again: `out` already is sigmoid(x).")
    if close(got, g * out) or close(got, g * (1 - out)):
        return hint(name, "half of the slope is there: sigmoid' has two factors, not one.")
    if close(got, -expected):
        return hint(name, "right size, wrong sign: sigmoid increases everywhere.")
    if close(got, g * (1 - out**2)):
        return hint(name, "that is the slope of tanh, not of the sigmoid.")
    return roughly(name, got, expected) or hint(
        name, "not yet: differentiate 1 / (1 + e^-x) and write the result in terms of sigmoid(x)."
    )


def check_leaky_relu_backward(leaky_relu_backward: Callable) -> Feedback:
    """``leaky_relu_backward(g, x, slope)``: the gradient reaching x through leaky ReLU.

    x holds exact zeros: there the notebook fixes the slope to the negative side's. Two slopes
    are tried, so that a number written into the answer cannot stand in for ``slope``.
    """
    name = "leaky_relu_backward"
    rng = check_rng(8)
    x = rng.uniform(-3, 3, size=(4, 6))
    x[0, :3] = 0.0  # the kink, tried with its convention
    g = rng.standard_normal((4, 6))
    at_kink = x == 0
    positive, negative = x > 0, x <= 0
    for slope in (0.1, 0.25):
        expected = g * np.where(positive, 1.0, slope)  # each line's slope; x = 0 takes slope
        got = result_array(name, attempt_own(name, leaky_relu_backward, g, x, slope), x.shape)
        if isinstance(got, Feedback):
            return got
        if close(got, expected):
            derived = estimated(name, got, expected)  # to rounding, as a derived answer is
            if derived is not None:
                return derived
            continue
        if any(close(got, g * np.where(positive, 1.0, fixed)) for fixed in (0.1, 0.01)):
            return hint(
                name,
                f"with slope = {slope} your gradient for x <= 0 uses another, fixed number: "
                "take the slope from the argument.",
            )
        if close(got, np.maximum(g, slope * g)):  # the forward's max, applied to g
            return hint(name, "which side's slope applies depends on the input x, not on the "
                        "sign of the gradient g.")  # fmt: skip
        if close(got[~at_kink], expected[~at_kink]):
            return hint(
                name,
                "right everywhere except at x = 0 exactly: there the rule uses the negative "
                "side's slope; is your comparison strict?",
            )
        if close(got[positive], expected[positive]) and close(got[negative], 0 * g[negative]):
            return hint(name, "negative inputs get zero gradient: that is ReLU, not leaky ReLU.")
        if close(got[positive], expected[positive]) and close(
            got[negative], slope + 0 * g[negative]
        ):
            return hint(name, "right for x > 0; for x <= 0 you return the slope itself: g "
                        "multiplies the local slope on that side too.")  # fmt: skip
        if close(got[positive], expected[positive]):
            return hint(name, "right for x > 0; look again at the slope of the line for x < 0.")
        if close(got[negative], expected[negative]):
            return hint(name, "right for x < 0; look again at the slope of the line for x > 0.")
        if close(got, expected / g):
            return hint(
                name, "right local slope, but the upstream gradient g is not multiplied in."
            )
        return hint(name, "not yet: leaky ReLU is two straight lines; what is each line's slope?")
    return correct(name, "matches the exact gradient on both sides, and the convention at 0.")


def check_softmax_jacobian(softmax_jacobian: Callable) -> Feedback:
    """``softmax_jacobian(a)``: the K x K matrix J[i, j] = d a_i / d z_j, given a = softmax(z).

    Tried on ordinary logits, on ties (all logits equal) and on one logit far ahead (a nearly
    one-hot, where J is nearly zero).
    """
    name = "softmax_jacobian"
    cases = [  # three sizes K, so that an answer written for one K cannot pass
        np.array([0.5, -1.0, 2.0, 0.1]),
        np.zeros(3),  # ties: a is uniform
        np.array([30.0, 0.0, -1.0, 1.0, 0.5]),  # one logit far ahead
    ]
    for z in cases:
        # with a far lead J is ~5e-13 and a_0 = 1 - d: a_0 - a_0^2 loses d^2, so right forms
        # differ by 5e-13 of J (measured): there close() alone decides
        to_rounding = z.max() - z.min() < 20
        a = _softmax(z)
        k = z.size
        expected = a[:, None] * (np.eye(k) - a)  # a_i (1[i = j] - a_j), the quotient rule's
        got = result_array(name, attempt_own(name, softmax_jacobian, a), (k, k))
        if isinstance(got, Feedback):
            return got
        if close(got, expected):  # and to rounding, as a derived answer is
            derived = estimated(name, got, expected) if to_rounding else None
            if derived is not None:
                return derived
            continue
        again = _softmax(a)  # softmax applied to the probabilities, as if they were the logits
        if close(got, np.diag(again) - np.outer(again, again)):
            return hint(
                name,
                "right form, but you applied softmax to `a` again: `a` already holds the "
                "probabilities softmax(z), so use it as it is.",
            )
        off = ~np.eye(k, dtype=bool)
        if close(np.diag(got), np.diag(expected)) and np.allclose(got[off], 0):
            return hint(
                name,
                "the diagonal is right, but moving z_j also moves the other outputs: they share "
                "the denominator, so the off-diagonal entries are not zero.",
            )
        if close(got, -expected):
            return hint(name, "right size, wrong sign in every entry: raising z_i raises a_i.")
        if close(got[off], np.full(off.sum(), -float(a @ a))):
            return hint(
                name,
                "every off-diagonal entry is the same number, minus the sum of all a_k^2: a "
                "product of a 1-d array with its transpose (a.T is a itself) is one number, the "
                "dot product, not the K x K table of the products a_i a_j.",
            )
        rough = roughly(name, got, expected)  # an estimate: its diagonal, or its off-diagonal
        if rough is not None:  # entries, may be outside close() while the others are inside
            return rough
        if close(got[off], expected[off]):
            return hint(name, "the off-diagonal entries are right; check the diagonal.")
        if close(np.diag(got), np.diag(expected)):
            return hint(name, "the diagonal is right; check the sign and size of the off-diagonal.")
        return hint(name, "not yet: differentiate e^{z_i} / sum_k e^{z_k} by z_j, once for i = j "
                    "and once for i != j (quotient rule).")  # fmt: skip
    return correct(name, "matches the exact Jacobian, also for ties and a far lead.")


def check_binary_cross_entropy_grad(binary_cross_entropy_grad: Callable) -> Feedback:
    """``binary_cross_entropy_grad(p, y)``: d/dp of mean(-(y log p + (1-y) log(1-p))).

    Includes probabilities close to 0 and 1 on both labels, where the gradient is large.
    """
    name = "binary_cross_entropy_grad"
    rng = check_rng(9)
    p = rng.uniform(0.05, 0.95, size=8)
    y = (rng.uniform(size=8) > 0.5).astype(float)
    p[:4], y[:4] = [0.001, 0.999, 0.001, 0.999], [1.0, 0.0, 0.0, 1.0]  # near 0 and 1
    # the others ordinary: there 1e-3 added to p or 1 - p is under 1 % off (seed 9: as drawn)
    p[4:] = np.clip(p[4:], 0.12, 0.88)
    expected = _bce_grad(p, y)
    got = result_array(name, attempt_own(name, binary_cross_entropy_grad, p, y), p.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected, rtol=1e-4):
        return (
            estimated(name, got, expected)  # to 8 or 10 digits only: an estimate, not derived
            or _other_batch(binary_cross_entropy_grad, rng, p.size)
            or correct(name, "matches the exact gradient of the mean BCE, also near p = 0 and 1.")
        )
    if close(got, expected * p.size, rtol=1e-4):
        return hint(name, "right shape, but off by a factor of the batch size (L is a mean).")
    if close(got, -expected, rtol=1e-4) or close(got, -expected * p.size, rtol=1e-4):
        return hint(name, "right size, wrong sign: the loss has a minus sign in front.")
    inner_sign_lost = -y / p - (1 - y) / (1 - p)  # d/dp log(1 - p) taken as 1 / (1 - p)
    if close(got, inner_sign_lost / p.size, rtol=1e-4) or close(got, inner_sign_lost, rtol=1e-4):
        return hint(
            name,
            "right for the examples with label 1, wrong for label 0: in the log(1 - p) term the "
            "inner function 1 - p has slope -1, and the chain rule multiplies it in.",
        )
    if close(got, p - y) or close(got, (p - y) / p.size):
        return hint(
            name,
            "that is the gradient with respect to the logit z (through the sigmoid); here "
            "we want the gradient with respect to the probability p itself.",
        )
    if close(got * p.size, expected, rtol=1e-4):
        return hint(name, f"{p.size} times too small, the batch size: the mean's 1/N enters once.")
    middle = slice(4, None)
    if close(got[middle], expected[middle], rtol=1e-2):  # 1e-2: a small number added to p
        return hint(
            name,
            "right (or within a fraction of a percent) for ordinary probabilities, wrong close "
            "to p = 0 or p = 1: do not clip or round p, or add a small number to it; the "
            "gradient there really is large",
        )
    return hint(name, "not yet: differentiate each of the two log terms by p, then average.")


def _bce_grad(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d/dp of mean(-(y log p + (1 - y) log(1 - p))), exactly: one term per log, over N."""
    return (-y / p + (1 - y) / (1 - p)) / p.size


def _other_batch(
    binary_cross_entropy_grad: Callable, rng: np.random.Generator, n: int
) -> Feedback | None:
    """None if ``binary_cross_entropy_grad``, right for the first batch of ``n`` probabilities,
    is right for a batch of 5 as well; else the hint. An answer that writes in the first batch's
    size (a division by 8, the size the hints name) passed that batch."""
    name = "binary_cross_entropy_grad"
    p, y = rng.uniform(0.12, 0.88, size=5), np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    expected = _bce_grad(p, y)
    got = result_array(name, attempt_own(name, binary_cross_entropy_grad, p, y), p.shape)
    if not isinstance(got, Feedback) and close(got, expected, rtol=1e-4):
        return None
    return hint(
        name,
        f"right for the batch of {n} probabilities, but not for one of 5: does your answer use "
        "the size of the first batch instead of the batch it is given?",
    )


_erf = np.vectorize(math.erf)


def check_gelu_backward(gelu_backward: Callable) -> Feedback:
    """``gelu_backward(g, x)``: the gradient reaching x through GELU(x) = x Phi(x)."""
    name = "gelu_backward"
    rng = check_rng(10)
    x = rng.uniform(-4, 4, size=(3, 4))
    x[0, :3] = [0.0, 8.0, -8.0]  # the middle, and far out on both sides
    g = rng.standard_normal((3, 4))
    cdf = 0.5 * (1 + _erf(x / math.sqrt(2)))  # Phi(x), the erf form the notebook defines
    pdf = np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)  # phi(x) = Phi'(x)
    expected = g * (cdf + x * pdf)  # the product rule, exact to rounding
    got = result_array(name, attempt_own(name, gelu_backward, g, x), x.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return estimated(name, got, expected) or correct(  # right to 8-11 digits only: estimated
            name, "matches the exact derivative of GELU at 12 points."
        )
    if close(got, expected / g):
        return hint(name, "right local slope, but the upstream gradient g is not multiplied in.")
    if close(got, g * cdf):
        return hint(
            name,
            "only one term: GELU is x times Phi(x), a product, and both factors depend on x.",
        )
    if close(got, g * (cdf + x * pdf * math.sqrt(2 * math.pi))):
        return hint(name, "the density of the standard normal has a normalising constant.")
    if close(got, g * (cdf + pdf)):  # the product rule, with the x of its second term lost
        return hint(name, "the second term of your product rule is short of a factor: when "
                    "it differentiates Phi(x), what does it keep beside Phi'(x)?")  # fmt: skip
    if close(got, g * (cdf - x * pdf)):
        return hint(name, "check the sign of the second term: Phi is increasing.")
    erf_of_x = 0.5 * (1 + _erf(x))  # erf(x) for erf(x / sqrt 2): the CDF of variance 1/2
    if any(close(got, g * (erf_of_x + x * d)) for d in (pdf, np.exp(-(x**2)) / math.sqrt(math.pi))):
        return hint(name, "your Phi is not the standard normal's: erf's argument is x / sqrt(2), "
                    "not x (erf(x) alone belongs to a normal of variance 1/2).")  # fmt: skip
    if close(got, g * (cdf + x * np.exp(-(x**2)) / math.sqrt(2 * math.pi))):
        return hint(name, "your density phi is not the standard normal's: look again at its "
                    "exponent, -x^2 / 2.")  # fmt: skip
    if close(got, -expected):
        return hint(name, "right size, wrong sign in every entry.")
    c = math.sqrt(2 / math.pi)  # the slopes of GELU's two common approximations
    t = np.tanh(c * (x + 0.044715 * x**3))
    s = _sigmoid(1.702 * x)
    approximations = {
        "0.5 x (1 + tanh(...))": 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * c * (1 + 0.134145 * x**2),
        "x sigmoid(1.702 x)": s + 1.702 * x * s * (1 - s),
    }
    for form, slope in approximations.items():
        if close(got, g * slope):
            return hint(
                name,
                f"that is the slope of an approximation of GELU, {form}, close to it but not "
                "equal: the GELU here is x Phi(x) exactly, Phi written with erf.",
            )
    return roughly(name, got, expected) or hint(
        name, "not yet: write GELU as x times Phi(x) and use the product rule."
    )
