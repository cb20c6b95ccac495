"""The workbook says how far the learner got when they come back: each notebook's self-checks
that say correct, as the notebooks were last saved, and the first exercise that does not yet."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbclient import NotebookClient
from test_workbook import NOTEBOOKS

from backproplab.classroom.grading import load_source
from backproplab.workbook import main, make_workbook, progress


@pytest.fixture
def workbook(tmp_path):
    target = tmp_path / "workbook"
    make_workbook(NOTEBOOKS, target)
    return target


def _answer(path, **bodies: str) -> None:
    """Replace the stub of each function named in ``bodies`` in the notebook at ``path``."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        for name, body in bodies.items():
            if cell.source.startswith(f"def {name}("):
                cell.source = cell.source[: cell.source.index("    # YOUR CODE HERE")] + body
    nbformat.write(notebook, path)


def test_a_new_workbook_has_nothing_started(workbook):
    assert progress(workbook) == (
        "Your exercises, as last saved: 01-14 not started.\n"
        "Next: 01_why_backprop.ipynb, gradient_descent_step (its check has not run yet)."
    )


def test_it_reads_the_verdicts_the_checks_showed_when_the_notebook_ran(workbook):
    """Notebook 01 as the curriculum stores it (every check ran and said correct), and notebook
    02 run in a kernel with one exercise right, one wrong and three not written."""
    shutil.copy(NOTEBOOKS / "01_why_backprop.ipynb", workbook)
    mine = workbook / "02_chain_rule.ipynb"
    _answer(
        mine,
        d_sin_of_square="    return np.cos(x**2) * 2 * x\n",
        partials="    return 2 * x * y, x**2\n",  # the exp(x y) term forgotten
    )
    notebook = nbformat.read(mine, as_version=4)
    NotebookClient(
        notebook, timeout=120, allow_errors=True, resources={"metadata": {"path": str(workbook)}}
    ).execute()
    nbformat.write(notebook, mine)
    assert progress(workbook) == (
        "Your exercises, as last saved: 01 5/5 ✔ · 02 1/5 · 03-14 not started.\n"
        "Next: 02_chain_rule.ipynb, partials (its check says not yet)."
    )


def test_a_new_version_beside_a_notebook_and_an_unreadable_one(workbook):
    shutil.copy(NOTEBOOKS / "01_why_backprop.ipynb", workbook / "01_why_backprop.new.ipynb")
    (workbook / "03_computational_graph.ipynb").write_text("{not json", encoding="utf-8")
    assert progress(workbook).splitlines()[0] == (
        "Your exercises, as last saved: 01-02 not started · 03 unreadable · 04-14 not started."
    )
    assert progress(workbook.parent) == ""  # a folder without notebooks: nothing to say


def test_every_check_correct(tmp_path):
    """The solved notebooks, as the curriculum stores them: every check the grader would run
    (counted by the grader's own reading of the notebooks) said correct."""
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        shutil.copy(path, tmp_path)
    counts = [
        (t.name[:2], len(t.checks)) for t in sorted(load_source(NOTEBOOKS), key=lambda t: t.name)
    ]
    expected = " · ".join(f"{number} {n}/{n} ✔" for number, n in counts)
    assert progress(tmp_path) == (
        f"Your exercises, as last saved: {expected}.\nEvery check says correct."
    )
    assert len(counts) == 14 and all(n >= 3 for _, n in counts)


