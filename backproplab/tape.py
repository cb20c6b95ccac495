"""The tape: record a computation once, replay it on new data.

A training step builds the same graph for every batch: the same rows of ``ops.py``, wired the
same way; only the numbers change. Building it is Python work at every node (the op call, a new
Tensor, the Module calls, the checks around them): on a small network, about a fifth of a step.
``replay(fn)`` builds the graph once and keeps it. At each later call it puts the new arrays
where the old inputs were and runs every node's forward row again, in the order the nodes were
made (inputs before outputs); the nodes get their new values, and the ordinary ``backward`` runs
over them as before::

    loss_of = replay(lambda X, y: cross_entropy(model(X), y))
    loss = loss_of(X, y)     # first call: runs fn and keeps its graph
    loss.backward()          # the usual backward pass
    loss = loss_of(X2, y2)   # later calls: the same nodes, refilled from X2, y2 (and the
                             # parameters' current values)

Each call returns the same root tensor, refilled: use it before the next call.

What a replay repeats is only what went through the ops. Anything ``fn`` does outside them (numpy
on its inputs, random numbers, an ``if`` on a value) was frozen into the graph when it was
recorded. So the first calls are checked: ``fn`` runs again the ordinary way beside the replay,
and every node must agree bit for bit, until they agree on inputs other than the recorded ones.
A disagreement is a ``ReplayError`` naming the first node that differs. The rows' own checks run
at every replay (``cross_entropy``'s labels in range, anomaly mode); checks written around the ops
in Python ran only when the graph was recorded. Shapes cannot change in a replay, so the shape
checks still hold, but a value check such as ``binary_cross_entropy``'s probability range is not
repeated. Each shape and dtype of the inputs gets a graph of its own (a smaller last batch is
recorded once more). Inputs are numpy arrays; the parameters are read afresh at every replay.

NB: this is a *tape*, or Wengert list (after R. E. Wengert's 1964 paper on automatic
differentiation): the computation written down as a list of elementary steps, which reverse mode
walks backwards. Frameworks replay for the same reason: ``torch.jit.trace`` and CUDA graphs record
once and replay, ``jax.jit`` traces once per input shape and dtype, and they share this limit: a
recording sees the values that went through it, not the Python code that chose them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np

from .autodiff import MODE, toposort
from .tensor import Tensor

__all__ = ["Replay", "ReplayError", "replay"]


class ReplayError(RuntimeError):
    """A function cannot be replayed: its graph depends on more than the ops saw."""


def replay(fn: Callable[..., Tensor]) -> Replay:
    """``fn`` recorded on its first call and replayed afterwards (see the module docstring)."""
    return Replay(fn)


class Replay:
    """``fn(*inputs) -> Tensor``, recorded once for each shape and dtype of the inputs."""

    def __init__(self, fn: Callable[..., Tensor]) -> None:
        self.fn = fn
        self.tapes: dict[tuple, _Tape] = {}  # one recorded graph per signature of the inputs

    def __call__(self, *inputs: np.ndarray) -> Tensor:
        try:  # (the type is part of the key: anything but an array is turned away when recording)
            key = (MODE.grad_enabled, *[(type(x), x.shape, x.dtype) for x in inputs])
        except AttributeError:
            key = None
        tape = self.tapes.get(key)
        if tape is None:
            _check_types(inputs)
            self.tapes[key] = _Tape(self.fn, inputs)
            return self.tapes[key].root
        if tape.checked:
            return tape.refill(inputs)
        return tape.check(self.fn, inputs)

    def __repr__(self) -> str:
        shapes = "; ".join(", ".join(str(s[1]) for s in key[1:]) for key in self.tapes)
        return f"Replay({getattr(self.fn, '__name__', 'fn')}, recorded for: {shapes or 'none yet'})"


class _Tape:
    """One recorded graph: its nodes in the order they were made, and where the inputs went."""

    def __init__(self, fn: Callable[..., Tensor], inputs: tuple) -> None:
        # One array passed for two inputs is recorded as two views of it, so that each input
        # has places of its own when later calls pass two different arrays.
        inputs = tuple(
            a.view() if any(a is b for b in inputs[:i]) else a for i, a in enumerate(inputs)
        )
        start = Tensor(0.0).seq  # every tensor fn makes gets a larger number
        self.root, self.nodes, leaves = _record(fn, inputs)
        # Leaves fn makes itself that want a gradient (an input's saliency, say) are new at every
        # ordinary call; in a replay they are the same tensors, so each replay clears their grad.
        self.own_leaves = [t for t in leaves if t.seq > start and t.requires_grad]
        # Which leaves wanted a gradient decided which nodes record one: it must not change.
        self.wanted = [(t, t.requires_grad) for t in leaves]
        # Where each input went: the leaves holding its array, the op settings that got it.
        self.feeds: list[tuple[list[Tensor], list[tuple[dict, str, int | None]]]] = []
        for i, a in enumerate(inputs):
            holders = [leaf for leaf in leaves if leaf.data is a]
            places = _places(self.nodes, a)
            if not holders and not places:
                raise ReplayError(
                    f"replay: input {i} (shape {a.shape}, {a.dtype}) never reaches an op as it "
                    f"is: fn made something else of it outside the ops (a copy, another dtype, a "
                    f"numpy computation), so a replay could not feed it new values; call fn "
                    f"without replay, or let the ops see the input itself"
                )
            self.feeds.append((holders, places))
        self.recorded_inputs = [a.copy() for a in inputs]
        self.checks = 0  # calls compared with running fn again
        self.checked = False  # True once a call with new inputs agreed
        if self.root.requires_grad:
            self.root.order = toposort(self.root)  # the same for every replay: sort it once

    def refill(self, inputs: tuple) -> Tensor:
        """Put the new inputs in place and run every node's forward row again."""
        for a, (holders, places) in zip(inputs, self.feeds):
            for leaf in holders:
                leaf.data = a
            for settings, key, j in places:
                settings[key] = a if j is None else (*settings[key][:j], a, *settings[key][j + 1 :])
        for leaf in self.own_leaves:
            leaf.grad = None
        for leaf, wanted in self.wanted:
            if leaf.requires_grad != wanted:
                raise ReplayError(
                    f"replay: a leaf of shape {leaf.data.shape} had requires_grad={wanted} when "
                    f"fn was recorded and has {leaf.requires_grad} now (a layer frozen or "
                    f"unfrozen?); the recorded graph cannot follow that: make a new replay(fn)"
                )
        for node in self.nodes:  # in the order they were made: every input is up to date
            node.data, node.saved = node.op.run([x.data for x in node.inputs], node.settings)
        return self.root

    def check(self, fn: Callable[..., Tensor], inputs: tuple) -> Tensor:
        """Refill, run ``fn`` again the ordinary way, and insist that every node agrees.

        Until the inputs differ from the recorded ones, only the first such call is checked
        (it finds random numbers drawn inside fn); the rest just refill."""
        new_inputs = any(not np.array_equal(a, r) for a, r in zip(inputs, self.recorded_inputs))
        if not new_inputs and self.checks:
            return self.refill(inputs)
        _, fresh, _ = _record(fn, inputs)
        root = self.refill(inputs)
        for k, (old, new) in enumerate(zip(self.nodes, fresh)):
            if old.op is not new.op:
                raise ReplayError(
                    f"replay: fn built a different graph on this call (node {k} is "
                    f"'{new.op.name}', was '{old.op.name}'): it chooses ops by values, so it "
                    f"cannot be replayed; call it without replay"
                )
            if not np.array_equal(old.data, new.data, equal_nan=True):
                raise ReplayError(
                    f"replay: node {k} ('{old.op.name}', shape {old.data.shape}) of the replay "
                    f"differs from running fn again: fn computes something outside the ops "
                    f"(numpy on its inputs, random numbers) that the recording froze; call it "
                    f"without replay"
                )
        if len(fresh) != len(self.nodes):
            raise ReplayError(
                f"replay: fn built {len(fresh)} nodes on this call, {len(self.nodes)} when it "
                f"was recorded: it chooses ops by values, so it cannot be replayed; call it "
                f"without replay"
            )
        self.checks += 1
        if new_inputs:
            self.checked = True  # it agreed on new inputs: replay from now on
            self.recorded_inputs = []
        return root


