"""The grader's side of one student's kernel: calls sent as data, answers read back as data.

A teacher's check runs in the grader with each exercise function bound to a ``Proxy``: calling it
sends the arguments to the kernel as data (_wire.py: JSON and .npy, never pickle, Tensor graphs as
lists of nodes), the kernel calls the student's function (_kernel_side.py), and the result and the
arguments after the call come back as data. A function the check passes (a check's ``f``) stays in
the grader: the kernel asks for it to be called, and ``_callback`` runs it here. The student's
function runs under the check's numpy error state (``np.errstate``), as in the learner's own
notebook, so an overflow the check turns into an error is one in the grader too.
"""

from __future__ import annotations

import builtins
import time
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from ..exercises import RemoteFunction
from . import _wire as wire
from ._kernel import WALL_FACTOR, Kernel, KernelDied
from ._kernel_side import REPLY_MIME, package_function
from ._kernel_values import CALLBACK_PROMPT
from ._learner_objects import LearnerObject
from ._returned import (
    FromStudent,
    _exception,
    _is_shape,
    _left_as,
    _stand_in,
    _tensor,
    _tensors_left,
)

__all__ = ["Budget", "GradingStop", "ModuleProxy", "Proxy", "Session"]


class GradingStop(BaseException):
    """The grader could not get an answer from the kernel (not the student's exception).

    A BaseException, so that a check's ``attempt`` (which catches Exception) lets it through.
    """


class Budget:
    """The notebook's time budget, and the time one cell or call may take within it.

    Both are seconds of the ``kernel``'s CPU time (``Kernel.cpu_time``; wall-clock seconds
    without one), so that a busy machine does not spend them. The notebook also stops once its
    wall-clock time passes its budget plus ``WALL_FACTOR`` times the CPU time it has used: a
    notebook slowed by a busy machine keeps its time, one whose cells only wait (sleep, a lock)
    stops after its budget, as it did when the budget was wall-clock time.
    """

    def __init__(self, cell_timeout: float, seconds: float, kernel: Kernel | None = None) -> None:
        self.cell_timeout = cell_timeout
        self.seconds = seconds
        self.cpu_time = kernel.cpu_time if kernel is not None else time.monotonic
        # what cpu_time measures: wall-clock seconds where the kernel's CPU time cannot be read
        self.clock = str(getattr(kernel, "clock", "CPU time")) if kernel else "wall-clock time"
        self.started, self.cpu_started = time.monotonic(), self.cpu_time()
        self.end = self.cpu_started + seconds

    def timeout(self) -> float:
        """The CPU seconds the next cell or call may take."""
        return max(0.0, min(self.cell_timeout, self.end - self.cpu_time()))

    def spent(self) -> str:
        """That the notebook ran past its time, in words ("" while it has time left)."""
        cpu = self.cpu_time()
        if cpu >= self.end:
            return f"the notebook ran past its time budget of {self.seconds:g} s of {self.clock}"
        computed = cpu - self.cpu_started
        allowed = self.seconds + WALL_FACTOR * computed  # (never reached on the wall clock's)
        if time.monotonic() - self.started >= allowed:
            return (
                f"the notebook ran past {allowed:.3g} s of wall-clock time: its time budget of "
                f"{self.seconds:g} s, plus {WALL_FACTOR} times the {computed:.2g} s of "
                f"{self.clock} it computed (its cells waited: sleep, input or a lock)"
            )
        return ""


def _module_trouble(reply: dict, file: str, attribute: str) -> str:
    """Why the learner's module in ``file`` has no ``attribute`` in the kernel, from its reply."""
    trouble = str(reply.get("module", ""))
    if trouble == "not imported":  # it compiles: the notebook's cell importing it raised
        return f"{file} is there, but the notebook's import of it failed (run it to see why)"
    if trouble and trouble != "not handed in":  # a SyntaxError, with its file and line
        return f"{file} is not Python: {trouble}"
    return f"the check needs {file} handed in beside the notebook, with {attribute} in it"


