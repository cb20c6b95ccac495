"""Where the boxes and the edge labels of a graph drawing go: plain geometry, in inches.

Columns of boxes from left to right, each as close to the one before as its widest box allows,
with a gap wide enough for the labels of the edges that end in it; every label is then written
in that gap, on its edge, so that it never covers a box. ``graphs.py`` draws what is placed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Box sizes in inches for 8-point monospace text (0.63 em wide characters, 1.2 em lines, 0.4 em
# padding): the graph figures are made so that one data unit is one inch (times ``scale``).
# (DejaVu Sans Mono advances 0.602 em, but at 8 points and 100 dpi each character takes whole
# pixels: 7 of them, 0.63 em. At 0.6 em a long label filled its gap and touched the next box.)
_CHAR, _LINE, _PAD = 0.63 * 8 / 72, 1.2 * 8 / 72, 0.4 * 8 / 72
_GAP = 0.35  # inches between the boxes of neighbouring columns, at least: room for an arrow
_LABEL_ROOM = 0.1  # inches kept free between an edge label and the boxes on either side
MAX_WIDTH = 10.0  # inches (1000 pixels, a notebook's width): a wider graph is drawn smaller...
MIN_SCALE = 0.875  # ...but its text never below 7 points; past that it is drawn in rows


def _half_size(text: str) -> tuple[float, float]:
    lines = text.split("\n")
    return max(map(len, lines)) * _CHAR / 2 + _PAD, len(lines) * _LINE / 2 + _PAD


def _clip(p0: tuple, p1: tuple, size0: tuple, size1: tuple) -> tuple[tuple, tuple]:
    """The segment p0 -> p1 shortened to run from the edge of box 0 to the edge of box 1."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]

    def along(size: tuple) -> float:  # fraction of the segment inside a box of half-size `size`
        fx = size[0] / abs(dx) if dx else np.inf
        fy = size[1] / abs(dy) if dy else np.inf
        return min(fx, fy)

    a, b = along(size0) + 0.01, 1 - along(size1) - 0.01
    return (p0[0] + a * dx, p0[1] + a * dy), (p0[0] + b * dx, p0[1] + b * dy)


