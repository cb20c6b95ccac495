"""An answer estimated by finite differences with a poor step gets the estimate hint, at every
derivation check of notebooks 02 and 05-14.

A learner who wrote notebook 01's central differences can answer any derivation exercise by
estimating it from a forward pass of their own. With the usual small steps (h = 1e-5, 1e-6) the
estimate lands within ``close`` of the exact reference, and the gate (``exercises.estimated``,
nb02's "measured slope") says so; the tests of each notebook hold that. With a poorer step --
central differences with h = 1e-2 or 1e-3, forward differences (f(x + h) - f(x)) / h with
h = 1e-4 or 1e-6 -- it lands outside ``close`` but within 1e-4 of the largest entry, and a check
whose catch-all "not yet" then answers sends the learner hunting for a wrong formula that is not
there. This sweep runs every such estimate through its check: never "correct", and the hint is
the estimate's (``exercises.roughly``, asked before a check's catch-all), or one of the few in
``TRUE_HINTS`` that names something else true of that answer.

The checks and how to call them are test_right_alternatives's (``RIGHT``, ``check_of``); each
exercise's forward pass is written here, as the learner would write it for the estimate.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from functools import partial

import numpy as np
import pytest
from exercise_helpers import ESTIMATE_WORDS
from test_right_alternatives import RIGHT, check_of, define

from backproplab.exercises import DERIVED


# ------------------------------------------------------------------------------ the estimates
class Step:
    """A finite-difference scheme: central with step h, or forward with step h."""

    def __init__(self, kind: str, h: float):
        self.kind, self.h = kind, h

    def __repr__(self) -> str:
        return f"{self.kind} h={self.h:g}"

    def differences(self, f: Callable, x) -> np.ndarray:
        """The gradient of the scalar ``f`` at ``x``, entry by entry."""
        x = np.array(x, dtype=np.float64)
        grad, h = np.empty_like(x), self.h
        here = f(x) if self.kind == "forward" else None
        for i in np.ndindex(*x.shape):
            up, down = x.copy(), x.copy()
            up[i] += h
            if self.kind == "forward":
                grad[i] = (f(up) - here) / h
            else:
                down[i] -= h
                grad[i] = (f(up) - f(down)) / (2 * h)
        return grad

    def estimate(self, forward: Callable, g, inputs: list, k: int = 0) -> np.ndarray:
        """d sum(g * forward(*inputs)) / d inputs[k], estimated."""

        def loss(v):
            return float(np.sum(g * forward(*inputs[:k], v, *inputs[k + 1 :])))

        return self.differences(loss, inputs[k])


STEPS = [Step("central", 1e-2), Step("central", 1e-3), Step("forward", 1e-4),
         Step("forward", 1e-6)]  # fmt: skip


def _elementwise(f: Callable) -> Callable:
    """A learner's d/dx of an elementwise ``f``: the vjp of ones."""
    return lambda s, x: s.estimate(f, np.ones(np.shape(x)), [x])


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(z / 2))


_erf = np.vectorize(math.erf)


def _logit(out):  # x from sigmoid(x), by bisection: no logarithm for nb07's check to name
    lo, hi = np.full(out.shape, -40.0), np.full(out.shape, 40.0)
    for _ in range(100):
        mid = (lo + hi) / 2
        below = _sigmoid(mid) < out
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _smoothed(s, logits, q):  # the gradient of the mean cross-entropy against targets q
    return s.estimate(lambda z: -(q * _log_softmax(z)).sum(axis=1).mean(), 1.0, [logits])


def _linear(s, delta, A, W):
    inputs = [A, W, np.zeros(W.shape[0])]
    return tuple(s.estimate(lambda A, W, b: A @ W.T + b, delta, inputs, k) for k in (1, 2, 0))


def _tiny_net(s, *params):
    def loss(X, Y, W1, b1, W2, b2):
        return (((np.maximum(X @ W1.T + b1, 0) @ W2.T + b2 - Y) ** 2).sum(axis=1)).mean()

    return tuple(s.estimate(loss, 1.0, list(params), k) for k in (2, 3, 4, 5))


def _mlp_loss(Z, Ws, bs, labels, first):  # mean cross-entropy, run on from layer first's Z
    for W, b in zip(Ws[first:], bs[first:]):
        Z = np.maximum(Z, 0) @ W.T + b
    return -_log_softmax(Z)[np.arange(len(labels)), labels].mean()


