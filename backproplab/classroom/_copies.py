"""A student's notebooks in a class's grading: which copies of one notebook are graded (at most
MAX_COPIES), the best copy counted, and the name of each student's feedback file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ._grades import NotebookGrade
from ._source import TeacherNotebook

__all__ = ["MAX_COPIES", "best_copies", "copies", "file_names", "not_graded"]


def file_names(students: Iterable[str]) -> dict[str, str]:
    """A distinct file name (without extension) for each student's feedback: characters other than
    letters, digits, ``-``, ``_`` and ``.`` become ``_``, and a name another student already has
    ("a b" and "a_b", "Ada" and "ada" on a case-insensitive disk) gets ``-2``, ``-3``..."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for student in students:
        base = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in student)
        name, number = base, 1
        while name.casefold() in taken:
            number += 1
            name = f"{base}-{number}"
        taken.add(name.casefold())
        names[student] = name
    return names


MAX_COPIES = 3  # copies of one teacher notebook graded per student


def copies(paths: list[Path], teacher_of: dict[Path, str]) -> tuple[list[Path], list[Path]]:
    """(the notebooks to grade, the copies left out): at most MAX_COPIES per teacher notebook, the
    one named as the teacher's first. Each copy costs a kernel's run: forty copies of a two-exercise
    notebook kept the grader on one student for 59 s (4.5 s with three graded)."""
    graded: list[Path] = []
    left_out: list[Path] = []
    seen: dict[str, int] = {}
    for path in sorted(paths, key=lambda p: (p.name != teacher_of.get(p), str(p))):
        teacher = teacher_of.get(path)  # None: unreadable or unmatched, said so when graded
        if teacher is not None:
            seen[teacher] = seen.get(teacher, 0) + 1
        (left_out if seen.get(str(teacher), 0) > MAX_COPIES else graded).append(path)
    return graded, left_out


def not_graded(student: str, path: Path, teacher: str) -> NotebookGrade:
    problem = f"not graded: {MAX_COPIES} copies of {teacher} were graded already"
    return NotebookGrade(student, path.name, [], [problem], "")


def best_copies(student: str, grades: list[NotebookGrade], teachers: list[TeacherNotebook]):
    """One grade per teacher notebook (the best copy), with the other copies as problems."""
    kept: dict[str, NotebookGrade] = {}
    others: list[NotebookGrade] = []
    for grade in grades:
        if not grade.teacher:
            others.append(grade)
            continue
        current = kept.get(grade.teacher)
        if current is None or grade.score > current.score:
            if current is not None:
                others.append(current)
            kept[grade.teacher] = grade
        else:
            others.append(grade)
    result = list(kept.values())
    for grade in others:
        note = NotebookGrade(student, grade.notebook, [], list(grade.problems), "")
        note.for_teacher = list(grade.for_teacher)
        if grade.teacher:
            note.problems.append(
                f"another copy of {grade.teacher} (scored {grade.score:g}): only the best counts"
            )
        result.append(note)
    return result