class Session:
    """Calls into one student's kernel on behalf of the teacher's checks."""

    def __init__(self, kernel: Kernel, budget: Budget) -> None:
        self.kernel = kernel
        self.budget = budget
        self.package_calls: list[str] = []  # forbidden calls seen during the current check
        self.package_uses: list[str] = []  # what uses_package found, during the current check
        self.broken = ""  # why the kernel cannot be used any more ("" while it can)
        self.errstate = np.geterr()  # numpy's error state outside the checks
        self.exercises: frozenset[str] = frozenset()  # the functions the checks ask for
        # the learner's modules by the names the notebook binds them to: "mg" -> "mygrad", and
        # the names it imports from them: "run" -> "mygrad.run"
        self.module_of: dict[str, str] = {}
        self.imported: dict[str, str] = {}
        self.deepest = 0  # the deepest nesting of calls of the last call, in the kernel
        # the code the learner's module ran during the current check that is not Python's or a
        # library's, as the kernel found it (_runtime_code.py), and the folder it started in
        self.origins: list = []
        self.folder = str(getattr(kernel, "cwd", ""))

    def call(self, name: str, args: tuple, kwargs: dict) -> Any:
        """The student's function ``name`` called in the kernel on ``args`` and ``kwargs``."""
        return self._call(name, args, kwargs, {})[0]

    def call_measured(self, name: str, args: tuple) -> tuple[Any, int]:
        """``call``, and the peak memory (bytes) the call allocated in the kernel, measured
        there around the student's call only (``exercises.call_measured``)."""
        result, reply = self._call(name, args, {}, {"peak": True})
        peak = reply.get("peak_bytes")
        if not isinstance(peak, int) or isinstance(peak, bool) or peak < 0:
            raise GradingStop(f"unreadable reply for the memory {name} takes")
        return result, peak

    def _call(self, name: str, args: tuple, kwargs: dict, extra: dict) -> tuple[Any, dict]:
        """The result of the call and the kernel's reply; ``extra`` joins the request."""
        nodes: list[Any] = []
        node_index: dict[int, int] = {}
        functions: list[Callable] = []

        def tensor(t: Any) -> int:
            _add_graph(t, nodes, node_index)
            return node_index[id(t)]

        def function(f: Callable) -> int:
            functions.append(f)
            return len(functions) - 1

        encode = wire.Encoder(tensor=tensor, function=function)
        try:
            request = {"args": encode(list(args))}
            given = [array for _, array in encode.arrays.values()]  # by number, as sent
            request["kwargs"] = encode(kwargs)
        except wire.WireError as error:
            raise GradingStop(f"the grader cannot send this check's arguments: {error}") from None
        # what the check changed of numpy's error state (np.errstate(over="raise") around a
        # call): the student's function runs under it, as in the learner's notebook
        request["errstate"] = {k: v for k, v in np.geterr().items() if self.errstate.get(k) != v}
        request.update(extra, folder=self.folder)
        request["nodes"] = [
            {
                "data": wire.array_to_text(t.data),
                "rg": bool(t.requires_grad),
                "name": t.name,
                "op": None if t.op is None else str(getattr(t.op, "name", "op")),
                "inputs": [node_index[id(p)] for p in t.inputs],
                "seq": int(t.seq),  # the check's creation numbers (notebook 04's are made up)
            }
            for t in nodes
        ]
        self.deepest = 0
        file, text = self._file(name), wire.dumps(request)
        reply = self._ask(name, f"call(globals(), {name!r}, {text!r}, file={file!r})", functions)
        deepest = reply.get("deepest")  # the calls it nested, counted in the kernel
        self.deepest = deepest if isinstance(deepest, int) and not isinstance(deepest, bool) else 0
        for found in reply.get("origins") or []:
            if found not in self.origins:
                self.origins.append(found)
        try:
            return self._result(name, reply, nodes, functions, args, given), reply
        except FromStudent:  # the student's function raised it: not a reply we cannot read
            raise
        except (wire.WireError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise GradingStop(f"unreadable reply for {name}: {error}") from None

    def names(self, name: str) -> tuple[set[str], dict[str, str]]:
        """The names the code of the student's function ``name`` uses (``names_used``, run in
        the kernel), and the ``__module__`` of the value of each that is a global of it."""
        reply = self._ask(name, f"names(globals(), {name!r}, file={self._file(name)!r})", [])
        used, modules = reply.get("names"), reply.get("globals")
        if not (isinstance(used, list) and all(isinstance(n, str) for n in used)) or not (
            isinstance(modules, dict) and all(isinstance(m, str) for m in modules.values())
        ):
            raise GradingStop(f"unreadable reply for the names {name} uses")
        return set(used), modules

    def parameter_names(self, name: str, count: int) -> list[str | None]:
        """The names of the parameters of the student's function ``name`` that receive its
        first ``count`` positional arguments, read in the kernel."""
        file = self._file(name)
        request = f"parameters(globals(), {name!r}, {int(count)}, file={file!r})"
        reply = self._ask(name, request, [])
        names = reply.get("names")
        if not (
            isinstance(names, list)
            and len(names) == count
            and all(n is None or isinstance(n, str) for n in names)
        ):
            raise GradingStop(f"unreadable reply for the parameters of {name}")
        return names

    def uses_package(self, name: str, allowed: tuple, global_tensors: bool = False) -> bool:
        """``exercises.uses_package`` of the student's function ``name``, run in the kernel, with
        the package functions in ``allowed`` (sent by module and qualname) and the tensors among
        its globals if ``global_tensors``; what it found is added to ``package_uses``."""
        named = wire.dumps([_package_name(f) for f in allowed])
        request = f"uses_package(globals(), {name!r}, {named!r}, {bool(global_tensors)}, "
        request += f"file={self._file(name)!r})"
        reply = self._ask(name, request, [])
        uses, found = reply.get("uses"), reply.get("package")
        if not isinstance(uses, bool) or not (
            isinstance(found, list) and all(isinstance(n, str) for n in found)
        ):
            raise GradingStop(f"unreadable reply for the package {name} uses")
        self.package_uses += [label for label in found if label not in self.package_uses]
        return uses

    def _file(self, name: str) -> str:
        """The file of the learner's module of the function ``name`` ("mygrad.py" for "mg.run"
        after ``import mygrad as mg``; "" for a function of the notebook): each request names
        it, for the kernel to read when the function is missing (and to note the code it runs:
        _runtime_code.py; "mygrad.py" too for a ``run`` the check imports from it)."""
        module = name.rpartition(".")[0] or self.imported.get(name, "").rpartition(".")[0]
        return f"{self.module_of.get(module, module)}.py" if module else ""

    def _ask(self, name: str, request: str, functions: list[Callable]) -> dict:
        """Run ``request`` (a call of the kernel helper) in the kernel; its reply, read."""
        if spent := self.budget.spent():
            raise GradingStop(f"{spent} before this check")
        code = f"__import__('backproplab.classroom._kernel_side', fromlist=['call']).{request}"

        def answer(prompt: str) -> str:
            return _callback(prompt, functions)

        allowed = self.budget.timeout()
        try:
            run = self.kernel.execute(code, allowed, on_input=answer, keep=REPLY_MIME)
        except KernelDied:
            self.broken = "the kernel died while a check ran the function: the rest was not run"
            raise GradingStop(self.broken) from None
        if run.status == "stuck":
            self.broken = "the kernel stayed stuck: the remaining cells were not run"
        timed_out = run.status in ("timeout", "stuck")
        if timed_out and allowed < self.budget.cell_timeout and not run.capped:
            raise GradingStop(
                f"the notebook's time budget of {self.budget.seconds:g} s of {self.budget.clock} "
                f"ran out while a check ran {name}"
            )
        if timed_out:
            raise GradingStop(f"{name} ran longer than {run.limit}")
        replies = [d[REPLY_MIME] for d in run.displays if REPLY_MIME in d]
        if not replies:
            raise GradingStop(f"no reply from the kernel for {name}")
        try:
            reply = wire.loads(replies[-1])
            status = reply["status"]
        except (wire.WireError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise GradingStop(f"unreadable reply for {name}: {error}") from None
        if status == "missing":
            module, _, attribute = name.rpartition(".")
            if module:  # a function of the learner's own module: what is wrong with the module
                trouble = _module_trouble(reply, self._file(name), attribute)
                raise NameError(f"{name} was not found: {trouble}")
            # the student's notebook has no function of that name (a release whose stub took
            # the def line too, a typo): their answer, never the teacher's check, failed
            # the closest function of the notebook, unless another exercise asks for it: a
            # dL_dW whose cell did not run is no typo of dL_dX
            close = reply.get("close")
            close = [c for c in close if c not in self.exercises] if isinstance(close, list) else []
            mean = f". Did you mean: {close[0]!r}?" if close else ""
            raise _exception("NameError", f"name {name!r} is not defined{mean}")
        if status == "grader":
            raise GradingStop(f"the kernel helper failed: {reply.get('error', '')}")
        return reply

    def _result(
        self, name: str, reply: dict, nodes: list, functions: list, args: tuple, given: list
    ) -> Any:
        for label in reply.get("package_calls") or []:
            if str(label) not in self.package_calls:
                self.package_calls.append(str(label))
        if reply.get("profiler_removed"):
            self.package_calls.append("sys.setprofile (the grader's call recorder was removed)")
        jacobians = reply.get("jacobians") or {}
        left = reply["given_after"]  # the arrays handed over, as the student's call left them
        if not isinstance(left, list) or len(left) != len(given):
            raise wire.WireError("not one array for each array handed over")
        for array, text in zip(given, left):
            changed = wire.array_from_text(text)
            if array.shape == changed.shape and array.flags.writeable:
                array[...] = changed
        _tensors_left(nodes, reply["tensors_after"])

        def function(number: Any) -> Callable:  # a function of the check's, handed back
            if not isinstance(number, int) or not 0 <= number < len(functions):
                raise wire.WireError("no such function")
            return functions[number]

        decode = wire.Decoder(
            tensor=lambda t: _tensor(t, nodes, jacobians), function=function, known=given
        )
        after = reply["args_after"].get("list") if isinstance(reply["args_after"], dict) else None
        if isinstance(after, list) and len(after) == len(args):  # each argument a value of its own
            for mine, theirs in zip(args, after):
                _left_as(mine, decode(theirs))
        if reply["status"] == "raised":
            error_type, line = str(reply.get("error_type")), reply.get("failing_line")
            line = line if isinstance(line, str) else ""
            raised_in = reply.get("raised_in")
            raised_in = raised_in if isinstance(raised_in, str) else ""
            shapes = reply.get("failing_shapes")
            shapes = shapes if isinstance(shapes, list) else []
            shapes = tuple(tuple(s) for s in shapes if isinstance(s, list) and _is_shape(s))
            raise _exception(error_type, str(reply.get("error", "")), line, raised_in, shapes)
        learner = reply.get("learner_object")  # an object of the learner's class: kept there
        if isinstance(learner, list) and len(learner) == 2:
            raise LearnerObject(name, str(learner[0]), str(learner[1]))
        if reply.get("unsendable"):
            return _stand_in(str(reply["unsendable"]))
        return decode(reply["result"])


def _package_name(fn: Any) -> list[str]:
    """[module, qualname] of a package function a check allows, as the kernel resolves it."""
    module, qualname = str(getattr(fn, "__module__", "")), str(getattr(fn, "__qualname__", ""))
    try:
        found = package_function(module, qualname) is fn
    except (ImportError, AttributeError, ValueError):
        found = False
    if not found:
        raise TypeError(
            f"uses_package in the grader: allowed holds {fn!r}, not a function of backproplab "
            "that the kernel can find by its module and qualified name"
        )
    return [module, qualname]


def _add_graph(root: Any, nodes: list, node_index: dict[int, int]) -> None:
    """Append ``root``'s graph to ``nodes``, inputs first, without recursion. (Not
    ``autodiff.toposort``: notebook 04's check gives its graphs made-up ``seq`` numbers, so the
    order comes from the edges alone.)"""
    stack = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if id(t) in node_index:
            continue
        if expanded:
            node_index[id(t)] = len(nodes)
            nodes.append(t)
        else:
            stack.append((t, True))
            stack += [(p, False) for p in t.inputs if id(p) not in node_index]


def _callback(prompt: str, functions: list[Callable]) -> str:
    """Run one of the check's own functions for the kernel; reply as data."""
    try:
        if not prompt.startswith(CALLBACK_PROMPT):
            raise wire.WireError("not a grader callback")
        request = wire.loads(prompt[len(CALLBACK_PROMPT) :])
        number = request["call"]
        if not isinstance(number, int) or not 0 <= number < len(functions):
            raise wire.WireError("no such function")
        decode = wire.Decoder()
        value = functions[number](*decode(request["args"]), **decode(request["kwargs"]))
        return wire.dumps({"ok": wire.Encoder()(value)})
    except Exception as error:  # noqa: BLE001 - the kernel gets the error, the grader goes on
        base = next(c for c in type(error).__mro__ if getattr(builtins, c.__name__, None) is c)
        words = error.args[0] if type(error) is KeyError and len(error.args) == 1 else error
        return wire.dumps(
            {"error": str(words), "error_type": type(error).__name__, "error_base": base.__name__}
        )


class ModuleProxy:
    """Stands for the learner's own module (``mygrad``): its attributes are proxies."""

    def __init__(self, session: Session, name: str) -> None:
        self._session = session
        self._name = name

    def __getattr__(self, attribute: str) -> Proxy:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return Proxy(self._session, f"{self._name}.{attribute}")


class Proxy(RemoteFunction):
    """Stands for the student's function ``name`` in the teacher's check.

    What a check reads of the function's code is read in the kernel: ``names_used(proxy)``
    gives the names the student's code uses, ``uses_package(proxy, allowed)`` the notebook's
    verdict, and ``proxy.__globals__`` those of the names that are globals of the function,
    each an empty object carrying the value's ``__module__`` (a check tells ``sp.diff`` or
    sympy's ``diff`` from a function of the learner's own by them). So is the memory a call
    takes: ``call_measured(proxy, *args)`` is measured in the kernel, and so are the names of
    the function's parameters, ``parameter_names(proxy, count)``, for a shape error's hint, and
    after a call ``proxy.deepest``, the deepest nesting of Python calls it reached in the kernel
    (what ``exercises._order.deepest_call`` counts with a profile function in the notebook)."""

    def __init__(self, session: Session, name: str) -> None:
        self.session = session
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.call(self.__name__, args, kwargs)

    def names_used(self) -> set[str]:
        return self.session.names(self.__name__)[0]

    def uses_package(self, allowed: tuple = (), global_tensors: bool = False) -> bool:
        return self.session.uses_package(self.__name__, allowed, global_tensors)

    def call_measured(self, *args: Any) -> tuple[Any, int]:
        return self.session.call_measured(self.__name__, args)

    def parameter_names(self, count: int) -> list[str | None]:
        return self.session.parameter_names(self.__name__, count)

    @property
    def deepest(self) -> int:
        return self.session.deepest

    @property
    def __globals__(self) -> dict[str, Any]:
        modules = self.session.names(self.__name__)[1]
        return {name: types.SimpleNamespace(__module__=module) for name, module in modules.items()}
