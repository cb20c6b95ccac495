"""A teacher's own exercises, in a notebook of their own, without editing the package.

docs/teaching.md, "Exercises of your own", shows one notebook with a check for each way a
teacher writes one: a check function in a cell of the notebook, one in a module of the
teacher's beside it (`mychecks.py`), `assert`s with hidden tests (nbgrader's way) and a check
of the package's reused. The test builds that notebook from the page's code blocks, releases
it, grades the page's class, and compares what the commands print with the page. Before the fix
the module of checks was not found in the grader (every student 0, "NameError: name 'mychecks'
is not defined"), an assert cell was refused ("does not end in an expression"), and the release
handed the hidden tests out.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

from backproplab.classroom.__main__ import main
from backproplab.classroom.release import ReleaseError, release

ROOT = Path(__file__).resolve().parents[1]
TEACHING = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
SECTION = TEACHING[
    TEACHING.index("## Exercises of your own\n") : TEACHING.index("## Adding an exercise\n")
]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", SECTION, flags=re.S)


def teacher_folder(folder: Path) -> None:
    """hw1.ipynb and mychecks.py, from the page's Python blocks (their first line says what)."""
    folder.mkdir()
    cells = []
    for block in blocks("python"):
        label = block.split("\n", 1)[0]
        if label.startswith("# mychecks.py"):
            (folder / "mychecks.py").write_text(block, encoding="utf-8")
            continue
        cell = nbformat.v4.new_code_cell(block.rstrip("\n"))
        solution = re.match(r"# solution (\S+)$", label)
        check = re.match(r"# check (\S+), (\d+) points?$", label)
        if solution:
            cell.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False,
                                         "grade_id": solution[1], "schema_version": 3}  # fmt: skip
        elif check:
            cell.metadata["nbgrader"] = {"solution": False, "grade": True, "locked": True,
                                         "grade_id": check[1], "points": int(check[2]),
                                         "schema_version": 3}  # fmt: skip
        else:
            assert label.startswith("# setup"), label
        cells.append(cell)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "hw1.ipynb")


ALAN = {
    "softsign_vjp": "return 1 / (1 + np.abs(x)) ** 2",
    "linear_db": "return G.mean(axis=0)",
    "softplus_slope": "return np.exp(x)",
    "weight_grad": "return X.T @ G",
}
MALLORY_CELL = """def check_softsign_vjp(fn):
    return correct("softsign_vjp")

import backproplab.exercises
backproplab.exercises.hint = backproplab.exercises.correct"""
MALLORY_CHECKS = """from backproplab.exercises import correct

def check_linear_db(fn):
    return correct("linear_db")
"""


def answered(release: Path, bodies: dict[str, str]) -> nbformat.NotebookNode:
    notebook = nbformat.read(release / "hw1.ipynb", as_version=4)
    for cell in notebook.cells:
        name = re.match(r"(?:# .*\n)?def (\w+)\(", cell.source)
        if name and name[1] in bodies:
            stub = re.compile(r"# YOUR CODE HERE\n(\s*)raise NotImplementedError\(.*\)")
            body = bodies[name[1]]
            cell.source = stub.sub(lambda _, body=body: body, cell.source)
            assert body in cell.source
    return notebook


