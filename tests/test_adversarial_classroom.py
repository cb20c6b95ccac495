"""Attacks on the classroom tools that worked once: a student out for marks, a careless teacher.

Each test is one attack, small enough to stay fast: the self-check tests call the checks
directly, and the grading tests grade one notebook in one kernel.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from exercise_helpers import grade_one_exercise, stub
from test_grading import ROOT, cell_of

from backproplab.classroom import ReleaseError, release
from backproplab.classroom.__main__ import main
from backproplab.classroom._kernel import Kernel
from backproplab.classroom._kernel_side import REPLY_MIME
from backproplab.classroom.grading import Limits, grade_folder, grade_notebook, load_source
from backproplab.classroom.release import ANSWER_TAG
from backproplab.exercises import nb01, nb02, nb10


# ----------------------------------------------------------------------- the self-checks
def zero_the_points(x, *rest):
    """Overwrite the check's points with 0 (where every derivative of notebook 02 is 0)."""
    x[...] = 0
    for y in rest:
        y[...] = 0
    return np.zeros_like(x)


@pytest.mark.parametrize(
    "check", [nb02.check_d_sin_of_square, nb02.check_two_paths, nb02.check_three_paths]
)
def test_an_answer_that_zeroes_its_points_is_not_correct(check):
    assert check(zero_the_points).status == "hint"


def test_partials_that_zero_their_points_are_not_correct():
    def partials(x, y):
        zero_the_points(x, y)
        return np.zeros_like(x), np.zeros_like(y)

    assert nb02.check_partials(partials).status == "hint"


def test_input_gradient_of_all_zeros_is_not_correct():
    """The check's network had every unit of its last layer dead: the answer was all zeros."""
    feedback = nb10.check_input_gradient(lambda x, weights, g: np.zeros_like(x))
    assert feedback.status == "hint", feedback
    assert nb10.check_input_gradient(stub).status == "not done"


# ------------------------------------------------------------------------------- grading
IMPORTS = "import numpy as np\nfrom backproplab.exercises import nb02, nb05"


def teacher_notebook() -> nbformat.NotebookNode:
    """notebook 02's d_sin_of_square and notebook 05's dL_db, solution and check cells."""
    cells = [nbformat.v4.new_code_cell(IMPORTS)]
    for stem, grade_id in [
        ("02_chain_rule", "nb02-d_sin_of_square"),
        ("05_matmul_gradients", "nb05-dL_db"),
    ]:
        source = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
        cells.append(nbformat.from_dict(cell_of(source, grade_id)))
        cells.append(nbformat.from_dict(cell_of(source, f"{grade_id}-check")))
    return nbformat.v4.new_notebook(cells=cells, metadata={})


def with_body(notebook, name: str, body: str):
    """A copy of the teacher's ``notebook`` whose function ``name`` has ``body`` as its solution."""
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        if f"def {name}(" in cell.source:
            cell.source = cell.source[: cell.source.index("    ### BEGIN SOLUTION")] + body
    return notebook


def grade(tmp_path, notebook):
    (tmp_path / "teacher").mkdir()
    nbformat.write(teacher_notebook(), tmp_path / "teacher" / "a.ipynb")
    (tmp_path / "ada").mkdir()
    nbformat.write(notebook, tmp_path / "ada" / "a.ipynb")
    teachers = load_source(tmp_path / "teacher")
    limits = Limits(timeout=10, memory_mb=1536)
    result = grade_notebook(
        tmp_path / "ada" / "a.ipynb", "ada", teachers, limits, folder=tmp_path / "ada"
    )
    return {check.exercise: check for check in result.checks}, result.problems


SWITCH_OFF = """    import sys
    _reference = sys.modules["backproplab.exercises.nb05"]._reference  # no import names it
    recorder = sys.getprofile()
    sys.setprofile(None)
    try:
        X, W, b = np.zeros((len(G), 3)), np.zeros((G.shape[1], 3)), np.zeros(G.shape[1])
        return _reference(X, W, b, G)["b"]
    finally:
        sys.setprofile(recorder)
"""


