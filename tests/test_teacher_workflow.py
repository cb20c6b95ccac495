"""The teacher's workflow, audited end to end as an adversary: each test here failed before its fix.

Release, then grade a class: the grade must agree with the self-check the learner runs in the
notebook (the grader runs the same check in its own process and calls the student's code in the
kernel, so what the check sets up around a call, numpy's error state, must hold in the kernel
too, and a result that is not data must get the notebook's hint); the release must not keep a
solution's output anywhere (widget state); one student's kernel must not change what another is
graded on or told (staged copies, feedback files, symbolic links); and the reports must be what
the teacher asked for (a CSV in a folder still to be made, in the class's order).
"""

from __future__ import annotations

import csv
import io
import shutil
import sys
import uuid
from pathlib import Path

import nbformat
import numpy as np

from backproplab.classroom import feedback_text
from backproplab.classroom.__main__ import main
from backproplab.classroom._grades import CheckResult, NotebookGrade
from backproplab.classroom.release import student_notebook
from backproplab.exercises.mygrad import check_step

ROOT = Path(__file__).resolve().parents[1]
MYGRAD = (ROOT / "notebooks" / "mygrad.py").read_text(encoding="utf-8")
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
    (teacher / "mygrad.py").write_text(MYGRAD, encoding="utf-8")
    _engine_notebook(teacher, "07")
    (student / "mygrad.py").write_text(
        MYGRAD.replace(STABLE_SIGMOID, NAIVE_SIGMOID), encoding="utf-8"
    )
    shutil.copy(teacher / "engine.ipynb", student)

    monkeypatch.syspath_prepend(str(student))  # the learner's own run of the check
    monkeypatch.delitem(sys.modules, "mygrad", raising=False)  # another test's mygrad: not this
    import mygrad

    in_the_notebook = check_step("07", mygrad)
    assert in_the_notebook.status == "hint"
    assert "sigmoid of -800 and 800" in in_the_notebook.message

    out, feedback = tmp_path / "scores.csv", tmp_path / "feedback"
    command = ["grade", str(tmp_path / "in"), "--source", str(teacher), "--csv", str(out)]
    assert main([*command, "--timeout", "60", "--feedback", str(feedback)]) == 0
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["mygrad-07"] == "0", row
    assert "sigmoid of -800 and 800" in (feedback / "naive.txt").read_text(encoding="utf-8")


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


def _widget_notebook() -> nbformat.NotebookNode:
    """A solution, then two cells each showing an Output widget: the first uses the solution
    (its Output widget saved a figure's text made by it), the second does not."""

    def shown(cell, model):
        view = {"model_id": model, "version_major": 2, "version_minor": 0}
        cell.outputs = [nbformat.v4.new_output("display_data", {WIDGET_VIEW: view})]
        return cell

    def output_model(text, layout):
        stream = {"output_type": "stream", "name": "stdout", "text": text}
        state = {"outputs": [stream], "layout": f"IPY_MODEL_{layout}"}
        return {"model_name": "OutputModel", "model_module": "@jupyter-widgets/output",
                "model_module_version": "1.0.0", "state": state}  # fmt: skip

    layout = {"model_name": "LayoutModel", "model_module": "@jupyter-widgets/base",
              "model_module_version": "2.0.0", "state": {}}  # fmt: skip
    solution = nbformat.v4.new_code_cell("def slope(x):\n    ### BEGIN SOLUTION\n"
                                         "    return 2 * x\n    ### END SOLUTION")  # fmt: skip
    solution.metadata["nbgrader"] = {"solution": True, "grade_id": "slope"}
    notebook = nbformat.v4.new_notebook(cells=[
        solution,
        shown(nbformat.v4.new_code_cell("explorer(slope)"), "aa01"),
        shown(nbformat.v4.new_code_cell("greeter()"), "bb02"),
    ])  # fmt: skip
    state = {"aa01": output_model("slope at 3: 6.0", "aa02"), "aa02": layout,
             "bb02": output_model("hello", "bb03"), "bb03": dict(layout)}  # fmt: skip
    notebook.metadata["widgets"] = {WIDGET_STATE: {"state": state, "version_major": 2,
                                                   "version_minor": 0}}  # fmt: skip
    return notebook


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def test_the_release_drops_the_saved_widgets_of_the_outputs_it_clears():
    """The release clears the outputs of a cell that uses a solution; the notebook's widget
    metadata kept what that cell's Output widget showed ("slope at 3: 6.0") a second time."""
    teacher = _widget_notebook()
    student = student_notebook(teacher)
    assert student.cells[1].outputs == [] and student.cells[2].outputs == teacher.cells[2].outputs
    state = student.metadata["widgets"][WIDGET_STATE]["state"]
    assert sorted(state) == ["bb02", "bb03"]  # the kept cell's widget and its layout
    assert "slope at 3" not in nbformat.writes(student)
    assert state["bb02"] == teacher.metadata["widgets"][WIDGET_STATE]["state"]["bb02"]


