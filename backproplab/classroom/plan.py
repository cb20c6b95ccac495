"""What is graded where: a course plan read from the teacher's notebooks.

``python -m backproplab.classroom plan notebooks/`` prints, per graded notebook in order: its
title, its graded exercises and their points (read as ``grade`` reads them, with
``load_source``), the checks its cells call that no graded cell does (a challenge with a
self-check only), its total, whether it checks the learner's own engine (a check cell calling
``check_step("NN", mygrad)``), which other notebooks' "Your engine" parts that check needs, the
prerequisites the notebook states in its first cell, and the checks no command can grade (one
using a class of the learner's module, ``Tensor(...)`` after ``from mygrad import Tensor``:
_learner_classes.py).

What an engine check needs is measured, not written down: for each notebook whose parts sit in
the teacher's ``mygrad.py`` (``### BEGIN SOLUTION see notebook NN, "Your engine"``), the file is
loaded with that notebook's parts turned into the release's stubs, and the check is run on it;
the notebooks whose stubs make it fail are the ones it needs. Each check is measured on the file
its notebook imports, the ``mygrad.py`` beside it. This runs the teacher's own ``mygrad.py`` in
this process (seconds for the fourteen notebooks: docs/teaching.md gives dated runs).
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import nbformat

from ..exercises.mygrad import STEPS, check_step  # the engine checks the notebooks run
from ._learner_classes import ungradable
from ._learner_objects import returned
from ._parse import parse
from ._source import TeacherNotebook, load_source
from .release import BEGIN_SOLUTION, END_SOLUTION, strip_solutions

__all__ = ["NotebookPlan", "PlanError", "course_plan", "plan_markdown", "plan_text"]

WIDTH = 100  # the longest line of the text plan
_PART = re.compile(r'see notebook (\d+), "Your engine"')  # after a BEGIN marker in mygrad.py
_LINK = re.compile(r"\]\(([^)\s]+\.ipynb)\)")  # a Markdown link to a notebook
_PREREQUISITES = re.compile(  # "## Prerequisites" or "**Prerequisites**:" / "**Prerequisites:**"
    r"^(?:#+\s*Prerequisites\s*$|\*\*Prerequisites:?\*\*:?)", re.MULTILINE
)


def _plain(title: str) -> str:
    """A heading as terminal text: inline maths without its $ signs and LaTeX spacing
    ("$(x + y)\\,z$" reads "(x + y) z"), as the documentation site's navigation shows it."""
    maths = re.sub(r"\$([^$]*)\$", lambda m: re.sub(r"\\[,:;! ]|\\q?quad\b", " ", m[1]), title)
    return " ".join(maths.split())


class PlanError(ValueError):
    """The folder cannot be planned: missing, or without graded cells."""


@dataclass
class NotebookPlan:
    """What one teacher notebook grades and what it needs."""

    name: str  # its path in the folder planned, "09_mlp_from_scratch.ipynb", "week2/hw.ipynb"
    title: str  # the first heading of its first cell, "09 · An MLP from scratch"
    exercises: list[tuple[str, float]]  # (exercise, points), as the grader's reports name them
    engine_step: str | None  # "09" for a check cell calling check_step("09", mygrad)
    engine_exercise: str | None  # the exercise of that check cell, "nb09-mygrad"
    needs: list[str] | None  # notebooks whose engine parts that check needs; None: not measured
    prerequisites: list[str] | None  # stated in its first cell; None: not stated
    # checks its cells call that no graded cell calls ("nb12.check_training_run"): the learner
    # sees their verdicts, the grader gives them no points
    self_checks: list[str] = field(default_factory=list)
    # checks no command can grade, one line each (a check using the learner's Tensor class)
    ungradable: list[str] = field(default_factory=list)

    @property
    def points(self) -> float:
        """The notebook's total points."""
        return sum(points for _, points in self.exercises)


