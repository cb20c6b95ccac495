"""An engine the checks ran that was not written in the mygrad.py handed in (_runtime_code.py).

Last session's adversary pass found that a mygrad.py of two lines running a solved mygrad.py
from elsewhere (``exec`` of its text) scored full marks with nothing said to the teacher: its
text holds no solution, so the same-code comparison found nothing. The grader now names, for the
teacher, the code a check ran that is not in the files handed in; the score stays. A student's
own engine, however it is written (functions, classes, decorators, ``functools.partial``, a
lambda bound to a name, a dataclass, a helper from a second file handed in), is not named."""

from __future__ import annotations

import ast
import os
import py_compile
import sys
from pathlib import Path

import nbformat
import pytest
from exercise_helpers import grade_students

from backproplab.classroom import _runtime_code
from backproplab.classroom._runtime_code import not_written, origins

ENGINE = Path(__file__).resolve().parents[1] / "notebooks" / "mygrad.py"
SOLVED = ENGINE.read_text(encoding="utf-8")
NOTE = "nb05-mygrad: the engine the check ran is not all written in the files handed in: "


def engine_notebook() -> nbformat.NotebookNode:
    """A notebook that checks step 05 of the learner's engine (2 points)."""
    notebook = nbformat.v4.new_notebook()
    setup = "import mygrad\nfrom backproplab.exercises.mygrad import check_step"
    check = nbformat.v4.new_code_cell('check_step("05", mygrad)')
    check.metadata["nbgrader"] = {"grade": True, "grade_id": "nb05-mygrad-check", "points": 2}
    notebook.cells = [nbformat.v4.new_markdown_cell("# engine"), nbformat.v4.new_code_cell(setup)]
    notebook.cells.append(check)
    return notebook


def runtime_notes(grade) -> list[str]:
    return [note for note in grade.for_teacher if note.startswith(NOTE)]


