"""A number that was right when it was made and changed later, in place: an op's forward that
writes into its input, a vjp that writes into the output (or input) it kept, or into the
upstream gradient it was given. ``_compare`` asks these when a value or gradient is off, before
its other hints (which would blame the op's rule or the seed); they run small programs through
``mygrad.run``, so the grader's stand-in engine hears the same. ``_vjp_keeps_its_arrays`` checks
notebook 03's vjps the same way with the learner's own tensors, before there is a backward()."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .. import close, hint
from ._calls import _arrays, _call, _Stop
from ._programs import _Program, _reference

_LAYERS = ("Linear", "MLP", "Residual")


def _right_at(exercise: str, engine: ModuleType, program: _Program, k: int, how: str) -> bool:
    """Whether tensor ``k`` of ``program`` run ``how`` ("forward" or "backward") has its right
    value (the reference from that run's own layer parameters)."""
    try:
        values = _arrays(exercise, _call(exercise, engine.run, program.steps, program.inputs,
                                         how)[0], "a value")  # fmt: skip
    except (_Stop, TypeError, IndexError):
        return False
    if k >= len(values) or values[k] is None:
        return False
    want = _reference(program, values)[0][k]
    return values[k].shape == want.shape and close(values[k], want, rtol=1e-6, atol=1e-9)


def _value_changed_later(exercise: str, engine: ModuleType, program: _Program, k: int) -> str:
    """Why the value of tensor ``k`` is off after backward(), when it was right before: a vjp
    changed it, or a later op's forward did. "" when it is not so."""
    who = program.names[k]
    if _right_at(exercise, engine, program, k, "forward"):
        return (
            f"the value of {who} is right after the forward pass, but backward() changed it: a "
            "vjp changed an array it kept from the forward pass (the node's output, or an "
            "input) in place; a vjp leaves them as they are and makes new arrays"
        )
    if program.step_of[k] is None:  # an input: the hint that follows says an op changed it
        return ""
    for i in range(len(program.steps)):
        shorter = _Program(program.inputs, program.steps[: i + 1])
        if len(shorter.names) == k + 1:  # the program that stops at k's own step
            if _right_at(exercise, engine, shorter, k, "forward"):
                return (
                    f"the value of {who} is right when it is made, but a later op changed it: "
                    "an op changed its input in place; an op leaves its inputs as they are and "
                    "makes a new array for its output"
                )
            break
    return ""


def _upstream_changed(exercise: str, engine: ModuleType, program: _Program, values: list) -> str:
    """Whether the vjp of one of ``program``'s ops changes the upstream gradient it receives:
    each op alone, on fresh leaves holding the values it met (``values``), backward() from a
    gradient that is not ones; its inputs get their right gradients, but the output's .grad,
    the very array the vjp was handed, is no longer that gradient. "" when none does."""
    seen = set()
    for name, *args, settings in program.steps:
        key = (name, *(type(a) is int for a in args), repr(settings))
        if name in _LAYERS or key in seen:
            continue
        seen.add(key)
        tensors = [a for a in args if type(a) is int]  # each its own leaf: no fan-out here
        leaves = iter(range(len(tensors)))
        step = (name, *[next(leaves) if type(a) is int else a for a in args], settings)
        one = _Program([np.array(values[a], dtype=np.float64) for a in tensors], [step])
        try:
            shape = np.shape(_reference(one, [])[0][-1])
            seed = np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape)
            want = _reference(one, [], seed)[1]
            got = _call(exercise, engine.run, one.steps, one.inputs, "backward", seed)[1]
            got = _arrays(exercise, got, "a gradient")
        except (_Stop, TypeError, ValueError, IndexError):
            continue
        if len(got) != len(want) or got[-1] is None or np.shape(got[-1]) != shape:
            continue
        inputs_right = all(
            g is not None and g.shape == np.shape(w) and close(g, w, rtol=1e-6, atol=1e-9)
            for g, w in zip(got[:-1], want[:-1])
        )
        if inputs_right and not close(got[-1], seed, rtol=1e-6, atol=1e-9):
            expr = one.names[-1].split(" = ")[1]
            return (
                f"the vjp of {expr} changed the upstream gradient it was given, in place: that "
                "array is the output's own .grad (and + hands the same array on to both its "
                "inputs); a vjp leaves it as it is and makes new arrays"
            )
    return ""


def _own_op_keeps_its_arrays(
    exercise: str, engine: ModuleType, own_op: str, x: np.ndarray, out: np.ndarray, slope: Any
) -> None:
    """The learner's own op alone, backward() from a gradient that is not ones: its output's
    value and .grad (the upstream gradient its vjp was handed) stay as they were. ``out`` is its
    forward value at ``x``, ``slope`` its Jacobian by central differences."""
    seed = np.linspace(0.5, 1.5, out.size).reshape(out.shape)
    values, grads, _ = _call(exercise, engine.run, [(own_op, 0, {})], [x], "backward", seed)
    values, grads = _arrays(exercise, values, "a value"), _arrays(exercise, grads, "a gradient")
    if len(values) == 2 and values[1] is not None and not close(values[1], out):
        raise _Stop(
            hint(
                exercise,
                f"the vjp of {own_op} changed its output in place (the array the "
                "forward pass made): a vjp leaves it as it is and makes new arrays",
            )  # fmt: skip
        )
    right = bool(grads) and grads[0] is not None and close(grads[0], seed.ravel() @ slope, 1e-4)
    if right and len(grads) == 2 and grads[1] is not None and not close(grads[1], seed):
        raise _Stop(
            hint(
                exercise,
                f"the vjp of {own_op} changed the upstream gradient it was given, "
                "in place: that array is the output's own .grad; a vjp leaves it as it is "
                "and makes new arrays",
            )  # fmt: skip
        )


def _vjp_keeps_its_arrays(exercise: str, engine: ModuleType, name: str) -> None:
    """Notebook 03's ``+`` or ``*`` (``name``) made with the learner's Tensor class, its vjp called
    directly: the upstream gradient, the output and the inputs stay as they were. Only in the
    learner's own process (the grader's engine is a stand-in that answers with data; there,
    notebook 04's checks find it through backward())."""
    tensor = getattr(engine, "Tensor", None) if isinstance(engine, ModuleType) else None
    if not isinstance(tensor, type):
        return
    x, y, g = np.array([1.5, -0.5, 2.0]), np.array([0.75, 2.0, -1.25]), np.array([0.5, 2.0, 1.5])

    def vjp_of_one_node() -> tuple:
        a, b = tensor(x.copy(), requires_grad=True), tensor(y.copy(), requires_grad=True)
        out = a + b if name == "add" else a * b
        kept = np.array(out.data, dtype=np.float64)
        upstream = g.copy()
        out.vjp(upstream)
        return upstream, kept, out.data, a.data, b.data

    upstream, kept, out, a, b = _call(exercise, vjp_of_one_node)
    symbol = "+" if name == "add" else "*"
    if not close(upstream, g, rtol=0, atol=0):
        raise _Stop(
            hint(
                exercise,
                f"the vjp of x {symbol} y changed the upstream gradient it was "
                "given, in place: that array is the output's own .grad; a vjp leaves it as "
                "it is and makes new arrays",
            )  # fmt: skip
        )
    if not (close(out, kept, rtol=0, atol=0) and close(a, x, rtol=0, atol=0)
            and close(b, y, rtol=0, atol=0)):  # fmt: skip
        raise _Stop(
            hint(
                exercise,
                f"the vjp of x {symbol} y changed its output or an input in place: "
                "a vjp leaves them as they are and makes new arrays",
            )  # fmt: skip
        )
