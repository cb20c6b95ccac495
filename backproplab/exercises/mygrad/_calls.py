"""Calling the learner's engine from the checks of ``check_step``.

A call that hits a stub or crashes stops the check with a one-line Feedback (``_Stop``), the
learner's answers become float arrays, and an engine that borrows backproplab's own modules,
classes or functions is found out before anything runs.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable
from types import CodeType, ModuleType
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
    # an import inside a function (``from backproplab.autodiff import ...`` in sum_to_shape)
    # leaves no name in the module: the function's code still names the package
    found += [where for where in _importers(engine) if where not in found]
    return sorted(found)


_PACKAGE_PATH = re.compile(r"backproplab(\.\w+)*")  # backproplab, backproplab.autodiff ...


def _importers(engine: ModuleType) -> list[str]:
    """The functions and methods of ``engine`` (nested functions too) whose code imports
    backproplab or names it in a string (``importlib.import_module("backproplab")``)."""
    codes: list[CodeType] = []
    values, seen = list(vars(engine).values()), set()
    while values:
        value = values.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if inspect.isclass(value) and value.__module__ == engine.__name__:
            values += vars(value).values()
            continue
        try:  # any object may sit in a module; one whose attributes raise is no function
            functions = [value, *(getattr(value, a, None) for a in ("__func__", "fget"))]
            codes += [
                f.__code__
                for f in functions
                if isinstance(getattr(f, "__code__", None), CodeType)
                and getattr(f, "__module__", None) == engine.__name__
            ]
        except Exception:  # noqa: BLE001
            continue
    found = []
    while codes:
        code = codes.pop()
        names = [*code.co_names, *(c for c in code.co_consts if isinstance(c, str))]
        if any(_PACKAGE_PATH.fullmatch(n) for n in names):  # not a docstring that names it
            found.append(code.co_qualname.split(".<locals>")[0])
        codes += [c for c in code.co_consts if isinstance(c, CodeType)]
    return found


def _call(exercise: str, fn: Callable, *args: Any) -> Any:
    """The learner's ``fn(*args)`` on copies of ``args`` (an engine that changes its inputs in
    place must not change the check's own arrays); a stub or a crash stops the check with a
    one-line Feedback."""
    try:
        return fn(*copy.deepcopy(args))
    except NotImplementedError as error:
        found = _POINTER.search(str(error))
        if found is None:
            what = "finish the part of mygrad.py this step needs"
        else:
            part = f"part {found.group(2)} of " if found.group(2) else ""
            what = f'do {part}"Your engine" in notebook {found.group(1)} first'
        where = str(error).split(":")[0]
        at = f" (`{where}` in mygrad.py)" if where else ""  # a bare NotImplementedError: no name
        if found is not None and exercise.startswith(f"mygrad {found.group(1)} "):
            # a part of this very step, met before its other parts: "first" would say it comes
            # before them, while the learner may be writing the parts in order
            missing = f'{part}"Your engine" in this notebook'
            message = (
                f"{missing[0].upper()}{missing[1:]} is not written yet{at}: "
                "the check needs all its parts."
            )
            raise _Stop(Feedback(exercise, "not done", message)) from None
        raise _Stop(Feedback(exercise, "not done", f"{what}{at}.")) from None
    except Exception as error:  # the learner's code crashed: say how and where, in one line
        line = str(error).splitlines()[0] if str(error) else ""
        where = _where(error, fn)
        if isinstance(error, TypeError) and "'NoneType'" in line and "the vjp" in where:
            line += (
                "; the vjp got None as its upstream gradient: backward called it before the "
                "node had a gradient (visit a node only after every node that uses it)"
            )
        raise _Stop(
            hint(exercise, f"your engine raised {type(error).__name__}{where}: {line}")
        ) from None


def _where(error: Exception, fn: Callable) -> str:
    """Where the learner's code failed, for the hint: the innermost function of the learner's
    module that ``error`` passed through, other than ``fn`` itself (" in sum_to_shape", " in the
    vjp of Tensor.__matmul__"), or "" (none, or ``fn`` is the grader's stand-in for the module).
    Only a plain function's globals are read: the grader's stand-in would ask the student's
    kernel for them, and raise again when the function is missing (no mygrad.py handed in):
    the grader's kernel reads the traceback there and sends the words (``raised_in``)."""
    raised_in = getattr(error, "raised_in", None)
    if isinstance(raised_in, str):
        return raised_in
    module = fn.__globals__ if inspect.isfunction(fn) else None
    name, tb = "", error.__traceback__
    while module is not None and tb is not None:
        if tb.tb_frame.f_globals is module:
            name = tb.tb_frame.f_code.co_qualname
        tb = tb.tb_next
    if not name or name == getattr(fn, "__qualname__", None):
        return ""
    outer, *inner = name.split(".<locals>.")
    return f" in the vjp of {outer}" if inner else f" in {outer}"


def _arrays(exercise: str, values: Any, what: str) -> list:
    """The learner's list of arrays (None kept) as float arrays, or a hint."""
    out: list[np.ndarray | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        try:
            out.append(np.asarray(v, dtype=np.float64))
        except (TypeError, ValueError):
            raise _Stop(hint(exercise, f"{what} is a {type(v).__name__}, not numbers")) from None
    return out
