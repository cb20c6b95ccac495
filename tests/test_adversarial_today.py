"""Attacks on the day's changes (a crash's quoted line, the warnings that name a mistake, the
NameError hint, a term's CSV), each test failing on the code before its fix."""

from __future__ import annotations

import importlib
import sys

import nbformat
import numpy as np
import pytest
from test_own_exercises import SOLUTION, Answers, teacher_of

from backproplab.exercises import attempt

CHECK = ("check_slope(slope)", {"grade": True, "grade_id": "slope-check", "points": 1})


def test_a_crash_in_the_teachers_code_never_quotes_the_teachers_line(tmp_path, monkeypatch):
    """The grader quoted a line of its own process as "the line that raised it": the teacher's
    module of checks (its expected answer), or, for a function of the notebook's setup (compiled
    as "own.ipynb"), a line of whatever file of that name the working folder held (the teacher's
    notebook: its solutions)."""
    from backproplab.classroom._check import evaluate_check

    (tmp_path / "secret_checks.py").write_text(
        "import numpy as np\n\nEXPECTED = np.arange(3.0)\n\n\ndef compare(out):\n"
        "    return out - 2 * EXPECTED  # the answer\n",
        encoding="utf-8",
    )
    (tmp_path / "own.ipynb").write_text("\n" * 8 + "SOLUTION: return 2 * x\n" * 30)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    setups = {
        "secret_checks": "from secret_checks import compare",
        "the notebook": "def compare(out):\n    return out - 2 * np.arange(3.0)",
    }
    for where, compare in setups.items():
        setup = (
            f"import numpy as np\nfrom backproplab.exercises import attempt, correct\n{compare}\n\n"
            "def check_slope(fn):\n"
            "    got = attempt('slope', lambda: compare(fn(np.arange(3.0))))\n"
            "    return got if hasattr(got, 'status') else correct('slope')",
            {},
        )
        teacher = teacher_of(setup, SOLUTION, CHECK)
        result = evaluate_check(teacher.checks[0], teacher, Answers({"slope": lambda x: x[:2]}))
        assert "your code raised ValueError" in result.message, (where, result)
        assert "line that raised" not in result.message, (where, result)
    sys.modules.pop("secret_checks", None)


