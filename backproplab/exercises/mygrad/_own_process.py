"""The checks that only the learner's own process can make: they build tensors with the
learner's Tensor class, or read the module's ``rng``, where the grader's engine is a stand-in that
answers with data. The programs of ``run`` cannot show these mistakes: every tensor they make
requires a gradient, their graphs are small, and their numbers say nothing of where the initial
weights were drawn from. Step 04 calls the first two, step 09 the last."""

from __future__ import annotations

import copy
from types import ModuleType
from typing import Any, cast

import numpy as np

from .. import hint
from ._calls import _arrays, _call, _Stop


def _grad_only_where_required(exercise: str, engine: ModuleType) -> None:
    """backward() on w * x, with x made without requires_grad (data, as X is in training):
    x gets no gradient, its grad stays None (as in the package and PyTorch)."""
    tensor = getattr(engine, "Tensor", None) if isinstance(engine, ModuleType) else None
    if not isinstance(tensor, type):
        return

    def backward_of_w_times_x() -> Any:
        w, x = tensor([1.0, 2.0], requires_grad=True), tensor([3.0, 4.0])
        (w * x).backward()
        return x.grad

    if _call(exercise, backward_of_w_times_x) is not None:
        raise _Stop(
            hint(
                exercise,
                "backward() on w * x, with x made without requires_grad (as the data X is), "
                "gave x a gradient: only the inputs that require a gradient get one; the "
                "others' grad stays None",
            )
        )


class _TooManyVisits(BaseException):
    """Raised from inside the learner's backward when it has read the tensors' inputs more often
    than a walk that visits each tensor once could (a BaseException: an ``except Exception`` of
    the learner's does not catch it)."""


def _visits_each_once(exercise: str, engine: ModuleType, depth: int = 40) -> None:
    """backward() on v = v + v, repeated ``depth`` times: a walk that goes on from a tensor every
    time it reaches one (with no memory of the tensors found, or the memory never consulted)
    takes 2^depth steps where one per tensor is enough; a residual network has such fan-out at
    every block. The tensors count how often their inputs are read: 20 reads per tensor at
    most, where a walk that visits each tensor once reads them a few times."""
    tensor = getattr(engine, "Tensor", None) if isinstance(engine, ModuleType) else None
    if not isinstance(tensor, type):
        return
    budget = [20 * (depth + 1)]

    def read(t: Any) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooManyVisits
        return t.__dict__.get("_counted_inputs", ())

    def write(t: Any, inputs: Any) -> None:
        t.__dict__["_counted_inputs"] = inputs

    try:  # a Tensor of the learner's that cannot be subclassed so: not checked here
        counted = cast(type, type("Tensor", (tensor,), {"inputs": property(read, write)}))
    except Exception:  # noqa: BLE001
        return

    def twice(g: Any) -> tuple:
        return (g, g)

    def backward_of_doublings() -> None:
        v = counted([1.0], requires_grad=True)
        for _ in range(depth):
            node = counted(v.data * 2, requires_grad=True)
            node.inputs, node.vjp = (v, v), twice
            v = node
        v.backward()

    try:
        _call(exercise, backward_of_doublings)
    except _TooManyVisits:
        raise _Stop(
            hint(
                exercise,
                f"backward() on v = v + v, repeated {depth} times, goes on from a tensor every "
                "time it reaches it: that takes about 2 to the power of "
                f"{depth} steps, where one visit per tensor is enough (a residual network has "
                "such fan-out at every block); remember the tensors found, and go on from "
                "each only the first time",
            )
        ) from None


