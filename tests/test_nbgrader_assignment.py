"""A teacher's existing nbgrader assignment, graded by backproplab: what nbgrader's format means.

* Manually graded answers and tasks. Before, a cell marked `solution: true` and `grade: true` (an
  answer a person marks) was taken for a check: the grader ran the TEACHER's version of it, so a
  student who left it as handed out could score its points (dan below, 2 of 2), and a Markdown
  answer or a task (`task: true`) was left out of the points, of the table and of `plan` without
  a word; a notebook holding only such cells was "not graded". Now each is an exercise of its
  own, worth its points, with no score until the teacher gives one, and 0 for an answer left as
  it was handed out. The release drops a task's mark scheme (it handed it out).
* Partial credit: a test cell that ends in a number gives that many points.
* A test that raises on a wrong answer without an `assert` is scored as nbgrader scores it.
* A read-only cell a student edited runs as the teacher wrote it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from backproplab.classroom.__main__ import main
from backproplab.classroom._source import load_source
from backproplab.classroom.release import release


def meta(grade_id: str, **flags) -> dict:
    return {"nbgrader": {"grade_id": grade_id, "schema_version": 3, "locked": False,
                         "solution": False, "grade": False, **flags}}  # fmt: skip


def assignment() -> nbformat.NotebookNode:
    code, text = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    cells = [
        code("import numpy as np"),
        code("def squares(n):\n    ### BEGIN SOLUTION\n    return [i * i for i in range(1, n + 1)]\n"
             "    ### END SOLUTION", metadata=meta("squares", solution=True)),
        code("assert squares(3) == [1, 4, 9]", metadata=meta("t-squares", grade=True, points=1)),
        code("def pyramidal(n):\n    ### BEGIN SOLUTION\n    return sum(squares(n))\n"
             "    ### END SOLUTION\nassert pyramidal(2) == 5",
             metadata=meta("pyramidal", solution=True, grade=True, points=2)),
        text("Why is the sum of squares cubic in n?\n\n=== BEGIN MARK SCHEME ===\nAn integral "
             "of n^2.\n=== END MARK SCHEME ===", metadata=meta("why", task=True, points=3)),
        text("### BEGIN SOLUTION\nBecause it grows like n^3 / 3.\n### END SOLUTION",
             metadata=meta("why-answer", solution=True, grade=True, points=1)),
    ]  # fmt: skip
    return nbformat.v4.new_notebook(cells=cells)


def test_cells_a_person_marks_are_exercises_worth_their_points(tmp_path):
    nbformat.write(assignment(), tmp_path / "ps.ipynb")
    (teacher,) = load_source(tmp_path)
    assert [c.grade_id for c in teacher.checks] == ["t-squares"]  # not the teacher's pyramidal
    assert [(b.grade_id, b.points) for b in teacher.by_hand] == [
        ("pyramidal", 2), ("why", 3), ("why-answer", 1)]  # fmt: skip
    assert teacher.points == 7


def test_plan_counts_them(tmp_path, capsys):
    nbformat.write(assignment(), tmp_path / "ps.ipynb")
    assert main(["plan", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "pyramidal (by hand) (2)" in out and "why (by hand) (3)" in out
    assert "7 points" in out, out


def test_a_class_graded_with_cells_a_person_marks(tmp_path, capsys):
    source, handout, submitted = tmp_path / "source", tmp_path / "release", tmp_path / "submitted"
    source.mkdir()
    nbformat.write(assignment(), source / "ps.ipynb")
    assert release(source, handout)
    student = nbformat.read(handout / "ps.ipynb", as_version=4)

    def hand_in(name: str, answers: dict[int, str]) -> None:
        notebook = nbformat.from_dict(student)
        for index, text in answers.items():
            notebook.cells[index].source = text
        (submitted / name).mkdir(parents=True)
        nbformat.write(notebook, submitted / name / "ps.ipynb")

    squares = "def squares(n):\n    return [i * i for i in range(1, n + 1)]"
    hand_in("ada", {1: squares, 3: "def pyramidal(n):\n    return sum(squares(n))",
                    5: "It adds n terms of size up to n^2."})  # fmt: skip
    hand_in("dan", {1: squares})  # the answers a person marks left as handed out
    hand_in("grace", {})
    assert main(["grade", str(submitted), "--source", str(source),
                 "--feedback", str(tmp_path / "feedback")]) == 0  # fmt: skip
    table = capsys.readouterr().out.split("\n")
    header = table[0].split()
    assert header == ["student", "t-squares", "pyramidal", "why", "why-answer", "score", "points",
                      "problems"]  # fmt: skip
    rows = {line.split()[0]: line for line in table[2:5]}
    # ada: 1 point by the check; the rest is the teacher's to mark (blank)
    assert rows["ada"].split()[1:] == ["1", "1", "7"], rows["ada"]
    assert rows["dan"].split()[1:] == ["1", "0", "0", "1", "7"], rows["dan"]
    assert rows["grace"].split()[1:] == ["0", "0", "0", "0", "7"], rows["grace"]
    feedback = (tmp_path / "feedback" / "ada.txt").read_text(encoding="utf-8")
    assert "ps.ipynb (handed in as ps.ipynb): 1 of 7 (6 of them to be marked by your teacher)" in (
        feedback
    )
    assert "  ? pyramidal (?/2): your teacher marks it\n  ? why (?/3): your teacher marks it" in (
        feedback
    )
    dan = (tmp_path / "feedback" / "dan.txt").read_text(encoding="utf-8")
    assert "… pyramidal (0/2)" in dan and "the cell is as it was handed out" in dan


def test_the_release_keeps_no_mark_scheme(tmp_path):
    (tmp_path / "source").mkdir()
    nbformat.write(assignment(), tmp_path / "source" / "ps.ipynb")
    release(tmp_path / "source", tmp_path / "release")
    text = Path(tmp_path / "release" / "ps.ipynb").read_text(encoding="utf-8")
    assert "Why is the sum of squares cubic in n?" in text
    assert "MARK SCHEME" not in text and "An integral" not in text


# ------------------------------------------------------------- tests written as nbgrader's are
def evaluate(cells, answer):
    from test_own_exercises import Answers, teacher_of

    from backproplab.classroom._check import evaluate_check

    teacher = teacher_of(*cells)
    return evaluate_check(teacher.checks[0], teacher, Answers({"squares": answer}))


SOLUTION = ("def squares(n):\n    ### BEGIN SOLUTION\n    return [i * i for i in range(1, n + 1)]\n"
            "    ### END SOLUTION", {"solution": True, "grade_id": "squares"})  # fmt: skip
TEST = {"grade": True, "grade_id": "t-squares", "points": 1}
PARTIAL = """score = 0
if squares(1) == [1]:
    score += 0.5
