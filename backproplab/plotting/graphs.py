"""The computational graph as a picture: names, a left-to-right layout, matplotlib drawing.

No system binary is needed: the graph is laid out here (left to right, the root in the last
column, every other node one column left of its first consumer) and drawn with matplotlib.
``to_dot`` gives Graphviz text for people who have Graphviz. Nodes are named by
``Tensor.name`` or by their op and a counter ("add1"), never by ``id()``, so a picture is the
same on every run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from .._format import format_array
from ..autodiff import toposort
from ..tensor import Tensor
from ._refusals import refuse_changed_inputs, refuse_unknown_names
from ._rows import draw_in_rows
from .placement import MAX_WIDTH, MIN_SCALE, _Boxes, _extent, _place

if TYPE_CHECKING:
    from ..nn import Module


LEAF_COLOR = "#dbe9f6"  # inputs and parameters
OP_COLOR = "#f2f2f2"  # results of ops
CONST_COLOR = "#ffffff"  # numbers that need no gradient
ACTIVE_COLOR = "#ffd27f"  # the node being processed in a backward step
DONE_COLOR = "#d8f0d2"  # nodes whose gradient is complete
GRAD_COLOR = "#c0392b"  # gradients are written in red, values in black


# --------------------------------------------------------------------------- walking the graph
def graph_nodes(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` was computed from, constants included, inputs before outputs: the
    engine's own ``toposort`` (a picture of ``(x + 5) * -4`` shows the 5 and the -4 too)."""
    if not isinstance(root, Tensor):
        raise TypeError(f"graph_nodes: expected a Tensor, got {type(root).__name__}")
    return toposort(root)


def node_names(nodes: Sequence[Tensor], model: Module | None = None) -> list[str]:
    """A unique, run-independent name for each node: ``Tensor.name`` if set (for parameters of
    ``model``, their dotted name such as "0.weight"), else the op and a counter ("add1",
    "mul2"), "const1" for numbers and "input1" for unnamed inputs."""
    given = {id(p): n for n, p in model.named_parameters()} if model is not None else {}
    taken = {t.name for t in nodes if t.name} | set(given.values())
    counts: dict[str, int] = {}
    names: list[str] = []
    used: set[str] = set()
    for t in nodes:
        own = t.name or given.get(id(t))
        if own and own not in used:
            names.append(own)
            used.add(own)
            continue
        kind = t.op.name if t.op is not None else ("input" if t.requires_grad else "const")
        while True:  # skip counters a learner's own names already use
            counts[kind] = counts.get(kind, 0) + 1
            candidate = f"{kind}{counts[kind]}"
            if candidate not in taken:
                break
        names.append(candidate)
        used.add(candidate)
    return names


def _names(nodes: Sequence[Tensor], model: Module | None = None) -> list[str]:
    """``node_names``, except that an unnamed scalar root (the last node) is called "L": the
    curriculum's name for the loss, so the step-through writes dL/dW and the picture has an L.
    A name the learner gave is kept, and so is the op name when another node is already "L"."""
    names = node_names(nodes, model)
    root = nodes[-1]
    if root.op is not None and not root.name and root.data.size == 1 and "L" not in names:
        names[-1] = "L"
    return names


# ------------------------------------------------------------------------------------ layout
@dataclass
class GraphLayout:
    """Where each node of a graph goes, as plain data.

    ``nodes[i]`` is drawn at ``(x[i], y[i])``: ``x`` is the topological layer (inputs on the
    left, the root on the right), ``y`` the slot within the layer. ``edges`` are
    ``(input index, output index)`` pairs, one per argument (``x * x`` has two).
    """

    nodes: list[Tensor]
    names: list[str]
    x: list[int]
    y: list[float]
    edges: list[tuple[int, int]]

    def __len__(self) -> int:
        return len(self.nodes)

    def index(self, name: str) -> int:
        """The position of the node called ``name``."""
        return self.names.index(name)

    @property
    def ops(self) -> list[str]:
        """The op of each node ("" for inputs and constants)."""
        return [t.op.name if t.op is not None else "" for t in self.nodes]


