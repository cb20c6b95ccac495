"""Evaluating one teacher check in the grader, with proxies for the student's functions."""

from __future__ import annotations

import ast
import builtins
import importlib.util
import math
import numbers
import sys
from collections.abc import Collection
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from backproplab.exercises import Feedback, correct, hint, not_done
from backproplab.exercises._crash import teachers_code
from backproplab.exercises._draws import draw

from ._grades import CheckResult
from ._learner_classes import ungradable
from ._learner_imports import split_imports
from ._learner_objects import LearnerObject, kept_line
from ._parse import compile_tree
from ._session import FromStudent, GradingStop, ModuleProxy, Proxy, Session
from ._source import TeacherCheck, TeacherNotebook, binds, cell_code, parse_cell
from ._values import give_values, run_teacher_cells
from .release import BEGIN_HIDDEN, END_HIDDEN

__all__ = ["evaluate_check", "setup_namespace"]


def setup_namespace(teacher: TeacherNotebook) -> dict[str, Any]:
    """A namespace holding the teacher notebook's imports and definitions, run in the grader.

    The grader runs it once per teacher notebook before any kernel starts, so that the modules
    the checks import (sympy...) are imported before a student's code could write a module of
    the same name somewhere on the grader's path."""
    namespace = _fresh(teacher)
    failed = namespace[_FAILED]  # name -> why the teacher's statement binding it failed here
    if teacher.values is None:  # once: the values the checks take from the teacher's cells
        run_teacher_cells(teacher, _fresh(teacher))
    for statement in teacher.setup:  # the teacher's imports and definitions
        try:
            exec(compile_tree(ast.Module([statement], []), teacher.name, "exec"), namespace)
        except Exception as error:  # noqa: BLE001, S102 - a failing import is the check's problem below
            code = ast.unparse(statement).partition("\n")[0]
            why = f"`{code}` failed in the grader: {_said(error)}"
            if isinstance(error, ModuleNotFoundError):
                why += " (a module of the teacher's own must be a .py file beside the notebook)"
            for name in binds(statement):
                failed.setdefault(name, why)
    return namespace


def _fresh(teacher: TeacherNotebook) -> dict[str, Any]:
    """An empty namespace for the teacher's code, whose ``import`` of a module of the
    teacher's beside the notebook (`import mychecks`) gives the teacher's file, never the
    student's copy."""
    namespace: dict[str, Any] = {"__name__": "backproplab_grading_check", _FAILED: {}}
    if teacher.own_modules:
        _own_modules(teacher, namespace[_FAILED])
        folder = next(iter(teacher.own_modules.values())).parent
        importer = _importer(teacher, folder, only=teacher.own_modules)  # never mygrad.py
        namespace["__builtins__"] = {**builtins.__dict__, "__import__": importer}
    return namespace


_FAILED = "__backproplab_setup_failed__"


def _own_modules(teacher: TeacherNotebook, failed: dict[str, str]) -> None:
    """The teacher's own modules beside the notebook (``teacher.own_modules``), each loaded
    from the teacher's folder once per grading run (``load_source`` makes a new ``teacher``):
    ``grade_folder`` calls ``setup_namespace`` before any kernel starts, so no student's code
    can have changed the files yet. Why a module failed to load is kept in ``failed``."""
    if teacher.loaded is None:
        teacher.loaded = {}
        for name, path in teacher.own_modules.items():
            try:
                _load_own(teacher, name, path)
            except Exception as error:  # noqa: BLE001 - said when a check needs the module
                teacher.loaded[name] = f"{path.name} failed to import: {_said(error)}"
    for name, loaded in teacher.loaded.items():
        if isinstance(loaded, str):
            failed[name] = loaded


