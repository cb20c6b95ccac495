"""What the pictures show: read back from the artists, and the pure functions behind them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests draw off screen (notebooks keep their own backend)

import matplotlib.colors  # noqa: E402
import matplotlib.lines  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.text  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from graphs import seed_graph  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402

import backproplab as bl  # noqa: E402
from backproplab import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


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
    assert layout.names == ["x", "y", "z", "q", "L"]  # the order the tensors were made
    assert layout.x == [0, 0, 1, 1, 2]  # z sits just left of its consumer, not with x and y
    assert layout.ops == ["", "", "", "add", "mul"]
    assert sorted(layout.edges) == [(0, 3), (1, 3), (2, 4), (3, 4)]
    assert layout.y[0] > layout.y[1]  # x above y


def test_a_chain_and_an_mlps_main_path_stay_on_one_row():
    # each computed node sits level with its consumer, and the constants and weights it takes
    # hang beside it: the path used to drift a sixth of a row per op (a diagonal across the page)
    x = bl.Tensor(1.0, requires_grad=True, name="x")
    h = x
    for _ in range(6):
        h = (h * 0.9).tanh()
    layout = plotting.graph_layout(h)
    path = [y for y, op in zip(layout.y, layout.ops) if op]
    assert len(path) == 12 and max(path) == min(path)
    assert all(y < path[0] for y, n in zip(layout.y, layout.names) if n.startswith("const"))

    mlp = bl.nn.MLP([3, 5, 5, 2], activation="tanh", rng=0)
    loss = bl.cross_entropy(mlp(bl.Tensor(np.ones((4, 3)))), np.array([0, 1, 1, 0]))
    layout = plotting.graph_layout(loss)
    path = [y for y, op in zip(layout.y, layout.ops) if op]  # linear, tanh, ..., cross_entropy
    assert len(path) == 6 and max(path) == min(path)


def test_layout_is_the_same_every_run():
    def build():
        rng = np.random.default_rng(1)
        x = bl.Tensor(rng.normal(size=(4, 3)), name="x")
        mlp = bl.nn.MLP([3, 5, 5, 2], rng=rng)
        return plotting.graph_layout(bl.cross_entropy(mlp(x), np.array([0, 1, 1, 0])))

    one, two = build(), build()
    assert len(one) > 10
    for c in set(one.x):  # boxes in one column never overlap: at least one row apart
        ys = sorted(y for x, y in zip(one.x, one.y) if x == c)
        assert all(b - a >= 1 - 1e-9 for a, b in zip(ys, ys[1:]))
    for src, dst in one.edges:  # every edge runs left to right
        assert one.x[src] < one.x[dst]
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
    (arrows,) = [c for c in fig.axes[0].collections if isinstance(c, Quiver)]
    assert arrows.N == 4  # one arrow per edge
    assert np.all(arrows.U > 0)  # every arrow points right, from an input to its consumer


def test_draw_graph_places_boxes_left_to_right():
    *_, L = seed_graph()
    ax = plotting.draw_graph(L).axes[0]
    where = {t.get_gid(): t.get_position() for t in ax.texts}
    assert where["x"][0] < where["q"][0] < where["L"][0]
    assert where["q"][0] == where["z"][0]


def test_draw_graph_into_the_axes_of_a_subfigure():
    *_, L = seed_graph()
    fig = plt.figure(figsize=(10, 4))
    _, right = fig.subfigures(1, 2)  # each 5 x 4 inches
    assert plotting.draw_graph(L, ax=right.add_subplot()) is fig  # the figure to show
    plain = plotting.draw_graph(L, ax=plt.figure(figsize=(5, 4)).add_subplot())
    # drawn at the scale a plain figure of the subfigure's size gives (not the whole figure's)
    size = {t.get_gid(): t.get_fontsize() for t in right.axes[0].texts}
    assert size == pytest.approx({t.get_gid(): t.get_fontsize() for t in plain.axes[0].texts})


def test_draw_graph_summarises_tensors():
    X = bl.Tensor(np.arange(6.0).reshape(2, 3), name="X")
    W = bl.Tensor(np.ones((3, 1)), requires_grad=True, name="W")
    L = (X @ W).sum()
    L.backward()
    text = texts_by_name(plotting.draw_graph(L))
    assert text["X"] == "X (2, 3)\nvalue |7.42|"  # sqrt(0+1+4+9+16+25) = 7.416; shape once
    assert text["W"] == "W\nvalue [1, 1, 1]\ngrad [3, 5, 7]"  # X^T (1, 1): column sums


def test_format_array():
    assert plotting.format_array(np.array(-12.0)) == "-12"
    assert plotting.format_array(np.array([0.5, 2.0])) == "[0.5, 2]"
    assert plotting.format_array(np.ones((3, 4))) == "(3, 4) |3.46|"
    assert plotting.format_array(None) == "?"
    assert plotting.format_array(np.array(-0.0)) == "0"  # was "-0"
    assert plotting.format_array(np.array([-0.0, 1.0])) == "[0, 1]"
    # a saturated tanh is not -1 (1 - out^2 would then read 0): digits until it shows
    assert plotting.format_array(np.array(-0.9999877116507956)) == "-0.99999"
    assert plotting.format_array(np.array([0.99996, 1.0])) == "[0.99996, 1]"
    assert plotting.format_array(np.array(2.0000001)) == "2.0000001"
    assert plotting.format_array(np.array(1 + 1e-12)) == "1"  # up to 8 digits, no more
    assert plotting.format_array(np.array(12345.6)) == "1.235e+04"  # not a whole number's text
    # a complex value (a rule of one's own may return one) is written, not a crash of float()
    assert plotting.format_array(np.array(1 + 2j)) == "1+2j"
    assert plotting.format_array(np.array([1 + 1j, 2.5])) == "[1+1j, 2.5+0j]"


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
        "dL/dx = (-4) × 1 = -4. local dq/dy = 1, so downstream dL/dy = (-4) × 1 = -4."
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
    assert boxes["edge:x->q"].get_text() == "(-4)×1=-4"
    assert boxes["edge:y->q"].get_text() == "(-4)×1=-4"
    assert boxes["z"].get_text().endswith("grad 3")  # known after step 1
    assert boxes["L"].get_bbox_patch().get_facecolor() == matplotlib.colors.to_rgba(
        plotting.DONE_COLOR
    )  # processed in step 1
    assert ax.get_title() == "step 2 of 2: q = add, upstream -4"
    first = texts_by_name(plotting.draw_backward_step(L, 0))
    assert first["x"] == "x\nvalue -2"  # x's gradient has not arrived yet at step 1
    with pytest.raises(IndexError, match="there are 2"):
        plotting.draw_backward_step(L, 2)


def test_processed_nodes_are_ticked_not_only_green():
    """The step-through told a processed node from one still waiting by its fill alone: light
    green against light grey, a CIELAB distance of 11 as seen with deuteranopia (20 is the
    least test_the_style_helps_the_colour_blind accepts). A processed node also has a tick."""
    *_, L = seed_graph()
    assert np.linalg.norm(_seen(plotting.DONE_COLOR, "deuteranopia")
                          - _seen(plotting.OP_COLOR, "deuteranopia")) < 20  # fmt: skip
    for step, ticked in [(0, []), (1, ["tick:L"])]:
        ax = plotting.draw_backward_step(L, step).axes[0]
        ticks = [t for t in ax.texts if (t.get_gid() or "").startswith("tick:")]
        assert [t.get_gid() for t in ticks] == ticked
        assert all(t.get_text() == "✓" for t in ticks)
    plt.close("all")


def test_keep_labels_leaves_the_earlier_steps_labels_on_their_edges():
    *_, L = seed_graph()  # L = q * z, q = x + y: step 1 labels q->L and z->L, step 2 x->q, y->q
    steps = plotting.backward_steps(L)
    alone = texts_by_name(plotting.draw_backward_step(L, 1, steps=steps))
    kept = texts_by_name(plotting.draw_backward_step(L, 1, steps=steps, keep_labels=True))
    assert "edge:q->L" not in alone and "edge:z->L" not in alone
    assert kept["edge:q->L"] == "1×(-4)=-4" and kept["edge:z->L"] == "1×3=3"
    assert kept["edge:x->q"] == alone["edge:x->q"] == "(-4)×1=-4"
    first = texts_by_name(plotting.draw_backward_step(L, 0, steps=steps, keep_labels=True))
    assert "edge:x->q" not in first  # never a label from a later step


def _mlp_loss(name=None):
    """A 2-layer MLP written out (X W1^T + b1, tanh, W2^T) with a cross-entropy loss, batch 5."""
    rng = np.random.default_rng(0)
    X = bl.Tensor(rng.normal(size=(5, 3)), name="X")
    W1 = bl.Tensor(rng.normal(size=(4, 3)), requires_grad=True, name="W1")
    b1 = bl.Tensor(np.zeros(4), requires_grad=True, name="b1")
    W2 = bl.Tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W2")
    L = bl.cross_entropy((X @ W1.T + b1).tanh() @ W2.T, np.array([0, 1, 2, 0, 1]))
    if name:
        L.name = name
    return L


def _fan_out_loss():
    x = bl.Tensor(1.5, requires_grad=True, name="x")
    return (x * 2 + x.tanh()) * (x * x)  # x feeds four edges, one of them twice


def _drawn_boxes(fig):
    """The rendered extents (pixels) of the node boxes and of the edge labels (of every row of
    a drawing in rows, one axes a row: those of row k > 1 keyed "gid@k")."""
    fig.canvas.draw()
    nodes, labels = {}, {}
    for k, ax in enumerate(fig.axes):
        for t in ax.texts:
            if t.get_gid().startswith("tick:"):
                continue  # a processed node's tick sits on its box's corner
            box = (t.get_bbox_patch() or t).get_window_extent()  # a label's background, if any
            key = t.get_gid() if k == 0 else f"{t.get_gid()}@{k + 1}"
            (labels if t.get_gid().startswith("edge:") else nodes)[key] = box
    return nodes, labels


@pytest.mark.parametrize("graph", ["mlp", "fan_out"])
def test_edge_labels_never_cover_a_box(graph):
    # before: on a short edge "(5, 3) |0.165|" was written over the box of W1
    L = _mlp_loss() if graph == "mlp" else _fan_out_loss()
    steps = plotting.backward_steps(L)
    n_labels = 0
    for k in range(len(steps)):
        nodes, labels = _drawn_boxes(plotting.draw_backward_step(L, k, steps=steps))
        n_labels += len(labels)
        for edge, label in labels.items():
            for name, box in nodes.items():
                assert not label.overlaps(box), f"step {k + 1}: {edge} covers {name}"
        for a, b in [(a, b) for a in labels for b in labels if a < b]:
            assert not labels[a].overlaps(labels[b]), f"step {k + 1}: {a} covers {b}"
        plt.close("all")
    assert n_labels >= len(steps)  # every step labels at least one edge


def test_the_label_of_a_skip_edge_finds_a_gap_of_its_own():
    # notebook 11's picture: the skip edge x -> H and the edge F -> H both end in H; their labels,
    # both written in the gap left of H, ran into each other there
    x = bl.Tensor(0.5, requires_grad=True, name="x")
    w = bl.Tensor(2.0, requires_grad=True, name="w")
    wx = w * x
    wx.name = "wx"
    F = wx.sigmoid()
    F.name = "F"
    H = x + F
    H.name = "H"
    H.backward()
    edge_labels = {("x", "H"): "skip: × 1", ("F", "H"): "× 1", ("wx", "F"): "× σ' = 0.1966",
                   ("x", "wx"): "× w = 2"}  # fmt: skip
    nodes, labels = _drawn_boxes(plotting.draw_graph(H, edge_labels=edge_labels))
    assert len(labels) == 4
    for a, b in [(a, b) for a in labels for b in labels if a < b]:
        assert not labels[a].padded(3).overlaps(labels[b]), f"{a} runs into {b}"
    for edge, label in labels.items():
        assert not any(label.overlaps(box) for box in nodes.values()), f"{edge} covers a box"
    plt.close("all")


def test_a_wide_graph_fits_a_notebook_with_readable_text():
    # before: the MLP's step-through was 15.6 in (1560 px) wide, shrunk to fit a notebook
    L = _mlp_loss()
    fig = plotting.draw_backward_step(L, 3)
    assert fig.get_figwidth() <= 10.0  # inches: 1000 px, a notebook's width
    assert min(t.get_fontsize() for ax in fig.axes for t in ax.texts) >= 7.0  # was 6 points
    small = plotting.draw_graph(seed_graph()[-1])  # a small graph keeps its full size
    assert {t.get_fontsize() for t in small.axes[0].texts} == {8.0}
    assert small.get_figwidth() < 8


def _long_chain(steps=13):
    """h = tanh(w_k h), k = 0..12, from x: 40 nodes in 27 columns (18 inches at 8 points)."""
    h = bl.Tensor(0.3, requires_grad=True, name="x")
    for k in range(steps):
        h = (bl.Tensor(0.9 + 0.01 * k, requires_grad=True, name=f"w{k}") * h).tanh()
    return h


def _boxes_by_row(fig):
    """Per axes (a row of the drawing): gid -> text of its boxes (no ticks, no edge labels)."""
    return [
        {t.get_gid(): t.get_text() for t in ax.texts if ":" not in (t.get_gid() or ":")}
        for ax in fig.axes
    ]


def test_a_graph_too_wide_for_a_notebook_is_drawn_in_rows_of_8_point_text():
    # before: 18 inches of boxes shrunk to the floor of 6-point text (8 pixels), and the figure
    # then grew to 13.6 inches, which JupyterLab shows shrunk to the cell's width again
    L = _long_chain()
    L.backward()
    nodes = plotting.graph_layout(L)
    fig = plotting.draw_graph(L, title="a long chain")
    fig.canvas.draw()
    assert fig.get_figwidth() <= 10.0 and len(fig.axes) > 1
    sizes = {round(t.get_fontsize(), 6) for ax in fig.axes for t in ax.texts}
    assert sizes == {8.0}
    rows = _boxes_by_row(fig)
    row_of = {}
    for k, boxes in enumerate(rows):  # each node is drawn once, with its value and gradient
        for name, text in boxes.items():
            if not text.startswith("↑"):
                assert name not in row_of, name
                row_of[name] = k
    assert sorted(row_of) == sorted(nodes.names)
    assert row_of["w0"] == 0 and rows[0]["w0"].startswith("w0\nvalue 0.9\ngrad ")
    # each edge runs within a row, or from a box "↑ name (row k)" at the start of the row of its
    # consumer: the value computed in row k
    for s, d in nodes.edges:
        src, dst = nodes.names[s], nodes.names[d]
        if row_of[src] != row_of[dst]:
            assert rows[row_of[dst]][src] == f"↑ {src}\n(row {row_of[src] + 1})", (src, dst)
    # an input goes to the row of its consumer: no row ends in a box that feeds nothing there
    assert all(row_of[f"w{k}"] == row_of[f"mul{k + 1}"] for k in range(13))
    assert fig.axes[0].get_title() == "a long chain"
    small = plotting.draw_graph(_long_chain(3))  # a graph that fits stays in one row
    assert len(small.axes) == 1


def test_the_step_through_of_a_graph_in_rows_keeps_its_boxes_put_and_labels_clear():
    L = _long_chain(9)
    steps = plotting.backward_steps(L)
    seen = set()
    for k in (0, 7, len(steps) - 1):
        fig = plotting.draw_backward_step(L, k, steps=steps)
        assert len(fig.axes) > 1 and fig.get_figwidth() <= 10.0
        fig.canvas.draw()
        where, found = [], []
        for ax in fig.axes:
            boxes = [t for t in ax.texts if not t.get_gid().startswith(("tick:", "edge:"))]
            labels = [t for t in ax.texts if t.get_gid().startswith("edge:")]
            extent = {t.get_gid(): (t.get_bbox_patch() or t).get_window_extent() for t in boxes}
            for label in labels:
                box = label.get_bbox_patch().get_window_extent()
                found += [(label.get_gid(), n) for n, b in extent.items() if box.overlaps(b)]
            centres = (
                (n, round((b.x0 + b.x1) / 2), round((b.y0 + b.y1) / 2)) for n, b in extent.items()
            )
            where.append(tuple(sorted(centres)))
        assert found == [], f"step {k + 1}"
        seen.add((tuple(where), tuple(fig.get_size_inches().round(3))))
        plt.close("all")
    assert len(seen) == 1


def test_boxes_stay_narrow_and_stay_put_from_step_to_step():
    L = _mlp_loss()
    steps = plotting.backward_steps(L)
    first = plotting.draw_backward_step(L, 0, steps=steps)
    last = plotting.draw_backward_step(L, len(steps) - 1, steps=steps)
    where = [{t.get_gid(): t.get_position() for t in f.axes[0].texts if ":" not in t.get_gid()}
             for f in (first, last)]  # fmt: skip
    assert where[0] == where[1]  # the step-through does not move the boxes
    assert first.get_size_inches().tolist() == last.get_size_inches().tolist()
    b1 = texts_by_name(last)["b1"]  # a list of four gradients, broken after commas
    assert b1.startswith("b1\nvalue [0, 0, 0, 0]\ngrad [")
    assert max(map(len, b1.split("\n"))) <= 18
    assert texts_by_name(last)["tanh1"].startswith("tanh1 (5, 4)\nvalue |")  # not "tanh1 = tanh"


def test_an_unnamed_loss_is_called_L():
    # before: "upstream dcross_entropy1/dtranspose1"
    steps = plotting.backward_steps(_mlp_loss())
    assert steps[0].node == "L" and steps[0].describe().startswith("Step 1: L = cross_entropy(")
    assert "upstream dL/dtranspose1 = " in steps[-1].describe()
    assert "downstream dL/dW1 = " in steps[-1].describe()
    assert plotting.graph_layout(_mlp_loss()).names[-1] == "L"
    assert texts_by_name(plotting.draw_graph(_fan_out_loss()))["L"].startswith("L = mul\n")
    assert plotting.backward_steps(_mlp_loss(name="loss"))[-1].root == "loss"  # the learner's
    L = bl.Tensor(2.0, requires_grad=True, name="L")  # "L" taken: the root keeps its op name
    assert plotting.graph_layout(L * 3).names == ["L", "const1", "mul1"]
    y = bl.Tensor(np.ones(3), requires_grad=True, name="x") * 2  # not a scalar: not a loss
    assert plotting.graph_layout(y).names[-1] == "mul1"


# ---------------------------------------------------------------------------- big graphs
def test_big_graph_is_summarised_by_model_layer():
    model = bl.nn.deep_network(3, 4, residual=True, n_in=3, n_out=2, rng=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    L = bl.cross_entropy(model(X), np.array([0, 1, 0, 1, 1]))
    L.backward()
    layout = plotting.graph_layout(L, model=model)
    assert "2.f.0.weight" in layout.names  # parameters carry their dotted names
    summary = plotting.graph_summary(L, model=model)
    assert summary.names == [
        "input", "0: Linear", "2: ResidualBlock", "3: ResidualBlock", "4: ResidualBlock",
        "5: Linear",
    ]  # fmt: skip
    assert summary.ops[2] == {"linear": 1, "relu": 1, "add": 1}  # x + relu(W x + b)
    assert summary.ops[-1] == {"linear": 1, "cross_entropy": 1}
    assert summary.edges == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert summary.grad_norms[-1] == 1.0  # the loss: dL/dL = 1
    fig = plotting.draw_graph(L, model=model, max_nodes=10)
    assert len(layout) > 10
    texts = texts_by_name(fig)
    assert set(texts) == set(summary.names)
    assert texts["2: ResidualBlock"].startswith("2: ResidualBlock\nlinear, relu, add\nout (5, 4)")
    assert fig.axes[0].get_title() == "13 ops in 6 groups (summarised)"  # 2 + 3 * 3 + 2


def test_big_graph_without_model_is_cut_into_runs_of_columns():
    x = bl.Tensor(0.5, requires_grad=True, name="x")
    y = x
    for _ in range(60):
        y = (y * 1.01).tanh()  # 2 nodes per round + a constant
    summary = plotting.graph_summary(y, groups=10)
    assert len(summary) <= 10
    assert sum(sum(ops.values()) for ops in summary.ops) == 120
    assert summary.names[0].startswith("columns 0-")
    fig = plotting.draw_graph(y)
    summary = plotting.graph_summary(y)
    assert len(texts_by_name(fig)) == len(summary) > 6
    where = {t.get_gid(): t.get_position() for t in fig.axes[0].texts}
    sixth, seventh = (where[summary.names[k]] for k in (5, 6))
    assert sixth[0] == seventh[0] and sixth[1] > seventh[1]  # the row turns: straight down


# ------------------------------------------------------------------------- training pictures
def _history():
    from backproplab.train import Diagnostics, History

    diag = Diagnostics(
        layers=["0", "2"], activations=["1"], step=np.array([1, 2, 3]), epoch=np.array([1, 1, 2]),
        grad_norm=np.array([[1.0, 0.5], [0.8, 0.4], [0.6, 0.3]]),
        update_ratio=np.zeros((3, 2)), act_mean=np.zeros((3, 1)), act_std=np.ones((3, 1)),
        dead_fraction=np.zeros((3, 1)),
    )  # fmt: skip
    return History(
        train_loss=[1.0, 0.5, 0.25], train_acc=[0.5, 0.75, 0.9], test_loss=[1.1, 0.6, 0.4],
        test_acc=[0.4, 0.7, 0.8], step_loss=[1.2, 1.0, 0.9, 0.7, 0.5, 0.3], diagnostics=diag,
    )  # fmt: skip


def test_plot_history_draws_train_and_test_curves():
    fig = plotting.plot_history(_history())
    loss_ax, acc_ax = fig.axes
    lines = {line.get_label(): line for line in loss_ax.lines}
    np.testing.assert_array_equal(lines["train"].get_ydata(), [1.0, 0.5, 0.25])
    np.testing.assert_array_equal(lines["test"].get_xdata(), [1, 2, 3])
    assert [line.get_label() for line in acc_ax.lines] == ["train", "test"]
    assert acc_ax.get_ylabel() == "accuracy"
    h = _history()
    h.test_loss = h.test_acc = [float("nan")] * 3  # fit without test data
    assert [line.get_label() for line in plotting.plot_history(h).axes[0].lines] == ["train"]


def test_plot_step_loss_smooths():
    fig = plotting.plot_step_loss(_history(), smooth=2)
    faint, mean = fig.axes[0].lines
    np.testing.assert_allclose(mean.get_ydata(), [1.1, 0.95, 0.8, 0.6, 0.4])


def test_plot_gradient_flow_reads_the_diagnostics():
    fig = plotting.plot_gradient_flow(_history().diagnostics)
    over_time, by_layer = fig.axes
    np.testing.assert_array_equal(over_time.lines[1].get_ydata(), [0.5, 0.4, 0.3])  # layer 2
    assert [line.get_label() for line in by_layer.lines] == ["step 1", "step 2", "step 3"]
    np.testing.assert_array_equal(by_layer.lines[2].get_ydata(), [0.6, 0.3])
    assert by_layer.get_yscale() == "log"


def test_layer_gradient_norms_leave_out_a_frozen_layer():
    model = bl.nn.MLP([3, 4, 2], rng=0)
    model[0].weight.requires_grad = False  # frozen: it gets no gradient (it raised TypeError)
    X = np.random.default_rng(1).normal(size=(6, 3))
    y = np.array([0, 1, 1, 0, 1, 0])
    norms = plotting.layer_gradient_norms(model, X, y)
    assert list(norms) == ["2"]
    bl.cross_entropy(model(bl.Tensor(X)), y).backward()
    assert norms["2"] == pytest.approx(np.linalg.norm(model[2].weight.grad))


def test_layer_gradient_norms_match_a_manual_backward():
    model = bl.nn.MLP([3, 4, 2], rng=0)
    X = np.random.default_rng(1).normal(size=(6, 3))
    y = np.array([0, 1, 1, 0, 1, 0])
    norms = plotting.layer_gradient_norms(model, X, y)
    assert list(norms) == ["0", "2"]
    assert all(p.grad is None for p in model.parameters())  # left as it was found
    bl.cross_entropy(model(bl.Tensor(X)), y).backward()
    assert norms["2"] == pytest.approx(np.linalg.norm(model[2].weight.grad))
    fig = plotting.plot_gradient_norms({"mlp": norms, "halved": [v / 2 for v in norms.values()]})
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), np.array(list(norms.values())) / 2)
    assert ax.get_yscale() == "log"


def test_layer_activations_and_their_histograms():
    model = bl.nn.MLP([2, 5, 3, 2], activation="tanh", rng=0)
    X = np.random.default_rng(2).normal(size=(7, 2))
    acts = plotting.layer_activations(model, X)
    assert list(acts) == ["1", "3"]
    expected = np.tanh(X @ model[0].weight.data.T + model[0].bias.data)  # tanh(X W^T + b)
    np.testing.assert_allclose(acts["1"], expected)
    assert "forward" not in vars(model[1])  # the spy is gone
    fig = plotting.plot_activation_histograms(acts, bins=5)
    counts = [p.get_height() for p in fig.axes[1].patches]
    assert sum(counts) == 7 * 3
    assert fig.axes[0].get_title().startswith("1\nmean ")


def test_decision_grid_and_boundary():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    xx, yy, classes = plotting.decision_grid(
        lambda P: np.column_stack([-P[:, 0], P[:, 0] - 0.5]), X, 11
    )  # noqa: E501
    assert xx.shape == classes.shape == (11, 11)
    assert xx.min() == pytest.approx(-0.1) and xx.max() == pytest.approx(1.1)
    np.testing.assert_array_equal(classes, (xx > 0.25).astype(int))  # -x < x - 0.5 iff x > 0.25
    _, _, binary = plotting.decision_grid(lambda P: P[:, :1] - 0.25, X, 11)  # one logit
    np.testing.assert_array_equal(binary, classes)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plotting.decision_grid(lambda P: P, np.ones((3, 3)))
    model = bl.nn.MLP([2, 2], rng=0)
    fig = plotting.plot_decision_boundary(model, X, np.array([0, 1]), resolution=20)
    regions, *points = fig.axes[0].collections
    np.testing.assert_array_equal(regions.levels, [-0.5, 0.5, 1.5])  # one band per class
    assert [p.get_label() for p in points] == ["class 0", "class 1"]  # one set per label
    np.testing.assert_array_equal(np.vstack([p.get_offsets() for p in points]), X)


def test_function_and_derivative_uses_backward():
    fig = plotting.plot_function_and_derivative(
        lambda t: t * t * t, x=np.array([-1.0, 0.0, 2.0]), name="cube",
        derivative=lambda x: 3 * x**2,
    )  # fmt: skip
    left, right = fig.axes
    np.testing.assert_array_equal(left.lines[0].get_ydata(), [-1.0, 0.0, 8.0])
    np.testing.assert_array_equal(right.lines[0].get_ydata(), [3.0, 0.0, 12.0])
    assert right.lines[1].get_label() == "cube'(x) by hand"


def test_finite_difference_errors_show_the_trade_off():
    errors = plotting.finite_difference_errors(np.exp, np.exp(1.0), 1.0, [1e-1, 1e-5, 1e-13])
    forward, central = errors["forward"], errors["central"]
    assert forward[0] == pytest.approx(np.e * 0.1 / 2, rel=0.05)  # truncation ~ f''(x) eps / 2
    assert central[0] == pytest.approx(np.e * 0.01 / 6, rel=0.05)  # ~ f'''(x) eps^2 / 6
    assert forward[1] < forward[0] and forward[1] < forward[2]  # too small is worse again
    assert central[1] < forward[1]
    fig = plotting.plot_eps_error(np.exp, np.exp(1.0), 1.0, eps=[1e-1, 1e-5])
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), central[:2])


def test_bad_input_gets_a_clear_error():
    with pytest.raises(TypeError, match="graph_nodes: expected a Tensor, got ndarray"):
        plotting.draw_graph(np.ones(3))
    v = bl.Tensor(np.ones(3), requires_grad=True, name="v")
    with pytest.raises(ValueError, match=r"backward_steps: the output of 'mul' has shape \(3,\)"):
        plotting.backward_steps(v * 2)
    with pytest.raises(ValueError, match=r"gradient has shape \(2,\)"):
        plotting.backward_steps(v * 2, np.ones(2))
    steps = plotting.backward_steps(v * 2, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(steps[-1].grads["v"], [2.0, 4.0, 6.0])
    assert steps[0].local == [None, None]  # tensors: no local derivative shown, constant 2


def test_edges_that_would_cross_a_box_or_repeat_are_arcs():
    x = bl.Tensor(2.0, requires_grad=True, name="x")
    L = x * x + x  # x -> mul1 twice, and x -> add1 straight through mul1's box
    ax = plotting.draw_graph(L).axes[0]
    (straight,) = [c for c in ax.collections if isinstance(c, Quiver)]
    arcs = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert straight.N == 2 and len(arcs) == 2  # x -> mul1 (first copy), mul1 -> add1 straight
    layout = plotting.graph_layout(L)
    assert layout.y[layout.index("x")] == pytest.approx(layout.y[layout.index("mul1")], abs=0.5)


def test_measurements_leave_the_model_as_it_was():
    # in training mode a forward pass moves BatchNorm's running averages and Dropout's generator:
    # a diagnostic must not, or the training after it differs from a run without it
    def model():
        return bl.nn.Sequential(
            bl.nn.Linear(4, 6, rng=0),
            bl.nn.BatchNorm1d(6),
            bl.nn.ReLU(),
            bl.nn.Dropout(0.5, rng=1),
            bl.nn.Linear(6, 3, rng=2),
        )

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    measured, plain = model(), model()
    before = [b.copy() for _, b in measured.named_buffers()]
    plotting.layer_gradient_norms(measured, X, y)
    plotting.hidden_gradient_norms(measured, X, y)
    plotting.layer_activations(measured, X)
    for (_, b), old in zip(measured.named_buffers(), before):
        np.testing.assert_array_equal(b, old)
    losses = []
    for m in (measured, plain):
        opt = bl.optim.SGD(m.parameters(), lr=0.1)
        losses.append([bl.train.train_step(m, opt, X, y) for _ in range(3)])
    assert losses[0] == losses[1]  # the same numbers as a run without the measurements


def test_a_step_gives_its_sentences_and_describe_joins_them():
    # a dotted name, a number written 1e-05 and a name that is not ASCII: one sentence each,
    # written out by hand (a regex splitting the paragraph at ". " kept the last two together)
    w = bl.Tensor(2.0, requires_grad=True, name="fc1.w")
    theta = bl.Tensor(1e-5, name="θ")
    (step,) = plotting.backward_steps(w * theta)
    assert step.sentences() == [
        "Step 1: L = mul(fc1.w, θ).",
        "upstream dL/dL = 1.",
        "local dL/dfc1.w = 1e-05, so downstream dL/dfc1.w = 1 × 1e-05 = 1e-05.",
        "θ is a constant: nothing to send.",
    ]
    assert step.describe() == " ".join(step.sentences())
    x = bl.Tensor(0.5, requires_grad=True, name="x.0")
    h = x * 2.0
    h.name = "h.1"
    last = plotting.backward_steps(h * 3.0 + h * 1e-3)[-1]  # h fans out: mul1 and mul2
    assert last.sentences()[1] == (
        "It received 0.001 from mul2 + 3 from mul1, so upstream dL/dh.1 = 3.001."
    )


def _random_graph(seed: int):
    """A small graph of + * tanh on three scalars, with fan-out and edges that skip columns."""
    rng = np.random.default_rng(seed)
    pool = [bl.Tensor(float(rng.normal()), requires_grad=True, name=f"x{i}") for i in range(3)]
    made = []
    for j in range(int(rng.integers(3, 7))):
        a, b = (pool[i] for i in rng.integers(0, len(pool), 2))
        t = [a + b, a * b, a.tanh()][int(rng.integers(0, 3))]
        t.name = f"n{j}"
        pool.append(t)
        made.append(t)
    L = made[-1]
    for t in made[:-1]:
        if rng.random() < 0.5:
            L = L + t  # an edge from early in the graph to its end
    L.name = "L"
    return L, rng


def _collisions(fig):
    nodes, labels = _drawn_boxes(fig)
    found = [(a, b) for a in labels for b in labels if a < b and labels[a].overlaps(labels[b])]
    return found + [(a, n) for a in labels for n in nodes if labels[a].overlaps(nodes[n])]


@pytest.mark.parametrize("seed", [1, 19, 39, 45, 55, 59])
def test_step_through_labels_never_collide_on_random_graphs(seed):
    # before: two labels of edges into one node ran into each other in the step-through of
    # these graphs (3 % of 299 random steps), and a long label touched the next box (characters
    # were taken as 0.6 em wide; DejaVu Sans Mono is drawn 0.63 em wide at 8 pt and 100 dpi)
    L, _ = _random_graph(seed)
    steps = plotting.backward_steps(L)
    for k in range(len(steps)):
        found = _collisions(plotting.draw_backward_step(L, k, steps=steps))
        plt.close("all")
        assert not found, f"step {k + 1}: {found}"


@pytest.mark.parametrize("seed", [39, 52, 55, 81, 120])
def test_edge_labels_of_your_own_never_collide_on_random_graphs(seed):
    L, rng = _random_graph(seed)
    edge_labels = {
        (x.name, node.name): "× " + "9" * int(rng.integers(1, 12))
        for node in bl.toposort(L)
        for x in node.inputs
    }
    found = _collisions(plotting.draw_graph(L, edge_labels=edge_labels))
    plt.close("all")
    assert not found, found


@pytest.mark.parametrize("seed", [22, 53, 76])
def test_step_through_boxes_stay_put_on_random_graphs(seed):
    # labels are placed along edges that end at boxes as big as the last step's, so whether
    # they crowd a gap does not depend on which boxes already show a gradient (on these graphs
    # the columns moved between steps when labels could stand side by side)
    L, _ = _random_graph(seed)
    steps = plotting.backward_steps(L)
    seen = set()
    for k in range(len(steps)):
        fig = plotting.draw_backward_step(L, k, steps=steps)
        nodes, _ = _drawn_boxes(fig)
        centres = {
            n: (round((b.x0 + b.x1) / 2), round((b.y0 + b.y1) / 2)) for n, b in nodes.items()
        }
        seen.add((tuple(sorted(centres.items())), tuple(fig.get_size_inches().round(3))))
        plt.close("all")
    assert len(seen) == 1


# Machado, Oliveira and Fernandes (2009): the colours a person with protanopia or deuteranopia
# sees, as a matrix on linear RGB (severity 1).
_COLOUR_BLIND = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
}  # fmt: skip


def _seen(color, vision: str) -> np.ndarray:
    """The colour in CIELAB (D65), as seen with ``vision`` ("normal" or a key above)."""
    srgb = np.array(matplotlib.colors.to_rgb(color))
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    if vision != "normal":
        linear = np.clip(_COLOUR_BLIND[vision] @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / [0.9505, 1.0, 1.089]  # fmt: skip
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _told_apart(lines) -> list[str]:
    """What is wrong with telling these curves apart: two that differ only by colour (same line
    style, same marker), or two colours that look alike to someone colour-blind."""
    wrong = []
    for k, one in enumerate(lines):
        for other in lines[k + 1 :]:
            pair = f"{one.get_label()!r} and {other.get_label()!r}"
            same_look = (one.get_linestyle(), one.get_marker()) == (
                other.get_linestyle(), other.get_marker())  # fmt: skip
            if same_look:
                wrong.append(f"{pair}: told apart by colour alone")
            for vision in ["normal", *_COLOUR_BLIND]:
                gap = np.linalg.norm(
                    _seen(one.get_color(), vision) - _seen(other.get_color(), vision)
                )
                if gap < 20:  # CIE76 distance: 2 is a just noticeable difference
                    wrong.append(f"{pair}: alike in colour for {vision} vision")
    return wrong


def test_the_style_helps_the_colour_blind():
    """The check itself: tab10's orange and green (two secants of notebook 02 before) look alike
    with protanopia; Okabe and Ito's colours stay apart."""
    line = lambda color, style="-": matplotlib.lines.Line2D([], [], color=color, ls=style)
    assert _told_apart([line("tab:orange", "--"), line("tab:green", ":")]) == [
        "'' and '': alike in colour for protanopia vision"
    ]
    assert _told_apart([line("C0"), line("C1")]) == ["'' and '': told apart by colour alone"]
    styles = plotting.style.CURVES[:4]  # no picture here has more curves
    assert _told_apart([matplotlib.lines.Line2D([], [], **style) for style in styles]) == []


