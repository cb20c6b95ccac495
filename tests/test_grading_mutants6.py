"""Mutation testing of the grader's modules of last session (_runtime_code.py,
_learner_classes.py, _learner_imports.py): each test here kills mutants that the tests of those
modules let through (a changed comparison, a dropped filter or statement). The expected values
come from the modules' docstrings, docs/teaching.md ("Answers that are the teacher's
solution") and Python's own rules, never from the code's output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backproplab.classroom._runtime_code import fingerprint, not_written, origins

NOTE = "nb05-mygrad: the engine the check ran is not all written in the files handed in: "


def ran_as(text: str, file: str, module: str = "mygrad") -> list:
    """Every code object of ``text`` compiled under the name ``file`` (as an import compiles it)
    and run, with its module's ``__name__``: what the kernel's call recorder sees."""
    namespace: dict = {"__name__": module}
    top = compile(text, file, "exec", dont_inherit=True)
    exec(top, namespace)  # noqa: S102 - the test's own text
    codes, found = [top], []
    while codes:
        code = codes.pop()
        found.append((code, module))
        codes += [c for c in code.co_consts if isinstance(c, type(top))]
    return found


def functions(text: str, file: str, name: str = "run", module: str = "mygrad") -> list:
    """The (code, module) pairs of ``ran_as`` of the functions called ``name``."""
    return [(c, m) for c, m in ran_as(text, file, module) if c.co_name == name]


def named(found: list) -> list[tuple]:
    return sorted((e[0], e[1], e[3]) for e in found)


# --- origins: which code the kernel reports ------------------------------------------------


def test_text_compiled_at_run_time_that_looks_generated_by_only_one_sign_is_named():
    """A library's generated code is left out by its names (docs/teaching.md): a dataclass's
    dunder method made in ``__create_fn__``, a namedtuple's ``__new__`` (a lambda of a module
    ``namedtuple_...``). Text compiled at run time with only one of those signs is the
    learner's engine from elsewhere, and named."""
    text = (
        "def __create_fn__():\n"
        "    def run():\n        return 1\n\n"
        "    def __run():\n        return 2\n\n"
        "    return run, __run\n"
    )
    codes = [
        (code, "mygrad") for code, _ in ran_as(text, "<string>") if "<locals>" in code.co_qualname
    ]
    codes += functions("run = lambda: 1\n", "<string>", "<lambda>")
    codes += functions("def run():\n    return 1\n", "<string>", "run", "namedtuple_Pair")
    assert named(origins(codes, "")) == [
        ("<string>", 1, "<lambda>"),
        ("<string>", 1, "run"),
        ("<string>", 2, "__create_fn__.<locals>.run"),
        ("<string>", 5, "__create_fn__.<locals>.__run"),
    ]


def test_pythons_frozen_modules_are_not_named():
    """Code of the frozen modules of Python (the import system): Python's, never the engine."""
    import importlib._bootstrap as bootstrap

    code = bootstrap._find_and_load.__code__
    assert code.co_filename.startswith("<frozen "), code.co_filename  # what this test is about
    assert origins([(code, "importlib._bootstrap")], "") == []


def test_a_folder_whose_name_starts_as_a_librarys_or_the_students_is_neither(tmp_path, monkeypatch):
    """A file is a library's, or in the student's folder, when it is inside that folder: not
    when its folder's name merely starts with the same letters (``dist-packages-copy``,
    ``student-old``)."""
    library = tmp_path / "dist-packages"
    library.mkdir()
    monkeypatch.setattr("sys.path", [*sys.path, str(library)])
    (tmp_path / "student").mkdir()
    ran = []
    for folder in ("dist-packages-copy", "student-old"):
        (tmp_path / folder).mkdir()
        file = tmp_path / folder / "mygrad.py"
        file.write_text("def run():\n    return 1\n")
        ran += functions(file.read_text(), str(file))
    assert named(origins(ran, str(tmp_path / "student"))) == [
        (os.path.realpath(tmp_path / folder / "mygrad.py"), 1, "run")
        for folder in ("dist-packages-copy", "student-old")
    ]


