"""What the grader tells a student whose code broke, rather than answered wrongly.

A solution cell that does not run (a syntax error, an exception before its ``def``) leaves its
function undefined, and the check then meets only a NameError: the feedback said "your code
raised NameError: name 'd_sin_of_square' is not defined", which points nowhere. A function that
kills the kernel when the check calls it was reported twice, in two wordings.
"""

from __future__ import annotations

import csv
import io

import nbformat
from test_adversarial_classroom import IMPORTS, grade, teacher_notebook, with_body
from test_grading import ROOT, cell_of

from backproplab.classroom.__main__ import main
from backproplab.classroom.grading import Limits, feedback_text, grade_notebook, load_source


def _grade_class(tmp_path, students: dict[str, nbformat.NotebookNode]) -> tuple[dict, dict]:
    """Grade ``students`` against teacher_notebook(): (CSV rows, feedback text) by student."""
    teacher, submitted = tmp_path / "teacher", tmp_path / "in"
    teacher.mkdir()
    nbformat.write(teacher_notebook(), teacher / "a.ipynb")
    for name, notebook in students.items():
        (submitted / name).mkdir(parents=True)
        nbformat.write(notebook, submitted / name / "a.ipynb")
    scores, feedback = tmp_path / "scores.csv", tmp_path / "feedback"
    command = ["grade", str(submitted), "--source", str(teacher), "--timeout", "20"]
    assert main([*command, "--csv", str(scores), "--feedback", str(feedback)]) == 0
    rows = {
        row["student"]: row
        for row in csv.DictReader(io.StringIO(scores.read_text(encoding="utf-8")))
    }
    texts = {name: (feedback / f"{name}.txt").read_text(encoding="utf-8") for name in students}
    return rows, texts


def _renamed(notebook: nbformat.NotebookNode, old: str, new: str) -> nbformat.NotebookNode:
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        cell.source = cell.source.replace(f"def {old}(", f"def {new}(")
    return notebook


def test_an_answer_cell_that_raised_is_named_with_its_error(tmp_path):
    teacher = teacher_notebook()
    rows, texts = _grade_class(
        tmp_path,
        {
            "typo": with_body(teacher, "d_sin_of_square", "    return np.cos(x**2) * 2 * x)\n"),
            "early": with_body(  # the cell raises after its def
                teacher, "d_sin_of_square", "    return np.cos(x**2) * 2 * x\n\nundefined_name\n"
            ),
            "right": teacher,
            "renamed": _renamed(teacher, "d_sin_of_square", "d_sin_of_sqare"),  # a typo
        },
    )
    scores = [rows[name]["score"] for name in ("typo", "early", "right", "renamed")]
    assert scores == ["1", "2", "2", "1"]
    typo = texts["typo"].splitlines()
    said = [line for line in typo if "SyntaxError" in line]
    assert said == [
        "  ! cell 2, the answer cell nb02-d_sin_of_square, raised SyntaxError: unmatched ')' "
        "(line 3)"
    ], typo  # without the file name the kernel gave the cell (a number that means nothing)
    assert "the answer cell nb02-d_sin_of_square, raised SyntaxError" in rows["typo"]["problems"]
    # a cell that raised after defining its function: the error is said, the check still ran
    assert "raised NameError: name 'undefined_name' is not defined" in texts["early"]
    assert "✔ nb02-d_sin_of_square" in texts["early"]
    assert (
        "✘ not yet — your code raised NameError: name 'd_sin_of_square' is not defined. Did you "
        "mean: 'd_sin_of_sqare'?" in texts["renamed"]
    ), texts["renamed"]
    assert rows["right"]["problems"].count("raised") == 0
    assert "!" not in texts["right"]


