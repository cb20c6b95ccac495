"""Reverse-mode automatic differentiation: the backward pass.

Three ideas live here and nowhere else:

* ``toposort`` orders the graph so that every node comes after the nodes it was computed from.
  It is iterative (an explicit stack), so a chain of a million nodes needs no recursion.
* ``sum_to_shape`` undoes broadcasting: if ``x`` of shape (3,) was broadcast to (4, 3) in the
  forward pass, its gradient of shape (4, 3) is summed back down to (3,).
* ``backward`` walks the order in reverse, asks each node's op for its vector-Jacobian product,
  and adds the results into the inputs' ``.grad`` in ONE line. That line is both "gradients from
  several paths add up" (fan-out) and "broadcasting undone". The op rules in ``ops.py`` never add.

The switches ``no_grad`` and ``detect_anomaly`` live here too, because they change what the forward
pass records and what the backward pass checks.
"""

from __future__ import annotations

import contextlib
import gc
import operator
import warnings
from collections.abc import Iterator
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


class _Mode:
    """Global switches read by every op call (plain attributes: cheap to read)."""

    grad_enabled = True
    anomaly = False
    recording = False  # tape.py: record every op, even those no gradient flows through


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
    """True unless inside ``no_grad()``."""
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
    """True inside ``detect_anomaly()``."""
    return MODE.anomaly


# ------------------------------------------------------------------------------ the algorithm
def toposort(root: Tensor) -> list[Tensor]:
    """Every node that ``root`` depends on (and needs a gradient), inputs before outputs.

    The forward pass has already made such an order: a tensor can only be made after its inputs,
    so each tensor gets a number when it is made (``Tensor.seq``: 0, 1, 2, ...), larger than the
    numbers of its inputs. toposort only has to find the nodes, with an explicit stack (no
    recursion limit), and sort them by that number: the same order every run.
    (NB: PyTorch numbers its graph nodes the same way, ``sequence_nr``, and among the nodes whose
    gradients are complete runs the one made last first.)
    """
    found = {id(root): root}
    stack = [root]
    while stack:
        for parent in stack.pop().inputs:
            if parent.requires_grad and id(parent) not in found:
                found[id(parent)] = parent
                if parent.inputs:  # a leaf has no inputs to visit
                    stack.append(parent)
    return sorted(found.values(), key=_made_at)


_made_at = operator.attrgetter("seq")


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
    g = g.sum(axis=tuple(range(extra)) + ones, keepdims=True)
    return g.reshape(shape)


def backward(
    root: Tensor, grad: object = None, *, accumulate: bool = False, retain_grads: bool = True
) -> None:
    """Fill ``.grad`` of every node ``root`` depends on with d(root)/d(node).

    ``grad`` seeds the pass (default 1 for a scalar root). Gradients of leaves (tensors you
    created) add to what they already hold; a warning says so unless ``accumulate=True``.
    ``retain_grads=False`` keeps only the leaves' gradients: each intermediate node's gradient
    is freed as soon as its vjp has used it, so a training step holds less memory.
    (NB: PyTorch does that by default and keeps a non-leaf's ``.grad`` only after
    ``retain_grad()``; here you see every node's gradient unless you ask otherwise.)
    """
    if grad is None:
        if root.data.size != 1:
            raise ValueError(
                f"backward: {_label(root)} has shape {root.shape}; pass a gradient of that shape "
                f"(L.backward(g)) or reduce it to a scalar first (e.g. L.sum())"
            )
        seed = np.ones(root.data.shape, root.data.dtype)
    else:
        seed = np.asarray(grad.data if type(grad) is type(root) else grad, dtype=root.dtype)
        if seed.shape != root.shape:
            raise ValueError(
                f"backward: the gradient has shape {seed.shape} but {_label(root)} has shape "
                f"{root.shape}; they must match"
            )
    if not root.requires_grad:
        raise RuntimeError(
            f"backward: {_label(root)} does not require grad: no input was created with "
            f"requires_grad=True (or it was computed inside no_grad())"
        )

    # The graph holds no reference cycles (nodes point only at their inputs), so Python's cyclic
    # garbage collector has nothing to find here; left on, it would rescan every live node each
    # time enough new gradients were allocated, a cost that grows with the size of the graph.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _backward(root, seed, accumulate, retain_grads)
    finally:
        if collecting:
            gc.enable()


