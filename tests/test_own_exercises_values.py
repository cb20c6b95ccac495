"""A teacher's check that uses a value of another cell (`x_test = ...`), as nbgrader allows.

Before, the grader ran only the imports, functions and classes of the teacher's other cells, so
such a check failed in the grader for every student ("NameError: name 'x_test' is not defined"),
however right the answer. Now those cells run once in the grader, up to the check's cell, except
what depends on the student's answer (backproplab/classroom/_values.py).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from test_own_exercises import SOLUTION, Answers, teacher_of, write_notebook

from backproplab.classroom._check import evaluate_check

SETUP = ("import numpy as np", {})


def check(source: str) -> tuple[str, dict]:
    return source, {"grade": True, "grade_id": "slope-check", "points": 2}


def graded(teacher, *answers):
    """The check's results for the answers in turn, as for students graded one after another."""
    return [evaluate_check(teacher.checks[0], teacher, Answers({"slope": a})) for a in answers]


def test_a_value_of_another_cell_is_there_for_the_check():
    teacher = teacher_of(SETUP, ("x_test = np.arange(3.0)", {}), SOLUTION,
                         check("assert np.allclose(slope(x_test), [0, 2, 4]), 'not twice x'"))  # fmt: skip
    right, wrong = graded(teacher, lambda x: 2 * x, lambda x: 3 * x)
    assert (right.status, right.score) == ("correct", 2), right.message
    assert (wrong.status, wrong.score, wrong.message) == (
        "hint",
        0,
        "slope: ✘ not yet — not twice x",
    )


def test_a_check_function_of_another_cell_reads_its_value():
    check_fn = ("def check_slope(fn):\n    got = fn(x_test)\n"
                "    return correct('slope') if np.allclose(got, 2 * x_test) else hint('slope', 'no')",
                {})  # fmt: skip
    teacher = teacher_of(("import numpy as np\nfrom backproplab.exercises import correct, hint", {}),
                         ("x_test = np.linspace(-1, 1, 5)", {}), SOLUTION, check_fn,
                         check("check_slope(slope)"))  # fmt: skip
    right, wrong = graded(teacher, lambda x: 2 * x, lambda x: x)
    assert (right.status, wrong.status) == ("correct", "hint"), right.message


def test_the_value_is_the_one_the_check_cell_sees_in_the_notebook():
    """Changed in place after it was assigned, and assigned again after the check: the check
    compares with numbers the teacher worked out for the value at its cell."""
    teacher = teacher_of(SETUP, ("x_test = np.arange(3.0)\nx_test[0] = -1.0", {}),
                         ("for i in range(2):\n    x_test[2] += 1", {}), SOLUTION,
                         check("assert np.allclose(slope(x_test), [-2, 2, 8])"),
                         ("x_test = np.arange(5.0)", {}))  # fmt: skip
    (right,) = graded(teacher, lambda x: 2 * x)
    assert right.status == "correct", right.message


def test_a_student_who_changes_the_value_changes_it_for_no_one_else():
    """Each evaluation gets its own copy: a function that writes into the array it is handed
    (scored 0) does not change what the next student's check is given."""

    def writes(x):
        x[:] = 100.0
        return 2 * x

    teacher = teacher_of(SETUP, ("x_test = np.arange(3.0)", {}), SOLUTION,
                         check("assert np.allclose(slope(x_test), [0, 2, 4])"))  # fmt: skip
    first, second = graded(teacher, writes, lambda x: 2 * x)
    assert (first.status, second.status) == ("hint", "correct"), second.message


def test_an_instance_of_the_teachers_class_is_one_of_the_class_the_check_sees():
    teacher = teacher_of(SETUP, ("class Data:\n    def __init__(self):\n        self.x = np.ones(2)", {}),
                         ("data = Data()", {}), SOLUTION,
                         check("assert isinstance(data, Data)\nassert slope(data.x)[0] == 2"))  # fmt: skip
    (right,) = graded(teacher, lambda x: 2 * x)
    assert right.status == "correct", right.message


