"""A dress rehearsal before class: your answers must earn every point, the blank release none.

``python -m backproplab.classroom rehearse hw1/`` grades two students in a private folder: one
who hands in your notebooks as they are (every solution written), and one who hands in the
student release untouched (every solution a stub). A check that gives your own answers less than
their points cannot work in the grader (a module of checks that is not beside the notebook, a
value it reads that a solution cell computes...), and a check that gives the blank release a
point gives marks for nothing (an ``assert`` that never calls the student's function...). Both
are named, with the grade's own words; nothing is written outside a temporary folder. The
checks draw their random inputs afresh, as in a grading (``--check-draw`` repeats a draw).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from backproplab.exercises._draws import fresh_draw, valid_draw

from ._grades import NotebookGrade
from ._sandbox import PlatformError, require_linux
from ._source import load_source, refuse_same_names
from ._term import assignment
from .grading import Limits, grade_folder
from .release import _NOT_RELEASED, release

__all__ = ["Rehearsal", "rehearse", "rehearsal_text"]

ANSWERS, BLANK = "your answers", "the blank release"  # the two students' names
# the draw of a run's check inputs, said to the teacher only (the feedback files never hold it)
DRAWN = "checks' inputs drawn with --check-draw"


@dataclass
class Rehearsal:
    """The grades of the two students: ``answers`` (your notebooks) and ``blank`` (the release)."""

    answers: list[NotebookGrade]
    blank: list[NotebookGrade]
    draw: int | None = None  # the draw of the checks' random inputs (None: the notebook's own)

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
    check_draw: int | None = None,
) -> Rehearsal:
    """Grade ``source`` as handed in by a student who copied your answers and by one who handed
    the release in untouched (``notebooks``, ``limits`` and ``jobs`` as for ``grade_folder``).
    Both hand in the notebooks that are graded (those ``notebooks`` names, if given), with every
    other file; the grading runs on a copy of ``source``, so that a cell of yours that writes a
    file (run for the values a check reads) writes it in the temporary folder. Off Linux, a
    PlatformError before anything is copied (the grader's sandbox needs Linux). The checks draw
    their inputs with ``check_draw``, a fresh draw if None, as a grading does."""
    source = Path(source)
    check_draw = fresh_draw() if check_draw is None else valid_draw(check_draw)
    if not source.is_dir():
        raise FileNotFoundError(f"rehearse: {source} is not a folder of notebooks")
    with tempfile.TemporaryDirectory(prefix="backproplab-rehearsal-") as scratch:
        copy, handed_in = Path(scratch) / "source", Path(scratch) / "submissions"
        try:
            require_linux()  # before the release is made: grade_folder would refuse after it
            teachers = load_source(source)
            if not teachers:
                raise FileNotFoundError(f"rehearse: no notebook with self-checks in {source}")
            chosen = assignment(teachers, notebooks) or teachers
            refuse_same_names(chosen, source, "rehearse")
            graded = {(t.folder or source) / t.name for t in chosen}
            shutil.copytree(source, copy, ignore=lambda _, names: _NOT_RELEASED)
            release(copy, handed_in / BLANK)
            shutil.copytree(copy, handed_in / ANSWERS)
            for student in (ANSWERS, BLANK):  # a notebook with no check is not handed in
                for path in (handed_in / student).rglob("*.ipynb"):
                    if source / path.relative_to(handed_in / student) not in graded:
                        path.unlink()
            grades = grade_folder(
                handed_in,
                copy,
                limits=limits,
                jobs=jobs,
                notebooks=notebooks,
                check_draw=check_draw,
            )
        except (FileNotFoundError, ValueError, PlatformError) as error:  # said by this command
            command, _, said = str(error).replace(str(copy), str(source)).partition(": ")
            if command not in ("grade", "release", "rehearse") or not said:
                said = f"{command}: {said}" if said else command
            raise type(error)(f"rehearse: {said}") from None
    return Rehearsal(
        answers=[g for g in grades if g.student == ANSWERS],
        blank=[g for g in grades if g.student == BLANK],
        draw=check_draw,
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
        if rehearsal.draw is not None:  # to see them again (a check may fail at some draws only)
            lines += ["", f"({DRAWN} {rehearsal.draw}: rehearse with it to see these again)"]
    elif all(c.status == "by hand" for g in rehearsal.answers for c in g.checks):
        lines += ["", "No exercise here is graded by a check: there was nothing to rehearse."]
    else:
        lines += ["", "Every exercise graded gives your answers all its points and the blank "
                  "release none."]  # fmt: skip
    return "\n".join(lines)