def _load_own(teacher: TeacherNotebook, name: str, path: Path) -> ModuleType:
    """The teacher's module ``name`` from ``path``, under a name private to this notebook, its
    imports of modules beside it (``import helpers`` in ``mychecks.py``, at its top or in a
    function) loaded the same way: two notebooks of the source in two folders, each with its
    own ``mychecks.py`` and ``helpers.py``, each get theirs."""
    assert teacher.loaded is not None
    if name in teacher.loaded:
        loaded = teacher.loaded[name]
        if isinstance(loaded, str):  # it failed once: not run again
            raise ImportError(loaded)
        return loaded
    private = f"backproplab_teacher_{id(teacher):x}_{name}"
    spec = importlib.util.spec_from_file_location(private, path)
    assert spec is not None and spec.loader is not None  # a .py file
    module = importlib.util.module_from_spec(spec)
    importer = _importer(teacher, path.parent)  # its imports, at its top or in its functions
    vars(module)["__builtins__"] = {**builtins.__dict__, "__import__": importer}
    teacher.loaded[name] = sys.modules[private] = module  # (dataclasses, pickle look it up)
    sys.path.insert(0, str(path.parent))  # a package beside it (a .py module is loaded above)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del teacher.loaded[name], sys.modules[private]
        raise
    finally:
        sys.path.remove(str(path.parent))
    return module


def _importer(teacher: TeacherNotebook, folder: Path, only: Collection[str] | None = None) -> Any:
    """``__import__`` that gives the teacher's own modules beside the notebook for their
    names (those in ``only``, if given), loaded by ``_load_own``, and imports every other
    module as Python does."""

    def importer(name: str, globals=None, locals=None, fromlist=(), level: int = 0) -> Any:  # noqa: A002
        mine = name in only if only is not None else name.isidentifier()
        if level == 0 and mine and (folder / f"{name}.py").is_file():
            return _load_own(teacher, name, folder / f"{name}.py")
        return builtins.__import__(name, globals, locals, fromlist, level)

    return importer


