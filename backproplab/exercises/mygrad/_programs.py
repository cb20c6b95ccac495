"""Test programs written as data, and the package's run of them.

A program is its inputs and a list of steps ``(name, *arguments, settings)``, the form
``mygrad.run`` takes. ``_reference`` replays it on backproplab's engine for the values and
gradients to compare with; ``_inputs`` and ``_random_steps`` make random ones with fan-out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import autodiff
from ... import functional as F
from ...tensor import Tensor

_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**", "matmul": "@"}


class _Program:
    """A program: the inputs, then steps ``(name, *arguments, settings)``; an int argument is
    a tensor by position. Knows each position's description, its step and its inputs."""

    def __init__(self, inputs: list[np.ndarray], steps: list[tuple]) -> None:
        self.inputs, self.steps = inputs, steps
        self.names = [f"x{i}" for i in range(len(inputs))]
        self.step_of: list[tuple | None] = [None] * len(inputs)  # None: an input or parameter
        self.settings_of: list[dict] = [{}] * len(inputs)  # the keywords of each step (axis=0)
        for name, *args, settings in steps:
            here = f"v{len(self.names)}"
            if name in ("Linear", "MLP", "Residual"):
                n = 2 * (len(args[1]) - 1) if name == "MLP" else 2
                self.names += [
                    f"the {'weight' if k % 2 == 0 else 'bias'} {k // 2 + 1} of {here}'s {name}"
                    for k in range(n)
                ]
                self.step_of += [None] * n
                self.settings_of += [{}] * n
                here = f"v{len(self.names)}"
            self.names.append(f"{here} = {self.describe(name, args, settings)}")
            self.step_of.append((name, *args))
            self.settings_of.append(settings)

    def describe(self, name: str, args: list, settings: dict) -> str:
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
        words += [f"{key}={value}" for key, value in settings.items()]  # mean(axis=0)
        return f"{words[0]}.{name}({', '.join(words[1:])})"

    def label(self, k: int) -> str:
        return self.names[k].split(" = ")[0] if " = " in self.names[k] else self.names[k]


def _number(a: Any) -> str:
    return f"{a:g}" if isinstance(a, float) else "labels" if isinstance(a, np.ndarray) else str(a)


def _reference(
    program: _Program, learner_values: list, seed: np.ndarray | None = None
) -> tuple[list, list, dict]:
    """The package's values and gradients for ``program`` (layers' parameters: the learner's
    initial values; backward from ``seed``, ones by default), and what each step sent to each
    of its inputs: ``sent[(k, a)]``."""
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
    autodiff.backward(root, np.ones(root.shape) if seed is None else seed, hook=record)
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
            # 2.0 / b only when b is a node: a number divided by a number is no node of the graph
            # (the same draws as before, so the programs of the checks' seeds do not change)
            numerator = 2.0 if rng.random() >= 0.8 and isinstance(b, int) else a
            steps.append(("truediv", numerator, b, {}))
        else:
            b = int(rng.integers(pool)) if rng.random() < 0.8 else float(rng.uniform(-2, 2))
            steps.append((name, a, b, {}) if rng.random() < 0.8 else (name, b, a, {}))
    return steps
