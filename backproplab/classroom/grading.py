"""Autograding: run each submitted notebook in a fresh kernel and score its self-checks.

A submission is a student's copy of a notebook. Its exercises are scored by the self-check cells
the notebook already has (nbgrader ``grade: true`` cells, each with ``points``): a check cell that
displays a ``Feedback`` saying "correct" earns its points, anything else (a hint, "not done yet",
an exception, a cell that never ran) earns 0.

Each notebook runs in its own kernel, with a time limit per cell. A cell that runs past it is
interrupted and grading goes on with the next cell; after two such cells in a row the kernel is
considered stuck and the rest of that notebook is not run. Exceptions do not stop a notebook
(later exercises still get graded), and nothing that happens in one submission affects another.

Checks can be edited by a student. Pass the teacher's notebooks as ``source`` and every check
cell is put back to the teacher's version (matched by its nbgrader ``grade_id``) before running.

Submitted notebooks are code: run them on a machine (or in a container) you do not mind them
touching.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from backproplab.exercises import Feedback

__all__ = [
    "CheckResult",
    "NotebookGrade",
    "feedback_status",
    "grade_folder",
    "grade_notebook",
    "scores_csv",
    "scores_table",
]


def _verdict(status: str) -> str:
    """How a verdict reads inside a Feedback's text, e.g. ": ✔ correct — ", taken from Feedback."""
    text = str(Feedback("EXERCISE", status, "MESSAGE"))  # "EXERCISE: ✔ correct — MESSAGE"
    return text[len("EXERCISE") : -len("MESSAGE")]


_VERDICTS = {status: _verdict(status) for status in ("correct", "hint", "not done")}

# What a cell that ran past the time limit shows instead of its outputs.
_TIMEOUT = {"ename": "Timeout", "evalue": "the cell ran past the time limit", "traceback": []}


@dataclass
class CheckResult:
    """One self-check cell of one submission: its verdict and the points it earned."""

    exercise: str  # the check cell's grade_id without a trailing "-check"
    points: float  # what the check is worth
    score: float  # what the submission earned: points if correct, else 0
    status: str  # "correct", "hint", "not done", "error", "timeout", "not run" or "missing"
    message: str = ""


