"""The teacher's workflow, found wanting by an audit: each test here failed before its fix.

The grade must agree with the self-check the learner runs in the notebook: the grader runs the
same check in its own process and calls the student's code in the kernel, so whatever the check
sets up around a call (numpy's error state) must hold in the kernel as well.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nbformat
import numpy as np

from backproplab.classroom.__main__ import main
from backproplab.exercises.mygrad import check_step

ROOT = Path(__file__).resolve().parents[1]
MYGRAD = (ROOT / "notebooks" / "mygrad.py").read_text()
STABLE_SIGMOID = """        e = np.exp(-np.abs(self.data))  # <= 1: no overflow for any x
        out = np.where(self.data >= 0, 1, e) / (1 + e)"""
NAIVE_SIGMOID = "        out = 1 / (1 + np.exp(-self.data))"  # e ** 800 overflows at x = -800


def _engine_notebook(folder: Path, step: str) -> None:
    """A teacher notebook with one graded check of the learner's engine, step ``step``."""
    check = nbformat.v4.new_code_cell(f'check_step("{step}", mygrad)')
    check.metadata["nbgrader"] = {"grade": True, "grade_id": f"mygrad-{step}-check", "points": 2}
    imports = "import mygrad\nfrom backproplab.exercises.mygrad import check_step"
    cells = [nbformat.v4.new_code_cell(imports), check]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "engine.ipynb")


def test_an_overflowing_sigmoid_scores_as_its_self_check_says(tmp_path, monkeypatch):
    """Step 07 runs the sigmoid at -800 under np.errstate(over="raise"): in the notebook that
    turns the overflow into a hint. The grader used to call the kernel's sigmoid outside that
    state, so numpy only warned, 1 / (1 + inf) gave the right 0, and the grade was full."""
    assert MYGRAD.count(STABLE_SIGMOID) == 1
    teacher, student = tmp_path / "teacher", tmp_path / "in" / "naive"
    teacher.mkdir()
    student.mkdir(parents=True)
    (teacher / "mygrad.py").write_text(MYGRAD)
    _engine_notebook(teacher, "07")
    (student / "mygrad.py").write_text(MYGRAD.replace(STABLE_SIGMOID, NAIVE_SIGMOID))
    shutil.copy(teacher / "engine.ipynb", student)

    monkeypatch.syspath_prepend(str(student))  # the learner's own run of the check
    import mygrad

    in_the_notebook = check_step("07", mygrad)
    assert in_the_notebook.status == "hint"
    assert "sigmoid of -800 and 800" in in_the_notebook.message

    out, feedback = tmp_path / "scores.csv", tmp_path / "feedback"
    command = ["grade", str(tmp_path / "in"), "--source", str(teacher), "--csv", str(out)]
    assert main([*command, "--timeout", "60", "--feedback", str(feedback)]) == 0
    row = next(csv.DictReader(out.open()))
    assert row["mygrad-07"] == "0", row
    assert "sigmoid of -800 and 800" in (feedback / "naive.txt").read_text()


def test_the_kernel_runs_a_call_under_the_error_state_the_grader_sends():
    """The kernel side of the fix: a request's errstate holds around the student's call, and
    what it does not name stays as the kernel had it."""
    from backproplab.classroom import _kernel_side, _wire

    def overflow():
        return float(np.exp(np.array(800.0)))

    def request(errstate):
        empty = {"args": {"list": []}, "kwargs": {"dict": []}, "nodes": []}
        return _wire.dumps({**empty, "errstate": errstate})

    raised = _kernel_side._call({"overflow": overflow}, "overflow", request({"over": "raise"}))
    assert (raised["status"], raised["error_type"]) == ("raised", "FloatingPointError")
    with np.errstate(over="ignore"):
        quiet = _kernel_side._call({"overflow": overflow}, "overflow", request({}))
        odd = _kernel_side._call({"overflow": overflow}, "overflow", request({"over": "call"}))
    assert quiet["status"] == odd["status"] == "ok"
