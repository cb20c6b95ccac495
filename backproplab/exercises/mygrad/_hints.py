"""The hints of the engine checks: what a wrong value or gradient of a program says about
the mistake (a missing local gradient, a lost fan-out path, a sign, a factor, a shape)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import close
from ._programs import _SYMBOL, _Program


def _value_hint(program: _Program, k: int, got: np.ndarray, want: np.ndarray) -> str:
    name = (program.step_of[k] or ("input",))[0]
    head = f"the value of {program.names[k]} is off"
    if name == "input":
        return f"the data of {program.names[k]} differs from what it was made from"
    if name == "cross_entropy" and not np.all(np.isfinite(got)):
        return (
            f"{head}: it is {got.item() if got.size == 1 else 'not finite'} for large logits; "
            "e to a large number overflows, shift the logits first"
        )
    if name == "cross_entropy" and close(got, want * len(program.step_of[k][2])):
        return f"{head}: it is the sum over the batch; the loss is the mean"
    if name in ("MLP", "Linear") and np.all(got >= 0) and np.any(want < 0):
        return f"{head}: it is never negative; the last layer's output (the logits) has no ReLU"
    if name == "mean" and (ratio := _ratio(got, want)) is not None:
        return f"{head}: it is {ratio:g} times the right one; a mean divides by the count"
    if name == "Residual":
        return f"{head}: a residual block adds x to relu of the layer's output, H(x) = x + F(x)"
    return f"{head}: check the forward of {name}"


def _grad_hint(
    program: _Program, k: int, got: Any, want: np.ndarray, grads: list, sent: dict
) -> str:
    head = f"the gradient of {program.names[k]} is off"
    if got is None:
        return (
            f"{head}: no gradient reached it (is it in toposort's order, and does backward "
            "pass gradients to every input?)"
        )
    if got.shape != want.shape:
        return (
            f"{head}: it has shape {got.shape}, but {program.label(k)} has shape "
            f"{want.shape}; broadcasting copied it, so its gradient must be summed back "
            "to its shape (sum_to_shape)"
        )
    users = [(c, g) for (c, a), gs in sent.items() if a == k for g in gs]
    if len(users) > 1 and any(close(got, g) for _, g in users):
        return (
            f"{head}: {program.label(k)} feeds {len(users)} nodes and its gradient is what "
            "only one of them sent; gradients arriving along several paths add up"
        )
    if close(got, -want):
        return f"{head}: right size, wrong sign"
    ratio = _ratio(got, want)
    if len(users) == 1:
        c, _ = users[0]
        step = program.step_of[c]
        upstream = grads[c] if c < len(grads) and grads[c] is not None else None
        role = _role(program, step, k)
        hint_text = _local_hint(step[0], role, got, want, upstream, ratio)
        return f"the gradient of {program.label(k)} in {program.names[c]} is off: {hint_text}"
    if ratio is not None:
        return f"{head}: it is {ratio:g} times the right one"
    return f"{head}: compare each op's local gradient with its derivative"


def _ratio(got: np.ndarray, want: np.ndarray) -> float | None:
    if not np.any(want) or not np.any(got):
        return None
    r = float(np.sum(got * want) / np.sum(want * want))
    return r if abs(r - 1) > 1e-3 and close(got, r * want, rtol=1e-5) else None


def _role(program: _Program, step: tuple, k: int) -> str:
    if step[0] in _SYMBOL and step[1] != step[2]:
        return "left" if step[1] == k else "right"
    return "only"


def _local_hint(
    name: str, role: str, got: np.ndarray, want: np.ndarray, upstream: Any, ratio: float | None
) -> str:
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
    if name == "matmul":
        return (
            "check the shapes: each factor's gradient is the upstream gradient times the "
            "other factor, transposed"
        )
    if name in ("sum", "mean") and ratio is not None:
        return f"it is {ratio:g} times the right one; each entry of a mean counts 1/n"
    if name in ("sum", "mean"):
        return "the upstream gradient must be copied back along the axis that was reduced"
    if name in ("tanh", "sigmoid"):
        return f"{name}'s slope is best written with its output, not its input"
    if name == "exp":
        return "e^x is its own derivative"
    if name == "log":
        return "the slope of log(x) is 1/x"
    if name == "relu":
        return "relu's local gradient is 1 where the input is positive and 0 elsewhere"
    if name == "cross_entropy" and ratio is not None:
        return f"it is {ratio:g} times the right one; the loss is a mean over the batch"
    if name == "cross_entropy":
        return "the gradient is the softmax minus the one-hot labels, per example"
    if name in ("Linear", "MLP", "Residual"):
        return "check how the layer uses its weight (n_out, n_in) and bias"
    return "check its local derivative"
