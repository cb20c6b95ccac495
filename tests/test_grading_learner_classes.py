"""A teacher notebook that imports a class of the learner's engine (``from mygrad import Tensor``)
and tests it in a check cell (``x = Tensor(...)``, ``x * x``, ``.backward()``, an ``assert``).

The grader runs a check in its own process and the student's code in their kernel, and only
data crosses between them: a student's Tensor cannot. Such a check scored every student 0, the
solved engine too, with "the kernel helper failed: AttributeError: 'Tensor' object has no
attribute 'op'" (found by grading a solved and a wrong engine, and rehearsing, in that style);
``plan`` said nothing. Now every command says, in one line, which cell uses which class and what
to write instead. The same engine tested through ``from mygrad import run`` (data in, data out)
is graded: the solved engine gets the points, a wrong one does not, and so it is when the check
cell imports the engine itself.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from exercise_helpers import grade_students

from backproplab.classroom import Limits, rehearsal_text, rehearse
from backproplab.classroom.plan import course_plan, plan_markdown, plan_text

ENGINE = Path(__file__).resolve().parents[1] / "notebooks" / "mygrad.py"
SOLVED = ENGINE.read_text(encoding="utf-8")
MUL = "return node(x * y, (self, other), lambda g: (g * y, g * x))"
WRONG = SOLVED.replace(MUL, "return node(x * y, (self, other), lambda g: (g, g))")
TENSOR_CHECK = """x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
y = x * x
y.backward()
assert np.allclose(x.grad, [2.0, 4.0])"""
RUN_CHECK = """values, grads, order = run([("mul", 0, 0, {})], [np.array([1.0, 2.0])])
assert np.allclose(grads[0], [2.0, 4.0])"""
SAID = (
    "code cell 2 of the teacher's a.ipynb uses {name}, a class of the learner's mygrad.py, whose "
    "objects stay in the student's kernel (the grader gets data only): every answer would score "
    '0; test mygrad.py through functions that take and return arrays, as `check_step("NN", '
    "mygrad)` does after `import mygrad`"
)


def engine_notebook(imports: str, check: str) -> nbformat.NotebookNode:
    """A notebook importing the learner's engine with ``imports``, with one check cell."""
    cell = nbformat.v4.new_code_cell(check)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "mul-check", "points": 2}
    setup = nbformat.v4.new_code_cell(f"import numpy as np\n{imports}")
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# engine"), setup, cell])


def source(folder: Path, notebook: nbformat.NotebookNode) -> Path:
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "a.ipynb")
    (folder / "mygrad.py").write_text(SOLVED, encoding="utf-8")
    return folder


def test_a_wrong_engine_fails_the_check_in_the_notebook():
    """The wrong engine is wrong: the check's own test fails on it (and passes on the solved)."""
    import numpy as np

    for text, passes in ((SOLVED, True), (WRONG, False)):
        engine: dict = {}
        exec(compile(text, "mygrad.py", "exec"), engine)  # noqa: S102 - the test's own file
        x = engine["Tensor"](np.array([1.0, 2.0]), requires_grad=True)
        (x * x).backward()
        assert np.allclose(x.grad, [2.0, 4.0]) is passes


def test_grading_a_check_that_makes_the_learners_tensor_says_why_in_one_line(tmp_path):
    teacher = engine_notebook("from mygrad import Tensor", TENSOR_CHECK)
    files = {"teacher": {"mygrad.py": SOLVED}, "solved": {"mygrad.py": SOLVED}}
    files["wrong"] = {"mygrad.py": WRONG}
    grades = grade_students(tmp_path, teacher, {"solved": teacher, "wrong": teacher}, files)
    for student in ("solved", "wrong"):
        [check] = grades[student].checks
        assert (check.score, check.status) == (0, "error")
        assert check.message == SAID.format(name="Tensor")
        assert grades[student].problems == [f"mul: {SAID.format(name='Tensor')}"]


@pytest.mark.parametrize(
    "imports, check, name",
    [
        ("from mygrad import Tensor", TENSOR_CHECK, "Tensor"),
        ("from mygrad import Tensor, toposort", TENSOR_CHECK, "Tensor"),
        ("from mygrad import Tensor as T", TENSOR_CHECK.replace("Tensor(", "T("), "T"),
        ("import mygrad", TENSOR_CHECK.replace("Tensor(", "mygrad.Tensor("), "mygrad.Tensor"),
        ("import mygrad as mg", TENSOR_CHECK.replace("Tensor(", "mg.Tensor("), "mg.Tensor"),
        (  # through a function of the teacher's that the check calls
            "from mygrad import Tensor\ndef leaf(x):\n    return Tensor(x, requires_grad=True)",
            TENSOR_CHECK.replace("Tensor(np.array([1.0, 2.0]), requires_grad=True)",
                                 "leaf(np.array([1.0, 2.0]))"),
            "Tensor",
        ),
    ],
)  # fmt: skip
def test_the_plan_names_the_cell_and_the_class(tmp_path, imports, check, name):
    [plan] = course_plan(source(tmp_path / "source", engine_notebook(imports, check)))
    assert plan.ungradable == [f"mul: {SAID.format(name=name)}"]
    text = plan_text([plan])
    assert "  cannot be graded: mul: code cell 2 of the teacher's a.ipynb uses" in text
    assert " ".join(text.split()).count(SAID.format(name=name)) == 1  # wrapped, never cut
    assert max(len(line) for line in text.split("\n")) <= 100
    assert f"cannot be graded: mul: {SAID.format(name=name)}" in plan_markdown([plan])


