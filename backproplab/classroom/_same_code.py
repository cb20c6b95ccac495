"""Answers that are the teacher's own solution: the same code, comments and spacing aside.

The curriculum is public: the repository's notebooks and the documentation site hold every
solution. An answer the grader finds to be one of them still scores what its check says; the
teacher's scores say so, the student's feedback does not (the teacher decides).

Code is compared as Python's parser reads it (``ast.dump`` of each statement), so comments,
spacing, blank lines, line breaks, redundant parentheses and the kind of quotes make no difference;
renamed variables do. A solution region (the lines between ``### BEGIN SOLUTION`` and ``### END
SOLUTION``, found by the release's own ``solution_regions``) is found in a student's code when its
statements appear, in order and one after the other, in a block of the student's code (a function's
body, a loop's, the cell itself). A module's solution is looked for in the module handed in, and
in the module with the notebook's cells (pasted into a cell that puts it into the module).

A short answer often has one sensible form (``return upstream * b, upstream * a``), so students who
never saw the solution write it too: only regions of at least ``MIN_STATEMENTS`` statements (those
inside a loop or an ``if`` counted as well) are compared. An exercise is flagged when it has such a
region and every one of them is found. Of the curriculum's 55 graded notebook exercises, 24 are
one statement and 4 are two: 27 can be flagged; of mygrad.py's 29 regions 6 are one statement and
11 two, and 7 of its 9 checked parts (nbNN-mygrad) can be flagged.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

from ._parse import parse
from .release import ReleaseError, solution_regions

__all__ = [
    "MIN_STATEMENTS",
    "Region",
    "copied_exercises",
    "module_solutions",
    "read_module",
    "regions_of",
    "statements_of",
]

MIN_STATEMENTS = 3
MAX_MODULE_BYTES = 2**20  # a learner's engine file is some 15 kB

Region = tuple[str, ...]  # the ast.dump of each of its statements


def statements_of(code: str) -> Region | None:
    """The statements of ``code`` (dedented) as ``ast.dump`` strings; None if it is not Python."""
    try:
        tree = parse(textwrap.dedent(code))
    except (SyntaxError, ValueError):
        return None
    return tuple(ast.dump(statement) for statement in tree.body)


def _size(code: str) -> int:
    tree = parse(textwrap.dedent(code))
    return sum(isinstance(node, ast.stmt) for node in ast.walk(tree))


def regions_of(source: str) -> list[tuple[str, Region]]:
    """(the text after its BEGIN marker, its statements) of each region of ``source`` long enough
    to compare (``MIN_STATEMENTS``); regions that are not Python on their own are left out."""
    try:
        regions = solution_regions(source)
    except ReleaseError:
        return []
    found = []
    for where, code in regions:
        statements = statements_of(code)
        if statements is not None and _size(code) >= MIN_STATEMENTS:
            found.append((where, statements))
    return found


def module_solutions(path: Path, exercises: list[str]) -> dict[str, list[Region]]:
    """The long regions of the teacher's module ``path`` (``mygrad.py``), by the exercise that
    checks them: a region marked ``see notebook 05`` belongs to ``nb05-mygrad`` (of ``exercises``,
    the notebook's check names)."""
    by_exercise: dict[str, list[Region]] = {}
    for where, statements in regions_of(path.read_text(encoding="utf-8", errors="replace")):
        number = re.search(r"notebook (\d+)", where)
        exercise = f"nb{number.group(1)}-{path.stem}" if number else ""
        if exercise in exercises:
            by_exercise.setdefault(exercise, []).append(statements)
    return by_exercise


def _blocks(tree: ast.AST) -> list[tuple[str, ...]]:
    """Every block of statements in ``tree`` (its body, each function's, loop's, branch's...)."""
    blocks = []
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                blocks.append(tuple(ast.dump(statement) for statement in block))
    return blocks


def _found(region: Region, blocks: list[tuple[str, ...]]) -> bool:
    n = len(region)
    return any(block[i : i + n] == region for block in blocks for i in range(len(block) - n + 1))


def _parsed(code: str) -> ast.Module | None:
    lines = [line for line in code.split("\n") if not line.lstrip().startswith(("%", "!"))]
    try:
        return parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return None


def copied_exercises(
    solutions: dict[str, list[Region]], cells: list[str], modules: dict[str, str]
) -> list[str]:
    """The notes for the exercises whose every long region is in the student's code: ``cells``
    (their code cells' sources, all searched) or ``modules`` (their ``mygrad.py``, by name)."""
    notebook = [b for tree in map(_parsed, cells) if tree is not None for b in _blocks(tree)]
    module_blocks = {}
    for name, code in modules.items():
        tree = _parsed(code)
        module_blocks[name] = _blocks(tree) if tree is not None else []
    notes = []
    for exercise, regions in solutions.items():
        module = exercise.split("-", 1)[-1]
        blocks = module_blocks.get(module, notebook)
        where = f" in {module}.py" if module in module_blocks else ""
        if module in module_blocks and not all(_found(r, blocks) for r in regions):
            # the module's solution pasted into a cell that puts it into the module
            blocks, where = [*blocks, *notebook], f" in {module}.py and the notebook's cells"
        if regions and all(_found(region, blocks) for region in regions):
            notes.append(
                f"{exercise}: the answer{where} is the teacher's solution "
                "(the same code, comments and spacing aside)"
            )
    return notes


def read_module(folder: Path, name: str) -> str | None:
    """The student's ``name``.py in ``folder`` as the kernel imports it (None if absent, a
    symbolic link or over ``MAX_MODULE_BYTES``)."""
    path = folder / f"{name}.py"
    if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_MODULE_BYTES:
        return None
    return path.read_text(encoding="utf-8", errors="replace")
