"""The sympy table against the numpy table, tracing graphs into formulas, and the verdicts."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import backproplab as bl
from backproplab import ops, symbolic

# Where each elementwise row is differentiable, and its settings: points come from hypothesis.
DOMAIN = {
    "log": "positive",
    "sqrt": "positive",
    "pow": "positive",  # d/dy x**y needs log(x)
    "power": "positive",
    "div": "nonzero",
    "abs": "nonzero",
    "relu": "nonzero",
    "leaky_relu": "nonzero",
    "maximum": "apart",
}
SETTINGS = {"power": {"p": 3}, "leaky_relu": {"slope": 0.1}}

values = st.floats(-3, 3, allow_nan=False)


def _point(domain: str, draw: list[float]) -> list[float]:
    if domain == "positive":
        return [abs(v) + 0.1 for v in draw]
    if domain == "nonzero":
        return [v if abs(v) > 0.1 else 0.5 for v in draw]
    if domain == "apart" and abs(draw[0] - draw[1]) < 0.1:
        return [draw[0], draw[0] + 0.5]
    return draw


@functools.cache
def _formula(name: str) -> tuple:
    """The sympy forward of a row and its partial derivatives (computed once per row)."""
    symbols = sp.symbols(f"a0:{_arity(name)}", real=True)
    args = [np.array(s, dtype=object) for s in symbols]
    expr = symbolic.SYMPY_OPS[name](*args, **SETTINGS.get(name, {}))[()]
    return symbols, expr, [sp.diff(expr, s) for s in symbols]


@pytest.mark.parametrize("name", symbolic.ELEMENTWISE)
@given(raw=st.lists(values, min_size=2, max_size=2), g=values)
def test_every_elementwise_vjp_equals_sympy_diff(name, raw, g):
    op = ops.TABLE[name]
    settings = SETTINGS.get(name, {})
    symbols, expr, partials = _formula(name)
    point = _point(DOMAIN.get(name, "any"), raw)[: len(symbols)]
    arrays = [np.array(v) for v in point]
    out = op.forward(*arrays, **settings)
    # the forwards agree ...
    at = dict(zip(symbols, point))
    assert float(expr.evalf(subs=at)) == pytest.approx(float(out), rel=1e-9, abs=1e-12)
    # ... and each vjp is the upstream gradient times sympy's partial derivative
    grads = op.vjp(np.array(g), np.asarray(out), *arrays, **settings)
    for s, d, got in zip(symbols, partials, grads):
        want = g * float(d.evalf(subs=at))
        assert float(got) == pytest.approx(want, rel=1e-9, abs=1e-12), (name, s, point)


def _arity(name: str) -> int:
    binary = {"add", "sub", "mul", "div", "pow", "maximum"}
    return 2 if name in binary else 1


def test_the_sympy_table_covers_the_op_table():
    assert set(ops.TABLE) <= set(symbolic.SYMPY_OPS)
    assert set(symbolic.ELEMENTWISE) <= set(ops.TABLE)


def _seed_graph():
    x = bl.Tensor(-2.0, requires_grad=True, name="x")
    y = bl.Tensor(5.0, requires_grad=True, name="y")
    z = bl.Tensor(-4.0, requires_grad=True, name="z")
    return x, y, z, (x + y) * z


def test_to_sympy_names_the_leaves():
    x, y, z, L = _seed_graph()
    assert str(symbolic.to_sympy(L)) == "z*(x + y)"
    w = bl.Tensor(3.0, requires_grad=True, name="w")
    assert str(symbolic.to_sympy((w + 5) * -4)) == "-4*w - 20"  # numbers stay exact integers
    assert str(symbolic.to_sympy(w.tanh() ** 2)) == "tanh(w)**2"


def test_to_sympy_of_a_matrix_graph_has_entries():
    X = bl.Tensor(np.ones((2, 3)), name="X", requires_grad=True)
    W = bl.Tensor(np.ones((3, 2)), name="W", requires_grad=True)
    Y = symbolic.to_sympy(X @ W)
    assert Y.shape == (2, 2)
    assert str(Y[1, 0]) == "W_11*X_21 + W_21*X_22 + W_31*X_23"
    W11, X21 = symbolic.symbols("W_11 X_21")
    assert Y[1, 0].coeff(W11) == X21  # the same symbols a learner makes with symbols()


def test_gradients_by_sympy_for_the_seed_example():
    x, y, z, L = _seed_graph()
    X, Y, Z = symbolic.symbols("x y z")
    assert symbolic.gradients(L) == {"x": Z, "y": Z, "z": X + Y}


def test_check_backward_agrees_and_prints_a_verdict():
    x, y, z, L = _seed_graph()
    L.backward()
    result = symbolic.check_backward(L)
    assert result.ok
    text = str(result)
    assert text.startswith("The derivation matches the code: all 3 gradient(s) agree.")
    assert "dL/dz = x + y\n    sympy 3, backward 3: agrees" in text


def test_check_backward_catches_a_wrong_hand_derivation():
    x, y, z, L = _seed_graph()
    L.backward()
    X, Y, Z = sp.symbols("x y z")
    result = symbolic.check_backward(L, {"x": Z, "y": Z, "z": X})  # forgot y in dL/dz
    assert not result.ok
    assert "DISAGREE on: z" in str(result)


@pytest.mark.parametrize("passes", [2, 3])
def test_check_backward_names_gradients_of_several_passes_added_up(passes):
    # a right graph whose backward() ran again without zero_grad: the rows only said DIFFERS
    x, y, z, L = _seed_graph()
    with pytest.warns(bl.GradientAccumulationWarning):
        for _ in range(passes):
            L.backward()
    text = str(symbolic.check_backward(L))
    assert text.startswith("The derivation and the code DISAGREE on: x, y, z.\n")
    assert f"Every .grad is exactly {passes} times the derivation's, as after {passes}" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_check_backward_names_a_derivation_off_by_k_beside_k_passes():
    # one backward(), a hand derivation of x**2 without its factor 2: two passes are not the
    # only way to a .grad twice the derivation's, and the sentence named nothing else
    x = bl.Tensor(3.0, requires_grad=True, name="x")
    L = x * x
    L.backward()
    text = str(symbolic.check_backward(L, {"x": sp.Symbol("x")}))
    assert "Every .grad is exactly 2 times the derivation's" in text
    assert "or as from a rule (or a derivation) off by that factor" in " ".join(text.split())


def test_check_backward_says_nothing_of_passes_when_one_leaf_is_off():
    x, y, z, L = _seed_graph()
    L.backward()
    X, Y, Z = sp.symbols("x y z")
    once = symbolic.check_backward(L, {"x": Z / 2, "y": Z / 2, "z": X + Y})  # x, y twice as big
    assert "DISAGREE on: x, y" in str(once) and "times the derivation's" not in str(once)
    right = symbolic.check_backward(L)
    assert right.ok and "times the derivation's" not in str(right)


def test_check_backward_catches_a_wrong_vjp_in_a_custom_op():
    bad_cube = bl.Op("bad_cube", lambda x: x**3, lambda g, out, x: (g * 3 * x,))  # x, not x**2
    symbolic.register("bad_cube", lambda x: x**3)
    try:
        x = bl.Tensor(2.0, requires_grad=True, name="x")
        L = bl.apply(bad_cube, x)
        L.backward()
        result = symbolic.check_backward(L)
        assert not result.ok
        assert result.rows[0][2] == pytest.approx(12.0)  # sympy: 3 x^2 at x = 2
        assert result.rows[0][3] == pytest.approx(6.0)  # the broken rule: 3 x
    finally:
        del symbolic.SYMPY_OPS["bad_cube"]


@pytest.mark.parametrize(("r", "agrees"), [(1e-5, False), (-1e-5, False), (1e-9, True)])
def test_check_backward_rtol_is_one_in_ten_million_for_float64(r, agrees):
    # a cube whose rule is off by the relative error r: 3 x**2 (1 + r). gradcheck's rtol of
    # 1e-3 lets r = 1e-5 through; sympy's exact derivative, compared with rtol 1e-7, does not
    # (and a rule off by 1e-9 is within it). The gradients 3 x**2 are > 1: atol 1e-10 is moot.
    nearly = bl.Op("nearly_cube", lambda x: x**3, lambda g, out, x: (g * 3 * x**2 * (1 + r),))
    symbolic.register("nearly_cube", lambda x: x**3)
    try:
        x = bl.Tensor(np.array([0.75, -1.5, 2.0]), requires_grad=True, name="x")
        L = bl.apply(nearly, x).sum()
        L.backward()
        result = symbolic.check_backward(L)
        np.testing.assert_allclose(result.rows[0][2].astype(float), 3 * x.data**2, rtol=1e-14)
        assert result.ok is agrees
    finally:
        del symbolic.SYMPY_OPS["nearly_cube"]


def test_check_backward_on_a_small_network_with_broadcasting_and_cross_entropy():
    rng = np.random.default_rng(0)
    X = bl.Tensor(rng.normal(size=(2, 2)), name="X")  # data: a constant, no gradient
    W = bl.Tensor(rng.normal(size=(2, 3)), requires_grad=True, name="W")
    b = bl.Tensor(rng.normal(size=3), requires_grad=True, name="b")
    L = bl.cross_entropy((X @ W + b).relu() * 2.0 - (X @ W).sigmoid(), np.array([0, 2]))
    L.backward()
    result = symbolic.check_backward(L)
    assert result.ok, str(result)
    assert [row[0] for row in result.rows] == ["W", "b"]
    assert result.rows[0][2].shape == (2, 3)


@pytest.mark.parametrize(
    "build",
    [
        lambda a: (a.mean(axis=0) * a.sum(axis=1, keepdims=True)).sum(),
        lambda a: a.max(axis=1).sum() + a.T.reshape(6)[1:4].exp().sum(),
        lambda a: bl.log_softmax(a, axis=0).sum() + bl.where(a.data > 0, a, a * a).mean(),
        lambda a: (a / (a * a + 1)).abs().sum() + bl.concatenate([a, a], axis=0).sqrt().mean(),
    ],
)
def test_check_backward_on_reductions_and_shape_ops(build):
    a = bl.Tensor(np.array([[0.3, 1.2, 0.7], [2.0, 0.1, 1.5]]), requires_grad=True, name="a")
    L = build(a)
    L.backward()
    assert symbolic.check_backward(L).ok


def test_register_a_custom_elementwise_op():
    cube = bl.Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x**2,))
    symbolic.register("cube", lambda x: x**3)
    try:
        x = bl.Tensor(np.array([1.0, -2.0]), requires_grad=True, name="x")
        L = bl.apply(cube, x).sum()
        assert str(symbolic.to_sympy(L)) == "x_1**3 + x_2**3"
        L.backward()
        assert symbolic.check_backward(L).ok
    finally:
        del symbolic.SYMPY_OPS["cube"]


def test_errors_say_what_to_do():
    x, y, z, L = _seed_graph()
    with pytest.raises(ValueError, match="call backward"):
        symbolic.check_backward(L)
    with pytest.raises(KeyError, match="no leaf called"):
        symbolic.check_backward(L, {"q": sp.Symbol("z")})
    L.backward()
    with pytest.raises(ValueError, match=r"uses \['q'\], which are no leaves"):
        symbolic.check_backward(L, {"x": sp.Symbol("q")})  # q = x + y is not a leaf
    unknown = bl.Op("mystery", lambda x: x, lambda g, out, x: (g,))
    with pytest.raises(KeyError, match="symbolic.register"):
        symbolic.to_sympy(bl.apply(unknown, x))
    with pytest.raises(ValueError, match="scalar"):
        symbolic.gradients(bl.Tensor(np.ones(2), requires_grad=True, name="v") * 2)


def test_symbol_matrix_names_entries_from_one():
    X = symbolic.symbol_matrix("x", 2, 3)
    assert X.shape == (2, 3)
    assert [str(s) for s in X] == ["x_11", "x_12", "x_13", "x_21", "x_22", "x_23"]
    assert str(symbolic.symbol_matrix("w", 10, 1)[9, 0]) == "w_10,1"


def test_matmul_derivation_reads_off_xt_g():
    d = symbolic.matmul_derivation(2, 3, 2)
    x11, x21, g11, g21 = sp.symbols("x_11 x_21 g_11 g_21", real=True)
    assert d.dW.shape == (3, 2) and d.dX.shape == (2, 3)
    assert sp.expand(d.dW[0, 0] - (x11 * g11 + x21 * g21)) == 0  # written out by hand
    assert d.dW_is_XT_G and d.dX_is_G_WT
    wrong = symbolic.MatmulDerivation(d.X, d.W, d.G, d.Y, d.L, d.dX, 2 * d.X.T * d.G)
    assert not wrong.dW_is_XT_G


def test_two_leaves_with_one_name_are_refused():
    a = bl.Tensor(1.0, requires_grad=True, name="x")
    b = bl.Tensor(2.0, requires_grad=True, name="x")
    with pytest.raises(ValueError, match="both called 'x'"):
        symbolic.to_sympy(a * b)


def test_expression_size_counts_operations():
    x, y = symbolic.symbols("x y")
    assert symbolic.expression_size(x * y + x) == 2  # one mul, one add
    assert symbolic.expression_size(sp.Matrix([x + y, x * y])) == 2
    w = bl.Tensor(0.5, requires_grad=True, name="w")
    h = w
    sizes = []
    for _ in range(3):  # each layer wraps the formula once more: tanh(w * h)
        h = (h * w).tanh()
        sizes.append(symbolic.expression_size(symbolic.gradients(h)["w"]))
    assert sizes[0] < sizes[1] < sizes[2]


A23 = np.array([[0.3, -1.2, 0.7], [2.0, 0.1, -1.5]])
B32 = np.array([[1.0, -0.5], [0.25, 2.0], [-1.0, 0.5]])
LABELS = np.array([1, 2])
ONE_HOT = np.eye(3)[LABELS]
# every row that is not elementwise, with inputs and settings (the elementwise ones are above)
SHAPED_ROWS = {
    "matmul": ((A23, B32), {}),
    "sum": ((A23,), {"axis": 1, "keepdims": True}),
    "mean": ((A23,), {"axis": 0}),
    "max": ((A23,), {"axis": -1}),
    "reshape": ((A23,), {"shape": (3, 2)}),
    "transpose": ((A23,), {"axes": (1, 0)}),
    "getitem": ((A23,), {"index": (slice(None), [2, 0])}),
    "concatenate": ((A23, A23 * 2), {"axis": 1}),
    "stack": ((A23, A23 * 2), {"axis": 0}),
    "where": ((A23, -A23), {"cond": A23 > 0}),
    "log_softmax": ((A23,), {"axis": -1}),
    "cross_entropy": ((A23,), {"labels": LABELS}),
    "binary_cross_entropy": (
        (np.array([[0.2, 0.7, 0.5], [0.9, 0.1, 0.4]]),),
        {"target": np.array([[1, 0, 0.3], [0, 1, 1.0]])},
    ),
    "bce_with_logits": ((A23,), {"target": np.array([[1, 0, 0.3], [0, 1, 1.0]])}),
    "linear": ((A23, B32.T, np.array([0.5, -1.0])), {}),
}


def test_every_row_has_a_sympy_forward_checked_here():
    assert set(SHAPED_ROWS) | set(symbolic.ELEMENTWISE) == set(ops.TABLE)


@pytest.mark.parametrize("name", sorted(SHAPED_ROWS))
def test_sympy_forward_of_shaped_rows_matches_numpy(name):
    arrays, settings = SHAPED_ROWS[name]
    numbers = [np.frompyfunc(sp.Float, 1, 1)(a) for a in arrays]  # the same values, as sympy
    got = symbolic.SYMPY_OPS[name](*numbers, **settings)
    op = ops.TABLE[name]
    want = op.forward(*arrays, **settings)
    if op.saves:  # (out, what the vjp needs): compare the output
        want = want[0]
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(np.array(got, dtype=float), want, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(SHAPED_ROWS))
def test_every_shaped_rows_vjp_equals_sympy_diff(name):
    """The elementwise rows' vjps are checked against sympy.diff above; this checks the others
    (matmul, the reductions, the losses...): each input's gradient is sum_k g_k d out_k / d x,
    with sympy's derivatives of the row's sympy forward, for an upstream g that is not all ones."""
    arrays, settings = SHAPED_ROWS[name]
    leaves = [
        np.array(sp.symbols(f"a{i}_0:{a.size}", real=True), dtype=object).reshape(a.shape)
        for i, a in enumerate(arrays)
    ]
    expr = np.asarray(symbolic.SYMPY_OPS[name](*leaves, **settings), dtype=object)
    op = ops.TABLE[name]
    out, saved = op.run(list(arrays), settings)
    g = np.random.default_rng(7).uniform(0.5, 2.0, size=np.shape(out))
    grads = op.vjp(g, saved, *arrays, **settings)
    at = {s: float(v) for leaf, a in zip(leaves, arrays) for s, v in zip(leaf.flat, a.flat)}
    upstream = sum(gk * ek for gk, ek in zip(g.flat, expr.flat))  # g . out, as one formula
    for leaf, array, got in zip(leaves, arrays, grads, strict=True):
        got = got() if callable(got) else got  # (linear hands dL/dx over as a function)
        assert np.shape(got) == array.shape, name
        want = np.array([float(sp.diff(upstream, s).evalf(subs=at)) for s in leaf.flat])
        np.testing.assert_allclose(got.ravel(), want, rtol=1e-9, atol=1e-12, err_msg=name)


def test_sympy_cross_entropy_takes_class_indices_and_probability_rows_alike():
    numbers = np.frompyfunc(sp.Float, 1, 1)(A23)
    by_index = symbolic.SYMPY_OPS["cross_entropy"](numbers, labels=LABELS)
    by_rows = symbolic.SYMPY_OPS["cross_entropy"](numbers, labels=ONE_HOT)
    want = ops.cross_entropy.forward(A23, labels=LABELS)[0]
    np.testing.assert_allclose([float(by_index[()]), float(by_rows[()])], [want, want], rtol=1e-12)


def test_check_backward_through_nn_linear_and_stack():
    layer = bl.nn.Linear(3, 2, rng=0)
    layer.weight.name, layer.bias.name = "W", "b"
    X = bl.Tensor(A23, requires_grad=True, name="X")
    L = bl.stack([layer(X).tanh(), -layer(X)], axis=0).sum()
    L.backward()
    result = symbolic.check_backward(L)
    assert result.ok and [row[0] for row in result.rows] == [
        "W",
        "b",
        "X",
    ]  # the order the tensors were made


def test_derivative_table_reads_like_the_math():
    x, y = symbolic.symbols("x y")
    table = symbolic.derivative_table()
    assert set(table) == set(symbolic.ELEMENTWISE)
    assert table["mul"] == (x * y, [y, x])  # mul swaps its inputs
    assert table["add"][1] == [1, 1]  # add passes the gradient on
    assert table["tanh"] == (sp.tanh(x), [1 - sp.tanh(x) ** 2])
    assert table["power"][1] == [3 * x**2]
    s = 1 / (1 + sp.exp(-x))
    assert sp.simplify(table["sigmoid"][1][0] - s * (1 - s)) == 0  # sigmoid' = s (1 - s)


def test_a_comparison_is_true_when_it_agrees_and_a_vector_leaf_is_told_its_layout():
    # (coverage sweep: bool() of a Comparison and the message for a 1-d leaf never ran)
    x = bl.Tensor(np.array([1.0, -2.0]), requires_grad=True, name="x")
    L = (x * x).sum()
    L.backward()
    x1, x2 = symbolic.symbols("x_1 x_2")
    assert symbolic.check_backward(L, {"x": sp.Matrix([2 * x1, 2 * x2])})
    assert not symbolic.check_backward(L, {"x": sp.Matrix([2 * x2, 2 * x1])})
    with pytest.raises(
        ValueError, match=r"give a sympy Matrix with 2 entries \(a column or a row\)"
    ):
        symbolic.check_backward(L, {"x": x1})


def test_check_backward_uses_the_atol_it_is_given():
    # an explicit atol is not scaled or floored (coverage sweep: no test passed one)
    x = bl.Tensor(np.array([1.0, -2.0]), requires_grad=True, name="x")
    L = (x * x).sum()
    L.backward()
    x1, x2 = symbolic.symbols("x_1 x_2")
    off = {"x": sp.Matrix([2 * x1 + 1e-6, 2 * x2])}
    assert symbolic.check_backward(L, off, atol=1e-3).ok
    assert not symbolic.check_backward(L, off, atol=1e-8).ok
    assert not symbolic.check_backward(L, off).ok
