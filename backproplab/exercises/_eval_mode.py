"""Notebook 13's exercise 3: batch norm's backward pass in evaluation mode.

In evaluation mode the layer normalises with its running mean and variance, constants that this
batch does not change, so only the direct route from x to the output is left:
dx = gamma * g / sqrt(running_var + eps). The reference is the engine's backward through that
graph of primitives (``_engine_eval_grads``); the wrong answers the hints recognise are built
in ``_eval_wrong``. (The training-mode checks are in ``nb13.py``.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..tensor import Tensor
from . import Feedback, attempt_own, close, correct, estimated, hint, roughly
from ._draws import check_rng
from ._normalization import EPS, NOTEBOOK_EPS, OTHER_EPS, SWAPPED, _other_eps_message, _three

EVAL_INPUTS = ("g", "x", "gamma", "running_mean", "running_var")  # the arguments, before eps
EPS_UNDER_SQRT = "eps belongs under the square root, added to the running variance."
FLOOR = "eps is not a floor for the running variance: it is added to it, whatever its size."
BY_VARIANCE = "you divided by the variance: batch norm divides by a standard deviation."
TRAINING_MODE = (
    "this is training mode's backward, through the batch's mean and variance. In evaluation "
    "mode the layer normalises with its running averages, numbers stored during training that "
    "this batch does not change: which routes from x to the output are left?"
)


def _eval_cases() -> list[tuple[str, dict[str, np.ndarray]]]:
    """(label, arrays) for the evaluation-mode check, the label to put before a hint.

    A batch of 5 with running means away from the batch's, gammas of both signs and one of 0,
    a running variance of 0 (a feature that never varied in training: only eps keeps the division
    finite) and one of 1e-5 (eps dominates it); a single example (N = 1, fine in evaluation); and
    float32 arrays, whose gradients must come back float32."""
    rng = check_rng(133)
    cases = []
    shapes = (("", 5, 5), ("with a single example (N = 1)", 1, 3), ("with float32 inputs", 4, 3))
    for label, n, d in shapes:
        # N = 5: drawn again until an x lies below its running mean in a feature whose
        # variance stays above 0 (a root of x - mean is nan there, not only where eps is to
        # blame); seed 133 holds at once
        for _ in range(100):
            case = {
                "g": rng.standard_normal((n, d)),
                "x": 3.0 + rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, size=d),
                "gamma": rng.uniform(0.5, 2.0, size=d) * rng.choice([-1.0, 1.0], size=d),
                "running_mean": 3.0 + rng.standard_normal(d),
                "running_var": rng.uniform(0.3, 3.0, size=d),
            }
            below = case["x"] < case["running_mean"]
            if n != 5 or np.any(below[:, [0, 1, 2, 4]]):  # (feature 3's variance is set to 0)
                break
        if n == 5:
            case["gamma"][:] = [1.5, -0.8, 2.0, -1.2, 0.0]
            case["running_var"][2:4] = [1e-5, 0.0]
        if label.endswith("float32 inputs"):
            case = {key: value.astype(np.float32) for key, value in case.items()}
        cases.append((label, case))
    return cases


def _engine_eval_grads(
    case: dict[str, np.ndarray], eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dgamma, dbeta) in float64 by backward() through the evaluation-mode graph
    o = gamma * (x - running_mean) / sqrt(running_var + eps) + beta, whose running statistics
    are constants (tensors without gradients)."""
    a = {key: np.asarray(value, dtype=np.float64) for key, value in case.items()}
    xt = Tensor(a["x"], requires_grad=True)
    gt = Tensor(a["gamma"], requires_grad=True)
    bt = Tensor(np.zeros_like(a["gamma"]), requires_grad=True)
    mean, var = Tensor(a["running_mean"]), Tensor(a["running_var"])
    o = gt * ((xt - mean) / (var + eps).sqrt()) + bt
    o.backward(a["g"])
    assert xt.grad is not None and gt.grad is not None and bt.grad is not None
    return xt.grad, gt.grad, bt.grad


