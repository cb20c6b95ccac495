"""What a check says when the learner's code crashed: one line, and for a shape mistake, words.

numpy's own message for the most common mistake of a backward pass, a factor on the wrong side
of a matrix product or a transpose too many, is "matmul: Input operand 1 has a mismatch in its
core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 128 is different from 10)".
``crash_message`` says instead which kind of operation did not fit, with the sizes that differ,
and the shapes of the arrays the learner's function was given, by its parameter names::

    your code raised ValueError: a matrix product whose inner sizes differ: the left factor has
    10 columns, the right factor 128 rows. Your function was given d of shape (64, 10) and W of
    shape (10, 128): check which side each factor goes on and whether it needs a transpose. The
    line that raised it: `return d @ W`.

A transpose is left out of the advice only when no transposed factor would make the sizes fit
(judged from the shapes numpy's message gives, else from the arrays the learner's code had at
hand); the advice is then to check which side each factor goes on and which arrays are
multiplied. It never says which factor to transpose: that would be the answer. It quotes the
line of the learner's code that raised (``failing_line``), so that a function of several lines
need not be searched. The rest is read from the exception's type name and message and from the
arguments, so a crash in the grader (where the student's exception comes back from their kernel
as a name, a message and that line) gets the same words as in the notebook; only the local
arrays of the learner's code are not there, and without them the advice keeps the transpose.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import io
import linecache
import os
import re
import sysconfig
import tokenize
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._reading import RemoteFunction

__all__ = ["PRODUCT_ADVICE", "crash_message", "failing_line", "parameter_names", "teachers_code"]

PRODUCT_ADVICE = "check which side each factor goes on"  # every product's advice begins so
_TRANSPOSE = " and whether it needs a transpose"  # only when a transpose would make them fit
_WHICH_ARRAYS = " and which arrays you multiply"
_ELEMENTWISE = "check the shape of each array you combine, and which axis each size stands for"

_TRUTH_VALUE = "The truth value of an array with more than one element is ambiguous"
_SHAPE = r"\(([\d, ]*)\)"  # numpy writes a shape as (64,10), (3,) or ()


def _shape(text: str) -> str:
    """numpy's "(64,10)" written as Python prints a shape: "(64, 10)"."""
    sizes = tuple(int(s) for s in text.replace(" ", "").split(",") if s)
    return str(sizes)


def _listed(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _count(n: str, what: str) -> str:
    return f"{n} {what}" if n == "1" else f"{n} {what}s"


def _matmul_mismatch(match: re.Match) -> str:
    right, left = match.groups()
    return (
        f"a matrix product whose inner sizes differ: the left factor has {_count(left, 'column')}"
        f", the right factor {_count(right, 'row')}"
    )


def _dot_mismatch(match: re.Match) -> str:
    a, b, left, right = match.groups()
    return (
        f"a matrix product of shapes {_shape(a)} and {_shape(b)} whose inner sizes differ: the "
        f"left factor has {_count(left, 'column')}, the right factor {_count(right, 'row')}"
    )


def _number_factor(match: re.Match) -> str:
    side = "left" if match.group(1) == "0" else "right"
    return f"a matrix product whose {side} factor is a single number, not a vector or a matrix"


def _broadcast(match: re.Match) -> str:
    shapes = [_shape(s) for s in re.findall(_SHAPE, match.group(1))]
    return (
        f"an elementwise operation on arrays of shapes {_listed(shapes)}, which do not fit "
        "together (lined up from the right, each pair of sizes must be equal, or one of them 1)"
    )


def _remapped(match: re.Match) -> str:
    originals = re.findall(_SHAPE + r"(?:->\([^)]*\))?", match.group(1).split(" and requested")[0])
    shapes = [_shape(s) for s in originals]
    if len(shapes) == 1:
        requested = re.search(r"requested shape " + _SHAPE, match.group(1))
        if requested:
            shapes.append(_shape(requested.group(1)))
    return f"an operation on arrays of shapes {_listed(shapes)}, which do not fit together"


def _in_place(match: re.Match) -> str:
    target, result = match.groups()
    return (
        f"an in-place operation whose result, of shape {_shape(result)}, does not fit into the "
        f"array of shape {_shape(target)} that it updates"
    )


def _assignment(match: re.Match) -> str:
    value, place = match.groups()
    return (
        f"an assignment of an array of shape {_shape(value)} into a place of shape {_shape(place)}"
    )


# numpy's shape errors (ValueError), each with its words and the advice that goes with it
_NUMPY = [
    (
        re.compile(
            r"matmul: Input operand 1 has a mismatch in its core dimension 0, .*"
            r"\(size (\d+) is different from (\d+)\)"
        ),
        _matmul_mismatch,
        PRODUCT_ADVICE,
    ),
    (
        re.compile(rf"shapes {_SHAPE} and {_SHAPE} not aligned: (\d+) \(dim \d+\) != (\d+)"),
        _dot_mismatch,
        PRODUCT_ADVICE,
    ),
    (
        re.compile(r"matmul: Input operand (\d) does not have enough dimensions \(has 0"),
        _number_factor,
        PRODUCT_ADVICE,
    ),
    (
        re.compile(r"operands could not be broadcast together with shapes ((?:\([\d, ]*\) ?)+)"),
        _broadcast,
        _ELEMENTWISE,
    ),
    (
        re.compile(r"operands could not be broadcast together with remapped shapes .*?: (.*)"),
        _remapped,
        _ELEMENTWISE,
    ),
    (
        re.compile(
            rf"non-broadcastable output operand with shape {_SHAPE} doesn't match the "
            rf"broadcast shape {_SHAPE}"
        ),
        _in_place,
        _ELEMENTWISE,
    ),
    (
        re.compile(rf"could not broadcast input array from shape {_SHAPE} into shape {_SHAPE}"),
        _assignment,
        _ELEMENTWISE,
    ),
]


def _plain(type_name: str, text: str) -> tuple[str, str, tuple] | None:
    """(what went wrong, in words; the advice; for a matrix product the left factor's columns,
    the right factor's rows and the factors' shapes where the message gives them) for a shape
    error, or None for any other error. The package's own ShapeError is readable already: its
    message stays."""
    if type_name == "ValueError":
        for pattern, words, advice in _NUMPY:
            match = pattern.match(text)
            if match:
                return words(match), advice, _product_sizes(pattern, match)
    if type_name == "ShapeError":
        product = re.search(rf"cannot multiply {_SHAPE} by {_SHAPE}", text)
        if product:
            left, right = (_sizes(product.group(i)) for i in (1, 2))
            return (
                text,
                PRODUCT_ADVICE,
                (left[-1], right[-2 if len(right) > 1 else 0], [(left, right)]),
            )
        if "broadcast" in text:
            return text, _ELEMENTWISE, ()
    return None


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(s) for s in text.replace(" ", "").split(",") if s)


