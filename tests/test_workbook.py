"""The learner's workbook (``python -m backproplab.workbook``): the student version of the
notebooks, made once, then brought up to date after a ``git pull`` without ever overwriting a file
the learner changed, and opened in JupyterLab."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from backproplab import _lab, workbook
from backproplab.classroom.release import ANSWER_TAG
from backproplab.workbook import MANIFEST, WRITES, Change, WorkbookError, main, make_workbook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CURRICULUM = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, list[Path]]:
    target = tmp_path_factory.mktemp("learner") / "workbook"
    return target, [change.path for change in make_workbook(NOTEBOOKS, target)]


def test_the_first_time_it_holds_every_notebook_with_the_exercises_blank(made):
    target, added = made
    assert sorted(p.name for p in added if p.suffix == ".ipynb") == [p.name for p in CURRICULUM]
    engine = (target / "mygrad.py").read_text(encoding="utf-8")
    assert "### BEGIN SOLUTION" not in engine and "raise NotImplementedError" in engine
    for path in CURRICULUM:
        text = (target / path.name).read_text(encoding="utf-8")
        assert "### BEGIN SOLUTION" not in text, path.name
        assert "# YOUR CODE HERE" in text, path.name


def test_it_keeps_the_worked_answers_closed(made):
    """A worked answer sits right below its check: a learner reading on past an unsolved exercise
    read it (a novice's walk of the workbook). Each is kept, closed, in a Markdown cell that
    nothing runs: its prose, or its code with the outputs the solved notebook stored, in a closed
    <details> block. (A folded code cell printed its output when run: Shift+Enter past a check
    that said "not yet", or Run All, showed 03's Exercise 2 answer, show_row("mul").)"""
    target, _ = made
    tagged = code = figures = 0
    for path in CURRICULUM:
        teacher = nbformat.read(path, as_version=4)
        mine = nbformat.read(target / path.name, as_version=4)
        theirs = [c for c in teacher.cells if ANSWER_TAG in c.metadata.get("tags", [])]
        ours = [c for c in mine.cells if ANSWER_TAG in c.metadata.get("tags", [])]
        assert len(theirs) == len(ours)
        assert [c.get("id") for c in theirs] == [c.get("id") for c in ours]
        for teachers, closed in zip(theirs, ours):
            assert closed.cell_type == "markdown", teachers.source
            summary, body = closed.source.split("\n\n", 1)
            assert summary.startswith("<details><summary>Worked answer")
            assert body.endswith("\n\n</details>")
            body = body.removesuffix("\n\n</details>")
            if teachers.cell_type == "markdown":
                # its headings are bold lines (test_small_fixes.py): the same words otherwise
                words = [
                    [w.strip("*") for w in text.split() if w.strip("#")]
                    for text in (body, teachers.source)
                ]
                assert words[0] == words[1]
                continue
            code += 1
            assert body.startswith(f"```python\n{teachers.source.rstrip()}\n```")
            for output in teachers.outputs:  # every one shown, in its order
                if output.output_type == "stream":
                    shown = f"```text\n{output.text.rstrip()}\n```"
                else:
                    name = next(n for n, v in closed.attachments.items() if v == {
                        "image/png": output.data["image/png"]})  # fmt: skip
                    shown = f"](attachment:{name})"
                    figures += 1
                assert shown in body, (path.name, shown[:80])
                body = body[body.index(shown) + len(shown) :]
        tagged += len(ours)
    assert tagged > 50 and code > 30 and figures >= 2


def test_a_worked_answers_code_shows_in_a_fence_longer_than_its_own_backticks():
    from backproplab._closed_answers import close_worked_answers

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('print("```")')])
    notebook.cells[0].metadata["tags"] = [ANSWER_TAG]
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", text="```\n")]
    source = close_worked_answers(notebook).cells[0].source
    assert '````python\nprint("```")\n````' in source and "````text\n```\n````" in source


def test_a_run_of_worked_answer_cells_says_once_when_to_open_it():
    from backproplab._closed_answers import CONTINUED, OPEN_WHEN, close_worked_answers

    def cell(kind: str, text: str, answer: bool = True) -> nbformat.NotebookNode:
        made = getattr(nbformat.v4, f"new_{kind}_cell")(text)
        if answer:
            made.metadata["tags"] = [ANSWER_TAG]
        return made

    notebook = nbformat.v4.new_notebook(cells=[
        cell("code", "check()", answer=False), cell("markdown", "The answer is $2x$."),
        cell("code", "print(2 * x)"), cell("markdown", "Why."),
        cell("markdown", "Next exercise", answer=False), cell("code", "show()"),
    ])  # fmt: skip
    notebook.cells[2].outputs = [nbformat.v4.new_output("stream", text="4\n")]
    sources = [c.source for c in close_worked_answers(notebook).cells]
    assert sources[0] == "check()" and sources[4] == "Next exercise"
    assert (
        sources[1]
        == f"<details><summary>{OPEN_WHEN}</summary>\n\nThe answer is $2x$.\n\n</details>"
    )
    assert sources[2] == (
        f"<details><summary>{CONTINUED}</summary>\n\n```python\nprint(2 * x)\n```\n\n"
        "```text\n4\n```\n\n</details>"
    )
    assert sources[3].startswith(f"<details><summary>{CONTINUED}</summary>")
    assert sources[5].startswith(f"<details><summary>{OPEN_WHEN}</summary>")  # a new run
    assert [c.cell_type for c in notebook.cells] == ["code", *["markdown"] * 4, "markdown"]


def test_running_it_again_changes_nothing_and_adds_what_is_missing(tmp_path):
    target = tmp_path / "workbook"
    make_workbook(NOTEBOOKS, target)
    (target / "mygrad.py").write_text("# my engine, half written\n", encoding="utf-8")
    mine = target / CURRICULUM[0].name
    mine.write_text(
        mine.read_text(encoding="utf-8").replace("# YOUR CODE HERE", "# I tried this"),
        encoding="utf-8",
    )
    before = mine.read_text(encoding="utf-8")
    (target / CURRICULUM[2].name).unlink()  # to start notebook 03 again
    assert make_workbook(NOTEBOOKS, target) == [Change("added", target / CURRICULUM[2].name)]
    assert (target / "mygrad.py").read_text(encoding="utf-8") == "# my engine, half written\n"
    assert mine.read_text(encoding="utf-8") == before
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
    (source / "01_a.ipynb").write_text(
        nbformat.writes(nbformat.v4.new_notebook()), encoding="utf-8"
    )
    target = {"inside": source / "workbook", "source": source}.get(where, tmp_path / "workbook")
    if where == "file":
        target.write_text("not a folder", encoding="utf-8")
    if where == "other files":
        target.mkdir()
        (target / "thesis.tex").write_text("my thesis", encoding="utf-8")
    if where == "no notebooks":
        source = tmp_path / "empty"
        source.mkdir()
    with pytest.raises(WorkbookError, match=message):
        make_workbook(source, target)
    if where == "other files":
        assert sorted(p.name for p in target.iterdir()) == ["thesis.tex"]


def test_the_command_says_what_it_did_and_opens_jupyterlab(tmp_path, monkeypatch, capsys):
    opened = []
    monkeypatch.setattr(_lab, "_run", lambda args, env: opened.append(args) or 0)
    monkeypatch.delenv("JUPYTER_SERVER_URL", raising=False)  # (not a JupyterLab terminal)
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
    said = capsys.readouterr().out.splitlines()
    assert said == [
        f"Brought your workbook {target}/ up to date with {NOTEBOOKS}/:",
        f"  added     {CURRICULUM[4].name}",
        "Your exercises, as last saved: 01-14 not started.",  # (tests/test_workbook_progress.py)
        "Next: 01_why_backprop.ipynb, gradient_descent_step (its check has not run yet).",
    ]


def test_the_command_without_jupyterlab_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_lab.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delenv("JUPYTER_SERVER_URL", raising=False)
    assert main([str(tmp_path / "wb"), "--source", str(NOTEBOOKS)]) == 1
    assert "JupyterLab is not installed (pip install jupyterlab)" in capsys.readouterr().out


def test_without_nbformat_the_command_says_what_to_install(tmp_path, monkeypatch, capsys):
    """An installation without the dev extra (no nbformat): one line saying what to install,
    exit status 1, no traceback, and no workbook folder half made."""
    monkeypatch.setitem(sys.modules, "nbformat", None)  # `import nbformat` fails as if missing
    assert main([str(tmp_path / "wb"), "--source", str(NOTEBOOKS), "--no-lab"]) == 1
    said = capsys.readouterr()
    assert said.out == "" and said.err.count("\n") == 1, said
    assert said.err.startswith("workbook: nbformat is missing: pip install -e '.[dev]'"), said.err
    assert not any((tmp_path / "wb").glob("*.ipynb"))


def test_the_solved_notebooks_folder_itself_is_never_made_the_workbook(tmp_path, monkeypatch):
    """Asked to make the workbook in the solved notebooks' own folder (``--source notebooks
    notebooks``), it refuses before writing: stubs beside the solutions would be run by the
    tests and read by the site."""
    solved = tmp_path / "notebooks"
    solved.mkdir()
    shutil.copy(NOTEBOOKS / "01_why_backprop.ipynb", solved)
    with pytest.raises(WorkbookError, match="put the workbook outside"):
        make_workbook(solved, solved)
    monkeypatch.chdir(tmp_path)  # the same folder named two ways
    with pytest.raises(WorkbookError, match="put the workbook outside"):
        make_workbook(solved, "notebooks")
    assert [path.name for path in solved.iterdir()] == ["01_why_backprop.ipynb"]


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
        encoding="utf-8",
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
    monkeypatch.setattr(_lab, "_CLONE_NOTEBOOKS", clone / "notebooks")
    monkeypatch.chdir(clone / "notebooks")
    assert main(["--no-lab"]) == 0
    assert sorted(p.name for p in (clone / "workbook").iterdir()) == [
        MANIFEST,
        *(p.name for p in CURRICULUM[:2]),
    ]
    assert not (clone / "notebooks" / "workbook").exists()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_lab, "_CLONE_NOTEBOOKS", tmp_path / "site-packages" / "notebooks")
    assert main(["--no-lab"]) == 1
    assert "holds no notebooks: run this in your clone of backproplab" in capsys.readouterr().err


# ------------------------------------------------------------------ after a git pull
# A clone in miniature: two notebooks and the engine. A "pull" edits the source the way the
# curriculum's fixes do (a notebook's prose, a stub's docstring); the learner edits the workbook.
FIVE, EIGHT = "05_matmul_gradients.ipynb", "08_softmax_cross_entropy.ipynb"


@pytest.fixture
def clone(tmp_path) -> tuple[Path, Path]:
    """(the solved notebooks, the learner's workbook made from them in September)."""
    source = tmp_path / "notebooks"
    source.mkdir()
    for name in (FIVE, EIGHT, "mygrad.py"):
        shutil.copy(NOTEBOOKS / name, source / name)
    target = tmp_path / "workbook"
    make_workbook(source, target)
    return source, target


def pull(source: Path, name: str, fix: str) -> None:
    """The curriculum changes ``name`` in ``source``: a sentence more in a notebook's first
    Markdown cell (saved as the notebooks are stored), a comment more in ``mygrad.py``."""
    path = source / name
    if path.suffix == ".py":
        path.write_text(f"# {fix}\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
        return
    notebook = json.loads(path.read_text(encoding="utf-8"))
    markdown = next(cell for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    markdown["source"] = [*markdown["source"], f"\n\n{fix}"]
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def work_on(path: Path) -> bytes:
    """The learner answers something in ``path`` (and saves); returns the file's bytes."""
    path.write_text(
        path.read_text(encoding="utf-8").replace("# YOUR CODE HERE", "# my try", 1),
        encoding="utf-8",
    )
    return path.read_bytes()


def files(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in ``folder`` (hidden ones too): its bytes and modification time."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()}


def written(changes: list[Change]) -> list[tuple[str, str]]:
    return [(change.action, change.path.name) for change in changes if change.action in WRITES]


def test_after_a_pull_a_file_the_learner_has_not_changed_is_the_new_version(clone):
    source, target = clone
    pull(source, EIGHT, "A clearer hint.")
    pull(source, "mygrad.py", "Each stub says what it returns.")
    assert written(make_workbook(source, target)) == [
        ("updated", EIGHT),
        ("updated", "mygrad.py"),
    ]
    assert "A clearer hint." in (target / EIGHT).read_text(encoding="utf-8")
    assert "# YOUR CODE HERE" in (target / EIGHT).read_text(
        encoding="utf-8"
    )  # the student version, still
    assert (
        (target / "mygrad.py")
        .read_text(encoding="utf-8")
        .startswith("# Each stub says what it returns.")
    )
    assert sorted(p.name for p in target.glob("*.new*")) == []


def test_after_a_pull_a_changed_file_is_kept_and_the_new_version_goes_beside_it(clone):
    source, target = clone
    mine, engine = work_on(target / FIVE), work_on(target / "mygrad.py")
    pull(source, FIVE, "A clearer hint.")
    pull(source, "mygrad.py", "Each stub says what it returns.")
    assert written(make_workbook(source, target)) == [
        ("beside", "05_matmul_gradients.new.ipynb"),
        ("beside", "mygrad.new.py"),
    ]
    assert (target / FIVE).read_bytes() == mine
    assert (target / "mygrad.py").read_bytes() == engine
    assert "A clearer hint." in (target / "05_matmul_gradients.new.ipynb").read_text(
        encoding="utf-8"
    )
    assert "# YOUR CODE HERE" in (target / "05_matmul_gradients.new.ipynb").read_text(
        encoding="utf-8"
    )
    new_engine = (target / "mygrad.new.py").read_text(encoding="utf-8")
    assert new_engine.startswith("# Each stub says") and "raise NotImplementedError" in new_engine
    # the notebooks' `import mygrad` (run in the workbook) still finds the learner's engine
    found = subprocess.run(
        [sys.executable, "-c", "import mygrad; print(mygrad.__file__)"],
        cwd=target,
        capture_output=True,
        text=True,
        check=True,
        encoding="utf-8",
    )
    assert Path(found.stdout.strip()).name == "mygrad.py"


def run_all_and_save(path: Path) -> None:
    """What JupyterLab saves after Run All in a notebook the learner did not edit: outputs,
    execution counts and metadata change, no cell's source does."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for count, cell in enumerate(c for c in notebook["cells"] if c["cell_type"] == "code"):
        cell["execution_count"] = count + 1
        cell["outputs"] = [{"name": "stdout", "output_type": "stream", "text": ["ran\n"]}]
        cell["metadata"]["execution"] = {"shell.execute_reply": "2026-12-06T18:00:00Z"}
    notebook["metadata"]["widgets"] = {}
    path.write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")


def test_a_notebook_only_run_is_not_the_learners_and_becomes_the_new_version(clone):
    # Run All, then JupyterLab's autosave: the pull used to keep the file and write a .new file
    source, target = clone
    run_all_and_save(target / EIGHT)
    pull(source, EIGHT, "A clearer hint.")
    assert written(make_workbook(source, target)) == [("updated", EIGHT)]
    assert "A clearer hint." in (target / EIGHT).read_text(encoding="utf-8")
    assert sorted(p.name for p in target.glob("*.new*")) == []


def test_a_notebook_run_and_edited_is_the_learners(clone):
    source, target = clone
    run_all_and_save(target / FIVE)
    mine = work_on(target / FIVE)
    pull(source, FIVE, "A clearer hint.")
    assert written(make_workbook(source, target)) == [("beside", "05_matmul_gradients.new.ipynb")]
    assert (target / FIVE).read_bytes() == mine


def test_a_record_of_whole_files_sha256s_still_knows_the_workbooks_files(clone):
    # a workbook made before notebooks were fingerprinted by their sources
    source, target = clone
    record = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    record["written"] = {name: workbook._sha256(target / name) for name in record["written"]}
    (target / MANIFEST).write_text(json.dumps(record), encoding="utf-8")
    pull(source, EIGHT, "A clearer hint.")
    assert written(make_workbook(source, target)) == [("updated", EIGHT)]


def test_shift_enter_on_the_last_cell_adds_an_empty_cell_that_is_no_work(clone):
    # JupyterLab's Shift+Enter on the last cell appends an empty code cell, then autosaves
    source, target = clone
    run_all_and_save(target / EIGHT)
    notebook = json.loads((target / EIGHT).read_text(encoding="utf-8"))
    empty = {"cell_type": "code", "execution_count": None, "id": "f00d", "metadata": {}}
    notebook["cells"].append({**empty, "outputs": [], "source": []})
    (target / EIGHT).write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")
    pull(source, EIGHT, "A clearer hint.")
    assert written(make_workbook(source, target)) == [("updated", EIGHT)]


def test_a_notebook_saved_by_a_windows_editor_is_still_the_workbooks(clone):
    # a byte order mark, and CRLF inside the sources' strings (not only between JSON lines)
    source, target = clone
    notebook = json.loads((target / EIGHT).read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        cell["source"] = "".join(cell["source"]).replace("\n", "\r\n")
    (target / EIGHT).write_text("\ufeff" + json.dumps(notebook, indent=1), encoding="utf-8")
    pull(source, EIGHT, "A clearer hint.")
    assert written(make_workbook(source, target)) == [("updated", EIGHT)]


@pytest.mark.parametrize("what", ["tags", "attachments"])
def test_a_tag_or_a_pasted_image_is_the_learners_work(clone, what):
    # work that lives outside the cells' sources
    source, target = clone
    notebook = json.loads((target / EIGHT).read_text(encoding="utf-8"))
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "markdown")
    if what == "tags":
        cell["metadata"]["tags"] = [*cell["metadata"].get("tags", []), "revise-this"]
    else:
        cell["attachments"] = {"image.png": {"image/png": "iVBORw0KGgo="}}
    (target / EIGHT).write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    mine = (target / EIGHT).read_bytes()
    pull(source, EIGHT, "A clearer hint.")
    assert written(make_workbook(source, target)) == [
        ("beside", "08_softmax_cross_entropy.new.ipynb")
    ]
    assert (target / EIGHT).read_bytes() == mine


def record_of_sha256s(target: Path) -> None:
    """The workbook's record as written before notebooks were fingerprinted by their sources:
    the sha256 of each whole file, in ``written`` and in ``offered``."""
    record = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    for name, value in record["written"].items():  # a file changed since: any other sha256
        ours = workbook._fingerprint(target / name) == value
        record["written"][name] = workbook._sha256(target / name) if ours else "0" * 64
    for name in record["offered"]:
        new = workbook.new_version_path(target / name)
        record["offered"][name] = workbook._sha256(new if new.is_file() else target / name)
    (target / MANIFEST).write_text(json.dumps(record), encoding="utf-8")


def test_with_an_old_record_a_deleted_new_file_does_not_come_back_without_a_pull(clone):
    source, target = clone
    work_on(target / FIVE)
    pull(source, FIVE, "A clearer hint.")
    make_workbook(source, target)
    record_of_sha256s(target)
    (target / "05_matmul_gradients.new.ipynb").unlink()  # read, and not wanted
    assert make_workbook(source, target) == []


def test_with_an_old_record_a_changed_new_file_is_not_said_to_block_a_newer_version(clone):
    source, target = clone
    work_on(target / FIVE)
    pull(source, FIVE, "A clearer hint.")
    make_workbook(source, target)
    record_of_sha256s(target)
    work_on(target / "05_matmul_gradients.new.ipynb")
    assert make_workbook(source, target) == []  # nothing newer than what it holds


def test_a_file_the_learner_changed_gets_no_new_version_without_a_pull(clone):
    source, target = clone
    work_on(target / FIVE)
    work_on(target / "mygrad.py")
    assert make_workbook(source, target) == []
    assert sorted(p.name for p in target.glob("*.new*")) == []


def test_running_again_after_the_pull_writes_nothing_and_says_nothing_new(clone, capsys):
    source, target = clone
    work_on(target / FIVE)
    pull(source, FIVE, "A clearer hint.")
    pull(source, EIGHT, "A clearer hint.")
    make_workbook(source, target)
    before = files(target)
    assert MANIFEST in before
    assert main([str(target), "--source", str(source), "--no-lab"]) == 0
    assert files(target) == before
    said = capsys.readouterr().out
    assert said.startswith(f"Your workbook {target}/ has every notebook; nothing in it was changed")
    assert "  new  " not in said and "updated" not in said and "added" not in said
    assert "wait beside them: 05_matmul_gradients.new.ipynb." in said


def test_a_second_pull_replaces_the_first_new_version_instead_of_adding_one(clone):
    source, target = clone
    mine = work_on(target / FIVE)
    pull(source, FIVE, "A clearer hint.")
    make_workbook(source, target)
    pull(source, FIVE, "A corrected figure.")
    assert written(make_workbook(source, target)) == [("beside", "05_matmul_gradients.new.ipynb")]
    assert sorted(p.name for p in target.glob("05_*")) == [FIVE, "05_matmul_gradients.new.ipynb"]
    newest = (target / "05_matmul_gradients.new.ipynb").read_text(encoding="utf-8")
    assert "A clearer hint." in newest and "A corrected figure." in newest
    assert (target / FIVE).read_bytes() == mine


def test_deleting_the_changed_copy_brings_the_new_version_and_the_new_file_goes(clone):
    source, target = clone
    work_on(target / FIVE)
    pull(source, FIVE, "A clearer hint.")
    make_workbook(source, target)
    (target / FIVE).unlink()
    assert written(make_workbook(source, target)) == [
        ("added", FIVE),
        ("removed", "05_matmul_gradients.new.ipynb"),
    ]
    assert "A clearer hint." in (target / FIVE).read_text(encoding="utf-8")
    assert not (target / "05_matmul_gradients.new.ipynb").exists()


def test_a_deleted_new_file_comes_back_only_with_a_newer_version(clone):
    source, target = clone
    work_on(target / FIVE)
    pull(source, FIVE, "A clearer hint.")
    make_workbook(source, target)
    (target / "05_matmul_gradients.new.ipynb").unlink()  # read, and not wanted
    assert make_workbook(source, target) == []
    pull(source, FIVE, "A corrected figure.")
    assert written(make_workbook(source, target)) == [("beside", "05_matmul_gradients.new.ipynb")]


def test_a_new_file_the_learner_changed_is_never_overwritten(clone, capsys):
    source, target = clone
    work_on(target / FIVE)
    pull(source, FIVE, "A clearer hint.")
    make_workbook(source, target)
    theirs = work_on(target / "05_matmul_gradients.new.ipynb")
    assert make_workbook(source, target) == []  # working in the new version is fine
    pull(source, FIVE, "A corrected figure.")
    assert main([str(target), "--source", str(source), "--no-lab"]) == 0
    assert (target / "05_matmul_gradients.new.ipynb").read_bytes() == theirs
    said = capsys.readouterr().out
    assert "  kept      05_matmul_gradients.new.ipynb: you have changed it, so the newest" in said
    assert "rename 05_matmul_gradients.new.ipynb to keep your work" in said


def test_a_workbook_made_before_the_record_keeps_every_file_that_differs(clone, capsys):
    """No ``.workbook.json`` (a workbook the earlier version of the command made): a file equal
    to the new version is up to date; any other is the learner's, with the new version beside."""
    source, target = clone
    (target / MANIFEST).unlink()
    engine = work_on(target / "mygrad.py")  # a changed engine, no pull
    september = (target / EIGHT).read_bytes()  # never opened, but the pull changed it
    pull(source, EIGHT, "A clearer hint.")
    assert main([str(target), "--source", str(source), "--no-lab"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith("Your workbook was made by an earlier version of this command")
    assert said[1:4] == [
        f"Brought your workbook {target}/ up to date with {source}/:",
        "  new       08_softmax_cross_entropy.new.ipynb: the new version; your "
        "08_softmax_cross_entropy.ipynb, which you have changed, is kept as it is",
        "  new       mygrad.new.py: the new version; your mygrad.py, which you have changed, is "
        "kept as it is",
    ]
    assert (target / EIGHT).read_bytes() == september
    assert (target / "mygrad.py").read_bytes() == engine
    assert (target / MANIFEST).is_file()
    before = files(target)
    assert make_workbook(source, target) == [
        Change("waiting", target / "08_softmax_cross_entropy.new.ipynb", target / EIGHT),
        Change("waiting", target / "mygrad.new.py", target / "mygrad.py"),
    ]
    assert files(target) == before


def test_the_command_says_one_line_per_file_after_a_pull(clone, capsys):
    source, target = clone
    work_on(target / FIVE)
    pull(source, FIVE, "A clearer hint.")
    pull(source, EIGHT, "A clearer hint.")
    assert main([str(target), "--source", str(source), "--no-lab"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"Brought your workbook {target}/ up to date with {source}/:",
        "  new       05_matmul_gradients.new.ipynb: the new version; your "
        "05_matmul_gradients.ipynb, which you have changed, is kept as it is",
        "  updated   08_softmax_cross_entropy.ipynb: you had not changed it, so it is now the "
        "new version",
        "To work in a new version, delete or rename your copy and run this again: the new "
        "version takes its place. A file you have changed is never overwritten.",
        "Your exercises, as last saved: 05 not started · 08 not started.",  # no 06, 07
        "Next: 05_matmul_gradients.ipynb, dL_dX (its check has not run yet).",
    ]


def test_deleting_every_notebook_to_start_again_brings_them_back_and_keeps_the_engine(
    clone, capsys
):
    """The folder then holds only mygrad.py and the hidden record: it is still the workbook
    (it was refused: "already holds files but no notebooks: name another folder"), and the run
    says what it did to the learner's engine, not that it made a workbook with a stub engine."""
    source, target = clone
    engine = work_on(target / "mygrad.py")
    for path in target.glob("*.ipynb"):
        path.unlink()
    pull(source, "mygrad.py", "Each stub says what it returns.")
    assert main([str(target), "--source", str(source), "--no-lab"]) == 0
    said = capsys.readouterr().out
    assert (target / "mygrad.py").read_bytes() == engine
    assert sorted(p.name for p in target.glob("*.ipynb")) == sorted([FIVE, EIGHT])
    assert "Made your workbook" not in said
    assert "  new       mygrad.new.py: the new version; your mygrad.py" in said
    assert f"  added     {FIVE}" in said


def test_a_file_it_cannot_write_is_said_in_a_line_with_what_was_written_before(
    clone, monkeypatch, capsys
):
    """A read-only file or folder, a full disk: no traceback, and what was written before is
    said and recorded (the next run does not count it as the learner's)."""
    source, target = clone
    pull(source, FIVE, "A clearer hint.")
    pull(source, EIGHT, "A clearer hint.")
    copy = shutil.copyfile

    def read_only(new, destination):
        if Path(destination).name == EIGHT:
            raise PermissionError(13, "Permission denied", str(destination))
        return copy(new, destination)

    monkeypatch.setattr(workbook.shutil, "copyfile", read_only)
    assert main([str(target), "--source", str(source), "--no-lab"]) == 1
    said = capsys.readouterr().err
    assert said.startswith(
        f"workbook: cannot write in {target}/: Permission denied ({target / EIGHT})"
    )
    assert f"written before that:\n  updated   {FIVE}: you had not changed it" in said
    monkeypatch.setattr(workbook.shutil, "copyfile", copy)
    assert written(make_workbook(source, target)) == [("updated", EIGHT)]


def crlf(path: Path) -> bytes:
    """``path`` saved with Windows line endings (an editor's, git's ``autocrlf``); its bytes."""
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    return path.read_bytes()


def test_a_file_saved_again_with_windows_line_endings_is_still_the_workbooks(clone):
    """A CRLF copy of a file the learner never changed counted as theirs: a pull never updated
    it, and put the new version beside it. A real change saved with CRLF is still theirs."""
    source, target = clone
    crlf(target / EIGHT)
    crlf(target / "mygrad.py")
    work_on(target / FIVE)
    mine = crlf(target / FIVE)
    assert make_workbook(source, target) == []
    pull(source, FIVE, "A clearer hint.")
    pull(source, EIGHT, "A clearer hint.")
    pull(source, "mygrad.py", "Each stub says what it returns.")
    assert written(make_workbook(source, target)) == [
        ("beside", "05_matmul_gradients.new.ipynb"),
        ("updated", EIGHT),
        ("updated", "mygrad.py"),
    ]
    assert "A clearer hint." in (target / EIGHT).read_text(encoding="utf-8")
    assert (target / "mygrad.py").read_text(encoding="utf-8").startswith("# Each stub says")
    assert (target / FIVE).read_bytes() == mine
    assert make_workbook(source, target) == [
        Change("waiting", target / "05_matmul_gradients.new.ipynb", target / FIVE)
    ]


def test_a_binary_file_differing_in_its_line_ending_bytes_is_another_file(tmp_path):
    """Git's rule: a file with a NUL byte in its first 8000 bytes is binary, and its CR LF
    bytes are data; one whose first NUL comes later is text (git converts its line endings).
    A CR alone is no line ending: a file that differs by one is another file."""
    files = {
        "a.npy": b"\x00\x01\r\n\x02",
        "b.npy": b"\x00\x01\n\x02",
        "a.txt": b"\x01\r\n\x02",
        "b.txt": b"\x01\n\x02",
        "c.txt": b"\x01\r\x02",
        "d.txt": b"\x01\x02",
        "late-a.txt": b"x" * 8000 + b"\x00\r\n",
        "late-b.txt": b"x" * 8000 + b"\x00\n",
        "early-a.npy": b"x" * 100 + b"\x00\r\n",
        "early-b.npy": b"x" * 100 + b"\x00\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    digest = {name: workbook._sha256(tmp_path / name) for name in files}
    assert digest["a.npy"] != digest["b.npy"]
    assert digest["a.txt"] == digest["b.txt"]
    assert digest["c.txt"] != digest["d.txt"]
    assert digest["late-a.txt"] == digest["late-b.txt"]
    assert digest["early-a.npy"] != digest["early-b.npy"]
