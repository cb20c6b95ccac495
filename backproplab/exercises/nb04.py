"""Self-checks for notebook 04 · Inside the engine.

Three exercises:

* ``topo_order(root)``: an iterative topological order (inputs before outputs, no recursion), from
  the edges alone: the check gives its graphs made-up creation numbers, so sorting by ``seq`` (what
  the engine's ``toposort``, printed just before, does) fails;
* ``backward_list(nodes, values, local)``: the backward loop written from scratch on a graph given
  as a plain list of (name, op, inputs) with a table of local derivatives: gradients from several
  paths must add up;
* ``softplus_vjp(g, out, x)``: the backward rule of a new op, softplus(x) = log(1 + e^x);
* the challenge ``gradients(root, wrt)``: the backward pass over real tensors as a function that
  returns d(root)/dt for the tensors asked about (as ``torch.autograd.grad``), from a blank cell
  (broadcasting undone, fan-out added up), without ``backward()`` and without touching ``.grad``
  or ``.data`` (its check is in ``_gradients.py``).

Expected answers come from the checks' own graph walk and from finite differences, never from the
learner's function or the package's ``backward``. Answers that let the package do the exercise
(``bl.toposort`` for ``topo_order``, a rule's ``.vjp``...) are refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import Feedback, attempt, correct, hint, uses_package
from ._draws import check_rng
from ._gradients import check_gradients
from ._order import deepest_call, graphs_for_order, judge_order, snapshot

__all__ = [
    "LOCAL",
    "check_backward_list",
    "check_gradients",
    "check_softplus_vjp",
    "check_topo_order",
]

_PACKAGE_HINT = (
    "your answer calls into backproplab, which already has this piece: write it with plain "
    "Python and numpy (the point is to build it yourself)"
)


# ----------------------------------------------------------------------------- topo_order
def check_topo_order(topo_order: Callable[[Tensor], list]) -> Feedback:
    """Check ``topo_order(root)``: every node needing a gradient, once, each after its inputs."""
    exercise = "topo_order"
    if uses_package(topo_order, global_tensors=True):  # the notebook's L is no package
        return hint(exercise, _PACKAGE_HINT)  # code: judge_order names the graph it came from
    for name, root in graphs_for_order():
        before = snapshot(root)
        order, depth = deepest_call(attempt, exercise, topo_order, root)
        if isinstance(order, Feedback):
            if "RecursionError" in order.message:
                return hint(
                    exercise,
                    f"on {name} your function recursed too deeply (RecursionError): keep the "
                    "nodes still to visit in a list of your own instead of calling yourself",
                )
            return order
        if snapshot(root) != before:
            return hint(
                exercise,
                f"for the graph {name} your function changed the graph it walked (a node's "
                "inputs, requires_grad or seq): only read it, the backward pass needs it as it was",
            )
        if depth > 500:  # the recursion limit raised: it no longer fails, but it still recurses
            return hint(
                exercise,
                f"on {name} your function nested {depth} calls, one per node: keep the nodes "
                "still to visit in a list of your own instead of calling yourself",
            )
        problem = judge_order(name, root, order)
        if problem:
            return hint(exercise, problem)
    return correct(exercise, "a valid order on all three graphs, including the 1500-deep chain.")


# --------------------------------------------------------------------------- backward_list
# Local derivatives, d(output)/d(input) for each input, from the inputs' values. This is the table
# the learner's backward_list receives; it is deliberately not a vjp: the learner multiplies by the
# upstream gradient.
LOCAL: dict[str, Callable[..., tuple[float, ...]]]  # (typed apart: notebook 04 quotes the table)
LOCAL = {
    "add": lambda a, b: (1.0, 1.0),
    "mul": lambda a, b: (b, a),
    "exp": lambda a: (math.exp(a),),
    "tanh": lambda a: (1.0 - math.tanh(a) ** 2,),
}

# The forward of each op, for the check's own finite differences.
_FORWARD: dict[str, Callable[..., float]] = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "exp": math.exp,
    "tanh": math.tanh,
}

Node = tuple[str, str | None, tuple[str, ...]]  # (name, op or None for a leaf, input names)

_LIST_CASES: list[tuple[str, list[Node], dict[str, float]]] = [
    (
        "L = x (x + y)",
        [("x", None, ()), ("y", None, ()), ("q", "add", ("x", "y")), ("L", "mul", ("x", "q"))],
        {"x": 2.0, "y": 3.0},
    ),
    (
        "a = x y, b = a + x, c = b b, L = a c",  # c = b b: one node twice the input of another
        [
            ("x", None, ()),
            ("y", None, ()),
            ("a", "mul", ("x", "y")),
            ("b", "add", ("a", "x")),
            ("c", "mul", ("b", "b")),
            ("L", "mul", ("a", "c")),
        ],
        {"x": 0.7, "y": -1.3},
    ),
    (
        "s = x y, f = tanh(s) + exp(s) x",  # the loss need not be called L
        [
            ("x", None, ()),
            ("y", None, ()),
            ("s", "mul", ("x", "y")),
            ("t", "tanh", ("s",)),
            ("e", "exp", ("s",)),
            ("u", "mul", ("e", "x")),
            ("f", "add", ("t", "u")),
        ],
        {"x": 0.4, "y": 0.9},
    ),
]


def _forward(nodes: list[Node], leaves: dict[str, float], nudge: tuple[str, float] = ("", 0.0)):
    """Every node's value; ``nudge = (name, eps)`` adds eps to that node once it is computed."""
    values: dict[str, float] = {}
    for name, op, inputs in nodes:
        value = leaves[name] if op is None else _FORWARD[op](*[values[i] for i in inputs])
        values[name] = value + (nudge[1] if name == nudge[0] else 0.0)
    return values


