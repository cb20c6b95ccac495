"""Helpers shared by the tests of the notebooks' self-checks."""

from __future__ import annotations

import re
from collections.abc import Callable

# the sentence a crash's hint ends with: the learner's own line of code (exercises._crash)
_QUOTED_LINE = re.compile(r" The line that raised it: `[^`]*`\.")


def our_words(message: str) -> str:
    """A hint without the line of the learner's code it quotes: what the check itself says."""
    return _QUOTED_LINE.sub("", message)


def stub(*args):
    """What the student release puts in place of a solution."""
    raise NotImplementedError


def hint_asserter(code: list[str]) -> Callable:
    """``assert_hint(feedback, *words)``: the check gave a hint that contains every one of
    ``words`` and none of the snippets of ``code`` (a hint names the mistake, never the code)."""

    def assert_hint(feedback, *words):
        assert feedback.status == "hint", feedback
        for word in words:
            assert word in feedback.message, feedback
        for snippet in code:  # the learner's own line, quoted after a crash, may hold it
            assert snippet not in our_words(feedback.message), feedback

    return assert_hint


def grade_one_exercise(tmp_path, notebook: str, module: str, grade_id: str, body: str | None):
    """Grade one exercise of a curriculum notebook through the real grader (a kernel): the
    teacher's solution cell and check cell, and a student whose solution body is ``body`` (None:
    the teacher's own). Returns the check's result (status, message, score)."""
    from pathlib import Path

    import nbformat

    from backproplab.classroom.grading import Limits, grade_notebook, load_source

    source = Path(__file__).resolve().parents[1] / "notebooks" / notebook
    teacher = nbformat.read(source, as_version=4)
    ids = {grade_id, f"{grade_id}-check"}
    imports = f"import numpy as np\nfrom backproplab.exercises import {module}"
    cells = [nbformat.v4.new_code_cell(imports)]
    cells += [c for c in teacher.cells if c.metadata.get("nbgrader", {}).get("grade_id") in ids]
    assert len(cells) == 3
    notebook_node = nbformat.v4.new_notebook(cells=cells, metadata={})
    for folder in ("teacher", "ada"):
        (tmp_path / folder).mkdir()
        nbformat.write(notebook_node, tmp_path / folder / "a.ipynb")
    if body is not None:
        student = nbformat.read(tmp_path / "ada" / "a.ipynb", as_version=4)
        solution = student.cells[1]
        solution.source = solution.source[: solution.source.index("    ### BEGIN SOLUTION")] + body
        nbformat.write(student, tmp_path / "ada" / "a.ipynb")
    result = grade_notebook(
        tmp_path / "ada" / "a.ipynb",
        "ada",
        load_source(tmp_path / "teacher"),
        Limits(timeout=30, memory_mb=1536),
        folder=tmp_path / "ada",
    )
    assert result.problems == []
    (check,) = result.checks
    return check


def grade_own_exercise(tmp_path, name: str, solution: str, check: str, body: str) -> tuple:
    """Grade a teacher's own one-exercise notebook through the real grader (a kernel): a setup
    cell importing numpy, ``correct`` and ``hint``, the ``solution`` cell of exercise ``name``
    (its body between the markers) and its ``check`` cell, for a student whose solution body is
    ``body``. Returns the check's (status, message)."""
    import nbformat

    from backproplab.classroom.grading import Limits, grade_notebook, load_source

    def cell(source: str, **nbgrader) -> nbformat.NotebookNode:
        made = nbformat.v4.new_code_cell(source)
        if nbgrader:
            made.metadata["nbgrader"] = {"schema_version": 3, "locked": False, **nbgrader}
        return made

    def notebook(solution: str) -> nbformat.NotebookNode:
        return nbformat.v4.new_notebook(cells=[
            cell("import numpy as np\nfrom backproplab.exercises import correct, hint"),
            cell(solution, solution=True, grade=False, grade_id=name),
            cell(check, solution=False, grade=True, grade_id=f"{name}-check", points=1),
        ])  # fmt: skip

    for folder in ("teacher", "ada"):
        (tmp_path / folder).mkdir()
    nbformat.write(notebook(solution), tmp_path / "teacher" / "a.ipynb")
    student = solution[: solution.index("    ### BEGIN SOLUTION")] + body
    nbformat.write(notebook(student), tmp_path / "ada" / "a.ipynb")
    result = grade_notebook(
        tmp_path / "ada" / "a.ipynb",
        "ada",
        load_source(tmp_path / "teacher"),
        Limits(timeout=30, memory_mb=1536),
        folder=tmp_path / "ada",
    )
    assert result.problems == []
    (graded,) = result.checks
    return graded.status, graded.message
