"""Running a program on the learner's engine and on the package, and stopping at the first
difference: a value (in forward order), toposort's order, a gradient (in backward order)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .. import close, hint
from ._calls import _arrays, _call, _Stop
from ._hints import _grad_hint, _shared_hint, _value_hint
from ._in_place import _upstream_changed, _value_changed_later
from ._programs import _Program, _reference


def _compare(exercise: str, engine: ModuleType, program: _Program, check_order: bool) -> None:
    """Run ``program`` on the learner's engine and on the package; stop at the first
    difference: a value (in forward order), the order, a gradient (in backward order)."""
    result = _call(exercise, engine.run, program.steps, program.inputs, "backward")
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise _Stop(hint(exercise, "mygrad.run must answer (values, gradients, order)"))
    values = _arrays(exercise, result[0], "a value")
    grads = _arrays(exercise, result[1], "a gradient")
    if len(values) != len(program.names):
        raise _Stop(
            hint(
                exercise,
                f"mygrad.run made {len(values)} tensors for a program of "
                f"{len(program.names)}: check parameters()",
            )
        )
    want_values, want_grads, sent = _reference(program, values)
    wants = [np.zeros_like(v) if w is None else w for v, w in zip(want_values, want_grads)]
    for k, (got, want) in enumerate(zip(values, want_values)):
        if got is None or got.shape != want.shape:
            shape = None if got is None else got.shape
            raise _Stop(hint(exercise, f"{program.names[k]} has shape {shape}, not {want.shape}"))
        if not close(got, want, rtol=1e-6, atol=1e-9):  # (right when made? changed in place)
            later = _value_changed_later(exercise, engine, program, k)
            raise _Stop(hint(exercise, later or _value_hint(program, k, got, want)))
    if check_order:
        _check_order(exercise, program, result[2])
    for k in reversed(range(len(want_grads))):
        got = grads[k] if k < len(grads) else None
        want = wants[k]
        if got is None:
            got_ok = not np.any(want)
        else:
            got_ok = got.shape == want.shape and close(got, want, rtol=1e-6, atol=1e-9)
        if not got_ok:
            changed = _upstream_changed(exercise, engine, program, values)  # by a vjp
            shared = "" if got is None else _shared_hint(program, k, got, grads, wants)
            message = changed or shared or _grad_hint(program, k, got, want, grads, sent, values[k])
            raise _Stop(hint(exercise, message))


def _check_order(exercise: str, program: _Program, order: Any) -> None:
    """toposort's answer: every node the output depends on, each after its inputs."""
    try:
        order = [int(k) for k in order]
    except (TypeError, ValueError):
        raise _Stop(hint(exercise, "toposort should return a list of tensors")) from None
    needed = {len(program.names) - 1}
    for k in reversed(range(len(program.names))):
        step = program.step_of[k]
        if k in needed and step is not None:
            needed |= {a for a in step[1:] if type(a) is int}
    missing = sorted(needed - set(order))
    if missing:
        raise _Stop(
            hint(
                exercise,
                f"toposort left out {program.label(missing[0])}, which the "
                "output depends on: follow the inputs of every node found",
            )
        )
    if len(order) != len(set(order)) and -1 not in order:
        raise _Stop(hint(exercise, "toposort lists a tensor twice: remember the ones you found"))
    place = {k: i for i, k in enumerate(order) if k >= 0}
    for k in needed:
        for a in [a for a in (program.step_of[k] or ())[1:] if type(a) is int]:
            if place[a] > place[k]:
                raise _Stop(
                    hint(
                        exercise,
                        f"toposort puts {program.label(k)} before its input "
                        f"{program.label(a)}: inputs must come first",
                    )
                )


def _forward_only(exercise: str, engine: ModuleType, program: _Program) -> list:
    result = _call(exercise, engine.run, program.steps, program.inputs, "forward")
    values = _arrays(exercise, result[0], "a value")
    want, _, _ = _reference(program, values)
    for k, (got, w) in enumerate(zip(values, want)):
        if got is None or got.shape != w.shape or not close(got, w, rtol=1e-6, atol=1e-9):
            raise _Stop(hint(exercise, _value_hint(program, k, got, w)))
    return values
