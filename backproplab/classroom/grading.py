"""Autograding: run each submission in a sandboxed kernel, judge its functions in the grader.

This module grades one notebook (``grade_notebook``) and a folder of submissions
(``grade_folder``); the other ideas it relies on each have a module of their own: the teacher's
source notebooks (_source.py), the staged copy of the class (_staging.py), the proxy through
which a check calls the student's kernel (_session.py), the evaluation of one check (_check.py),
the grades (_grades.py) and the reports made from them (_reports.py). Their public names can
be imported from here as well.

Everything that decides a score comes from the teacher's source notebooks (``--source``): which
notebook a submission is (the one sharing its cells' nbgrader ``grade_id``, whatever the file is
called), which exercises it has, their points, and the check of each (the teacher's check cell,
e.g. ``nb05.check_dL_dX(dL_dX)``). A submission's own metadata, points and check cells count for
nothing; an extra or repeated graded cell is listed as a problem.

How one notebook is graded:

1. a throwaway copy of the student's folder is made, and a kernel is started there through the
   sandbox launcher (_sandbox.py: its own process group, a memory limit, not a child of the
   grader);
2. the student's code cells run one by one, each with a time limit, the notebook with a time
   budget; the check cells are not run in the kernel;
3. where a check cell stands (or at the end, if the student deleted it) the grader evaluates the
   teacher's check cell in its own process, with each exercise function bound to a proxy: calling
   the proxy sends the arguments to the kernel as data, the kernel calls the student's function,
   and the result (and the arguments after the call) come back as data (_wire.py: JSON and .npy,
   never pickle; _session.py). The teacher's check, imported in the grader from the installed
   package, judges it (_check.py).
   Patching checks or ``Feedback`` inside the kernel changes nothing here;
4. while the student's function runs, the kernel records calls into backproplab's own code that
   the exercise is not meant to use (_kernel_side.py); such an answer scores 0 with a problem
   naming the function;
5. the kernel, its process group and every process carrying its token are killed.

Any failure while grading one notebook becomes a problem in that student's row; the CSV is
written one student at a time and flushed, so a killed grader leaves every finished row.
What one machine cannot guarantee is in docs/teaching.md.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from backproplab.exercises._draws import fresh_draw, valid_draw

from ._by_hand import by_hand_results
from ._check import evaluate_check, setup_namespace
from ._copies import best_copies, copies, file_names, not_graded
from ._grades import CheckResult, NotebookGrade
from ._kernel import Kernel, KernelDied, closing_its_event_loop
from ._reports import ScoresFile, feedback_status, feedback_text, scores_csv, scores_table
from ._runtime_code import not_written
from ._same_code import copied_exercises, read_module
from ._sandbox import require_linux
from ._session import Budget, Session
from ._source import (
    TeacherCheck,
    TeacherNotebook,
    load_source,
    matching_teacher,
    nbgrader_metadata,
    refuse_same_names,
)
from ._staging import CHANGED, copy_writable, digest_of, folder_size, leaving_out, unchanged
from ._steps import steps
from ._tampering import changed_checks
from ._term import Merge, assignment, exercises_of, not_assigned, refuse_to_overwrite
from .release import BEGIN_HIDDEN, HIDDEN_NOTE

__all__ = [
    "CheckResult",
    "Limits",
    "NotebookGrade",
    "TeacherNotebook",
    "feedback_status",
    "feedback_text",
    "grade_folder",
    "grade_notebook",
    "load_source",
    "scores_csv",
    "scores_table",
]


# ------------------------------------------------------------------------------ one notebook
@dataclass
class Limits:
    """How long and how much memory one notebook may take."""

    timeout: float = 60.0  # CPU seconds per cell (and per call of a student function)
    budget: float | None = None  # CPU seconds for the whole notebook; default 5 x timeout
    memory_mb: int = 2048

    @property
    def notebook_seconds(self) -> float:
        return self.budget if self.budget is not None else 5 * self.timeout


MAX_NOTEBOOK_MB = 100  # the curriculum's notebooks hold under 1 MB, with their figures


def _read(path: Path) -> nbformat.NotebookNode:
    if path.is_symlink():  # to another student's notebook, or the teacher's: not handed in
        raise ValueError(f"it is a symbolic link (to {os.readlink(path)}), not a notebook")
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_MB * 2**20:  # parsing it could take gigabytes of the grader's memory
        raise ValueError(f"the file holds {size / 2**20:.0f} MB, over {MAX_NOTEBOOK_MB} MB")
    notebook = nbformat.read(path, as_version=4)
    if not isinstance(notebook.get("cells"), list):
        raise ValueError("no list of cells")
    return notebook


def grade_notebook(
    path: str | Path,
    student: str,
    teachers: list[TeacherNotebook],
    limits: Limits | None = None,
    *,
    folder: str | Path | None = None,
    check_draw: int | None = None,
) -> NotebookGrade:
    """Grade one submitted notebook against the teacher notebook it matches (see module doc).

    ``folder``, the student's folder holding the notebook (data files...), is copied to a
    throwaway folder the kernel runs in (without it the kernel gets an empty one). The checks
    draw their random inputs with ``check_draw`` (None: the notebook's own). Whatever goes
    wrong with the submission is listed in the grade's problems; off Linux, a PlatformError
    before anything runs (as ``grade_folder``: every student would score "the kernel did not
    start").
    """
    require_linux()
    path = Path(path)
    grade = NotebookGrade(student, path.name, draw=check_draw)
    try:
        folder = Path(folder) if folder is not None else None
        _grade_into(grade, path, teachers, limits or Limits(), folder)
    except Exception as error:  # noqa: BLE001 - one bad submission costs that student only
        grade.problems.append(f"grading failed: {type(error).__name__}: {error}")
    return grade


def _grade_into(
    grade: NotebookGrade,
    path: Path,
    teachers: list[TeacherNotebook],
    limits: Limits,
    folder: Path | None,
) -> None:
    try:
        notebook = _read(path)
    except Exception as error:  # noqa: BLE001 - a corrupt upload
        grade.problems.append(f"could not read the notebook: {type(error).__name__}: {error}")
        return
    teacher = matching_teacher(notebook, teachers)
    if teacher is None:
        grade.problems.append("its cells match none of the teacher's notebooks: not graded")
        return
    grade.teacher = teacher.name
    code = [str(c.get("source", "")) for c in notebook.cells if c.get("cell_type") == "code"]
    _compare_with_solutions(grade, code, teacher, path.parent if folder is not None else None)
    try:  # for the teacher only: the score uses the grader's own checks whatever the code does
        grade.for_teacher += changed_checks(code)
    except Exception as error:  # noqa: BLE001 - never the student's grade
        grade.for_teacher.append(f"not read for changes to the self-checks: {error!r}")
    results: dict[str, CheckResult] = {}
    plan = steps(notebook, teacher, grade)  # (cell index, code to run or the check to evaluate)

    with tempfile.TemporaryDirectory(prefix="backproplab-grading-") as scratch:
        workdir = Path(scratch) / "work"
        cwd = workdir
        if folder is not None and folder.is_dir() and folder_size(folder) < 2**30:
            copy_writable(folder, workdir, ignore=leaving_out(folder))
            cwd = workdir / path.parent.relative_to(folder)
        else:
            workdir.mkdir()
            if folder is not None:
                grade.problems.append(
                    "the student's folder holds over 1 GiB: the notebook ran without its files"
                )
        (cwd / path.name).unlink(missing_ok=True)  # the kernel never sees the notebook file
        try:
            kernel = _start_kernel(cwd, limits.memory_mb)
        except KernelDied as error:
            grade.problems.append(str(error))
            kernel = None
        budget = Budget(limits.timeout, limits.notebook_seconds, kernel)  # from its first answer
        stopped = kernel is None
        session = Session(kernel, budget) if kernel is not None else None
        try:
            for index, step in plan:
                if isinstance(step, TeacherCheck):
                    if stopped or session is None:
                        results[step.grade_id] = CheckResult(
                            step.exercise, step.points, 0.0, "not run", "the kernel was stopped"
                        )
                    else:
                        results[step.grade_id] = evaluate_check(step, teacher, session, grade.draw)
                        handed_in = path.parent if folder is not None else None  # for the teacher
                        ran = session.origins, handed_in, session.kernel.cells
                        grade.for_teacher += not_written(step.exercise, *ran)
                        if session.broken:  # said once: on the check's line if it is its own
                            if session.broken != results[step.grade_id].message:
                                grade.problems.append(session.broken)
                            stopped = True
                    continue
                if stopped or kernel is None or not step.strip():
                    continue
                if spent := budget.spent():
                    grade.problems.append(f"{spent} before cell {index + 1}: the rest was not run")
                    stopped = True
                    continue
                allowed = budget.timeout()
                try:
                    run = kernel.execute(step, allowed)
                except KernelDied:
                    grade.problems.append(
                        f"the kernel died in cell {index + 1}: the rest was not run"
                    )
                    stopped = True
                    continue
                timed_out = run.status in ("timeout", "stuck")
                if timed_out and allowed < limits.timeout and not run.capped:
                    grade.problems.append(
                        f"the notebook ran past its time budget of {budget.seconds:g} s of "
                        f"{budget.clock} in cell {index + 1}: the rest was not run"
                    )
                    stopped = True
                elif timed_out:
                    grade.problems.append(f"cell {index + 1} ran longer than {run.limit}")
                if run.status == "stuck" and not stopped:
                    grade.problems.append(
                        "the kernel stayed stuck: the remaining cells were not run"
                    )
                    stopped = True
                answer = _answer_id(notebook.cells[index : index + 1], teacher)
                # the error that stopped the cell, said once (a cell can show thousands of
                # tracebacks, get_ipython().showtraceback() in a loop, each of megabytes)
                for ename, evalue in run.errors[-1:]:
                    if ename == "MemoryError":
                        grade.problems.append(
                            f"cell {index + 1} ran out of memory (limit {limits.memory_mb} MB)"
                        )
                    elif answer and run.status == "error" and ename != "NotImplementedError":
                        # an answer cell that raised (not the grader's interrupt of a slow cell,
                        # nor the release's stub): what it defines is missing, so say why beside
                        # the NameError its check meets, without the kernel's name for the cell
                        evalue = _CELL_FILE.sub("(line", evalue)
                        evalue = evalue if len(evalue) <= 300 else evalue[:299] + "…"
                        grade.problems.append(
                            f"cell {index + 1}, the answer cell {answer}, raised {ename}: {evalue}"
                        )
        finally:
            if kernel is not None:
                kernel.close()
    grade.checks = [results[c.grade_id] for c in teacher.checks]
    grade.checks += by_hand_results(notebook.cells, teacher.by_hand)  # a person marks them
    for result in grade.checks:
        if result.status in ("error", "package", "timeout") and result.message:
            grade.problems.append(f"{result.exercise}: {result.message}")


_CELL_FILE = re.compile(r"\(\d+\.py, line")  # "(1988705971.py, line 6)": a SyntaxError's


def _answer_id(cells: list, teacher: TeacherNotebook) -> str:
    """The grade_id of the solution cell of ``teacher`` in ``cells`` (one, the student's own
    code), else "" (none: the imports of a check run after the last cell)."""
    grade_id = str(nbgrader_metadata(cells[0]).get("grade_id", "")) if cells else ""
    return grade_id if grade_id in teacher.answers else ""


def _compare_with_solutions(
    grade: NotebookGrade, cells: list[str], teacher: TeacherNotebook, folder: Path | None
) -> None:
    """Note, for the teacher only, each exercise answered with the teacher's own solution (the
    notebook's code ``cells``, and the learner's module beside it): _same_code.py. Its score
    stays."""
    if not teacher.solutions:
        return
    files = teacher.module_files
    modules = {m: read_module(folder, m) for m in files} if folder is not None else {}
    try:
        found = {m: code for m, code in modules.items() if code is not None}
        grade.for_teacher += copied_exercises(teacher.solutions, cells, found)
    except Exception as error:  # noqa: BLE001 - deeply nested code the parser refuses...
        grade.for_teacher.append(f"not compared with the teacher's solutions: {error!r}")


def _start_kernel(cwd: Path, memory_mb: int) -> Kernel:
    """A kernel in ``cwd``, started once more if the first does not answer in time (seen once on
    a busy machine): no student code has run yet, so that is no fault of the student's. Raises
    the second KernelDied."""
    try:
        return Kernel(cwd, memory_mb)
    except KernelDied:
        return Kernel(cwd, memory_mb)


# ------------------------------------------------------------------------------ a whole class
def _submissions(folder: Path) -> Iterable[tuple[str, Path]]:
    """(student, notebook) pairs: ``folder/<student>/**/*.ipynb``, or ``folder/<student>.ipynb``.
    Left out: Jupyter's checkpoints, and what macOS's archiver adds to a zip (a ``__MACOSX``
    folder of ``._`` files, unpacked beside the submissions: it was a student of its own, and
    its ``._05_matmul_gradients.ipynb`` an unreadable copy in the real student's row)."""
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder)
        if not _metadata(relative):
            yield (relative.parts[0] if len(relative.parts) > 1 else path.stem), path


def _metadata(relative: Path) -> bool:
    """Whether a path in the submissions folder is Jupyter's or an archiver's, no student's."""
    kept_apart = {".ipynb_checkpoints", "__MACOSX"}
    return bool(kept_apart & set(relative.parts)) or relative.name.startswith("._")


def _by_student(left_out: list[tuple[str, str]], folder: Path) -> dict[str, list[str]]:
    """The files of the submissions the grader could not copy, by student: [the first one's
    name, then each as "path could not be read (reason)"]. Jupyter's checkpoints and a macOS
    zip's metadata are no one's (an unreadable ``__MACOSX/ada/._mygrad.py`` made a student
    "__MACOSX", "not graded", and an unreadable ``._`` file in ada's folder left her not graded
    for a file the grader never uses)."""
    unreadable: dict[str, list[str]] = {}
    for path, reason in left_out:
        relative = Path(path).relative_to(folder)
        if _metadata(relative):
            continue
        student = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        said = f"{relative} could not be read by the grader ({reason.split(': ')[0]})"
        unreadable.setdefault(student, [relative.name]).append(said)
    return unreadable


def grade_folder(
    folder: str | Path,
    source: str | Path,
    *,
    limits: Limits | None = None,
    jobs: int = 1,
    csv_path: str | Path | None = None,
    feedback: str | Path | None = None,
    on_student: Callable[[str, list[NotebookGrade]], None] | None = None,
    notebooks: Iterable[str] | None = None,
    merge: bool = False,
    check_draw: int | None = None,
) -> list[NotebookGrade]:
    """Grade every submission in ``folder`` against the teacher notebooks in ``source``, the
    checks' random inputs drawn with ``check_draw`` (None: a fresh draw; each grade holds it).

    ``notebooks`` (names or numbers, "04") are the assignment's: the columns and points are
    theirs, and another notebook handed in is listed, not graded. A CSV or feedback folder
    holding a student or a column this grading would not write again is a ValueError, before
    anything runs, unless ``merge``: this grading then goes into them (_term.py).

    ``jobs`` students are graded at once. With ``csv_path`` each student's row is written (and
    flushed) as soon as they are graded; with ``feedback`` a text file per student goes there.
    The submissions are first copied to a private staging folder: a kernel writing into the
    submissions folder changes nothing that is graded. A staged submission that a kernel graded
    before it changed is copied again from ``folder``; if that differs too, the student is not
    graded and their row says so. The feedback files are written again at the end, over
    whatever a kernel wrote to them. Linux only: elsewhere a PlatformError, before anything runs.
    """
    require_linux()
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"grade: {folder} is not a folder of submissions")
    teachers = load_source(source)
    if not teachers:
        raise FileNotFoundError(f"grade: no notebook with self-checks in {source}")
    for check in (check for each in teachers for check in each.checks):
        # the release's line where hidden tests were (a teacher's cell that also holds the
        # line keeps its hidden tests between their markers: it is graded)
        if HIDDEN_NOTE in check.source and BEGIN_HIDDEN not in check.source:
            raise ValueError(
                f"grade: {source} is a student release: the hidden tests of {check.grade_id} "
                "are not in it; grade with your own notebooks as --source (in a notebook of "
                f"your own, delete the line {HIDDEN_NOTE!r} where no hidden test is)"
            )
    assigned = assignment(teachers, notebooks)
    refuse_same_names(assigned or teachers, source)  # week1/hw.ipynb and week2/hw.ipynb
    limits = limits or Limits()
    check_draw = fresh_draw() if check_draw is None else valid_draw(check_draw)
    for each in teachers:  # the checks' imports, before any student's code runs
        setup_namespace(each)
    with tempfile.TemporaryDirectory(prefix="backproplab-staging-") as staging:
        staged = Path(staging) / "submissions"
        unreadable = _by_student(copy_writable(folder, staged), folder)
        by_student: dict[str, list[Path]] = {student: [] for student in unreadable}
        for student, path in _submissions(staged):
            by_student.setdefault(student, []).append(path)
        by_student = dict(sorted(by_student.items())) if unreadable else by_student
        owns = {  # what each student handed in: their folder, and a notebook file of their name
            student: sorted({p if p.parent == staged else staged / student for p in paths})
            for student, paths in by_student.items()
        }
        digests = {own: digest_of(own) for student in owns for own in owns[student]}
        matched = []
        teacher_of: dict[Path, str] = {}
        for paths in by_student.values():
            for path in paths:
                try:
                    teacher = matching_teacher(_read(path), teachers)
                except Exception:  # noqa: BLE001 - reported when graded
                    teacher = None
                if teacher is not None:
                    teacher_of[path] = teacher.name
                    if teacher not in matched:
                        matched.append(teacher)
        matched = sorted(matched if assigned is None else assigned, key=teachers.index)
        exercises = [e for t in matched for e in exercises_of(t)]  # (the table's order)
        points = sum(t.points for t in matched)
        csv_file = Path(csv_path) if csv_path else None
        if not merge:
            marked = [item.exercise for t in matched for item in t.by_hand]  # blank if graded
            refuse_to_overwrite(
                csv_file, Path(feedback) if feedback else None, by_student, exercises, marked
            )
        if feedback is not None:
            Path(feedback).mkdir(parents=True, exist_ok=True)
            if not os.access(feedback, os.W_OK | os.X_OK):  # said now, not after a student
                raise PermissionError(errno.EACCES, "Permission denied", str(feedback))
        rows = ScoresFile(
            csv_file, exercises, Merge(csv_file, exercises, teachers) if merge else None
        )
        names = file_names(by_student)

        def write_feedback(student: str, grades: list[NotebookGrade]) -> None:
            if feedback is not None:
                (Path(feedback) / f"{names[student]}.txt").write_text(
                    feedback_text(student, grades, matched), encoding="utf-8"
                )

        def grade_student(student: str) -> list[NotebookGrade]:
            try:
                if student in unreadable:  # (graded without a file, a score could differ)
                    name = by_student[student][0].name if by_student[student] else None
                    grades = [NotebookGrade(student, name or unreadable[student][0], [], [
                        f"{', '.join(unreadable[student][1:])}: not graded; make the "
                        "submissions readable (chmod -R a+rX) and grade this student again"
                    ], "")]  # fmt: skip
                elif all(
                    unchanged(o, folder / o.relative_to(staged), digests[o]) for o in owns[student]
                ):
                    graded, left_out = copies(by_student[student], teacher_of)
                    others = {t.name for t in teachers} - {t.name for t in assigned or teachers}
                    elsewhere = [p for p in graded if teacher_of.get(p) in others]
                    graded = [p for p in graded if p not in elsewhere]
                    grades = [
                        grade_notebook(
                            path,
                            student,
                            teachers,
                            limits,
                            folder=None if path.parent == staged else staged / student,
                            check_draw=check_draw,
                        )
                        for path in graded
                    ]
                    grades += [not_graded(student, p, teacher_of[p]) for p in left_out]
                    grades += [
                        not_assigned(student, p, teacher_of[p], assigned or []) for p in elsewhere
                    ]
                else:
                    grades = [
                        NotebookGrade(student, p.name, [], [CHANGED], "")
                        for p in by_student[student]
                    ]
            except Exception as error:  # noqa: BLE001 - one student's row, never the class's run
                problem = f"grading failed: {type(error).__name__}: {error}"
                grades = [
                    NotebookGrade(student, p.name, [], [problem], "") for p in by_student[student]
                ]
            grades = best_copies(student, grades, teachers)
            rows.add(grades, points)
            write_feedback(student, grades)
            if on_student is not None:
                on_student(student, grades)
            return grades

        try:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                results = list(pool.map(closing_its_event_loop(grade_student), by_student))
            for student, grades in zip(by_student, results):
                write_feedback(student, grades)  # again: a later kernel may have written over it
        finally:
            rows.close(list(by_student))
    return [grade for grades in results for grade in grades]
