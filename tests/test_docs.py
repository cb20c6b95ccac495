"""The documentation site builds offline with warnings as errors and shows the stored outputs.

Same command as documented in docs/conf.py, into a temporary folder:
    sphinx-build -W -b html docs docs/_build/html
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

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


def test_teaching_page_documents_both_ways(site):
    page = (site / "teaching.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", page)  # the page as read, without the highlighting's tags
    assert "python -m backproplab.classroom release notebooks/ student/" in text
    assert "python -m backproplab.classroom grade submitted/" in text
    assert "nbgrader generate_assignment ps1 --no-db" in text
