"""The check of the learner's optimizers: ``mygrad.fit``'s path against the update rule
written out in numpy, and the plausible wrong rules (``_VARIANTS``) a hint can name."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .. import close, hint
from ._calls import _arrays, _call, _Stop


def _check_optimizer(
    exercise: str,
    engine: ModuleType,
    name: str,
    settings: dict,
    rng: np.random.Generator,
    before: dict | None = None,
) -> None:
    """``engine.fit``'s path with ``settings`` against the rule; ``before``: the settings of a
    call it passed, so that a number of its own where a setting belongs is named."""
    params = [rng.standard_normal((2, 3)), rng.standard_normal(3)]
    rows = [[rng.uniform(0.5, 2, size=p.shape) for p in params] for _ in range(4)]
    params.append(rng.standard_normal(2))  # no coefficient: the loss leaves it out, grad None
    what = f"{name}({', '.join(f'{k}={v}' for k, v in settings.items())})"
    try:
        path = _call(exercise, engine.fit, name, [p.copy() for p in params], rows, settings)
    except _Stop:
        _call(exercise, engine.fit, name, [p.copy() for p in params[:-1]], rows, settings)
        raise _Stop(  # without the unused parameter, no crash: the None gradient crashed it
            hint(
                exercise,
                f"{what} failed on a parameter that the loss does not use (its grad is None, "
                "no gradient reached it): a step leaves such a parameter as it is",
            )
        ) from None
    want = _update_rule(name, settings, params, rows)
    for t, (got, right) in enumerate(zip(path, want)):
        got = _arrays(exercise, got, "a parameter")
        if all(close(g, w) for g, w in zip(got, right)):
            continue
        for label, variants in _VARIANTS[name].items():
            for variant in variants.split():
                with np.errstate(all="ignore"):  # "t_behind" divides by 0 on purpose
                    wrong = _update_rule(name, settings, params, rows, variant)[t]
                if all(np.allclose(g, w, equal_nan=True) for g, w in zip(got, wrong)):
                    raise _Stop(hint(exercise, f"{what}, step {t + 1}: {label}"))
        if before is not None:
            raise _Stop(hint(exercise, f"{what}, step {t + 1}: " + _own_number(
                name, settings, before, params, rows, got, t)))  # fmt: skip
        if len(got) == len(right) and all(close(g, w) for g, w in zip(got[:-1], right[:-1])):
            raise _Stop(
                hint(
                    exercise,
                    f"{what}, step {t + 1}: a parameter that the loss does not use (its grad is "
                    "None) moved; a step leaves a parameter without a gradient as it is",
                )
            )
        raise _Stop(hint(exercise, f"{what}: the parameters after step {t + 1} are off"))
    if isinstance(engine, ModuleType) and isinstance(getattr(engine, "Tensor", None), type):
        _unused_first(exercise, engine, name, settings, what)


def _own_number(
    name: str, settings: dict, before: dict, params: list, rows: list, got: list, t: int
) -> str:
    """What an optimizer right with the settings ``before`` and wrong with ``settings`` did: a
    step ``got`` (step t + 1) that does not change with one setting (beta1 and beta2 apart), or
    a number of its own somewhere."""
    for key, value in settings.items():
        olds = [(key, before[key], before[key])]
        if key == "betas":  # each beta on its own: 0.9 written in for beta1, say
            (b1, b2), (o1, o2) = value, before[key]
            olds = [("beta1", (o1, b2), o1), ("beta2", (b1, o2), o2), (key, (o1, o2), (o1, o2))]
        for label, old, shown in olds:
            if old == value:
                continue
            with np.errstate(all="ignore"):
                wrong = _update_rule(name, {**settings, key: old}, params, rows)[t]
            if len(got) == len(wrong) and all(close(g, w) for g, w in zip(got, wrong)):
                return (
                    f"your step does not change with {label}: it moves as with {label}={shown}, "
                    f"the value of the call before; use the {label} the optimizer is given, "
                    "not a number of your own"
                )
    shown = ", ".join(f"{k}={v}" for k, v in before.items())
    return (
        f"right with {shown}, but not with these settings: is a number of your own used where "
        "a setting belongs (in the update or in the bias correction)?"
    )


def _unused_first(exercise: str, engine: ModuleType, name: str, settings: dict, what: str) -> None:
    """One step with a parameter that the loss does not use listed first: the one it uses after
    it still takes its step (``fit`` can leave out only the last parameters). It builds tensors
    with the learner's Tensor class, so only in the learner's own process (the grader's engine
    is a stand-in that answers with data)."""
    start = np.array([1.0, -2.0, 0.5])

    def one_step() -> Any:
        unused = engine.Tensor(np.ones(2), requires_grad=True)
        used = engine.Tensor(start.copy(), requires_grad=True)
        optimizer = getattr(engine, name)([unused, used], **settings)
        optimizer.zero_grad()
        (used * used).sum().backward()
        grad = used.grad
        before = None if grad is None else np.array(grad, dtype=np.float64)
        optimizer.step()
        return used.data, grad, before

    data, grad, before = _call(exercise, one_step)
    if before is not None and not np.array_equal(np.asarray(grad, dtype=np.float64), before):
        raise _Stop(
            hint(
                exercise,
                f"{what}: step() changed a parameter's gradient (its .grad) in place: a step "
                "reads the gradients and leaves them as they are (a caller may still print or "
                "clip them); compute what the update needs as new arrays",
            )
        )
    got = _arrays(exercise, [data], "a parameter")[0]
    want = _update_rule(name, settings, [start], [[np.ones(3)]])[0][0]
    if got is None or got.shape != want.shape or not close(got, want):
        raise _Stop(
            hint(
                exercise,
                f"{what}, with a parameter that the loss does not use (its grad is None) listed "
                "before one it uses: the one it uses did not take its step; a step skips the "
                "parameter without a gradient and goes on to the next",
            )
        )


# the mistakes the hints name: a variant of the update rule -> what it says
_VARIANTS = {
    "SGD": {
        "the gradients pile up from step to step: zero_grad must clear them": "no_zero",
        "the parameters move uphill: a step goes against the gradient": "uphill",
        "momentum has no effect: the velocity must be kept from one step to the next": "no_memory",
        "the velocity is damped by (1 - momentum); PyTorch's rule adds the gradient itself": (
            "damped"
        ),
        "the parameters did not move: a step must change each parameter's data": "frozen",
    },
    "Adam": {
        "the first steps are too small: the averages start at 0 and need dividing by "
        "1 - beta^t": "no_bias_correction",
        "eps belongs outside the square root, added to sqrt(v_hat)": "eps_inside",
        "t must count the steps (1, 2, 3, ...)": "t_fixed",
        "t counts the steps, once per step, not once per parameter": (
            "t_per_parameter t_per_every_parameter"
        ),
        "the step divides by the square root of v_hat, not by v_hat": "no_sqrt",
        "eps belongs in the denominator, added to sqrt(v_hat), not to the step": "eps_added",
        "the first step divides by 1 - beta^0 = 0: t must be 1 on the first step": "t_behind",
        "the first step divides by 1 - beta^2: t must be 1 on the first step": "t_ahead",
        "v averages the squares of the gradients": "v_not_squared",
        "v needs its bias correction, v as well as m": "m_only_corrected",
        "m needs its bias correction, m as well as v": "v_only_corrected",
        "beta1 belongs to m, the average of the gradients, and beta2 to v, the average of "
        "their squares": "betas_swapped",
        "m and v must be kept from one step to the next (update the stored arrays)": ("no_memory"),
        "the running averages m and v carry on uncorrected; only m_hat and v_hat are "
        "divided by 1 - beta^t": "corrected_in_place",
        "the gradients pile up from step to step: zero_grad must clear them": "no_zero",
        "the parameters did not move: a step must change each parameter's data": "frozen",
    },
}


def _update_rule(name: str, settings: dict, params: list, rows: list, variant: str = "") -> list:
    """The optimizer's path on L = sum(c * p * p) (gradient 2 c p), written out in numpy. A
    parameter beyond the coefficients of ``rows`` is not in L: it gets no gradient, no step."""
    if variant == "frozen":  # a step that changes something else (the gradient, say)
        return [[p.copy() for p in params] for _ in rows]
    ps = [p.copy() for p in params]
    state = [np.zeros_like(p) for p in ps], [np.zeros_like(p) for p in ps]
    grads = [np.zeros_like(p) for p in ps]
    path = []
    for t, row in enumerate(rows, start=1):
        for i, (p, c) in enumerate(zip(ps, row)):
            g = 2 * c * p + (grads[i] if variant == "no_zero" else 0)
            grads[i] = g
            m, v = state[0][i], state[1][i]
            if name == "SGD":
                mu = settings.get("momentum", 0.0) * (variant != "no_memory")
                m[...] = mu * m + (1 - mu if variant == "damped" else 1) * g
                p -= settings["lr"] * m * (-1 if variant == "uphill" else 1)
            else:
                (b1, b2), eps, lr = settings["betas"], settings["eps"], settings["lr"]
                if variant == "betas_swapped":
                    b1, b2 = b2, b1
                k = {"t_fixed": 1, "t_behind": t - 1, "t_ahead": t + 1}.get(variant, t)
                if variant == "t_per_parameter":  # t += 1 inside the loop over parameters
                    k = (t - 1) * len(row) + i + 1  # ... after skipping the unused one
                if variant == "t_per_every_parameter":  # ... before skipping it
                    k = (t - 1) * len(ps) + i + 1
                if variant == "no_memory":
                    m, v = np.zeros_like(p), np.zeros_like(p)
                m[...] = b1 * m + (1 - b1) * g
                v[...] = b2 * v + (1 - b2) * (g if variant == "v_not_squared" else g * g)
                m_hat, v_hat = m / (1 - b1**k), v / (1 - b2**k)
                if variant == "no_bias_correction":
                    m_hat, v_hat = m, v
                if variant == "m_only_corrected":
                    v_hat = v
                if variant == "v_only_corrected":
                    m_hat = m
                if variant == "corrected_in_place":
                    m[...], v[...] = m_hat, v_hat
                root = np.sqrt(v_hat + eps) if variant == "eps_inside" else np.sqrt(v_hat) + eps
                if variant in ("no_sqrt", "eps_added"):
                    root = v_hat + eps if variant == "no_sqrt" else np.sqrt(v_hat)
                root = np.maximum(root, 1e-12)  # the "v not squared" variant can make v < 0
                p -= lr * m_hat / root + (eps if variant == "eps_added" else 0)
        path.append([p.copy() for p in ps])
    return path
