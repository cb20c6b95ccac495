"""Self-checks for the learner's own engine, ``notebooks/mygrad.py``, one per notebook step.

``check_step("04", mygrad)`` checks what notebook 04 asks the learner to add (see the table in
``STEPS``). Each check writes random small programs as data (fan-out, numbers on either side,
broadcasting where the step has it), runs them on the learner's engine through ``mygrad.run``
(values, gradients, toposort's order, as arrays) and replays them on the package's engine; the
first node whose value or gradient differs is named, with a hint about the mistake. The
optimizers are checked through ``mygrad.fit`` against their update rules written out here in
numpy, and the learner's own op of notebook 12 against central differences of its own forward.

The learner's engine gets data only (lists, arrays, numbers, strings), so the same check runs in
the notebook and in the grader. A piece that is still a stub raises NotImplementedError with a
pointer ("see notebook 04, "Your engine", part 1"): the check says which part to do first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from .. import autodiff
from .. import functional as F
from ..tensor import Tensor
from . import Feedback, close, correct, hint

__all__ = ["STEPS", "check_step"]

STEPS = {
    "03": "Tensor, + and *",
    "04": "toposort, backward, -, / and **",
    "05": "@, sum_to_shape, sum and mean",
    "07": "relu, tanh, sigmoid, exp and log",
    "08": "cross_entropy",
    "09": "Linear, MLP and SGD",
    "11": "Residual",
    "12": "Adam and your own op",
}
_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**", "matmul": "@"}
_POINTER = re.compile(r'see notebook (\d+), "Your engine"(?:, part (\d+))?')


class _Stop(Exception):
    """Carries a Feedback out of the helpers below."""

    def __init__(self, feedback: Feedback) -> None:
        self.feedback = feedback


def check_step(step: str, engine: ModuleType, own_op: str | None = None) -> Feedback:
    """Check the pieces notebook ``step`` adds to the learner's ``engine`` (the module mygrad).

    For step "12", ``own_op`` names the learner's own op (a Tensor method of no arguments); by
    default, the name the engine's ``own_op()`` returns.
    """
    step = str(step).zfill(2)
    if step not in STEPS:
        raise ValueError(f"check_step: no step {step!r}; the steps are {', '.join(STEPS)}")
    exercise = f"mygrad {step} ({STEPS[step]})"
    borrowed = _package_names(engine)
    if borrowed:
        return hint(
            exercise,
            f"your engine uses backproplab itself ({', '.join(borrowed)}): the point is to build "
            "it yourself, with numpy only",
        )
    try:
        _CHECKS[step](exercise, engine, own_op)
    except _Stop as stop:
        return stop.feedback
    return correct(exercise, "your engine agrees with the package on every value and gradient.")


def _package_names(engine: ModuleType) -> list[str]:
    """The names in the learner's module that come from backproplab (a module, class or
    function of the package), or [] when it is the learner's own work. (Under the grader the
    engine is a stand-in for the kernel's module; the grader watches its calls itself.)"""
    if not isinstance(engine, ModuleType):
        return []
    found = []
    for name, value in vars(engine).items():
        module = (
            value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", "")
        )
        if isinstance(module, str) and module.split(".")[0] == "backproplab":
            found.append(name)
    return sorted(found)


# ------------------------------------------------------------------ calling the learner
def _call(exercise: str, fn: Callable, *args: Any) -> Any:
    """The learner's ``fn(*args)``; a stub or a crash stops the check with a one-line Feedback."""
    try:
        return fn(*args)
    except NotImplementedError as error:
        found = _POINTER.search(str(error))
        if found is None:
            what = "finish the part of mygrad.py this step needs"
        else:
            part = f"part {found.group(2)} of " if found.group(2) else ""
            what = f'do {part}"Your engine" in notebook {found.group(1)} first'
        where = str(error).split(":")[0]
        raise _Stop(Feedback(exercise, "not done", f"{what} (`{where}` in mygrad.py).")) from None
    except Exception as error:  # the learner's code crashed: say how, in one line
        line = str(error).splitlines()[0] if str(error) else ""
        raise _Stop(hint(exercise, f"your engine raised {type(error).__name__}: {line}")) from None


