"""Self-checks for notebook 03 · The computational graph of (x + y) z.

Four exercises and a challenge:

* ``backward_by_hand(x, y, z)``: (dL/dx, dL/dy, dL/dz) for L = (x + y) z, node by node;
* ``mul_backward(upstream, a, b)``: the downstream gradients of a multiplication node;
* ``fan_out(x, y)``: (dL/dx, dL/dy) for L = (x + y) x, where x feeds two nodes;
* ``product_backward(upstream, inputs)``: the downstream gradients of a node x1 * ... * xn,
  right where inputs are 0 (dividing the product by x_i is not);
* the challenge ``my_graph()``: a small graph of the learner's choice, with every gradient worked
  out by hand.

Expected answers are central differences of the functions written in this file (for the
challenge: of the learner's graph, re-evaluated op by op from its recorded forward pass), never
the learner's function or ``backward()``. The typical slips (local instead of downstream
gradients, mul not swapped, one path of a fan-out forgotten, a sign, a division by an input that
is 0, the notebook's own numbers returned at every point) get their own hints.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff import toposort
from ..tensor import Tensor
from . import (
    Feedback,
    _product,
    attempt,
    close,
    correct,
    hint,
    is_pair,
    names_used,
    numeric_gradient,
    uses_package,
)
from ._draws import check_rng

__all__ = [
    "check_backward_by_hand",
    "check_fan_out",
    "check_mul_backward",
    "check_my_graph",
    "check_product_backward",
]


def _as_vector(result: object, n: int) -> np.ndarray | None:
    """The learner's tuple (or list, or 1-d array) of n numbers as a float array, or None."""
    if isinstance(result, np.ndarray) and result.ndim == 1:
        result = list(result)
    if not isinstance(result, (tuple, list)) or len(result) != n:
        return None
    try:
        return np.array([float(np.asarray(r)) for r in result])
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------ backward_by_hand
_POINTS = [(-2.0, 5.0, -4.0), (1.5, 0.5, 3.0), (0.3, -1.2, 2.5)]


def _by_the_engine(exercise: str, fn: Callable) -> Feedback | None:
    """A hint when ``fn`` lets the package's engine or its op table do the backward pass."""
    if uses_package(fn):
        return hint(
            exercise,
            "your function lets the package do the backward pass; do it yourself, node by node, "
            "with plain numbers",
        )
    return None


def check_backward_by_hand(fn: Callable[[float, float, float], tuple]) -> Feedback:
    """Check ``fn(x, y, z)`` = (dL/dx, dL/dy, dL/dz) for L = (x + y) * z at three points."""
    exercise = "backward_by_hand"
    refused = _by_the_engine(exercise, fn)
    if refused:
        return refused
    first = numeric_gradient(lambda v: (v[0] + v[1]) * v[2], np.array(_POINTS[0]))
    for x, y, z in _POINTS:
        result = attempt(exercise, fn, x, y, z)
        if isinstance(result, Feedback):
            return result
        got = _as_vector(result, 3)
        if got is None:
            return hint(exercise, "return three numbers: (dL/dx, dL/dy, dL/dz)")
        want = numeric_gradient(lambda v: (v[0] + v[1]) * v[2], np.array([x, y, z]))
        if close(got, want):
            continue
        q = x + y
        at = f"at x={x}, y={y}, z={z}"
        if (x, y, z) != _POINTS[0] and close(got, first):  # the notebook's numbers, typed in
            return hint(
                exercise,
                f"{at} your function returns the gradient at the notebook's "
                "point x=-2, y=5, z=-4: compute it from the x, y and z it is given",
            )
        if close(got, [1.0, 1.0, q]):
            return hint(
                exercise,
                f"{at}: dL/dx and dL/dy are the add node's local gradients; the add node must "
                "also multiply them by its upstream gradient",
            )
        if close(got[:2], want[:2]):
            return hint(
                exercise,
                f"{at}: dL/dx and dL/dy are right, dL/dz is not: a mul node's local gradient "
                "for one input is the value of the *other* input",
            )
        if close(got, -want):
            return hint(exercise, f"{at}: right sizes, wrong signs: neither node flips a sign")
        if close(got, [q, q, z]):
            return hint(
                exercise,
                f"{at}: each input of the mul node got its own value as local gradient; a mul "
                "node's local gradient for one input is the value of the *other* input",
            )
        if np.isclose(got[2], want[2]):
            return hint(
                exercise,
                f"{at}: dL/dz is right; for dL/dx and dL/dy take the upstream gradient that "
                "reaches q, then pass it through the add node",
            )
        return hint(exercise, f"not yet {at}: go node by node from L back to x, y and z")
    return correct(exercise, "right at all three points, including the notebook's x=-2, y=5, z=-4.")


