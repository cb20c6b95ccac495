"""A term's gradings: one assignment at a time, into scores and feedback that earlier gradings
may have written.

``--notebooks 04 05`` (``assignment``) makes a grading the assignment's: its columns and points
are those notebooks' exercises whether or not anyone handed one in, and a notebook of another
assignment in a student's folder (last week's, handed in again) is listed, not graded.

A CSV or feedback folder that holds what this grading would not write again (a student not in
this grading, an exercise column it does not have: last week's scores, or the whole class's
when one late student is graded) is never overwritten silently (``refuse_to_overwrite``): with
``--merge`` (``Merge``) the grading goes into it instead, each student graded now replacing their
row, the others kept as they were.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable
from pathlib import Path

from ._grades import NotebookGrade
from ._source import TeacherNotebook

__all__ = ["Merge", "assignment", "exercises_of", "not_assigned", "refuse_to_overwrite"]


def exercises_of(teacher: TeacherNotebook) -> dict[str, float]:
    """The columns a teacher notebook gives the scores, with their points: its checks', then the
    cells a person marks (as a graded notebook lists them)."""
    return {c.exercise: c.points for c in teacher.checks} | {
        item.exercise: item.points for item in teacher.by_hand
    }


def _labels(name: str) -> set[str]:
    """What ``--notebooks`` may call a teacher notebook: its file name, with or without
    ``.ipynb``, and its number ("04" for ``04_inside_the_engine.ipynb``)."""
    stem = Path(name).name.removesuffix(".ipynb")
    return {name, Path(name).name, stem, stem.split("_")[0]}


def assignment(
    teachers: list[TeacherNotebook], names: Iterable[str] | None, command: str = "grade"
):
    """The teacher notebooks named by ``names`` (None: no assignment given). Raises ValueError for
    a name that is no notebook of the source (its message starts with ``command``)."""
    if names is None:
        return None
    wanted = [n.strip() for each in names for n in str(each).split(",") if n.strip()]
    unknown = [n for n in wanted if not any(n in _labels(t.name) for t in teachers)]
    if unknown or not wanted:
        known = ", ".join(t.name for t in teachers)
        raise ValueError(
            f"{command}: --notebooks {' '.join(unknown) or '(none)'}: no such notebook with "
            f"self-checks in the source (it has {known})"
        )
    return [t for t in teachers if any(n in _labels(t.name) for n in wanted)]


def not_assigned(student: str, path: Path, teacher: str, assigned: list[TeacherNotebook]):
    """The row's note for a notebook of another assignment handed in (last week's again)."""
    these = ", ".join(t.name for t in assigned)
    problem = f"the teacher's {teacher}, not part of this assignment ({these}): not graded"
    return NotebookGrade(student, path.name, [], [problem], "")


_OWN = ("student", "score", "points", "problems")  # a scores CSV's columns besides the exercises'


def _earlier(path: Path) -> tuple[list[str], list[dict[str, str]]] | None:
    """The exercise columns and the rows (column -> cell) of a scores CSV this grader wrote, or
    None if there is no file at ``path`` (or an empty one). A spreadsheet may have saved it (a
    BOM, CRLF, its columns moved, a row typed in shorter). Raises ValueError for any other file:
    a gradebook of the teacher's own given as --csv by mistake is never overwritten."""
    if not path.exists() or path.is_file() and path.stat().st_size == 0:
        return None
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            rows = [row for row in csv.reader(file) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeError, csv.Error):
        rows = []
    header = rows[0] if rows else []
    if not header or len(set(header)) < len(header) or not set(_OWN) <= set(header):
        raise ValueError(
            f"grade: {path} is there and is not a scores file this grader wrote: it is left as "
            "it is; name another --csv"
        )
    longer = [row[header.index("student")] for row in rows[1:] if len(row) > len(header)]
    if longer:  # cells under no column: merged, they would be lost
        raise ValueError(
            f"grade: {path} has cells beyond its last column in the rows of {_some(longer)}: "
            "it is left as it is; move them into a column, or name another --csv"
        )
    cells = [dict(zip(header, row)) for row in rows[1:]]
    nameless = [  # what such a row holds, to find it by: "marks checked on Monday"
        repr(next(v.strip() for v in row.values() if v.strip()))
        for row in cells
        if not row.get("student", "").strip()
    ]
    if nameless:  # a note typed under the table: merged, it would be lost
        raise ValueError(
            f"grade: {path} has a row without a student, holding {_some(nameless)}: it is left "
            "as it is; remove that row, or name another --csv"
        )
    names = [row["student"] for row in cells]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:  # one row per student: merged, all but the last would be lost
        raise ValueError(
            f"grade: {path} has more than one row of {_some(twice)}: it is left as it is; keep "
            "one row per student, or name another --csv"
        )
    exercises = [column for column in header if column not in _OWN]
    return exercises, cells


