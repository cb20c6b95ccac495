"""Sphinx configuration: the curriculum as a static site.

Build (offline, warnings are errors):  sphinx-build -W -b html docs docs/_build/html

The notebooks are rendered with the outputs stored in them (myst-nb, nb_execution_mode = "off"):
the site shows exactly what nbval checks, and building it runs no code from the notebooks.
Sphinx reads sources only inside docs/, so each build first copies notebooks/NN_*.ipynb into
docs/notebooks/ (git-ignored; a symbolic link would resolve the notebooks' links between each
other outside docs/).

The site needs no network: MathJax comes from the Python package sphinx-mathjax-offline, which
copies its MathJax 3 into _static/mathjax/ and points mathjax_path there. A widget explorer
(notebooks 01, 03, 10) is live only with a kernel; rendering the widget state a notebook stores
would take ipywidgets' JavaScript from a CDN. So the copies show each explorer as its snapshot
instead: a line naming its controls and their values, then what its output area held when the
notebook was run (the figure and the text), and they keep no widget state.

The notebooks are the teacher's version, every exercise solved. For a reader, each solution cell
loses nbgrader's "### BEGIN/END SOLUTION" lines and is folded behind "Show the solution". The
cells that work an exercise's answer out after its check (tagged "worked-answer") are folded too,
behind "Show the worked answer", as the learner's workbook closes them: open, they printed the
answer right below the folded solution. The search's snippets leave every closed fold out
(docs/_static/search-snippets.js), so that a search does not show what the page folds.
"""

import ast
import json
import re
import shutil
from pathlib import Path

from docutils import nodes

from backproplab._closed_answers import CONTINUED, bold_headings
from backproplab.classroom.release import ANSWER_TAG  # "worked-answer"

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def copy_notebooks() -> None:
    """Mirror notebooks/NN_*.ipynb into docs/notebooks/, keeping times (incremental builds);
    widget explorers become their snapshots (module docstring)."""
    target = DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    sources = {path.name: path for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    for stale in target.glob("*.ipynb"):
        if stale.name not in sources:
            stale.unlink()
    for name, source in sources.items():
        notebook = json.loads(source.read_text(encoding="utf-8"))
        state = notebook["metadata"].pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            if state:
                cell["outputs"] = [new for out in cell["outputs"] for new in snapshot(out, state)]
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                fold_solution(cell)
        fold_worked_answers(notebook["cells"])
        (target / name).write_text(json.dumps(notebook, indent=1), encoding="utf-8")
        shutil.copystat(source, target / name)


# nbgrader's markers around a solution: "### BEGIN SOLUTION", "### END SOLUTION".
_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\b")


def fold_solution(cell: dict) -> None:
    """An exercise's solution cell, for a reader: without nbgrader's marker lines, and folded
    (myst-nb's "hide-input" tag), so that a reader can try the exercise before opening it."""
    lines = "".join(cell["source"]).splitlines(keepends=True)
    cell["source"] = "".join(line for line in lines if not _MARKER.match(line))
    tags = cell["metadata"].setdefault("tags", [])
    if "hide-input" not in tags:
        tags.append("hide-input")


SHOW_ANSWER, HIDE_ANSWER = "Show the worked answer", "Hide the worked answer"


def fold_worked_answers(cells: list[dict]) -> None:
    """Each cell tagged "worked-answer", folded: a code cell with myst-nb's "hide-cell" tag (its
    source and outputs together), a Markdown cell inside a <details> block, its headings written
    as bold lines as in the workbook (``bold_headings``: a heading, a section of the page, would
    be listed in the page's Contents column, and notebook 08's "The engine against $a - y$" says
    the exercise's answer). The first fold of a run of such cells says "Show the worked answer",
    the next ones "Worked answer, continued"."""
    folded = False  # a fold of this run of worked-answer cells is already on the page
    for cell in cells:
        show = CONTINUED if folded else SHOW_ANSWER
        if ANSWER_TAG not in cell["metadata"].get("tags", []):
            folded = False
        elif cell["cell_type"] == "code":
            cell["metadata"]["tags"].append("hide-cell")
            prompts = {"code_prompt_show": show, "code_prompt_hide": HIDE_ANSWER}
            cell["metadata"].setdefault("mystnb", {}).update(prompts)
            folded = True
        elif cell["cell_type"] == "markdown" and "".join(cell["source"]).strip():
            cell["source"] = _details("".join(cell["source"]), show)
            folded = True


def _details(markdown: str, show: str) -> str:
    """``markdown`` folded in a <details> block, shown like myst-nb's folds."""
    return "\n".join([
        '<div class="cell docutils container tag_worked-answer">',  # myst-nb styles a cell's folds
        '<details class="admonition hide above-input">',
        "<summary>",
        f'<p class="collapsed admonition-title">{show}</p>',
        f'<p class="expanded admonition-title">{HIDE_ANSWER}</p>',
        "</summary>\n",
        bold_headings(markdown),
        "\n</details>\n</div>",
    ])  # fmt: skip


def snapshot(output: dict, state: dict) -> list[dict]:
    """A widget's output as static outputs: its controls in one line, then the contents of its
    Output areas. Any other output is returned unchanged."""
    view = output.get("data", {}).get(WIDGET_VIEW)
    if view is None:
        return [output]
    controls, shown = [], []
    for child in _models(view["model_id"], state):
        shown += child.get("outputs", [])  # an Output widget: what it captured
        if "_options_labels" in child:  # a dropdown stores the index of its choice
            controls.append(f"{child['description']} = {child['_options_labels'][child['index']]}")
        elif "value" in child and child.get("description"):
            controls.append(f"{child['description']} = {child['value']}")
    line = "A live explorer: run the notebook in Jupyter to use it. Its controls: "
    line += ", ".join(controls) + (", showing:" if shown else ".")
    note = {"output_type": "display_data", "metadata": {},
            "data": {"text/markdown": f"*{line}*", "text/plain": line}}  # fmt: skip
    return [note] + shown


def _models(model_id: str, state: dict) -> list[dict]:
    """The states of a widget and every widget inside it, depth first."""
    model = state.get(model_id, {}).get("state", {})
    found = [model]
    for child in model.get("children", []):
        found += _models(child.removeprefix("IPY_MODEL_"), state)
    return found


copy_notebooks()

project = "backproplab"
author = "The backproplab authors"
copyright = "2026, the backproplab authors"

# "sphinx-mathjax-offline" is the extension's real module name (hyphens and all).
extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx-mathjax-offline"]
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]

