"""What the pictures show: read back from the artists, and the pure functions behind them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests draw off screen (notebooks keep their own backend)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

import backproplab as bl  # noqa: E402
from backproplab import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def seed_graph():
    """Seed 002's example: x = -2, y = 5, z = -4, q = x + y = 3, L = q z = -12."""
    x = bl.Tensor(-2.0, requires_grad=True, name="x")
    y = bl.Tensor(5.0, requires_grad=True, name="y")
    z = bl.Tensor(-4.0, requires_grad=True, name="z")
    q = x + y
    q.name = "q"
    L = q * z
    L.name = "L"
    return x, y, z, q, L


def texts_by_name(fig):
    return {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}


# ------------------------------------------------------------------------------ graph walk
def test_graph_nodes_keeps_constants_and_puts_inputs_first():
    w = bl.Tensor(3.0, requires_grad=True, name="w")
    L = (w + 5) * -4
    nodes = plotting.graph_nodes(L)
    assert plotting.node_names(nodes) == ["w", "const1", "add1", "const2", "mul1"]
    position = {id(t): i for i, t in enumerate(nodes)}
    for i, t in enumerate(nodes):
        assert all(position[id(x)] < i for x in t.inputs)


def test_names_never_use_addresses_and_skip_taken_names():
    a = bl.Tensor(1.0, requires_grad=True, name="add1")  # a learner's name that looks like ours
    L = (a + 1) + 2
    names = plotting.node_names(plotting.graph_nodes(L))
    assert names == ["add1", "const1", "add2", "const2", "add3"]
    assert not any("0x" in n for n in names)


def test_layout_of_the_seed_example():
    *_, L = seed_graph()
    layout = plotting.graph_layout(L)
    assert layout.names == ["x", "y", "q", "z", "L"]
    assert layout.x == [0, 0, 1, 1, 2]  # z sits just left of its consumer, not with x and y
    assert layout.ops == ["", "", "add", "", "mul"]
    assert sorted(layout.edges) == [(0, 2), (1, 2), (2, 4), (3, 4)]
    assert layout.y[0] > layout.y[1]  # x above y


def test_layout_is_the_same_every_run():
    def build():
        rng = np.random.default_rng(1)
        x = bl.Tensor(rng.normal(size=(4, 3)), name="x")
        mlp = bl.nn.MLP([3, 5, 5, 2], rng=rng)
        return plotting.graph_layout(bl.cross_entropy(mlp(x), np.array([0, 1, 1, 0])))

    one, two = build(), build()
    assert len(one) > 10
    assert (one.names, one.x, one.y, one.edges) == (two.names, two.x, two.y, two.edges)


# ---------------------------------------------------------------------------------- drawing
def test_draw_graph_shows_op_name_value_and_gradient():
    *_, L = seed_graph()
    fig = plotting.draw_graph(L)
    before = texts_by_name(fig)
    assert set(before) == {"x", "y", "q", "z", "L"}
    assert before["q"] == "q = add\nvalue 3"  # no gradient line before backward()
    L.backward()
    after = texts_by_name(plotting.draw_graph(L))
    assert after["q"] == "q = add\nvalue 3\ngrad -4"
    assert after["z"] == "z\nvalue -4\ngrad 3"
    assert after["L"] == "L = mul\nvalue -12\ngrad 1"
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 4


def test_draw_graph_places_boxes_left_to_right():
    *_, L = seed_graph()
    ax = plotting.draw_graph(L).axes[0]
    where = {t.get_gid(): t.get_position() for t in ax.texts}
    assert where["x"][0] < where["q"][0] < where["L"][0]
    assert where["q"][0] == where["z"][0]


def test_draw_graph_summarises_tensors():
    X = bl.Tensor(np.arange(6.0).reshape(2, 3), name="X")
    W = bl.Tensor(np.ones((3, 1)), requires_grad=True, name="W")
    L = (X @ W).sum()
    L.backward()
    text = texts_by_name(plotting.draw_graph(L))
    assert text["X"] == "X\nvalue (2, 3) |7.42|"  # sqrt(0+1+4+9+16+25) = 7.416
    assert text["W"] == "W\nvalue [1, 1, 1]\ngrad [3, 5, 7]"  # X^T (1, 1): column sums


