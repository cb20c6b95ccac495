"""Tools for teachers: the student release and autograding.

    python -m backproplab.classroom release notebooks/ student/
    python -m backproplab.classroom grade submissions/ --source notebooks/ --timeout 60 \
        --jobs 2 --csv scores.csv --feedback feedback/

``release`` (release.py) replaces each solution between nbgrader's markers by a stub;
``grade`` (grading.py) runs each submitted notebook in a sandboxed kernel (_sandbox.py, _kernel.py)
and judges the learner's functions with the teacher's checks in its own process (_wire.py and
_kernel_side.py carry the data between the two).
Neither needs nbgrader; the notebooks also work with it (see docs/teaching.md), and
nbgrader_support.py makes ``nbgrader autograde`` score the checks by their verdict.
"""

from .grading import (
    CheckResult,
    Limits,
    NotebookGrade,
    feedback_text,
    grade_folder,
    grade_notebook,
    load_source,
    scores_csv,
    scores_table,
)
from .release import ReleaseError, release, strip_solutions, student_notebook

__all__ = [
    "CheckResult",
    "Limits",
    "NotebookGrade",
    "ReleaseError",
    "grade_folder",
    "feedback_text",
    "grade_notebook",
    "load_source",
    "release",
    "scores_csv",
    "scores_table",
    "strip_solutions",
    "student_notebook",
]
