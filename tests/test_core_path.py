"""The path a learner reads: ``L = (x + y) * z; L.backward()`` through the package, measured.

A learner following this example must read every line of every function it runs, whether or not
a branch runs. The budget (DESIGN.md): at most 50 distinct lines run, and at most 120 code lines
(no blanks, comments or docstrings) in the functions that run. ``sys.settrace`` counts both, so
the numbers stay true as the code changes. The imports of the core run one way:
ops (numpy only) <- tensor <- (autodiff imports no other module of the package).
"""

from __future__ import annotations

import ast
import inspect
import io
import sys
import textwrap
import tokenize
from pathlib import Path

import backproplab as bl

PACKAGE = Path(bl.__file__).parent


def _trace_example():
    x = bl.Tensor(-2.0, requires_grad=True, name="x")
    y = bl.Tensor(5.0, requires_grad=True, name="y")
    z = bl.Tensor(-4.0, requires_grad=True, name="z")
    lines, codes = set(), set()

    def tracer(frame, event, arg):
        code = frame.f_code
        if not code.co_filename.startswith(str(PACKAGE)):
            return tracer
        if event == "call":
            codes.add(code)
        elif event == "line":
            lines.add((code.co_filename, frame.f_lineno))
        return tracer

    sys.settrace(tracer)
    try:
        L = (x + y) * z
        L.backward()
    finally:
        sys.settrace(None)
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)
    return lines, codes


def _code_lines(code) -> int:
    """Lines of the function's source that are code: no blanks, comments or docstrings."""
    source, _ = inspect.getsourcelines(code)
    text = textwrap.dedent("".join(source))
    docstrings = set()
    try:
        tree = ast.parse(text)
    except SyntaxError:  # a lambda inside a table row: count its lines as they stand
        return sum(1 for line in source if line.strip() and not line.strip().startswith("#"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(
                getattr(first, "value", None), ast.Constant
            ):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    counted = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER):  # fmt: skip
            continue
        if tok.start[0] not in docstrings:
            counted.add(tok.start[0])
    return len(counted)


def test_the_core_path_fits_the_budget():
    lines, codes = _trace_example()
    functions = [c for c in codes if c.co_name == "<lambda>" or not c.co_name.startswith("<")]
    code_lines = sum(_code_lines(c) for c in functions)  # (comprehensions: inside a function)
    report = sorted(f"{Path(c.co_filename).name}:{c.co_name}" for c in codes)
    # the trace saw the package (an empty trace would pass any budget)
    assert {"apply", "backward", "toposort"} <= {c.co_name for c in codes}, report
    assert len(lines) <= 50, f"{len(lines)} lines run: {report}"
    assert code_lines <= 120, f"{code_lines} code lines in {report}"


def test_the_core_path_stays_in_three_files():
    _, codes = _trace_example()
    assert {Path(c.co_filename).name for c in codes} <= {"tensor.py", "ops.py", "autodiff.py"}


def _package_imports(name: str) -> set[str]:
    tree = ast.parse((PACKAGE / name).read_text())
    for node in ast.walk(tree):  # imports for type hints only (if TYPE_CHECKING:) do not run
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            found.update([node.module] if node.module else [a.name for a in node.names])
    return found


def test_imports_run_one_way():
    assert _package_imports("ops.py") == set()  # a pure numpy table
    assert _package_imports("autodiff.py") == set()  # walks nodes by their attributes only
    assert _package_imports("tensor.py") <= {"autodiff", "ops", "_arrays", "_numpy_interop"}
    assert _package_imports("_numpy_interop.py") == {"autodiff"}  # numpy's hooks, by attributes
    assert _package_imports("_arrays.py") == set()  # data made arrays: numpy only
    assert "plotting" not in _package_imports("symbolic.py")
    for part in ("module.py", "layers.py", "convolution.py", "normalization.py"):
        assert "datasets" not in _package_imports(f"nn/{part}")