def _finite_differences(nodes: list[Node], leaves: dict[str, float], eps: float = 1e-6):
    """dL/d(node) for every node: nudge the node up and down, watch the root (the last node)."""
    root = nodes[-1][0]
    return {
        name: (
            _forward(nodes, leaves, (name, eps))[root] - _forward(nodes, leaves, (name, -eps))[root]
        )
        / (2 * eps)
        for name, _, _ in nodes
    }


def _broken_list(nodes: list[Node], values: dict[str, float], bug: str) -> dict[str, float]:
    """The loop with one bug, used only to recognise it: "overwrite" (``=`` instead of adding
    up), "forwards" (the list walked from the inputs), "no upstream" (local derivatives alone)."""
    grads = {name: 0.0 for name, _, _ in nodes}
    grads[nodes[-1][0]] = 1.0
    for name, op, inputs in nodes if bug == "forwards" else reversed(nodes):
        if op is not None:
            for i, d in zip(inputs, LOCAL[op](*[values[j] for j in inputs])):
                share = d if bug == "no upstream" else d * grads[name]
                grads[i] = share if bug == "overwrite" else grads[i] + share
    return grads


def _values_only(op: str) -> Callable[..., tuple[float, ...]]:
    """LOCAL[op], refusing a node's name where a value belongs (``local[op](*inputs)``)."""

    def rule(*args: Any) -> tuple[float, ...]:
        for a in args:
            if isinstance(a, str):
                raise TypeError(f"local[{op!r}] was given {a!r}, a node's name: it takes the "
                                "inputs' forward values, not their names")  # fmt: skip
        return LOCAL[op](*args)

    return rule


