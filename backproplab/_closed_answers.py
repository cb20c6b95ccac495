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
# a heading line, after the markers of the lists and quotes it sits in: "## Title", "- ## Title ##"
_HEADING = re.compile(
    r"((?: {0,3}(?:>|[-+*]|\d{1,9}[.)])[ \t]+)* {0,3})"  # "> ", "- ", "1. " (kept as they are)
    r"#{1,6}[ \t]+(\S.*?)(?:[ \t]+#+)?[ \t\r]*"  # the heading's text, without closing #s
)
_UNDERLINE = re.compile(r" {0,3}(?:=+|-+)[ \t\r]*")  # under a paragraph: "Title\n====="
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")  # a fenced code block's start or end
_LIST_ITEM = re.compile(r" {0,3}(?:[-+*]|\d{1,9}[.)])[ \t]")
_NOT_A_PARAGRAPH = re.compile(r" {4}| {0,3}(?:[>|<]|[-+*][ \t]|\d{1,9}[.)][ \t])")  # code, list...


def close_worked_answers(notebook: Any) -> Any:
    """``notebook`` (an nbformat NotebookNode) with its worked answers closed (see the module's
    docstring); changed in place and returned."""
    after_answer = False
    for cell in notebook.cells:
        answer = ANSWER_TAG in cell.get("metadata", {}).get("tags", [])
        summary = CONTINUED if after_answer else OPEN_WHEN
        if answer and cell.cell_type == "markdown":
            # blank lines around the body: Markdown inside an HTML block is read as Markdown
            body = bold_headings(cell.source)
            cell.source = f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"
        elif answer and cell.cell_type == "code":
            cell.source = f"# {summary} (click this bar).\n{cell.source}"
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
            cell.outputs, cell.execution_count = [], None
        after_answer = answer
    return notebook


def bold_headings(markdown: str) -> str:
    """``markdown`` with each heading (``## Title``, also in a list or a quote, and ``Title``
    underlined with ``===`` or ``---``) written as a bold paragraph (``**Title**``), blank lines
    around it; the lines of fenced code blocks and of ``$$`` display math are left as they are."""
    lines: list[str] = []
    fence = ""  # the open code fence ("```", "~~~~"...), or ""
    math = bolded = False
    paragraph = -1  # the index in ``lines`` of the open paragraph's first line, or -1
    blank = ""  # a blank line after the last heading (">" in a quote)
    for line in markdown.split("\n"):
        opens = _FENCE.match(line)
        if fence:  # closed by a fence of its own character, at least as long, with no info
            if opens and opens[1][0] == fence[0] and len(opens[1]) >= len(fence):
                fence = "" if not opens[2].strip() else fence
            lines.append(line)
            continue
        if opens and not (opens[1][0] == "`" and "`" in opens[2]):
            fence, paragraph = opens[1], -1
            lines.append(line)
            continue
        if line.count("$$") % 2:
            math = not math
        if math or "$$" in line:
            lines.append(line)
            paragraph = -1
            continue
        heading = _HEADING.fullmatch(line)
        if paragraph >= 0 and _UNDERLINE.fullmatch(line):
            lines[paragraph] = "**" + lines[paragraph].lstrip()  # "Title\n===": its lines, bold
            lines[-1] = lines[-1].rstrip() + "**"
            paragraph, bolded, blank = -1, True, ""
            continue
        if bolded and line.strip() and not _LIST_ITEM.match(line):
            lines.append(blank)  # a heading's next line starts a paragraph; bold text would join it
        if heading is not None:
            blank = ">" * heading[1].count(">")  # a blank line inside the quotes, if any
            if lines and lines[-1].strip(" >") and not _LIST_ITEM.match(heading[1]):
                lines.append(blank)  # (a heading also ends the paragraph above it)
            lines.append(f"{heading[1]}**{heading[2]}**")
        else:
            lines.append(line)
        bolded = heading is not None
        if heading is not None or not line.strip():
            paragraph = -1
        elif paragraph < 0 and not _NOT_A_PARAGRAPH.match(line):  # (a list's "---" is a rule)
            paragraph = len(lines) - 1
    return "\n".join(lines)