# ---------------------------------------------------------------------------- mul_backward
def check_mul_backward(fn: Callable[..., tuple]) -> Feedback:
    """Check ``fn(upstream, a, b)`` = (dL/da, dL/db) for a node out = a * b (arrays allowed).

    The upstream gradient is not 1 and a, b differ entry by entry, so that a forgotten upstream
    factor or swapped inputs show; the three arrays must come back unchanged.
    """
    exercise = "mul_backward"
    refused = _by_the_engine(exercise, fn)
    if refused:
        return refused
    rng = check_rng(3)
    # positive and away from 0 (the flips below then give each sign), at every draw
    a, b, upstream = (np.maximum(np.abs(rng.standard_normal(4) + 1.5), 0.5) for _ in range(3))
    a[1], b[2] = 0.0, 0.0  # a product with a zero factor still has a gradient
    a[3], b[0], upstream[2] = -a[3], -b[0], -upstream[2]  # signs of every kind: abs() shows
    saved = (upstream.copy(), a.copy(), b.copy())
    with np.errstate(divide="ignore", invalid="ignore"):  # a division by 0 gets a hint below
        result = attempt(exercise, fn, upstream, a, b)
    if isinstance(result, Feedback):
        return result
    if any(not np.array_equal(x, y) for x, y in zip((upstream, a, b), saved)):
        return hint(
            exercise,
            "your function changed an array it was given (an update in place); the graph still "
            "needs those values, so compute new arrays",
        )
    if not is_pair(result):
        return hint(exercise, "return a pair: (gradient for a, gradient for b)")
    try:
        ga, gb = (np.asarray(r, dtype=float) for r in result)
    except (TypeError, ValueError):
        return hint(exercise, "each gradient should be an array of numbers")
    if ga.shape != a.shape or gb.shape != b.shape:
        return hint(
            exercise,
            f"each gradient has the shape of its input, {a.shape}; yours have {ga.shape} and "
            f"{gb.shape} (one number per entry, nothing summed)",
        )

    if not (np.all(np.isfinite(ga)) and np.all(np.isfinite(gb))):
        return hint(
            exercise,
            "where an input is 0 your gradient is not a number (nan or inf): does your rule "
            "divide by an input?",
        )

    # L = sum(upstream * a * b) is a loss whose gradient arriving at the node is `upstream`
    def loss(ab: np.ndarray) -> float:  # ab: a's 4 entries, then b's 4
        return float(np.sum(upstream * ab[:4] * ab[4:]))

    want = numeric_gradient(loss, np.concatenate([a, b]))
    want_a, want_b = want[:4], want[4:]
    if close(ga, want_a) and close(gb, want_b):
        return correct(exercise, "the node multiplies the upstream gradient by the other input.")
    if close(ga, upstream * a) and close(gb, upstream * b):
        return hint(
            exercise,
            "your gradient for a grows with a itself. Hold b fixed and raise a by 1: by how much "
            "does a * b change?",
        )
    if close(ga, b) and close(gb, a):
        return hint(
            exercise,
            "those are the local gradients; a downstream gradient also carries the upstream one",
        )
    if close(ga, -want_a) and close(gb, -want_b):
        return hint(exercise, "right size, wrong sign: nothing in a product flips a sign")
    if close(ga, want_a) != close(gb, want_b):
        right, wrong = ("a", "b") if close(ga, want_a) else ("b", "a")
        return hint(
            exercise,
            f"the gradient for {right} is right, the one for {wrong} is not: treat both inputs "
            "the same way",
        )
    return hint(exercise, "not yet: downstream = upstream x local, for each input")


