"""The backward pass: classic graphs, order, accumulation, memory, switches."""

from __future__ import annotations

import gc
import sys
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import backproplab as bl
from backproplab.autodiff import sum_to_shape, toposort


def leaf(value, name):
    return bl.Tensor(value, requires_grad=True, name=name)


def test_the_graph_x_plus_y_times_z():
    x, y, z = leaf(-2.0, "x"), leaf(5.0, "y"), leaf(-4.0, "z")
    q = x + y
    L = q * z
    L.backward()
    assert (q.item(), L.item()) == (3.0, -12.0)
    # mul swaps: dL/dz = q, dL/dq = z; add distributes: dq/dx = dq/dy = 1
    assert (x.grad, y.grad, z.grad, q.grad) == (-4.0, -4.0, 3.0, -4.0)
    assert x.grad.shape == ()  # a scalar's gradient is a 0-d array


def test_fan_out_gradients_add_up():
    x = leaf(3.0, "x")
    y = x * x + x  # x feeds three edges
    y.backward()
    assert x.grad == 2 * 3.0 + 1


def test_diamond_graph():
    x = leaf(0.5, "x")
    a, b = x.exp(), x.tanh()  # two paths from x to y
    y = a * b
    y.backward()
    expected = np.exp(0.5) * np.tanh(0.5) + np.exp(0.5) * (1 - np.tanh(0.5) ** 2)
    np.testing.assert_allclose(x.grad, expected)


def test_toposort_puts_inputs_first_and_is_deterministic():
    x, y = leaf(1.0, "x"), leaf(2.0, "y")
    q = x + y
    L = q * x + y
    order = toposort(L)
    assert order[-1] is L
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.inputs:
            assert position[id(parent)] < position[id(node)]
    assert [n.name or n.op.name for n in order] == [n.name or n.op.name for n in toposort(L)]
    assert len(order) == len({id(n) for n in order})


def test_toposort_is_creation_order_even_for_a_leaf_made_late():
    x = leaf(1.0, "x")
    a = x * 2.0
    late = leaf(3.0, "late")  # made after a, used only by the last node
    b = a + x
    L = b * late
    order = toposort(L)
    label = lambda n: n.name or (n.op.name if n.op else f"const {n.item():g}")  # noqa: E731
    assert [label(n) for n in order] == ["x", "const 2", "mul", "late", "add", "mul"]
    L.backward()
    assert (x.grad, late.grad) == (9.0, 3.0)  # dL/dx = 3 * late, dL/dlate = 3x


def test_constants_are_in_the_order_and_get_no_gradient():
    x = leaf(2.0, "x")
    c = bl.Tensor(3.0, name="c")
    L = x * c
    order = toposort(L)
    assert [n.name for n in order if n.op is None] == ["x", "c"]  # drawings show constants too
    L.backward()
    assert x.grad == 3.0 and c.grad is None


def test_a_long_chain_backpropagates_without_recursion():
    x = leaf(1.0, "x")
    h = x
    for _ in range(50_000):  # two nodes per step: 10^5 nodes
        h = h * 1.0 + 0.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100)  # any recursion over the graph would fail at once
    try:
        h.backward()
        order = toposort(h)
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad == 1.0 and len(order) == 200_001  # x, then 4 tensors a step (two constants)


def _graph_memory(n):
    tracemalloc.start()
    x = leaf(np.ones(3), "x")
    h = x
    for _ in range(n):
        h = h * 1.0
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return current


def test_memory_grows_linearly_with_the_graph():
    small, large = _graph_memory(2_000), _graph_memory(8_000)
    assert 3.0 < large / small < 5.0  # four times the nodes, four times the memory


def test_graph_is_freed_by_reference_counting():
    gc.disable()  # prove no cycle needs the cyclic collector
    try:
        x = leaf(np.ones(3), "x")
        h = (x * 2).tanh()
        loss = (h * h).sum()
        loss.backward()
        probe = weakref.ref(h)
        del h, loss
        assert probe() is None
    finally:
        gc.enable()


