"""A learner's object that a function of theirs returns to a teacher's check: it cannot leave
the kernel, and every command says so in one line.

The grader runs a teacher's check in its own process and the student's code in their kernel;
only data comes back (_wire.py). A check that calls a function of the learner's engine which
returns an object of the learner's own class (``mygrad.as_tensor(x)``, a mygrad ``Tensor``)
got "the kernel helper failed: AttributeError: 'Tensor' object has no attribute 'op'" for
every student, the solved engine's too (the kernel took it for one of the package's Tensors).
Now the kernel replies which class of which file it was (``learner_class``, run in the kernel),
and the grader scores the check as an error naming the cell (``LearnerObject``); ``plan`` names
the calls it can see without running anything (``returns_learner_object``): functions of the
teacher's module whose ``return`` makes one of its classes, itself or through another of them.
(A check that makes the object itself, ``Tensor(...)``, is _learner_classes.py's.)
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._parse import parse

if TYPE_CHECKING:  # (the kernel imports this module: never nbformat, which _source needs)
    from ._source import TeacherCheck, TeacherNotebook

__all__ = ["LearnerObject", "kept_line", "learner_class", "returned", "returns_learner_object"]


class LearnerObject(BaseException):
    """What the kernel replied: the student's function ``name`` returned an object of the class
    ``qualname`` of the learner's ``file``. A BaseException, as _session.py's GradingStop, so
    that a check's ``attempt`` (which catches Exception) lets it through."""

    def __init__(self, name: str, qualname: str, file: str) -> None:
        super().__init__(f"{name} returned a {qualname} of the learner's {file}")
        self.name, self.qualname, self.file = name, qualname, file


def kept_line(
    cell: int, notebook: str, name: str, qualname: str, file: str, past: bool = True
) -> str:
    """The line for the teacher: which cell, that the object stays in the kernel, and what to
    write instead."""
    module = Path(file).stem
    returns = "returned" if past else "returns"
    return (
        f"code cell {cell} of the teacher's {notebook} calls {name}, which {returns} a "
        f"{qualname} of the learner's {file}, an object that stays in the student's kernel (the "
        "grader gets data only): every answer would score 0; have the check call functions "
        f"that return data (a number, an array such as the Tensor's .data), as "
        f'`check_step("NN", {module})` does after `import {module}`'
    )


def learner_class(value: Any, folder: str, depth: int = 0) -> list[str] | None:
    """[qualified name, file relative to ``folder``] of the first object in ``value`` (or in
    its lists, tuples and dicts) whose class a module of the student's ``folder`` defines (run
    in the kernel); None if there is none."""
    if depth > 50 or not folder:
        return None
    if isinstance(value, (list, tuple)):
        items: Any = value
    elif isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    else:
        module = sys.modules.get(getattr(type(value), "__module__", ""))
        file = getattr(module, "__file__", None)
        inside = os.path.realpath(folder) + os.sep
        if isinstance(file, str) and os.path.realpath(file).startswith(inside):
            return [type(value).__qualname__, os.path.relpath(os.path.realpath(file), inside)]
        return None
    for item in items:
        found = learner_class(item, folder, depth + 1)
        if found:
            return found
    return None


def _made(value: ast.AST | None, makes: dict[str, str], local: dict[str, str]) -> str:
    """The class of which the expression ``value`` makes an object: a call of a class or a
    function of ``makes`` (name -> its class), a variable of ``local`` that one was assigned
    to, either branch of ``a if c else b``; "" for another expression."""
    if isinstance(value, ast.IfExp):
        return _made(value.body, makes, local) or _made(value.orelse, makes, local)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return makes.get(value.func.id, "")
    return local.get(value.id, "") if isinstance(value, ast.Name) else ""


def _own(function: ast.FunctionDef) -> list[ast.AST]:
    """The nodes of ``function``'s own code (not of the functions and classes it defines)."""
    found: list[ast.AST] = []
    todo: list[ast.AST] = list(function.body)
    while todo:
        node = todo.pop(0)
        found.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo += list(ast.iter_child_nodes(node))
    return found


def returns_learner_object(path: Path) -> dict[str, str]:
    """Function -> class, of the top-level functions of the module ``path`` whose ``return``
    makes an object of one of its top-level classes (``Tensor(...)``, or a call of another such
    function: ``node(...)``); {} if it is not Python."""
    try:
        tree = parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return {}
    makes = {node.name: node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    classes = dict(makes)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    changed = True
    while changed:  # node returns a Tensor(...) it made; as_tensor returns Tensor(...)...
        changed = False
        for function in (f for f in functions if f.name not in makes):
            local: dict[str, str] = {}  # out = Tensor(data)
            for statement in _own(function):
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target = statement.targets[0]
                    if isinstance(target, ast.Name) and _made(statement.value, makes, {}):
                        local[target.id] = _made(statement.value, makes, {})
            for statement in _own(function):
                if isinstance(statement, ast.Return) and _made(statement.value, makes, local):
                    makes[function.name] = _made(statement.value, makes, local)
                    changed = True
                    break
    return {name: made for name, made in makes.items() if name not in classes}


def returned(check: TeacherCheck, teacher: TeacherNotebook) -> str:
    """``plan``'s line for a check that calls a function of the learner's module whose
    ``return`` makes one of its classes (``returns_learner_object`` of the teacher's file),
    itself or through the teacher's functions it calls; "" for any other."""
    from ._learner_classes import names_used

    made: dict[str, dict[str, str]] = {}

    def members(path: Path) -> dict[str, str]:
        made[path.stem] = returns_learner_object(path)
        return made[path.stem]

    used = names_used(check, teacher, members)
    if not used:
        return ""
    name = used[0]
    if name in teacher.imported:  # from mygrad import as_tensor (as t)
        module, _, function = teacher.imported[name].partition(".")
    else:  # mg.as_tensor
        bound, _, function = name.partition(".")
        module = teacher.module_of.get(bound, bound)
    qualname = made[module][function]
    return kept_line(check.cell, teacher.name, name, qualname, f"{module}.py", past=False)
