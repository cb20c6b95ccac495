"""A real browser: every notebook renders in JupyterLab 4, and every widget explorer reacts.

One JupyterLab server (free loopback port, no token, throwaway config, workspaces and settings)
and one headless Debian Chromium driven by Playwright serve the whole module.

- `test_notebook_renders`: each notebook in notebooks/ is opened WITHOUT running it; from the
  rendered DOM it checks that no error dialog or error notification appeared, that there are as
  many code cells as in the .ipynb, that every stored image/png output is a loaded <img> in its
  cell's output area, that every markdown cell with `$...$` holds MathJax output without TeX
  errors, and that no output area shows an error (stderr/traceback or a widget error).
- `test_run_all_and_drive_every_control`: each notebook that shows a `bl.widgets` explorer (01,
  03 and 10), and a scratch notebook showing the two that no notebook shows (`gradient_explorer`,
  `training_explorer`, used as their docstrings say), is run top to bottom without an error. Then
  every control of every explorer is moved as a learner would (`drive_explorer`: each slider one
  step, to its maximum, its minimum and a middle value typed into its readout; every dropdown
  option; each checkbox on and off). After each move the output changes within SLOW_MOVE seconds
  and holds one picture (none piles up), no error and no NaN, and a text that names the new
  setting (EXPECTED_TEXT). Afterwards no entry is in JupyterLab's log console (where output lands
  that no cell catches, such as a figure left open by a callback), no widget label is cut off,
  and the kernel answers and holds no open figure. `BACKPROPLAB_SCREENSHOTS=<folder>` saves a
  picture of the explorer after each move, to look at.
- `test_engine_loop_in_the_editor`: notebook 03's "Your engine" loop as a learner does it, with
  mygrad.py open in JupyterLab's editor and saved with Ctrl+S: a mistake and its hint; a fix saved
  and only the check run again (it names the reload cell); a save that is not Python.

The notebooks are copies, so running them never touches the real files. The server's notebook
setting `windowingMode` is "none" so that every cell is attached to the DOM at once (the default
attaches off-screen cells on idle, through the same renderers), which keeps the checks fast.

Needs /usr/bin/chromium (`apt-get install chromium`; never `playwright install`) and the
`playwright` package; skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ALL_NOTEBOOKS = sorted(NOTEBOOKS.glob("*.ipynb"))
WIDGET_NOTEBOOKS = [nb for nb in ALL_NOTEBOOKS if "bl.widgets." in nb.read_text()]

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is missing (apt-get install chromium); CI installs it",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RUN_ALL_DIR = "run-all"  # copies for run-all, apart from the copies opened unrun
ENGINE_DIR = "engine-loop"  # notebook 03 and a mygrad.py that the engine-loop test edits


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server serving copies of the notebooks; yields its base URL."""
    tmp_path = tmp_path_factory.mktemp("lab")
    root, config = tmp_path / "root", tmp_path / "config"
    (config / "labconfig").mkdir(parents=True)
    (root / RUN_ALL_DIR).mkdir(parents=True)
    for notebook in ALL_NOTEBOOKS:  # tests must never touch the real notebooks
        shutil.copy(notebook, root / notebook.name)
    for notebook in WIDGET_NOTEBOOKS:
        shutil.copy(notebook, root / RUN_ALL_DIR / notebook.name)
    write_scratch_notebook(root / RUN_ALL_DIR)
    (root / ENGINE_DIR).mkdir()
    shutil.copy(NOTEBOOKS / "03_computational_graph.ipynb", root / ENGINE_DIR)
    for folder in (root, root / RUN_ALL_DIR, root / ENGINE_DIR):  # the learner's engine
        shutil.copy(NOTEBOOKS / "mygrad.py", folder / "mygrad.py")
    page_config = {  # window.jupyterapp for the test (as galata does); no news pop-up
        "exposeAppInBrowser": True,
        "disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True},
    }
    (config / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
    tracker_settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    tracker_settings.mkdir(parents=True)  # every cell in the DOM at once (module docstring)
    (tracker_settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port = free_port()
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={root}", f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
    ]  # fmt: skip
    environment = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "TQDM_DISABLE": "1",
    }
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(tmp_path / 'lab.log').read_text()}")
                time.sleep(0.5)
        yield url
    finally:
        server.send_signal(signal.SIGINT)  # jupyter's own shutdown: stops the kernels it started
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # the group of the server we started
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def lab_page(lab, browser):
    """One page with JupyterLab loaded and restored, shared by the rendering tests."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{lab}/lab")
    page.wait_for_function("() => window.jupyterapp", timeout=60_000)
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")
    yield page
    page.close()


# In the page: no modal dialog and no error notification anywhere in JupyterLab.
KERNEL_STARTED_JS = (  # the notebook in front has a session with a kernel
    "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
    " && window.jupyterapp.shell.currentWidget.sessionContext"
    " && window.jupyterapp.shell.currentWidget.sessionContext.session"
    " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
)
ALERTS_JS = """() => [...document.querySelectorAll('.jp-Dialog, .Toastify__toast--error')]
  .map(node => node.innerText.trim().replace(/\\s+/g, ' ').slice(0, 300))"""

# In the page: what the open notebook shows, cell by cell, read from the DOM only.
RENDERED_JS = """() => {
  const notebook = window.jupyterapp.shell.currentWidget.content.node;
  return [...notebook.querySelectorAll('.jp-Cell')].map(cell => ({
    type: cell.classList.contains('jp-CodeCell') ? 'code'
      : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw',
    images: [...cell.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="image/png"] img')]
      .filter(img => img.complete && img.naturalWidth > 0).length,
    math: cell.querySelector('.jp-RenderedMarkdown mjx-container') !== null,
    math_errors: [...cell.querySelectorAll('mjx-merror')].map(e => e.textContent),
    output_errors: [...cell.querySelectorAll('.jp-OutputArea-output')]
      .filter(out => out.dataset.mimeType === 'application/vnd.jupyter.stderr'
        || out.innerText.includes('Error displaying widget'))
      .map(out => out.innerText.slice(0, 300)),
  }));
}"""

MATH = re.compile(r"\$[^$]+\$")  # $x$ and $$x$$ both contain one
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)  # a $ in code is not math


def expected_cells(notebook: Path) -> list[dict]:
    """What RENDERED_JS must find for `notebook`, read from the .ipynb itself."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [
        {
            "type": cell["cell_type"],
            "images": sum("image/png" in out.get("data", {}) for out in cell.get("outputs", [])),
            "math": cell["cell_type"] == "markdown"
            and bool(MATH.search(CODE.sub("", "".join(cell["source"])))),
            "math_errors": [],
            "output_errors": [],
        }
        for cell in cells
    ]


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_renders(lab_page, notebook):
    page = lab_page
    expected = expected_cells(notebook)
    earlier_alerts = page.evaluate(ALERTS_JS)  # e.g. a toast still fading; not this notebook's

    def new_alerts() -> list[str]:
        return [alert for alert in page.evaluate(ALERTS_JS) if alert not in earlier_alerts]

    # Not awaited inside the page: awaiting a command's promise can hang (ECOSYSTEM.md).
    page.evaluate(
        "(path) => { window.jupyterapp.commands.execute('docmanager:open', {path}); }",
        notebook.name,
    )
    try:
        page.wait_for_function(
            f"""([path, before]) => {{
              const w = window.jupyterapp.shell.currentWidget;
              return ({ALERTS_JS})().length > before
                || (w && w.context && w.context.path === path && w.context.isReady);
            }}""",
            arg=[notebook.name, len(earlier_alerts)],
            timeout=30_000,
        )
        assert new_alerts() == [], f"{notebook.name} opened with an error"
        # Wait until the outputs and math have rendered (or time out), then compare every field.
        try:
            page.wait_for_function(
                f"""(expected) => {{
                  const shown = ({RENDERED_JS})();
                  return shown.length === expected.length && shown.every((cell, i) =>
                    cell.type === expected[i].type && cell.images === expected[i].images
                    && cell.math === expected[i].math);
                }}""",
                arg=expected,
                timeout=20_000,
                polling=200,
            )
        except sync_api.TimeoutError:
            pass  # the assertions below say which cells differ
        shown = page.evaluate(RENDERED_JS)
        assert new_alerts() == [], f"{notebook.name} raised an error while rendering"
        code_cells = sum(cell["type"] == "code" for cell in expected)
        assert sum(cell["type"] == "code" for cell in shown) == code_cells
        assert len(shown) == len(expected), f"{len(shown)} cells shown, {len(expected)} stored"
        differences = [
            (index, {key: (cell[key], want[key]) for key in want if cell[key] != want[key]})
            for index, (cell, want) in enumerate(zip(shown, expected, strict=True))
            if cell != want
        ]
        assert differences == [], "cells rendered wrong as (index, {field: (shown, stored)})"
    finally:
        close_notebook(page)


