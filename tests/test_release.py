"""The student release: solutions stubbed, nothing else changed, checks say "not done yet".

Run on a small fixture notebook (tests/fixtures/exercises.ipynb, two exercises with their own
checks) and on every curriculum notebook present in notebooks/.
"""

from __future__ import annotations

import configparser
import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from backproplab.classroom import ReleaseError, release, strip_solutions, student_notebook
from backproplab.classroom.__main__ import main
from backproplab.classroom.release import exercise_label

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "exercises.ipynb"
CODE_MARKS = re.compile(r"(?<!`)`[^`\n]+`(?!`)")  # `x`, not a docstring's ``x``
CURRICULUM = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def solution_regions(source: str) -> list[list[str]]:
    """The lines strictly between each BEGIN/END SOLUTION pair of a cell (written independently
    of the code under test: plain string search on nbgrader's markers)."""
    regions, current = [], None
    for line in source.split("\n"):
        if "### BEGIN SOLUTION" in line:
            current = []
        elif "### END SOLUTION" in line:
            regions.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return regions


def fill_in(student_source: str, teacher_source: str) -> str:
    """Put the teacher's solution regions (with their markers) back in place of the stubs."""
    teacher_lines = teacher_source.split("\n")
    blocks, start = [], None  # each block: the marker lines and everything between them
    for index, line in enumerate(teacher_lines):
        if "### BEGIN SOLUTION" in line:
            start = index
        elif "### END SOLUTION" in line:
            blocks.append(teacher_lines[start : index + 1])
    out, lines, index = [], student_source.split("\n"), 0
    while index < len(lines):
        if lines[index].strip() == "# YOUR CODE HERE" and "NotImplementedError" in lines[index + 1]:
            out += blocks.pop(0)
            index += 2
        else:
            out.append(lines[index])
            index += 1
    assert not blocks, "more solution regions than stubs"
    return "\n".join(out)


def is_check(cell) -> bool:
    return cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade", False)


def run_cells(notebook, folder: Path, stop_after_first_check: bool = False, timeout: int = 180):
    """Execute ``notebook`` in place in a fresh kernel, optionally only up to its first check.
    The timeout only catches a hang: notebook 14's training cell took over 60 s on a loaded
    machine (speed is the benchmarks' business, not a test's)."""
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
            if stop_after_first_check and is_check(cell):
                return cell
    return None


SANITIZE = configparser.ConfigParser()
SANITIZE.read(ROOT / "tests" / "nbval_sanitize.cfg", encoding="utf-8")


def shown_text(cell) -> str:
    """A cell's text outputs as nbval compares them (not images or widgets), sanitized alike."""
    parts = []
    for output in cell.outputs:
        data = output.get("data", {})
        if output.output_type == "stream":
            parts.append(output.text)
        elif "text/plain" in data and not any(
            k.startswith("image/") or "widget" in k for k in data
        ):
            parts.append(data["text/plain"])
    text = "".join(parts)
    for section in SANITIZE.sections():
        text = re.sub(SANITIZE[section]["regex"], SANITIZE[section]["replace"], text)
    return text


def output_text(cell) -> str:
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", "") if output.output_type == "stream" else "")
        parts.append(output.get("data", {}).get("text/plain", ""))
        parts.append(output.get("ename", ""))
    return "\n".join(part.strip() for part in parts if part)


# --- one cell -------------------------------------------------------------------------------


def test_stub_keeps_the_function_and_names_it():
    source = "def dL_dW(X, G):\n    ### BEGIN SOLUTION\n    return X.T @ G\n    ### END SOLUTION\n"
    assert strip_solutions(source) == (
        "def dL_dW(X, G):\n"
        "    # YOUR CODE HERE\n"
        '    raise NotImplementedError("dL_dW: your code goes here")\n'
    )


def test_stub_in_a_nested_function_names_the_innermost():
    source = (
        "def outer():\n    def inner(x):\n        ### BEGIN SOLUTION\n        return x\n"
        "        ### END SOLUTION\n    return inner"
    )
    stubbed = strip_solutions(source)
    assert 'NotImplementedError("inner: your code goes here")' in stubbed
    assert "return x" not in stubbed and stubbed.endswith("    return inner")


def test_stub_in_a_function_nested_in_a_function_after_a_class_names_no_class():
    """A closure's region below a class (mygrad.py's layers, then a helper that makes a step
    function): the function around it is not a method, so the class above names nothing."""
    source = (
        "class Linear:\n    def __init__(self, n_in):\n        self.n_in = n_in\n\n\n"
        "def make_step(lr):\n    def step(params, grads):\n        ### BEGIN SOLUTION\n"
        "        return [p - lr * g for p, g in zip(params, grads)]\n        ### END SOLUTION\n\n"
        "    return step"
    )
    stubbed = strip_solutions(source)
    assert 'NotImplementedError("step: your code goes here")' in stubbed, stubbed
    assert "lr * g" not in stubbed and stubbed.endswith("    return step")


def test_stub_in_a_method_names_its_class():
    # mygrad.py has five __init__ methods: "__init__" alone did not say which one to write
    source = (
        "class Tensor:\n    def __init__(self, data):\n        self.data = data\n\n\n"
        'class Linear(Module):\n    """A layer.\n    Its weight."""\n\n'
        "    def __init__(self, n_in):\n        ### BEGIN SOLUTION see notebook 09\n"
        "        self.n = n_in\n        ### END SOLUTION\n"
    )
    stubbed = strip_solutions(source)
    assert 'NotImplementedError("Linear.__init__: your code goes here, see notebook 09")' in (
        stubbed
    )


@pytest.mark.parametrize(
    "above",
    [
        "# ---- the layers' methods, a comment at column 0\n",
        "    @property\n    async def other(self):\n        pass\n\n",
    ],
)
def test_stub_in_a_method_names_its_class_after_a_comment_or_an_async_def(above):
    source = (
        "class Linear:\n    def forward(self, x):\n        return x\n"
        + above
        + "    async def fetch(\n        self,\n    ):\n"
        "        ### BEGIN SOLUTION see notebook 09\n        pass\n        ### END SOLUTION\n"
    )
    assert 'NotImplementedError("Linear.fetch: your code goes here' in strip_solutions(source)