if squares(3) == [1, 4, 9]:
    score += 0.5
score"""


def right(n):
    return [i * i for i in range(1, n + 1)]


def test_a_test_that_ends_in_a_number_gives_that_many_points():
    """nbgrader's partial credit: the cell's last value is its score. It was "the teacher's
    check returned float, not Feedback" for every student, and with an assert in the cell any
    number counted as full points."""
    half = evaluate([SOLUTION, (PARTIAL, TEST)], lambda n: [1] if n == 1 else [])
    full = evaluate([SOLUTION, (PARTIAL, TEST)], right)
    none = evaluate([SOLUTION, ("assert callable(squares)\n" + PARTIAL, TEST)], lambda n: [])
    assert (half.status, half.score) == ("partial", 0.5), half.message
    assert half.message == "t-squares: ✘ not yet — the check gave 0.5 of 1 points."
    assert (full.status, full.score) == ("correct", 1)
    assert (none.status, none.score) == ("hint", 0)


@pytest.mark.parametrize(
    "test",
    [
        "try:\n    squares(0)\nexcept ValueError:\n    pass\nelse:\n"
        "    raise AssertionError('did not raise')",
        "check_squares(squares)",  # a function of the teacher's that raises on a wrong answer
    ],
)
def test_a_test_that_raises_on_a_wrong_answer_is_scored_as_nbgrader_scores_it(test):
    """Neither holds an `assert`: it was "neither ends in a call of a check ... nor holds an
    `assert`", or "returned NoneType, not Feedback", for every student."""
    from backproplab.classroom._session import _exception

    helper = ("def check_squares(f):\n    if f(2) != [1, 4]:\n        raise ValueError('no')", {})

    def strict(n):
        if n < 1:
            raise _exception("ValueError", "n must be positive")
        return right(n)

    good = evaluate([helper, SOLUTION, (test, TEST)], strict)
    bad = evaluate([helper, SOLUTION, (test, TEST)], lambda n: [])
    assert (good.status, bad.status) == ("correct", "hint"), (good.message, bad.message)


