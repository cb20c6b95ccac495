"""A teacher notebook that binds the learner's engine to another name (``import mygrad as mg``,
its check ``check_step("05", mg)``) is planned and graded as one that imports ``mygrad``: the
name is the check's, the file is still ``mygrad.py``. Both commands looked for ``mg.py``: the
plan called a complete engine "not measured", and the grader never compared the student's
``mygrad.py`` with the teacher's solutions (found by running each command on both imports)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from exercise_helpers import grade_students

from backproplab.classroom.plan import course_plan
from backproplab.classroom.release import strip_solutions

ENGINE = Path(__file__).resolve().parents[1] / "notebooks" / "mygrad.py"
COPIED = "nb05-mygrad: the answer in mygrad.py is the teacher's solution"


def engine_notebook(imports: str, name: str) -> nbformat.NotebookNode:
    """A notebook that imports the learner's engine with ``imports`` and checks step 05 of it,
    bound to ``name``."""
    notebook = nbformat.v4.new_notebook()
    setup = f"{imports}\nfrom backproplab.exercises.mygrad import check_step"
    check = nbformat.v4.new_code_cell(f'check_step("05", {name})')
    check.metadata["nbgrader"] = {"grade": True, "grade_id": "nb05-mygrad-check", "points": 2}
    notebook.cells = [nbformat.v4.new_markdown_cell("# engine"), nbformat.v4.new_code_cell(setup)]
    notebook.cells.append(check)
    return notebook


def test_the_plan_measures_the_engine_check_of_a_notebook_that_renames_the_module(tmp_path):
    needs = {}
    for imports, name in (("import mygrad", "mygrad"), ("import mygrad as mg", "mg")):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(ENGINE, folder / "mygrad.py")
        nbformat.write(engine_notebook(imports, name), folder / "engine.ipynb")
        [plan] = course_plan(folder)
        needs[name] = (plan.engine_step, plan.needs)
    # step 05 needs the parts of notebooks 03 and 04 (test_course_plan's release test says so)
    assert needs == {"mygrad": ("05", ["03", "04"]), "mg": ("05", ["03", "04"])}


def test_the_grader_compares_the_renamed_modules_file_with_the_teachers_solutions(tmp_path):
    teacher = engine_notebook("import mygrad as mg", "mg")
    solved = ENGINE.read_text(encoding="utf-8")
    files = {
        "teacher": {"mygrad.py": solved},
        "solved": {"mygrad.py": solved},
        "blank": {"mygrad.py": strip_solutions(solved)},
    }
    grades = grade_students(tmp_path, teacher, {"solved": teacher, "blank": teacher}, files)
    assert (grades["solved"].score, grades["blank"].score) == (2, 0)
    assert any(note.startswith(COPIED) for note in grades["solved"].for_teacher)
    assert not grades["blank"].for_teacher


@pytest.mark.parametrize(
    "student, file, said",
    [
        ("alone", None, "the check needs mygrad.py handed in beside the notebook, with run in it"),
        ("broken", "return 1\n", "mygrad.py is not Python: SyntaxError: 'return' outside function"),
    ],
)
def test_the_grader_names_the_renamed_modules_file_when_it_is_missing_or_not_python(
    tmp_path, student, file, said
):
    """A student of that notebook without mygrad.py, or with one that does not compile, was told
    "mg.run was not found: the check needs mg.py handed in beside the notebook": the kernel
    looked for the bound name's file (so a mygrad.py with a syntax error was "not handed in"
    too) and the grader's message named it (found by grading such students)."""
    teacher = engine_notebook("import mygrad as mg", "mg")
    files = {"teacher": {"mygrad.py": ENGINE.read_text(encoding="utf-8")}}
    files[student] = {} if file is None else {"mygrad.py": file}
    grades = grade_students(tmp_path, teacher, {student: teacher}, files)
    [check] = grades[student].checks
    assert check.score == 0
    assert f"your engine raised NameError: mg.run was not found: {said}" in check.message