def close_notebook(page) -> None:
    """Close the open notebook without a save prompt, stop its kernel, and drop any dialog, so
    that the workspace does not reopen it under the next test's notebook."""
    page.evaluate(
        """async () => {
          const w = window.jupyterapp.shell.currentWidget;
          if (!w || !w.context) return;
          w.context.model.dirty = false;
          await w.sessionContext.shutdown();
          w.dispose();
        }"""
    )
    for _ in range(3):  # a failed open leaves its modal dialog; Escape dismisses it
        if page.locator(".jp-Dialog").count() == 0:
            break
        page.keyboard.press("Escape")
        page.wait_for_timeout(200)


# In the page: the open notebook's cells, from JupyterLab's own models.
CELLS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets.map(cell => ({
    type: cell.model.type,
    count: cell.model.type === 'code' ? cell.model.executionCount : null,
    errors: cell.model.type === 'code'
      ? cell.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename)
      : [],
  }));
}"""


# In the page: the log console's status bar item, empty until something is logged, then titled
# "N log entries for <notebook>" (read from the DOM, shown or not).
LOG_JS = """() => [...document.querySelectorAll('.jp-LogConsoleStatusItem [title]')]
  .map(item => item.title).filter(title => title.includes('log entries'))"""

# In the page: the labels inside `root` whose text is wider than the box that shows it.
CLIPPED_JS = """(root) => [...root.querySelectorAll(
    '.widget-label, .widget-label-basic, .widget-label-basic span, .widget-inline-hbox label')]
  .filter(el => el.offsetParent !== null && el.innerText.trim() !== ''
    && el.scrollWidth > el.clientWidth + 1)
  .map(el => `${el.innerText.trim()} (${el.scrollWidth}px of text in ${el.clientWidth}px)`)"""


def test_every_explorer_notebook_is_run_in_the_browser():
    names = {nb.name[:2] for nb in WIDGET_NOTEBOOKS}
    assert {"01", "03", "10"} <= names, f"notebooks with widget explorers: {sorted(names)}"


# In the page: what an explorer's output area shows now, as one string that changes whenever the
# text or any picture does (a 32-bit hash of each image's data URL, not the URL itself).
SHOWN_JS = """(output) => {
  const hash = (s) => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
    return h; };
  return output.innerText + '|' + [...output.querySelectorAll('img')].map(i => hash(i.src)).join(',');
}"""

# In the page: the explorer's controls as a learner reads them (label -> value shown), and what
# its output area holds.
STATE_JS = """(explorer) => {
  const values = {};
  for (const control of explorer.querySelectorAll('.widget-slider, .widget-dropdown, .widget-checkbox')) {
    const label = control.querySelector('.widget-label-basic span')  // a checkbox's own label
      || control.querySelector('.widget-label');
    const name = label.innerText.trim();
    const readout = control.querySelector('.widget-readout');
    const select = control.querySelector('select');
    const box = control.querySelector('input[type=checkbox]');
    values[name] = readout ? readout.innerText.trim() : select ? select.selectedOptions[0].text.replace(/\u00a0/g, ' ')
      : box ? box.checked : null;
  }
  const output = explorer.querySelector('.widget-output');
  return {
    values,
    text: output.innerText,
    images: [...output.querySelectorAll('img')].length,
    loaded: [...output.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth > 0).length,
    errors: [...output.querySelectorAll('.jp-OutputArea-output')]
      .filter(o => o.dataset.mimeType === 'application/vnd.jupyter.stderr'
        || /Traceback|Error/.test(o.innerText)).map(o => o.innerText.slice(0, 500)),
  };
}"""


def number(readout: str) -> float:
    """A slider's readout as a number (ipywidgets writes a minus sign, not a hyphen)."""
    return float(readout.replace("\u2212", "-"))