def _mlp(s, Ws, bs, X, labels):
    Zs, A = [], X
    for W, b in zip(Ws, bs):
        Zs.append(A @ W.T + b)
        A = np.maximum(Zs[-1], 0)
    grads = {}
    for k, (W, b, Z) in enumerate(zip(Ws, bs, Zs)):
        A = X if k == 0 else np.maximum(Zs[k - 1], 0)
        rest = partial(_mlp_loss, Ws=Ws, bs=bs, labels=labels, first=k + 1)  # from this Z on
        grads[f"W{k + 1}"] = s.estimate(lambda W, A=A, b=b, rest=rest: rest(A @ W.T + b), 1.0, [W])
        grads[f"b{k + 1}"] = s.estimate(lambda b, A=A, W=W, rest=rest: rest(A @ W.T + b), 1.0, [b])
        grads[f"D{k + 1}"] = s.estimate(rest, 1.0, [Z])
    return _mlp_loss(Zs[0], Ws, bs, labels, 1), grads


def _through(s, g, x, jacobians, residual):
    def forward(v):
        for J in jacobians:
            v = J @ v + v if residual else J @ v
        return v

    return s.estimate(forward, g, [x])


def _relu_stack(x, weights):
    for W in weights:
        x = np.maximum(x @ W.T, 0)
    return x


def _normalized(x, gamma, beta, eps, axis):
    mu = x.mean(axis=axis, keepdims=True)
    return gamma * (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=axis, keepdims=True) + eps) + beta


def _norm(s, g, x, gamma, eps, axis):
    inputs = [x, gamma, np.zeros_like(gamma)]
    return tuple(s.estimate(lambda *a: _normalized(*a, eps, axis), g, inputs, k) for k in range(3))


def _eval_norm(s, g, x, gamma, mean, var, eps):
    def forward(x, gamma, beta):
        return gamma * (x - mean) / np.sqrt(var + eps) + beta

    inputs = [np.asarray(a, dtype=np.float64) for a in (x, gamma, np.zeros_like(gamma))]
    return tuple(s.estimate(forward, g, inputs, k) for k in range(3))


def _conv(x, w, padding):  # the convolution of notebook 14, window by window
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = w.shape[2:]
    oh, ow = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    return sum(np.einsum("ncpq,oc->nopq", x[:, :, i : i + oh, j : j + ow], w[:, :, i, j])
               for i in range(kh) for j in range(kw))  # fmt: skip


def _conv_input(s, g, weight, padding=0):
    (n, _, oh, ow), (_, c, kh, kw) = g.shape, weight.shape
    x = np.ones((n, c, oh + kh - 1 - 2 * padding, ow + kw - 1 - 2 * padding))
    return s.estimate(lambda v: _conv(v, weight, padding), g, [x])


def _pooled(x, k):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // k, k, w // k, k).max(axis=(3, 5))


