"""A dress rehearsal before class: your answers must earn every point, the blank release none.

``python -m backproplab.classroom rehearse hw1/`` grades two students in a private folder: one
who hands in your notebooks as they are (every solution written), and one who hands in the
student release untouched (every solution a stub). A check that gives your own answers less than
their points cannot work in the grader (a module of checks that is not beside the notebook, a
value it reads that a solution cell computes...), and a check that gives the blank release a
point gives marks for nothing (an ``assert`` that never calls the student's function...). Both
are named, with the grade's own words; nothing is written outside a temporary folder.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ._grades import NotebookGrade
from .grading import Limits, grade_folder
from .release import _NOT_RELEASED, release

__all__ = ["Rehearsal", "rehearse", "rehearsal_text"]

ANSWERS, BLANK = "your answers", "the blank release"  # the two students' names


@dataclass
class Rehearsal:
    """The grades of the two students: ``answers`` (your notebooks) and ``blank`` (the release)."""

    answers: list[NotebookGrade]
    blank: list[NotebookGrade]

    def problems(self) -> list[str]:
        """What would go wrong in class, one line each; empty if nothing."""
        found = []
        checks = [c for g in self.answers for c in g.checks if c.status != "by hand"]
        failing = {c.exercise for c in checks if c.score < c.points}  # each said once, below
        said = set()
        for who, grades in ((ANSWERS, self.answers), (BLANK, self.blank)):
            for grade in grades:
                for problem in grade.problems:
                    if problem.partition(": ")[0] not in failing and problem not in said:
                        said.add(problem)
                        found.append(f"{grade.notebook} ({who}): {problem}")
        for grade in self.answers:
            for check in grade.checks:
                if check.exercise in failing:
                    found.append(
                        f"{check.exercise}: your own answer scored {check.score:g} of "
                        f"{check.points:g} ({check.status}): {check.message}"
                    )
        for grade in self.blank:
            for check in grade.checks:
                if check.score > 0:
                    found.append(
                        f"{check.exercise}: the blank release scored {check.score:g} of "
                        f"{check.points:g}: the check gives points for an exercise nobody "
                        f"answered (its verdict: {check.status})"
                    )
        return found


def rehearse(
    source: str | Path,
    *,
    limits: Limits | None = None,
    jobs: int = 1,
    notebooks: Iterable[str] | None = None,
) -> Rehearsal:
    """Grade ``source`` as handed in by a student who copied your answers and by one who handed
    the release in untouched (``notebooks``, ``limits`` and ``jobs`` as for ``grade_folder``)."""
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"rehearse: {source} is not a folder of notebooks")
    with tempfile.TemporaryDirectory(prefix="backproplab-rehearsal-") as scratch:
        handed_in = Path(scratch) / "submissions"
        release(source, handed_in / BLANK)
        shutil.copytree(source, handed_in / ANSWERS, ignore=lambda _, names: _NOT_RELEASED)
        grades = grade_folder(handed_in, source, limits=limits, jobs=jobs, notebooks=notebooks)
    return Rehearsal(
        answers=[g for g in grades if g.student == ANSWERS],
        blank=[g for g in grades if g.student == BLANK],
    )


def rehearsal_text(rehearsal: Rehearsal) -> str:
    """A line per exercise (its points from your answers, from the blank release), then what
    would go wrong in class, or that nothing would."""
    blank = {c.exercise: c for g in rehearsal.blank for c in g.checks}
    lines = []
    for grade in rehearsal.answers:
        lines.append(f"{grade.notebook}:")
        for check in grade.checks:
            if check.status == "by hand":
                lines.append(
                    f"  {check.exercise}: marked by hand ({check.points:g}), not rehearsed"
                )
                continue
            empty = blank.get(check.exercise)
            lines.append(
                f"  {check.exercise}: your answers {check.score:g} of {check.points:g}, the "
                f"blank release {'-' if empty is None else f'{empty.score:g}'}"
            )
    problems = rehearsal.problems()
    if problems:
        lines += ["", f"{len(problems)} to fix before class:"]
        lines += [f"- {problem}" for problem in problems]
    else:
        lines += ["", "Every exercise graded gives your answers all its points and the blank "
                  "release none."]  # fmt: skip
    return "\n".join(lines)
