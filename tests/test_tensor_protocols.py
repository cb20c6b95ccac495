"""How a Tensor answers Python's and numpy's protocols (int(), item assignment, numpy's functions,
matplotlib): the right value, or one line of ours saying what to write, never a gradient lost
without a word. Expected values come from numpy on plain arrays, or are literal."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

import backproplab as bl

matplotlib.use("Agg")  # off screen
import matplotlib.pyplot as plt  # noqa: E402

VALUES = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]])


def _leaf() -> bl.Tensor:
    return bl.Tensor(VALUES, requires_grad=True)


def _in_graph() -> bl.Tensor:
    return bl.Tensor(VALUES, requires_grad=True) * 1.0  # the output of 'mul'


# ------------------------------------------------------------------------------------- int()
@pytest.mark.parametrize("value, expected", [(2.7, 2), (-2.7, -2), ([[3.0]], 3), ([-0.5], 0)])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_int_of_a_one_element_tensor_is_its_number_truncated(value, expected, requires_grad):
    # int(t) gave Python's "int() argument must be ... a real number, not 'Tensor'"; float(t)
    # worked, and PyTorch's int(t) gives the number
    t = bl.Tensor(value, requires_grad=requires_grad)
    assert int(t) == expected and type(int(t)) is int
    assert int(t * 1.0) == expected  # the output of an op too, as float() does


def test_int_of_a_tensor_of_several_elements_is_refused_in_one_line():
    with pytest.raises(TypeError, match=r"^int\(\): only a one-element tensor is a number, not "
                       r"shape \(2, 3\)$"):  # fmt: skip
        int(_leaf())


# ---------------------------------------------------------- numpy functions with no gradient
NO_GRADIENT = [  # numpy functions whose results carry no gradient: indices, counts, shapes, tests
    np.argmax, np.argsort, lambda a: np.argmax(a, axis=1), np.shape, np.ndim, np.size,
    np.count_nonzero, np.nonzero, np.argwhere, lambda a: np.isclose(a, 1.5),
    lambda a: np.allclose(a, VALUES), lambda a: np.array_equal(a, VALUES),
    np.zeros_like, np.ones_like, lambda a: np.full_like(a, 7.0), lambda a: np.empty_like(a).shape,
]  # fmt: skip


@pytest.mark.parametrize("make", [_leaf, _in_graph], ids=["leaf", "in a graph"])
@pytest.mark.parametrize("fn", NO_GRADIENT)
def test_numpy_functions_with_no_gradient_run_on_a_tensor_that_requires_grad(fn, make):
    # np.argmax(w), np.shape(w), np.zeros_like(w), np.allclose(w, ...) raised "np.argmax would
    # turn a tensor that requires grad into a plain array and its gradient would be lost":
    # there was no gradient to lose, and under no_grad() or on a constant they ran
    got, expected = fn(make()), fn(VALUES)
    assert type(got) is type(expected)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "fn, name",
    [
        (np.sum, "sum"), (np.max, "max"), (np.linalg.norm, "norm"), (np.sort, "sort"),
        (lambda a: np.where(a > 0, a, 0.0), "where"), (lambda a: np.stack([a, a]), "stack"),
        (lambda a: np.vstack([a, a]), "vstack"), (lambda a: np.concatenate([a, a]), "concatenate"),
        (np.histogram, "histogram"),  # counts, and bin edges computed from the values
    ],
)  # fmt: skip
@pytest.mark.parametrize("make", [_leaf, _in_graph], ids=["leaf", "in a graph"])
def test_numpy_functions_of_the_values_stay_refused_on_a_tensor_that_requires_grad(fn, name, make):
    # a guard for the change above: where the result holds numbers computed from the values,
    # the graph would be dropped without a word (tensors inside a list too: np.stack([a, a]))
    with pytest.raises(TypeError, match=rf"^np\.{name} would turn a tensor that requires grad "):
        fn(make())


# ------------------------------------------------------------------------------- matplotlib
@pytest.mark.parametrize("draw", [
    lambda ax, t: ax.plot(t)[0].get_ydata(),
    lambda ax, t: ax.hist(t)[0],
])  # fmt: skip
def test_matplotlib_plots_a_parameter_as_np_array_of_it_does(draw):
    # plt.plot(w) and plt.hist(w) raised "np.array(): this tensor is the output of 'getitem'",
    # an op the learner never wrote (matplotlib indexed w), while plt.scatter(w, w),
    # plt.imshow(w) and np.array(w) gave w's values
    fig, ax = plt.subplots()
    try:
        got = np.asarray(draw(ax, bl.Tensor(VALUES[0], requires_grad=True)))
        np.testing.assert_array_equal(got, np.asarray(draw(ax, VALUES[0])))
    finally:
        plt.close(fig)


def test_matplotlib_refuses_a_graph_tensor_naming_the_op_that_made_it():
    w = bl.Tensor(VALUES[0], requires_grad=True)
    fig, ax = plt.subplots()
    try:
        with pytest.raises(TypeError, match=r"^np\.array\(\): this tensor is the output of 'tanh'"):
            ax.plot(w.tanh())  # was: "... the output of 'getitem'"
        with bl.no_grad():  # no graph is being recorded: its values
            np.testing.assert_array_equal(ax.plot(w.tanh())[0].get_ydata(), np.tanh(VALUES[0]))
    finally:
        plt.close(fig)


# -------------------------------------------------------------------------- astype and **=
def test_astype_of_a_graph_tensor_is_refused_not_cut_from_the_graph():
    # (w * 2).astype(np.float32) was a new leaf: w got no gradient through it, without a word
    w = bl.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"^astype: this tensor is the output of 'mul' in a graph, "
                       r"and its copy would be a new leaf"):  # fmt: skip
        (w * 2).astype(np.float32)
    with bl.no_grad():
        assert (w * 2).astype(np.float32).dtype == np.float32
    assert w.astype(np.float32).is_leaf  # a leaf's copy: a new leaf, as documented


def test_power_in_place_updates_a_parameter_inside_no_grad_as_the_other_updates_do():
    # w **= 2 inside no_grad() made w a new tensor that needs no gradient (the optimizer kept
    # the old one, unchanged); outside it, a new tensor in the graph, where w -= 1 raises
    w = bl.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    before, loss = w, (w * w).sum()
    with bl.no_grad():
        w **= 2
    assert w is before and w.requires_grad
    np.testing.assert_array_equal(w.data, [1.0, 4.0, 9.0])
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()  # the graph used the old values
    with pytest.raises(RuntimeError, match=r"^x \*\*= \.\.\.: .* or write x = x \*\* \.\.\. for "):
        w **= 2


# ------------------------------------------------------------------ item assignment, methods
@pytest.mark.parametrize("requires_grad", [False, True])
def test_item_assignment_says_what_to_write_instead(requires_grad):
    # Python's "'Tensor' object does not support item assignment" said nothing of t.data
    t = bl.Tensor([1.0, 2.0], requires_grad=requires_grad)
    with pytest.raises(TypeError, match=r"^t\[\.\.\.\] = \.\.\.: a tensor is not changed entry by "
                       r"entry .*bl\.where\(mask, value, t\).* t\.data\[\.\.\.\] = \.\.\.$"):  # fmt: skip
        t[0] = 5.0
    np.testing.assert_array_equal(t.data, [1.0, 2.0])


def test_a_misspelt_attribute_is_still_a_plain_attribute_error():
    t = bl.Tensor(1.0)
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute 'gard'$"):
        t.gard  # noqa: B018
    assert getattr(t, "__deepcopy__", None) is None  # what copy.deepcopy asks
