"""Self-checks for the notebooks' exercises: "correct", or a hint that does not give the answer.

One module per notebook (``nb01.py`` ... ``nb14.py``), one ``check_*`` function per exercise.
An exercise is a function the learner completes between nbgrader's markers::

    def relu_backward(g, x):
        ### BEGIN SOLUTION
        return g * (x > 0)
        ### END SOLUTION

    nb07.check_relu_backward(relu_backward)

In the student release the solution becomes ``raise NotImplementedError(...)``; the check calls the
function, catches that, and says "not done yet" instead of crashing the notebook. A check never
raises: it returns a ``Feedback``, which displays as one line (text and HTML).

The helpers every check shares: ``attempt`` (call the learner's function), ``result_array`` (its
result as a float array of the right shape, or a hint), ``close`` (agreement within a tolerance),
``numeric_gradient`` (central differences: the reference of a check whose function has no
closed form here, as notebook 03's graphs), and ``estimated`` / ``roughly`` (an answer that
agrees with an exact reference only as an estimate, or a computation in float32, does).
``names_used`` and ``uses_package`` (what an answer's code uses, read without running it) are
in ``_reading.py``, ``call_measured`` (the memory a call of it takes) in ``_memory.py``, and
what ``attempt`` says when the learner's code crashes (a shape error in words) in ``_crash.py``.
Importing this package in a notebook adds a line to a NameError there: run the cell that defines
the name first (``_names.py``; a check run before its exercise, or a restart, meets one).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..tensor import as_array
from ._crash import crash_message
from ._draws import check_rng
from ._memory import call_measured
from ._names import install_name_hint
from ._reading import RemoteFunction, names_used, uses_package

__all__ = [
    "Feedback",
    "RemoteFunction",
    "attempt",
    "attempt_own",
    "call_measured",
    "changed_input",
    "check_rng",
    "close",
    "correct",
    "estimated",
    "roughly",
    "hint",
    "is_pair",
    "names_used",
    "not_done",
    "numeric_gradient",
    "result_array",
    "stub_feedback",
    "uses_package",
]


_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Feedback:
    """The verdict of a self-check: ``status`` is "correct", "hint" or "not done"."""

    exercise: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        """True when the exercise is solved."""
        return self.status == "correct"

    def __str__(self) -> str:
        if self.status == "hint" and self.message.startswith("not yet"):
            return f"{self.exercise}: ✘ {self.message}"  # "not yet: ...", not "not yet — not yet"
        return f"{self.exercise}: {_MARKS[self.status]} — {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The line, bold, its verdict white on a colour of its own: readable on any background
        (JupyterLab's light and dark themes, the site's light page and its dark mode's light-grey
        output card), at a contrast of at least 4.5:1 (WCAG AA). The rest of the line keeps the
        page's own text colour; the words, not the colour, say the verdict."""
        mark = _MARKS[self.status]
        rest = str(self).removeprefix(f"{self.exercise}: ").removeprefix(mark)
        badge = f"color:#ffffff;background-color:{_BADGES[self.status]};padding:0 0.25em"
        exercise, rest = (_CODE.sub(r"<code>\1</code>", html.escape(part))  # `x` shown as code
                          for part in (self.exercise, rest))  # fmt: skip
        return f'<p><b>{exercise}: <span style="{badge}">{mark}</span>{rest}</b></p>'


_MARKS = {"correct": "✔ correct", "hint": "✘ not yet", "not done": "… not done yet"}
# white on these: 5.1, 4.8 and 6.4 to 1 (tests/test_exercises_common.py computes them)
_BADGES = {"correct": "#1a7f37", "hint": "#b35900", "not done": "#57606a"}


def correct(exercise: str, message: str = "well done.") -> Feedback:
    """The exercise is solved."""
    return Feedback(exercise, "correct", message)


def hint(exercise: str, message: str) -> Feedback:
    """The attempt is wrong; ``message`` points at the mistake without giving the answer."""
    return Feedback(exercise, "hint", message)


def not_done(exercise: str) -> Feedback:
    """The solution cell still holds the stub."""
    return Feedback(
        exercise,
        "not done",
        "replace `raise NotImplementedError` with your code, then run it again.",
    )