nb_execution_mode = "off"  # render the stored outputs; never re-execute
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "attrs_block"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
# numpy's ArrayLike, spelled out, is a 200-character union of private names (_SupportsArray,
# _NestedSequence, ...) that widened api.html on a phone; its name says what it means.
autodoc_type_aliases = {"npt.ArrayLike": "numpy.typing.ArrayLike"}

nb_code_prompt_show = "Show the solution"  # only solution cells are folded (fold_solution)
nb_code_prompt_hide = "Hide the solution"

html_theme = "sphinx_book_theme"
html_title = "backproplab"
# navbar_persistent=[]: without it the theme adds a second search field in a bar above the page.
html_theme_options = {"show_toc_level": 2, "navbar_persistent": []}
html_context = {"default_mode": "auto"}  # else a new visitor's console says "invalid theme mode"
# The sidebar: the theme's items (navbar-logo, icon-links, search-button-field, sbt-sidebar-nav),
# with two of them our own for accessibility (axe-core): the name inside a landmark, and a search
# button whose accessible name holds the text it shows (see the templates' comments).
templates_path = ["_templates"]
html_sidebars = {"**": ["home-link.html", "search-field.html", "sbt-sidebar-nav.html"]}
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
html_css_files = ["site.css"]
# A search result's snippet leaves out what its page folds (solutions, worked answers, hints): the
# script wraps Search.htmlToText of searchtools.js, which the theme loads in every page's head;
# deferred, it runs after it and before the search starts (DOMContentLoaded).
html_js_files = [("search-snippets.js", {"defer": "defer"})]

# README.md is written for the repository: its links are relative to the repository's root.
_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:|mailto:|#)([^)\s]+)\)")


def _site_link(match: re.Match) -> str:
    text, target = match.groups()
    if target.startswith("notebooks/"):  # a page of this site (myst: "/" = docs/)
        return f"[{text}](/{target})"
    if target.startswith("docs/"):
        return f"[{text}](/{target.removeprefix('docs/')})"
    return f"{text} (`{target}` in the repository)"  # LICENSE etc. are not pages