def course_plan(folder: str | Path) -> list[NotebookPlan]:
    """The plan of every notebook with graded cells in ``folder``, in the grader's order.

    Raises PlanError for a missing folder or one without graded cells.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PlanError(f"plan: {folder} is not a folder")
    try:
        teachers = load_source(folder)
    except ValueError as error:  # two notebooks with one check, points that are not a number
        raise PlanError("plan: " + str(error).removeprefix("grade: ")) from None
    if not teachers:
        raise PlanError(f"plan: no graded cells (nbgrader grade_id and points) in {folder}")
    plans = [_notebook_plan(teacher, _path(folder, teacher), folder) for teacher in teachers]
    measured: dict[tuple[Path, str], list[str] | None] = {}  # (engine file, step) -> needs
    for plan, teacher in zip(plans, teachers):
        step = plan.engine_step
        path = _engine_file(folder, teacher, plan.name) if step else None
        if step and path:
            if (path, step) not in measured:
                measured[path, step] = _engine_needs(path, step)
            plan.needs = measured[path, step]
    return plans


def _path(folder: Path, teacher: TeacherNotebook) -> Path:
    """The file ``teacher`` was read from: in its own subfolder (two notebooks of one name in
    different subfolders are two notebooks, each planned from its own file)."""
    return (teacher.folder or folder) / teacher.name


def _notebook_plan(teacher: TeacherNotebook, path: Path, folder: Path) -> NotebookPlan:
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    first = cells[0].source if cells and cells[0].cell_type == "markdown" else ""
    headings = [line.lstrip("#").strip() for line in first.split("\n") if line.startswith("#")]
    step, engine_exercise = None, None
    for check in teacher.checks:
        found = _check_step(check.source)
        if found:
            step, engine_exercise = found, check.exercise
    return NotebookPlan(
        name=path.relative_to(folder).as_posix(),  # week1/hw.ipynb and week2/hw.ipynb told apart
        title=_plain(headings[0]) if headings else path.stem,
        exercises=[(check.exercise, check.points) for check in teacher.checks]
        + [(f"{item.exercise} (by hand)", item.points) for item in teacher.by_hand],
        engine_step=step,
        engine_exercise=engine_exercise,
        needs=None,
        prerequisites=_prerequisites(first),
        self_checks=_self_checks(cells),
        ungradable=[
            f"{c.exercise}: {why}"
            for c in teacher.checks
            if (why := ungradable(c, teacher) or returned(c, teacher))
        ],
    )


_NOTEBOOK_MODULE = re.compile(r"nb\d\d")  # backproplab.exercises.nbNN, as the notebooks name it


def _self_checks(cells: list) -> list[str]:
    """``nbNN.check_…`` functions the notebook's cells call, in order, that no graded cell
    (nbgrader ``grade``) calls: a challenge or an optional exercise with a self-check only."""
    graded: set[str] = set()
    other: list[str] = []
    for cell in cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = parse(cell.source)
        except SyntaxError:
            continue
        called = [
            f"{node.func.value.id}.{node.func.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and _NOTEBOOK_MODULE.fullmatch(node.func.value.id)
            and node.func.attr.startswith("check_")
        ]
        if cell.metadata.get("nbgrader", {}).get("grade"):
            graded.update(called)
        else:
            other += called
    return [name for name in dict.fromkeys(other) if name not in graded]


def _check_step(source: str) -> str | None:
    """The step of a ``check_step("NN", ...)`` call in a check cell, or None."""
    try:
        tree = parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "check_step"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            return str(node.args[0].value).zfill(2)
    return None


def _prerequisites(first_cell: str) -> list[str] | None:
    """The notebooks linked in the first cell's "Prerequisites" paragraph ([] for one that
    begins with "none"), or None when the cell has no such paragraph."""
    found = _PREREQUISITES.search(first_cell)
    if found is None:
        return None
    rest = first_cell[found.end() :].lstrip(" :\n")
    paragraph = rest.split("\n\n")[0]
    if paragraph.lower().startswith("none"):
        return []
    return sorted({_label(Path(link).name) for link in _LINK.findall(paragraph)})


def _label(name: str) -> str:
    """A notebook's short name: its number ("05" for 05_matmul_gradients.ipynb), else its stem."""
    stem = Path(name).stem
    number = stem.split("_")[0]
    return number if number.isdigit() else stem


# ------------------------------------------------------------- what each engine check needs
def _engine_file(folder: Path, teacher: TeacherNotebook, name: str) -> Path | None:
    """The engine file (``mygrad.py``) the notebook ``name`` imports: the teacher's, with its
    "Your engine" parts, not a release's copy or another module of solutions; the one beside
    the notebook if several are in ``folder`` (PlanError if none is beside it); None if there
    is none."""
    modules = sorted(teacher.module_files)  # the learner's own modules the notebook imports
    files = [p for module in modules for p in sorted(folder.rglob(f"{module}.py"))]
    texts = {p: p.read_text(encoding="utf-8") for p in files}
    solved = [p for p in files if BEGIN_SOLUTION in texts[p]]
    engines = [p for p in solved if _PART.search(texts[p])]  # not another module of solutions
    found = engines or solved or files  # the teacher's file, not a release's copy beside it
    beside = [p for p in found if p.parent == (teacher.folder or folder)]
    if len(found) > 1 and not beside:
        several = " and ".join(p.relative_to(folder).as_posix() for p in found)
        raise PlanError(
            f"plan: {name} checks your engine but has no {found[0].name} beside it, and the "
            f"folder has several ({several}): put the one it imports beside it"
        )
    return beside[0] if beside else found[0] if found else None


def _engine_needs(path: Path, step: str) -> list[str] | None:
    """The other notebooks whose parts in the engine file ``path`` the check of ``step`` needs;
    None if it fails on the whole file (a release's stubs): not measured."""
    source = path.read_text(encoding="utf-8")
    owners = sorted(
        {
            found.group(1)
            for line in source.split("\n")
            if BEGIN_SOLUTION in line and (found := _PART.search(line))
        }
    )

    def passes(text: str) -> bool:
        try:
            return check_step(step, _module(text, path)).passed
        except Exception:  # noqa: BLE001 - an engine that does not even load fails the check
            return False

    if not passes(source):
        return None
    return [n for n in owners if n != step and not passes(_stubbed(source, n))]