def _record(fn: Callable[..., Tensor], inputs: tuple) -> tuple[Tensor, list, list]:
    """Run fn with every op recorded; return the root, its op nodes (in the order they were
    made) and its leaves."""
    with _recording():
        root = fn(*inputs)
    if not isinstance(root, Tensor) or root.op is None:
        raise ReplayError(
            f"replay: fn must return a Tensor computed by ops from its inputs, got "
            f"{type(root).__name__}"
        )
    found = {id(root): root}
    stack = [root]
    while stack:  # every node, gradient or not (toposort only follows those that need one)
        for x in stack.pop().inputs:
            if id(x) not in found:
                found[id(x)] = x
                stack.append(x)
    everything = sorted(found.values(), key=lambda t: t.seq)
    nodes = [t for t in everything if t.op is not None]
    leaves = [t for t in everything if t.op is None]
    return root, nodes, leaves


@contextlib.contextmanager
def _recording() -> Iterator[None]:
    previous, MODE.recording = MODE.recording, True
    try:
        yield
    finally:
        MODE.recording = previous


def _places(nodes: list[Tensor], a: np.ndarray) -> list[tuple[dict, str, int | None]]:
    """The op settings that hold the array ``a``: (settings, key, None) for a setting that is
    ``a``, (settings, key, j) for item j of a tuple setting (an index such as ``x[rows, y]``)."""
    found = []
    for node in nodes:
        for key, value in node.settings.items():
            if value is a:
                found.append((node.settings, key, None))
            elif type(value) is tuple:
                found += [(node.settings, key, j) for j, item in enumerate(value) if item is a]
    return found


def _check_types(inputs: tuple) -> None:
    for i, x in enumerate(inputs):
        if type(x) is not np.ndarray:
            raise TypeError(
                f"replay: input {i} is a {type(x).__name__}; pass numpy arrays (a tensor's "
                f"are in .data; numbers and other settings belong inside fn)"
            )