def test_without_a_folder_a_file_is_named_as_compiled(tmp_path, monkeypatch):
    """No folder (a request that gave none): no file is the student's, each is named by its own
    path, whatever folder the kernel is in."""
    monkeypatch.chdir(tmp_path)
    file = tmp_path / "mygrad.py"
    file.write_text("def run():\n    return 1\n")
    assert named(origins(functions(file.read_text(), str(file)), "")) == [(str(file), 1, "run")]


def test_a_file_compiled_through_a_link_to_the_students_folder_is_theirs(tmp_path):
    """The kernel may import mygrad.py through a symbolic link to the student's folder (macOS's
    /tmp is /private/tmp): it is the student's file, named relative to their folder."""
    (tmp_path / "student").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "student", target_is_directory=True)
    (tmp_path / "student" / "mygrad.py").write_text("def run():\n    return 1\n")
    file = tmp_path / "link" / "mygrad.py"
    ran = functions(file.read_text(), str(file))
    assert named(origins(ran, str(tmp_path / "student"))) == [("mygrad.py", 1, "run")]


def test_one_reply_names_at_most_twenty_pieces_of_code_the_first_ones():
    """MAX_REPORTED: 20 pieces of code in one reply (an engine has some 40 functions)."""
    text = "".join(f"def f{i}():\n    return {i}\n" for i in range(25))
    ran = [(c, m) for c, m in ran_as(text, "<string>") if c.co_name != "<module>"]
    ran.sort(key=lambda pair: pair[0].co_firstlineno)
    assert [e[2] for e in origins(ran, "")] == [f"f{i}" for i in range(20)]


# --- fingerprint: what the code does ---------------------------------------------------------


def test_code_that_calls_other_names_has_another_fingerprint():
    """``run`` calling the solution's function is not ``run`` calling the student's, though
    the bytecode is the same but for the names it loads."""
    [(mine, _)] = functions("def run(x):\n    return mine(x)\n", "m.py")
    [(theirs, _)] = functions("def run(x):\n    return solved(x)\n", "m.py")
    assert mine.co_code == theirs.co_code  # what this test is about
    assert fingerprint(mine) != fingerprint(theirs)


def test_a_fingerprint_names_the_python_and_optimization_level_that_compiled_it():
    [(code, _)] = functions("def run():\n    return 1\n", "m.py")
    compiler = f"{sys.implementation.cache_tag}-O{sys.flags.optimize}"
    assert fingerprint(code).startswith(compiler + ":")


FROZENSET = """from backproplab.classroom._runtime_code import fingerprint
code = compile("def run(x):\\n    return x in {WORDS}\\n", "m.py", "exec", dont_inherit=True)
print(fingerprint(code.co_consts[0]))
"""


def test_a_fingerprint_does_not_depend_on_the_processs_hashing_of_strings():
    """The kernel and the grader are two processes, each with its own hashing of strings, which
    orders a set of strings (``x in {"add", "mul", ...}``, a frozenset constant): the same code
    has the same fingerprint in both."""
    words = ", ".join(repr(w) for w in ("add", "mul", "neg", "exp", "log", "tanh", "sum"))
    program = FROZENSET.replace("WORDS", words)
    said = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
        )
        said.add(done.stdout.strip())
    assert len(said) == 1, said


# --- not_written: the files handed in --------------------------------------------------------


def reported(text: str, file: Path, folder: Path, name: str = "run") -> list:
    """What the kernel reports of the function ``name`` of ``text`` compiled as ``file``."""
    return origins(functions(text, str(file), name), str(folder))


INNER = "def run():\n    def inner(x: int) -> int:\n        return x\n\n    return inner(1)\n"


def test_a_function_with_annotated_inner_functions_is_written_there(tmp_path):
    """An import compiles the file with no ``from __future__`` of the grader's own: a function
    defining an annotated function compiles to the same bytecode in the kernel and in the grader."""
    (tmp_path / "mygrad.py").write_text(INNER)
    found = reported(INNER, tmp_path / "mygrad.py", tmp_path)
    assert [e[:3] for e in found] == [["mygrad.py", 1, "run"]]
    assert not_written("nb05-mygrad", found, tmp_path) == []


