"""What comes back from a student's kernel, rebuilt in the grader as the check would meet it in
the notebook: the student's exception (by name, with the line that raised it and where),
a stand-in for a result that is not data, a Tensor the student's function made (with its
Jacobian, so that ``backward()`` works here), and the check's own arguments as the call left
them (arrays and Tensors' ``.data`` changed in place, the items of lists and dicts).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from . import _wire as wire


class FromStudent(Exception):  # noqa: N818 - a mark, not an error of its own
    """What every exception rebuilt from a student's kernel is, besides its own type."""


def _exception(
    type_name: str, message: str, line: str = "", raised_in: str = "", shapes: tuple = ()
) -> BaseException:
    """The student's exception, rebuilt by name: a fresh class (nothing of theirs is imported),
    a subclass of the builtin exception of that name if there is one, so that a teacher's
    ``except ValueError`` or ``assert_raises(ValueError, ...)`` catches it as in the notebook,
    and of ``FromStudent`` (a stub's NotImplementedError too). Its words are the kernel's,
    whatever the type (a KeyError's too), and so is ``failing_line``, the line of the student's
    code that raised it (``exercises._crash.failing_line``), and ``raised_in``, where in the
    learner's module it came from (" in sum_to_shape", ``exercises.mygrad._calls._where``),
    and ``failing_locals``, arrays of the shapes of those among the local variables of the line
    that raised it (read-only views of one zero, whatever their size: a crash's hint reads their
    shapes only, ``exercises._crash.crash_message``)."""
    name = type_name if type_name.isidentifier() else "Exception"
    builtin = getattr(builtins, name, None)
    stand_ins = [np.broadcast_to(np.float64(0.0), shape) for shape in shapes]
    words = {
        "__str__": lambda self: message,
        "failing_line": line,
        "raised_in": raised_in,
        "failing_locals": stand_ins,
    }
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        try:
            return type(name, (builtin, FromStudent), words)(message)
        except TypeError:  # UnicodeDecodeError, ExceptionGroup: more than a message to make one
            pass
    return type(name, (FromStudent,), words)(message)


def _stand_in(type_name: str) -> Any:
    """For a result that is not data (a set, an object of the student's own class): an empty
    object of a fresh class of the same name, so that the check's hint ("your result is a Yes,
    not an array") reads as in the notebook."""
    name = type_name if type_name.isidentifier() else "object"
    return type(name, (), {"__repr__": lambda self: f"<a {name}>"})()


def _is_shape(sizes: list) -> bool:
    """Whether ``sizes`` (from the kernel) is an array's shape."""
    ok = all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in sizes)
    return ok and 0 < len(sizes) <= 32


def _tensor(content: Any, nodes: list, jacobians: dict) -> Any:
    """A Tensor the kernel sent: one of the check's own (by index) or a new one."""
    from ..ops import Op
    from ..tensor import Tensor, apply

    if not isinstance(content, dict):
        raise wire.WireError("a malformed tensor")
    if "ref" in content:
        index = content["ref"]
        if not isinstance(index, int) or not 0 <= index < len(nodes):
            raise wire.WireError("a tensor reference out of range")
        return nodes[index]
    data = wire.array_from_text(content["data"])
    if data.dtype.kind not in "fiub":
        raise wire.WireError(f"a tensor of dtype {data.dtype}")
    if content.get("leaf", True):
        return Tensor(data, requires_grad=bool(content.get("rg")))
    found = jacobians.get(str(content.get("index")), {}) or {}
    inputs, matrices = [], []
    for key, text in found.items():
        leaf = nodes[int(key)]
        matrix = wire.array_from_text(text)
        if matrix.shape != (data.size, leaf.data.size):
            raise wire.WireError("a Jacobian of the wrong shape")
        inputs.append(leaf)
        matrices.append(matrix)

    def vjp(g: np.ndarray, out: np.ndarray, *xs: np.ndarray) -> tuple:
        flat = np.broadcast_to(g, data.shape).ravel()
        return tuple((flat @ m).reshape(x.shape) for m, x in zip(matrices, xs))

    return apply(Op("your function", lambda *xs: data.copy(), vjp), *inputs)


def _tensors_left(nodes: list, changed: Any) -> None:
    """The check's tensors whose ``.data`` the student's call changed, changed alike: the
    numbers written into their own array, or a new array put in its place."""
    if not isinstance(changed, dict):
        raise wire.WireError("not a table of the tensors changed")
    for key, sent in changed.items():
        index = int(key) if isinstance(key, str) and key.isdigit() else -1
        if not (0 <= index < len(nodes) and isinstance(sent, dict)):
            raise wire.WireError("a changed tensor out of range")
        node, data = nodes[index], wire.array_from_text(str(sent.get("data")))
        if sent.get("same") is True and node.data.shape == data.shape and node.data.flags.writeable:
            node.data[...] = data  # (x.data += 1: the array itself, which the check may hold)
        else:
            node.data = data


def _left_as(mine: Any, theirs: Any) -> Any:
    """The check's argument ``mine`` made what the student's call left of it, ``theirs``: lists
    and dicts (nested, matched by place and key) changed in place to hold the items the call
    put in, replaced or removed; the arrays handed over are the check's own (with their new
    entries already); a tuple is the check's own unless the call put other items in its place.
    Returns the object the check sees in that place."""
    if isinstance(mine, list) and isinstance(theirs, list):
        mine[:] = [_left_as(mine[i], t) if i < len(mine) else t for i, t in enumerate(theirs)]
        return mine
    if isinstance(mine, dict) and isinstance(theirs, dict):
        items = {k: _left_as(mine[k], v) if k in mine else v for k, v in theirs.items()}
        mine.clear()
        mine.update(items)
        return mine
    if isinstance(mine, tuple) and isinstance(theirs, tuple) and len(mine) == len(theirs):
        kept = tuple([_left_as(m, t) for m, t in zip(mine, theirs)])
        if type(mine) is not tuple or all(i is m for i, m in zip(kept, mine)):
            return mine  # the check's own tuple (its arrays and lists changed in place)
        return kept  # a tuple cannot change: a new one, where the call put another in its place
    plain = isinstance(mine, (int, float, str, np.generic)) and type(mine) is type(theirs)
    return mine if mine is theirs or plain and bool(mine == theirs) else theirs