def _said(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _name_error(
    error: NameError, check: TeacherCheck, teacher: TeacherNotebook, namespace: dict, why: dict
) -> str:
    """What a NameError in the grader means: a name of the teacher's that the grader could not
    bind (an import that failed here, a value computed from the student's answer, one assigned
    only after the check's cell: ``why``, from _values.py), a value the student's solution cell
    assigns, or the error itself."""
    name = getattr(error, "name", None)
    if name and name in namespace[_FAILED]:
        return f"{_said(error)}: the teacher's {namespace[_FAILED][name]}"
    if name and name in why:
        return f"{_said(error)}: {why[name]}"
    if name and teacher.assigned.get(name, 0) > check.cell:
        return (
            f"{_said(error)}: {name} is assigned in code cell {teacher.assigned[name]} of the "
            f"teacher's {teacher.name}, after the check's code cell {check.cell}: assign it "
            "before the check"
        )
    if name and name in teacher.in_solutions and name not in teacher.assigned:
        cell, how = teacher.in_solutions[name]
        where = f"a solution cell (code cell {cell} of the teacher's {teacher.name})"
        if how == "import":  # the student's import: the grader runs the teacher's cells only
            return (
                f"{_said(error)}: {name} is imported in {where}, which the grader does not run: "
                "import it in a cell that is no solution cell"
            )
        if how == "lambda":
            return (
                f"{_said(error)}: {name} is a lambda of {where}, and the grader calls a "
                f"student's functions written with def only: write it as def {name}(...)"
            )
        return (
            f"{_said(error)}: {name} is assigned in {where}, and the grader reads no student's "
            "values, it calls their functions: ask for a function and call it in the check"
        )
    return _said(error)


def _failed_test(check: TeacherCheck, error: Exception) -> Feedback:
    """What a check cell of asserts that raised says: not done (a stub), the assert's message,
    or the error, and which test failed: quoted if the student's copy shows it, "a hidden test"
    if it does not (the release removed it)."""
    if isinstance(error, NotImplementedError):  # the student's function is still a stub
        return not_done(check.exercise)
    test = _failed_line(check, error)
    if not isinstance(error, AssertionError):
        return hint(check.exercise, f"the check raised {_said(error)}{test and f' ({test})'}")
    return hint(check.exercise, str(error) or f"{test or 'a test of the check'} failed.")


def _failed_line(check: TeacherCheck, error: Exception) -> str:
    """The statement of the check cell where ``error`` came from, as "`assert ...`" (its first
    line), or "a hidden test" inside a hidden tests region; "" if it cannot be told."""
    tb, lineno = error.__traceback__, None
    while tb is not None and lineno is None:  # the cell's own frame, not a function it called
        if tb.tb_frame.f_code.co_filename == check.grade_id:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    code = cell_code(check.source)  # the lines the check's code was compiled from
    lines = code.split("\n")
    if lineno is None or not 0 < lineno <= len(lines):
        return ""
    if sum(BEGIN_HIDDEN in line or END_HIDDEN in line for line in lines[: lineno - 1]) % 2:
        return "a hidden test"
    tree = parse_cell(check.source)
    for node in tree.body if tree else []:
        if node.lineno <= lineno <= (node.end_lineno or node.lineno):
            first = (ast.get_source_segment(code, node) or "").split("\n")[0].strip()
            return f"`{first[:77]}...`" if len(first) > 80 else f"`{first}`"
    return ""


def _reached(tree: ast.Module, teacher: TeacherNotebook) -> list[ast.AST]:
    """The check cell's code and the functions of the teacher's notebook it calls, and those
    they call in turn (``check_squares(squares)``)."""
    functions = {s.name: s for s in teacher.setup if isinstance(s, ast.FunctionDef)}
    found: list[ast.AST] = [tree]
    for each in found:  # (grows as it goes)
        for node in ast.walk(each):
            name = getattr(getattr(node, "func", None), "id", None)
            if isinstance(node, ast.Call) and name in functions and functions[name] not in found:
                found.append(functions[name])
    return found


def _nbgrader_style(code: list[ast.AST]) -> bool:
    """A check cell of tests as nbgrader writes them, scored as nbgrader scores it (full points
    if it runs without an error): it holds an `assert`, an `assert...(...)` call
    (`np.testing.assert_allclose`, nose's `assert_raises`) or a `raise`, itself or in a function
    of the teacher's notebook it calls (`check_squares(squares)` raising on a wrong answer):
    ``code``, from ``_reached``."""
    for node in (node for each in code for node in ast.walk(each)):
        if isinstance(node, (ast.Assert, ast.Raise)):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name.startswith("assert"):
                return True
    return False


def _makes_feedback(code: list[ast.AST], namespace: dict[str, Any]) -> bool:
    """Whether ``code`` (``_reached``) makes a Feedback (``correct(...)``, ``hint(...)``, a check
    of backproplab.exercises): such a check answers with the Feedback it returns, so one that
    returns nothing has lost it (a forgotten ``return``), whatever `raise` it holds; it is never
    "every test passed"."""
    for node in (node for each in code for node in ast.walk(each)):
        value: Any = None
        if isinstance(node, ast.Name):
            value = namespace.get(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            value = getattr(namespace.get(node.value.id), node.attr, None)
        if value is Feedback or (
            callable(value)
            and str(getattr(value, "__module__", "")).startswith("backproplab.exercises")
        ):
            return True
    return False


def _replaces(tree: ast.Module) -> set[str]:
    """The names a check cell deletes (``del squares``) or binds to something that does not
    read them (``squares = lambda n: []``; ``f = np.vectorize(f)`` reads ``f``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Delete):
            found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.Assign):
            read = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            found |= {t.id for t in node.targets if isinstance(t, ast.Name)} - read
    return found


def _is_score(value: Any) -> bool:
    """Whether a check cell's last value is a score: nbgrader's partial credit."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def evaluate_check(
    check: TeacherCheck, teacher: TeacherNotebook, session: Session, check_draw: int | None = None
) -> CheckResult:
    """Run the teacher's check cell in the grader, with proxies for the student's functions, its
    random inputs drawn with ``check_draw`` (exercises._draws; None: the notebook's own)."""
    namespace = setup_namespace(teacher)
    tree = parse_cell(check.source)
    if tree is not None and check.imports:  # `from mygrad import run`: run in the kernel, and
        # the names it binds are proxies here
        tree.body = split_imports(tree.body, teacher.learner_modules)[1]
    code = _reached(tree, teacher) if tree is not None else []
    asserts, makes_feedback = _nbgrader_style(code), _makes_feedback(code, namespace)
    why = give_values(check, teacher, namespace)  # x_test = ... of the teacher's other cells
    for name in teacher.functions:
        namespace[name] = Proxy(session, name)
    session.exercises = frozenset(teacher.functions)
    session.module_of = teacher.module_of  # the files of the learner's modules the names bind
    session.imported = teacher.imported
    for name in teacher.modules:
        namespace[name] = ModuleProxy(session, name)
    session.package_calls, session.package_uses, session.origins = [], [], []
    result = CheckResult(check.exercise, check.points, 0.0, "error")
    replaced = sorted(_replaces(tree) & set(teacher.functions)) if tree else []
    if replaced:  # nbgrader's `del squares`, to see that sum_of_squares uses it
        result.message = (
            f"the teacher's check deletes or replaces the student's {replaced[0]}, which the "
            "grader cannot do: their functions run in their kernel, where it stays as they "
            "wrote it (a right answer would fail); test it another way"
        )
        return result
    result.message = ungradable(check, teacher)  # Tensor(...) of the learner's mygrad.py
    if result.message:
        return result
    feedback: Any = None
    partial: float | None = None  # the points a cell that ends in a number gives (nbgrader)
    try:
        if tree is None or not tree.body:
            raise ValueError("the teacher's check cell is not Python")
        last = tree.body[-1]
        if not asserts and not isinstance(last, ast.Expr):
            raise ValueError(
                "the teacher's check cell neither ends in a call of a check (which returns a "
                "Feedback) nor holds an `assert`"
            )
        body = ast.Module(tree.body[:-1] if isinstance(last, ast.Expr) else tree.body, [])
        # a crash's hint quotes the student's line only, never the check's; the inputs are the
        # draw's, which the student's kernel sees only as the arguments of the calls
        with teachers_code(), draw(check_draw):
            exec(compile_tree(body, check.grade_id, "exec"), namespace)  # noqa: S102 - teacher's code
            if isinstance(last, ast.Expr):
                expression = compile_tree(ast.Expression(last.value), check.grade_id, "eval")
                feedback = eval(expression, namespace)  # noqa: S307 - the teacher's code
        if _is_score(feedback):
            value = float(feedback)
            partial = min(max(value, 0.0), check.points) if math.isfinite(value) else 0.0
            given = f"the check gave {partial:g} of {check.points:g} points."
            feedback = (correct if partial == check.points else hint)(check.exercise, given)
        elif asserts and not makes_feedback and not isinstance(feedback, Feedback):
            feedback = correct(check.exercise, "every test of the check passed.")
    except LearnerObject as kept:  # mygrad.as_tensor(x): its Tensor cannot leave the kernel
        result.message = kept_line(check.cell, teacher.name, kept.name, kept.qualname, kept.file)
        return result
    except GradingStop as stop:
        timed_out = "longer than" in str(stop) or "budget" in str(stop)
        result.status, result.message = ("timeout" if timed_out else "error"), str(stop)
        return result
    except Exception as error:  # noqa: BLE001 - the teacher's check failed in the grader
        # the student's exceptions are FromStudent: their function failed a test, whatever its
        # error's name (a NameError, an ImportError), in a check that does not make a Feedback
        # (nbgrader's asserts, a partial credit's sum); a Feedback check should have caught it
        student = isinstance(error, FromStudent)
        if isinstance(error, NameError) and not student:
            said = _name_error(error, check, teacher, namespace, why)
            result.message = f"the check failed in the grader: {said}"
            return result
        if isinstance(error, NameError) and makes_feedback:
            # the student's function is missing (its cell raised, a typo in its def line), met
            # where the check reads its code: in the notebook the check cell raises it itself
            feedback = hint(check.exercise, f"your code raised {_said(error)}")
        elif not (asserts or student and not makes_feedback) or (
            isinstance(error, ImportError) and not student
        ):
            result.message = f"the check failed in the grader: {_said(error)}"
            return result
        else:
            feedback = _failed_test(check, error)  # as nbgrader: an error scores 0
    if not isinstance(feedback, Feedback):
        result.message = f"the teacher's check returned {type(feedback).__name__}, not Feedback"
        if feedback is None and makes_feedback:
            result.message += " (does a function of the check make one and forget to return it?)"
        return result
    result.status, result.message = feedback.status, str(feedback)
    if session.package_calls:
        result.status = "package"
        result.message = (
            f"answered by calling {', '.join(session.package_calls[:3])}: "
            "the exercise asks for your own code, scored 0"
        )
    elif session.package_uses and feedback.status != "correct":  # refused without a call
        result.status = "package"
        result.message = f"{feedback} (its code uses {', '.join(session.package_uses[:3])})"
    result.score = check.points if result.status == "correct" else 0.0
    if partial and result.status == "hint":  # some of the points: a score between
        result.score, result.status = partial, "partial"
    return result
