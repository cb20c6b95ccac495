"""Run a documentation page's Python blocks and compare what they print with the page.

A page written this way (docs/pytorch.md) follows every ```python block with a ```text block that
holds what the block printed. The blocks run in the page's order in one namespace, as a reader
runs them in one session. What a block prints is its standard output, with each warning shown
where it was raised as one line, ``Category: message``; a block may end in an error, which is
shown as the last line of Python's traceback, ``Error: message``, if it comes from the block's
last line (an error anywhere else is a broken example and is raised). Lines longer than 100
characters are wrapped at 100, continuation lines indented by two spaces.

tests/test_docs_pytorch.py runs the blocks that use backproplab only; the blocks that import
PyTorch are run by hand, with PyTorch installed beside the package (.ci/pytorch-page):

    python tests/doc_examples.py docs/pytorch.md
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import sys
import textwrap
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

WIDTH = 100
_EXAMPLE = re.compile(r"```python\n(.*?)```\n+```text\n(.*?)```", re.S)
_PYTHON = re.compile(r"```python\n(.*?)```", re.S)


@dataclass
class Example:
    """One ```python block of a page and the ```text block after it."""

    number: int  # 1, 2, ... in the page's order
    code: str
    shown: str  # what the page says the code printed

    @property
    def uses_torch(self) -> bool:
        """Whether the block names PyTorch (then only .ci/pytorch-page runs it)."""
        return re.search(r"\btorch\b", self.code) is not None


def examples(text: str) -> list[Example]:
    """Every ```python block of ``text`` with its output; a block without one is an error."""
    found = [Example(k + 1, code, shown) for k, (code, shown) in enumerate(_EXAMPLE.findall(text))]
    if len(found) != len(_PYTHON.findall(text)):
        raise ValueError("a ```python block is not followed by a ```text block of its output")
    return found


def run(example: Example, namespace: dict) -> str:
    """What ``example`` prints when run in ``namespace`` (see the module docstring)."""
    name = f"<block {example.number}>"
    out = io.StringIO()

    def show(message: Warning | str, category: type[Warning], *rest: object) -> None:
        print(f"{category.__name__}: {message}", file=out)

    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("always")
        # not an earlier test's unclosed event loop that the garbage collector frees meanwhile (a
        # grading thread's, in CI: "block 1 printed: ResourceWarning: unclosed event loop")
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.showwarning = show
        try:
            exec(compile(example.code, name, "exec"), namespace)
        except Exception as error:
            lines = [
                f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == name
            ]
            if lines[-1:] != [len(example.code.rstrip("\n").split("\n"))]:
                raise  # not from the block's last line: the example is broken
            print(f"{type(error).__name__}: {error}")
    return wrap(out.getvalue())


def wrap(text: str) -> str:
    """Every line of ``text`` longer than WIDTH wrapped at WIDTH, continuations indented."""
    lines = []
    for line in text.split("\n"):
        if len(line) <= WIDTH:
            lines.append(line)
        else:
            lines += textwrap.wrap(
                line, WIDTH, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
            )
    return "\n".join(lines)


def mismatches(text: str, with_torch: bool) -> list[str]:
    """Run the page's examples in order (those using PyTorch only if ``with_torch``) and name
    each one whose output differs from the page's, with both outputs."""
    namespace: dict = {"__name__": "__page__"}
    found = []
    for example in examples(text):
        if example.uses_torch and not with_torch:
            continue
        printed = run(example, namespace)
        if printed != example.shown:
            found.append(
                f"block {example.number} printed:\n{printed}--- the page shows:\n{example.shown}"
            )
    return found


def missing_names(text: str, prefix: str, module: object) -> list[str]:
    """Names ``prefix.a.b`` that ``text`` mentions in code spans or blocks and that ``module``
    does not have (``bl.nn.Linear`` with prefix "bl" and the package)."""
    code = " ".join(re.findall(r"`([^`\n]+)`", text) + _PYTHON.findall(text))
    names = set(re.findall(rf"(?<![\w.]){re.escape(prefix)}((?:\.\w+)+)", code))
    missing = []
    for name in sorted(names):
        try:
            functools.reduce(getattr, name.split(".")[1:], module)
        except AttributeError:
            missing.append(prefix + name)
    return missing


def main(path: str) -> int:
    """Every example of the page, PyTorch's too, and every torch name it mentions."""
    import numpy as np
    import torch

    text = Path(path).read_text(encoding="utf-8")
    print(f"torch {torch.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    problems = mismatches(text, with_torch=True)
    problems += [f"no such name in torch: {name}" for name in missing_names(text, "torch", torch)]
    problems += [
        f"no such name in torch.nn.functional: {name}"
        for name in missing_names(text, "F", torch.nn.functional)
    ]
    version = torch.__version__.split("+")[0]
    if f"PyTorch {version}" not in text:
        problems.append(f"the page does not say that PyTorch {version} printed its outputs")
    for problem in problems:
        print(problem, end="\n\n")
    verdict = f"FAILED, {len(problems)} problem(s)" if problems else "every output as shown"
    print(f"{path}: {len(examples(text))} examples run, {verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