def _product_sizes(pattern: re.Pattern, match: re.Match) -> tuple:
    """(left columns, right rows, [(left shape, right shape)] when known) for numpy's matrix
    product messages; () for the others."""
    if pattern is _NUMPY[0][0]:
        right, left = match.groups()
        return int(left), int(right), []
    if pattern is _NUMPY[1][0]:
        a, b, left, right = match.groups()
        return int(left), int(right), [(_sizes(a), _sizes(b))]
    return ()


def _transpose_fits(columns: int, rows: int, pairs: list, arrays: list[tuple[int, ...]]) -> bool:
    """Whether transposing one factor of a product (left ``columns`` != right ``rows``) would
    make it fit: the factors' shapes where numpy's message gives them, else the shapes of the
    arrays the code had at hand (and their transposes) that could be the factors. True when
    none of them can be the factors (sub-expressions; the grader sees no local variables): then
    no one can tell, and the advice keeps both."""
    if not pairs:
        shapes = [s for s in arrays if len(s) >= 2] + [(*s[:-2], s[-1], s[-2]) for s in arrays
                                                       if len(s) >= 2]  # fmt: skip
        lefts = [s for s in shapes if s[-1] == columns]
        rights = [s for s in shapes if s[-2] == rows]
        pairs = [(a, b) for a in lefts for b in rights]
        if not pairs:
            return True
    return any(
        (len(a) >= 2 and a[-2] == rows) or (len(b) >= 2 and b[-1] == columns) for a, b in pairs
    )


def crash_message(
    fn: Callable[..., Any], error: BaseException, args: tuple, kwargs: dict[str, Any]
) -> str:
    """The hint's sentence for the learner's ``fn`` called on ``args`` and ``kwargs``, which
    raised ``error``: "your code raised <type>: <what happened>", in words for a shape error."""
    type_name = type(error).__name__
    try:
        text = str(error)
    except Exception:  # noqa: BLE001 - a learner's exception class whose __str__ fails
        text = "(its message could not be shown)"
    first_line = text.splitlines()[0] if text else ""
    line = failing_line(error)
    where = f" The line that raised it: `{line}`." if line else ""
    found = _plain(type_name, first_line)
    if found is None and type_name == "ValueError" and first_line.startswith(_TRUTH_VALUE):
        return (  # numpy's words name neither the if nor the entries, and its advice
            # (a.any() or a.all()) would give one answer for all of them
            "your code raised ValueError: the truth value of an array with more than one element "
            "is ambiguous: an `if`, `while`, `and`, `or` or `not`, or Python's own `max` or "
            "`min` (which compare with `<`), asks one yes-or-no question of a whole array, "
            f"whose entries each need their own answer.{where}"
        )
    if found is None:
        return f"your code raised {type_name}: {first_line}{'.' if line else ''}{where}"
    words, advice, product = found
    if product:
        at_hand = [_array_shape(v) for v in [*_flat([*args, *kwargs.values()]), *_locals(error)]]
        columns, rows, pairs = product
        fits = _transpose_fits(columns, rows, pairs, [s for s in at_hand if s])
        advice += _TRANSPOSE if fits else _WHICH_ARRAYS
    names = parameter_names(fn, len(args)) + list(kwargs)
    given = [
        f"{name} {shape}"
        for name, value in zip(names, [*args, *kwargs.values()])
        if name is not None and (shape := _described(value))
    ]
    said = f"your code raised {type_name}: {words}."
    if not given:
        return f"{said} {advice[0].upper()}{advice[1:]}.{where}"
    return f"{said} Your function was given {_listed(given)}: {advice}.{where}"


