"""The reports of a grading: the scores (CSV file, CSV text, terminal table) and the feedback.

Also ``feedback_status``, which reads the verdict a check cell's stored outputs show (for
nbgrader_support; the grader itself never trusts outputs).
"""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
import threading
from pathlib import Path

from backproplab.exercises import Feedback

from ._grades import CheckResult, NotebookGrade
from ._source import TeacherNotebook
from ._term import Merge, _earlier, exercises_of

__all__ = [
    "ScoresFile",
    "class_summary",
    "feedback_status",
    "feedback_text",
    "plain_text",
    "scores_csv",
    "scores_table",
]


def plain_text(text: str) -> str:
    """``text`` as one line that neither a terminal nor a spreadsheet acts on: characters that
    are not printable as escapes (a student's error message holding a newline forged a row of
    the terminal table, an escape sequence hid the rows after it), and a leading ``=``, ``+``,
    ``-`` or ``@`` behind a ``'`` (a spreadsheet reads such a cell as a formula; a notebook's file
    name starts the problems cell)."""
    text = _one_line(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _one_line(text: str) -> str:
    """``text`` with every character that is not printable (newline, escape...) as its escape."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


def _verdict(status: str) -> str:
    """How a verdict reads inside a Feedback's text, e.g. ": ✔ correct", taken from Feedback
    (a hint that begins "not yet" reads ": ✘ not yet: ...", the others ": ✘ not yet — ...")."""
    text = str(Feedback("EXERCISE", status, "MESSAGE"))  # "EXERCISE: ✔ correct — MESSAGE"
    return text[len("EXERCISE") : text.index(" — ")]


_VERDICTS = {status: _verdict(status) for status in ("correct", "hint", "not done")}


def _header(exercises: list[str]) -> list[str]:
    return ["student", *exercises, "score", "points", "problems"]


def _score(check: CheckResult) -> str:
    """A score as the table shows it: blank for one a person has yet to give."""
    return "" if check.status == "by hand" else f"{check.score:g}"


def _row(
    grades: list[NotebookGrade], exercises: list[str], points: float, grouped: bool = False
) -> list[str]:
    """One student's row: a score per exercise ("" if never graded), totals, problems (with
    ``grouped``, each sentence said once for all the exercises of a notebook it is about)."""
    checks = {c.exercise: c for g in grades for c in g.checks}
    cells = [_score(checks[e]) if e in checks else "" for e in exercises]
    score = sum(g.score for g in grades)
    problems = "; ".join(
        f"{g.notebook}: {p}"
        for g in grades
        for p in (_grouped if grouped else list)([*g.problems, *g.for_teacher])
    )
    return [
        plain_text(grades[0].student),
        *cells,
        f"{score:g}",
        f"{points:g}",
        plain_text(problems),
    ]


def _grouped(problems: list[str]) -> list[str]:
    """``problems`` with those that say the same of several exercises said once:
    "nb01-a: the answer is ..." and "nb01-b: the answer is ..." give "nb01-a, nb01-b: the
    answer is ..." (the terminal's table: eight such problems made one row 1,312 characters)."""
    exercises: dict[tuple[str, bool], list[str]] = {}  # (sentence, of exercises) -> them
    for problem in problems:
        exercise, _, sentence = problem.partition(": ")
        if sentence and " " not in exercise:
            exercises.setdefault((sentence, True), []).append(exercise)
        else:  # a problem of the notebook (``cell 3 ran longer than 60 s``)
            exercises.setdefault((problem, False), [])
    return [
        f"{', '.join(names)}: {text}" if of_exercises else text
        for (text, of_exercises), names in exercises.items()
    ]


