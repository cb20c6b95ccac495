"""The grader's own draw of the checks' random inputs (backproplab.exercises._draws).

In a notebook every check draws the inputs it always drew, so a learner can print them, work the
answers out with the package in an earlier cell and hand in a function that looks them up. A
grading draws other inputs, which the learner's kernel meets only as the arguments of the calls:
such a function scores in the notebook and not in the grade. These tests show that, and that the
teacher's own answers pass at other draws (the checks build the inputs they need instead of
relying on a lucky seed), and that a draw can be repeated, is told to the teacher, and never
reaches the students' feedback.
"""

from __future__ import annotations

import ast
import sys
import threading
from pathlib import Path

import nbformat
import numpy as np
import pytest

import backproplab as bl
from backproplab.classroom.__main__ import main
from backproplab.classroom.grading import Limits, grade_notebook, load_source
from backproplab.exercises import nb03, nb05, nb07, nb12, nb13
from backproplab.exercises._draws import check_rng, draw

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# chosen here (the notebook's own inputs are no draw): 16 is one at which notebook 10's init_std
# refused the teacher's answer before its weights were drawn again
DRAWS = (16, 42, 2024, 987_654_321, 2**40 + 3)


# ------------------------------------------------------------------------------ check_rng
def test_without_a_draw_check_rng_is_the_seed_s_own_generator():
    for seed in (1, 11, 143):
        want = np.random.default_rng(seed)
        got = check_rng(seed)
        assert np.array_equal(got.standard_normal(50), want.standard_normal(50))
        assert np.array_equal(got.integers(0, 1000, 20), want.integers(0, 1000, 20))


def test_a_teachers_own_check_gets_the_generator_from_the_public_module():
    # docs/teaching.md tells a teacher to draw from backproplab.exercises.check_rng
    from backproplab import exercises

    assert exercises.check_rng is check_rng and "check_rng" in exercises.__all__


def test_a_draw_gives_other_inputs_the_same_each_time_and_is_undone_on_leaving():
    notebook = check_rng(11).standard_normal(8)
    with draw(7):
        first = check_rng(11).standard_normal(8)
        again = check_rng(11).standard_normal(8)
        with draw(None):  # a draw inside: the notebook's own inputs
            assert np.array_equal(check_rng(11).standard_normal(8), notebook)
        assert np.array_equal(check_rng(11).standard_normal(8), first)
    with draw(8):
        other = check_rng(11).standard_normal(8)
    assert np.array_equal(first, again)
    assert not np.allclose(first, notebook) and not np.allclose(first, other)
    assert np.array_equal(check_rng(11).standard_normal(8), notebook)  # reset after
    with pytest.raises(ValueError, match="check draw"), draw(-1):
        pass


def test_a_draw_is_its_own_thread_s():
    """``grade --jobs 2`` grades two students in two threads: one's draw is never the other's."""
    seen = []
    with draw(5):
        thread = threading.Thread(target=lambda: seen.append(check_rng(3).random()))
        thread.start()
        thread.join()
    assert seen == [np.random.default_rng(3).random()]


# ------------------------------------------------------------------ the teacher's answers
def _solutions(notebook: Path) -> tuple[dict, dict[str, str]]:
    """A namespace with the notebook's imports, its solution cells and the functions (and
    plain names) its other cells define, and its check cells by grade_id: the teacher's
    answers, without running the notebook's figures and trainings."""
    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    trees = [ast.parse(c.source) for c in cells]
    namespace: dict = {}
    for tree in trees:
        imports = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
        exec(compile(ast.Module(imports, []), notebook.name, "exec"), namespace)  # noqa: S102
    plain = (ast.Lambda, ast.Name, ast.Attribute, ast.Constant)
    for cell, tree in zip(cells, trees):
        if cell.metadata.get("nbgrader", {}).get("solution"):
            try:  # (notebook 10's my_std cell goes on to measure with the notebook's data)
                exec(compile(cell.source, notebook.name, "exec"), namespace)  # noqa: S102
            except NameError:
                pass
            continue
        kept = [
            s
            for s in tree.body
            if isinstance(s, (ast.FunctionDef, ast.ClassDef))
            or isinstance(s, ast.Assign)
            and isinstance(s.value, plain)
        ]
        try:  # (a definition reading a figure's values fails: no check needs it)
            exec(compile(ast.Module(kept, []), notebook.name, "exec"), namespace)  # noqa: S102
        except NameError:
            pass
    checks = {
        c.metadata["nbgrader"]["grade_id"]: c.source.strip()
        for c in cells
        if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("-check")
    }
    return namespace, checks