def test_a_read_only_cell_runs_as_the_teacher_wrote_it(tmp_path, capsys):
    """bob edited the read-only `scale = 2.0` into `scale = 3.0` and wrote a right `scaled`:
    his edited cell ran, and he scored 0 with nothing said to the teacher."""
    code = nbformat.v4.new_code_cell
    cells = [
        code("import numpy as np"),
        code("scale = 2.0", metadata=meta("scale", locked=True)),
        code("def scaled(x):\n    ### BEGIN SOLUTION\n    return scale * x\n    ### END SOLUTION",
             metadata=meta("scaled", solution=True)),
        code("assert scaled(1.0) == 2.0, 'should be 2.0'",
             metadata=meta("t-scaled", grade=True, locked=True, points=1)),
    ]  # fmt: skip
    source = tmp_path / "source"
    source.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=cells), source / "hw.ipynb")
    bob = nbformat.v4.new_notebook(cells=[nbformat.from_dict(c) for c in cells])
    bob.cells[1].source = "scale = 3.0"
    bob.cells[2].source = "def scaled(x):\n    return scale * x"
    (tmp_path / "submitted" / "bob").mkdir(parents=True)
    nbformat.write(bob, tmp_path / "submitted" / "bob" / "hw.ipynb")
    command = ["grade", str(tmp_path / "submitted"), "--source", str(source)]
    assert main(command) == 0
    row = capsys.readouterr().out.split("\n")[2]
    assert row.split()[1:4] == ["1", "1", "1"], row
    assert "cell 2 (scale) is read-only and was changed: the teacher's ran" in row
    del bob.cells[3], bob.cells[1]  # deleted: not put back (nbgrader neither), but told;
    # a check cell, read-only too, is the teacher's anyway: its deletion is no read-only problem
    nbformat.write(bob, tmp_path / "submitted" / "bob" / "hw.ipynb")
    assert main(command) == 0
    row = capsys.readouterr().out.split("\n")[2]
    assert "the read-only cell scale is missing: it did not run" in row
    assert "t-scaled is missing" not in row


def test_a_test_that_deletes_the_students_function_is_the_teachers_error():
    """nbgrader's own example deletes `squares` to see that `sum_of_squares` uses it: in the
    grader that deleted a stand-in, the student's kernel kept `squares`, and a right answer
    scored 0 ("sum_of_squares does not use squares") without a word to the teacher."""
    test = ("orig_squares = squares\ndel squares\ntry:\n    sum_of_squares(1)\n"
            "except NameError:\n    pass\nelse:\n    raise AssertionError('does not use squares')\n"
            "finally:\n    squares = orig_squares")  # fmt: skip
    second = ("def sum_of_squares(n):\n    ### BEGIN SOLUTION\n    return sum(squares(n))\n"
              "    ### END SOLUTION", {"solution": True, "grade_id": "sum"})  # fmt: skip
    result = evaluate([SOLUTION, second, (test, TEST)], right)
    assert result.status == "error"
    assert "the teacher's check deletes or replaces the student's squares" in result.message
    wraps = ("wrapped = squares\nsquares = np.vectorize(squares)\nassert callable(squares)", TEST)
    assert evaluate([("import numpy as np", {}), SOLUTION, wraps], right).status == "correct"


