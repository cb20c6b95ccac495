"""A graph drawing too wide for a notebook, drawn in rows of columns, one row below the other.

Shrunk to the notebook's width, a long chain of ops had 6-point text (8 pixels: unreadable). So
once its text would be smaller than ``MIN_SCALE`` allows, the columns are cut into runs that
each fit ``MAX_WIDTH`` at full size, and each run is drawn in a row of its own. An edge that
comes from an earlier row starts at a box of its own at the row's left, "↑ name", which says
where that value was computed; the edge keeps its label.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .placement import MAX_WIDTH, MIN_SCALE, _extent, _half_size, _place, _Placement

_ROW_GAP = 0.3  # inches between two rows


def _runs(
    p: _Placement, cols: Sequence[int], texts: Sequence[str], edges, width: float = MAX_WIDTH
) -> list[range]:
    """The columns cut into runs, left to right, each as wide as ``width`` allows at full
    size: its columns as ``_place`` spaced them, and the column it starts with, of the values it
    takes from earlier runs. A run has at least one column."""
    end = [p.column_x[c] + p.column_half[c] for c in range(len(p.column_x))]
    start = [p.column_x[c] - p.column_half[c] for c in range(len(p.column_x))]
    runs: list[range] = []
    first = 0
    while first < len(end):
        last = first
        while last + 1 < len(end):
            before = _from_before(range(first, last + 2), cols, edges)
            room = max([2 * _half_size(texts[s] + "\n(row 10)")[0] + 0.35 for s in before] or [0])
            left = start[first] if not before else end[first - 1]  # (then the gap before it too)
            if room + end[last + 1] - left + 0.3 > width:
                break
            last += 1
        runs.append(range(first, last + 1))
        first = last + 1
    return runs


def _from_before(run: range, cols: Sequence[int], edges) -> list[int]:
    """The nodes before ``run`` whose values an edge brings into it, in the order of edges."""
    found = [s for s, d in edges if cols[d] in run and cols[s] < run.start]
    return list(dict.fromkeys(found))


def draw_in_rows(
    draw: Callable[..., Figure],
    p: _Placement,
    cols: Sequence[int],
    y: Sequence[float],
    names: Sequence[str],
    texts: Sequence[str],
    colors: Sequence[str],
    edges: Sequence[tuple[int, int]],
    *,
    title: str | None,
    reserve_texts: Sequence[str],
    **settings: object,
) -> Figure:
    """The drawing of ``graphs._draw_boxes`` (``draw``, with its arguments) in rows: one axes a
    row, one figure, every row at the scale of the widest (full size, if it fits). An input
    (a node no edge ends at) goes to the row of its first consumer."""
    budget = MAX_WIDTH  # each run's width at full size, as estimated from the whole graph's
    for _ in range(4):  # placement; a row placed on its own may come out wider (its labels)
        runs = _runs(p, cols, reserve_texts or texts, edges, budget)  # (the step-through: the
        # same rows at every step, cut for the widest texts, those of its last step)
        run_of = {c: k for k, run in enumerate(runs) for c in run}
        home = [run_of[c] for c in cols]  # the row each node is drawn in
        for i in {s for s, _ in edges} - {d for _, d in edges}:  # the inputs
            home[i] = run_of[min(cols[d] for s, d in edges if s == i)]
        kept = sorted(set(home))  # a run of inputs only (all moved on) would be an empty row
        runs, home = [runs[k] for k in kept], [kept.index(k) for k in home]
        rows = [
            _row(k, run, home, cols, y, names, texts, colors, edges, reserve_texts)
            for k, run in enumerate(runs)
        ]
        sizes = [_size(row, settings) for row in rows]
        widest = max(w for w, _ in sizes)
        if widest * MIN_SCALE <= MAX_WIDTH or all(len(run) == 1 for run in runs):
            break  # (else its text would be below 7 points, or the figure wider than MAX_WIDTH)
        budget -= widest - MAX_WIDTH / MIN_SCALE + 0.1
    scale = max(MIN_SCALE, min(1.0, MAX_WIDTH / max(w for w, _ in sizes)))
    top = 0.45 if title else 0.0
    width = max(w for w, _ in sizes) * scale
    height = (sum(h for _, h in sizes) + top + _ROW_GAP * (len(rows) - 1)) * scale
    fig = plt.figure(figsize=(width, height))
    below = height  # inches from the figure's bottom to the top of the next row
    for k, (row, (w, h)) in enumerate(zip(rows, sizes)):  # each from the left, as lines of text
        below -= ((top if k == 0 else _ROW_GAP) + h) * scale
        ax = fig.add_axes((0, below / height, w * scale / width, h * scale / height))
        draw(row.pop("cols"), row.pop("y"), row.pop("names"), row.pop("texts"),
             row.pop("colors"), row.pop("edges"), ax=ax, title=title if k == 0 else None,
             **row, **settings)  # fmt: skip
    return fig


def _row(
    k: int,
    run: range,
    home: Sequence[int],
    cols: Sequence[int],
    y: Sequence[float],
    names: Sequence[str],
    texts: Sequence[str],
    colors: Sequence[str],
    edges: Sequence[tuple[int, int]],
    reserve_texts: Sequence[str],
) -> dict[str, Any]:
    """The arguments of ``draw`` for row ``k`` (the columns of ``run``): its own nodes, and in a
    first column the inputs moved to it and a "↑ name" box for each value from an earlier row."""
    keep = [i for i in range(len(cols)) if home[i] == k and cols[i] in run]
    mine = set(keep)  # the nodes whose inputs come in here (not those of column 0)
    # column 0: inputs moved here, and "↑ name" for a value from an earlier row
    before = _from_before(run, cols, edges)
    ghosts = [s for s in before if home[s] < k]
    wanted: dict[int, float] = {}  # level with its first consumer, none above another
    for s, d in edges:
        if s in before and cols[d] in run:
            wanted.setdefault(s, y[d])
    first = sorted(before, key=lambda s: -wanted[s])
    ys: list[float] = []
    for s in first:
        ys.append(wanted[s] if not ys else min(wanted[s], ys[-1] - 1.0))
    # then the column moves as a whole: the values from earlier rows (the main path) level
    # with their consumers on average, the inputs beside them (as graph_layout does)
    anchors = [n for n, s in enumerate(first) if s in ghosts] or list(range(len(first)))
    lift = sum(wanted[first[n]] - ys[n] for n in anchors) / max(len(anchors), 1)
    level = {s: v + lift for s, v in zip(first, ys)}
    shift = run.start - (1 if before else 0)
    drawn = [*before, *keep]
    index = {i: n for n, i in enumerate(drawn)}
    ghost = {s: f"↑ {names[s]}\n(row {home[s] + 1})" for s in ghosts}
    kept_texts = reserve_texts or texts
    return dict(
        cols=[0 if i in level else cols[i] - shift for i in drawn],
        y=[level.get(i, y[i]) for i in drawn],
        names=[names[i] for i in drawn],
        texts=[ghost.get(i, texts[i]) for i in drawn],
        colors=[colors[i] for i in drawn],
        edges=[(index[s], index[d]) for s, d in edges if d in mine and s in index],
        reserve_texts=[ghost.get(i, kept_texts[i]) for i in drawn] if reserve_texts else (),
    )


def _size(row: dict[str, Any], settings: dict[str, object]) -> tuple[float, float]:
    """A row's width and height in inches at full size, as ``_place`` spaces it."""
    labels = _labels(row, settings.get("edge_labels"))
    reserve = list(_labels(row, settings.get("reserve_labels")).items())
    placed = _place(row["cols"], row["y"], row["texts"], row["edges"], labels,
                    row["reserve_texts"], reserve)  # fmt: skip
    left, right, low, high = _extent(placed, row["y"], row["edges"])
    return right - left, high - low


def _labels(row: dict, by_name: object) -> dict[int, str]:
    """Edge labels keyed by (input name, output name), as the row's edge indices."""
    names, by_key = row["names"], {}
    for k, (s, d) in enumerate(row["edges"]):
        by_key[(names[s], names[d])] = k
    given = by_name if isinstance(by_name, dict) else {}
    return {by_key[key]: text for key, text in given.items() if key in by_key}