def test_gradients_stay_when_backward_runs_on_a_subgraph():
    x = leaf(2.0, "x")
    y = x * 3
    z = y * y
    z.backward()
    assert y.grad == 2 * 6 * 1.0 and x.grad == 36.0


def test_second_backward_warns_and_accumulates():
    x = leaf(2.0, "x")
    (x * x).backward()
    with pytest.warns(bl.GradientAccumulationWarning, match="'x' already holds gradients") as w:
        (x * x).backward()
    said = w.pop(bl.GradientAccumulationWarning)  # (w[0] could be a warning gc set off)
    assert said.filename == __file__  # the warning points at the line that called backward()
    assert x.grad == 8.0  # 4 + 4: added, as the warning says
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x * x).backward(accumulate=True)  # deliberate accumulation: silent
        assert x.grad == 12.0
        x.zero_grad()
        (x * x).backward()  # zeroed: silent
        assert x.grad == 4.0


def test_a_gradient_zeroed_by_hand_is_added_to_without_a_warning():
    """`w.grad = np.zeros_like(w.data)` (PyTorch's zero_grad once did that) before backward(): the
    warning said w held gradients "from an earlier backward()", which was not true, and adding
    to zeros changes nothing (found by a novice walk of notebook 01's challenge)."""
    w, v = leaf([1.0, -2.0], "w"), leaf(3.0, "v")
    ((w * w).sum() * v).backward()
    w.grad = np.zeros_like(w.data)
    v.grad[...] = 0.0  # zeroed in place
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ((w * w).sum() * v).backward()
    np.testing.assert_array_equal(w.grad, [6.0, -12.0])  # 2 w v
    assert v.grad == 5.0  # sum(w^2)
    w.grad[0], v.grad = 1.0, None  # one entry of w left from before: the warning, naming w
    with pytest.warns(bl.GradientAccumulationWarning, match="'w' already holds gradients"):
        ((w * w).sum() * v).backward()


def test_an_update_outside_no_grad_is_named_in_the_warning():
    """w = w - lr * w.grad outside no_grad: the new w is a node computed from the old leaf, which
    keeps receiving gradients; the warning says so (it said only "call zero_grad()", which the
    learner, holding no name for the old leaf, cannot do)."""
    X, y = bl.Tensor(np.arange(6.0).reshape(3, 2)), np.array([1.0, -1.0, 2.0])
    w = bl.Tensor(np.zeros(2), requires_grad=True)
    ((X @ w - y) ** 2).mean().backward()
    w = w - 0.1 * w.grad
    with pytest.warns(bl.GradientAccumulationWarning, match=r"in place inside no_grad"):
        ((X @ w - y) ** 2).mean().backward()
    x = leaf(2.0, "x")  # a second pass without zero_grad and no update: the first sentence only
    (x * x).backward()
    with pytest.warns(bl.GradientAccumulationWarning) as caught:
        (x * x).backward()
    assert "no_grad" not in str(caught.pop(bl.GradientAccumulationWarning).message)


@pytest.mark.parametrize("target", [3.0, np.array([1.0, -2.0, 0.5])])
def test_a_loss_of_w_minus_a_target_is_no_update_outside_no_grad(target):
    """(w - target) ** 2 backward twice without zero_grad: the warning told of an update made
    outside no_grad (a leaf minus a constant of its shape), which there was none of."""
    w = bl.Tensor(np.zeros_like(target), requires_grad=True)
    ((w - target) ** 2).sum().backward()
    with pytest.warns(bl.GradientAccumulationWarning) as caught:
        ((w - target) ** 2).sum().backward()
    assert "no_grad" not in str(caught.pop(bl.GradientAccumulationWarning).message)


def _warning_of_a_second_backward(loss) -> str:
    """The GradientAccumulationWarning of ``loss()``'s second backward() without zero_grad()."""
    loss().backward()
    with pytest.warns(bl.GradientAccumulationWarning) as caught:
        loss().backward()
    return str(caught.pop(bl.GradientAccumulationWarning).message)


