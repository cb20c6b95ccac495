"""Answers on which the grade said something else than the notebook, found by a differential sweep
(every wrong answer of the exercise tests and a few of our own, each judged by the check called
in one process, as in the learner's notebook, and through the real grader): each test grades its
answers in one grading and compares every feedback with the notebook's, and fails without its
fix."""

from __future__ import annotations

import nbformat
from exercise_helpers import grade_students, run_as_notebook

SETUP = "import numpy as np\nfrom backproplab.exercises import attempt, correct, hint"


def cell(source: str, **nbgrader) -> nbformat.NotebookNode:
    made = nbformat.v4.new_code_cell(source)
    if nbgrader:
        made.metadata["nbgrader"] = {"schema_version": 3, "locked": False, **nbgrader}
    return made


def one_exercise(name: str, solution: str, check: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[
        cell(SETUP),
        cell(solution, solution=True, grade=False, grade_id=name),
        cell(check, solution=False, grade=True, grade_id=f"{name}-check", points=1),
    ])  # fmt: skip


def same_as_notebook(tmp_path, name: str, solution: str, check: str, answers: dict) -> dict:
    """Grade every answer (student -> solution cell) in one grading; assert that each check's
    status and message are the notebook's (the check cell run in this process on the answer).
    Returns student -> the grade's CheckResult."""
    grades = grade_students(
        tmp_path,
        one_exercise(name, solution, check),
        {who: one_exercise(name, answer, check) for who, answer in answers.items()},
    )
    results = {}
    for who, answer in answers.items():
        feedback = run_as_notebook([SETUP, answer, check])[-1]
        (graded,) = grades[who].checks
        assert (graded.status, graded.message) == (feedback.status, str(feedback)), who
        results[who] = graded
    return results


# ---------------------------------------------------------------- a recursion too deep
TRIANGLE = '''def triangle(n):
    """1 + 2 + ... + n."""
    ### BEGIN SOLUTION
    return n * (n + 1) // 2
    ### END SOLUTION'''
TRIANGLE_CHECK = """def check_triangle(fn):
    for n, expected in [(0, 0), (3, 6), (100_000, 5_000_050_000)]:
        got = attempt("triangle", fn, n)
        if not isinstance(got, int):
            return got if got is not None and hasattr(got, "status") else hint(
                "triangle", f"triangle({n}) should be a whole number"
            )
        if got != expected:
            return hint("triangle", f"triangle({n}) is not {got}")
    return correct("triangle")


check_triangle(triangle)"""


def test_a_recursion_too_deep_is_the_notebooks_recursion_error_not_a_removed_recorder(tmp_path):
    # Python removes a profile function that raises, as the grader's call recorder does when it
    # is called at the recursion limit: the grade said "answered by calling sys.setprofile (the
    # grader's call recorder was removed)", with the status "package", for an honest recursive
    # answer that the notebook tells "your code raised RecursionError" (a recursive toposort)
    recursive = TRIANGLE.replace(
        "return n * (n + 1) // 2", "return 0 if n == 0 else n + triangle(n - 1)"
    )
    results = same_as_notebook(
        tmp_path, "triangle", TRIANGLE, TRIANGLE_CHECK, {"ada": TRIANGLE, "bob": recursive}
    )
    assert results["ada"].status == "correct"
    assert results["bob"].status == "hint"
    assert "RecursionError" in results["bob"].message
