"""The worked answers of a learner's workbook, closed until the learner opens them.

A worked answer (the cells tagged ``worked-answer`` after an exercise's check: the prose that
derives the answer, a cell that prints the package's rule) sits right below the check, so a
learner reading on past an unsolved exercise would read it. In the workbook:

* each such Markdown cell is wrapped in a closed ``<details>`` block whose summary says to open
  it once the check says correct; it stays closed when the cell is run (stepping through the
  notebook with Shift+Enter, or Run All, runs it). Its headings become bold lines: JupyterLab's
  table of contents lists the headings of closed blocks too, and "The engine against a - y"
  there gave notebook 08's answer away;
* each such code cell is folded (the notebook format's ``metadata.jupyter.source_hidden``, which
  JupyterLab shows as a bar with its first line, a comment saying the same, and keeps folded when
  the cell runs) and loses its stored output; running it shows its output.

A class's release leaves worked answers out instead (``classroom.release``).
"""

from __future__ import annotations

import re
from typing import Any

from .classroom.release import ANSWER_TAG

OPEN_WHEN = "Worked answer: open it once your check says correct"
CONTINUED = "Worked answer, continued"
_HEADING = re.compile(r" {0,3}#{1,6}[ \t]+(\S.*?)(?:[ \t]+#+)?[ \t]*")  # "## Title", "## Title ##"
_FENCE = re.compile(r" {0,3}(```|~~~)")  # a line of a fenced code block's start or end


def close_worked_answers(notebook: Any) -> Any:
    """``notebook`` (an nbformat NotebookNode) with its worked answers closed (see the module's
    docstring); changed in place and returned."""
    after_answer = False
    for cell in notebook.cells:
        answer = ANSWER_TAG in cell.get("metadata", {}).get("tags", [])
        summary = CONTINUED if after_answer else OPEN_WHEN
        if answer and cell.cell_type == "markdown":
            # blank lines around the body: Markdown inside an HTML block is read as Markdown
            body = _bold_headings(cell.source)
            cell.source = f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"
        elif answer and cell.cell_type == "code":
            cell.source = f"# {summary} (click this bar).\n{cell.source}"
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
            cell.outputs, cell.execution_count = [], None
        after_answer = answer
    return notebook


def _bold_headings(markdown: str) -> str:
    """``markdown`` with each heading line (``## Title``) written as a bold paragraph
    (``**Title**``), blank lines around it; lines of fenced code blocks are left as they are."""
    lines: list[str] = []
    fenced = bolded = False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _HEADING.fullmatch(line)
        if bolded and line.strip():
            lines.append("")  # a heading's next line starts a paragraph; bold text would join it
        if heading is not None and lines and lines[-1].strip():
            lines.append("")  # (a heading also ends the paragraph above it)
        lines.append(line if heading is None else f"**{heading.group(1)}**")
        bolded = heading is not None
    return "\n".join(lines)
