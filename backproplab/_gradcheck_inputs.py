"""What the gradient checks of ``gradcheck.py`` accept, and what they guard.

They refuse, in one line each, a function that is not one, a step or tolerance that is not a
number, inputs that cannot be checked (a list of tensors, float32, NaN), and a function whose
output changes between two calls at the same inputs. And they make sure a check leaves the
learner's tensors as it found them: ``Unchanged`` notices an op that writes into its input
arrays, in its forward or in its vjp (``x[x < 0] = 0``, ``x *= 2``). Such an op changes the
learner's tensor, and the differences would then be taken at another point than backward's
gradients: the check would blame (or pass) the gradient for what the in-place write did.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._numbers import is_real
from .tensor import Tensor


def checked_settings(caller: str, fn: object, eps: object, atol: object, rtol: object) -> None:
    """One line for a function that is not one, or a step or tolerance that is not a number."""
    if not callable(fn):  # gradcheck(x, fn): the arguments swapped, or a tensor for fn
        raise TypeError(
            f"{caller}: fn must be a function of the input tensors (or an Op), got a "
            f"{type(fn).__name__}; call {caller}(fn, x, ...)"
        )
    for name, value, smallest in (
        ("eps", eps, "> 0"),
        ("atol", atol, ">= 0"),
        ("rtol", rtol, ">= 0"),
    ):
        positive = is_real(value) and (value > 0 if name == "eps" else value >= 0)
        if not positive or value == np.inf:  # also NaN: no entry would ever pass or fail
            raise ValueError(f"{caller}: {name} must be a finite number {smallest}, got {value!r}")


def checked_inputs(caller: str, inputs: Sequence[Tensor]) -> list[int]:
    """The positions of the inputs to check (the tensors that require grad), or a one-line error
    for inputs that cannot be checked: a list of tensors, none that requires grad, a float32
    input, NaN or inf."""
    for i, x in enumerate(inputs):
        if isinstance(x, (list, tuple)):  # gradcheck(fn, [x, y]) for gradcheck(fn, x, y)
            raise TypeError(
                f"{caller}: input {i} is a {type(x).__name__}; pass the tensors as separate "
                f"arguments: {caller}(fn, x, y), or {caller}(fn, *tensors)"
            )
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(
            f"{caller}: no input has requires_grad=True, so there is nothing to check (make "
            f"them bl.Tensor(data, requires_grad=True))"
        )
    for i in checked:
        x = inputs[i]
        if x.dtype != np.float64:
            raise TypeError(
                f"{caller}: input {i} is {x.dtype}; finite differences need float64 "
                f"(use x.astype(np.float64))"
            )
        if not np.all(np.isfinite(x.data)):
            raise ValueError(f"{caller}: input {i} of shape {x.shape} contains NaN or inf")
    return checked


# Why a check refuses a function whose output changes between two calls at the same inputs.
NOT_DETERMINISTIC = (
    "gives different outputs for the same inputs (Dropout or other randomness, or does it "
    "change its inputs or state in place?); check a deterministic function, e.g. a model in "
    "eval()"
)


class Unchanged:
    """A copy of every input tensor's data, taken when the check starts: ``check(who)`` refuses
    an input whose data ``who`` (fn's forward, or a vjp) changed in place, after writing its
    values back into the learner's own array."""

    def __init__(self, caller: str, inputs: Sequence[object], what: str = "input") -> None:
        self.caller, self.inputs, self.what = caller, list(inputs), what
        self.saved = [(x, x.data, x.data.copy()) for x in self.inputs if isinstance(x, Tensor)]

    def check(self, who: str) -> None:
        """Raise a one-line ValueError if ``who`` changed an input's values in place."""
        for x, array, copy in self.saved:
            if x.data is array and np.array_equal(array, copy, equal_nan=True):
                continue
            i = next(i for i, y in enumerate(self.inputs) if y is x)
            x.data = array  # the learner's own array, with its own values back
            array[...] = copy
            raise ValueError(
                f"{self.caller}: {who} changed {self.what} {i} (shape {x.shape}) in place, so its "
                f"gradient and the finite differences would belong to different points; an op "
                f"must not write into its input arrays (x[...] = ..., x *= ...): compute a new "
                f"array (np.where(x > 0, g, 0), g * mask). Its values were put back."
            )
