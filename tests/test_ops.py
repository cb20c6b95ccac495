"""Every row of the op table, gradchecked over shapes that include broadcasting.

Values come from hypothesis; each case says which values its op is differentiable at (``domain``):
away from kinks (relu, abs at 0; maximum at ties), inside log/sqrt's domain, away from a zero divisor.
A test also asserts that every row of ``ops.TABLE`` has a case here, so a new op cannot go untested,
that every ``Op`` written in ops.py is in ``ops.TABLE``, and every elementwise row is gradchecked
again over shapes hypothesis draws (0-d to 3-d, broadcasting).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from graphs import arity, leaf, numeric_grad
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import backproplab as bl
from backproplab import ops, symbolic

BROADCAST_PAIRS = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((4, 2, 3), (2, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
]


@dataclass
class Case:
    """An op applied to tensors of ``shapes`` whose values lie in ``domain``."""

    op: str  # the row of ops.TABLE this case exercises
    fn: object  # function of tensors -> tensor
    shapes: tuple
    domain: str = "any"  # any | positive | nonzero
    id: str = field(default="")


def elementwise(name, fn, domain="any"):
    return [Case(name, fn, ((2, 3),), domain, f"{name}")]


def binary(name, fn, domain="any"):
    return [Case(name, fn, pair, domain, f"{name}-{pair[0]}-{pair[1]}") for pair in BROADCAST_PAIRS]


CASES = [
    *binary("add", lambda x, y: x + y),
    *binary("sub", lambda x, y: x - y),
    *binary("mul", lambda x, y: x * y),
    *binary("div", lambda x, y: x / y, "nonzero"),
    *binary("pow", lambda x, y: x**y, "positive"),
    *binary("maximum", bl.maximum, "distinct"),
    *binary("where", lambda x, y: bl.where(np.broadcast_to(x.data > 0, np.broadcast_shapes(x.shape, y.shape)), x, y)),
    *elementwise("neg", lambda x: -x),
    *elementwise("exp", bl.exp),
    *elementwise("log", bl.log, "positive"),
    *elementwise("sqrt", bl.sqrt, "positive"),
    *elementwise("abs", bl.abs, "nonzero"),
    *elementwise("relu", bl.relu, "nonzero"),
    *elementwise("leaky_relu", lambda x: x.leaky_relu(0.1), "nonzero"),
    *elementwise("sigmoid", bl.sigmoid),
    *elementwise("tanh", bl.tanh),
    Case("power", lambda x: x**3, ((2, 3),), "any", "power-3"),
    Case("power", lambda x: x**0.5, ((2, 3),), "positive", "power-0.5"),
    Case("power", lambda x: x**-1.5, ((4,),), "positive", "power--1.5"),
    Case("matmul", lambda x, y: x @ y, ((3, 4), (4, 2)), id="matmul-2d"),
    Case("matmul", lambda x, y: x @ y, ((4,), (4, 2)), id="matmul-vec-mat"),
    Case("matmul", lambda x, y: x @ y, ((3, 4), (4,)), id="matmul-mat-vec"),
    Case("matmul", lambda x, y: x @ y, ((4,), (4,)), id="matmul-dot"),
    Case("matmul", lambda x, y: x @ y, ((2, 3, 4), (4, 5)), id="matmul-batch-2d"),
    Case("matmul", lambda x, y: x @ y, ((2, 3, 4), (2, 4, 5)), id="matmul-batch"),
    Case("matmul", lambda x, y: x @ y, ((2, 1, 3, 4), (5, 4, 2)), id="matmul-batch-broadcast"),
    Case("matmul", lambda x, y: x @ y, ((2, 3, 4), (4,)), id="matmul-batch-vec"),
    *[
        Case(name, lambda x, n=name, a=axis, k=keep: getattr(x, n)(axis=a, keepdims=k),
             ((2, 3, 4),), "distinct" if name == "max" else "any", f"{name}-{axis}-{keep}")
        for name in ("sum", "mean", "max")
        for axis in (None, 0, -1, (0, 2))
        for keep in (False, True)
    ],  # fmt: skip
    Case("reshape", lambda x: x.reshape(3, 2, 2) * np.arange(12.0).reshape(3, 2, 2), ((2, 6),), id="reshape"),
    Case("transpose", lambda x: x.transpose(2, 0, 1) * np.arange(24.0).reshape(4, 2, 3), ((2, 3, 4),), id="transpose"),
    Case("transpose", lambda x: x.T @ np.ones((3, 2)), ((3, 4),), id="transpose-T"),
    Case("getitem", lambda x: x[1:, ::2] * 3, ((3, 4),), id="getitem-slice"),
    Case("getitem", lambda x: x[np.array([0, 2, 0]), np.array([1, 1, 1])], ((3, 4),), id="getitem-repeated-fancy"),
    Case("getitem", lambda x: x[np.array([2, 0, 2])], ((3, 4),), id="getitem-rows"),
    Case("concatenate", lambda x, y: bl.concatenate([x, y], axis=1), ((2, 3), (2, 1)), id="concatenate"),
    Case("stack", lambda x, y: bl.stack([x, y], axis=1), ((2, 3), (2, 3)), id="stack"),
    Case("stack", lambda x, y: bl.stack([x, y], axis=-1), ((2, 3), (2, 3)), id="stack-last"),
    Case("concatenate", lambda x, y: bl.concatenate([x, y], axis=None), ((2, 3), (4,)), id="concatenate-flat"),
    Case("linear", lambda x, w, b: bl.apply(ops.linear, x, w, b), ((4, 3), (3, 3), (3,)), id="linear-square"),
    Case("log_softmax", lambda x: bl.log_softmax(x, axis=-1), ((3, 5),), id="log_softmax-last"),
    Case("log_softmax", lambda x: bl.log_softmax(x, axis=0), ((3, 5),), id="log_softmax-first"),
    Case("cross_entropy", lambda x: bl.cross_entropy(x, np.array([0, 4, 2])), ((3, 5),), id="ce-labels"),
    Case("cross_entropy", lambda x: bl.cross_entropy(x, np.eye(5)[[1, 1, 3]]), ((3, 5),), id="ce-onehot"),
    Case("cross_entropy", lambda x: bl.cross_entropy(x, 3), ((5,),), id="ce-single"),
    Case("linear", lambda x, w, b: bl.apply(ops.linear, x, w, b), ((4, 3), (2, 3), (2,)), id="linear-batch"),
    Case("linear", lambda x, w, b: bl.apply(ops.linear, x, w, b), ((3,), (2, 3), (2,)), id="linear-vector"),
    Case("linear", lambda x, w, b: bl.apply(ops.linear, x, w, b), ((2, 4, 3), (2, 3), (2,)), id="linear-3d"),
    Case("linear", lambda w, b: bl.apply(ops.linear, np.arange(12.0).reshape(4, 3), w, b), ((2, 3), (2,)), id="linear-data-input"),
    Case("binary_cross_entropy", lambda x: bl.binary_cross_entropy(bl.sigmoid(x), np.array([[1, 0, 0.3], [0, 1, 1]])), ((2, 3),), id="bce"),
    Case("bce_with_logits", lambda x: bl.binary_cross_entropy_with_logits(x, np.array([[1, 0, 0.3], [0, 1, 1]])), ((2, 3),), id="bce-logits"),
]  # fmt: skip


def values(shape, domain, rng_seed):
    """Draw float64 values for ``shape`` that keep the op differentiable."""
    rng = np.random.default_rng(rng_seed)
    x = rng.uniform(-2, 2, size=shape)
    if domain == "positive":
        x = np.abs(x) + 0.2
    elif domain in ("nonzero", "distinct"):
        x = np.sign(x + (x == 0)) * (np.abs(x) + 0.05)
    return x


def test_every_row_of_the_table_has_a_case():
    assert set(ops.TABLE) == {c.op for c in CASES}


def test_every_op_written_in_ops_py_is_a_row_of_the_table():
    # the tests (here, in test_symbolic.py and test_right_or_error.py) loop over ops.TABLE: a row
    # written in ops.py but left out of TABLE would be tested by none of them
    written = {value.name: value for value in vars(ops).values() if isinstance(value, ops.Op)}
    assert written == ops.TABLE


# the settings an elementwise row is applied with below (its cases above may use others)
ROW_SETTINGS = {"power": {"p": 3}, "leaky_relu": {"slope": 0.1}}


def _strictest_domain(name):
    order = ["any", "nonzero", "distinct", "positive"]
    return max((c.domain for c in CASES if c.op == name), key=order.index)


@pytest.mark.parametrize("name", symbolic.ELEMENTWISE)
@given(data=st.data())
def test_every_elementwise_row_over_drawn_shapes_and_broadcasting(name, data):
    """The cases above give an elementwise row one shape; here hypothesis draws them, from 0-d
    to 3-d, broadcasting against each other for a row of two inputs (test_symbolic.py keeps
    symbolic.ELEMENTWISE and the shaped rows together equal to the table)."""
    op = ops.TABLE[name]
    n = arity(op)
    if n == 1:
        shapes = [data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), label="shape")]
    else:
        drawn = hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3, max_side=3)
        shapes = list(data.draw(drawn, label="shapes").input_shapes)
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    domain = _strictest_domain(name)
    inputs = [
        bl.Tensor(values(shape, domain, seed + i), requires_grad=True, name=f"x{i}")
        for i, shape in enumerate(shapes)
    ]
    if domain == "distinct":  # maximum: no ties anywhere after broadcasting
        x, y = np.broadcast_arrays(*(t.data for t in inputs))
        assume(x.size == 0 or np.abs(x - y).min() >= 1e-3)
    settings = ROW_SETTINGS.get(name, {})
    out = bl.apply(op, *inputs, **settings)
    assert out.shape == np.broadcast_shapes(*shapes)
    assert bl.gradcheck(lambda *ts: bl.apply(op, *ts, **settings), *inputs).passed


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@given(seed=st.integers(0, 2**32 - 1))
def test_gradient_matches_finite_differences(case, seed):
    inputs = [
        bl.Tensor(values(shape, case.domain, seed + i), requires_grad=True, name=f"x{i}")
        for i, shape in enumerate(case.shapes)
    ]
    if case.domain == "distinct":  # no ties, or the derivative does not exist
        if len(inputs) == 2:  # maximum: the two inputs must differ at every position
            x, y = np.broadcast_arrays(inputs[0].data, inputs[1].data)
            assume(np.abs(x - y).min() >= 1e-3)
        else:  # max over axes: no two entries equal
            assume(np.diff(np.sort(inputs[0].data, axis=None)).min() >= 1e-3)
    report = bl.gradcheck(case.fn, *inputs)
    assert report.passed


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_end_to_end(dtype):
    rng = np.random.default_rng(0)
    x = bl.Tensor(rng.standard_normal((4, 3)).astype(dtype), requires_grad=True)
    w = bl.Tensor(rng.standard_normal((3, 2)).astype(dtype), requires_grad=True)
    loss = bl.cross_entropy(((x @ w) * 2.0 + 1).tanh().sigmoid(), np.array([0, 1, 1, 0]))
    loss = loss + (x**2).mean() / 3 + bl.softmax(x).max()
    loss.backward()
    assert loss.dtype == dtype
    assert x.grad.dtype == dtype and w.grad.dtype == dtype


def test_sigmoid_is_stable_far_out():
    x = bl.Tensor([-1e4, -1e3, -40.0, 0.0, 40.0, 1e3, 1e4], requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        y = bl.sigmoid(x)
        y.sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(y.data[2], np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-12)
    assert y.data[0] == 0.0 and y.data[-1] == 1.0


def test_cross_entropy_with_labels_matches_one_hot_rows():
    z = np.random.default_rng(3).standard_normal((4, 5)) * 3
    labels = np.array([2, 0, 4, 4])
    one_hot = np.eye(5)[labels]
    a, b = bl.Tensor(z, requires_grad=True), bl.Tensor(z, requires_grad=True)
    by_label = bl.cross_entropy(a, labels)  # class indices
    by_rows = bl.cross_entropy(b, one_hot)  # rows of probabilities
    by_label.backward()
    by_rows.backward()
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    want = -np.log(probs[np.arange(4), labels]).mean()
    np.testing.assert_allclose([by_label.item(), by_rows.item()], [want, want], rtol=1e-12)
    np.testing.assert_allclose(a.grad, (probs - one_hot) / 4, rtol=1e-10)  # (a - y) / N
    np.testing.assert_allclose(b.grad, (probs - one_hot) / 4, rtol=1e-10)


def test_cross_entropy_keeps_its_softmax_and_backward_leaves_it_intact():
    z = np.random.default_rng(4).standard_normal((3, 4))
    logits = bl.Tensor(z, requires_grad=True)
    loss = bl.cross_entropy(logits, np.array([1, 0, 3]))
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    softmax, target = loss.saved  # what the vjp receives
    np.testing.assert_allclose(softmax, probs, rtol=1e-12)
    np.testing.assert_array_equal(target, np.eye(4)[[1, 0, 3]])
    loss.backward()
    first = logits.grad.copy()
    loss.backward(accumulate=True)  # the same graph again: the rule must not have changed `saved`
    np.testing.assert_allclose(loss.saved[0], probs, rtol=1e-12)
    np.testing.assert_allclose(logits.grad, 2 * first, rtol=1e-12)
    with bl.no_grad():  # no graph: nothing is kept
        assert bl.cross_entropy(logits, np.array([1, 0, 3])).saved is None


def test_a_row_made_with_saves_gets_its_saved_value_in_the_vjp():
    received = []

    def forward(x):
        e = np.exp(x)
        return e.sum(), e  # (out, saved)

    def vjp(g, saved, x):
        received.append(saved)
        return (g * saved,)

    sum_exp = ops.Op("sum_exp", forward, vjp, saves=True)
    x = bl.Tensor([0.0, 1.0, 2.0], requires_grad=True)
    y = bl.apply(sum_exp, x)
    np.testing.assert_allclose(y.item(), np.exp([0.0, 1.0, 2.0]).sum(), rtol=1e-12)
    y.backward()
    assert len(received) == 1 and received[0] is y.saved
    np.testing.assert_allclose(x.grad, np.exp([0.0, 1.0, 2.0]), rtol=1e-12)
    assert bl.gradcheck(
        lambda t: bl.apply(sum_exp, t), bl.Tensor([0.3, -0.2], requires_grad=True)
    ).passed


def test_fused_cross_entropy_is_stable_for_huge_logits():
    logits = bl.Tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss = bl.cross_entropy(logits, np.array([1, 1]))
        loss.backward()
    # example 0 puts all its mass on class 0 but the label is 1: loss 2e4/2 from it, 0 from the other
    np.testing.assert_allclose(loss.item(), (1e4 - (-1e4)) / 2, rtol=1e-12)
    np.testing.assert_allclose(logits.grad, np.array([[1, -1, 0], [0, 0, 0]]) / 2, atol=1e-12)


def test_log_softmax_is_stable_and_softmax_sums_to_one():
    x = bl.Tensor([[1000.0, 1001.0, 1002.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        p = bl.softmax(x)
        lp = bl.log_softmax(x)
    np.testing.assert_allclose(p.data.sum(), 1.0)
    np.testing.assert_allclose(
        lp.data, np.array([[-2, -1, 0]]) - np.log(1 + np.exp(-1) + np.exp(-2))
    )


def test_binary_cross_entropy_with_logits_matches_the_plain_form_and_is_stable():
    z = bl.Tensor([-3.0, 0.5, 2.0], requires_grad=True)
    y = np.array([0.0, 1.0, 1.0])
    p = 1 / (1 + np.exp(-z.data))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(bl.binary_cross_entropy_with_logits(z, y).item(), expected)
    np.testing.assert_allclose(bl.binary_cross_entropy(bl.sigmoid(z), y).item(), expected)
    big = bl.Tensor([800.0, -800.0], requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss = bl.binary_cross_entropy_with_logits(big, np.array([0.0, 1.0]))
        loss.backward()
    np.testing.assert_allclose(loss.item(), 800.0)
    np.testing.assert_allclose(big.grad, [0.5, -0.5])


def test_composite_losses_pass_gradcheck():
    rng = np.random.default_rng(1)
    pred = bl.Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    target = rng.standard_normal((4, 2))
    bl.gradcheck(lambda p: bl.mse_loss(p, target), pred)
    z = bl.Tensor(rng.standard_normal(5), requires_grad=True)
    labels = (rng.random(5) > 0.5).astype(float)
    bl.gradcheck(lambda z: bl.binary_cross_entropy_with_logits(z, labels), z)
    bl.gradcheck(lambda z: bl.binary_cross_entropy(bl.sigmoid(z), labels), z)
    bl.gradcheck(lambda p: bl.softmax(p, axis=0), pred)


def test_mse_loss_is_the_mean_of_the_squared_errors():
    # worked by hand: errors (1, -2, 0.5, 3), squares (1, 4, 0.25, 9), mean 14.25 / 4
    pred = bl.Tensor([[2.0, 0.0], [1.5, 4.0]], requires_grad=True)
    target = np.array([[1.0, 2.0], [1.0, 1.0]])
    loss = bl.mse_loss(pred, target)
    assert loss.shape == ()
    assert loss.item() == 14.25 / 4
    loss.backward()
    np.testing.assert_array_equal(pred.grad, 2 * np.array([[1.0, -2.0], [0.5, 3.0]]) / 4)


def test_softmax_values_by_hand_along_either_axis():
    # e^0 : e^ln2 : e^ln3 = 1 : 2 : 3, so the row's softmax is (1, 2, 3) / 6
    z = np.log([[1.0, 2.0, 3.0], [4.0, 4.0, 2.0]])
    np.testing.assert_allclose(
        bl.softmax(bl.Tensor(z)).data, [[1, 2, 3], [2, 2, 1]] / np.array([[6.0], [5.0]]), rtol=1e-14
    )
    np.testing.assert_allclose(
        bl.softmax(bl.Tensor(z), axis=0).data,
        [[1 / 5, 2 / 6, 3 / 5], [4 / 5, 4 / 6, 2 / 5]],
        rtol=1e-14,
    )
    np.testing.assert_allclose(
        bl.log_softmax(bl.Tensor(z)).data[0], np.log([1 / 6, 2 / 6, 3 / 6]), rtol=1e-14
    )


# ------------------------------------------- the join and linear rows where their rules can slip
# (each found by mutation testing: a wrong rule that every case above still passed)
@pytest.mark.parametrize("axis", [2, -1])
def test_stack_along_a_new_last_axis_sends_each_input_its_slice(axis):
    # out[i, j, k] is input k's value at (i, j), so dL/d(input k) = G[..., k]
    a, b = leaf(np.zeros((2, 3))), leaf(np.zeros((2, 3)))
    G = np.arange(12.0).reshape(2, 3, 2)
    (bl.stack([a, b], axis=axis) * G).sum().backward()
    np.testing.assert_array_equal(a.grad, G[..., 0])
    np.testing.assert_array_equal(b.grad, G[..., 1])


def test_concatenate_with_axis_none_sends_each_input_its_part_of_the_flat_gradient():
    # axis=None joins the flattened inputs: a's 6 values (row by row), then b's 4
    a, b = leaf(np.zeros((2, 3))), leaf(np.zeros(4))
    G = np.arange(10.0)
    (bl.concatenate([a, b], axis=None) * G).sum().backward()
    np.testing.assert_array_equal(a.grad, G[:6].reshape(2, 3))
    np.testing.assert_array_equal(b.grad, G[6:])


def test_linear_with_a_square_weight_matches_finite_differences():
    # a square W: a rule using W where W^T belongs (or the reverse) has the right shape
    rng = np.random.default_rng(12)
    x0, w0, b0 = rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), rng.standard_normal(3)
    G = rng.standard_normal((4, 3))
    x, w, b = leaf(x0), leaf(w0), leaf(b0)
    (bl.apply(ops.linear, x, w, b) * G).sum().backward()
    loss = lambda x, w, b: np.sum((x @ w.T + b) * G)  # noqa: E731
    np.testing.assert_allclose(x.grad, numeric_grad(lambda v: loss(v, w0, b0), x0), rtol=1e-7)
    np.testing.assert_allclose(w.grad, numeric_grad(lambda v: loss(x0, v, b0), w0), rtol=1e-7)
    np.testing.assert_allclose(b.grad, numeric_grad(lambda v: loss(x0, w0, v), b0), rtol=1e-7)


def _weighted_sum(fn, arrays, weights):
    """The float sum(fn(*arrays) * weights), for central differences."""
    return float(np.sum(fn(*map(bl.Tensor, arrays)).data * weights))


def _apart(arrays):
    """max and maximum: the same signs, magnitudes 0.05 + 0.1 * rank (+ 0.01 for the second
    input), so no two entries are within 0.01 of each other: no tie within eps."""
    return [
        np.asarray(
            np.sign(a)
            * (np.argsort(np.argsort(a, axis=None)).reshape(a.shape) * 0.1 + 0.05 + 0.01 * k)
        )
        for k, a in enumerate(arrays)
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_gradient_matches_central_differences_to_1e_6(case):
    """bl.gradcheck's rtol of 1e-3 passes a rule that is off by 0.1 % (a rule times 1.001 went
    through every case above). Here each case's gradients meet float64 central differences
    (graphs.numeric_grad, eps = 1e-6, error ~1e-9) to a relative 1e-6, with the output weighted
    by fixed random numbers so that no entry's gradient is the trivial 1."""
    for seed in (0, 1):
        arrays = [np.asarray(values(s, case.domain, seed + i)) for i, s in enumerate(case.shapes)]
        arrays = _apart(arrays) if case.domain == "distinct" else arrays
        weights = np.random.default_rng(99).uniform(0.5, 2, case.fn(*map(bl.Tensor, arrays)).shape)
        xs = [leaf(a) for a in arrays]
        case.fn(*xs).backward(weights)
        for k, x in enumerate(xs):
            numeric = numeric_grad(
                lambda v, k=k, a=arrays, w=weights: _weighted_sum(
                    case.fn, a[:k] + [v] + a[k + 1 :], w
                ),
                arrays[k],
            )
            np.testing.assert_allclose(x.grad, numeric, rtol=1e-6, atol=1e-8,
                                       err_msg=f"{case.id}: input {k}, seed {seed}")  # fmt: skip


def test_a_forward_without_a_signature_still_gets_its_explanation():
    # the builtin max has no signature inspect can read and is no ufunc: its TypeError is not
    # taken for refused settings, and the row's explain says what is wrong (coverage sweep)
    largest = bl.Op(
        "largest", max, lambda g, out, x: (g,), explain=lambda x: f"needs 1-d, got {x.shape}"
    )
    with pytest.raises(bl.ShapeError, match=r"^largest: needs 1-d, got \(\)$"):
        bl.apply(largest, bl.Tensor(3.0))