def test_a_handed_in_file_that_is_not_python_or_too_long_holds_no_function(tmp_path):
    """A file handed in that does not compile, or that is longer than a MiB (an engine is some
    15 kB), is not read: the code the kernel ran is named, with no error."""
    text = "def run():\n    return 1\n"
    (tmp_path / "mygrad.py").write_text(text)
    found = reported(text, tmp_path / "mygrad.py", tmp_path)
    (tmp_path / "mygrad.py").write_text("def run(:\n    return 1\n")
    assert not_written("nb05-mygrad", found, tmp_path) == [
        NOTE + "run (mygrad.py has no run starting at line 1)"
    ]
    (tmp_path / "mygrad.py").write_text(text + "#" * 2**20 + "\n")
    assert not_written("nb05-mygrad", found, tmp_path) == [
        NOTE + "run (mygrad.py has no run starting at line 1)"
    ]


def test_a_file_outside_the_folder_or_a_link_handed_in_is_not_handed_in(tmp_path):
    """The kernel's reply names a file in the student's folder; a file outside it (``..``), or a
    symbolic link handed in in its place, is not a file written there, though its code is the
    code that ran."""
    text = "def run():\n    return 1\n"
    (tmp_path / "student").mkdir()
    (tmp_path / "mygrad.py").write_text(text)
    [entry] = reported(text, tmp_path / "mygrad.py", tmp_path)
    outside = ["../mygrad.py", *entry[1:]]
    assert not_written("nb05-mygrad", [outside], tmp_path / "student") == [
        NOTE + "run (../mygrad.py, not handed in)"
    ]
    (tmp_path / "student" / "mygrad.py").symlink_to(tmp_path / "mygrad.py")
    assert not_written("nb05-mygrad", [entry], tmp_path / "student") == [
        NOTE + "run (mygrad.py, not handed in)"
    ]


def test_code_compiled_by_another_python_is_looked_up_by_its_line_only(tmp_path):
    """Another Python, or another optimization level, compiles other bytecode: its fingerprint
    is not compared, the function's line is all (the code's comment)."""
    text = "def run():\n    return 1\n"
    (tmp_path / "mygrad.py").write_text(text)
    tag = sys.implementation.cache_tag
    for compiler in ("cpython-99-O0", f"{tag}-O{1 - min(sys.flags.optimize, 1)}"):
        entry = ["mygrad.py", 1, "run", "run", f"{compiler}:0123456789abcdef"]
        assert not_written("nb05-mygrad", [entry], tmp_path) == [], compiler
    entry[1] = 2  # but the line is
    assert not_written("nb05-mygrad", [entry], tmp_path) == [
        NOTE + "run (mygrad.py has no run starting at line 2)"
    ]


@pytest.mark.parametrize(
    "entry, said",
    [
        ("abcde", "unreadable (abcde)"),  # five letters are not five fields
        (
            ["mygrad.py", 1, "run", "run", "x", "y"],
            "unreadable (['mygrad.py', 1, 'run', 'run', 'x', 'y'])",
        ),
    ],
)
def test_a_reply_entry_not_of_five_fields_is_unreadable(tmp_path, entry, said):
    assert not_written("nb05-mygrad", [entry], tmp_path) == [NOTE + said]


def test_the_note_names_three_pieces_of_code_and_counts_the_others(tmp_path):
    """docs/teaching.md: the row names up to three of them; and a long unreadable entry is cut,
    so that a kernel's reply cannot fill the teacher's report."""
    entries = [f"junk{i}" for i in range(5)]
    assert not_written("nb05-mygrad", entries, tmp_path) == [
        NOTE + "unreadable (junk0), unreadable (junk1), unreadable (junk2) and 2 more"
    ]
    [note] = not_written("nb05-mygrad", ["j" * 10_000], tmp_path)
    assert note.startswith(NOTE + "unreadable (jjj") and len(note) < len(NOTE) + 200, len(note)


# --- _learner_classes.py and _learner_imports.py: what a teacher's notebook uses ---------------


def teachers_folder(tmp_path: Path, setup: str, check: str, engine: str) -> Path:
    """A teacher's folder: a notebook (a setup cell, one check cell) and its mygrad.py."""
    import nbformat

    cell = nbformat.v4.new_code_cell(check)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "mul-check", "points": 2}
    cells = [nbformat.v4.new_markdown_cell("# engine"), nbformat.v4.new_code_cell(setup), cell]
    folder = tmp_path / "source"
    folder.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "a.ipynb")
    (folder / "mygrad.py").write_text(engine, encoding="utf-8")
    return folder


