"""Pictures of calculus: a function beside its derivative, and the error of finite differences
against the step size."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..autodiff import toposort
from ..tensor import Tensor, as_array
from .graphs import _figure
from .style import COLORS, curve


# ----------------------------------------------------------------------- functions, derivatives
def plot_function_and_derivative(
    f: Callable[[Tensor], Tensor],
    *,
    x: np.ndarray | None = None,
    name: str = "f",
    derivative: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Figure:
    """``f`` (left) and its derivative (right), the derivative computed by ``backward`` on
    ``f(x).sum()`` (each output depends on its own input only: a second backward checks it, and
    refuses a mean or a softmax). A hand-written ``derivative`` (numpy in, numpy out) is drawn
    dashed on top for comparison. Gradients of tensors ``f`` uses besides x are left as they
    were."""
    x = np.linspace(-5, 5, 401) if x is None else as_array(x).astype(float)
    t = Tensor(x, requires_grad=True)
    out = f(t)
    if not isinstance(out, Tensor):  # np.tanh(t.data), math.sin: no graph to differentiate
        raise TypeError(
            f"plot_function_and_derivative: f must return a Tensor computed from its argument "
            f"with the package's ops (t.tanh(), not np.tanh(t.data)), got {type(out).__name__}"
        )
    if out.shape != t.shape:  # the sum would add several outputs' slopes into one entry's
        raise ValueError(
            f"plot_function_and_derivative: f must act entry by entry, but f(x) has shape "
            f"{out.shape} for x of shape {t.shape}"
        )
    others = [(n, n.grad) for n in toposort(out) if n is not t]  # f's own weights, say
    out.sum().backward(accumulate=True)
    slope, t.grad = np.asarray(t.grad), None
    weights = np.linspace(1.0, 2.0, out.size).reshape(out.shape)  # a different one per entry
    out.backward(weights, accumulate=True)  # entry by entry: each slope times its own weight
    entrywise = np.allclose(
        np.asarray(t.grad), weights * slope, rtol=1e-9, atol=1e-300, equal_nan=True
    )  # (atol: subnormal slopes round coarsely)
    for n, g in others:
        n.grad = g
    if not entrywise:  # the gradient of the sum would mix the slopes of several entries
        raise ValueError(
            "plot_function_and_derivative: f must act entry by entry, but f(x)[i] depends on "
            "other entries of x too (a sum, a mean, a softmax?): the gradient of f(x).sum() "
            "would not be f'(x)"
        )
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(x, out.data, color=COLORS[0], label=f"{name}(x)")
    right.plot(x, slope, color=COLORS[0], label=f"{name}'(x) by backward")
    if derivative is not None:
        right.plot(x, as_array(derivative(x)), "--", color=COLORS[1], label=f"{name}'(x) by hand")
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
    f: Callable[[float], float], exact: float, x: float, eps: Sequence[float] | np.ndarray
) -> dict[str, np.ndarray]:
    """|numerical - exact| derivative of ``f`` at ``x`` for each step size in ``eps``, for the
    one-sided (f(x+e) - f(x)) / e and the central (f(x+e) - f(x-e)) / 2e difference.

    Large eps: truncation error (the secant is not the tangent: ~eps, ~eps^2). Small eps:
    rounding error (two nearly equal floats subtracted: ~1e-16 / eps). The best eps is between.
    """
    steps = as_array(eps).astype(float)
    if not np.all((steps > 0) & np.isfinite(steps)):  # (eps = 0 divides 0 by 0: NaN errors)
        bad = steps[~((steps > 0) & np.isfinite(steps))][0]
        raise ValueError(f"finite_difference_errors: every eps must be positive, got {bad:g}")
    value = lambda v: as_array(f(v))  # noqa: E731  # a Tensor (even in a graph): its numbers
    target = as_array(exact)
    forward = np.array([(value(x + e) - value(x)) / e for e in steps])
    central = np.array([(value(x + e) - value(x - e)) / (2 * e) for e in steps])
    return {"eps": steps, "forward": np.abs(forward - target), "central": np.abs(central - target)}


def plot_eps_error(
    f: Callable[[float], float],
    exact: float,
    x: float,
    *,
    eps: Sequence[float] | np.ndarray | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The precision trade-off of numerical derivatives: error against eps, log-log, for the
    one-sided and central differences (see ``finite_difference_errors``)."""
    steps = np.logspace(-15, 0, 61) if eps is None else eps
    errors = finite_difference_errors(f, exact, x, steps)
    fig, ax = _figure(ax, 6.5, 4)
    tiny = np.finfo(float).tiny  # an exact hit (error 0) would vanish from a log plot
    for k, (kind, name) in enumerate([("forward", "one-sided"), ("central", "central")]):
        missing = int(np.sum(np.isnan(errors[kind])))  # f undefined at x - eps, say: no point
        note = f" ({missing} eps give NaN: not drawn)" if missing else ""
        ax.loglog(errors["eps"], np.maximum(errors[kind], tiny), **curve(k), ms=3,
                  label=name + note)  # fmt: skip
    ax.set(xlabel="eps", ylabel="|numerical - exact|", title=f"derivative error at x = {x:g}")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return fig
