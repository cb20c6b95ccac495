"""Self-checks for notebook 12, your own layers, losses and optimizers.

The new op's rule is checked against the engine's backward through x * sigmoid(x) (exact to
rounding: an answer estimated by finite differences, right to 8-11 digits only, is told from a
derived one by ``estimated``); the loss
against a numpy formula (value) and finite differences of it (gradient); the Adam step against
the update rule written out in numpy (``_adam.py``) -- never against the learner's code. The
challenge, a broken training run to fix, is checked in ``_broken_run.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from ..tensor import Tensor
from . import (
    Feedback,
    attempt,
    attempt_own,
    changed_input,
    close,
    correct,
    estimated,
    hint,
    numeric_gradient,
    result_array,
    roughly,
)
from ._adam import check_adam_step
from ._broken_run import check_training_run
from ._draws import check_rng

__all__ = ["check_adam_step", "check_huber_loss", "check_silu_vjp", "check_training_run"]

# The references are exact (the engine, numpy formulas): tighter than close()'s default for them.
_close = partial(close, rtol=1e-6, atol=1e-9)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------------------------- silu_vjp
def _not_a_number_only_at(got: np.ndarray, want: np.ndarray, points: np.ndarray) -> str:
    """The values of ``points`` (say "0, 30") where ``got`` is nan or inf, when it is right at
    every other entry; "" when it is finite everywhere or wrong elsewhere too."""
    finite = np.isfinite(got)
    if finite.all() or not _close(got[finite], want[finite], rtol=1e-5):
        return ""
    return ", ".join(f"{value:g}" for value in np.unique(points[~finite]))


def _silu(x: np.ndarray) -> np.ndarray:
    return x * _sigmoid(x)


def check_silu_vjp(silu_vjp: Callable) -> Feedback:
    """``silu_vjp(g, out, x)``: the rule of silu(x) = x * sigmoid(x), returning a 1-tuple."""
    name = "silu_vjp"
    rng = check_rng(120)
    x = rng.uniform(-4, 4, size=(3, 4))
    x[0, :3] = (0.0, 30.0, -30.0)  # the middle, and both ends where the sigmoid saturates
    g = rng.standard_normal((3, 4))
    x_t = Tensor(x, requires_grad=True)
    (x_t * x_t.sigmoid()).backward(np.ones_like(x))  # the engine, through the product
    assert x_t.grad is not None  # backward() reached x
    slope = x_t.grad
    expected = g * slope
    result = attempt_own(name, silu_vjp, g, _silu(x), x)  # numpy only, inputs untouched
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, tuple) or len(result) != 1:
        return hint(name, "a vjp returns a tuple with one gradient per input (silu has one input).")
    got = result_array(name, result[0], x.shape)
    if isinstance(got, Feedback):
        return got
    if _close(got, expected, rtol=1e-5):
        return estimated(name, got, expected) or correct(  # to 8-11 digits only: estimated
            name, "matches backward() through x * sigmoid(x) at 12 points, 0 and ±30 among them."
        )
    s = _sigmoid(x)
    at = _not_a_number_only_at(got, expected, x)
    if at:
        return hint(
            name,
            f"right wherever your result is a number, but nan or inf at x = {at}: a division "
            "by x (0 there) or by something that underflows to 0, or an exponential that "
            "overflows?",
        )
    if _close(got, -expected, rtol=1e-5):
        return hint(name, "right size, wrong sign in every entry.")
    if _close(got, slope, rtol=1e-5):
        return hint(name, "right local slope, but the upstream gradient g is not multiplied in.")
    out = _silu(x)
    if (
        _close(got, g * (out + x * out * (1 - out)))
        or _close(got, g * out * (1 - out))
        or _close(got, g * (s + x * out * (1 - out)))  # out only inside sigmoid'
    ):
        return hint(name, "out is silu's output, x times sigmoid(x), not the sigmoid itself.")
    if _close(got, g * out):
        return hint(name, "that is g times the output, where the derivative was meant (the slip "
                    "of section 1's wrong softplus): differentiate x * sigmoid(x).")  # fmt: skip
    if _close(got, g * s):
        return hint(name, "x * sigmoid(x) is a product: the product rule gives two terms.")
    if _close(got, g * s * (1 - s)) or _close(got, g * x * s * (1 - s)):
        return hint(name, "one term of the product rule is missing.")
    slips = (s, s**2, -s * (1 - s), 1 - s, s * (1 + s))  # sigmoid' as sigma, a sign or factor
    if any(_close(got, g * (s + x * wrong)) for wrong in slips):  # slipped, the rest right
        return hint(name, "the term sigmoid(x) is right, the term with sigmoid' is off: "
                    "sigmoid' = sigmoid * (1 - sigmoid).")  # fmt: skip
    first = (got - g * x * s * (1 - s)) / g  # the other term, when the one with sigmoid' is right
    if _close(first, np.full_like(first, first.flat[0])):  # one number at every x
        return hint(name, "the term with sigmoid' is right; the other term of the product rule, "
                    "where x is differentiated, is off.")  # fmt: skip
    return roughly(name, got, expected) or hint(
        name,
        "not yet: differentiate x * sigmoid(x) with the product rule, using "
        "sigmoid' = sigmoid * (1 - sigmoid).",
    )


# -------------------------------------------------------------------------------- huber_loss
def _huber(pred: np.ndarray, target: np.ndarray, delta: float) -> float:
    r = np.abs(pred - target)
    return float(np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta)).mean())


def check_huber_loss(huber_loss: Callable) -> Feedback:
    """``huber_loss(pred, target, delta)``: mean over entries of the Huber loss, as a Tensor.

    0.5 r^2 where |r| <= delta, delta (|r| - delta / 2) elsewhere, with r = pred - target.
    """
    name = "huber_loss"
    rng = check_rng(121)
    delta = 1.2
    # both branches, both signs, a residual of 0 and residuals exactly at the edges +-delta (the
    # loss is smooth enough there for central differences: its slope is continuous)
    residuals = np.array([-3.0, -1.7, -delta, -0.6, 0.0, 0.3, 0.9, delta, 1.4, 2.5])
    target = rng.standard_normal(len(residuals))
    pred = target + residuals
    expected = _huber(pred, target, delta)
    pred_t = Tensor(pred, requires_grad=True, name="pred")
    passed = {"pred": pred_t.data, "target": target.copy()}  # (pred_t holds a copy of pred)
    result = attempt(name, huber_loss, pred_t, passed["target"], delta)
    if isinstance(result, Feedback):
        return result
    changed = changed_input(name, {"pred": pred, "target": target}, passed)
    if changed:
        return changed
    got = result_array(name, result, ())
    if isinstance(got, Feedback):
        return hint(name, got.message + " The loss is one number: the mean over all entries.")
    inside = np.abs(residuals := pred - target) <= delta  # r as the learner finds it (edge: 1 ulp)
    quadratic = float(np.mean(np.where(inside, 0.5 * residuals**2, 0)))
    linear = float(np.mean(np.where(inside, 0, delta * (np.abs(residuals) - 0.5 * delta))))
    if not _close(got, expected):
        if _close(got, expected * pred.size):
            return hint(name, "right up to a factor of the number of entries: mean, not sum.")
        if _close(got, 2 * quadratic + linear):
            return hint(name, "the linear part is right; look at the factor of the quadratic one.")
        if _close(got, quadratic):
            return hint(name, "the quadratic part is right, but the linear part is missing.")
        size = np.abs(residuals)
        if any(  # the linear part's constant left out, or -delta^2 or -delta / 2
            _close(got, quadratic + float(np.mean(np.where(inside, 0, delta * size - c))))
            for c in (0.0, delta**2, delta / 2)
        ):
            return hint(
                name,
                "the two parts do not meet at |r| = delta: evaluate both there; "
                "the linear part's constant is what makes them meet.",
            )
        signed = [  # the signed residual in the choice of branch, in the linear part, or both
            np.where(residuals <= delta, 0.5 * residuals**2, delta * (size - 0.5 * delta)),
            np.where(inside, 0.5 * residuals**2, delta * (residuals - 0.5 * delta)),
            np.where(residuals <= delta, 0.5 * residuals**2, delta * (residuals - 0.5 * delta)),
        ]
        if any(_close(got, float(np.mean(loss))) for loss in signed):
            return hint(
                name,
                "right for small residuals and large positive ones, not for large negative "
                "ones: the loss depends on the size |r| of a residual, not on its sign (in the "
                "choice of branch too).",
            )
        if _close(got, expected / delta):
            return hint(
                name,
                "that is the Huber loss divided by delta (PyTorch's smooth L1 loss, whose beta "
                "plays delta's part): both branches have the scale of the formula above.",
            )
        if _close(got, _huber(pred, target, 1.0)):
            return hint(
                name,
                f"right for delta = 1, its default, but the check passes delta = {delta}: use "
                "the delta your function is given.",
            )
        return hint(
            name,
            f"the loss should be {expected:.6f}, yours is {float(got):.6f}: check "
            "each branch on one small and one large residual.",
        )
    if not isinstance(result, Tensor) or result.op is None:
        return hint(
            name,
            "right value, but not a Tensor computed from pred: build it from "
            "Tensor operations (abs, where, *, mean...) so backward() can follow.",
        )
    try:
        result.backward()
    except Exception as error:  # a check never raises: say what backward() said
        return hint(name, f"right value, but backward() failed: {type(error).__name__}: {error}")
    if pred_t.grad is None:
        return hint(name, "right value, but the gradient does not reach pred.")
    numeric = numeric_gradient(lambda p: _huber(p, target, delta), pred)  # of the numpy formula
    at = _not_a_number_only_at(pred_t.grad, numeric, residuals)
    if at:
        return hint(
            name,
            f"right value, and the right gradient but for nan or inf where the residual is {at}: "
            "is |r| computed by a route whose slope there is 0 / 0 (a square root of r squared, "
            "a division by |r|)?",
        )
    if not _close(pred_t.grad, numeric, rtol=1e-5):
        return hint(
            name,
            "right value but a wrong gradient: did you use .data (or numpy) "
            "somewhere, cutting the graph?",
        )
    return _other_delta(name, huber_loss, pred, target, delta) or correct(
        name, "right value on both branches, and backward() matches finite differences."
    )


_OTHER_DELTA = 0.7  # neither the notebook's 1.0 nor the first call's: three residuals inside


def _other_delta(
    name: str, huber_loss: Callable, pred: np.ndarray, target: np.ndarray, delta: float
) -> Feedback | None:
    """None if ``huber_loss`` is right with ``_OTHER_DELTA`` as well, else the hint: an answer
    with a delta of its own (the check's first one written in) is right at that delta only."""
    result = attempt(name, huber_loss, Tensor(pred, requires_grad=True), target.copy(),
                     _OTHER_DELTA)  # fmt: skip
    got = result_array(name, result, ())
    if isinstance(got, Feedback):  # it crashed, or returned no number, at this delta only
        return hint(name, f"right with delta = {delta}, but with delta = {_OTHER_DELTA}: "
                    f"{got.message}")  # fmt: skip
    if _close(got, _huber(pred, target, _OTHER_DELTA)):
        return None
    if _close(got, _huber(pred, target, delta)):
        return hint(name, f"right with delta = {delta}, but with delta = {_OTHER_DELTA} your loss "
                    "is the same: it does not change with delta. Use the delta your function "
                    "is given, not a number of your own.")  # fmt: skip
    return hint(
        name,
        f"right with delta = {delta}, but not with delta = {_OTHER_DELTA}: does every place "
        "where delta belongs use the delta your function is given?",
    )
