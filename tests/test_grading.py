"""Autograding a folder of fabricated submissions of the fixture notebook.

tests/fixtures/exercises.ipynb has two exercises: `double` (1 point) and `square` (2 points).
Each submission below is that notebook as a student might hand it in.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from backproplab.classroom import release
from backproplab.classroom.__main__ import main
from backproplab.classroom.grading import feedback_status

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "exercises.ipynb"
TIMEOUT = 4  # seconds per cell: the fixture's cells take well under a second


def with_bodies(notebook, **bodies: str):
    """A copy of the student ``notebook`` with the stub of each named exercise replaced."""
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        for name, body in bodies.items():
            if f"def {name}(" in cell.source:
                stub_start = cell.source.index("    # YOUR CODE HERE")
                cell.source = cell.source[:stub_start] + body
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade seven submissions with the CLI; return (CSV rows by student, printed table)."""
    root = tmp_path_factory.mktemp("class")
    teacher = root / "teacher"
    teacher.mkdir()
    shutil.copy(FIXTURE, teacher / FIXTURE.name)
    release(teacher, root / "student")
    blank = nbformat.read(root / "student" / FIXTURE.name, as_version=4)

    solved_double = "    return 2 * x"
    solved_square = "    return x**2"
    cheater = with_bodies(blank)
    for cell in cheater.cells:  # edits the check to print what a passing check prints
        if cell.source == "check_double(double)":
            cell.source = 'print("double: ✔ correct — well done.")'
    broken = with_bodies(blank, double="    return 2 *", square=solved_square)  # SyntaxError
    broken.cells.insert(4, nbformat.v4.new_code_cell("undefined_name + 1"))  # NameError
    stuck_loop = (
        "    import time\n    while True:\n        try:\n            time.sleep(0.05)\n"
        "        except KeyboardInterrupt:\n            pass"
    )
    submissions = {
        "blank": blank,
        "partly": with_bodies(blank, double=solved_double),
        "wrong": with_bodies(blank, double="    return x + 2", square=solved_square),
        "broken": broken,
        "loop": with_bodies(blank, double="    while True:\n        pass", square=solved_square),
        "stuck": with_bodies(blank, double=stuck_loop, square=solved_square),
        "cheater": cheater,
    }
    folder = root / "submitted"
    for student, notebook in submissions.items():
        (folder / student).mkdir(parents=True)
        nbformat.write(notebook, folder / student / FIXTURE.name)
    shutil.copy(FIXTURE, folder / "full.ipynb")  # a flat file: the student is "full"

    table_path = root / "scores.csv"
    arguments = ["grade", str(folder), "--source", str(teacher), "--timeout", str(TIMEOUT)]
    assert main([*arguments, "--csv", str(table_path)]) == 0
    with table_path.open() as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    return rows


def test_csv_has_one_column_per_exercise(graded):
    assert set(graded) == {"blank", "partly", "wrong", "broken", "loop", "stuck", "cheater", "full"}
    assert list(next(iter(graded.values()))) == [
        "student", "fixture-double", "fixture-square", "score", "points", "problems",
    ]  # fmt: skip
    assert all(row["points"] == "3" for row in graded.values())


@pytest.mark.parametrize(
    "student, double, square",
    [
        ("full", "1", "2"),  # everything right
        ("blank", "0", "0"),  # nothing done: both checks say "not done yet"
        ("partly", "1", "0"),
        ("wrong", "0", "2"),  # a hint for double, square right
        ("broken", "0", "2"),  # a SyntaxError and a NameError do not stop the grading
        ("loop", "0", "2"),  # the infinite loop is interrupted, square still graded
        ("stuck", "0", "0"),  # ignores interrupts: the rest of the notebook is not run
        ("cheater", "0", "0"),  # the edited check is replaced by the teacher's
    ],
)
def test_scores(graded, student, double, square):
    row = graded[student]
    assert (row["fixture-double"], row["fixture-square"]) == (double, square)
    assert row["score"] == str(int(double) + int(square))