def readme_links(app, relative_path, parent_docname, content) -> None:
    """Rewrite the included README's repository-relative links into links of this site."""
    if Path(relative_path).name == "README.md":
        content[0] = _LINK.sub(_site_link, content[0])


def plain_pipes(app, what, name, obj, options, lines) -> None:
    """Docstrings are plain text: |x - y| means an absolute value, not an RST substitution."""
    for index, line in enumerate(lines):
        parts = line.split("``")  # odd parts are inline literals, where | is already literal
        parts[::2] = [part.replace("|", "\\|") for part in parts[::2]]
        lines[index] = "``".join(parts)


# LaTeX spacing commands, which read as a space in a plain-text title.
_LATEX_SPACE = re.compile(r"\\[,:;! ]|\\q?quad\b")


def plain_titles(app, doctree) -> None:
    """Navigation shows a title as plain text: "(x + y)\\,z" in a sidebar is noise, not maths.

    A page's title may hold inline maths (notebook 03's does). The page's own heading keeps it,
    typeset; the sidebar, the previous/next links and the browser tab get plain text instead.
    Runs after Sphinx's title and toctree collectors (priority 500), which store it with maths.
    """
    docname = app.env.docname  # the document being read (Sphinx 7 and later)
    title = app.env.titles.get(docname)
    if title is None or not any(title.findall(nodes.math)):
        return
    text = "".join(
        _LATEX_SPACE.sub(" ", node) if isinstance(node.parent, nodes.math) else node
        for node in title.findall(nodes.Text)
    )
    text = " ".join(text.split())
    plain = nodes.title("", nodes.Text(text))
    if app.env.longtitles[docname] is title:  # no explicit title: the browser tab shows this one
        app.env.longtitles[docname] = plain
    app.env.titles[docname] = plain  # previous/next links
    for reference in app.env.tocs[docname].findall(nodes.reference):  # the sidebar
        if not reference["anchorname"]:  # the page itself; its sections link to "#anchor"
            reference[:] = [nodes.Text(text)]


def plain_text_blocks(app, doctree) -> None:
    """A literal block given no language (a docstring's "::") is highlighted as Python: on
    api.html the package's table of files, formulas such as "dL/dx = gamma / sigma * (...)" and
    the workbook's printed lines came out coloured as code ("and", "in" and "as" as keywords,
    "'s forward beside its vjp (03, 04" as a string). One that is not Python (it does not parse)
    is shown as plain text; Python examples keep their colours."""
    for block in doctree.findall(nodes.literal_block):
        if "language" in block.attributes:
            continue
        try:
            ast.parse(block.astext())
        except SyntaxError:
            block["language"] = "text"


def visit_fold(translator, node) -> None:
    """myst-nb's fold of a hidden input, without its summary's aria-label "Toggle hidden content":
    an accessible name must hold the text a control shows ("Show the solution"), which the
    summary's own text gives (axe-core's label-content-name-mismatch)."""
    from html import escape

    translator.body.append(f'<details class="admonition hide {" ".join(node["classes"])}">\n')
    translator.body.append("<summary>\n")
    for state, prompt in (("collapsed", node["prompt_show"]), ("expanded", node["prompt_hide"])):
        translator.body.append(f'<p class="{state} admonition-title">{escape(prompt)}</p>\n')
    translator.body.append("</summary>\n")


def print_not_source(app, pagename, templatename, context, doctree) -> None:
    """The header's download menu offers "Print to PDF" only. The theme also offers the page's
    source file: for a notebook that is the solved notebook, every exercise answered, which a
    reader who downloads it to work through would open unawares (the workbook, README's "Set
    up", is the copy to work in); for the other pages, MyST source that is of no use to a reader.
    Runs after the theme's add_header_buttons (priority 501)."""
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"] = [button for button in group["buttons"]
                                if button["label"] == "download-pdf-button"]  # fmt: skip
            group["tooltip"] = "Print this page"


def setup(app):
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput

    app.add_node(HideCodeCellNode, override=True, html=(visit_fold, depart_HideCellInput))
    app.connect("include-read", readme_links)
    app.connect("autodoc-process-docstring", plain_pipes)
    app.connect("doctree-read", plain_titles, priority=600)
    app.connect("doctree-read", plain_text_blocks)
    app.connect("html-page-context", print_not_source, priority=502)
