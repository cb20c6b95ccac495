"""Notebook 04's ``topo_order`` check, its graphs and its verdict: whether a learner's list is a
topological order of a graph's nodes that need a gradient, and if not, which mistake made it.

The verdict tells apart a list of something other than the tensors (names, ids, stack entries),
tensors of another graph (the notebook's own ``L``, copies), constants, a missing root, missing
leaves, missing nodes made by an op, a node twice and a node before its input; ``snapshot``
catches a function that changed the graph it walked, ``deepest_call`` one that recursed (even
with the recursion limit raised).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autodiff import toposort
from ..tensor import Tensor
from ._draws import check_rng
from ._reading import RemoteFunction


def graphs_for_order() -> list[tuple[str, Tensor]]:
    """Graphs with fan-out and a constant, and a chain deeper than Python's recursion limit."""
    x = Tensor(2.0, requires_grad=True, name="x")
    y = Tensor(3.0, requires_grad=True, name="y")
    u = Tensor(-1.0, requires_grad=True, name="u")
    v = Tensor(0.5, requires_grad=True, name="v")
    # x and u each feed two nodes, once as the first input of a mul and once as the second: a
    # search that marks a node visited when it is pushed (not when it is expanded) appends the
    # mul before x (or before u), whichever order it pushes a node's inputs in
    fan_out = x * (x + y) + (u + v) * u

    a = Tensor(0.5, requires_grad=True, name="a")
    b = a * 2.0  # 2.0 becomes a constant leaf (requires_grad=False)
    diamond = b.exp() * b.tanh() + a

    c = Tensor(1.0, requires_grad=True, name="c")
    chain = c
    for _ in range(1500):  # deeper than sys.getrecursionlimit() == 1000
        chain = chain * 1.0
    graphs = [
        ("x (x + y) + (u + v) u", fan_out),
        ("exp(2a) * tanh(2a) + a", diamond),
        ("a 1500-deep chain", chain),
    ]
    shuffle = check_rng(4)  # made-up creation numbers: the order must come from the
    for _, root in graphs:  # edges alone
        nodes = toposort(root)
        for t, number in zip(nodes, shuffle.permutation(len(nodes))):
            t.seq = int(number)
        root.seq = -1  # sorting by these numbers puts the root first: never a valid order
    return graphs


def _every_node(root: Tensor) -> list[Tensor]:
    """Every node ``root`` depends on, constants included, found by the check's own walk."""
    seen = {id(root): root}
    frontier = [root]
    while frontier:
        node = frontier.pop()
        for parent in node.inputs:
            if id(parent) not in seen:
                seen[id(parent)] = parent
                frontier.append(parent)
    return list(seen.values())


def snapshot(root: Tensor) -> list[tuple]:
    """What a walk must leave as it was: each node's inputs, op, flag, number and arrays."""
    nodes = _every_node(root)
    return [(id(t), [id(p) for p in t.inputs], t.op, t.requires_grad, t.seq) for t in nodes] + [
        (id(t.data), id(t.grad)) for t in nodes
    ]


def deepest_call(fn: Callable[..., Any], *args: Any) -> tuple[Any, int]:
    """``fn(*args)`` and the deepest nesting of Python calls it reached: a recursive walk of a
    1500-deep chain nests about 1500 calls, whatever the recursion limit (an exception from
    ``fn`` propagates). A student's function in the grader runs in their kernel, which counts
    its calls (``RemoteFunction.deepest``): they nest from where it was called here."""
    depth, deepest = 0, 0
    remote = [a for a in (fn, *args) if isinstance(a, RemoteFunction)]
    called_at = []  # the depth at which each call of a function in the kernel began, here
    previous = sys.getprofile()

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal depth, deepest
        if event == "call":
            depth += 1
            deepest = max(deepest, depth)
            if remote and isinstance(frame.f_locals.get("self"), RemoteFunction):
                called_at.append(depth)
        elif event == "return":
            depth -= 1

    sys.setprofile(profile)
    try:
        result = fn(*args)
    finally:
        sys.setprofile(previous)
        if remote and called_at:  # (its own frame is the kernel's first call)
            there = max(getattr(a, "deepest", 0) for a in remote)
            deepest = max(deepest, min(called_at) - 1 + there)
    return result, deepest


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def judge_order(name: str, root: Tensor, order: object) -> str | None:
    """None when ``order`` is a valid topological order of ``root``'s graph, else a hint."""
    if not isinstance(order, (list, tuple)):
        return f"return a list of tensors; for the graph {name} you returned {type(order).__name__}"
    others = [item for item in order if not isinstance(item, Tensor)]
    if others:
        what = "None" if others[0] is None else f"{type(others[0]).__name__} objects"
        return (
            f"for the graph {name} your list holds {what} where nodes should be: put the "
            "tensors themselves in the list, not their names, ids, values or the entries of "
            "your stack"
        )
    ids = [id(t) for t in order]
    if len(set(ids)) != len(ids):
        return (
            f"for the graph {name} a node appears more than once: remember which nodes you have "
            "already visited"
        )
    every = {id(t): t for t in _every_node(root)}
    if set(ids) - set(every):
        return (
            f"for the graph {name} your order holds tensors that are not nodes of the graph your "
            "function was given (tensors of another graph, or copies): walk from the root it "
            "receives, and put those very tensors in the list"
        )
    wanted = {i for i, t in every.items() if t.requires_grad}
    if set(ids) - wanted:
        return (
            f"for the graph {name} your order contains tensors that need no gradient "
            "(constants with requires_grad=False): leave them out"
        )
    missing = [every[i] for i in every if i in wanted - set(ids)]
    if missing:
        have = (
            f"for the graph {name} your order has {len(set(ids))} of the {len(wanted)} nodes "
            "that need a gradient:"
        )
        return f"{have} {_what_is_missing(root, missing, order)}"
    position = {i: k for k, i in enumerate(ids)}
    for t in order:
        for parent in t.inputs:
            if parent.requires_grad and position[id(parent)] > position[id(t)]:
                if ids == [id(t) for t in sorted(order, key=lambda t: t.seq)]:
                    return (
                        f"for the graph {name} your order follows the tensors' creation numbers "
                        "(seq); the check makes those up on purpose: build the order from the "
                        "nodes' inputs alone"
                    )
                return (
                    f"for the graph {name} a node comes before one of its inputs: append a node "
                    "only after all of its inputs are in the list"
                )
    return None


def _what_is_missing(root: Tensor, missing: list[Tensor], order: list | tuple) -> str:
    """Which nodes a list leaves out, in words: the root, the leaves (by name), the nodes made
    by an operation, or nodes taken for others of the same value."""
    if len(missing) == 1 and missing[0] is root:
        return "the root itself is missing, and it comes last"
    lookalike = [t for t in missing if any(np.array_equal(t.data, o.data) for o in order)]
    named = _listed([t.name for t in missing if t.name]) if any(t.name for t in missing) else ""
    if len(lookalike) == len(missing):
        return (
            f"the missing nodes{f' ({named})' if named else ''} each have the same value as a "
            "node in your order: two tensors equal in value are still two different nodes"
        )
    if all(t.op is None for t in missing):
        return (
            f"the leaves{f' ({named})' if named else ''} are missing; a leaf (a tensor no "
            "operation made) with requires_grad=True needs a gradient too"
        )
    if all(t.op is None for t in order):
        return (
            "only leaves are in it: the nodes made by an operation, the root among them, need "
            "a gradient too"
        )
    root_too = ", the root among them" if any(t is root for t in missing) else ""
    return f"{len(missing)} nodes are missing{root_too}: follow every node's inputs"
