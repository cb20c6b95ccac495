"""A learner's first hour with their workbook (the student version), in a real JupyterLab.

Notebook 03 and the learner's engine file go into a workbook (``make_workbook``, as the
README's ``python -m backproplab.workbook`` does) in a temporary folder, put into the JupyterLab that
tests/test_browser.py starts (its `lab` and `browser` fixtures, imported), and used as a learner
who has solved nothing yet would:

1. "Run All" runs every cell to the end without an error (JupyterLab would stop at the first
   one): every self-check says "not done yet" (a check never raises), and no other cell calls an
   unsolved exercise. Then the learner calls the first exercise's function in a cell of their own:
   the error's last line names, in plain words, the exercise to do first.
2. The first exercise is solved by typing the teacher's solution into its cell (the cell editor,
   the stub's two lines replaced) and running it and its check: the check says "correct".
3. A wrong-but-plausible answer typed instead gets the check's hint, shown as text (no HTML
   tags, no traceback).

Throughout, the worked answers after the checks stay closed (``_closed_answers.py``): the opened
notebook shows none of them, Run All runs none of them (their code is Markdown to read, with the
outputs the solved notebook stored), and one click on a summary opens it: prose, or code with its
printed output or its figure.

Skipped, with the reason, where tests/test_browser.py is (no /usr/bin/chromium, no playwright).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from test_browser import (  # noqa: F401
    CELLS_JS,
    NOTEBOOKS,
    browser,
    close_notebook,
    lab,
    saved_text,
)

from backproplab import workbook
from backproplab.workbook import make_workbook

NOTEBOOK = "03_computational_graph.ipynb"
FOLDER = "release-03"  # in the lab's root, beside the teacher copies test_browser.py puts there
FIRST_EXERCISE = "backward_by_hand"
# Forgets the upstream gradient at the add node: the check's hint for it names that mistake.
WRONG_BODY = "    return 1.0, 1.0, x + y"

# In the page: what each code cell of the open notebook shows (the DOM's text of every output,
# with its mime type), and its execution count.
SHOWN_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets.map(cell => cell.model.type !== 'code' ? null : {
    count: cell.model.executionCount,
    source: cell.model.sharedModel.getSource(),
    outputs: [...cell.node.querySelectorAll('.jp-OutputArea-output')].map(out => ({
      mime: out.dataset.mimeType || '', text: out.innerText, html: out.innerHTML})),
  });
}"""

MUL_ROW = "(g * y, g * x)"  # show_row("mul")'s output, in Exercise 2's worked answer
MUL_WORDS = "both local gradients are 1"  # the worked answer's prose, in Markdown

KERNEL_IDLE_JS = """() => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  return kernel !== null && kernel.status === 'idle';
}"""


def _whole_and_run(text: str) -> bool:
    """Whether ``text`` is a whole notebook, saved after its cells ran."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return '"execution_count": 1,' in text


def released_folder(tmp_path: Path) -> Path:
    """Notebook 03 and mygrad.py of a fresh workbook, in ``tmp_path / "student"``."""
    source = tmp_path / "teacher"
    source.mkdir()
    shutil.copy(NOTEBOOKS / NOTEBOOK, source / NOTEBOOK)
    shutil.copy(NOTEBOOKS / "mygrad.py", source / "mygrad.py")
    make_workbook(source, tmp_path / "student")
    return tmp_path / "student"


def upload(page, folder: Path) -> None:
    """Put the released files into the lab's root, through JupyterLab's own contents service."""
    page.evaluate(
        """async ([folder, files]) => {
          const contents = window.jupyterapp.serviceManager.contents;
          await contents.save(folder, {type: 'directory'});
          for (const [name, model] of files) await contents.save(`${folder}/${name}`, model);
        }""",
        [
            FOLDER,
            [
                [NOTEBOOK, {"type": "notebook", "format": "json",
                            "content": json.loads((folder / NOTEBOOK).read_text())}],
                ["mygrad.py", {"type": "file", "format": "text",
                               "content": (folder / "mygrad.py").read_text()}],
            ],
        ],
    )  # fmt: skip


def wait_idle(page, timeout: float = 60) -> None:
    """Wait until the kernel is idle and stays idle for half a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(KERNEL_IDLE_JS):
            page.wait_for_timeout(500)
            if page.evaluate(KERNEL_IDLE_JS):
                return
        page.wait_for_timeout(200)
    pytest.fail("the kernel stayed busy")


def cell_index(cells: list, starts: str) -> int:
    return next(i for i, c in enumerate(cells) if c and c["source"].startswith(starts))


