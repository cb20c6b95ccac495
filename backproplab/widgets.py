"""Explorers for JupyterLab: sliders over the pictures in ``plotting``.

Each explorer is two things: a plain function that computes the numbers (``gradient_norms``,
``train_2d``, ``eps_errors_at``, ``plotting.backward_steps``), testable without a kernel, and a
thin factory that puts ipywidgets controls in front of it. A factory returns an
``ipywidgets.interactive``: display it in a notebook cell (it is the last expression), or set
its controls' ``.value`` and read ``.result`` -- what the function computed -- without one::

    stepper = backward_stepper(L)
    stepper.children[0].value = 2      # the "step" slider
    stepper.result.node                # the node processed at step 2

Widget state is not saved in notebooks by default: re-run the cell to see an explorer again.
"""

from __future__ import annotations

import sys
import traceback
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from . import plotting
from .tensor import Tensor, as_array

if TYPE_CHECKING:
    from .nn import Module
    from .train import History

__all__ = [
    "INITS",
    "ExplorerBox",
    "backward_stepper",
    "eps_errors_at",
    "eps_explorer",
    "gradient_explorer",
    "gradient_norms",
    "train_2d",
    "training_explorer",
]

# the initialisations the explorers offer: a name in nn.init_weight, or a standard deviation
INITS: dict[str, str | float] = {
    "xavier": "xavier",
    "he": "he",
    "small (std 0.01)": 0.01,
    "large (std 1.0)": 1.0,
}


class _Explorer(widgets.interactive):
    """``widgets.interactive`` that hands what its function prints and displays to its output
    widget as state, instead of as output messages. JupyterLab can receive such messages before
    it knows that they belong to the widget, and then shows them in its log console (seen on
    the first move of a slider); written into ``out.outputs``, they cannot go anywhere else."""

    def __repr__(self) -> str:  # the text shown where the widget cannot be drawn (no kernel)
        return _without_kernel([w.description or w._kwarg for w in self.kwargs_widgets])

    def update(self, *args: object) -> None:
        from IPython.utils.capture import capture_output

        self.kwargs = {widget._kwarg: widget.get_interact_value() for widget in self.kwargs_widgets}
        with capture_output() as captured:
            try:
                self.result = self.f(**self.kwargs)
            except Exception:  # shown where the picture would be, as interactive does
                print(traceback.format_exc(), file=sys.stderr)
        outputs = [  # the figure first, then the text (the explorers draw, then print)
            {"output_type": "display_data", "data": out.data, "metadata": out.metadata or {}}
            for out in captured.outputs
        ]
        outputs += [
            {"output_type": "stream", "name": name, "text": text}
            for name, text in (("stdout", captured.stdout), ("stderr", captured.stderr))
            if text
        ]
        self.out.outputs = tuple(outputs)


def _without_kernel(names: list[str]) -> str:
    """The one line an explorer shows where no kernel draws it (a stored output, a static page)."""
    return f"An explorer ({', '.join(map(repr, names))}): run the cell in JupyterLab to use it."


class ExplorerBox(widgets.VBox):
    """A notebook's own explorer: its ``controls`` above the ``shown`` output area, styled like
    the explorers here (class ``widget-interact``); where no kernel draws it, the same one line,
    naming the controls by their keys, instead of ipywidgets' cut-off list of its children."""

    def __init__(self, controls: dict[str, widgets.Widget], shown: widgets.Output) -> None:
        super().__init__([*controls.values(), shown])
        self.add_class("widget-interact")
        self._names = list(controls)

    def __repr__(self) -> str:
        return _without_kernel(self._names)


def _show(fig: plt.Figure) -> None:
    """Display a figure in the widget's output area and free it (no figure piles up)."""
    from IPython.display import display

    display(fig)
    plt.close(fig)


# ----------------------------------------------------------------------------- backward stepper
def backward_stepper(root: Tensor) -> widgets.interactive:
    """A slider over the steps of ``root``'s backward pass (``plotting.backward_steps``): each
    position draws the graph with the node being processed and says, in numbers, what it
    received, multiplied and sent. ``.result`` is the current ``BackwardStep``."""
    steps = plotting.backward_steps(root)
    if not steps:
        raise ValueError("backward_stepper: the graph has no op that needs a gradient")

    def show(step: int) -> plotting.BackwardStep:
        _show(plotting.draw_backward_step(root, step - 1, steps=steps))
        # one sentence a line: JupyterLab breaks a long output line anywhere, even inside "-4"
        print("\n".join(steps[step - 1].sentences()))
        return steps[step - 1]

    slider = widgets.IntSlider(value=1, min=1, max=len(steps), description="step")
    return _Explorer(show, step=slider)