def test_a_kernel_cannot_change_what_a_later_student_is_graded_on_or_told(tmp_path):
    """Kernels run as the grader's user. One found the staging folder and emptied the staged
    notebooks of students graded after it (they scored 0, "could not read the notebook"); one
    graded last wrote over the feedback files of everyone graded before it. Now a changed staged
    copy is staged again from the submissions folder (or, changed there too, not graded and said
    so), and the feedback files are written again at the end."""
    from test_adversarial_classroom import teacher_notebook

    token = uuid.uuid4().hex[:8]
    names = [f"{who}-{token}" for who in ("a-vandal", "b-victim", "c-victim", "d-scribbler")]
    teacher, submitted, feedback = tmp_path / "teacher", tmp_path / "in", tmp_path / "feedback"
    teacher.mkdir()
    nbformat.write(teacher_notebook(), teacher / "a.ipynb")
    vandal = (
        "import glob, os, tempfile\n"
        "staged = os.path.join(tempfile.gettempdir(), 'backproplab-staging-*', 'submissions')\n"
        f"for path in glob.glob(os.path.join(staged, '*-victim-{token}', '*.ipynb')):\n"
        "    open(path, 'w').write('{}')\n"
        f"open({str(submitted / names[2] / 'a.ipynb')!r}, 'w').write('{{}}')"
    )
    scribbler = (
        f"for path in __import__('glob').glob({str(feedback / '*.txt')!r}):\n"
        "    open(path, 'w').write('Feedback: 0 of 2, see me')"
    )
    for name, extra in zip(names, [vandal, "", "", scribbler]):
        notebook = teacher_notebook()
        notebook.cells.insert(1, nbformat.v4.new_code_cell(extra))
        (submitted / name).mkdir(parents=True)
        nbformat.write(notebook, submitted / name / "a.ipynb")
    out = tmp_path / "scores.csv"
    command = ["grade", str(submitted), "--source", str(teacher), "--csv", str(out)]
    assert main([*command, "--timeout", "20", "--jobs", "1", "--feedback", str(feedback)]) == 0
    rows = {
        row["student"]: row for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    }
    assert [rows[name]["score"] for name in names] == ["2", "2", "0", "2"], rows
    assert "changed on disk while the class was graded" in rows[names[2]]["problems"]
    for name in names:
        text = (feedback / f"{name}.txt").read_text(encoding="utf-8")
        assert text.startswith(f"Feedback for {name}\n")


def test_a_check_defined_in_the_notebook_gets_the_notebooks_plain_imports(tmp_path):
    """The fixture notebook defines its checks in a cell after ``import numpy as np``. The grader
    rebuilt each plain import without a line number, compile refused it, the error was swallowed,
    and check_square failed in the grader ("name 'np' is not defined"): the teacher's own solved
    notebook scored 1 of 3."""
    fixture = ROOT / "tests" / "fixtures" / "exercises.ipynb"
    (tmp_path / "teacher").mkdir()
    (tmp_path / "in" / "ada").mkdir(parents=True)
    shutil.copy(fixture, tmp_path / "teacher")
    shutil.copy(fixture, tmp_path / "in" / "ada")
    out = tmp_path / "scores.csv"
    command = ["grade", str(tmp_path / "in"), "--source", str(tmp_path / "teacher")]
    assert main([*command, "--timeout", "20", "--csv", str(out)]) == 0
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert (row["fixture-double"], row["fixture-square"], row["score"]) == ("1", "2", "3"), row
    assert row["problems"] == ""


