"""A check cell that imports the learner's engine in one statement with another module
(``import math, mygrad``). Found by mutation testing _learner_imports.py: a statement is the
learner's import only when all its names are the learner's modules, so this one stays in the
teacher's check, run in the grader's process, where there is no mygrad: every student scored 0
with "ModuleNotFoundError: No module named 'mygrad'". The same line in a cell above the check
is split name by name (_source.py) and graded."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from exercise_helpers import grade_students

SOLVED = (Path(__file__).resolve().parents[1] / "notebooks" / "mygrad.py").read_text()
SETUP = "from backproplab.exercises.mygrad import check_step"


def engine_notebook(setup: str, check: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(check)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "nb05-mygrad-check", "points": 2}
    cells = [nbformat.v4.new_markdown_cell("# engine"), nbformat.v4.new_code_cell(setup), cell]
    return nbformat.v4.new_notebook(cells=cells)


@pytest.mark.parametrize(
    "setup, check",
    [
        (f"{SETUP}\nimport math, mygrad", "assert math.pi > 3\ncheck_step('03', mygrad)"),
        (SETUP, "import math, mygrad\nassert math.pi > 3\ncheck_step('03', mygrad)"),
    ],
    ids=["in a cell above", "in the check cell"],
)
def test_the_engine_imported_with_another_module_is_graded(tmp_path, setup, check):
    teacher = engine_notebook(setup, check)
    files = {"teacher": {"mygrad.py": SOLVED}, "solved": {"mygrad.py": SOLVED}}
    grades = grade_students(tmp_path, teacher, {"solved": teacher}, files)
    [result] = grades["solved"].checks
    assert (result.score, result.status) == (2, "correct"), result.message