def eps_text(values: dict) -> list[str]:
    return [f"eps = {10.0 ** number(values['log10 eps']):.1e}:"]


def depth_text(values: dict, residual: str) -> list[str]:
    kind = "residual" if values[residual] else "plain"
    layers = "layer" if int(values["depth"]) == 1 else "layers"
    return [
        f"{values['depth']} hidden {kind} {layers}, {values['activation']}, init {values['init']}:"
    ]


# What each explorer's text must say for the values its controls show, told apart by the labels
# of its controls: the text follows every control, so a stale output is caught.
EXPECTED_TEXT = {
    ("step",): lambda v: [f"Step {v['step']}:"],
    ("log10 eps",): eps_text,
    ("activation", "depth", "init", "skip connections (notebook 11)"): lambda v: depth_text(
        v, "skip connections (notebook 11)"
    ),
    ("activation", "depth", "init", "residual"): lambda v: depth_text(v, "residual"),
    ("depth", "lr", "width"): lambda v: [
        f"lr {number(v['lr']):.3g}, width {v['width']}, depth {v['depth']}:\ntraining accuracy"
    ],
}

# A scratch notebook for the explorers that no notebook shows, used as their docstrings say.
SCRATCH = "package_explorers.ipynb"
SCRATCH_CELLS = [
    "import backproplab as bl",
    "bl.widgets.gradient_explorer()",
    "bl.widgets.training_explorer()",
]
RUN_ALL_NOTEBOOKS = [*WIDGET_NOTEBOOKS, NOTEBOOKS / SCRATCH]
SLOW_MOVE = 5.0  # seconds a move may take (the slowest measured: 0.3 s on 2 busy cores)


