"""An engine the checks ran that was not written in the files handed in.

The same-code comparison (_same_code.py) reads the text of a student's ``mygrad.py``. A file of
two lines that runs a solved ``mygrad.py`` from elsewhere (the one the package installs for the
workbook command, a clone's ``notebooks/``: ``exec`` of its text, ``runpy``, ``importlib``) has
no solution in its text, and scored full marks with nothing said. So while a check calls a
function of the learner's module, the kernel notes each piece of code that runs (the call
recorder of _kernel_side.py sees them all): ``origins`` keeps those that are neither Python's
nor a library's nor the package's, where they come from, with a digest of its bytecode. The
grader then looks each one the kernel says is in the student's folder up in the file handed in
(its copy, which no kernel ran in), compiled, never run: ``not_written``. Code compiled from
text at run time, code of a file outside the folder, code that no function (``lambda``,
``class``...) of the file handed in starts at its line, or that compiles to other bytecode
there, is named for the teacher (so are the padded def lines of a solution compiled under the
file's name; a ``__pycache__`` never reaches the kernel: _staging.py); the score stays (a
teacher reads a surprising answer). What code from a library writes at run time (the
``__init__`` of a dataclass, a namedtuple's ``__new__``) is the library's. docs/teaching.md says
what still passes. Code from one of the notebook's cells (ipykernel names its file after a hash
of the cell's text) is looked up, the same way, in the cell the grader sent (``Kernel.cells``):
a function of the student's engine replaced by one written in a cell is theirs; code run under
a cell's name that the cell does not hold is named.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import site
import sys
import sysconfig
from pathlib import Path
from types import CodeType
from typing import Any

from ._parse import compile_tree, parse

__all__ = ["MAX_REPORTED", "cell_number", "not_written", "origins"]

MAX_REPORTED = 20  # pieces of code named in one reply (an engine has some 40 functions)
MAX_MODULE_BYTES = 2**20  # a learner's engine file is some 15 kB
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
    """[file, first line, name, qualified name, ``fingerprint``] of each code of ``ran`` (code,
    its globals' ``__name__``) that is not Python's, a library's or the package's: its file
    relative to ``folder`` (the student's, where the kernel started) when it is in it, else as
    compiled."""
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
        found.append([name, code.co_firstlineno, code.co_name, code.co_qualname, fingerprint(code)])
        if len(found) == MAX_REPORTED:
            break
    return found


def fingerprint(code: CodeType) -> str:
    """What ``code`` does, as this Python compiled it: a digest of its bytecode, constants and
    names (not of its file or lines), after the Python version and optimization level that
    compiled it (another compiles other bytecode)."""
    constants = [_constant(c) for c in code.co_consts if not isinstance(c, CodeType)]
    names = code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars
    digest = hashlib.sha256(repr((code.co_code, constants, names)).encode()).hexdigest()[:16]
    return f"{_COMPILER}:{digest}"


_COMPILER = f"{sys.implementation.cache_tag}-O{sys.flags.optimize}"


def _constant(value: Any) -> Any:
    if isinstance(value, frozenset):  # (its order is the process's hashing of strings)
        return sorted(map(repr, value))
    return tuple(map(_constant, value)) if isinstance(value, tuple) else repr(value)


def _compiled(path: Path | str) -> dict[tuple[int, str], set[str]]:
    """(first line, name) -> the fingerprints of the code objects of the file ``path`` (compiled
    here as an import compiles it, never run), or of a notebook cell's code (as IPython compiles
    it: %magic lines turned into Python, each statement on its own, which changes the bytecode
    of ``np.exp(x)`` in a function when ``np`` is imported by another statement of the file);
    {} if it is not Python or too long."""
    try:
        if isinstance(path, str):
            from IPython.core.inputtransformer2 import TransformerManager

            tree = parse(TransformerManager().transform_cell(path))  # (through the lock)
            statements = [ast.Module([statement], []) for statement in tree.body]
            codes = [compile_tree(s, "<cell>", "exec", dont_inherit=True) for s in statements]
        elif path.stat().st_size > MAX_MODULE_BYTES:
            return {}
        else:
            codes = [compile(path.read_bytes(), str(path), "exec", dont_inherit=True)]
    except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
        return {}
    found: dict[tuple[int, str], set[str]] = {}
    while codes:
        code = codes.pop()
        found.setdefault((code.co_firstlineno, code.co_name), set()).add(fingerprint(code))
        codes += [c for c in code.co_consts if isinstance(c, CodeType)]
    return found


def cell_number(code: str) -> str:
    """The number ipykernel names the file of a cell of ``code`` after
    (``/tmp/ipykernel_<pid>/<number>.py``): a hash of its text."""
    from ipykernel.compiler import get_tmp_hash_seed, murmur2_x86

    return str(murmur2_x86(code, get_tmp_hash_seed()))


_CELL = re.compile(r"ipykernel_\d+[/\\](\d+)\.py")


def not_written(
    exercise: str, reported: Any, handed_in: Path | None, cells: dict[str, str] | None = None
) -> list[str]:
    """The note for the teacher on ``exercise`` when code of the kernel's reply (``origins``)
    was not written in the files of ``handed_in`` (the student's folder as handed in) or in the
    notebook's cells the grader ran (``cells``: ``Kernel.cells``), else []."""
    if not reported:
        return []
    compiled: dict[str, dict[tuple[int, str], set[str]]] = {}
    said = []
    for entry in reported if isinstance(reported, list) else [reported]:
        if not (isinstance(entry, list) and len(entry) == 5):
            said.append(f"unreadable ({str(entry)[:60]})")
            continue
        file, line, name, qualname, digest = (str(e) for e in entry)
        cell = _CELL.search(file)
        code = (cells or {}).get(cell.group(1)) if cell else None
        if code is not None:  # a function of the notebook's own, written in one of its cells
            if file not in compiled:
                compiled[file] = _compiled(code)
            found = compiled[file].get((int(line) if line.isdigit() else -1, name))
            if found is not None and (digest.partition(":")[0] != _COMPILER or digest in found):
                continue  # (else a cell's name given to other code: os.environ's cell name)
        if os.path.isabs(file) or file.startswith("<"):
            said.append(f"{qualname} ({_where(file)})")
            continue
        path = handed_in / file if handed_in is not None else None
        if path is None or ".." in Path(file).parts or not path.is_file() or path.is_symlink():
            said.append(f"{qualname} ({file}, not handed in)")
            continue
        if file not in compiled:
            compiled[file] = _compiled(path)
        found = compiled[file].get((int(line) if line.isdigit() else -1, name))
        if found is None:
            said.append(f"{qualname} ({file} has no {name} starting at line {line})")
        elif digest.partition(":")[0] == _COMPILER and digest not in found:
            # (a kernel of another Python compiles other bytecode: there the line is all)
            said.append(f"{qualname} (other code than {file}'s {name} of line {line})")
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
