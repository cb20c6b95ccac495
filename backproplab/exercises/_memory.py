"""How much memory an answer allocates while it runs: for the checks that refuse an answer which
builds a large array the exercise says it must not (notebook 08's K x K Jacobian).

``tracemalloc`` sees what Python objects and numpy's array buffers take (numpy reports its
buffers to it), so a K x K float64 array made by any route (``np.outer``, broadcasting,
``np.einsum``, a loop filling ``np.zeros``) counts its 8 K^2 bytes. In the grader the function
runs in the student's kernel, and the kernel measures there (``RemoteFunction.call_measured``).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ._reading import RemoteFunction


class PeakMemory:
    """``with PeakMemory() as m: ...``: then ``m.peak_bytes`` is the most memory the block held
    at once beyond what was held when it began, as tracemalloc counts it. tracemalloc is started
    for the block if it was off and stopped after it; if it was on, it stays on (its peak is then
    reset: ``tracemalloc.get_traced_memory()`` reports the peak since the block began)."""

    def __init__(self) -> None:
        self.peak_bytes = 0
        self._started = False
        self._before = 0

    def __enter__(self) -> PeakMemory:
        self._started = not tracemalloc.is_tracing()
        if self._started:
            tracemalloc.start()
        tracemalloc.reset_peak()
        self._before = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.peak_bytes = max(0, tracemalloc.get_traced_memory()[1] - self._before)
        finally:
            if self._started:
                tracemalloc.stop()


def call_measured(fn: Callable[..., Any], *args: Any) -> tuple[Any, int]:
    """Call ``fn(*args)`` once: its result, and the peak memory (bytes) the call allocated
    beyond what was allocated before it (``PeakMemory``). An exception of ``fn`` propagates.
    For the grader's stand-in of a student's function, the student's kernel measures."""
    if isinstance(fn, RemoteFunction):
        return fn.call_measured(*args)
    with PeakMemory() as memory:
        result = fn(*args)
    return result, memory.peak_bytes
