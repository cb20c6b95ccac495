"""What notebook 13's checks share: the engine's reference gradients of a normalization, the
learner's three results read and compared, one hint for each way the pieces go wrong. (The
checks themselves, and the wrong answers each recognises, are in ``nb13.py`` and, for evaluation
mode, ``_eval_mode.py``.)"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..tensor import Tensor
from . import (
    Feedback,
    attempt,
    changed_input,
    close,
    estimated,
    hint,
    result_array,
    roughly,
    uses_package,
)

EPS = 1e-3  # the eps the learner's function gets: not the notebook's, so an eps of its own shows
NOTEBOOK_EPS = 1e-5  # the notebook's EPS, a global an answer may use instead of its argument
OTHER_EPS = 0.02  # a second call's eps, after EPS: an answer with EPS written in is the same there
UNBIASED = (
    "you used the unbiased variance (divided by the count minus 1): the forward pass normalises "
    "with the biased one, the mean of the squared deviations."
)
FLOOR = (
    "eps is not a floor for the variance: it is added to it, whatever the variance's size (the "
    "two agree only where the variance is 0)."
)
SWAPPED = (
    "dgamma and dbeta are in each other's place: return the three in the order (dx, dgamma, dbeta)."
)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    """Agreement with an exact reference (the engine), looser than bit for bit."""
    return close(a, b, rtol=1e-6, atol=1e-9)


def _engine_norm_grads(
    g: np.ndarray, x: np.ndarray, gamma: np.ndarray, axis: int, eps: float = EPS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dgamma, dbeta) by backward() through o = gamma * (x - mu) / sqrt(var + eps) + beta,
    with mu and var (biased) taken over ``axis``: 0 is batch norm, 1 is layer norm."""
    xt = Tensor(x, requires_grad=True)
    gt = Tensor(gamma, requires_grad=True)
    bt = Tensor(np.zeros_like(gamma), requires_grad=True)
    mu = xt.mean(axis=axis, keepdims=True)
    centred = xt - mu
    var = (centred * centred).mean(axis=axis, keepdims=True)
    o = gt * (centred / (var + eps).sqrt()) + bt
    o.backward(g)
    assert xt.grad is not None and gt.grad is not None and bt.grad is not None
    return xt.grad, gt.grad, bt.grad


