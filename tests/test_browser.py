"""A real browser: JupyterLab runs notebook 10 and its slider explorer reacts to the mouse/keyboard.

Starts JupyterLab on a free loopback port (no token, throwaway config, workspaces and settings),
opens a copy of notebooks/10_vanishing_gradients.ipynb in Debian's headless Chromium driven by
Playwright, runs all cells, checks that every cell ran without an error, moves the first slider
of the widget explorer one step and checks that the explorer's output changes.

Needs /usr/bin/chromium (`apt-get install chromium`; never `playwright install`) and the
`playwright` package; skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
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
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "10_vanishing_gradients.ipynb"

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is missing (apt-get install chromium); CI installs it",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
if not NOTEBOOK.exists():
    pytest.skip(f"{NOTEBOOK.name} is not written yet", allow_module_level=True)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server serving a copy of the notebook; yields its base URL."""
    root, config = tmp_path / "root", tmp_path / "config"
    (config / "labconfig").mkdir(parents=True)
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)  # run-all must never touch the real notebook
    page_config = {  # window.jupyterapp for the test (as galata does); no news pop-up
        "exposeAppInBrowser": True,
        "disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True},
    }
    (config / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
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


def test_run_all_and_move_the_slider(lab):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{lab}/lab/tree/{NOTEBOOK.name}")
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                " && window.jupyterapp.shell.currentWidget.sessionContext"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
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

            explorer = page.locator(".widget-interact").first
            explorer.wait_for(timeout=30_000)
            output = explorer.locator(".widget-output")
            sync_api.expect(output).not_to_have_text("", timeout=30_000)
            before = output.inner_text()
            handle = explorer.locator(".widget-slider .noUi-handle").first
            handle.scroll_into_view_if_needed()
            handle.focus()
            page.keyboard.press("ArrowRight")  # one step of the first slider
            page.wait_for_function(
                "([el, old]) => el.innerText.trim() !== '' && el.innerText !== old",
                arg=[output.element_handle(), before],
                timeout=30_000,
            )
            after = output.inner_text()
            assert after != before and after.strip()
        finally:
            browser.close()