def replaced(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# Copies of the solved engine, each that someone could have written in mygrad.py themselves.
STYLES = replaced(
    SOLVED,
    "import itertools\n",
    "import collections\nimport dataclasses\nimport functools\nimport itertools\n",
)
STYLES = replaced(
    STYLES,
    "\ndef own_op():",
    '''
@dataclasses.dataclass
class _Visit:
    count: int = 0


_Pair = collections.namedtuple("_Pair", "root order")


def _counted(fn):
    """A decorator of my own: counts the calls (a dataclass and a namedtuple made in them)."""

    @functools.wraps(fn)
    def inner(*args, **kwargs):
        _Visit(1)
        return _Pair(args[0], fn(*args, **kwargs)).order

    return inner


def own_op():''',
)
STYLES = replaced(STYLES, "\ndef toposort(root):", "\n@_counted\ndef toposort(root):")
# a lambda bound to a name, and a function of functools.partial
STYLES = replaced(
    STYLES,
    'def as_tensor(x):\n    """``x`` itself if it is a Tensor, else a constant Tensor holding it (no '
    'gradient)."""\n    return x if isinstance(x, Tensor) else Tensor(x)\n',
    "as_tensor = lambda x: x if isinstance(x, Tensor) else Tensor(x)  # noqa: E731\n",
)
# sum_to_shape from a second file handed in beside it, through functools.partial
HELPERS = 'import numpy as np\n\n\ndef sum_down(g, shape, axis0=0):\n    """Mine."""\n'
HELPERS += "    if g.shape == shape:\n        return g\n"
HELPERS += "    g = g.sum(axis=tuple(range(axis0, g.ndim - len(shape))))\n"
HELPERS += "    ones = tuple(i for i, n in enumerate(shape) if n == 1)\n"
HELPERS += "    return g.sum(axis=ones, keepdims=True)\n"
start = STYLES.index("def sum_to_shape(g, shape):")
end = STYLES.index("# ----", start)
STYLES = STYLES[:start] + "sum_to_shape = functools.partial(sum_down, axis0=0)\n\n\n" + STYLES[end:]
STYLES = replaced(
    STYLES, "import numpy as np\n", "import numpy as np\nfrom helpers import sum_down\n"
)


def test_an_engine_written_in_the_files_handed_in_is_not_named(tmp_path):
    teacher = engine_notebook()
    files = {
        "teacher": {"mygrad.py": SOLVED},
        "solved": {"mygrad.py": SOLVED},  # the teacher's text, in the file: same code, not this
        "styles": {"mygrad.py": STYLES, "helpers.py": HELPERS},
    }
    students = {"solved": teacher, "styles": teacher}
    grades = grade_students(tmp_path, teacher, students, files)
    assert [grades[s].score for s in students] == [2, 2], {s: grades[s].checks for s in students}
    assert [runtime_notes(grades[s]) for s in students] == [[], []]


def running(how: str) -> str:
    """A mygrad.py that runs the clone's solved notebooks/mygrad.py ``how``."""
    path = repr(str(ENGINE))
    if how == "exec":
        return f"exec(open({path}).read())\n"
    if how == "runpy":
        return (
            "import runpy\n\nsolved = runpy.run_path(" + path + ")\n"
            "globals().update({k: v for k, v in solved.items() if not k.startswith('__')})\n"
        )
    return (  # importlib of the file
        "import importlib.util\n\n"
        f"spec = importlib.util.spec_from_file_location('solved', {path})\n"
        "solved = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(solved)\n"
        "run = solved.run\n"
    )


def test_an_engine_run_from_a_solved_file_elsewhere_is_named_and_keeps_its_score(tmp_path):
    teacher = engine_notebook()
    files = {"teacher": {"mygrad.py": SOLVED}}
    students = {}
    for how in ("exec", "runpy", "importlib"):
        files[how] = {"mygrad.py": running(how)}
        students[how] = teacher
    grades = grade_students(tmp_path, teacher, students, files)
    for how in students:
        assert grades[how].score == 2, (how, grades[how].checks)  # the points stay
        [note] = runtime_notes(grades[how])
        assert "run (" in note, note
        if how == "exec":  # text compiled at run time
            assert "compiled from text at run time" in note, note
        else:  # the clone's file
            assert f"from {os.path.realpath(ENGINE)}" in note, note
        # never in the student's feedback: for_teacher only
        assert not any(NOTE in p for p in grades[how].problems)


def test_code_of_the_solved_files_the_package_installs_is_named(tmp_path, monkeypatch):
    """The wheel installs the solved mygrad.py inside the package (backproplab/notebooks/), whose
    other files the kernel leaves to the call recorder: that one is named. (Unit test: this
    checkout has no installed notebooks; a package folder stands in for it.)"""
    package = tmp_path / "site" / "backproplab"
    (package / "notebooks").mkdir(parents=True)
    monkeypatch.setattr(_runtime_code, "_PACKAGE", str(package) + os.sep)
    monkeypatch.setattr(_runtime_code, "_SOLVED", str(package / "notebooks") + os.sep)
    codes = []
    for file in (package / "notebooks" / "mygrad.py", package / "ops.py"):
        file.write_text("def run():\n    return 1\n")
        namespace: dict = {}
        exec(compile(file.read_text(), str(file), "exec"), namespace)
        codes.append((namespace["run"].__code__, "mygrad"))
    found = origins(codes, str(tmp_path / "student"))
    assert [entry[:4] for entry in found] == [
        [str(package / "notebooks" / "mygrad.py"), 1, "run", "run"]
    ]
    [note] = not_written("nb05-mygrad", found, tmp_path / "student")
    assert note == NOTE + "run (the solved mygrad.py the package installs)"


def codes_of(text: str, file: Path) -> list:
    """Every code object of ``text`` compiled as ``file`` and run (as the kernel's import does),
    with its module's name: what the kernel's call recorder sees."""
    namespace: dict = {"__name__": "mygrad"}
    top = compile(text, str(file), "exec", dont_inherit=True)
    exec(top, namespace)
    codes, found = [top], []
    while codes:
        code = codes.pop()
        found.append((code, "mygrad"))
        codes += [c for c in code.co_consts if isinstance(c, type(top))]
    return found


MODULE = """import functools


@functools.cache
def run(x):
    f = lambda y: [y for _ in x]
    return f(x)


class T:
    def m(self):
        return (i for i in ())
"""


def test_a_handed_in_file_is_read_for_each_functions_first_line_and_bytecode(tmp_path):
    """Code the kernel says is in the student's folder is looked up in the file as handed in:
    a function (lambda, class, comprehension) must start at its line there (a decorator's
    line for a decorated one) and compile to the same bytecode."""
    file = tmp_path / "mygrad.py"
    file.write_text(MODULE)
    written = origins(codes_of(MODULE, file), str(tmp_path))
    assert sorted((e[0], e[1], e[2]) for e in written) == [
        ("mygrad.py", 1, "<module>"),
        ("mygrad.py", 4, "run"),
        ("mygrad.py", 6, "<lambda>"),
        ("mygrad.py", 6, "<listcomp>"),
        ("mygrad.py", 10, "T"),
        ("mygrad.py", 11, "m"),
        ("mygrad.py", 12, "<genexpr>"),
    ]
    assert not_written("nb05-mygrad", written, tmp_path) == []
    # other code compiled under the file's name: its def lines where the file has them
    padded = MODULE.replace("return f(x)", "return x").replace("in ())", "in (1,))")
    other = origins(codes_of(padded, file), str(tmp_path))
    moved = origins(codes_of("\n" + MODULE, file), str(tmp_path))  # one line down
    [note] = not_written("nb05-mygrad", other, tmp_path)
    assert "run (other code than mygrad.py's run of line 4)" in note, note
    assert "T.m (other code than mygrad.py's m of line 11)" in note, note
    [note] = not_written("nb05-mygrad", moved, tmp_path)
    assert "T (mygrad.py has no T starting at line 11)" in note, note
    missing = ["helpers.py", 1, "f", "f", "x"]
    outside = ["../mygrad.py", 4, "run", "run", "x"]
    [note] = not_written("nb05-mygrad", [missing, outside, "junk"], tmp_path)
    assert note == NOTE + (
        "f (helpers.py, not handed in), run (../mygrad.py, not handed in), unreadable (junk)"
    )


@pytest.mark.parametrize("kernel_folder", ["", "/nowhere"])
def test_text_compiled_at_run_time_is_named_and_a_librarys_generated_code_is_not(kernel_folder):
    import collections
    import dataclasses

    namespace: dict = {}
    exec("def run():\n    return 1\n", namespace)
    point = dataclasses.make_dataclass("Point", ["x"])
    pair = collections.namedtuple("Pair", "a b")
    ran = [
        (namespace["run"].__code__, "mygrad"),
        (point.__init__.__code__, "mygrad"),
        (pair.__new__.__code__, pair.__new__.__globals__.get("__name__")),
        (dataclasses.fields.__code__, "dataclasses"),  # the standard library's
    ]
    assert [entry[:4] for entry in origins(ran, kernel_folder)] == [["<string>", 1, "run", "run"]]


def test_code_of_a_library_in_any_site_packages_is_not_named(tmp_path, monkeypatch):
    """Debian's python3-numpy is in /usr/lib/python3/dist-packages, a folder on sys.path that
    sysconfig does not name: its code is a library's, not code from elsewhere."""
    library = tmp_path / "dist-packages" / "lib.py"
    library.parent.mkdir()
    library.write_text("def f():\n    return 1\n")
    namespace: dict = {}
    exec(compile(library.read_text(), str(library), "exec"), namespace)
    ran = [(namespace["f"].__code__, "lib")]
    assert [e[:4] for e in origins(ran, str(tmp_path / "student"))] == [[str(library), 1, "f", "f"]]
    monkeypatch.setattr("sys.path", [*__import__("sys").path, str(library.parent)])
    assert origins(ran, str(tmp_path / "student")) == []


def evading(how: str) -> dict[str, str]:
    """The files of a student out for marks who runs the solved engine ``how``, knowing that
    the grader looks for code from elsewhere."""
    path = repr(str(ENGINE))
    if how == "wrapped":  # a run of their own that calls the solution's, kept out of sight
        code = f"_solved: dict = {{}}\nexec(open({path}).read(), _solved)\n\n\n"
        code += "def run(*args, **kwargs):\n    return _solved['run'](*args, **kwargs)\n"
    elif how == "renamed":  # compiled under the handed-in file's own name
        code = f"exec(compile(open({path}).read(), __file__, 'exec'))\n"
    elif how == "rewritten":  # the kernel's copy of mygrad.py replaced by the solution
        code = "import pathlib\nimport sys\n\n"
        code += f"pathlib.Path(__file__).write_text(open({path}).read())\n"
        code += "del sys.modules[__name__]\nfrom mygrad import run  # noqa: E402\n"
    elif how == "padded":  # and with a def (lambda...) at each line the solution has one
        code = padding(SOLVED) + f"exec(compile(open({path}).read(), __file__, 'exec'))\n"
    else:  # "written": the solution written to a file of its own beside it, and imported
        code = f"import pathlib\n\npathlib.Path('solved.py').write_text(open({path}).read())\n"
        code += "from solved import run  # noqa: E402\n"
    return {"mygrad.py": code}


def padding(text: str) -> str:
    """Lines that start a function, class, lambda or comprehension of each name where ``text``
    has one (a decorated function's at its decorator's line), the other lines comments."""
    expressions = {
        ast.Lambda: "lambda: 0",
        ast.ListComp: "[0 for _ in ()]",
        ast.GeneratorExp: "(0 for _ in ())",
        ast.SetComp: "{0 for _ in ()}",
        ast.DictComp: "{0: 0 for _ in ()}",
    }
    defs: dict[int, str] = {}
    uses: dict[int, list[str]] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defs[min([node.lineno, *(d.lineno for d in node.decorator_list)])] = node.name
        elif type(node) in expressions:
            uses.setdefault(node.lineno, []).append(expressions[type(node)])
    lines = ["#"] * len(text.splitlines())
    for number in {*defs, *uses}:
        default = f"({', '.join(uses[number])},)" if number in uses else "()"
        line = f"def {defs[number]}(_={default}): pass" if number in defs else f"_ = {default}"
        lines[number - 1] = line
    return "\n".join(lines) + "\n"


def test_an_engine_from_elsewhere_is_named_however_the_module_hides_it(tmp_path):
    """Five ways around the note a student could try (adversary pass): each is named. (What
    still passes is in docs/teaching.md, "Answers that are the teacher's solution".)"""
    teacher = engine_notebook()
    files = {"teacher": {"mygrad.py": SOLVED}}
    students = {}
    for how in ("wrapped", "renamed", "padded", "rewritten", "written"):
        files[how], students[how] = evading(how), teacher
    grades = grade_students(tmp_path, teacher, students, files)
    said = {
        "wrapped": "compiled from text at run time",
        "renamed": "mygrad.py has no run starting at line ",
        "padded": "(other code than mygrad.py's run of line ",
        "rewritten": "mygrad.py has no run starting at line ",
        "written": "(solved.py, not handed in)",
    }
    for how in students:
        assert grades[how].score == 2, (how, grades[how].checks)
        [note] = runtime_notes(grades[how])
        assert said[how] in note, (how, note)


def test_a_pycache_of_the_solution_beside_the_release_is_left_out(tmp_path):
    """The adversary pass's sixth try: the student release's mygrad.py (stubs, no solution in
    its text) with a __pycache__ of the solved file compiled as an unchecked-hash .pyc, which
    Python imports without reading the source. It scored full marks, the same-code comparison
    finding nothing; the bytecode the check ran was not the file's, and was named. Now the
    kernel's copy of the folder leaves compiled Python out (tests/test_grading_gaps.py): the
    stubs run, score nothing, and nothing is named."""
    from backproplab.classroom.grading import Limits, grade_notebook, load_source
    from backproplab.classroom.release import strip_solutions

    (tmp_path / "teacher").mkdir()
    nbformat.write(engine_notebook(), tmp_path / "teacher" / "a.ipynb")
    (tmp_path / "teacher" / "mygrad.py").write_text(SOLVED)
    student = tmp_path / "student"
    (student / "__pycache__").mkdir(parents=True)
    nbformat.write(engine_notebook(), student / "a.ipynb")
    (student / "mygrad.py").write_text(strip_solutions(SOLVED))
    (tmp_path / "solved.py").write_text(SOLVED)
    py_compile.compile(
        str(tmp_path / "solved.py"),
        cfile=str(student / "__pycache__" / f"mygrad.{sys.implementation.cache_tag}.pyc"),
        dfile=str(student / "mygrad.py"),
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    source = load_source(tmp_path / "teacher")
    grade = grade_notebook(student / "a.ipynb", "ada", source, Limits(timeout=60), folder=student)
    assert grade.score == 0, grade.checks  # the stubs ran
    assert runtime_notes(grade) == []


def test_a_function_the_check_imports_from_mygrad_is_watched_too(tmp_path):
    """A teacher's check that imports the engine's function (``from mygrad import run``) calls
    it by that name, as a function of the notebook: the kernel noted nothing for it (found while
    reading how the grader names a learner's module)."""
    teacher = nbformat.v4.new_notebook()
    check = nbformat.v4.new_code_cell(
        "from mygrad import run\n\n"
        'values, grads, order = run([("add", 0, 1, {})], [1.0, 2.0])\n'
        "assert float(values[-1]) == 3.0"
    )
    check.metadata["nbgrader"] = {"grade": True, "grade_id": "nb05-mygrad-check", "points": 2}
    teacher.cells = [nbformat.v4.new_markdown_cell("# engine"), check]
    files = {"teacher": {"mygrad.py": SOLVED}, "exec": {"mygrad.py": running("exec")}}
    grades = grade_students(tmp_path, teacher, {"exec": teacher}, files)
    assert grades["exec"].score == 2, grades["exec"].checks
    [note] = runtime_notes(grades["exec"])
    assert "run (compiled from text at run time, as <string>)" in note, note
