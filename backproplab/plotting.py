"""Pictures: the computational graph, the backward pass step by step, and training curves.

Everything here returns a matplotlib ``Figure`` (end the notebook cell with ``plt.show()``).
The logic behind each picture is a plain function that returns numbers -- ``graph_layout`` for
the graph, ``backward_steps`` for the step-through -- so tests and notebooks can read what a
picture shows without looking at pixels.

No system binary is needed: the graph is laid out here (left to right, one column per
topological layer) and drawn with matplotlib. ``to_dot`` gives Graphviz text for people who
have Graphviz. Nodes are named by ``Tensor.name`` or by their op and a counter ("add1"), never
by ``id()``, so a picture is the same on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from .autodiff import sum_to_shape, toposort
from .tensor import Tensor

__all__ = [
    "BackwardStep",
    "GraphLayout",
    "backward_steps",
    "draw_backward_step",
    "draw_graph",
    "format_array",
    "graph_layout",
    "graph_nodes",
    "node_names",
    "to_dot",
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


def node_names(nodes: Sequence[Tensor]) -> list[str]:
    """A unique, run-independent name for each node: ``Tensor.name`` if set, else the op and a
    counter ("add1", "mul2"), "const1" for numbers and "input1" for unnamed inputs."""
    taken = {t.name for t in nodes if t.name}
    counts: dict[str, int] = {}
    names = []
    for t in nodes:
        if t.name and t.name not in names:
            names.append(t.name)
            continue
        kind = t.op.name if t.op is not None else ("input" if t.requires_grad else "const")
        while True:  # skip counters a learner's own names already use
            counts[kind] = counts.get(kind, 0) + 1
            candidate = f"{kind}{counts[kind]}"
            if candidate not in taken:
                break
        names.append(candidate)
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


def graph_layout(root: Tensor) -> GraphLayout:
    """Lay ``root``'s graph out left to right: every op one column right of its latest input;
    inputs and constants one column left of their first consumer (short edges); within a
    column, nodes sorted by the average height of their inputs (fewer crossings)."""
    nodes = graph_nodes(root)
    where = {id(t): i for i, t in enumerate(nodes)}
    edges = [(where[id(x)], i) for i, t in enumerate(nodes) for x in t.inputs]
    consumers: list[list[int]] = [[] for _ in nodes]
    for src, dst in edges:
        consumers[src].append(dst)

    col = [0] * len(nodes)
    for i, t in enumerate(nodes):  # inputs come first, so their columns are known
        if t.inputs:
            col[i] = 1 + max(col[where[id(x)]] for x in t.inputs)
    for i, t in enumerate(nodes):
        if not t.inputs and consumers[i]:
            col[i] = min(col[j] for j in consumers[i]) - 1
    low = min(col)
    col = [c - low for c in col]

    # rows: leaves keep their discovery order, ops sit near the mean row of their inputs
    row = [0.0] * len(nodes)
    columns: dict[int, list[int]] = {}
    for i in range(len(nodes)):
        columns.setdefault(col[i], []).append(i)

    def height(i: int) -> float:  # mean row of the inputs already placed (left of i)
        ins = [row[where[id(x)]] for x in nodes[i].inputs if col[where[id(x)]] < col[i]]
        return float(np.mean(ins)) if ins else float(i)

    for c in sorted(columns):
        members = columns[c]
        members.sort(key=lambda i: (height(i), i))
        for slot, i in enumerate(members):
            row[i] = slot - (len(members) - 1) / 2  # centred on 0
    names = node_names(nodes)
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


def draw_graph(
    root: Tensor,
    *,
    show_grad: bool = True,
    grads: dict[str, np.ndarray | None] | None = None,
    highlight: Sequence[str] = (),
    edge_labels: dict[tuple[str, str], str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw the graph that computed ``root``: one box per node with its name, op, value and
    (once ``backward`` has run) gradient, inputs on the left, the root on the right.

    ``grads`` overrides the gradients shown (by node name; the step-through uses it);
    ``highlight`` names nodes to colour; ``edge_labels`` writes text on the edge from input to
    output, keyed by ``(input name, output name)``. Each box is a Text artist whose ``gid`` is
    the node name, so ``{t.get_gid(): t.get_text() for t in ax.texts}`` reads the picture back.
    """
    layout = graph_layout(root)
    columns = max(layout.x) + 1
    tallest = max(layout.x.count(c) for c in set(layout.x))
    fig, ax = _figure(ax, width=min(2.2 * columns + 1, 40), height=min(1.2 * tallest + 1.2, 40))
    highlight = set(highlight)
    edge_labels = edge_labels or {}
    sx, sy = 2.2, 1.2  # data units between columns / rows: boxes never overlap

    for src, dst in layout.edges:  # edges first, boxes on top of them
        p0 = (layout.x[src] * sx, layout.y[src] * sy)
        p1 = (layout.x[dst] * sx, layout.y[dst] * sy)
        arrow = FancyArrowPatch(p0, p1, arrowstyle="-|>", mutation_scale=12, color="0.45",
                                shrinkA=32, shrinkB=32, lw=1.0, zorder=1)  # fmt: skip
        ax.add_patch(arrow)
        label = edge_labels.get((layout.names[src], layout.names[dst]))
        if label:
            ax.text((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2 + 0.12, label, color=GRAD_COLOR,
                    ha="center", va="bottom", fontsize=8, zorder=4,
                    gid=f"edge:{layout.names[src]}->{layout.names[dst]}")  # fmt: skip

    for i, t in enumerate(layout.nodes):
        name = layout.names[i]
        grad = grads.get(name) if grads is not None else t.grad
        if name in highlight:
            color = ACTIVE_COLOR
        elif t.op is None:
            color = LEAF_COLOR if (t.requires_grad or t.name) else CONST_COLOR
        else:
            color = OP_COLOR
        ax.text(layout.x[i] * sx, layout.y[i] * sy, _node_text(name, t, grad, show_grad),
                ha="center", va="center", fontsize=8, family="monospace", zorder=3, gid=name,
                bbox=dict(boxstyle="round,pad=0.4", fc=color, ec="0.3",
                          lw=2.0 if name in highlight else 0.8))  # fmt: skip

    ax.set_xlim(-0.9 * sx / 2 - 0.4, (columns - 1) * sx + 0.9 * sx / 2 + 0.4)
    ys = [y * sy for y in layout.y]
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


# --------------------------------------------------------------------------- to_dot (text)
def to_dot(root: Tensor) -> str:
    """The graph as Graphviz DOT text (render it with ``dot -Tsvg`` if you have Graphviz).
    Node ids are the run-independent names of ``node_names``."""
    layout = graph_layout(root)
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
    number). ``grads`` is every gradient known after this step (partial sums included).
    """

    index: int
    node: str
    op: str
    inputs: list[str]
    received: list[tuple[str, np.ndarray]]
    upstream: np.ndarray
    local: list[np.ndarray | None]
    downstream: list[np.ndarray | None]
    grads: dict[str, np.ndarray] = field(repr=False)
    root: str = ""

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
            total = self.grads.get(name)
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
    seed = np.ones_like(root.data) if grad is None else np.asarray(grad, dtype=root.dtype)
    grads: dict[str, np.ndarray] = {name(root): seed}
    received: dict[str, list[tuple[str, np.ndarray]]] = {name(root): [("seed", seed)]}
    steps = []
    for node in reversed(toposort(root)):
        if node.op is None or name(node) not in grads:
            continue
        g = grads[name(node)]
        arrays = [x.data for x in node.inputs]
        down = node.op.vjp(g, node.data, *arrays, **node.settings)
        scalar = node.data.size == 1
        if scalar:
            one = np.ones_like(node.data)
            local_all = node.op.vjp(one, node.data, *arrays, **node.settings)
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
                grads=dict(grads),
                root=name(root),
            )
        )
    return steps


def draw_backward_step(
    root: Tensor, step: int, *, steps: list[BackwardStep] | None = None, ax: Axes | None = None
) -> Figure:
    """Draw step ``step`` (0-based) of the backward pass: the node being processed in orange,
    the gradients known so far in red, and on each edge into it the downstream gradient it
    sends (with the local gradient when the node is a scalar)."""
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
    return draw_graph(root, grads=s.grads, highlight=[s.node], edge_labels=labels,
                      title=title, ax=ax)  # fmt: skip
