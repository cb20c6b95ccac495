"""show_row and show_source: the notebooks quote the package through them, so they must print the
right lines, and raise (never print nothing) when the quoted line is gone."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import backproplab as bl
from backproplab import nn
from backproplab.source import show_row, show_source


def test_show_row_prints_the_one_line_row_of_an_op(capsys):
    show_row("mul")
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    assert out[0].startswith("mul ") and "np.multiply" in out[0] and "g * y, g * x" in out[0]


def test_show_row_prints_a_row_that_continues_on_indented_lines(capsys):
    show_row("relu")
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0].startswith("relu ") and "np.maximum(x, 0)" in out[0]
    assert out[1].startswith(" ") and "(x > 0)" in out[1]  # the vjp, on its own line


def test_show_row_does_not_take_a_row_whose_name_only_starts_the_same(capsys):
    show_row("leaky_relu")
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("leaky_relu ")


def test_show_row_of_an_op_that_is_not_in_the_table_raises():
    with pytest.raises(LookupError, match="no row named 'softplus'"):
        show_row("softplus")


def test_show_source_prints_from_first_through_last(capsys):
    show_source(bl.autodiff.backward, "for node in reversed(order)", "hook(node, grads)")
    out = capsys.readouterr().out.splitlines()
    assert "for node in reversed(order)" in out[0]
    assert "hook(node, grads)" in out[-1] and "hook(node, grads)" not in "".join(out[:-1])
    body = inspect.getsource(bl.autodiff.backward).splitlines()
    start = next(i for i, line in enumerate(body) if "for node in reversed(order)" in line)
    assert out == body[start : start + len(out)]  # the lines as they are, indentation kept


def test_show_source_with_first_only_prints_that_line(capsys):
    show_source(bl.autodiff.backward, "paths add up, here only")
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].lstrip().startswith("x.grad = g if x.grad is None")


def test_show_source_without_first_prints_it_all(capsys):
    show_source(bl.sum_to_shape)
    assert capsys.readouterr().out == inspect.getsource(bl.sum_to_shape)


def test_show_source_where_names_the_file_and_dedents(capsys):
    show_source(nn.ResidualBlock, "return x + fx", where=True)
    assert (
        capsys.readouterr().out
        == "backproplab/nn/layers.py:\n    return x + fx  # H(x) = x + F(x)\n"
    )


@pytest.mark.parametrize("first, last", [("no such line", None), ("def sum_to_shape", "nowhere")])
def test_show_source_of_text_that_is_gone_raises_naming_it(first, last, capsys):
    missing = last or first
    with pytest.raises(LookupError, match=f"no line of sum_to_shape contains '{missing}'"):
        show_source(bl.sum_to_shape, first, last)
    assert capsys.readouterr().out == ""  # nothing half-printed


def test_last_is_searched_from_first_on_not_from_the_top(capsys):
    # "return" appears in sum_to_shape before the line "ones = ...": the part ends at the one after
    show_source(bl.sum_to_shape, "ones = ", "return")
    out = capsys.readouterr().out.splitlines()
    assert "ones = " in out[0] and out[-1].lstrip().startswith("return g.sum(")


@pytest.mark.parametrize("obj", [3, np.exp, len])
def test_show_source_of_something_not_written_in_python_says_so_in_one_line(obj):
    with pytest.raises(TypeError, match="has no Python source to show; pass a function"):
        show_source(obj)