def test_released_engine_names_the_method_of_each_stub(tmp_path):
    release(ROOT / "notebooks", tmp_path / "student")
    engine = (tmp_path / "student" / "mygrad.py").read_text(encoding="utf-8")
    names = re.findall(r'NotImplementedError\("([\w.]+): your code goes here', engine)
    assert "Linear.__init__" in names and "SGD.step" in names, names
    assert "__init__" not in names, names


def test_markdown_region_becomes_your_answer_here():
    text = "Why?\n### BEGIN SOLUTION\nBecause the chain rule.\n### END SOLUTION"
    assert strip_solutions(text, code=False) == "Why?\nYOUR ANSWER HERE"


@pytest.mark.parametrize(
    "source, problem",
    [
        ("### BEGIN SOLUTION\nx = 1", "never ended"),
        ("x = 1\n### END SOLUTION", "without a begin"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
    ],
)
def test_broken_markers_are_a_clear_error(source, problem):
    with pytest.raises(ReleaseError, match=problem):
        strip_solutions(source)


@pytest.mark.parametrize(
    "heading, label",
    [
        ("### Exercise 4 · a product node with $n$ inputs", "Exercise 4"),
        ("### Exercises 1 and 2 · the two matmul gradients", "Exercises 1 and 2"),
        ("## Challenge · a graph of your own, by hand", "the Challenge"),
        ("## Exercise 1: double", "Exercise 1"),
        ("## 4. The backward pass of $(x + y)z$", 'the section "4. The backward pass of (x + y)z"'),
        ("## The backward pass ##", 'the section "The backward pass"'),  # closing #s
        (None, "its exercise"),
    ],
)
def test_exercise_label_is_read_off_the_heading(heading, label):
    assert exercise_label(heading) == label


def test_a_call_before_the_exercise_is_done_names_the_exercise_to_do():
    """The learner's view: a later cell calls the function while it is still a stub; the last
    line of what it raises says which exercise to do, and the release reads it off the heading
    above the exercise (not the heading of an earlier section)."""
    cells = [
        nbformat.v4.new_markdown_cell("## 7. Fan-out\n\nSome text."),
        nbformat.v4.new_markdown_cell(
            "### Exercise 4 · a product node with $n$ inputs\n\nWrite it."
        ),
        nbformat.v4.new_code_cell(
            "def product_backward(upstream, inputs):\n    ### BEGIN SOLUTION\n    return []\n"
            "    ### END SOLUTION"
        ),
        nbformat.v4.new_markdown_cell("Why zeros matter (no heading here)."),
        nbformat.v4.new_code_cell("yours = product_backward(1.0, [2.0])"),
    ]
    student = student_notebook(nbformat.v4.new_notebook(cells=cells))
    namespace: dict = {}
    exec(student.cells[2].source, namespace)
    with pytest.raises(NotImplementedError) as raised:
        exec(student.cells[4].source, namespace)
    assert str(raised.value) == (
        "product_backward is not written yet: do Exercise 4 above first "
        "(your code replaces this line)"
    )


# --- the fixture notebook -------------------------------------------------------------------


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """The fixture folder (notebook + a data file + a checkpoint) released by the CLI."""
    source = tmp_path_factory.mktemp("teacher")
    shutil.copy(FIXTURE, source / "exercises.ipynb")
    (source / "data.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    (source / ".ipynb_checkpoints").mkdir()
    (source / ".ipynb_checkpoints" / "exercises-checkpoint.ipynb").write_text(
        "{}", encoding="utf-8"
    )
    target = tmp_path_factory.mktemp("student")
    assert main(["release", str(source), str(target)]) == 0
    return source, target


def test_release_removes_every_solution_line(released):
    source, target = released
    teacher = nbformat.read(source / "exercises.ipynb", as_version=4)
    student_text = (target / "exercises.ipynb").read_text(encoding="utf-8")
    solution_lines = [
        line.strip()
        for cell in teacher.cells
        for region in solution_regions(cell.source)
        for line in region
        if line.strip()
    ]
    assert solution_lines == ["return 2 * x", "squared = x * x", "return squared"]
    for line in solution_lines:
        assert line not in student_text
    assert "SOLUTION" not in student_text
    assert (
        'raise NotImplementedError(\\"double is not written yet: do Exercise 1 above first '
        '(your code replaces this line)\\")'
    ) in student_text


def test_release_changes_nothing_else(released):
    source, target = released
    teacher = nbformat.read(source / "exercises.ipynb", as_version=4)
    student = nbformat.read(target / "exercises.ipynb", as_version=4)
    assert len(student.cells) == len(teacher.cells)
    assert student.metadata == teacher.metadata
    for mine, theirs in zip(student.cells, teacher.cells):
        assert mine.metadata == theirs.metadata  # nbgrader metadata kept for nbgrader users
        nbgrader = theirs.metadata.get("nbgrader", {})
        if nbgrader.get("solution") or nbgrader.get("grade"):
            assert theirs.outputs or nbgrader.get("solution")  # the checks had outputs to clear
            assert mine.outputs == [] and mine.execution_count is None
        else:
            assert mine.source == theirs.source
            assert mine.get("outputs") == theirs.get("outputs")
    assert (target / "data.csv").read_text(encoding="utf-8") == "x,y\n1,2\n"
    assert not (target / ".ipynb_checkpoints").exists()


def test_student_notebook_says_not_done_yet_instead_of_crashing(released, tmp_path):
    _, target = released
    student = nbformat.read(target / "exercises.ipynb", as_version=4)
    run_cells(student, tmp_path)  # raises CellExecutionError if any cell crashes
    checks = [cell for cell in student.cells if is_check(cell)]
    assert len(checks) == 2
    for cell, name in zip(checks, ["double", "square"]):
        assert f"{name}: … not done yet" in output_text(cell)


def test_filling_the_solutions_back_in_passes_every_check(released, tmp_path):
    source, target = released
    teacher = nbformat.read(source / "exercises.ipynb", as_version=4)
    student = nbformat.read(target / "exercises.ipynb", as_version=4)
    for mine, theirs in zip(student.cells, teacher.cells):
        mine.source = fill_in(mine.source, theirs.source)
        assert mine.source == theirs.source
    run_cells(student, tmp_path)
    checks = [output_text(cell) for cell in student.cells if is_check(cell)]
    assert checks == ["double: ✔ correct — well done.", "square: ✔ correct — well done."]


def test_release_refuses_to_overwrite_its_source(tmp_path):
    shutil.copy(FIXTURE, tmp_path / "exercises.ipynb")
    with pytest.raises(ReleaseError, match="must differ"):
        release(tmp_path, tmp_path)


def test_a_read_only_file_of_the_source_is_released_writable_and_released_again(tmp_path):
    """A teacher's folder kept read-only (``chmod -R a-w``, a read-only checkout): the release
    copied a data file with its mode, so the class got a file it could not save, and releasing
    again after editing a notebook stopped with a PermissionError for a teacher who is not root
    (CI runs as root, which ignores modes: the test looks at the mode bits)."""
    source = tmp_path / "hw"
    (source / "data").mkdir(parents=True)
    shutil.copy(FIXTURE, source / "exercises.ipynb")
    (source / "data" / "points.csv").write_text("1,2\n", encoding="utf-8")
    (source / "data" / "points.csv").chmod(0o444)
    released = tmp_path / "student" / "data" / "points.csv"
    for _ in range(2):
        release(source, tmp_path / "student")
        assert released.stat().st_mode & 0o200, oct(released.stat().st_mode)
        assert released.read_text(encoding="utf-8") == "1,2\n"
    assert not (source / "data" / "points.csv").stat().st_mode & 0o222  # the source as it was


def test_release_names_the_notebook_with_broken_markers(tmp_path, capsys):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION")])
    nbformat.write(notebook, tmp_path / "broken.ipynb")
    assert main(["release", str(tmp_path), str(tmp_path / "out")]) == 1
    assert "broken.ipynb" in capsys.readouterr().err


# --- nbgrader accepts the same sources ------------------------------------------------------


def nbgrader_release(notebooks: list[Path], course: Path) -> list[Path]:
    """Run `nbgrader generate_assignment` on ``notebooks`` in a throwaway course folder."""
    pytest.importorskip(
        "nbgrader", reason="nbgrader is not installed: pip install -e '.[instructor]'"
    )
    source = course / "source" / "ps1"
    source.mkdir(parents=True)
    for notebook in notebooks:
        shutil.copy(notebook, source / notebook.name)
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        "generate_assignment",
        "ps1",
        "--no-db",
        f"--CourseDirectory.root={course}",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, cwd=course, encoding="utf-8"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return sorted((course / "release" / "ps1").glob("*.ipynb"))


def test_nbgrader_generate_assignment_accepts_the_same_sources(tmp_path):
    """One nbgrader run (it is slow to start) over the fixture and every curriculum notebook."""
    released_notebooks = nbgrader_release([FIXTURE, *CURRICULUM], tmp_path)
    names = sorted(path.name for path in [FIXTURE, *CURRICULUM])
    assert [path.name for path in released_notebooks] == names
    for path in released_notebooks:
        assert "SOLUTION" not in path.read_text(encoding="utf-8"), path.name
    fixture_text = (tmp_path / "release" / "ps1" / FIXTURE.name).read_text(encoding="utf-8")
    for line in ["return 2 * x", "squared = x * x", "return squared"]:
        assert line not in fixture_text
    assert fixture_text.count("raise NotImplementedError()") == 2


# --- the curriculum -------------------------------------------------------------------------


@pytest.mark.parametrize("path", CURRICULUM, ids=[path.stem for path in CURRICULUM])
def test_curriculum_release(path, tmp_path):
    """Every exercise is well formed; the release hides its solution; the round trip is exact;
    the student version, beside the released mygrad.py, runs to the end without an error (a
    learner's Run All before solving anything: JupyterLab would stop at the first error), and
    its first check says "not done yet". The cell-by-cell checks read the release that keeps the
    worked answers (cell for cell the teacher's); the run is a class's, without them."""
    teacher = nbformat.read(path, as_version=4)
    student = student_notebook(teacher, keep_answers=True)
    solutions = 0
    for index, (mine, theirs) in enumerate(zip(student.cells, teacher.cells)):
        where = f"{path.name} cell {index}"
        regions = solution_regions(theirs.source)
        if regions:
            solutions += 1
            assert theirs.metadata.get("nbgrader", {}).get("solution"), f"{where}: no metadata"
            after = teacher.cells[index + 1]  # a graded check, or a challenge's self-check only
            self_check = "self-check" in after.metadata.get("tags", [])
            assert is_check(after) or self_check, f"{where}: next cell is not a check"
            assert "SOLUTION" not in mine.source
            top_level = [
                x for x in mine.source.splitlines() if x.startswith("raise NotImplementedError")
            ]
            assert not top_level, f"{where}: a solution region outside a function: {top_level}"
            # the stub says which exercise to do: the label of the last heading above it
            heading = [
                line
                for cell in teacher.cells[:index]
                if cell.cell_type == "markdown"
                for line in cell.source.splitlines()
                if line.startswith("#")
            ][-1]
            label = heading.lstrip("#").split(" · ")[0].strip()
            label = label if label.startswith("Exercise") else f"the {label}"
            assert f"is not written yet: do {label} above first" in mine.source, where
            for line in (line.strip() for region in regions for line in region):
                assert not line or line not in mine.source, f"{where}: {line!r} leaked"
        assert fill_in(mine.source, theirs.source) == theirs.source, where
        if is_check(theirs):
            points = theirs.metadata["nbgrader"].get("points", 0)
            assert points > 0, f"{where}: a check without points"
            assert "✔ correct" in output_text(theirs), f"{where}: stored check is not correct"
    assert 2 <= solutions <= 5, f"{path.name}: {solutions} exercises (2-4 and a challenge)"

    engine = (path.parent / "mygrad.py").read_text(encoding="utf-8")
    (tmp_path / "mygrad.py").write_text(
        strip_solutions(engine, fallback_name="mygrad"), encoding="utf-8"
    )
    student = student_notebook(teacher)  # a class's: each run of worked answers is one note
    stored = copy.deepcopy(student)
    run_cells(student, tmp_path)  # raises CellExecutionError at the first cell that fails
    first_check = next(cell for cell in student.cells if is_check(cell))
    assert "… not done yet" in output_text(first_check), output_text(first_check)
    # a check's message marks code with backquotes, which only its HTML renders: a cell that
    # prints one shows the learner the marks (`Tensor.__init__`); display(feedback) shows it
    printed = [(index, output.text) for index, cell in enumerate(student.cells)
               if cell.cell_type == "code" for output in cell.outputs
               if output.output_type == "stream"]  # fmt: skip
    marked = [(index, text) for index, text in printed if CODE_MARKS.search(text)]
    assert marked == [], f"{path.name}: printed backquotes (cell, text): {marked}"
    # every text output the release keeps is what the learner gets without any solution
    for index, (kept_cell, ran) in enumerate(zip(stored.cells, student.cells)):
        compared = "nbval-ignore-output" not in kept_cell.metadata.get("tags", [])
        if kept_cell.cell_type == "code" and kept_cell.outputs and compared:
            assert shown_text(kept_cell) == shown_text(ran), f"{path.name} cell {index}"


# --- outputs that depend on a solution ------------------------------------------------------


def test_a_cell_marked_solution_without_markers_is_replaced_whole():
    """nbgrader's "solution" flag on a cell with no BEGIN/END markers: all of it is the answer."""
    shown = [nbformat.v4.new_output("stream", name="stdout", text="6.0\n")]
    code = nbformat.v4.new_code_cell("def slope(x):\n    return 2 * x\nprint(slope(3.0))",
                                     outputs=shown, execution_count=4)  # fmt: skip
    code.metadata["nbgrader"] = {"solution": True, "grade_id": "slope"}
    text = nbformat.v4.new_markdown_cell("Because d(x**2)/dx = 2x.")
    text.metadata["nbgrader"] = {"solution": True, "grade_id": "why"}
    other = nbformat.v4.new_markdown_cell("Not an answer.")
    student = student_notebook(nbformat.v4.new_notebook(cells=[code, text, other]))
    assert student.cells[0].source == (
        '# YOUR CODE HERE\nraise NotImplementedError("slope is not written yet: do its exercise '
        'above first (your code replaces this line)")'
    )
    assert student.cells[0].outputs == [] and student.cells[0].execution_count is None
    assert student.cells[1].source == "YOUR ANSWER HERE"
    assert student.cells[2].source == "Not an answer."
    assert "2 * x" not in nbformat.writes(student) and "2x" not in nbformat.writes(student)


def test_outputs_after_a_solution_are_cleared_when_they_may_depend_on_it():
    """A later cell using the solution (directly, through a name it fed, or through a registry
    it was handed to) loses its stored outputs; an unrelated cell keeps them."""
    shown = [nbformat.v4.new_output("stream", name="stdout", text="shown\n")]

    def cell(source, **nbgrader):
        made = nbformat.v4.new_code_cell(source, outputs=list(shown))
        if nbgrader:
            made.metadata["nbgrader"] = nbgrader
        return made

    teacher = nbformat.v4.new_notebook(
        cells=[
            cell("import numpy as np\nprint(np.pi)"),  # 0: before any solution: kept
            cell(
                "def silu(x):\n    ### BEGIN SOLUTION\n    return x / (1 + np.exp(-x))\n"
                "    ### END SOLUTION",
                solution=True,
                grade_id="silu",
            ),
            cell("check(silu)", grade=True, grade_id="silu-check", points=1),
            cell("y = silu(np.arange(3.0))"),  # 3: uses the solution
            cell("print(y.round(3))"),  # 4: uses what 3 computed
            cell("registry.add('silu', silu)"),  # 5: hands it to an object ...
            cell("print(registry.lookup('silu'))"),  # 6: ... that later cells use
            cell("print(np.arange(3.0) ** 2)"),  # 7: unrelated: kept
            cell("%timeit x = 1"),  # 8: not plain Python: cleared, to be safe
        ]
    )
    student = student_notebook(teacher)
    kept = [bool(c.outputs) for c in student.cells]
    assert kept == [True, False, False, False, False, False, False, True, False]


def test_a_solutions_local_variables_do_not_clear_later_cells():
    """Names assigned inside a solution function live only during a call: a later cell that
    uses the same names for its own values keeps its outputs (notebook 10 lost 20 of its 24
    stored outputs to a local ``W``, ``a``, ``z`` and ``g``). What the function declares global,
    or changes through an attribute or an item, still counts."""
    shown = [nbformat.v4.new_output("stream", name="stdout", text="shown\n")]

    def cell(source, **nbgrader):
        made = nbformat.v4.new_code_cell(source, outputs=list(shown))
        if nbgrader:
            made.metadata["nbgrader"] = nbgrader
        return made

    solution = (
        "def push_back(x, weights, g):\n    ### BEGIN SOLUTION\n    global seen\n"
        "    seen = g\n    for W in weights:\n        z = x @ W.T\n    cache[0] = z\n"
        "    return (lambda a: a * z)(g)\n    ### END SOLUTION"
    )
    teacher = nbformat.v4.new_notebook(
        cells=[
            cell(solution, solution=True, grade_id="push_back"),
            cell("W = np.eye(3)\nprint(W)"),  # 1: its own W, z and a: kept
            cell("z = 2.0\na = [z]\nprint(a)"),  # 2: kept
            cell("print(seen)"),  # 3: declared global in the solution: cleared
            cell("print(cache)"),  # 4: changed by the solution: cleared
            cell("print(push_back)"),  # 5: the function itself: cleared
        ]
    )
    kept = [bool(c.outputs) for c in student_notebook(teacher).cells]
    assert kept == [False, True, True, False, False, False]


def test_curriculum_answers_are_not_left_in_stored_outputs():
    """Notebook 12 shows the SiLU and Huber curves the learner is asked to find: the student
    release keeps no output computed with them."""
    teacher = nbformat.read(ROOT / "notebooks" / "12_your_own_layers.ipynb", as_version=4)
    student = student_notebook(teacher)
    for mine, theirs in zip(student.cells, teacher.cells):
        uses = any(name in theirs.source for name in ("silu", "huber_loss", "adam_step"))
        if theirs.cell_type == "code" and uses:
            assert mine.outputs == [], theirs.source[:60]


def kept(*sources: str, solutions: tuple[int, ...] = (0,), **options) -> list[bool]:
    """Which of these code cells (each with one stored output) keep their output in the
    release; the cells at ``solutions`` are marked as solutions."""
    cells = []
    for index, source in enumerate(sources):
        shown = [nbformat.v4.new_output("stream", name="stdout", text="shown\n")]
        cell = nbformat.v4.new_code_cell(source, outputs=shown)
        if index in solutions:
            cell.metadata["nbgrader"] = {"solution": True, "grade_id": f"cell{index}"}
        cells.append(cell)
    student = student_notebook(nbformat.v4.new_notebook(cells=cells), **options)
    return [bool(cell.outputs) for cell in student.cells]


SILU = "def silu(x):\n    ### BEGIN SOLUTION\n    return x / (1 + np.exp(-x))\n    ### END SOLUTION"


def test_calling_into_a_module_with_a_solutions_value_does_not_clear_later_cells():
    """np.linalg.norm(W) does not change np, bl.cross_entropy(...) does not change bl: a later
    cell that only uses the modules keeps its output (notebook 09 kept 9 of its 28 stored
    outputs, 12 kept 5 of 29, because every later cell mentions np or bl)."""
    assert kept(
        SILU,
        "import numpy as np\nimport backproplab as bl\nfrom backproplab import nn",
        "y = silu(np.arange(3.0))",
        "print(np.linalg.norm(y), bl.mean(bl.Tensor(y)))",
        "print(np.pi, bl.Tensor(1.0), nn.Linear(2, 2, rng=0))",
    ) == [False, True, False, False, True]


def test_what_a_module_is_made_to_keep_stays_cleared():
    """A module changed with a solution's value (an attribute assigned, handed to setattr, a
    registry's register) clears every later cell that uses it or anything imported from the
    same package, even under another name."""
    later = ["print(bl.answer)", "import backproplab as again\nprint(again)", "print(nn)"]
    first = "import backproplab as bl\nfrom backproplab import nn\nimport numpy as np"
    changes = [
        "bl.answer = silu(1.0)",
        "setattr(bl, 'answer', silu(1.0))",
        "bl.symbolic.register('silu', lambda e: silu(e))",
        "from backproplab import symbolic\nsymbolic.register('silu', silu)",
    ]
    for change in changes:
        assert kept(SILU, first, change, *later) == [False, True, False, False, False, False]


def test_what_a_solution_changes_stays_cleared_and_what_it_does_not_change_is_kept():
    """A solution that appends to the list it is handed, or to a global list; a helper that
    stores the solution's value; a random generator a solution draws from: later cells that
    show them are cleared. An array the solution only reads is kept."""
    record = "def record(history, x):\n    ### BEGIN SOLUTION\n    history.append(x)\n    ### END SOLUTION"
    assert kept(record, "log = []", "record(log, 2.0)", "print(log)") == [False, True, False, False]
    remember = "def remember(x):\n    ### BEGIN SOLUTION\n    seen.append(x)\n    ### END SOLUTION"
    assert kept(remember, "print(seen)") == [False, False]
    sample = (
        "def sample(rng):\n    ### BEGIN SOLUTION\n    return rng.random()\n    ### END SOLUTION"
    )
    assert kept(
        sample, "rng = np.random.default_rng(0)", "print(sample(rng))", "print(rng.random())"
    ) == [False, True, False, False]
    assert kept(
        SILU,
        "import numpy as np\nnotes = []\ndef note(v):\n    notes.append(v)",
        "note(silu(1.0))",
        "print(notes)",
        "x = np.arange(3.0)",
        "print(silu(x))",
        "print(x)",
    ) == [False, True, False, False, True, False, True]


def test_a_function_that_reads_a_name_tainted_later_clears_its_callers():
    """``show`` is defined before ``y`` holds the solution's value, and reads it when called."""
    assert kept("def show():\n    print(y)", SILU, "y = silu(3.0)", "show()", solutions=(1,)) == [
        True,
        False,
        False,
        False,
    ]


def test_names_that_share_an_object_are_cleared_together():
    """``ax.plot(silu(xs))`` changes the figure ``fig`` shows; a slice of an array is the array."""
    assert kept(
        SILU,
        "fig, ax = plt.subplots()\nxs = np.linspace(-3, 3)\nview = xs[:10]",
        "ax.plot(xs, silu(xs))",
        "fig",
        "view[:] = silu(view)",
        "print(xs)",
    ) == [False, True, False, False, False, False]


def test_only_the_statements_that_use_a_solution_taint_what_they_bind():
    """A cell that uses a solution clears its own output, not the names its other statements
    bind; a name rebound later without a solution is clean again (notebook 09's X_batch)."""
    assert kept(
        SILU,
        "X_batch = np.ones(4)\ny = silu(X_batch)",
        "print(X_batch)",
        "print(y)",
        "y = np.zeros(3)\nprint(y)",
        "for y in (1.0, 2.0):\n    print(y)",
        "if silu(1.0) > 0:\n    z = 1\nprint(z)",
    ) == [False, False, True, False, True, True, False]


def test_a_loop_rebinds_its_target_for_its_body_only():
    """A loop over new values gives its body a clean target (notebook 12's ``for name, make in
    setups.items()`` after a cell whose ``name`` held a Huber fit); after a loop that may not
    run, the name may still hold the solution's value."""
    assert kept(
        SILU,
        "name = silu(1.0)",
        "for name in sorted(options):\n    print(name)",
        "print(name)",
        "for name in ('a', 'b'):\n    pass\nprint(name)",
    ) == [False, False, True, False, True]


def test_ipython_output_history_after_a_solutions_value_is_cleared():
    """``silu(2.0)`` shows its value, which IPython keeps as ``_`` and ``Out[n]``."""
    assert kept(SILU, "silu(2.0)", "print(_ * 2)", "print(Out[2])", "print(2)") == [
        False,
        False,
        False,
        False,
        True,
    ]


def test_an_import_of_a_module_holding_solutions_clears_what_uses_it(tmp_path):
    """The learner's engine mygrad.py holds solutions: an output computed with it is the
    finished engine's, cleared; so is one computed with any .py file of the released folder
    that has solution markers."""
    assert kept("import mygrad", "print(mygrad.Tensor(2.0) * 3)", "print(2 * 3)", solutions=()) == [
        False,
        False,
        True,
    ]
    assert kept("from mygrad import Tensor", "print(Tensor(2.0))", solutions=()) == [False, False]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "engine.py").write_text(MYGRAD, encoding="utf-8")
    cells = [
        nbformat.v4.new_code_cell(source, outputs=[nbformat.v4.new_output("stream", text="6\n")])
        for source in ("import engine", "print(engine.topo_order(6))", "print(6)")
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "src" / "uses.ipynb")
    release(tmp_path / "src", tmp_path / "out")
    student = nbformat.read(tmp_path / "out" / "uses.ipynb", as_version=4)
    assert [bool(cell.outputs) for cell in student.cells] == [False, False, True]


# What each notebook's class release keeps of its stored outputs, measured (class release, and
# the same with the worked answers kept). The rest: solution and check cells, worked answers,
# cells that run a solution, and four that do not but are cleared all the same: notebook 09's
# toposort listing (it reads `data`, which the mygrad training cell handed to the learner's
# engine), notebook 10's depth figure and gradient-flow explorer (they read `X_batch`, which the
# dead-units cell handed to `fit` under a check of `dead_fraction`) and its sympy cell (the
# explorer's dict holds `list(bl.widgets.INITS)` and is handed to the package).
KEPT_AT_LEAST = {
    "01": (19, 19),
    "02": (14, 14),
    "03": (11, 19),
    "04": (23, 23),
    "05": (7, 13),
    "06": (14, 16),
    "07": (15, 24),
    "08": (11, 17),
    "09": (15, 16),
    "10": (9, 10),
    "11": (11, 12),
    "12": (21, 22),
    "13": (10, 13),
    "14": (9, 12),
}


def test_every_curriculum_notebook_has_a_floor():
    assert sorted(path.name[:2] for path in CURRICULUM) == sorted(KEPT_AT_LEAST)


@pytest.mark.parametrize("number", sorted(KEPT_AT_LEAST))
def test_the_curriculum_release_keeps_what_no_solution_computed(number):
    """The release clears every output that may show a solution's value, deciding from the code
    (_dependence.py) and erring towards clearing: an edit to a notebook (a dict of colours handed
    to a plot, a loop over a solution's results) or to the dependence reading can silently clear
    many later outputs that no solution computed, and learners lose the figures and numbers the
    text talks about. Each notebook keeps at least what it kept when this was measured: a
    notebook that keeps fewer is looked at (is the cleared output really a solution's?) before
    its floor is lowered. Counted for a class (worked answers left out) and with the worked
    answers kept (the dependence reading alone)."""
    (path,) = [path for path in CURRICULUM if path.name.startswith(number)]
    teacher = nbformat.read(path, as_version=4)

    def outputs(notebook: nbformat.NotebookNode) -> int:
        return sum(bool(cell.get("outputs")) for cell in notebook.cells)

    counts = (
        outputs(student_notebook(teacher)),
        outputs(student_notebook(teacher, keep_answers=True)),
    )
    floor = KEPT_AT_LEAST[number]
    assert counts[0] >= floor[0] and counts[1] >= floor[1], (
        f"{path.name}: the release keeps {counts} of {outputs(teacher)} stored outputs, "
        f"at least {floor} before"
    )


# --- the learner's own .py files --------------------------------------------------------------

MYGRAD = '''"""The learner's engine."""


def topo_order(root):
    """Inputs before outputs."""
    ### BEGIN SOLUTION see notebook 04, exercise topo_order
    return [root]
    ### END SOLUTION


def helper(x):
    return x
'''


def test_release_stubs_solutions_in_py_files_and_copies_other_py_files(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "mygrad.py").write_text(MYGRAD, encoding="utf-8")
    (tmp_path / "src" / "plain.py").write_text("X = 1  # no solution here\n", encoding="utf-8")
    release(tmp_path / "src", tmp_path / "out")
    stubbed = (tmp_path / "out" / "mygrad.py").read_text(encoding="utf-8")
    assert "return [root]" not in stubbed and "SOLUTION" not in stubbed
    assert (
        '    raise NotImplementedError("topo_order: your code goes here, see notebook 04, '
        'exercise topo_order")' in stubbed
    )
    assert stubbed.endswith("def helper(x):\n    return x\n")  # the rest unchanged
    plain = (tmp_path / "out" / "plain.py").read_text(encoding="utf-8")
    assert plain == "X = 1  # no solution here\n"
    namespace: dict = {}
    exec(compile(stubbed, "mygrad.py", "exec"), namespace)  # still valid Python
    with pytest.raises(NotImplementedError, match="see notebook 04"):
        namespace["topo_order"](None)


def test_release_names_the_py_file_with_broken_markers(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "mygrad.py").write_text(
        "def f():\n    ### BEGIN SOLUTION\n    pass\n", encoding="utf-8"
    )
    with pytest.raises(ReleaseError, match="mygrad.py.*never ended"):
        release(tmp_path / "src", tmp_path / "out")


def test_the_released_engine_file_hands_out_no_solution_elsewhere_in_it():
    """No solution region of notebooks/mygrad.py stands, word for word, in the code the release
    keeps. (Before: Adam.zero_grad, given complete, was the answer to SGD.zero_grad's stub.)"""
    teacher = (ROOT / "notebooks" / "mygrad.py").read_text(encoding="utf-8")
    student = strip_solutions(teacher)
    kept = [line.strip() for line in student.splitlines()]
    for region in solution_regions(teacher):
        body = [
            line.strip() for line in region if line.strip() and not line.strip().startswith("#")
        ]
        if len(body) < 2:
            continue  # one line (return x) may well stand elsewhere without giving anything away
        runs = [kept[i : i + len(body)] for i in range(len(kept) - len(body) + 1)]
        assert body not in runs, f"the release keeps a solution outside its region: {body}"


# --- marker forms and output kinds the release must not let through --------------------------


def test_markers_with_windows_line_endings_or_tabs_are_stubbed_all_the_same():
    """A cell saved with CRLF line endings (its markers end in "\\r") or indented with tabs:
    the solution goes, and the stub is valid Python that says "not written yet"."""
    for newline, indent in (("\r\n", "    "), ("\n", "\t"), ("\r\n", "\t")):
        source = newline.join(
            ["def double(x):", f"{indent}### BEGIN SOLUTION", f"{indent}return 2 * x",
             f"{indent}### END SOLUTION  ", ""]
        )  # fmt: skip
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"solution": True, "grade_id": "double"}
        student = student_notebook(nbformat.v4.new_notebook(cells=[cell]))
        assert "2 * x" not in student.cells[0].source and "SOLUTION" not in student.cells[0].source
        namespace: dict = {}
        exec(student.cells[0].source, namespace)
        with pytest.raises(NotImplementedError, match="double is not written yet"):
            namespace["double"](1)