def test_a_function_that_kills_the_kernel_is_reported_once(tmp_path):
    killer = with_body(teacher_notebook(), "d_sin_of_square", "    import os\n    os._exit(1)\n")
    rows, texts = _grade_class(tmp_path, {"killer": killer})
    text = texts["killer"]
    assert text.count("the kernel died") == 1, text
    assert "✘ nb02-d_sin_of_square (0/1): the kernel died while a check ran the function" in text
    assert "✘ nb05-dL_db (0/1): the kernel was stopped" in text
    assert rows["killer"]["problems"].count("the kernel died") == 1, rows["killer"]["problems"]


def test_an_answer_cell_stopped_for_its_time_is_not_said_to_have_raised(tmp_path):
    """The grader interrupts a cell that runs too long: the KeyboardInterrupt is the grader's."""
    looping = with_body(
        teacher_notebook(), "d_sin_of_square", "    return x\n\nwhile True:\n    pass\n"
    )
    _, problems = grade(tmp_path, looping)  # (10 s for a cell)
    assert "cell 2 ran longer than 10 s of CPU time" in problems
    assert not [problem for problem in problems if "raised" in problem], problems


def _grade_one(tmp_path, teacher: nbformat.NotebookNode, student: nbformat.NotebookNode):
    for name, notebook in (("teacher", teacher), ("ada", student)):
        (tmp_path / name).mkdir()
        nbformat.write(notebook, tmp_path / name / "a.ipynb")
    return grade_notebook(
        tmp_path / "ada" / "a.ipynb",
        "ada",
        load_source(tmp_path / "teacher"),
        Limits(timeout=20, memory_mb=1536),
        folder=tmp_path / "ada",
    )


def test_an_answer_cell_that_shows_many_long_errors_gets_one_short_line(tmp_path):
    """The cell's tracebacks all became problems, each whole: 2,001 lines and 3 MB in the
    feedback and in the teacher's CSV row, from one cell."""
    body = (
        "    return np.cos(x**2) * 2 * x\n\n"
        "try:\n    raise ValueError('A' * 1000 + '\\nforged line')\nexcept ValueError:\n"
        "    for _ in range(200):\n        get_ipython().showtraceback()\n"
        "raise ValueError('B' * 10**6)\n"
    )
    grade = _grade_one(
        tmp_path, teacher_notebook(), with_body(teacher_notebook(), "d_sin_of_square", body)
    )
    raised = [problem for problem in grade.problems if "raised" in problem]
    assert len(raised) == 1, len(raised)
    assert raised[0].startswith(
        "cell 2, the answer cell nb02-d_sin_of_square, raised ValueError: B"
    )
    assert 300 < len(raised[0]) < 400 and raised[0].endswith("B…"), len(raised[0])
    assert len(feedback_text("ada", [grade])) < 2000


def test_a_function_whose_cell_did_not_run_is_not_a_typo_of_another_exercise(tmp_path):
    """nb05's dL_dW with a syntax error: its check (which reads the code before it calls it)
    said "the check failed in the grader: NameError: name 'dL_dW' is not defined. Did you mean:
    'dL_dX'?", a problem of the teacher's and a rename the student must not make."""
    source = nbformat.read(ROOT / "notebooks" / "05_matmul_gradients.ipynb", as_version=4)
    cells = [nbformat.v4.new_code_cell(IMPORTS)]
    for grade_id in ("nb05-dL_dX", "nb05-dL_dW"):
        cells += [nbformat.from_dict(cell_of(source, g)) for g in (grade_id, f"{grade_id}-check")]
    teacher = nbformat.v4.new_notebook(cells=cells, metadata={})
    student = with_body(teacher, "dL_dW", "    return G.T @ X)\n")
    grade = _grade_one(tmp_path, teacher, student)
    result = {check.exercise: check for check in grade.checks}["nb05-dL_dW"]
    assert (result.status, result.score) == ("hint", 0.0), result
    assert result.message.endswith("your code raised NameError: name 'dL_dW' is not defined")
    assert [p for p in grade.problems if "dL_dW" in p] == [
        "cell 4, the answer cell nb05-dL_dW, raised SyntaxError: unmatched ')' (line 3)"
    ], grade.problems
