"""The grader's helper inside a student's kernel: call one student function on data, reply data.

The grader runs ``call(namespace, name, request)`` in the kernel after the student's cells. It
rebuilds the arguments (see _wire.py; the check's Tensors and functions: _kernel_values.py), calls
the student's function, watching what of the package it calls, and displays one reply: the
result and the arguments after the call (so a check can see whether they were modified), or the
exception it raised, plus every call the function made into backproplab's own code that the
exercise is not meant to use, the deepest nesting of Python calls it reached (a recursive walk of
a 1500-deep graph nests 1500, whatever the recursion limit: ``Proxy.deepest``), and, when the
request asks (``"peak": true``), the peak memory the call took (``exercises.call_measured``:
measured here, around the student's call only).
Nothing here decides a verdict: the grader does, in its own process.
``names(namespace, name)`` replies the names a function's code uses, for the checks that refuse
an answer by them (``exercises.names_used``, which reads code the grader does not have), and
``uses_package(namespace, name, allowed)`` the verdict of ``exercises.uses_package`` with the
package objects it found, and ``parameters(namespace, name, count)`` the names of the parameters
that receive a call's first ``count`` arguments (for a hint about a shape error).
A student can patch this module in their kernel; that changes only what their kernel replies,
which their function could choose anyway.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import inspect
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exercises._crash import _array_shape, _locals, failing_line
from . import _wire as wire
from ._kernel_values import _jacobians, _rebuild, _Remote
from ._learner_objects import learner_class
from ._runtime_code import origins

if TYPE_CHECKING:
    from ..exercises._memory import PeakMemory

REPLY_MIME = "application/x-backproplab-reply"

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(wire.__file__))) + os.sep
# What an exercise on Tensors may use: building a graph (Tensor methods, numpy's hooks on a
# tensor such as array * t, ops' forwards).
_GRAPH_FILES = {
    _PACKAGE + name for name in ("tensor.py", "_numpy_interop.py", "ops.py", "functional.py")
}
# The learner's functions whose exercise is to use part of the package, by name: "graph" may
# build a graph of Tensors as above (vjp rules and backward() stay forbidden), "backward" may also
# call backward(), and "backproplab.module.function" may call that one function.
_ENGINE_EXERCISES = {
    "my_graph": {"graph"},  # notebook 03's challenge: a graph, its gradients worked out by hand
    "train": {"graph", "backward"},  # notebook 01's challenge: gradient descent with backward()
    # notebook 14: the conv backward from notebook 05's rule and the im2col/col2im it shows
    "conv2d_weight_grad": {"backproplab.convolution.im2col"},
    "conv2d_input_grad": {"backproplab.convolution.im2col", "backproplab.convolution.col2im"},
    # and its max pooling may cut the windows out and put them back with them too
    "max_pool2d_backward": {"backproplab.convolution.im2col", "backproplab.convolution.col2im"},
}


def _backward_code() -> Any:
    from .. import autodiff

    return autodiff.backward.__code__


def _vjp_codes() -> set:
    """The code of every vjp rule in backproplab.ops: no exercise may call one."""
    from .. import ops

    codes = set()
    for value in vars(ops).values():
        vjp = getattr(value, "vjp", None)
        if type(value).__name__ == "Op" and vjp is not None and hasattr(vjp, "__code__"):
            codes.add(vjp.__code__)
        if callable(value) and "vjp" in getattr(value, "__name__", ""):
            codes.add(value.__code__)
    return codes


def _peak_memory() -> PeakMemory:
    """A ``PeakMemory`` of the exercises: it measures the student's call when the check asks
    for the memory it takes (``exercises.call_measured``)."""
    from ..exercises._memory import PeakMemory

    return PeakMemory()


def _tolerant(encode, value: Any) -> Any:
    """``value`` encoded, or None when it cannot be (a callable the grader passed...)."""
    try:
        return encode(value)
    except wire.WireError:
        return None


def _errstate(sent: Any) -> dict[str, Any]:
    """The numpy error state the grader sent ({"over": "raise", ...}), only known keys and
    values: keyword arguments for ``np.errstate``."""
    known = {"divide", "over", "under", "invalid"}
    modes = {"ignore", "warn", "raise", "print"}  # not "call" or "log": no handler is sent
    if not isinstance(sent, dict):
        return {}
    return {k: v for k, v in sent.items() if k in known and v in modes}


def call(namespace: dict, name: str, request_text: str, file: str = "") -> None:
    """Call ``namespace[name]`` on the request's arguments; display the reply (see module doc).
    ``file``, here and below: the file of the learner's module of ``name`` ("mygrad.py" for
    "mg.run" after ``import mygrad as mg``), read when the function is missing."""
    _display(lambda: _call(namespace, name, request_text, file))


def names(namespace: dict, name: str, file: str = "") -> None:
    """Display the names the code of ``namespace[name]`` uses, by the rule the checks apply in a
    notebook (``exercises.names_used``), and for each of them that is a global of the function,
    the ``__module__`` of its value (what a check reads of ``fn.__globals__``)."""
    _display(lambda: _names(namespace, name, file))


def uses_package(
    namespace: dict, name: str, allowed_text: str, global_tensors: bool = False, file: str = ""
) -> None:
    """Display the verdict of ``exercises.uses_package`` on ``namespace[name]`` (the package
    functions named in ``allowed_text``, [[module, qualname], ...], allowed, and the tensors
    among its globals if ``global_tensors``), and what of the package its code uses when it
    does."""
    _display(lambda: _uses_package(namespace, name, allowed_text, global_tensors is True, file))


def parameters(namespace: dict, name: str, count: int, file: str = "") -> None:
    """Display the names of the parameters of ``namespace[name]`` that receive its first
    ``count`` positional arguments (``exercises._crash.parameter_names``)."""
    _display(lambda: _parameters(namespace, name, count, file))


def package_function(module: Any, qualname: Any) -> Any:
    """The object ``qualname`` of backproplab's ``module`` (imported if need be); ValueError
    for anything else."""
    if not (isinstance(module, str) and isinstance(qualname, str)):
        raise ValueError(f"not a module and a qualified name: {module!r}, {qualname!r}")
    if module.split(".")[0] != "backproplab":
        raise ValueError(f"{module}.{qualname} is not in backproplab")
    value: Any = importlib.import_module(module)
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


def _display(make_reply: Callable[[], dict[str, Any]]) -> None:
    from IPython.display import display

    reply: dict[str, Any] = {}
    try:
        reply = make_reply()
    except Exception as error:  # noqa: BLE001 - whatever happens, the grader gets a reply
        reply = {"status": "grader", "error": f"{type(error).__name__}: {error}"}
    display({REPLY_MIME: wire.dumps(reply)}, raw=True)


def _find(namespace: dict, name: str) -> Any:
    """The student's function ``name`` ("mygrad.topo_order": one of the learner's module), or
    None."""
    first, *attributes = name.split(".")
    fn = namespace.get(first)
    for attribute in attributes:
        fn = getattr(fn, attribute, None)
    return fn if callable(fn) else None


def _missing(namespace: dict, name: str, file: str = "") -> dict[str, Any]:
    """The reply for a function the student's kernel does not have; for one of the learner's
    module ("mygrad.run") whose module the notebook could not import, what is wrong with its
    ``file`` (the module's name and .py without one): not handed in, or not Python (compiled
    here, never run)."""
    module, _, _ = name.rpartition(".")
    if not module:  # a function renamed by a typo: the closest of the notebook's, as Python says
        functions = [key for key, value in namespace.items() if inspect.isfunction(value)]
        return {"status": "missing", "close": difflib.get_close_matches(name, functions, 3)}
    if module in namespace:
        return {"status": "missing"}
    path = file or f"{module}.py"  # beside the notebook, where its import looked first
    if not os.path.isfile(path):
        return {"status": "missing", "module": "not handed in"}
    try:
        with open(path, "rb") as source:
            compile(source.read(), path, "exec")
    except Exception as error:  # noqa: BLE001 - SyntaxError; ValueError for a NUL byte, ...
        return {"status": "missing", "module": f"{type(error).__name__}: {error}"}
    return {"status": "missing", "module": "not imported"}


def _names(namespace: dict, name: str, file: str = "") -> dict[str, Any]:
    from ..exercises import names_used

    fn = _find(namespace, name)
    if fn is None:
        return _missing(namespace, name, file)
    used = sorted(names_used(fn))
    scope = getattr(fn, "__globals__", None)
    scope = scope if isinstance(scope, dict) else {}
    modules = {n: str(getattr(scope[n], "__module__", "")) for n in used if n in scope}
    return {"status": "ok", "names": used, "globals": modules}


def _parameters(namespace: dict, name: str, count: int, file: str = "") -> dict[str, Any]:
    from ..exercises._crash import parameter_names

    fn = _find(namespace, name)
    if fn is None:
        return _missing(namespace, name, file)
    return {"status": "ok", "names": parameter_names(fn, count)}


def _uses_package(
    namespace: dict, name: str, allowed_text: str, global_tensors: bool, file: str = ""
) -> dict[str, Any]:
    from ..exercises import uses_package as verdict_of
    from ..exercises._reading import _global_tensors, _package_uses

    fn = _find(namespace, name)
    if fn is None:
        return _missing(namespace, name, file)
    allowed = tuple(package_function(*pair) for pair in wire.loads(allowed_text))
    uses = verdict_of(fn, allowed, global_tensors)
    allowed += _global_tensors(fn) if global_tensors else ()
    return {"status": "ok", "uses": uses, "package": _package_uses(fn, allowed) if uses else []}


def _raised_in(error: BaseException, fn: Callable) -> str:
    """Where in the learner's module ``error`` came from, as the checks of mygrad say it ("in
    sum_to_shape", ``exercises.mygrad._calls._where``: it reads the traceback, which stays in
    the kernel)."""
    from ..exercises.mygrad._calls import _where

    try:
        return _where(error, fn) if isinstance(error, Exception) else ""
    except Exception:  # noqa: BLE001 - a learner's odd module: the hint says less, no more
        return ""


def _failing_shapes(error: BaseException) -> list[list[int]]:
    """The shapes of the arrays (and Tensors) among the local variables of the learner's line
    that raised ``error``: a crash's hint tells a transpose from a wrong array by them
    (``exercises._crash.crash_message``), and the frames stay in the kernel."""
    try:
        shapes = [_array_shape(value) for value in _locals(error)]
    except Exception:  # noqa: BLE001 - a learner's odd object: the hint keeps both advices
        return []
    return [[int(n) for n in shape] for shape in shapes if shape]


def _call(namespace: dict, name: str, request_text: str, file: str = "") -> dict[str, Any]:
    request = wire.loads(request_text)
    fn = _find(namespace, name)
    if fn is None:
        return _missing(namespace, name, file)
    nodes = _rebuild(request["nodes"])
    arrays = [(t.data, t.data.copy()) for t in nodes]  # each tensor's array as sent, and a copy
    decode = wire.Decoder(tensor=lambda i: nodes[i], function=_Remote)
    args = decode(request["args"])
    given = decode.arrays  # the arrays the check handed over, numbered as the grader numbered them
    kwargs = decode(request["kwargs"])
    allowed = _ENGINE_EXERCISES.get(name, set())
    graph_allowed = bool(nodes) or "graph" in allowed
    backward_allowed = "backward" in allowed
    backward_code = _backward_code()
    vjps = _vjp_codes()
    own = {_Remote.__call__.__code__}
    forbidden: list[str] = []
    switched_off: list[bool] = []  # the function called sys.setprofile (and may have put it back)

    nesting = [0, 0]  # the calls the student's call has open now, and the most it had at once
    # a function of the learner's module: each code it runs, and its globals' __name__, by id
    # (where the engine was written: _runtime_code.py)
    ran: dict[int, tuple[Any, Any]] | None = {} if file else None

    def profile(frame, event, arg):
        if event == "c_call" and arg is sys.setprofile and frame.f_code not in own:
            switched_off.append(True)
        if event == "return":
            nesting[0] -= 1
        if event != "call":
            return
        nesting[0] += 1
        nesting[1] = max(nesting)
        code = frame.f_code
        if ran is not None and id(code) not in ran:
            ran[id(code)] = code, frame.f_globals.get("__name__")
        if code in own or not code.co_filename.startswith(_PACKAGE):
            return
        caller = frame.f_back
        if caller is not None and caller.f_code.co_filename.startswith(_PACKAGE):
            return  # inside the package already: only the way in is reported
        if (
            graph_allowed
            and code.co_filename in _GRAPH_FILES
            and code not in vjps
            and code.co_name != "backward"  # the engine's backward pass answers for you
        ):
            return
        if backward_allowed and code is backward_code:
            return  # L.backward() (Tensor.backward is autodiff.backward)
        where = code.co_filename[len(_PACKAGE) :].removesuffix(".py").replace(os.sep, ".")
        label = f"backproplab.{where}.{code.co_qualname}"
        if label in allowed:
            return  # a helper this exercise is meant to use
        if label not in forbidden:
            forbidden.append(label)

    reply: dict[str, Any] = {"status": "ok"}
    raised: BaseException | None = None
    first = args, given, kwargs
    errstate = np.errstate(**_errstate(request.get("errstate")))
    memory = _peak_memory() if request.get("peak") is True else None
    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        with errstate, memory or contextlib.nullcontext():  # the check's errstate, as when
            # the learner runs the check; and the memory the call takes, if the check asks
            result = fn(*args, **kwargs)
    except BaseException as error:  # noqa: BLE001 - the check decides what an exception means
        result, raised = None, error
        reply["status"] = "raised"
        reply["error_type"] = type(error).__name__
        reply["error"] = str(error)
        reply["failing_line"] = failing_line(error) or ""  # the hint quotes it, as in the notebook
    finally:
        # Python itself removes a profile function that raises, as ours does when it is called
        # at the recursion limit: an answer that recursed too deep and ended in that
        # RecursionError fails as in the notebook, it removed nothing (one that catches it and
        # goes on, its package calls unseen from there, still counts as a removal)
        too_deep = isinstance(raised, RecursionError) and sys.getprofile() is None
        tampered = sys.getprofile() is not profile and not too_deep or bool(switched_off)
        sys.setprofile(None)
        threading.setprofile(None)
    if too_deep and not tampered:
        # ... but it raised inside our profile function, a frame deeper than the learner's code
        # and with other words ("... while calling a Python object", the line `def f(n):`):
        # the same call once more, on fresh arguments, unrecorded, gives the notebook's error,
        # if it is one too deep again (a call that then returns keeps the first outcome)
        args, given, kwargs = decode(request["args"]), decode.arrays, decode(request["kwargs"])
        again: BaseException | None = None
        try:
            with np.errstate(**_errstate(request.get("errstate"))):
                fn(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001 - as the first call's
            again = error
        if isinstance(again, RecursionError):
            reply["error"], reply["failing_line"] = str(again), failing_line(again) or ""
            raised = again
        else:
            args, given, kwargs = first
    if raised is not None:  # (the call recorder is off: reading the traceback is the grader's)
        reply["raised_in"] = _raised_in(raised, fn)
        reply["failing_shapes"] = _failing_shapes(raised)
    if memory is not None:
        reply["peak_bytes"] = memory.peak_bytes
    reply["deepest"] = nesting[1]
    if ran is not None:
        reply["origins"] = origins(list(ran.values()), str(request.get("folder", "")))
    reply["package_calls"] = forbidden
    reply["profiler_removed"] = tampered
    sent = {id(t): i for i, t in enumerate(nodes)}
    from ..tensor import Tensor as nodes_class  # (as _rebuild: imported once the call is over)

    leaves = [(i, t) for i, t in enumerate(nodes) if t.op is None and t.requires_grad]
    made: list = []

    def tensor(t):
        if not isinstance(t, nodes_class):  # a learner's Tensor: not the package's, not data
            raise wire.WireError(f"a value of type {type(t).__name__} cannot be sent")
        if id(t) in sent:
            return {"ref": sent[id(t)]}
        made.append(t)
        return {
            "data": wire.array_to_text(t.data),
            "rg": bool(t.requires_grad),
            "leaf": t.op is None,
            "index": len(made) - 1,
        }

    def function(f):
        if not isinstance(f, _Remote):  # a function of the student's is not data
            raise wire.WireError(f"a value of type {type(f).__name__} cannot be sent")
        return f.number  # one the check handed over: the check gets its own function back

    # an array handed over: a reference to it
    encode = wire.Encoder(tensor=tensor, function=function, known=given)
    try:
        reply["result"] = encode(result)
    except wire.WireError:  # not data (a set, an object of the student's class...): the check
        reply["result"] = None  # gets a stand-in of the same type name, as its hint names it
        reply["unsendable"] = type(result).__name__
        reply["learner_object"] = learner_class(result, str(request.get("folder", "")))
    reply["given_after"] = [wire.array_to_text(array) for array in given]  # as the call left them
    reply["tensors_after"] = {  # the check's tensors whose .data the call changed
        str(i): {"data": wire.array_to_text(np.asarray(t.data)), "same": t.data is array}
        for i, (t, (array, sent)) in enumerate(zip(nodes, arrays))
        if t.data is not array or not np.array_equal(array, sent, equal_nan=True)
    }
    reply["args_after"] = {"list": [_tolerant(encode, arg) for arg in args]}
    jacobians = {}
    for index, t in enumerate(made[:4]):
        try:
            found = _jacobians(t, leaves)
        except Exception:  # noqa: BLE001 - a copy of a check's node (its op a stand-in here)
            found = None  # sent without its gradients, as a tensor too large
        if found is not None:
            jacobians[str(index)] = found
    reply["jacobians"] = jacobians
    return reply