# --------------------------------------------------------------------------------- fan_out
def check_fan_out(fn: Callable[[float, float], tuple]) -> Feedback:
    """Check ``fn(x, y)`` = (dL/dx, dL/dy) for L = (x + y) * x at three points."""
    exercise = "fan_out"
    refused = _by_the_engine(exercise, fn)
    if refused:
        return refused
    points = [(-2.0, 5.0), (1.5, 0.5), (0.7, -2.0)]
    first = numeric_gradient(lambda v: (v[0] + v[1]) * v[0], np.array(points[0]))
    for x, y in points:
        result = attempt(exercise, fn, x, y)
        if isinstance(result, Feedback):
            return result
        got = _as_vector(result, 2)
        if got is None:
            return hint(exercise, "return two numbers: (dL/dx, dL/dy)")
        want = numeric_gradient(lambda v: (v[0] + v[1]) * v[0], np.array([x, y]))
        if close(got, want):
            continue
        q = x + y
        if (x, y) != points[0] and close(got, first):  # the notebook's numbers, typed in
            return hint(
                exercise,
                f"at x={x}, y={y} your function returns the gradient at the "
                "notebook's point x=-2, y=5: compute it from the x and y it is given",
            )
        if np.isclose(got[0], q) or np.isclose(got[0], x):
            path = "straight into the mul node" if np.isclose(got[0], q) else "through q"
            return hint(
                exercise,
                f"at x={x}, y={y} your dL/dx counts only the gradient that arrives {path}; x "
                "feeds two nodes, and it receives a gradient from each",
            )
        if np.isclose(got[0], want[0]):
            return hint(exercise, f"at x={x}, y={y} dL/dx is right; dL/dy reaches y through q only")
        if np.isclose(got[1], 1.0) or np.isclose(got[0], q + 1.0):  # add's local gradients only
            return hint(
                exercise,
                f"at x={x}, y={y} the add node sent its local gradient 1 alone; it must also "
                "multiply it by its upstream gradient, what the mul node sent q",
            )
        if close(got, -want):
            return hint(exercise, f"at x={x}, y={y}: right sizes, wrong signs: no node here flips "
                        "a sign")  # fmt: skip
        return hint(exercise, f"not yet at x={x}, y={y}: draw the graph and go node by node")
    return correct(exercise, "x collects the gradients from both of its consumers.")


# ------------------------------------------------------------------------- challenge: my_graph
def _evaluate(nodes: list[Tensor], root: Tensor, override: dict[int, float]) -> float:
    """The root's value, each node recomputed from its inputs by its op (forward only), with
    the values of the nodes in ``override`` (by id) replaced."""
    values: dict[int, np.ndarray] = {}
    for node in nodes:
        if id(node) in override:
            values[id(node)] = np.full(node.data.shape, override[id(node)], dtype=np.float64)
        elif node.op is None:
            values[id(node)] = node.data
        else:
            arrays = [values[id(x)] for x in node.inputs]
            values[id(node)] = node.op.run(arrays, node.settings)[0]
    return np.asarray(values[id(root)]).item()  # one number, 0-d or of shape (1,)


def _slope_at(nodes: list[Tensor], root: Tensor, node: Tensor, eps: float = 1e-6) -> float:
    """dL/d(node) by central differences: the node's value nudged, everything after it
    recomputed."""
    v = node.data.item()  # a single number: 0-d, or of shape (1,) (bl.Tensor([0.5]))
    up = _evaluate(nodes, root, {id(node): v + eps})
    down = _evaluate(nodes, root, {id(node): v - eps})
    return (up - down) / (2 * eps)


def _runs_backward(fn: Callable) -> bool:
    """True when ``fn``'s code calls the engine's backward (``L.backward()``, ``bl.backward``),
    even if it cleared the gradients it read afterwards; a function of the learner's own named
    ``backward`` does not count."""
    own = getattr(fn, "__globals__", {}).get("backward")
    ours = own is None or str(getattr(own, "__module__", "")).startswith("backproplab")
    return "backward" in names_used(fn) and ours


