"""The random numbers of the self-checks: the notebook's, or the grader's draw.

Every check takes its generator from ``check_rng(seed)``. In a notebook that is exactly
``np.random.default_rng(seed)``, so a check's inputs, and what its cell shows, never change. That
makes the inputs knowable: a learner can print what their function receives, compute the answers
with the package, and hand in a function that looks them up. So the grader, which runs the
teacher's checks in its own process, sets a draw of its own for the checks of a grading run
(``draw(d)``); ``check_rng(seed)`` is then ``np.random.default_rng([seed, d])``: other inputs, which
the learner's kernel sees only as the arguments of the calls, when it is too late to prepare
for them. A check must hold at every draw, so an input a check needs (a unit that is active, a
matrix that is not singular...) is built so, never left to a lucky seed.
"""

from __future__ import annotations

import contextlib
import contextvars
import secrets
from collections.abc import Iterator

import numpy as np

__all__ = ["check_rng", "draw", "fresh_draw", "valid_draw"]

_DRAW: contextvars.ContextVar[int | None] = contextvars.ContextVar("check_draw", default=None)


def check_rng(seed: int) -> np.random.Generator:
    """The generator of a check's inputs: ``np.random.default_rng(seed)``, or, inside ``draw(d)``,
    ``np.random.default_rng([seed, d])``."""
    chosen = _DRAW.get()
    return np.random.default_rng(seed if chosen is None else [seed, chosen])


@contextlib.contextmanager
def draw(chosen: int | None) -> Iterator[None]:
    """Run the checks inside with the draw ``chosen`` (a non-negative int; None: the notebook's
    own inputs). The draw is this thread's alone, and is put back as it was on leaving."""
    token = _DRAW.set(valid_draw(chosen))
    try:
        yield
    finally:
        _DRAW.reset(token)


def valid_draw(chosen: int | None) -> int | None:
    """``chosen`` if it is a draw (a whole number from 0) or None; else a one-line ValueError."""
    if chosen is not None and (
        isinstance(chosen, bool) or not isinstance(chosen, int) or chosen < 0
    ):
        raise ValueError(f"check draw: a whole number from 0 up, not {chosen!r}")
    return chosen


def fresh_draw() -> int:
    """A draw no one can know before the grading run: nine digits, from ``secrets``."""
    return secrets.randbelow(10**9)
