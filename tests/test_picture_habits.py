"""The pictures and measurements used the way a learner uses them after the notebooks: each
test here drew or returned a wrong number, changed what the learner's next cell prints, or
failed with an error that named neither the function nor the input, before its fix."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests draw off screen

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import backproplab as bl  # noqa: E402
from backproplab import nn, plotting  # noqa: E402
from backproplab.train import Diagnostics, History  # noqa: E402

NAN, INF = float("nan"), float("inf")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _boxes(fig):
    return {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}


# ------------------------------------------------------------------------------ graph pictures
def test_a_graph_drawn_after_an_in_place_step_is_refused():
    # loss.backward(); step; draw: w's box showed -3.5 beside mul1 = x * w = -6, computed from
    # w = -3 (and gradients of the old w), without a word
    x = bl.Tensor(2.0, requires_grad=True, name="x")
    w = bl.Tensor(-3.0, requires_grad=True, name="w")
    L = (x * w).tanh()
    L.backward()
    with bl.no_grad():
        w -= 0.5
    message = r"^draw_graph: 'w', an input of 'mul1', was changed in place .* forward pass again"
    with pytest.raises(RuntimeError, match=message):
        plotting.draw_graph(L)
    with pytest.raises(RuntimeError, match=r"^to_dot: 'w', an input of 'mul1'"):
        plotting.to_dot(L)
    boxes = _boxes(plotting.draw_graph((x * w).tanh(), show_grad=False))  # a new forward pass
    assert boxes["w"] == "w\nvalue -3.5"
    assert boxes["mul1"] == "mul1\nvalue -7"


# ------------------------------------------------------------------ gradient norms by layer
def test_gradient_measurements_put_back_the_learners_gradients():
    # the learner's loss.backward(), then a measurement, then a step: the measurement set every
    # .grad to None, so the step that followed did nothing (and printing w.grad showed None)
    model = bl.nn.deep_network(2, 4, n_in=3, n_out=2, rng=0)
    X = np.random.default_rng(1).normal(size=(6, 3))
    y = np.array([0, 1, 1, 0, 1, 0])
    bl.cross_entropy(model(bl.Tensor(X)), y).backward()
    held = [p.grad.copy() for p in model.parameters()]
    weights = [p.data.copy() for p in model.parameters()]
    plotting.layer_gradient_norms(model, X[:3], y[:3])
    plotting.hidden_gradient_norms(model, X[:3], y[:3])
    for p, g in zip(model.parameters(), held):
        np.testing.assert_array_equal(p.grad, g)
    bl.optim.SGD(model.parameters(), lr=0.5).step()
    for p, w, g in zip(model.parameters(), weights, held):
        np.testing.assert_allclose(p.data, w - 0.5 * g, rtol=0, atol=1e-15)


def test_measurements_of_a_model_without_parameters():
    X = np.array([[0.5, -1.0], [2.0, 0.0]])
    y = np.array([0, 1])
    for measure in (plotting.layer_gradient_norms, plotting.hidden_gradient_norms):
        with pytest.raises(ValueError, match=rf"^{measure.__name__}: Sequential has no parameters"):
            measure(bl.nn.Sequential(bl.nn.Tanh()), X, y)  # was IndexError: list index out of range
    acts = plotting.layer_activations(bl.nn.Sequential(bl.nn.Tanh()), X)  # this one has a meaning
    np.testing.assert_allclose(acts["0"], np.tanh(X), rtol=0, atol=1e-15)


def test_a_norm_a_log_scale_cannot_show_is_named_in_the_legend():
    # a layer whose gradient is 0 (dead) or NaN (diverged) vanished from the log plot
    fig = plotting.plot_gradient_norms({"plain": [1.0, 0.0, 1e-3, NAN]})
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == (
        "plain (not drawn: layer 2 = 0, layer 4 = nan)"
    )
    fig = plotting.plot_gradient_norms({"fine": [1.0, 1e-300]})
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "fine"


def test_gradient_flow_says_what_it_cannot_draw():
    diag = Diagnostics(
        layers=["0", "2"], activations=["1"], step=np.array([1, 2, 3]), epoch=np.array([1, 1, 2]),
        grad_norm=np.array([[1.0, 0.5], [0.8, 0.0], [NAN, 0.3]]),
        update_ratio=np.zeros((3, 2)), act_mean=np.zeros((3, 1)), act_std=np.ones((3, 1)),
        dead_fraction=np.zeros((3, 1)),
    )  # fmt: skip
    over_time, by_layer = plotting.plot_gradient_flow(diag).axes
    assert [t.get_text() for t in over_time.get_legend().get_texts()] == [
        "layer 0 (1 records 0, NaN or inf: not drawn)",
        "layer 2 (1 records 0, NaN or inf: not drawn)",
    ]
    assert [t.get_text() for t in by_layer.get_legend().get_texts()] == [
        "step 1",
        "step 2 (not drawn: layer 2 = 0)",
        "step 3 (not drawn: layer 1 = nan)",
    ]
    with pytest.raises(ValueError, match=r"^plot_gradient_flow: no diagnostics; train with fit"):
        plotting.plot_gradient_flow(History().diagnostics)  # was AttributeError on None
    with pytest.raises(TypeError, match=r"^plot_gradient_flow: expected a History's .diag"):
        plotting.plot_gradient_flow(History(diagnostics=diag))  # was AttributeError too


# -------------------------------------------------------------------------- training curves
def test_training_curves_of_no_epochs_and_of_a_diverged_run():
    with pytest.raises(ValueError, match=r"^plot_history: the History has no epochs"):
        plotting.plot_history(History())  # was an empty picture
    with pytest.raises(ValueError, match=r"^plot_step_loss: the History has no steps"):
        plotting.plot_step_loss(History())
    diverged = History(
        train_loss=[1.0, NAN, INF, 0.5, NAN], train_acc=[0.5] * 5, test_loss=[NAN] * 5,
        test_acc=[NAN] * 5, step_loss=[1.0, INF, 0.7],
    )  # fmt: skip
    loss_ax, _ = plotting.plot_history(diverged).axes
    assert loss_ax.get_title() == "loss (NaN or inf at epochs 2-3, 5: not drawn)"
    assert plotting.plot_step_loss(diverged).axes[0].get_title() == (
        "loss per step (NaN or inf at steps 2: not drawn)"
    )


# ------------------------------------------------------------------------ decision boundaries
def test_decision_grid_takes_class_labels_as_they_are():
    # predict returning labels 0, 1, 2: label 2 was read as a positive logit, class 1
    X = np.array([[0.0, 0.0], [2.0, 1.0]])
    xx, _, classes = plotting.decision_grid(lambda P: np.where(P[:, 0] > 1.0, 2, 0), X, 7)
    np.testing.assert_array_equal(classes, np.where(xx > 1.0, 2, 0))
    assert set(np.unique(classes)) == {0, 2}


@pytest.mark.parametrize(
    ("predict", "message"),
    [
        (lambda P: np.full((len(P), 3), NAN), r"NaN or inf at 25 of the 25 grid points"),
        (lambda P: np.where(P[:, :1] > 1, INF, -1.0), r"NaN or inf at 10 of the 25 grid points"),
    ],
    ids=["nan", "inf"],
)
def test_decision_grid_refuses_scores_that_would_draw_a_wrong_picture(predict, message):
    # probabilities: every point class 1; NaN: every point class 0 (argmax and > 0 of NaN)
    X = np.array([[-2.0, 0.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match=rf"^decision_grid: predict returned .*{message}"):
        plotting.decision_grid(predict, X, 5)


def test_decision_grid_warns_of_one_score_per_point_all_between_0_and_1():
    # probabilities from a sigmoid: every point drawn as class 1 without a word; an untrained
    # logit model may give such scores too, so a warning, and the grid as it reads them
    X = np.array([[-2.0, 0.0], [2.0, 1.0]])
    with pytest.warns(UserWarning, match=r"^decision_grid: .* all between 0 and 1 \(probab"):
        _, _, classes = plotting.decision_grid(lambda P: 1 / (1 + np.exp(-P[:, 0])), X, 5)
    assert classes.min() == 1


def test_decision_grid_of_no_points_and_of_one_point():
    with pytest.raises(ValueError, match=r"^decision_grid: needs 2-D points .* got \(0, 2\)"):
        plotting.decision_grid(lambda P: P, np.zeros((0, 2)), 5)  # was numpy's zero-size error
    xx, yy, _ = plotting.decision_grid(lambda P: P, np.array([[3.0, -1.0]]), 3)
    np.testing.assert_array_equal(xx[0], [2.0, 3.0, 4.0])  # was a square 2e-9 wide
    np.testing.assert_array_equal(yy[:, 0], [-2.0, -1.0, 0.0])


# ------------------------------------------------------------------------------ activations
def test_activation_histograms_count_what_they_cannot_bin():
    fig = plotting.plot_activation_histograms(
        {"1": np.array([1.0, NAN, 3.0]), "3": np.array([1.0, INF, -INF, 2.0])}
    )  # NaN: a title "mean nan std nan"; inf: numpy's "range of [1.0, inf] is not finite"
    assert [ax.get_title() for ax in fig.axes[:2]] == [
        "1\nmean 2.00 std 1.00\n1 NaN or inf: not drawn",
        "3\nmean 1.50 std 0.50\n2 NaN or inf: not drawn",
    ]


# --------------------------------------------------------------------------------- calculus
@pytest.mark.parametrize(
    "f", [lambda t: t - t.mean(), lambda t: t.exp() / t.exp().sum()], ids=["centred", "softmax"]
)
def test_function_and_derivative_refuses_an_f_that_mixes_entries(f):
    # the gradient of f(x).sum() was drawn as f'(x): 0 everywhere for both
    with pytest.raises(ValueError, match=r"^plot_function_and_derivative: f must act entry by"):
        plotting.plot_function_and_derivative(f, x=np.linspace(-1, 1, 5))


def test_function_and_derivative_leaves_the_gradients_of_fs_own_tensors():
    w = bl.Tensor(2.0, requires_grad=True, name="w")
    w.grad = np.array(7.0)  # the learner's, from an earlier backward
    fig = plotting.plot_function_and_derivative(lambda t: (t * w).tanh(), x=np.array([0.0, 1.0]))
    np.testing.assert_allclose(
        fig.axes[1].lines[0].get_ydata(), 2 * (1 - np.tanh([0.0, 2.0]) ** 2), rtol=0, atol=1e-15
    )
    assert w.grad == 7.0  # was 7 + the sum of dL/dw of the picture's pass


def test_eps_errors_refuse_a_step_of_zero_and_say_what_is_nan():
    with pytest.raises(ValueError, match=r"^finite_difference_errors: every eps must be positive"):
        plotting.finite_difference_errors(np.exp, np.e, 1.0, [0.0, 1e-3])  # was NaN, a warning
    with np.errstate(invalid="ignore"):  # sqrt of a negative number: NaN, as the note says
        fig = plotting.plot_eps_error(np.sqrt, 0.5 / np.sqrt(1e-4), 1e-4, eps=[1e-3, 1e-6])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "one-sided",
        "central (1 eps give NaN: not drawn)",
    ]


def test_hidden_gradient_norms_of_a_frozen_network_are_measured():
    # every parameter frozen: the outputs had no graph, and backward's error named neither
    # the function nor the cause; the activations' gradients do not need the parameters'
    model = nn.deep_network(3, 4, activation="tanh", rng=0)
    X, y = np.random.default_rng(1).standard_normal((5, 64)), np.array([0, 1, 0, 1, 1])
    h, outputs = bl.Tensor(X), []
    for layer in model:  # the measurement written out with the engine, parameters unfrozen
        h = layer(h)
        outputs.append(h)
    bl.cross_entropy(h, y).backward()
    want = [np.linalg.norm(t.grad) for t in outputs[1:-1]]
    for p in model.parameters():
        p.requires_grad, p.grad = False, None
    np.testing.assert_allclose(plotting.hidden_gradient_norms(model, X, y), want, rtol=1e-12)
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("norms", [{}, {"plain": []}, {"plain": [1.0], "residual": {}}])
def test_plot_gradient_norms_refuses_nothing_to_draw(norms):
    with pytest.raises(ValueError, match=r"^plot_gradient_norms: no norms to draw"):
        plotting.plot_gradient_norms(norms)
