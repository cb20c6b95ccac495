"""What a graph drawing refuses, in one line each: a graph with an input changed in place after
the forward pass read it, and node names (``highlight``, ``done``) that are no node of the graph."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .graphs import GraphLayout


def refuse_changed_inputs(layout: GraphLayout, who: str) -> None:
    """A clear error for a graph with an input changed in place after a node read it (an
    optimizer step after backward): its box would show the new value beside results computed
    from the old one."""
    name = {id(t): n for t, n in zip(layout.nodes, layout.names)}
    for x, node in ((x, t) for t in reversed(layout.nodes) for x in t.inputs):
        if x.modified > node.seq:  # the loss's end first, as backward's message
            raise RuntimeError(
                f"{who}: '{name[id(x)]}', an input of '{name[id(node)]}', was changed in place "
                f"(an optimizer step, p -= ... in no_grad) after the forward pass used it: its "
                f"box would show the new value beside results computed from the old one; run "
                f"the forward pass again before drawing"
            )


def refuse_unknown_names(layout: GraphLayout, highlight, done) -> None:
    """One line for a name of ``highlight`` or ``done`` that is no node of the graph: a typo
    would otherwise colour nothing, without a word."""
    names = set(layout.names)
    for what, given in (("highlight", highlight), ("done", done)):
        if isinstance(given, str):  # highlight="L" would be read letter by letter
            raise TypeError(f"draw_graph: {what} takes a list of node names, e.g. {what}=['L']")
        unknown = [name for name in given if name not in names]
        if unknown:
            raise ValueError(f"draw_graph: {what} names no node of the graph: {unknown[0]!r} "
                             f"(its nodes: {', '.join(layout.names[:12])}"
                             f"{', ...' if len(names) > 12 else ''})")  # fmt: skip
