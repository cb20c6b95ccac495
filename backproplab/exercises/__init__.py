"""Self-checks for the notebooks' exercises: "correct", or a hint that does not give the answer.

One module per notebook (``nb01.py`` ... ``nb12.py``), one ``check_*`` function per exercise.
An exercise is a function the learner completes between nbgrader's markers::

    def relu_backward(g, x):
        ### BEGIN SOLUTION
        return g * (x > 0)
        ### END SOLUTION

    nb07.check_relu_backward(relu_backward)

In the student release the solution becomes ``raise NotImplementedError(...)``; the check calls the
function, catches that, and says "not done yet" instead of crashing the notebook. A check never
raises: it returns a ``Feedback``, which displays as one line (text and HTML).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Feedback", "attempt", "correct", "hint", "not_done"]


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
        mark = {"correct": "✔ correct", "hint": "✘ not yet", "not done": "… not done yet"}
        return f"{self.exercise}: {mark[self.status]} — {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color = {"correct": "#1a7f37", "hint": "#b35900", "not done": "#57606a"}[self.status]
        return f'<p style="color:{color}"><b>{html.escape(str(self))}</b></p>'


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
    """
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        return not_done(exercise)
    except Exception as error:  # the learner's code crashed: say how, in one line
        first_line = str(error).splitlines()[0] if str(error) else ""
        return hint(exercise, f"your code raised {type(error).__name__}: {first_line}")
