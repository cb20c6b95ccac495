"""Every line a notebook shows, as preformatted output or as code, fits a laptop's JupyterLab.

Where the limit comes from (measured, not guessed): JupyterLab 4 opened in Debian's Chromium at a
1366 x 768 viewport with the default layout (file browser open on the left, 250 px) gives an output
`<pre>` 926 px wide; its font (13 px; DejaVu Sans Mono on Debian, Menlo or Consolas elsewhere,
all about 7.8 px per character or narrower) fits 118 characters. The `<pre>` has
`white-space: pre-wrap; word-break: break-all`, so a longer line is cut in the middle of a word or
a number. At 1280 x 720 a line of 109 characters already wraps. We keep a margin below both (a vertical scrollbar, a wider
prompt once execution counts reach [100]): 100 characters.

What counts: stream output (print) and the text/plain of a result that has no richer form, which
JupyterLab shows in such a `<pre>`. An exercise check's verdict also carries text/html, which
JupyterLab shows as a paragraph that wraps between words (measured too), so only its HTML is seen.
A widget's text/plain is shown where no kernel draws it (a notebook opened without running it):
every explorer words it as one short line of ours (backproplab.widgets), so it is checked too.

The code a learner reads is held to the same 100 characters by ruff (E501, with the package's
line length in pyproject.toml; `.ci/run` lints the notebooks): JupyterLab's code cells and the
site's code blocks do not wrap, they scroll sideways, and the end of a long line is out of sight.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
LIMIT = 100  # characters; see the module docstring
SHOWN_AS_HTML_OR_IMAGE = (
    "text/html",
    "text/markdown",
    "text/latex",
    "image/png",
    "image/svg+xml",
)


def preformatted_lines(notebook: Path) -> list[tuple[int, str]]:
    """(cell index, line) for every line of output that JupyterLab shows as preformatted text."""
    found = []
    for index, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"]):
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                text = "".join(output["text"])
            elif output["output_type"] == "error":
                text = "\n".join(output["traceback"])
            elif not any(kind in output["data"] for kind in SHOWN_AS_HTML_OR_IMAGE):
                text = "".join(output["data"].get("text/plain", ""))
            else:
                continue
            found += [(index, line) for line in text.splitlines()]
    return found


def test_the_scan_sees_stored_outputs():
    """The scan is not vacuous: the notebooks hold many lines of printed output."""
    assert sum(len(preformatted_lines(notebook)) for notebook in NOTEBOOKS) > 500


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_no_stored_output_line_is_wider_than_a_laptop_shows(notebook):
    too_long = [
        f"cell {index}: {len(line)} characters: {line[:70]}…"
        for index, line in preformatted_lines(notebook)
        if len(line) > LIMIT
    ]
    assert not too_long, f"{notebook.name}: lines over {LIMIT} characters:\n" + "\n".join(too_long)
