"""The documentation site builds offline with warnings as errors and shows the stored outputs.

Same command as documented in docs/conf.py, into a temporary folder:
    sphinx-build -W -b html docs docs/_build/html
"""

from __future__ import annotations

import ast
import html
import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import backproplab

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

pytest.importorskip("myst_nb", reason="the docs extra is not installed: pip install -e '.[docs]'")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html")
    doctrees = tmp_path_factory.mktemp("doctrees")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
               "-d", str(doctrees), "docs", str(out)]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-5000:]
    return out


def test_front_page_is_the_readme_with_the_notebooks_in_order(site):
    page = (site / "index.html").read_text(encoding="utf-8")
    assert "Learn backpropagation by building it" in page  # README's first sentence
    positions = [page.find(f'href="notebooks/{path.stem}.html"') for path in NOTEBOOKS]
    assert all(position >= 0 for position in positions), positions
    assert positions == sorted(positions)
    assert 'href="teaching.html"' in page and 'href="api.html"' in page
    assert 'href="pytorch.html"' in page  # "From backproplab to PyTorch"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_every_notebook_is_rendered_with_its_stored_outputs(site, path):
    page = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
    number = path.stem[:2]
    assert f"{number} · " in page  # the title cell, "05 · Matmul gradients"
    assert "✔ correct" in page  # a self-check's stored output: rendered, never re-run


def test_api_page_documents_the_public_modules(site):
    page = (site / "api.html").read_text(encoding="utf-8")
    for name in ["backproplab.tensor.Tensor", "backproplab.gradcheck.gradcheck",
                 "backproplab.exercises.Feedback", "backproplab.classroom.release.release"]:  # fmt: skip
        assert f'id="{name}"' in page, name


def test_api_page_has_every_module_of_the_package(site):
    """Found by walking the package, so a new module without its automodule fails this test."""
    page = (site / "api.html").read_text(encoding="utf-8")
    found = pkgutil.walk_packages(backproplab.__path__, prefix="backproplab.")
    public = ["backproplab"] + [
        module.name
        for module in found
        if not any(part.startswith("_") for part in module.name.split("."))
    ]  # backproplab.classroom.__main__ is the command line, described by backproplab.classroom
    assert len(public) > 20  # the walk really found the modules (engine, exercises, classroom)
    missing = [name for name in public if f'id="module-{name}"' not in page]
    assert not missing, f"docs/api.md has no automodule for {missing}"
    assert 'id="backproplab.widgets.' in page  # members too, not only the module's docstring


def _scripts(page: str) -> list[str]:
    return re.findall(r'<script[^>]*\ssrc="([^"]+)"', page)


def test_math_is_typeset_by_mathjax_shipped_with_the_site(site):
    """A reader offline sees formulas, not raw \\(...\\): MathJax is a file of the site, no CDN."""
    pages = [site / "notebooks" / f"{path.stem}.html" for path in NOTEBOOKS] + [site / "api.html"]
    with_math = [page for page in pages if 'class="math' in page.read_text(encoding="utf-8")]
    assert len(with_math) >= len(NOTEBOOKS) // 2  # the check below really runs
    for page in with_math:
        mathjax = [
            src for src in _scripts(page.read_text(encoding="utf-8")) if "mathjax" in src.lower()
        ]
        assert len(mathjax) == 1, (page.name, mathjax)
        assert "://" not in mathjax[0] and not mathjax[0].startswith("//"), (page.name, mathjax)
        script = (page.parent / mathjax[0].split("?")[0]).resolve()
        assert script.is_relative_to(site.resolve()) and script.is_file(), script
    assert "MathJax" in script.read_text(encoding="utf-8")[:100_000]
    fonts = site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert len(list(fonts.glob("MathJax_*.woff"))) > 10  # MathJax loads its fonts from next to it


def test_no_escaped_underscore_inside_text_in_math():
    r"""The site's MathJax (without its textmacros) shows ``\text{running\_var}`` as
    "running\_var", backslash and all; ``\mathrm{running\_var}`` renders the name."""
    sources = [
        (path.name, "".join(cell["source"]))
        for path in NOTEBOOKS
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
        if cell["cell_type"] == "markdown"
    ]
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        sources.append((path.name, path.read_text(encoding="utf-8")))
    assert len(sources) > 100 and any(r"\mathrm{running\_var}" in text for _, text in sources)
    escaped = [
        (name, found) for name, text in sources for found in re.findall(r"\\text\{[^}]*\\_", text)
    ]
    assert escaped == []