def _eval_wrong(
    case: dict[str, np.ndarray], eps: float
) -> tuple[list[tuple[np.ndarray, str]], list[tuple[np.ndarray, str]]]:
    """Plausible wrong answers: dx's, and the x_hat a wrong dgamma sums g against, each with
    the hint that names its mistake."""
    g, x, gamma, mean, var = (np.asarray(case[k], dtype=np.float64) for k in EVAL_INPUTS)
    with np.errstate(all="ignore"):
        b_sigma = np.sqrt(x.var(axis=0) + eps)  # this batch's statistics
        b_hat = (x - x.mean(axis=0)) / b_sigma
        sigma = np.sqrt(var + eps)
        own = np.sqrt(var + NOTEBOOK_EPS)
        floor = np.sqrt(np.maximum(var, eps))
        own_eps = (
            f"right for eps = {NOTEBOOK_EPS:g}, but the check called your function with "
            f"eps = {eps:g}: use the eps it is given, not a number of your own."
        )
        dx = [
            (
                gamma / b_sigma * (g - g.mean(axis=0) - b_hat * (g * b_hat).mean(axis=0)),
                TRAINING_MODE,
            ),
            (
                gamma * g / b_sigma,
                "you scaled by this batch's standard deviation: in evaluation mode the layer "
                "normalises with the running averages it kept in training, not with the batch's.",
            ),
            (gamma * g / own, f"dx is {own_eps}"),
            (gamma * g / (np.sqrt(var) + eps), EPS_UNDER_SQRT),
            (gamma * g / floor, FLOOR),
            (gamma * g / (var + eps), BY_VARIANCE),
            (gamma * g * sigma, "you multiplied by the standard deviation: x_hat divides by it."),
            (
                g / sigma,
                "gamma is missing from dx: the gradient reaches x_hat through "
                "o = gamma * x_hat + beta.",
            ),
        ]
        x_hat = [
            (
                b_hat,
                "dgamma: your x_hat is normalised with this batch's mean and variance, but in "
                "evaluation mode the forward pass normalises with the running ones.",
            ),
            ((x - mean) / own, f"dgamma is {own_eps}"),
            ((x - mean) / (np.sqrt(var) + eps), f"dgamma: {EPS_UNDER_SQRT}"),
            ((x - mean) / floor, f"dgamma: {FLOOR}"),
            ((x - mean) / (var + eps), f"dgamma: {BY_VARIANCE}"),
            (x / sigma, "dgamma: x_hat is centred with the running mean before it is scaled."),
            (x, "dgamma: gamma multiplies the normalised x_hat, not x itself."),
            (
                np.ones_like(x),
                "dgamma holds the sum of g alone, which leaves out what gamma multiplies in the "
                "forward pass: the normalised x_hat.",
            ),
        ]
    return dx, x_hat


def _eval_hint(
    got: dict[str, np.ndarray], case: dict[str, np.ndarray], rtol: float, atol: float
) -> str | None:
    """What is wrong with the learner's (dx, dgamma, dbeta) on ``case``, or None if right
    (agreement within ``rtol`` and ``atol``)."""

    def same(a: np.ndarray, b: np.ndarray) -> bool:
        return close(a, b, rtol=rtol, atol=atol)

    def estimate(key: str) -> str | None:  # asked before a catch-all: an estimate, not a slip
        found = roughly(key, got[key], expected[key])
        return None if found is None else f"{key}: {found.message}"

    expected = dict(zip(("dx", "dgamma", "dbeta"), _engine_eval_grads(case, EPS)))
    n = len(case["x"])
    for key in ("dx", "dgamma", "dbeta"):
        bad = ~np.isfinite(got[key])
        if np.any(bad):
            # which features hold them (the last axis): only those whose running variance is 0?
            bad_features = bad.reshape(-1, bad.shape[-1]).any(axis=0)
            if not np.any(bad_features & (case["running_var"] != 0)):
                return (
                    f"{key} has nan or inf entries, all in a feature whose running variance is 0 "
                    "(it never varied in training): there only eps keeps the division finite. "
                    "Where does eps go?"
                )
            return (
                f"{key} has nan or inf entries in features whose running variance is not 0, so "
                "eps is not the cause there: does your code compute a statistic of the batch "
                "(evaluation mode needs none, and a single example has no spread), or take a root "
                "or a log of something that can be negative?"
            )
    wrong_dx, wrong_x_hat = _eval_wrong(case, EPS)
    g = np.asarray(case["g"], dtype=np.float64)
    if not same(got["dx"], expected["dx"]):
        for candidate, message in wrong_dx:
            if same(got["dx"], candidate):
                return message
        return estimate("dx") or (
            "dx not yet right: in evaluation mode, which routes from x to o in section 1's "
            "graph are still there, and what does each node on them multiply by?"
        )
    if same(got["dgamma"], expected["dbeta"]) and same(got["dbeta"], expected["dgamma"]):
        return SWAPPED
    if not same(got["dgamma"], expected["dgamma"]):
        if n > 1 and same(got["dgamma"] * n, expected["dgamma"]):
            return "dgamma is off by a factor of the batch size: add, don't average."
        for candidate, message in wrong_x_hat:
            if same(got["dgamma"], (g * candidate).sum(axis=0)):
                return message
        return estimate("dgamma") or (
            "dgamma not yet right: what does gamma multiply in the forward pass?"
        )
    if not same(got["dbeta"], expected["dbeta"]):
        if n > 1 and same(got["dbeta"] * n, expected["dbeta"]):
            return "dbeta is off by a factor of the batch size: add, don't average."
        return estimate("dbeta") or "dbeta not yet right: beta is added to every example's output."
    return None