def test_a_markdown_answer_region_in_a_notebook_becomes_your_answer_here():
    text = nbformat.v4.new_markdown_cell(
        "Why is the slope 2x?\n\n### BEGIN SOLUTION\nBecause d(x**2)/dx = 2x.\n### END SOLUTION"
    )
    text.metadata["nbgrader"] = {"solution": True, "grade_id": "why"}
    student = student_notebook(nbformat.v4.new_notebook(cells=[text]))
    assert student.cells[0].source == "Why is the slope 2x?\n\nYOUR ANSWER HERE"


def test_a_check_cells_outputs_go_even_when_it_names_no_solution():
    """A check that finds the learner's answer by itself (``check_all()``) printed "correct"
    with the teacher's solution: its stored output goes, like every check's."""
    shown = [nbformat.v4.new_output("stream", name="stdout", text="double: ✔ correct\n")]
    check = nbformat.v4.new_code_cell("check_all()", outputs=shown, execution_count=3)
    check.metadata["nbgrader"] = {"grade": True, "grade_id": "double-check", "points": 1}
    student = student_notebook(nbformat.v4.new_notebook(cells=[check]))
    assert student.cells[0].outputs == [] and student.cells[0].execution_count is None


def test_a_solution_cell_without_markers_clears_the_outputs_computed_with_it():
    shown = [nbformat.v4.new_output("stream", name="stdout", text="6.0\n")]
    solution = nbformat.v4.new_code_cell("def slope(x):\n    return 2 * x")
    solution.metadata["nbgrader"] = {"solution": True, "grade_id": "slope"}
    later = nbformat.v4.new_code_cell("print(slope(3.0))", outputs=shown, execution_count=2)
    student = student_notebook(nbformat.v4.new_notebook(cells=[solution, later]))
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None


