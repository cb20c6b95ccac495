"""What the prose says the package does, held to what it does.

tests/test_prose_numbers.py ties the numbers quoted in the notebooks to their outputs. The prose
also states how the package behaves: "`backward_steps` puts every `.grad` back", "`gradcheck`
refuses float32", "`fit` leaves the model in evaluation mode". Each test below runs one such
statement (named in its docstring with the notebook or page that makes it) on a small example of
its own, with the expected values written out, so that a change of the code that makes the prose
false fails here, naming the place to fix.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import backproplab as bl
from backproplab import nn
from backproplab.train import evaluate, fit, predict

X4 = np.array([[0.5, -1.0, 2.0, 0.0], [1.5, 0.5, -0.5, 1.0], [-1.0, 2.0, 0.5, -0.5]])
Y4 = np.array([0, 2, 1])


def _held(model: nn.Module, value: float) -> list[np.ndarray]:
    """Give every parameter a gradient of its shape full of ``value`` (a learner's own backward)."""
    for p in model.parameters():
        p.grad = np.full(p.shape, value)
    return [p.grad for p in model.parameters()]


# ------------------------------------------------------------------------------ 01: gradients
def test_gradcheck_refuses_float32() -> None:
    """01: "That is why `bl.gradcheck` refuses float32 inputs"."""
    x = bl.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="float32"):
        bl.gradcheck(lambda t: (t * t).sum(), x)


def test_backward_fills_grad_and_leaves_the_parameters_alone() -> None:
    """01: "`backward()` fills `.grad` and leaves the parameters alone"."""
    w = bl.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    (w * w).sum().backward()
    assert w.data.tolist() == [1.0, -2.0]
    assert w.grad.tolist() == [2.0, -4.0]


def test_a_tensor_that_requires_grad_has_a_copy_of_its_own() -> None:
    """01 (challenge hints): "a Tensor made with `requires_grad=True` has a copy of its own";
    docs/pytorch.md: `bl.Tensor(array)` (no gradient) shares the array's memory."""
    given = np.array([1.0, 2.0])
    with bl.no_grad():
        w = bl.Tensor(given, requires_grad=True)
        w -= 0.5
    assert given.tolist() == [1.0, 2.0]
    shared = bl.Tensor(given)
    given[0] = 7.0
    assert shared.data[0] == 7.0


def test_backward_adds_to_a_held_gradient_and_warns() -> None:
    """01: "`backward()` *adds* to `.grad`"; 12 section 4.2: the package warns unless
    `accumulate=True`."""
    w = bl.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="w")
    (w * w).sum().backward()
    with pytest.warns(bl.GradientAccumulationWarning, match="'w' already holds gradients"):
        (w * w).sum().backward()
    assert w.grad.tolist() == [4.0, 8.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (w * w).sum().backward(accumulate=True)
    assert w.grad.tolist() == [6.0, 12.0]


# ------------------------------------------------------------------------------ 03 and 04
def test_backward_steps_puts_every_grad_back() -> None:
    """03 section 6: `backward_steps` runs the engine's pass and "afterwards it puts every
    `.grad` back as it was"."""
    x = bl.Tensor(2.0, requires_grad=True, name="x")
    y = bl.Tensor(3.0, requires_grad=True, name="y")
    x.grad = np.array(7.0)
    steps = bl.plotting.backward_steps((x + y) * x)
    assert len(steps) == 2
    assert x.grad == 7.0 and y.grad is None


def test_add_distributes_and_mul_swaps() -> None:
    """03 and 04: add's row returns `(g, g)`, mul's `(g * y, g * x)`."""
    g, a, b = np.array([1.0, -2.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0])
    to_a, to_b = bl.ops.add.vjp(g, a + b, a, b)
    assert to_a is g and to_b is g
    to_a, to_b = bl.ops.mul.vjp(g, a * b, a, b)
    assert to_a.tolist() == [5.0, -12.0] and to_b.tolist() == [3.0, -8.0]


def test_each_input_gets_its_own_copy_of_a_gradient_handed_on_unchanged() -> None:
    """04 section 4, step 3: the upstream gradient a rule hands on unchanged (`add`'s
    `(g, g)`) is copied, "so that `x.grad *= 0.5` changes x's gradient only"."""
    x = bl.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = bl.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    (x + y).sum().backward()
    x.grad *= 0.5
    assert x.grad.tolist() == [0.5, 0.5]
    assert y.grad.tolist() == [1.0, 1.0]


def test_a_graph_changed_in_place_is_refused_before_any_gradient_is_touched() -> None:
    """04 section 4: the pass refuses a graph whose inputs were changed in place, and "a refused
    graph leaves no gradient half-computed behind"."""
    p = bl.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="p")
    q = bl.Tensor(np.array([3.0, 4.0]), requires_grad=True, name="q")
    loss = (p * q).sum()
    with bl.no_grad():
        p -= 1.0
    with pytest.raises(RuntimeError, match="'p', an input of 'mul', was modified in place"):
        loss.backward()
    assert p.grad is None and q.grad is None