def attempt(exercise: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's ``fn``; a stub or a crash becomes a Feedback instead of an exception.

    Returns the function's result, or a ``Feedback`` (check with ``isinstance``) to hand back.
    A crash is "your code raised <type>: <message>"; a shape error's message is put in words,
    with the shapes of the arrays ``fn`` was given (``_crash.crash_message``).
    """
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as error:
        return stub_feedback(exercise, fn, error)
    except Exception as error:  # the learner's code crashed: say how, in one line (a shape
        return hint(exercise, crash_message(fn, error, args, kwargs))  # mistake in words)


# A stub of the student release: "name is not written yet: do Exercise 4 above first (...)" in
# a notebook, "name: your code goes here, see notebook 03, ..." in mygrad.py (a method's name
# with its class: "Linear.__init__: ...").
_STUB = re.compile(r"^([\w.]+)(?: is not written yet: do (.+?) above first|: your code goes here)")
# Module.forward's and Optimizer.step's own error: a subclass without the method (misspelt)
_UNDEFINED = re.compile(r"^\w+ must define (forward|step)\(\)")


def stub_feedback(exercise: str, fn: Callable[..., Any], error: NotImplementedError) -> Feedback:
    """What a check says when the learner's ``fn`` raised ``error``: "not done yet" when ``fn``
    is still the stub, or a hint naming the other stub it called (an exercise not done yet, whose
    name and label the release's stub message gives), so that a written answer is not called
    "not done"; ``Module.forward``'s own error (a layer whose ``forward`` is misspelt) and
    ``Optimizer.step``'s are a hint with their message."""
    if _UNDEFINED.match(str(error)):  # no stub: the class's forward (step) is misspelt
        return hint(exercise, f"your code raised NotImplementedError: {error}")
    stub = _STUB.match(str(error))
    names = (getattr(fn, "__name__", None), getattr(fn, "__qualname__", None), exercise)
    if stub is None or stub.group(1) in names:  # its own stub, or nbgrader's bare one
        return not_done(exercise)
    todo = f"do {stub.group(2)} first" if stub.group(2) else "write it first"
    return hint(
        exercise,
        f"your function calls `{stub.group(1)}`, which is not written yet: {todo}, then run "
        "this check again",
    )


def attempt_own(exercise: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``attempt`` for an exercise the learner must write with numpy alone: an answer that calls
    the package is refused, ``fn`` gets copies of the arrays (and lists of arrays) in ``args``
    with numpy's warnings silenced (a check reports overflow as a hint), and an answer that
    changes an input in place is refused. Returns the result or a Feedback."""
    if uses_package(fn):
        return hint(
            exercise,
            "your function calls the package (backproplab) to do the work: write it yourself, "
            "with numpy only",
        )
    copies = [_copy(a) for a in args]
    with np.errstate(all="ignore"):
        result = attempt(exercise, fn, *copies)
    for a, c in zip(args, copies):
        pairs = zip(a, c) if isinstance(a, list) else [(a, c)]
        if any(isinstance(u, np.ndarray) and not np.array_equal(u, v, equal_nan=True)
               for u, v in pairs):  # fmt: skip
            return hint(
                exercise,
                "your function changed one of its inputs in place (`*=`, `+=` or an assignment "
                "into it): compute a new array; the caller still needs its inputs",
            )
    return result


def changed_input(
    exercise: str, originals: dict[str, np.ndarray], passed: dict[str, np.ndarray]
) -> Feedback | None:
    """A hint if the learner's function changed one of the arrays it was ``passed`` (compared
    with the ``originals``, by name) in place, else None."""
    for key, value in originals.items():
        if not np.array_equal(value, passed[key]):
            return hint(
                exercise,
                f"your function changed its input {key} in place: compute new arrays and leave "
                "the inputs as they were (the rest of the computation still needs them).",
            )
    return None


def _copy(a: Any) -> Any:
    """A copy of an array, or of a list's arrays; an array at two places of the list (x * x)
    stays one array at both places."""
    if isinstance(a, list):
        copies = {id(v): np.array(v, copy=True) for v in a if isinstance(v, np.ndarray)}
        return [copies.get(id(v), v) if isinstance(v, np.ndarray) else v for v in a]
    return np.array(a, copy=True) if isinstance(a, np.ndarray) else a


def result_array(
    exercise: str, result: object, shape: tuple[int, ...] | None = None, what: str = "your result"
) -> np.ndarray | Feedback:
    """The learner's ``result`` (array, Tensor, list or number) as a float64 array of ``shape``.

    When it cannot be one (None, not numbers, another shape) the answer is a hint Feedback whose
    sentence names ``what`` ("your result", "dW", ...); check with ``isinstance``. A Feedback
    passes through unchanged, so ``result_array(name, attempt(name, fn, x), x.shape)`` calls and
    converts in one step. With ``shape=None`` any shape is accepted, for checks with their own
    shape hints.
    """
    if isinstance(result, Feedback):  # from attempt: not done, or the learner's code crashed
        return result
    if result is None:
        return hint(exercise, f"{what} is None: is a `return` missing?")
    try:
        array = np.asarray(as_array(result), dtype=np.float64)
    except (TypeError, ValueError):
        return hint(exercise, f"{what} is a {type(result).__name__}, not an array of numbers.")
    if shape is not None and array.shape != shape:
        return hint(exercise, f"{what} has shape {array.shape}, but it should have shape {shape}.")
    return array


def is_pair(result: object) -> bool:
    """True for two things: a tuple or list of two, or an array with two rows (two results of
    one shape stacked, ``np.array([dx, dy])``), which unpacks the same way."""
    if isinstance(result, np.ndarray):
        return result.ndim >= 1 and len(result) == 2
    return isinstance(result, (tuple, list)) and len(result) == 2


def close(a: npt.ArrayLike, b: npt.ArrayLike, rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    """True when ``a`` and ``b`` agree entry by entry: ``|a - b| <= atol + rtol * |b|``.

    The defaults leave room for the small error of a central-difference reference, while a wrong
    rule (off by a factor or a sign) fails by far; checks against exact references pass tighter
    tolerances.
    """
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


# How far from an exact float64 reference a derived answer may land, as a fraction of the
# gradient's largest entry. Measured on notebook 13's checks (200 draws, the compact formula and
# the node-by-node walk): honest answers agree to 5e-15 or better; central differences of the
# forward pass land at 1e-11 or further whatever h (1e-4 to 1e-7), float64 being what it is.
DERIVED = 1e-12


def estimated(exercise: str, got: Any, want: Any) -> Feedback | None:
    """A hint when ``got``, already within ``close`` of an exact float64 reference ``want`` (the
    engine's backward, a closed form), agrees with it only as an estimate by finite differences
    does: by more than ``DERIVED`` of the largest entry of ``want``. None when it agrees to
    rounding. ``got`` and ``want`` are arrays, or tuples of arrays (dx, dgamma, dbeta) compared
    pair by pair. Only for float64 cases: a float32 case keeps its own tolerance."""
    pairs = list(zip(got, want)) if isinstance(want, tuple) else [(got, want)]
    arrays = [(np.asarray(m, dtype=np.float64), np.asarray(e, dtype=np.float64)) for m, e in pairs]
    largest = max(float(np.max(np.abs(e), initial=0.0)) for _, e in arrays)
    worst = 0.0  # the largest error, as a fraction of its array's largest entry
    for mine, exact in arrays:
        error = float(np.max(np.abs(mine - exact), initial=0.0))
        # an array of zeros is measured against the gradient's other arrays (its rounding has
        # nothing of its own to be a fraction of); all zeros: nothing to tell an estimate by
        scale = float(np.max(np.abs(exact), initial=0.0)) or largest
        if scale > 0 and error > DERIVED * scale:
            worst = max(worst, error / scale)
    if worst == 0.0:
        return None
    digits = max(int(-np.log10(worst)), 1)
    return hint(
        exercise,
        f"your numbers agree with the gradient only to about {digits} digits, as an estimate by "
        "finite differences does (or a computation in float32, to about 7): the exercise asks "
        "for the exact gradient, derived and computed in float64 (notebook 01: an estimate "
        "takes n forward passes, and is still not exact).",
    )


def roughly(exercise: str, got: Any, want: Any) -> Feedback | None:
    """``estimated``'s hint for an answer that ``close`` refused but that agrees with the exact
    reference ``want`` to within 1e-4 of its largest entry: the right rule computed in float32,
    or estimated with a poor step, rather than a wrong rule. A check asks it last, before its
    catch-all "not yet" (which would send the learner to look for a mistake in the formula).
    None when the answer is further off."""
    mine, exact = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = float(np.max(np.abs(exact), initial=0.0))
    if mine.shape != exact.shape or not np.all(np.abs(mine - exact) <= 1e-4 * scale):
        return None
    return estimated(exercise, got, want)


def numeric_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """The gradient of a scalar function ``f`` at ``x``, entry by entry, by central differences.

    Two calls of f per entry of ``x``: for the small inputs of a self-check. Shape of ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    grad = np.empty_like(x)
    for idx in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[idx] = eps
        grad[idx] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


install_name_hint()  # in a notebook: a NameError says which cell to run first