def test_a_region_at_the_top_level_is_not_named_after_a_function_above_it():
    source = "def helper(x):\n    return x\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"
    stubbed = strip_solutions(source, fallback_name="answer-cell")
    assert stubbed.endswith('raise NotImplementedError("answer-cell: your code goes here")')


def test_every_kind_of_output_a_solution_produced_goes():
    """stream, execute_result, display_data and error (a traceback naming the answer's values)."""
    outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="6.0\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "6.0"}, execution_count=2),
        nbformat.v4.new_output("display_data", data={"text/plain": "6.0"}),
        nbformat.v4.new_output("error", ename="ValueError", evalue="6.0", traceback=["6.0"]),
    ]
    solution = nbformat.v4.new_code_cell(SILU)
    solution.metadata["nbgrader"] = {"solution": True, "grade_id": "silu"}
    for output in outputs:
        later = nbformat.v4.new_code_cell("silu(3.0)", outputs=[output], execution_count=2)
        student = student_notebook(nbformat.v4.new_notebook(cells=[solution, later]))
        assert student.cells[1].outputs == [], output.output_type


def test_the_saved_widget_state_of_a_worked_answer_goes_with_it():
    """A worked answer that showed a widget: the notebook's widget metadata kept what it showed."""
    view = {"model_id": "aa01", "version_major": 2, "version_minor": 0}
    shown = nbformat.v4.new_output(
        "display_data", data={"application/vnd.jupyter.widget-view+json": view}
    )
    answer = nbformat.v4.new_code_cell("show_answer()", outputs=[shown])
    answer.metadata["tags"] = ["worked-answer"]
    notebook = nbformat.v4.new_notebook(cells=[answer])
    state = {"aa01": {"model_name": "OutputModel", "state": {"outputs": ["the answer: 6.0"]}}}
    notebook.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": state, "version_major": 2}
    }
    student = student_notebook(notebook)
    assert "the answer" not in nbformat.writes(student)
    assert student_notebook(notebook, keep_answers=True).metadata == notebook.metadata