def test_a_result_that_is_not_data_gets_the_hint_the_notebook_gives(tmp_path):
    """An answer returning an object that always says it is equal: the self-check says "your
    result is a Yes, not an array of numbers"; the grader said "the kernel helper failed:
    WireError: a Yes cannot be sent" and listed it as a problem, as if the grader had failed."""
    from test_adversarial_classroom import teacher_notebook, with_body

    from backproplab.exercises import nb05

    yes = (
        "    class Yes:\n"
        "        shape = (G.shape[1],)\n"
        "        def __eq__(self, other):\n"
        "            return True\n"
        "    return Yes()\n"
    )
    namespace: dict = {}
    exec("def dL_db(G):\n" + yes, namespace)
    in_the_notebook = str(nb05.check_dL_db(namespace["dL_db"]))
    assert "your result is a Yes, not an array of numbers" in in_the_notebook

    (tmp_path / "teacher").mkdir()
    (tmp_path / "in" / "ada").mkdir(parents=True)
    nbformat.write(teacher_notebook(), tmp_path / "teacher" / "a.ipynb")
    nbformat.write(with_body(teacher_notebook(), "dL_db", yes), tmp_path / "in" / "ada" / "a.ipynb")
    out, feedback = tmp_path / "scores.csv", tmp_path / "feedback"
    command = ["grade", str(tmp_path / "in"), "--source", str(tmp_path / "teacher")]
    assert main([*command, "--timeout", "20", "--csv", str(out), "--feedback", str(feedback)]) == 0
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert (row["nb05-dL_db"], row["problems"]) == ("0", ""), row
    assert f"(0/1): {in_the_notebook}" in (feedback / "ada.txt").read_text(encoding="utf-8")


def test_the_csv_may_go_to_a_folder_that_does_not_exist_yet(tmp_path, capsys):
    """--feedback out/feedback made its folder, --csv out/scores.csv stopped the run with
    "No such file or directory: '.../out/.scores-…'" (a temporary file the teacher never named)."""
    (tmp_path / "teacher").mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "exercises.ipynb", tmp_path / "teacher")
    (tmp_path / "in").mkdir()  # a notebook of another course: graded without a kernel
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nbformat.write(other, tmp_path / "in" / "ada.ipynb")
    out = tmp_path / "out" / "scores.csv"
    command = ["grade", str(tmp_path / "in"), "--source", str(tmp_path / "teacher")]
    assert main([*command, "--csv", str(out)]) == 0, capsys.readouterr().err
    header, row = out.read_text(encoding="utf-8").splitlines()
    assert header == "student,score,points,problems"
    assert row.startswith("ada,0,0,ada.ipynb: its cells match none of the teacher's notebooks")


def test_links_to_another_students_work_are_not_graded(tmp_path):
    """A submission (a zip keeps them) can hold symbolic links: a notebook linked to another
    student's was graded as the linker's, and a file linked out of the student's folder reached
    the kernel, which ran another student's code as this one's."""
    fixture = ROOT / "tests" / "fixtures" / "exercises.ipynb"
    submitted = tmp_path / "in"
    (tmp_path / "teacher").mkdir()
    shutil.copy(fixture, tmp_path / "teacher")
    for name in ("honest", "linker", "borrower"):
        (submitted / name).mkdir(parents=True)
    shutil.copy(fixture, submitted / "honest")
    (submitted / "honest" / "answers.py").write_text(
        "def double(x):\n    return 2 * x\n", encoding="utf-8"
    )
    (submitted / "linker" / "exercises.ipynb").symlink_to("../honest/exercises.ipynb")
    borrowed = nbformat.read(fixture, as_version=4)
    for cell in borrowed.cells:
        if "def double(" in cell.source:
            cell.source = "from answers import double"
    nbformat.write(borrowed, submitted / "borrower" / "exercises.ipynb")
    (submitted / "borrower" / "answers.py").symlink_to(submitted / "honest" / "answers.py")
    out = tmp_path / "scores.csv"
    command = ["grade", str(submitted), "--source", str(tmp_path / "teacher"), "--csv", str(out)]
    assert main([*command, "--timeout", "20"]) == 0
    rows = {
        row["student"]: row for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    }
    assert (rows["honest"]["score"], rows["linker"]["score"]) == ("3", "0"), rows
    assert "symbolic link" in rows["linker"]["problems"]
    assert (rows["borrower"]["fixture-double"], rows["borrower"]["fixture-square"]) == ("0", "2")


