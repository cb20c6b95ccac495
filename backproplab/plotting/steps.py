"""The backward pass, step by step: what each node receives, multiplies and sends on.

``backward_steps`` watches the engine's own ``backward`` through its hook; ``draw_backward_step``
draws one step on the graph picture.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._format import format_array
from ..autodiff import GradientAccumulationWarning, backward, sum_to_shape
from ..tensor import Tensor
from .graphs import _names, _wrap, draw_graph, graph_nodes

if TYPE_CHECKING:
    from ..ops import Op


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

    def sentences(self) -> list[str]:
        """The step as sentences, with the numbers (the step-through prints one a line)."""
        d = f"d{self.root}"
        parts = [f"Step {self.index + 1}: {self.node} = {self.op}({', '.join(self.inputs)})."]
        upstream = f"upstream {d}/d{self.node} = {format_array(self.upstream)}."
        if len(self.received) > 1:
            sent = " + ".join(f"{format_array(g)} from {who}" for who, g in self.received)
            upstream = f"It received {sent}, so {upstream}"
        parts.append(upstream)
        last = {name: k for k, name in enumerate(self.inputs)}  # x * x: x's total comes once
        for k, (name, loc, down) in enumerate(zip(self.inputs, self.local, self.downstream)):
            if down is None:
                parts.append(f"{name} is a constant: nothing to send.")
            elif loc is not None:
                parts.append(
                    f"local d{self.node}/d{name} = {format_array(loc)}, so downstream "
                    f"{d}/d{name} = {_factor(self.upstream)} × {_factor(loc)} "
                    f"= {format_array(down)}."
                )
            else:
                parts.append(f"downstream {d}/d{name} = {format_array(down)} (by the vjp).")
            total = self.totals.get(name)
            if k != last[name] or down is None or total is None:
                continue  # (the total is what the input holds after this whole step)
            if not np.array_equal(total, down):
                parts.append(f"({name} now holds the sum {format_array(total)}.)")
        return parts

    def describe(self) -> str:
        """The step in one paragraph, with the numbers: its ``sentences()`` joined."""
        return " ".join(self.sentences())


def backward_steps(root: Tensor, grad: object = None) -> list[BackwardStep]:
    """The backward pass of ``root`` as a list of steps, in the order ``backward()`` takes them.

    It runs the engine's own ``backward`` and watches it through its ``hook`` (one call per
    node, after the node has sent its gradients), then puts every ``.grad`` back as it was.
    The final ``grads`` of the last step equal what ``root.backward(grad)`` computes.
    """
    nodes = graph_nodes(root)
    names = dict(zip(map(id, nodes), _names(nodes)))  # the drawing's names: an unnamed loss is L
    name = lambda t: names[id(t)]  # noqa: E731
    before = [t.grad for t in nodes]
    received: dict[str, list[tuple[str, np.ndarray]]] = {}
    steps: list[BackwardStep] = []

    def watch(node: Tensor, grads: tuple) -> None:
        op, upstream, seed = node.op, node.grad, root.grad
        assert op is not None and upstream is not None and seed is not None  # (backward's hook)
        downstream = [
            sum_to_shape(np.asarray(g() if callable(g) else g, x.dtype), x.shape)
            if g is not None and x.requires_grad
            else None
            for x, g in zip(node.inputs, grads)
        ]  # fmt: skip
        local = _local_gradients(node, op, downstream)
        for x, d in zip(node.inputs, downstream):
            if d is not None:
                received.setdefault(name(x), []).append((name(node), d))
        steps.append(
            BackwardStep(
                index=len(steps),
                node=name(node),
                op=op.name,
                inputs=[name(x) for x in node.inputs],
                received=received.get(name(node), [("seed", upstream)]),
                upstream=upstream,
                local=local,
                downstream=downstream,
                totals={name(x): x.grad for x in node.inputs if x.grad is not None},
                root=name(root),
                seed=seed,
                previous=steps[-1] if steps else None,
            )
        )

    for t in nodes:
        t.grad = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GradientAccumulationWarning)
            backward(root, grad, hook=watch)
    except (ValueError, RuntimeError) as error:
        raise type(error)(str(error).replace("backward:", "backward_steps:", 1)) from None
    finally:
        for t, g in zip(nodes, before):
            t.grad = g
    return steps


def _local_gradients(node: Tensor, op: Op, downstream: list) -> list[np.ndarray | None]:
    """d(node)/d(input) for each scalar input of a scalar node (the vjp with g = 1), else None."""
    if node.data.size != 1:
        return [None] * len(node.inputs)
    out = node.saved  # what the rule's vjp gets as `out`
    one = np.ones_like(node.data)
    local = op.vjp(one, out, *[x.data for x in node.inputs], **node.settings)
    return [
        np.asarray(loc() if callable(loc) else loc, dtype=x.dtype).reshape(x.shape)
        if d is not None and x.data.size == 1
        else None
        for x, loc, d in zip(node.inputs, local, downstream)
    ]  # fmt: skip


def draw_backward_step(
    root: Tensor,
    step: int,
    *,
    steps: list[BackwardStep] | None = None,
    ax: Axes | None = None,
    keep_labels: bool = False,
) -> Figure:
    """Draw step ``step`` (0-based) of the backward pass: the node being processed in orange
    with a bold edge, nodes already processed in green with a tick (✓), the gradients known so
    far, and on each edge into it the downstream gradient it sends (upstream × local =
    downstream when the node is a scalar).
    With ``keep_labels=True`` the edges of the earlier steps keep their labels too (for a page
    that shows every step at once). Every step has the same layout: the columns are spaced for
    the last step's gradients and for the labels of all steps."""
    steps = backward_steps(root) if steps is None else steps
    if not 0 <= step < len(steps):
        raise IndexError(f"draw_backward_step: step {step} is out of range: there are {len(steps)}")
    s = steps[step]
    title = f"step {step + 1} of {len(steps)}: {s.node} = {s.op}, "
    title += f"upstream {format_array(s.upstream)}"
    finished = [earlier.node for earlier in steps[:step]]
    labels = {}
    for each in steps[: step + 1] if keep_labels else [s]:
        labels.update(_edge_labels(each))
    every_label = {key: text for each in steps for key, text in _edge_labels(each).items()}
    return draw_graph(root, grads=s.grads, highlight=[s.node], done=finished,
                       edge_labels=labels, title=title, ax=ax,
                       reserve_grads=steps[-1].grads, reserve_labels=every_label)  # fmt: skip


def _edge_labels(s: BackwardStep) -> dict[tuple[str, str], str]:
    """The label on each edge into the step's node: upstream × local = downstream when the node
    is a scalar (on two lines when long), else the downstream gradient's shape over its norm."""
    labels = {}
    for name, loc, down in zip(s.inputs, s.local, s.downstream):
        if down is None:
            continue
        text = _wrap(format_array(down).replace(") |", ")\n|"), indent=1)
        if loc is not None:  # upstream x local = downstream, the chain rule on the edge
            text = f"{_factor(s.upstream)}×{_factor(loc)}={text}"
            if len(text) > 12:  # a narrow label keeps the columns close: the product, then
                text = text.replace("=", "\n=", 1)  # its value under it
        labels[(name, s.node)] = text
    return labels


def _factor(a: np.ndarray) -> str:
    """A number written as a factor of a product: -4 becomes (-4), so that 1 × (-4) reads right."""
    text = format_array(a)
    return f"({text})" if text.startswith("-") else text
