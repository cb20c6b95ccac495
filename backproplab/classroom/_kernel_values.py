"""The check's values in a student's kernel that are more than plain data (_kernel_side.py calls
the student's function on them; _returned.py is the grader's side of the same values).

A check hands the student's function Tensors, sent as a table of nodes: ``_rebuild`` makes them
again with the same creation numbers, a stand-in for each op (its name only). It may hand over a
function of its own: a ``_Remote`` stands for it, and calling it asks the grader to run it (over
stdin); what the grader's function raised is raised here as the notebook would meet it
(``_grader_error``). A Tensor the student's function makes goes back with ``_jacobians``, its
gradients with respect to the check's leaves, so that ``backward()`` works on it in the grader.
"""

from __future__ import annotations

import builtins
import contextlib
import sys
from typing import Any

import numpy as np

from . import _wire as wire

CALLBACK_PROMPT = "backproplab-callback:"
MAX_JACOBIAN = 4096  # output entries: a larger Tensor result is sent without its gradients


class _Remote:
    """A function of the grader's: calling it asks the grader (over stdin) to run it."""

    def __init__(self, number: int) -> None:
        self.number = number

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        profiler = sys.getprofile()
        sys.setprofile(None)  # the round trip is the grader's, not the student's
        try:
            encode = wire.Encoder()
            request = {"call": self.number, "args": encode(args), "kwargs": encode(kwargs)}
            reply = wire.loads(input(CALLBACK_PROMPT + wire.dumps(request)))
            if "error" in reply:
                raise _grader_error(reply)
            return wire.Decoder()(reply["ok"])
        finally:
            sys.setprofile(profiler)


def _grader_error(reply: dict) -> Exception:
    """The exception the grader's function raised, as the student's code meets it in the
    notebook: its builtin class (an ``except ValueError`` catches it), or for a class of its own
    a subclass of that name of the builtin it derives from (ShapeError, a ValueError), with its
    words; a RuntimeError naming it when no builtin class takes its words alone."""
    name, words = str(reply.get("error_type", "Exception")), str(reply["error"])
    base = getattr(builtins, str(reply.get("error_base", "")), None)
    if name.isidentifier() and isinstance(base, type) and issubclass(base, Exception):
        made = base if base.__name__ == name else type(name, (base,), {"__module__": "grader"})
        with contextlib.suppress(TypeError):  # UnicodeDecodeError: more than words to make one
            return made(words)
    return RuntimeError(f"{name}: {words}")


def _rebuild(nodes: list[dict]) -> list:
    """Tensors from the grader's node table (inputs listed before the nodes using them)."""
    from ..tensor import Tensor

    class _OpName:  # enough of an op for code that walks a graph
        def __init__(self, name: str) -> None:
            self.name = name

        def __repr__(self) -> str:
            return f"Op({self.name!r})"

    built: list = []
    for node in nodes:
        t = Tensor(wire.array_from_text(node["data"]), requires_grad=node["rg"], name=node["name"])
        t.seq = node["seq"]  # the same creation numbers as the check's graph
        if node["op"] is not None:
            t.op = _OpName(node["op"])  # type: ignore[assignment]  # a stand-in: its name only
            t.inputs = tuple(built[i] for i in node["inputs"])
        built.append(t)
    return built


def _graph(root) -> list:
    """Every tensor ``root`` depends on (itself included), without recursion."""
    seen, stack, out = {id(root)}, [root], []
    while stack:
        t = stack.pop()
        out.append(t)
        for parent in getattr(t, "inputs", ()):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return out


def _jacobians(t, leaves: list[tuple[int, Any]]) -> dict[str, str] | None:
    """d t / d leaf (rows: t's entries) for each (node index, leaf) t's graph reaches, by one
    backward() per entry of t."""
    if t.op is None or t.data.size > MAX_JACOBIAN:
        return None
    graph = _graph(t)
    inside = {id(n) for n in graph}
    reached = [(i, leaf) for i, leaf in leaves if id(leaf) in inside]
    rows: dict[int, list] = {i: [] for i, _ in reached}
    for k in range(t.data.size):
        for node in graph:
            node.grad = None
        seed = np.zeros(t.data.size)
        seed[k] = 1.0
        t.backward(seed.reshape(t.data.shape))
        for i, leaf in reached:
            grad = leaf.grad if leaf.grad is not None else np.zeros(leaf.data.shape)
            rows[i].append(np.asarray(grad, dtype=np.float64).ravel())
    for node in graph:
        node.grad = None
    return {str(i): wire.array_to_text(np.array(r)) for i, r in rows.items()}
