"""Is the engine being checked the one saved in ``mygrad.py``?

A learner edits ``mygrad.py``, saves it and runs the check cell again; the notebook still holds
the module as the cell above the check last (re)loaded it, so the check would judge the old code
and repeat the old verdict. ``stale_engine`` compares the code of the functions the module holds
with the code the saved file compiles to.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from types import CodeType, ModuleType

_WRAPPED = ("__func__", "fget", "fset", "fdel", "__wrapped__")  # static/classmethod, property


_RELOAD = "the cell that reloads it (mygrad = importlib.reload(mygrad), above the check)"


def stale_engine(engine: object) -> str | None:
    """Why the saved file is not the ``engine`` the notebook holds (it changed since, or it is
    no longer Python) and what to do, or None when they agree or ``engine`` was not imported
    from a file (the grader's stand-in for it, a module made from a string)."""
    if not isinstance(engine, ModuleType):
        return None
    spec = engine.__spec__
    path = spec.origin if spec is not None and spec.has_location else None
    if not path or not path.endswith(".py") or not Path(path).is_file():
        return None  # not imported from a source file (made from a string, a .pyc alone)
    name = Path(path).name
    try:  # as the import system compiles it: no future statements of this file
        saved = compile(Path(path).read_bytes(), path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:  # reloading it fails too: the file needs a fix
        line = getattr(error, "lineno", None)
        what = getattr(error, "msg", None) or str(error)
        where = f" on line {line}" if line else ""
        return (
            f"your saved {name} is not valid Python ({type(error).__name__}{where}: {what}): "
            f"correct it in the editor and save it, then run {_RELOAD} and this check again"
        )
    written: dict[str, list[CodeType]] = {}
    for code in _defined(saved):
        written.setdefault(code.co_qualname, []).append(code)
    # every function of the file that the module holds must be in the saved file, unchanged
    # (one that the file defines and the module lacks shows up as a caller that changed); one
    # the saved file no longer defines at all is not compared: a reload keeps the old module's
    # names, so a function or class renamed or deleted before reloading stays in the module,
    # and would read as "changed" after every reload, until the kernel restarts
    for code in _held(engine, path):
        if code.co_qualname in written and code not in written[code.co_qualname]:
            return (
                f"your saved {name} has changed since this notebook loaded it: run {_RELOAD} "
                "(if that cell fails, correct the line its error names and save again), then "
                "this check again"
            )
    return None


def _held(engine: ModuleType, path: str) -> Iterator[CodeType]:
    """The code of the module's functions and its classes' methods (classes inside classes
    too) that come from ``path`` and are defined at the top level of the file or of a class
    there (a method a notebook cell attached, or a decorator's inner function, is not
    compared)."""
    values, seen = list(vars(engine).values()), set()
    while values:
        value = values.pop()
        if inspect.isclass(value):
            if value.__module__ == engine.__name__ and id(value) not in seen:
                seen.add(id(value))
                values += vars(value).values()
            continue
        try:  # any object may sit in a module; one whose attributes raise is no function
            functions = [value, *[getattr(value, a, None) for a in _WRAPPED]]
        except Exception:  # noqa: BLE001
            continue
        for function in functions:
            code = getattr(function, "__code__", None)
            if (
                isinstance(code, CodeType)
                and code.co_filename == path
                and "<locals>" not in code.co_qualname
            ):
                yield code


def _defined(module: CodeType) -> Iterator[CodeType]:
    """The code of every function a module's source defines at its top level or in the body of
    a class (nested functions are part of their enclosing function's code)."""
    for const in module.co_consts:
        if isinstance(const, CodeType):
            if const.co_flags & inspect.CO_OPTIMIZED:  # a function
                yield const
            else:  # a class body: its methods, and the bodies of classes inside it
                yield from _defined(const)
