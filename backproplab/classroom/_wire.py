"""Data between the grader and a student's kernel: JSON for structure, ``.npy`` for arrays.

What a student's kernel sends back is read here with ``json.loads`` and
``np.load(allow_pickle=False)`` only, so it can be numbers, strings, arrays and containers of
them, and nothing that runs code when the grader reads it (pickle would). The same module encodes
on both sides: the grader imports it from the installed package, the kernel helper too (a student
who patches the kernel's copy changes only what their own kernel sends, as their function could).

Values that are not plain data travel as markers the other side resolves:

* a Tensor graph (the inputs of ``topo_order``, ``residual_block``...) as a list of nodes (data,
  ``requires_grad``, name, op name, input indices); the kernel rebuilds it, and a node it sends
  back is referred to by index, so the grader gets its own Tensor object back;
* a callable the grader passes (a check's ``f``, a table of local derivatives) as a number: the
  kernel calls it through the grader (see _session.py), so the call runs and counts in the grader;
* an array met a second time in one value (``[x, x, y]``, as a check passes x * x * y) as a
  reference to the first, so the other side gets one array at both places, as the learner's
  function does in the notebook.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["WireError", "array_from_text", "array_to_text", "dumps", "loads"]

MAX_TEXT = 200_000_000  # characters: a reply longer than this is refused, not parsed


class WireError(ValueError):
    """A value cannot be sent, or what arrived is not a value the grader reads."""


def array_to_text(array: np.ndarray | np.generic) -> str:
    """``array`` (or a numpy scalar) as base64 of its ``.npy`` bytes (object arrays are refused)."""
    buffer = io.BytesIO()
    try:
        np.save(buffer, np.asarray(array), allow_pickle=False)
    except ValueError as error:
        raise WireError(f"an array of dtype {np.asarray(array).dtype} cannot be sent") from error
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def array_from_text(text: str) -> np.ndarray:
    """The array ``array_to_text`` wrote; never unpickles."""
    try:
        return np.load(io.BytesIO(base64.b64decode(text, validate=True)), allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - anything malformed is the sender's problem
        raise WireError(f"not an array: {type(error).__name__}") from None


class Encoder:
    """Turns a value into JSON-able structure; Tensors and callables go through the hooks."""

    def __init__(
        self,
        tensor: Callable[[Any], Any] | None = None,
        function: Callable[[Any], Any] | None = None,
        known: Sequence[np.ndarray] = (),
    ) -> None:
        self.tensor = tensor
        self.function = function
        # arrays the other side holds already, by number (sent as references to them)
        self.known = list(known)
        self.arrays: dict[int, tuple[int, np.ndarray]] = {}  # id -> (number, the array) in a value

    def __call__(self, value: Any, depth: int = 0) -> Any:
        if depth == 0:  # references reach only within one value, and to the known arrays
            self.arrays = {id(a): (i, a) for i, a in enumerate(self.known)}
        if depth > 50:
            raise WireError("a value nested more than 50 levels deep cannot be sent")
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)) and type(value) in (int, float):
            return {"float": repr(value)} if isinstance(value, float) else value
        if isinstance(value, np.ndarray):
            if id(value) in self.arrays:
                return {"same": self.arrays[id(value)][0]}
            self.arrays[id(value)] = (len(self.arrays), value)  # kept: no other array takes its id
        if isinstance(value, (np.ndarray, np.generic)):
            return {"array": array_to_text(value), "scalar": isinstance(value, np.generic)}
        if isinstance(value, (list, tuple)):
            kind = "list" if isinstance(value, list) else "tuple"
            return {kind: [self(item, depth + 1) for item in value]}
        if isinstance(value, dict):
            return {"dict": [[self(k, depth + 1), self(v, depth + 1)] for k, v in value.items()]}
        if self.tensor is not None and type(value).__name__ == "Tensor":
            return {"tensor": self.tensor(value)}
        if self.function is not None and callable(value) and not isinstance(value, type):
            return {"function": self.function(value)}
        also = ", Tensors" * (self.tensor is not None) + ", functions" * (self.function is not None)
        raise WireError(
            f"a value of type {type(value).__name__} cannot be sent between the grader and the "
            f"kernel: data only (real numbers, strings, None, numpy arrays, lists, tuples, "
            f"dicts{also})"
        )


class Decoder:
    """The inverse of ``Encoder``: builds only numbers, strings, arrays and containers itself."""

    def __init__(
        self,
        tensor: Callable[[Any], Any] | None = None,
        function: Callable[[Any], Any] | None = None,
        known: Sequence[np.ndarray] = (),
    ) -> None:
        self.tensor = tensor
        self.function = function
        self.known = list(known)  # the Encoder's known arrays: references to them are these
        self.arrays: list[np.ndarray] = []  # the arrays of one value, in the order they came

    def __call__(self, data: Any, depth: int = 0) -> Any:
        if depth == 0:
            self.arrays = list(self.known)
        if depth > 60:
            raise WireError("nested too deeply")
        if data is None or isinstance(data, (bool, str, int)):
            return data
        if isinstance(data, dict) and len(data) in (1, 2):
            ((kind, content), *_) = data.items()
            if kind == "float" and isinstance(content, str):
                try:
                    return float(content)
                except ValueError:
                    raise WireError("a malformed number") from None
            if kind == "array" and isinstance(content, str):
                array = array_from_text(content)
                if data.get("scalar") is True and array.ndim == 0:
                    return array[()]
                self.arrays.append(array)
                return array
            if kind == "same" and type(content) is int and 0 <= content < len(self.arrays):
                return self.arrays[content]
            if kind in ("list", "tuple") and isinstance(content, list):
                items = [self(item, depth + 1) for item in content]
                return items if kind == "list" else tuple(items)
            if kind == "dict" and isinstance(content, list):
                pairs = {}
                for pair in content:
                    if not (isinstance(pair, list) and len(pair) == 2):
                        raise WireError("a malformed dict")
                    key = self(pair[0], depth + 1)
                    try:
                        pairs[key] = self(pair[1], depth + 1)
                    except TypeError:
                        raise WireError("a dict key that cannot be hashed") from None
                return pairs
            if kind == "tensor" and self.tensor is not None:
                return self.tensor(content)
            if kind == "function" and self.function is not None:
                return self.function(content)
        raise WireError(f"unreadable data of type {type(data).__name__}")


def dumps(structure: Any) -> str:
    """JSON text of an encoded structure."""
    return json.dumps(structure, separators=(",", ":"), allow_nan=False)


def loads(text: str) -> Any:
    """The structure in JSON ``text`` (refused when absurdly long)."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise WireError("the reply is too long or not text")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise WireError("the reply is not JSON") from None