def test_grading_an_answer_that_zeroes_the_checks_points_or_hides_a_package_call(tmp_path):
    """Two attacks in one kernel: d_sin_of_square overwrites the points the grader's check passed
    (they used to be copied back into the check before it computed its reference), and dL_db
    switches the grader's call recorder off around a call of the check's own reference and then
    puts it back."""
    notebook = with_body(
        teacher_notebook(), "d_sin_of_square", "    x[...] = 0\n    return x * 0\n"
    )
    notebook = with_body(notebook, "dL_db", SWITCH_OFF)
    checks, problems = grade(tmp_path, notebook)
    assert checks["nb02-d_sin_of_square"].status == "hint"
    assert (checks["nb05-dL_db"].status, checks["nb05-dL_db"].score) == ("package", 0.0)
    assert "grader's call recorder was removed" in checks["nb05-dL_db"].message
    assert any("nb05-dL_db: answered by calling" in problem for problem in problems)


def test_the_teachers_solutions_still_score_full_marks(tmp_path):
    checks, problems = grade(tmp_path, teacher_notebook())
    assert [c.score for c in checks.values()] == [1.0, 1.0] and problems == []


def test_what_a_cell_displays_is_not_kept_by_the_grader(tmp_path):
    """A cell displaying megabytes in a loop filled the grader's memory (it keeps no limit):
    only the reply the grader asked for is kept."""
    flood = (
        "from IPython.display import display\n"
        "for k in range(20):\n"
        f"    display({{'text/plain': 'x' * 10**6, {REPLY_MIME!r}: str(k)}}, raw=True)\n"
        "    display({'text/plain': 'y' * 10**6}, raw=True)\n"
    )
    with Kernel(tmp_path, 1024) as kernel:
        assert kernel.execute(flood, timeout=30).displays == []
        kept = kernel.execute(flood, timeout=30, keep=REPLY_MIME).displays
    assert [bundle[REPLY_MIME] for bundle in kept] == ["19"]


# ------------------------------------------------------------------------------- release
MYGRAD = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"


def test_release_leaves_out_compiled_files_and_version_history(tmp_path):
    """Running the teacher's notebooks compiles mygrad.py into __pycache__: its bytecode holds
    every solution, and it used to be copied into the student folder, as was a .git folder."""
    source = tmp_path / "source"
    for folder in ("__pycache__", ".git/objects", "data"):
        (source / folder).mkdir(parents=True)
    (source / "mygrad.py").write_text(MYGRAD)
    (source / "__pycache__" / "mygrad.cpython-311.pyc").write_bytes(b"bytecode of the solution")
    (source / ".git" / "objects" / "ab").write_bytes(b"an old version")
    (source / "data" / "points.csv").write_text("1,2\n")
    release(source, tmp_path / "student")
    written = sorted(
        p.relative_to(tmp_path / "student").as_posix() for p in (tmp_path / "student").rglob("*")
    )
    assert written == ["data", "data/points.csv", "mygrad.py"]


def test_release_refuses_another_file_holding_a_solution(tmp_path):
    """An editor's backup of mygrad.py is not stubbed: releasing it would hand out the answers."""
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "mygrad.py~").write_text(MYGRAD)
    with pytest.raises(ReleaseError, match=r"mygrad\.py~ holds a solution marker"):
        release(tmp_path / "source", tmp_path / "student")


# ------------------------------------------------------------------------------- reports
def test_students_whose_names_differ_only_in_punctuation_keep_their_own_feedback(tmp_path):
    """ "a b" and "a_b" both had their feedback written to a_b.txt, the second over the first.
    (Notebooks of another course: graded without starting a kernel.)"""
    (tmp_path / "teacher").mkdir()
    nbformat.write(teacher_notebook(), tmp_path / "teacher" / "a.ipynb")
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    for student in ("a b", "a_b", "Ünal"):
        (tmp_path / "in" / student).mkdir(parents=True)
        nbformat.write(other, tmp_path / "in" / student / "other course.ipynb")
    grade_folder(tmp_path / "in", tmp_path / "teacher", feedback=tmp_path / "feedback")
    texts = {p.name: p.read_text() for p in (tmp_path / "feedback").iterdir()}
    assert sorted(texts) == ["a_b-2.txt", "a_b.txt", "Ünal.txt"]
    assert sorted(text.splitlines()[0] for text in texts.values()) == [
        "Feedback for a b",
        "Feedback for a_b",
        "Feedback for Ünal",
    ]
    assert all("match none of the teacher's notebooks" in text for text in texts.values())


def test_releasing_twice_into_a_folder_inside_the_source_does_not_release_the_release(tmp_path):
    """source/student: the second release took the first one in as its source
    (source/student/student/...)."""
    (tmp_path / "source").mkdir()
    nbformat.write(teacher_notebook(), tmp_path / "source" / "a.ipynb")
    for _ in range(2):
        written = release(tmp_path / "source", tmp_path / "source" / "student")
        assert written == [tmp_path / "source" / "student" / "a.ipynb"]
    assert sorted(p.name for p in (tmp_path / "source" / "student").iterdir()) == ["a.ipynb"]