def write_scratch_notebook(folder: Path) -> None:
    cells = [
        {"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {},
         "outputs": [], "source": source}
        for i, source in enumerate(SCRATCH_CELLS)
    ]  # fmt: skip
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (folder / SCRATCH).write_text(json.dumps(notebook))


def drive_explorer(page, explorer, screenshots: Path | None, tag: str) -> list[str]:
    """Move every control of one explorer as a learner would: each slider one step, to its
    maximum, its minimum and a middle value (typed into its readout); each dropdown through its
    options; each checkbox on and off. After each move, wait for the output to change and check
    it. Returns a line per move: the control, its new value and the seconds the output took."""
    output = explorer.locator(".widget-output")
    state = page.evaluate(STATE_JS, explorer.element_handle())
    labels = tuple(sorted(state["values"]))
    assert labels in EXPECTED_TEXT, f"an explorer with unknown controls {labels}"
    expected_text = EXPECTED_TEXT[labels]
    moves: list[str] = []

    def moved(control: str, act) -> None:
        before = page.evaluate(SHOWN_JS, output.element_handle())
        started = time.monotonic()
        act()
        page.wait_for_function(
            f"([el, old]) => ({SHOWN_JS})(el) !== old && el.innerText.trim() !== ''"
            " && [...el.querySelectorAll('img')].some(i => i.complete && i.naturalWidth > 0)",
            arg=[output.element_handle(), before],
            timeout=SLOW_MOVE * 3 * 1000,
        )
        seconds = time.monotonic() - started
        state = page.evaluate(STATE_JS, explorer.element_handle())
        moves.append(f"{control} = {state['values'][control]}: {seconds:.1f} s")
        where = f"{tag}, after {control} -> {state['values'][control]}"
        if screenshots is not None:
            explorer.screenshot(
                path=str(screenshots / f"{tag}-{control}-{state['values'][control]}.png")
            )
        assert state["errors"] == [], f"{where}: an error in the output: {state['errors']}"
        assert state["images"] == state["loaded"] == 1, f"{where}: {state['images']} pictures"
        missing = [t for t in expected_text(state["values"]) if t not in state["text"]]
        assert missing == [], f"{where}: the text does not say {missing}: {state['text']!r}"
        assert not re.search(r"\b(nan|inf)\b", state["text"]), f"{where}: {state['text']!r}"
        assert seconds < SLOW_MOVE, f"{where}: the output took {seconds:.1f} s ({moves})"

    for slider in explorer.locator(".widget-slider").all():
        name = slider.locator(".widget-label").inner_text().strip()
        handle = slider.locator(".noUi-handle").first
        low, high, now = (float(handle.get_attribute(a)) for a in
                          ("aria-valuemin", "aria-valuemax", "aria-valuenow"))  # fmt: skip
        readout = slider.locator(".widget-readout")
        log_scale = abs(number(readout.inner_text()) - now) > 1e-9  # the readout shows base ** now
        handle.scroll_into_view_if_needed()

        def press(key: str, h=handle) -> None:
            h.focus()
            page.keyboard.press(key)

        if now < high:  # the first thing a learner tries: one step to the right
            moved(name, lambda: press("ArrowRight"))
        if float(handle.get_attribute("aria-valuenow")) < high:
            moved(name, lambda: press("End"))
        moved(name, lambda: press("Home"))
        middle = (low + high) / 2
        if log_scale:
            typed = f"{10**middle:g}"
        elif "." in readout.inner_text():  # a float slider
            typed = f"{middle:g}"
        else:
            typed = f"{round(middle)}"
        if round(middle) not in (low, high):  # not on a slider of two positions

            def type_middle(r=readout, text=typed):
                r.click()
                page.keyboard.press("Control+A")
                page.keyboard.type(text)
                page.keyboard.press("Enter")

            moved(name, type_middle)
    for dropdown in explorer.locator(".widget-dropdown").all():
        name = dropdown.locator(".widget-label").inner_text().strip()
        select = dropdown.locator("select")
        current = select.evaluate("s => s.selectedOptions[0].text")
        for option in [o for o in select.locator("option").all_inner_texts() if o != current]:
            moved(name, lambda s=select, o=option: s.select_option(label=o))
    for checkbox in explorer.locator(".widget-checkbox").all():
        name = checkbox.locator(".widget-label-basic span").inner_text().strip()
        box = checkbox.locator("input[type=checkbox]")
        moved(name, lambda b=box: b.click())
        moved(name, lambda b=box: b.click())
    return moves