# "notebook exercise" -> the learner's function, answering by an estimate with the step
# given first: ``partial(ESTIMATES[key], step)`` is what the check is handed
ESTIMATES: dict[str, Callable] = {
    "02 d_sin_of_square": _elementwise(lambda x: np.sin(x**2)),
    "02 partials": lambda s, x, y: tuple(
        s.estimate(lambda x, y: x**2 * y + np.exp(x * y), np.ones_like(x), [x, y], k)
        for k in (0, 1)
    ),
    "02 two_paths": _elementwise(lambda x: x**3 * np.cos(x)),
    "02 three_paths": _elementwise(lambda x: x**2 * (np.sin(x**2) + x)),
    "05 dL_dX": lambda s, G, W: s.estimate(lambda X: X @ W.T, G, [np.ones((len(G), W.shape[1]))]),
    "05 dL_dW": lambda s, X, G: s.estimate(
        lambda W: X @ W.T, G, [np.ones((G.shape[1], X.shape[1]))]
    ),
    "05 dL_db": lambda s, G: s.estimate(lambda b: b + 0 * G, G, [np.ones(G.shape[1])]),
    "05 dL_dW_column": lambda s, delta, a: s.estimate(
        lambda W: W @ a, delta, [np.ones((len(delta), len(a)))]
    ),
    "05 bilinear_grads": lambda s, U, A, V, g: tuple(
        s.estimate(lambda U, A, V: np.einsum("ni,ij,nj->n", U, A, V), g, [U, A, V], k)
        for k in range(3)
    ),
    "06 through_relu": lambda s, dL_dh, z1: s.estimate(lambda z: np.maximum(z, 0), dL_dh, [z1]),
    "06 tiny_net_backward": _tiny_net,
    "07 sigmoid_backward": lambda s, g, out: s.estimate(_sigmoid, g, [_logit(out)]),
    "07 leaky_relu_backward": lambda s, g, x, slope: s.estimate(
        lambda v: np.where(v > 0, v, slope * v), g, [x]
    ),
    "07 softmax_jacobian": lambda s, a: np.array(
        [s.estimate(_softmax, e, [np.log(a)]) for e in np.eye(a.size)]
    ),
    "07 binary_cross_entropy_grad": lambda s, p, y: s.estimate(
        lambda q: np.mean(-(y * np.log(q) + (1 - y) * np.log(1 - q))), 1.0, [p]
    ),
    "07 gelu_backward": lambda s, g, x: s.estimate(
        lambda v: 0.5 * v * (1 + _erf(v / np.sqrt(2))), g, [x]
    ),
    "08 softmax_vjp": lambda s, g, a: s.estimate(_softmax, g, [np.log(a)]),
    "08 cross_entropy_grad": lambda s, logits, labels: _smoothed(
        s, logits, np.eye(logits.shape[1])[labels]
    ),
    "08 label_smoothing_grad": lambda s, logits, labels, eps: _smoothed(
        s, logits, (1 - eps) * np.eye(logits.shape[1])[labels] + eps / logits.shape[1]
    ),
    "09 linear_backward": _linear,
    "09 hidden_delta": lambda s, delta, W, Z: s.estimate(
        lambda z: np.maximum(z, 0) @ W.T, delta, [Z]
    ),
    "09 sigmoid_hidden_delta": lambda s, delta, W2, H: s.estimate(
        lambda z: _sigmoid(z) @ W2.T, delta, [_logit(H)]
    ),
    "09 mlp_backward": _mlp,
    "10 input_gradient": lambda s, x, weights, g: s.estimate(
        lambda v: _relu_stack(v, weights), g, [x]
    ),
    "11 residual_vjp": lambda s, g, J: s.estimate(lambda x: J @ x + x, g, [np.ones(len(g))]),
    "11 stack_input_gradient": lambda s, g, jacobians, residual: _through(
        s, g, np.ones(len(g)), jacobians, residual
    ),
    "12 silu_vjp": lambda s, g, out, x: (s.estimate(lambda v: v * _sigmoid(v), g, [x]),),
    "13 batch_norm_backward": lambda s, g, x, gamma, eps: _norm(s, g, x, gamma, eps, 0),
    "13 layer_norm_backward": lambda s, g, x, gamma, eps: _norm(s, g, x, gamma, eps, 1),
    "13 batch_norm_eval_backward": _eval_norm,
    "14 conv2d_weight_grad": lambda s, x, g, k, padding=0: s.estimate(
        lambda w: _conv(x, w, padding), g, [np.ones((g.shape[1], x.shape[1], k, k))]
    ),
    "14 conv2d_input_grad": _conv_input,
    "14 max_pool2d_backward": lambda s, g, x, k: s.estimate(lambda v: _pooled(v, k), g, [x]),
}

NOT_DERIVATIONS = {  # exercises of these notebooks whose answer is not a derivative
    "02 steepest_steps", "06 gd_predicted_change", "08 stable_log_softmax", "09 replay",
    "10 clip_gradients", "10 init_std", "10 dead_fraction", "10 my_std", "11 residual_block",
    "11 block_gradient_norms", "12 huber_loss", "12 adam_step", "12 train_digits",
    "13 fold_batch_norm",
}  # fmt: skip


def verdict(feedback) -> str:
    """What a check said, in a word: correct, estimate (the gate's hint) or its hint."""
    if feedback.passed:
        return "correct"
    if all(word in feedback.message for word in ESTIMATE_WORDS):
        return "estimate"
    if "as a measured slope does" in feedback.message:  # nb02's own words for the estimate hint
        return "estimate"
    return feedback.message


