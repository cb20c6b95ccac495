"""Three gaps on the teacher's side, each reproduced first by grading in that style.

1. A teacher's check that calls a function of the learner's engine which returns an object of
   the learner's class (``mygrad.as_tensor(x)``: a mygrad Tensor) scored every student 0, the
   solved engine too, with "the kernel helper failed: AttributeError: 'Tensor' object has no
   attribute 'op'". Now ``grade`` and ``rehearse`` say in one line which cell, that the object
   stays in the kernel and what to write instead, and ``plan`` says it for the functions whose
   ``return`` makes one of the module's classes.
2. The release's stubs in mygrad.py handed in with a ``__pycache__`` of the solution scored full
   marks (named for the teacher, the points kept). Compiled Python is never the student's work:
   the kernel's copy of the folder leaves it out, and the stubs score what stubs score.
3. The solved engine run from a notebook cell (``exec`` into the module or the notebook,
   ``runpy``, ``run_cell``...) was named for the teacher already, as code run from mygrad.py is;
   so was an honest student's function of the engine replaced by one written in a cell, as
   "from /tmp/ipykernel_.../....py". Code the kernel ran from one of the notebook's cells is now
   looked up in that cell (not named when it is there), and the solved engine pasted into a
   cell is found by the same-code comparison instead.
"""

from __future__ import annotations

import py_compile
import sys
from pathlib import Path

import nbformat
import pytest
from exercise_helpers import grade_students

from backproplab.classroom import Limits, rehearse
from backproplab.classroom.plan import course_plan, plan_text

ENGINE = Path(__file__).resolve().parents[1] / "notebooks" / "mygrad.py"
SOLVED = ENGINE.read_text(encoding="utf-8")


def one_check(setup: str, check: str, points: int = 2) -> nbformat.NotebookNode:
    """A teacher notebook: a heading, a setup cell, one check cell (its code cell 2)."""
    cell = nbformat.v4.new_code_cell(check)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "eng-check", "points": points}
    cells = [nbformat.v4.new_markdown_cell("# engine"), nbformat.v4.new_code_cell(setup), cell]
    return nbformat.v4.new_notebook(cells=cells)


# ---- 1. a learner's object returned to a check ----

KEPT = (
    "code cell 2 of the teacher's a.ipynb calls {name}, which {verb} a Tensor of the learner's "
    "mygrad.py, an object that stays in the student's kernel (the grader gets data only): every "
    "answer would score 0; have the check call functions that return data (a number, an array "
    'such as the Tensor\'s .data), as `check_step("NN", mygrad)` does after `import mygrad`'
)
AS_TENSOR = "t = {name}(np.array([1.0, 2.0]))\nassert np.allclose(t.data, [1.0, 2.0])"
IN_A_LIST = "[t] = {name}()\nassert t is not None"
RUN = """values, grads, order = mygrad.run([("mul", 0, 0, {})], [np.array([1.0, 2.0])])
assert np.allclose(grads[0], [2.0, 4.0])"""


@pytest.mark.parametrize(
    "setup, check, name",
    [
        ("from mygrad import as_tensor", AS_TENSOR, "as_tensor"),
        ("import mygrad as mg", AS_TENSOR, "mg.as_tensor"),
        ("import mygrad", AS_TENSOR, "mygrad.node"),  # node(data, inputs, vjp) -> Tensor(...)
    ],
)
def test_the_plan_names_a_call_that_returns_the_learners_tensor(tmp_path, setup, check, name):
    if name == "mygrad.node":
        check = "t = mygrad.node(np.ones(2), (), None)\nassert t.data.shape == (2,)"
    (tmp_path / "src").mkdir()
    nbformat.write(one_check(f"import numpy as np\n{setup}", check.format(name=name)),
                   tmp_path / "src" / "a.ipynb")  # fmt: skip
    (tmp_path / "src" / "mygrad.py").write_text(SOLVED)
    [plan] = course_plan(tmp_path / "src")
    assert plan.ungradable == [f"eng: {KEPT.format(name=name, verb='returns')}"]
    assert "cannot be graded: eng: code cell 2" in plan_text([plan])


def test_the_plan_says_nothing_of_a_check_of_data_in_data_out(tmp_path):
    (tmp_path / "src").mkdir()
    nbformat.write(
        one_check("import numpy as np\nimport mygrad", RUN), tmp_path / "src" / "a.ipynb"
    )
    (tmp_path / "src" / "mygrad.py").write_text(SOLVED)
    [plan] = course_plan(tmp_path / "src")
    assert plan.ungradable == []