class ScoresFile:
    """The scores CSV, rewritten whole after each student (to a temporary file in the same
    folder, then renamed over it): a killed grader leaves every finished row, and whatever a
    submission wrote to that path in the meantime is replaced by the grader's rows. Its folder
    is made if need be, like the feedback folder. With ``merge`` (_term.py) the rows go into
    those of an earlier grading instead. Without it, a CSV already there holds the students this
    grading grades again (``refuse_to_overwrite`` made sure): each one's earlier row stays until
    they are graded again, so a grading stopped half-way (killed, Ctrl-C twice) loses no one."""

    def __init__(self, path: Path | None, exercises: list[str], merge: Merge | None = None) -> None:
        self.path = path
        self.merge = merge
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.rows = [_header(exercises)]
        earlier = _earlier(path) if path is not None and merge is None else None
        self.kept = {  # student -> their earlier row, in this grading's columns
            row["student"]: [row.get(column, "") for column in self.rows[0]]
            for row in (earlier[1] if earlier else [])
        }
        self.exercises = exercises
        self.lock = threading.Lock()
        self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        graded = {row[0] for row in self.rows[1:]}
        rows = self.rows + [row for student, row in self.kept.items() if student not in graded]
        if self.merge is not None:
            rows = [self.merge.header(), *self.merge.rows(self.rows[1:], self.rows[0])]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        # the mode a new file gets (0o666 less the umask, like the feedback files), not
        # mkstemp's 0o600: in a container the CSV is written by the grader's user for a
        # teacher who is another user on the host
        temporary = self.path.parent / f".scores-{os.getpid()}-{secrets.token_hex(8)}"
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as error:  # said of the CSV, not of the temporary file's name
            raise type(error)(error.errno, error.strerror, str(self.path)) from None
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(buffer.getvalue())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)

    def add(self, grades: list[NotebookGrade], points: float) -> None:
        with self.lock:
            self.rows.append(_row(grades, self.exercises, points))
            self._write()

    def close(self, students: list[str] | None = None) -> None:
        """Write the file a last time, its rows in the order of ``students`` (the class list:
        with several jobs the students finish in no particular order)."""
        with self.lock:
            if students is not None and self.merge is None:  # (merged rows: by student)
                place = {plain_text(student): i for i, student in enumerate(students)}
                self.rows[1:] = sorted(self.rows[1:], key=lambda row: place.get(row[0], len(place)))
            self._write()


def _table(
    grades: list[NotebookGrade],
    teachers: list[TeacherNotebook] | None = None,
    grouped: bool = False,
) -> tuple[list[str], list[list[str]]]:
    available: dict[str, float] = {  # an assignment's columns, even if no one handed one in
        exercise: points for t in teachers or [] for exercise, points in exercises_of(t).items()
    }
    exercises: list[str] = list(available)
    by_student: dict[str, list[NotebookGrade]] = {}
    for grade in grades:
        by_student.setdefault(grade.student, []).append(grade)
    for grade in sorted(grades, key=lambda g: g.teacher):  # the columns: by notebook, as the CSV
        for check in grade.checks:
            if check.exercise not in exercises:
                exercises.append(check.exercise)
            available[check.exercise] = check.points
    points = sum(available.values())
    rows = [_row(gs, exercises, points, grouped) for gs in by_student.values()]
    return _header(exercises), rows


def scores_csv(grades: list[NotebookGrade], teachers: list[TeacherNotebook] | None = None) -> str:
    """The scores as CSV: one row per student, one column per exercise, then the totals
    (``teachers``: the assignment's notebooks, whose exercises are columns even if no one
    handed one in; by default, the notebooks graded)."""
    header, rows = _table(grades, teachers)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def scores_table(grades: list[NotebookGrade], teachers: list[TeacherNotebook] | None = None) -> str:
    """The scores as an aligned plain-text table, for the terminal (``teachers``: as for
    ``scores_csv``); a sentence about several exercises of a notebook is said once."""
    header, rows = _table(grades, teachers, grouped=True)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(text.ljust(width) for text, width in zip(row, widths)) for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def class_summary(
    grades: list[NotebookGrade], teachers: list[TeacherNotebook] | None = None
) -> str:
    """What the class found hard: per exercise, how many of the students graded on it got full
    marks, and the most frequent reason among the others (a check's hint, its numbers aside, so
    that "off by a factor of 32" and "of 64" count as one mistake; or "left as handed out"...).
    With ``teachers`` (the assignment's notebooks), every student graded counts for each of their
    exercises: one who did not hand a notebook in, as "not handed in" (each line "of" the class,
    not of the students who handed that notebook in)."""
    results: dict[str, list[CheckResult]] = {}
    for grade in sorted(grades, key=lambda g: g.teacher):  # the table's order
        for check in grade.checks:
            if check.status != "by hand":
                results.setdefault(check.exercise, []).append(check)
    students = list(dict.fromkeys(grade.student for grade in grades))
    for teacher in teachers or []:
        handed_in = {grade.student for grade in grades if grade.teacher == teacher.name}
        marked = {item.exercise for item in teacher.by_hand}
        for exercise, points in exercises_of(teacher).items():
            if exercise not in marked:
                results.setdefault(exercise, []).extend(
                    CheckResult(exercise, points, 0.0, "not handed in")
                    for student in students
                    if student not in handed_in
                )
    if not results:
        return ""
    width = max(len(exercise) for exercise in results)
    lines = ["By exercise: how many got full marks, and the most common reason the others did not"]
    for exercise, checks in results.items():
        full = sum(check.score == check.points for check in checks)
        line = f"  {exercise:<{width}}  {full} of {len(checks)}"
        reasons: dict[str, list[str]] = {}  # reason with its numbers as "#" -> the reasons
        for check in checks:
            if check.score != check.points:
                reason = _reason(check)
                reasons.setdefault(_NUMBER.sub("#", reason), []).append(reason)
        if reasons:
            most = max(reasons.values(), key=len)  # (the first of equals: in the class's order)
            text = _one_line(most[0])
            line += f"  {len(most)}× {text if len(text) <= 100 else text[:99] + '…'}"
        lines.append(line.rstrip())
    return "\n".join(lines)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_REASONS = {  # a verdict that is not a hint, in a word or two
    "not handed in": "not handed in",
    "not done": "left as handed out",
    "partial": "partial credit",
    "package": "used the package's answer",
    "timeout": "ran out of time",
    "not run": "not run (the kernel stopped before it)",
    "error": "the check failed in the grader (see the problems)",
}


