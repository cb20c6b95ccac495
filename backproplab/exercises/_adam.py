"""Notebook 12's Adam step, ``adam_step(p, g, m, v, t, lr, beta1, beta2, eps)``.

Checked over three steps against the update rule written out here in numpy (the running averages
as weighted sums over all the gradients so far), never against the learner's code, with
gradients from 0.01 to 100, one that is 0 at the first step and one about as small as eps,
where eps sets the step; then with other settings (a number written in where an argument
belongs) and on a weight matrix. Each slip of the update of p has a hint of its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import partial

import numpy as np

from . import Feedback, attempt, changed_input, close, correct, hint, result_array
from ._draws import check_rng

# The reference is exact (numpy's formulas): tighter than close()'s default.
_close = partial(close, rtol=1e-6, atol=1e-9)


def check_adam_step(adam_step: Callable) -> Feedback:
    """``adam_step(p, g, m, v, t, lr, beta1, beta2, eps)`` -> (new p, new m, new v); t = 1, 2...

    The expected values are Adam's running averages written out as weighted sums over all the
    gradients so far, m_t = (1 - beta1) sum_k beta1^(t-k) g_k (and v_t likewise with g_k^2), not
    the step-by-step rule the learner writes."""
    name = "adam_step"
    rng = check_rng(122)
    first = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)  # PyTorch's defaults (and lr = 0.1)
    feedback = _adam_steps(name, adam_step, rng, first)
    if feedback is not None:
        return feedback
    # other settings: a number of the learner's own (0.9, 0.999, 1e-8) can't pose as an argument
    other = dict(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6)
    feedback = _adam_steps(name, adam_step, rng, other)
    if feedback is not None and feedback.status == "hint":
        shown = ", ".join(f"{key}={value:g}" for key, value in other.items())
        return hint(
            name,
            f"right with lr=0.1, beta1=0.9, beta2=0.999, eps=1e-08, not with {shown}: is a "
            f"number of your own used where an argument should be? (Here: {feedback.message})",
        )
    if feedback is not None:
        return feedback
    p, g = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))  # a weight matrix's first step
    m, v = 0.1 * g, 0.001 * g**2  # (1 - beta1) g and (1 - beta2) g^2
    want = (p - 0.1 * (m / 0.1) / (np.sqrt(v / 0.001) + 1e-8), m, v)
    got = attempt(name, adam_step, p, g, 0 * p, 0 * p, 1, 0.1, 0.9, 0.999, 1e-8)
    if isinstance(got, Feedback) or not all(np.shape(r) == (2, 3) and _close(r, w)
                                            for r, w in zip(got, want)):  # fmt: skip
        return hint(name, "right for a vector, not for a weight matrix of shape (2, 3): each of p, "
                    "m and v keeps the parameter's shape, entry for entry.")  # fmt: skip
    return correct(name, "three steps match Adam's update rule, with gradients from 0.01 to 100 "
                   "and one about as small as eps.")  # fmt: skip


def _adam_steps(
    name: str, adam_step: Callable, rng: np.random.Generator, settings: dict[str, float]
) -> Feedback | None:
    """Three steps of ``adam_step`` with ``settings``, against the rule: None when right, else
    the Feedback."""
    p0 = rng.standard_normal(5)
    lr, beta1, beta2, eps = settings.values()
    p, m, v = p0.copy(), np.zeros(5), np.zeros(5)
    history = []
    for t in (1, 2, 3):
        g = rng.standard_normal(5) * 10 ** rng.uniform(-2, 2, 5)  # gradients of very mixed size
        if t == 1:
            g[0] = 0.0  # a parameter whose first gradient is 0 must not move (no 0 / 0)
        g[1] = 3 * eps  # gradients about as small as eps: there eps sets the step (0.75 lr)
        history.append(g)
        ages = np.arange(t - 1, -1, -1)  # t - k for k = 1 .. t
        want_m = ((1 - beta1) * beta1**ages) @ np.array(history)
        want_v = ((1 - beta2) * beta2**ages) @ np.array(history) ** 2
        step = lr * (want_m / (1 - beta1**t)) / (np.sqrt(want_v / (1 - beta2**t)) + eps)
        expected: tuple[np.ndarray, np.ndarray, np.ndarray] = (p - step, want_m, want_v)
        given = {"p": p, "g": g, "m": m, "v": v}
        passed = {key: value.copy() for key, value in given.items()}
        result = attempt(name, adam_step, *passed.values(), t, *settings.values())
        if isinstance(result, Feedback):
            return result
        changed = changed_input(name, given, passed)  # the new p, m and v are new arrays
        if changed:
            return changed
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            return hint(name, "return three arrays: (new p, new m, new v).")
        got = []
        for r in result:
            array = result_array(name, r, (5,))
            if isinstance(array, Feedback):
                return array
            got.append(array)
        new_p, new_m, new_v = got
        for order in itertools.permutations(range(3)):
            if order != (0, 1, 2) and all(_close(got[i], want) for i, want in zip(order, expected)):
                return hint(name, f"at step t={t} the right three arrays, in another order: "
                            "return (new p, new m, new v).")  # fmt: skip
        corrected = [  # m and v handed back bias-corrected, each on its own
            _close(ours, want / (1 - beta**t)) and not _close(ours, want)
            for ours, want, beta in ((new_m, want_m, beta1), (new_v, want_v, beta2))
        ]  # at t = 1 a corrected m is g, like beta1 m + g: only both at once is clear there
        if all(corrected) or (t > 1 and any(corrected)):
            return hint(
                name,
                f"at step t={t} you returned a bias-corrected average as the new m or v: the "
                "running averages carry over to the next step as they are; the correction only "
                "enters this step's update of p.",
            )
        if not _close(new_m, expected[1]):
            return hint(
                name,
                f"at step t={t} the first moment m is off: it is a running "
                "average of the gradients, weighted by beta1.",
            )
        if not _close(new_v, expected[2]):
            return hint(
                name,
                f"at step t={t} the second moment v is off: it is a running "
                "average of the squared gradients, weighted by beta2.",
            )
        if not np.any(np.isfinite(new_p)):  # every entry, not only the one whose gradient is 0
            return hint(
                name,
                f"at step t={t} every entry of p is inf or NaN: the bias correction divided by "
                "zero. The first step is t = 1, not 0.",
            )
        if not np.all(np.isfinite(new_p)):
            return hint(
                name,
                f"at step t={t} some entries of p are not finite numbers: a parameter whose "
                "gradient is 0 must stay where it is.",
            )
        if not _close(new_p, expected[0]):
            no_correction = p - lr * new_m / (np.sqrt(new_v) + eps)
            m_hat, v_hat = new_m / (1 - beta1**t), new_v / (1 - beta2**t)
            if _close(new_p, p - lr * m_hat / np.sqrt(v_hat + eps)):
                return hint(
                    name,
                    f"m and v are right, and at t={t} the step nearly is: eps went under the root. "
                    "In Adam's update it is added after the root is taken.",
                )
            if _close(new_p, p - lr * m_hat / np.sqrt(v_hat + eps**2)):  # right for large g
                return hint(
                    name,
                    f"m and v are right, and at t={t} the step nearly is, except for a parameter "
                    "whose gradients are about as small as eps: you put eps squared under the "
                    "root with the second moment. That agrees with Adam where the gradients are "
                    "much larger than eps, not where they are about eps: Adam adds eps itself "
                    "after the root is taken.",
                )
            if _close(new_p, p - lr * m_hat / (np.sqrt(v_hat) - eps)):
                return hint(
                    name,
                    f"m and v are right, and at t={t} the step nearly is, except for a parameter "
                    "whose gradients are about as small as eps: eps must make the denominator "
                    "larger, never smaller; it keeps the step finite where v is about 0.",
                )
            folded = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)  # the correction in lr
            if _close(new_p, p - folded * new_m / (np.sqrt(new_v) + eps)):
                return hint(
                    name,
                    f"m and v are right, and at t={t} the step nearly is, except for a parameter "
                    "whose gradients are about as small as eps: you folded the bias correction "
                    "into the learning rate (the faster form of the Adam paper), which leaves eps "
                    "beside the root of the uncorrected v. This exercise follows the update "
                    "written above, PyTorch's: eps is added to the root of the corrected v.",
                )
            if _close(new_p, 2 * p - expected[0]):
                return hint(
                    name,
                    f"m and v are right, but at t={t} the step goes uphill: each parameter moved "
                    "with its gradient instead of against it.",
                )
            if _close(new_p, no_correction):
                return hint(
                    name,
                    f"m and v are right, but at t={t} the step forgets that m and v "
                    "start at 0 and are biased towards 0 early on.",
                )
            old_m_hat, old_v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
            if _close(new_p, p - lr * old_m_hat / (np.sqrt(old_v_hat) + eps)):
                return hint(
                    name,
                    f"m and v are right, but at t={t} {'p did not move: ' * (t == 1)}the step "
                    "used the averages from before this step's gradient (0 at the first step): "
                    "update m and v first, then step with the new ones.",
                )
            squared = (v_hat + eps, (np.sqrt(v_hat) + eps) ** 2, v_hat + eps**2)  # no root, or
            if any(_close(new_p, p - lr * m_hat / d) for d in squared):  # the root squared again
                return hint(name, f"m and v are right, but at t={t} the step divides by a number "
                            "of the scale of the second moment itself, a squared gradient (its "
                            "root left out, or squared again): Adam divides by its square "
                            "root.")  # fmt: skip
            if _close(new_p, p - lr * g / (np.sqrt(v_hat) + eps)):  # m_hat is g at t = 1 only
                return hint(name, f"m and v are right, but at t={t} the step is driven by this "
                            "step's gradient alone: Adam moves along the bias-corrected first "
                            "moment, the running average that smooths the gradients.")  # fmt: skip
            if _close(new_p, p - lr * m_hat / (np.sqrt(new_v) + eps)) or _close(
                new_p, p - lr * new_m / (np.sqrt(v_hat) + eps)
            ):
                return hint(name, f"m and v are right, but at t={t} only one of the two averages "
                            "was bias-corrected in the step: both start at 0.")  # fmt: skip
            other_betas = (  # one beta in both corrections, or the two swapped
                (m_hat, new_v / (1 - beta1**t)),
                (new_m / (1 - beta2**t), v_hat),
                (new_m / (1 - beta2**t), new_v / (1 - beta1**t)),
            )
            if any(_close(new_p, p - lr * a / (np.sqrt(b) + eps)) for a, b in other_betas):
                return hint(name, f"m and v are right, but at t={t} an average's bias correction "
                            "uses the other one's beta: each is divided by the sum of its own "
                            "weights, m's made with beta1, v's with beta2.")  # fmt: skip
            if _close(new_p, p - lr * (new_m / (1 - beta1 ** (t + 1)))
                      / (np.sqrt(new_v / (1 - beta2 ** (t + 1))) + eps)):  # fmt: skip
                return hint(name, f"m and v are right, but at t={t} the bias correction is that "
                            "of the next step: t is already the number of this step, 1 at the "
                            "first, with nothing to add to it.")  # fmt: skip
            misplaced = (  # v's correction after the root, m's under one, or both
                (m_hat, np.sqrt(new_v) / (1 - beta2**t)),
                (new_m / np.sqrt(1 - beta1**t), np.sqrt(v_hat)),
                (new_m / np.sqrt(1 - beta1**t), np.sqrt(new_v) / (1 - beta2**t)),
            )
            if any(_close(new_p, p - lr * a / (b + eps)) for a, b in misplaced):
                return hint(name, f"m and v are right, but at t={t} a bias correction is on the "
                            "wrong side of a square root: v is divided by its correction before "
                            "the root is taken, and m, which is not under a root, by its "
                            "correction itself.")  # fmt: skip
            wrong_corrections = (  # 1 - beta to the power t read as (1 - beta)^t, or multiplied
                (new_m / (1 - beta1) ** t, new_v / (1 - beta2) ** t),
                (new_m * (1 - beta1**t), new_v * (1 - beta2**t)),
            )
            if any(_close(new_p, p - lr * a / (np.sqrt(b) + eps)) for a, b in wrong_corrections):
                return hint(name, f"m and v are right, but at t={t} the bias correction is off: "
                            "each average is divided by the sum of the weights it has given the "
                            "gradients so far (section 3).")  # fmt: skip
            with np.errstate(all="ignore"):  # the number after the root, from g[1] = 3 eps
                added = lr * m_hat[1] / (p[1] - new_p[1]) - np.sqrt(v_hat[1])
                bare = np.where(v_hat > 0, m_hat / np.sqrt(v_hat), 0.0)  # no eps, no 0 / 0
            # a number added, not the rounding of a step without one (about 1e-15 of the root;
            # eps squared, 1e-16, is 3e-9 of it) nor inf (p not moved)
            if 1e-12 * np.sqrt(v_hat[1]) < added < np.inf and _close(
                new_p, p - lr * m_hat / (np.sqrt(v_hat) + added)
            ):
                return hint(name, f"m and v are right, and at t={t} the step nearly is, except "
                            "for a parameter whose gradients are about as small as eps: your step "
                            f"is Adam's with {added:.2g} added after the root, where Adam adds "
                            f"the eps it is given, {eps:g}.")  # fmt: skip
            if _close(new_p, p - lr * bare):
                return hint(name, f"m and v are right, and at t={t} the step nearly is, except "
                            "for a parameter whose gradients are about as small as eps: your step "
                            "leaves eps out, so that parameter moves by the whole lr. Adam adds "
                            "eps after the root, which shortens the steps of gradients that "
                            "small.")  # fmt: skip
            return hint(
                name,
                f"m and v are right; the step at t={t} is not: every parameter "
                "should move by about lr, whatever the size of its gradient.",
            )
        p, m, v = expected
    return None