def type_into_cell(page, index: int, text: str) -> None:
    """Replace what cell ``index`` holds by ``text`` in its editor, as a learner pasting it."""
    editor = page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)  # a paste: no auto-indent, no closing brackets added
    typed = page.evaluate(
        "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.sharedModel"
        ".getSource()",
        index,
    )
    assert typed == text, "the cell editor changed the typed text"


def run_cell_and_check(page, index: int) -> dict:
    """With the cursor in cell ``index`` (the exercise): Shift+Enter twice, as a learner runs the
    exercise and then its check (the next cell). Returns what the check cell shows."""
    before = page.evaluate(SHOWN_JS)[index + 1]["count"]
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        f"([i, before]) => {{ const c = ({SHOWN_JS})()[i];"
        " return c.count !== null && c.count !== before && c.outputs.length > 0; }",
        arg=[index + 1, before],
        timeout=30_000,
    )
    wait_idle(page)
    return page.evaluate(SHOWN_JS)[index + 1]


def run_cell(page, index: int) -> dict:
    """With the cursor in cell ``index``: Shift+Enter once. Returns what the cell shows."""
    before = page.evaluate(SHOWN_JS)[index]["count"]
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        f"([i, before]) => {{ const c = ({SHOWN_JS})()[i];"
        " return c.count !== null && c.count !== before && c.outputs.length > 0; }",
        arg=[index, before],
        timeout=30_000,
    )
    wait_idle(page)
    return page.evaluate(SHOWN_JS)[index]


def solution_of(name: str) -> str:
    """The teacher's solution region of exercise ``name``, without the markers."""
    teacher = nbformat.read(NOTEBOOKS / NOTEBOOK, as_version=4)
    source = next(c.source for c in teacher.cells if c.source.startswith(f"def {name}("))
    lines = source.split("\n")
    begin = next(i for i, line in enumerate(lines) if "BEGIN SOLUTION" in line)
    end = next(i for i, line in enumerate(lines) if "END SOLUTION" in line)
    return "\n".join(lines[begin + 1 : end])


def with_body(stub_source: str, body: str) -> str:
    """The released cell with its stub's two lines replaced by ``body``."""
    lines = stub_source.split("\n")
    at = next(i for i, line in enumerate(lines) if line.strip() == "# YOUR CODE HERE")
    assert "raise NotImplementedError" in lines[at + 1]
    return "\n".join([*lines[:at], body, *lines[at + 2 :]])


