"""Checks that use a class of the learner's own module (``from mygrad import Tensor``, then
``Tensor(...)`` in the check cell): no command can grade them, and each says so in one line.

The grader runs a teacher's check in its own process and the student's code in the student's
kernel; only data (numbers, arrays, lists...) comes back (_wire.py). An object of the learner's
class (a mygrad ``Tensor``) lives in the kernel and cannot come back, so such a check would score
every engine 0, the solved one included. The classes are the top-level ``class`` statements of
the teacher's module beside the notebook; a check uses one when its cell, or a function of the
teacher's notebook it calls, reads it (``Tensor``, ``mg.Tensor``). ``plan`` lists the line,
``grade`` and ``rehearse`` score the check as an error with it, before any kernel is asked.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection
from pathlib import Path

from ._parse import parse
from ._source import TeacherCheck, TeacherNotebook, parse_cell

__all__ = ["names_used", "ungradable"]


def _module_classes(path: Path) -> set[str]:
    """The classes the module ``path`` defines at its top level (none if it is not Python)."""
    try:
        tree = parse(path.read_text(encoding="utf-8", errors="replace"))  # safe in threads
    except (OSError, SyntaxError, ValueError):
        return set()
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def _classes_used(check: TeacherCheck, teacher: TeacherNotebook) -> list[str]:
    """The learner's classes the check reads, itself or through the teacher's functions it
    calls, as it names them ("Tensor", "mg.Tensor")."""
    return names_used(check, teacher, _module_classes)


def names_used(
    check: TeacherCheck, teacher: TeacherNotebook, members: Callable[[Path], Collection[str]]
) -> list[str]:
    """The names of the learner's modules among ``members`` of each (read from the teacher's
    file of it) that the check reads, itself or through the teacher's functions it calls, as
    it names them ("Tensor", "mg.Tensor")."""
    if teacher.folder is None:
        return []
    classes = {m: members(teacher.folder / f"{m}.py") for m in teacher.learner_modules}
    functions = {s.name: s for s in teacher.setup if isinstance(s, ast.FunctionDef)}
    tree = parse_cell(check.source)
    code: list[ast.AST] = [tree] if tree is not None else []
    found: list[str] = []
    for each in code:  # (grows as it goes: the functions it calls, and those they call)
        for node in ast.walk(each):
            if isinstance(node, ast.Name) and node.id in functions:
                if functions[node.id] not in code:
                    code.append(functions[node.id])
            elif isinstance(node, ast.Name) and node.id in teacher.imported:
                module, _, name = teacher.imported[node.id].partition(".")
                if name in classes.get(module, ()):
                    found.append(node.id)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in teacher.modules
            ):
                module = teacher.module_of.get(node.value.id, node.value.id)
                if node.attr in classes.get(module, ()):
                    found.append(f"{node.value.id}.{node.attr}")
    return list(dict.fromkeys(found))


def ungradable(check: TeacherCheck, teacher: TeacherNotebook) -> str:
    """Why no command can grade ``check``, in one line naming its cell and what to write
    instead; "" for a check that does not use a class of the learner's module."""
    used = _classes_used(check, teacher)
    if not used:
        return ""
    name = used[0]
    module = teacher.imported.get(name, "").partition(".")[0] or teacher.module_of.get(
        name.partition(".")[0], name.partition(".")[0]
    )
    return (
        f"code cell {check.cell} of the teacher's {teacher.name} uses {name}, a class of the "
        f"learner's {module}.py, whose objects stay in the student's kernel (the grader gets "
        f"data only): every answer would score 0; test {module}.py through functions that take "
        f'and return arrays, as `check_step("NN", {module})` does after `import {module}`'
    )