def check_backward_list(backward_list: Callable[..., dict]) -> Feedback:
    """Check ``backward_list(nodes, values, local)`` against finite differences on every node."""
    exercise = "backward_list"
    for name, nodes, leaves in _LIST_CASES:
        values = _forward(nodes, leaves)
        given = (list(nodes), dict(values))
        result = attempt(exercise, backward_list, *given, {op: _values_only(op) for op in LOCAL})
        if isinstance(result, Feedback):
            return result
        if given != (nodes, values):
            return hint(
                exercise,
                f"for {name} your function changed the list of nodes or the dict of values it "
                "was given: the caller still needs the graph as it was, in its order",
            )
        if not isinstance(result, dict):
            return hint(
                exercise,
                f"return a dict {{node name: gradient}}; for {name} you returned "
                f"{type(result).__name__}",
            )
        missing = [n for n, _, _ in nodes if n not in result]
        if missing:
            return hint(
                exercise,
                f"for {name} your dict has no gradient for {', '.join(map(repr, missing))}: "
                "every node, leaves included, gets one",
            )
        try:
            got = {n: float(result[n]) for n, _, _ in nodes}
        except (TypeError, ValueError):
            return hint(exercise, f"for {name} the gradients should be plain numbers")
        expected = _finite_differences(nodes, leaves)
        wrong = [
            n
            for n, _, _ in reversed(nodes)  # from the root back: the first wrong one is the cause
            if not math.isclose(got[n], expected[n], rel_tol=1e-5, abs_tol=1e-7)
        ]
        if not wrong:
            continue
        root = nodes[-1][0]
        if wrong[0] == root:
            return hint(
                exercise,
                f"for {name} the gradient of the root {root!r} is off: what is the derivative "
                f"of {root} with respect to itself?",
            )
        made_by = {  # the bugs that give exactly the wrong gradients this answer has
            bug
            for bug in ("overwrite", "forwards", "no upstream")
            if all(
                math.isclose(got[n], _broken_list(nodes, values, bug)[n], abs_tol=1e-12)
                for n in wrong
            )
        }
        if "overwrite" in made_by:
            return hint(
                exercise,
                f"for {name}, {wrong[0]!r} feeds more than one node and your gradient for it "
                "keeps only the one that arrived last: what should happen to the gradient "
                "already there?",
            )
        if "forwards" in made_by:
            return hint(
                exercise,
                f"for {name} your gradient for {wrong[0]!r} is off (the nodes after it are "
                "right): a node passed its gradient on before the nodes using it had sent it "
                "theirs; in which direction does the backward pass walk the list (section 3)?",
            )
        if "no upstream" in made_by:
            return hint(
                exercise,
                f"for {name} your gradient for {wrong[0]!r} is a local derivative alone: an "
                "input's share is that local derivative times the upstream gradient of the node "
                "using it",
            )
        twice = [n for n, op, inputs in nodes if op and inputs.count(wrong[0]) > 1]
        if twice:
            return hint(
                exercise,
                f"for {name} your gradient for {wrong[0]!r} is off (the nodes after it are "
                f"right), and {wrong[0]!r} is both inputs of {twice[0]!r}: each position sends "
                "a share of its own",
            )
        return hint(
            exercise,
            f"for {name} your gradient for {wrong[0]!r} disagrees with finite differences (the "
            "nodes after it are right): is an input's share the local derivative times the "
            "upstream gradient of the node using it, and is that gradient complete when you "
            "use it?",
        )
    return correct(exercise, "every node of all three graphs agrees with finite differences.")


# ---------------------------------------------------------------------------- softplus_vjp
def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)  # log(1 + e^x) without overflow


