"""Pictures: the computational graph, the backward pass step by step, and training curves.

Everything here returns a matplotlib ``Figure`` (end the notebook cell with ``plt.show()``).
The logic behind each picture is a plain function that returns numbers -- ``graph_layout`` for
the graph, ``backward_steps`` for the step-through -- so tests and notebooks can read what a
picture shows without looking at pixels.

No system binary is needed: the graph is laid out here (left to right, the root in the last
column, every other node one column left of its first consumer) and drawn with matplotlib.
``to_dot`` gives Graphviz text for people who have Graphviz. Nodes are named by
``Tensor.name`` or by their op and a counter ("add1"), never by ``id()``, so a picture is the
same on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from .autodiff import sum_to_shape, toposort
from .tensor import Tensor

if TYPE_CHECKING:
    from .nn import Module
    from .train import Diagnostics, History

__all__ = [
    "BackwardStep",
    "GraphLayout",
    "GraphSummary",
    "backward_steps",
    "draw_backward_step",
    "draw_graph",
    "format_array",
    "graph_layout",
    "graph_nodes",
    "graph_summary",
    "node_names",
    "to_dot",
    "decision_grid",
    "finite_difference_errors",
    "layer_activations",
    "layer_gradient_norms",
    "plot_activation_histograms",
    "plot_decision_boundary",
    "plot_eps_error",
    "plot_function_and_derivative",
    "plot_gradient_flow",
    "plot_gradient_norms",
    "plot_history",
    "plot_step_loss",
]

# colours used consistently in every picture
LEAF_COLOR = "#dbe9f6"  # inputs and parameters
OP_COLOR = "#f2f2f2"  # results of ops
CONST_COLOR = "#ffffff"  # numbers that need no gradient
ACTIVE_COLOR = "#ffd27f"  # the node being processed in a backward step
DONE_COLOR = "#d8f0d2"  # nodes whose gradient is complete
GRAD_COLOR = "#c0392b"  # gradients are written in red, values in black


# --------------------------------------------------------------------------- walking the graph
def graph_nodes(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` was computed from, constants included, inputs before outputs.

    Unlike ``autodiff.toposort`` (which keeps only what needs a gradient) this keeps the numbers
    too, because a picture of ``(x + 5) * -4`` should show the 5 and the -4. Iterative depth-first
    search over the ordered ``inputs`` tuples: the same order on every run.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"graph_nodes: expected a Tensor, got {type(root).__name__}")
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))  # comes back here after all its inputs
        for x in reversed(node.inputs):
            if id(x) not in seen:
                stack.append((x, False))
    return order


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


def format_array(a: np.ndarray | None, digits: int = 4) -> str:
    """A short text for a value or gradient: the number for a scalar, the entries of a tiny
    array, otherwise the shape (and the norm, which says how big it is)."""
    if a is None:
        return "?"
    a = np.asarray(a)
    if a.size == 1:
        return f"{a.item():.{digits}g}"
    if a.size <= 4:
        return "[" + ", ".join(f"{v:.3g}" for v in a.ravel()) + "]"
    return f"{a.shape} |{np.linalg.norm(a):.3g}|"


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
    consumers (fewer crossings)."""
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

    def height(i: int) -> float:  # mean row of the consumers, nudged by argument position
        return sum(row[j] + nudge for j, nudge in uses[i]) / len(uses[i]) if uses[i] else 0.0

    for c in sorted(columns, reverse=True):
        wanted = sorted((height(i), i) for i in columns[c])
        placed: list[float] = []
        for h, _ in wanted:  # as close to where it wants to be as the box above allows
            placed.append(h if not placed else max(h, placed[-1] + 1.0))
        shift = sum(p - h for p, (h, _) in zip(placed, wanted)) / len(placed)  # share the push
        for (_, i), r in zip(wanted, placed):
            row[i] = r - shift
    names = node_names(nodes, model)
    # y grows upward in matplotlib: the first of a column goes on top
    return GraphLayout(nodes, names, col, [-r for r in row], edges)


# -------------------------------------------------------------------------------- drawing
def _node_text(name: str, t: Tensor, grad: np.ndarray | None, show_grad: bool) -> str:
    head = name if t.op is None else f"{name} = {t.op.name}"
    if t.op is None and not t.requires_grad and not t.name:
        head = "const"
    lines = [head, f"value {format_array(t.data)}"]
    if show_grad and grad is not None:
        lines.append(f"grad {format_array(grad)}")
    return "\n".join(lines)


