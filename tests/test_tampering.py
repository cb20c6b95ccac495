"""Code that changes the self-checks is named for the teacher (classroom/_tampering.py): each
kind of change, and code that only uses the checks, which must not be named."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from test_grading import PATCH_CHECKS

from backproplab.classroom._tampering import changed_checks

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = "import backproplab as bl\nfrom backproplab.exercises import nb05, Feedback"


@pytest.mark.parametrize(
    "code",
    [
        "nb05.check_dL_dW = lambda f: print('correct')",
        "nb05.check_dL_dW.__code__ = (lambda f: None).__code__",
        "Feedback.__str__ = lambda self: 'correct'",
        "del nb05.check_dL_dW",
        "setattr(nb05, 'check_dL_dW', print)",
        "delattr(nb05, 'check_dL_dW')",
        "vars(nb05)['check_dL_dW'] = print",
        "nb05.__dict__['check_dL_dW'] = print",
        "bl.exercises.nb05.check_dL_dW = print",
        "nb05 = object()",
        "class Feedback:\n    pass",
        "from my_checks import nb05",
        "import my_checks as nb05",
        "from unittest import mock\nmock.patch('backproplab.exercises.nb05.check_dL_dW', print).start()",
        "import sys\nsys.modules['backproplab.exercises.nb05'] = object()",
        "for m in (nb05,):\n    setattr(m, 'check_dL_dW', print)",
        "def cheat():\n    nb05.check_dL_dW = print\ncheat()",
        "import backproplab.exercises.nb05 as checks\nchecks.check_dL_dW = print",
    ],
)
def test_a_change_of_the_checks_is_named(code):
    found = changed_checks([IMPORTS, "x = 1", code])
    assert len(found) == 1 and found[0].startswith("code cell 3 changes the self-checks (")
    assert found[0].endswith("): the grade used the teacher's checks")


@pytest.mark.parametrize(
    "code",
    [
        "nb05.check_dL_dW(dL_dW)",
        "result = nb05.check_dL_dW(dL_dW)\nprint(result.passed)",
        "from backproplab.exercises import nb05",
        "import backproplab.exercises.nb05 as again",
        "help(nb05.check_dL_dW)",
        "m = 3\nfor k in range(m):\n    print(k)",
        "checks = [nb05.check_dL_dW]\nprint(len(checks))",
        "%timeit 1 + 1",
        "for name in dir(nb05):\n    print(name)\nname = 'mine'",
        "for m in (nb05,):\n    print(m.__name__)\nm = 3",
        "import matplotlib.pyplot as plt\nplt.gcf().dpi = 120",  # a call without arguments
    ],
)
def test_using_the_checks_is_not_named(code):
    assert changed_checks([IMPORTS, code]) == []


def test_the_graded_classs_patching_cell_is_named_once():
    found = changed_checks(
        ["from backproplab.exercises import nb01, nb04, nb05, nb07, nb11", PATCH_CHECKS]
    )
    assert len(found) == 1 and found[0].startswith("code cell 2 changes the self-checks")


@pytest.mark.parametrize(
    "path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem
)
def test_no_curriculum_notebook_is_named(path):
    notebook = nbformat.read(path, as_version=4)
    assert changed_checks([c.source for c in notebook.cells if c.cell_type == "code"]) == []


def test_code_nested_too_deeply_to_read_is_skipped_and_the_rest_still_read():
    deep = ["x = " + "-" * 100_000 + "1", "x = " + "(" * 300 + "1" + ")" * 300]
    found = changed_checks([IMPORTS, deep[0], "nb05.check_dL_dW = print", deep[1]])
    assert len(found) == 1 and found[0].startswith("code cell 3 changes the self-checks")


def test_a_failure_of_the_reading_never_costs_the_student_their_grade(monkeypatch, tmp_path):
    from test_grading import NAME, teacher_notebook

    from backproplab.classroom import grading

    def broken(cells):
        raise RecursionError("maximum recursion depth exceeded")

    teacher = tmp_path / "teacher"
    teacher.mkdir()
    nbformat.write(teacher_notebook(), teacher / NAME)
    monkeypatch.setattr(grading, "changed_checks", broken)
    grade = grading.grade_notebook(teacher / NAME, "ada", grading.load_source(teacher))
    assert grade.problems == [] and grade.score == grade.points == 6, grade
    assert grade.for_teacher[-1] == (
        "not read for changes to the self-checks: "
        "RecursionError('maximum recursion depth exceeded')"
    )
