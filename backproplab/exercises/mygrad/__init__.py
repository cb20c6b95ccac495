"""Self-checks for the learner's own engine, ``notebooks/mygrad.py``, one per notebook step.

``check_step("04", mygrad)`` checks what notebook 04 asks the learner to add (see the table in
``STEPS``). Each check writes random small programs as data (fan-out, numbers on either side,
broadcasting where the step has it), runs them on the learner's engine through ``mygrad.run``
(values, gradients, toposort's order, as arrays) and replays them on the package's engine; the
first node whose value or gradient differs is named, with a hint about the mistake. Step 04
also runs a chain deeper than Python's recursion limit, backward from a given grad (an array,
then a list), and backward twice on one graph (leaves add up, intermediate nodes start fresh);
each op's vjp is first checked on its own. The optimizers are checked through ``mygrad.fit``
against their update rules written out here in numpy, and the learner's own op of notebook 12
against central differences of its own forward.

The learner's engine gets data only (lists, arrays, numbers, strings), so the same check runs in
the notebook and in the grader; but for a few checks that build tensors with the learner's
Tensor class, in the learner's own process only (the grader's engine is a stand-in that answers
with data): a tensor that requires no gradient gets none, a graph of 40 doublings is walked
visiting each tensor once, an optimizer steps past a parameter without a gradient listed first,
and Linear's weights come from the module's rng. A piece that is still a stub raises
NotImplementedError with a pointer ("see notebook 04, "Your engine", part 1"): the check says
which part to do first.

The parts, one idea a module: ``_calls`` (calling the learner's engine), ``_programs``
(programs as data and the package's run of them), ``_hints`` (what a wrong number says),
``_compare`` (the learner's run against the package's), ``_optimizers`` (SGD and Adam against
their update rules), ``_backward`` (step 04: each vjp alone, then backward on graphs),
``_steps`` (the check of each other step), ``_in_place`` (a number right when made and changed
later: an op or a vjp that writes into an array the engine still uses), ``_own_process`` (the
checks that build the learner's own tensors, or read its module's rng: in the learner's process
only) and ``_saved``
(is the module being checked the saved file? a learner who saves and runs only the check cell
hears so, not the old verdict).
"""

from __future__ import annotations

import re
from types import ModuleType

from .. import Feedback, correct, hint
from ._calls import _package_names, _Stop
from ._saved import stale_engine
from ._steps import _CHECKS

__all__ = ["STEPS", "check_step"]

STEPS = {
    "03": "Tensor, + and *",
    "04": "toposort, backward, -, / and **",
    "05": "@, sum_to_shape, sum and mean",
    "07": "relu, tanh, sigmoid, exp and log",
    "08": "cross_entropy",
    "09": "Linear, MLP and SGD",
    "10": "Linear's initial scale",
    "11": "Residual",
    "12": "Adam and your own op",
}


def check_step(step: str, engine: ModuleType, own_op: str | None = None) -> Feedback:
    """Check the pieces notebook ``step`` adds to the learner's ``engine`` (the module mygrad).

    For step "12", ``own_op`` names the learner's own op (a Tensor method of no arguments); by
    default, the name the engine's ``own_op()`` returns.
    """
    step = str(step).zfill(2)
    if step not in STEPS:
        raise ValueError(f"check_step: no step {step!r}; the steps are {', '.join(STEPS)}")
    exercise = f"mygrad {step} ({STEPS[step]})"
    stale = stale_engine(engine)
    if stale:  # the verdict would be on the code the notebook loaded before
        return hint(exercise, stale)
    borrowed = _package_names(engine)
    if borrowed:
        return hint(
            exercise,
            f"your engine uses backproplab itself ({', '.join(borrowed)}): the point is to build "
            "it yourself, with numpy only",
        )
    try:
        _CHECKS[step](exercise, engine, own_op)
    except _Stop as stop:
        later = _LATER.search(stop.feedback.message)
        if later and later.group(1) > step:  # a piece of a notebook the learner has not read
            return hint(exercise, _called_too_early(later.group(1), later.group(2)))
        if stop.feedback.status == "not done":  # a stub: send the learner to the earliest one
            return _earliest_not_done(exercise, step, engine) or stop.feedback
        return stop.feedback
    if step == "10":
        return correct(exercise, "your Linear layers start at He's scale.")
    return correct(exercise, "your engine agrees with the package on every value and gradient.")


_LATER = re.compile(r"in notebook (\d+) first \(`([^`]*)`")


def _called_too_early(notebook: str, piece: str) -> str:
    """What it means that this step's run reached ``piece``, a stub of a later ``notebook``."""
    message = (
        f"your engine called `{piece}`, a piece of notebook {notebook}; this step does not need it"
    )
    if piece == "sum_to_shape":  # backward handed a number (x + 2.5) a gradient
        message += (
            ": backward met a gradient whose shape differs from its input's. Here only numbers, "
            "like the 2.5 of x + 2.5, are broadcast, and they need no gradient: does backward "
            "hand gradients only to the inputs that require one?"
        )
    return message


def _earliest_not_done(exercise: str, step: str, engine: ModuleType) -> Feedback | None:
    """The first earlier step that still finds a stub, or None: a learner who skipped a step
    hears about it before this step's own missing pieces, not after writing them."""
    for earlier in [s for s in STEPS if s < step]:
        try:
            _CHECKS[earlier](exercise, engine, None)
        except _Stop as stop:
            if stop.feedback.status == "not done":
                return stop.feedback
    return None