def test_the_csv_lists_the_class_in_order_whoever_finishes_first(tmp_path):
    """With --jobs 2 the CSV's rows came in the order the students finished (the terminal table
    in the class's order): a slow first student ended up last."""
    fixture = ROOT / "tests" / "fixtures" / "exercises.ipynb"
    (tmp_path / "teacher").mkdir()
    shutil.copy(fixture, tmp_path / "teacher")
    slow = nbformat.read(fixture, as_version=4)
    slow.cells.insert(1, nbformat.v4.new_code_cell("import time\ntime.sleep(4)"))
    for name, notebook in [("ada", slow), ("bob", nbformat.read(fixture, as_version=4))]:
        (tmp_path / "in" / name).mkdir(parents=True)
        nbformat.write(notebook, tmp_path / "in" / name / "exercises.ipynb")
    out = tmp_path / "scores.csv"
    command = ["grade", str(tmp_path / "in"), "--source", str(tmp_path / "teacher")]
    assert main([*command, "--timeout", "20", "--jobs", "2", "--csv", str(out)]) == 0
    assert [
        row["student"] for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    ] == ["ada", "bob"]


def test_a_release_inside_the_source_is_named_when_the_grader_refuses_it(tmp_path, capsys):
    """teaching.md shows `release notebooks/ notebooks/student/`; grading with --source
    notebooks/ then finds every check twice, and the error named the same file twice: "the
    teacher's exercises.ipynb and exercises.ipynb both have the check ..."."""
    source = tmp_path / "notebooks"
    source.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "exercises.ipynb", source)
    assert main(["release", str(source), str(source / "student")]) == 0
    (tmp_path / "in").mkdir()
    assert main(["grade", str(tmp_path / "in"), "--source", str(source)]) == 1
    error = capsys.readouterr().err
    assert "exercises.ipynb and student/exercises.ipynb both have the check" in error


def test_the_feedback_says_a_checks_problem_once():
    """A check refused for calling the package is a problem for the teacher's table, and its
    line in the student's feedback already says why: the feedback does not repeat it below
    (it did, as "! nb05-dL_dX: ..."); a problem of the notebook itself is still listed."""
    refused = "dL_dX: ✘ not yet — your function calls the package (its code uses .backward)"
    grade = NotebookGrade(
        "carol",
        "05_matmul_gradients.ipynb",
        [CheckResult("nb05-dL_dX", 1.0, 0.0, "package", refused)],
        [f"nb05-dL_dX: {refused}", "cell 7 ran longer than 60 s"],
        "05_matmul_gradients.ipynb",
    )
    text = feedback_text("carol", [grade])
    assert text.count(refused) == 1
    assert "  ✘ nb05-dL_dX (0/1): dL_dX: ✘ not yet" in text
    assert "  ! cell 7 ran longer than 60 s" in text


def test_the_grader_reads_no_editor_checkpoint_of_a_teacher_notebook(tmp_path):
    """JupyterLab keeps .ipynb_checkpoints/engine-checkpoint.ipynb beside engine.ipynb: the same
    checks a second time, which the grader would refuse as two notebooks with one check."""
    from backproplab.classroom._source import load_source

    _engine_notebook(tmp_path, "01")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    shutil.copy(
        tmp_path / "engine.ipynb", tmp_path / ".ipynb_checkpoints" / "engine-checkpoint.ipynb"
    )
    (teacher,) = load_source(tmp_path)
    assert teacher.name == "engine.ipynb" and [c.grade_id for c in teacher.checks] == [
        "mygrad-01-check"
    ]


def test_a_widget_model_a_kept_output_also_uses_keeps_its_saved_state():
    """Two Output widgets share one layout model: the first is shown by a cell the release
    clears, the second by a cell it keeps. The kept widget and the layout it refers to stay."""
    teacher = _widget_notebook()
    state = teacher.metadata["widgets"][WIDGET_STATE]["state"]
    state["bb02"]["state"]["layout"] = "IPY_MODEL_aa02"  # the layout of the cleared widget
    del state["bb03"]
    student = student_notebook(teacher)
    assert student.cells[1].outputs == [] and student.cells[2].outputs == teacher.cells[2].outputs
    kept = student.metadata["widgets"][WIDGET_STATE]["state"]
    assert sorted(kept) == ["aa02", "bb02"]
    assert kept["aa02"] == state["aa02"] and kept["bb02"] == state["bb02"]
    assert "slope at 3" not in nbformat.writes(student)