@pytest.mark.parametrize(
    "cells, said",
    [
        (
            [("x_test = np.arange(3.0)\nout = slope(x_test)", {})],
            "NameError: name 'out' is not defined: out depends on the student's answer (code cell "
            "3 of the teacher's own.ipynb), and the grader calls the student's functions only "
            "inside a check: compute it in the check's cell",
        ),
        (
            [("out = np.load('not-there.npy')", {})],
            "NameError: name 'out' is not defined: out has no value in the grader: the teacher's "
            "`out = np.load('not-there.npy')` (code cell 3 of own.ipynb) failed there: "
            "FileNotFoundError",
        ),
    ],
)
def test_a_value_the_grader_cannot_have_says_why(cells, said):
    teacher = teacher_of(SETUP, SOLUTION, *cells, check("assert np.allclose(out, [0, 2, 4])"))
    (result,) = graded(teacher, lambda x: 2 * x)
    assert result.status == "error"
    assert result.message.startswith(f"the check failed in the grader: {said}"), result.message


def test_a_value_assigned_only_after_the_check_is_named_with_its_cell():
    teacher = teacher_of(SETUP, SOLUTION, check("assert np.allclose(slope(x_test), 0)"),
                         ("x_test = np.zeros(3)", {}))  # fmt: skip
    (result,) = graded(teacher, lambda x: 2 * x)
    assert result.status == "error"
    assert "x_test is assigned in code cell 4 of the teacher's own.ipynb, after the check's " in (
        result.message
    )


def test_the_teachers_cells_run_once_quietly_and_only_for_a_value_a_check_reads(tmp_path, capsys):
    import matplotlib

    backend = matplotlib.get_backend()
    matplotlib.use("svg")  # a teacher's own backend, as in a notebook's kernel
    runs = tmp_path / "runs.txt"
    count = (
        f"with open({str(runs)!r}, 'a') as f:\n    f.write('ran ')\nprint('teacher output')\n"
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\nname = input()",
        {},
    )
    unused = teacher_of(SETUP, count, ("x_test = np.arange(3.0)", {}), SOLUTION,
                        check("assert np.allclose(slope(np.arange(3.0)), [0, 2, 4])"))  # fmt: skip
    graded(unused, lambda x: 2 * x)
    assert not runs.exists()  # no check reads x_test: the curriculum's case
    used = teacher_of(SETUP, count, ("x_test = np.arange(3.0)", {}), SOLUTION,
                      check("assert np.allclose(slope(x_test), [0, 2, 4])"))  # fmt: skip
    results = graded(used, lambda x: 2 * x, lambda x: 2 * x, lambda x: x)
    assert [r.status for r in results] == ["correct", "correct", "hint"]
    assert runs.read_text() == "ran "  # once for the grading, not once per student
    assert "teacher output" not in capsys.readouterr().out
    given_back = matplotlib.get_backend()
    matplotlib.use(backend)
    assert given_back == "svg"  # `grade` may run in a teacher's notebook


def test_a_class_graded_with_a_value_of_another_cell(tmp_path, capsys):
    """Through `grade`, with kernels: the student who writes into the array first does not
    change the array the next student's check is given."""
    from backproplab.classroom.__main__ import main

    body = SOLUTION[0].replace("return 2 * x", "{}")
    cells = [SETUP, ("x_test = np.arange(3.0)", {}), (body, SOLUTION[1]),
             check("assert np.allclose(slope(x_test), [0, 2, 4]), 'not twice x'")]  # fmt: skip
    write_notebook(
        tmp_path / "source" / "hw.ipynb", *[(s.format("return 2 * x"), m) for s, m in cells]
    )
    answers = {"aaron": "x[:] = 0\n    return 2 * x", "ada": "return 2 * x", "alan": "return x"}
    for student, answer in answers.items():
        write_notebook(tmp_path / "submitted" / student / "hw.ipynb",
                       *[(s.format(answer), m) for s, m in cells])  # fmt: skip
    command = ["grade", str(tmp_path / "submitted"), "--source", str(tmp_path / "source")]
    assert main([*command, "--timeout", "60"]) == 0
    table = capsys.readouterr().out.split("\n\n")[0]  # (the summary by exercise follows)
    scores = {line.split()[0]: line.split()[-2:] for line in table.splitlines()[2:] if line}
    assert scores == {"aaron": ["0", "2"], "ada": ["2", "2"], "alan": ["0", "2"]}, table


