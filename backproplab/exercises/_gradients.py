"""Notebook 04's challenge, ``gradients(root, wrt)`` (``check_gradients``): the backward pass
over real tensors as a function that returns d(root)/dt for the tensors asked about (as
``torch.autograd.grad``), without ``backward()`` and without touching any tensor's ``.grad`` or
``.data``; expected values are central finite differences, on five graphs."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from .. import ops
from ..autodiff import toposort
from ..tensor import Tensor, apply
from . import Feedback, attempt, correct, hint, names_used, numeric_gradient
from ._draws import check_rng


# -------------------------------------------------------------------- challenge: gradients
def _mix(W: Tensor, v: Tensor, d: Tensor) -> Tensor:
    """L = sum(tanh(h) * exp(v[0])) with the intermediate node h = W @ v + d (d = 0: a leaf that
    lets finite differences nudge h, since dL/dh = dL/dd)."""
    h = W @ v + d
    h.name = "h"
    return (h.tanh() * v[0].exp()).sum()


def _challenge_graphs() -> list[tuple[str, Callable[..., Tensor], dict[str, np.ndarray], dict]]:
    """(name, build(*leaves) -> scalar loss, the leaves' values by name, the tensors asked about:
    name -> the leaf whose finite differences give its gradient)."""
    rng = check_rng(44)
    return [
        ("L = a (a + b), with a used twice and c not used", lambda a, b, c: a * (a + b),
         {"a": np.array(2.0), "b": np.array(3.0), "c": np.array(-1.0)},
         {"a": "a", "b": "b", "c": "c"}),
        ("L = sum(x * y + x), x (3,) broadcast against y (2, 3)", lambda x, y: (x * y + x).sum(),
         {"x": rng.standard_normal(3), "y": rng.standard_normal((2, 3))}, {"x": "x", "y": "y"}),
        ("L = sum((a * c) * (a + b)), where add hands one array to both a and b",
         lambda a, b, c: ((a * c) * (a + b)).sum(),
         {"a": rng.standard_normal(2), "b": rng.standard_normal(2), "c": rng.standard_normal(2)},
         {"a": "a", "b": "b", "c": "c"}),
        ("L = sum(tanh(h) * exp(v[0])) with h = W @ v", _mix,
         {"W": rng.standard_normal((2, 3)), "v": rng.standard_normal(3), "d": np.zeros(2)},
         {"h": "d", "v": "v", "W": "W"}),
        (_THROUGH_LINEAR, lambda x, W, b: apply(ops.linear, x, W, b).tanh().sum(),
         {"x": rng.standard_normal((2, 3)), "W": rng.standard_normal((4, 3)),
          "b": rng.standard_normal(4)}, {"x": "x", "W": "W", "b": "b"}),
    ]  # fmt: skip


# linear's rule hands over its input's gradient as a function of no arguments (step 3 of the
# engine's loop in the notebook): an answer that never calls it crashes on this graph only
_THROUGH_LINEAR = "L = sum(tanh(x Wᵀ + b)), one linear node"
_CALL_IT = (
    "A rule may hand over a gradient as a function instead of an array (linear does, for its "
    "input): it must be called to give the array"
)


def _loss_with(build: Callable[..., Tensor], values: dict, name: str, value: np.ndarray) -> float:
    """The loss with the leaf ``name`` set to ``value`` (the others as given)."""
    return float(build(*[Tensor(value if n == name else v) for n, v in values.items()]).item())


def check_gradients(gradients: Callable[[Tensor, list[Tensor]], list]) -> Feedback:
    """``gradients(root, wrt)``: d(root)/dt for every tensor t in ``wrt`` (leaves or intermediate
    nodes), as a list of arrays of t's shape, without calling ``backward()`` and without
    changing any tensor's ``.grad``. Compared with finite differences on five graphs."""
    exercise = "gradients"
    names = names_used(gradients)  # inner functions included
    if "backward" in names and "backward" not in gradients.__globals__:
        return hint(
            exercise,
            "your answer calls a tensor's backward(): the challenge is to "
            "write that loop, with toposort, each node's rule and sum_to_shape",
        )
    for name, build, values, asked in _challenge_graphs():
        leaves = [Tensor(v.copy(), requires_grad=True, name=n) for n, v in values.items()]
        root = build(*leaves)
        every = list({id(t): t for t in [*leaves, *toposort(root)]}.values())  # c: no graph
        for t in every:  # leaves hold gradients from an earlier pass: they must stay as they are
            t.grad = np.full(t.shape, 7.0) if t.op is None else None
        wrt = [next(t for t in every if t.name == n) for n in asked]
        before = [(t, t.grad, None if t.grad is None else t.grad.copy()) for t in every]
        data = [(t, t.data.copy()) for t in every]
        result = attempt(exercise, gradients, root, list(wrt))
        if isinstance(result, Feedback) and result.status == "hint":  # a crash: on which graph
            call_it = f" {_CALL_IT}" if name == _THROUGH_LINEAR else ""
            return hint(exercise, f"on {name}, {result.message.rstrip('. ')}.{call_it}")
        if isinstance(result, Feedback):
            return result
        for t, grad, copy in before:
            # (t.grad is grad here, so it is not None when copy is not None: mypy cannot tell)
            changed = t.grad is not grad or (copy is not None and not np.array_equal(t.grad, copy))  # type: ignore[arg-type, unused-ignore]
            if changed:
                return hint(
                    exercise,
                    f"on {name}, your function changed the .grad of {t.name or 'a node'}: "
                    "keep the gradients in a dictionary of your own and leave .grad alone",
                )
        for t, value in data:
            if not np.array_equal(t.data, value):
                who = t.name or ("the root" if t is root else "a node")
                return hint(exercise, f"on {name}, your function changed the values (.data) of "
                            f"{who}: a backward pass reads them, it never writes them")  # fmt: skip
        if not isinstance(result, (list, tuple)) or len(result) != len(wrt):
            return hint(
                exercise,
                f"on {name}, return a list with one gradient per tensor asked about "
                f"({len(wrt)} here), in the same order",
            )
        for t, got in zip(wrt, result):
            leaf = asked[t.name]  # the leaf whose finite differences give t's gradient
            want = numeric_gradient(partial(_loss_with, build, values, leaf), values[leaf])
            if got is None:
                return hint(
                    exercise,
                    f"on {name}, the gradient of {t.name} is None: the loss does not depend on "
                    "it, so its gradient is zero, an array of its shape",
                )
            if callable(got):  # handed on as linear's rule gave it
                return hint(
                    exercise, f"on {name}, the gradient of {t.name} is a function. {_CALL_IT}"
                )
            got = np.asarray(got, dtype=float)
            if got.shape != t.shape:
                return hint(
                    exercise,
                    f"on {name}, {t.name} of shape {t.shape} got a gradient of shape "
                    f"{got.shape}: where broadcasting copied a tensor, its gradient must be "
                    "summed back to its shape",
                )
            if not np.allclose(got, want, rtol=1e-5, atol=1e-7):
                if name == _THROUGH_LINEAR and t.name == "x" and not np.any(got):
                    return hint(exercise, f"on {name}, the gradient of x is 0: nothing reached "
                                f"it from the linear node. {_CALL_IT}")  # fmt: skip
                if "one array" in name and t.name == "b" and np.allclose(got, result[0]):
                    return hint(
                        exercise,
                        f"on {name}, b's gradient changed after it was stored: adding into an "
                        "array in place changes it under every name it has",
                    )
                if "used twice" in name and t.name == "a" and np.isclose(got, values["a"]):
                    return hint(  # only the path through a + b arrived
                        exercise,
                        f"on {name}, a's gradient is not the sum over both of "
                        "its paths: a later arrival must add to what is there",
                    )
                return hint(
                    exercise,
                    f"on {name}, the gradient of {t.name} disagrees with finite differences: "
                    "is the walk started from the loss with a gradient of 1, and is each node "
                    "visited only after every node that uses it?",
                )
    return correct(
        exercise,
        "your gradients match finite differences on all five graphs, and every .grad "
        "was left alone: the backward pass as a function, like torch.autograd.grad.",
    )
