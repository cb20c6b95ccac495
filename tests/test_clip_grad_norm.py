"""Tests for optim.clip_grad_norm_: the rule notebook 10 teaches, at its special points."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import backproplab as bl
from backproplab import nn, optim
from backproplab.optim import clip_grad_norm_


def _with_grads(*grads, dtype=np.float64):
    """Parameters of the gradients' shapes, holding them as ``.grad``."""
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros(np.shape(g), dtype=dtype))
        p.grad = None if g is None else np.array(g, dtype=dtype)
        params.append(p)
    return params


def _global_norm(grads):
    """The reference: one float64 vector of every entry, its Euclidean norm."""
    return float(np.linalg.norm(np.concatenate([np.ravel(g).astype(np.float64) for g in grads])))


def test_a_3_4_gradient_worked_by_hand():
    p, q = _with_grads([3.0], [[4.0, 0.0]])
    assert clip_grad_norm_([p, q], max_norm=1.0) == 5.0
    np.testing.assert_allclose(p.grad, [0.6], rtol=1e-15)
    np.testing.assert_allclose(q.grad, [[0.8, 0.0]], rtol=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    shapes=st.lists(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    max_norm=st.floats(1e-3, 1e3),
)
def test_clipped_norm_is_the_smaller_of_norm_and_max_norm_along_the_same_direction(
    shapes, seed, max_norm
):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=shape) * rng.choice([1e-3, 1.0, 1e3]) for shape in shapes]
    params = _with_grads(*grads)
    norm = clip_grad_norm_(params, max_norm)
    assert norm == pytest.approx(_global_norm(grads), rel=1e-12)
    after = [p.grad for p in params]
    assert _global_norm(after) == pytest.approx(min(norm, max_norm), rel=1e-12)
    factor = min(1.0, max_norm / norm) if norm else 1.0
    for g, a in zip(grads, after):  # one factor for all: the step keeps its direction
        np.testing.assert_allclose(a, g * factor, rtol=1e-12, atol=0)


def test_at_or_below_the_limit_nothing_changes_not_even_the_arrays():
    params = _with_grads([0.6], [0.8])  # norm 1.0 exactly
    before = [p.grad for p in params]
    assert clip_grad_norm_(params, max_norm=1.0) == pytest.approx(1.0)
    assert all(p.grad is g for p, g in zip(params, before))
    assert clip_grad_norm_(params, max_norm=2.0) == pytest.approx(1.0)
    assert all(p.grad is g for p, g in zip(params, before))


def test_zero_gradients_stay_zero_and_the_norm_is_zero():
    params = _with_grads(np.zeros(3), np.zeros((2, 2)))
    assert clip_grad_norm_(params, max_norm=1.0) == 0.0
    assert all(np.all(p.grad == 0) and np.all(np.isfinite(p.grad)) for p in params)


def test_parameters_without_a_gradient_are_left_out():
    p, q = _with_grads(None, [6.0, 8.0])
    assert clip_grad_norm_([p, q], max_norm=5.0) == 10.0
    assert p.grad is None
    np.testing.assert_allclose(q.grad, [3.0, 4.0])


def test_a_shared_gradient_array_is_not_scaled_in_place():
    shared = np.array([30.0, 40.0])
    (p,) = _with_grads(shared)
    p.grad = shared  # e.g. the same array a learner keeps for a plot
    clip_grad_norm_([p], max_norm=1.0)
    np.testing.assert_array_equal(shared, [30.0, 40.0])
    np.testing.assert_allclose(p.grad, [0.6, 0.8])