def test_the_line_quoted_is_the_line_of_the_file_as_it_is_now(tmp_path, monkeypatch):
    """mygrad.py edited and reloaded: the hint quoted the line of the file as first read (what
    linecache held), another line than the one that raised; a traceback shows the new one."""
    engine = tmp_path / "edited_engine.py"
    engine.write_text("def f(a, b):\n    c = a + 1\n    return c @ b\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("edited_engine")
    first = attempt("ex", module.f, np.ones((2, 3)), np.ones((2, 3)))
    assert first.message.endswith("raised it: `return c @ b`."), first
    engine.write_text(
        "def f(a, b):\n    c = a + 1\n    d = c.T\n    return (d.T @ b) + 0\n", encoding="utf-8"
    )
    importlib.invalidate_caches()
    module = importlib.reload(module)
    second = attempt("ex", module.f, np.ones((2, 3)), np.ones((2, 3)))
    assert second.message.endswith("raised it: `return (d.T @ b) + 0`."), second
    sys.modules.pop("edited_engine", None)


def test_marks_typed_into_the_csv_by_a_spreadsheet_survive_a_grading_again(tmp_path, capsys):
    """The teacher types the marks of the cells a person marks into the scores CSV (saved by
    Excel: a BOM, CRLF, a column moved), then grades the class again (a check fixed). Before:
    without --merge the file was rewritten whole, the marks gone; with --merge it was refused as
    "not a scores file this grader wrote" (the BOM, the moved column), and once read, the
    student graded again got a blank mark."""
    from test_term import course, grade, hand_in, meta, rows

    source = tmp_path / "course"
    course(source)
    notebook = nbformat.read(source / "hw1.ipynb", as_version=4)
    notebook.cells.append(
        nbformat.v4.new_markdown_cell("Why?", metadata=meta("why", task=True, points=3))
    )
    nbformat.write(notebook, source / "hw1.ipynb")
    for student in ("ada", "bob"):
        hand_in(tmp_path / "week1", student, source, "hw1.ipynb")
    scores = tmp_path / "s.csv"
    args = [str(tmp_path / "week1"), "--source", str(source), "--csv", str(scores)]
    assert grade(*args) == 0
    assert [row["why"] for row in rows(scores).values()] == ["", ""]
    by_excel = "\ufeffstudent,why,double,score,points,problems\r\nada,3,1,1,4,\r\nbob,,1,1,4,\r\n"
    scores.write_bytes(by_excel.encode("utf-8"))
    capsys.readouterr()

    assert grade(*args) == 1  # the class again, no --merge: the typed mark would be lost
    assert "holds the marks typed in for ada" in capsys.readouterr().err
    assert scores.read_bytes() == by_excel.encode("utf-8")
    assert grade(*args, "--merge") == 0
    merged = rows(scores)
    assert [(s, merged[s]["why"], merged[s]["score"]) for s in merged] == [
        ("ada", "3", "4"),
        ("bob", "", "1"),
    ]


def test_a_row_typed_into_the_csv_is_kept_or_the_file_refused(tmp_path):
    """A student's row typed in shorter than the header was dropped by a merge (their marks
    lost); a row with cells beyond the last column would lose them."""
    from types import SimpleNamespace

    from backproplab.classroom._term import Merge

    teacher = SimpleNamespace(checks=[SimpleNamespace(exercise="double", points=1.0)], by_hand=[])
    scores = tmp_path / "s.csv"
    scores.write_text("student,double,score,points,problems\nada,1,1,1,\nzoe,1\n", "utf-8")
    merge = Merge(scores, ["double"], [teacher])
    assert merge.rows([], ["student", "double", "score", "points", "problems"]) == [
        ["ada", "1", "1", "1", ""],
        ["zoe", "1", "1", "1", ""],
    ]
    scores.write_text("student,double,score,points,problems\nada,1,1,1,,late: -1\n", "utf-8")
    with pytest.raises(ValueError, match="cells beyond its last column in the rows of ada"):
        Merge(scores, ["double"], [teacher])


class Shell:
    """What ``_names._with_hint`` uses of IPython's shell: its namespace, and the traceback."""

    def __init__(self):
        self.user_global_ns: dict = {}
        self.shown: list[BaseException] = []

    def showtraceback(self, exc_tuple, tb_offset=None):
        self.shown.append(exc_tuple[1])


def test_the_name_hint_is_for_names_of_the_notebook_not_of_a_module():
    """A NameError inside mygrad.py (``np`` never imported there) was told to run the cell
    above that defines ``np``: no cell can define a name a module lacks."""
    from backproplab.exercises._names import _with_hint

    shell = Shell()
    module: dict = {}  # mygrad.py's names
    exec(compile("def relu(x):\n    return np.maximum(x, 0)\n", "mygrad.py", "exec"), module)
    exec("def step():\n    return w\n", shell.user_global_ns)  # a cell's function, w not run
    for call, hinted in ((shell.user_global_ns["step"], True), (lambda: module["relu"](1), False)):
        with pytest.raises(NameError) as caught:
            call()
        _with_hint(shell, NameError, caught.value, caught.value.__traceback__)
        notes = getattr(shell.shown[-1], "__notes__", [])
        assert bool(notes) == hinted, (caught.value, notes)


def test_the_name_hint_is_added_once_and_only_for_a_name():
    """(Found by mutation testing.) The hint is one note however often the error is shown, and a
    NameError raised by hand with no name (``raise NameError("...")``) gets none: "`None` is
    not defined yet" would be nonsense."""
    from backproplab.exercises._names import _with_hint, name_hint

    shell = Shell()
    exec(
        "def step():\n    return w\n\ndef own():\n    raise NameError('mine')\n",
        shell.user_global_ns,
    )
    with pytest.raises(NameError) as caught:
        shell.user_global_ns["step"]()
    for _ in range(2):
        _with_hint(shell, NameError, caught.value, caught.value.__traceback__)
    assert caught.value.__notes__ == [name_hint("w")]
    with pytest.raises(NameError) as caught:
        shell.user_global_ns["own"]()
    _with_hint(shell, NameError, caught.value, caught.value.__traceback__)
    assert getattr(caught.value, "__notes__", []) == []