def test_a_check_of_the_engines_functions_is_planned_and_graded(tmp_path):
    """``from mygrad import run``: data in, data out; nothing to refuse, and graded."""
    teacher = engine_notebook("from mygrad import run", RUN_CHECK)
    [plan] = course_plan(source(tmp_path / "source", teacher))
    assert plan.ungradable == []
    assert "cannot be graded" not in plan_text([plan])
    files = {"teacher": {"mygrad.py": SOLVED}, "solved": {"mygrad.py": SOLVED}}
    files["wrong"] = {"mygrad.py": WRONG}
    grades = grade_students(tmp_path / "g", teacher, {"solved": teacher, "wrong": teacher}, files)
    assert (grades["solved"].score, grades["wrong"].score) == (2, 0)


STEP_CHECK = """import mygrad
from backproplab.exercises.mygrad import check_step
check_step("03", mygrad)"""


def test_a_check_cell_that_imports_the_engine_itself_is_graded(tmp_path):
    """nbgrader's test cells often import what they test: `from mygrad import run` or
    `import mygrad` in the check cell itself failed in the grader for every student
    ("ModuleNotFoundError: No module named 'mygrad'", found by grading that style); they bind
    the proxies, as in a cell above the check."""
    files = {"teacher": {"mygrad.py": SOLVED}, "solved": {"mygrad.py": SOLVED}}
    files["wrong"] = {"mygrad.py": WRONG}
    for label, check in (("run", f"from mygrad import run\n{RUN_CHECK}"), ("step", STEP_CHECK)):
        teacher = engine_notebook("", check)
        grades = grade_students(
            tmp_path / label, teacher, {"solved": teacher, "wrong": teacher}, files
        )
        results = [grades[student].checks[0] for student in ("solved", "wrong")]
        assert [(r.score, r.status) for r in results] == [(2, "correct"), (0, "hint")], results
    [plan] = course_plan(source(tmp_path / "source", engine_notebook("", STEP_CHECK)))
    assert (plan.engine_step, plan.needs) == ("03", [])  # measured on the mygrad.py beside it


def test_a_check_cell_that_imports_the_class_itself_is_named_too(tmp_path):
    teacher = engine_notebook("", f"from mygrad import Tensor\n{TENSOR_CHECK}")
    [plan] = course_plan(source(tmp_path / "source", teacher))
    assert plan.ungradable == [f"mul: {SAID.format(name='Tensor')}"]


def test_the_rehearsal_names_the_cell_and_the_class(tmp_path):
    folder = source(tmp_path / "source", engine_notebook("from mygrad import Tensor", TENSOR_CHECK))
    rehearsal = rehearse(folder, limits=Limits(timeout=60, memory_mb=2048), check_draw=1)
    said = f"mul: your own answer scored 0 of 2 (error): {SAID.format(name='Tensor')}"
    assert rehearsal.problems() == [said]
    assert f"- {said}" in rehearsal_text(rehearsal)


def test_a_student_whose_tensor_is_the_packages_scores_nothing(tmp_path):
    """A mygrad.py whose Tensor is backproplab's (its objects would cross as the package's
    Tensors, and the check would run on the package's engine in the grader): the check that
    makes one is refused for every student before any kernel is asked, and the engine's run,
    now built on the package's Tensor, is answered by calling the package (scored 0), whether
    the check imports run above it or in its own cell (run in the kernel, then)."""
    cheat = SOLVED + "\nfrom backproplab import Tensor  # noqa: E402\n"
    files = {"teacher": {"mygrad.py": SOLVED}, "cheat": {"mygrad.py": cheat}}
    for label, imports, check, status in (
        ("class", "from mygrad import Tensor", TENSOR_CHECK, "error"),
        ("run", "from mygrad import run", RUN_CHECK, "package"),
        ("own cell", "", f"from mygrad import run\n{RUN_CHECK}", "package"),
    ):
        teacher = engine_notebook(imports, check)
        grades = grade_students(tmp_path / label, teacher, {"cheat": teacher}, files)
        [result] = grades["cheat"].checks
        assert (result.score, result.status) == (0, status), result.message