def test_a_magic_after_an_import_of_the_learners_engine_is_cleared():
    """``%time`` is not plain Python: after ``import mygrad`` (the finished engine, in a notebook
    with no solution cell) it may show what the engine computed. Before it, a magic is kept."""
    assert kept("%time 2 * 3", "import mygrad", "%time mygrad.Tensor(2.0) * 3", solutions=()) == [
        True,
        False,
        False,
    ]


def test_a_magic_after_a_solution_cell_that_binds_nothing_is_cleared():
    """A solution cell that only prints what it computed binds no name, and still a later cell
    that is not plain Python may show it: ``%history`` prints the solution's own code."""
    solution = "### BEGIN SOLUTION\nprint((3 * 1.001**2 - 3 * 0.999**2) / 0.002)\n### END SOLUTION"
    assert kept(solution, "%history -n", "print(2 * 3)") == [False, False, True]


def test_ipython_numbered_output_history_after_a_solutions_value_is_cleared():
    """``_2`` is IPython's name for ``Out[2]``, the value ``silu(2.0)`` showed."""
    assert kept(SILU, "silu(2.0)", "print(_2 * 2)", "print(2)") == [False, False, False, True]


def test_numpy_calls_that_write_into_an_array_taint_it():
    """``np.copyto(buf, y)`` and ``np.multiply(y, 2, out=out)`` put the solution's value into
    ``buf`` and ``out``; ``np.multiply(y, 2)`` alone changes nothing."""
    assert kept(
        SILU,
        "import numpy as np\ny = silu(np.arange(3.0))\nbuf = np.zeros(3)\nout = np.zeros(3)\nz = np.zeros(3)",
        "np.copyto(buf, y)",
        "np.multiply(y, 2, out=out)",
        "w = np.multiply(y, z)",
        "print(buf)",
        "print(out)",
        "print(z)",
    ) == [False, False, False, False, False, False, False, True]


