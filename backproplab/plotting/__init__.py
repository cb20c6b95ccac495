"""Pictures: the computational graph, the backward pass step by step, training, calculus.

Everything here returns a matplotlib ``Figure`` (end the notebook cell with ``plt.show()``).
The logic behind each picture is a plain function that returns numbers -- ``graph_layout`` for
the graph, ``backward_steps`` for the step-through -- so tests and notebooks can read what a
picture shows without looking at pixels. One module per kind of picture:

* ``graphs``: the computational graph (names, layout, drawing, summaries of big graphs, dot text);
* ``steps``: the backward pass step by step, watched through the engine's own ``backward``;
* ``training``: loss curves, gradient norms and activations by layer, decision boundaries;
* ``calculus``: a function beside its derivative, finite-difference error against the step;
* ``style``: the curves of one picture told apart by colour, line style and marker.
"""

from .._format import format_array
from . import style
from .calculus import finite_difference_errors, plot_eps_error, plot_function_and_derivative
from .graphs import (
    ACTIVE_COLOR,
    CONST_COLOR,
    DONE_COLOR,
    GRAD_COLOR,
    LEAF_COLOR,
    OP_COLOR,
    GraphLayout,
    GraphSummary,
    draw_graph,
    graph_layout,
    graph_nodes,
    graph_summary,
    node_names,
    to_dot,
)
from .steps import BackwardStep, backward_steps, draw_backward_step
from .training import (
    decision_grid,
    hidden_gradient_norms,
    layer_activations,
    layer_gradient_norms,
    plot_activation_histograms,
    plot_decision_boundary,
    plot_gradient_flow,
    plot_gradient_norms,
    plot_history,
    plot_step_loss,
)

__all__ = [
    "ACTIVE_COLOR",
    "CONST_COLOR",
    "DONE_COLOR",
    "GRAD_COLOR",
    "LEAF_COLOR",
    "OP_COLOR",
    "BackwardStep",
    "GraphLayout",
    "GraphSummary",
    "backward_steps",
    "decision_grid",
    "draw_backward_step",
    "draw_graph",
    "finite_difference_errors",
    "format_array",
    "graph_layout",
    "graph_nodes",
    "graph_summary",
    "hidden_gradient_norms",
    "layer_activations",
    "layer_gradient_norms",
    "node_names",
    "plot_activation_histograms",
    "plot_decision_boundary",
    "plot_eps_error",
    "plot_function_and_derivative",
    "plot_gradient_flow",
    "plot_gradient_norms",
    "plot_history",
    "plot_step_loss",
    "style",
    "to_dot",
]
