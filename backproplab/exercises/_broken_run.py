"""Notebook 12's challenge, a broken training run to fix (``check_training_run``): the check
watches each backward() of the learner's run for gradients added to stale ones, gradchecks the
returned model's loss and measures its test accuracy."""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from types import FrameType

import numpy as np

from ..autodiff import backward, toposort
from ..datasets import digits
from ..functional import cross_entropy
from ..gradcheck import check_direction
from ..nn import Module
from ..tensor import Tensor
from ..train import predict
from . import Feedback, attempt, changed_input, correct, hint

# ----------------------------------------------------------------- the challenge: a broken run
# A run with zero_grad forgotten trains well enough (95 % with lr = 0.1) to pass on accuracy, so
# the check watches each backward() itself: a warnings filter or accumulate=True once hid it.
_ADDED_TO_AN_OLD_STEP = "added to gradients from before an update"
_ADDED_TWICE = "added to gradients of an earlier backward"
_WATCH_REMOVED = "called sys.setprofile"


@contextlib.contextmanager
def _watching_backward() -> Iterator[set[str]]:
    """Yield a set that fills, while the block runs, with what went wrong in each backward()
    call (through any name: L.backward(), bl.backward): it added to a leaf's nonzero gradient
    computed before the leaf last changed (a stale gradient: an update marked in place, or its
    data changed by hand, p.data -= ...), or, without accumulate=True, to one from an earlier
    pass (what the engine's warning is about). Seen from the call itself (sys.setprofile, and
    threading.setprofile for threads the run starts), so no warnings filter hides it."""
    found: set[str] = set()
    backward_code = backward.__code__
    # id(leaf) -> (leaf, seq of its last pass's root, a copy of its data then); the leaf is kept,
    # so its id is not reused
    passed: dict[int, tuple[Tensor, int, np.ndarray | None]] = {}
    own = sys._getframe().f_code  # this function's, which puts the previous profilers back
    removers = {sys.setprofile, getattr(sys, "_setprofileallthreads", sys.setprofile)}

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "c_call" and arg in removers and frame.f_code is not own:
            found.add(_WATCH_REMOVED)  # it would stop this watch
        if event != "call" or frame.f_code is not backward_code:
            return
        root, accumulate = frame.f_locals.get("root"), frame.f_locals.get("accumulate")
        if not isinstance(root, Tensor):
            return  # backward refuses it itself
        for t in toposort(root):
            if t.op is not None or not t.requires_grad:
                continue
            if t.grad is not None and np.any(t.grad):
                _, seq, data = passed.get(id(t), (t, 0, None))
                if t.modified > seq or data is not None and not np.array_equal(t.data, data):
                    found.add(_ADDED_TO_AN_OLD_STEP)
                elif not accumulate:
                    found.add(_ADDED_TWICE)
            passed[id(t)] = (t, root.seq, np.array(t.data))

    previous, previous_threads = sys.getprofile(), threading.getprofile()
    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield found
    finally:
        if sys.getprofile() is not profile:  # removed by a route not seen above
            found.add(_WATCH_REMOVED)
        threading.setprofile(previous_threads)
        sys.setprofile(previous)


def check_training_run(train_digits: Callable) -> Feedback:
    """The challenge: ``train_digits(X, y)`` trains a network on the digits' training split and
    returns it (a ``bl.nn.Module``). It passes when the gradient of the returned model's loss
    agrees with finite differences, no step added to a stale gradient, and the model classifies
    at least 90 % of the test digits."""
    name = "train_digits"
    data = digits()
    with np.errstate(all="ignore"), warnings.catch_warnings(), _watching_backward() as found:
        warnings.simplefilter("ignore")  # the learner's warnings: what went wrong is in found
        passed = {"X": data.X_train.copy(), "y": data.y_train.copy()}
        model = attempt(name, train_digits, passed["X"], passed["y"])
    if isinstance(model, Feedback):
        return model
    changed = changed_input(name, {"X": data.X_train, "y": data.y_train}, passed)
    if changed:  # (data scaled in place: the notebook's later cells read the changed arrays)
        return changed
    if not isinstance(model, Module):
        return hint(name, f"train_digits returned a {type(model).__name__}; return the trained "
                    "model.")  # fmt: skip
    if not all(np.all(np.isfinite(p.data)) for p in model.parameters()):
        return hint(name, "the trained parameters are not finite numbers (NaN or inf): the "
                    "steps were far too large somewhere.")  # fmt: skip
    if not _has_softsign(model):
        return hint(name, "your network has no softsign layer: the run to fix trains with "
                    "softsign; keep it and fix what goes wrong around it.")  # fmt: skip
    largest = max(float(np.abs(p.data).max()) for p in model.parameters())
    if largest > 1e3:  # a digits network's weights stay far below that
        return hint(name, f"the trained weights grew huge (the largest is {largest:.1e}): the "
                    "steps were far too large (a learning rate, or a gradient that is wrong: "
                    "gradcheck each op).")  # fmt: skip
    X, y = data.X_train[:16], data.y_train[:16]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.zero_grad()
        params = model.parameters()
        report = check_direction(
            lambda *ps: cross_entropy(model(Tensor(X)), y), *params, raise_exception=False
        )
        model.zero_grad()
    if not report.passed:
        return hint(name, "the gradient of your model's loss disagrees with finite differences: "
                    "one of its ops has a wrong vjp (gradcheck each op on its own).")  # fmt: skip
    if _WATCH_REMOVED in found:
        return hint(name, "your function changed the profiler (sys.setprofile), which this check "
                    "uses to see each backward() of the run: train without it.")  # fmt: skip
    if _ADDED_TO_AN_OLD_STEP in found:
        return hint(name, "while training, a backward() added to gradients left from an earlier "
                    "step, computed before the update moved the parameters: each step followed "
                    "old batches' gradients too. (The engine warns with a "
                    "GradientAccumulationWarning, unless warnings are hidden or accumulate=True "
                    "is passed: that is for adding up several batches' gradients before one "
                    "step, not across steps.)")  # fmt: skip
    if _ADDED_TWICE in found:
        return hint(name, "while training, a backward() added to the gradients of an earlier "
                    "backward() before any step used them (a GradientAccumulationWarning): "
                    "each step's gradient should come from one backward(), unless you mean "
                    "to add up several and say so.")  # fmt: skip
    with np.errstate(all="ignore"):
        accuracy = float(np.mean(predict(model, data.X_test).argmax(axis=1) == data.y_test))
    if accuracy < 0.9:
        return hint(name, f"the gradients are right, but the model classifies only "
                    f"{accuracy:.0%} of the test digits: is it learning at a useful pace? "
                    "Measure its update/weight ratio (section 4.4): a run this short needs the "
                    "upper end of the rule of thumb, not its lower end.")  # fmt: skip
    return correct(name, f"right gradients, no stale ones, and {accuracy:.1%} of the test digits.")


def _has_softsign(model: Module) -> bool:
    """Whether one of ``model``'s layers without parameters computes softsign, x / (1 + |x|)."""
    probe = np.linspace(-3.0, 3.0, 13).reshape(1, -1)
    for _, module in model.named_modules():
        if module is model or module.parameters():
            continue
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = np.asarray(module(Tensor(probe)).data)
        except Exception:  # a module that cannot take this input is not the activation
            continue
        if out.shape == probe.shape and np.allclose(out, probe / (1 + np.abs(probe))):
            return True
    return False