def test_the_pages_words_are_the_graders():
    """docs/teaching.md quotes the row of a check reading a value computed from the answer."""
    import re
    from pathlib import Path

    import nbformat

    from backproplab.classroom._source import teacher_notebook

    page = (Path(__file__).resolve().parents[1] / "docs" / "teaching.md").read_text("utf-8")
    quoted = " ".join(re.search(r'"(NameError: name \'out\'.*?)"\.', page, re.S)[1].split())
    solution = ("def softplus_slope(x):\n    ### BEGIN SOLUTION\n    return 1 / (1 + np.exp(-x))\n"
                "    ### END SOLUTION", {"solution": True, "grade_id": "hw1-softplus_slope"})  # fmt: skip
    cells = [SETUP, ("x_test = np.linspace(-2, 2, 5)", {}), solution,
             ("out = softplus_slope(x_test)", {}),
             ("assert np.allclose(out, 1 / (1 + np.exp(-x_test)))",
              {"grade": True, "grade_id": "hw1-softplus_slope-check", "points": 1})]  # fmt: skip
    notebook = nbformat.v4.new_notebook()
    for source, meta in cells:
        notebook.cells.append(nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta}))
    teacher = teacher_notebook("hw1.ipynb", notebook)
    result = evaluate_check(teacher.checks[0], teacher, Answers({"softplus_slope": lambda x: x}))
    assert result.message == f"the check failed in the grader: {quoted}"


def test_the_teachers_cells_run_in_the_notebooks_folder(tmp_path, monkeypatch):
    """`x_test = np.load("x_test.npy")` beside the notebook failed in the grader, which ran the
    cell in the folder `grade` was started in."""
    from backproplab.classroom._source import load_source

    folder = tmp_path / "hw"
    write_notebook(folder / "hw.ipynb", SETUP, ("x_test = np.load('x_test.npy')", {}), SOLUTION,
                   check("assert np.allclose(slope(x_test), [0, 2, 4])"))  # fmt: skip
    np.save(folder / "x_test.npy", np.arange(3.0))
    monkeypatch.chdir(tmp_path)
    (teacher,) = load_source(folder)
    (right,) = graded(teacher, lambda x: 2 * x)
    assert right.status == "correct", right.message


def test_a_value_a_solution_cell_changes_just_before_the_check_is_not_the_teachers():
    """In the notebook the check sees what the student's solution cell made of ``w`` (or of
    ``x_test``): the grader, which does not run that cell, has no value for it and says why,
    rather than grading the student's check against the teacher's value before the solution."""
    rebinds = ("### BEGIN SOLUTION\nw = np.array([1.0, 2.0])\n### END SOLUTION",
               {"solution": True, "grade_id": "w"})  # fmt: skip
    changes = (SOLUTION[0] + "\nx_test[0] = 7.0", SOLUTION[1])
    for cells, name, cell in [
        ([("w = np.zeros(2)", {}), SOLUTION, rebinds], "w", 4),
        ([("x_test = np.arange(3.0)", {}), changes], "x_test", 3),
    ]:
        teacher = teacher_of(SETUP, *cells, check(f"assert np.allclose(slope({name}), 0)"))
        (result,) = graded(teacher, lambda x: 0 * x)
        assert result.status == "error", result.message
        assert (
            f"NameError: name '{name}' is not defined: {name} depends on the student's answer "
            f"(code cell {cell} of the teacher's own.ipynb)" in result.message
        )


def test_a_value_another_check_cell_assigns_is_not_given_the_earlier_value():
    """The first check cell reads ``x_test``, then assigns it anew (it still gets the value):
    in the notebook the second check reads the new one, which the grader (running each check
    on its own) cannot give, and says so."""
    teacher = teacher_of(SETUP, ("x_test = np.arange(3.0)", {}), SOLUTION,
                         check("x_test = x_test + 1\nassert np.allclose(slope(x_test), [2, 4, 6])"),
                         ("assert np.allclose(slope(x_test), [2, 4, 6])",
                          {"grade": True, "grade_id": "second", "points": 1}))  # fmt: skip
    first, second = (evaluate_check(c, teacher, Answers({"slope": lambda x: 2 * x}))
                     for c in teacher.checks)  # fmt: skip
    assert first.status == "correct", first.message
    assert second.status == "error"
    assert "x_test is assigned in the check cell slope-check (code cell 4 of the teacher's " in (
        second.message
    )