def _bends(
    x: Sequence[float], y: Sequence[float], sizes: list, edges: Sequence[tuple[int, int]]
) -> list[float]:
    """How much to bend each edge: 0 (straight, most edges), or an arc for an edge that would
    run through another box and for the second copy of a repeated edge (``x * x``)."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    half_height = np.array([h for _, h in sizes])
    bends, seen = [], set()
    for src, dst in edges:
        if (src, dst) in seen:
            bends.append(0.4)  # the repeat bows the other way from any first arc
            continue
        seen.add((src, dst))
        between = (xs > min(xs[src], xs[dst]) + 1e-9) & (xs < max(xs[src], xs[dst]) - 1e-9)
        between[[src, dst]] = False
        t = (xs[between] - xs[src]) / (xs[dst] - xs[src]) if xs[dst] != xs[src] else 0.0
        line = ys[src] + t * (ys[dst] - ys[src])  # the straight edge's height at those boxes
        hit = np.any(np.abs(line - ys[between]) < half_height[between] + 0.1)
        bends.append(-0.3 if hit else 0.0)  # bulges 15% of its length: clears the boxes
    return bends


def _label_size(label: str) -> tuple[float, float]:
    """Width and height in inches of an edge label (8-point monospace, like the boxes)."""
    lines = label.split("\n")
    return max(map(len, lines)) * _CHAR, len(lines) * _LINE


def _point_on_edge(a: tuple, b: tuple, bend: float, x: float) -> tuple[float, float]:
    """The point of the edge a -> b (straight, or matplotlib's ``arc3`` with rad ``bend``, a
    quadratic Bezier curve) whose first coordinate is nearest to ``x``."""
    (ax_, ay), (bx, by) = a, b
    cx = (ax_ + bx) / 2 + bend * (by - ay)  # the control point of arc3
    cy = (ay + by) / 2 - bend * (bx - ax_)
    t = np.linspace(0.0, 1.0, 401)
    px = (1 - t) ** 2 * ax_ + 2 * t * (1 - t) * cx + t**2 * bx
    py = (1 - t) ** 2 * ay + 2 * t * (1 - t) * cy + t**2 * by
    k = int(np.argmin(np.abs(px - x)))
    return float(px[k]), float(py[k])


@dataclass(frozen=True)
class _Boxes:
    """What a graph drawing shows, made in one place and read by the code that places and draws
    it: box i, called ``names[i]``, says ``texts[i]`` in column ``cols[i]`` at height ``y[i]``
    (inches), filled with ``colors[i]``; ``edges`` are (input box, output box) index pairs.
    ``reserve_texts``, if given, are texts the boxes are spaced for without showing them (a
    step-through's last step, so that its boxes stay put)."""

    cols: Sequence[int]
    y: Sequence[float]
    names: Sequence[str]
    texts: Sequence[str]
    colors: Sequence[str]
    edges: Sequence[tuple[int, int]]
    reserve_texts: Sequence[str] = ()

    def edge_indices(self, by_name: Mapping[tuple[str, str], str] | None) -> dict[int, str]:
        """Texts keyed by edge (input name, output name), keyed by edge index instead; a key
        that names no edge here is left out (an edge drawn in another row)."""
        index = {(self.names[s], self.names[d]): k for k, (s, d) in enumerate(self.edges)}
        return {index[key]: text for key, text in (by_name or {}).items() if key in index}


@dataclass
class _Placement:
    """Where ``_place`` puts things, in inches at 8-point text: box centres, the columns'
    half-widths, the boxes' half sizes (``room``: as big as reserved), how much each edge
    bends, its ends (``guides``: its ends at boxes as big as reserved, which the labels follow,
    so that a step-through's labels and columns stay put while its boxes grow), and each
    labelled edge's label as (x centre, y bottom, width, height)."""

    x: list[float]
    column_x: list[float]
    column_half: list[float]
    sizes: list[tuple[float, float]]
    room: list[tuple[float, float]]
    bends: list[float]
    segments: list[tuple[tuple, tuple]]
    guides: list[tuple[tuple, tuple]]
    labels: dict[int, tuple[float, float, float, float]]


def _place(
    boxes: _Boxes, labels: dict[int, str], reserve_labels: Sequence[tuple[int, str]] = ()
) -> _Placement:
    """Place the columns as close as their widest box and the labels between them allow.

    Column c starts right of column c - 1's widest box, a gap of ``_GAP`` further, or far
    enough that every label of an edge ending in column c fits in the gap with
    ``_LABEL_ROOM`` on each side; the label is then written in that gap, on its edge. So a
    label never covers a box. The boxes' ``reserve_texts`` and ``reserve_labels`` (edge, text)
    widen the columns and gaps as if they were drawn (the step-through keeps its boxes still that
    way).
    """
    cols, edges = boxes.cols, boxes.edges
    sizes = [_half_size(t) for t in boxes.texts]
    wide = [(max(w, rw), max(h, rh)) for (w, h), (rw, rh)
            in zip(sizes, map(_half_size, boxes.reserve_texts))] or sizes  # fmt: skip
    half = [0.0] * (max(cols) + 1)
    for c, (w, _) in zip(cols, wide):
        half[c] = max(half[c], w)
    texts_of = [*reserve_labels, *labels.items()]  # (the drawn labels last: they win)
    # each label goes in the gap left of its edge's consumer. One that runs into another label
    # there takes a free gap its edge crosses (a skip connection's edge crosses several); if it
    # has none, the labels of its gap stand side by side, the gap widened to hold them all.
    where = {k: cols[edges[k][1]] for k, _ in texts_of}
    side: set[int] = set()  # the gaps whose labels stand side by side
    p = _columns(boxes, sizes, wide, half, texts_of, where, side)
    for _ in range(3):  # a gap that changed moves the labels: look again
        changed = False
        for k, text in dict(texts_of).items():  # each edge once (drawn or reserved: one place)
            others = [box for j, box in p.labels.items() if j != k]
            if not any(_overlap(p.labels[k], box) for box in others):
                continue
            for c in range(cols[edges[k][1]] - 1, cols[edges[k][0]], -1):  # nearest first
                box = _label_box(p, boxes, k, text, c)
                if not any(_overlap(box, other) for other in others):
                    where[k], p.labels[k], changed = c, box, True
                    break
            else:
                changed = changed or where[k] not in side
                side.add(where[k])
        if not changed:
            break
        p = _columns(boxes, sizes, wide, half, texts_of, where, side)
    return p


def _columns(boxes: _Boxes, sizes, wide, half, texts_of, where, side) -> _Placement:
    """Columns as close as their widest boxes and the labels in each gap (``where``) allow;
    in a gap of ``side`` the labels stand side by side, in the order they come."""
    cols, y, edges = boxes.cols, boxes.y, boxes.edges
    label_width: dict[int, float] = {}  # per labelled edge: its widest text (drawn or reserved)
    for k, text in texts_of:
        if cols[edges[k][1]] > cols[edges[k][0]]:
            label_width[k] = max(label_width.get(k, 0.0), _label_size(text)[0])
    gap = [_GAP] * len(half)  # gap[c]: the room left of column c
    slot: dict[int, float] = {}  # a label's centre, from the left end of its side-by-side gap
    filled: dict[int, float] = {}  # how far the labels placed so far reach in such a gap
    for k, width in label_width.items():
        c = where[k]
        if c in side:
            slot[k] = filled.get(c, _LABEL_ROOM) + width / 2
            filled[c] = slot[k] + width / 2 + _LABEL_ROOM
            gap[c] = max(gap[c], filled[c])
        else:
            gap[c] = max(gap[c], width + 2 * _LABEL_ROOM)
    column_x = [0.0] * len(half)
    for c in range(1, len(half)):
        column_x[c] = column_x[c - 1] + half[c - 1] + gap[c] + half[c]
    x = [column_x[c] for c in cols]
    bends = _bends(x, y, wide, edges)
    segments = [_clip((x[s], y[s]), (x[d], y[d]), sizes[s], sizes[d]) for s, d in edges]
    guides = [_clip((x[s], y[s]), (x[d], y[d]), wide[s], wide[d]) for s, d in edges]
    p = _Placement(x, column_x, half, sizes, wide, bends, segments, guides, {})
    p.labels = {k: _label_box(p, boxes, k, text, where[k], slot.get(k))
                for k, text in texts_of}  # fmt: skip
    return p


def _label_box(
    p: _Placement, boxes: _Boxes, k: int, text: str, c: int, slot: float | None = None
) -> tuple:
    """The label of edge k written on the edge in the gap left of column c: in its middle, or
    ``slot`` inches from its left end; (x centre, y bottom, width, height)."""
    a, b = p.guides[k]
    if c > boxes.cols[boxes.edges[k][0]]:
        left = p.column_x[c - 1] + p.column_half[c - 1]
        right = p.column_x[c] - p.column_half[c]
        middle = (left + right) / 2 if slot is None else left + slot
    else:  # (an edge within a column, as in a summary: only its middle is free)
        middle = (a[0] + b[0]) / 2
    px, py = _point_on_edge(a, b, p.bends[k], middle)
    width, height = _label_size(text)
    return px, py + 0.03, width, height


def _overlap(a: tuple, b: tuple) -> bool:
    """Whether two labels (x centre, y bottom, width, height) touch, with a little room."""
    return abs(a[0] - b[0]) < (a[2] + b[2]) / 2 + 0.05 and abs(a[1] - b[1]) < max(a[3], b[3]) + 0.03


def _extent(p: _Placement, boxes: _Boxes) -> tuple:
    """The (left, right, bottom, top) of ``boxes`` placed by ``_place`` (as ``p``), in inches at
    8-point text: its boxes, its labels and its arcs' bulges, with a margin."""
    x, y, edges = p.x, boxes.y, boxes.edges
    apexes = [(y[s] + y[d]) / 2 - bend * (x[d] - x[s]) / 2  # how far each arc bulges
              for (s, d), bend in zip(edges, p.bends) if bend]  # fmt: skip
    tops = [yi + h for yi, (_, h) in zip(y, p.room)]
    tops += [ly + h for _, ly, _, h in p.labels.values()]
    low = min([yi - h for yi, (_, h) in zip(y, p.room)] + apexes) - 0.15
    high = max(tops + apexes) + 0.15
    return -p.column_half[0] - 0.15, p.column_x[-1] + p.column_half[-1] + 0.15, low, high
