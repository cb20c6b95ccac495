"""The check of notebook 04's step, the engine itself: each op's vjp on its own, then backward
on graphs (fan-out, the order of the nodes, a chain deeper than the recursion limit, two passes
on one graph, a given seed); and the helpers later steps share (a vjp's gradients, two passes
through a vjp that must leave what it kept unchanged)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .. import close, hint
from .._draws import check_rng
from ._calls import _arrays, _call, _Stop
from ._compare import _compare
from ._hints import _local_hint
from ._own_process import _grad_only_where_required, _visits_each_once
from ._programs import _inputs, _Program, _random_steps, _reference


def _vjp_grads(exercise: str, engine: ModuleType, program: _Program, g: np.ndarray) -> list:
    """The gradients the vjp of ``program``'s one step returns for the upstream gradient ``g``,
    one per input of the step (checked: a tuple of that many arrays)."""
    n = sum(type(a) is int for a in program.steps[0][1:])
    grads = _call(exercise, engine.run, program.steps, program.inputs, "vjp", g)[1]
    grads = _arrays(exercise, grads, "a gradient")
    if len(grads) != n:
        expr = program.names[-1].split(" = ")[1]
        one = len(grads) == g.size and all(a is not None and a.ndim == 0 for a in grads)
        returned = "one array, not a tuple" if one else f"{len(grads)}"
        many = "two gradients, one per input" if n == 2 else "a tuple of one gradient"
        raise _Stop(
            hint(exercise, f"the vjp of {expr} should return {many}; yours returned {returned}")
        )
    return grads


# each op of step 04 on its own, for _vjp_alone: (name in the table, steps)
_ALONE: dict[str, tuple[str, list[tuple]]] = {
    "add": ("add", [("add", 0, 1, {})]),
    "mul": ("mul", [("mul", 0, 1, {})]),
    "sub": ("sub", [("sub", 0, 1, {})]),
    "truediv": ("truediv", [("truediv", 0, 1, {})]),
    "pow": ("pow", [("pow", 0, 3.0, {})]),
    "rpow": ("pow", [("pow", 2.0, 0, {})]),
}


def _vjp_alone(exercise: str, engine: ModuleType, rng: np.random.Generator, op: str) -> None:
    """The vjp of one op called directly with an upstream gradient that is not 1: the gradient of
    each input, before any graph (so that a wrong rule is named by its op and input)."""
    name, steps = _ALONE[op]
    n = sum(type(a) is int for a in steps[0][1:])
    program = _Program(_inputs(rng, [(4,)] * n, low=-1), steps)
    if op == "pow":  # x ** 3 at x = 0, where its slope is 0: a rule p * out / x gives 0/0 there
        program.inputs[0][1] = 0.0
    g = rng.uniform(0.5, 2, size=4)
    with np.errstate(divide="ignore", invalid="ignore"):  # a 0/0 gets a hint below
        grads = _vjp_grads(exercise, engine, program, g)
    want = _reference(program, [], g)[1][:n]
    expr = program.names[-1].split(" = ")[1]
    for j, (got, w) in enumerate(zip(grads, want)):
        if _same(got, w):
            continue
        head = f"the gradient of x{j} in {expr} is off"
        if got is not None and got.shape == w.shape and not np.all(np.isfinite(got)):
            at = ", ".join(f"{v:g}" for v in program.inputs[j][~np.isfinite(got)])
            if op == "rpow" and np.all(program.inputs[j][~np.isfinite(got)] < 0):
                raise _Stop(  # the log of the exponent x, not of the base: nan where x < 0
                    hint(
                        exercise,
                        f"{head}: at x{j} = {at} it is not a number (nan), yet {expr} has a "
                        "finite slope there: a log of x, which is negative there? In base ** x "
                        "the base is the number, x the exponent",
                    )
                )
            raise _Stop(
                hint(
                    exercise,
                    f"{head}: at x{j} = {at} it is not a number (nan or inf), yet {expr} has a "
                    "finite slope there: does your rule divide by x? Write it without the "
                    "division",
                )
            )
        if _built_from_other_ops(exercise, engine, program):
            raise _Stop(
                hint(
                    exercise,
                    f"your {expr} is built from other ops: the tensor it returns was not made "
                    "from its inputs by one node, so its vjp gives gradients for the tensors in "
                    "between. Here each op returns one node(values, inputs, vjp), like + and *, "
                    "with a vjp of its own that gives one gradient per input of the op",
                )
            )
        if got is None or got.shape != w.shape:
            shape = None if got is None else got.shape
            message = f"it has shape {shape}, but x{j} has shape {w.shape}"
        elif close(got, -w):
            message = "right size, wrong sign"
        elif close(got * g, w):
            message = "it is the local gradient alone; multiply it by the upstream gradient"
        else:
            role = "right" if op == "rpow" or (n == 2 and j == 1) else "left"
            message = _local_hint(name, role, got, w, g, None)
        raise _Stop(hint(exercise, f"{head}: {message}"))


def _inputs_kept(exercise: str, engine: ModuleType, op: str) -> None:
    """backward() on x0 op x1 alone: toposort from the result finds both inputs, unless the node
    does not keep one of them among its inputs (``(self, self)``, say); then the fault is the
    op's, not toposort's, which finds the other input. Any other failure: the checks after this
    one name it."""
    program = _Program([np.array([1.5, -0.5]), np.array([0.75, 2.0])], [(op, 0, 1, {})])
    try:
        result = _call(exercise, engine.run, program.steps, program.inputs, "backward")
        order = [int(k) for k in result[2]]
    except (_Stop, TypeError, ValueError, IndexError):
        return
    missing = [j for j in (0, 1) if j not in order]
    if 2 in order and len(missing) == 1:
        expr = program.names[-1].split(" = ")[1]
        raise _Stop(
            hint(
                exercise,
                f"the node of {expr} does not keep x{missing[0]} among its inputs, so toposort, "
                "which follows the inputs, cannot find it, and no gradient reaches it: a node "
                "keeps both tensors it was made from, in the order of its vjp's gradients",
            )
        )
    try:  # both kept, but in the other order than the vjp's gradients: each gets the other's
        grads = _arrays(exercise, result[1], "a gradient")[:2]
        ones = np.ones(2)
        sent = _call(exercise, engine.run, program.steps, program.inputs, "vjp", ones)[1]
        sent = _arrays(exercise, sent, "a gradient")
    except (_Stop, TypeError, ValueError, IndexError):
        return
    if len(grads) == len(sent) == 2 and all(_same(a, b) for a, b in zip(grads, sent[::-1])):
        if not all(_same(a, b) for a, b in zip(grads, sent)):
            expr = program.names[-1].split(" = ")[1]
            raise _Stop(
                hint(
                    exercise,
                    f"in {expr}, each input got the gradient its vjp gives the other "
                    "one: the node keeps its inputs in the other order than its vjp's gradients",
                )
            )


def _built_from_other_ops(exercise: str, engine: ModuleType, program: _Program) -> bool:
    """True when ``program``'s one op, run backward on the learner's engine, made tensors of its
    own between its inputs and its result (toposort lists a tensor the program did not make): a
    composite such as ``self + (-other)``, whose returned node's vjp belongs to its last op."""
    try:
        result = _call(exercise, engine.run, program.steps, program.inputs, "backward")
        return -1 in [int(k) for k in result[2]]
    except (_Stop, TypeError, ValueError, IndexError):  # another mistake: the usual hint
        return False