FURTHER_READING = re.compile(r"^## Further reading\n(.*?)(?=^\*\*Next|^#+ |\Z)", re.S | re.M)
AUTHORS = re.compile(r"[A-Z]\.(?:[- ]?[A-Z]\.)* [A-Z][\w'-]+")  # "D. E. Rumelhart", "F.-F. Li"
TITLE = re.compile(r'"[^"]+"|\*[^*]+\*')  # "a paper's title" or *a book's*
YEAR = re.compile(r"\b(?:19[5-9]\d|20[0-4]\d)\b")


def further_reading(text: str) -> list[str]:
    """The entries ("- " items) of a page's Further reading section; [] if it has none."""
    found = FURTHER_READING.search(text)
    body = found.group(1).strip() if found else ""
    return [item[2:] for item in re.split(r"\n(?=- )", body) if item.startswith("- ")]


def test_further_reading_finds_and_judges_entries():
    text = '## Further reading\n\n- A. B. Name, "A title", 1999.\n- an entry\n  on two lines\n\n**Next:** x'
    entries = further_reading(text)
    assert entries == ['A. B. Name, "A title", 1999.', "an entry\n  on two lines"]
    assert AUTHORS.match(entries[0]) and TITLE.search(entries[0]) and YEAR.search(entries[0])
    assert not AUTHORS.match(entries[1]) and not YEAR.search(entries[1])
    assert further_reading("## Summary\n\n- A. B. Name, *A book*, 1999.") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_cites_its_sources_under_further_reading(path):
    """CURRICULUM.md: published works are cited under "Further reading"; each entry names its
    authors first, then its title (quoted or in italics), and its year."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    entries = further_reading(text)
    assert entries, f"{path.name} has no Further reading section with entries"
    incomplete = [
        entry[:80]
        for entry in entries
        if not (AUTHORS.match(entry) and TITLE.search(entry) and YEAR.search(entry))
    ]
    assert incomplete == [], "entries without authors first, a title or a year"


def test_no_page_loads_a_script_from_the_network(site):
    remote = [
        (page.name, src)
        for page in site.rglob("*.html")
        for src in _scripts(page.read_text(encoding="utf-8"))
        if "://" in src or src.startswith("//")
    ]
    assert remote == []


def test_widget_explorers_are_shown_as_their_stored_snapshot(site):
    """Their stored widget state would need ipywidgets' JavaScript from a CDN (docs/conf.py)."""
    shown = 0
    for path in NOTEBOOKS:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        state = notebook["metadata"].get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        texts = [
            out["text"]
            for model in state.values()
            for out in model["state"].get("outputs", [])
            if out["output_type"] == "stream"
        ]
        if not texts:
            continue
        page = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        assert "A live explorer: run the notebook in Jupyter to use it." in page, path.name
        for text in texts:
            assert html.escape(text.splitlines()[0], quote=False) in page, (path.name, text)
        assert WIDGET_STATE not in page
        shown += 1
    assert shown >= 3  # notebooks 01, 03 and 10 store an explorer


def _navigation(page: str) -> str:
    """The sidebar of the pages and the previous/next links at the bottom of a page."""
    sidebar = re.search(r'<nav class="bd-links bd-docs-nav".*?</nav>', page, re.S).group(0)
    prev_next = "".join(re.findall(r'class="prev-next-title">[^<]*', page))
    return sidebar + prev_next


def test_titles_with_maths_are_plain_text_in_navigation_and_typeset_on_their_page(site):
    with_maths = [path for path in NOTEBOOKS if "$" in _first_line(path)]
    assert with_maths  # notebook 03's title, "(x + y)\\,z" in LaTeX
    for path in NOTEBOOKS:
        page = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        navigation = _navigation(page)
        assert "\\" not in navigation and 'class="math' not in navigation, path.stem
        for other in set(with_maths) - {path}:  # a page links to itself as "#"
            assert f'href="{other.stem}.html"' in navigation  # the entry is there, in plain text
        title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
        assert "\\" not in title and "$" not in title, title  # the browser tab
    for path in with_maths:
        page = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        heading = re.search(r'<h1>((?!</h1>).)*class="headerlink".*?</h1>', page, re.S).group(0)
        assert 'class="math' in heading  # the page's own heading keeps its typeset maths


def _first_line(path: Path) -> str:
    """The title line of a notebook: the first line of its first cell."""
    cell = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
    return "".join(cell["source"]).splitlines()[0]


def test_teaching_page_documents_both_ways(site):
    page = (site / "teaching.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", page)  # the page as read, without the highlighting's tags
    assert "python -m backproplab.classroom release notebooks/ student/" in text
    assert "python -m backproplab.classroom grade submitted/" in text
    assert "nbgrader generate_assignment ps1 --no-db" in text


