"""``ast.parse`` and ``compile`` of a syntax tree, one thread at a time.

The grader grades several students at once in threads (``--jobs``). CPython 3.11 keeps the
recursion depth of its conversions between C and Python syntax trees in one counter per
interpreter, so two threads converting at once (a garbage collection in one lets the other run)
can fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905): a
student's code then went unread for copies and for changes to the self-checks. One lock around
every conversion avoids it; parsing is a small part of a grading.
"""

from __future__ import annotations

import ast
import threading
from types import CodeType

_ONE_AT_A_TIME = threading.Lock()


def parse(source: str) -> ast.Module:
    """``ast.parse(source)``, never at the same time as another thread's."""
    with _ONE_AT_A_TIME:
        return ast.parse(source)


def compile_tree(tree: ast.Module | ast.Expression, filename: str, mode: str) -> CodeType:
    """``compile(tree, filename, mode)`` for a syntax tree, never at the same time as another
    thread's conversion."""
    with _ONE_AT_A_TIME:
        return compile(tree, filename, mode)
