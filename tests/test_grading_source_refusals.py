"""A teacher's source the grader cannot grade from, refused in one line before any notebook runs.

Two teacher notebooks of one name in two subfolders (week1/hw.ipynb and week2/hw.ipynb): the
grader knows a teacher notebook by its file name, so a student who handed in both had the second
dropped as "another copy of hw.ipynb", its points in no column. And a ``.ipynb`` file of the
source that is JSON but no notebook (``[]``, ``{}``): nbformat's AttributeError or
ValidationError, with a traceback, in every command.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from backproplab.classroom import grade_folder, grading, rehearse
from backproplab.classroom.__main__ import main


def _hw(folder: Path, week: str) -> None:
    """``folder/week/hw.ipynb``: an exercise ``double`` and its check, of ``week``'s grade_ids."""
    solution = nbformat.v4.new_code_cell(
        "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
    )
    solution.metadata["nbgrader"] = {"solution": True, "grade_id": f"{week}-double"}
    check = nbformat.v4.new_code_cell("assert double(3) == 6")
    check.metadata["nbgrader"] = {"grade": True, "grade_id": f"{week}-double-check", "points": 1}
    (folder / week).mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook(cells=[solution, check])
    nbformat.write(notebook, folder / week / "hw.ipynb")


@pytest.fixture
def course(tmp_path, monkeypatch) -> Path:
    """The teacher's week1/hw.ipynb, week2/hw.ipynb and 03_other.ipynb; a student who handed in
    week1's and week2's hw. No kernel may start."""
    monkeypatch.setattr(grading, "Kernel", lambda *a, **k: pytest.fail("a kernel was started"))
    for week in ("week1", "week2"):
        _hw(tmp_path / "course", week)
        _hw(tmp_path / "submitted" / "ada", week)
    _hw(tmp_path / "course", "03")
    (tmp_path / "course" / "03" / "hw.ipynb").rename(tmp_path / "course" / "03_other.ipynb")
    return tmp_path / "course"


SAME_NAME = (
    "the teacher's week1/hw.ipynb and week2/hw.ipynb are both named hw.ipynb, and the grader "
    "tells the teacher's notebooks apart by name: give one assignment's folder as "
)


def test_grade_refuses_two_teacher_notebooks_of_one_name(course, capsys):
    """Graded, ada's week2 hw was "another copy of hw.ipynb ... only the best counts", the
    week2 column empty, her feedback "1 of 1 points" where she had 2."""
    submitted, csv = course.parent / "submitted", course.parent / "s.csv"
    assert main(["grade", str(submitted), "--source", str(course), "--csv", str(csv)]) == 1
    assert capsys.readouterr().err == f"grade: {SAME_NAME}--source, or rename one\n"
    with pytest.raises(ValueError, match="^grade: the teacher's week1/hw.ipynb and week2/"):
        grade_folder(submitted, course, notebooks=["hw"])  # --notebooks names both
    assert not csv.exists()


def test_an_assignment_without_them_is_graded(course):
    """--notebooks 03: neither hw is graded, so their one name is no matter."""
    (course.parent / "none").mkdir()
    assert grade_folder(course.parent / "none", course, notebooks=["03"]) == []


def test_rehearse_refuses_two_teacher_notebooks_of_one_name(course, capsys):
    """Rehearsed, each hw was "another copy" of the other: two problems the teacher cannot fix."""
    assert main(["rehearse", str(course)]) == 1
    assert capsys.readouterr().err == f"rehearse: {SAME_NAME}the source, or rename one\n"
    with pytest.raises(ValueError, match="^rehearse: the teacher's week1/hw.ipynb and week2/"):
        rehearse(course, notebooks=["hw"])


def test_release_writes_each_of_them_where_it_is(course, tmp_path):
    """The release needs no names: each hw goes to its own subfolder, stubbed."""
    assert main(["release", str(course), str(tmp_path / "student")]) == 0
    for week in ("week1", "week2"):
        notebook = nbformat.read(tmp_path / "student" / week / "hw.ipynb", as_version=4)
        assert notebook.cells[0].metadata["nbgrader"]["grade_id"] == f"{week}-double"
        assert "return 2 * x" not in notebook.cells[0].source


@pytest.mark.parametrize(
    "text, why",
    [
        ("[]", "its JSON is a list, not an object"),
        ("{}", "its JSON has no cells"),
        ("3", "its JSON is one value, not an object"),
        ('{"cells": "abc", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "its cells are"),
        (  # (nbformat's words)
            '{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
            "",  # (nbformat's words, whatever its version says)
        ),
        ("not json", "it is not JSON text"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "grade", "rehearse", "release"])
def test_a_file_of_the_source_that_is_no_notebook_is_named(tmp_path, capsys, text, why, command):
    """``[]`` or ``{}`` in a .ipynb of the source: a traceback (AttributeError, ValidationError)
    in each command; not JSON: nbformat's words, with no file named."""
    course = tmp_path / "course"
    _hw(course, "week1")
    (course / "notes.ipynb").write_text(text, encoding="utf-8")
    (tmp_path / "submitted").mkdir()
    argv = {
        "plan": ["plan", str(course)],
        "grade": ["grade", str(tmp_path / "submitted"), "--source", str(course)],
        "rehearse": ["rehearse", str(course)],
        "release": ["release", str(course), str(tmp_path / "student")],
    }[command]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{command}: {course / 'notes.ipynb'} is not a notebook: {why}"), err
    assert err.count("\n") == 1, err


def test_release_of_an_assignment_speaks_for_itself(tmp_path, capsys):
    """``release --notebooks`` reads the source as grade does, and printed its errors as
    "release: grade: ... is not a notebook"."""
    course = tmp_path / "course"
    _hw(course, "week1")
    (course / "notes.ipynb").write_text("[]", encoding="utf-8")
    argv = ["release", str(course), str(tmp_path / "student"), "--notebooks", "hw"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"release: {course / 'notes.ipynb'} is not a notebook: its JSON is a list, not an object\n"
    )
