"""The plotting helpers take what a learner has at hand: tensors in a graph (whose np.array() the
engine refuses while a graph is recorded), tensors that require grad, lists, float32. Each is
read as its values, and the picture or the numbers are those of the plain numpy values; what
cannot work (a loss function returning a float) gets one line naming the helper."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # tests draw off screen

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import backproplab as bl  # noqa: E402
from backproplab import plotting, widgets  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def in_graph(values):
    """``values`` as the output of an op in a recorded graph (np.array() of it is refused)."""
    return bl.Tensor(values, requires_grad=True) * 1.0


POINTS = np.array([[0.0, 0.0], [1.0, 0.5], [2.0, 2.0], [0.5, 1.5]])
LABELS = np.array([0, 1, 1, 0])
W = np.array([[1.0, -1.0], [-1.0, 1.0]])  # logits of a linear classifier: class 1 where y > x

# the same points and labels as a learner may hold them
FORMS = {
    "array": lambda a: a,
    "list": lambda a: a.tolist(),
    "float32": lambda a: a.astype(np.float32),
    "Tensor": lambda a: bl.Tensor(a),
    "Tensor requiring grad": lambda a: bl.Tensor(a.astype(float), requires_grad=True),
}


# ------------------------------------------------------------------------ decision boundaries
@pytest.mark.parametrize(
    "predict",
    [
        lambda p: p @ W.T,  # numpy in, numpy out
        lambda p: bl.Tensor(p) @ bl.Tensor(W, requires_grad=True).T,  # an op's output, in a graph
    ],
    ids=["numpy", "Tensor in a graph"],
)
def test_decision_grid_reads_the_logits_predict_returns(predict):
    xx, yy, classes = plotting.decision_grid(predict, POINTS, resolution=7)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    assert np.array_equal(classes, (grid @ W.T).argmax(axis=1).reshape(xx.shape))


@pytest.mark.parametrize("form", FORMS)
def test_decision_boundary_draws_the_points_of_each_class(form):
    X, y = FORMS[form](POINTS), FORMS[form](LABELS)
    fig = plotting.plot_decision_boundary(lambda p: p @ W.T, X, y, resolution=7)
    scatters = fig.axes[0].collections[1:]  # after the filled contour
    for c, points in enumerate(scatters):
        assert np.allclose(points.get_offsets(), POINTS[LABELS == c])


# --------------------------------------------------------------------------- layers' numbers
def test_activation_histograms_of_a_layer_output_in_a_graph():
    values = np.tanh(np.linspace(-3, 3, 50))
    fig = plotting.plot_activation_histograms({"h": in_graph(values)}, bins=5)
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    assert heights == np.histogram(values, bins=5)[0].tolist()
    assert f"mean {values.mean():.2f} std {values.std():.2f}" in fig.axes[0].get_title()


@pytest.mark.parametrize(
    "norms",
    [
        [in_graph(1.0), in_graph(0.1), in_graph(0.01)],
        {"0": in_graph(1.0), "2": in_graph(0.1), "4": in_graph(0.01)},
        bl.Tensor([1.0, 0.1, 0.01], requires_grad=True),
    ],
    ids=["list of tensors", "dict of tensors", "one tensor"],
)
def test_gradient_norms_given_as_tensors_are_drawn_as_their_values(norms):
    fig = plotting.plot_gradient_norms({"net": norms})
    line = fig.axes[0].lines[0]
    assert np.array_equal(line.get_xdata(), [1, 2, 3])
    assert np.allclose(line.get_ydata(), [1.0, 0.1, 0.01], rtol=0, atol=1e-15)


# --------------------------------------------------------------------------------- calculus
def test_function_and_derivative_on_x_and_a_derivative_in_a_graph():
    x = np.linspace(-2, 2, 9)
    fig = plotting.plot_function_and_derivative(
        lambda t: t.tanh(), x=in_graph(x), derivative=lambda a: 1 - in_graph(a).tanh() ** 2
    )
    left, right = fig.axes
    assert np.array_equal(left.lines[0].get_xdata(), x)
    assert np.allclose(left.lines[0].get_ydata(), np.tanh(x), rtol=0, atol=1e-15)
    by_hand = right.lines[1]
    assert np.allclose(by_hand.get_ydata(), 1 - np.tanh(x) ** 2, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "f", [lambda t: 1.0, lambda t: np.tanh(t.data)], ids=["float", "numpy array"]
)
def test_function_and_derivative_needs_f_to_return_a_tensor(f):
    with pytest.raises(TypeError, match="^plot_function_and_derivative: f must return a Tensor"):
        plotting.plot_function_and_derivative(f, x=[0.0, 1.0])


EPS = [1e-2, 1e-4]


@pytest.mark.parametrize(
    "f, exact",
    [
        (lambda v: bl.Tensor(v, requires_grad=True).exp(), math.e),  # f builds a graph
        (math.exp, in_graph(math.e)),  # the exact slope, computed with tensors
    ],
    ids=["f returns a Tensor in a graph", "exact is a Tensor in a graph"],
)
def test_finite_difference_errors_with_tensors(f, exact):
    errors = plotting.finite_difference_errors(f, exact, 1.0, EPS)
    e = np.array(EPS)
    forward = (np.exp(1 + e) - np.exp(1)) / e
    central = (np.exp(1 + e) - np.exp(1 - e)) / (2 * e)
    assert np.allclose(errors["forward"], np.abs(forward - np.e), rtol=1e-6, atol=0)
    assert np.allclose(errors["central"], np.abs(central - np.e), rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    "f, exact",
    [
        (lambda v: bl.Tensor(v).exp(), math.e),
        (lambda v: bl.Tensor(v, requires_grad=True).exp(), math.e),
        (math.exp, in_graph(math.e)),
        (math.exp, np.array(math.e)),  # x.grad is a 0-d array
    ],
    ids=["f returns a Tensor", "f returns a Tensor in a graph", "exact Tensor", "exact 0-d"],
)
def test_eps_errors_at_gives_floats_whatever_f_and_exact_are(f, exact):
    point = widgets.eps_errors_at(f, exact, 1.0, 1e-4)
    assert all(type(v) is float for v in point.values())
    forward = (math.exp(1 + 1e-4) - math.exp(1)) / 1e-4
    assert point["forward"] == pytest.approx(forward, rel=1e-12)
    assert point["forward_error"] == pytest.approx(abs(forward - math.e), rel=1e-6)