def _pieces(
    x: np.ndarray, axis: int, ddof: int = 0, floor: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(x_hat, sigma) over ``axis``, keeping dims; ddof=1 is the unbiased variance, ``floor``
    a slip's sigma, the root of the larger of the variance and eps."""
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    sigma = np.sqrt(np.maximum(var, EPS) if floor else var + EPS)
    return (x - mu) / sigma, sigma


def _three(name: str, result: object, shapes: dict[str, tuple[int, ...]], shared: str):
    """The learner's (dx, dgamma, dbeta) as arrays, or a hint about the tuple or a shape.

    ``shared`` names the axis gamma is shared across ("the batch" for both norms here)."""
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return hint(name, "return three arrays, in this order: (dx, dgamma, dbeta).")
    got = {}
    for key, value in zip(shapes, result):
        array = result_array(name, value, what=key)
        if isinstance(array, Feedback):
            return array
        if key != "dx" and array.shape == shapes["dx"]:
            return hint(
                name,
                f"{key} has one row per example, but {key[1:]} has shape {shapes[key]}: "
                f"the same {key[1:]} was used by every example of {shared}, so their "
                "contributions add up.",
            )
        array = result_array(name, array, shapes[key], key)
        if isinstance(array, Feedback):
            return array
        got[key] = array
    return got


def _case(rng: np.random.Generator, n: int, d: int, axis: int) -> dict[str, np.ndarray]:
    """Inputs for one test: x with a large offset and unequal spreads, and one slice that is
    constant along ``axis`` (its variance is 0, so only eps keeps the division finite)."""
    x = 3.0 + rng.standard_normal((n, d)) * rng.uniform(
        0.5, 4.0, size=(1, d) if axis == 0 else (n, 1)
    )
    if axis == 0:
        x[:, -1] = 2.5  # a feature that never changes over the batch
    else:
        x[-1, :] = 2.5  # an example whose features are all equal
    return {
        "g": rng.standard_normal((n, d)),
        "x": x,
        "gamma": rng.uniform(0.5, 2.0, size=d) * rng.choice([-1.0, 1.0], size=d),
    }


def _compare(
    name: str,
    fn: Callable,
    case: dict[str, np.ndarray],
    axis: int,
    wrong_dx: Callable[[dict[str, np.ndarray]], list[tuple[np.ndarray, str]]],
) -> Feedback | None:
    """Run ``fn`` on one case and compare (dx, dgamma, dbeta) with the engine; None if right."""
    if uses_package(fn):  # e.g. backward() through bl.batch_norm: the engine's answer, not yours
        return hint(
            name,
            "your function lets the package (backproplab) compute the gradients: write them "
            "yourself, with numpy only, from the formula you derived.",
        )
    g, x, gamma = case["g"], case["x"], case["gamma"]
    n, d = x.shape
    passed = {key: value.copy() for key, value in case.items()}
    result = attempt(name, fn, passed["g"], passed["x"], passed["gamma"], EPS)
    got = _three(name, result, {"dx": (n, d), "dgamma": (d,), "dbeta": (d,)}, "the batch")
    if isinstance(got, Feedback):
        return got
    changed = changed_input(name, case, passed)
    if changed is not None:
        return changed
    expected = dict(zip(("dx", "dgamma", "dbeta"), _engine_norm_grads(g, x, gamma, axis)))
    if not np.all(np.isfinite(got["dx"])):
        return hint(
            name,
            "dx has nan or inf entries: one slice of x here is constant, so its variance is 0. "
            "Where does eps go?",
        )
    x_hat, _ = _pieces(x, axis)
    own_eps = _engine_norm_grads(g, x, gamma, axis, eps=NOTEBOOK_EPS)
    for key, value in zip(("dx", "dgamma"), own_eps):
        if not _close(got[key], expected[key]) and _close(got[key], value):
            return hint(
                name,
                f"{key} is right for eps = {NOTEBOOK_EPS:g}, but the check called your function "
                f"with eps = {EPS:g}: use the eps it is given, not a number of your own.",
            )
    if _close(got["dgamma"], expected["dbeta"]) and _close(got["dbeta"], expected["dgamma"]):
        return hint(name, SWAPPED)
    # all three right to 5 digits of their largest entries: judged by estimated() (None when
    # right to rounding) before each piece is held to the exact reference entry by entry, where
    # float32's rounding at a small entry (a dbeta near 0.1) would be taken for a slip in it
    if all(close(got[key], want, atol=1e-5 * np.abs(want).max()) for key, want in expected.items()):
        return estimated(name, tuple(got.values()), tuple(expected.values()))
    if not _close(got["dbeta"], expected["dbeta"]):
        if _close(got["dbeta"] * n, expected["dbeta"]):
            return hint(name, "dbeta is off by a factor of the batch size: add, don't average.")
        return _rough(name, "dbeta", got, expected) or hint(
            name, "dbeta not yet right: beta is added to every example's output."
        )
    if not _close(got["dgamma"], expected["dgamma"]):
        if _close(got["dgamma"] * n, expected["dgamma"]):
            return hint(name, "dgamma is off by a factor of the batch size: add, don't average.")
        if _close(got["dgamma"], (g * _pieces(x, axis, ddof=1)[0]).sum(axis=0)):
            return hint(name, UNBIASED)
        if _close(got["dgamma"], (g * _pieces(x, axis, floor=True)[0]).sum(axis=0)):
            return hint(name, f"dgamma: {FLOOR}")
        if _close(got["dgamma"], (g * _pieces(x, 1 - axis)[0]).sum(axis=0)):
            return hint(
                name,
                "dgamma: your x_hat was normalised along the wrong axis. Batch norm takes each "
                "feature's statistics over the batch, layer norm each example's over its features.",
            )
        mu, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
        if _close(got["dgamma"], (g * (x - mu) / (np.sqrt(var) + EPS)).sum(axis=0)):
            return hint(name, "eps belongs under the square root, added to the variance.")
        if _close(got["dgamma"], (g * x).sum(axis=0)):
            return hint(name, "dgamma: gamma multiplies the normalised x_hat, not x itself.")
        return _rough(name, "dgamma", got, expected) or hint(
            name, "dgamma not yet right: what does gamma multiply in the forward pass?"
        )
    for candidate, message in wrong_dx(case):
        if _close(got["dx"], candidate):
            return hint(name, message)
    return roughly(name, got["dx"], expected["dx"]) or hint(
        name,
        "dgamma and dbeta are right, dx is not yet: derive it node by node (section 2), then "
        "compare your one expression with the node-by-node version on the same numbers.",
    )


def _rough(name: str, key: str, got: dict, expected: dict) -> Feedback | None:
    """``roughly``'s hint for one piece, naming it: an answer in float32 (or estimated) whose
    other pieces hold a slip as well is told about its precision first, not "not yet right"."""
    found = roughly(name, got[key], expected[key])
    return None if found is None else hint(name, f"{key}: {found.message}")


def _other_eps_message(
    got: dict[str, np.ndarray], expected: tuple, first: tuple, same: Callable
) -> str | None:
    """What is wrong with (dx, dgamma, dbeta) ``got`` at OTHER_EPS, from an answer right at EPS,
    or None if right: ``expected`` is the reference at OTHER_EPS, ``first`` the one at EPS."""
    for key, want, before in zip(("dx", "dgamma", "dbeta"), expected, first):
        if same(got[key], want):
            continue
        if same(got[key], before):
            return (
                f"right with eps = {EPS:g}, but with eps = {OTHER_EPS:g} your {key} is the same: "
                "it does not change with eps. Use the eps your function is given, not a number "
                "of your own."
            )
        return (
            f"right with eps = {EPS:g}, but {key} is not with eps = {OTHER_EPS:g}: does every "
            "place where eps belongs use the eps your function is given?"
        )
    return None


def _other_eps(name: str, fn: Callable, case: dict[str, np.ndarray], axis: int) -> Feedback | None:
    """None if ``fn``, right with EPS on ``case``, is right with OTHER_EPS too, else the hint."""
    g, x, gamma = case["g"], case["x"], case["gamma"]
    n, d = x.shape
    result = attempt(name, fn, g.copy(), x.copy(), gamma.copy(), OTHER_EPS)
    got = _three(name, result, {"dx": (n, d), "dgamma": (d,), "dbeta": (d,)}, "the batch")
    if isinstance(got, Feedback):  # it crashed, or its shapes changed, at this eps only
        return hint(name, f"right with eps = {EPS:g}, but with eps = {OTHER_EPS:g}: {got.message}")
    expected = _engine_norm_grads(g, x, gamma, axis, eps=OTHER_EPS)
    message = _other_eps_message(got, expected, _engine_norm_grads(g, x, gamma, axis), _close)
    return None if message is None else hint(name, message)
