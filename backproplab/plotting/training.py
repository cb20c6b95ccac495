"""Pictures of training: loss curves, gradient norms and activations by layer, decision
boundaries."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..tensor import Tensor, as_array
from .graphs import _figure
from .style import COLORS, curve

if TYPE_CHECKING:
    from ..nn import Module, Sequential
    from ..train import Diagnostics, History


# ----------------------------------------------------------------------------- training curves
def plot_history(history: History, *, title: str | None = None) -> Figure:
    """Loss (left) and accuracy (right) per epoch from ``fit``'s History; test curves are
    drawn when the History has test numbers (they are NaN without test data). A loss that is NaN
    or inf (a diverged run) cannot be drawn: the loss panel's title says at which epochs."""
    if not len(history.train_loss):
        raise ValueError("plot_history: the History has no epochs (fit ran 0 epochs)")
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    epochs = history.epochs
    loss_ax.plot(epochs, history.train_loss, **curve(0), ms=3, label="train")
    acc_ax.plot(epochs, history.train_acc, **curve(0), ms=3, label="train")
    if len(history.test_loss) and not np.all(np.isnan(history.test_loss)):
        loss_ax.plot(epochs, history.test_loss, **curve(1), ms=3, label="test")
        acc_ax.plot(epochs, history.test_acc, **curve(1), ms=3, label="test")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="loss" + _not_finite(history.train_loss))
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (loss_ax, acc_ax):
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_step_loss(history: History, *, ax: Axes | None = None, smooth: int = 10) -> Figure:
    """The loss of every training step (faint) and its running mean over ``smooth`` steps. A
    loss that is NaN or inf cannot be drawn: the title says at which steps."""
    if not len(history.step_loss):
        raise ValueError("plot_step_loss: the History has no steps (fit ran 0 epochs)")
    fig, ax = _figure(ax, 6, 3.6)
    loss = np.asarray(history.step_loss, dtype=float)
    steps = np.arange(1, len(loss) + 1)
    ax.plot(steps, loss, color=COLORS[0], lw=0.8, alpha=0.35, label="each step")
    if len(loss) >= smooth > 1:
        mean = np.convolve(loss, np.ones(smooth) / smooth, mode="valid")
        ax.plot(steps[smooth - 1 :], mean, color=COLORS[1], lw=2, label=f"mean of {smooth} steps")
    ax.set(xlabel="step", ylabel="loss", title="loss per step" + _not_finite(loss, "step"))
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def _not_finite(values: Sequence[float] | np.ndarray, unit: str = "epoch") -> str:
    """Where a curve has NaN or inf, which a plot leaves out without a word, in words: "" if
    nowhere, else " (NaN or inf at epochs 3-5, 9: not drawn)"."""
    at = np.flatnonzero(~np.isfinite(np.asarray(values, dtype=float))) + 1
    if not at.size:
        return ""
    runs = np.split(at, np.flatnonzero(np.diff(at) > 1) + 1)  # 3, 4, 5, 9 -> [3 4 5], [9]
    where = ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs[:4])
    return f" (NaN or inf at {unit}s {where}{', ...' if len(runs) > 4 else ''}: not drawn)"


def _off_log_scale(values: Sequence[float | np.ndarray] | np.ndarray) -> str:
    """The layers (1 = next to the input) a log scale cannot show, zero, negative, NaN or inf,
    in words for a legend: "" if none, else " (not drawn: layer 3 = 0, layer 5 = nan)"."""
    heights = np.asarray(values, dtype=float)
    bad = [(k + 1, v) for k, v in enumerate(heights) if not (np.isfinite(v) and v > 0)]
    if not bad:
        return ""
    listed = ", ".join(f"layer {k} = {v:.3g}" for k, v in bad[:3])
    return f" (not drawn: {listed}{', ...' if len(bad) > 3 else ''})"


def _log_scale(ax: Axes) -> None:
    """A log y-axis for the lines of ``ax``. When none has a value it can show (every norm 0: a
    dead network), one decade either side of 1, instead of matplotlib's warning "Data has no
    positive values" (the legend says which values are not drawn)."""
    heights = [np.asarray(line.get_ydata(), dtype=float) for line in ax.lines]
    if not any(np.any(np.isfinite(h) & (h > 0)) for h in heights):
        ax.set_ylim(0.1, 10)
    ax.set_yscale("log")


