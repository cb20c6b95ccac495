"""Self-checks for notebook 04 · Inside the engine.

Three exercises:

* ``topo_order(root)``: an iterative topological order (inputs before outputs, no recursion);
* ``backward_scalar(root)``: the backward loop, with gradients from several paths added up;
* ``softplus_vjp(g, out, x)``: the backward rule of a new op, softplus(x) = log(1 + e^x).

Expected answers come from the checks' own graph walk and from finite differences, never from the
learner's function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff import toposort
from ..tensor import Tensor
from . import Feedback, attempt, correct, hint

__all__ = ["check_backward_scalar", "check_softplus_vjp", "check_topo_order"]


# ----------------------------------------------------------------------------- topo_order
def _graphs_for_order() -> list[tuple[str, Tensor]]:
    """Graphs with fan-out and a constant, and a chain deeper than Python's recursion limit."""
    x = Tensor(2.0, requires_grad=True, name="x")
    y = Tensor(3.0, requires_grad=True, name="y")
    fan_out = (x + y) * x  # x feeds two nodes

    a = Tensor(0.5, requires_grad=True, name="a")
    b = a * 2.0  # 2.0 becomes a constant leaf (requires_grad=False)
    diamond = b.exp() * b.tanh() + a

    c = Tensor(1.0, requires_grad=True, name="c")
    chain = c
    for _ in range(1500):  # deeper than sys.getrecursionlimit() == 1000
        chain = chain * 1.0
    return [
        ("(x + y) * x", fan_out),
        ("exp(2a) * tanh(2a) + a", diamond),
        ("a 1500-deep chain", chain),
    ]


def _needs_grad(root: Tensor) -> list[Tensor]:
    """Every node ``root`` depends on with requires_grad, found breadth-first (no order implied)."""
    seen = {id(root): root}
    frontier = [root]
    while frontier:
        node = frontier.pop()
        for parent in node.inputs:
            if parent.requires_grad and id(parent) not in seen:
                seen[id(parent)] = parent
                frontier.append(parent)
    return list(seen.values())


def _judge_order(name: str, root: Tensor, order: object) -> str | None:
    """None when ``order`` is a valid topological order of ``root``'s graph, else a hint."""
    if not isinstance(order, (list, tuple)):
        return f"return a list of tensors; for the graph {name} you returned {type(order).__name__}"
    ids = [id(t) for t in order]
    if len(set(ids)) != len(ids):
        return (
            f"for the graph {name} a node appears more than once: remember which nodes you have "
            "already visited"
        )
    wanted = {id(t) for t in _needs_grad(root)}
    if set(ids) - wanted:
        return (
            f"for the graph {name} your order contains tensors that need no gradient "
            "(constants with requires_grad=False): leave them out"
        )
    if wanted - set(ids):
        return (
            f"for the graph {name} your order has {len(set(ids))} of the {len(wanted)} nodes "
            "that need a gradient: follow every node's inputs"
        )
    position = {i: k for k, i in enumerate(ids)}
    for t in order:
        for parent in t.inputs:
            if parent.requires_grad and position[id(parent)] > position[id(t)]:
                return (
                    f"for the graph {name} a node comes before one of its inputs: append a node "
                    "only after all of its inputs are in the list"
                )
    return None


def check_topo_order(topo_order: Callable[[Tensor], list]) -> Feedback:
    """Check ``topo_order(root)``: every node needing a gradient, once, each after its inputs."""
    exercise = "topo_order"
    for name, root in _graphs_for_order():
        order = attempt(exercise, topo_order, root)
        if isinstance(order, Feedback):
            if "RecursionError" in order.message:
                return hint(
                    exercise,
                    f"on {name} your function recursed too deeply (RecursionError): keep the "
                    "nodes still to visit in a list of your own instead of calling yourself",
                )
            return order
        problem = _judge_order(name, root, order)
        if problem:
            return hint(exercise, problem)
    return correct(exercise, "a valid order on all three graphs, including the 1500-deep chain.")


# ------------------------------------------------------------------------- backward_scalar
def _fan_out(x: Tensor, y: Tensor) -> Tensor:
    return (x + y) * x


def _cube_plus(x: Tensor, y: Tensor) -> Tensor:
    return x * x * x + y * x


def _mixed(x: Tensor, y: Tensor) -> Tensor:
    s = x * y
    return s.tanh() + s.exp() * x - y / x


_BACKWARD_CASES = [
    ("(x + y) * x", _fan_out, 2.0, 3.0),
    ("x * x * x + y * x", _cube_plus, 0.7, -1.3),
    ("tanh(x y) + exp(x y) x - y / x", _mixed, 0.4, 0.9),
]


