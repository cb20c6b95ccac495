"""Reverse-mode automatic differentiation: the backward pass.

Three ideas live here and nowhere else:

* ``toposort`` orders the graph so that every node comes after the nodes it was computed from.
  It is iterative (an explicit stack), so a chain of a million nodes needs no recursion.
* ``sum_to_shape`` undoes broadcasting: if ``x`` of shape (3,) was broadcast to (4, 3) in the
  forward pass, its gradient of shape (4, 3) is summed back down to (3,).
* ``backward`` walks the order in reverse, asks each node's op for its vector-Jacobian product,
  sums each gradient back to its input's shape, and adds it into the input's ``.grad``: gradients
  that reach a tensor along several paths add up there, and nowhere else. The op rules in
  ``ops.py`` never add.

The switches ``no_grad`` and ``detect_anomaly`` live here too, because they change what the forward
pass records and what the backward pass checks. Each thread has its own switches.
This module imports nothing from the rest of the package: it only reads the nodes' attributes.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "GradientAccumulationWarning",
    "backward",
    "detect_anomaly",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "sum_to_shape",
    "toposort",
]


class _Mode(threading.local):
    """The switches every op call reads; each thread sees its own (as PyTorch's grad mode)."""

    grad_enabled = True
    anomaly = False


MODE = _Mode()


class GradientAccumulationWarning(UserWarning):
    """backward() is adding to gradients left over from an earlier backward() call."""


# ----------------------------------------------------------------------------------- switches
@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block ops record no graph: use it for evaluation and parameter updates."""
    previous, MODE.grad_enabled = MODE.grad_enabled, False
    try:
        yield
    finally:
        MODE.grad_enabled = previous


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()`` (in this thread)."""
    return MODE.grad_enabled


@contextlib.contextmanager
def detect_anomaly(enabled: bool = True) -> Iterator[None]:
    """Check every op's forward output and backward gradients for NaN/inf.

    The first op that turns finite inputs into a non-finite result raises a FloatingPointError
    that names it. Costs one ``np.isfinite`` per array, so it is off by default.
    """
    previous, MODE.anomaly = MODE.anomaly, enabled
    try:
        yield
    finally:
        MODE.anomaly = previous


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` (in this thread)."""
    return MODE.anomaly


# ------------------------------------------------------------------------------ the algorithm
def toposort(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` was computed from (and root itself), inputs before outputs.

    The forward pass has already made such an order: a tensor is always made after its inputs,
    and each tensor gets a number when it is made (``Tensor.seq``: 0, 1, 2, ...). So toposort
    only has to find the nodes, with an explicit stack (no recursion limit), and sort them by
    that number: the same order every run.
    (NB: PyTorch numbers its graph nodes the same way, ``sequence_nr``.)
    """
    found, stack = {id(root): root}, [root]
    while stack:
        for x in stack.pop().inputs:
            if id(x) not in found:
                found[id(x)] = x
                stack.append(x)
    return sorted(found.values(), key=attrgetter("seq"))  # attrgetter: t.seq, but faster


def sum_to_shape(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` down to ``shape``: the gradient of numpy broadcasting.

    Broadcasting copies a value along new leading axes and along axes of length 1, so the
    gradient adds those copies back up: sum over the extra leading axes, then (keeping dims)
    over the axes where ``shape`` has a 1.  (8, 4, 3) -> (4, 1): sum axis 0, then axis 2.
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra < 0 or any(n != 1 and n != m for n, m in zip(shape, g.shape[extra:])):
        raise ValueError(f"cannot sum a gradient of shape {g.shape} down to shape {shape}")
    ones = tuple(extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1)
    return g.sum(axis=tuple(range(extra)) + ones, keepdims=True).reshape(shape)


def backward(
    root: Tensor,
    grad: object = None,
    *,
    accumulate: bool = False,
    hook: Callable[[Tensor, tuple], None] | None = None,
) -> None:
    """Fill ``.grad`` of every node ``root`` depends on with d(root)/d(node).

    ``grad`` seeds the pass (default 1 for a scalar root). Gradients of leaves (tensors you
    created) add to what they already hold; a warning says so unless ``accumulate=True``. Refused
    before any gradient is touched: a graph with an input changed in place after the forward pass
    read it, or with an op's output switched off (``requires_grad = False``), and a leaf holding a
    gradient of another shape than its own, or of no numbers (set by hand).
    ``hook(node, grads)``, if given, is called after each node has sent its gradients (the
    backward step-through in ``plotting`` watches the pass this way; so does anomaly mode).
    """
    order = toposort(root)
    if any([x.modified > n.seq or not n.requires_grad for n in order for x in n.inputs]):
        raise RuntimeError(_unusable_message(order))  # changed in place, or switched off (h.detach)
    if any([t.grad is not None for t in order if t.op is None]):
        _check_held(order, accumulate)  # leaves holding gradients from an earlier pass
    for node in order:  # intermediate gradients start fresh on every pass
        node.grad = None if node.op is not None else node.grad
    seed = np.ones_like(root.data) if grad is None else _seed(grad, root)
    if grad is None and seed.size != 1 or not root.requires_grad or seed.shape != root.data.shape:
        raise _bad_seed(root, grad, seed)
    root.grad = seed if root.grad is None else np.asarray(root.grad + seed)  # a leaf root adds
    if MODE.anomaly:
        hook = _checking_gradients(hook)

    for node in reversed(order):  # outputs before inputs: each node's grad is complete here
        if node.op is None or node.grad is None:
            continue  # a leaf, or a node no gradient reached
        grads = node.op.vjp(node.grad, node.saved, *[x.data for x in node.inputs], **node.settings)
        if type(grads) is not tuple or len(grads) != len(node.inputs):
            raise TypeError(_arity_message(node, grads))
        for x, g in zip(node.inputs, grads):
            if g is None or not x.requires_grad:
                continue
            g = g() if callable(g) else g  # a costly gradient handed over as a function: now
            if type(g) is not np.ndarray or g.dtype is not x.data.dtype or g is node.grad:
                g = np.array(g, x.data.dtype)  # x's own array, in x's dtype (float32 stays float32)
            if g.shape != x.data.shape:
                g = _unbroadcast(g, x, node)  # summed back to x's shape (or a clear error)
            x.grad = g if x.grad is None else np.asarray(x.grad + g)  # paths add up, here only
        if hook is not None:
            hook(node, grads)


# ------------------------------------------------------------------ checks and their messages
def _bad_seed(root: Tensor, grad: object, seed: np.ndarray) -> Exception:
    """Why the pass cannot start from ``root`` with this gradient."""
    if not root.requires_grad:
        return RuntimeError(
            f"backward: {_label(root)} does not require grad: no input was created with "
            f"requires_grad=True (or it was computed inside no_grad())"
        )
    if grad is None:
        return ValueError(
            f"backward: {_label(root, True)} has shape {root.shape}; pass a gradient of that shape "
            f"(L.backward(g)) or reduce it to a scalar first (e.g. L.sum())"
        )
    return ValueError(
        f"backward: the gradient has shape {seed.shape} but {_label(root, True)} has shape "
        f"{root.shape}; they must match"
    )


def _seed(grad: object, root: Tensor) -> np.ndarray:
    """The gradient given to ``backward`` as a new array in root's dtype, or one line for one
    that is no numbers (text would be read as a number, or give numpy's own error)."""
    given = np.asarray(grad)
    if given.dtype.kind not in "biuf":
        raise TypeError(
            f"backward: the gradient must be numbers (an array of shape {root.shape}, as "
            f"{_label(root)}), got {type(grad).__name__} of dtype {given.dtype}"
        )
    return np.array(given, root.data.dtype)


def _unbroadcast(g: np.ndarray, x: Tensor, node: Tensor) -> np.ndarray:
    """``g`` summed back to x's shape with ``sum_to_shape`` where broadcasting copied x (a rule
    may return the output's shape), or a clear error for a rule whose gradient cannot be x's."""
    if g.ndim <= max(node.ndim, x.ndim):  # more axes than the output: the rule is wrong
        with contextlib.suppress(ValueError):
            return sum_to_shape(g, x.shape)
    position = next(k for k, t in enumerate(node.inputs) if t is x)
    raise ValueError(
        f"vjp of '{_op_name(node)}' (inputs {_shapes(node)}) returned a gradient of shape "
        f"{g.shape} for input {position}, which has shape {x.shape}: check that rule"
    )


def _checking_gradients(hook: Callable | None) -> Callable:
    """``hook`` preceded by anomaly mode's check: every gradient a rule returns for an input
    that needs one is finite (the gradient of a constant is thrown away, NaN or not)."""

    def check(node: Tensor, grads: tuple) -> None:
        for k, (x, g) in enumerate(zip(node.inputs, grads)):
            if g is None or not x.requires_grad:
                continue
            g = g() if callable(g) else g  # a gradient handed over as a function
            if not np.all(np.isfinite(g)):
                bad = np.asarray(g)[~np.isfinite(g)].flat[0]
                raise FloatingPointError(
                    f"detect_anomaly: the backward of '{_op_name(node)}' (inputs {_shapes(node)}) "
                    f"produced a non-finite gradient for input {k} (first non-finite value: {bad})"
                )
        if hook is not None:
            hook(node, grads)

    return check


def check_forward(op_name: str, data: np.ndarray, arrays: list[np.ndarray]) -> None:
    """Anomaly mode's forward check: finite inputs must give a finite output."""
    finite_in = all(np.all(np.isfinite(a)) for a in arrays if a.dtype.kind == "f")
    if finite_in and data.dtype.kind == "f" and not np.all(np.isfinite(data)):
        shapes = ", ".join(str(a.shape) for a in arrays)
        bad = data[~np.isfinite(data)].flat[0]
        raise FloatingPointError(
            f"detect_anomaly: the forward of '{op_name}' (inputs {shapes}) turned finite "
            f"inputs into a non-finite output ({bad})"
        )


def _check_held(order: list[Tensor], accumulate: bool) -> None:
    """Leaves that hold a gradient before the pass: the new one is added to it. One that is no
    numbers, or of another shape (set by hand), is refused (PyTorch refuses it already when it
    is set): the sum would fail inside numpy, broadcast to a wrong shape, or spread one number
    over every entry. The others get the warning, unless ``accumulate``."""
    for t in order:
        if t.op is None and t.grad is not None and np.asarray(t.grad).dtype.kind not in "biuf":
            raise TypeError(
                f"backward: {_label(t)} holds a gradient of dtype {np.asarray(t.grad).dtype} "
                f"({type(t.grad).__name__}, set by hand?), which is no numbers; set its .grad to "
                f"None, or to an array of its shape {t.shape}, before backward()"
            )
        if t.op is None and t.grad is not None and np.shape(t.grad) != t.shape:
            raise ValueError(
                f"backward: {_label(t, True)} has shape {t.shape} but holds a gradient of shape "
                f"{np.shape(t.grad)} (set by hand?); set its .grad to None, or to an array of its "
                f"shape, before backward()"
            )
    if not accumulate:
        _warn_stale(order)


def _warn_stale(order: list[Tensor]) -> None:
    # a gradient of zeros (set by hand, as `p.grad = np.zeros_like(p.data)`) adds nothing
    stale = [t for t in order if t.op is None and t.grad is not None and np.any(t.grad)]
    if not stale:
        return
    names = ", ".join(_label(t) for t in stale[:5]) + (" ..." if len(stale) > 5 else "")
    hold, them = ("holds", "it") if len(stale) == 1 else ("hold", "them")
    warnings.warn(
        f"backward: {names} already {hold} gradients from an earlier backward(); the new "
        f"gradients are being added to {them}. Call zero_grad() (or set .grad = None) before "
        f"each backward(), or pass accumulate=True if you mean to add them up."
        + (_UPDATED_OUTSIDE_NO_GRAD if _updated_outside_no_grad(order, stale) else "")
        + (_OUTSIDE_THE_OPTIMIZER if _outside_the_optimizer(order, stale) else ""),
        GradientAccumulationWarning,
        stacklevel=4,  # 1: this line, 2: _check_held, 3: backward, 4: the line calling backward()
    )


_UPDATED_OUTSIDE_NO_GRAD = (
    " If you update a tensor yourself, do it in place inside no_grad (`with bl.no_grad(): w -="
    " lr * w.grad`): w = w - lr * w.grad outside it makes a new w computed from the old one,"
    " which goes on receiving gradients, and every backward() goes back through every earlier"
    " update."
)


_OUTSIDE_THE_OPTIMIZER = (
    " Other parameters of this graph were cleared and updated in place and these were not: an"
    " optimizer's zero_grad() (or clearing by hand) reaches only the parameters it is given."
    " Call model.zero_grad() instead, or freeze the parameters you do not train"
    " (p.requires_grad = False), which also spares computing their gradients."
)


def _outside_the_optimizer(order: list[Tensor], stale: list[Tensor]) -> bool:
    """Whether the stale leaves were never updated in place while other leaves that require
    grad were, and were cleared: what an optimizer over some of a model's parameters leaves
    (``opt = SGD(model.head.parameters())``; PyTorch's fine-tuning idiom)."""
    cleared = [t for t in order if t.op is None and t.requires_grad and t.grad is None]
    return all(t.modified == 0 for t in stale) and any(t.modified for t in cleared)


def _updated_outside_no_grad(order: list[Tensor], stale: list[Tensor]) -> bool:
    """Whether the graph holds ``w - c`` (or ``w + c``) of a leaf holding old gradients and a
    constant of its shape that steps along them: what ``w = w - lr * w.grad`` outside
    ``no_grad()`` records, and not ``(w - target) ** 2``."""
    return any(
        node.op is not None
        and node.op.name in ("sub", "add")
        and any(node.inputs[0] is t for t in stale)
        and not node.inputs[1].requires_grad
        and node.inputs[1].shape == node.shape == node.inputs[0].shape
        and _along((1 if node.op.name == "sub" else -1) * node.inputs[1].data, node.inputs[0].grad)
        for node in order
    )


def _along(step: np.ndarray, grad: np.ndarray | None) -> bool:
    """Whether ``step`` is a step of gradient descent on ``grad``: a positive multiple of it
    (lr * g). A target of (w - target) ** 2 is one only where the gradient is the same in every
    entry (a scalar w), where the two cannot be told apart."""
    if grad is None or not np.any(step):
        return False
    with np.errstate(all="ignore"):
        k = np.vdot(step, grad) / np.vdot(grad, grad)
        return bool(k > 0 and np.allclose(step, k * grad, rtol=1e-6, atol=0))


def _unusable_message(order: list[Tensor]) -> str:
    """Names the input changed in place that the pass would meet first (the loss's end), or an
    op's output whose requires_grad was set to False: its gradient would silently stop there."""
    off = next((t for t in reversed(order) if t.op is not None and not t.requires_grad), None)
    if off is not None:
        return (
            f"backward: {_label(off)} (shape {off.shape}) has requires_grad = False, but it was "
            f"computed from tensors that require grad, and its path would be dropped: only a "
            f"tensor you created can be switched off (as in PyTorch); use h.detach() instead"
        )
    changed, node = next((x, n) for n in reversed(order) for x in n.inputs if x.modified > n.seq)
    return (
        f"backward: {_label(changed)}, an input of '{_op_name(node)}', was modified in place (an "
        f"optimizer step, load_state_dict or p -= ... in no_grad) after the forward pass used "
        f"it, so this graph's gradients would be wrong; run the forward pass again before "
        f"calling backward()"
    )


def _arity_message(node: Tensor, grads: object) -> str:
    what = f"{len(grads)} gradient(s)" if type(grads) is tuple else f"a {type(grads).__name__}"
    return (
        f"vjp of '{_op_name(node)}' returned {what} for {len(node.inputs)} input(s); return a "
        f"tuple with one gradient per input, e.g. (g * 2,) for one input (None for no gradient)"
    )


def _op_name(node: Tensor) -> str:
    """The name of the row that computed ``node`` (every node past the leaves has one)."""
    return node.op.name if node.op is not None else "?"


def _shapes(node: Tensor) -> str:
    return ", ".join(str(t.shape) for t in node.inputs)


def _label(t: Tensor, shape_said: bool = False) -> str:
    """How a message names ``t``: its name, the op that made it, or else its shape (unless the
    message states the shape itself: "a tensor of shape (3,) has shape (3,)" said it twice)."""
    if t.name:
        return f"'{t.name}'"
    if t.op is not None:
        return f"the output of '{t.op.name}'"
    return "an unnamed tensor" if shape_said else f"a tensor of shape {t.shape}"
