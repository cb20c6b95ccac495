"""Helpers shared by the tests of the notebooks' self-checks."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path

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
    return _graded_check(tmp_path)


def _graded_check(tmp_path):
    """The check of ada's one exercise (tmp_path/ada/a.ipynb) against the teacher's notebook in
    tmp_path/teacher, through the real grader; no problem may be reported."""
    from backproplab.classroom.grading import Limits, grade_notebook, load_source

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
    graded = _graded_check(tmp_path)
    return graded.status, graded.message


def run_as_notebook(sources: list[str], namespace: dict | None = None) -> list:
    """Run code cells one after the other in one namespace of this process, as a learner's kernel
    runs them (each cell's lines kept for tracebacks, so a crash's hint quotes the line);
    returns the value of each cell's last expression (None for a cell ending in a statement):
    a check cell's Feedback is what the learner sees."""
    import ast
    import itertools
    import linecache

    namespace = {"__name__": "__main__"} if namespace is None else namespace
    values = []
    for source, number in zip(sources, itertools.count(next(_CELLS))):
        filename = f"<notebook cell {number}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - the test's own cells
        value = None
        if last is not None:
            value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)  # noqa: S307
        values.append(value)
    return values


_CELLS = iter(range(1, 10**9, 1000))  # cell file names never reused within a test run


def grade_students(tmp_path, teacher, students: dict, files: dict | None = None, jobs: int = 2):
    """Grade each of ``students`` (name -> notebook) against the ``teacher`` notebook through
    the real grader, at the notebook's own draw of the checks' inputs, ``jobs`` at a time. The
    folder of each student (and of the teacher: "teacher") also holds ``files[name]``, a dict
    file name -> text. Returns name -> NotebookGrade."""
    from concurrent.futures import ThreadPoolExecutor

    import nbformat

    from backproplab.classroom._kernel import closing_its_event_loop
    from backproplab.classroom.grading import Limits, grade_notebook, load_source

    files = files or {}
    (tmp_path / "teacher").mkdir(parents=True)
    nbformat.write(teacher, tmp_path / "teacher" / "a.ipynb")
    for file, text in files.get("teacher", {}).items():
        (tmp_path / "teacher" / file).write_text(text)
    source = load_source(tmp_path / "teacher")

    def grade(name: str):
        folder = tmp_path / "students" / name
        folder.mkdir(parents=True)
        nbformat.write(students[name], folder / "a.ipynb")
        for file, text in files.get(name, {}).items():
            (folder / file).write_text(text)
        limits = Limits(timeout=60, memory_mb=2048)
        return name, grade_notebook(folder / "a.ipynb", name, source, limits, folder=folder)

    # each thread closes the event loop jupyter_client made it, as grade_folder's threads do:
    # left open, the loops were freed later in whatever test ran then ("unclosed event loop")
    with ThreadPoolExecutor(jobs) as pool:
        return dict(pool.map(closing_its_event_loop(grade), list(students)))


def mygrad_with(old: str, new: str, name: str):
    """The teacher's notebooks/mygrad.py with one change, loaded as the module ``name``: a
    learner's engine with that mistake."""
    text = (Path(__file__).resolve().parent.parent / "notebooks" / "mygrad.py").read_text()
    assert text.count(old) == 1, old
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and friends look modules up by name
    exec(compile(text.replace(old, new), f"{name}.py", "exec"), module.__dict__)
    return module


def estimated_vjp(forward: Callable, g, inputs: list, k: int, h: float = 1e-6):
    """A finite-difference answer to a backward pass: d sum(g * forward(*inputs)) / d inputs[k],
    estimated by central differences of a forward pass of the answer's own (2 n passes), as a
    learner who wrote notebook 01's central_difference_gradient can."""
    import numpy as np

    from backproplab.exercises import numeric_gradient

    def loss(value):
        return float(np.sum(g * forward(*inputs[:k], value, *inputs[k + 1 :])))

    return numeric_gradient(loss, np.asarray(inputs[k], dtype=np.float64), h)


ESTIMATE_WORDS = ("only to about", "digits", "finite differences", "derived")  # the gate's hint