def test_which_updates_outside_no_grad_the_warning_names():
    """(Each rule of _updated_outside_no_grad could be dropped with every test passing: found by
    mutation testing.) An update is a leaf plus or minus a constant of its shape that steps
    along its gradient wherever that is not 0: w + (-lr) * w.grad is one, and so is a gradient
    with a 0 in it (a dead unit); a step of zeros, a constant along the gradient in one place
    only, a tensor that requires a gradient, one of another shape, or a node that is no leaf
    is none."""
    X = bl.Tensor(np.array([[1.0, 0.0], [2.0, 0.0], [1.0, 0.0]]))  # w[1]'s gradient is 0
    y = np.array([1.0, -1.0, 2.0])
    for update in (lambda w: w + (-0.1) * w.grad, lambda w: w - 0.1 * w.grad):
        w = bl.Tensor(np.ones(2), requires_grad=True)
        ((X @ w - y) ** 2).mean().backward()
        w = update(w)
        with pytest.warns(bl.GradientAccumulationWarning, match="in place inside no_grad"):
            ((X @ w - y) ** 2).mean().backward()

    def w_minus(c, w=(5.0, 5.0)):  # w's gradient 2 * (w - c): along c for w = (5, 5), c = 3
        w = bl.Tensor(np.array(w), requires_grad=True)
        return lambda: ((w - c) ** 2).sum()

    def node_minus(c):
        h = bl.Tensor(np.full(2, 5.0), requires_grad=True) * 1.0  # h holds a gradient too
        return lambda: ((h - c) ** 2).sum()

    for loss in (
        w_minus(np.zeros(2)),
        w_minus(np.full(2, 3.0), w=(5.0, 0.0)),  # gradient (4, -6)
        w_minus(np.full(3, 3.0), w=(5.0, 5.0, 7.0)),  # gradient (4, 4, 8): signs alike, no step
        w_minus(bl.Tensor(np.full(2, 3.0), requires_grad=True)),
        w_minus(np.full((3, 2), 3.0)),
        node_minus(np.full(2, 3.0)),
    ):
        assert "no_grad" not in _warning_of_a_second_backward(loss)


def test_backward_from_a_leaf_adds_its_seed_to_the_gradient_it_holds():
    # dx/dx = 1: a leaf root gets the seed itself, added like any leaf's gradient (found by
    # mutation testing: overwriting the leaf's old gradient went unnoticed)
    x = leaf(np.array([1.0, 2.0]), "x")
    (x * x).sum().backward()  # d/dx sum(x^2) = 2x = (2, 4)
    x.backward(np.array([3.0, -5.0]), accumulate=True)
    np.testing.assert_array_equal(x.grad, [2.0 + 3.0, 4.0 - 5.0])


def test_intermediate_gradients_start_fresh_each_backward():
    x = leaf(1.0, "x")
    h = x * 2
    (h * 3).backward()
    x.zero_grad()
    (h * 5).backward()
    assert h.grad == 5.0 and x.grad == 10.0


def test_no_grad_records_nothing():
    x = leaf(1.0, "x")
    with bl.no_grad():
        y = x * 2
        assert not bl.is_grad_enabled()
    assert bl.is_grad_enabled()
    assert y.op is None and not y.requires_grad and y.inputs == ()


def test_nested_switches_restore_what_was_there_before():
    x = leaf(1.0, "x")
    with bl.no_grad():
        with bl.no_grad():
            pass
        assert not bl.is_grad_enabled()  # the inner block ends: still off
        assert (x * 2).op is None
    assert bl.is_grad_enabled()
    with bl.detect_anomaly():
        with bl.detect_anomaly(False):  # switched off for a part
            assert not bl.is_anomaly_enabled()
        assert bl.is_anomaly_enabled()  # and on again after it
        with bl.detect_anomaly():
            pass
        assert bl.is_anomaly_enabled()
    assert not bl.is_anomaly_enabled()


def test_detach_cuts_the_graph():
    x = leaf(3.0, "x")
    y = x.detach() * x
    y.backward()
    assert x.grad == 3.0