def _arrays(exercise: str, values: Any, what: str) -> list:
    """The learner's list of arrays (None kept) as float arrays, or a hint."""
    out = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        try:
            out.append(np.asarray(v, dtype=np.float64))
        except (TypeError, ValueError):
            raise _Stop(hint(exercise, f"{what} is a {type(v).__name__}, not numbers")) from None
    return out


# ----------------------------------------------------------------- programs as data
class _Program:
    """A program: the inputs, then steps ``(name, *arguments, settings)``; an int argument is
    a tensor by position. Knows each position's description, its step and its inputs."""

    def __init__(self, inputs: list[np.ndarray], steps: list[tuple]) -> None:
        self.inputs, self.steps = inputs, steps
        self.names = [f"x{i}" for i in range(len(inputs))]
        self.step_of: list[tuple | None] = [None] * len(inputs)  # None: an input or parameter
        for name, *args, _ in steps:
            here = f"v{len(self.names)}"
            if name in ("Linear", "MLP", "Residual"):
                n = 2 * (len(args[1]) - 1) if name == "MLP" else 2
                self.names += [
                    f"the {'weight' if k % 2 == 0 else 'bias'} {k // 2 + 1} of {here}'s {name}"
                    for k in range(n)
                ]
                self.step_of += [None] * n
                here = f"v{len(self.names)}"
            self.names.append(f"{here} = {self.describe(name, args)}")
            self.step_of.append((name, *args))

    def describe(self, name: str, args: list) -> str:
        words = [
            f"v{a}"
            if type(a) is int and a >= len(self.inputs)
            else f"x{a}"
            if type(a) is int
            else _number(a)
            for a in args
        ]
        if name in _SYMBOL:
            return f"{words[0]} {_SYMBOL[name]} {words[1]}"
        if name in ("Linear", "MLP", "Residual"):
            return f"{name}({', '.join(map(str, args[1:]))})({words[0]})"
        if name == "cross_entropy":
            return f"cross_entropy({words[0]}, labels)"
        return f"{words[0]}.{name}({', '.join(words[1:])})"

    def label(self, k: int) -> str:
        return self.names[k].split(" = ")[0] if " = " in self.names[k] else self.names[k]


def _number(a: Any) -> str:
    return f"{a:g}" if isinstance(a, float) else "labels" if isinstance(a, np.ndarray) else str(a)


def _reference(program: _Program, learner_values: list) -> tuple[list, list, dict]:
    """The package's values and gradients for ``program`` (layers' parameters: the learner's
    initial values), and what each step sent to each of its inputs: ``sent[(k, a)]``."""
    ts: list[Tensor] = [Tensor(x, requires_grad=True) for x in program.inputs]
    for name, *args, settings in program.steps:
        if name in ("Linear", "MLP", "Residual"):
            x, n = ts[args[0]], len(ts)
            sizes = {"Linear": args[1:3], "Residual": [args[1]] * 2, "MLP": args[1]}[name]
            params = [
                Tensor(learner_values[n + k], requires_grad=True)
                for k in range(2 * (len(sizes) - 1))
            ]
            ts += params
            h = x
            for k in range(0, len(params), 2):
                h = h @ params[k].T + params[k + 1]
                if name == "Residual" or (name == "MLP" and k + 2 < len(params)):
                    h = h.relu()
            ts.append(x + h if name == "Residual" else h)
            continue
        args = [ts[a] if type(a) is int else a for a in args]
        if name in _SYMBOL:
            ts.append(_binary(name, *args))
        elif name == "cross_entropy":
            ts.append(F.cross_entropy(args[0], args[1]))
        else:
            ts.append(getattr(args[0], name)(*args[1:], **settings))
    position = {id(t): k for k, t in enumerate(ts)}
    sent: dict[tuple[int, int], list[np.ndarray]] = {}

    def record(node: Tensor, grads: tuple) -> None:
        if id(node) in position:
            for x, g in zip(node.inputs, grads):
                if id(x) in position and g is not None:
                    g = autodiff.sum_to_shape(np.asarray(g, dtype=np.float64), x.shape)
                    sent.setdefault((position[id(node)], position[id(x)]), []).append(g)

    root = ts[-1]
    autodiff.backward(root, np.ones(root.shape), hook=record)
    return [t.data for t in ts], [t.grad for t in ts], sent


