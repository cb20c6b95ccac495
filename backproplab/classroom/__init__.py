"""Tools for teachers: the course plan, the student release and autograding.

    python -m backproplab.classroom plan notebooks/
    python -m backproplab.classroom release notebooks/ student/
    python -m backproplab.classroom rehearse notebooks/
    python -m backproplab.classroom grade submissions/ --source notebooks/ --timeout 60 \
        --jobs 2 --csv scores.csv --feedback feedback/

``plan`` (plan.py) prints what each notebook grades and which notebooks' ``mygrad.py`` parts
its engine check needs; ``release`` (release.py) replaces each solution between nbgrader's
markers by a stub and clears the stored outputs that may show one (_dependence.py); ``grade``
(grading.py) runs each submitted notebook in a sandboxed kernel (_sandbox.py, _kernel.py) and
judges the learner's functions with the teacher's checks (_source.py) in its own process
(_check.py; _session.py, _wire.py and _kernel_side.py carry the data between the two); the scores
and feedback are written by _reports.py. ``rehearse`` (rehearsal.py) grades your own answers
and the untouched release before class: every check must give the first all its points and the
second none.
Neither needs nbgrader; the notebooks also work with it (see docs/teaching.md), and
nbgrader_support.py makes ``nbgrader autograde`` score the checks by their verdict.
"""

from . import _requirements  # noqa: F401  (first: a one-line error if nbformat is missing)
from ._grades import CheckResult, NotebookGrade
from ._reports import feedback_text, scores_csv, scores_table
from ._source import load_source
from .grading import Limits, grade_folder, grade_notebook
from .rehearsal import Rehearsal, rehearsal_text, rehearse
from .release import ReleaseError, release, strip_solutions, student_notebook

__all__ = [
    "CheckResult",
    "Limits",
    "NotebookGrade",
    "Rehearsal",
    "ReleaseError",
    "grade_folder",
    "feedback_text",
    "grade_notebook",
    "load_source",
    "rehearsal_text",
    "rehearse",
    "release",
    "scores_csv",
    "scores_table",
    "strip_solutions",
    "student_notebook",
]