def test_curves_are_told_apart_by_more_than_colour():
    """Every picture with several curves: a reader who does not see colours (colour blindness,
    a grey-scale print) tells them apart by line style and marker; the colours themselves stay
    distinct under protanopia and deuteranopia. Before, train and test (plot_history), the
    networks of plot_gradient_norms and the records of plot_gradient_flow were lines with the
    same marker in tab10's colours, and the two differences of plot_eps_error too."""
    h = _history()
    four = {name: [1.0, 0.5, 0.2] for name in ["sigmoid", "tanh", "relu", "he"]}
    figures = {
        "plot_history": plotting.plot_history(h).axes,
        "plot_gradient_norms": plotting.plot_gradient_norms(four).axes,
        "plot_gradient_flow": plotting.plot_gradient_flow(h.diagnostics).axes[1:],
        "plot_eps_error": plotting.plot_eps_error(np.exp, np.e, 1.0, eps=[1e-1, 1e-5]).axes,
    }
    wrong = {}
    for name, axes in figures.items():
        for ax in axes:
            lines = [line for line in ax.lines if not line.get_label().startswith("_")]
            assert len(lines) >= 2, name
            if found := _told_apart(lines):
                wrong[name] = found
    plt.close("all")
    assert wrong == {}


def test_classes_of_a_decision_boundary_have_their_own_marker():
    """Three classes in coolwarm were blue, a light grey and red, told apart by colour alone."""
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    fig = plotting.plot_decision_boundary(lambda P: P @ np.eye(2, 3), X, np.array([0, 1, 2]),
                                          resolution=10)  # fmt: skip
    _, *points = fig.axes[0].collections
    markers = [tuple(map(tuple, p.get_paths()[0].vertices)) for p in points]
    assert len(points) == 3 and len(set(markers)) == 3
    lines = [matplotlib.lines.Line2D([], [], color=p.get_facecolor()[0], marker="os^"[k],
                                     label=p.get_label()) for k, p in enumerate(points)]  # fmt: skip
    assert _told_apart(lines) == []
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "class 0",
        "class 1",
        "class 2",
    ]
    plt.close(fig)