def _solution_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        "".join(cell["source"])
        for cell in cells
        if cell["metadata"].get("nbgrader", {}).get("solution")
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_solutions_are_folded_and_show_no_nbgrader_markers(site, path):
    """A reader sees "Show the solution" where an exercise's solution is, never nbgrader's lines."""
    page = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    solutions = _solution_cells(path)
    assert solutions, path.name  # every notebook has exercises
    folded = re.findall(r"<details[^>]*>\s*<summary[^>]*>(.*?)</summary>", page, re.S)
    folded = [html.unescape(re.sub(r"<[^>]+>", "", summary)).split() for summary in folded]
    assert folded.count("Show the solution Hide the solution".split()) == len(solutions), folded
    for source in solutions:  # the solution itself is still on the page, inside the fold
        body = [line for line in source.splitlines() if line.strip() and "SOLUTION" not in line]
        assert body[-1].strip() in text, (path.name, body[-1])


def test_every_figure_says_what_it_shows(site):
    """A reader who cannot see a figure (a screen reader) hears its alt text, which says what is
    plotted against what and what to see in it: each notebook cell with a figure carries it as
    myst-nb's cell metadata, {"mystnb": {"image": {"alt": ...}}}. Without it Sphinx wrote the
    image's file name, "../_images/2a93...png", and a screen reader read that out; a new figure
    without its alt text fails here."""
    found, wrong = 0, []
    for path in NOTEBOOKS:
        page = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        article = re.search(r"<article.*?</article>", page, re.S).group(0)
        for tag in re.findall(r"<img\s[^>]*>", article):
            found += 1
            alt = html.unescape((re.search(r'\salt="([^"]*)"', tag) or [None, ""])[1])
            if len(alt.split()) < 8 or re.search(r"_images/|\.png\b", alt):
                wrong.append((path.stem, alt[:80]))
    assert found >= 40  # every figure of the notebooks (and the explorers' snapshots)
    assert wrong == []


def test_every_table_column_has_a_header(site):
    """A screen reader announces a cell with its column's header; notebook 09's table of the two
    notations had an empty one above its row names."""
    pages = [page for page in site.rglob("*.html") if "_static" not in page.parts]
    headers = [
        (page.name, re.sub(r"<[^>]+>", "", header).strip())
        for page in pages
        for header in re.findall(r"<th[^>]*>(.*?)</th>", page.read_text(encoding="utf-8"), re.S)
    ]
    assert len(headers) > 10  # the notebooks' tables are there
    assert [(name, text) for name, text in headers if not text] == []


def test_controls_are_named_by_the_text_they_show_and_the_name_sits_in_a_landmark(site):
    """axe-core (WCAG 2.5.3, label in name): the solution folds were named "Toggle hidden
    content" while they show "Show the solution", and the search field "Search" while it shows
    "Search Ctrl+K"; a voice-control user says what they see. The site's name sat outside every
    landmark, where a screen reader's list of regions does not reach."""
    pages = [page for page in site.rglob("*.html") if "_static" not in page.parts]
    folds = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for label, shown in re.findall(r'<(?:button|summary)[^>]*aria-label="([^"]*)"[^>]*>(.*?)'
                                       r"</(?:button|summary)>", text, re.S):  # fmt: skip
            words = " ".join(re.sub(r"<[^>]+>", " ", shown).split())
            assert words == "" or label.lower() in words.lower(), (page.name, label, words)
        folds += text.count('<p class="collapsed admonition-title">Show the solution</p>')
        assert re.search(r'<nav aria-label="Home">\s*<a class="navbar-brand logo"', text), page
    assert folds > 40  # every exercise's solution is folded, under its own words


def _links(page: str) -> list[str]:
    return [html.unescape(url) for url in re.findall(r'\s(?:href|src)="([^"]*)"', page)]