def _figure(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=(width, height))
    return fig, ax


# Box sizes in inches for 8-point monospace text (0.6 em wide characters, 1.2 em lines, 0.4 em
# padding): the graph figures are made so that one data unit is one inch (times ``scale``).
_CHAR, _LINE, _PAD = 0.6 * 8 / 72, 1.2 * 8 / 72, 0.4 * 8 / 72
MAX_WIDTH, MAX_HEIGHT = 60.0, 40.0  # inches; bigger graphs are drawn smaller


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


def _draw_boxes(
    x: Sequence[float],
    y: Sequence[float],
    names: Sequence[str],
    texts: Sequence[str],
    colors: Sequence[str],
    edges: Sequence[tuple[int, int]],
    *,
    edge_labels: dict[tuple[str, str], str] | None = None,
    bold: Sequence[str] = (),
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Boxes of text centred at (x, y) (inches) joined by arrows: the shared drawing code.

    Straight arrows are one ``quiver`` (fast for hundreds of edges), clipped to the boxes'
    edges; the few that would cross a box, or repeat an edge, are drawn as arcs.
    """
    sizes = [_half_size(t) for t in texts]
    bends = _bends(x, y, sizes, edges)
    apexes = [(y[s] + y[d]) / 2 - bend * (x[d] - x[s]) / 2  # how far each arc bulges
              for (s, d), bend in zip(edges, bends) if bend]  # fmt: skip
    low, high = min([*y, *apexes]), max([*y, *apexes])
    margin = 1.2
    width = max(x) - min(x) + 2 * margin
    height = high - low + 2 * margin * 0.6
    top = 0.45 if title else 0.0
    scale = min(1.0, MAX_WIDTH / width, MAX_HEIGHT / (height + top))
    if ax is None:
        fig = plt.figure(figsize=(width * scale, (height + top) * scale))
        ax = fig.add_axes((0, 0, 1, height / (height + top)))  # one data unit = `scale` inches
    fig = ax.figure
    straight, labelled = [], []
    for (src, dst), bend in zip(edges, bends):
        a, b = _clip((x[src], y[src]), (x[dst], y[dst]), sizes[src], sizes[dst])
        mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        if bend:  # an arc (few of them): bulges by bend * length, sideways
            ax.add_patch(FancyArrowPatch(a, b, connectionstyle=f"arc3,rad={bend}",
                                         arrowstyle="-|>", mutation_scale=10 * scale,
                                         color="0.45", lw=scale, zorder=1))  # fmt: skip
            mid = (mid[0] + bend * (b[1] - a[1]) / 2, mid[1] - bend * (b[0] - a[0]) / 2)
        else:
            straight.append((a, b))
        labelled.append(mid)
    if straight:
        start, end = np.array([a for a, _ in straight]), np.array([b for _, b in straight])
        ax.quiver(start[:, 0], start[:, 1], end[:, 0] - start[:, 0], end[:, 1] - start[:, 1],
                  angles="xy", scale_units="xy", scale=1, units="inches", width=0.012 * scale,
                  headwidth=5, headlength=7, headaxislength=6, color="0.45", zorder=1)  # fmt: skip
    for (src, dst), mid in zip(edges, labelled):
        label = (edge_labels or {}).get((names[src], names[dst]))
        if label:
            ax.text(mid[0], mid[1] + 0.05, label, color=GRAD_COLOR, ha="center", va="bottom",
                    fontsize=8 * scale, zorder=4,
                    gid=f"edge:{names[src]}->{names[dst]}")  # fmt: skip
    bold = set(bold)
    for i, name in enumerate(names):
        ax.text(x[i], y[i], texts[i], ha="center", va="center", fontsize=8 * scale,
                family="monospace", zorder=3, gid=name,
                bbox=dict(boxstyle="round,pad=0.4", fc=colors[i], ec="0.3",
                          lw=(2.0 if name in bold else 0.8) * scale))  # fmt: skip
    ax.set_xlim(min(x) - margin, max(x) + margin)
    ax.set_ylim(low - margin * 0.6, high + margin * 0.6)
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
    grads: dict[str, np.ndarray | None] | None = None,
    highlight: Sequence[str] = (),
    done: Sequence[str] = (),
    edge_labels: dict[tuple[str, str], str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw the graph that computed ``root``: one box per node with its name, op, value and
    (once ``backward`` has run) gradient, inputs on the left, the root on the right.

    ``model`` names its parameters in the picture ("0.weight"). A graph of more than
    ``max_nodes`` nodes is drawn summarised (see ``graph_summary``): one box per layer of
    ``model``, or per group of columns without one.

    ``grads`` overrides the gradients shown (by node name; the step-through uses it);
    ``highlight`` names nodes to colour orange, ``done`` green; ``edge_labels`` writes text on
    the edge from input to output, keyed by ``(input name, output name)``. Each box is a Text
    artist whose ``gid`` is the node name, so ``{t.get_gid(): t.get_text() for t in ax.texts}``
    reads the picture back.
    """
    layout = graph_layout(root, model=model)
    if len(layout) > max_nodes:
        return _draw_summary(graph_summary(root, model=model, layout=layout), title, ax)
    sx, sy = 2.2, 1.0  # inches between columns / rows: boxes never overlap
    texts, colors = [], []
    for i, t in enumerate(layout.nodes):
        name = layout.names[i]
        grad = grads.get(name) if grads is not None else t.grad
        texts.append(_node_text(name, t, grad, show_grad))
        if name in highlight:
            colors.append(ACTIVE_COLOR)
        elif name in done:
            colors.append(DONE_COLOR)
        elif t.op is None:
            colors.append(LEAF_COLOR if (t.requires_grad or t.name) else CONST_COLOR)
        else:
            colors.append(OP_COLOR)
    xs = [c * sx for c in layout.x]
    ys = [r * sy for r in layout.y]
    return _draw_boxes(xs, ys, layout.names, texts, colors, layout.edges,
                       edge_labels=edge_labels, bold=highlight, title=title, ax=ax)  # fmt: skip


# ------------------------------------------------------------------------ big graphs, summarised
@dataclass
class GraphSummary:
    """A big graph in groups: ``names[k]`` has ``ops[k]`` (op name -> count), its last node's
    ``shapes[k]`` and gradient norm ``grad_norms[k]`` (None before backward); ``edges`` join
    groups that pass a tensor from one to the other."""

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
        if t.op is not None:
            ops[g][t.op.name] = ops[g].get(t.op.name, 0) + 1
        last[g] = t  # nodes come in topological order: the last one is the group's output
    edges = sorted({(index[key[a]], index[key[b]]) for a, b in layout.edges if key[a] != key[b]})
    return GraphSummary(
        names=[labels[k] for k in order],
        ops=ops,
        shapes=[t.shape for t in last],
        grad_norms=[None if t.grad is None else float(np.linalg.norm(t.grad)) for t in last],
        edges=edges,
    )


def _draw_summary(summary: GraphSummary, title: str | None, ax: Axes | None) -> Figure:
    per_row = 6
    # a snake: left to right, then right to left on the next row, so every arrow is short
    slots = [k % per_row if (k // per_row) % 2 == 0 else per_row - 1 - k % per_row
             for k in range(len(summary))]  # fmt: skip
    xs = [slot * 2.6 for slot in slots]
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
    return _draw_boxes(xs, ys, summary.names, texts, [OP_COLOR] * len(summary), summary.edges,
                       title=title, ax=ax)  # fmt: skip


# --------------------------------------------------------------------------- to_dot (text)
def to_dot(root: Tensor, model: Module | None = None) -> str:
    """The graph as Graphviz DOT text (render it with ``dot -Tsvg`` if you have Graphviz).
    Node ids are the run-independent names of ``node_names``."""
    layout = graph_layout(root, model=model)
    lines = ["digraph backproplab {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    for i, t in enumerate(layout.nodes):
        label = _node_text(layout.names[i], t, t.grad, show_grad=True).replace("\n", "\\n")
        label = label.replace('"', '\\"')
        lines.append(f'  "{layout.names[i]}" [label="{label}"];')
    for src, dst in layout.edges:
        lines.append(f'  "{layout.names[src]}" -> "{layout.names[dst]}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------- the backward, step by step
@dataclass
class BackwardStep:
    """One step of the backward pass: the node being processed, as numbers.

    In the words of the lesson: the node receives its **upstream** gradient dL/d(node) (the sum
    of what its consumers sent, listed in ``received``), multiplies it by its **local**
    gradients d(node)/d(input) and sends the **downstream** gradients dL/d(input) to its inputs.

    ``local[k]`` is the derivative of the node with respect to input k when the node and that
    input are scalars, else None (for tensors the vjp computes the product without ever forming
    the local Jacobian). ``downstream[k]`` is None for an input that needs no gradient (a
    number). ``totals`` is what each input holds after this step (the sum so far, when
    several consumers send to it); the ``grads`` property, every gradient known after this
    step, is rebuilt from them (storing a copy per step would cost quadratic memory).
    """

    index: int
    node: str
    op: str
    inputs: list[str]
    received: list[tuple[str, np.ndarray]]
    upstream: np.ndarray
    local: list[np.ndarray | None]
    downstream: list[np.ndarray | None]
    totals: dict[str, np.ndarray] = field(repr=False)
    root: str
    seed: np.ndarray = field(repr=False)
    previous: BackwardStep | None = field(default=None, repr=False)

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Every gradient known after this step, by node name (partial sums included)."""
        chain = []
        step: BackwardStep | None = self
        while step is not None:  # a loop, not recursion: any number of steps
            chain.append(step)
            step = step.previous
        known = {self.root: self.seed}
        for step in reversed(chain):
            known.update(step.totals)
        return known

    def describe(self) -> str:
        """The step in one paragraph, with the numbers."""
        d = f"d{self.root}"
        parts = [f"Step {self.index + 1}: {self.node} = {self.op}({', '.join(self.inputs)})."]
        if len(self.received) > 1:
            sent = " + ".join(f"{format_array(g)} from {who}" for who, g in self.received)
            parts.append(f"It received {sent}, so")
        parts.append(f"upstream {d}/d{self.node} = {format_array(self.upstream)}.")
        for name, loc, down in zip(self.inputs, self.local, self.downstream):
            if down is None:
                parts.append(f"{name} is a constant: nothing to send.")
            elif loc is not None:
                parts.append(
                    f"local d{self.node}/d{name} = {format_array(loc)}, so downstream "
                    f"{d}/d{name} = {format_array(self.upstream)} * {format_array(loc)} "
                    f"= {format_array(down)}."
                )
            else:
                parts.append(f"downstream {d}/d{name} = {format_array(down)} (by the vjp).")
            total = self.totals.get(name)
            if down is not None and total is not None and not np.array_equal(total, down):
                parts.append(f"({name} now holds the sum {format_array(total)}.)")
        return " ".join(parts)


def backward_steps(root: Tensor, grad: object = None) -> list[BackwardStep]:
    """The backward pass of ``root`` as a list of steps, in the order ``backward()`` takes them.

    A pure function: it reads the graph and the op table, and leaves every ``.grad`` as it was.
    The final ``grads`` of the last step equal what ``root.backward(grad)`` computes.
    """
    nodes = graph_nodes(root)
    names = dict(zip(map(id, nodes), node_names(nodes)))  # the same names as the drawing
    name = lambda t: names[id(t)]  # noqa: E731
    if grad is None and root.size != 1:
        raise ValueError(
            f"backward_steps: the root has shape {root.shape}; pass a gradient of that shape "
            f"or reduce it to a scalar first (e.g. L.sum())"
        )
    seed = np.ones_like(root.data) if grad is None else np.asarray(grad, dtype=root.dtype)
    if seed.shape != root.shape:
        raise ValueError(
            f"backward_steps: the gradient has shape {seed.shape} but the root has shape "
            f"{root.shape}; they must match"
        )
    grads: dict[str, np.ndarray] = {name(root): seed}
    received: dict[str, list[tuple[str, np.ndarray]]] = {name(root): [("seed", seed)]}
    steps = []
    for node in reversed(toposort(root)):
        if node.op is None or name(node) not in grads:
            continue
        g = grads[name(node)]
        arrays = [x.data for x in node.inputs]
        out = node.data if node.saved is None else node.saved  # as autodiff.backward passes it
        down = node.op.vjp(g, out, *arrays, **node.settings)
        scalar = node.data.size == 1
        if scalar:
            one = np.ones_like(node.data)
            local_all = node.op.vjp(one, out, *arrays, **node.settings)
        local, downstream = [], []
        for k, x in enumerate(node.inputs):
            if not x.requires_grad or down[k] is None:
                local.append(None)
                downstream.append(None)
                continue
            dk = sum_to_shape(np.asarray(down[k], dtype=x.dtype), x.shape)
            downstream.append(dk)
            is_scalar = scalar and x.data.size == 1
            local.append(
                np.asarray(local_all[k], dtype=x.dtype).reshape(x.shape) if is_scalar else None
            )
            key = name(x)
            grads[key] = dk if key not in grads else grads[key] + dk  # paths add up
            received.setdefault(key, []).append((name(node), dk))
        steps.append(
            BackwardStep(
                index=len(steps),
                node=name(node),
                op=node.op.name,
                inputs=[name(x) for x in node.inputs],
                received=received[name(node)],
                upstream=g,
                local=local,
                downstream=downstream,
                totals={name(x): grads[name(x)] for x in node.inputs if name(x) in grads},
                root=name(root),
                seed=seed,
                previous=steps[-1] if steps else None,
            )
        )
    return steps


def draw_backward_step(
    root: Tensor, step: int, *, steps: list[BackwardStep] | None = None, ax: Axes | None = None
) -> Figure:
    """Draw step ``step`` (0-based) of the backward pass: the node being processed in orange,
    nodes already processed in green, the gradients known so far, and on each edge into it the
    downstream gradient it sends (upstream × local = downstream when the node is a scalar)."""
    steps = backward_steps(root) if steps is None else steps
    if not 0 <= step < len(steps):
        raise IndexError(f"draw_backward_step: step {step} is out of range: there are {len(steps)}")
    s = steps[step]
    labels = {}
    for name, loc, down in zip(s.inputs, s.local, s.downstream):
        if down is None:
            continue
        text = format_array(down)
        if loc is not None:  # upstream x local = downstream, the chain rule on the edge
            text = f"{format_array(s.upstream)}×{format_array(loc)}={text}"
        labels[(name, s.node)] = text
    title = f"step {step + 1} of {len(steps)}: {s.node} = {s.op}, "
    title += f"upstream {format_array(s.upstream)}"
    finished = [earlier.node for earlier in steps[:step]]
    return draw_graph(root, grads=s.grads, highlight=[s.node], done=finished, edge_labels=labels,
                      title=title, ax=ax)  # fmt: skip


# ----------------------------------------------------------------------------- training curves
def plot_history(history: History, *, title: str | None = None) -> Figure:
    """Loss (left) and accuracy (right) per epoch from ``fit``'s History; test curves are
    drawn when the History has test numbers (they are NaN without test data)."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    epochs = history.epochs
    loss_ax.plot(epochs, history.train_loss, marker="o", ms=3, label="train")
    acc_ax.plot(epochs, history.train_acc, marker="o", ms=3, label="train")
    if len(history.test_loss) and not np.all(np.isnan(history.test_loss)):
        loss_ax.plot(epochs, history.test_loss, marker="o", ms=3, label="test")
        acc_ax.plot(epochs, history.test_acc, marker="o", ms=3, label="test")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (loss_ax, acc_ax):
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_step_loss(history: History, *, ax: Axes | None = None, smooth: int = 10) -> Figure:
    """The loss of every training step (faint) and its running mean over ``smooth`` steps."""
    fig, ax = _figure(ax, 6, 3.6)
    loss = np.asarray(history.step_loss, dtype=float)
    steps = np.arange(1, len(loss) + 1)
    ax.plot(steps, loss, alpha=0.35, label="each step")
    if len(loss) >= smooth > 1:
        mean = np.convolve(loss, np.ones(smooth) / smooth, mode="valid")
        ax.plot(steps[smooth - 1 :], mean, label=f"mean of {smooth} steps")
    ax.set(xlabel="step", ylabel="loss", title="loss per step")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


# -------------------------------------------------------------------------- gradients by layer
def layer_gradient_norms(
    model: Module, X: np.ndarray, y: np.ndarray, loss_fn: Callable | None = None
) -> dict[str, float]:
    """||dL/dW|| of every Linear layer's weight after one forward and backward pass on (X, y),
    input side first, keyed by the layer's dotted name. The parameters' gradients are set to
    None before and after (the model's weights are not changed)."""
    from .functional import cross_entropy
    from .nn import Linear

    loss_fn = cross_entropy if loss_fn is None else loss_fn
    model.zero_grad()
    loss_fn(model(Tensor(X, dtype=model.parameters()[0].dtype)), y).backward()
    norms = {
        name: float(np.linalg.norm(m.weight.grad))
        for name, m in model.named_modules()
        if isinstance(m, Linear)
    }
    model.zero_grad()
    return norms


def plot_gradient_norms(
    norms: Mapping[str, Sequence[float] | Mapping[str, float]],
    *,
    ax: Axes | None = None,
    title: str = "gradient norm per layer",
) -> Figure:
    """One line per network: ||dL/dW|| against the layer (input side on the left), log scale,
    so a gradient that shrinks (vanishes) or grows (explodes) layer by layer is a slope.

    ``norms`` maps a label ("plain", "residual") to a list of norms or to the dict of
    ``layer_gradient_norms``.
    """
    fig, ax = _figure(ax, 7, 4)
    for label, values in norms.items():
        values = list(values.values()) if isinstance(values, Mapping) else list(values)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=label)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_yscale("log")
    ax.set(xlabel="layer (1 = next to the input)", ylabel="||dL/dW||", title=title)
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return fig


def plot_gradient_flow(diagnostics: Diagnostics, *, title: str | None = None) -> Figure:
    """Gradient norm per layer over training, from ``fit(..., diagnostics=True)``: left, one
    line per layer against the step; right, the norm against the layer at the first, middle
    and last record."""
    if diagnostics.grad_norm.size == 0:
        raise ValueError("plot_gradient_flow: no records; train with fit(..., diagnostics=True)")
    fig, (over_time, by_layer) = plt.subplots(1, 2, figsize=(11, 4))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(diagnostics.layers)))
    for l, name in enumerate(diagnostics.layers):
        over_time.plot(diagnostics.step, diagnostics.grad_norm[:, l], color=colors[l],
                       label=f"layer {name}")  # fmt: skip
    over_time.set(xlabel="step", ylabel="||dL/dW||", yscale="log", title="during training")
    over_time.legend(fontsize=7, ncol=2)
    layers = np.arange(1, len(diagnostics.layers) + 1)
    n = len(diagnostics.step)
    for r in sorted({0, n // 2, n - 1}):
        by_layer.plot(layers, diagnostics.grad_norm[r], marker="o",
                      label=f"step {diagnostics.step[r]}")  # fmt: skip
    by_layer.set_xticks(layers)
    by_layer.set(xlabel="layer (1 = next to the input)", ylabel="||dL/dW||", yscale="log",
                 title="by layer")  # fmt: skip
    by_layer.legend()
    for ax in (over_time, by_layer):
        ax.grid(alpha=0.3, which="both")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------- activations by layer
def layer_activations(model: Module, X: np.ndarray) -> dict[str, np.ndarray]:
    """The output of every activation module (ReLU, Tanh, ...) for input X, keyed by its
    dotted name, input side first. Computed without a graph (inside ``no_grad``)."""
    from .autodiff import no_grad
    from .nn import ACTIVATIONS

    kinds = tuple(
        k for k in ACTIVATIONS.values() if isinstance(k, type) and k.__name__ != "Identity"
    )
    watched = [(n, m) for n, m in model.named_modules() if isinstance(m, kinds)]
    seen: dict[str, np.ndarray] = {}

    def spy(name: str, forward: Callable) -> Callable:
        def forward_and_record(x: Tensor) -> Tensor:
            out = forward(x)
            seen[name] = out.data
            return out

        return forward_and_record

    for name, m in watched:  # an instance attribute shadows the class's forward for a moment
        m.forward = spy(name, type(m).forward.__get__(m))
    try:
        with no_grad():
            model(Tensor(X, dtype=model.parameters()[0].dtype))
    finally:
        for _, m in watched:
            m.__dict__.pop("forward", None)
    return {name: seen[name] for name, _ in watched if name in seen}


def plot_activation_histograms(
    activations: Mapping[str, np.ndarray], *, bins: int = 40, title: str | None = None
) -> Figure:
    """One histogram per layer of the values in ``activations`` (e.g. ``layer_activations``),
    with the layer's mean and standard deviation in its title: watch them saturate or die."""
    names = list(activations)
    if not names:
        raise ValueError("plot_activation_histograms: no activations to plot")
    cols = min(len(names), 5)
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.2 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        a = np.asarray(activations[name]).ravel()
        ax.hist(a, bins=bins, color="#4c72b0")
        ax.set_title(f"{name}\nmean {a.mean():.2f} std {a.std():.2f}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(names) :]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------- decision boundaries
def decision_grid(
    predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, resolution: int = 150
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate a classifier on a grid covering the 2-D points X (plus a margin).

    ``predict`` maps (N, 2) points to logits (N, C), or to one logit per point ((N,) or
    (N, 1): class 1 where it is positive); returns the grid coordinates ``xx, yy``
    (resolution x resolution) and the predicted class at each point.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_grid: needs 2-D points of shape (N, 2), got {X.shape}")
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * (high - low) + 1e-9
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    scores = np.asarray(predict(np.column_stack([xx.ravel(), yy.ravel()])))
    if scores.ndim == 2 and scores.shape[1] == 1:  # one logit per point: a binary classifier
        scores = scores[:, 0]
    classes = scores.argmax(axis=1) if scores.ndim == 2 else (scores > 0).astype(int)
    return xx, yy, classes.reshape(xx.shape)


def plot_decision_boundary(
    model: Module | Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    *,
    resolution: int = 150,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """The classes a model predicts over the plane, with the data points on top."""
    from .nn import Module
    from .train import predict

    fn = (lambda P: predict(model, P)) if isinstance(model, Module) else model
    xx, yy, classes = decision_grid(fn, X, resolution)
    fig, ax = _figure(ax, 5, 4.5)
    n_classes = int(max(classes.max(), np.max(y))) + 1
    ax.contourf(xx, yy, classes, levels=np.arange(n_classes + 1) - 0.5, cmap="coolwarm",
                alpha=0.3)  # fmt: skip
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3,
               vmin=0, vmax=n_classes - 1)  # fmt: skip
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title or "decision boundary")
    return fig


# ----------------------------------------------------------------------- functions, derivatives
def plot_function_and_derivative(
    f: Callable[[Tensor], Tensor],
    *,
    x: np.ndarray | None = None,
    name: str = "f",
    derivative: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Figure:
    """``f`` (left) and its derivative (right), the derivative computed by ``backward`` on
    ``f(x).sum()`` (each output depends on its own input only). A hand-written
    ``derivative`` (numpy in, numpy out) is drawn dashed on top for comparison."""
    x = np.linspace(-5, 5, 401) if x is None else np.asarray(x, dtype=float)
    t = Tensor(x, requires_grad=True)
    out = f(t)
    out.sum().backward()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(x, out.data, label=f"{name}(x)")
    right.plot(x, t.grad, label=f"{name}'(x) by backward")
    if derivative is not None:
        right.plot(x, derivative(x), "--", label=f"{name}'(x) by hand")
    left.set(xlabel="x", title=f"{name}(x)")
    right.set(xlabel="x", title=f"{name}'(x)")
    for ax in (left, right):
        ax.axhline(0, color="0.6", lw=0.6)
        ax.axvline(0, color="0.6", lw=0.6)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def finite_difference_errors(
    f: Callable[[float], float], exact: float, x: float, eps: Sequence[float]
) -> dict[str, np.ndarray]:
    """|numerical - exact| derivative of ``f`` at ``x`` for each step size in ``eps``, for the
    one-sided (f(x+e) - f(x)) / e and the central (f(x+e) - f(x-e)) / 2e difference.

    Large eps: truncation error (the secant is not the tangent: ~eps, ~eps^2). Small eps:
    rounding error (two nearly equal floats subtracted: ~1e-16 / eps). The best eps is between.
    """
    eps = np.asarray(eps, dtype=float)
    forward = np.array([(f(x + e) - f(x)) / e for e in eps])
    central = np.array([(f(x + e) - f(x - e)) / (2 * e) for e in eps])
    return {"eps": eps, "forward": np.abs(forward - exact), "central": np.abs(central - exact)}


def plot_eps_error(
    f: Callable[[float], float],
    exact: float,
    x: float,
    *,
    eps: Sequence[float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The precision trade-off of numerical derivatives: error against eps, log-log, for the
    one-sided and central differences (see ``finite_difference_errors``)."""
    eps = np.logspace(-15, 0, 61) if eps is None else eps
    errors = finite_difference_errors(f, exact, x, eps)
    fig, ax = _figure(ax, 6.5, 4)
    tiny = np.finfo(float).tiny  # an exact hit (error 0) would vanish from a log plot
    ax.loglog(errors["eps"], np.maximum(errors["forward"], tiny), marker=".", label="one-sided")
    ax.loglog(errors["eps"], np.maximum(errors["central"], tiny), marker=".", label="central")
    ax.set(xlabel="eps", ylabel="|numerical - exact|", title=f"derivative error at x = {x:g}")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return fig