def test_a_tick_covers_no_text():
    """The tick sat inside its box's corner at first and hid the last letter of "L = mul"."""
    *_, L = seed_graph()
    fig = plotting.draw_backward_step(L, 1)
    fig.canvas.draw()
    texts = fig.axes[0].texts
    ticks = [t for t in texts if (t.get_gid() or "").startswith("tick:")]
    assert ticks
    for tick in ticks:
        circle = tick.get_bbox_patch().get_window_extent()
        for t in texts:
            if t is not tick:
                assert not circle.overlaps(t.get_window_extent()), (tick.get_gid(), t.get_gid())
    plt.close("all")


def test_no_text_of_a_training_picture_is_smaller_than_8_points():
    """8 pt is the course's least text size. plot_gradient_flow's legend and the tick labels of
    plot_activation_histograms were 7 pt."""
    h = _history()
    model = bl.nn.MLP([2, 5, 3, 2], activation="tanh", rng=0)
    acts = plotting.layer_activations(model, np.random.default_rng(2).normal(size=(7, 2)))
    figures = {
        "plot_history": plotting.plot_history(h),
        "plot_step_loss": plotting.plot_step_loss(h, smooth=2),
        "plot_gradient_flow": plotting.plot_gradient_flow(h.diagnostics),
        "plot_gradient_norms": plotting.plot_gradient_norms({"a": [1.0, 0.5], "b": [0.2, 0.1]}),
        "plot_activation_histograms": plotting.plot_activation_histograms(acts, bins=5),
    }
    small = {}
    for name, fig in figures.items():
        fig.canvas.draw()  # tick labels are made when the figure is drawn
        sizes = [
            t.get_fontsize()
            for t in fig.findobj(matplotlib.text.Text)
            if t.get_text().strip() and t.get_visible()
        ]
        assert sizes, name
        if min(sizes) < 8:
            small[name] = min(sizes)
    plt.close("all")
    assert small == {}