# ------------------------------------------------------------------ depth / activation / init
def gradient_norms(
    depth: int,
    activation: str,
    init: str | float,
    *,
    width: int = 32,
    n_in: int = 16,
    batch: int = 64,
    residual: bool = False,
    seed: int = 0,
) -> dict[str, float]:
    """||dL/dW|| per Linear layer (input side first) of a freshly initialised
    ``nn.deep_network(depth, width, ...)`` after one backward pass on random inputs
    (standard normal, ``batch`` x ``n_in``) with random labels from 4 classes."""
    from .nn import deep_network

    rng = np.random.default_rng(seed)
    model = deep_network(depth, width, residual=residual, activation=activation, init=init,
                         n_in=n_in, n_out=4, rng=rng)  # fmt: skip
    X = rng.normal(size=(batch, n_in))
    y = rng.integers(0, 4, size=batch)
    return plotting.layer_gradient_norms(model, X, y)


def gradient_explorer(max_depth: int = 40, width: int = 32) -> widgets.interactive:
    """Depth, activation, initialisation and skip connections -> the gradient norm of every
    layer at initialisation (log scale) and those of the first and last layer in numbers: watch
    gradients vanish or explode as depth grows. ``.result`` is the dict of norms from
    ``gradient_norms``."""

    def show(depth: int, activation: str, init: str, residual: bool) -> dict[str, float]:
        norms = gradient_norms(depth, activation, INITS[init], width=width, residual=residual)
        first, last = list(norms.values())[0], list(norms.values())[-1]
        label = f"{activation}, {init}" + (", residual" if residual else "")
        with warnings.catch_warnings():  # every norm 0.0: an empty log plot, said below
            warnings.filterwarnings("ignore", "Data has no positive values")
            _show(plotting.plot_gradient_norms({label: norms}))
        kind = f"{'residual' if residual else 'plain'} layer{'s' * (depth != 1)}"
        ratio = f"first / last = {first / last:.1e}" if last > 0 else "the last is exactly 0"
        print(
            f"{depth} hidden {kind}, {activation}, init {init}:\n"
            f"||dL/dW|| first layer {first:.1e}, last layer {last:.1e}, {ratio}"
        )
        if 0.0 in norms.values():  # a log scale cannot show them: say so
            print(f"{list(norms.values()).count(0.0)} layers have a gradient of exactly 0 "
                  "(below the smallest float), not drawn")  # fmt: skip
        return norms

    return _Explorer(
        show,
        depth=widgets.IntSlider(value=10, min=1, max=max_depth, description="depth"),
        activation=widgets.Dropdown(
            options=["sigmoid", "tanh", "relu", "leaky_relu"],
            value="sigmoid",
            description="activation",
        ),  # fmt: skip
        init=widgets.Dropdown(options=list(INITS), value="xavier", description="init"),
        residual=widgets.Checkbox(value=False, description="residual"),
    )


# ---------------------------------------------------------------------- training on 2-D data
def train_2d(
    dataset: str = "moons",
    *,
    lr: float = 0.03,
    width: int = 16,
    depth: int = 2,
    epochs: int = 60,
    activation: str = "relu",
    n: int = 200,
    seed: int = 0,
) -> tuple[Module, History, np.ndarray, np.ndarray]:
    """Train an MLP (``depth`` hidden layers of ``width`` units) with Adam on a 2-D dataset
    from ``backproplab.datasets`` (moons, circles, spirals, xor). Returns
    ``(model, history, X, y)``; the same arguments give the same result every run."""
    from . import datasets
    from .nn import MLP
    from .optim import Adam
    from .train import fit

    makers: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
        "moons": datasets.moons, "circles": datasets.circles, "spirals": datasets.spirals,
        "xor": datasets.xor,
    }  # fmt: skip
    if dataset not in makers:
        raise ValueError(f"train_2d: unknown dataset {dataset!r}; use one of {sorted(makers)}")
    X, y = makers[dataset](n=n, rng=seed)
    classes = int(y.max()) + 1
    model = MLP([2] + [width] * depth + [classes], activation=activation, rng=seed)
    history = fit(model, X, y, optimizer=Adam(model.parameters(), lr=lr), epochs=epochs,
                  batch_size=32, rng=seed)  # fmt: skip
    return model, history, X, y


