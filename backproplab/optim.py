"""Optimizers: turn gradients into parameter updates.

Both follow PyTorch's update rules (``torch.optim.SGD`` and ``torch.optim.Adam``) step for step,
with the same formulas and defaults (given the same gradients for 20 steps, the float64 parameters
agree with torch 2.13's to 1e-15), so what you learn here carries over. Usage is the same too::

    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    for X, y in batches:
        opt.zero_grad()
        cross_entropy(model(X), y).backward()
        opt.step()

An optimizer reads ``p.grad`` and never writes into it (a gradient array may be shared with
other arrays); it updates ``p.data`` in place, which a tensor that requires grad owns (it
copies its data when made), and records the update (``p.mark_modified()``): ``backward`` on a
graph built before the step raises instead of using the new values. (The same update by hand:
``with bl.no_grad(): p -= lr * p.grad``.)

A frozen parameter (``p.requires_grad = False``, before or after the optimizer is made) may be
in the list, as in PyTorch: ``step`` leaves it alone until it is unfrozen.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._numbers import is_real
from .nn.module import Parameter
from .tensor import Tensor, as_array

# Every optimizer alive (held weakly): Module warns when a tensor one updates is replaced.
_OPTIMIZERS: weakref.WeakSet[Optimizer] = weakref.WeakSet()


def _held_by_an_optimizer(t: Tensor) -> bool:
    """Whether an optimizer still alive updates ``t`` (a replaced Parameter would not train;
    one whose optimizer is gone, a cell of the notebook making another, trains no worse)."""
    return any(p is t for optimizer in list(_OPTIMIZERS) for p in optimizer.params)


__all__ = ["SGD", "Adam", "Optimizer", "clip_grad_norm_"]


class Optimizer:
    """Holds the parameters and per-parameter state; subclasses define ``step``."""

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params: list[Tensor] = _parameters(type(self).__name__, params)
        self.lr = lr
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        _OPTIMIZERS.add(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled or deep-copied: known to Module's warning, as one made by ``__init__``."""
        self.__dict__.update(state)
        _OPTIMIZERS.add(self)

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """Not in backproplab: raises an AttributeError that says what to write instead."""
        raise AttributeError(
            f"{type(self).__name__} has no param_groups (PyTorch's groups of parameters with "
            f"settings of their own): it holds one list of parameters, .params, and one "
            f"learning rate, .lr; change it with opt.lr = ... (a schedule), or make one optimizer "
            f"per group"
        )

    @property
    def lr(self) -> float:
        """The learning rate; a schedule may change it between steps (``opt.lr *= 0.5``)."""
        return self._lr

    @lr.setter
    def lr(self, lr: float) -> None:  # checked when set (a schedule gone below 0 climbs the loss)
        self._lr = _non_negative(type(self).__name__, "learning rate", lr)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets ``.grad`` to None)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient and is not frozen."""
        raise NotImplementedError(
            f"{type(self).__name__} must define step(), its update (is the name misspelt?)"
        )

    def _some_gradient(self) -> None:
        """One line when no parameter has a gradient: the step would change nothing, without a
        word (the optimizer of another model, e.g. the model's cell run again but not this one).
        Parameters all frozen (``requires_grad = False``) are left alone, as asked."""
        if all(p.grad is None for p in self.params) and any(p.requires_grad for p in self.params):
            raise ValueError(
                f"{type(self).__name__}.step: none of its {len(self.params)} parameters has a "
                f"gradient, so the step would change nothing; call backward() on a loss computed "
                f"from the model this optimizer was made from (optim.SGD(model.parameters()))"
            )

    def _grad(self, p: Tensor, weight_decay: float) -> np.ndarray:
        """The gradient with L2 weight decay added: g + wd * p (a new array, never in place)."""
        g = p.grad
        assert g is not None  # step() skips the parameters that have no gradient
        if type(g) is not np.ndarray or g.shape != p.data.shape or g.dtype.kind not in "fiu":
            g = _checked_grad(type(self).__name__, g, p)  # set by hand: a Tensor, a list...
        return g + weight_decay * p.data if weight_decay else g


def _parameters(owner: str, params: Iterable[Tensor]) -> list[Tensor]:
    """``params`` as a list of tensors that require grad, each once, or a one-line error naming
    the usual mistake (the model itself, ``parameters`` uncalled, an iterator used up)."""
    if hasattr(params, "parameters") or callable(params):  # SGD(model), SGD(model.parameters)
        raise TypeError(
            f"{owner}: got {_what_was_given(params)}, not a list of tensors; "
            f"pass model.parameters() (called, with the parentheses)"
        )
    if isinstance(params, Tensor) or not isinstance(params, Iterable):  # SGD(p): its rows
        raise TypeError(
            f"{owner}: got {_what_was_given(params)}, not a list of tensors; "
            f"pass model.parameters(), or [p] for one tensor"
        )
    params = list(params)
    if not params:  # e.g. a generator that an earlier optimizer used up
        raise ValueError(
            f"{owner}: got an empty list of parameters (an iterator used up by an earlier call?)"
        )
    for i, p in enumerate(params):
        if isinstance(p, dict):  # SGD([{"params": ..., "lr": ...}]): PyTorch's groups
            raise TypeError(
                f"{owner}: item {i} is a dict (a PyTorch parameter group?); an optimizer here "
                f"takes one list of tensors and one lr: pass model.parameters(), or make one "
                f"optimizer per group"
            )
        if not isinstance(p, Tensor):
            raise TypeError(
                f"{owner}: item {i} is a {type(p).__name__}, not a tensor (pass model.parameters())"
            )
        if not p.requires_grad and not isinstance(p, Parameter):  # a frozen Parameter waits
            raise TypeError(  # e.g. bl.Tensor(w) without requires_grad=True: never trained
                f"{owner}: item {i} (shape {p.shape}) does not require grad, so it would never "
                f"be trained; make it with requires_grad=True (or bl.nn.Parameter)"
            )
    first: dict[int, int] = {}  # id -> index: a parameter listed twice is updated twice
    for i, p in enumerate(params):
        if first.setdefault(id(p), i) != i:
            raise ValueError(
                f"{owner}: item {i} is the same parameter as item "
                f"{first[id(p)]} (shape {p.shape}); list each parameter once"
            )
    return params


def _checked_grad(owner: str, g: object, p: Tensor) -> np.ndarray:
    """``p.grad`` as an array, or a one-line error if it cannot update ``p`` (backward always
    stores a float array of p's shape; a gradient set by hand may be anything)."""
    array = as_array(g)
    if array.dtype.kind not in "fiu":
        raise TypeError(
            f"{owner}: a gradient of dtype {array.dtype} ({type(g).__name__}) cannot update a "
            f"parameter of shape {p.shape} and dtype {p.dtype}"
        )
    if array.shape != p.shape:
        raise ValueError(
            f"{owner}: a gradient of shape {array.shape} does not fit a parameter of shape "
            f"{p.shape}"
        )
    return array


def _what_was_given(params: object) -> str:
    """Words for the two usual mistakes: the model itself, or its ``parameters`` uncalled."""
    if hasattr(params, "parameters"):
        return f"the model itself (a {type(params).__name__})"
    if isinstance(params, Tensor):
        return f"one tensor of shape {params.shape}"
    if not callable(params):
        return repr(params)[:40]
    return f"{getattr(params, '__name__', type(params).__name__)} without calling it"


def _non_negative(owner: str, what: str, value: object) -> float:
    """``value`` if it is a real number >= 0, else a one-line error naming it."""
    if not is_real(value) or isinstance(value, bool):
        raise TypeError(f"{owner}: {what} must be a number, got {value!r}")
    if not value >= 0:  # also NaN
        raise ValueError(f"{owner}: {what} must be >= 0, got {value}")
    if value == np.inf:  # one step would make every parameter inf or NaN
        raise ValueError(f"{owner}: {what} must be finite, got {value}")
    return value


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay (PyTorch's rule).

    With g = grad + weight_decay * p, each step does::

        v = g                          on the first step (momentum > 0)
        v = momentum * v + g           afterwards
        p = p - lr * v                 (p = p - lr * g without momentum)

    NB: some texts write v = momentum * v + (1 - momentum) * g or fold lr into v; PyTorch (and
    this class) uses the form above, so lr and momentum mean the same thing as in PyTorch.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not 0 <= _non_negative("SGD", "momentum", momentum) < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        self.momentum = momentum
        self.weight_decay = _non_negative("SGD", "weight_decay", weight_decay)

    def step(self) -> None:
        """One update of every parameter that has a gradient and is not frozen."""
        self._some_gradient()
        lr, momentum, weight_decay = self.lr, self.momentum, self.weight_decay
        for p, state in zip(self.params, self.state):
            if p.grad is None or not p.requires_grad:
                continue
            g = self._grad(p, weight_decay)
            if momentum:
                if "velocity" not in state:
                    state["velocity"] = np.array(g, dtype=p.dtype)  # a copy: g may be p.grad
                else:
                    v = state["velocity"]
                    v *= momentum
                    v += g
                g = state["velocity"]
            p.data -= lr * g
            p.mark_modified()  # a graph that used the old value can no longer backpropagate


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with PyTorch's rule and defaults.

    With g = grad + weight_decay * p and t the step number (1, 2, ...)::

        m = beta1 * m + (1 - beta1) * g             running mean of gradients
        v = beta2 * v + (1 - beta2) * g**2          running mean of squared gradients
        m_hat = m / (1 - beta1**t) ; v_hat = v / (1 - beta2**t)   undo the bias towards 0
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    Each parameter moves by about lr per step whatever the scale of its gradient.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), e.g. (0.9, 0.999), got "
                            f"{betas!r}")  # fmt: skip
        if not all(_non_negative("Adam", "betas", b) < 1 for b in betas):
            raise ValueError(f"Adam: betas must lie in [0, 1), got {betas}")
        self.betas = tuple(betas)
        self.eps = _non_negative("Adam", "eps", eps)
        self.weight_decay = _non_negative("Adam", "weight_decay", weight_decay)

    def step(self) -> None:
        """One update of every parameter that has a gradient and is not frozen."""
        self._some_gradient()
        beta1, beta2 = self.betas
        for p, state in zip(self.params, self.state):
            if p.grad is None or not p.requires_grad:
                continue
            g = self._grad(p, self.weight_decay)
            if "m" not in state:
                state["m"] = np.zeros_like(p.data)
                state["v"] = np.zeros_like(p.data)
                state["t"] = 0
            m, v = state["m"], state["v"]
            state["t"] += 1
            t = state["t"]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            # PyTorch's arrangement: lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
            denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + self.eps
            p.data -= (self.lr / (1 - beta1**t)) * m / denom
            p.mark_modified()  # a graph that used the old value can no longer backpropagate


def clip_grad_norm_(params: Iterable[Tensor], max_norm: float) -> float:
    """Scale every gradient by one factor so that their global norm is at most ``max_norm``.

    The global norm is the square root of the sum of the squares of every entry of every
    ``p.grad`` (parameters without a gradient are left out). Above ``max_norm``, each ``p.grad``
    is replaced by ``p.grad * (max_norm / norm)``, a new array (one may be shared); at or below
    it, nothing changes. The direction of the step stays; its length is capped. Call it between
    ``backward()`` and ``step()``; it returns the norm before clipping, to watch it::

        loss.backward()
        norm = clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()

    As PyTorch's ``torch.nn.utils.clip_grad_norm_``, except that PyTorch divides by
    ``norm + 1e-6`` (its clipped norm is a hair below ``max_norm``; here it is ``max_norm``
    itself, as the example shows). A norm that is inf or NaN raises: no factor
    makes such a gradient a step worth taking. So does a list in which no parameter has a
    gradient (PyTorch returns 0): called before ``backward()``, it would clip nothing.

    >>> w = Tensor([3.0, 4.0], requires_grad=True)
    >>> w.grad = np.array([3.0, 4.0])
    >>> clip_grad_norm_([w], max_norm=1.0)
    5.0
    >>> w.grad
    array([0.6, 0.8])
    """
    params = _parameters("clip_grad_norm_", params)
    if _non_negative("clip_grad_norm_", "max_norm", max_norm) == 0:
        raise ValueError("clip_grad_norm_: max_norm must be > 0 (0 would set every gradient to 0)")
    grads = [(p, _checked_grad("clip_grad_norm_", p.grad, p)) for p in params if p.grad is not None]
    if not grads:  # e.g. between zero_grad() and backward(): training would go on unclipped
        raise ValueError(
            "clip_grad_norm_: no parameter has a gradient (every .grad is None); call it after "
            "backward() and before step()"
        )
    norm = _global_norm([g for _, g in grads])
    if not np.isfinite(norm):
        raise ValueError(
            f"clip_grad_norm_: the gradients' global norm is {norm}: a gradient holds inf or "
            f"NaN, or the norm is beyond float64's largest number"
        )
    if norm > max_norm:
        for p, g in grads:
            p.grad = g * (max_norm / norm)
    return norm


def _global_norm(grads: list[np.ndarray]) -> float:
    """sqrt(sum of g**2 over every entry of every g), in float64, with every entry first divided
    by a power of two near the largest |entry|: the same number to the last bit (a power of two
    only moves the exponent), but no square overflows (1e200) or underflows to 0 (1e-170)."""
    largest = float(np.max([np.max(np.abs(g)) for g in grads if g.size], initial=0.0))
    if largest == 0 or not np.isfinite(largest):  # all zero; or an inf or NaN entry
        return largest
    scale = math.ldexp(1.0, math.frexp(largest)[1] - 1)  # largest / scale lies in [1, 2)
    total = sum(float(np.sum(np.square(np.divide(g, scale, dtype=np.float64)))) for g in grads)
    return scale * float(np.sqrt(total))  # a Python float: inf past float64's largest