def test_a_loops_second_pass_reads_what_its_first_pass_bound():
    """``before`` holds, from the second pass on, the solution's value of the pass before."""
    assert kept(
        SILU,
        "last = 0.0",
        "for x in (1.0, 2.0):\n    before = last\n    last = silu(x)",
        "print(before)",
    ) == [False, True, False, False]


def test_what_a_try_block_that_calls_a_solution_binds_is_tainted():
    """Whether ``works`` is True or False tells whether the solution raised."""
    assert kept(
        SILU,
        "try:\n    silu('a')\n    works = True\nexcept TypeError:\n    works = False",
        "print(works)",
    ) == [False, False, False]


def test_what_a_top_level_solution_changes_is_tainted_even_through_a_clean_name():
    """A solution region at the top of a cell: ``weights`` was clean, the solution's call
    changed it."""
    solution = "### BEGIN SOLUTION\nweights.append(0.5)\n### END SOLUTION"
    assert kept("weights = []", solution, "print(weights)", solutions=(1,)) == [True, False, False]


def test_a_solution_that_changes_its_argument_in_a_nested_function_taints_the_callers():
    fill = (
        "def fill(xs):\n    ### BEGIN SOLUTION\n    def add():\n        nonlocal xs\n"
        "        xs += [1.0]\n    add()\n    ### END SOLUTION"
    )
    assert kept(fill, "log = []", "fill(log)", "print(log)") == [False, True, False, False]