def graph_layout(root: Tensor, model: Module | None = None) -> GraphLayout:
    """Lay ``root``'s graph out left to right: the root in the last column and every other
    node one column left of its first consumer (so edges are short and each column is one
    step of the computation); within a column, nodes sorted by the average height of their
    consumers (fewer crossings), and computed nodes level with their consumers, so that a chain
    of ops runs along one row with its weights and constants beside it."""
    nodes = graph_nodes(root)
    where = {id(t): i for i, t in enumerate(nodes)}
    edges = [(where[id(x)], i) for i, t in enumerate(nodes) for x in t.inputs]
    consumers: list[list[int]] = [[] for _ in nodes]
    for src, dst in edges:
        consumers[src].append(dst)

    col = [0] * len(nodes)  # the root goes last; every other node just left of its first consumer
    for i in range(len(nodes) - 2, -1, -1):  # outputs before inputs: consumers are placed
        col[i] = min(col[j] for j in consumers[i]) - 1
    low = min(col)
    col = [c - low for c in col]

    # rows, column by column from the root leftwards: each node goes near the mean row of its
    # consumers (already placed), inputs of one consumer in argument order (x above y in x + y)
    row = [0.0] * len(nodes)
    columns: dict[int, list[int]] = {}
    for i in range(len(nodes)):
        columns.setdefault(col[i], []).append(i)
    uses: list[list[tuple[int, float]]] = [[] for _ in nodes]  # (consumer, argument nudge)
    for i, t in enumerate(nodes):
        n = len(t.inputs)
        for k, x in enumerate(t.inputs):
            uses[where[id(x)]].append((i, (k - (n - 1) / 2) / (n + 1)))

    def height(i: int, nudged: bool = True) -> float:  # mean row of the consumers (+ nudges)
        total = sum(row[j] + nudge * nudged for j, nudge in uses[i])
        return total / len(uses[i]) if uses[i] else 0.0

    for c in sorted(columns, reverse=True):
        wanted = sorted((height(i), i) for i in columns[c])
        placed: list[float] = []
        for h, _ in wanted:  # as close to where it wants to be as the box above allows
            placed.append(h if not placed else max(h, placed[-1] + 1.0))
        # then the column moves as a whole: its computed nodes (the main path) level with their
        # consumers on average, so that a chain stays on one row and the weights and constants
        # it takes hang beside it; a column of inputs only is centred on its consumers
        anchors = [k for k, (_, i) in enumerate(wanted) if nodes[i].op is not None]
        anchors = anchors or list(range(len(wanted)))
        shift = sum(placed[k] - height(wanted[k][1], nudged=False) for k in anchors) / len(anchors)
        for (_, i), r in zip(wanted, placed):
            row[i] = r - shift
    names = _names(nodes, model)
    # y grows upward in matplotlib: the first of a column goes on top
    return GraphLayout(nodes, names, col, [-r for r in row], edges)


# -------------------------------------------------------------------------------- drawing
def _own_grad(root: Tensor, t: Tensor) -> np.ndarray | None:
    """``t.grad``, if backward has run through ``root`` (else a leaf's gradient would come from
    an earlier graph: x * x's dL/dx written on a drawing of 3 * x)."""
    return t.grad if root.grad is not None else None


_SUMMARY = re.compile(r"(\(.*\)) (\|.*\|)")  # format_array's "(5, 4) |5.92|"
_WIDE = 18  # characters: a longer line of numbers is broken after a comma


def _node_text(name: str, t: Tensor, grad: np.ndarray | None, show_grad: bool) -> str:
    """A box's text: the name (and op), the value and the gradient. A big tensor's shape is
    written once, in the first line ("tanh1 (5, 4)", then "value |3.18|", its norm), and a long
    list of numbers is broken over lines, so that boxes stay narrow."""
    head = name if t.op is None else f"{name} = {t.op.name}"
    if t.op is not None and re.fullmatch(rf"{re.escape(t.op.name)}\d+", name):
        head = name  # "tanh1", not "tanh1 = tanh": the name already says the op
    if t.op is None and not t.requires_grad and not t.name:
        head = "const"
    rows = [("value", format_array(t.data))]
    if show_grad and grad is not None:
        rows.append(("grad", format_array(grad)))
    matches = [m for _, text in rows if (m := _SUMMARY.fullmatch(text))]
    if len(matches) == len(rows):
        head += f" {matches[0].group(1)}"
        rows = [(word, m.group(2)) for (word, _), m in zip(rows, matches)]
    lines = [head] + [_wrap(f"{word} {text}", len(word) + 2) for word, text in rows]
    return "\n".join(lines)


def _wrap(line: str, indent: int, width: int = _WIDE) -> str:
    """``line`` broken after commas into lines of at most ``width`` characters where it can be,
    the later lines indented by ``indent`` spaces (under the first number of a list)."""
    lines = []
    while len(line) > width and ", " in line[indent + 1 : width]:
        cut = line.rindex(", ", 0, width) + 1
        lines.append(line[:cut])
        line = " " * indent + line[cut:].lstrip()
    return "\n".join([*lines, line])


