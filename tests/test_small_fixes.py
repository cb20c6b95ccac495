"""Four small cases that gave a numpy warning and a wrong-looking number, or a misleading line:
each test here fails without its fix. Expected values are worked out by hand in the comments."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import backproplab as bl


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's RuntimeWarning fails the test
        # but not an earlier test's unclosed socket that the garbage collector frees here (a
        # kernel client's, in CI: its ResourceWarning, raised in __del__, failed this file)
        warnings.simplefilter("default", ResourceWarning)
        yield


def _f32(values):
    return bl.Tensor(np.asarray(values, dtype=np.float32), requires_grad=True)


# --------------------------------------------- 1. float targets beyond a float32 model's range
@pytest.mark.parametrize(
    "target, entry",
    [
        ([1e39, 0.0, 0.0], "1e\\+39"),  # a Python list: float64, cast to float32
        (np.array([0.0, -1e300, 2.0]), "-1e\\+300"),  # the entry of largest magnitude, signed
    ],
)
def test_mse_loss_names_a_target_beyond_float32(target, entry):
    # was: RuntimeWarning "overflow encountered in cast", then a loss of inf
    with pytest.raises(
        ValueError,
        match=rf"^mse_loss: the target of shape \(3,\) has an entry {entry}, beyond the range "
        rf"of float32 \(±3\.4e\+38\), the dtype of the model's output; scale the targets, or "
        rf"make the model float64$",
    ):
        bl.mse_loss(_f32([0.0, 0.0, 0.0]), target)


def test_mse_loss_keeps_a_large_target_float32_holds():
    # 1e19 fits float32; (0 - 1e19)^2 / 3 = 3.33e37 fits too: a number, no error, no warning
    loss = bl.mse_loss(_f32([0.0, 0.0, 0.0]), np.array([1e19, 0.0, 0.0]))
    assert loss.dtype == np.float32
    assert loss.item() == pytest.approx(1e38 / 3, rel=1e-6)
    # a float64 model takes the same 1e39 the float32 one refuses: (1e39)^2 / 3
    assert bl.mse_loss(bl.Tensor([0.0, 0.0, 0.0]), [1e39, 0, 0]).item() == pytest.approx(1e78 / 3)


@pytest.mark.parametrize(
    "loss", [bl.binary_cross_entropy, bl.binary_cross_entropy_with_logits], ids=["bce", "logits"]
)
def test_binary_losses_check_the_range_before_the_cast(loss):
    # was: the cast's RuntimeWarning, then "targets must lie in [0, 1]"; now only the error
    with pytest.raises(ValueError, match=rf"^{loss.__name__}: targets must lie in \[0, 1\]$"):
        loss(_f32([0.5, 0.5]), np.array([1e300, 0.0]))


def test_cross_entropy_names_probability_rows_beyond_float32():
    # was: the cast's warning hidden, then "the loss overflows float32 (logits from 0 to 0, 0
    # apart) ... the model has diverged", which blamed the logits
    with pytest.raises(
        ValueError,
        match=r"^cross_entropy: the target rows of shape \(1, 3\) has an entry 1e\+300, beyond "
        r"the range of float32",
    ):
        bl.cross_entropy(_f32([[0.0, 0.0, 0.0]]), np.array([[1e300, 0.0, 0.0]]))


def test_cross_entropy_that_overflows_from_its_target_rows_says_so():
    # -3 * 1e308 * log(1/3) = 3.3e308 overflows float64 (1.8e308); the logits, all 0, were
    # blamed for it
    with pytest.raises(
        ValueError,
        match=r"^cross_entropy: the loss overflows float64 \(target rows of shape \(1, 3\) up "
        r"to 1e\+308, logits 0 apart\); rows of class probabilities lie in \[0, 1\]",
    ):
        bl.cross_entropy(bl.Tensor([[0.0, 0.0, 0.0]]), np.full((1, 3), 1e308))


# ------------------------------------- 3. no heading of a closed worked answer in the contents
def _headings(markdown: str) -> list[str]:
    """The headings a CommonMark reader finds in ``markdown``, in lists and quotes too (JupyterLab's
    table of contents lists each, whether or not it sits in a closed <details> block): the source
    of each heading's text."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(markdown)
    return [
        inline.content
        for opening, inline in zip(tokens, tokens[1:])
        if opening.type == "heading_open"
    ]