@dataclass
class NotebookGrade:
    """The result of running one submitted notebook."""

    student: str
    notebook: str  # the notebook's file name
    checks: list[CheckResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # timeouts, a dead kernel, unreadable file

    @property
    def score(self) -> float:
        """The points earned over all checks."""
        return sum(check.score for check in self.checks)

    @property
    def points(self) -> float:
        """The points available over all checks."""
        return sum(check.points for check in self.checks)


def _grading(cell: nbformat.NotebookNode) -> dict:
    """The cell's nbgrader metadata when it is a self-check cell, else an empty dict."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if meta.get("grade") and cell.cell_type == "code" else {}


def _exercise(grade_id: str) -> str:
    return grade_id.removesuffix("-check")


def feedback_status(outputs: list) -> tuple[str, str]:
    """The verdict a check cell's ``outputs`` show: (status, the line that says so).

    Status is "correct" only if at least one Feedback was displayed and every one says correct;
    "error" if the cell raised; "not run" if it shows no Feedback at all.
    """
    verdicts: list[tuple[str, str]] = []
    for output in outputs:
        if output.get("output_type") == "error":
            return "error", f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        if output.get("output_type") == "stream":
            text = output.get("text", "")
        else:
            text = output.get("data", {}).get("text/plain", "")
        for line in "".join(text).splitlines():
            for status, verdict in _VERDICTS.items():
                if verdict in line:
                    verdicts.append((status, line.strip()))
    if not verdicts:
        return "not run", "the check displayed no feedback"
    wrong = [verdict for verdict in verdicts if verdict[0] != "correct"]
    return wrong[0] if wrong else verdicts[0]


def _restore_checks(notebook: nbformat.NotebookNode, source: nbformat.NotebookNode) -> None:
    """Put the teacher's version of every check cell (by grade_id) back into ``notebook``."""
    teacher = {_grading(cell)["grade_id"]: cell.source for cell in source.cells if _grading(cell)}
    for cell in notebook.cells:
        grade_id = _grading(cell).get("grade_id")
        if grade_id in teacher:
            cell.source = teacher[grade_id]


def _run(notebook: nbformat.NotebookNode, folder: Path, timeout: float) -> list[str]:
    """Execute ``notebook`` in place in a fresh kernel; return the problems met (timeouts...)."""
    problems: list[str] = []
    timed_out: list[int] = []  # indices of the cells that ran past the limit

    def note_timeout(cell, cell_index, execute_reply):  # nbclient calls this on a cell's error
        if execute_reply["content"].get("ename") == _TIMEOUT["ename"]:
            timed_out.append(cell_index)

    client = NotebookClient(
        notebook,
        timeout=timeout,
        interrupt_on_timeout=True,  # interrupt the cell and go on with the next one ...
        error_on_timeout=_TIMEOUT,  # ... without waiting for the kernel to acknowledge it
        allow_errors=True,  # an exception in one cell must not stop the others being graded
        on_cell_error=note_timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
        shutdown_kernel="immediate",  # a stuck kernel is killed, not waited for
    )
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            try:
                client.execute_cell(cell, index)
            except DeadKernelError:
                problems.append(
                    f"the kernel died in cell {index}: the remaining cells were not run"
                )
                break
            if timed_out and timed_out[-1] == index:
                cell.outputs = [nbformat.v4.new_output("error", **_TIMEOUT)]
                problems.append(f"cell {index} ran longer than {timeout:g} s")
                if len(timed_out) >= 2 and _next_code_cell(notebook, timed_out[-2]) == index:
                    problems.append("the kernel stayed stuck: the remaining cells were not run")
                    break
    return problems


def _next_code_cell(notebook: nbformat.NotebookNode, index: int) -> int | None:
    """The index of the first code cell after ``index``."""
    for later in range(index + 1, len(notebook.cells)):
        if notebook.cells[later].cell_type == "code":
            return later
    return None


def grade_notebook(
    path: str | Path,
    student: str,
    *,
    timeout: float = 60,
    source: nbformat.NotebookNode | None = None,
) -> NotebookGrade:
    """Run one submitted notebook and score each of its self-check cells.

    ``timeout`` is the limit per cell in seconds. With the teacher's ``source`` notebook, its check
    cells replace the submission's, and a check the submission lacks scores 0 as "missing".
    """
    path = Path(path)
    grade = NotebookGrade(student, path.name)
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # a corrupt upload must not stop the class's grading
        grade.problems.append(f"could not read the notebook: {type(error).__name__}: {error}")
        notebook = nbformat.v4.new_notebook()
    if source is not None:
        _restore_checks(notebook, source)
    for cell in notebook.cells:  # stale outputs from the student's own run must not count
        if cell.cell_type == "code":
            cell.outputs = []
    if notebook.cells:
        grade.problems += _run(notebook, path.parent, timeout)

    for cell in notebook.cells:
        meta = _grading(cell)
        if meta:
            status, message = feedback_status(cell.outputs)
            if status == "error" and message.startswith(_TIMEOUT["ename"]):
                status = "timeout"
            points = float(meta.get("points", 1))
            score = points if status == "correct" else 0.0
            grade.checks.append(
                CheckResult(_exercise(meta["grade_id"]), points, score, status, message)
            )
    if source is not None:
        found = {check.exercise for check in grade.checks}
        for cell in source.cells:
            meta = _grading(cell)
            if meta and _exercise(meta["grade_id"]) not in found:
                points = float(meta.get("points", 1))
                exercise = _exercise(meta["grade_id"])
                grade.checks.append(CheckResult(exercise, points, 0.0, "missing", "check deleted"))
    return grade


def _submissions(folder: Path) -> Iterable[tuple[str, Path]]:
    """(student, notebook) pairs: ``folder/<student>/**/*.ipynb``, or ``folder/<student>.ipynb``."""
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder)
        if ".ipynb_checkpoints" in relative.parts:
            continue
        yield (relative.parts[0] if len(relative.parts) > 1 else path.stem), path


def grade_folder(
    folder: str | Path,
    *,
    timeout: float = 60,
    source: str | Path | None = None,
) -> list[NotebookGrade]:
    """Grade every submission in ``folder`` (see ``_submissions`` for the layout), one by one.

    ``source`` is the teacher's notebook folder: check cells are restored from the notebook of the
    same file name there.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"grade: {folder} is not a folder of submissions")
    grades = []
    for student, path in _submissions(folder):
        teacher = None
        if source is not None and (Path(source) / path.name).exists():
            teacher = nbformat.read(Path(source) / path.name, as_version=4)
        grades.append(grade_notebook(path, student, timeout=timeout, source=teacher))
    return grades


def _rows(grades: list[NotebookGrade]) -> tuple[list[str], list[list[str]]]:
    """One row per student, one column per exercise (in first-seen order), then the totals."""
    exercises: list[str] = []
    by_student: dict[str, list[NotebookGrade]] = {}
    for grade in grades:
        by_student.setdefault(grade.student, []).append(grade)
        exercises += [c.exercise for c in grade.checks if c.exercise not in exercises]
    header = ["student", *exercises, "score", "points", "problems"]
    rows = []
    for student, student_grades in by_student.items():
        checks = {c.exercise: c for g in student_grades for c in g.checks}
        cells = [f"{checks[e].score:g}" if e in checks else "" for e in exercises]
        score = sum(g.score for g in student_grades)
        points = sum(g.points for g in student_grades)
        problems = "; ".join(f"{g.notebook}: {p}" for g in student_grades for p in g.problems)
        rows.append([student, *cells, f"{score:g}", f"{points:g}", problems])
    return header, rows


def scores_csv(grades: list[NotebookGrade]) -> str:
    """The scores as CSV: one row per student, one column per exercise, then the totals."""
    header, rows = _rows(grades)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def scores_table(grades: list[NotebookGrade]) -> str:
    """The scores as an aligned plain-text table, for the terminal."""
    header, rows = _rows(grades)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(text.ljust(width) for text, width in zip(row, widths)) for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)