def test_grading_a_check_that_gets_the_learners_tensor_back_says_why_in_one_line(tmp_path):
    """Every engine, solved or not, got "the kernel helper failed" before; a check of the same
    engine through data (``mygrad.run``) is graded as before (an honest student: 2 points, no
    note), and so is a notebook function returning an object of the notebook's own class (a
    wrong answer the check's hint names, no note for the teacher)."""
    checks = {
        "as_tensor": ("from mygrad import as_tensor", AS_TENSOR.format(name="as_tensor")),
        "toposort": ("import mygrad", IN_A_LIST.format(name="mygrad.own_list")),
        "run": ("import mygrad", RUN),
    }
    own_list = "\n\ndef own_list():\n    return [Tensor(np.ones(1))]\n"
    for label, (setup, check) in checks.items():
        teacher = one_check(f"import numpy as np\n{setup}", check)
        files = {"teacher": {"mygrad.py": SOLVED + own_list}, "s": {"mygrad.py": SOLVED + own_list}}
        [grade] = grade_students(tmp_path / label, teacher, {"s": teacher}, files).values()
        [result] = grade.checks
        if label == "run":
            assert (result.score, result.status) == (2, "correct"), result.message
            assert grade.problems == [] and grade.for_teacher == []
            continue
        name = "as_tensor" if label == "as_tensor" else "mygrad.own_list"
        said = KEPT.format(name=name, verb="returned")
        assert (result.score, result.status, result.message) == (0, "error", said)
        assert grade.problems == [f"eng: {said}"]


def test_a_notebook_object_returned_is_still_the_students_wrong_answer(tmp_path):
    notebooks = []
    for answer in (
        "def make():\n    return []",
        "class Thing:\n    pass\n\n\ndef make():\n    return Thing()",
    ):
        notebook = one_check(answer, "assert make() == []")
        notebook.cells[1].metadata["nbgrader"] = {
            "solution": True,
            "grade": False,
            "grade_id": "make",
        }
        notebooks.append(notebook)
    [grade] = grade_students(tmp_path, notebooks[0], {"s": notebooks[1]}).values()
    [result] = grade.checks
    assert (result.score, result.status) == (0, "hint"), result.message
    assert "stays in the student's kernel" not in result.message
    assert "kernel helper" not in result.message


def test_the_rehearsal_names_the_cell(tmp_path):
    (tmp_path / "src").mkdir()
    teacher = one_check(
        "import numpy as np\nimport mygrad", AS_TENSOR.format(name="mygrad.as_tensor")
    )
    nbformat.write(teacher, tmp_path / "src" / "a.ipynb")
    (tmp_path / "src" / "mygrad.py").write_text(SOLVED)
    rehearsal = rehearse(tmp_path / "src", limits=Limits(timeout=60, memory_mb=2048), check_draw=1)
    said = KEPT.format(name="mygrad.as_tensor", verb="returned")
    assert rehearsal.problems() == [f"eng: your own answer scored 0 of 2 (error): {said}"]


# ---- 2. compiled Python handed in ----


def engine_check() -> nbformat.NotebookNode:
    """Notebook 05's check of the learner's engine, 2 points."""
    check = 'from backproplab.exercises.mygrad import check_step\ncheck_step("05", mygrad)'
    return one_check("import mygrad", check)


