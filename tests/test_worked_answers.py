"""The worked answers: cells tagged ``worked-answer`` leave a class's release as one note each run,
and stay in a learner's own workbook (``keep_answers``)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from backproplab.classroom import ReleaseError, release, student_notebook
from backproplab.classroom.__main__ import main
from backproplab.classroom.release import ANSWER_NOTE, ANSWER_TAG

ROOT = Path(__file__).resolve().parents[1]
CURRICULUM = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def answer(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cell.metadata["tags"] = [ANSWER_TAG]
    return cell


def exercise_notebook(*after_check: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """An exercise, its check, then ``after_check``."""
    check = nbformat.v4.new_code_cell("check(double)")
    check.metadata["nbgrader"] = {"grade": True, "grade_id": "check-double", "points": 1}
    cells = [
        nbformat.v4.new_markdown_cell("### Exercise 1 · double it"),
        nbformat.v4.new_code_cell(
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
        ),
        check,
        *after_check,
    ]
    for number, cell in enumerate(cells):
        cell.id = f"cell-{number}"
    return nbformat.v4.new_notebook(cells=cells)


def test_a_run_of_answer_cells_becomes_one_note_and_the_rest_stays():
    shown = [nbformat.v4.new_output("stream", name="stdout", text="2 * x\n")]
    teacher = exercise_notebook(
        answer(nbformat.v4.new_markdown_cell("**The answer.** Multiply by two: `2 * x`.")),
        answer(nbformat.v4.new_code_cell("print(rule_source)", outputs=shown)),
        nbformat.v4.new_markdown_cell("## 2. Next section"),
        answer(nbformat.v4.new_markdown_cell("Another answer, after another check.")),
    )
    student = student_notebook(teacher)
    sources = [cell.source for cell in student.cells]
    assert sources[3:] == [ANSWER_NOTE, "## 2. Next section", ANSWER_NOTE]
    assert all("2 * x" not in source for source in sources[2:])
    assert [cell.id for cell in student.cells[3:]] == ["cell-3", "cell-5", "cell-6"]  # stable
    assert all(ANSWER_TAG not in cell.metadata.get("tags", []) for cell in student.cells)
    assert [cell.cell_type for cell in student.cells[3:]] == ["markdown"] * 3


def test_a_notebook_without_cell_ids_gets_a_note_without_one():
    """nbformat 4.4 notebooks have no cell ids: the note must not bring a random one."""
    teacher = exercise_notebook(answer(nbformat.v4.new_markdown_cell("**The answer.** `2 * x`.")))
    teacher.nbformat_minor = 4
    for cell in teacher.cells:
        del cell["id"]
    student = student_notebook(teacher)
    assert student.cells[-1].source == ANSWER_NOTE and "id" not in student.cells[-1]


def test_keep_answers_keeps_them_as_they_are():
    teacher = exercise_notebook(
        answer(nbformat.v4.new_markdown_cell("**The answer.** `2 * x`.")),
        answer(nbformat.v4.new_code_cell("print(rule_source)")),
    )
    student = student_notebook(teacher, keep_answers=True)
    assert [c.source for c in student.cells[3:]] == [c.source for c in teacher.cells[3:]]
    assert ANSWER_NOTE not in [c.source for c in student.cells]


def test_an_answer_cell_that_later_cells_need_is_refused():
    teacher = exercise_notebook(
        answer(nbformat.v4.new_code_cell("worked = 2 * x_example\nprint(worked)")),
        nbformat.v4.new_markdown_cell("Using it:"),
        nbformat.v4.new_code_cell("print(worked + 1)"),
    )
    with pytest.raises(ReleaseError, match=r"cell 4 is tagged worked-answer but binds worked, "):
        student_notebook(teacher)
    assert student_notebook(teacher, keep_answers=True).cells[3].source.startswith("worked")


def test_a_later_cells_own_local_names_are_not_uses():
    """A lambda's parameters, a comprehension's variable and a function's locals are the later
    cell's own (on Python 3.12 and later too, where a comprehension's variables are reported in
    the enclosing scope's symbol table); a function that reads the answer cell's name as a
    global does use it."""
    teacher = exercise_notebook(
        answer(nbformat.v4.new_code_cell("a, b, i = 1, 2, 3\nprint(a * b * i)")),
        nbformat.v4.new_code_cell(
            "add = lambda a, b: a + b\nsquares = [i * i for i in range(3)]\n"
            "seen = {i for i in range(3)}\nby_name = {i: a for i, a in enumerate('ab')}\n"
            "def f(a):\n    b = a\n    return b"
        ),
    )
    assert student_notebook(teacher).cells[3].source == ANSWER_NOTE
    teacher.cells.append(nbformat.v4.new_code_cell("def g():\n    return i + 1"))
    with pytest.raises(ReleaseError, match="binds i, which cell 6 uses"):
        student_notebook(teacher)


def test_later_answer_cells_may_use_an_answer_cells_names():
    teacher = exercise_notebook(
        answer(nbformat.v4.new_code_cell("from backproplab import ops\nrow = ops.mul")),
        answer(nbformat.v4.new_code_cell("print(row)")),
        nbformat.v4.new_code_cell("print('next')"),
    )
    assert [c.source for c in student_notebook(teacher).cells[3:]] == [ANSWER_NOTE, "print('next')"]


@pytest.mark.parametrize("kind", ["solution", "check"])
def test_an_exercise_or_a_check_cannot_be_tagged_an_answer(kind):
    teacher = exercise_notebook()
    answer(teacher.cells[1 if kind == "solution" else 2])
    with pytest.raises(ReleaseError, match=f"cell {2 if kind == 'solution' else 3} is tagged"):
        student_notebook(teacher)


def test_the_command_hides_answers_unless_asked_to_keep_them(tmp_path, capsys):
    source = tmp_path / "teacher"
    source.mkdir()
    teacher = exercise_notebook(answer(nbformat.v4.new_markdown_cell("**The answer.** `2 * x`.")))
    nbformat.write(teacher, source / "01_double.ipynb")
    assert main(["release", str(source), str(tmp_path / "class")]) == 0
    assert main(["release", str(source), str(tmp_path / "after"), "--keep-answers"]) == 0
    hidden = nbformat.read(tmp_path / "class" / "01_double.ipynb", as_version=4)
    kept = nbformat.read(tmp_path / "after" / "01_double.ipynb", as_version=4)
    assert hidden.cells[-1].source == ANSWER_NOTE
    assert kept.cells[-1].source == "**The answer.** `2 * x`."
    assert "def double(x):\n    # YOUR CODE HERE" in kept.cells[1].source  # still a stub


def test_the_curriculum_releases_without_its_worked_answers(tmp_path):
    """Every curriculum notebook releases (no tagged cell is needed later), and what was tagged
    is gone: no tag, and one note per run of tagged cells."""
    written = release(ROOT / "notebooks", tmp_path / "class")
    assert len(written) == len(CURRICULUM)
    for path in CURRICULUM:
        teacher = nbformat.read(path, as_version=4)
        tags = [ANSWER_TAG in c.metadata.get("tags", []) for c in teacher.cells]
        runs = sum(1 for i, t in enumerate(tags) if t and (i == 0 or not tags[i - 1]))
        student = nbformat.read(tmp_path / "class" / path.name, as_version=4)
        assert [c.source for c in student.cells].count(ANSWER_NOTE) == runs, path.name
        assert len(student.cells) == len(teacher.cells) - sum(tags) + runs, path.name


# Answers a class's release must not show in any cell: the class hands in all of a notebook's
# exercises together, so a cell after an exercise that shows its answer shows it to everyone. Each
# pattern names what it would give away; each is in the teacher's notebook, which still teaches it.
NOT_IN_A_CLASS_RELEASE = {
    "07_layers_and_losses.ipynb": {
        r"\\sigma\(z\) - y|sigmoid\(z\) - y": "Exercise 4 (divided by Exercise 1's sigma', it is dl/dp)",
        r"-1 ?/ ?p": "Exercise 4 (the derivative of the BCE for the label 1)",
    },
    "08_softmax_cross_entropy.ipynb": {
        r"(\w+) - \1\.max\(": "Exercise 2's shift, part of Exercise 3's answer",
        r"\\max_k": "Exercise 2's shift",
    },
    "10_vanishing_gradients.ipynb": {
        r"\\sqrt\{64/2\}|\\sqrt 2\b": "Exercise 2 (the ReLU half, read back from a measurement)",
        r"He's.*\b0\.25\b": "Exercise 2 (He's scale for 32 inputs)",
    },
}


def shown(cell: nbformat.NotebookNode) -> str:
    """A cell's source and the text of its outputs."""
    texts = [cell.source]
    for output in cell.get("outputs", []):
        texts.append(output.get("text", ""))
        texts += [str(v) for k, v in output.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(texts)


@pytest.mark.parametrize("name", sorted(NOT_IN_A_CLASS_RELEASE))
def test_a_class_release_shows_no_answer_after_its_exercise(name):
    teacher = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    student = student_notebook(teacher)
    for pattern, gives_away in NOT_IN_A_CLASS_RELEASE[name].items():
        answer_text = re.compile(pattern, re.DOTALL)
        assert any(answer_text.search(shown(cell)) for cell in teacher.cells), (name, pattern)
        showing = [i for i, cell in enumerate(student.cells) if answer_text.search(shown(cell))]
        assert showing == [], f"{name}: cells {showing} of the release show {gives_away}"


def test_nbgrader_generate_assignment_hides_them_with_hide_worked_answers(tmp_path):
    pytest.importorskip(
        "nbgrader", reason="nbgrader is not installed: pip install -e '.[instructor]'"
    )
    teacher = exercise_notebook(
        answer(nbformat.v4.new_markdown_cell("**The answer.** Multiply by two: `2 * x`.")),
        answer(nbformat.v4.new_code_cell("print('2 * x')")),
        nbformat.v4.new_markdown_cell("## 2. Next section"),
    )
    teacher.cells[2].metadata["nbgrader"].update(
        {"locked": True, "solution": False, "schema_version": 3}
    )
    teacher.cells[1].metadata["nbgrader"] = {
        "solution": True, "grade": False, "locked": False, "grade_id": "double",
        "schema_version": 3,
    }  # fmt: skip
    source = tmp_path / "source" / "ps1"
    source.mkdir(parents=True)
    nbformat.write(teacher, source / "01_double.ipynb")
    (tmp_path / "nbgrader_config.py").write_text(
        "from backproplab.classroom.nbgrader_support import hide_worked_answers\n"
        "c = get_config()\nhide_worked_answers(c)\n"
    )
    command = [sys.executable, "-m", "nbgrader", "generate_assignment", "ps1", "--no-db"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    student = nbformat.read(tmp_path / "release" / "ps1" / "01_double.ipynb", as_version=4)
    sources = [cell.source for cell in student.cells]
    assert sources[3:] == [ANSWER_NOTE, "## 2. Next section"]
    assert "raise NotImplementedError()" in sources[1]


def test_an_answer_cell_whose_import_later_cells_need_is_refused():
    """``import`` binds a name as much as ``=`` does: without the answer cell, ``ops`` is gone."""
    teacher = exercise_notebook(
        answer(nbformat.v4.new_code_cell("from backproplab import ops\nprint(ops.mul)")),
        nbformat.v4.new_code_cell("print(ops.add)"),
    )
    with pytest.raises(ReleaseError, match=r"cell 4 is tagged worked-answer but binds ops, "):
        student_notebook(teacher)


@pytest.mark.parametrize("later", ["%time print('next')", "x = 1\nglobal x", "nonlocal q"])
def test_a_later_cell_python_cannot_read_is_no_use(later):
    """A magic, or code the parser accepts and the symbol table refuses, uses no name."""
    teacher = exercise_notebook(
        answer(nbformat.v4.new_code_cell("x = 2 * x_example\nprint(x)")),
        nbformat.v4.new_code_cell(later),
    )
    assert student_notebook(teacher).cells[3].source == ANSWER_NOTE
