"""Print the package's own code in a notebook: the lines a lesson talks about, quoted live.

The notebooks never copy the engine's code into their text: they print it from the package with
these two functions. If the code changes, the printed lines change with it (and nbval, comparing
the stored outputs, says so), and a quote whose line is gone raises instead of printing nothing::

    from backproplab.source import show_row, show_source
    show_row("mul")                                   # the row of ops.py for mul
    show_source(bl.autodiff.backward, "for node in reversed(order)", "hook(node, grads)")
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from . import ops

SourceObject = ModuleType | type | Callable[..., Any]  # what inspect.getsource can read

__all__ = ["show_row", "show_source"]


def show_source(
    obj: SourceObject, first: str | None = None, last: str | None = None, *, where: bool = False
) -> None:
    """Print the source of ``obj`` (a function, class or module of the package), or a part of it.

    With ``first``: from the first line that contains ``first``, through the first line from
    there on that contains ``last`` (just that one line without ``last``). With ``where=True``,
    the file's path is printed above the lines, which lose their common indentation.
    Raises LookupError if no line contains ``first`` (or ``last``).
    """
    try:
        lines = inspect.getsource(obj).splitlines()
    except TypeError:  # a number, a numpy ufunc, a builtin: nothing written in Python to show
        raise TypeError(
            f"show_source: {obj!r} has no Python source to show; pass a function, class or "
            f"module of the package (e.g. bl.autodiff.backward)"
        ) from None
    start, stop = 0, len(lines) - 1
    if first is not None:
        start = _index(lines, first, 0, obj)
        stop = start if last is None else _index(lines, last, start, obj)
    part = lines[start : stop + 1]
    if where:
        path = Path(inspect.getfile(obj)).relative_to(Path(__file__).parents[1])
        part = [f"{path.as_posix()}:"] + textwrap.indent(
            textwrap.dedent("\n".join(part)), "    "
        ).splitlines()
    print("\n".join(part))


def show_row(name: str) -> None:
    """Print the row of ``ops.py`` that defines the op ``name``: its forward beside its vjp
    (with the lines it continues on, if it is longer than one line)."""
    lines = inspect.getsource(ops).splitlines()
    start = next(
        (i for i, line in enumerate(lines) if line.startswith(f"{name} ") and "Op(" in line), None
    )
    if start is None:
        raise LookupError(f"show_row: ops.py has no row named {name!r}")
    stop = start + 1
    while stop < len(lines) and lines[stop].startswith(" "):  # the row goes on, indented
        stop += 1
    print("\n".join(lines[start:stop]))


def _index(lines: list[str], text: str, start: int, obj: SourceObject) -> int:
    """The first line from ``start`` on that contains ``text`` (or a LookupError naming both)."""
    for i in range(start, len(lines)):
        if text in lines[i]:
            return i
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))
    raise LookupError(f"show_source: no line of {name} contains {text!r}")