def test_the_closed_worked_answers_of_the_workbook_list_no_heading():
    # was: five headings in JupyterLab's table of contents, among them notebook 08's "The engine
    # against $a - y$" (its exercise's answer) and "The shift gets no gradient"
    import nbformat

    from backproplab._closed_answers import close_worked_answers
    from backproplab.classroom.release import ANSWER_TAG

    bolded = []
    for path in sorted(Path(__file__).parents[1].glob("notebooks/*.ipynb")):
        solved = nbformat.read(path, as_version=4)
        closed = close_worked_answers(nbformat.read(path, as_version=4))
        for before, after in zip(solved.cells, closed.cells):
            if after.cell_type != "markdown":
                continue
            if ANSWER_TAG not in after.metadata.get("tags", []):
                assert after.source == before.source  # the other cells keep their headings
                continue
            assert _headings(after.source) == [], (path.name, after.source[:200])
            for title in _headings(before.source):
                assert f"\n**{title}**\n" in after.source, (path.name, title)
                bolded.append((path.name[:2], title))
    assert ("08", "The engine against $a - y$") in bolded and len(bolded) >= 5


def test_a_heading_becomes_a_bold_paragraph_of_its_own_and_code_keeps_its_comments():
    from backproplab._closed_answers import bold_headings

    text = "Above.\n### Why ###\nBelow.\n\n```python\n## a comment\n```\n\n## Next"
    assert bold_headings(text) == (
        "Above.\n\n**Why**\n\nBelow.\n\n```python\n## a comment\n```\n\n**Next**"
    )
    assert _headings(bold_headings(text)) == [] and _headings(text) == ["Why", "Next"]
    unchanged = "**bold** first\nthen more\n    ## indented: code\n#no space"
    assert bold_headings(unchanged) == unchanged


# ------------------------------------------- 4. warnings of the pictures at their edge inputs
def test_gradient_norms_that_are_all_zero_get_no_log_scale_warning():
    # a dead network: every norm 0. Was matplotlib's UserWarning "Data has no positive values,
    # and therefore cannot be log-scaled", though the legend already says none is drawn
    import matplotlib

    matplotlib.use("Agg")
    from backproplab import plotting
    from backproplab._diagnostics import Diagnostics

    fig = plotting.plot_gradient_norms({"dead": [0.0, 0.0, 0.0]})
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylim() == (0.1, 10.0)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["dead (not drawn: layer 1 = 0, layer 2 = 0, layer 3 = 0)"]
    zeros = np.zeros((2, 2))
    dead = Diagnostics(["0", "2"], ["1"], np.array([1, 2]), np.array([1, 1]), zeros, zeros,
                       zeros[:, :1], zeros[:, :1], np.ones((2, 1)))  # fmt: skip
    fig = plotting.plot_gradient_flow(dead)
    fig.canvas.draw()
    assert [ax.get_ylim() for ax in fig.axes] == [(0.1, 10.0), (0.1, 10.0)]
    fig = plotting.plot_gradient_norms({"some": [0.0, 1e-3]})  # one norm to show: its scale
    fig.canvas.draw()
    low, high = fig.axes[0].get_ylim()
    assert low < 1e-3 < high < 0.1  # (not the decade around 1)


def test_activation_histograms_of_a_diverged_layer_are_drawn_in_units_of_its_largest_value():
    # from -1e308 to 1e308: was numpy's "overflow encountered in subtract", then its ValueError
    # "Too many bins for data range"; at 1e160 the std's squares overflowed to a std of inf
    import matplotlib

    matplotlib.use("Agg")
    from backproplab import plotting

    values = {"huge": np.array([1e308, -1e308, 0.0, 0.0]), "big": np.array([3e160, -1e160])}
    fig = plotting.plot_activation_histograms(values, bins=4)
    fig.canvas.draw()
    huge, big = fig.axes[:2]
    # mean 0; std sqrt((1e308^2 * 2) / 4) = 7.07e307; bins of width 0.5 from -1 to 1
    assert huge.get_title() == "huge\nmean 0 std 7.07e+307" and huge.get_xlabel() == "× 1e+308"
    assert [p.get_height() for p in huge.patches] == [1, 0, 2, 1]
    # mean 1e160; std 2e160 (the two values 2e160 either side of it)
    assert big.get_title() == "big\nmean 1e+160 std 2e+160" and big.get_xlabel() == "× 3e+160"
    small = plotting.plot_activation_histograms({"tanh": np.array([0.5, -0.5, 0.0, 0.25])})
    assert small.axes[0].get_title() == "tanh\nmean 0.06 std 0.37"  # as before: 0.0625, 0.37
    assert small.axes[0].get_xlabel() == ""
