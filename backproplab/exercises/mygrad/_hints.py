"""The hints of the engine checks: what a wrong value or gradient of a program says about
the mistake (a missing local gradient, a lost fan-out path, a sign, a factor, a shape)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import close
from ._programs import _SYMBOL, _Program


def _value_hint(program: _Program, k: int, got: np.ndarray, want: np.ndarray) -> str:
    step = program.step_of[k] or ("input",)
    name = step[0]
    head = f"the value of {program.names[k]} is off"
    if name == "input":
        return (
            f"the data of {program.names[k]} changed after it was made: an op changed its input "
            "in place; an op leaves its inputs as they are and makes a new array for its output"
        )
    if name == "cross_entropy" and not np.all(np.isfinite(got)):
        return (
            f"{head}: it is {got.item() if got.size == 1 else 'not finite'} for large logits; "
            "e to a large number overflows, and e to a very negative one underflows to 0, "
            "whose log is -inf: shift each row by its own largest logit first, and take the "
            "log of the softmax as z - log(sum of e^z), not as the log of its values"
        )
    if name == "cross_entropy" and close(got, want * len(step[2])):
        return f"{head}: it is the sum over the batch; the loss is the mean"
    if name == "cross_entropy":
        return (
            f"{head}: each example contributes -log of its softmax probability at its own "
            "label, and the loss is their mean"
        )
    if name == "Linear" and np.all(got >= 0) and np.any(want < 0):
        return f"{head}: it is never negative; a layer alone has no ReLU (an MLP puts one between)"
    if name == "MLP" and np.all(got >= 0) and np.any(want < 0):
        return f"{head}: it is never negative; the last layer's output (the logits) has no ReLU"
    if name == "mean" and (ratio := _ratio(got, want)) is not None:
        axis = program.settings_of[k].get("axis")
        count = (
            "the number of all its entries"
            if axis is None
            else f"the length of axis {axis}, the number of entries each mean takes"
        )
        return f"{head}: it is {ratio:g} times the right one; a mean divides the sum by {count}"
    if name == "Residual":
        return f"{head}: a residual block adds x to relu of the layer's output, H(x) = x + F(x)"
    if name == "MLP":
        return f"{head}: the layers run in order, with a ReLU after each layer but the last"
    if name == "Linear":
        return f"{head}: a layer computes Z = X Wᵀ + b, with W of shape (n_out, n_in)"
    return f"{head}: check the forward of {name}"


def _grad_hint(
    program: _Program,
    k: int,
    got: Any,
    want: np.ndarray,
    grads: list,
    sent: dict,
    value: Any = None,
) -> str:
    """What the wrong gradient ``got`` of node ``k`` (``value``: its value) says."""
    head = f"the gradient of {program.names[k]} is off"
    parameter = program.step_of[k] is None and k >= len(program.inputs)
    if got is None and parameter:
        return (  # either it requires none, or the forward used a copy of it, not it
            f"{head}: no gradient reached it; a layer's parameters require gradients, and its "
            "forward computes with those very tensors, not with copies of their data"
        )
    if got is None:
        return (
            f"{head}: no gradient reached it (is it in toposort's order, and does backward "
            "pass gradients to every input?)"
        )
    users = [(c, g) for (c, a), gs in sent.items() if a == k for g in gs]
    if got.shape != want.shape:
        return f"{head}: {_shape_hint(program, k, got, want, users)}"
    if k == len(program.names) - 1:  # no op sends the output a gradient: the seed is off
        return f"{head}: backward starts from a gradient of ones of the output's own shape"
    if len(users) > 1 and any(close(got, g) for _, g in users):
        return (
            f"{head}: {program.label(k)} feeds {len(users)} nodes and its gradient is what "
            "only one of them sent; gradients arriving along several paths add up"
        )
    if close(got, -want) and len(users) != 1:
        return f"{head}: right size, wrong sign"
    ratio = _ratio(got, want)
    if len(users) == 1:
        c, _ = users[0]
        step = program.step_of[c]
        upstream = grads[c] if c < len(grads) and grads[c] is not None else None
        role = _role(program, step, k)
        if close(got, -want):  # named with the op whose vjp sent it, as every rule below is
            hint_text = "right size, wrong sign"
        elif _mean_of_copies(got, upstream, ratio) and step[0] != "matmul":  # (x @ W: no copies)
            hint_text = (
                f"it is {ratio:g} times the right one; broadcasting copied {program.label(k)}, "
                "and each copy's gradient counts in full: summing a gradient back to its shape "
                "adds the copies' gradients, it does not average them"
            )
        elif _upstream_ignored(got, want, upstream) and step[0] != "matmul":
            hint_text = (
                "it is the local gradient alone; multiply it by the upstream gradient that "
                "the vjp receives"
            )
        else:
            hint_text = _local_hint(step[0], role, got, want, upstream, ratio, value)
        return f"the gradient of {program.label(k)} in {program.names[c]} is off: {hint_text}"
    kinds = {(program.step_of[c][0], _role(program, program.step_of[c], k)) for c, _ in users}
    if len(kinds) == 1:  # every path goes through the same rule (x / y for each y, say)
        (name, role) = kinds.pop()
        return f"{head}: {_local_hint(name, role, got, want, None, None)}"
    if ratio is not None:
        return f"{head}: it is {ratio:g} times the right one"
    return f"{head}: compare each op's local gradient with its derivative"


def _shape_hint(program: _Program, k: int, got: np.ndarray, want: np.ndarray, users: list) -> str:
    """What a gradient of the wrong shape says: the seed, a gradient that should not be
    there, a transposed factor of @, or broadcasting not undone."""
    label = program.label(k)
    if k == len(program.names) - 1:
        return (
            f"it has shape {got.shape}, but the output {label} has shape {want.shape}; "
            "backward starts from a gradient of ones of the output's own shape"
        )
    if not np.any(got) and not np.any(want):
        return (
            f"it is a 0 of shape {got.shape}, but the output does not depend on {label}: "
            "no gradient reaches it, and its .grad should stay None, as notebook 03 asks"
        )
    if (
        got.ndim == 2
        and got.shape == want.shape[::-1]
        and any(program.step_of[c][0] == "matmul" for c, _ in users)
    ):
        return (
            f"it has shape {got.shape}, the transpose of {label}'s {want.shape}; the "
            "gradient of each factor of @ has that factor's shape"
        )
    if any(program.step_of[c][0] == "matmul" for c, _ in users) and not _sums_to(got, want):
        return (  # not a broadcast: (g @ y.T, x.T @ g) handed out in the wrong order, say
            f"it has shape {got.shape}, but {label} has shape {want.shape}; the gradient of "
            "each factor of @ has that factor's shape: which factor does each of your vjp's "
            "gradients belong to?"
        )
    if got.size < want.size and _sums_to(want, got):  # fewer entries: a reduction not undone
        reducers = sorted({program.step_of[c][0] for c, _ in users} & {"sum", "mean"})
        by = f"the vjp of {reducers[0]}" if reducers else "a vjp"
        return (
            f"it has shape {got.shape}, but {label} has shape {want.shape}: {by} must copy the "
            "upstream gradient back to every entry that was reduced"
        )
    if got.size == want.size and got.ndim < want.ndim:
        return (
            f"it has shape {got.shape}, but {label} has shape {want.shape}: the right entries, "
            "but an axis of length 1 went missing; a sum over an axis where the shape has a 1 "
            "must keep that axis"
        )
    if got.ndim == want.ndim and not _sums_to(got, want):  # summed, but over other axes
        return (
            f"it has shape {got.shape}, but {label} has shape {want.shape}: summed back over "
            "the wrong axes. Broadcasting lines the shapes up from the right, so the axes it "
            "adds are the ones in front"
        )
    return (
        f"it has shape {got.shape}, but {label} has shape {want.shape}; broadcasting "
        "copied it, so its gradient must be summed back to its shape (sum_to_shape)"
    )


def _sums_to(got: np.ndarray, want: np.ndarray) -> bool:
    """True when broadcasting ``want``'s shape could have made ``got``'s."""
    try:
        return np.broadcast_shapes(got.shape, want.shape) == got.shape
    except ValueError:
        return False


def _mean_of_copies(got: np.ndarray, upstream: Any, ratio: float | None) -> bool:
    """True when ``got``, the gradient of a tensor broadcasting copied (``upstream`` has more
    entries), is the right one divided by a number of copies: averaged back, not summed."""
    if upstream is None or ratio is None or not 0 < ratio < 1 or upstream.size <= got.size:
        return False
    copies = round(1 / ratio)
    return copies > 1 and abs(copies * ratio - 1) < 1e-6 and upstream.size % copies == 0


def _upstream_ignored(got: np.ndarray, want: np.ndarray, upstream: Any) -> bool:
    """True when ``got`` times the upstream gradient is ``want``: a vjp that left g out."""
    if upstream is None or close(upstream, np.ones_like(upstream)):
        return False
    try:
        if np.broadcast_shapes(upstream.shape, want.shape) != want.shape:
            return False
    except ValueError:
        return False
    return close(got * upstream, want)


def _ratio(got: np.ndarray, want: np.ndarray) -> float | None:
    if not np.any(want) or not np.any(got):
        return None
    r = float(np.sum(got * want) / np.sum(want * want))
    return r if abs(r - 1) > 1e-3 and close(got, r * want, rtol=1e-5) else None


def _role(program: _Program, step: tuple, k: int) -> str:
    if step[0] in _SYMBOL and step[1] != step[2]:
        return "left" if step[1] == k else "right"
    return "only"


def _slope_of_input(name: str, got: np.ndarray, upstream: Any, x: Any) -> bool:
    """True when ``got`` is tanh's or sigmoid's slope written with the output's formula but
    evaluated at the input ``x``: 1 - x² or x (1 - x), times the upstream gradient."""
    if x is None or upstream is None or np.shape(upstream) != np.shape(got):
        return False
    slope = 1 - x * x if name == "tanh" else x * (1 - x)
    return np.shape(slope) == np.shape(got) and close(got, upstream * slope)


def _off_only_at_zero(got: np.ndarray, want: np.ndarray, x: Any) -> bool:
    """True when ``got`` differs from ``want`` only where the input ``x`` is exactly 0."""
    if x is None or np.shape(x) != got.shape or got.shape != want.shape:
        return False
    off = ~np.isclose(got, want, rtol=1e-6, atol=1e-9)
    return bool(np.any(off) and np.all(np.asarray(x)[off] == 0))


def _shared_hint(program: _Program, k: int, got: np.ndarray, grads: list, wants: list) -> str:
    """What a wrong gradient says when it is one array with another tensor's gradient and has
    that tensor's right value: a gradient stored as the very array that arrived (``add``'s vjp
    hands its upstream gradient to both inputs), then added to in place. "" if it is not so."""
    for j, other in enumerate(grads):
        w = wants[j] if j < len(wants) else None
        if j == k or other is None or w is None or not other.shape == w.shape == got.shape:
            continue
        if np.shares_memory(got, other) and close(got, w) and not close(w, wants[k]):
            return (
                f"the gradient of {program.label(k)} is off: it is the very array that holds "
                f"the gradient of {program.label(j)}, and has that one's value. A gradient was "
                "stored as the array that arrived (+ hands the one it receives to both of its "
                "inputs), and adding into it in place later changed it under every name: "
                "adding must make a new array (notebook 04, section 4)"
            )
    return ""


def _local_hint(
    name: str,
    role: str,
    got: np.ndarray,
    want: np.ndarray,
    upstream: Any,
    ratio: float | None,
    x: Any = None,
) -> str:
    """What a wrong gradient says about the rule of op ``name`` (``x``: the input, if known)."""
    unchanged = upstream is not None and upstream.shape == got.shape and close(got, upstream)
    if name == "mul" and unchanged:
        return "it reached it unchanged; the local gradient of a product is missing"
    if name == "mul":
        return "a product's local gradient for one input is the value of the other input"
    if name == "add":
        return "a sum passes its upstream gradient on unchanged, to both inputs"
    if name == "sub":
        return "x - y grows with x and shrinks with y"
    if name == "truediv" and role == "right":
        return "check the derivative of x / y with respect to y (the divisor)"
    if name == "truediv":
        return "x / y changes by 1/y for each unit of x"
    if name == "pow" and role == "right":
        return "the derivative of a ** x with respect to x brings in log(a)"
    if name == "pow":
        return "the power rule: the exponent comes down and drops by one"
    if name == "matmul":  # the shape is right here (a wrong one got _shape_hint's words)
        times = f"it is {ratio:g} times the right one; " if ratio is not None else ""
        return (
            f"{times}the shape is right, but not the values: each factor's gradient is the "
            "upstream gradient times the other factor, transposed"
        )
    if name == "sum" and ratio is not None:
        return (
            f"it is {ratio:g} times the right one; a sum passes the upstream gradient on to "
            "every entry it added, unchanged (no 1/n: that belongs to a mean)"
        )
    if name == "mean" and ratio is not None:
        return f"it is {ratio:g} times the right one; each entry of a mean counts 1/n"
    if name in ("sum", "mean"):
        return "the upstream gradient must be copied back along the axis that was reduced"
    if name in ("tanh", "sigmoid") and _slope_of_input(name, got, upstream, x):
        return f"{name}'s slope is written with its output, not its input"
    if name in ("tanh", "sigmoid"):
        return f"compare {name}'s slope with the derivative notebook 07 derived"
    if name == "exp":
        return "e^x is its own derivative"
    if name == "log":
        return "the slope of log(x) is 1/x"
    if name == "relu" and _off_only_at_zero(got, want, x):
        return (
            "it is off only where the input is exactly 0, at the kink: there the package, "
            "like PyTorch, uses the negative side's slope, 0"
        )
    if name == "relu":
        return "relu's local gradient is 1 where the input is positive and 0 elsewhere"
    if name == "cross_entropy" and ratio is not None:
        return f"it is {ratio:g} times the right one; the loss is a mean over the batch"
    if name == "cross_entropy":
        return "the gradient is the softmax minus the one-hot labels, per example"
    skip = upstream is not None and upstream.shape == got.shape
    if name == "Residual" and skip and close(got + upstream, want):
        return (
            "the skip's share is missing: H(x) = x + F(x) passes its upstream gradient to x "
            "unchanged, besides the path through F"
        )
    if name in ("Linear", "MLP", "Residual"):
        return "check how the layer uses its weight (n_out, n_in) and bias"
    return "check its local derivative"
