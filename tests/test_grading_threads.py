"""The grader grades students in threads (--jobs). CPython 3.11 keeps the recursion depth of its
syntax-tree conversions in one counter per interpreter, so two threads parsing at once could fail
with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905): the whole
suite under load showed it, with a student's notebook "not compared with the teacher's solutions"
and "not read for changes to the self-checks". The grader parses through one lock."""

from __future__ import annotations

import ast
import gc
import re
import sys
import threading
import time
from pathlib import Path

import backproplab.classroom as classroom
from backproplab.classroom._parse import parse

CLASSROOM = Path(classroom.__file__).parent


def _parse_in_threads(parse_fn, threads: int = 4, each: int = 8) -> list[str]:
    """The SystemErrors of ``parse_fn`` run on a large file by several threads at once, with a
    garbage collection that lets another thread run in the middle of a conversion."""
    source = (CLASSROOM / "grading.py").read_text(encoding="utf-8")
    errors: list[str] = []

    def work() -> None:
        for _ in range(each):
            try:
                parse_fn(source)
            except SystemError as error:
                errors.append(str(error))

    switch = lambda phase, info: time.sleep(0)  # noqa: E731 - yields the GIL mid-conversion
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    gc.callbacks.append(switch)
    gc.set_threshold(10)
    sys.setswitchinterval(1e-6)
    try:
        running = [threading.Thread(target=work) for _ in range(threads)]
        for t in running:
            t.start()
        for t in running:
            t.join()
    finally:
        gc.callbacks.remove(switch)
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)
    return errors


def test_the_graders_parse_is_safe_in_threads():
    # (ast.parse itself, the same way, failed about once in 60 parses here on 3.11.7)
    assert _parse_in_threads(parse) == []
    assert isinstance(parse("x = 1"), ast.Module)


def test_the_grader_parses_and_compiles_trees_only_through_the_lock():
    bare = re.compile(r"\bast\.parse\(|(?<![\w.])compile\((?:ast\.|body\b)")
    found = [
        f"{path.name}:{number}"
        for path in sorted(CLASSROOM.glob("*.py"))
        if path.name != "_parse.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bare.search(line)
    ]
    assert found == []