def test_problems_are_reported(graded):
    assert graded["full"]["problems"] == ""
    assert graded["broken"]["problems"] == ""  # exceptions are the student's, not the grader's
    assert graded["loop"]["problems"] == f"exercises.ipynb: cell 4 ran longer than {TIMEOUT} s"
    assert "the kernel stayed stuck" in graded["stuck"]["problems"]


def test_table_is_printed(graded, capsys):
    # The module fixture printed before this test's capture began: grade one notebook again.
    folder = Path(FIXTURE).parent
    assert main(["grade", str(folder), "--timeout", "30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "student",
        "fixture-double",
        "fixture-square",
        "score",
        "points",
        "problems",
    ]
    assert lines[2].split() == ["exercises", "1", "2", "3", "3"]  # slider.ipynb has no checks
    assert lines[3].split() == ["slider", "0", "0"]


def test_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere")]) == 1
    assert "is not a folder of submissions" in capsys.readouterr().err


def test_unreadable_notebook_is_a_problem_not_a_crash(tmp_path, capsys):
    (tmp_path / "mallory.ipynb").write_text("not json")
    assert main(["grade", str(tmp_path), "--csv", str(tmp_path / "s.csv")]) == 0
    assert "could not read the notebook" in (tmp_path / "s.csv").read_text()


def stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def shown(text):
    return {"output_type": "execute_result", "data": {"text/plain": text}}


@pytest.mark.parametrize(
    "outputs, status",
    [
        ([shown("nb05-dL_dW: ✔ correct — well done.")], "correct"),
        ([shown("dW: ✘ not yet — off by the batch size.")], "hint"),
        ([stream("dW: … not done yet — replace the stub.\n")], "not done"),
        ([shown("a: ✔ correct — ok."), shown("b: ✘ not yet — no.")], "hint"),
        (
            [shown("a: ✔ correct — ok."), {"output_type": "error", "ename": "E", "evalue": ""}],
            "error",
        ),
        ([shown("42"), stream("correct!\n")], "not run"),
        ([], "not run"),
    ],
)
def test_feedback_status(outputs, status):
    assert feedback_status(outputs)[0] == status


def test_nbgrader_autograde_scores_checks_by_their_feedback(tmp_path):
    """With use_feedback_grades in nbgrader_config.py, an unsolved check scores 0 in nbgrader.

    (Without it nbgrader gives full points to every check cell that does not raise, and the
    checks never raise.)"""
    pytest.importorskip(
        "nbgrader", reason="nbgrader is not installed: pip install -e '.[instructor]'"
    )
    (tmp_path / "source" / "ps1").mkdir(parents=True)
    shutil.copy(FIXTURE, tmp_path / "source" / "ps1" / FIXTURE.name)
    (tmp_path / "nbgrader_config.py").write_text(
        "from backproplab.classroom.nbgrader_support import use_feedback_grades\n"
        "c = get_config()\n"
        "c.CourseDirectory.db_assignments = [dict(name='ps1')]\n"
        "c.CourseDirectory.db_students = [dict(id='ada')]\n"
        "use_feedback_grades(c)\n"
    )

    def nbgrader(*arguments):
        command = [sys.executable, "-m", "nbgrader", *arguments]
        # nbgrader runs its own executables (alembic): find them beside this Python
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        result = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
        )
        assert result.returncode == 0, result.stderr[-3000:]

    nbgrader("generate_assignment", "ps1")
    released = nbformat.read(tmp_path / "release" / "ps1" / FIXTURE.name, as_version=4)
    submitted = tmp_path / "submitted" / "ada" / "ps1"
    submitted.mkdir(parents=True)
    solved = with_bodies(released, double="    return 2 * x")  # square left as the stub
    assert "return 2 * x" in solved.cells[3].source
    nbformat.write(solved, submitted / FIXTURE.name)
    nbgrader("autograde", "ps1")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        (notebook,) = gradebook.find_submission("ps1", "ada").notebooks
        scores = {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}
    assert scores == {"fixture-double-check": (1.0, 1.0), "fixture-square-check": (0.0, 2.0)}