def compiled(text: str, beside: Path, into: Path) -> None:
    """``text`` compiled as an unchecked-hash .pyc at ``into``, made as if from ``beside``:
    Python imports it without looking at the source beside it."""
    made = into.parent / "made.py"
    into.parent.mkdir(parents=True, exist_ok=True)
    made.write_text(text)
    py_compile.compile(
        str(made),
        cfile=str(into),
        dfile=str(beside),
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    made.unlink()


def test_compiled_python_handed_in_is_left_out_of_the_kernels_copy(tmp_path):
    """The release's stubs in mygrad.py with a ``__pycache__`` of the solution scored 2 of 2
    (the adversary pass before: the points stayed, a note named it); a ``mygrad.pyc`` of the
    solution alone, with no mygrad.py, scored 2 as well. The kernel's working copy now leaves
    compiled Python out: they score what the stubs and no engine score. An honest student's
    own ``__pycache__`` (left by running their notebook) changes nothing: 2 points, no note."""
    from backproplab.classroom.grading import Limits, grade_notebook, load_source
    from backproplab.classroom.release import strip_solutions

    (tmp_path / "teacher").mkdir()
    nbformat.write(engine_check(), tmp_path / "teacher" / "a.ipynb")
    (tmp_path / "teacher" / "mygrad.py").write_text(SOLVED)
    cache = f"__pycache__/mygrad.{sys.implementation.cache_tag}.pyc"
    stubs = strip_solutions(SOLVED)
    assert stubs != SOLVED
    students = {
        "stubs": {"mygrad.py": stubs},
        "stubs+cache": {"mygrad.py": stubs, cache: SOLVED},
        "pyc only": {"mygrad.pyc": SOLVED},
        "honest": {"mygrad.py": SOLVED},
        "honest+cache": {"mygrad.py": SOLVED, cache: SOLVED},
    }
    source = load_source(tmp_path / "teacher")
    grades = {}
    for student, files in students.items():
        folder = tmp_path / student
        folder.mkdir()
        nbformat.write(engine_check(), folder / "a.ipynb")
        for name, text in files.items():
            if name.endswith(".pyc"):
                compiled(text, folder / "mygrad.py", folder / name)
            else:
                (folder / name).write_text(text)
        limits = Limits(timeout=60)
        grades[student] = grade_notebook(folder / "a.ipynb", student, source, limits, folder=folder)
    scores = {student: grade.score for student, grade in grades.items()}
    assert scores == {"stubs": 0, "stubs+cache": 0, "pyc only": 0, "honest": 2, "honest+cache": 2}
    for student in ("stubs+cache", "honest+cache"):  # the compiled file is still handed in
        assert (tmp_path / student / cache).is_file()
    assert grades["honest+cache"].for_teacher == grades["honest"].for_teacher == []
    assert grades["honest+cache"].problems == grades["honest"].problems == []


# ---- 3. the solved engine run from a notebook cell ----

NOTE = "eng: the engine the check ran is not all written in the files handed in: "
STEP = 'from backproplab.exercises.mygrad import check_step\ncheck_step("05", mygrad)'
RUN_IMPORTED = RUN.replace("mygrad.run(", "run(")
PATH = repr(str(ENGINE))
CELLS = {  # name -> (the setup cell, the check, the student's cell after the setup)
    "exec into the module": ("import mygrad", STEP, f"exec(open({PATH}).read(), mygrad.__dict__)"),
    "exec into the notebook": (
        "import numpy as np\nfrom mygrad import run",
        RUN_IMPORTED,
        f"exec(open({PATH}).read())",
    ),
    "notebook as the module": (
        "import mygrad",
        STEP,
        f"import sys\n\nexec(open({PATH}).read())\nmygrad = sys.modules['__main__']",
    ),
    "runpy into the notebook": (
        "import numpy as np\nfrom mygrad import run",
        RUN_IMPORTED,
        f"import runpy\n\nglobals().update(runpy.run_path({PATH}))",
    ),
    "a module compiled as mygrad.py": (
        "import mygrad",
        STEP,
        "import sys\nimport types\n\nsolved = types.ModuleType('mygrad')\n"
        f"exec(compile(open({PATH}).read(), mygrad.__file__, 'exec'), solved.__dict__)\n"
        "sys.modules['mygrad'] = mygrad = solved",
    ),
    "mygrad.py rewritten and reloaded": (
        "import mygrad",
        STEP,
        f"import importlib\nimport pathlib\n\npathlib.Path(mygrad.__file__).write_text(open({PATH})"
        ".read())\nmygrad = importlib.reload(mygrad)",
    ),
    "run as a cell": (
        "import numpy as np\nfrom mygrad import run",
        RUN_IMPORTED,
        f"get_ipython().run_cell(open({PATH}).read())",
    ),
    "run as a cell of the notebook's name": (  # named after the setup cell, by ipykernel's rule
        "import numpy as np\nfrom mygrad import run",
        RUN_IMPORTED,
        "import os\n\nfrom ipykernel.compiler import get_file_name\n\n"
        "os.environ['IPYKERNEL_CELL_NAME'] = get_file_name('import numpy as np\\nfrom mygrad import run')\n"
        f"get_ipython().run_cell(open({PATH}).read())\ndel os.environ['IPYKERNEL_CELL_NAME']",
    ),
}
OWN = {  # honest: the student's own engine, with a cell of theirs that reloads or patches it
    "reloaded": ("import mygrad", STEP, "import importlib\n\nmygrad = importlib.reload(mygrad)"),
    "patched in a cell": (
        "import mygrad",
        STEP,
        "%config Completer.use_jedi = False\nimport numpy as np\n\n_toposort = mygrad.toposort\n\n\n"
        "def toposort(root):\n    np.asarray(0.0)\n    return _toposort(root)\n\n\n"
        "mygrad.toposort = toposort",
    ),
}


def cell_notebooks(cases: dict) -> tuple[dict, dict]:
    """The teacher's notebook and the student's (one cell more) of each case."""
    teachers, students = {}, {}
    for name, (setup, check, cell) in cases.items():
        teachers[name] = one_check(setup, check)
        students[name] = one_check(setup, check)
        students[name].cells.insert(2, nbformat.v4.new_code_cell(cell))
    return teachers, students


def test_the_solved_engine_run_from_a_notebook_cell_is_named(tmp_path):
    """Each cell runs the clone's solved mygrad.py beside the release's stubs: each scores 2
    and is named for the teacher (the score stays, as for code run from mygrad.py itself:
    tests/test_grading_runtime_code.py). A cell given the name of one of the notebook's own
    cells is named as well: the code is looked up in that cell."""
    from backproplab.classroom.release import strip_solutions

    teachers, students = cell_notebooks(CELLS)
    for name in CELLS:
        files = {"teacher": {"mygrad.py": SOLVED}, "s": {"mygrad.py": strip_solutions(SOLVED)}}
        folder = tmp_path / name.replace(" ", "_")
        [grade] = grade_students(folder, teachers[name], {"s": students[name]}, files).values()
        assert grade.score == 2, (name, grade.checks)
        [note] = [n for n in grade.for_teacher if n.startswith(NOTE)]
        assert "run (" in note, (name, note)
        assert grade.problems == [], name


def test_an_engine_of_the_students_own_patched_in_a_cell_is_not_named(tmp_path):
    """An honest student's cell that reloads their engine, or replaces one of its functions by
    one written in the notebook (a %config line above it, and ``np.asarray`` in it, which IPython
    compiles to other bytecode than the cell compiled whole): 2 points, no note (the patched
    one was named "toposort (from /tmp/ipykernel_.../....py)" before)."""
    teachers, students = cell_notebooks(OWN)
    for name in OWN:
        files = {"teacher": {"mygrad.py": SOLVED}, "s": {"mygrad.py": SOLVED}}
        folder = tmp_path / name.replace(" ", "_")
        [grade] = grade_students(folder, teachers[name], {"s": students[name]}, files).values()
        assert grade.score == 2, (name, grade.checks)
        assert grade.for_teacher == [] and grade.problems == [], name


def test_the_solved_engine_pasted_into_a_cell_is_the_teachers_solution(tmp_path):
    """Code written in a notebook cell is the student's writing, not named as run from
    elsewhere; the solved mygrad.py pasted into a cell that puts it into the module (named
    before as "from /tmp/ipykernel_.../....py") is the teacher's solution instead, found in the
    notebook's cells as it is in mygrad.py. The release's stubs with the release's cells are not
    (no note: the comparison finds nothing for an honest student of the release)."""
    from backproplab.classroom.release import strip_solutions

    paste = SOLVED + (
        "\n\nmygrad.__dict__.update({k: v for k, v in dict(globals()).items() "
        "if not k.startswith('_') and k != 'mygrad'})\n"
    )
    teacher = engine_check()
    teacher.cells[2].metadata["nbgrader"]["grade_id"] = "nb05-mygrad-check"
    pasted = nbformat.from_dict(teacher)
    pasted.cells = [*teacher.cells[:2], nbformat.v4.new_code_cell(paste), teacher.cells[2]]
    stubs = strip_solutions(SOLVED)
    files = {"teacher": {"mygrad.py": SOLVED}, "pasted": {"mygrad.py": stubs}}
    files["stubs"] = {"mygrad.py": stubs}
    grades = grade_students(tmp_path, teacher, {"pasted": pasted, "stubs": teacher}, files)
    assert (grades["pasted"].score, grades["stubs"].score) == (2, 0)
    assert grades["pasted"].for_teacher == [
        "nb05-mygrad: the answer in mygrad.py and the notebook's cells is the teacher's solution "
        "(the same code, comments and spacing aside)"
    ]
    assert grades["stubs"].for_teacher == []