def hand_in(folder: Path, notebook: nbformat.NotebookNode, release: Path) -> None:
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "hw1.ipynb")
    shutil.copy(release / "mychecks.py", folder)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("own")
    teacher, release, submitted = tmp / "hw1", tmp / "hw1-student", tmp / "submitted"
    teacher_folder(teacher)
    assert main(["release", str(teacher), str(release)]) == 0
    hand_in(submitted / "ada", nbformat.read(teacher / "hw1.ipynb", as_version=4), release)
    hand_in(submitted / "alan", answered(release, ALAN), release)
    hand_in(submitted / "grace", answered(release, {}), release)
    mallory = answered(release, ALAN)
    mallory.cells.insert(1, nbformat.v4.new_code_cell(MALLORY_CELL))
    mallory.cells = [c for c in mallory.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    hand_in(submitted / "mallory", mallory, release)
    (submitted / "mallory" / "mychecks.py").write_text(MALLORY_CHECKS, encoding="utf-8")
    return teacher, release, submitted, tmp


def test_the_release_hands_out_stubs_and_no_hidden_test(graded):
    _, release, _, _ = graded
    text = (release / "hw1.ipynb").read_text(encoding="utf-8")
    assert text.count("raise NotImplementedError") == 4
    assert "HIDDEN TESTS" not in text and "not the slope yet" not in text
    assert "return 1 / (1 + np.exp(-x))" not in text and "G.T @ X" not in text
    assert "G.sum(axis=0)" not in text
    assert "must have the shape of x" in text  # the visible test stays
    assert "# (hidden tests, not in this copy, run when your work is graded)" in text
    assert (release / "mychecks.py").is_file()


def test_grading_with_the_release_as_source_is_refused_when_it_lost_hidden_tests(graded, capsys):
    """With the release as --source, the hidden tests did not run: a student whose answer fails
    them scored full, and nothing said so."""
    _, release, submitted, _ = graded
    assert main(["grade", str(submitted), "--source", str(release)]) != 0
    said = capsys.readouterr().err
    assert f"grade: {release} is a student release: the hidden tests of " in said
    assert (
        "hw1-softplus_slope-check are not in it; grade with your own notebooks as --source" in said
    )


def test_the_pages_class_scores_as_the_page_says(graded, capsys):
    teacher, _, submitted, tmp = graded
    capsys.readouterr()
    command = ["grade", str(submitted), "--source", str(teacher), "--timeout", "60"]
    assert main([*command, "--jobs", "2", "--feedback", str(tmp / "feedback")]) == 0
    table = capsys.readouterr().out.split("\nfeedback for each student")[0]
    shown = blocks("text")
    draw = re.compile(r"(--check-draw )\d+")  # a fresh draw each grading
    assert draw.sub(r"\1N", table.rstrip("\n")) == draw.sub(r"\1N", shown[0].rstrip("\n"))
    rows = table.split("\n\n")[0].splitlines()[2:]  # (the summary by exercise follows)
    scores = {line.split()[0]: line.split()[5] for line in rows}
    assert scores == {"ada": "4", "alan": "0", "grace": "0", "mallory": "0"}
    feedback = (tmp / "feedback" / "alan.txt").read_text(encoding="utf-8")
    assert feedback.rstrip("\n") == shown[1].rstrip("\n")


def test_the_pages_rehearsal_is_what_rehearse_prints(graded, capsys):
    teacher, _, _, _ = graded
    capsys.readouterr()
    assert main(["rehearse", str(teacher)]) == 0
    rehearsals = [textwrap.dedent(b) for b in blocks("text") if "classroom rehearse" in b]
    (shown,) = rehearsals  # (the page shows it inside a list item: indented)
    command, _, output = shown.partition("\n")
    assert command == "$ python -m backproplab.classroom rehearse hw1/"
    assert capsys.readouterr().out == output


class Answers:
    """A stand-in for the grader's session: calls the 'student's' functions of ``answers``."""

    def __init__(self, answers):
        self.answers, self.package_calls, self.package_uses = answers, [], []

    def call(self, name, args, kwargs):
        return self.answers[name](*args, **kwargs)


def teacher_of(*cells: tuple[str, dict]) -> object:
    from backproplab.classroom._source import teacher_notebook

    notebook = nbformat.v4.new_notebook()
    for source, meta in cells:
        notebook.cells.append(nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta}))
    return teacher_notebook("own.ipynb", notebook)


