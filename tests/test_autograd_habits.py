"""The autograd API used in combination, the way a learner who read docs/pytorch.md would.

Each scenario was written once against backproplab and once against PyTorch 2.13 (CPU, float64)
and every number compared: values, the ``.grad`` of every leaf and of the intermediate tensors,
warnings and errors. The tests here are the places where backproplab gave another number without
a word; each failed before its fix. PyTorch's numbers are written in as literals, with a comment.
Where the package deliberately differs, docs/pytorch.md says so and tests/test_docs_pytorch.py
runs the page's blocks.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import backproplab as bl


def leaf(values):
    return bl.Tensor(np.array(values, dtype=np.float64), requires_grad=True)


# ------------------------------------------------------------ every .grad is an array of its own
def test_scaling_one_gradient_in_place_leaves_the_others_alone():
    """add hands one array to both inputs: ``a.grad *= 10`` also scaled c's gradient and y's."""
    a, c = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = a + c
    y.backward(np.array([1.0, 5.0]))
    a.grad *= 10
    # PyTorch (y.retain_grad()): a.grad [10., 50.], c.grad [1., 5.], y.grad [1., 5.]
    np.testing.assert_array_equal(a.grad, [10.0, 50.0])
    np.testing.assert_array_equal(c.grad, [1.0, 5.0])
    np.testing.assert_array_equal(y.grad, [1.0, 5.0])


def test_clipping_by_hand_scales_each_gradient_once():
    """``for p in params: p.grad *= scale``: a gradient shared by two parameters was scaled twice."""
    a, c = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + c).backward(np.array([3.0, 4.0]))
    for p in (a, c):
        p.grad *= 0.5
    # PyTorch: a.grad [1.5, 2.], c.grad [1.5, 2.]
    np.testing.assert_array_equal(a.grad, [1.5, 2.0])
    np.testing.assert_array_equal(c.grad, [1.5, 2.0])


@pytest.mark.parametrize(
    "update",
    [
        lambda p: p.grad.__imul__(2.0),  # p.grad *= 2
        lambda p: p.grad.__iadd__(0.1 * p.data),  # weight decay by hand: p.grad += wd * p.data
        lambda p: p.grad.fill(0.0),  # zeroing in place
    ],
    ids=["scale", "weight decay", "fill"],
)
def test_a_gradient_can_be_changed_in_place_after_a_sum(update):
    """sum's rule sends back a read-only broadcast view: numpy refused ``a.grad *= 2`` with
    "output array is read-only", naming nothing of ours."""
    a = leaf([1.0, 2.0])
    a.sum().backward()
    update(a)  # PyTorch: allowed, a.grad is a tensor of its own
    assert a.grad.flags.writeable


GRAPHS = {  # graphs whose rules hand an array on unchanged (add, sub) or as a view (sum, reshape)
    "a + c": lambda a, c: a + c,
    "a - c": lambda a, c: a - c,
    "broadcast": lambda a, c: a + c.reshape(2, 1),
    "reshape, transpose": lambda a, c: a.reshape(2, 1).T + c,
    "residual": lambda a, c: (a + (a * c).relu()) + a,
    "sum, mean": lambda a, c: a.sum() + c.mean(),
    "index": lambda a, c: a[0] + c[::-1],
}


@pytest.mark.parametrize("build", GRAPHS.values(), ids=GRAPHS.keys())
def test_the_gradients_of_two_leaves_never_share_memory_and_can_be_written(build):
    a, c = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    build(a, c).sum().backward()
    assert a.grad.flags.writeable and c.grad.flags.writeable
    assert not np.shares_memory(a.grad, c.grad)


def test_a_gradient_handed_on_unchanged_is_not_the_one_its_node_keeps():
    a, c = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = a + c
    L = (y * 2).sum()
    L.backward()
    for t, u in itertools.combinations([a, c, y], 2):
        assert not np.shares_memory(t.grad, u.grad)


# ------------------------------------------------------- requires_grad switched off on a node
def test_switching_off_an_intermediate_after_the_forward_pass_is_refused():
    """h's path was silently dropped: x.grad [3, 6] instead of d/dx sum(3x * x) = [6, 12]."""
    x = leaf([1.0, 2.0])
    h = x * 3
    L = (h * x).sum()
    h.requires_grad = False  # PyTorch refuses this line: "you can only change requires_grad
    with pytest.raises(RuntimeError) as info:  # flags of leaf variables"
        L.backward()
    message = str(info.value)
    assert "\n" not in message
    assert re.search(
        r"the output of 'mul' \(shape \(2,\)\) has requires_grad = False.*detach", message
    )
    assert x.grad is None  # refused before any gradient was touched


def test_switching_off_an_intermediate_before_using_it_is_refused_too():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.requires_grad = False  # PyTorch refuses it here; h.detach() is the constant copy
    with pytest.raises(RuntimeError, match=r"requires_grad = False.*detach"):
        (h * x).sum().backward()
    (h.detach() * x).sum().backward()  # what it says to write: h is a constant
    np.testing.assert_array_equal(x.grad, [3.0, 6.0])  # PyTorch, h.detach(): [3., 6.]


def test_switching_off_a_leaf_after_the_forward_pass_gives_pytorchs_numbers():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    L = (w * x).sum()
    x.requires_grad = False  # a leaf may be switched off: it gets no gradient
    L.backward()
    assert x.grad is None  # PyTorch: None
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])  # PyTorch: [1., 2.]


# ----------------------------------------------------------------- a .grad set by hand, wrong
@pytest.mark.parametrize(
    "held, shape",
    [(np.zeros((2, 1)), "(2, 1)"), (np.array([5.0]), "(1,)"), (0.0, "()")],
    ids=["(2, 1)", "(1,)", "a number"],
)
def test_a_gradient_of_another_shape_set_by_hand_is_refused(held, shape):
    """It was added to the new one by broadcasting: x.grad of shape (2, 2) for x of shape (2,),
    or [7, 9] from a (1,) array holding 5. PyTorch refuses the assignment itself ("attempting
    to assign a gradient of size '[2, 1]' to a tensor of size '[2]")."""
    x = bl.Tensor([1.0, 2.0], requires_grad=True, name="x")
    x.grad = held
    with pytest.raises(ValueError) as info:
        (x * x).sum().backward(accumulate=True)
    message = str(info.value)
    assert "\n" not in message
    assert f"'x' has shape (2,) but holds a gradient of shape {shape}" in message


def test_a_gradient_of_its_shape_set_by_hand_is_added_to():
    x = leaf([1.0, 2.0])
    x.grad = np.array([1.0, 1.0])
    (x * x).sum().backward(accumulate=True)
    np.testing.assert_array_equal(x.grad, [3.0, 5.0])  # PyTorch: [3., 5.]


def test_the_accumulation_warning_still_points_at_the_line_that_called_backward():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    with pytest.warns(bl.GradientAccumulationWarning) as caught:
        (x * x).sum().backward()
    assert caught.pop(bl.GradientAccumulationWarning).filename == __file__
