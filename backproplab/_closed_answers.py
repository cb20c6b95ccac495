"""The worked answers of a learner's workbook, closed until the learner opens them.

A worked answer (the cells tagged ``worked-answer`` after an exercise's check: the prose that
derives the answer, a cell that prints the package's rule) sits right below the check, so a
learner reading on past an unsolved exercise would read it. In the workbook:

* each such Markdown cell is wrapped in a closed ``<details>`` block whose summary says to open
  it once the check says correct; it stays closed when the cell is run (stepping through the
  notebook with Shift+Enter, or Run All, runs it). Its headings become bold lines: JupyterLab's
  table of contents lists the headings of closed blocks too, and "The engine against a - y"
  there gave notebook 08's answer away;
* each such code cell becomes a Markdown cell of the same kind: a closed ``<details>`` block
  holding its code and the outputs the solved notebook stored (text as text, a figure as an image
  attached to the cell). Nothing in it runs, so stepping through the notebook or Run All shows
  none of it: the code cell it was, even folded, printed its output when run, and
  ``show_row("mul")`` printed 03's Exercise 2 answer below a check that said "not yet". To run
  the code, copy it into a cell of your own.

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
    for k, cell in enumerate(notebook.cells):
        answer = ANSWER_TAG in cell.get("metadata", {}).get("tags", [])
        summary = CONTINUED if after_answer else OPEN_WHEN
        if answer and cell.cell_type == "markdown":
            cell.source = _closed(summary, bold_headings(cell.source))
        elif answer and cell.cell_type == "code":
            notebook.cells[k] = _code_to_read(cell, summary)
        after_answer = answer
    return notebook


def _closed(summary: str, markdown: str) -> str:
    """``markdown`` in a closed <details> block under ``summary`` (blank lines around it: Markdown
    inside an HTML block is read as Markdown)."""
    return f"<details><summary>{summary}</summary>\n\n{markdown}\n\n</details>"


def _code_to_read(cell: Any, summary: str) -> Any:
    """The code cell ``cell`` as a Markdown cell holding, closed, its code and stored outputs:
    streams and plain text in code blocks, figures (PNG) as images attached to the cell. Its id
    and tags are kept (the workbook's record of what it wrote reads them)."""
    import nbformat  # the dev extra, as the workbook's

    parts, attachments = [_fenced(cell.source, "python")], {}
    for n, output in enumerate(cell.get("outputs", [])):
        data = output.get("data", {})
        if output.output_type == "stream":
            parts.append(_fenced(output.text, "text"))
        elif "image/png" in data:
            name = f"output-{n}.png"
            attachments[name] = {"image/png": data["image/png"]}
            parts.append(f"![The figure this code draws](attachment:{name})")
        elif "text/plain" in data:
            parts.append(_fenced(data["text/plain"], "text"))
    markdown = nbformat.v4.new_markdown_cell(_closed(summary, "\n\n".join(parts)))
    markdown.metadata = nbformat.NotebookNode({"tags": list(cell.metadata.get("tags", []))})
    if attachments:
        markdown.attachments = nbformat.NotebookNode(attachments)
    markdown.pop("id", None)  # the code cell's own id, if it has one (nbformat 4.5)
    if "id" in cell:
        markdown.id = cell.id
    return markdown


def _fenced(text: str, language: str) -> str:
    """``text`` as a fenced code block, its fence longer than any run of backticks in it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


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
