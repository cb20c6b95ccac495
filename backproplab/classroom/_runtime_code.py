"""An engine the checks ran that was not written in the files handed in.

The same-code comparison (_same_code.py) reads the text of a student's ``mygrad.py``. A file of
two lines that runs a solved ``mygrad.py`` from elsewhere (the one the package installs for the
workbook command, a clone's ``notebooks/``: ``exec`` of its text, ``runpy``, ``importlib``) has
no solution in its text, and scored full marks with nothing said. So while a check calls a
function of the learner's module, the kernel notes each piece of code that runs (the call
recorder of _kernel_side.py sees them all): ``origins`` keeps those that are neither Python's
nor a library's nor the package's, where they come from. The grader then asks of each one the
kernel says is in the student's folder whether the file handed in (its copy, which no kernel
ran in) has that function's ``def`` (or ``lambda``, ``class``...) at that line: ``not_written``.
Code compiled from text at run time, code of a file outside the folder, and code whose line
in the handed-in file is not its start are named for the teacher; the score stays (a teacher
reads a surprising answer). What code from a library writes at run time (the ``__init__`` of a
dataclass, a namedtuple's ``__new__``) is the library's. docs/teaching.md says what still passes.
"""

from __future__ import annotations

import ast
import os
import site
import sys
import sysconfig
from pathlib import Path
from types import CodeType
from typing import Any

__all__ = ["MAX_REPORTED", "not_written", "origins"]

MAX_REPORTED = 20  # pieces of code named in one reply (an engine has some 40 functions)
_PACKAGE = str(Path(__file__).resolve().parents[1]) + os.sep
_SOLVED = _PACKAGE + "notebooks" + os.sep  # the solved notebooks and mygrad.py a wheel holds


def _library_folders() -> tuple[str, ...]:
    """Where Python's and the installed libraries' files are: the standard library, each
    site-packages (Debian's numpy is in /usr/lib/python3/dist-packages, not in sysconfig's)."""
    paths = sysconfig.get_paths()
    folders = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    folders |= {*site.getsitepackages(), site.getusersitepackages()}
    folders |= {p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")}
    return tuple(os.path.realpath(f) + os.sep for f in folders)


def _generated_by_a_library(code: CodeType, module: Any) -> bool:
    """Code a library compiled from its own text: dataclasses' methods (``__init__``...),
    namedtuple's ``__new__`` (a lambda)."""
    name = code.co_name
    if code.co_qualname == f"__create_fn__.<locals>.{name}":
        return name.startswith("__") and name.endswith("__")
    return str(module).startswith("namedtuple_") and code.co_qualname == "<lambda>"


def origins(ran: list[tuple[CodeType, Any]], folder: str) -> list[list[Any]]:
    """[file, first line, name, qualified name] of each code of ``ran`` (code, its globals'
    ``__name__``) that is not Python's, a library's or the package's: its file relative to
    ``folder`` (the student's, where the kernel started) when it is in it, else as compiled."""
    libraries = _library_folders()
    inside = os.path.realpath(folder) + os.sep if folder else ""
    found = []
    for code, module in ran:
        name = code.co_filename
        real = os.path.realpath(name) if os.path.isfile(name) else ""
        if not real:
            if name.startswith("<frozen ") or _generated_by_a_library(code, module):
                continue
        elif inside and real.startswith(inside):
            name = os.path.relpath(real, inside)
        elif real.startswith(_SOLVED):
            name = real
        elif real.startswith((_PACKAGE, *libraries)):
            continue
        found.append([name, code.co_firstlineno, code.co_name, code.co_qualname])
        if len(found) == MAX_REPORTED:
            break
    return found


def _starts(path: Path) -> set[tuple[int, str]]:
    """(first line, code name) of each function, lambda, class, comprehension of the file."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError, RecursionError):
        return set()
    kinds: dict[type[ast.expr], str] = {
        ast.Lambda: "<lambda>",
        ast.ListComp: "<listcomp>",
        ast.SetComp: "<setcomp>",
        ast.DictComp: "<dictcomp>",
        ast.GeneratorExp: "<genexpr>",
    }
    starts = {(1, "<module>")}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            lines = [node.lineno, *(d.lineno for d in node.decorator_list)]
            starts.add((min(lines), node.name))
        elif isinstance(node, ast.expr) and type(node) in kinds:
            starts.add((node.lineno, kinds[type(node)]))
    return starts


def not_written(exercise: str, reported: Any, handed_in: Path | None) -> list[str]:
    """The note for the teacher on ``exercise`` when code of the kernel's reply (``origins``)
    was not written in the files of ``handed_in`` (the student's folder as handed in), else
    []."""
    if not reported:
        return []
    starts: dict[str, set[tuple[int, str]]] = {}
    said = []
    for entry in reported if isinstance(reported, list) else [reported]:
        if not (isinstance(entry, list) and len(entry) == 4):
            said.append(f"unreadable ({str(entry)[:60]})")
            continue
        file, line, name, qualname = (str(e) for e in entry)
        if os.path.isabs(file) or file.startswith("<"):
            said.append(f"{qualname} ({_where(file)})")
            continue
        path = handed_in / file if handed_in is not None else None
        if path is None or ".." in Path(file).parts or not path.is_file() or path.is_symlink():
            said.append(f"{qualname} ({file}, not handed in)")
            continue
        if file not in starts:
            starts[file] = _starts(path)
        if (int(line) if line.isdigit() else -1, name) not in starts[file]:
            said.append(f"{qualname} ({file} has no {name} starting at line {line})")
    if not said:
        return []
    more = f" and {len(said) - 3} more" if len(said) > 3 else ""
    return [
        f"{exercise}: the engine the check ran is not all written in the files handed in: "
        f"{', '.join(said[:3])}{more}"
    ]


def _where(file: str) -> str:
    if file.startswith("<"):
        return f"compiled from text at run time, as {file[:40]}"
    if file.startswith(_SOLVED):
        return "the solved mygrad.py the package installs"
    return f"from {file}"
