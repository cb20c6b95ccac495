"""What an answer's code uses, read without running it: the checks that refuse an answer which
lets numpy, sympy or the package do the exercise (``names_used``, ``uses_package``) read the
learner's function, the helpers of the learner's own that it reaches (in functions, objects,
methods, partials, wrappers and containers) and the real names of what it calls under another.
In the grader the function lives in the student's kernel: ``RemoteFunction`` stands for it
there, and the kernel answers with these same functions."""

from __future__ import annotations

import dis
import functools
import importlib
import inspect
import itertools
import types
from collections.abc import Callable
from typing import Any

import numpy as np


def _names(code: types.CodeType) -> set[str]:
    """Global and attribute names used by ``code`` and the functions defined inside it."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _global_names(code: types.CodeType) -> set[str]:
    """The names ``code`` and the functions defined inside it read as globals: ``np`` in
    ``np.exp(x)``, not ``exp``, and not ``data`` in ``x.data`` (which a global ``data`` of the
    notebook's must not answer for)."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname in _GLOBAL_LOADS}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


_GLOBAL_LOADS = ("LOAD_GLOBAL", "LOAD_NAME")


def _imported(code: types.CodeType) -> list[Any]:
    """What ``code`` and the functions defined inside it import from the package: the modules of
    ``import backproplab as bl`` and the objects of ``from backproplab.x import y``. An import
    inside a function binds a local name, so the globals the function reads do not show it."""
    found: list[Any] = []
    imports: list[tuple[str, list[str]]] = []  # (module, the names taken from it)
    for instruction in dis.get_instructions(code):
        if instruction.opname == "IMPORT_NAME":
            imports.append((instruction.argval, []))
        elif instruction.opname == "IMPORT_FROM" and imports:
            imports[-1][1].append(instruction.argval)
    for module_name, names in imports:
        if module_name.split(".")[0] != "backproplab":
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # the answer fails at its import anyway
            continue
        found += [getattr(module, n, module) for n in names] if names else [module]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found += _imported(const)
    return found


class RemoteFunction:
    """Base of a stand-in for a function whose code is in another process: the grader's proxy
    for a student's function (``backproplab.classroom``). ``names_used`` and ``uses_package``
    ask it, and it answers with the same function run where the function is (the student's
    kernel); so does ``call_measured`` (the memory a call takes, ``_memory.py``), and so does
    ``parameter_names`` (for a hint that names the arrays a crashed call was given)."""

    def names_used(self) -> set[str]:
        """The names the code of the function it stands for uses (see ``names_used``)."""
        raise NotImplementedError

    def uses_package(self, allowed: tuple = (), global_tensors: bool = False) -> bool:
        """``uses_package``'s verdict on the function it stands for, ``allowed`` (and with
        ``global_tensors`` the tensors among its globals) included."""
        raise NotImplementedError

    def call_measured(self, *args: Any) -> tuple[Any, int]:
        """The function it stands for called on ``args`` where it runs: its result and the peak
        memory (bytes) the call allocated there (see ``_memory.call_measured``)."""
        raise NotImplementedError

    def parameter_names(self, count: int) -> list[str | None]:
        """The names of the parameters that receive the first ``count`` positional arguments of
        the function it stands for (see ``_crash.parameter_names``)."""
        raise NotImplementedError


def names_used(fn: Callable[..., Any]) -> set[str]:
    """The global and attribute names ``fn``'s code uses, inner functions included, and so do
    the functions of the learner's own that it calls, however deep (an answer split into helpers
    is read whole; none for a builtin): to refuse an answer that calls one particular function.
    What the code reaches under another name counts by its real name (see ``_own_functions``)."""
    if isinstance(fn, RemoteFunction):  # in the grader: the student's kernel reads the code
        return fn.names_used()
    names: set[str] = set()
    for f, reached in _own_functions(fn):
        names |= _names(f.__code__)
        # and the real names of what it reaches under another (e = np.exp; def f(x, e=np.exp))
        names |= {v.__name__ for v in reached if callable(v) and _has_name(v)}
    return names


def _own_functions(fn: Callable[..., Any]) -> list[tuple[Any, list[Any]]]:
    """``fn`` (if it has Python code) and every function defined beside it (in its module: the
    notebook's, or ``mygrad``) that it reaches, without recursion, each with what its code
    reaches (``_reached``, opened by ``_inside``): an answer split into helpers is read whole,
    and so is one that hides a helper in a callable object, a bound, static or class method, a
    ``functools.partial``, a decorator's wrapper, a class attribute or a list or dict."""
    module = _home(fn)
    todo: list[tuple[Any, list[Any]]] = [(fn, [])]
    seen: set[int] = set()
    found: list[tuple[Any, list[Any]]] = []
    while todo:
        f, owners = todo.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        if getattr(f, "__code__", None) is None:  # a callable object, a partial...: open it
            opened = _inside([f], set(), module)
            todo += [(v, opened) for v in opened if _is_own(v, module) and id(v) not in seen]
            continue
        # owners: the learner's classes and objects it may reach as self or cls
        reached = _inside(_reached(f) + owners, _names(f.__code__), module)
        found.append((f, reached))
        owners = [v for v in reached if _is_own_object(v, module)]
        todo += [(v, owners) for v in reached if _is_own(v, module) and id(v) not in seen]
    return found


def _home(fn: Any) -> Any:
    """The module of the learner's code ``fn`` stands for: its own, or that of the function a
    bound method, partial or wrapper holds, or of an object's class."""
    for _ in range(20):  # a wrapper of a wrapper...
        if isinstance(fn, types.FunctionType):
            return fn.__module__
        inner = _wrapped(fn)
        if not inner:
            break
        fn = inner[0]
    if isinstance(fn, (type, types.ModuleType, types.BuiltinFunctionType, np.ufunc)):
        return getattr(fn, "__module__", None)
    return type(fn).__module__


def _wrapped(value: Any) -> list[Any]:
    """The functions and values a bound method, ``functools.partial``, decorator's wrapper or
    ``np.vectorize`` holds (empty for anything else)."""
    if isinstance(value, types.MethodType):
        return [value.__func__, value.__self__]
    if isinstance(value, functools.partial):
        return [value.func, *value.args, *value.keywords.values()]
    if isinstance(value, np.vectorize):
        return [value.pyfunc]
    if isinstance(value, (staticmethod, classmethod)):
        return [value.__func__]
    if isinstance(value, property):
        return [value.fget, value.fset, value.fdel]
    inner = _static(value, "__wrapped__")  # functools.wraps, lru_cache
    return [] if inner is None else [inner]


def _inside(values: list[Any], names: set[str], module: Any, limit: int = 10_000) -> list[Any]:
    """``values`` and what they hold, recursively: the contents of a bound method, partial or
    wrapper (``_wrapped``), the items of a list, tuple, set or dict, and, of a class or an object
    of the learner's ``module``, the attributes whose ``names`` the code uses (and ``__init__``
    and ``__new__`` of a class, ``__call__`` of an object). At most ``limit`` values, each once."""
    out: list[Any] = []
    seen: set[int] = set()
    todo = list(reversed(values))
    while todo and len(out) < limit:
        value = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        out.append(value)
        inner = _wrapped(value)
        if isinstance(value, dict):
            inner = list(itertools.islice(value.values(), limit))
        elif isinstance(value, (list, tuple, set, frozenset)):
            inner = list(itertools.islice(value, limit))
        elif _is_own_object(value, module):  # and what calling it runs
            called = {"__init__", "__new__"} if isinstance(value, type) else {"__call__"}
            inner = [_member(value, name, module) for name in sorted(names | called)]
        todo += reversed([v for v in inner if v is not None])
    return out


def _member(value: Any, name: str, module: Any) -> Any:
    """The attribute ``name`` of the learner's class or object ``value``, as stored (a static
    method as such): from the object's own ``__dict__``, else from the learner's classes in its
    MRO; None if none of them has it. Runs none of the learner's code."""
    if not isinstance(value, type):
        try:
            own = object.__getattribute__(value, "__dict__")
        except AttributeError:  # an object with __slots__
            own = None
        if isinstance(own, dict) and name in own:
            return own[name]
    for klass in (value if isinstance(value, type) else type(value)).__mro__:
        if klass.__module__ == module and name in vars(klass):
            return vars(klass)[name]
    return None


def _static(value: Any, name: str) -> Any:
    """``value``'s attribute ``name``, or None, without running a property or ``__getattr__``."""
    try:
        return inspect.getattr_static(value, name, None)
    except Exception:  # noqa: BLE001 - an object whose type cannot be inspected
        return None


def _is_own(value: Any, module: Any) -> bool:
    """A function of the learner's module, or a non-function holder of code to open."""
    if type(value) is types.FunctionType:
        return value.__module__ == module
    return bool(_wrapped(value)) or _is_own_object(value, module)


def _is_own_object(value: Any, module: Any) -> bool:
    """A class of the learner's module, or an object of one."""
    klass = value if isinstance(value, type) else type(value)
    return (
        module is not None
        and klass.__module__ == module
        and not isinstance(value, (types.FunctionType, types.ModuleType))
    )


def _reached(f: Any) -> list[Any]:
    """What the code of ``f`` can call without naming it in its own text: the values of the
    globals it names, its closure's cells and its default arguments."""
    values = [_scope(f).get(name) for name in sorted(_global_names(f.__code__))]  # fixed order
    values += [cell.cell_contents for cell in _cells(f) if _filled(cell)]
    values += list(getattr(f, "__defaults__", None) or ())
    return values + list((getattr(f, "__kwdefaults__", None) or {}).values())


def _has_name(value: Any) -> bool:
    return isinstance(getattr(value, "__name__", None), str)


def uses_package(fn: Callable[..., Any], allowed: tuple = (), global_tensors: bool = False) -> bool:
    """True when ``fn`` reaches into backproplab (a module, class or function of the package)
    or calls a ``.vjp`` or ``.backward`` method: an answer that lets the package do the exercise.
    A function of the learner's own that happens to be called ``backward`` is fine, and so are
    the package's functions in ``allowed`` (those an exercise hands the learner) and, with
    ``global_tensors``, the tensors among the globals ``fn`` reads (the notebook's own graph,
    ``L``: a graph of the wrong root, which the check names, not a call into the package)."""
    if isinstance(fn, RemoteFunction):  # in the grader: the student's kernel reads the code
        return fn.uses_package(allowed, global_tensors)
    return bool(_package_uses(fn, allowed + (_global_tensors(fn) if global_tensors else ())))


def _global_tensors(fn: Callable[..., Any]) -> tuple[Any, ...]:
    """The tensors among the globals ``fn`` reads."""
    from ..tensor import Tensor

    found = getattr(fn, "__globals__", {})
    names = getattr(getattr(fn, "__code__", None), "co_names", ())
    return tuple(v for n in names if isinstance(v := found.get(n), Tensor))


def _package_uses(fn: Callable[..., Any], allowed: tuple = ()) -> list[str]:
    """What ``uses_package`` finds in ``fn``'s code, each named: ".vjp" or ".backward" (a method
    call), a package module by its name, anything else of the package by module and qualname."""
    found: list[str] = []
    values: list[Any] = []
    for f, reached in _own_functions(fn):  # fn and the helpers of the learner's own it calls
        names = _names(f.__code__)
        # used as an attribute (a rule's .vjp, a Tensor's .backward), not a function of one's own
        found += [f".{n}" for n in sorted(names & {"vjp", "backward"}) if n not in _scope(f)]
        values += reached + _imported(f.__code__)
    found = list(dict.fromkeys(found))  # each once, in the order found
    for value in values:
        if any(value is ok for ok in allowed):
            continue
        module = getattr(value, "__module__", None) or getattr(value, "__name__", "")
        if isinstance(module, str) and module.split(".")[0] == "backproplab":
            label = _label(value, module)
            if label not in found:
                found.append(label)
    return found


def _label(value: Any, module: str) -> str:
    """A package object's name: a module's own, else module.qualname (of its class, for an
    instance)."""
    if isinstance(value, types.ModuleType):
        return value.__name__
    qualname = getattr(value, "__qualname__", None) or type(value).__qualname__
    return f"{module}.{qualname}"


def _scope(f: Any) -> dict[str, Any]:
    """The globals ``f`` reads (empty for an object that has code but no globals)."""
    scope = getattr(f, "__globals__", None)
    return scope if isinstance(scope, dict) else {}


def _cells(f: Any) -> tuple:
    """The closure cells of ``f`` (none for an object without them)."""
    return getattr(f, "__closure__", None) or ()


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 (an empty closure cell raises ValueError)
    except ValueError:
        return False
    return True