def test_float32_gradients_stay_float32_and_huge_entries_do_not_overflow_the_norm():
    # 3e19 squared is 9e38, above float32's largest number (3.4e38): summed in float32 it is inf
    params = _with_grads([3e19], [4e19], dtype=np.float32)
    with np.errstate(over="ignore"):  # what a float32 sum would give
        assert np.isinf(np.sum(np.square(np.float32(3e19))))
    norm = clip_grad_norm_(params, max_norm=1.0)
    assert norm == pytest.approx(5e19, rel=1e-6)
    for p, expected in zip(params, (0.6, 0.8)):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad, [expected], rtol=1e-6)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_gradient_holding_inf_or_nan_raises_instead_of_zeroing_or_nan_ing_every_gradient(bad):
    p, q = _with_grads([1.0, bad], [2.0])
    before = q.grad
    with pytest.raises(ValueError, match=r"^clip_grad_norm_: the gradients' global norm is"):
        clip_grad_norm_([p, q], max_norm=1.0)
    assert q.grad is before  # nothing was scaled


@pytest.mark.parametrize(
    "max_norm, error, words",
    [
        (0, ValueError, "must be > 0"),
        (-1.0, ValueError, "must be >= 0"),
        (np.nan, ValueError, "must be >= 0"),
        (np.inf, ValueError, "must be finite"),
        ("1.0", TypeError, "must be a number"),
        (None, TypeError, "must be a number"),
    ],
)
def test_a_max_norm_that_is_no_limit_is_refused(max_norm, error, words):
    params = _with_grads([3.0, 4.0])
    with pytest.raises(error, match=f"clip_grad_norm_: max_norm {words}"):
        clip_grad_norm_(params, max_norm)


def test_the_usual_mistakes_with_the_parameters_get_the_optimizers_messages():
    model = nn.MLP([2, 3, 1], rng=0)
    with pytest.raises(TypeError, match=r"clip_grad_norm_: got the model itself.*parameters\(\)"):
        clip_grad_norm_(model, 1.0)
    uncalled = (r"^clip_grad_norm_: got parameters without calling it, not a list of tensors; "
                r"pass model\.parameters\(\) \(called, with the parentheses\)$")  # fmt: skip
    with pytest.raises(TypeError, match=uncalled):  # the advice for it, not that for a tensor
        clip_grad_norm_(model.parameters, 1.0)
    p = model.parameters()[0]
    with pytest.raises(ValueError, match=r"same parameter as item 0"):
        clip_grad_norm_([p, p], 1.0)  # counted twice, it would be scaled by the wrong factor
    p.grad = np.ones((2, 2))  # set by hand, of the wrong shape
    with pytest.raises(ValueError, match=r"clip_grad_norm_: a gradient of shape \(2, 2\)"):
        clip_grad_norm_(model.parameters(), 1.0)


def _exploding_run(clip, steps=300):
    """Notebook 10's exploding network (21 ReLU layers, weights of std 0.25, SGD lr 0.1)."""
    X, y, _, _ = bl.datasets.digits()
    model = nn.deep_network(20, 32, activation="relu", init=0.25, rng=0)
    params = model.parameters()
    optimizer = optim.SGD(params, lr=0.1)
    rows = np.random.default_rng(0)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            batch = rows.choice(len(X), 64, replace=False)
            optimizer.zero_grad()
            logits = model(bl.Tensor(X[batch]))
            if not np.all(np.isfinite(logits.numpy())):
                break
            loss = bl.cross_entropy(logits, y[batch])
            loss.backward()
            clip(params)
            optimizer.step()
            losses.append(loss.item())
    return losses


def test_it_trains_notebook_10s_exploding_network_exactly_as_the_rule_the_notebook_teaches():
    def taught(params):  # the notebook's rule, written out: one factor max_norm / norm
        grads = [p.grad for p in params]
        norm = np.sqrt(sum(float((g**2).sum()) for g in grads))
        for p, g in zip(params, grads):
            p.grad = g * (1.0 / norm if norm > 1.0 else 1.0)

    unclipped = _exploding_run(lambda params: None)
    package = _exploding_run(lambda params: clip_grad_norm_(params, max_norm=1.0))
    by_hand = _exploding_run(taught)
    assert len(unclipped) < 300  # without clipping the weights overflow
    assert len(package) == 300 and np.all(np.isfinite(package))
    np.testing.assert_allclose(package, by_hand, rtol=1e-9)
    assert package[-1] < package[0]