def _some(names: Iterable[str]) -> str:
    names = list(names)
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def refuse_to_overwrite(
    csv_path: Path | None,
    feedback: Path | None,
    students: Collection[str],
    exercises: list[str],
    by_hand: Collection[str] = (),
) -> None:
    """Raise ValueError if the CSV at ``csv_path`` holds a student or an exercise this grading
    (of ``students``, with the columns ``exercises``) would not write again, or a mark typed in
    a column of ``by_hand`` (a cell a person marks, which a grading leaves blank), or the
    feedback folder a student's file this grading would not write (names as ``file_names``
    gives them)."""
    from ._reports import plain_text

    earlier = _earlier(csv_path) if csv_path is not None else None
    if earlier is not None:
        columns, rows = earlier
        graded = {plain_text(student) for student in students}
        others = [row["student"] for row in rows if row["student"] not in graded]
        columns = [column for column in columns if column not in exercises]
        marked = [r["student"] for r in rows if any(r.get(e, "").strip() for e in by_hand)]
        if others or columns or marked:
            lost = "; ".join(
                words
                for words in (
                    others and f"the scores of {_some(others)}",
                    columns and f"the columns {_some(columns)}",
                    marked and f"the marks typed in for {_some(marked)}",
                )
                if words
            )
            raise ValueError(
                f"grade: {csv_path} holds {lost}, which this grading would not write again: "
                "add --merge to merge this grading into it, or name another --csv"
            )
    if feedback is not None and feedback.is_dir():
        from ._copies import file_names

        ours = {f"{name}.txt".casefold() for name in file_names(students).values()}
        others = sorted(p.name for p in feedback.glob("*.txt") if p.name.casefold() not in ours)
        if others:
            raise ValueError(
                f"grade: {feedback} holds feedback of students not in this grading "
                f"({_some(others)}): add --merge to add this grading's to it, or name another "
                "--feedback"
            )


class Merge:
    """An earlier scores CSV that a grading goes into: the columns of both (the source's order),
    each student graded now replacing their row (their cells of columns this grading does not
    have kept), every other row kept; ``points`` is the total of all the columns."""

    def __init__(
        self, path: Path | None, exercises: list[str], teachers: list[TeacherNotebook]
    ) -> None:
        old, rows = (_earlier(path) if path is not None else None) or ([], [])
        points = {e: p for t in teachers for e, p in exercises_of(t).items()}
        unknown = [column for column in old if column not in points]
        if unknown:
            raise ValueError(
                f"grade: {path} has the columns {_some(unknown)}, which no notebook in the "
                "source grades: cannot merge into it (name another --csv)"
            )
        order = list(points)
        self.exercises = sorted({*old, *exercises}, key=order.index)
        self.this_grading = set(exercises)
        # the cells a person marks: blank in a grading, so a mark typed in before is kept
        self.by_hand = {item.exercise for t in teachers for item in t.by_hand}
        self.points = sum(points[e] for e in self.exercises)
        self.earlier = {row["student"]: row for row in rows}

    def header(self) -> list[str]:
        return ["student", *self.exercises, "score", "points", "problems"]

    def row(self, cells: dict[str, str], graded_now: bool) -> list[str]:
        """A row of the merged file from a row's ``cells`` by column (this grading's if
        ``graded_now``, over the student's earlier row)."""
        earlier = self.earlier.get(cells["student"], {}) if graded_now else {}
        merged = {
            e: cells.get(e, "") if e in self.this_grading or not graded_now else earlier.get(e, "")
            for e in self.exercises
        }
        for e in self.by_hand & set(merged):  # a mark typed in, not given again by a grading
            merged[e] = merged[e] or earlier.get(e, "")
        score = sum(float(v) for v in merged.values() if _number(v))
        if not graded_now:
            score = float(cells["score"]) if _number(cells.get("score", "")) else score
        problems = cells.get("problems", "")
        return [cells["student"], *merged.values(), f"{score:g}", f"{self.points:g}", problems]

    def rows(self, new: list[list[str]], header: list[str]) -> list[list[str]]:
        """The merged file's rows, by student: ``new`` (with this grading's ``header``) and the
        earlier rows of the students not among them."""
        graded = {row[0]: self.row(dict(zip(header, row)), True) for row in new}
        kept = {s: self.row(c, False) for s, c in self.earlier.items() if s not in graded}
        everyone = graded | kept
        return [everyone[student] for student in sorted(everyone)]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