def _binary(name: str, x: Any, y: Any) -> Tensor:
    if name == "pow" and not isinstance(y, Tensor):  # a number exponent (and 2.0 ** x below)
        return x**y
    if name == "pow":
        return y.__rpow__(x) if not isinstance(x, Tensor) else x**y
    return {
        "add": lambda: x + y,
        "sub": lambda: x - y,
        "mul": lambda: x * y,
        "truediv": lambda: x / y,
        "matmul": lambda: x @ y,
    }[name]()


# ------------------------------------------------------------------------ comparing
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
    for k, (got, want) in enumerate(zip(values, want_values)):
        if got is None or got.shape != want.shape:
            shape = None if got is None else got.shape
            raise _Stop(hint(exercise, f"{program.names[k]} has shape {shape}, not {want.shape}"))
        if not close(got, want, rtol=1e-6, atol=1e-9):
            raise _Stop(hint(exercise, _value_hint(program, k, got, want)))
    if check_order:
        _check_order(exercise, program, result[2])
    for k in reversed(range(len(want_grads))):
        got = grads[k] if k < len(grads) else None
        want = want_grads[k]
        if want is None:
            want = np.zeros_like(want_values[k])
        if got is None:
            got_ok = not np.any(want)
        else:
            got_ok = got.shape == want.shape and close(got, want, rtol=1e-6, atol=1e-9)
        if not got_ok:
            raise _Stop(hint(exercise, _grad_hint(program, k, got, want, grads, sent)))


def _check_order(exercise: str, program: _Program, order: Any) -> None:
    """toposort's answer: every node the output depends on, each after its inputs."""
    try:
        order = [int(k) for k in order]
    except (TypeError, ValueError):
        raise _Stop(hint(exercise, "toposort should return a list of tensors")) from None
    needed = {len(program.names) - 1}
    for k in reversed(range(len(program.names))):
        if k in needed and program.step_of[k] is not None:
            needed |= {a for a in program.step_of[k][1:] if type(a) is int}
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


# ------------------------------------------------------------------- random programs
def _inputs(rng: np.random.Generator, shapes: list, low: float = 0.5) -> list[np.ndarray]:
    """Values between 0.5 and 2 in size (no kinks, no division by 0); with ``low`` < 0 of
    either sign."""
    signs = [-1.0, 1.0] if low < 0 else [1.0]
    return [np.asarray(rng.uniform(0.5, 2.0, size=s) * rng.choice(signs, size=s)) for s in shapes]


def _random_steps(rng: np.random.Generator, n_inputs: int, ops: list[str], n: int) -> list:
    """``n`` random steps of the binary ``ops`` on earlier nodes, each used again (fan-out)."""
    steps: list[tuple] = []
    for _ in range(n):
        name = str(rng.choice(ops))
        pool = n_inputs + len(steps)
        a = int(rng.integers(pool))
        if name == "pow":
            steps.append(("pow", a, float(rng.choice([2.0, 3.0])), {}))
        elif name == "rpow":
            steps.append(("pow", 1.5, a, {}))
        elif name == "truediv":  # divide by an input or a number: never by something near 0
            b = int(rng.integers(n_inputs)) if rng.random() < 0.7 else float(rng.uniform(1, 3))
            steps.append(("truediv", a, b, {}) if rng.random() < 0.8 else ("truediv", 2.0, b, {}))
        else:
            b = int(rng.integers(pool)) if rng.random() < 0.8 else float(rng.uniform(-2, 2))
            steps.append((name, a, b, {}) if rng.random() < 0.8 else (name, b, a, {}))
    return steps


def _forward_only(exercise: str, engine: ModuleType, program: _Program) -> list:
    result = _call(exercise, engine.run, program.steps, program.inputs, "forward")
    values = _arrays(exercise, result[0], "a value")
    want, _, _ = _reference(program, values)
    for k, (got, w) in enumerate(zip(values, want)):
        if got is None or got.shape != w.shape or not close(got, w, rtol=1e-6, atol=1e-9):
            raise _Stop(hint(exercise, _value_hint(program, k, got, w)))
    return values