# ------------------------------------------------------------ what an adversary found (adv2)
FEEDBACK_HELPER = (
    "from backproplab.exercises import correct, hint\n"
    "def check_squares(f):\n"
    "    if not callable(f):\n"
    "        raise TypeError('squares should be a function')\n"
    "    ok = f(3) == [1, 4, 9]\n"
    "    (correct if ok else hint)('squares', 'right' if ok else 'not the squares')",
    {},
)  # a Feedback check whose teacher forgot `return`


@pytest.mark.parametrize(
    "test",
    [
        "check_squares(squares)",
        "if not callable(squares):\n    raise TypeError('no')\ncheck_squares(squares)",
    ],  # fmt: skip
)
def test_a_feedback_check_that_forgot_return_gives_no_one_the_points(test):
    """Its `raise` made it an nbgrader test, and its None "every test of the check passed": full
    points for a wrong answer, for everyone. It is the teacher's error."""
    wrong = evaluate([FEEDBACK_HELPER, SOLUTION, (test, TEST)], lambda n: [])
    assert (wrong.status, wrong.score) == ("error", 0), wrong.message
    assert "returned NoneType, not Feedback" in wrong.message
    assert "forget to return it" in wrong.message


def test_the_students_error_of_any_name_fails_a_test_and_is_never_the_teachers():
    """A NameError of the student's (a typo in their function) was taken for a name the
    teacher's check lacks: "the check failed in the grader", a problem of the teacher's. In a
    partial credit cell (no assert) any error of theirs was, and a stub was not "not done"."""
    from backproplab.classroom._session import _exception

    def raising(name):
        def answer(n):
            raise _exception(name, "name 'y' is not defined" if name == "NameError" else "x")

        return answer

    typo = evaluate([SOLUTION, ("assert squares(3) == [1, 4, 9]", TEST)], raising("NameError"))
    assert (typo.status, typo.score) == ("hint", 0), typo.message
    assert "NameError: name 'y' is not defined" in typo.message
    for name, status in [("NameError", "hint"), ("ValueError", "hint"),
                         ("NotImplementedError", "not done")]:  # fmt: skip
        result = evaluate([SOLUTION, (PARTIAL, TEST)], raising(name))
        assert (result.status, result.score) == (status, 0), (name, result.message)
    teachers = evaluate([SOLUTION, ("assert sqares(3) == [1, 4, 9]", TEST)], right)
    assert teachers.status == "error", teachers.message  # the teacher's own typo stays theirs


def test_an_answer_left_as_handed_out_scores_0_with_the_release_as_source(tmp_path):
    """With the release as --source (allowed: no solution is needed), the stub of a code answer
    a person marks was the release of the release (the stub as a whole), so an answer left as
    handed out went to the teacher to mark, not 0."""
    from backproplab.classroom._by_hand import by_hand_results

    (tmp_path / "source").mkdir()
    nbformat.write(assignment(), tmp_path / "source" / "ps.ipynb")
    release(tmp_path / "source", tmp_path / "release")
    student = nbformat.read(tmp_path / "release" / "ps.ipynb", as_version=4)
    for folder in (tmp_path / "source", tmp_path / "release"):
        (teacher,) = load_source(folder)
        results = by_hand_results(student.cells, teacher.by_hand)
        assert [r.status for r in results] == ["not done", "by hand", "not done"], folder


def test_odd_metadata_in_a_submission_is_no_answer_not_a_crash():
    from backproplab.classroom._by_hand import ByHand, by_hand_results

    cells = [{"metadata": {"nbgrader": "why"}, "source": "x"}, {"metadata": [], "source": 5},
             {"metadata": {"nbgrader": {"grade_id": "why"}}, "source": 7}]  # fmt: skip
    (result,) = by_hand_results(cells, [ByHand("why", 1.0, "YOUR ANSWER HERE")])
    assert (result.status, result.score) == ("by hand", 0.0)
