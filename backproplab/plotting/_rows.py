"""A graph drawing too wide for a notebook, drawn in rows of columns, one row below the other.

Shrunk to the notebook's width, a long chain of ops had 6-point text (8 pixels: unreadable). So
once its text would be smaller than ``MIN_SCALE`` allows, the columns are cut into runs that
each fit ``MAX_WIDTH`` at full size, and each run is drawn in a row of its own. An edge that
comes from an earlier row starts at a box of its own at the row's left, "↑ name", which says
where that value was computed; the edge keeps its label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .placement import MAX_WIDTH, MIN_SCALE, _Boxes, _extent, _half_size, _place, _Placement

_ROW_GAP = 0.3  # inches between two rows


def _runs(p: _Placement, boxes: _Boxes, width: float = MAX_WIDTH) -> list[range]:
    """The columns cut into runs, left to right, each as wide as ``width`` allows at full
    size: its columns as ``_place`` spaced them, and the column it starts with, of the values it
    takes from earlier runs (sized for the widest texts, the reserved ones if any). A run has at
    least one column."""
    texts = boxes.reserve_texts or boxes.texts
    end = [p.column_x[c] + p.column_half[c] for c in range(len(p.column_x))]
    start = [p.column_x[c] - p.column_half[c] for c in range(len(p.column_x))]
    runs: list[range] = []
    first = 0
    while first < len(end):
        last = first
        while last + 1 < len(end):
            before = _from_before(range(first, last + 2), boxes)
            room = max([2 * _half_size(texts[s] + "\n(row 10)")[0] + 0.35 for s in before] or [0])
            left = start[first] if not before else end[first - 1]  # (then the gap before it too)
            if room + end[last + 1] - left + 0.3 > width:
                break
            last += 1
        runs.append(range(first, last + 1))
        first = last + 1
    return runs


def _from_before(run: range, boxes: _Boxes) -> list[int]:
    """The nodes before ``run`` whose values an edge brings into it, in the order of edges."""
    cols = boxes.cols
    found = [s for s, d in boxes.edges if cols[d] in run and cols[s] < run.start]
    return list(dict.fromkeys(found))


def draw_in_rows(
    draw: Callable[..., Figure],
    p: _Placement,
    boxes: _Boxes,
    *,
    edge_labels: Mapping[tuple[str, str], str] | None,
    bold: Sequence[str],
    title: str | None,
    reserve_labels: Mapping[tuple[str, str], str] | None,
) -> Figure:
    """The drawing of ``graphs._draw_boxes`` (``draw``) in rows: one axes a row, one figure,
    every row at the scale of the widest (full size, if it fits); ``draw`` draws each row's own
    boxes with the same settings. An input (a node no edge ends at) goes to the row of its first
    consumer."""
    cols, edges = boxes.cols, boxes.edges
    budget = MAX_WIDTH  # each run's width at full size, as estimated from the whole graph's
    for _ in range(4):  # placement; a row placed on its own may come out wider (its labels)
        runs = _runs(p, boxes, budget)  # (the step-through: the same rows at every step, cut
        # for the widest texts, those of its last step)
        run_of = {c: k for k, run in enumerate(runs) for c in run}
        home = [run_of[c] for c in cols]  # the row each node is drawn in
        for i in {s for s, _ in edges} - {d for _, d in edges}:  # the inputs
            home[i] = run_of[min(cols[d] for s, d in edges if s == i)]
        kept = sorted(set(home))  # a run of inputs only (all moved on) would be an empty row
        runs, home = [runs[k] for k in kept], [kept.index(k) for k in home]
        rows = [_row(k, run, home, boxes) for k, run in enumerate(runs)]
        sizes = [_size(row, edge_labels, reserve_labels) for row in rows]
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
        draw(
            row,
            edge_labels=edge_labels,
            bold=bold,
            title=title if k == 0 else None,
            ax=ax,
            reserve_labels=reserve_labels,
        )
    return fig


def _row(k: int, run: range, home: list[int], boxes: _Boxes) -> _Boxes:
    """The boxes of row ``k`` (the columns of ``run``): its own nodes, and in a first column the
    inputs moved to it and a "↑ name" box for each value from an earlier row."""
    cols, y, edges = boxes.cols, boxes.y, boxes.edges
    keep = [i for i in range(len(cols)) if home[i] == k and cols[i] in run]
    mine = set(keep)  # the nodes whose inputs come in here (not those of column 0)
    # column 0: inputs moved here, and "↑ name" for a value from an earlier row
    before = _from_before(run, boxes)
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
    ghost = {s: f"↑ {boxes.names[s]}\n(row {home[s] + 1})" for s in ghosts}
    kept_texts = boxes.reserve_texts or boxes.texts
    return _Boxes(
        cols=[0 if i in level else cols[i] - shift for i in drawn],
        y=[level.get(i, y[i]) for i in drawn],
        names=[boxes.names[i] for i in drawn],
        texts=[ghost.get(i, boxes.texts[i]) for i in drawn],
        colors=[boxes.colors[i] for i in drawn],
        edges=[(index[s], index[d]) for s, d in edges if d in mine and s in index],
        reserve_texts=[ghost.get(i, kept_texts[i]) for i in drawn] if boxes.reserve_texts else (),
    )


def _size(
    row: _Boxes,
    edge_labels: Mapping[tuple[str, str], str] | None,
    reserve_labels: Mapping[tuple[str, str], str] | None,
) -> tuple[float, float]:
    """A row's width and height in inches at full size, as ``_place`` spaces it."""
    labels = row.edge_indices(edge_labels)
    reserve = list(row.edge_indices(reserve_labels).items())
    left, right, low, high = _extent(_place(row, labels, reserve), row)
    return right - left, high - low