def test_the_student_release_serves_as_the_graders_source(tmp_path):
    """Grading needs no solution on the machine, where a kernel could read it: the release of
    notebook 05 and its mygrad.py gives the grader what the teacher's version gives. (Before, the
    release's stubbed mygrad.py was not seen as the learner's module: the grader imported it
    itself, and every student's mygrad check failed with a NameError.)"""
    (tmp_path / "teacher").mkdir()
    for name in ("05_matmul_gradients.ipynb", "mygrad.py"):
        (tmp_path / "teacher" / name).write_bytes((ROOT / "notebooks" / name).read_bytes())
    release(tmp_path / "teacher", tmp_path / "student")
    release(tmp_path / "teacher", tmp_path / "after", keep_answers=True)

    def seen(teacher):
        setup = [ast.dump(statement) for statement in teacher.setup]
        checks = [(c.grade_id, c.points, c.source) for c in teacher.checks]
        return teacher.name, checks, teacher.grade_ids, teacher.functions, setup, teacher.modules

    (mine,) = load_source(tmp_path / "teacher")
    (released,) = load_source(tmp_path / "student")
    (after,) = load_source(tmp_path / "after")
    assert mine.modules == ["mygrad"] and "dL_dW" in mine.functions
    assert seen(after) == seen(mine)
    # a class's release lacks only the definitions of the worked-answer cells, which the release
    # allows no later cell, and so no check, to use
    mine_seen, released_seen = seen(mine), seen(released)
    assert released_seen[:4] + released_seen[5:] == mine_seen[:4] + mine_seen[5:]
    missing = [statement for statement in mine.setup if ast.dump(statement) not in released_seen[4]]
    notebook = nbformat.read(ROOT / "notebooks" / "05_matmul_gradients.ipynb", as_version=4)
    answers = [
        c.source
        for c in notebook.cells
        if c.cell_type == "code" and ANSWER_TAG in c.metadata.get("tags", [])
    ]
    defined_there = {node.name for source in answers for node in ast.parse(source).body
                     if isinstance(node, ast.FunctionDef)}  # fmt: skip
    assert missing and {statement.name for statement in missing} <= defined_there


def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(float((g**2).sum()) for g in grads))
    return [g * min(1.0, max_norm / total) for g in grads]


@pytest.mark.parametrize("zero_case", [None, []], ids=["bare return", "empty list"])
def test_clip_gradients_that_drop_all_zero_gradients_get_a_hint(zero_case):
    """A guard `if total == 0: return` made the check raise TypeError (a check never raises),
    and an empty list for the zeros was "correct"."""

    def clip(grads, max_norm):
        if all(not g.any() for g in grads):
            return zero_case
        return clip_by_global_norm(grads, max_norm)

    feedback = nb10.check_clip_gradients(clip)
    assert feedback.status == "hint" and "all-zero gradients" in feedback.message, feedback


@pytest.mark.parametrize("answer", ["abc", {"w": 1.0}, object()], ids=["str", "dict", "object"])
def test_central_difference_check_does_not_raise_on_a_result_that_is_not_numbers(answer):
    feedback = nb01.check_central_difference_gradient(lambda f, w, eps: answer)
    assert feedback.status == "hint" and "array of numbers" in feedback.message, feedback


NAN_GRADIENT = """\
    for _ in range(2 * w.size):  # the two calls per entry the check counts, and no gradient
        f(w)
    return np.full(w.shape, np.nan)
"""

ZERO_X_TRAIN = """\
    X[...] = 0.0  # the hidden layer is 0.5 everywhere and W1 never moves: no backprop through it
    W2 = W2.copy()
    n = len(Y)
    h = np.full((n, W1.shape[0]), 0.5)
    onehot = np.eye(W2.shape[0])[Y]
    losses = []
    for _ in range(steps):
        logits = h @ W2.T
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        losses.append(float(-np.log(p[np.arange(n), Y]).mean()))
        W2 = W2 - lr * ((p - onehot) / n).T @ h
    return losses, W1.copy(), W2
"""


def _answer(name: str, body: str):
    """The function ``name`` with ``body``, defined as a learner's cell defines it."""
    arguments = {"central_difference_gradient": "f, w, eps", "train": "X, Y, W1, W2, lr, steps"}
    namespace = {"np": np}
    exec(f"def {name}({arguments[name]}):\n{body}", namespace)  # noqa: S102 - the test's code
    return namespace[name]


