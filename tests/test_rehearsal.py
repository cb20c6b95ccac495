"""``rehearse``: a teacher's checks tried before class on their own answers and on the release.

A notebook with three exercises: one whose check is sound, one whose check gives a point for
anything (``callable`` is true of the release's stub too) and one whose check reads a value that
only the solution cell computes (in the grader each check runs on its own: the teacher's own
answer scores 0). The rehearsal must name the last two, and only them. (The curriculum's own
rehearsal is tests/test_grading_curriculum.py.)
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from backproplab.classroom import rehearsal_text, rehearse
from backproplab.classroom.__main__ import main


def _cell(source: str, grade_id: str | None = None, points: int | None = None):
    cell = nbformat.v4.new_code_cell(source)
    if grade_id is not None:
        cell.metadata["nbgrader"] = {
            "solution": points is None,
            "grade": points is not None,
            "locked": points is not None,
            "grade_id": grade_id,
            "schema_version": 3,
            **({"points": points} if points is not None else {}),
        }
    return cell


def _teacher(folder: Path) -> Path:
    folder.mkdir()
    cells = [
        _cell("import numpy as np"),
        _cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "hw-double"),
        _cell("assert double(3) == 6", "hw-double-check", 1),
        _cell("def triple(x):\n    ### BEGIN SOLUTION\n    return 3 * x\n    ### END SOLUTION", "hw-free"),
        _cell("assert callable(triple)", "hw-free-check", 1),
        _cell("### BEGIN SOLUTION\nk = 7\n### END SOLUTION", "hw-value"),
        _cell("assert k == 7", "hw-value-check", 1),
    ]  # fmt: skip
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "hw.ipynb")
    return folder


@pytest.fixture(scope="module")
def teacher(tmp_path_factory) -> Path:
    return _teacher(tmp_path_factory.mktemp("course") / "hw")


def test_names_the_check_that_pays_for_nothing_and_the_one_that_fails_the_teacher(teacher):
    rehearsal = rehearse(teacher)
    problems = rehearsal.problems()
    assert len(problems) == 2, problems
    free, value = sorted(problems)
    assert free.startswith("hw-free: the blank release scored 1 of 1: the check gives points")
    assert value.startswith("hw-value: your own answer scored 0 of 1")
    assert "k is assigned in a solution cell (code cell 6" in value  # the grade's words say why
    assert not any(p.startswith("hw-double") for p in problems)
    text = rehearsal_text(rehearsal)
    assert "  hw-double: your answers 1 of 1, the blank release 0\n" in text
    assert "  hw-free: your answers 1 of 1, the blank release 1\n" in text
    assert "\n2 to fix before class:\n- hw-value: " in text
    assert list(teacher.iterdir()) == [teacher / "hw.ipynb"]  # nothing written beside it


def test_the_command_exits_1_with_something_to_fix_and_0_without(teacher, tmp_path, capsys):
    assert main(["rehearse", str(teacher), "--timeout", "30"]) == 1
    assert "2 to fix before class:" in capsys.readouterr().out
    sound = tmp_path / "sound"
    sound.mkdir()
    notebook = nbformat.read(teacher / "hw.ipynb", as_version=4)
    notebook.cells = notebook.cells[:3]  # only the sound exercise
    nbformat.write(notebook, sound / "hw.ipynb")
    assert main(["rehearse", str(sound)]) == 0
    out = capsys.readouterr().out
    assert out.endswith("gives your answers all its points and the blank release none.\n")


def test_a_folder_that_is_not_there_is_one_line(tmp_path, capsys):
    assert main(["rehearse", str(tmp_path / "nowhere")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"rehearse: {tmp_path / 'nowhere'} is not a folder of notebooks"
    )
