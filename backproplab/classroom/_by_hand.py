"""The cells a person marks: nbgrader's manually graded answers and tasks.

nbgrader marks an answer cell "manually graded" with ``solution: true`` and ``grade: true`` (a
Markdown answer, or code the teacher reads), and a task with ``task: true``; each has points.
No check runs for them: the grader lists each as an exercise of its own, worth its points, with
no score until the teacher gives one ("by hand"), except an answer the student left as the
release handed it out, which scores 0 (as nbgrader's autograde does). A code answer still runs
in the student's kernel, like any cell of theirs: later cells may use what it defines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._grades import CheckResult

__all__ = ["ByHand", "by_hand_results", "is_by_hand"]


@dataclass
class ByHand:
    """One cell of a teacher notebook that a person marks."""

    grade_id: str
    points: float
    stub: str | None = None  # the answer cell as the release hands it out (None: a task)

    @property
    def exercise(self) -> str:
        return self.grade_id


def is_by_hand(meta: dict) -> bool:
    """Whether nbgrader's metadata ``meta`` marks a cell that a person marks."""
    return bool(meta.get("grade_id")) and (
        bool(meta.get("task")) or bool(meta.get("grade") and meta.get("solution"))
    )


def by_hand_results(cells: list[Any], marked: list[ByHand]) -> list[CheckResult]:
    """The results of the cells a person marks, for a submission of ``cells``: "by hand" (no
    score yet), or "not done" (0) for an answer left as the release handed it out or deleted."""
    from ._source import nbgrader_metadata  # (which imports this module)

    sources = {  # a student's odd metadata or source is read as no answer, never a crash
        str(nbgrader_metadata(cell).get("grade_id", "")): str(cell.get("source", ""))
        for cell in cells
    }
    results = []
    for item in marked:
        answer = sources.get(item.grade_id)
        if item.stub is not None and (answer is None or answer.strip() == item.stub.strip()):
            message = "not answered: the cell is as it was handed out" if answer else "no answer"
            results.append(CheckResult(item.exercise, item.points, 0.0, "not done", message))
        else:
            results.append(
                CheckResult(item.exercise, item.points, 0.0, "by hand", "your teacher marks it")
            )
    return results