def _central_difference(f: Callable, x: float, y: float, eps: float = 1e-6) -> tuple[float, float]:
    value = lambda a, b: f(Tensor(a), Tensor(b)).item()
    dx = (value(x + eps, y) - value(x - eps, y)) / (2 * eps)
    dy = (value(x, y + eps) - value(x, y - eps)) / (2 * eps)
    return dx, dy


def _overwriting_backward(root: Tensor) -> dict[int, np.ndarray]:
    """The broken loop (``=`` instead of adding up): used only to recognise that mistake."""
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(toposort(root)):
        if node.op is None:
            continue
        arrays = [t.data for t in node.inputs]
        for t, g in zip(node.inputs, node.op.vjp(grads[id(node)], node.data, *arrays)):
            grads[id(t)] = g  # the bug: a second path's gradient replaces the first
    return grads


def check_backward_scalar(backward_scalar: Callable[[Tensor], None]) -> Feedback:
    """Check ``backward_scalar(root)`` fills x.grad and y.grad like finite differences do."""
    exercise = "backward_scalar"
    for name, f, x0, y0 in _BACKWARD_CASES:
        x = Tensor(x0, requires_grad=True, name="x")
        y = Tensor(y0, requires_grad=True, name="y")
        root = f(x, y)
        result = attempt(exercise, backward_scalar, root)
        if isinstance(result, Feedback):
            return result
        if x.grad is None or y.grad is None:
            return hint(
                exercise,
                f"for L = {name}, x.grad or y.grad is still None after your function: set "
                "root.grad = 1, then walk the order from the root back, giving every input its "
                "gradient",
            )
        try:
            got = [float(np.asarray(x.grad)), float(np.asarray(y.grad))]
        except (TypeError, ValueError):
            return hint(
                exercise, f"for L = {name}, x.grad and y.grad should be numbers (0-d arrays)"
            )
        dx, dy = _central_difference(f, x0, y0)
        if np.allclose(got, [dx, dy], rtol=1e-5, atol=1e-7):
            continue
        xb = Tensor(x0, requires_grad=True)
        yb = Tensor(y0, requires_grad=True)
        overwritten = _overwriting_backward(f(xb, yb))
        if np.isclose(got[0], float(overwritten[id(xb)])):
            return hint(
                exercise,
                f"for L = {name}, x feeds more than one node and your x.grad keeps only the "
                "gradient that arrived last: what should happen to the gradient already there?",
            )
        return hint(
            exercise,
            f"for L = {name}, x.grad and y.grad disagree with finite differences: is each "
            "input's gradient the op's vjp applied to the node's own upstream gradient?",
        )
    return correct(exercise, "all three graphs agree with finite differences, fan-out included.")


# ---------------------------------------------------------------------------- softplus_vjp
def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)  # log(1 + e^x) without overflow


def check_softplus_vjp(softplus_vjp: Callable[..., tuple]) -> Feedback:
    """Check the vjp of softplus(x) = log(1 + e^x) against central differences, times g."""
    exercise = "softplus_vjp"
    rng = np.random.default_rng(4)
    x = np.array([-3.0, -0.5, 0.0, 0.8, 4.0])
    g = rng.standard_normal(x.shape)
    out = _softplus(x)
    eps = 1e-6
    local = (_softplus(x + eps) - _softplus(x - eps)) / (2 * eps)  # the slope, numerically

    result = attempt(exercise, softplus_vjp, g, out, x)
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, tuple) or len(result) != 1:
        return hint(
            exercise,
            "a vjp returns a tuple with one gradient per input; softplus has one input, so "
            "return a 1-tuple: (gradient,)",
        )
    try:
        gx = np.asarray(result[0], dtype=float)
    except (TypeError, ValueError):
        return hint(exercise, "the gradient in your tuple should be a numpy array shaped like x")
    if gx.shape != x.shape:
        return hint(exercise, f"the gradient has shape {gx.shape}, but x has shape {x.shape}")
    if np.allclose(gx, g * local, rtol=1e-5, atol=1e-8):
        return correct(exercise, "your rule matches finite differences, times the upstream g.")
    if np.allclose(gx, local, rtol=1e-5, atol=1e-8):
        return hint(
            exercise,
            "you returned the local derivative alone: a vjp multiplies it by the upstream "
            "gradient g",
        )
    return hint(
        exercise,
        "your gradient disagrees with finite differences: differentiate log(1 + e^x) "
        "(sympy can do it for you) and multiply by g",
    )
