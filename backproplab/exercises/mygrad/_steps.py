"""The checks of each notebook step (``_CHECKS``), from notebook 03's Tensor, + and * to
notebook 12's Adam and the learner's own op; ``check_step`` picks one by its step."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from .. import close, hint
from .._draws import check_rng
from ._backward import _same, _step_04, _vjp_grads, _vjp_runs_twice
from ._calls import _arrays, _call, _Stop
from ._compare import _compare, _forward_only
from ._hints import _local_hint
from ._in_place import _own_op_keeps_its_arrays, _vjp_keeps_its_arrays
from ._optimizers import _check_optimizer
from ._own_process import _initial_weights
from ._programs import _SYMBOL, _inputs, _Program, _random_steps


def _step_03(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = check_rng(3)
    made = _call(exercise, engine.run, [], [[1, 2, 3]], "forward")[0][0]
    if not isinstance(made, np.ndarray) or made.dtype != np.float64:
        what = (
            f"an array of {made.dtype}"
            if isinstance(made, np.ndarray)
            else f"a {type(made).__name__}"
        )
        raise _Stop(
            hint(
                exercise,
                f"Tensor([1, 2, 3]).data should be a numpy array of floats (float64), not {what}",
            )
        )
    for name in ("add", "mul"):
        x, y = _inputs(rng, [(4,), (4,)], low=-1)
        for args in [(0, 1), (0, 2.5), (-1.5, 0)]:  # numbers on either side
            _forward_only(exercise, engine, _Program([x, y], [(name, *args, {})]))
        g = rng.uniform(0.5, 2, size=4)  # an upstream gradient that is not 1
        grads = _vjp_grads(exercise, engine, _Program([x, y], [(name, 0, 1, {})]), g)
        want = [g, g] if name == "add" else [g * y, g * x]
        symbol = _SYMBOL[name]
        for who, got, w, other in [("x", grads[0], want[0], y), ("y", grads[1], want[1], x)]:
            if _same(got, w):
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
        _vjp_keeps_its_arrays(exercise, engine, name)


def _one_node(exercise: str, engine: ModuleType, name: str, args: tuple, x: np.ndarray) -> None:
    """Op ``name`` (of ``args`` after its input) returns one node made from its input, with a vjp
    of its own, as its notebook asks: not a composite of other ops (whose gradients come from
    their vjps, none of them the learner's), found by the tensors toposort lists in between."""
    result = _call(exercise, engine.run, [(name, 0, *args, {})], [x], "backward")
    if isinstance(result, (tuple, list)) and len(result) == 3 and -1 in list(result[2]):
        raise _Stop(
            hint(
                exercise,
                f"your {name} is built from other ops: the tensor it returns was not made from "
                "its input by one node. Here each op returns one node(values, inputs, vjp), "
                "with a vjp of its own that gives the gradient of its input",
            )
        )
    if isinstance(result, (tuple, list)) and len(result) == 3 and 0 not in list(result[2]):
        raise _Stop(  # toposort from the result never reaches the input: the input itself, say
            hint(
                exercise,
                f"your {name} returns a tensor that no node made from its input (its input "
                "itself, say, or a tensor with no inputs): an op leaves its input as it is and "
                "returns a new node(values, inputs, vjp), with a vjp of its own that gives the "
                "gradient of its input",
            )
        )


def _step_05(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = check_rng(5)
    shapes = [(4, 3), (3,), (4, 1), (3, 2)]
    fixed: list[list[tuple]] = [
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
    # broadcasting from 0-d, over two leading axes, over a length-1 axis in front and in the
    # middle; a mean over an axis that is not the first
    shapes = [(2, 4, 3), (4, 1), (1, 3), (), (2, 1, 3)]
    steps = [
        ("mul", 0, 1, {}),
        ("add", 5, 2, {}),
        ("mul", 6, 3, {}),
        ("sub", 7, 4, {}),
        ("mul", 8, 8, {}),
        ("mean", 9, {"axis": 1}),
        ("sum", 10, {}),
    ]
    _compare(exercise, engine, _Program(_inputs(rng, shapes, low=-1), steps), False)


def _step_07(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = check_rng(7)
    for name in ("relu", "tanh", "sigmoid", "exp", "log"):
        x = _inputs(rng, [(5,)], low=-1 if name != "log" else 0.5)
        x[0][0] = 0.2  # one small input: not where the slopes of tanh and its input agree
        if name == "relu":
            x[0][1] = 0.0  # the kink: relu's slope there is 0 (PyTorch's and the package's)
        weights = rng.uniform(0.5, 2, size=5)  # an upstream gradient that is not 1
        steps: list[tuple] = [(name, 0, {}), ("mul", 1, weights, {}), ("sum", 2, {})]
        _compare(exercise, engine, _Program(x, steps), check_order=False)
        _one_node(exercise, engine, name, (), x[0])
    big = [np.array([-800.0, -30.0, 0.5, 30.0, 800.0])]
    try:
        with np.errstate(over="raise"):  # a right value from inf (1 / (1 + inf)) is luck
            _compare(exercise, engine, _Program(big, [("sigmoid", 0, {}), ("sum", 1, {})]), False)
    except _Stop as stop:
        if "FloatingPointError" not in stop.feedback.message:
            raise
        raise _Stop(
            hint(
                exercise,
                "sigmoid of -800 and 800: e to a large number overflows (numpy warns and "
                "gives inf); write sigmoid so that it only ever takes e of a number <= 0",
            )
        ) from None
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
    rng = check_rng(8)
    for scale in (1.0, 3.0):
        x, w = rng.standard_normal((6, 4)), rng.standard_normal((4, 5)) * scale
        labels = rng.integers(0, 5, size=6)
        steps: list[tuple] = [("matmul", 0, 1, {}), ("cross_entropy", 2, labels, {})]
        _compare(exercise, engine, _Program([x, w], steps), False)
    # confidently wrong, then right; the first row so spread out that only a shift by the row's
    # maximum (not, say, by its mean) keeps e^z finite
    gap = np.array([[0.0, 800.0, -800.0], [1000.0, 0.0, -5.0]])
    steps = [("mul", 0, 1.0, {}), ("cross_entropy", 1, np.array([0, 0]), {})]
    _compare(exercise, engine, _Program([gap], steps), False)
    # the loss scaled (its upstream gradient is not 1), and a row far below the other rows
    gap = np.array([[0.0, 800.0, -800.0], [1000.0, 0.0, -5.0], [-1000.0, -990.0, -1000.0]])
    steps = [("mul", 0, 1.0, {}), ("cross_entropy", 1, np.array([0, 0, 1]), {})]
    _compare(exercise, engine, _Program([gap], steps + [("mul", 2, 2.5, {})]), False)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    labels = rng.integers(0, 5, size=4)
    program = _Program([x, w], [("matmul", 0, 1, {}), ("cross_entropy", 2, labels, {})])
    _vjp_runs_twice(exercise, engine, program, "cross_entropy")
    _one_node(exercise, engine, "cross_entropy", (labels,), x @ w)


def _step_09(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = check_rng(9)
    x, labels = rng.standard_normal((5, 4)), rng.integers(0, 3, size=5)
    _layer_shapes(exercise, engine, "Linear", [("Linear", 0, 4, 3, {})], [(3, 4), (3,)], x)
    program = _Program([x], [("Linear", 0, 4, 3, {}), ("cross_entropy", 3, labels, {})])
    _compare(exercise, engine, program, False)
    sizes = [4, 6, 5, 3]
    shapes = [(6, 4), (6,), (5, 6), (5,), (3, 5), (3,)]
    _layer_shapes(exercise, engine, "MLP", [("MLP", 0, sizes, {})], shapes, x)
    program = _Program([x], [("MLP", 0, sizes, {}), ("cross_entropy", 7, labels, {})])
    _compare(exercise, engine, program, False)
    _initial_weights(exercise, engine)
    for lr, momentum in ((0.1, 0.0), (0.05, 0.9)):  # two rates: the step must use its lr
        _check_optimizer(exercise, engine, "SGD", {"lr": lr, "momentum": momentum}, rng)
    # another momentum than the notebook's 0.9, and another lr: none written in passes
    other = {"lr": 0.02, "momentum": 0.5}
    _check_optimizer(exercise, engine, "SGD", other, rng, {"lr": 0.05, "momentum": 0.9})


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
    if any(np.any(b) for b in params[1::2]):
        raise _Stop(hint(exercise, f"the biases of {name} do not start at 0, as notebook 09 asks"))


def _step_10(exercise: str, engine: ModuleType, own_op: Any) -> None:
    """Linear's initial weights at He's scale: their standard deviation, measured on layers of
    512 -> 128 and 128 -> 512 units (65,536 draws each: the sample std is good to about 0.3 %)."""
    stds, he = [], []
    for n_in, n_out in ((512, 128), (128, 512)):
        x = np.ones((1, n_in))
        steps: list[tuple] = [("Linear", 0, n_in, n_out, {})]
        _layer_shapes(exercise, engine, "Linear", steps, [(n_out, n_in), (n_out,)], x)
        values = _call(exercise, engine.run, steps, [x], "forward")[0]  # x, W, b, Z
        stds.append(float(_arrays(exercise, values, "a value")[1].std()))
        he.append(float(np.sqrt(2.0 / n_in)))  # He's scale, bl.nn.init_weight's "he"
    ratios = [s / h for s, h in zip(stds, he)]
    if all(abs(r - 1) < 0.05 for r in ratios):
        return
    found = (
        f"the weights' standard deviation is {stds[0]:.3g} for 512 inputs and {stds[1]:.3g} for 128"
    )
    if abs(stds[0] / stds[1] - 1) < 0.05:
        message = f"{found}: the same for both. The scale depends on the layer's number of inputs"
    elif abs(stds[0] / stds[1] - 2) < 0.1:
        message = (
            f"{found}: it follows the number of outputs. The sum in z = W a runs over the inputs"
        )
    elif all(abs(s / h**2 - 1) < 0.05 for s, h in zip(stds, he)):
        message = f"{found}: each is the variance He's scale asks for, not its standard deviation"
    elif all(abs(r * np.sqrt(2) - 1) < 0.05 for r in ratios):
        message = f"{found}: a factor √2 too small for a ReLU layer, which keeps half of E[z²]"
    else:
        message = f"{found}; He's scale is {he[0]:.3g} and {he[1]:.3g}"
    raise _Stop(hint(exercise, message + " (notebook 10, exercise 2)"))


def _step_11(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = check_rng(11)
    x = rng.standard_normal((5, 4))
    _layer_shapes(exercise, engine, "Residual", [("Residual", 0, 4, {})], [(4, 4), (4,)], x)
    steps: list[tuple] = [
        ("Residual", 0, 4, {}),
        ("Residual", 3, 4, {}),
        ("tanh", 6, {}),
        ("sum", 7, {}),
    ]
    _compare(exercise, engine, _Program([x], steps), False)


def _step_12(exercise: str, engine: ModuleType, own_op: Any) -> None:
    rng = check_rng(12)
    settings = {"lr": 0.1, "betas": (0.9, 0.99), "eps": 1e-3}
    _check_optimizer(exercise, engine, "Adam", settings, rng)
    other = {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-2}  # nor the defaults: none written in
    _check_optimizer(exercise, engine, "Adam", other, rng, settings)
    if not own_op and callable(getattr(engine, "own_op", None)):
        own_op = _call(exercise, engine.own_op)  # the name mygrad.own_op() returns
    if not own_op or not isinstance(own_op, str):
        raise _Stop(hint(exercise, "own_op() in mygrad.py should return your op's name, a str"))
    if own_op in ("relu", "tanh", "sigmoid", "exp", "log", "sum", "mean", "T"):
        raise _Stop(hint(exercise, f"{own_op} is one of the notebooks' ops: choose a new one"))
    x = rng.uniform(-2, 2, size=5)
    eps = 1e-6
    inputs = [x] + [x + eps * e for e in np.eye(5)] + [x - eps * e for e in np.eye(5)]
    steps: list[tuple] = [(own_op, k, {}) for k in range(len(inputs))]
    try:
        values = _call(exercise, engine.run, steps, inputs, "forward")[0]
    except _Stop as stop:
        message = stop.feedback.message
        if "raised AttributeError" in message and f"has no attribute '{own_op}'" in message:
            raise _Stop(
                hint(
                    exercise,
                    f"own_op() says your op is called {own_op!r}, but your Tensor has no "
                    "method of that name: own_op() must return the name of the method you added",
                )
            ) from None
        raise
    values = _arrays(exercise, values, "a value")
    if not all(_same(v, x) for v, x in zip(values, inputs)):
        raise _Stop(
            hint(
                exercise,
                f"{own_op} changed its input in place: an op leaves its inputs as they are and "
                "makes a new array for its output",
            )
        )
    outs = values[len(inputs) :]
    if any(v is None or v.shape != outs[0].shape for v in outs):
        raise _Stop(hint(exercise, f"{own_op} gives outputs of different shapes for one input"))
    numeric = np.stack([(outs[1 + j] - outs[6 + j]).ravel() / (2 * eps) for j in range(5)], 1)
    if not np.any(numeric):
        raise _Stop(
            hint(
                exercise,
                f"{own_op} has slope 0 at every input checked (its output does not change "
                "with its input there): choose an op whose output does, so that there is a "
                "gradient to check",
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
    _one_node(exercise, engine, own_op, (), x)
    if got is not None and got.shape == x.shape and close(got, numeric.sum(axis=0), rtol=1e-4):
        raise _Stop(
            hint(
                exercise,
                f"the gradient of {own_op} is its local gradient alone: multiply it by "
                "the upstream gradient that the vjp receives",
            )
        )
    if got is None or got.shape != x.shape or not close(got, want, rtol=1e-4, atol=1e-6):
        raise _Stop(
            hint(
                exercise,
                f"the gradient of {own_op} disagrees with central differences "
                "of its own forward: check its vjp",
            )
        )
    _own_op_keeps_its_arrays(exercise, engine, own_op, x, outs[0], numeric)


_CHECKS: dict[str, Callable[[str, ModuleType, Any], None]] = {
    "03": _step_03,
    "04": _step_04,
    "05": _step_05,
    "07": _step_07,
    "08": _step_08,
    "09": _step_09,
    "10": _step_10,
    "11": _step_11,
    "12": _step_12,
}
