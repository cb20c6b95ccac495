"""What the class found hard: after the scores, ``grade`` prints per exercise how many students
got full marks and the most frequent reason among the others (a check's hint, or "left as handed
out"), so that a teacher sees which mistake to take up in class."""

from __future__ import annotations

from test_adversarial_classroom import teacher_notebook, with_body
from test_grading_broken_code import _grade_class

from backproplab.classroom._grades import CheckResult, NotebookGrade
from backproplab.classroom._reports import class_summary


def test_grade_prints_the_most_frequent_mistake_of_each_exercise(tmp_path, capsys):
    teacher = teacher_notebook()
    outer_only = "    return np.cos(x**2)\n"  # the chain rule's inner derivative forgotten
    _grade_class(
        tmp_path,
        {
            "ada": teacher,
            "bob": with_body(teacher, "d_sin_of_square", outer_only),
            "cy": with_body(teacher, "d_sin_of_square", "    return np.cos(x**2) * x\n"),
            "dee": with_body(
                with_body(teacher, "d_sin_of_square", outer_only),
                "dL_db",
                "    raise NotImplementedError('dL_db is not written yet')\n",
            ),
        },
    )
    out = capsys.readouterr().out
    summary = out[out.index("By exercise") :].splitlines()
    assert summary[0].startswith("By exercise: how many got full marks, and the most common")
    sin, db = summary[1].split(), summary[2].split()
    assert sin[:5] == ["nb02-d_sin_of_square", "1", "of", "4", "2×"], summary[1]
    assert "outer function's derivative" in summary[1]  # bob's and dee's hint, not cy's
    assert db == ["nb05-dL_db", "3", "of", "4", "1×", "left", "as", "handed", "out"], summary[2]


def _grade(student: str, message: str, score: float = 0.0) -> NotebookGrade:
    status = "correct" if score else "hint"
    check = CheckResult("nb05-dL_db", 1.0, score, status, message)
    return NotebookGrade(student, "a.ipynb", [check], teacher="a.ipynb")


def test_hints_that_differ_only_in_their_numbers_count_as_one_mistake():
    grades = [
        _grade("a", "dL_db: ✘ not yet — right shape but off by a factor of 32."),
        _grade("b", "dL_db: ✘ not yet — the sign is wrong."),
        _grade("c", "dL_db: ✘ not yet — right shape but off by a factor of 64."),
        _grade("d", "dL_db: ✔ correct — exact.", score=1.0),
    ]
    assert class_summary(grades).splitlines()[1] == (  # (in the class's order: a's words)
        '  nb05-dL_db  1 of 4  2× "right shape but off by a factor of 32."'
    )
    long = "x" * 150
    assert class_summary([_grade("e", f"dL_db: ✘ not yet: {long}")]).endswith('"' + "x" * 98 + "…")
    assert class_summary([]) == ""


def test_a_check_that_failed_in_the_grader_is_said_so():
    check = CheckResult("nb05-dL_db", 1.0, 0.0, "error", "the check failed in the grader: KeyError")
    grades = [NotebookGrade("a", "a.ipynb", [check], teacher="a.ipynb")]
    assert (
        class_summary(grades)
        .splitlines()[1]
        .endswith("1× the check failed in the grader (see the problems)")
    )


def test_a_students_feedback_gives_the_total_and_the_notebooks_in_the_assignments_order():
    """A teacher's walk (docs/teaching.md, notebooks 01-03, a student who handed in only 01):
    the feedback listed 02 and 03 "not handed in" before 01, and never said the total (a student
    with 4 of 4, 2 of 4 and 0 of 6 had to add up 6 of 14 themselves)."""
    from types import SimpleNamespace

    from backproplab.classroom._grades import CheckResult, NotebookGrade
    from backproplab.classroom._reports import feedback_text

    def teacher(name: str, points: float) -> SimpleNamespace:
        return SimpleNamespace(name=name, points=points)

    def graded(name: str, scores: list[float]) -> NotebookGrade:
        checks = [CheckResult(f"{name[:2]}-{i}", 2.0, s, "correct" if s else "hint", "")
                  for i, s in enumerate(scores)]  # fmt: skip
        return NotebookGrade("dan", name, checks, [], teacher=name)

    teachers = [teacher("01_a.ipynb", 4), teacher("02_b.ipynb", 4), teacher("03_c.ipynb", 6)]
    text = feedback_text("dan", [graded("03_c.ipynb", [2, 0, 0]), graded("01_a.ipynb", [2, 2])],
                         teachers)  # fmt: skip
    lines = text.splitlines()
    assert lines[:2] == ["Feedback for dan", "Score: 6 of 14 points"]
    order = [line.split(" ")[0].rstrip(":") for line in lines if line.startswith("0")]
    assert order == ["01_a.ipynb", "02_b.ipynb", "03_c.ipynb"]
    assert "02_b.ipynb: not handed in (0 of 4 points)" in lines


