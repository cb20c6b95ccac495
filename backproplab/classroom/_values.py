"""The values a teacher's checks take from the notebook's other cells (``x_test = ...``).

nbgrader runs a whole notebook, so a check cell may use what the teacher's earlier cells
assigned. This grader runs each check on its own, in a namespace of the teacher's imports,
functions and classes (_check.py). For the names a check reads that the teacher's other cells
give a value, it runs those cells once per grading, in the grader, before any kernel starts:
their top-level statements in order, up to the check's cell, except the ones whose result could
depend on what a student wrote (a call of a solution's function, a use of its result, an import
of the learner's ``mygrad``: _dependence.py). A name such a statement binds, or whose object it
may change, then has no value, and a check that reads it says why; so has a name a solution
cell or another check's cell binds (the grader runs neither). What a check reads is kept
as it was at the check's cell, and each evaluation gets its own deep copy: a student's function
that changes an array it is handed changes nothing for the next check or the next student. A
function the cells made (``get_x = lambda: x_test``, a closure) is copied too, with the globals
it reads and its closure's cells (``_copy_function``): deepcopy would hand every evaluation the
same function, and so the same array. So the copies are ``_deep``'s, not deepcopy's.

Nothing runs when no check reads such a name (the curriculum's checks read none). The cells run
in the notebook's folder (a file they read is found as in the notebook), once, with no time
limit; what they print, draw or warn is discarded.
"""

from __future__ import annotations

import ast
import contextlib
import copyreg
import io
import os
import random
import sys
import types
import warnings
import weakref
from collections.abc import Iterator
from typing import Any

from ._dependence import notebook_names
from ._parse import compile_tree
from ._source import TeacherCheck, TeacherNotebook

__all__ = ["give_values", "run_teacher_cells"]


def run_teacher_cells(teacher: TeacherNotebook, namespace: dict[str, Any]) -> None:
    """Run, in ``namespace`` (fresh: builtins and the teacher's importer), the statements of the
    teacher's other cells that the checks' values need; set ``teacher.values`` and
    ``teacher.defined``."""
    teacher.values = {}
    wanted = sorted((c for c in teacher.checks if c.needs), key=lambda c: c.cell)
    if not wanted:
        return
    namespace[_CELLS] = True  # its functions are copied with the values that hold them
    missing: dict[str, str] = {}  # name -> why it has no value in ``namespace``
    code = iter(teacher.code)
    pending = next(code, None)
    with _quietly(), contextlib.chdir(teacher.folder or "."):  # `np.load("x_test.npy")`
        for check in wanted:
            while pending is not None and pending[0] < check.cell:
                _run(teacher, pending, namespace, missing)
                pending = next(code, None)
            teacher.values[check.grade_id] = _kept(teacher, check, namespace, missing)
    teacher.defined = {
        name: value
        for name, value in namespace.items()
        if isinstance(value, (type, types.FunctionType))
    }


def _run(
    teacher: TeacherNotebook,
    step: tuple[int, ast.stmt, bool, frozenset[str]],
    namespace: dict[str, Any],
    missing: dict[str, str],
) -> None:
    cell, statement, runs, tainted = step
    bound = notebook_names(ast.unparse(statement))[0]
    check = next((c for c in teacher.checks if c.cell == cell), None)
    if check is not None:  # a check cell's `x_test = ...`: the later checks cannot have it
        for name in bound:
            namespace.pop(name, None)
            missing[name] = (
                f"{name} is assigned in the check cell {check.grade_id} (code cell {cell} of "
                f"the teacher's {teacher.name}), and the grader runs each check on its own, "
                "never another check's cell: assign it in a cell that is not a check"
            )
    elif runs:
        try:
            exec(compile_tree(ast.Module([statement], []), teacher.name, "exec"), namespace)  # noqa: S102
        except Exception as error:  # noqa: BLE001 - said to the check that needs the name
            line = ast.unparse(statement).partition("\n")[0]
            for name in bound:
                namespace.pop(name, None)
                missing[name] = (
                    f"{name} has no value in the grader: the teacher's `{line}` (code cell "
                    f"{cell} of {teacher.name}) failed there: {type(error).__name__}: {error}"
                )
        else:
            for name in bound:
                missing.pop(name, None)
    for name in tainted:  # (what a skipped statement binds is among them)
        if name in namespace or name not in missing:
            namespace.pop(name, None)
            missing[name] = (
                f"{name} depends on the student's answer (code cell {cell} of the teacher's "
                f"{teacher.name}), and the grader calls the student's functions only inside a "
                "check: compute it in the check's cell"
            )