def test_an_op_output_switched_off_is_refused() -> None:
    """04 section 4 and docs/pytorch.md: an op's output switched off with
    `requires_grad = False` is refused by the next `backward()` through it."""
    x = bl.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 2
    h.requires_grad = False
    with pytest.raises(RuntimeError, match="has requires_grad = False"):
        (h * x).sum().backward()
    assert x.grad is None


def test_a_held_gradient_of_another_shape_is_refused() -> None:
    """04 section 4 and 12 section 4.2: a held gradient whose shape is not its tensor's (set by
    hand) is refused."""
    w = bl.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="w")
    w.grad = np.array(1.0)
    with pytest.raises(ValueError, match=r"holds a gradient of shape \(\)"):
        (w * w).sum().backward()
    assert w.grad.shape == ()


def test_cross_entropy_keeps_the_softmax_and_the_target_rows() -> None:
    """04 section 4 and 08: "`cross_entropy`'s rule keeps the softmax instead" (and the one-hot
    rows of the labels), made with `saves=True`."""
    loss = bl.cross_entropy(bl.Tensor(np.zeros((2, 3)), requires_grad=True), np.array([0, 2]))
    softmax, target = loss.saved
    assert np.allclose(softmax, 1 / 3)
    assert target.tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    assert bl.ops.cross_entropy.saves


# ------------------------------------------------------------------------------ 05 to 07
def test_indexing_collects_every_copy_of_a_repeated_row() -> None:
    """05: the rule for indexing is built on `np.add.at`: a row looked up three times gets the
    sum of the three gradients, a row never looked up gets 0."""
    table = bl.Tensor(np.zeros((5, 2)), requires_grad=True)
    table[np.array([2, 0, 2, 4, 2, 1])].sum().backward()
    assert table.grad[:, 0].tolist() == [1.0, 1.0, 3.0, 0.0, 1.0]


def test_relu_and_leaky_relu_at_the_kink() -> None:
    """06 and 07: the package, like PyTorch, uses slope 0 at x = 0 for ReLU, the negative side's
    slope for leaky ReLU, whose default slope is 0.01."""
    x = bl.Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]
    x = bl.Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    x.leaky_relu().sum().backward()
    assert x.grad.tolist() == [0.01, 0.01, 1.0]


def test_nudge_check_restores_the_parameters_and_their_gradients() -> None:
    """06: `bl.nudge_check` nudges every parameter, "restoring the parameters afterwards"."""
    p = bl.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    p.grad = np.array([9.0, 9.0])
    bl.nudge_check(lambda: (p * p).sum(), [p], 1e-3)
    assert p.data.tolist() == [1.0, 2.0]
    assert p.grad.tolist() == [9.0, 9.0]


def test_mse_and_bce_average_over_every_entry() -> None:
    """07: MSE and binary cross-entropy average over every entry of their input ("8 for a batch
    of 4 rows of 2")."""
    pred = bl.Tensor(np.full((4, 2), 0.5), requires_grad=True)
    bl.mse_loss(pred, np.zeros((4, 2))).backward()
    assert np.allclose(pred.grad, 2 * 0.5 / 8)
    pred = bl.Tensor(np.full((4, 2), 0.5), requires_grad=True)
    bl.binary_cross_entropy(pred, np.ones((4, 2))).backward()
    assert np.allclose(pred.grad, -1 / 0.5 / 8)


# ------------------------------------------------------------------------------ 10 to 13
@pytest.mark.parametrize("measure", ["layer_gradient_norms", "hidden_gradient_norms"])
def test_gradient_norms_put_the_learners_gradients_back(measure: str) -> None:
    """10 section 6: `layer_gradient_norms` "clears the gradients, runs one forward and one
    backward pass ... and then puts every parameter's `.grad` back as it was"; the same for
    `hidden_gradient_norms` (its docstring)."""

    def norms(model: nn.Module) -> list[float]:
        measured = getattr(bl.plotting, measure)(model, X4, Y4)
        return list(measured.values() if isinstance(measured, dict) else measured)

    model = nn.deep_network(2, 5, n_in=4, n_out=3, rng=0)
    before = _held(model, 7.0)
    with_held = norms(model)
    assert all(p.grad is g for p, g in zip(model.parameters(), before))
    assert all(np.all(p.grad == 7.0) for p in model.parameters())
    for p in model.parameters():
        p.grad = None
    assert norms(model) == with_held  # measured on cleared gradients, not on the held sevens
    assert all(p.grad is None for p in model.parameters())


