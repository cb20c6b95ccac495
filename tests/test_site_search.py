"""The site's search shows no solution: a result's snippet leaves out what its page folds.

Sphinx's search lists each page that matches with a snippet, 240 characters around the word,
cut from the page's text, closed <details> included: searching for "dx_padded" showed notebook
14's worked answer, code and all, without the reader opening its fold. docs/_static/
search-snippets.js makes the snippet from the page without its closed folds. A page that
matches only inside its folds is still listed (that says the word is there, not the answer),
its snippet then the page's start.

In Chromium, from the built site served over HTTP (the search fetches the pages: from file://
it gets none and shows no snippet at all). Words that only a solution or a worked answer holds
are checked to be so on the built site, so that a notebook's edit cannot leave them vacuous.
"""

from __future__ import annotations

import html
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_docs import chromium, site  # noqa: F401  (the site's build and Chromium, reused)

SOLUTION_ONLY = {  # a word, and the notebook page whose folds alone hold it
    "dy_from_p": "03_computational_graph",  # an exercise's solution code
    "dx_padded": "14_convolution_resnet",  # a worked answer's code
    "harmless": "08_softmax_cross_entropy",  # a worked answer's prose
}
PROSE_WORD, PROSE_PAGE = "softsign", "12_your_own_layers"  # in the page's prose
WINDOW = 30  # characters in a row that the snippet shares with a fold and nothing else

_FOLD = re.compile(r"<details\b.*?</details>", flags=re.S)


def _text(part: str) -> str:
    """Text as the browser's textContent gives it, white space squeezed."""
    part = re.sub(r"<(script|style)\b.*?</\1>", "", part, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", part)).split())


def _folded_and_shown(page: Path) -> tuple[str, str]:
    """The text of a page's folds, and the rest of its main text."""
    main = page.read_text(encoding="utf-8").split('role="main"', 1)[1]
    return " ".join(_text(fold) for fold in _FOLD.findall(main)), _text(_FOLD.sub("", main))


def _leaked(snippet: str, folded: str, shown: str) -> list[str]:
    """Runs of the snippet that are in the page's folds and nowhere else on it."""
    snippet = " ".join(snippet.split())
    runs = {snippet[i : i + WINDOW] for i in range(len(snippet) - WINDOW + 1)}
    return sorted(run for run in runs if run in folded and run not in shown)


@pytest.fixture(scope="module")
def served(site):  # noqa: F811
    """The built site on a free loopback port (python -m http.server); yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "http.server", str(port), "-b", "127.0.0.1", "-d", str(site)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/search.html", timeout=2):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "no http.server"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


# Done: the status says so, and each result shows its snippet (or, for an object of the API,
# its description), which searchtools.js adds when the page it fetched arrives.
_DONE = """() => {
  const status = document.querySelector('#search-results .search-summary');
  const items = [...document.querySelectorAll('#search-results li')];
  return status && status.textContent.startsWith('Search finished') &&
    items.every(item => item.querySelector('p.context, span'));
}"""
_RESULTS = """() => [...document.querySelectorAll('#search-results li')].map(item =>
  [item.querySelector('a').getAttribute('href'), item.querySelector('p.context')?.textContent])"""


def _snippet(results: list, page_name: str) -> str:
    found = [text for href, text in results if href.split("#")[0].endswith(f"/{page_name}.html")]
    assert len(found) == 1 and found[0], (page_name, results)  # listed, with a snippet
    return found[0]


def _check_no_answer(built: Path, word: str, page_name: str, results: list) -> None:
    folded, shown = _folded_and_shown(built / "notebooks" / f"{page_name}.html")
    snippet = _snippet(results, page_name)
    assert word.lower() not in snippet.lower(), snippet
    assert _leaked(snippet, folded, shown) == [], snippet


def test_the_words_are_only_in_folds_and_the_check_sees_a_leak(site):  # noqa: F811
    """The words are in their page's folds and shown on no page; and a snippet cut from a fold
    (what the search showed before) is caught by the check."""
    pages = sorted(site.rglob("*.html"))
    shown_anywhere = " ".join(_folded_and_shown(page)[1] for page in pages if 'role="main"' in
                              page.read_text(encoding="utf-8")).lower()  # fmt: skip
    for word, page_name in SOLUTION_ONLY.items():
        folded, shown = _folded_and_shown(site / "notebooks" / f"{page_name}.html")
        assert word.lower() in folded.lower() and word.lower() not in shown_anywhere, word
        start = folded.lower().index(word.lower())
        cut = folded[max(start - 120, 0) : start + 120]  # as searchtools.js cuts it
        assert len(_leaked(cut, folded, shown)) > 100, word
    assert PROSE_WORD in _folded_and_shown(site / "notebooks" / f"{PROSE_PAGE}.html")[1]


def _search(page, served: str, word: str) -> list:
    page.goto(f"{served}/search.html?q={word}")
    page.wait_for_function(_DONE, timeout=30_000)
    return page.evaluate(_RESULTS)


@pytest.mark.parametrize("word", SOLUTION_ONLY)
def test_search_results_show_no_solution(site, served, chromium, word):  # noqa: F811
    page = chromium.new_page()
    try:
        results = _search(page, served, word)
    finally:
        page.close()
    _check_no_answer(site, word, SOLUTION_ONLY[word], results)


def test_a_word_of_prose_still_has_its_snippet(site, served, chromium):  # noqa: F811
    """The snippets are not blanked: a word of a page's prose is shown in its context."""
    page = chromium.new_page()
    try:
        snippet = _snippet(_search(page, served, PROSE_WORD), PROSE_PAGE)
    finally:
        page.close()
    assert PROSE_WORD in snippet.lower(), snippet
    folded, shown = _folded_and_shown(site / "notebooks" / f"{PROSE_PAGE}.html")
    assert _leaked(snippet, folded, shown) == [], snippet


def test_the_search_field_shows_no_solution_either(site, served, chromium):  # noqa: F811
    """The sidebar's search field (Ctrl+K) opens a dialog that sends the words to search.html;
    the theme's search-as-you-type, off on this site, would list results in that dialog: both
    checked, the second with the page's setting switched on as it is served."""
    word, page_name = "dx_padded", SOLUTION_ONLY["dx_padded"]
    start = site / "notebooks" / "05_matmul_gradients.html"
    assert "search_as_you_type = false;" in start.read_text(encoding="utf-8")  # the setting
    page = chromium.new_page()
    try:
        page.goto(f"{served}/notebooks/05_matmul_gradients.html")
        page.click("button.search-button-field")
        page.fill("#pst-search-dialog input[name=q]", word)
        page.keyboard.press("Enter")
        page.wait_for_url("**/search.html?q=*")
        page.wait_for_function(_DONE, timeout=30_000)
        _check_no_answer(site, word, page_name, page.evaluate(_RESULTS))

        def as_you_type(route) -> None:
            response = route.fetch()
            body = response.text().replace("as_you_type = false;", "as_you_type = true;")
            route.fulfill(response=response, body=body)

        page.route("**/notebooks/05_matmul_gradients.html", as_you_type)
        page.goto(f"{served}/notebooks/05_matmul_gradients.html")
        page.click("button.search-button-field")
        page.type("#pst-search-dialog input[name=q]", word)  # keystrokes: it searches on keyup
        page.wait_for_function(
            _DONE.replace("#search-results", "#pst-search-dialog #search-results")
        )
        _check_no_answer(site, word, page_name, page.evaluate(_RESULTS))
    finally:
        page.close()