def test_a_solution_that_changes_an_argument_passed_by_keyword_unpacking_taints_it():
    """``record(**opts)`` hands ``log`` to ``history``; ``keep(into=log)`` to ``**kw``."""
    record = "def record(history, x):\n    ### BEGIN SOLUTION\n    history.append(x)\n    ### END SOLUTION"
    assert kept(
        record, "log = []\nopts = {'history': log, 'x': 2.0}", "record(**opts)", "print(log)"
    ) == [False, True, False, False]
    keep = "def keep(**kw):\n    ### BEGIN SOLUTION\n    kw['into'].append(1)\n    ### END SOLUTION"
    assert kept(keep, "log = []", "keep(into=log)", "print(log)") == [False, True, False, False]


def test_an_augmented_assignment_in_a_solution_changes_the_callers_array():
    """``W -= 0.1 * dW`` (an optimizer's step) changes the caller's array in place; so does a
    loop's ``W -= ...`` over a list of arrays, and with it every name that shares one."""
    step = "def step(W, dW):\n    ### BEGIN SOLUTION\n    W -= 0.1 * dW\n    ### END SOLUTION"
    assert kept(step, "W = np.ones(2)", "step(W, np.ones(2))", "print(W)") == [
        False,
        True,
        False,
        False,
    ]
    assert kept(
        SILU,
        "import numpy as np\nweights = [np.ones(2)]\nV = weights[0]",
        "for W in weights:\n    W -= silu(W)",
        "print(weights)",
        "print(V)",
    ) == [False, True, False, False, False]


