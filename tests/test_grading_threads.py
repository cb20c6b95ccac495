"""The grader grades students in threads (--jobs). CPython 3.11 keeps the recursion depth of its
syntax-tree conversions in one counter per interpreter, so two threads parsing at once could fail
with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905): the whole
suite under load showed it, with a student's notebook "not compared with the teacher's solutions"
and "not read for changes to the self-checks". The grader parses through one lock.

jupyter_client's blocking calls run on an event loop of the calling thread's, made on first use
and never closed. Each worker thread had one: freed at some time after the thread ended, its
ResourceWarning ("unclosed event loop") came out in whatever ran then (in CI, a page example's
printed output). The worker threads close their loops, and so do the threads of the tests'
own grading helper (exercise_helpers.grade_students)."""

from __future__ import annotations

import ast
import gc
import re
import sys
import threading
import time
import warnings
from pathlib import Path

import nbformat
import pytest
from exercise_helpers import grade_students
from test_adversarial_classroom import teacher_notebook

import backproplab.classroom as classroom
from backproplab.classroom._parse import parse
from backproplab.classroom.grading import Limits, grade_folder

CLASSROOM = Path(classroom.__file__).parent


def _parse_in_threads(parsers: list, each: int = 8) -> list[list[str]]:
    """The SystemErrors of each of ``parsers``, each run in a thread of its own on a large file,
    all at once, with a garbage collection that lets another thread run in the middle of a
    conversion."""
    source = (CLASSROOM / "grading.py").read_text(encoding="utf-8")
    errors: list[list[str]] = [[] for _ in parsers]

    def work(parse_fn, found: list[str]) -> None:
        for _ in range(each):
            try:
                parse_fn(source)
            except SystemError as error:
                found.append(str(error))

    switch = lambda phase, info: time.sleep(0)  # noqa: E731 - yields the GIL mid-conversion
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    gc.callbacks.append(switch)
    gc.set_threshold(10)
    sys.setswitchinterval(1e-6)
    try:
        running = [threading.Thread(target=work, args=pair) for pair in zip(parsers, errors)]
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
    assert _parse_in_threads([parse] * 4) == [[]] * 4
    assert isinstance(parse("x = 1"), ast.Module)


def test_the_graders_parse_is_safe_beside_a_librarys_own_parse():
    # a library's ast.parse in another thread (ast.literal_eval, a traceback's carets) takes no
    # lock of ours: the CI run showed a grading thread's parse failing beside one (the
    # library's own parse may fail: not ours to mend)
    ours = _parse_in_threads([ast.parse, parse, parse], each=12)[1:]
    assert ours == [[], []]


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


@pytest.mark.parametrize("jobs", [1, 2])  # one thread grades both students (it needs a new loop)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox's")
def test_grading_threads_close_their_event_loops(tmp_path, jobs):
    (tmp_path / "teacher").mkdir()
    nbformat.write(teacher_notebook(), tmp_path / "teacher" / "a.ipynb")
    for student in ("ada", "bo"):
        (tmp_path / "in" / student).mkdir(parents=True)
        nbformat.write(teacher_notebook(), tmp_path / "in" / student / "a.ipynb")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        grades = grade_folder(
            tmp_path / "in", tmp_path / "teacher", limits=Limits(timeout=30), jobs=jobs
        )
        gc.collect()  # the worker threads have ended: what they left is freed now
    assert [g.score for g in grades] == [2, 2]  # both graded: a closed loop is not reused
    loops = [str(w.message) for w in caught if "event loop" in str(w.message)]
    assert loops == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox's")
def test_the_tests_grading_helper_closes_its_threads_event_loops(tmp_path):
    """exercise_helpers.grade_students grades in threads of its own, not grade_folder's: each
    left its loop open, to be freed at a later garbage collection, in whatever test ran then (a
    CI run showed "unclosed event loop" in test_small_fixes.py, which uses no event loop)."""
    students = {"ada": teacher_notebook(), "bo": teacher_notebook()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        grades = grade_students(tmp_path, teacher_notebook(), students, jobs=2)
        gc.collect()
    assert {name: grade.score for name, grade in grades.items()} == {"ada": 2, "bo": 2}
    loops = [str(w.message) for w in caught if "event loop" in str(w.message)]
    assert loops == []