def check_softplus_vjp(softplus_vjp: Callable[..., tuple]) -> Feedback:
    """Check the vjp of softplus(x) = log(1 + e^x) against central differences, times g."""
    exercise = "softplus_vjp"
    if uses_package(softplus_vjp):
        return hint(exercise, _PACKAGE_HINT)
    rng = check_rng(4)
    x = np.array([-800.0, -3.0, -0.5, 0.0, 0.8, 4.0, 800.0])  # e^800 overflows a float64
    g = rng.standard_normal(x.shape)
    out = _softplus(x)
    eps = 1e-6
    local = (_softplus(x + eps) - _softplus(x - eps)) / (2 * eps)  # the slope, numerically

    inputs = (g.copy(), out.copy(), x.copy())
    with np.errstate(all="ignore"):  # an overflow is reported as a hint, not as a warning
        result = attempt(exercise, softplus_vjp, *inputs)
    if isinstance(result, Feedback):
        return result
    if not all(np.array_equal(a, b) for a, b in zip(inputs, (g, out, x))):
        return hint(exercise, "your rule changed one of its arguments in place: the engine "
                    "hands the same arrays to other rules, so compute a new array")  # fmt: skip
    if isinstance(result, list) and len(result) == 1:  # the engine itself refuses a list
        return hint(
            exercise,
            "your rule returned a list with one gradient; the op table's convention (which the "
            "engine checks) is a tuple, one entry for each input: a tuple of one, written with "
            "its trailing comma",
        )
    if not isinstance(result, tuple) or len(result) != 1:
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        return hint(
            exercise,
            f"your rule returned {got}; the engine pairs what a vjp returns with the op's "
            "inputs, one entry for each of them (softplus has one input: a tuple of one)",
        )
    try:
        gx = np.asarray(result[0], dtype=float)
    except (TypeError, ValueError):
        return hint(exercise, "the gradient in your tuple should be a numpy array shaped like x")
    if gx.shape != x.shape:
        return hint(exercise, f"the gradient has shape {gx.shape}, but x has shape {x.shape}")
    finite = np.isfinite(gx)
    if not finite.all() and np.allclose(gx[finite], (g * local)[finite], rtol=1e-5, atol=1e-8):
        where = ", ".join(f"{v:g}" for v in x[~finite])
        return hint(
            exercise,
            f"at x = {where} your gradient is not a number (nan or inf), yet softplus is smooth "
            "there, with a slope between 0 and 1: e to a power above about 709 overflows a "
            "float64, so write the derivative in a form that never needs one",
        )
    if np.allclose(gx, g * local, rtol=1e-5, atol=1e-8):
        return correct(exercise, "your rule matches finite differences, times the upstream g.")
    with np.errstate(over="ignore"):  # e^800 is inf, as the learner's numpy gives it
        e_x = np.exp(x)  # the slope of the inner function alone: the outer log's forgotten
    steps = x != 0  # where ReLU's slope is 0 or 1 whichever way x = 0 is counted
    if np.allclose(gx[steps], (g * (x > 0))[steps], rtol=1e-5, atol=1e-8):
        return hint(
            exercise,
            "your slope is ReLU's, 0 or 1 by the sign of x; softplus bends "
            "smoothly from one to the other, and at x = -0.5 or 0.8 its slope is neither",
        )
    seen = finite if finite.sum() > x.size // 2 else np.ones_like(finite)  # nan at x = +-800
    for wrong, words in [  # slips of the rule, each a recognisable slope (times g or not)
        (local, "you returned the local derivative alone: a vjp multiplies it by the upstream "
         "gradient g"),
        (-g * local, "right size, wrong sign: softplus rises everywhere, its slope is positive"),
        (g * (1 - local), "your slope is largest where x is most negative, yet softplus is flat "
         "there and steepest for large x: check the sign of x in your derivative"),
        (g * out, "you multiplied g by softplus itself (the op's output), not by its slope"),
        (g * e_x, "e^x is the slope of the inner function 1 + e^x only: the chain rule "
         "multiplies it by the slope of the outer log, taken at 1 + e^x"),
    ]:  # fmt: skip
        if np.allclose(gx[seen], wrong[seen], rtol=1e-5, atol=1e-8):  # an overflow: a 2nd slip
            return hint(exercise, words)
    return hint(
        exercise,
        "your gradient disagrees with finite differences: differentiate log(1 + e^x) "
        "(sympy can do it for you) and multiply by g",
    )
