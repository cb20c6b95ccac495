"""What ``fit(..., diagnostics=True)`` records layer by layer: ``Diagnostics`` and the recorder
that fills it while training runs (notebooks 10 to 13 plot it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .nn import ACTIVATIONS, Identity, Linear, Module
from .tensor import Tensor


@dataclass
class Diagnostics:
    """Per-layer records, each an array indexed [record, layer], ready for ``plt.plot``.

    Gradient and update statistics are per Linear layer (named in ``layers``, input side first);
    activation statistics are per activation module (named in ``activations``). Record r was
    taken at optimizer step ``step[r]`` (counting from 1) during epoch ``epoch[r]``.

    * ``grad_norm[r, l]``: the Frobenius norm of dL/dW of layer l, ||grad W||.
    * ``update_ratio[r, l]``: ||W_after - W_before|| / ||W_before||, how much of the weight one
      step changes (about 1e-3 is the usual rule of thumb for a healthy rate).
    * ``act_mean``, ``act_std``: the mean and standard deviation of the activation's output
      over the batch and the units.
    * ``dead_fraction[r, a]``: the fraction of units whose output is 0 for every example in the
      batch (a dead ReLU unit passes no gradient back); after a convolution, a unit is one
      channel at one pixel.
    """

    layers: list[str]
    activations: list[str]
    step: np.ndarray
    epoch: np.ndarray
    grad_norm: np.ndarray
    update_ratio: np.ndarray
    act_mean: np.ndarray
    act_std: np.ndarray
    dead_fraction: np.ndarray

    def table(self, record: int = -1) -> str:
        """One record as a table, a row per layer: where is the gradient, what is dead?

        Row i shows Linear layer i beside activation i: in a network of Linear layers and
        activations taking turns that is the activation after the layer. (Activations after
        convolutions are counted too, so in a CNN the two columns do not line up.)"""
        r = record
        lines = [
            f"step {self.step[r]} (epoch {self.epoch[r]})",
            f"{'layer':<12}{'||grad W||':>12}{'update/W':>11}   {'activation':<12}"
            f"{'mean':>9}{'std':>9}{'dead':>7}",
        ]
        for i, name in enumerate(self.layers):
            row = f"{name:<12}{self.grad_norm[r, i]:>12.2e}{self.update_ratio[r, i]:>11.1e}   "
            if i < len(self.activations):
                row += (
                    f"{self.activations[i]:<12}{self.act_mean[r, i]:>9.3f}"
                    f"{self.act_std[r, i]:>9.3f}{self.dead_fraction[r, i]:>7.0%}"
                )
            lines.append(row.rstrip())
        return "\n".join(lines)


class Recorder:
    """Collects Diagnostics: wraps each activation module's forward to see its output."""

    def __init__(self, model: Module) -> None:
        modules = model.named_modules()
        self.linears = [(n, m) for n, m in modules if isinstance(m, Linear)]
        self.acts = [(n, m) for n, m in modules if is_activation(m)]
        self.rows: dict[str, list] = {
            k: [] for k in ("step", "epoch", "grad", "ratio", "mean", "std", "dead")
        }
        self.outputs: list[np.ndarray | None] = [None] * len(self.acts)

    def watch(self) -> None:
        """Start seeing activation outputs (an instance attribute shadows the class's forward)."""
        for i, (_, m) in enumerate(self.acts):
            m.forward = self._spy(i, type(m).forward.__get__(m))  # type: ignore[method-assign]  # a spy

    def unwatch(self) -> None:
        for _, m in self.acts:
            m.__dict__.pop("forward", None)

    def _spy(self, i: int, forward: Callable) -> Callable:
        def spying_forward(x: Tensor) -> Tensor:
            out = forward(x)
            self.outputs[i] = out.data
            return out

        return spying_forward

    def start(self) -> None:
        """Before a step: watch the activations and remember the weights."""
        self.watch()
        self.before = [m.weight.data.copy() for _, m in self.linears]

    def finish(self, step: int, epoch: int) -> None:
        """After a step: the gradients (still held by the parameters) and what changed."""
        r = self.rows
        r["step"].append(step)
        r["epoch"].append(epoch)
        grads = [m.weight.grad for _, m in self.linears]
        r["grad"].append([np.linalg.norm(g) if g is not None else np.nan for g in grads])
        r["ratio"].append(
            [
                np.linalg.norm(m.weight.data - w) / (np.linalg.norm(w) or 1.0)
                for (_, m), w in zip(self.linears, self.before)
            ]
        )
        # one row per example, one column per unit (a conv unit is a channel at a pixel)
        outs = [
            None if o is None else o.reshape(len(o) if o.ndim > 1 else 1, -1) for o in self.outputs
        ]
        r["mean"].append([o.mean() if o is not None else np.nan for o in outs])
        r["std"].append([o.std() if o is not None else np.nan for o in outs])
        r["dead"].append(
            [np.mean(np.all(o == 0, axis=0)) if o is not None else np.nan for o in outs]
        )
        self.outputs = [None] * len(self.acts)

    def result(self) -> Diagnostics:
        r = self.rows
        n_l, n_a = len(self.linears), len(self.acts)
        kept = min(map(len, r.values()))  # a record cut short by an interrupt is left out

        def arr(key: str, width: int) -> np.ndarray:
            return np.array(r[key][:kept], dtype=np.float64).reshape(kept, width)

        return Diagnostics(
            layers=[name for name, _ in self.linears],
            activations=[name for name, _ in self.acts],
            step=np.array(r["step"][:kept], dtype=np.int64),
            epoch=np.array(r["epoch"][:kept], dtype=np.int64),
            grad_norm=arr("grad", n_l),
            update_ratio=arr("ratio", n_l),
            act_mean=arr("mean", n_a),
            act_std=arr("std", n_a),
            dead_fraction=arr("dead", n_a),
        )


def is_activation(m: Module) -> bool:
    """Whether m is one of nn's activation layers (not Identity: it has nothing to watch)."""
    return type(m) in ACTIVATIONS.values() and type(m) is not Identity


def joined(before: Diagnostics | None, after: Diagnostics) -> Diagnostics:
    """The records of ``before`` followed by those of ``after`` (one History over two fits)."""
    if before is None:
        return after
    if (before.layers, before.activations) != (after.layers, after.activations):
        raise ValueError(  # fit checks this before training; kept here for any other caller
            f"fit: the History's diagnostics are of layers {before.layers}, but this model's "
            f"are {after.layers}; pass a new History for another model"
        )
    arrays = {
        name: np.concatenate([getattr(before, name), getattr(after, name)])
        for name in ("step", "epoch", "grad_norm", "update_ratio", "act_mean", "act_std")
        + ("dead_fraction",)
    }
    return Diagnostics(layers=after.layers, activations=after.activations, **arrays)