def test_every_internal_link_and_image_of_every_page_resolves(site):
    """Files and #anchors, of the pages a reader opens (not the theme's templates in _static)."""
    pages = [page for page in site.rglob("*.html") if "_static" not in page.parts]
    assert len(pages) > len(NOTEBOOKS)
    anchors: dict[Path, set[str]] = {}
    broken, checked = [], 0
    for page in pages:
        for url in _links(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:|^//", url):
                continue
            checked += 1
            path, _, fragment = url.partition("#")
            path = path.split("?")[0]
            target = (page.parent / path).resolve() if path else page.resolve()
            if not target.is_file():
                broken.append((page.name, url))
            elif fragment and target.suffix == ".html":
                if target not in anchors:
                    anchors[target] = set(re.findall(r'\sid="([^"]+)"', target.read_text("utf-8")))
                if fragment not in anchors[target]:
                    broken.append((page.name, url))
    assert checked > 1000  # the sidebars alone hold hundreds
    assert broken == []


def test_favicon_is_a_file_of_the_site(site):
    for page in [site / "index.html", site / "notebooks" / f"{NOTEBOOKS[0].stem}.html"]:
        icons = re.findall(r'<link rel="icon" href="([^"]+)"', page.read_text(encoding="utf-8"))
        assert len(icons) == 1, (page.name, icons)
        assert (page.parent / icons[0]).is_file(), icons


def test_one_search_field_in_the_sidebar_and_no_bar_above_the_page(site):
    """The theme's default adds a second search field in an otherwise empty bar above the page."""
    page = (site / "index.html").read_text(encoding="utf-8")
    header = re.search(r'<header id="pst-header".*?</header>', page, re.S)
    assert header is None or "search-button-field" not in header.group(0)
    sidebar = re.search(r'class="bd-sidebar-primary.*?<main', page, re.S).group(
        0
    )  # before the page
    assert "search-button-field" in sidebar


def test_long_names_wrap_on_a_phone_instead_of_widening_the_page(site):
    """At 400 px, api.html's GradientAccumulationWarning signature widened the page to 887 px."""
    pages = [(site / name).read_text(encoding="utf-8") for name in ["index.html", "api.html"]]
    assert all('href="_static/site.css' in page for page in pages)
    css = re.sub(
        r"/\*.*?\*/", "", (site / "_static" / "site.css").read_text(encoding="utf-8"), flags=re.S
    )
    phone = "".join(re.findall(r"@media \(max-width: 575\.98px\) \{(.*?)\n\}", css, re.S))
    rules = dict(re.findall(r"([^{}]+)\{([^}]*)\}", phone))
    wrapped = {selector.strip() for selectors, body in rules.items() if "overflow-wrap: anywhere" in body
               and "white-space: normal" in body for selector in selectors.split(",")}  # fmt: skip
    assert {"code.literal span.pre", "dt.sig span.pre"} <= wrapped, wrapped


def test_previous_and_next_follow_the_notebook_order(site):
    pages = ["index"] + [f"notebooks/{path.stem}" for path in NOTEBOOKS]
    pages += ["teaching", "pytorch", "api"]
    for before, page, after in zip(pages, pages[1:], pages[2:]):
        text = (site / f"{page}.html").read_text(encoding="utf-8")
        links = re.findall(r'<a class="(left-prev|right-next)"\s+href="([^"]+)"', text)
        targets = {side: (site / page).parent.joinpath(href).resolve() for side, href in links}
        assert targets == {
            "left-prev": (site / f"{before}.html").resolve(),
            "right-next": (site / f"{after}.html").resolve(),
        }, (page, links)


def test_pages_name_their_colour_mode(site):
    """Without a default mode the theme's script logs "invalid theme mode" for a new visitor."""
    for page in [site / "index.html", site / "api.html"]:
        assert 'data-theme="auto"' in page.read_text(encoding="utf-8")[:2000], page.name


@pytest.fixture(scope="module")
def chromium():
    """Debian's headless Chromium, driven by Playwright (never `playwright install`)."""
    executable = Path("/usr/bin/chromium")
    if not executable.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium); CI installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    arguments = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=arguments)
        yield browser
        browser.close()


def _open(page, path: Path) -> None:
    """Open a page of the site with every fold open (solutions, worked answers), as a reader who
    opens them sees it, and wait until MathJax has typeset it."""
    page.goto(path.as_uri())
    page.evaluate("() => document.querySelectorAll('article details').forEach(d => d.open = true)")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")


LAPTOPS = [(1200, 800), (1280, 720), (1366, 768), (1440, 900)]


@pytest.mark.parametrize("width, height", LAPTOPS, ids=[str(size[0]) for size in LAPTOPS])
def test_code_cells_and_formulas_fit_the_page_on_a_laptop_screen(site, chromium, width, height):
    """In Chromium at 1366 x 768 (the commonest laptop screen), 1440 x 900, 1280 x 720 (a 1920 px
    screen at 150 %) and 1200 px (where the theme starts showing the "Contents" column), no code
    cell, text output or displayed formula of any notebook page scrolls sideways, folds opened:
    lines are at most 100 characters (test_notebook_output_width.py) and site.css gives the
    article room for them. Before, 2 to 28 blocks per page scrolled, even at 1920 px; then, with
    a wider page, still 132 blocks at 1366 px, and at 1440 px four formulas lost their right end
    (notebooks 08, 10, 13) behind a scroll bar that a reader does not see. At 1280 px 60 blocks
    scrolled (formulas of 08 and 10 by up to 62 px), at 1200 px 220, while the "Contents" column
    took 208 px: below 1366 px it is a drawer now (site.css)."""
    scrolling = {}
    page = chromium.new_page(viewport={"width": width, "height": height})
    for notebook in NOTEBOOKS:
        _open(page, site / "notebooks" / f"{notebook.stem}.html")
        widest = page.evaluate(
            """() => [...document.querySelectorAll('div.cell pre')]
                 .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
                 .map(pre => pre.textContent.split('\\n')
                    .reduce((a, line) => (line.length > a.length ? line : a), ''))
                 .concat([...document.querySelectorAll('mjx-container[display="true"]')]
                    .filter(math => math.scrollWidth > math.clientWidth + 1)
                    .map(math => 'formula ' + math.textContent.slice(0, 40)))"""
        )
        if widest:
            scrolling[notebook.stem] = widest
    typeset = page.evaluate("() => document.querySelectorAll('mjx-container').length")
    page.close()
    assert typeset > 10  # MathJax ran: the formulas were measured, not their TeX source
    assert not scrolling, scrolling