def test_two_values_that_share_an_object_share_it_in_the_check():
    teacher = teacher_of(SETUP, ("a = np.zeros(3)\nd = {'a': a}", {}), SOLUTION,
                         check("assert d['a'] is a, 'not shared'\nassert np.allclose(slope(a), 0)"))  # fmt: skip
    (result,) = graded(teacher, lambda x: 2 * x)
    assert result.status == "correct", result.message


def test_the_curriculums_checks_read_no_value_of_another_cell():
    """So that grading the course runs none of its notebooks' cells, and scores as before."""
    from pathlib import Path

    from backproplab.classroom._source import load_source

    teachers = load_source(Path(__file__).resolve().parents[1] / "notebooks")
    assert len(teachers) == 14
    assert [c.grade_id for t in teachers for c in t.checks if c.needs] == []
    assert not any(t.code for t in teachers)


def test_the_teachers_cells_leave_the_graders_process_as_they_found_it():
    """A teacher's `np.seterr(all="raise")` made every later check of every notebook graded in
    the same run raise where it warned (the curriculum's too), `os.chdir` moved the command's
    relative paths, `np.random.seed(0)` the checks' random numbers."""
    import os
    import random

    cell = ("np.seterr(all='raise')\nnp.random.seed(0)\nrandom.seed(0)\n"
            "np.set_printoptions(precision=2)\nos.chdir('/')\nsys.path.insert(0, '/nowhere')\n"
            "os.environ['BACKPROPLAB_TEACHER'] = '1'\nx_test = np.arange(3.0)", {})  # fmt: skip

    def state():
        return (np.geterr(), np.random.get_state()[1].tolist(), random.getstate(),  # noqa: NPY002
                np.get_printoptions(), os.getcwd(), list(sys.path), dict(os.environ))  # fmt: skip

    before = state()
    teacher = teacher_of(("import numpy as np\nimport os, random, sys", {}), cell, SOLUTION,
                         check("assert np.allclose(slope(x_test), [0, 2, 4])"))  # fmt: skip
    (right,) = graded(teacher, lambda x: 2 * x)
    assert right.status == "correct", right.message
    assert teacher.values  # the cell ran
    assert state() == before


def writes(x):
    x[:] = 100.0
    return 2 * x


@pytest.mark.parametrize(
    "cells",
    [
        [("x_test = np.arange(3.0)\nget_x = lambda: x_test", {})],
        [("def make():\n    data = np.arange(3.0)\n    return lambda: data", {}),
         ("get_x = make()", {})],
        [("x_test = np.arange(3.0)\ndef helper():\n    return x_test", {}),
         ("get_x = lambda: [helper][0]()", {})],
    ],
    ids=["a lambda's global", "a closure's cell", "a function the lambda calls"],
)  # fmt: skip
def test_a_function_of_the_teachers_cells_hands_each_student_an_array_of_their_own(cells):
    """A value that is a function (a lambda reading x_test, a closure over an array) was the
    same object for every evaluation, and so was what it returned: the first student's
    function, which writes into the array it is handed, failed the next student's right
    answer."""
    teacher = teacher_of(SETUP, *cells, SOLUTION,
                         check("assert np.allclose(slope(get_x()), [0, 2, 4])"))  # fmt: skip
    first, second, third = graded(teacher, writes, lambda x: 2 * x, lambda x: 2 * x)
    assert (first.status, second.status, third.status) == ("hint", "correct", "correct"), (
        second.message
    )


def test_a_lambda_reads_the_values_as_they_were_at_the_checks_cell():
    teacher = teacher_of(SETUP, ("scale = 2\ntwice = lambda x: scale * x", {}), SOLUTION,
                         check("assert np.allclose(slope(np.ones(2)), twice(np.ones(2)))"),
                         ("scale = 3\ny = 1", {}),
                         ("assert y == 1", {"grade": True, "grade_id": "other", "points": 1}))  # fmt: skip
    (right,) = graded(teacher, lambda x: 2 * x)
    assert right.status == "correct", right.message


