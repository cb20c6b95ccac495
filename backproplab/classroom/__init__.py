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
(_check.py; _session.py, _wire.py, _kernel_side.py and _kernel_values.py carry the data between
the two); the scores and feedback are written by _reports.py. ``rehearse`` (rehearsal.py) grades
your own answers and the untouched release before class: every check must give the first all its
points and the second none.
Neither needs nbgrader; the notebooks also work with it (see docs/teaching.md), and
nbgrader_support.py makes ``nbgrader autograde`` score the checks by their verdict.
"""

import importlib
from typing import TYPE_CHECKING

from . import _requirements  # noqa: F401  (first: a one-line error if nbformat is missing)
from ._grades import CheckResult, NotebookGrade
from .release import ReleaseError, release, strip_solutions, student_notebook

if TYPE_CHECKING:
    from ._reports import feedback_text, scores_csv, scores_table
    from ._source import load_source
    from .grading import Limits, grade_folder, grade_notebook
    from .rehearsal import Rehearsal, rehearsal_text, rehearse

# Imported when first used: every graded kernel imports this package (for _kernel_side.py), and
# the grader's side (nbformat: its import took 1.2-1.4 s of CPU in each kernel) is not its business.
# The release's names are imported above, so that ``release`` stays the function, never the module.
_LATER = {
    "feedback_text": "_reports",
    "scores_csv": "_reports",
    "scores_table": "_reports",
    "load_source": "_source",
    "Limits": "grading",
    "grade_folder": "grading",
    "grade_notebook": "grading",
    "Rehearsal": "rehearsal",
    "rehearsal_text": "rehearsal",
    "rehearse": "rehearsal",
}


def __getattr__(name: str) -> object:
    """The grader's names, imported from their module when first asked for."""
    if name not in _LATER:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LATER[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LATER))


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