def test_a_learner_runs_all_then_solves_the_first_exercise(lab, browser, tmp_path):  # noqa: F811
    folder = released_folder(tmp_path)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    started = time.monotonic()
    try:
        page.goto(f"{lab}/lab/workspaces/release?reset")
        page.wait_for_function("() => window.jupyterapp", timeout=60_000)
        page.evaluate("() => window.jupyterapp.restored.then(() => true)")
        upload(page, folder)
        # Not awaited inside the page: awaiting a command's promise can hang (ECOSYSTEM.md).
        page.evaluate(
            "(path) => { window.jupyterapp.commands.execute('docmanager:open', {path}); }",
            f"{FOLDER}/{NOTEBOOK}",
        )
        page.wait_for_function(
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " return w && w.sessionContext && w.sessionContext.session"
            " && w.sessionContext.session.kernel && w.sessionContext.session.kernel.status"
            " === 'idle'; }",
            timeout=60_000,
        )

        # The worked answers, as opened: neither their prose nor a stored output shows.
        page.wait_for_selector(".jp-NotebookPanel:visible summary", timeout=30_000)
        shown_first = page.locator(".jp-NotebookPanel:visible .jp-Notebook").inner_text()
        assert MUL_WORDS not in shown_first and MUL_ROW not in shown_first

        # 1. Run All, before solving anything: it reaches the end.
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        page.wait_for_function(
            f"""() => {{ const cells = ({CELLS_JS})();
              return cells.some(c => c.errors.length > 0)
                || cells.every(c => c.type !== 'code' || c.count !== null); }}""",
            timeout=60_000,
            polling=300,
        )
        wait_idle(page)
        cells, shown = page.evaluate(CELLS_JS), page.evaluate(SHOWN_JS)
        stopped = [i for i, c in enumerate(cells) if c["errors"]]
        assert stopped == [], f"Run All stopped at cells {stopped}"
        assert all(c["count"] is not None for c in cells if c["type"] == "code")
        first_exercise = cell_index(shown, f"def {FIRST_EXERCISE}(")
        checks = [s for s in shown if s and s["source"].startswith(("nb03.check_", "check_step("))]
        assert len(checks) == 6  # four exercises, the Challenge and the engine check
        for check in checks:  # every self-check: one line, "not done yet"
            texts = [o["text"].strip() for o in check["outputs"]]
            assert len(texts) == 1 and "… not done yet" in texts[0], texts

        # The worked answers: closed when opened, still closed after Run All, prose and code
        # alike (Run All ran nothing of them: show_row("mul") printed Exercise 2's answer).
        notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")
        assert MUL_WORDS not in notebook.inner_text()
        assert MUL_ROW not in notebook.inner_text()
        summaries = notebook.locator("summary", has_text="Worked answer")
        assert summaries.count() > 5
        summaries.nth(0).click()
        page.wait_for_timeout(300)
        assert MUL_WORDS not in notebook.inner_text()  # Exercise 1's: one block opened
        opened = notebook.locator("details[open]")
        assert opened.count() == 1 and "the same backward pass" in opened.inner_text()
        # Opened, a code worked answer shows its code and what the solved notebook printed;
        # one that draws shows its figure (an image attached to the cell).
        blocks = notebook.locator("details")
        holding = "(texts) => texts.map(t => [...document.querySelectorAll('.jp-Notebook details')]"
        holding += ".findIndex(d => d.textContent.includes(t)))"
        mul, drawn = page.evaluate(holding, ['show_row("mul")', "fan_steps"])
        assert mul >= 0 and drawn >= 0
        blocks.nth(mul).locator("summary").click()
        page.wait_for_timeout(300)
        assert MUL_ROW in blocks.nth(mul).inner_text()
        assert 'show_row("mul")' in blocks.nth(mul).inner_text()
        assert MUL_WORDS not in notebook.inner_text()  # its prose is a block of its own
        blocks.nth(drawn).locator("summary").click()
        figure = blocks.nth(drawn).locator("img")
        assert figure.count() == 1
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 100", arg=figure.element_handle()
        )
        # Saved now (Run All's outputs, blocks opened), the notebook is still the workbook's as
        # written: its cells' sources, tags and attached figures unchanged, so the next update
        # of the workbook replaces it rather than writing a .new copy beside it.
        page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save'); }")
        path, deadline = f"{FOLDER}/{NOTEBOOK}", time.monotonic() + 30
        # the server writes the file in place: a read during a save (autosave's too) found it
        # empty in a CI run, so the test waits for a whole notebook
        while not _whole_and_run(text := saved_text(lab, path)):
            assert time.monotonic() < deadline, "the notebook was not saved"
            time.sleep(0.2)
        saved = tmp_path / "saved.ipynb"
        saved.write_text(text, encoding="utf-8")
        assert workbook._fingerprint(saved) == workbook._fingerprint(folder / NOTEBOOK)

        # The learner calls the unsolved function (in the check's cell, then puts it back).
        check_cell = first_exercise + 1
        check_source = shown[check_cell]["source"]
        type_into_cell(page, check_cell, f"{FIRST_EXERCISE}(-2.0, 5.0, -4.0)")
        error = run_cell(page, check_cell)
        assert len(error["outputs"]) == 1
        lines = [line for line in error["outputs"][0]["text"].splitlines() if line.strip()]
        print(f"calling the stub: a traceback of {len(lines)} lines, ending")
        print("\n".join(lines[-3:]))
        assert lines[-1] == (
            f"NotImplementedError: {FIRST_EXERCISE} is not written yet: do Exercise 1 above first "
            "(your code replaces this line)"
        )
        assert len(lines) < 25, f"a traceback of {len(lines)} lines"
        type_into_cell(page, check_cell, check_source)

        # 2. The first exercise, solved by typing the teacher's solution into its cell.
        stub = shown[first_exercise]["source"]
        type_into_cell(page, first_exercise, with_body(stub, solution_of(FIRST_EXERCISE)))
        check = run_cell_and_check(page, first_exercise)
        texts = [o["text"].strip() for o in check["outputs"]]
        print("solved:", texts)
        assert len(texts) == 1 and texts[0].startswith(f"{FIRST_EXERCISE}: ✔ correct — ")
        assert check["outputs"][0]["mime"] == "text/html"

        # 3. A wrong-but-plausible answer: the hint, as text, and no traceback.
        type_into_cell(page, first_exercise, with_body(stub, WRONG_BODY))
        check = run_cell_and_check(page, first_exercise)
        texts = [o["text"].strip() for o in check["outputs"]]
        print("wrong:", texts)
        assert len(texts) == 1 and texts[0].startswith(f"{FIRST_EXERCISE}: ✘ not yet — ")
        assert "upstream gradient" in texts[0]  # the mistake named
        assert "<" not in texts[0] and "&" not in texts[0], "HTML shown as text"
        assert "Traceback" not in texts[0] and check["outputs"][0]["mime"] == "text/html"
        print(f"the walk took {time.monotonic() - started:.1f} s")
    finally:
        close_notebook(page)
        page.close()