ENGINE = "class Tensor:\n    pass\n\n\ndef run(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
USES = "code cell 2 of the teacher's a.ipynb uses Tensor, a class of the learner's mygrad.py"


def ungradable_of(folder: Path) -> list[str]:
    from backproplab.classroom.plan import course_plan

    [plan] = course_plan(folder)
    return plan.ungradable


def test_a_check_reading_attributes_of_values_is_planned(tmp_path):
    """``grads[0].sum()``, ``np.linalg.norm``: attributes of what is not a name, or of a name
    that is not the learner's module, are no class of the learner's."""
    check = "values = run([1.0, 2.0])\nassert values[0].real == 1.0 and np.linalg.norm(values) > 0"
    folder = teachers_folder(tmp_path, "import numpy as np\nfrom mygrad import run", check, ENGINE)
    assert ungradable_of(folder) == []


def test_only_the_top_level_classes_of_the_teachers_module_are_the_learners(tmp_path):
    """The classes are the module's top-level ``class`` statements (_learner_classes.py): a
    class made inside a function is none, though a function of the module has its name."""
    engine = ENGINE + "\n\ndef helper():\n    class run:\n        pass\n\n    return run\n"
    check = "assert run(1.0) == 1.0"
    folder = teachers_folder(tmp_path, "from mygrad import run", check, engine)
    assert ungradable_of(folder) == []


def test_a_teachers_module_that_does_not_compile_names_no_class(tmp_path):
    """The teacher's mygrad.py mid-edit, not Python: no class of it is known (and the plan is
    made, with no error)."""
    broken = ENGINE.replace("def run(x):", "def run(x:")
    folder = teachers_folder(tmp_path, "from mygrad import Tensor", "x = Tensor()", broken)
    assert ungradable_of(folder) == []


def test_a_recursive_function_of_the_teachers_is_read_once(tmp_path):
    """A function of the teacher's notebook that calls itself (and one that calls it): each is
    read once, and the class it makes is named."""
    import threading

    setup = (
        "from mygrad import Tensor\n\n\ndef leaf(n):\n    return Tensor() if n == 0 else nest(n - 1)\n\n\n"
        "def nest(n):\n    return leaf(n)\n"
    )
    folder = teachers_folder(tmp_path, setup, "x = nest(3)", ENGINE)
    said: list = []
    planning = threading.Thread(target=lambda: said.append(ungradable_of(folder)), daemon=True)
    planning.start()
    planning.join(20)
    assert said, "the plan never came"
    [[line]] = said
    assert line.startswith(f"mul: {USES}, "), line


def test_without_the_teachers_folder_no_class_is_known():
    """A teacher notebook read on its own (no folder beside it): no module to read, no class."""
    import nbformat

    from backproplab.classroom._learner_classes import ungradable
    from backproplab.classroom._source import teacher_notebook

    cell = nbformat.v4.new_code_cell("x = Tensor()")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "mul-check", "points": 2}
    setup = nbformat.v4.new_code_cell("from mygrad import Tensor")
    teacher = teacher_notebook("a.ipynb", nbformat.v4.new_notebook(cells=[setup, cell]), {"mygrad"})
    assert teacher.folder is None and teacher.learner_modules == {"mygrad"}
    assert ungradable(teacher.checks[0], teacher) == ""


def test_a_check_cells_other_imports_are_not_the_learners():
    """A check cell's imports of other modules (``import math``, ``from os import path``, and
    math in ``import math, mygrad``) are not imports of the learner's modules: none of their
    names is the learner's, and none runs in the student's kernel in the check's place. The
    mygrad of ``import math, mygrad`` is (it ran in the grader: no such module there)."""
    import nbformat

    from backproplab.classroom._source import teacher_notebook

    check = "import math\nfrom os import path\nimport math, mygrad\nfrom mygrad import run\nx = 1"
    cell = nbformat.v4.new_code_cell(check)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "mul-check", "points": 2}
    teacher = teacher_notebook("a.ipynb", nbformat.v4.new_notebook(cells=[cell]), {"mygrad"})
    assert teacher.learner_modules == {"mygrad"}
    assert teacher.functions == ["run"]
    assert teacher.checks[0].imports == "import mygrad\nfrom mygrad import run"