# Where code that is not the learner's lives: this package, and Python's and the installed
# packages' folders (numpy's matmul, a list's index...). Every other frame is the learner's.
_NOT_THEIRS = tuple(
    os.path.join(os.path.realpath(folder), "")
    for folder in (
        os.path.dirname(os.path.dirname(__file__)),  # backproplab/
        *{sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")},
    )
)


# In the grader no frame of its own process is the learner's: they are the teacher's (a check
# cell, a module of checks, the notebook's setup, which may hold the answer).
_TEACHERS_FRAMES: contextvars.ContextVar[bool] = contextvars.ContextVar("teachers", default=False)


@contextlib.contextmanager
def teachers_code() -> Iterator[None]:
    """Inside it (the grader running a teacher's check) only the line a student's kernel sent
    with its exception is quoted, never one of this process's frames."""
    token = _TEACHERS_FRAMES.set(True)
    try:
        yield
    finally:
        _TEACHERS_FRAMES.reset(token)


def _flat(values: list) -> list:
    """The values, with the items of lists and tuples among them."""
    return [v for value in values for v in (value if isinstance(value, (list, tuple)) else [value])]


def _locals(error: BaseException) -> list[Any]:
    """The values of the local variables of the innermost frame of the learner's own code in
    ``error``'s traceback (in the grader, whose frames are the teacher's, arrays of the same
    shapes that the student's kernel sent: ``failing_locals``)."""
    found: list[Any] = list(getattr(error, "failing_locals", []))
    tb = None if _TEACHERS_FRAMES.get() else error.__traceback__
    while tb is not None:
        if _theirs(tb.tb_frame.f_code.co_filename):
            found = list(tb.tb_frame.f_locals.values())
        tb = tb.tb_next
    return found


def _theirs(path: str) -> bool:
    """Whether code compiled from ``path`` is the learner's (see ``failing_line``)."""
    # a relative name ("04_x.ipynb", what the grader compiles a teacher's cell as) is no
    # file of the learner's: linecache would look for it in the working folder
    known = os.path.isabs(path) or path in linecache.cache
    return known and not os.path.realpath(path).startswith(_NOT_THEIRS)


def failing_line(error: BaseException) -> str | None:
    """The line of the learner's own code that raised ``error`` (the innermost frame of the
    traceback outside the package and the installed libraries), stripped and at most 80
    characters; None when there is none to show. An exception from the student's kernel (in the
    grader) carries the line its kernel found, as ``failing_line``."""
    found = getattr(error, "failing_line", None)
    if not isinstance(found, str):
        found, tb = "", None if _TEACHERS_FRAMES.get() else error.__traceback__
        while tb is not None:  # outermost to innermost
            path = tb.tb_frame.f_code.co_filename
            if _theirs(path):
                linecache.checkcache(path)  # a file edited (and reloaded) since it was read
                found = _code(linecache.getline(path, tb.tb_lineno)) or found
            tb = tb.tb_next
    found = " ".join(found.split()).replace("`", "'")  # shown on one line, between backticks
    return (found if len(found) <= 80 else f"{found[:77]}...") or None


def _code(line: str) -> str:
    """A line of source without its comment (a ``#`` inside a string stays)."""
    with contextlib.suppress(tokenize.TokenError, SyntaxError):  # half a statement: kept whole
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                return line[: token.start[1]].strip()
    return line.strip()


def _described(value: Any) -> str:
    """ "of shape (5, 3)" for an array or a Tensor, "of shapes [(7, 5), (4, 7)]" for a list or
    tuple of them; "" for anything else (numbers, models...)."""
    if isinstance(value, (list, tuple)) and value:
        shapes = [_array_shape(v) for v in value]
        if any(s is None for s in shapes):
            return ""
        shown = [str(s) for s in shapes[:6]] + (["..."] if len(shapes) > 6 else [])
        return f"of shapes [{', '.join(shown)}]"
    shape = _array_shape(value)
    return f"of shape {shape}" if shape else ""


def _array_shape(value: Any) -> tuple[int, ...] | None:
    """The shape of an array or a Tensor with at least one axis, else None."""
    data = value.data if isinstance(value, Tensor) else value
    if isinstance(data, np.ndarray) and data.ndim > 0:
        return data.shape
    return None


def parameter_names(fn: Callable[..., Any], count: int) -> list[str | None]:
    """The names of the parameters of ``fn`` that receive its first ``count`` positional
    arguments ("args[0]"... for a ``*args``; None where there is no name to give). In the grader,
    the student's kernel reads them off the function there."""
    if isinstance(fn, RemoteFunction):
        return fn.parameter_names(count)
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature, an odd callable
        return [None] * count
    names: list[str | None] = []
    for p in parameters:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            names += [f"{p.name}[{i}]" for i in range(max(0, count - len(names)))]
    return (names + [None] * count)[:count]
