"""The learner's workbook (``python -m backproplab.workbook``): the student version of the
notebooks, made once, never overwritten, completed with what it lacks, then opened in JupyterLab."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from backproplab import workbook
from backproplab.classroom.release import ANSWER_TAG
from backproplab.workbook import WorkbookError, main, make_workbook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CURRICULUM = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, list[Path]]:
    target = tmp_path_factory.mktemp("learner") / "workbook"
    return target, make_workbook(NOTEBOOKS, target)


def test_the_first_time_it_holds_every_notebook_with_the_exercises_blank(made):
    target, added = made
    assert sorted(p.name for p in added if p.suffix == ".ipynb") == [p.name for p in CURRICULUM]
    engine = (target / "mygrad.py").read_text()
    assert "### BEGIN SOLUTION" not in engine and "raise NotImplementedError" in engine
    for path in CURRICULUM:
        text = (target / path.name).read_text()
        assert "### BEGIN SOLUTION" not in text, path.name
        assert "# YOUR CODE HERE" in text, path.name


def test_it_keeps_the_worked_answers(made):
    target, _ = made
    tagged = 0
    for path in CURRICULUM:
        teacher = nbformat.read(path, as_version=4)
        mine = nbformat.read(target / path.name, as_version=4)
        sources = [c.source for c in teacher.cells if ANSWER_TAG in c.metadata.get("tags", [])]
        assert sources == [c.source for c in mine.cells if ANSWER_TAG in c.metadata.get("tags", [])]
        tagged += len(sources)
    assert tagged > 0


def test_running_it_again_changes_nothing_and_adds_what_is_missing(tmp_path):
    target = tmp_path / "workbook"
    make_workbook(NOTEBOOKS, target)
    (target / "mygrad.py").write_text("# my engine, half written\n")
    mine = target / CURRICULUM[0].name
    mine.write_text(mine.read_text().replace("# YOUR CODE HERE", "# I tried this"))
    before = mine.read_text()
    (target / CURRICULUM[2].name).unlink()  # to start notebook 03 again
    assert make_workbook(NOTEBOOKS, target) == [target / CURRICULUM[2].name]
    assert (target / "mygrad.py").read_text() == "# my engine, half written\n"
    assert mine.read_text() == before
    assert make_workbook(NOTEBOOKS, target) == []


@pytest.mark.parametrize(
    "where, message",
    [
        ("inside", "put the workbook outside"),
        ("source", "put the workbook outside"),
        ("file", "is a file, not a folder"),
        ("other files", "already holds files but no notebooks"),
        ("no notebooks", "holds no notebooks"),
    ],
)
def test_it_refuses_a_folder_it_should_not_write_to(tmp_path, where, message):
    source = tmp_path / "notebooks"
    source.mkdir()
    (source / "01_a.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    target = {"inside": source / "workbook", "source": source}.get(where, tmp_path / "workbook")
    if where == "file":
        target.write_text("not a folder")
    if where == "other files":
        target.mkdir()
        (target / "thesis.tex").write_text("my thesis")
    if where == "no notebooks":
        source = tmp_path / "empty"
        source.mkdir()
    with pytest.raises(WorkbookError, match=message):
        make_workbook(source, target)
    if where == "other files":
        assert sorted(p.name for p in target.iterdir()) == ["thesis.tex"]


def test_the_command_says_what_it_did_and_opens_jupyterlab(tmp_path, monkeypatch, capsys):
    opened = []
    monkeypatch.setattr(workbook.subprocess, "call", lambda args: opened.append(args) or 0)
    target = tmp_path / "wb"
    assert main([str(target), "--source", str(NOTEBOOKS), "--no-browser", "--port=8890"]) == 0
    assert opened == [
        [sys.executable, "-m", "jupyterlab", str(target), "--no-browser", "--port=8890"]
    ]
    said = capsys.readouterr().out
    assert f"Made your workbook in {target}/: {len(CURRICULUM)} notebooks" in said
    assert main([str(target), "--source", str(NOTEBOOKS), "--no-lab"]) == 0
    assert "has every notebook; nothing in it was changed" in capsys.readouterr().out
    assert len(opened) == 1
    (target / CURRICULUM[4].name).unlink()
    assert main([str(target), "--source", str(NOTEBOOKS), "--no-lab"]) == 0
    assert f"Added to your workbook {target}/: {CURRICULUM[4].name} (" in capsys.readouterr().out


def test_the_command_without_jupyterlab_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(workbook.importlib.util, "find_spec", lambda name: None)
    assert main([str(tmp_path / "wb"), "--source", str(NOTEBOOKS)]) == 1
    assert "JupyterLab is not installed (pip install jupyterlab)" in capsys.readouterr().out


def test_the_command_refuses_in_one_line(tmp_path, capsys):
    assert main([str(NOTEBOOKS / "mine"), "--source", str(NOTEBOOKS), "--no-lab"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("workbook: put the workbook outside") and error.count("\n") == 1
    assert not (NOTEBOOKS / "mine").exists()


def test_it_runs_as_the_readme_says_from_the_clone(tmp_path):
    """``python -m backproplab.workbook`` in the clone's root finds notebooks/ there."""
    target = tmp_path / "wb"
    run = subprocess.run(
        [sys.executable, "-m", "backproplab.workbook", str(target), "--no-lab"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "The solved notebooks stay in notebooks/." in run.stdout
    assert len(list(target.glob("*.ipynb"))) == len(CURRICULUM)


def test_by_default_it_goes_beside_the_notebooks_wherever_it_runs(tmp_path, monkeypatch, capsys):
    """A learner who runs the README's line inside notebooks/ (or anywhere else) still gets
    workbook/ beside notebooks/, not a folder inside the solved notebooks."""
    clone = tmp_path / "clone"
    (clone / "notebooks").mkdir(parents=True)
    for path in CURRICULUM[:2]:
        (clone / "notebooks" / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(workbook, "_CLONE_NOTEBOOKS", clone / "notebooks")
    monkeypatch.chdir(clone / "notebooks")
    assert main(["--no-lab"]) == 0
    assert sorted(p.name for p in (clone / "workbook").iterdir()) == [
        p.name for p in CURRICULUM[:2]
    ]
    assert not (clone / "notebooks" / "workbook").exists()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(workbook, "_CLONE_NOTEBOOKS", tmp_path / "site-packages" / "notebooks")
    assert main(["--no-lab"]) == 1
    assert "holds no notebooks: run this in your clone of backproplab" in capsys.readouterr().err