def _backward(root: Tensor, seed: np.ndarray, accumulate: bool, retain_grads: bool) -> None:
    order = root.order or toposort(root)  # a replayed graph (tape.py) keeps its order
    nodes, leaves = [], []  # made by an op / made by you
    for node in order:
        if node.op is None:
            leaves.append(node)
        else:
            node.grad = None  # intermediate gradients start fresh on every pass
            nodes.append(node)
    stale = [leaf for leaf in leaves if leaf.grad is not None]  # left from an earlier backward()
    if stale and not accumulate:
        names = ", ".join(_label(n) for n in stale[:5]) + (" ..." if len(stale) > 5 else "")
        warnings.warn(
            f"backward: {names} already hold gradients from an earlier backward(); the new "
            f"gradients are being added to them. Call zero_grad() (or set .grad = None) before "
            f"each backward(), or pass accumulate=True if you mean to add them up.",
            GradientAccumulationWarning,
            stacklevel=4,
        )
    root.grad = seed

    check = MODE.anomaly
    for node in reversed(nodes):  # outputs before inputs: each node's grad is complete here
        op, upstream = node.op, node.grad
        if upstream is None:
            continue  # every rule that reached it returned None for it: nothing to pass on
        inputs = node.inputs
        out = node.data if node.saved is None else node.saved  # a few rows kept a value instead
        grads = op.vjp(upstream, out, *[x.data for x in inputs], **node.settings)
        if not retain_grads:
            node.grad = None  # its only use was this vjp
        if len(grads) != len(inputs):
            raise TypeError(
                f"vjp of '{op.name}' returned {len(grads)} gradient(s) for {len(inputs)} "
                f"input(s); return one per input (None for no gradient)"
            )
        for x, g in zip(inputs, grads):
            if g is None or not x.requires_grad:
                continue
            a = x.data  # (numpy scalars, which 0-d rules return, pass: the last loop fixes them)
            if check or getattr(g, "shape", None) != a.shape or g.dtype is not a.dtype:
                g = _checked(g, x, node, check)  # broadcasting undone, or a clear error
            x.grad = g if x.grad is None else x.grad + g  # THE line: every path's gradient adds up

    kept = order if retain_grads else leaves  # the nodes that keep a gradient
    for node in kept:  # numpy hands back scalars for 0-d arrays; .grad is always an array
        if type(node.grad) is not np.ndarray and node.grad is not None:
            node.grad = np.asarray(node.grad)


def _checked(g: object, x: Tensor, node: Tensor, check: bool) -> np.ndarray:
    """The rule's gradient for input ``x``, summed back to ``x``'s shape, or a clear error."""
    if type(g) is not np.ndarray or g.dtype != x.dtype:
        g = np.asarray(g, dtype=x.dtype)  # a float32 model keeps float32 gradients
    if g.shape != x.shape:
        reduced = None
        if g.ndim <= max(node.ndim, x.ndim):  # more axes than the output: a wrong rule
            try:
                reduced = sum_to_shape(g, x.shape)
            except ValueError:
                pass
        if reduced is None:
            i = _position(x, node)
            shapes = ", ".join(str(t.shape) for t in node.inputs)
            raise ValueError(
                f"vjp of '{node.op.name}' (inputs {shapes}) returned a gradient of shape "
                f"{g.shape} for input {i}, which has shape {x.shape}: check that rule"
            )
        g = reduced
    if check and not np.all(np.isfinite(g)):
        i = _position(x, node)
        raise FloatingPointError(
            f"detect_anomaly: the backward of '{node.op.name}' (inputs "
            f"{', '.join(str(t.shape) for t in node.inputs)}) produced a non-finite gradient "
            f"for input {i} ({_first_bad(g)})"
        )
    return g


def _position(x: Tensor, node: Tensor) -> int:
    """Which input of ``node`` ``x`` is, for error messages (the first, if it is used twice)."""
    return next(k for k, t in enumerate(node.inputs) if t is x)


def _first_bad(a: np.ndarray) -> str:
    bad = a[~np.isfinite(a)]
    return f"first non-finite value: {bad.flat[0]}" if bad.size else "all finite"


def _label(t: Tensor) -> str:
    if t.name:
        return f"'{t.name}'"
    return f"the output of '{t.op.name}'" if t.op is not None else f"a tensor of shape {t.shape}"