def _step_04(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = check_rng(4)
    ops = ["add", "sub", "mul", "truediv", "pow", "rpow"]
    try:  # part 1 first: a stub of backward or toposort is named before the ops of part 2
        _call(exercise, engine.run, [("add", 0, 0, {})], [np.ones(2)], "backward")
    except _Stop as stop:
        if stop.feedback.status == "not done":
            raise
    for op in ("add", "mul", "sub", "truediv"):
        _inputs_kept(exercise, engine, op)
    for op in ops:
        _vjp_alone(exercise, engine, rng, op)
    try:
        _graphs_04(exercise, engine, rng, ops)
    except _Stop as stop:
        head, alone, _ = stop.feedback.message.partition(": it is the local gradient alone")
        if not alone:
            raise
        raise _Stop(
            hint(
                exercise,
                f"{head}: it is the local gradient alone, yet every op's vjp is right when "
                "called on its own: backward must call each node's vjp with that node's own "
                "gradient (the upstream gradient)",
            )
        ) from None


def _graphs_04(exercise: str, engine: ModuleType, rng: np.random.Generator, ops: list) -> None:
    """Step 04's graphs: fan-out, deep chains, two passes, a given seed."""
    fixed: list[list[tuple]] = [  # the typical slips, one op at a time, each with fan-out
        [("mul", 0, 0, {}), ("add", 2, 0, {}), ("mul", 3, 1, {})],
        [("sub", 0, 1, {}), ("sub", 1, 2, {}), ("mul", 3, 0, {})],
        [("truediv", 0, 1, {}), ("truediv", 3.0, 1, {}), ("add", 2, 3, {}), ("mul", 4, 0, {})],
        [("pow", 0, 3.0, {}), ("pow", 2.0, 1, {}), ("mul", 2, 3, {})],
    ]
    for steps in fixed:
        _compare(exercise, engine, _Program(_inputs(rng, [()] * 2), steps), check_order=True)
    _adds_in_place(exercise, engine, rng)
    _consumers_first(exercise, engine, rng)
    for _ in range(6):
        steps = _random_steps(rng, 3, ops, 7)
        _compare(exercise, engine, _Program(_inputs(rng, [(3,)] * 3), steps), check_order=True)
    _deep_chain(exercise, engine, rng)
    _backward_twice(exercise, engine, rng)
    _given_seed(exercise, engine, rng)
    _leaf_root(exercise, engine, rng)
    _grad_only_where_required(exercise, engine)
    _visits_each_once(exercise, engine)


def _consumers_first(exercise: str, engine: ModuleType, rng: np.random.Generator) -> None:
    """v2 = x0 * x1 feeds the output v5 directly and through v3 and v4. Its gradient is complete
    only after all three have sent theirs: a backward that visits nodes by their distance from
    the output (breadth first) passes v2's on too early, and only the inputs' gradients show it
    (v2's own ends up right)."""
    steps: list[tuple] = [
        ("mul", 0, 1, {}),
        ("add", 2, 0, {}),
        ("mul", 3, 1, {}),
        ("mul", 4, 2, {}),
    ]
    program = _Program(_inputs(rng, [(3,)] * 2), steps)
    result = _call(exercise, engine.run, program.steps, program.inputs, "backward")
    if isinstance(result, (tuple, list)) and len(result) == 3:  # else _compare says what is wrong
        grads = _arrays(exercise, result[1], "a gradient")
        want = _reference(program, [])[1]
        fine = [
            k < len(grads) and grads[k] is not None and grads[k].shape == w.shape
            and close(grads[k], w)
            for k, w in enumerate(want)
        ]  # fmt: skip
        if all(fine[2:]) and not all(fine[:2]):
            raise _Stop(
                hint(
                    exercise,
                    "in v5 = v2 * v4 with v4 made from v2, every node's gradient is right but "
                    "the inputs' are not: v2 passed its gradient on before v3 and v4 had sent "
                    "theirs. Visit a node only after every node that uses it (toposort's "
                    "order, from the output back)",
                )
            )
    _compare(exercise, engine, program, check_order=True)


def _deep_chain(exercise: str, engine: ModuleType, rng: np.random.Generator) -> None:
    """A chain of 2,500 ops: deeper than Python's recursion limit (1,000 by default), which a
    toposort or backward that calls itself runs into."""
    steps: list[tuple] = [("add", k, 0.001, {}) for k in range(2500)]
    try:
        _compare(exercise, engine, _Program(_inputs(rng, [(3,)]), steps), check_order=True)
    except _Stop as stop:
        if "RecursionError" not in stop.feedback.message:
            raise
        raise _Stop(
            hint(
                exercise,
                "on a chain of 2,500 ops your engine went deeper than Python's recursion "
                "limit: walk the graph without recursion, keeping the tensors still to visit "
                "in a list of your own (section 3)",
            )
        ) from None


def _same(got: np.ndarray | None, want: np.ndarray) -> bool:
    """``got`` is an array of ``want``'s shape and close to it."""
    return got is not None and got.shape == want.shape and close(got, want)


def _given_seed(exercise: str, engine: ModuleType, rng: np.random.Generator) -> None:
    """backward(grad) starts from the gradient it is given (ones only when none is given)."""
    program = _Program(_inputs(rng, [(3,)] * 2), [("mul", 0, 1, {}), ("add", 2, 0, {})])
    seed = rng.uniform(0.5, 2, size=3)
    result = _call(exercise, engine.run, program.steps, program.inputs, "backward", seed)
    grads = _arrays(exercise, result[1], "a gradient")
    want, ones = _reference(program, [], seed)[1], _reference(program, [])[1]
    for k in (0, 1):
        got = grads[k] if k < len(grads) else None
        if _same(got, want[k]):
            continue
        if _same(got, ones[k]):
            message = (
                f"backward(grad) with a grad given: the gradient of x{k} is the one a grad of "
                "ones gives; backward starts from the grad it is given (ones when none is)"
            )
        else:
            message = f"backward(grad) with a grad given: the gradient of x{k} is off"
        raise _Stop(hint(exercise, message))
    # the same grad written as a list of numbers, as the package (and numpy) take it
    head = "backward(grad) with the grad given as a list of numbers"
    try:
        result = _call(
            exercise, engine.run, program.steps, program.inputs, "backward", seed.tolist()
        )
        grads = _arrays(exercise, result[1], "a gradient")
    except _Stop as stop:
        if stop.feedback.status != "hint":
            raise
        raise _Stop(
            hint(
                exercise,
                f"{head} failed ({stop.feedback.message.removeprefix('your engine ')}), while an "
                "array works: turn the grad it is given into an array of floats first, as a "
                "Tensor does with its data",
            )
        ) from None
    if not all(_same(grads[k] if k < len(grads) else None, want[k]) for k in (0, 1)):
        raise _Stop(
            hint(
                exercise,
                f"{head}: the gradients differ from those an array gives; turn the grad it is "
                "given into an array of floats first, as a Tensor does with its data",
            )
        )


def _leaf_root(exercise: str, engine: ModuleType, rng: np.random.Generator) -> None:
    """backward() on a leaf, a tensor no op made, as the package (and PyTorch) does it: the
    leaf's gradient is the seed (d x / d x = 1, times the given grad), and a second call adds
    to it, as every leaf's gradient adds up from one backward() to the next."""
    x = _inputs(rng, [(3,)], low=-1)
    seed = rng.uniform(0.5, 2, size=3)
    head = "backward() on a leaf (a tensor no op made, here x0 itself)"
    got = _arrays(exercise, _call(exercise, engine.run, [], x, "backward", seed)[1], "a gradient")
    if not got or not _same(got[0], seed):
        empty = not got or got[0] is None
        raise _Stop(
            hint(
                exercise,
                f"{head} left its gradient {'empty' if empty else 'off'}: the root's gradient "
                "is the grad given (ones when none is), also when no op made the root",
            )
        )
    got = _arrays(
        exercise, _call(exercise, engine.run, [], x, "backward twice", seed)[1], "a gradient"
    )
    if _same(got[0], seed + 1):  # backward(seed), then backward(): seed + ones
        return
    message = f"{head}, called twice: its gradient should be the sum of both passes' seeds"
    if _same(got[0], np.ones(3)):
        message += (
            "; it is the second seed alone. A leaf's gradients add up from one backward() to "
            "the next, the root's too when the root is a leaf"
        )
    raise _Stop(hint(exercise, message))


def _backward_twice(exercise: str, engine: ModuleType, rng: np.random.Generator) -> None:
    """backward() twice on one graph, as the package does it: the leaves' gradients add up
    (2 times one pass; zero_grad is what clears them), as in PyTorch; the intermediate nodes'
    gradients start fresh on each pass (1 time). (NB: PyTorch keeps no intermediate gradient
    unless asked with retain_grad(), and adds those up across passes too.)"""
    steps: list[tuple] = [
        ("mul", 0, 1, {}),
        ("add", 2, 0, {}),
        ("mul", 3, 2, {}),
        ("mul", 4, 1, {}),
    ]
    program = _Program(_inputs(rng, [(3,)] * 2), steps)
    _compare(exercise, engine, program, check_order=False)  # one pass is right
    result = _call(exercise, engine.run, program.steps, program.inputs, "backward twice")
    grads = _arrays(exercise, result[1], "a gradient")
    want = _reference(program, [])[1]
    for k in reversed(range(len(want))):
        leaf = program.step_of[k] is None
        right = 2 * want[k] if leaf else want[k]
        got = grads[k] if k < len(grads) else None
        if _same(got, right):
            continue
        head = f"after a second backward() on the same graph, the gradient of {program.label(k)}"
        if leaf and _same(got, want[k]):
            message = (
                f"{head} is that of one pass: a leaf's gradients add up from one backward() "
                "to the next (zero_grad is what clears them); only the intermediate nodes "
                "start fresh"
            )
        elif not leaf:
            message = (
                f"{head} is off: backward must first clear the gradients that the "
                "intermediate nodes kept from the earlier pass (the leaves keep theirs)"
            )
        else:
            message = f"{head} should be twice that of one pass: the two passes add up"
        raise _Stop(hint(exercise, message))


def _adds_in_place(exercise: str, engine: ModuleType, rng: np.random.Generator) -> None:
    """(x0 * x2) * (x0 + x1): the add node hands one array to both x0 and x1, and the mul node
    later adds to x0's. A backward that adds in place (``+=``) changes x1's gradient (and the add
    node's) with it; its symptom: x1's gradient is wrong and equal to x0's."""
    program = _Program(
        _inputs(rng, [(3,)] * 3), [("mul", 0, 2, {}), ("add", 0, 1, {}), ("mul", 3, 4, {})]
    )
    result = _call(exercise, engine.run, program.steps, program.inputs, "backward")
    if isinstance(result, (tuple, list)) and len(result) == 3:  # else _compare says what is wrong
        grads = _arrays(exercise, result[1], "a gradient")
        want = _reference(program, [])[1]
        x0, x1 = (list(grads) + [None, None])[:2]
        same = x0 is not None and x1 is not None and x0.shape == x1.shape == want[1].shape
        if same and close(x1, x0) and not close(x1, want[1]):
            raise _Stop(
                hint(
                    exercise,
                    "the gradient of x1 in (x0 * x2) * (x0 + x1) is off: it changed after it "
                    "was stored, together with x0's. The + node hands the same array to both "
                    "inputs, so adding into that array in place changes it under every name",
                )
            )
    _compare(exercise, engine, program, check_order=True)


def _vjp_runs_twice(exercise: str, engine: ModuleType, program: _Program, name: str) -> None:
    """backward() twice on one graph doubles the leaves' gradients (step 04 checked backward
    itself), unless the vjp of ``name`` changed, in its first run, an array it kept from the
    forward pass."""
    result = _call(exercise, engine.run, program.steps, program.inputs, "backward twice")
    grads = _arrays(exercise, result[1], "a gradient")
    want = _reference(program, [])[1]
    for k, w in enumerate(want):
        got = grads[k] if k < len(grads) else None
        if program.step_of[k] is None and not _same(got, 2 * w):
            raise _Stop(
                hint(
                    exercise,
                    f"after a second backward() on the same graph, the gradient of "
                    f"{program.label(k)} is not twice that of one pass: the vjp of {name} "
                    "changed an array it kept from the forward pass; a vjp may run again, so "
                    "it must leave them as they are",
                )
            )