# -------------------------------------------------------------------------- gradients by layer
@contextlib.contextmanager
def _model_left_as_it_was(model: Module) -> Iterator[None]:
    """A measurement runs the model as it is (in training mode: Dropout on, BatchNorm on the
    batch's statistics) but leaves no trace: BatchNorm's running averages, each module's
    random generator (Dropout's masks) and each parameter's ``.grad`` (the learner's own
    backward, which the measurement clears) are put back, so later results are those of a run
    without the measurement."""
    buffers = [(b, b.copy()) for _, b in model.named_buffers()]
    grads = [(p, p.grad) for p in model.parameters()]
    rngs = [
        (rng, rng.bit_generator.state)
        for _, m in model.named_modules()
        if isinstance(rng := getattr(m, "rng", None), np.random.Generator)
    ]
    try:
        yield
    finally:
        for b, old in buffers:
            b[...] = old
        for rng, state in rngs:
            rng.bit_generator.state = state
        for p, g in grads:
            p.grad = g


def layer_gradient_norms(
    model: Module, X: np.ndarray, y: np.ndarray, loss_fn: Callable | None = None
) -> dict[str, float]:
    """||dL/dW|| of every Linear layer's weight after one forward and backward pass on (X, y),
    input side first, keyed by the layer's dotted name; a frozen layer (its weight does not
    require grad) gets no gradient and is left out. The parameters' gradients are cleared for
    the measurement and put back afterwards (the model's weights are not changed, nor its
    running averages and random generators)."""
    from ..functional import cross_entropy
    from ..nn import Linear

    loss_fn = cross_entropy if loss_fn is None else loss_fn
    _needs_parameters(model, "layer_gradient_norms")
    with _model_left_as_it_was(model):
        model.zero_grad()
        loss_fn(model(Tensor(X, dtype=model.parameters()[0].dtype)), y).backward()
        return {
            name: float(np.linalg.norm(m.weight.grad))
            for name, m in model.named_modules()
            if isinstance(m, Linear) and m.weight.grad is not None
        }


def _needs_parameters(model: Module, who: str) -> None:
    """A clear error for a model with no parameters: no gradient to measure (not IndexError)."""
    if not model.parameters():
        raise ValueError(f"{who}: {type(model).__name__} has no parameters: no gradient to measure")


def hidden_gradient_norms(
    model: Sequential, X: np.ndarray, y: np.ndarray, loss_fn: Callable | None = None
) -> np.ndarray:
    """||dL/dx_l|| for the outputs of a ``deep_network``'s layers: x_0 (the input layer's
    activation), then the output of every hidden layer, input side first (L the mean
    cross-entropy on the whole batch). One forward pass keeps every layer's output; one backward
    pass fills in their gradients. The parameters' gradients are cleared for the measurement and
    put back afterwards."""
    from ..functional import cross_entropy

    loss_fn = cross_entropy if loss_fn is None else loss_fn
    _needs_parameters(model, "hidden_gradient_norms")
    # X requires grad so that every layer's output is in the graph, even in a frozen model
    h, outputs = Tensor(X, dtype=model.parameters()[0].dtype, requires_grad=True), []
    with _model_left_as_it_was(model):
        for layer in model:  # Linear, activation, hidden layer, ..., hidden layer, Linear
            h = layer(h)
            outputs.append(h)
        model.zero_grad()
        loss_fn(h, y).backward()
    return np.array([np.linalg.norm(t.grad) for t in outputs[1:-1]])


def plot_gradient_norms(
    norms: Mapping[str, Sequence[float] | Mapping[str, float]],
    *,
    ax: Axes | None = None,
    title: str = "gradient norm per layer",
) -> Figure:
    """One line per network: ||dL/dW|| against the layer (input side on the left), log scale,
    so a gradient that shrinks (vanishes) or grows (explodes) layer by layer is a slope. A norm
    the log scale cannot show (0, NaN, inf) is named in the legend.

    ``norms`` maps a label ("plain", "residual") to a list of norms or to the dict of
    ``layer_gradient_norms``.
    """
    empty = [label for label, values in norms.items() if not len(values)]
    if not norms or empty:  # an empty plot, without a word
        raise ValueError(f"plot_gradient_norms: no norms to draw{' for ' if empty else ''}"
                         f"{', '.join(map(repr, empty))}")  # fmt: skip
    fig, ax = _figure(ax, 7, 4)
    for k, (label, values) in enumerate(norms.items()):
        values = list(values.values()) if isinstance(values, Mapping) else list(values)
        heights = [as_array(v) for v in values]  # a norm computed with tensors: its number
        ax.plot(np.arange(1, len(heights) + 1), heights, **curve(k), ms=5,
                label=label + _off_log_scale(heights))  # fmt: skip
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    _log_scale(ax)
    ax.set(xlabel="layer (1 = next to the input)", ylabel="||dL/dW||", title=title)
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return fig