@pytest.mark.parametrize("notebook", RUN_ALL_NOTEBOOKS, ids=lambda nb: nb.stem)
def test_run_all_and_drive_every_control(lab, browser, notebook):
    """Run the notebook, then move every control of every explorer in it (`drive_explorer`):
    each move changes the output, which then holds one picture, no error, no NaN, and a text
    that names the new setting, within SLOW_MOVE seconds. Afterwards: nothing in the log console,
    no label cut off, and the kernel answers and holds no figure left open."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    screenshots = os.environ.get("BACKPROPLAB_SCREENSHOTS")
    if screenshots:
        Path(screenshots).mkdir(parents=True, exist_ok=True)
    try:
        # a workspace of its own, reset: not the tabs the rendering tests left open (each would
        # start a kernel and slow this page down)
        page.goto(
            f"{lab}/lab/workspaces/run-{notebook.stem}/tree/{RUN_ALL_DIR}/{notebook.name}?reset"
        )
        page.wait_for_function(
            KERNEL_STARTED_JS,
            timeout=60_000,
        )
        # Not awaited inside the page: awaiting the command's promise hangs (ECOSYSTEM.md).
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        page.wait_for_function(
            f"() => ({CELLS_JS})().every(c => c.type !== 'code' || c.count !== null)",
            timeout=90_000,
            polling=500,
        )
        cells = page.evaluate(CELLS_JS)
        errors = [(i, c["errors"]) for i, c in enumerate(cells) if c["errors"]]
        assert errors == [], f"cells with errors after run-all: {errors}"

        explorers = page.locator(".jp-NotebookPanel:visible .widget-interact")
        explorers.first.wait_for(timeout=30_000)
        expected = 2 if notebook.name == SCRATCH else 1
        assert explorers.count() == expected
        for index, explorer in enumerate(explorers.all()):
            output = explorer.locator(".widget-output")
            sync_api.expect(output).not_to_have_text("", timeout=30_000)
            tag = f"{notebook.stem}-{index}"
            moves = drive_explorer(page, explorer, Path(screenshots) if screenshots else None, tag)
            print(f"{tag}: {'; '.join(moves)}")  # the time each move took (pytest -rP shows it)
            page.wait_for_timeout(500)  # a stray output reaches the log console after the redraw
            logged = page.evaluate(LOG_JS)
            clipped = page.evaluate(CLIPPED_JS, explorer.element_handle())
            assert logged == [], (
                f"{tag}: moving the controls logged output no cell caught: {logged}"
            )
            assert clipped == [], f"{tag}: widget labels cut off: {clipped}"
        # The kernel still answers, and no explorer left a figure open (they pile up unseen).
        open_figures = page.evaluate(
            """async () => {
              const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
              const future = kernel.requestExecute({code:
                'import matplotlib.pyplot as plt; print(len(plt.get_fignums()))',
                silent: false, store_history: false});
              let text = '';
              future.onIOPub = (msg) => { if (msg.header.msg_type === 'stream') text += msg.content.text; };
              await future.done;
              return text.trim();
            }"""
        )
        assert open_figures == "0", f"figures left open in the kernel: {open_figures}"
    finally:
        close_notebook(page)
        page.close()


# In the page: the text of the output of the notebook's code cell that holds `source` (the last
# such cell), and the cell's execution count.
OUTPUT_JS = """(source) => {
  const panel = [...window.jupyterapp.shell.widgets('main')]
    .find(w => w.context && w.context.path.endsWith('.ipynb'));
  const cell = panel.content.widgets.filter(c => c.model.type === 'code'
    && c.model.sharedModel.getSource().includes(source)).pop();
  return {text: cell.outputArea.node.innerText, count: cell.model.executionCount};
}"""

# In the page: the editor of mygrad.py (the file editor, not the notebook).
EDITOR_JS = """[...window.jupyterapp.shell.widgets('main')]
  .find(w => w.context && w.context.path.endsWith('mygrad.py'))"""


def test_engine_loop_in_the_editor(lab, browser):
    """The loop of every "Your engine" section, as a learner does it: mygrad.py open in
    JupyterLab's editor beside notebook 03, a mistake saved (Ctrl+S), the reload cell and the
    check (the hint); the fix saved, and only the check cell run again: it says that the saved
    file changed and names the reload cell, not the old verdict; then the reload cell and the
    check: correct. A save that is not Python is named with its line, and the check sends the
    learner to the editor, since the reload cell fails as well."""
    url, engine = lab, f"{ENGINE_DIR}/mygrad.py"
    solved = saved_text(url, engine)
    right = "        self.data = np.asarray(data, dtype=np.float64)\n"
    assert solved.count(right) == 1
    wrong = solved.replace(right, "        self.data = np.asarray(data)\n")  # ints stay ints
    broken = solved.replace(right, right.replace(")\n", "))\n"))
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        notebook = f"{ENGINE_DIR}/03_computational_graph.ipynb"
        page.goto(f"{url}/lab/workspaces/engine-loop/tree/{notebook}?reset")
        page.wait_for_function(
            KERNEL_STARTED_JS,
            timeout=60_000,
        )
        page.evaluate(
            """(path) => { window.jupyterapp.commands.execute('docmanager:open',
                 {path, options: {mode: 'split-right'}}); }""",
            engine,
        )
        page.wait_for_function(f"() => {{ const e = {EDITOR_JS}; return e && e.context.isReady; }}")

        def save(text: str) -> None:
            """Put `text` in the editor, then Ctrl+S in it, as the learner does."""
            page.evaluate(
                f"""(text) => {{ const e = {EDITOR_JS};
                  e.content.model.sharedModel.setSource(text);
                  window.jupyterapp.shell.activateById(e.id); e.content.editor.focus(); }}""",
                text,
            )
            page.keyboard.press("Control+s")
            deadline = time.monotonic() + 15
            while saved_text(url, engine) != text:
                assert time.monotonic() < deadline, "Ctrl+S did not save mygrad.py"
                time.sleep(0.2)

        def run(source: str) -> str:
            """Run the notebook's cell holding `source` (Ctrl+Enter); what its output shows."""
            before = page.evaluate(OUTPUT_JS, source)["count"]
            page.evaluate(
                """(source) => { const panel = [...window.jupyterapp.shell.widgets('main')]
                  .find(w => w.context && w.context.path.endsWith('.ipynb'));
                  window.jupyterapp.shell.activateById(panel.id);
                  const cells = panel.content.widgets;
                  panel.content.activeCellIndex = cells.indexOf(cells.filter(c =>
                    c.model.type === 'code' && c.model.sharedModel.getSource().includes(source)
                  ).pop());
                  panel.content.mode = 'command'; panel.content.node.focus(); }""",
                source,
            )
            page.keyboard.press("Control+Enter")
            page.wait_for_function(
                f"([source, before]) => {{ const o = ({OUTPUT_JS})(source);"
                " return o.count !== null && o.count !== before; }",
                arg=[source, before],
                timeout=60_000,
            )
            page.wait_for_timeout(300)  # the output follows the count
            return page.evaluate(OUTPUT_JS, source)["text"]

        reload, check = "importlib.reload(mygrad)", 'check_step("03", mygrad)'
        save(wrong)
        run(reload)
        assert "float64), not an array of int64" in run(check)
        save(solved)  # the fix, saved; only the check is run again
        said = run(check)
        assert "your saved mygrad.py has changed since this notebook loaded it" in said
        assert "mygrad = importlib.reload(mygrad)" in said
        run(reload)
        assert "✔ correct" in run(check)
        save(broken)  # not Python: the reload cell fails too, so the editor comes first
        line = 1 + broken.splitlines().index(right.rstrip("\n").replace(")", "))"))
        said = run(check)
        assert f"not valid Python (SyntaxError on line {line}: unmatched ')')" in said
        assert "correct it in the editor and save it, then run the cell that reloads" in said
        assert "SyntaxError" in run(reload)
        save(solved)
        run(reload)
        assert "✔ correct" in run(check)
    finally:  # the solved file back (for a rerun), through JupyterLab's contents service
        page.evaluate(
            """async ([path, content]) => {
              await window.jupyterapp.serviceManager.contents.save(path,
                {type: 'file', format: 'text', content});
              const panel = [...window.jupyterapp.shell.widgets('main')]
                .find(w => w.context && w.context.path.endsWith('.ipynb'));
              if (panel) await panel.sessionContext.shutdown(); }""",
            [engine, solved],
        )
        page.close()


def saved_text(url: str, path: str) -> str:
    """The text of the file at `path` (in the lab's root) as saved on disk, read through
    JupyterLab's contents service."""
    with urllib.request.urlopen(f"{url}/api/contents/{path}?type=file&format=text") as answer:
        return json.load(answer)["content"]
