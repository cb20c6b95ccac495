"""A function of the check's that the student's code calls (a loss handed to a finite-difference
exercise, a gradient handed over as a function) runs in the grader, not in the kernel. When it
raises, the student's code meets the exception it would meet in the notebook: of the same class
(an ``except ValueError`` of theirs catches it) and with the same words. Before the fix it met a
RuntimeError whose message began "ValueError: ": a right answer that catches the error scored
in the notebook and crashed in the grade, and every crash's feedback read "RuntimeError:
ValueError: ...".
"""

from __future__ import annotations

import pytest
from exercise_helpers import grade_own_exercise

SOLUTION = '''def careful_call(f, x):
    """f(x), or 0.0 where f refuses x with a ValueError."""
    ### BEGIN SOLUTION
    try:
        return f(x)
    except ValueError:
        return 0.0
    ### END SOLUTION'''
CHECK = '''class Refused(ValueError):
    """An exception class of the teacher's own, as a package's ShapeError is a ValueError."""


def picky(x):
    if x < 0:
        raise ValueError(f"picky: x = {x:g} is negative")
    if x > 100:
        raise Refused(f"picky: x = {x:g} is too large")
    if x == 50:
        raise KeyError("fifty")
    return 2.0 * x


def check_careful_call(fn):
    if fn(picky, 3.0) != 6.0:
        return hint("careful_call", "f(3) is 6")
    if fn(picky, -1.0) != 0.0:
        return hint("careful_call", "a ValueError from f should give 0.0")
    if fn(picky, 500.0) != 0.0:
        return hint("careful_call", "a subclass of ValueError from f should give 0.0")
    return correct("careful_call")


check_careful_call(careful_call)'''


def grade(tmp_path, body: str) -> tuple[str, str]:
    """(status, message) of the check for a student whose solution body is ``body``."""
    return grade_own_exercise(tmp_path, "careful_call", SOLUTION, CHECK, body)


def test_the_students_except_catches_what_the_checks_function_raised(tmp_path):
    status, message = grade(
        tmp_path,
        "    try:\n        return f(x)\n    except ValueError:\n        return 0.0\n",
    )
    assert status == "correct", message


@pytest.mark.parametrize(
    ("x", "shown"),
    [
        (-1.0, "ValueError: picky: x = -1 is negative"),
        (500.0, "Refused: picky: x = 500 is too large"),
        (50.0, "KeyError: 'fifty'"),
    ],
)
def test_an_uncaught_error_reads_as_in_the_notebook(tmp_path, x, shown):
    body = f"    return f({x!r})\n"  # no except: the first call that f refuses crashes
    status, message = grade(tmp_path, body)
    assert status != "correct"
    assert shown in message, message
    assert "RuntimeError" not in message, message
