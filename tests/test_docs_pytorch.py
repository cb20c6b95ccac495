"""docs/pytorch.md, "From backproplab to PyTorch", shows what its code printed.

The page's backproplab blocks run here, in the page's order, and must print exactly what the page
shows under them (tests/doc_examples.py says how warnings, errors and long lines are shown). Its
PyTorch blocks need PyTorch, which is not a dependency: `.ci/pytorch-page` runs them by hand in
a virtual environment of their own, with the same comparison.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from doc_examples import Example, examples, mismatches, missing_names, run, wrap

import backproplab as bl

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "pytorch.md"
TEXT = PAGE.read_text(encoding="utf-8")


def test_every_backproplab_block_prints_what_the_page_shows():
    assert mismatches(TEXT, with_torch=False) == []


def test_the_page_has_blocks_of_both_kinds_each_with_its_output():
    found = examples(TEXT)
    ours = [example for example in found if not example.uses_torch]
    theirs = [example for example in found if example.uses_torch]
    assert len(ours) >= 7 and len(theirs) >= 8, (len(ours), len(theirs))
    assert all(example.shown.strip() for example in found)  # no block without an output
    assert not any("torch" in example.code for example in ours)


@pytest.mark.parametrize(
    "example",
    [example for example in examples(TEXT) if not example.uses_torch],
    ids=lambda example: f"block {example.number}",
)
def test_an_output_edited_on_the_page_is_caught(example):
    """Each backproplab output with one character changed (its first digit, or its first
    character if it prints no number): the check must object, and name that block."""
    digit = re.search(r"\d", example.shown)
    k = digit.start() if digit else 0
    old = example.shown[k]
    new = str((int(old) + 1) % 10) if digit else old.swapcase()
    edited_output = example.shown[:k] + new + example.shown[k + 1 :]
    block = f"```python\n{example.code}```\n\n```text\n{example.shown}```"
    assert TEXT.count(block) == 1
    edited = TEXT.replace(block, f"```python\n{example.code}```\n\n```text\n{edited_output}```")
    found = mismatches(edited, with_torch=False)
    assert len(found) == 1 and found[0].startswith(f"block {example.number} printed:")


def test_the_first_step_prints_the_same_numbers_in_both_libraries():
    """The page's claim: same initial weights, same loss and gradient norm, before and after."""
    first, second = examples(TEXT)[:2]
    assert not first.uses_torch and second.uses_torch
    numbers = [re.findall(r"\d+\.\d{6}", example.shown) for example in (first, second)]
    assert len(numbers[0]) == 3 and numbers[0] == numbers[1]


def test_every_backproplab_name_on_the_page_exists():
    names = set(re.findall(r"(?<![\w.])bl(?:\.\w+)+", TEXT))
    assert {"bl.nn.Linear", "bl.optim.clip_grad_norm_", "bl.detect_anomaly"} <= names
    assert missing_names(TEXT, "bl", bl) == []
    assert missing_names("`bl.nn.Lineer`, `bl.no_grad`", "bl", bl) == ["bl.nn.Lineer"]


def test_warnings_errors_and_long_lines_are_shown_as_the_page_says():
    code = (
        "import warnings\n"
        "print('first')\n"
        "warnings.warn('careful', UserWarning)\n"
        "print('x' * 60, 'y' * 60)\n"
        "raise ValueError('on the last line')\n"
    )
    shown = run(Example(1, code, ""), {})
    assert shown == (
        f"first\nUserWarning: careful\n{'x' * 60}\n  {'y' * 60}\nValueError: on the last line\n"
    )
    with pytest.raises(ZeroDivisionError):  # an error before the last line breaks the example
        run(Example(1, "1 / 0\nprint('never')\n", ""), {})
    with pytest.raises(SyntaxError):  # so does code that does not compile
        run(Example(1, "print(\n", ""), {})
    assert wrap("short\n") == "short\n"


def test_a_block_without_its_output_is_refused():
    with pytest.raises(ValueError, match="not followed by a ```text block"):
        examples("```python\nprint(1)\n```\n\nno output block\n")


def test_the_page_is_in_the_sites_table_of_contents_and_linked_from_the_readme():
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    toctree = index[index.index(":caption: Teaching and reference") :]
    assert "\npytorch\n" in toctree
    assert "(docs/pytorch.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    script = ROOT / ".ci" / "pytorch-page"
    assert script.stat().st_mode & 0o111, "not executable"
    assert "torch==2.13.0" in script.read_text(encoding="utf-8")
    assert "PyTorch 2.13.0" in TEXT


def test_the_sgd_row_names_the_arguments_that_differ_in_position():
    """PyTorch's SGD takes (params, lr, momentum, dampening, weight_decay): the row's
    `torch.optim.SGD(params, lr, momentum, weight_decay)`, called as written, gives PyTorch a
    dampening and no weight decay, without a word."""
    import inspect

    (row,) = [line for line in TEXT.splitlines() if "`torch.optim.SGD(" in line]
    assert "weight_decay=" in row and "dampening" in row, row
    assert list(inspect.signature(bl.optim.SGD).parameters)[3] == "weight_decay"


def test_a_block_does_not_print_what_the_garbage_collector_frees_meanwhile():
    """An object of an earlier test (here a socket left open in a reference cycle) freed while a
    block runs warns with a ResourceWarning; that is not what the block printed."""
    import gc
    import socket

    class Cycle:
        pass

    gc.disable()
    try:
        cycle = Cycle()
        cycle.self, cycle.socket = cycle, socket.socket(socket.AF_UNIX)
        del cycle
        example = Example(1, "import gc\ngc.collect()\nprint(1)\n", "1\n")
        assert run(example, {}) == "1\n"
    finally:
        gc.enable()
