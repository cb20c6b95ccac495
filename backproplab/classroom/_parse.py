"""``ast.parse`` and ``compile`` of a syntax tree, safe in the grader's threads.

The grader grades several students at once in threads (``--jobs``). CPython 3.11 keeps the
recursion depth of its conversions between C and Python syntax trees in one counter per
interpreter, so two conversions at once (a garbage collection in one lets another thread run)
can fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905): a
student's code then went unread for copies and for changes to the self-checks. The grader's own
conversions take one lock, and, since a library's parse in another thread can still overlap one
(``ast.literal_eval``, a traceback's carets), a conversion that failed this way runs again.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable
from types import CodeType
from typing import TypeVar

_ONE_AT_A_TIME = threading.Lock()
_TRIES = 5
T = TypeVar("T")


def _converted(convert: Callable[[], T]) -> T:
    """``convert()`` under the lock, run again if another thread's conversion upset its count."""
    for attempt in range(_TRIES):
        try:
            with _ONE_AT_A_TIME:
                return convert()
        except SystemError as error:
            if "recursion depth mismatch" not in str(error) or attempt == _TRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def parse(source: str) -> ast.Module:
    """``ast.parse(source)``, safe in threads."""
    return _converted(lambda: ast.parse(source))


def compile_tree(
    tree: ast.Module | ast.Expression, filename: str, mode: str, dont_inherit: bool = False
) -> CodeType:
    """``compile(tree, filename, mode, dont_inherit=...)`` for a syntax tree, safe in threads."""
    return _converted(lambda: compile(tree, filename, mode, dont_inherit=dont_inherit))