def _kept(
    teacher: TeacherNotebook, check: TeacherCheck, namespace: dict[str, Any], missing: dict
) -> tuple[dict[str, Any], dict[str, str]]:
    """The values ``check`` needs as they are now, each a copy, and why the others have none."""
    values, why = {}, {}
    memo: dict[int, Any] = {}  # one for all: `d = {"x": x_test}` holds the check's x_test
    for name in sorted(check.needs):
        if name in namespace:
            try:
                values[name] = _deep(namespace[name], memo)
            except Exception as error:  # noqa: BLE001 - a generator, a lock, an open file
                why[name] = (
                    f"the teacher's {name} cannot be copied for each student: "
                    f"{type(error).__name__}: {error}: assign it in the check's cell"
                )
        elif name in missing:
            why[name] = missing[name]
    return values, why


def give_values(check: TeacherCheck, teacher: TeacherNotebook, namespace: dict[str, Any]) -> dict:
    """Put into ``namespace`` (the check's, of fresh imports and definitions) a copy of each
    value ``check`` needs, whose teacher's functions and classes are the namespace's own (an
    instance of the teacher's class is one of the class the check sees); returns name -> why
    there is no value, for the names that have none."""
    values, why = (teacher.values or {}).get(check.grade_id, ({}, {}))
    memo = {id(old): namespace[name] for name, old in teacher.defined.items() if name in namespace}
    for name, value in values.items():
        namespace[name] = _deep(value, memo)
    return why


_CELLS = "__backproplab_teacher_cells__"  # in the globals of the teacher's cells as run here


def _copy_function(function: types.FunctionType, memo: dict[int, Any]) -> Any:
    """``_deep``'s rule for a function. One made by the teacher's cells as the grader ran them
    (a lambda, a closure: ``get_x = lambda: x_test``, ``get_x = make()``) is copied with what it
    refers to, the globals it reads and its closure's cells, so that a student's function that
    writes into the array it returns changes it for no one else, and it reads them as they were
    at the check's cell. Any other function is itself, as deepcopy has it."""
    source = function.__globals__
    if source.get(_CELLS) is not True:
        return function
    names: set[str] = set()
    codes = [function.__code__]
    while codes:  # the global names it and the functions in it read
        code = codes.pop()
        names.update(code.co_names)
        codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    scope = memo.get(id(source))
    if scope is None:  # one copy of the cells' globals for every function that reads them
        scope = memo[id(source)] = dict(source)
        memo.setdefault(id(memo), []).append(source)  # (kept alive, as deepcopy does)
    new_cells = [c for c in function.__closure__ or () if id(c) not in memo]
    for cell in new_cells:
        memo[id(cell)] = types.CellType()
    cells = tuple(memo[id(cell)] for cell in function.__closure__ or ())
    copied = types.FunctionType(function.__code__, scope, function.__name__, None, cells or None)
    # known before what it reads is copied: a function that calls itself (or a closure that
    # holds itself) is copied once, where it recursed until Python's recursion limit
    memo[id(function)] = copied
    for name in names & source.keys():
        if scope[name] is source[name]:
            with contextlib.suppress(Exception):  # a module: itself
                scope[name] = _deep(source[name], memo)
    for cell in new_cells:
        with contextlib.suppress(ValueError):  # (an empty cell)
            memo[id(cell)].cell_contents = _deep(cell.cell_contents, memo)
    copied.__defaults__ = _deep(function.__defaults__, memo)
    copied.__kwdefaults__ = _deep(function.__kwdefaults__, memo)
    copied.__dict__.update(_deep(function.__dict__, memo))
    copied.__qualname__, copied.__module__ = function.__qualname__, function.__module__
    copied.__doc__ = function.__doc__
    return copied


# What deepcopy returns as it is, never looked into (functions and classes are ``_deep``'s).
_ATOMIC = frozenset({types.NoneType, types.EllipsisType, types.NotImplementedType, int, float,
                     bool, complex, bytes, str, range, types.CodeType, types.BuiltinFunctionType,
                     weakref.ref, property})  # fmt: skip