def training_explorer(dataset: str = "moons", epochs: int = 60) -> widgets.interactive:
    """Learning rate, width and depth -> a freshly trained MLP's decision boundary, its loss
    curve and a line with its final accuracy and loss (training runs when a slider is released).
    ``.result`` is ``(model, history)``."""

    def show(lr: float, width: int, depth: int) -> tuple[Module, History]:
        model, history, X, y = train_2d(dataset, lr=lr, width=width, depth=depth, epochs=epochs)
        loss = history.train_loss
        fig, (left, right) = plt.subplots(1, 2, figsize=(8.5, 3.6))  # readable when scaled down
        title = f"{dataset}: training accuracy {history.train_acc[-1]:.2f}"
        plotting.plot_decision_boundary(model, X, y, ax=left, resolution=100, title=title)
        right.plot(history.epochs, history.train_loss)
        right.set(xlabel="epoch", ylabel="training loss", yscale="log", title="loss")
        right.grid(alpha=0.3, which="both")
        fig.tight_layout()
        _show(fig)
        print(
            f"lr {lr:.3g}, width {width}, depth {depth}:\ntraining accuracy "
            f"{history.train_acc[-1]:.2f}, loss {loss[0]:.3g} -> {loss[-1]:.3g} in {epochs} epochs"
        )
        return model, history

    slow = {"continuous_update": False}  # train once per release, not on every pixel
    return _Explorer(
        show,
        lr=widgets.FloatLogSlider(value=0.03, base=10, min=-4, max=0, description="lr", **slow),
        width=widgets.IntSlider(value=16, min=2, max=64, description="width", **slow),
        depth=widgets.IntSlider(value=2, min=1, max=4, description="depth", **slow),
    )


# -------------------------------------------------------------------------------- eps explorer
def eps_errors_at(
    f: Callable[[float], float], exact: float, x: float, eps: float
) -> dict[str, float]:
    """The one-sided and central difference estimates of f'(x) for one ``eps``, and their
    errors against ``exact`` (see ``plotting.finite_difference_errors``), as floats (also
    when ``f`` or ``exact`` is a Tensor)."""
    value = lambda v: float(as_array(f(v)))  # noqa: E731
    exact = float(as_array(exact))
    forward = (value(x + eps) - value(x)) / eps
    central = (value(x + eps) - value(x - eps)) / (2 * eps)
    return {
        "eps": eps,
        "forward": forward,
        "central": central,
        "forward_error": abs(forward - exact),
        "central_error": abs(central - exact),
    }


def eps_explorer(
    f: Callable[[float], float] = np.exp, exact: float | None = None, x: float = 1.0
) -> widgets.interactive:
    """A slider over log10(eps): the numerical derivative of ``f`` at ``x`` and its error,
    marked on the error-vs-eps curve. ``exact`` may be left out only for the default f, np.exp
    (it is then e^x); any other f needs its exact derivative at x. ``.result`` is the dict of
    ``eps_errors_at``."""
    if exact is None and f is not np.exp:
        raise ValueError(
            "eps_explorer: give exact, the true derivative of f at x (it is e^x only for "
            "the default f, np.exp)"
        )
    exact = float(np.exp(x)) if exact is None else exact

    def show(log10_eps: float) -> dict[str, float]:
        point = eps_errors_at(f, exact, x, 10.0**log10_eps)
        fig = plotting.plot_eps_error(f, exact, x)
        ax = fig.axes[0]
        tiny = np.finfo(float).tiny  # an error of exactly 0 sits at the bottom of the log axis
        # the colours and markers of the curves, bigger; the second one smaller, on top, so
        # that both show where they meet
        for k, (kind, name, size) in enumerate((("forward", "one-sided", 11),
                                                ("central", "central", 7))):  # fmt: skip
            style = plotting.style.curve(k)
            ax.plot(point["eps"], max(point[f"{kind}_error"], tiny), style["marker"],
                    color=style["color"], mec="k", ms=size, zorder=5,
                    label=f"{name}, this eps")  # fmt: skip
        ax.legend()
        _show(fig)
        print(  # short lines: JupyterLab breaks a long one anywhere, even inside a number
            f"eps = {point['eps']:.1e}:\n"
            f"  one-sided {point['forward']: .12f}  (error {point['forward_error']:.1e})\n"
            f"  central   {point['central']: .12f}  (error {point['central_error']:.1e})\n"
            f"  exact     {exact: .12f}"
        )
        return point

    slider = widgets.FloatSlider(value=-5, min=-15, max=0, step=0.5, description="log10 eps")
    return _Explorer(show, log10_eps=slider)