@pytest.mark.parametrize("width, height", [(390, 844), (768, 1024), (960, 800)])
def test_no_page_is_wider_than_a_phone_or_a_tablet(site, chromium, width, height):
    """At 390 x 844, 768 x 1024 and 960 x 800 no page scrolls sideways as a whole (a wide block
    scrolls inside itself). api.html was 484 px wide on a phone: autodoc spelled numpy's
    ArrayLike out as a union of private names (exercises.close), with no place to break;
    docs/conf.py names it instead. The index, genindex.html, was 778 px: its two columns now
    stack on a phone (site.css); from 576 to 1023 px it stayed 778 px (1034 px at 960 px), a
    long dotted name unbroken in a link, and now breaks where it must."""
    pages = [site / name for name in ["index.html", "teaching.html", "pytorch.html", "api.html"]]
    pages += [site / name for name in ["genindex.html", "py-modindex.html", "search.html"]]
    pages += [site / "notebooks" / f"{path.stem}.html" for path in NOTEBOOKS]
    page = chromium.new_page(viewport={"width": width, "height": height})
    wide = {}
    for path in pages:
        _open(page, path)
        scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
        if scroll_width > width:
            wide[path.name] = scroll_width
    page.close()
    assert wide == {}
    assert "_SupportsArray" not in (site / "api.html").read_text(encoding="utf-8")