def _initial_weights(exercise: str, engine: ModuleType) -> None:
    """Linear's initial weights as notebook 09 asks: standard normal numbers drawn from the
    module's ``rng`` in the weight's shape, times 0.1 (or He's scale, notebook 10's), one
    layer after the other. The training cell seeds ``rng`` and then repeats the notebook's
    run. Two layers of 512 -> 128 (131,072 draws: the std is good to about 0.2 %, the kurtosis
    to about 0.015). Where the draws come from is read only in the learner's own process (the
    grader's engine is a stand-in that answers with data: there, the spread is checked)."""
    n_in, n_out = 512, 128
    module_rng = getattr(engine, "rng", None) if isinstance(engine, ModuleType) else None
    twin = copy.deepcopy(module_rng) if isinstance(module_rng, np.random.Generator) else None
    numpy_state = np.random.get_state()  # noqa: NPY002 - the global generator a learner may use
    steps: list[tuple] = [("Linear", 0, n_in, n_out, {}), ("Linear", 0, n_in, n_out, {})]
    values = _call(exercise, engine.run, steps, [np.ones((1, n_in))], "forward")[0]
    values = _arrays(exercise, values, "a value")  # x, W1, b1, Z1, W2, b2, Z2
    if len(values) != 7 or any(w is None or w.shape != (n_out, n_in) for w in values[1::3]):
        return  # a wrong shape: _layer_shapes, run before, names it on the small layers
    w = np.stack([values[1], values[4]])
    std, he = float(w.std()), float(np.sqrt(2 / n_in))
    found = f"the weights of a Linear layer with {n_in} inputs have standard deviation {std:.3g}"
    if abs(std - 1) < 0.05:
        raise _Stop(
            hint(exercise, f"{found}: the standard normal numbers were not scaled down (0.1)")
        )
    if all(abs(std / right - 1) > 0.05 for right in (0.1, he)):
        raise _Stop(
            hint(exercise, f"{found}; notebook 09 asks for 0.1 (notebook 10 gives a better one)")
        )
    z = (w - w.mean()) / std
    if abs(float(np.mean(z**4)) - 3) > 0.3:  # a normal's kurtosis is 3, a uniform's 1.8
        raise _Stop(
            hint(
                exercise,
                f"{found}, but they are not spread like normal numbers: notebook 09 draws "
                "standard normal numbers and scales them",
            )
        )
    if twin is None:
        return
    legacy = np.random.RandomState()
    legacy.set_state(numpy_state)
    shape = (2, n_out, n_in)  # the two layers' draws, one after the other
    if _proportional(w, copy.deepcopy(twin).standard_normal(shape)):
        return
    offsets = _stream_offsets(w, copy.deepcopy(twin), n_out)
    if _proportional(w, copy.deepcopy(twin).standard_normal(shape, dtype=np.float32)):
        message = (
            "drawn as float32 numbers: the generator draws other numbers in float32 than in "
            "float64, its default, so the training cell cannot repeat the notebook's run; draw "
            "them in float64 (rounding them to float32 afterwards is fine)"
        )
    elif offsets is not None:
        message = (
            f"the module rng's numbers with {sum(offsets)} other numbers drawn among them (a bias "
            "drawn, even if then set to 0, uses numbers up): the training cell cannot repeat the "
            "notebook's run; draw nothing from rng but the weights"
        )
    elif _proportional(w, twin.standard_normal((2, n_in, n_out)).transpose(0, 2, 1)):
        message = (
            "drawn in the shape (n_in, n_out) and transposed: the same numbers land in other "
            "places, so the training cell cannot repeat the notebook's run; draw them in the "
            "weight's own shape, (n_out, n_in)"
        )
    elif _proportional(w, legacy.standard_normal(shape)):
        message = (
            "drawn from numpy's global generator, not from the module's rng: the training "
            "cell seeds rng to repeat the notebook's run, and could not"
        )
    elif np.array_equal(w[0], w[1]):
        message = (
            "the same numbers in every layer of that shape: each layer should draw the next "
            "numbers of the module's rng, the one generator the training cell seeds"
        )
    else:
        message = (
            "not the next standard normal numbers of the module's rng: the training cell "
            "seeds rng to repeat the notebook's run, so draw the weights from it"
        )
    raise _Stop(hint(exercise, f"the initial weights of Linear are {message}"))


def _proportional(w: np.ndarray, z: np.ndarray) -> bool:
    """``w`` is ``z`` times one number (the standard deviation), up to a rounding to float32
    (a learner's weights cast to float32 are the same draws; other draws are nowhere near)."""
    scale = float(np.sum(w * z) / np.sum(z * z))
    return bool(np.allclose(w, scale * z, rtol=1e-6, atol=0))


def _stream_offsets(w: np.ndarray, rng: np.random.Generator, n_out: int) -> list | None:
    """How many standard normal numbers of ``rng`` were skipped before each layer's weights
    (up to 2 n_out: a bias drawn before or after), or None if they are not runs of them."""
    size, found = w[0].size, [0]
    stream = rng.standard_normal(len(w) * (size + 2 * n_out))
    for layer in w:
        start = sum(found) + (len(found) - 1) * size
        runs = [stream[start + k : start + k + size] for k in range(2 * n_out + 1)]
        skips = [k for k, run in enumerate(runs) if _proportional(layer.ravel(), run)]
        if not skips:
            return None
        found.append(skips[0])
    return found