def _other_eps(name: str, fn: Callable, case: dict[str, np.ndarray]) -> Feedback | None:
    """None if ``fn``, right with EPS on ``case``, is right with OTHER_EPS too, else the hint:
    an answer with a number written in for eps is right at that eps only."""
    n, d = case["x"].shape
    result = attempt_own(name, fn, *(case[k] for k in EVAL_INPUTS), OTHER_EPS)
    got = _three(name, result, {"dx": (n, d), "dgamma": (d,), "dbeta": (d,)}, "the batch")
    if isinstance(got, Feedback):  # it crashed, or its shapes changed, at this eps only
        return hint(name, f"right with eps = {EPS:g}, but with eps = {OTHER_EPS:g}: {got.message}")
    expected, first = _engine_eval_grads(case, OTHER_EPS), _engine_eval_grads(case, EPS)
    message = _other_eps_message(got, expected, first, lambda a, b: close(a, b, 1e-6, 1e-9))
    return None if message is None else hint(name, message)


def check_batch_norm_eval_backward(batch_norm_eval_backward: Callable) -> Feedback:
    """``batch_norm_eval_backward(g, x, gamma, running_mean, running_var, eps)`` ->
    ``(dx, dgamma, dbeta)`` for batch norm in evaluation mode,
    o = gamma * (x - running_mean) / sqrt(running_var + eps) + beta, given g = dL/do of shape
    (N, D), N >= 1; the running statistics are constants. Numpy only, inputs unchanged, and
    float32 inputs give float32 gradients (as the engine's do). The reference is the engine's
    backward through that graph of primitives."""
    name = "batch_norm_eval_backward"
    cases = _eval_cases()
    for label, case in cases:
        n, d = case["x"].shape
        result = attempt_own(name, batch_norm_eval_backward, *(case[k] for k in EVAL_INPUTS), EPS)
        if isinstance(result, Feedback):
            return result
        got = _three(name, result, {"dx": (n, d), "dgamma": (d,), "dbeta": (d,)}, "the batch")
        at = f"{label}: " if label else ""
        if isinstance(got, Feedback):
            return hint(name, at + got.message)
        float32 = case["x"].dtype == np.float32
        rtol, atol = (1e-5, 1e-6) if float32 else (1e-6, 1e-9)
        message = _eval_hint(got, case, rtol, atol)
        if message is not None:
            return hint(name, at + message)
        derived = estimated(name, tuple(got.values()), _engine_eval_grads(case, EPS))
        if derived is not None and not float32:  # right to 8 or 10 digits only: an estimate
            return derived
        if float32:
            for key, value in zip(("dx", "dgamma", "dbeta"), result):
                dtype = np.asarray(value).dtype
                if dtype != np.float32:
                    return hint(
                        name,
                        f"{at}the values are right, but {key} came back as {dtype}: keep the "
                        "inputs' dtype, float32 in and float32 out, as the engine does (somewhere "
                        "your code makes a float64 array).",
                    )
    feedback = _other_eps(name, batch_norm_eval_backward, cases[0][1])  # the batch of 5
    if feedback is not None:
        return feedback
    return correct(
        name,
        "dx, dgamma and dbeta match the engine's backward through the evaluation-mode graph: a "
        "batch of 5 with a running variance of 0 and a gamma of 0, a single example, and float32 "
        "inputs (float32 gradients back).",
    )