def test_the_command_says_it_when_the_learner_comes_back(workbook, capsys):
    shutil.copy(NOTEBOOKS / "01_why_backprop.ipynb", workbook)
    assert main([str(workbook), "--source", str(NOTEBOOKS), "--no-lab"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[-2:] == [
        "Your exercises, as last saved: 01 5/5 ✔ · 02-14 not started.",
        "Next: 02_chain_rule.ipynb, d_sin_of_square (its check has not run yet).",
    ]


def test_the_first_time_it_says_nothing_of_progress(tmp_path, capsys):
    assert main([str(tmp_path / "workbook"), "--source", str(NOTEBOOKS), "--no-lab"]) == 0
    assert "Your exercises" not in capsys.readouterr().out


def test_the_engine_check_is_named_as_the_learners_engine(workbook):
    for path in sorted(NOTEBOOKS.glob("0[1-3]_*.ipynb")):
        shutil.copy(path, workbook)
    mine = workbook / "03_computational_graph.ipynb"
    notebook = nbformat.read(mine, as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "nb03-mygrad-check":
            cell.outputs = []  # the engine's check not run yet
    nbformat.write(notebook, mine)
    assert progress(workbook) == (
        "Your exercises, as last saved: 01 5/5 ✔ · 02 5/5 ✔ · 03 4/5 · 04-14 not started.\n"
        "Next: 03_computational_graph.ipynb, your engine (mygrad.py) (its check has not run yet)."
    )


def test_a_copy_of_a_notebook_counts_once_the_one_furthest_on(workbook):
    """JupyterLab's "Duplicate" makes 02_chain_rule-Copy1.ipynb: the line read "01 4/4 ✔ · 02
    not started · 02 4/4 ✔" and sent the learner to the untouched copy as next."""
    shutil.copy(NOTEBOOKS / "01_why_backprop.ipynb", workbook)
    shutil.copy(workbook / "02_chain_rule.ipynb", workbook / "02_chain_rule-Copy1.ipynb")
    shutil.copy(NOTEBOOKS / "02_chain_rule.ipynb", workbook)
    expected = (
        "Your exercises, as last saved: 01 5/5 ✔ · 02 5/5 ✔ · 03-14 not started.\n"
        "Next: 03_computational_graph.ipynb, backward_by_hand (its check has not run yet)."
    )
    assert progress(workbook) == expected
    shutil.move(workbook / "02_chain_rule.ipynb", workbook / "02_chain_rule-Copy2.ipynb")
    shutil.copy(workbook / "01_why_backprop.ipynb", workbook / "01_why_backprop-Copy1.ipynb")
    assert progress(workbook) == expected  # the solved copy is the one with the longer name


def test_a_check_cell_pasted_twice_counts_once(workbook):
    """A check cell copied and pasted keeps its metadata: 02 read 4/5 where it has 4 checks."""
    shutil.copy(NOTEBOOKS / "02_chain_rule.ipynb", workbook)
    mine = workbook / "02_chain_rule.ipynb"
    notebook = nbformat.read(mine, as_version=4)
    check = next(c for c in notebook.cells if "-check" in c.metadata.get("nbgrader", {}).get(
        "grade_id", ""))  # fmt: skip
    pasted = nbformat.from_dict(check)
    pasted.id, pasted.outputs = "pasted", []  # pasted (JupyterLab gives it an id), not run
    notebook.cells += [pasted]
    nbformat.write(notebook, mine)
    assert progress(workbook).splitlines()[0] == (
        "Your exercises, as last saved: 01 not started · 02 5/5 ✔ · 03-14 not started."
    )


def test_an_unreadable_notebook_is_not_every_check_correct(tmp_path):
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        shutil.copy(path, tmp_path)
    (tmp_path / "07_layers_and_losses.ipynb").write_text("{", encoding="utf-8")
    said = progress(tmp_path)
    assert "07 unreadable" in said and "Every check says correct" not in said, said


def test_a_notebook_of_json_nested_too_deep_is_unreadable_not_a_traceback(workbook):
    (workbook / "03_computational_graph.ipynb").write_text("[" * 100_000, encoding="utf-8")
    assert "03 unreadable" in progress(workbook)


def test_a_challenge_the_counts_leave_out_is_never_called_correct(tmp_path):
    """Some challenges' checks have no grade id (03's my_graph, 13's fold_batch_norm, ...): the
    counts, the grader's, leave them out. With every counted check correct and 13's challenge not
    run, the line said "Every check says correct." above a check that said "not done yet"."""
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        shutil.copy(path, tmp_path)
    mine = tmp_path / "13_normalization.ipynb"
    notebook = nbformat.read(mine, as_version=4)
    call = "nb13.check_fold_batch_norm(fold_batch_norm)"
    challenge = [cell for cell in notebook.cells if cell.source == call]
    assert len(challenge) == 1 and "grade_id" not in challenge[0].metadata.get("nbgrader", {})
    challenge[0].outputs = []  # its check not run yet
    nbformat.write(notebook, mine)
    said = progress(tmp_path).splitlines()
    assert "13 3/3 ✔" in said[0]  # the counts stay the grader's
    assert said[1] == (
        "Next: 13_normalization.ipynb, fold_batch_norm"
        " (its check has not run yet; not counted above)."
    )