def _deep(x: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy(x, memo)``, except for two kinds of objects, wherever they are in ``x``:
    a function is ``_copy_function``'s copy (the teacher's cells' are copied), and a class (or a
    function) that ``memo`` maps to another is that other (``give_values``: the teacher's class
    is the check's). deepcopy returns both as they are, and since Python 3.14 it does so before
    it reads ``memo`` or any table of its, so no rule given to it from outside (its private
    ``_deepcopy_dispatch``, which this module used to fill) can reach them there. The rest
    follows deepcopy's rules: lists, dicts and tuples item by item, an object's own
    ``__deepcopy__`` (numpy's arrays), otherwise what ``__reduce_ex__(4)`` (or ``copyreg``)
    says to rebuild it from."""
    if id(x) in memo:
        return memo[id(x)]
    cls = type(x)
    if cls is types.FunctionType:
        return _copy_function(x, memo)
    if cls in _ATOMIC or issubclass(cls, type):
        return x
    y: Any
    if cls is list:
        y = memo[id(x)] = []
        y.extend(_deep(item, memo) for item in x)
    elif cls is dict:
        y = memo[id(x)] = {}
        y.update((_deep(key, memo), _deep(value, memo)) for key, value in x.items())
    elif cls is tuple:
        items = tuple(_deep(item, memo) for item in x)
        if id(x) in memo:  # a tuple that holds itself (through a list)
            return memo[id(x)]
        y = x if all(a is b for a, b in zip(items, x, strict=True)) else items
    elif hasattr(x, "__deepcopy__"):
        y = x.__deepcopy__(memo)
    else:
        reductor = copyreg.dispatch_table.get(cls)
        rv = reductor(x) if reductor is not None else x.__reduce_ex__(4)
        if isinstance(rv, str):  # a global's name: the object itself
            return x
        y = _rebuild(x, memo, *rv)
    if y is not x:
        memo[id(x)] = y
        memo.setdefault(id(memo), []).append(x)  # kept alive while memo is, as deepcopy does
    return y


def _rebuild(
    x: Any, memo: dict[int, Any], func: Any, args: tuple, state: Any = None,
    listitems: Any = None, dictitems: Any = None, setter: Any = None,
) -> Any:  # fmt: skip
    """The copy of ``x`` made from what its ``__reduce_ex__`` returned, each part a ``_deep``
    copy (deepcopy's ``_reconstruct``, with pickle's sixth item, the state setter)."""
    y = func(*_deep(args, memo))
    memo[id(x)] = y
    if state is not None:
        state = _deep(state, memo)
        if setter is not None:
            setter(y, state)
        elif hasattr(y, "__setstate__"):
            y.__setstate__(state)
        else:
            slots = None
            if isinstance(state, tuple) and len(state) == 2:
                state, slots = state
            if state:
                y.__dict__.update(state)
            for key, value in (slots or {}).items():
                setattr(y, key, value)
    for item in listitems or ():
        y.append(_deep(item, memo))
    for key, value in dictitems or ():
        y[_deep(key, memo)] = _deep(value, memo)
    return y


@contextlib.contextmanager
def _quietly() -> Iterator[None]:
    """The teacher's cells print, plot and warn into nothing; ``plt.show()`` opens no window
    (matplotlib's Agg backend) and ``input()`` gets an end of file, never the terminal. What
    they change of the grader's process is undone after them, so that every check (of every
    notebook graded) and every kernel started later meet the process as without them: numpy's
    and Python's random state, numpy's error state and print options, the working folder (the
    command's relative paths), ``sys.path`` and the environment (which kernels inherit)."""
    import matplotlib
    import numpy as np

    backend = matplotlib.get_backend()  # given back after: `grade` run from a notebook's kernel
    matplotlib.use("Agg")
    # numpy's legacy global random state: the one `np.random.seed(0)` in a teacher's cell sets
    saved = (np.geterr(), np.random.get_state(), random.getstate(), np.get_printoptions())  # noqa: NPY002
    folder, path, environment = os.getcwd(), list(sys.path), dict(os.environ)
    stdin, sys.stdin = sys.stdin, io.StringIO()
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.stdin = stdin
        np.seterr(**saved[0])
        np.random.set_state(saved[1])  # noqa: NPY002
        random.setstate(saved[2])
        np.set_printoptions(**saved[3])
        os.chdir(folder)
        sys.path[:] = path
        for name in set(os.environ) - set(environment):
            del os.environ[name]
        os.environ.update(environment)
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
        matplotlib.use(backend)
