"""Tools for teachers: the student release and autograding.

    python -m backproplab.classroom release notebooks/ student/
    python -m backproplab.classroom grade submissions/ --source notebooks/ --csv scores.csv

``release`` (release.py) replaces each solution between nbgrader's markers by a stub;
``grade`` (grading.py) runs each submitted notebook in a fresh kernel and scores its self-checks.
Neither needs nbgrader; the notebooks also work with it (see docs/teaching.md), and
nbgrader_support.py makes ``nbgrader autograde`` score the checks by their verdict.
"""

from .grading import (
    CheckResult,
    NotebookGrade,
    grade_folder,
    grade_notebook,
    scores_csv,
    scores_table,
)
from .release import ReleaseError, release, strip_solutions, student_notebook

__all__ = [
    "CheckResult",
    "NotebookGrade",
    "ReleaseError",
    "grade_folder",
    "grade_notebook",
    "release",
    "scores_csv",
    "scores_table",
    "strip_solutions",
    "student_notebook",
]