@pytest.mark.parametrize("notebook", sorted(p.name for p in NOTEBOOKS.glob("[0-9]*.ipynb")))
def test_the_teacher_s_answers_pass_at_other_draws(notebook, monkeypatch):
    monkeypatch.chdir(NOTEBOOKS)
    monkeypatch.syspath_prepend(str(NOTEBOOKS))  # the teacher's mygrad.py
    monkeypatch.delitem(sys.modules, "mygrad", raising=False)  # another test's: put back after
    try:
        namespace, checks = _solutions(NOTEBOOKS / notebook)
    finally:  # the teacher's mygrad, imported here, is left to no later test's `import mygrad`
        sys.modules.pop("mygrad", None)  # (monkeypatch.delitem here put it back at teardown)
    assert checks
    failed = []
    for chosen in DRAWS:
        with draw(chosen):
            for grade_id, check in checks.items():
                feedback = eval(check, namespace)  # noqa: S307 - the notebook's check cell
                if feedback.status != "correct":
                    failed.append(f"{grade_id} at draw {chosen}: {feedback}")
    assert failed == []


# ---------------------------------------------------------- wrong answers at other draws
def _huber_with(outside):  # a Huber loss with ``outside(r, d)`` for |r| > d
    return lambda p, t, d: (lambda r: bl.where(r.data <= d, 0.5 * r**2, outside(r, d)).mean())(
        (p - t).abs()
    )


def _eval_root_of_centred_x(g, x, gamma, running_mean, running_var, eps):
    """Evaluation-mode batch norm's backward with dgamma from a root of x - running_mean: nan
    wherever x is below the running mean, whatever eps is."""
    sigma = np.sqrt(running_var + eps)
    return g * gamma / sigma, (g * np.sqrt(x - running_mean)).sum(0), g.sum(0)


@pytest.mark.parametrize(
    "check, wrong, words, drawn",
    [  # each at a draw where, before its check built its inputs so, it passed or got another hint
        (nb03.check_mul_backward, lambda up, a, b: (up * np.abs(b), up * np.abs(a)), "", 7),
        (nb03.check_mul_backward, lambda up, a, b: (np.abs(up) * b, np.abs(up) * a), "", 7),
        (
            nb07.check_binary_cross_entropy_grad,
            lambda p, y: (-y / (p + 1e-3) + (1 - y) / (1 - p + 1e-3)) / p.size,
            "small number",
            13,
        ),
        (nb12.check_huber_loss, _huber_with(lambda r, d: 0 * r), "linear part is missing", 4),
        (nb12.check_huber_loss, _huber_with(lambda r, d: d * r), "do not meet", 4),
        (
            nb13.check_batch_norm_eval_backward,
            _eval_root_of_centred_x,
            "eps is not the cause there",
            24,
        ),
    ],
)
def test_wrong_answers_get_their_hint_at_other_draws(check, wrong, words, drawn):
    for chosen in (None, drawn, *DRAWS):
        with draw(chosen):
            feedback = check(wrong)
        assert feedback.status == "hint" and words in feedback.message, (chosen, feedback)


# ---------------------------------------------------------------- a table of known answers
def _table_for_dL_dX() -> dict[str, list]:
    """What a student out for marks computes in an earlier cell: the answer for each input the
    notebook's check gives, by the arguments' bytes."""
    table = {}

    def right(G, W):
        table[G.tobytes().hex() + W.tobytes().hex()] = (G @ W).tolist()
        return G @ W

    assert nb05.check_dL_dX(right).status == "correct"
    return table


LOOKUP = """\
    known = {table!r}
    key = np.asarray(G).tobytes().hex() + np.asarray(W).tobytes().hex()
    if key in known:
        return np.array(known[key])
    return np.zeros((np.shape(G)[0], np.shape(W)[1]))  # never worked out
"""
# an answer that shows which inputs it was given: its shape (quoted by the hint) comes from them
SHOWS_ITS_INPUT = (
    "    return bl.Tensor(np.zeros(int(abs(float(target[0])) * 1e6) % 97 + 2))  # not the loss\n"
)


def _cells(notebook: str, grade_id: str) -> list:
    cells = nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
    ids = {grade_id, f"{grade_id}-check"}
    found = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") in ids]
    assert len(found) == 2
    return found


def _class(tmp_path: Path) -> tuple[Path, Path]:
    """A teacher's notebook with notebook 05's dL_dX and notebook 12's huber_loss, and ada's
    copy of it: dL_dX a table of the notebook's answers, huber_loss a wrong answer whose hint
    shows the inputs it was given."""
    imports = (
        "import numpy as np\nimport backproplab as bl\nfrom backproplab.exercises import nb05, nb12"
    )
    cells = [nbformat.v4.new_code_cell(imports)]
    cells += _cells("05_matmul_gradients.ipynb", "nb05-dL_dX")
    cells += _cells("12_your_own_layers.ipynb", "nb12-huber_loss")
    teacher, submitted = tmp_path / "teacher", tmp_path / "submitted"
    teacher.mkdir()
    (submitted / "ada").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), teacher / "hw.ipynb")
    student = nbformat.v4.new_notebook(cells=[nbformat.from_dict(c) for c in cells])
    for cell, body in (
        (student.cells[1], LOOKUP.format(table=_table_for_dL_dX())),
        (student.cells[3], SHOWS_ITS_INPUT),
    ):
        cell.source = cell.source[: cell.source.index("    ### BEGIN SOLUTION")] + body
    nbformat.write(student, submitted / "ada" / "hw.ipynb")
    return teacher, submitted


