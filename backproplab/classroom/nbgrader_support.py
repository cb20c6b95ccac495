"""Make nbgrader score the self-checks by what they say, and hide the worked answers.

nbgrader scores a graded code cell by its outputs: an error (or stderr) gives 0, a number gives
partial credit, anything else gives full points. The curriculum's checks never raise (a learner's
notebook must not crash), so left alone nbgrader would give full points to every check, solved or
not. ``feedback_grades`` runs inside ``nbgrader autograde`` right after the notebook is executed
and adds an error output to every check cell whose Feedback does not say "correct", so nbgrader
gives it 0. Turn it on in ``nbgrader_config.py``::

    from backproplab.classroom.nbgrader_support import use_feedback_grades
    use_feedback_grades(c)

``hide_worked_answers(c)`` does for ``nbgrader generate_assignment`` what the package's release
does with the cells tagged ``worked-answer``: each run of them becomes one note.
"""

from __future__ import annotations

from typing import Any

import nbformat

from ._reports import feedback_status
from .release import _without_answers

__all__ = ["feedback_grades", "hide_worked_answers", "use_feedback_grades", "worked_answers_hidden"]


def feedback_grades(notebook: nbformat.NotebookNode, resources: dict) -> tuple[Any, dict]:
    """An nbconvert preprocessor (a plain function): mark every unsolved check cell as failed."""
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        status, line = feedback_status(cell.outputs)
        if status not in ("correct", "error"):  # an error already scores 0
            failed = nbformat.v4.new_output(
                "error", ename="NotSolved", evalue=line, traceback=[f"NotSolved: {line}"]
            )
            cell.outputs.insert(0, failed)  # nbgrader stops at the first output it can score
    return notebook, resources


def use_feedback_grades(config: Any) -> None:
    """Insert ``feedback_grades`` right after nbgrader's Execute step of ``nbgrader autograde``.

    ``config`` is the ``c`` of ``nbgrader_config.py``.
    """
    from nbgrader.converters.autograde import Autograde  # only teachers using nbgrader need it

    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    execute = [getattr(step, "__name__", str(step)) for step in steps].index("Execute")
    steps.insert(execute + 1, feedback_grades)
    config.Autograde.autograde_preprocessors = steps


def worked_answers_hidden(
    notebook: nbformat.NotebookNode, resources: dict
) -> tuple[nbformat.NotebookNode, dict]:
    """An nbconvert preprocessor (a plain function): each run of cells tagged ``worked-answer``
    becomes one note, as in the package's release (which also refuses a tagged cell that a later
    cell needs)."""
    notebook.cells = _without_answers(notebook.cells)
    return notebook, resources


def hide_worked_answers(config: Any) -> None:
    """Run ``worked_answers_hidden`` first in ``nbgrader generate_assignment``.

    ``config`` is the ``c`` of ``nbgrader_config.py``.
    """
    from nbgrader.converters.generate_assignment import GenerateAssignment

    steps = list(GenerateAssignment.class_traits()["preprocessors"].default())
    config.GenerateAssignment.preprocessors = [worked_answers_hidden, *steps]
