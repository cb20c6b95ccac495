"""Grading leaves no asyncio event loop open behind it.

jupyter_client's blocking calls run on an event loop of the calling thread's, made on first use
and never closed. The grader's worker threads each had one: when a thread ended, its loop was
freed at some later time, and its ResourceWarning ("unclosed event loop") came out in whatever
ran then (in CI, a page example's printed output; a test that turned warnings into errors).
"""

from __future__ import annotations

import gc
import sys
import warnings

import nbformat
import pytest
from test_adversarial_classroom import teacher_notebook

from backproplab.classroom.grading import Limits, grade_folder

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox's")


@pytest.mark.parametrize("jobs", [1, 2])  # one thread grades both students (it needs a new loop)
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