def test_a_gradient_of_nans_after_the_right_number_of_calls_is_not_correct():
    """Every comparison with NaN is False, so an error of NaN was neither 'close' nor 'far'
    and the check went on to count the calls of f: "correct", in the notebook and the grade."""
    answer = _answer("central_difference_gradient", NAN_GRADIENT)
    feedback = nb01.check_central_difference_gradient(answer)
    assert feedback.status == "hint" and "nan" in feedback.message, feedback


def test_a_train_that_zeroes_the_data_it_was_given_is_not_correct():
    """check_train compared W1 and W2 with their copies but computed the reference trajectory
    from the X it had handed over: zeroing X in place left the last layer alone to train."""
    feedback = nb01.check_train(_answer("train", ZERO_X_TRAIN))
    assert feedback.status == "hint" and "X, Y" in feedback.message, feedback


@pytest.mark.parametrize(
    ("grade_id", "body"),
    [("nb01-central_difference_gradient", NAN_GRADIENT), ("nb01-train", ZERO_X_TRAIN)],
    ids=["nan gradient", "zeroed X"],
)
def test_the_grader_gives_no_point_for_a_nan_gradient_or_a_zeroed_input(tmp_path, grade_id, body):
    """The same two answers through the grader (X zeroed in the kernel comes back to the check's
    array): each scored its point."""
    check = grade_one_exercise(tmp_path, "01_why_backprop.ipynb", "nb01", grade_id, body)
    assert check.status == "hint" and check.score == 0, check


def test_a_copy_of_a_teacher_notebook_left_in_the_source_is_a_clear_error(tmp_path, capsys):
    """JupyterLab's Duplicate leaves a-Copy1.ipynb beside a.ipynb; the copy sorts first, and
    every submission was silently graded against it (its points, its checks)."""
    (tmp_path / "teacher").mkdir()
    for name in ("a.ipynb", "a-Copy1.ipynb"):
        nbformat.write(teacher_notebook(), tmp_path / "teacher" / name)
    (tmp_path / "in").mkdir()
    assert main(["grade", str(tmp_path / "in"), "--source", str(tmp_path / "teacher")]) == 1
    error = capsys.readouterr().err
    assert "a-Copy1.ipynb and a.ipynb both have the check nb02-d_sin_of_square-check" in error


def test_a_huge_notebook_is_not_parsed(tmp_path):
    """Parsing a notebook of gigabytes took the grader's memory (and with it the whole class):
    an upload over the size limit is a problem in its row. (A sparse file: no disk is used.)"""
    (tmp_path / "teacher").mkdir()
    nbformat.write(teacher_notebook(), tmp_path / "teacher" / "a.ipynb")
    huge = tmp_path / "huge.ipynb"
    with huge.open("wb") as file:
        file.truncate(101 * 2**20)
    result = grade_notebook(huge, "ada", load_source(tmp_path / "teacher"))
    assert result.problems == [
        "could not read the notebook: ValueError: the file holds 101 MB, over 100 MB"
    ]


def test_the_classroom_commands_without_nbformat_say_what_to_install():
    # `pip install backproplab` installs the backproplab-classroom script but not nbformat
    code = (
        "import sys; sys.modules['nbformat'] = None\n"  # an import of nbformat now fails
        "import importlib.util as u; real = u.find_spec\n"
        "u.find_spec = lambda name, *a: None if name == 'nbformat' else real(name, *a)\n"
        "import backproplab.classroom"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "ImportError: backproplab.classroom needs nbformat: pip install 'backproplab[classroom]' "
        "(or the dev extra, which the README's set-up installs)"
    )


def test_a_feedback_file_keeps_dots_and_dashes_of_the_students_name():
    """Feedback files are named after the students: letters, digits, "-", "_" and "." stay
    (the teacher hands ada.lovelace.txt to ada.lovelace), anything else becomes "_", and a name
    already taken, on a disk that ignores case too, gets "-2"."""
    from backproplab.classroom._copies import file_names

    names = file_names(["ada.lovelace", "jean-luc", "a b", "a_b", "Ada.Lovelace"])
    assert names == {
        "ada.lovelace": "ada.lovelace",
        "jean-luc": "jean-luc",
        "a b": "a_b",
        "a_b": "a_b-2",
        "Ada.Lovelace": "Ada.Lovelace-2",
    }