def test_a_release_into_a_folder_inside_the_source_skips_the_earlier_release(tmp_path):
    """``release notebooks/ notebooks/student/`` a second time: the first release's files are
    not released again into notebooks/student/student/."""
    shutil.copy(FIXTURE, tmp_path / "exercises.ipynb")
    for _ in range(2):
        written = release(tmp_path, tmp_path / "student")
        assert written == [tmp_path / "student" / "exercises.ipynb"]
    assert sorted(p.name for p in (tmp_path / "student").iterdir()) == ["exercises.ipynb"]


def test_the_earlier_release_is_skipped_with_folders_named_from_here(tmp_path, monkeypatch):
    """The same, as a teacher types it in the folder: ``release notebooks notebooks/student``
    (relative names: the earlier release is found all the same)."""
    (tmp_path / "notebooks").mkdir()
    shutil.copy(FIXTURE, tmp_path / "notebooks" / "exercises.ipynb")
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert release("notebooks", "notebooks/student") == [
            Path("notebooks/student/exercises.ipynb")
        ]
    assert [p.name for p in (tmp_path / "notebooks" / "student").iterdir()] == ["exercises.ipynb"]


def test_a_file_with_a_solution_marker_that_is_no_notebook_or_py_file_is_refused(tmp_path):
    """An editor's backup ``mygrad.py~`` holds the solutions: copied, it would hand them out."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "mygrad.py~").write_text(MYGRAD, encoding="utf-8")
    with pytest.raises(ReleaseError, match=r"mygrad\.py~ holds a solution marker"):
        release(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out" / "mygrad.py~").exists()


def test_a_source_under_version_control_hands_out_none_of_its_history(tmp_path):
    """A teacher's folder that is a git, Mercurial or Subversion checkout holds every solution
    again in its history: git's objects and Mercurial's revlogs compressed (no marker to see),
    Subversion's pristine copies as text. None of it is released, and none of it stops the
    release."""
    import zlib

    source = tmp_path / "src"
    history = {
        ".git/objects/3f/1a2b4c": zlib.compress(MYGRAD.encode()),
        ".hg/store/data/mygrad.py.i": zlib.compress(MYGRAD.encode()),
        ".svn/pristine/3f/3f1a2b4c.svn-base": MYGRAD.encode(),
    }
    for name, data in history.items():
        (source / name).parent.mkdir(parents=True)
        (source / name).write_bytes(data)
    (source / "mygrad.py").write_text(MYGRAD, encoding="utf-8")
    release(source, tmp_path / "out")
    released = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*"))
    assert released == ["mygrad.py"]


def test_compiled_files_and_editor_folders_anywhere_in_the_source_are_not_released(tmp_path):
    """``mygrad.pyc`` is the finished engine compiled (its comments, markers too, are gone); a
    sub-folder's ``.ipynb_checkpoints`` holds a teacher's notebook as it was."""
    import py_compile

    source = tmp_path / "src"
    (source / "part2" / ".ipynb_checkpoints").mkdir(parents=True)
    (source / "mygrad.py").write_text(MYGRAD, encoding="utf-8")
    py_compile.compile(str(source / "mygrad.py"), cfile=str(source / "mygrad.pyc"))
    shutil.copy(FIXTURE, source / "part2" / ".ipynb_checkpoints" / "exercises-checkpoint.ipynb")
    release(source, tmp_path / "out")
    released = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*"))
    assert released == ["mygrad.py"]