SOLUTION = ("def slope(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            {"solution": True, "grade_id": "slope"})  # fmt: skip
ASSERTS = ("assert np.allclose(slope(np.arange(3.0)), [0, 2, 4]), 'not twice x'",
           {"grade": True, "grade_id": "slope-check", "points": 2})  # fmt: skip


def evaluate(teacher, answer):
    from backproplab.classroom._check import evaluate_check

    return evaluate_check(teacher.checks[0], teacher, Answers({"slope": answer}))


def stub(x):
    raise NotImplementedError("slope is not written yet: do Exercise 1 above first")


@pytest.mark.parametrize(
    "answer, status, score, message",
    [
        (lambda x: 2 * x, "correct", 2, "every test of the check passed"),
        (lambda x: 3 * x, "hint", 0, "not twice x"),
        (stub, "not done", 0, "replace `raise NotImplementedError`"),
        (lambda x: x[5], "hint", 0, "the check raised IndexError"),
    ],
)
def test_an_assert_check_scores_as_nbgrader_scores_it(answer, status, score, message):
    """It was refused for every student: "the teacher's check cell does not end in an
    expression"."""
    result = evaluate(teacher_of(("import numpy as np", {}), SOLUTION, ASSERTS), answer)
    assert (result.status, result.score) == (status, score)
    assert message in result.message


def test_a_failed_assert_without_a_message_names_the_test_unless_it_is_hidden():
    """It said only "a test of the check failed": the student could not tell which."""
    check = ("x = np.arange(3.0)\nassert slope(x).shape == x.shape\n"
             "assert np.allclose(slope(x), 2 * x)\n### BEGIN HIDDEN TESTS\n"
             "assert np.allclose(slope(-x), -2 * x)\n### END HIDDEN TESTS", ASSERTS[1])  # fmt: skip
    teacher = teacher_of(("import numpy as np", {}), SOLUTION, check)
    said = {
        "`assert np.allclose(slope(x), 2 * x)` failed.": lambda x: x,
        "a hidden test failed.": lambda x: 2 * np.abs(x),
        "the check raised IndexError: index 5 is out of bounds for axis 0 with size 3 "
        "(`assert slope(x).shape == x.shape`)": lambda x: x[5],
    }
    for message, answer in said.items():
        result = evaluate(teacher, answer)
        assert (result.status, result.message) == ("hint", f"slope: ✘ not yet — {message}")


def test_a_check_cell_with_neither_a_check_nor_an_assert_is_the_teachers_error():
    check = ("ok = slope(1.0) == 2", ASSERTS[1])
    result = evaluate(teacher_of(("import numpy as np", {}), SOLUTION, check), lambda x: 2 * x)
    assert result.status == "error" and "nor holds an `assert`" in result.message


def test_an_import_that_fails_in_an_assert_cell_is_the_teachers_error():
    # before: the student's hint "the check raised ModuleNotFoundError ...", 0 points, as if
    # their answer had failed the test
    check = ("import not_a_module_anywhere\nassert slope(1.0) == 2", ASSERTS[1])
    result = evaluate(teacher_of(("import numpy as np", {}), SOLUTION, check), lambda x: 2 * x)
    assert result.status == "error"
    assert result.message.startswith("the check failed in the grader: ModuleNotFoundError")


def test_a_module_of_checks_not_beside_the_notebook_is_named(tmp_path):
    """`import mychecks` failed silently in the grader; the check then said only "name
    'mychecks' is not defined"."""
    from backproplab.classroom._check import evaluate_check
    from backproplab.classroom._source import load_source

    teacher_folder(tmp_path / "hw1")
    (tmp_path / "hw1" / "mychecks.py").rename(tmp_path / "mychecks.py")  # not beside it
    teacher = load_source(tmp_path / "hw1")[0]
    check = next(c for c in teacher.checks if c.grade_id == "hw1-linear_db-check")
    result = evaluate_check(check, teacher, Answers({"linear_db": lambda G: G.sum(axis=0)}))
    assert result.status == "error"
    assert "`import mychecks` failed in the grader: ModuleNotFoundError" in result.message
    assert "a .py file beside the notebook" in result.message


def test_the_grader_loads_the_teachers_module_not_one_on_its_path(tmp_path, monkeypatch):
    """A `mychecks` importable from the grader's path (a student's, say) is not the one used."""
    from backproplab.classroom._check import evaluate_check
    from backproplab.classroom._source import load_source

    teacher_folder(tmp_path / "hw1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "mychecks.py").write_text(MALLORY_CHECKS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(elsewhere))
    teacher = load_source(tmp_path / "hw1")[0]
    check = next(c for c in teacher.checks if c.grade_id == "hw1-linear_db-check")
    wrong = evaluate_check(check, teacher, Answers({"linear_db": lambda G: G.sum(axis=0) / 4}))
    right = evaluate_check(check, teacher, Answers({"linear_db": lambda G: G.sum(axis=0)}))
    assert (wrong.status, right.status) == ("hint", "correct")
    assert np.isclose(right.score, 1.0)


@pytest.mark.parametrize(
    "source",
    [
        "a\n### BEGIN HIDDEN TESTS\nb",
        "a\n### END HIDDEN TESTS",
        "### BEGIN HIDDEN TESTS\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS",
    ],  # fmt: skip
)
def test_a_broken_hidden_tests_region_stops_the_release(source):
    from backproplab.classroom.release import ReleaseError, strip_hidden_tests

    with pytest.raises(ReleaseError, match="HIDDEN TESTS"):
        strip_hidden_tests(source)


def test_hidden_tests_go_with_their_markers():
    from backproplab.classroom.release import strip_hidden_tests

    text = "a\n    ### BEGIN HIDDEN TESTS\n    b\n    ### END HIDDEN TESTS\nc"
    note = "# (hidden tests, not in this copy, run when your work is graded)"
    assert strip_hidden_tests(text) == f"a\n    {note}\nc"


def write_notebook(path: Path, *cells: tuple[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook()
    for source, meta in cells:
        notebook.cells.append(nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta}))
    nbformat.write(notebook, path)


def solution(name: str) -> tuple[str, dict]:
    return (f"def {name}(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION",
            {"solution": True, "grade_id": name})  # fmt: skip


def check_cell(name: str, source: str) -> tuple[str, dict]:
    return source, {"grade": True, "grade_id": f"{name}-check", "points": 1}


CHECKS_WITH_HELPERS = """from backproplab.exercises import correct, hint
{top}

def check(fn, name):
    {inside}
    got = fn(0.0)
    return correct(name) if got == helpers.WANT else hint(name, f"{{got}}, not {{helpers.WANT}}")
"""


def test_each_folder_gets_the_modules_beside_its_notebook(tmp_path):
    """Two notebooks in two folders, each with a mychecks.py importing its own helpers.py: the
    second notebook's checks used the first one's helpers (found under the plain name
    `helpers` in sys.modules), and a student answering the second one right scored 0."""
    from backproplab.classroom._check import evaluate_check
    from backproplab.classroom._source import load_source

    for letter, want, top, inside in (("a", 1.0, "import helpers", ""),
                                      ("b", 2.0, "", "import helpers")):  # fmt: skip
        folder = tmp_path / f"hw{letter}"
        write_notebook(folder / f"hw{letter}.ipynb", ("import mychecks", {}),
                       solution(f"f{letter}"),
                       check_cell(f"f{letter}", f"mychecks.check(f{letter}, 'f{letter}')"))  # fmt: skip
        checks = CHECKS_WITH_HELPERS.format(top=top, inside=inside)
        (folder / "mychecks.py").write_text(checks, encoding="utf-8")
        (folder / "helpers.py").write_text(f"WANT = {want}\n", encoding="utf-8")
    first, second = load_source(tmp_path)
    for teacher, right, wrong in ((first, 1.0, 2.0), (second, 2.0, 1.0)):
        name = teacher.functions[0]
        for answer, status in ((right, "correct"), (wrong, "hint")):
            result = evaluate_check(
                teacher.checks[0], teacher, Answers({name: lambda x, a=answer: a})
            )
            assert result.status == status, (name, answer, result.message)


def test_a_helper_imported_inside_a_check_is_loaded_before_any_kernel_starts(tmp_path):
    """`import helpers` inside a function of mychecks.py was loaded at the first check, after
    kernels had run: a kernel that rewrote the teacher's helpers.py (a source folder it can
    write to) set what the check compares with."""
    from backproplab.classroom._check import evaluate_check, setup_namespace
    from backproplab.classroom._source import load_source

    write_notebook(tmp_path / "hw.ipynb", ("import mychecks", {}), solution("fh"),
                   check_cell("fh", "mychecks.check(fh, 'fh')"))  # fmt: skip
    checks = CHECKS_WITH_HELPERS.format(top="", inside="import helpers")
    (tmp_path / "mychecks.py").write_text(checks, encoding="utf-8")
    (tmp_path / "helpers.py").write_text("WANT = 1.0\n", encoding="utf-8")
    (teacher,) = load_source(tmp_path)
    assert set(teacher.own_modules) == {"mychecks", "helpers"}
    setup_namespace(teacher)  # what grade_folder does before the first kernel
    (tmp_path / "helpers.py").write_text("WANT = 0.0\n", encoding="utf-8")  # a kernel's doing
    cheat = evaluate_check(teacher.checks[0], teacher, Answers({"fh": lambda x: 0.0}))
    right = evaluate_check(teacher.checks[0], teacher, Answers({"fh": lambda x: 1.0}))
    assert (cheat.status, right.status) == ("hint", "correct"), cheat.message


def test_a_check_cell_that_imports_the_module_of_checks_itself(tmp_path):
    """`from mychecks import check_c` in the check cell, and in no other cell: "the check failed
    in the grader: ModuleNotFoundError: No module named 'mychecks'" for every student."""
    from backproplab.classroom._check import evaluate_check
    from backproplab.classroom._source import load_source

    write_notebook(tmp_path / "hw.ipynb", solution("fc"),
                   check_cell("fc", "from mychecks import check_c\ncheck_c(fc)"))  # fmt: skip
    (tmp_path / "mychecks.py").write_text(
        "from backproplab.exercises import correct, hint\n\n"
        "def check_c(fn):\n    return correct('fc') if fn(0.0) == 3.0 else hint('fc', 'no')\n",
        encoding="utf-8",
    )
    (teacher,) = load_source(tmp_path)
    right = evaluate_check(teacher.checks[0], teacher, Answers({"fc": lambda x: 3.0}))
    wrong = evaluate_check(teacher.checks[0], teacher, Answers({"fc": lambda x: 0.0}))
    assert (right.status, wrong.status) == ("correct", "hint"), right.message


def test_a_module_of_checks_that_mentions_the_stub_is_the_teachers(tmp_path):
    """refs.py, whose docstring says "YOUR CODE HERE", was read as a module the learner writes:
    an assert comparing with `refs.reference(x)` called the student's copy of refs.py in their
    kernel, and a student whose copy answered as their function did scored full points."""
    from backproplab.classroom._check import evaluate_check
    from backproplab.classroom._source import load_source

    write_notebook(tmp_path / "hw.ipynb", ("import numpy as np\nimport refs", {}),
                   solution("fd"),
                   check_cell("fd", "x = np.arange(3.0)\nassert np.allclose(fd(x), refs.reference(x))"))  # fmt: skip
    (tmp_path / "refs.py").write_text(
        'def reference(x):\n    """Not a stub: the student writes where YOUR CODE HERE is."""\n'
        "    return 4 * x\n",
        encoding="utf-8",
    )
    (teacher,) = load_source(tmp_path)
    theirs = {"refs.reference": lambda x: 0 * x}  # the student's copy of refs.py, edited
    wrong = evaluate_check(teacher.checks[0], teacher, Answers({"fd": lambda x: 0 * x, **theirs}))
    right = evaluate_check(teacher.checks[0], teacher, Answers({"fd": lambda x: 4 * x, **theirs}))
    assert (wrong.status, wrong.score, right.status) == ("hint", 0.0, "correct")


def test_a_check_cell_importing_the_learners_module_never_gets_the_teachers(tmp_path):
    """The teacher's mygrad.py (with its solutions) beside the notebook is not what a check
    cell's `import mygrad` gives in the grader, even with a module of checks beside it too."""
    from backproplab.classroom._check import evaluate_check
    from backproplab.classroom._source import load_source

    write_notebook(tmp_path / "hw.ipynb", ("import mychecks\nimport mygrad", {}),
                   check_cell("double", "import mygrad\nassert mygrad.double(2) == 4"))  # fmt: skip
    (tmp_path / "mychecks.py").write_text("WANT = 4\n", encoding="utf-8")
    (tmp_path / "mygrad.py").write_text(
        "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n",
        encoding="utf-8",
    )
    (teacher,) = load_source(tmp_path)
    assert teacher.modules == ["mygrad"] and list(teacher.own_modules) == ["mychecks"]
    result = evaluate_check(teacher.checks[0], teacher, Answers({"mygrad.double": lambda x: x}))
    assert (result.status, result.score) != ("correct", 1.0)


def test_the_pages_assert_check_is_not_passed_by_changing_its_x(tmp_path):
    """The page's check called softplus_slope(x) on its own x, then compared with np.exp(x):
    a function that set x to zeros and returned 0.5 everywhere scored the point."""
    from backproplab.classroom._check import evaluate_check
    from backproplab.classroom._source import load_source

    def zeroes_x(x):
        x[...] = 0.0
        return np.full(x.shape, 0.5)

    teacher_folder(tmp_path / "hw1")
    (teacher,) = load_source(tmp_path / "hw1")
    check = next(c for c in teacher.checks if c.grade_id == "hw1-softplus_slope-check")
    for answer in (zeroes_x, lambda x: np.empty((0, x.size))):  # an empty array: allclose
        result = evaluate_check(check, teacher, Answers({"softplus_slope": answer}))
        assert (result.status, result.score) == ("hint", 0.0), result.message


HIDDEN = "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 2\n### END HIDDEN TESTS"


@pytest.mark.parametrize("where", ["markdown", "solution", "plain code", "module"])
def test_hidden_tests_outside_a_check_cell_stop_the_release(tmp_path, where):
    # outside a check cell the grader never runs them, and the release would hand them out (in
    # a Markdown cell "### END HIDDEN TESTS" even read as a heading: the next stub's label)
    cells = [solution("f"), check_cell("f", "assert f(1) == 1")]
    if where == "solution":
        cells[0] = (cells[0][0] + "\n" + HIDDEN, cells[0][1])
    elif where == "plain code":
        cells.append((HIDDEN, {}))
    write_notebook(tmp_path / "hw" / "hw.ipynb", *cells)
    if where == "markdown":
        notebook = nbformat.read(tmp_path / "hw" / "hw.ipynb", as_version=4)
        notebook.cells.insert(1, nbformat.v4.new_markdown_cell("Tests:\n" + HIDDEN))
        nbformat.write(notebook, tmp_path / "hw" / "hw.ipynb")
    if where == "module":
        (tmp_path / "hw" / "mychecks.py").write_text(HIDDEN, encoding="utf-8")
    with pytest.raises(ReleaseError, match="hidden tests") as refused:
        release(tmp_path / "hw", tmp_path / "out")
    assert "check cell" in str(refused.value)


def test_hidden_tests_in_a_check_cell_are_released_without_them(tmp_path):
    write_notebook(tmp_path / "hw" / "hw.ipynb", solution("f"), check_cell("f", HIDDEN))
    (written,) = release(tmp_path / "hw", tmp_path / "out")
    text = written.read_text(encoding="utf-8")
    assert "assert f(1) == 1" in text and "f(2)" not in text and "HIDDEN" not in text


def test_a_students_exception_is_caught_by_the_teachers_except_as_in_the_notebook():
    """The student's ValueError came back from the kernel as a fresh class of that name only:
    `except ValueError` in a teacher's test did not catch it, and a right answer scored 0."""
    from backproplab.classroom._session import _exception

    def raises(type_name, message):
        def answer(x):
            raise _exception(type_name, message)  # as the grader's proxy raises it

        return answer

    check = ("try:\n    slope(-1.0)\nexcept ValueError:\n    pass\n"
             "else:\n    raise AssertionError('slope(-1.0) must raise ValueError')", ASSERTS[1])  # fmt: skip
    check_cell = (check[0].replace("raise AssertionError(", "assert False, ("), check[1])
    teacher = teacher_of(("import numpy as np", {}), SOLUTION, check_cell)
    right = evaluate(teacher, raises("ValueError", "x must be positive"))
    wrong = evaluate(teacher, raises("TypeError", "x must be positive"))
    assert (right.status, wrong.status) == ("correct", "hint"), right.message
    assert "the check raised TypeError: x must be positive" in wrong.message
    assert str(_exception("KeyError", "'w'")) == "'w'"  # the kernel's words, not re-quoted


def test_a_students_import_error_is_their_failed_test_not_the_teachers():
    from backproplab.classroom._session import _exception

    def answer(x):
        raise _exception("ModuleNotFoundError", "No module named 'torch'")

    result = evaluate(teacher_of(("import numpy as np", {}), SOLUTION, ASSERTS), answer)
    assert result.status == "hint", result.message
    assert "the check raised ModuleNotFoundError: No module named 'torch'" in result.message


def test_a_teachers_check_that_holds_the_releases_line_above_its_hidden_tests_is_graded(
    tmp_path, capsys
):
    """A teacher who wrote the release's comment line into a check (copied from a release, or
    to see what students see) keeps the hidden tests between their markers: it is no release,
    and the hidden test runs (it was refused: "is a student release")."""
    from backproplab.classroom.__main__ import main
    from backproplab.classroom.release import HIDDEN_NOTE

    body = SOLUTION[0].replace("return 2 * x", "{}")
    checks = (f"assert slope(np.ones(2)).shape == (2,)\n{HIDDEN_NOTE}\n### BEGIN HIDDEN TESTS\n"
              "assert np.allclose(slope(np.arange(3.0)), [0, 2, 4]), 'not twice x'\n"
              "### END HIDDEN TESTS", ASSERTS[1])  # fmt: skip
    cells = [("import numpy as np", {}), (body, SOLUTION[1]), checks]
    write_notebook(
        tmp_path / "source" / "hw.ipynb", *[(s.format("return 2 * x"), m) for s, m in cells]
    )
    for student, answer in {"ada": "return 2 * x", "alan": "return x"}.items():
        write_notebook(tmp_path / "submitted" / student / "hw.ipynb",
                       *[(s.format(answer), m) for s, m in cells])  # fmt: skip
    command = ["grade", str(tmp_path / "submitted"), "--source", str(tmp_path / "source")]
    assert main([*command, "--timeout", "60"]) == 0, capsys.readouterr().err
    table = capsys.readouterr().out.split("\n\n")[0]  # (the summary by exercise follows)
    scores = {line.split()[0]: line.split()[-2:] for line in table.splitlines()[2:] if line}
    assert scores == {"ada": ["2", "2"], "alan": ["0", "2"]}, table


# ---------------------------------------------------------------- what an adversary found (adv5)
def _check_reading(name: str, solution: str, check: str, plain: str = "") -> str:
    """The grader's message for a check that reads ``name`` of a solution cell."""
    cells = [(plain, {})] if plain else []
    cells += [(f"### BEGIN SOLUTION\n{solution}\n### END SOLUTION",
               {"solution": True, "grade_id": name}),
              (check, {"grade": True, "grade_id": f"{name}-check", "points": 1})]  # fmt: skip
    from backproplab.classroom._check import evaluate_check

    teacher = teacher_of(*cells)
    result = evaluate_check(teacher.checks[0], teacher, Answers({"root": lambda x: x**0.5}))
    return f"{result.status}: {result.message}"


def test_a_check_using_a_module_a_solution_cell_imports_is_told_to_import_it_elsewhere():
    """It was told to "ask for a function and call it in the check", which it did: the import
    was the trouble (the grader runs no solution cell, and the release stubs it away)."""
    solution = "import math\ndef root(x):\n    return math.sqrt(x)"
    check = "assert abs(root(4) - math.sqrt(4)) < 1e-12"
    said = _check_reading("root", solution, check)
    assert said.startswith("error: the check failed in the grader: NameError: "), said
    assert said.endswith(
        "math is imported in a solution cell (code cell 1 of the teacher's own.ipynb), which the "
        "grader does not run: import it in a cell that is no solution cell"
    ), said
    from_pi = _check_reading("root", "from math import pi\n" + solution, "assert pi > 3")
    assert "pi is imported in a solution cell" in from_pi, from_pi
    assert _check_reading("root", solution, check, plain="import math").startswith("correct")


def test_a_check_calling_a_lambda_of_a_solution_cell_is_told_to_write_it_with_def():
    said = _check_reading("twice", "twice = lambda x: 2 * x", "assert twice(3) == 6")
    assert said.endswith(
        "twice is a lambda of a solution cell (code cell 1 of the teacher's own.ipynb), and the "
        "grader calls a student's functions written with def only: write it as def twice(...)"
    ), said
    value = _check_reading("k", "k = 7", "assert k == 7")  # a value: the words of before
    assert value.endswith("and the grader reads no student's values, it calls their functions: "
                          "ask for a function and call it in the check"), value  # fmt: skip


# ---------------------------------------------------------------- what mutation testing found (mut3)
def test_a_name_two_solution_cells_bind_is_said_of_the_first():
    """As for a plain cell's names, the message names the first code cell that binds it."""
    from backproplab.classroom._check import evaluate_check

    root = (
        "### BEGIN SOLUTION\nimport math\ndef root(x):\n    return math.sqrt(x)\n### END SOLUTION",
        {"solution": True, "grade_id": "root"},
    )
    check = (
        "assert abs(root(4) - math.sqrt(4)) < 1e-12",
        {"grade": True, "grade_id": "root-check", "points": 1},
    )
    cube = ("### BEGIN SOLUTION\nimport math\ndef cube(x):\n    return math.pow(x, 3)\n"
            "### END SOLUTION", {"solution": True, "grade_id": "cube"})  # fmt: skip
    teacher = teacher_of(root, check, cube)
    result = evaluate_check(teacher.checks[0], teacher, Answers({"root": lambda x: x**0.5}))
    assert "math is imported in a solution cell (code cell 1 of" in result.message, result.message