# ---------------------------------------------------------------- what an adversary found (adv5)
def test_called_before_backward_it_raises_instead_of_returning_0_and_clipping_nothing():
    """Between zero_grad() and backward() every .grad is None: it returned 0.0 (as PyTorch
    does), and the training that followed ran unclipped without a word."""
    model = nn.MLP([2, 3, 1], rng=0)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    optimizer.zero_grad()
    with pytest.raises(ValueError, match=r"^clip_grad_norm_: no parameter has a gradient .*"
                                         r"after backward\(\) and before step\(\)$"):  # fmt: skip
        clip_grad_norm_(model.parameters(), max_norm=1.0)


@pytest.mark.parametrize("scale", [1e-170, 1e-300, 1e200, 1e300])
def test_the_norm_of_gradients_whose_squares_leave_float64_is_still_their_norm(scale):
    """Squared, 1e-170 underflows to 0 and 1e200 overflows to inf: the norm of a deep sigmoid
    network's vanishing gradients was 0.0 (not clipped below any max_norm), and a finite 1e200
    gradient raised as if it held inf."""
    params = _with_grads([3.0 * scale], [[4.0 * scale, 0.0]])
    with np.errstate(all="raise"):
        norm = clip_grad_norm_(params, max_norm=scale)  # 5 * scale, clipped to scale
    assert norm == pytest.approx(5 * scale, rel=1e-15)
    np.testing.assert_allclose(params[0].grad, [0.6 * scale], rtol=1e-15)
    np.testing.assert_allclose(params[1].grad, [[0.8 * scale, 0.0]], rtol=1e-15)


def test_a_norm_beyond_float64s_largest_number_raises():
    params = _with_grads([1.5e308], [1.5e308])
    with pytest.raises(ValueError, match=r"global norm is inf: .*beyond float64's largest"):
        clip_grad_norm_(params, max_norm=1.0)


@settings(max_examples=60, deadline=None)
@given(
    shapes=st.lists(hnp.array_shapes(min_dims=0, max_dims=2, max_side=5), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
    exponent=st.floats(-140, 140),
)
def test_in_float64s_range_the_norm_is_the_plain_sum_of_squares_to_the_last_bit(
    shapes, seed, exponent
):
    """The power of two the entries are divided by only moves their exponents."""
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=shape) * 10.0**exponent for shape in shapes]
    plain = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))
    assert clip_grad_norm_(_with_grads(*grads), max_norm=1e300) == plain


# ---------------------------------------------------------------- what mutation testing found (mut3)
def test_an_empty_gradient_counts_for_nothing():
    """A parameter with no entries (shape (0,) or (0, 3)) has a gradient of no entries: the
    largest |entry| was taken of each gradient, and numpy has no largest of nothing."""
    empty, full = _with_grads(np.zeros(0), [3.0, 4.0])
    assert clip_grad_norm_([empty, full], max_norm=1.0) == 5.0
    np.testing.assert_allclose(full.grad, [0.6, 0.8])
    assert empty.grad.shape == (0,)
    assert clip_grad_norm_(_with_grads(np.zeros((0, 3))), max_norm=1.0) == 0.0


def test_float32_gradients_have_the_float64_norm_of_their_entries():
    """The squares are summed in float64 whatever the gradients' dtype: summed in float32, the
    norm of 1000 entries is off in its 7th digit."""
    grads = np.random.default_rng(0).normal(size=(2, 500)).astype(np.float32)
    params = _with_grads(*grads, dtype=np.float32)
    in_float64 = float(np.sqrt(np.sum(np.square(grads.astype(np.float64)))))
    assert clip_grad_norm_(params, max_norm=1e30) == in_float64


def test_the_smallest_positive_gradient_still_has_a_norm():
    """The power of two the entries are divided by is the one below the largest, never 0:
    the next one down from 5e-324 (the smallest float64 above 0) is 0, and 5e-324 / 0 is inf."""
    smallest = float(np.nextafter(0.0, 1.0))
    (p,) = _with_grads([smallest, 0.0])
    assert clip_grad_norm_([p], max_norm=1.0) == smallest
    np.testing.assert_array_equal(p.grad, [smallest, 0.0])
