"""Attacks on the day's changes (a crash's quoted line, the warnings that name a mistake, the
NameError hint, a term's CSV), each test failing on the code before its fix."""

from __future__ import annotations

import importlib
import sys

import nbformat
import numpy as np

from backproplab.exercises import attempt


class Answers:
    """A stand-in for the grader's session: calls the 'student's' functions of ``answers``."""

    def __init__(self, answers):
        self.answers, self.package_calls, self.package_uses = answers, [], []

    def call(self, name, args, kwargs):
        return self.answers[name](*args, **kwargs)


def teacher_of(*cells: tuple[str, dict]):
    from backproplab.classroom._source import teacher_notebook

    notebook = nbformat.v4.new_notebook()
    for source, meta in cells:
        notebook.cells.append(nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta}))
    return teacher_notebook("own.ipynb", notebook)


SOLUTION = ("def slope(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            {"solution": True, "grade_id": "slope"})  # fmt: skip
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