def _figure(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure.figure, ax  # (the figure itself, also for an axes in a subfigure)
    fig, ax = plt.subplots(figsize=(width, height))
    return fig, ax


def _draw_boxes(
    boxes: _Boxes,
    *,
    edge_labels: Mapping[tuple[str, str], str] | None = None,
    bold: Sequence[str] = (),
    title: str | None = None,
    ax: Axes | None = None,
    reserve_labels: Mapping[tuple[str, str], str] | None = None,
) -> Figure:
    """The ``boxes`` of text, in their columns at their heights (inches), joined by arrows: the
    shared drawing code (``_place`` says where things go).

    Straight arrows are one ``quiver`` (fast for hundreds of edges), clipped to the boxes'
    edges; the few that would cross a box, or repeat an edge, are drawn as arcs. The figure
    is as wide as the graph up to ``MAX_WIDTH``; a wider graph is drawn smaller, down to
    ``MIN_SCALE`` (7-point text), and past that in rows of columns, one below the other
    (``_rows.py``). In a given ``ax`` the drawing is centred and made as small as it must be to
    fit.
    """
    labels = boxes.edge_indices(edge_labels)
    reserve = list(boxes.edge_indices(reserve_labels).items())
    p = _place(boxes, labels, reserve)
    x, y, names, texts, colors = p.x, boxes.y, boxes.names, boxes.texts, boxes.colors
    left, right, low, high = _extent(p, boxes)
    width, height = right - left, high - low
    if ax is None and MAX_WIDTH / width < MIN_SCALE:  # its text would be too small: in rows
        return draw_in_rows(_draw_boxes, p, boxes, edge_labels=edge_labels, bold=bold,
                            title=title, reserve_labels=reserve_labels)  # fmt: skip
    top = 0.45 if title else 0.0
    scale = max(MIN_SCALE, min(1.0, MAX_WIDTH / width))
    if ax is None:
        fig = plt.figure(figsize=(width * scale, (height + top) * scale))
        ax = fig.add_axes((0, 0, 1, height / (height + top)))  # one data unit = `scale` inches
    else:  # a given axes: the drawing, centred, at the scale that fits it (one unit = `scale`
        box = ax.get_position()  # inches both ways, so arrows still end at the boxes' edges)
        whole, dpi = ax.figure.bbox, ax.figure.dpi  # the figure's (or a subfigure's) pixels
        room_x, room_y = box.width * whole.width / dpi, box.height * whole.height / dpi
        scale = min(scale, room_x / width, room_y / height)
        mid_x, mid_y = (left + right) / 2, (low + high) / 2
        left, right = mid_x - room_x / scale / 2, mid_x + room_x / scale / 2
        low, high = mid_y - room_y / scale / 2, mid_y + room_y / scale / 2
    fig = ax.figure.figure  # (the figure itself, also for an axes in a subfigure)
    straight = []
    for (a, b), bend in zip(p.segments, p.bends):
        if bend:  # an arc (few of them): bulges by bend * length, sideways
            ax.add_patch(FancyArrowPatch(a, b, connectionstyle=f"arc3,rad={bend}",
                                         arrowstyle="-|>", mutation_scale=10 * scale,
                                         color="0.45", lw=scale, zorder=1))  # fmt: skip
        else:
            straight.append((a, b))
    if straight:
        start, end = np.array([a for a, _ in straight]), np.array([b for _, b in straight])
        ax.quiver(start[:, 0], start[:, 1], end[:, 0] - start[:, 0], end[:, 1] - start[:, 1],
                  angles="xy", scale_units="xy", scale=1, units="inches", width=0.012 * scale,
                  headwidth=5, headlength=7, headaxislength=6, color="0.45", zorder=1)  # fmt: skip
    for k in sorted(labels):
        (lx, ly, _, _), (src, dst) = p.labels[k], boxes.edges[k]
        ax.text(lx, ly, labels[k], color=GRAD_COLOR, ha="center", va="bottom",
                fontsize=8 * scale, family="monospace", zorder=4, linespacing=1.0,
                gid=f"edge:{names[src]}->{names[dst]}",
                bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none",
                          alpha=0.85))  # fmt: skip
    bold_names = set(bold)
    for i, name in enumerate(names):
        wrapped = "\n " in texts[i]  # a list broken over lines: its numbers line up on the left
        text = ax.text(x[i], y[i], texts[i], ha="center", va="center", fontsize=8 * scale,
                       family="monospace", zorder=3, gid=name,
                       multialignment="left" if wrapped else "center",
                       bbox=dict(boxstyle="round,pad=0.4", fc=colors[i], ec="0.3",
                                 lw=(2.0 if name in bold_names else 0.8) * scale))  # fmt: skip
        if colors[i] == DONE_COLOR:  # not by colour alone: a tick on the box's corner
            ax.annotate("✓", (1, 1), xycoords=text.get_bbox_patch() or text,  # off the text
                        xytext=(3 * scale, 3 * scale), textcoords="offset points",
                        ha="center", va="center", fontsize=9 * scale, zorder=5, gid=f"tick:{name}",
                        bbox=dict(boxstyle="circle,pad=0.15", fc=DONE_COLOR, ec="0.3"))  # fmt: skip
    ax.set_xlim(left, right)
    ax.set_ylim(low, high)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=11 * max(scale, 0.6))
    return fig