def check_my_graph(fn: Callable[[], tuple]) -> Feedback:
    """Check ``fn()`` -> ``(L, grads)``: a scalar graph with at least three operations and a
    fan-out, and ``grads`` = {name: dL/d(name)} for every named node that needs a gradient (and,
    if the learner gives it, dL/dL = 1 under the root's name)."""
    exercise = "my_graph"
    result = attempt(exercise, fn)
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return hint(exercise, "return two things: (L, grads)")
    root, grads = result
    if not hasattr(root, "inputs") or not hasattr(root, "op"):
        return hint(exercise, "L should be the Tensor your graph ends in")
    if not isinstance(grads, dict):
        return hint(exercise, "grads should be a dict: {node name: your dL/d(that node)}")
    nodes = toposort(root)  # every node, constants included, inputs before outputs
    if _runs_backward(fn) and all(node.grad is None for node in nodes):
        return hint(
            exercise,
            "your function calls backward(), even if the gradients are gone by the time it "
            "returns: work every gradient out by hand from your forward values; compare with "
            "backward() outside the function, once the check passes",
        )
    if any(node.grad is not None for node in nodes):
        return hint(
            exercise,
            "the tensors of your graph already hold gradients: backward() ran inside my_graph. "
            "Work every gradient out by hand from your forward values; compare with backward() "
            "outside the function, once the check passes",
        )
    if any(node.data.size != 1 for node in nodes):
        return hint(exercise, "keep every value of the graph a single number (a scalar graph)")
    ops = [node for node in nodes if node.op is not None]
    if not ops and not root.requires_grad:
        return hint(
            exercise,
            "no input of your graph needs a gradient (requires_grad=True), so the engine recorded "
            "none of its operations",
        )
    if len(ops) < 3:
        return hint(exercise, f"your graph has {len(ops)} operation(s): choose one with at least 3")
    users: dict[int, list] = {id(node): [] for node in nodes}
    for node in ops:
        for x in node.inputs:
            users[id(x)].append(node)
    needs = [n for n in nodes if n.requires_grad and n is not root]
    if not any(len(users[id(n)]) > 1 for n in needs):
        return hint(
            exercise,
            "no value of your graph is used twice: let one feed two operations, so that a node "
            "has to collect more than one gradient",
        )
    unnamed_leaves = [n for n in needs if n.op is None and not n.name]
    if unnamed_leaves:
        return hint(exercise, "give every input that needs a gradient a name (name=...)")
    named = {n.name: n for n in needs if n.name}
    twice = sorted({n.name for n in needs if n.name and named[n.name] is not n})
    if twice:
        return hint(
            exercise,
            f"two nodes of your graph are named {', '.join(twice)}: give each node its own name, "
            "so that each gradient in grads belongs to one node",
        )
    if root.name and root.name not in named and root.name in grads:  # dL/dL, given unasked
        seed = np.asarray(getattr(grads[root.name], "data", grads[root.name]))
        if seed.size != 1 or not np.isclose(seed.astype(float).item(), 1.0):
            return hint(
                exercise,
                f"dL/d{root.name} is where the backward pass starts: by how much does "
                f"{root.name} move when {root.name} itself moves by 1?",
            )
        grads = {name: g for name, g in grads.items() if name != root.name}
    missing = sorted(set(named) - set(grads))
    if missing:
        return hint(exercise, f"grads has no entry for {', '.join(missing)}: give every named node")
    unknown = sorted(set(grads) - set(named))
    constants = sorted({str(n.name) for n in nodes if n.name in unknown and not n.requires_grad})
    if constants:
        return hint(
            exercise,
            f"{', '.join(constants)} in your graph need{'s' if len(constants) == 1 else ''} no "
            "gradient (requires_grad is False): "
            "leave it out of grads, or make it with requires_grad=True if you want its gradient",
        )
    if unknown:
        return hint(
            exercise, f"no node that needs a gradient is named {', '.join(map(str, unknown))}"
        )
    try:
        mine = {
            name: np.asarray(getattr(g, "data", g), dtype=float).item() for name, g in grads.items()
        }
    except (TypeError, ValueError):
        return hint(exercise, "each entry of grads should be one number")
    want = {name: _slope_at(nodes, root, node) for name, node in named.items()}
    wrong = [
        (name, n)
        for name, n in named.items()
        if not np.isclose(mine[name], want[name], rtol=1e-5, atol=1e-6)
    ]
    if not wrong:
        return correct(
            exercise,
            f"all {len(named)} gradients of your {len(ops)}-operation graph are right.",
        )
    # the wrong one closest to L: where it went wrong
    name, first = max(wrong, key=lambda pair: pair[1].seq)
    got, right = mine[name], want[name]
    if np.isclose(got, -right, rtol=1e-5, atol=1e-6):
        return hint(exercise, f"dL/d{name} has the wrong sign")
    consumers = users[id(first)]
    if len(consumers) > 1:
        return hint(
            exercise,
            f"dL/d{name} is off, and {name} feeds {len(consumers)} operations: it receives a "
            "gradient from each of them",
        )
    return hint(
        exercise,
        f"dL/d{name} is the wrong gradient closest to L (the ones after it are right): check "
        f"the upstream gradient {name} receives and the local gradient it is multiplied by",
    )


# ------------------------------------------------------------------------ product_backward
def check_product_backward(fn: Callable[[np.ndarray, list], list]) -> Feedback:
    """Check ``fn(upstream, inputs)`` = [dL/dx1, ..., dL/dxn] for a node out = x1 * ... * xn,
    with 1 to 5 inputs, zeros among them and one array at two positions (``_product.py``)."""
    return _by_the_engine("product_backward", fn) or _product.check(fn)
