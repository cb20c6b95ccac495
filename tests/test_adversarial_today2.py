"""Attacks on the day's learner-facing changes (graph drawings in rows, the workbook's bold
headings, the losses' dtype-range check, the site's folds, the training pictures' edge cases):
each test here failed before its fix. Expected values are written out by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_small_fixes import _headings  # what a CommonMark reader calls a heading

import backproplab as bl
from backproplab._closed_answers import bold_headings


# ----------------------------------------------------------- 1. the losses' dtype-range check
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_a_float16_target_is_compared_without_a_warning(loss):
    # was: numpy's "overflow encountered in cast" (float32's largest, a Python float, was cast
    # to the float16 target's dtype for the comparison)
    target = np.array([[1.0, 0.0]], dtype=np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if loss == "mse":
            value = bl.mse_loss(bl.Tensor(np.zeros((1, 2), np.float32)), target)
            assert value.item() == pytest.approx(0.5) and value.dtype == np.float32
        else:
            value = bl.cross_entropy(bl.Tensor(np.zeros((1, 2), np.float32)), target)
            assert value.item() == pytest.approx(np.log(2), rel=1e-6)


def test_an_integer_target_beyond_a_float16_model_is_refused_in_one_line():
    # was: numpy's "overflow encountered in cast" and a loss of inf
    with pytest.raises(ValueError, match=r"mse_loss: the target .* 1e\+05, beyond .* float16"):
        bl.mse_loss(bl.Tensor(np.zeros(2, np.float16)), np.array([100_000, 0]))


def test_a_target_that_rounds_to_float32s_largest_value_is_taken():
    # was: "the target of shape (1,) has an entry 3.4e+38, beyond the range of float32
    # (±3.4e+38)": a float64 just above float32's largest value rounds to it in the cast
    largest = np.finfo(np.float32).max
    target = np.array([np.nextafter(np.float64(largest), np.inf)])
    assert target[0] > largest and target.astype(np.float32)[0] == largest
    prediction = bl.Tensor(np.array([largest], dtype=np.float32))
    assert bl.mse_loss(prediction, target).item() == 0.0


# -------------------------------------------------- 2. the workbook's headings as bold lines
def test_a_code_fence_is_closed_only_by_its_own_kind():
    # was: a ``` line inside a ~~~ block (or a ```` block) closed it: the code's "## comment"
    # was rewritten as bold text, and the heading after the block was left a heading
    for fence, inner in (("~~~", "```"), ("````", "```")):
        code = f"{fence}\n{inner}\n## a comment\n{fence}"
        assert bold_headings(f"{code}\n## After") == f"{code}\n\n**After**"


@pytest.mark.parametrize(
    ("markdown", "bolded"),
    [
        ("Why\n===\nBelow.", "**Why**\n\nBelow."),  # a setext heading: was left a heading
        ("Above.\nWhy it works\n---", "**Above.\nWhy it works**"),
        ("- first\n- ## Why\n- last", "- first\n- **Why**\n- last"),  # in a list item
        ("> ## Why\n> Below.", "> **Why**\n>\n> Below."),  # in a quote, and the quote stays one
        ("- first\n\n  ## Why", "- first\n\n  **Why**"),  # the item's second block
    ],
)
def test_every_kind_of_heading_becomes_bold(markdown, bolded):
    assert _headings(markdown) and bold_headings(markdown) == bolded
    assert _headings(bolded) == []


def test_what_only_looks_like_a_heading_is_left_alone():
    unchanged = [
        "- an item\n---",  # a rule below a list, not a setext heading
        "| a | b |\n|---|---|\n| 1 | 2 |",  # a table
        "$$\n# not a heading: display math\n$$",  # (was: bolded inside the equation)
        "#hashtag",
    ]
    for markdown in unchanged:
        assert bold_headings(markdown) == markdown, markdown
    assert bold_headings("## Why\r\nBelow.") == "**Why**\n\nBelow."  # was: "**Why\r**"


# ------------------------------------------------------------- 3. graph drawings in rows
def _rows_of(fig) -> list[list[str]]:
    """The nodes drawn in each row (axes) of a picture, without the "↑ name" boxes of values
    from earlier rows, tick marks and edge labels."""
    return [
        [
            t.get_gid()
            for t in ax.texts
            if t.get_gid().split(":")[0] not in ("edge", "tick")
            and not t.get_text().startswith("↑")
        ]  # fmt: skip
        for ax in fig.axes
    ]


def test_the_step_through_cuts_its_rows_alike_at_every_step():
    # was: the rows were cut for the texts of the step drawn, so once a gradient appeared in a
    # box the next row's "↑ name" box was wider: step 32 of this chain was drawn in 13 rows,
    # steps 1 to 31 in 12, the nodes of every row after the fifth in another row
    import matplotlib.pyplot as plt

    from backproplab import plotting

    h = bl.Tensor(np.array(0.5), requires_grad=True, name="x")
    for i in range(30):
        h = (h * 1.01).tanh() if i % 2 else h + 0.1
    L = h.sum()
    steps = plotting.backward_steps(L)
    first, later = (_rows_of(plotting.draw_backward_step(L, k, steps=steps)) for k in (0, 31))
    plt.close("all")
    assert len(first) > 1 and first == later
    assert sorted(sum(first, [])) == sorted(plotting.graph_layout(L).names)  # each node once


# -------------------------------------------------- 4. activation histograms at the extremes
def test_a_layer_of_subnormal_numbers_is_drawn_in_units_of_its_largest_value():
    # was: numpy's ValueError "Too many bins for data range" (bins of 1e-325 have no width)
    import matplotlib.pyplot as plt

    from backproplab import plotting

    fig = plotting.plot_activation_histograms({"h": np.array([0.0, 5e-324, 1e-323])})
    assert fig.axes[0].get_xlabel() == "× 9.88e-324"  # (1e-323 is 2 × 4.94e-324 in float64)
    assert sum(bar.get_height() for bar in fig.axes[0].patches) == 3  # each value in a bin
    plt.close("all")


def test_a_layer_of_big_finite_values_says_its_mean_and_std_in_three_digits():
    # was: "mean 0.00 std 339999995214436424907732413799364296704.00" for float32's extremes
    import matplotlib.pyplot as plt

    from backproplab import plotting

    a = np.array([3.4e38, -3.4e38], dtype=np.float32)
    fig = plotting.plot_activation_histograms({"h": a, "small": np.array([0.5, 1.5])})
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["h\nmean 0 std 3.4e+38", "small\nmean 1.00 std 0.50"]
    plt.close("all")


def test_no_row_of_a_step_through_is_wider_than_a_notebook():
    # was: 10.2 inches; the rows were cut by the widths of the whole graph's columns, and a row
    # placed on its own, its labels side by side in a gap, came out 11.7 inches wide at 8 points
    import matplotlib.pyplot as plt

    from backproplab import plotting

    values = [bl.Tensor(np.array(v), requires_grad=True, name=f"x{i}")
              for i, v in enumerate([-0.02344, 0.07144, -0.7523])]  # fmt: skip
    ops = [lambda a, b: a * b, lambda a, b: a + b, lambda a, b: b.tanh(),
           lambda a, b: a - b * 0.5]  # fmt: skip
    for op, a in [(0, 2), (1, 2), (3, 0), (3, 4), (2, 6), (0, 6), (3, 8), (3, 6), (3, 8),
                  (2, 10), (3, 10), (0, 4), (0, 2), (0, 6), (1, 4), (0, 12), (0, 18), (2, 19),
                  (0, 5)]:  # fmt: skip
        values.append(ops[op](values[a], values[-1]))
    L = values[-1] * 1.0
    fig = plotting.draw_backward_step(L, 0, keep_labels=True)
    assert len(fig.axes) > 1 and fig.get_size_inches()[0] <= 10.0
    fig.canvas.draw()
    assert min(t.get_fontsize() for ax in fig.axes for t in ax.texts) >= 7.0
    plt.close("all")


def test_an_input_too_wide_for_a_row_of_its_own_is_drawn_beside_its_consumer():
    # was: numpy's "max() arg is an empty sequence": the input's column made a row of its own,
    # the input moved on to its consumer's row, and the empty row could not be placed
    import matplotlib.pyplot as plt

    from backproplab import plotting

    x = bl.Tensor(1.0, requires_grad=True, name="a_name_typed_in_full_" * 8)
    fig = plotting.draw_graph(x * 2)
    assert _rows_of(fig) == [[x.name, "const1", "L"]]
    plt.close("all")


def test_a_name_that_is_no_node_of_the_graph_is_refused_in_one_line():
    # was: highlight=["Ll"] (a typo) coloured nothing, without a word; highlight="L" was read
    # letter by letter
    from backproplab import plotting

    x = bl.Tensor(3.0, requires_grad=True, name="x")
    L = x * 2
    with pytest.raises(ValueError, match=r"draw_graph: highlight names no node of the graph: "
                       r"'Ll' \(its nodes: x, const1, L\)"):  # fmt: skip
        plotting.draw_graph(L, highlight=["Ll"])
    with pytest.raises(TypeError, match=r"highlight takes a list of node names"):
        plotting.draw_graph(L, highlight="L")