def draw_graph(
    root: Tensor,
    *,
    show_grad: bool = True,
    model: Module | None = None,
    max_nodes: int = 100,
    grads: Mapping[str, np.ndarray | None] | None = None,
    highlight: Sequence[str] = (),
    done: Sequence[str] = (),
    edge_labels: dict[tuple[str, str], str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    reserve_grads: Mapping[str, np.ndarray | None] | None = None,
    reserve_labels: dict[tuple[str, str], str] | None = None,
) -> Figure:
    """Draw the graph that computed ``root``: one box per node with its name, op, value and
    (once ``backward`` has run) gradient, inputs on the left, the root on the right.

    ``model`` names its parameters in the picture ("0.weight"). A graph of more than
    ``max_nodes`` nodes is drawn summarised (see ``graph_summary``): one box per layer of
    ``model``, or per group of columns without one. An unnamed scalar root is called "L".

    ``grads`` overrides the gradients shown (by node name; the step-through uses it);
    ``highlight`` names nodes to colour orange (bold edge), ``done`` green (ticked ✓);
    ``edge_labels`` writes text on the edge from input to output, keyed by ``(input name,
    output name)``, left of the output's column (columns move apart: a label never covers a
    box). Each box is a Text artist whose ``gid`` is the node name, so
    ``{t.get_gid(): t.get_text() for t in ax.texts}`` reads the picture back.

    ``reserve_grads`` and ``reserve_labels`` space the picture as if the boxes also showed those
    gradients and the edges carried those labels, without drawing them (the step-through uses
    them, so that every step has the same layout).
    """
    layout = graph_layout(root, model=model)
    refuse_unknown_names(layout, highlight, done)
    if len(layout) > max_nodes:  # (shapes and gradient norms only: no value to contradict)
        return _draw_summary(graph_summary(root, model=model, layout=layout), title, ax)
    refuse_changed_inputs(layout, "draw_graph")
    sy = 1.0  # inches between rows: boxes never overlap
    texts, colors, reserve_texts = [], [], []
    for i, t in enumerate(layout.nodes):
        name = layout.names[i]
        grad = grads.get(name) if grads is not None else _own_grad(root, t)
        texts.append(_node_text(name, t, grad, show_grad))
        if reserve_grads is not None:
            reserve_texts.append(_node_text(name, t, reserve_grads.get(name), show_grad))
        if name in highlight:
            colors.append(ACTIVE_COLOR)
        elif name in done:
            colors.append(DONE_COLOR)
        elif t.op is None:
            colors.append(LEAF_COLOR if (t.requires_grad or t.name) else CONST_COLOR)
        else:
            colors.append(OP_COLOR)
    ys = [r * sy for r in layout.y]
    boxes = _Boxes(layout.x, ys, layout.names, texts, colors, layout.edges, reserve_texts)
    return _draw_boxes(boxes, edge_labels=edge_labels, bold=highlight, title=title, ax=ax,
                       reserve_labels=reserve_labels)  # fmt: skip


# ------------------------------------------------------------------------ big graphs, summarised
@dataclass
class GraphSummary:
    """A big graph in groups: ``names[k]`` has ``ops[k]`` (op name -> count), the shape
    ``shapes[k]`` and gradient norm ``grad_norms[k]`` (None before backward) of its output, the
    group's last op (for a group of leaves only, its biggest leaf); ``edges`` join groups that
    pass a tensor from one to the other."""

    names: list[str]
    ops: list[dict[str, int]]
    shapes: list[tuple[int, ...]]
    grad_norms: list[float | None]
    edges: list[tuple[int, int]]

    def __len__(self) -> int:
        return len(self.names)


def graph_summary(
    root: Tensor,
    *,
    model: Module | None = None,
    groups: int = 24,
    layout: GraphLayout | None = None,
) -> GraphSummary:
    """Group the nodes of a big graph so it can be drawn.

    With ``model``, a node belongs to the top-level layer of ``model`` whose parameters it
    most recently used (a Linear and the activation after it form one group; the loss joins the
    last layer); nodes before any parameter form the group "input". Without a model, the
    columns of ``graph_layout`` are cut into at most ``groups`` runs of columns.
    """
    layout = graph_layout(root, model=model) if layout is None else layout
    nodes = layout.nodes
    if model is not None:
        children = model.named_children() or [("model", model)]
        owner = {id(p): k for k, (_, child) in enumerate(children) for p in child.parameters()}
        where = {id(t): i for i, t in enumerate(nodes)}
        key = [-1] * len(nodes)
        for i, t in enumerate(nodes):  # inputs first: each node takes its inputs' latest layer
            own = owner.get(id(t), -1)
            key[i] = max([own] + [key[where[id(x)]] for x in t.inputs])
        labels = {-1: "input"} | {
            k: f"{name}: {type(child).__name__}" for k, (name, child) in enumerate(children)
        }
    else:
        width = -(-(max(layout.x) + 1) // groups)  # columns per group, rounded up
        key = [c // width for c in layout.x]
        labels = {
            k: f"columns {k * width}-{min((k + 1) * width, max(layout.x) + 1) - 1}"
            for k in set(key)
        }
    order = sorted(set(key))
    index = {k: n for n, k in enumerate(order)}
    ops: list[dict[str, int]] = [{} for _ in order]
    last: list[Tensor | None] = [None] * len(order)
    for i, t in enumerate(nodes):
        g = index[key[i]]
        kept = last[g]
        if t.op is not None:
            ops[g][t.op.name] = ops[g].get(t.op.name, 0) + 1
            last[g] = t  # nodes come in topological order: the last op is the group's output
        elif ops[g] == {} and (kept is None or t.size > kept.size):
            last[g] = t  # (a group of leaves only, as "input": its biggest, not a constant 2)
    outputs = [t for t in last if t is not None]  # (all of them: each group has a node)
    grads = [_own_grad(root, t) for t in outputs]
    edges = sorted({(index[key[a]], index[key[b]]) for a, b in layout.edges if key[a] != key[b]})
    return GraphSummary(
        names=[labels[k] for k in order],
        ops=ops,
        shapes=[t.shape for t in outputs],
        grad_norms=[None if g is None else float(np.linalg.norm(g)) for g in grads],
        edges=edges,
    )


def _draw_summary(summary: GraphSummary, title: str | None, ax: Axes | None) -> Figure:
    per_row = 6
    # a snake: left to right, then right to left on the next row, so every arrow is short
    slots = [k % per_row if (k // per_row) % 2 == 0 else per_row - 1 - k % per_row
             for k in range(len(summary))]  # fmt: skip
    ys = [-(k // per_row) * 1.3 for k in range(len(summary))]
    texts = []
    for name, ops, shape, norm in zip(summary.names, summary.ops, summary.shapes,
                                      summary.grad_norms):  # fmt: skip
        counted = ", ".join(f"{op}×{n}" if n > 1 else op for op, n in ops.items()) or "leaves"
        lines = [name, counted, f"out {shape}"]
        if norm is not None:
            lines.append(f"grad |{norm:.3g}|")
        texts.append("\n".join(lines))
    n_nodes = sum(sum(ops.values()) for ops in summary.ops)
    title = title or f"{n_nodes} ops in {len(summary)} groups (summarised)"
    boxes = _Boxes(slots, ys, summary.names, texts, [OP_COLOR] * len(summary), summary.edges)
    return _draw_boxes(boxes, title=title, ax=ax)


# --------------------------------------------------------------------------- to_dot (text)
def to_dot(root: Tensor, model: Module | None = None) -> str:
    """The graph as Graphviz DOT text (render it with ``dot -Tsvg`` if you have Graphviz).
    Node ids are the run-independent names of ``node_names``."""
    layout = graph_layout(root, model=model)
    refuse_changed_inputs(layout, "to_dot")
    lines = ["digraph backproplab {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    for i, t in enumerate(layout.nodes):
        label = _node_text(layout.names[i], t, _own_grad(root, t), show_grad=True)
        label = label.replace("\n", "\\n")
        label = label.replace('"', '\\"')
        lines.append(f'  "{layout.names[i]}" [label="{label}"];')
    for src, dst in layout.edges:
        lines.append(f'  "{layout.names[src]}" -> "{layout.names[dst]}";')
    lines.append("}")
    return "\n".join(lines) + "\n"
