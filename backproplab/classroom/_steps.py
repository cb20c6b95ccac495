"""What grading one submission does, cell by cell: the code its kernel runs, and where each of
the teacher's checks is evaluated (in the grader, at the place of its check cell).

A check cell is never run in the kernel: the teacher's check is evaluated instead, once, where
the submission has it (at the end if the student deleted it), after its imports of the learner's
module (``from mygrad import run``, the teacher's line) run in the kernel. A read-only cell
(nbgrader's ``locked: true``) runs as the teacher wrote it, as nbgrader's autograde restores it:
a student who edits ``scale = 2.0`` into ``scale = 3.0`` changes nothing, and the teacher is
told; so is a teacher whose read-only cell a student deleted (it is not put back, as in
nbgrader). A notebook without one of the teacher's exercise cells (made from an earlier
release, before the exercise was added) is named in the row.
"""

from __future__ import annotations

from typing import Any

from ._grades import NotebookGrade
from ._source import TeacherCheck, TeacherNotebook, nbgrader_metadata

__all__ = ["steps"]


def steps(
    notebook: Any, teacher: TeacherNotebook, grade: NotebookGrade
) -> list[tuple[int, str | TeacherCheck]]:
    """(cell index, the code to run or the check to evaluate), in order, for the submission
    ``notebook`` graded as ``teacher``; what is odd about its cells goes to ``grade``, which
    names a cell by its number counted from 1, Markdown cells included, as a teacher counts
    them (the index is from 0: "cell 29 ran longer than 60 s" sent a teacher of notebook 14 to
    the Markdown cell above the slow one)."""
    checks = {check.grade_id: check for check in teacher.checks}
    plan: list[tuple[int, str | TeacherCheck]] = []
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        meta = nbgrader_metadata(cell)
        grade_id = str(meta.get("grade_id", ""))
        if grade_id in checks:
            if any(step is checks[grade_id] for _, step in plan):
                grade.problems.append(f"cell {index + 1} repeats the check {grade_id}: ignored")
            else:  # (its imports of the learner's module, the teacher's line, run in the kernel)
                plan += [(index, checks[grade_id].imports), (index, checks[grade_id])]
            continue  # a check cell is never run in the kernel
        if meta.get("grade") and all(grade_id != item.grade_id for item in teacher.by_hand):
            what = f"graded cell {grade_id!r}" if grade_id else "graded cell without a grade_id"
            grade.problems.append(
                f"cell {index + 1} is a {what} that {teacher.name} does not have: it scores nothing"
            )
        source = str(cell.get("source", ""))
        if grade_id in teacher.locked and source.strip() != teacher.locked[grade_id].strip():
            grade.for_teacher.append(
                f"cell {index + 1} ({grade_id}) is read-only and was changed: the teacher's ran"
            )
            source = teacher.locked[grade_id]
        plan.append((index, source))
    for check in [c for c in teacher.checks if all(s is not c for _, s in plan)]:
        plan += [(len(notebook.cells), check.imports), (len(notebook.cells), check)]
    handed_in = {str(nbgrader_metadata(cell).get("grade_id", "")) for cell in notebook.cells}
    for grade_id in sorted(set(teacher.locked) - handed_in):  # (nbgrader does not put it back)
        grade.for_teacher.append(f"the read-only cell {grade_id} is missing: it did not run")
    missing = [grade_id for grade_id in teacher.answers if grade_id not in handed_in]
    if missing:  # (a change of the curriculum between the release and the grading, often)
        grade.problems.append(
            f"the exercise cell{'s' if len(missing) > 1 else ''} {', '.join(missing)} of "
            f"{teacher.name} {'are' if len(missing) > 1 else 'is'} not in the notebook: it was "
            "made from another release of the notebook, or the cell was deleted"
        )
    return plan