# (check, step) -> words of a hint that names something else true of the estimate
CENTRAL, FORWARD = [repr(step) for step in STEPS[:2]], [repr(step) for step in STEPS[2:]]
TRUE_HINTS = {
    # piecewise linear: an estimate is exact between the kinks, and at a kink, where each of
    # these checks puts inputs exactly 0, it straddles it (central differences: half of each
    # side's slope) or takes the right-hand side's slope (forward): wrong there, as said
    **{("06 through_relu", step): "except at z1 = 0 exactly" for step in CENTRAL + FORWARD},
    **{("07 leaky_relu_backward", step): "except at x = 0 exactly" for step in CENTRAL + FORWARD},
    **{("09 hidden_delta", step): "except where Z = 0 exactly" for step in CENTRAL + FORWARD},
    **{("06 tiny_net_backward", step): "z1 is exactly 0 for an example" for step in CENTRAL},
    ("10 input_gradient", "central h=0.001"): "not for an input of zeros",
    # a step of 1e-2 crosses the kink of every unit whose z is within 1e-2 of 0: off by 4 %
    # there, as far off as a wrong rule, and no more than "not x.grad" can be said of it
    ("10 input_gradient", "central h=0.01"): "not the engine's x.grad",
    # the four tied maxima of a window each get g / 2 (h = 1e-3 is refused before, at the
    # first batch, whose estimate is off by more than rounding): the window passes on 2 g
    ("14 max_pool2d_backward", "central h=0.01"): "tie for the max, your gradients add up to",
    # at p = 0.001 the step is a small number added to p, where the gradient is 1 / p: the
    # estimate is off by more than 1e-4 there (nan for central steps past p), right elsewhere
    **{("07 binary_cross_entropy_grad", step): "wrong close to p = 0 or p = 1"
       for step in CENTRAL + FORWARD},
    # dx off by 0.7 % (batch norm) and 0.9 % (layer norm) of its largest entry, as far off as
    # a slip; dgamma and dbeta, linear in gamma and beta, are exact: both halves true
    ("13 batch_norm_backward", "central h=0.01"): "dgamma and dbeta are right, dx is not yet",
    ("13 layer_norm_backward", "central h=0.01"): "dgamma and dbeta are right, dx is not yet",
}  # fmt: skip

# The estimates that are the gradient to rounding: central differences of a map linear in the
# input they estimate have no error but rounding's, here below the gate's DERIVED (1e-12 of
# the largest entry). No check can tell them from a derived answer, and none need: they pass.
EXACT = {
    (key, step)
    for key in ("05 dL_dX", "05 dL_dW", "05 dL_db", "05 bilinear_grads", "09 linear_backward",
                "11 residual_vjp", "11 stack_input_gradient", "14 conv2d_weight_grad")
    for step in CENTRAL
} | {("05 dL_dW_column", "central h=0.01"), ("14 conv2d_input_grad", "central h=0.01")}  # fmt: skip


def test_every_derivation_check_is_swept():
    swept = {key for key in RIGHT if key[:2] == "02" or "05" <= key[:2] <= "14"}
    assert set(ESTIMATES) == swept - NOT_DERIVATIONS


def answer_of(key: str, step: Step, spy: list | None = None):
    """The check's verdict on the estimate with ``step``; with a list ``spy``, each call's
    largest difference from a right answer (RIGHT's first), as a fraction of its largest entry,
    is added to it."""
    number, name = key.split()
    estimate = partial(ESTIMATES[key], step)
    if spy is not None:
        right = define(RIGHT[key][0], name)

        def estimate_and_measure(*args, **kwargs):
            mine = estimate(*copy.deepcopy(args), **kwargs)
            exact = right(*copy.deepcopy(args), **kwargs)
            for m, e in zip(*(r if isinstance(r, tuple) else (r,) for r in (mine, exact))):
                e = np.asarray(e, dtype=np.float64)
                spy.append(float(np.max(np.abs(np.asarray(m) - e)) / np.max(np.abs(e))))
            return mine

        return check_of(number, name)(estimate_and_measure)
    return check_of(number, name)(estimate)


@pytest.mark.parametrize("step", STEPS, ids=repr)
@pytest.mark.parametrize("key", ESTIMATES)
def test_an_estimate_with_a_poor_step_is_told_so(key, step):
    said = verdict(answer_of(key, step))
    if (key, repr(step)) in EXACT:  # the gradient to rounding: measured so, and passed
        errors: list[float] = []
        assert verdict(answer_of(key, step, errors)) == said == "correct"
        assert errors and max(errors) <= DERIVED
        return
    assert said != "correct"
    true = TRUE_HINTS.get((key, repr(step)))
    if true is None:
        assert said == "estimate", said
    else:
        assert true in said, said


if __name__ == "__main__":  # the table of (check, step) -> verdict
    import warnings

    warnings.simplefilter("ignore")
    for key in ESTIMATES:
        for step in STEPS:
            print(f"{key:32} {step!r:18} {verdict(answer_of(key, step))}")