def test_a_table_of_the_notebook_s_answers_scores_in_the_notebook():
    table = _table_for_dL_dX()

    def lookup(G, W):
        return np.array(table[G.tobytes().hex() + W.tobytes().hex()])

    assert nb05.check_dL_dX(lookup).status == "correct"
    with draw(DRAWS[0]):  # the grader's inputs are not in the table
        feedback = nb05.check_dL_dX(lookup)
    assert feedback.status == "hint" and "KeyError" in feedback.message, feedback


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("draws")
    teacher, submitted = _class(tmp_path)
    teachers = load_source(teacher)

    def grade(check_draw):
        result = grade_notebook(
            submitted / "ada" / "hw.ipynb",
            "ada",
            teachers,
            Limits(timeout=30, memory_mb=1536),
            folder=submitted / "ada",
            check_draw=check_draw,
        )
        assert result.problems == []
        return {c.exercise: (c.status, c.message) for c in result.checks}

    return tmp_path, teacher, submitted, grade


def test_the_grader_s_draw_refuses_a_table_of_the_notebook_s_answers(graded_class):
    _, _, _, grade = graded_class
    assert grade(None)["nb05-dL_dX"][0] == "correct"  # the notebook's own inputs: it scores
    for chosen in DRAWS[:2]:
        status, message = grade(chosen)["nb05-dL_dX"]
        assert status == "hint" and "wrong numbers" in message, message


def test_the_same_draw_gives_the_same_grades_and_another_other_inputs(graded_class):
    _, _, _, grade = graded_class
    first, again, other = grade(DRAWS[1]), grade(DRAWS[1]), grade(DRAWS[2])
    assert first == again
    # the hint quotes a shape made from the inputs: another draw, other inputs
    assert "your result has shape" in first["nb12-huber_loss"][1]
    assert first["nb12-huber_loss"] != other["nb12-huber_loss"]


def test_grade_tells_the_teacher_its_draw_repeats_it_and_keeps_it_out_of_the_feedback(
    graded_class, capsys
):
    tmp_path, teacher, submitted, _ = graded_class
    runs = []
    for run, given in enumerate((["--check-draw", "31337"], ["--check-draw", "31337"], [])):
        out = tmp_path / f"run{run}"
        argv = ["grade", str(submitted), "--source", str(teacher), "--csv", str(out / "s.csv")]
        assert main([*argv, "--feedback", str(out / "fb"), "--timeout", "30", *given]) == 0
        said = capsys.readouterr()
        feedback = (out / "fb" / "ada.txt").read_text(encoding="utf-8")
        runs.append((said, (out / "s.csv").read_text(encoding="utf-8"), feedback))
    (said1, csv1, feedback1), (said2, csv2, feedback2), (said3, _, feedback3) = runs
    for said in (said1, said2):
        assert "checks' inputs drawn with --check-draw 31337" in said.out  # the report
        assert "checks' inputs drawn with --check-draw 31337" in said.err  # said first
    assert (csv1, feedback1) == (csv2, feedback2)  # the same draw: the same grades
    fresh = said3.out.rpartition("--check-draw ")[2].split()[0]
    assert fresh.isdigit() and f"--check-draw {fresh}" in said3.err
    for feedback, chosen in ((feedback1, "31337"), (feedback3, fresh)):
        assert "draw" not in feedback and chosen not in feedback, feedback
    assert "huber_loss" in feedback1 and "your result has shape" in feedback1


def test_grade_refuses_a_draw_that_is_no_whole_number(capsys):
    with pytest.raises(SystemExit):
        main(["grade", "x", "--source", "y", "--check-draw", "-3"])
    assert "--check-draw" in capsys.readouterr().err


def test_no_check_draws_from_numpy_s_global_generator_or_random():
    """Every check's randomness comes from check_rng: a generator of its own would not change
    with the grader's draw."""
    folder = Path(nb05.__file__).parent
    found = []
    for path in sorted(folder.rglob("*.py")):
        if path.name == "_draws.py":
            continue
        text = path.read_text(encoding="utf-8")
        for bad in ("default_rng(", "np.random.seed", "import random", "np.random.rand"):
            if bad in text:
                found.append(f"{path.relative_to(folder)}: {bad}")
    assert found == []
