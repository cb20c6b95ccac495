"""Calling the learner's engine from the checks of ``check_step``.

A call that hits a stub or crashes stops the check with a one-line Feedback (``_Stop``), the
learner's answers become float arrays, and an engine that borrows backproplab's own modules,
classes or functions is found out before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from .. import Feedback, hint

_POINTER = re.compile(r'see notebook (\d+), "Your engine"(?:, part (\d+))?')


class _Stop(Exception):
    """Carries a Feedback out of the helpers of the checks."""

    def __init__(self, feedback: Feedback) -> None:
        self.feedback = feedback


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
