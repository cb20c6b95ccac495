"""What a reader who does not see colours, or who reads the site with a screen reader, needs
from the notebooks and the documentation, checked on their sources (no kernel, no build):
the package's own pictures are checked in test_plotting.py, the built site in test_docs.py."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CURVES = {"plot", "semilogy", "semilogx", "loglog"}
STYLE_KEYWORDS = {"ls", "linestyle", "marker"}


def _cells(path: Path, kind: str) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == kind]


def _look(call: ast.Call) -> str | None:
    """How the call's curve looks besides its colour, as source text ("" for matplotlib's
    solid line), or None when it is computed (``**curve(k)``, ``ls=lines[k]``): it may vary."""
    looks = []
    for k in call.keywords:
        if k.arg is None or (k.arg in STYLE_KEYWORDS and not isinstance(k.value, ast.Constant)):
            return None
        if k.arg in STYLE_KEYWORDS:
            looks.append(f"{k.arg}={k.value.value!r}")
    if len(call.args) > 2 and not isinstance(call.args[2], ast.Constant):
        return None  # ax.plot(x, y, style): a format string computed
    for a in call.args:
        if isinstance(a, ast.Constant) and isinstance(a.value, str):  # a format string, "^-"
            looks.append(re.sub(r"[bgrcmykw]|C\d", "", a.value))  # (its colour letters aside)
    return " ".join(looks)


def curves_by_colour_alone(source: str) -> list[str]:
    """The labelled curves of a cell that only their colour tells apart: two plotting calls on
    the same axes with the same look, or one with a fixed look in a loop that stays on its axes
    (a loop over the axes draws one curve on each)."""
    tree = ast.parse(source)
    loops = [loop for loop in ast.walk(tree) if isinstance(loop, (ast.For, ast.While))]
    seen: dict[tuple[str, str], ast.Call] = {}
    wrong = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CURVES
            and any(k.arg == "label" for k in node.keywords)
        ):
            continue  # fmt: skip
        look = _look(node)
        if look is None:
            continue
        axes = ast.unparse(node.func.value)
        root = axes.split("[")[0].split(".")[0]
        for loop in loops:
            bound = {
                n.id for n in ast.walk(getattr(loop, "target", loop)) if isinstance(n, ast.Name)
            }
            if node in ast.walk(loop) and root not in bound:
                wrong.append(ast.unparse(node))
        if (axes, look) in seen:
            wrong += [ast.unparse(seen[axes, look]), ast.unparse(node)]
        seen[axes, look] = node
    return sorted(set(wrong))


def test_the_check_finds_curves_told_apart_by_colour_alone():
    looped = "for name, y in ys.items():\n    ax.plot(x, y, label=name)\n"
    assert curves_by_colour_alone(looped) == ["ax.plot(x, y, label=name)"]
    two = 'ax.semilogy(a, marker=".", label="plain")\nax.semilogy(b, marker=".", label="res")\n'
    assert curves_by_colour_alone(two.replace('marker="."', 'color="C0"')) != []
    assert curves_by_colour_alone(two) != []  # the same marker, the same line: colour alone
    assert curves_by_colour_alone(two.replace('marker="."', "**curve(k)")) == []
    styled = "for k, y in enumerate(ys):\n    ax.plot(x, y, **curve(k), label=str(k))\n"
    assert curves_by_colour_alone(styled) == []
    one = 'ax.plot(x, y, label="loss")\nax.plot(x, z, "--", label="prediction")\n'
    assert curves_by_colour_alone(one) == []  # one solid line beside a dashed one
    panels = "for ax, y in zip(axes, ys):\n    ax.plot(x, y, label='f')\n"
    assert curves_by_colour_alone(panels) == []  # one curve on each axes


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_curves_are_told_apart_by_more_than_colour(path):
    """A reader with red-green colour blindness, or with a grey-scale print, tells a figure's
    curves apart by line style or marker. Notebooks 10 to 13 drew plain against residual (or
    with batch norm), MSE against Huber, no clipping against clipping, as two solid lines in
    matplotlib's first two colours."""
    found = {k: lines for k, cell in enumerate(_cells(path, "code"))
             if (lines := curves_by_colour_alone(cell))}  # fmt: skip
    assert found == {}


def _heading_levels(markdown: str) -> list[int]:
    markdown = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)  # not in code blocks
    return [len(hashes) for hashes in re.findall(r"^(#{1,6})\s", markdown, flags=re.M)]


def _skips(levels: list[int]) -> list[tuple[int, int]]:
    return [(before, after) for before, after in zip([0, *levels], levels) if after > before + 1]


SOURCES = [*NOTEBOOKS, *sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


@pytest.mark.parametrize("path", SOURCES, ids=[path.name for path in SOURCES])
def test_headings_go_down_one_level_at_a_time(path):
    """A screen reader lists a page by its headings: one title (#), and no level skipped
    (## then ####), so that the list nests as the page does."""
    if path.suffix == ".ipynb":
        text = "\n\n".join(_cells(path, "markdown"))
    else:
        text = path.read_text(encoding="utf-8")
    levels = _heading_levels(text)
    assert levels and levels[0] == 1 and levels.count(1) == 1, levels
    assert _skips(levels) == []
    assert _skips([1, 2, 4]) == [(2, 4)] and _skips([1, 2, 3, 2, 3]) == []  # the check itself


def test_links_say_where_they_go():
    """A screen reader's list of links reads each link's text alone: never "here" or "this"."""
    vague = []
    for path in SOURCES:
        text = ("\n".join(_cells(path, "markdown")) if path.suffix == ".ipynb"
                else path.read_text(encoding="utf-8"))  # fmt: skip
        for words in re.findall(r"(?<!!)\[([^\]]+)\]\([^)]+\)", text):
            if words.strip().lower() in {"here", "this", "link", "click here", "more", "this page"}:
                vague.append((path.name, words))
    assert vague == []