# (coverage sweep: the lines below ran in no test and no notebook)
def test_plot_gradient_flow_without_records_says_so_and_shows_a_title():
    from backproplab.train import Diagnostics

    empty = Diagnostics(
        layers=["0"], activations=[], step=np.zeros(0, int), epoch=np.zeros(0, int),
        grad_norm=np.zeros((0, 1)), update_ratio=np.zeros((0, 1)), act_mean=np.zeros((0, 0)),
        act_std=np.zeros((0, 0)), dead_fraction=np.zeros((0, 0)),
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"^plot_gradient_flow: no records; train with fit"):
        plotting.plot_gradient_flow(empty)
    fig = plotting.plot_gradient_flow(_history().diagnostics, title="two layers")
    assert fig._suptitle.get_text() == "two layers"
    plt.close(fig)


def test_plot_activation_histograms_of_nothing_is_refused_and_spare_axes_are_hidden():
    with pytest.raises(ValueError, match=r"^plot_activation_histograms: no activations to plot$"):
        plotting.plot_activation_histograms({})
    acts = {str(k): np.arange(4.0) + k for k in range(6)}  # 6 layers: 2 rows of 5, 4 spare
    fig = plotting.plot_activation_histograms(acts, title="six layers")
    assert fig._suptitle.get_text() == "six layers"
    assert [ax.axison for ax in fig.axes] == [True] * 6 + [False] * 4
    plt.close(fig)


def test_decision_grid_names_a_predict_that_returns_the_wrong_number_of_scores():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"^decision_grid: predict returned shape \(3,\) for 121"):
        plotting.decision_grid(lambda P: np.zeros(3), X, 11)