def test_the_terminal_table_says_a_problem_once_for_the_exercises_it_is_about():
    """A teacher's walk: a student who pasted the teacher's answers into eight exercises got a
    table row of 1,312 characters, the same sentence eight times. The table says it once, with
    the exercises' names; the CSV keeps one problem per exercise (a spreadsheet filters them)."""
    from backproplab.classroom._grades import CheckResult, NotebookGrade
    from backproplab.classroom._reports import scores_csv, scores_table

    copied = "the answer is the teacher's solution (the same code, comments and spacing aside)"
    checks = [CheckResult(f"nb01-{e}", 1.0, 1.0, "correct") for e in "abc"]
    grade = NotebookGrade(
        "ada", "01_a.ipynb", checks, ["cell 3 ran longer than 60 s"], teacher="01_a.ipynb",
        for_teacher=[f"nb01-{e}: {copied}" for e in "abc"],
    )  # fmt: skip
    row = scores_table([grade]).splitlines()[2]
    assert row.count(copied) == 1
    assert row.endswith(
        f"01_a.ipynb: cell 3 ran longer than 60 s; 01_a.ipynb: nb01-a, nb01-b, nb01-c: {copied}"
    )
    assert scores_csv([grade]).count(copied) == 3
    # a problem of the notebook whose words are an exercise's sentence: both said, apart
    grade.problems = [copied]
    row = scores_table([grade]).splitlines()[2]
    assert row.endswith(f"01_a.ipynb: {copied}; 01_a.ipynb: nb01-a, nb01-b, nb01-c: {copied}")


def test_the_summary_counts_the_whole_class_for_an_assignments_notebooks():
    """A first-time teacher's walk with --notebooks 01 02 03: a student who handed in only 01
    dropped out of 02's and 03's counts ("2 of 4" on 01's lines, "2 of 3" on 02's). With the
    assignment's notebooks, each line counts the class, that student as "not handed in"."""
    from types import SimpleNamespace

    from backproplab.classroom._grades import CheckResult, NotebookGrade

    def teacher(name: str, exercise: str) -> SimpleNamespace:
        return SimpleNamespace(name=name, by_hand=[], checks=[SimpleNamespace(exercise=exercise,
                               points=1.0)])  # fmt: skip

    def handed_in(student: str, name: str, exercise: str, score: float) -> NotebookGrade:
        status = "correct" if score else "not done"
        return NotebookGrade(student, name, [CheckResult(exercise, 1.0, score, status)],
                             teacher=name)  # fmt: skip

    grades = [
        handed_in("ada", "01.ipynb", "nb01-a", 1.0), handed_in("ada", "02.ipynb", "nb02-b", 1.0),
        handed_in("dan", "01.ipynb", "nb01-a", 0.0),
    ]  # fmt: skip
    teachers = [teacher("01.ipynb", "nb01-a"), teacher("02.ipynb", "nb02-b")]
    lines = class_summary(grades, teachers).splitlines()[1:]
    assert [" ".join(line.split()) for line in lines] == [
        "nb01-a 1 of 2 1× left as handed out",
        "nb02-b 1 of 2 1× not handed in",
    ]
    assert " ".join(class_summary(grades).splitlines()[2].split()) == "nb02-b 1 of 1"  # as before