def test_docstrings_show_their_operators_not_emphasis(site):
    """reST reads "*, /, **" as emphasis: tensor.py's list of operators lost "*" and "**" and
    set ", /, *" in italics. No emphasis on api.html may start or end with a space or a sign."""
    page = (site / "api.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "The operators (+, -, *, /, **, @, unary -, indexing)" in text
    prose = re.sub(r'<dl class="field-list.*?</dl>|<dt class="sig.*?</dt>', "", page, flags=re.S)
    emphasis = re.findall(r"<(?:em|strong)>(.*?)</(?:em|strong)>", prose, re.S)
    assert len(emphasis) >= 3  # "local", "upstream", ...: real emphasis is there
    stray = [text for text in emphasis if re.match(r"\W|.*\W$", html.unescape(text), re.S)]
    assert stray == []


def _defined_in(module, name: str, value: object) -> list[str]:
    """The modules a name of ``module.__all__`` may be documented under: the module, the one
    that defines it, and any public submodule holding the very same object."""
    found = [module.__name__, getattr(value, "__module__", None) or module.__name__]
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        sub = sys.modules.get(f"{module.__name__}.{info.name}")
        if sub is not None and not info.name.startswith("_") and getattr(sub, name, None) is value:
            found.append(sub.__name__)
    return found


def test_api_page_documents_every_name_of_every_all_with_its_own_text(site):
    """Each name a module exports (its ``__all__``) has an entry on api.html saying what it is.
    The constants had none (autodoc skips data without a docstring): nn.INITS, the graph
    colours, SYMPY_OPS, ... and plotting.format_array, defined in a private module. An entry
    of data shows our text, never the docstring of str, tuple or dict, and a value it shows
    is the constant's."""
    page = (site / "api.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'\sid="([^"]+)"', page))
    found = pkgutil.walk_packages(backproplab.__path__, prefix="backproplab.")
    names = [module.name for module in found if "._" not in module.name]
    missing, checked = [], 0
    for module in [backproplab] + [importlib.import_module(name) for name in names]:
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            checked += 1
            if isinstance(value, ModuleType):  # plotting.style: documented as a module
                documented = f"module-{value.__name__}" in ids
            else:
                homes = _defined_in(module, name, value)
                documented = any(f"{home}.{name}" in ids for home in homes)
            if not documented:
                missing.append(f"{module.__name__}.{name}")
    assert checked > 200  # every module's __all__ was read
    assert missing == []
    entries: dict[str, str] = {}  # name: its signature line, as shown
    for name, signature, body in re.findall(
        r'<dt class="sig[^"]*" id="([^"]+)">(.*?)</dt>\s*<dd>(.*?)</dd>', page, re.S
    ):
        text = html.unescape(re.sub(r"<[^>]+>", "", body)).strip()
        assert text, f"{name} has no text on api.html"
        entries[name] = html.unescape(re.sub(r"<[^>]+>", "", signature))
    for builtin in [str, tuple, dict]:
        assert builtin.__doc__.splitlines()[0] not in html.unescape(page), builtin
    shown = {name: sig.split(" = ", 1)[1].rstrip("#") for name, sig in entries.items()
             if name.split(".")[-1].isupper() and " = " in sig}  # fmt: skip
    assert len(shown) >= 8  # the colours, INITS, MANIFEST
    for name, value in shown.items():
        module, _, attribute = name.rpartition(".")
        assert value == repr(getattr(importlib.import_module(module), attribute)), name


def test_pages_show_results_not_errors_nor_an_empty_widget(site):
    """What a notebook means to show is a result: no stored traceback or stderr on a page (a
    refusal the lesson demonstrates is printed by the cell, as text), and no widget area
    waiting for JavaScript ("Loading widget...")."""
    for path in NOTEBOOKS:
        page = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        assert not re.search(r'class="output (?:traceback|stderr|error)', page), path.stem
        assert "Loading widget" not in page and "jupyter-widgets" not in page, path.stem


def test_a_notebook_page_is_titled_with_the_notebook_title(site):
    for path in NOTEBOOKS:
        title = _first_line(path).removeprefix("# ").strip()
        if "$" in title:  # typeset on its page, plain elsewhere (the test above)
            continue
        page = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        tab = html.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1))
        assert tab == f"{title} — backproplab", (path.stem, tab)
        heading = re.search(r'<h1>((?:(?!</?h1>).)*?)<a class="headerlink', page, re.S).group(1)
        assert html.unescape(heading).strip() == title, (path.stem, heading)


def test_figures_load_and_keep_their_size_on_a_phone(site, chromium):
    """At 390 px a figure used to shrink to the column: notebook 07's four panels were 82 px
    tall, their labels unreadable. There a figure keeps its size and its output scrolls
    sideways (site.css); every image has loaded (naturalWidth > 0)."""
    page = chromium.new_page(viewport={"width": 390, "height": 844})
    figures, wrong = 0, []
    for notebook in NOTEBOOKS:
        _open(page, site / "notebooks" / f"{notebook.stem}.html")
        sizes = page.evaluate(
            "() => [...document.querySelectorAll('article img')]"
            ".map(img => [img.naturalWidth, img.getBoundingClientRect().width])"
        )
        figures += len(sizes)
        wrong += [(notebook.stem, size) for size in sizes if not 0 < size[0] <= size[1] + 1]
    page.close()
    assert figures >= 40
    assert wrong == []


def test_code_on_the_other_pages_fits_a_laptop_screen(site, chromium):
    """pytorch.html quotes PyTorch's warnings, lines of 98-100 characters, which scrolled at
    1366 px (so did two such lines of teaching.html); code outside the notebooks is now set at
    the cells' size (site.css). Nine blocks of teaching.html, the grader's output quoted as it
    prints it (lines of 116 to 246 characters), scrolled too: its messages now wrap (marked
    {.wrap}, site.css); only its tables and its CSV scroll, whose columns wrapping would break."""
    page = chromium.new_page(viewport={"width": 1366, "height": 768})
    scrolling = {}
    for name in ["index.html", "teaching.html", "pytorch.html", "api.html"]:
        _open(page, site / name)
        scrolling[name] = page.evaluate(
            """() => [...document.querySelectorAll('article div.highlight pre')]
                 .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
                 .map(pre => pre.textContent.split('\\n')[0])"""
        )
    page.close()
    tables = scrolling.pop("teaching.html")  # the first line of each block that scrolls
    assert len(tables) == 3, tables  # the class's table, its CSV, the assignment's table
    assert all(line.startswith(("grade", "student")) for line in tables), tables  # graded, grade:
    assert scrolling == {name: [] for name in scrolling}


def test_search_finds_a_function_and_the_notebook_that_teaches_it(site, chromium):
    """The theme's search (Sphinx's index, searchindex.js) works from a file of the site."""
    page = chromium.new_page()
    page.goto((site / "search.html").as_uri() + "?q=im2col")
    page.wait_for_selector("#search-results .search-summary", timeout=30_000)
    found = page.evaluate(
        "() => [...document.querySelectorAll('#search-results li a')].map(a => a.href)"
    )
    page.close()
    assert any(url.endswith("api.html#backproplab.convolution.im2col") for url in found), found
    assert any(url.endswith("notebooks/14_convolution_resnet.html") for url in found), found


def test_figures_are_shown_near_their_own_size_on_a_laptop_screen(site, chromium):
    """At 1366 px the article is about 850 px wide and a wider figure is scaled down to it.
    Notebook 07's rows of four panels (1390 px) were shown at 61 %, their 8-point legends
    7 px tall, and notebook 09's ten misclassified digits (1290 px) at 66 %; they now have two
    and five panels a row. Text in the figures is 8 points or more (11 px at their 100 dpi),
    so a figure shown at 75 % or more keeps it at least 8 px tall on screen; smaller are only
    the boxes of graph drawings, which size their own text (plotting.placement) down to 7
    points and draw a wider graph in rows (notebook 13's graph of batch norm was shown at 82 %
    with 6-point boxes until 2026-12-07; notebook 02's contour labels were 7 points)."""
    page = chromium.new_page(viewport={"width": 1366, "height": 768})
    shrunk = []
    for notebook in NOTEBOOKS:
        _open(page, site / "notebooks" / f"{notebook.stem}.html")
        sizes = page.evaluate(
            "() => [...document.querySelectorAll('article img')]"
            ".map(img => [img.naturalWidth, img.getBoundingClientRect().width])"
        )
        shrunk += [(notebook.stem, size) for size in sizes if size[1] < 0.75 * size[0]]
    page.close()
    assert shrunk == []


def test_signatures_in_a_table_break_between_arguments_on_a_phone(site, chromium):
    """At 390 px api.html's table of layers and functions broke its signatures inside names
    ("nn.Conv2 / d(in_cha / nnels,"); now each word stays whole and the table scrolls in its
    frame, not the page (site.css)."""
    page = chromium.new_page(viewport={"width": 390, "height": 844})
    _open(page, site / "api.html")
    broken, words, frame = page.evaluate(
        """() => {
            const words = [...document.querySelectorAll('article table code span.pre')];
            const table = document.querySelector('article table');
            return [words.filter(w => w.getClientRects().length > 1).map(w => w.textContent),
                    words.length, [table.parentElement.scrollWidth, table.parentElement.clientWidth,
                    document.documentElement.scrollWidth]];
        }"""
    )
    page.close()
    assert words > 30
    assert broken == []
    assert frame[0] > frame[1] and frame[2] <= 390, frame  # the table scrolls, the page does not


def test_the_download_menu_offers_no_solved_notebook(site):
    """The theme's download menu offered each page's source: on a notebook's page, the solved
    notebook, every exercise answered. It offers "Print to PDF" only (docs/conf.py)."""
    pages = [site / "index.html", site / "teaching.html"]
    pages += [site / "notebooks" / f"{path.stem}.html" for path in NOTEBOOKS]
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert "btn-download-pdf-button" in text, path.name
        assert "_sources/" not in text and "btn-download-source" not in text, path.name
        assert "btn-download-notebook" not in text, path.name


def test_below_1366_px_the_contents_column_is_a_drawer_the_header_opens(site, chromium):
    """At 1280 px the page's "Contents" (its sections) is not lost with its column: the header's
    button shows it, and a link in it leads to its section. At 1366 px the column is there."""
    page = chromium.new_page(viewport={"width": 1280, "height": 720})
    _open(page, site / "notebooks" / "08_softmax_cross_entropy.html")
    column = "() => getComputedStyle(document.querySelector('#pst-secondary-sidebar')).visibility"
    assert page.evaluate(column) == "hidden"
    page.locator("button.secondary-toggle").click()
    drawer = page.locator("#pst-secondary-sidebar-modal")
    drawer.get_by_role("link", name="Why the fused loss is stable").click()
    page.wait_for_function("() => location.hash === '#why-the-fused-loss-is-stable'")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.reload()
    assert page.evaluate(column) == "visible"
    assert not page.locator("button.secondary-toggle").is_visible()
    page.close()


def _worked_answers(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [cell for cell in cells if "worked-answer" in cell["metadata"].get("tags", [])]


def _outside_folds(page: str) -> str:
    return re.sub(r"<details\b.*?</details>", "", page, flags=re.S)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_worked_answers_are_folded_like_the_solutions(site, path):
    """The cells that work an exercise's answer out after its check (tagged worked-answer) were
    shown open right below the folded solution: notebook 03's page printed "gradient: dL/dx = -4,
    dL/dy = -4, dL/dz = 3" under "Show the solution". Each is now folded, "Show the worked
    answer" (docs/conf.py), as the workbook closes them; a heading in one is a bold line inside its
    fold, as in the workbook (it was outside, a section listed in the page's Contents column:
    notebook 08's "The engine against $a - y$" said the exercise's answer)."""
    answers = _worked_answers(path)
    page = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
    outside = _outside_folds(page)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    elsewhere = json.dumps([cell for cell in cells if cell not in answers])  # printed there too
    printed = [
        line.strip()
        for cell in answers
        if cell["cell_type"] == "code"
        for output in cell["outputs"]
        if output["output_type"] == "stream"
        for line in "".join(output["text"]).splitlines()[:3]
        if len(line.strip()) > 20 and json.dumps(line.strip())[1:-1] not in elsewhere
    ]
    for line in printed:
        assert html.escape(line, quote=False) in page, (path.stem, line)  # on the page...
        assert html.escape(line, quote=False) not in outside, (path.stem, line)  # ...folded
    summaries = re.findall(r"<summary>\s*<p class=\"collapsed admonition-title\">([^<]*)</p>", page)
    first = summaries.count("Show the worked answer")
    folds = first + summaries.count("Worked answer, continued")
    tagged = ["worked-answer" in cell["metadata"].get("tags", []) for cell in cells]
    runs = sum(now and not before for before, now in zip([False, *tagged], tagged))
    assert first == runs and folds >= len(answers), (path.stem, first, runs, folds)
    markdown = [cell for cell in answers if cell["cell_type"] == "markdown"]
    assert page.count('<div class="cell docutils container tag_worked-answer">') >= len(markdown)
    for block in re.findall(r"<details\b.*?</details>", page, flags=re.S):
        assert "<section" not in block and "</section>" not in block, (path.stem, block[:200])
    for cell in markdown:  # its headings' words: on the page, folded, not in the Contents
        for title in re.findall(r"^#{1,6} ([^$'\n]{12,}?)(?: \$|$)", "".join(cell["source"]), re.M):
            assert title in page and title not in outside, (path.stem, title)


def test_worked_answers_of_the_curriculum_are_there_to_fold():
    """The test above checks something: worked answers with printed lines, and one whose cell
    starts with a heading (notebook 08), exist."""
    answers = [cell for path in NOTEBOOKS for cell in _worked_answers(path)]
    assert sum(cell["cell_type"] == "code" and bool(cell["outputs"]) for cell in answers) > 20
    assert any("".join(cell["source"]).startswith("## ") for cell in answers)


def test_api_page_colours_only_python_as_python(site):
    """A docstring's "::" block is highlighted as Python unless told otherwise: the package's
    table of files (the first block of api.html), formulas and printed lines came out coloured as
    code, "and" and "in" as keywords. Now a block that is not Python is plain text
    (docs/conf.py), and the Python examples keep their colours."""
    page = (site / "api.html").read_text(encoding="utf-8")
    blocks = [
        (language, html.unescape(re.sub(r"<[^>]+>", "", body)))
        for language, body in re.findall(
            r'<div class="highlight-(\w+) notranslate"><div class="highlight"><pre>(.*?)</pre>',
            page,
            re.S,
        )
    ]
    as_python = [text for language, text in blocks if language in {"default", "python"}]
    assert any("import backproplab as bl" in text for text in as_python)  # an example, coloured
    for text in as_python:
        ast.parse(text)  # SyntaxError: prose or a formula coloured as code
    plain = [text for language, text in blocks if language == "text"]
    assert any(text.lstrip().startswith("ops.py") for text in plain)  # the table of files


def test_every_page_has_its_own_title_and_the_site_name_once(site):
    """The front page's tab said "backproplab — backproplab" (its title is the site's name);
    it says "backproplab" now (docs/_templates/layout.html). Every other page a reader opens is
    "<its title> — backproplab", and no two pages share a title."""
    pages = ["index.html", "teaching.html", "pytorch.html", "api.html"]
    pages += [f"notebooks/{path.stem}.html" for path in NOTEBOOKS]
    titles = {
        name: html.unescape(re.search(r"<title>(.*?)</title>", (site / name).read_text("utf-8"))[1])
        for name in pages
    }
    assert titles.pop("index.html") == "backproplab"
    assert all(title.endswith(" — backproplab") for title in titles.values()), titles
    assert len(set(titles.values())) == len(titles)


@pytest.mark.parametrize("width", [768, 1280])
def test_a_word_of_inline_code_is_never_cut_in_two_above_a_phone(site, chromium, width):
    """At 1280 px teaching.html showed "--network none" as "-" at the end of a line and
    "-network none" on the next; the front page cut "--jobs" so, and "--source". The rule that
    lets a long name break on a phone (site.css) applied at every width; above 575 px a word
    of inline code or of a signature now stays whole (lines break between words)."""
    page = chromium.new_page(viewport={"width": width, "height": 900})
    cut, words = {}, 0
    for name in ["index.html", "teaching.html", "pytorch.html", "api.html"]:
        _open(page, site / name)
        found = page.evaluate(
            """() => [...document.querySelectorAll(
                     'article code.literal span.pre, article dt.sig span.pre')]
                 .map(word => [word.textContent, word.getClientRects().length])"""
        )
        words += len(found)
        if broken := [text for text, lines in found if lines > 1]:
            cut[name] = broken
    page.close()
    assert words > 1000  # the pages' inline code was measured
    assert cut == {}