def test_format_array():
    assert plotting.format_array(np.array(-12.0)) == "-12"
    assert plotting.format_array(np.array([0.5, 2.0])) == "[0.5, 2]"
    assert plotting.format_array(np.ones((3, 4))) == "(3, 4) |3.46|"
    assert plotting.format_array(None) == "?"


def test_to_dot_is_graphviz_text_without_addresses():
    *_, L = seed_graph()
    L.backward()
    dot = plotting.to_dot(L)
    assert dot.startswith("digraph backproplab {")
    assert '"q" [label="q = add\\nvalue 3\\ngrad -4"];' in dot
    assert dot.count("->") == 4 and '"x" -> "q";' in dot
    assert "0x" not in dot


# ----------------------------------------------------------------------- backward, step by step
def test_backward_steps_of_the_seed_example():
    x, y, z, q, L = seed_graph()
    steps = plotting.backward_steps(L)
    assert [s.node for s in steps] == ["L", "q"]
    first, second = steps
    assert first.upstream == 1 and first.inputs == ["q", "z"]
    assert [float(v) for v in first.local] == [-4.0, 3.0]  # mul swaps its inputs
    assert [float(v) for v in first.downstream] == [-4.0, 3.0]
    assert second.upstream == -4
    assert [float(v) for v in second.local] == [1.0, 1.0]  # add passes the gradient on
    assert [float(v) for v in second.downstream] == [-4.0, -4.0]
    assert {k: float(v) for k, v in second.grads.items()} == {
        "L": 1.0, "q": -4.0, "z": 3.0, "x": -4.0, "y": -4.0
    }  # fmt: skip
    assert x.grad is None and q.grad is None  # a pure function: no .grad was touched
    assert second.describe() == (
        "Step 2: q = add(x, y). upstream dL/dq = -4. local dq/dx = 1, so downstream "
        "dL/dx = -4 * 1 = -4. local dq/dy = 1, so downstream dL/dy = -4 * 1 = -4."
    )


def test_backward_steps_sum_fan_out_and_skip_constants():
    w = bl.Tensor(3.0, requires_grad=True, name="w")
    L = (w + 5) * w  # w is used twice: dL/dw = (w + 5) + w = 11
    steps = plotting.backward_steps(L)
    assert float(steps[-1].grads["w"]) == 11.0
    add_step = steps[-1]
    assert add_step.downstream[1] is None  # the 5 needs no gradient
    assert "const1 is a constant" in add_step.describe()
    assert "(w now holds the sum 11.)" in add_step.describe()


def test_backward_steps_end_where_backward_ends():
    rng = np.random.default_rng(0)
    X = bl.Tensor(rng.normal(size=(4, 3)), name="X")
    W = bl.Tensor(rng.normal(size=(3, 2)), requires_grad=True, name="W")
    b = bl.Tensor(rng.normal(size=2), requires_grad=True, name="b")  # broadcast over the batch
    h = (X @ W + b).tanh()
    L = bl.cross_entropy(h * h + h, np.array([0, 1, 1, 0]))
    final = plotting.backward_steps(L)[-1].grads
    L.backward()
    np.testing.assert_allclose(final["W"], W.grad)
    np.testing.assert_allclose(final["b"], b.grad)
    assert final["b"].shape == (2,)


def test_draw_backward_step_highlights_the_node_and_labels_its_edges():
    *_, L = seed_graph()
    fig = plotting.draw_backward_step(L, 1)
    ax = fig.axes[0]
    boxes = {t.get_gid(): t for t in ax.texts if t.get_gid()}
    assert boxes["q"].get_bbox_patch().get_facecolor() == matplotlib.colors.to_rgba(
        plotting.ACTIVE_COLOR
    )
    assert boxes["edge:x->q"].get_text() == "-4×1=-4"
    assert boxes["edge:y->q"].get_text() == "-4×1=-4"
    assert boxes["z"].get_text().endswith("grad 3")  # known after step 1
    assert ax.get_title() == "step 2 of 2: q = add, upstream -4"
    first = texts_by_name(plotting.draw_backward_step(L, 0))
    assert first["x"] == "x\nvalue -2"  # x's gradient has not arrived yet at step 1
    with pytest.raises(IndexError, match="there are 2"):
        plotting.draw_backward_step(L, 2)