def _stubbed(source: str, number: str) -> str:
    """``source`` with the parts of notebook ``number`` made the release's stubs, the other
    solution regions kept as plain code."""
    kept, owner = [], None
    for line in source.split("\n"):
        if BEGIN_SOLUTION in line:
            found = _PART.search(line)
            owner = found.group(1) if found else None
            if owner == number:
                kept.append(line)
        elif END_SOLUTION in line:
            if owner == number:
                kept.append(line)
            owner = None
        else:
            kept.append(line)
    return strip_solutions("\n".join(kept))


def _module(text: str, path: Path) -> ModuleType:
    """A module made from ``text``, as if imported from ``path``."""
    module = ModuleType(path.stem)
    module.__file__ = str(path)
    exec(compile(text, str(path), "exec"), module.__dict__)  # noqa: S102 - the teacher's file
    return module


# ------------------------------------------------------------------------------- the reports
def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def _numbers(labels: list[str] | None, empty: str) -> str:
    return ", ".join(labels) if labels else empty


def _stated(prerequisites: list[str] | None) -> str:
    return "not stated" if prerequisites is None else _numbers(prerequisites, "none")


def _engine(plan: NotebookPlan) -> tuple[str, str]:
    """What the notebook's engine check is, and what it needs, in words."""
    if plan.engine_step is None:
        return "no", ""
    what = f"{plan.engine_exercise} checks step {plan.engine_step}"
    if plan.engine_step in STEPS:
        what += f" ({STEPS[plan.engine_step]})"
    if plan.needs is None:
        return what, "not measured (the folder's engine file is not complete)"
    return what, _numbers(plan.needs, "none from other notebooks")


def _wrap(items: list[str], head: str) -> list[str]:
    """``head`` and the comma-separated ``items``, an item never split across lines."""
    lines = [head]
    for k, item in enumerate(items):
        item += "," if k < len(items) - 1 else ""
        if len(lines[-1]) + len(item) + 1 > WIDTH and lines[-1].strip() != head.strip():
            lines.append(" " * len(head))
        lines[-1] += item if lines[-1].endswith(" ") else " " + item
    return lines


def plan_text(plans: list[NotebookPlan]) -> str:
    """The plan as plain text, lines of at most ``WIDTH`` characters."""
    out = []
    for plan in plans:
        out.append(textwrap.shorten(f"{plan.name}: {plan.title}", WIDTH, placeholder=" …"))
        out += _wrap([f"{name} ({points:g})" for name, points in plan.exercises], "  graded: ")
        if plan.self_checks:
            out += _wrap(plan.self_checks, "  self-check only, not graded: ")
        for line in plan.ungradable:  # (a long line: wrapped between words)
            first, rest = "  cannot be graded: ", "    "
            out += textwrap.wrap(line, WIDTH, initial_indent=first, subsequent_indent=rest)
        out.append(f"  total: {_points(plan.points)}")
        engine, needs = _engine(plan)
        out.append(f"  your engine: {engine}")
        if needs:
            out.append(f"  engine parts that check needs: {needs}")
        stated = _stated(plan.prerequisites)
        out.append(f"  prerequisites (first cell): {stated}")
        out.append("")
    exercises = sum(len(plan.exercises) for plan in plans)
    total = sum(plan.points for plan in plans)
    out.append(
        f"Course total: {len(plans)} notebooks, {exercises} graded exercises, {_points(total)}"
    )
    return "\n".join(out)


def plan_markdown(plans: list[NotebookPlan]) -> str:
    """The plan as a Markdown table, a row per notebook and one for the course."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = [
        "| Notebook | Graded exercises (points) | Points | Your engine | "
        "Engine check needs | Prerequisites |",
        "|---|---|---|---|---|---|",
    ]
    for plan in plans:
        engine, needs = _engine(plan)
        if plan.engine_step is not None:
            engine = plan.engine_exercise or "yes"
        stated = _stated(plan.prerequisites)
        graded = ", ".join(f"{name} ({points:g})" for name, points in plan.exercises)
        if plan.self_checks:
            graded += f"; self-check only, not graded: {', '.join(plan.self_checks)}"
        graded += "".join(f"; cannot be graded: {line}" for line in plan.ungradable)
        row = [plan.title, graded, f"{plan.points:g}", engine, needs or "", stated]
        rows.append("| " + " | ".join(cell(text) for text in row) + " |")
    exercises = sum(len(plan.exercises) for plan in plans)
    total = sum(plan.points for plan in plans)
    rows.append(
        f"| **Course total** | {exercises} exercises in {len(plans)} notebooks "
        f"| **{total:g}** | | | |"
    )
    return "\n".join(rows)