def plot_gradient_flow(diagnostics: Diagnostics, *, title: str | None = None) -> Figure:
    """Gradient norm per layer over training, from ``fit(..., diagnostics=True)``: left, one
    line per layer against the step; right, the norm against the layer at the first, middle
    and last record. A norm the log scale cannot show (0, NaN, inf) is named in the legend."""
    from ..train import Diagnostics

    if diagnostics is None:
        raise ValueError(
            "plot_gradient_flow: no diagnostics; train with fit(..., diagnostics=True)"
        )
    if not isinstance(diagnostics, Diagnostics):  # a History, say: its .diagnostics
        raise TypeError(f"plot_gradient_flow: expected a History's .diagnostics, got "
                        f"{type(diagnostics).__name__}")  # fmt: skip
    if diagnostics.grad_norm.size == 0:
        raise ValueError("plot_gradient_flow: no records; train with fit(..., diagnostics=True)")
    fig, (over_time, by_layer) = plt.subplots(1, 2, figsize=(11, 4))
    colors = plt.colormaps["viridis"](np.linspace(0, 0.9, len(diagnostics.layers)))
    for l, name in enumerate(diagnostics.layers):
        norms = diagnostics.grad_norm[:, l]
        missing = int(np.sum(~(np.isfinite(norms) & (norms > 0))))
        note = f" ({missing} records 0, NaN or inf: not drawn)" if missing else ""
        over_time.plot(diagnostics.step, norms, color=colors[l],
                       label=f"layer {name}{note}")  # fmt: skip
    _log_scale(over_time)
    over_time.set(xlabel="step", ylabel="||dL/dW||", title="during training")
    over_time.legend(fontsize=8, ncol=2)
    layers = np.arange(1, len(diagnostics.layers) + 1)
    n = len(diagnostics.step)
    for k, r in enumerate(sorted({0, n // 2, n - 1})):
        by_layer.plot(layers, diagnostics.grad_norm[r], **curve(k), ms=5,
                      label=f"step {diagnostics.step[r]}"
                      + _off_log_scale(diagnostics.grad_norm[r]))  # fmt: skip
    by_layer.set_xticks(layers)
    _log_scale(by_layer)
    by_layer.set(xlabel="layer (1 = next to the input)", ylabel="||dL/dW||", title="by layer")
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
    from ..autodiff import no_grad
    from ..nn import ACTIVATIONS
    from ..train import _model_dtype

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
        m.forward = spy(name, type(m).forward.__get__(m))  # type: ignore[method-assign]  # a spy
    try:
        with no_grad(), _model_left_as_it_was(model):
            model(Tensor(X, dtype=_model_dtype(model)))  # (a model without parameters too)
    finally:
        for _, m in watched:
            m.__dict__.pop("forward", None)
    return {name: seen[name] for name, _ in watched if name in seen}


def plot_activation_histograms(
    activations: Mapping[str, np.ndarray], *, bins: int = 40, title: str | None = None
) -> Figure:
    """One histogram per layer of the values in ``activations`` (e.g. ``layer_activations``),
    with the layer's mean and standard deviation in its title: watch them saturate or die.
    Values that are NaN or inf cannot be binned: the title counts them."""
    names = list(activations)
    if not names:
        raise ValueError("plot_activation_histograms: no activations to plot")
    cols = min(len(names), 5)
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.2 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        a = as_array(activations[name]).ravel().astype(float)  # a layer's output Tensor too
        finite = a[np.isfinite(a)]
        top = float(np.abs(finite).max()) if finite.size else 0.0
        # a diverged layer: its squares (for the std) and its max - min (for the bins, the axis)
        # would overflow, and bins of subnormal numbers (below 1e-308) have no width; so such a
        # layer is drawn in units of its largest value
        unit = top if top > 1e150 or 0 < top < 1e-150 else 1.0
        x = finite / unit
        ax.hist(x, bins=bins, color="#4c72b0")
        if unit != 1.0:
            ax.set_xlabel(f"× {unit:.3g}", fontsize=8)
        form = ".2f" if unit == 1.0 and top < 1e4 else ".3g"  # (not the 40 digits of 1e40)
        mean, std = (x.mean() * unit, x.std() * unit) if x.size else (0.0, 0.0)
        text = f"mean {mean:{form}} std {std:{form}}" if x.size else "no values"
        if finite.size < a.size:
            text += f"\n{a.size - finite.size} NaN or inf: not drawn"
        ax.set_title(f"{name}\n{text}", fontsize=8)
        ax.tick_params(labelsize=8)
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
    (N, 1): class 1 where it is positive), or to integer class labels (N,); returns the grid
    coordinates ``xx, yy`` (resolution x resolution) and the predicted class at each point.
    Scores that are NaN or inf are refused; one score per point all between 0 and 1
    (probabilities? they would all read as class 1) gets a warning.
    """
    X = as_array(X)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(f"decision_grid: needs 2-D points of shape (N, 2), N > 0, got {X.shape}")
    low, high = X.min(axis=0), X.max(axis=0)
    margin = np.where(high > low, 0.1 * (high - low) + 1e-9, 1.0)  # one point: a unit around it
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    scores = as_array(predict(np.column_stack([xx.ravel(), yy.ravel()])))
    if scores.ndim == 2 and scores.shape[1] == 1:  # one logit per point: a binary classifier
        scores = scores[:, 0]
    _check_scores(scores, xx.size)
    if scores.ndim == 1 and scores.dtype.kind in "biu":  # class labels (0, 1, 2): as they are
        return xx, yy, scores.astype(int).reshape(xx.shape)
    classes = scores.argmax(axis=1) if scores.ndim == 2 else (scores > 0).astype(int)
    return xx, yy, classes.reshape(xx.shape)


def _check_scores(scores: np.ndarray, n: int) -> None:
    """A clear error for what ``predict`` returned that would draw a wrong picture silently."""
    if scores.ndim not in (1, 2) or len(scores) != n:
        raise ValueError(f"decision_grid: predict returned shape {scores.shape} for {n} points; "
                         f"expected ({n}, C) logits, ({n},) or ({n}, 1)")  # fmt: skip
    if scores.dtype.kind == "f" and not np.all(np.isfinite(scores)):
        bad = int(np.sum(~np.all(np.isfinite(scores.reshape(n, -1)), axis=1)))
        raise ValueError(f"decision_grid: predict returned NaN or inf at {bad} of the {n} grid "
                         f"points (a diverged model?): they have no class to draw")  # fmt: skip
    if scores.ndim == 1 and scores.dtype.kind == "f" and 0 <= scores.min() <= scores.max() <= 1:
        # a logit model may be there too (untrained, say): a warning, not an error
        warnings.warn("decision_grid: predict returned one score per point, all between 0 and "
                      "1 (probabilities?); one score is read as a logit, class 1 where it is "
                      "positive, so every point is class 1; for probabilities return the logit "
                      "(before the sigmoid), or p - 0.5", stacklevel=3)  # fmt: skip


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
    from ..nn import Module
    from ..train import predict

    fn = (lambda P: predict(model, P)) if isinstance(model, Module) else model
    X, y = as_array(X), as_array(y)  # a Tensor or a list: its values, as decision_grid reads them
    xx, yy, classes = decision_grid(fn, X, resolution)
    fig, ax = _figure(ax, 5, 4.5)
    n_classes = int(max(classes.max(), np.max(y))) + 1
    styles = [curve(c) for c in range(n_classes)]  # a class: a colour and a marker of its own
    ax.contourf(xx, yy, classes, levels=np.arange(n_classes + 1) - 0.5, alpha=0.25,
                colors=[style["color"] for style in styles])  # fmt: skip
    for c, style in enumerate(styles):
        points = X[y == c]
        ax.scatter(points[:, 0], points[:, 1], s=14, color=style["color"], marker=style["marker"],
                   edgecolors="k", linewidths=0.3, label=f"class {c}")  # fmt: skip
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title or "decision boundary")
    ax.legend(fontsize=8, loc="best")
    return fig