def test_anomaly_mode_checks_a_row_that_saves_a_value():
    logits = leaf(np.array([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]]), "z")
    with bl.detect_anomaly():  # finite logits: the forward check sees the loss, not (loss, softmax)
        loss = bl.cross_entropy(logits, np.array([2, 0]))
        loss.backward()
    assert loss.data.shape == () and np.all(np.isfinite(logits.grad))


def test_anomaly_mode_names_the_first_forward_op():
    x = leaf(np.array([1.0, 0.0]), "x")
    y = x * 1.0
    with bl.detect_anomaly(), pytest.raises(FloatingPointError, match="forward of 'log'"):
        with np.errstate(divide="ignore"):
            bl.log(y)
    with np.errstate(divide="ignore"):
        bl.log(y)  # off by default: no error


def test_anomaly_mode_names_the_backward_op():
    x = leaf(np.array([0.0, 4.0]), "x")
    with bl.detect_anomaly(), np.errstate(divide="ignore"):
        y = bl.sqrt(x).sum()  # sqrt(0) = 0 is fine, its slope is not
        with pytest.raises(FloatingPointError, match="backward of 'sqrt'"):
            y.backward()


def test_custom_op_works_with_everything():
    cube = bl.Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x**2,))
    x = leaf(np.array([0.5, -1.5, 2.0]), "x")
    y = bl.apply(cube, x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, 3 * x.data**2)
    assert bl.gradcheck(lambda t: bl.apply(cube, t * 2), x).passed
    assert toposort(y)[1].op.name == "cube"
    wrong = bl.Op("cube", lambda x: x**3, lambda g, out, x: (g * x**2,))
    assert not bl.gradcheck(wrong, x, raise_exception=False).passed
    blows_up = bl.Op("inverse_cube", lambda x: x**-3.0, lambda g, out, x: (-3 * g * x**-4.0,))
    with bl.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(FloatingPointError, match="forward of 'inverse_cube'"):
            bl.apply(blows_up, x * 0)


@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
    data=st.data(),
)
def test_sum_to_shape_undoes_broadcasting(shape, data):
    target = data.draw(hnp.broadcastable_shapes(shape, min_dims=0, max_dims=3))
    big = np.broadcast_shapes(shape, target)
    g = np.arange(np.prod(big), dtype=float).reshape(big)
    reduced = sum_to_shape(g, tuple(target))
    assert reduced.shape == tuple(target)
    assert reduced.sum() == pytest.approx(g.sum())  # no element lost or counted twice
    # the defining property: <g, broadcast(v)> = <sum_to_shape(g), v> for any v
    v = np.random.default_rng(0).standard_normal(target)
    assert np.sum(g * np.broadcast_to(v, big)) == pytest.approx(np.sum(reduced * v))


@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 1000),
)
def test_broadcast_binary_ops_property(shapes, seed):
    rng = np.random.default_rng(seed)
    a = leaf(rng.uniform(0.5, 2, shapes.input_shapes[0]), "a")
    b = leaf(rng.uniform(0.5, 2, shapes.input_shapes[1]), "b")
    out = (a * b + a / b - b).sum()
    out.backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    assert bl.check_direction(lambda a, b: (a * b + a / b - b).sum(), a, b).passed


def test_anomaly_mode_still_calls_backwards_hook_once_per_node():
    # the step-through (plotting.backward_steps) and mygrad's checks watch backward through its
    # hook; under detect_anomaly the hook is wrapped by the finiteness check, and no test ran a
    # hook inside anomaly mode (found by the coverage sweep)
    def run():
        x = bl.Tensor(np.array([1.0, 2.0]), requires_grad=True)
        y = bl.Tensor(np.array([3.0, 4.0]), requires_grad=True)
        seen = []
        L = (x * y).sum()
        bl.autodiff.backward(L, hook=lambda node, grads: seen.append((node.op.name, len(grads))))
        return seen, x.grad, y.grad

    plain = run()
    with bl.detect_anomaly():
        watched = run()
    assert watched[0] == plain[0] == [("sum", 1), ("mul", 2)]
    assert np.array_equal(watched[1], [3.0, 4.0]) and np.array_equal(watched[2], [1.0, 2.0])