# ------------------------------------------------------------------------ the steps
def _step_03(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = np.random.default_rng(3)
    made = _call(exercise, engine.run, [], [[1, 2, 3]], "forward")[0][0]
    if not isinstance(made, np.ndarray) or made.dtype != np.float64:
        raise _Stop(
            hint(
                exercise,
                "Tensor([1, 2, 3]).data should be a numpy array of floats "
                f"(float64), not a {type(made).__name__}",
            )
        )
    for name in ("add", "mul"):
        x, y = _inputs(rng, [(4,), (4,)], low=-1)
        for args in [(0, 1), (0, 2.5), (-1.5, 0)]:  # numbers on either side
            _forward_only(exercise, engine, _Program([x, y], [(name, *args, {})]))
        g = rng.uniform(0.5, 2, size=4)  # an upstream gradient that is not 1
        grads = _call(exercise, engine.run, [(name, 0, 1, {})], [x, y], "vjp", g)[1]
        grads = _arrays(exercise, grads, "a gradient")
        want = [g, g] if name == "add" else [g * y, g * x]
        symbol = _SYMBOL[name]
        if len(grads) != 2:
            raise _Stop(
                hint(
                    exercise,
                    f"the vjp of x {symbol} y should return two gradients, "
                    f"one per input; yours returned {len(grads)}",
                )
            )
        for who, got, w, other in [("x", grads[0], want[0], y), ("y", grads[1], want[1], x)]:
            if got is not None and got.shape == w.shape and close(got, w):
                continue
            head = f"the gradient of {who} in x {symbol} y is off"
            if name == "add" and close(got, np.ones(4)):
                raise _Stop(
                    hint(
                        exercise,
                        f"{head}: it is 1 everywhere; the local gradient "
                        "must be multiplied by the upstream gradient",
                    )
                )
            if name == "mul" and close(got, g):
                raise _Stop(
                    hint(
                        exercise,
                        f"{head}: it reached {who} unchanged; the local "
                        "gradient of a product is missing",
                    )
                )
            if name == "mul" and close(got, other):
                raise _Stop(
                    hint(
                        exercise,
                        f"{head}: it is the local gradient alone; multiply it "
                        "by the upstream gradient",
                    )
                )
            if name == "mul" and close(got, g * (x if who == "x" else y)):
                raise _Stop(
                    hint(
                        exercise,
                        f"{head}: it grows with {who} itself; the local "
                        "gradient of a product is the *other* input",
                    )
                )
            raise _Stop(hint(exercise, f"{head}: " + _local_hint(name, "", got, w, None, None)))


def _step_04(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = np.random.default_rng(4)
    ops = ["add", "sub", "mul", "truediv", "pow", "rpow"]
    fixed = [  # the typical slips, one op at a time, each with fan-out
        [("mul", 0, 0, {}), ("add", 2, 0, {}), ("mul", 3, 1, {})],
        [("sub", 0, 1, {}), ("sub", 1, 2, {}), ("mul", 3, 0, {})],
        [("truediv", 0, 1, {}), ("truediv", 2.0, 1, {}), ("add", 2, 3, {}), ("mul", 4, 0, {})],
        [("pow", 0, 3.0, {}), ("pow", 2.0, 1, {}), ("mul", 2, 3, {})],
    ]
    for steps in fixed:
        _compare(exercise, engine, _Program(_inputs(rng, [()] * 2), steps), check_order=True)
    for _ in range(6):
        steps = _random_steps(rng, 3, ops, 7)
        _compare(exercise, engine, _Program(_inputs(rng, [(3,)] * 3), steps), check_order=True)


def _step_05(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = np.random.default_rng(5)
    shapes = [(4, 3), (3,), (4, 1), (3, 2)]
    fixed = [
        [("add", 0, 1, {}), ("mul", 4, 2, {}), ("sum", 5, {})],  # broadcasting undone
        [("matmul", 0, 3, {}), ("mul", 4, 4, {}), ("sum", 5, {})],
        [("mul", 0, 0, {}), ("sum", 4, {"axis": 1}), ("mul", 5, 5, {}), ("sum", 6, {})],
        [("mul", 0, 0, {}), ("sum", 4, {"axis": 0}), ("mul", 5, 1, {}), ("sum", 6, {})],
        [("mul", 0, 0, {}), ("mean", 4, {"axis": 0}), ("mul", 5, 1, {}), ("mean", 6, {})],
        [("mul", 0, 2, {}), ("mean", 4, {}), ("mul", 5, 1, {}), ("sum", 6, {})],
    ]
    for steps in fixed:
        _compare(exercise, engine, _Program(_inputs(rng, shapes, low=-1), steps), False)
    for _ in range(5):  # (4, 3), (3,) and (4, 1) broadcast together; (3, 2) is for @
        steps = []
        for name, a, b, d in _random_steps(rng, 3, ["add", "mul", "sub"], 4):
            a, b = (v + 1 if type(v) is int and v > 2 else v for v in (a, b))  # x3 is for @
            steps.append((name, a, b, d))
        last = 3 + len(steps)
        steps += [("add", last, 0, {}), ("matmul", last + 1, 3, {}), ("mean", last + 2, {})]
        _compare(exercise, engine, _Program(_inputs(rng, shapes, low=-1), steps), False)


def _step_07(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = np.random.default_rng(7)
    for name in ("relu", "tanh", "sigmoid", "exp", "log"):
        x = _inputs(rng, [(5,)], low=-1 if name != "log" else 0.5)
        x[0][0] = 0.2  # one small input: not where the slopes of tanh and its input agree
        weights = rng.uniform(0.5, 2, size=5)  # an upstream gradient that is not 1
        steps = [(name, 0, {}), ("mul", 1, weights, {}), ("sum", 2, {})]
        _compare(exercise, engine, _Program(x, steps), check_order=False)
    big = [np.array([-800.0, -30.0, 0.5, 30.0, 800.0])]
    _compare(exercise, engine, _Program(big, [("sigmoid", 0, {}), ("sum", 1, {})]), False)
    for _ in range(4):
        steps = [
            ("mul", 0, 1, {}),
            ("tanh", 2, {}),
            ("exp", 0, {}),
            ("add", 4, 3, {}),
            ("sigmoid", 5, {}),
            ("log", 6, {}),
            ("relu", 1, {}),
            ("mul", 7, 8, {}),
            ("sum", 9, {}),
        ]
        _compare(exercise, engine, _Program(_inputs(rng, [(3, 2), (2,)], -1), steps), False)


def _step_08(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = np.random.default_rng(8)
    for scale in (1.0, 3.0):
        x, w = rng.standard_normal((6, 4)), rng.standard_normal((4, 5)) * scale
        labels = rng.integers(0, 5, size=6)
        steps = [("matmul", 0, 1, {}), ("cross_entropy", 2, labels, {})]
        _compare(exercise, engine, _Program([x, w], steps), False)
    gap = np.array([[0.0, 800.0, 0.0], [1000.0, 0.0, -5.0]])  # confidently wrong, then right
    steps = [("mul", 0, 1.0, {}), ("cross_entropy", 1, np.array([0, 0]), {})]
    _compare(exercise, engine, _Program([gap], steps), False)


def _step_09(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = np.random.default_rng(9)
    x, labels = rng.standard_normal((5, 4)), rng.integers(0, 3, size=5)
    _layer_shapes(exercise, engine, "Linear", [("Linear", 0, 4, 3, {})], [(3, 4), (3,)], x)
    program = _Program([x], [("Linear", 0, 4, 3, {}), ("cross_entropy", 3, labels, {})])
    _compare(exercise, engine, program, False)
    sizes = [4, 6, 5, 3]
    shapes = [(6, 4), (6,), (5, 6), (5,), (3, 5), (3,)]
    _layer_shapes(exercise, engine, "MLP", [("MLP", 0, sizes, {})], shapes, x)
    program = _Program([x], [("MLP", 0, sizes, {}), ("cross_entropy", 7, labels, {})])
    _compare(exercise, engine, program, False)
    for momentum in (0.0, 0.9):
        _check_optimizer(exercise, engine, "SGD", {"lr": 0.1, "momentum": momentum}, rng)


def _layer_shapes(
    exercise: str, engine: ModuleType, name: str, steps: list, shapes: list, x: np.ndarray
) -> None:
    try:
        values = _call(exercise, engine.run, steps, [x], "forward")[0]
    except _Stop as stop:
        if stop.feedback.status != "hint":
            raise
        raise _Stop(
            hint(
                exercise,
                f"{name} on a batch of shape {x.shape}: "
                f"{stop.feedback.message}; a weight's layout is (n_out, n_in), "
                "and a layer computes Z = X Wᵀ + b",
            )
        ) from None
    params = _arrays(exercise, values[1:-1], "a parameter")
    if len(params) != len(shapes):
        raise _Stop(
            hint(
                exercise,
                f"{name}(...).parameters() has {len(params)} tensors; "
                f"expected {len(shapes)}: a weight and a bias per layer",
            )
        )
    for k, (p, shape) in enumerate(zip(params, shapes)):
        what = "weight" if k % 2 == 0 else "bias"
        if p is None or p.shape != shape:
            got = None if p is None else p.shape
            layout = " (n_out, n_in)" if what == "weight" else " (n_out,)"
            raise _Stop(
                hint(
                    exercise,
                    f"the {what} of layer {k // 2 + 1} of {name} has shape "
                    f"{got}; the layout is{layout}: {shape}",
                )
            )
    if not np.any(params[0]):
        raise _Stop(
            hint(
                exercise,
                f"the weights of {name} start at 0: every unit would learn the "
                "same thing; start them random",
            )
        )


def _check_optimizer(
    exercise: str, engine: ModuleType, name: str, settings: dict, rng: np.random.Generator
) -> None:
    params = [rng.standard_normal((2, 3)), rng.standard_normal(3)]
    rows = [[rng.uniform(0.5, 2, size=p.shape) for p in params] for _ in range(4)]
    path = _call(exercise, engine.fit, name, [p.copy() for p in params], rows, settings)
    want = _update_rule(name, settings, params, rows)
    for t, (got, right) in enumerate(zip(path, want)):
        got = _arrays(exercise, got, "a parameter")
        if all(close(g, w) for g, w in zip(got, right)):
            continue
        what = f"{name}({', '.join(f'{k}={v}' for k, v in settings.items())})"
        for label, variant in _VARIANTS[name].items():
            wrong = _update_rule(name, settings, params, rows, variant)[t]
            if all(np.allclose(g, w, equal_nan=True) for g, w in zip(got, wrong)):
                raise _Stop(hint(exercise, f"{what}, step {t + 1}: {label}"))
        raise _Stop(hint(exercise, f"{what}: the parameters after step {t + 1} are off"))


# the mistakes the hints name: a variant of the update rule -> what it says
_VARIANTS = {
    "SGD": {
        "the gradients pile up from step to step: zero_grad must clear them": "no_zero",
        "the parameters move uphill: a step goes against the gradient": "uphill",
        "momentum has no effect: the velocity must be kept from one step to the next": "no_memory",
        "the velocity is damped by (1 - momentum); PyTorch's rule adds the gradient itself": (
            "damped"
        ),
    },
    "Adam": {
        "the first steps are too small: the averages start at 0 and need dividing by "
        "1 - beta^t": "no_bias_correction",
        "eps belongs outside the square root, added to sqrt(v_hat)": "eps_inside",
        "t must count the steps (1, 2, 3, ...)": "t_fixed",
        "v averages the squares of the gradients": "v_not_squared",
        "the gradients pile up from step to step: zero_grad must clear them": "no_zero",
    },
}


def _update_rule(name: str, settings: dict, params: list, rows: list, variant: str = "") -> list:
    """The optimizer's path on L = sum(c * p * p) (gradient 2 c p), written out in numpy."""
    ps = [p.copy() for p in params]
    state = [np.zeros_like(p) for p in ps], [np.zeros_like(p) for p in ps]
    grads = [np.zeros_like(p) for p in ps]
    path = []
    for t, row in enumerate(rows, start=1):
        for i, (p, c) in enumerate(zip(ps, row)):
            g = 2 * c * p + (grads[i] if variant == "no_zero" else 0)
            grads[i] = g
            m, v = state[0][i], state[1][i]
            if name == "SGD":
                mu = settings.get("momentum", 0.0) * (variant != "no_memory")
                m[...] = mu * m + (1 - mu if variant == "damped" else 1) * g
                p -= settings["lr"] * m * (-1 if variant == "uphill" else 1)
            else:
                (b1, b2), eps, lr = settings["betas"], settings["eps"], settings["lr"]
                k = 1 if variant == "t_fixed" else t
                m[...] = b1 * m + (1 - b1) * g
                v[...] = b2 * v + (1 - b2) * (g if variant == "v_not_squared" else g * g)
                m_hat, v_hat = m / (1 - b1**k), v / (1 - b2**k)
                if variant == "no_bias_correction":
                    m_hat, v_hat = m, v
                root = np.sqrt(v_hat + eps) if variant == "eps_inside" else np.sqrt(v_hat) + eps
                root = np.maximum(root, 1e-12)  # the "v not squared" variant can make v < 0
                p -= lr * m_hat / root
        path.append([p.copy() for p in ps])
    return path


def _step_11(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, 4))
    _layer_shapes(exercise, engine, "Residual", [("Residual", 0, 4, {})], [(4, 4), (4,)], x)
    steps = [("Residual", 0, 4, {}), ("Residual", 3, 4, {}), ("tanh", 6, {}), ("sum", 7, {})]
    _compare(exercise, engine, _Program([x], steps), False)


def _step_12(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = np.random.default_rng(12)
    settings = {"lr": 0.1, "betas": (0.9, 0.99), "eps": 1e-3}
    _check_optimizer(exercise, engine, "Adam", settings, rng)
    if not own_op and callable(getattr(engine, "own_op", None)):
        own_op = _call(exercise, engine.own_op)  # the name mygrad.own_op() returns
    if not own_op or not isinstance(own_op, str):
        raise _Stop(hint(exercise, "own_op() in mygrad.py should return your op's name, a str"))
    if own_op in ("relu", "tanh", "sigmoid", "exp", "log", "sum", "mean", "T"):
        raise _Stop(hint(exercise, f"{own_op} is one of the notebooks' ops: choose a new one"))
    x = rng.uniform(-2, 2, size=5)
    eps = 1e-6
    inputs = [x] + [x + eps * e for e in np.eye(5)] + [x - eps * e for e in np.eye(5)]
    steps = [(own_op, k, {}) for k in range(len(inputs))]
    values = _arrays(exercise, _call(exercise, engine.run, steps, inputs, "forward")[0], "a value")
    outs = values[len(inputs) :]
    if any(v is None or v.shape != outs[0].shape for v in outs):
        raise _Stop(hint(exercise, f"{own_op} gives outputs of different shapes for one input"))
    numeric = np.stack([(outs[1 + j] - outs[6 + j]).ravel() / (2 * eps) for j in range(5)], 1)
    if not np.any(numeric):
        raise _Stop(
            hint(
                exercise,
                f"{own_op} does not depend on its input: choose an op that "
                "does, so that there is a gradient to check",
            )
        )
    seed = rng.standard_normal(outs[0].shape)
    result = _call(
        exercise,
        engine.run,
        [(own_op, 0, {}), ("mul", 1, seed, {}), ("sum", 2, {})],
        [x],
        "backward",
    )
    got = _arrays(exercise, [result[1][0]], "a gradient")[0]
    want = seed.ravel() @ numeric
    if got is None or got.shape != x.shape or not close(got, want, rtol=1e-4, atol=1e-6):
        raise _Stop(
            hint(
                exercise,
                f"the gradient of {own_op} disagrees with central differences "
                "of its own forward: check its vjp",
            )
        )


_CHECKS: dict[str, Callable[[str, ModuleType, Any], None]] = {
    "03": _step_03,
    "04": _step_04,
    "05": _step_05,
    "07": _step_07,
    "08": _step_08,
    "09": _step_09,
    "11": _step_11,
    "12": _step_12,
}