def test_a_function_of_no_teachers_cell_is_still_itself_when_copied():
    from backproplab.classroom._values import _deep

    def mine():
        return 1

    assert _deep([mine], {})[0] is mine and _deep(np.sum, {}) is np.sum


@pytest.mark.parametrize(
    "cells, reads",
    [
        ([("x_test = np.arange(3.0)\nfns = [lambda: x_test, {'f': lambda: x_test}]", {})],
         "fns[1]['f']()"),
        ([("class Box:\n    __slots__ = ('get',)\n    def __init__(self, get):\n"
           "        self.get = get", {}),
          ("x_test = np.arange(3.0)\nbox = (Box(lambda: x_test),)", {})],
         "box[0].get()"),
    ],
    ids=["in a list and a dict", "in an instance of the teacher's class with slots, in a tuple"],
)  # fmt: skip
def test_a_function_of_the_teachers_cells_inside_a_value_is_copied_too(cells, reads):
    """Python 3.14's deepcopy returns every function and class as it is before it reads its
    memo or its tables: the grader's rule for them, put in deepcopy's private table, was never
    used, and these failed there (with the lambda and the class at the top level too)."""
    teacher = teacher_of(SETUP, *cells, SOLUTION,
                         check(f"assert np.allclose(slope({reads}), [0, 2, 4])"))  # fmt: skip
    first, second, third = graded(teacher, writes, lambda x: 2 * x, lambda x: 2 * x)
    assert (first.status, second.status, third.status) == ("hint", "correct", "correct"), (
        second.message
    )


def test_a_value_without_functions_is_copied_as_deepcopy_copies_it():
    """The grader's copy follows deepcopy's rules for everything but functions and classes."""
    import collections
    import copy
    import dataclasses
    import fractions

    import backproplab as bl
    from backproplab.classroom._values import _deep

    @dataclasses.dataclass
    class Point:
        xy: np.ndarray

    shared = np.arange(3.0)
    loop: list = [1]
    loop.append(loop)
    value = {"a": [shared, (shared, {2, 3}), frozenset({1})], "p": Point(shared), "loop": loop,
             "d": collections.defaultdict(list, {"k": [1.5]}), "f": fractions.Fraction(1, 3),
             "t": bl.Tensor(np.ones(2), requires_grad=True), "o": np.array([None, [1]], object),
             "od": collections.OrderedDict(z=1), "r": range(3), "s": "str", "n": None}  # fmt: skip
    mine, theirs = _deep(value, {}), copy.deepcopy(value)
    assert repr(mine) == repr(theirs)
    assert mine["a"][0] is mine["a"][1][0] is mine["p"].xy is not shared  # shared, as before
    assert mine["loop"][1] is mine["loop"] and mine["r"] is value["r"]
    assert type(mine["d"]) is collections.defaultdict and mine["d"]["new"] == []
    mine["t"].data[0] = 5.0
    mine["o"][1].append(2)
    assert value["t"].data[0] == 1.0 and value["o"][1] == [1]  # its own, all the way down


def test_a_function_of_the_teachers_cells_that_calls_itself_is_copied_once(monkeypatch):
    """It was copied again for each time its copy's globals named it, about a thousand deep,
    until Python's recursion limit raised, and the error was swallowed."""
    from backproplab.classroom import _values

    copies = []
    copy_function = _values._copy_function
    monkeypatch.setattr(_values, "_copy_function", lambda f, memo: copies.append(f.__name__)
                        or copy_function(f, memo))  # fmt: skip
    cells = [("x_test = np.arange(3.0)\ndef count(n):\n    return x_test if n == 0 else count(n - 1)",
              {}), ("get_x = lambda: count(2)", {})]  # fmt: skip
    teacher = teacher_of(SETUP, *cells, SOLUTION,
                         check("assert np.allclose(slope(get_x()), [0, 2, 4])"))  # fmt: skip
    first, second = graded(teacher, writes, lambda x: 2 * x)
    assert (first.status, second.status) == ("hint", "correct"), second.message
    assert copies == ["<lambda>", "count"] * 3, copies  # kept at the check's cell, then twice