def test_clip_grad_norm_returns_the_norm_before_clipping() -> None:
    """10 section 8 and docs/pytorch.md: `clip_grad_norm_` scales every gradient by one factor
    and returns the norm before clipping, a float."""
    a = bl.Tensor(np.zeros(2), requires_grad=True)
    b = bl.Tensor(np.zeros(1), requires_grad=True)
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])
    norm = bl.optim.clip_grad_norm_([a, b], max_norm=1.0)
    assert type(norm) is float and norm == 5.0
    assert np.allclose(a.grad, [0.6, 0.0]) and np.allclose(b.grad, [0.8])


def test_fit_trains_in_training_mode_and_leaves_evaluation_mode() -> None:
    """13 section 7: "`bl.train.fit` calls `train()` before each epoch and `eval()` before
    measuring"; docs/api.md: `predict` and `evaluate` give every module its mode back."""
    model = nn.Sequential(nn.Linear(4, 6, rng=0), nn.Dropout(0.5, rng=0), nn.Linear(6, 3, rng=1))
    seen = []
    original = nn.Dropout.forward

    def watching(self, x):  # type: ignore[no-untyped-def]
        seen.append(self.training)
        return original(self, x)

    nn.Dropout.forward = watching  # type: ignore[method-assign]
    try:
        fit(model, X4, Y4, bl.optim.SGD(model.parameters(), lr=0.1), epochs=2, batch_size=3)
    finally:
        nn.Dropout.forward = original  # type: ignore[method-assign]
    assert seen == [True, False, True, False]  # a step, then the measurement, in each epoch
    assert not model.training and not model[1].training
    model.train()
    model[1].eval()
    predict(model, X4)
    evaluate(model, X4, Y4)
    assert model.training and model[0].training and not model[1].training


def test_batch_norm_refuses_one_example_in_training_mode() -> None:
    """13 section 7: in training mode a batch of one image "cannot be normalised at all ... so
    the package (like PyTorch) refuses it"; in evaluation mode it is fine."""
    layer = nn.BatchNorm1d(3)
    with pytest.raises(bl.ShapeError, match="expected more than 1 value per channel"):
        layer(bl.Tensor(np.ones((1, 3))))
    layer.eval()
    assert layer(bl.Tensor(np.ones((1, 3)))).shape == (1, 3)


def test_batch_norm_running_variance_is_unbiased() -> None:
    """13 section 7: running <- (1 - m) running + m batch statistic, m = 0.1, with the unbiased
    variance (divided by N - 1)."""
    layer = nn.BatchNorm1d(1)
    layer(bl.Tensor(np.array([[1.0], [2.0], [3.0]])))  # mean 2, unbiased variance 1
    assert np.allclose(layer.running_mean, [0.2]) and np.allclose(layer.running_var, [1.0])


# ------------------------------------------------------------------------------ 14, the docs
def test_max_pooling_shares_a_tie_equally() -> None:
    """docs/api.md: max pooling takes "the maximum of every window (ties share the gradient
    equally)"."""
    x = bl.Tensor(np.zeros((1, 1, 2, 2)), requires_grad=True)
    bl.max_pool2d(x, 2).sum().backward()
    assert x.grad.ravel().tolist() == [0.25, 0.25, 0.25, 0.25]


def test_detach_copies_and_zero_grad_sets_none() -> None:
    """docs/pytorch.md: `t.detach()` copies the values here; `zero_grad` sets every `.grad` to
    `None`, for an optimizer and for a module."""
    w = bl.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    copy = w.detach()
    copy.data[0] = 5.0
    assert w.data[0] == 1.0 and copy.op is None and not copy.requires_grad
    layer = nn.Linear(2, 2, rng=0)
    _held(layer, 1.0)
    bl.optim.SGD(layer.parameters(), lr=0.1).zero_grad()
    assert all(p.grad is None for p in layer.parameters())
    _held(layer, 1.0)
    layer.zero_grad()
    assert all(p.grad is None for p in layer.parameters())


def test_optimizer_defaults() -> None:
    """docs/pytorch.md: SGD's `lr` is 0.01 unless given; Adam has PyTorch's defaults."""
    p = bl.Tensor(np.ones(1), requires_grad=True)
    assert bl.optim.SGD([p]).lr == 0.01
    adam = bl.optim.Adam([p])
    assert (adam.lr, adam.betas, adam.eps) == (0.001, (0.9, 0.999), 1e-08)
