"""What grading produces: the verdict of one exercise and the grade of one submitted notebook."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CheckResult", "NotebookGrade"]


@dataclass
class CheckResult:
    """One exercise of one submission: its verdict and the points it earned."""

    exercise: str  # the check cell's grade_id without a trailing "-check"
    points: float  # what the teacher's source says it is worth
    score: float  # points if correct, some of them if "partial", else 0
    # "correct", "partial", "hint", "not done", "by hand", "package", "error", "timeout" or
    # "not run"
    status: str
    message: str = ""


@dataclass
class NotebookGrade:
    """The result of grading one submitted notebook."""

    student: str
    notebook: str  # the submitted file's name
    checks: list[CheckResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    teacher: str = ""  # the teacher notebook it was matched to ("" if none)
    # problems for the teacher's scores only, never the student's feedback: an answer that is
    # the teacher's own solution (the teacher decides what to make of it)
    for_teacher: list[str] = field(default_factory=list)
    # the draw of the checks' random inputs (exercises._draws): the grading run's, None for the
    # notebook's own inputs; the teacher's to repeat the grading, never in the feedback
    draw: int | None = None

    @property
    def score(self) -> float:
        """The points earned over all checks."""
        return sum(check.score for check in self.checks)

    @property
    def points(self) -> float:
        """The points available over all checks."""
        return sum(check.points for check in self.checks)