def _reason(check: CheckResult) -> str:
    """Why ``check`` is short of full marks: its hint without the verdict's words, or its
    status in words."""
    if check.status == "hint" and _VERDICTS["hint"] in check.message:
        return '"' + check.message.split(_VERDICTS["hint"], 1)[1].lstrip(" —:") + '"'
    return _REASONS.get(check.status, check.status)


_MARKS = {"correct": "✔", "hint": "✘", "not done": "…", "by hand": "?", "partial": "~"}


def feedback_text(
    student: str, grades: list[NotebookGrade], teachers: list[TeacherNotebook] | None = None
) -> str:
    """The feedback to hand back to one student: the score over the assignment, then each of its
    notebooks in order (or "not handed in") with each exercise's verdict and hint and the
    problems the grader met (like nbgrader's generate_feedback, as plain text). The problems for
    the teacher only (``for_teacher``: an answer that is the teacher's own solution) are left out:
    the file is the student's, and the teacher decides."""
    assigned = {teacher.name: teacher for teacher in teachers or []}
    handed_in: dict[str, list[NotebookGrade]] = {name: [] for name in assigned}  # in their order
    for grade in grades:
        handed_in.setdefault(grade.teacher or grade.notebook, []).append(grade)
    total = sum(t.points for t in assigned.values()) + sum(
        g.points for g in grades if g.teacher not in assigned
    )
    pending = sum(c.points for g in grades for c in g.checks if c.status == "by hand")
    lines = [
        f"Feedback for {_one_line(student)}",
        f"Score: {sum(g.score for g in grades):g} of {total:g} points"
        + (f" ({pending:g} of them to be marked by your teacher)" if pending else ""),
        "",
    ]
    for name, its_grades in handed_in.items():  # the assignment's notebooks in their order,
        if not its_grades:  # then any other (one the grader could not match to the assignment)
            lines += [f"{name}: not handed in (0 of {assigned[name].points:g} points)", ""]
        for grade in its_grades:
            lines += [*_notebook_feedback(grade), ""]
    return "\n".join(lines)


def _notebook_feedback(grade: NotebookGrade) -> list[str]:
    """The lines of one handed-in notebook: its score, each exercise's verdict and hint, then the
    problems the grader met that no exercise's line says."""
    handed_in = _one_line(grade.notebook)  # the student's file name
    pending = sum(c.points for c in grade.checks if c.status == "by hand")
    lines = [
        f"{grade.teacher or handed_in} (handed in as {handed_in}): "
        f"{grade.score:g} of {grade.points:g}"
        + (f" ({pending:g} of them to be marked by your teacher)" if pending else "")
    ]
    for check in grade.checks:
        mark = _MARKS.get(check.status, "✘")
        text = _one_line(check.message or check.status)  # may quote the student's error
        lines.append(f"  {mark} {check.exercise} ({_score(check) or '?'}/{check.points:g}): {text}")
    on_its_line = {f"{check.exercise}: {check.message}" for check in grade.checks}
    for problem in grade.problems:  # a check's own problem is already on its line above
        if problem not in on_its_line:
            lines.append(f"  ! {_one_line(problem)}")
    return lines


def feedback_status(outputs: list) -> tuple[str, str]:
    """The verdict a check cell's stored ``outputs`` show: (status, the line that says so).

    Used by nbgrader_support (nbgrader reads outputs); this grader does not trust outputs.
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
