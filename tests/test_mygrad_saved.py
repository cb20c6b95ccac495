"""A check of the learner's engine judges the saved mygrad.py, or says that it cannot.

A learner who fixes mygrad.py, saves it and runs only the check cell again still has the module
the cell above the check loaded: without this, the check repeated the old verdict on the old
code ("your backward is wrong" after the fix). It must never say so of a module that is the
saved file (that would block the learner for good), whatever the file holds.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from backproplab.classroom.release import strip_solutions
from backproplab.exercises.mygrad import check_step
from backproplab.exercises.mygrad._saved import stale_engine

SOURCE = Path(__file__).resolve().parent.parent / "notebooks" / "mygrad.py"


def imported(path: Path, name: str):
    """``path`` imported the way ``import mygrad`` does it: a module with its ``__file__``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def engine(tmp_path, monkeypatch):
    """The teacher's mygrad.py, saved in a folder on the path and imported from there, as a
    notebook imports it (under another name, so as not to meet other tests' mygrad)."""
    path = tmp_path / "mygrad_saved.py"
    path.write_text(SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield imported(path, "mygrad_saved"), path
    sys.modules.pop("mygrad_saved", None)


def test_the_saved_engine_is_checked(engine):
    module, _ = engine
    assert stale_engine(module) is None
    assert check_step("04", module).passed


def test_a_fix_saved_after_loading_is_named_instead_of_the_old_verdict(engine):
    module, path = engine
    text = path.read_text(encoding="utf-8")
    assert text.count("    def __sub__(self, other):") == 1
    path.write_text(text.replace("    def __sub__(self, other):", "    def __sub__(self, other):\n"
                                 "        pass  # an edit, saved\n", 1), encoding="utf-8")  # fmt: skip
    feedback = check_step("04", module)
    assert feedback.status == "hint"
    assert (
        "your saved mygrad_saved.py has changed since this notebook loaded it" in feedback.message
    )
    assert "importlib.reload(mygrad)" in feedback.message
    module = importlib.reload(module)  # what the cell above the check does
    assert stale_engine(module) is None


def test_a_saved_file_that_is_not_python_is_named_with_its_line(engine):
    module, path = engine
    text = path.read_text(encoding="utf-8")
    assert text.count("        self.grad = None\n") == 1
    path.write_text(text.replace("        self.grad = None\n", "        self.grad = None)\n"))
    line = 1 + path.read_text(encoding="utf-8").splitlines().index("        self.grad = None)")
    message = check_step("03", module).message
    assert (
        f"your saved mygrad_saved.py is not valid Python (SyntaxError on line {line}: "
        "unmatched ')')" in message
    )
    # Reloading cannot help until the file is fixed (the reload cell fails with the same error),
    # so the check sends the learner to the editor first, and only then to the reload cell: a
    # learner who had just run the reload cell was told to run it again, and went round.
    with pytest.raises(SyntaxError):
        importlib.reload(module)
    assert "correct it in the editor and save it, then run the cell that reloads it" in message
    assert check_step("03", module).message == message  # after the failed reload: the same


def test_a_save_that_fails_when_it_runs_sends_the_learner_to_the_reload_cells_error(engine):
    # valid Python that raises on import: the reload cell fails with a traceback naming the
    # line; the check (still on the old module) must not only repeat "run the reload cell"
    module, path = engine
    text = path.read_text(encoding="utf-8")
    assert text.count("\nclass Tensor") == 1
    broken = text.replace("\nclass Tensor", "\n_rng = np.random.default_rgn(0)\n\n\nclass Tensor")
    path.write_text(broken, encoding="utf-8")  # a typo above the class: the reload stops there
    with pytest.raises(AttributeError):
        importlib.reload(module)
    message = check_step("03", module).message
    assert "has changed since this notebook loaded it" in message
    assert "if that cell fails, correct the line its error names and save again" in message


def test_a_line_moved_by_an_edit_above_it_counts_as_a_change(engine):
    module, path = engine
    path.write_text("# my notes\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert "has changed" in stale_engine(module)


RENAMED = """def _topo(x):
    return [x]


def topo_order(x):
    return _topo(x)


class Scratch:
    def note(self):
        return 1
"""


def test_a_function_renamed_before_the_reload_is_not_a_change_for_ever(tmp_path, monkeypatch):
    """A reload keeps the names the saved file dropped: the old ``_topo`` and ``Scratch`` stayed
    in the module, and the check said "has changed" after every reload, until a restart."""
    path = tmp_path / "mygrad_renamed.py"
    path.write_text(RENAMED, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = imported(path, "mygrad_renamed")
    try:
        renamed = RENAMED.replace("_topo", "_walk").split("\n\n\nclass")[0] + "\n"
        path.write_text(renamed, encoding="utf-8")
        assert "has changed" in stale_engine(module)  # its caller changed: not reloaded yet
        module = importlib.reload(module)
        assert hasattr(module, "_topo") and hasattr(module, "Scratch")  # what reload keeps
        assert stale_engine(module) is None
        path.write_text(renamed.replace("[x]", "[x, x]"), encoding="utf-8")
        assert "has changed" in stale_engine(module)  # a change of what the file defines
    finally:
        sys.modules.pop("mygrad_renamed", None)


LEARNERS_FILE = """
import functools

import numpy as np


def traced(f):  # a decorator of the learner's, with and without functools.wraps
    @functools.wraps(f)
    def inner(*args):
        return f(*args)
    return inner


def bare(f):
    def inner(*args):
        return f(*args)
    return inner


class Tensor:
    class Meta:  # a class inside a class
        def note(self):
            return "meta"

    def __init__(self, data):
        self._data = np.asarray(data, dtype=float)

    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, value):  # the same qualname as the getter
        self._data = np.asarray(value, dtype=float)

    @staticmethod
    def zeros(n):
        return Tensor(np.zeros(n))

    @classmethod
    def ones(cls, n):
        return cls(np.ones(n))

    @traced
    def double(self):
        return Tensor(self._data * 2)

    @bare
    def triple(self):
        return Tensor(self._data * 3)

    __radd__ = lambda self, other: Tensor(self._data + other)  # noqa: E731


class Touchy:  # an object whose every attribute raises (not AttributeError)
    def __getattr__(self, name):
        raise RuntimeError(name)


touchy = Touchy()
square = lambda x: x * x  # noqa: E731
SIZES = [n * n for n in range(3)]
"""


def test_no_shape_of_a_learners_file_reads_as_changed_when_it_is_not(tmp_path):
    path = tmp_path / "mygrad.py"
    path.write_text(LEARNERS_FILE, encoding="utf-8")
    module = imported(path, "mygrad_shapes")
    module.Tensor.from_notebook = lambda self: self  # a method a notebook cell attached
    try:
        assert stale_engine(module) is None
        path.write_text(LEARNERS_FILE.replace("* 2)", "* 2.0)"), encoding="utf-8")
        assert "has changed" in stale_engine(module)  # inside a decorated (wrapped) method
        path.write_text(LEARNERS_FILE, encoding="utf-8")
        assert stale_engine(module) is None  # saved again as it was loaded
        path.write_text(LEARNERS_FILE.replace('"meta"', '"inner"'), encoding="utf-8")
        assert "has changed" in stale_engine(module)
    finally:
        sys.modules.pop("mygrad_shapes", None)


def test_the_student_release_of_mygrad_is_its_saved_file(tmp_path):
    path = tmp_path / "mygrad.py"
    path.write_text(strip_solutions(SOURCE.read_text(encoding="utf-8")), encoding="utf-8")
    module = imported(path, "mygrad_release")
    try:
        assert stale_engine(module) is None
        assert check_step("03", module).status == "not done"
    finally:
        sys.modules.pop("mygrad_release", None)


def test_modules_without_a_file_are_not_compared():
    class Stand_in:  # the grader's stand-in for the learner's module is not a module
        __file__ = str(SOURCE)

    assert stale_engine(Stand_in()) is None
    assert stale_engine(importlib.import_module("backproplab.ops")) is None
    # `plan` runs each engine check on variants of the teacher's file made from strings, with
    # the file's path as __file__ (for the checks' reading of the source): not the saved file
    variant = ModuleType("mygrad")
    variant.__file__ = str(SOURCE)
    exec(compile("def own_op():\n    return 'square'\n", str(SOURCE), "exec"), vars(variant))
    assert stale_engine(variant) is None
