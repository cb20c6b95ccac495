"""The Tensor API: construction, dtypes, operators with numbers and arrays, display."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bl


def test_construction_converts_to_floating_point():
    assert bl.Tensor(3).dtype == np.float64
    assert bl.Tensor([1, 2]).dtype == np.float64
    assert bl.Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert bl.tensor(2.0, dtype=np.float32).dtype == np.float32
    assert bl.Tensor(True).data == 1.0
    x = bl.Tensor(2.0, requires_grad=True, name="x")
    assert (x.shape, x.ndim, x.size, x.name, x.requires_grad, x.is_leaf) == (
        (),
        0,
        1,
        "x",
        True,
        True,
    )


def test_numbers_adopt_the_tensor_dtype():
    x = bl.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for y in (
        x + 1,
        1 + x,
        x * 2.5,
        2.5 / x,
        x - 1,
        1 - x,
        x**2,
        2**x,
        -x,
        x @ np.ones(3, dtype=np.float32),
    ):
        assert y.dtype == np.float32


@pytest.mark.parametrize("n", [np.int64(3), np.int32(3), np.arange(4)[3]])
def test_a_numpy_integer_exponent_keeps_float32_as_a_numpy_integer_factor_does(n):
    # found comparing with JAX: x ** np.int64(3) was float64 (numpy's rule for a numpy scalar),
    # while x * np.int64(3) stays float32; PyTorch never widens a float tensor for an integer
    x = bl.Tensor(np.array([1.5, -2.0], dtype=np.float32), requires_grad=True)
    assert (x * n).dtype == np.float32
    y = x**n
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, np.array([3.375, -8.0], dtype=np.float32))
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, np.array([6.75, 12.0], dtype=np.float32))  # 3 x^2


def test_arrays_on_either_side_call_the_tensor_ops():
    x = bl.Tensor([1.0, 2.0], requires_grad=True)
    a = np.array([10.0, 20.0])
    left, right = a + x, x + a
    assert isinstance(left, bl.Tensor) and isinstance(right, bl.Tensor)
    (a * x + a @ x - a / x).sum().backward()
    # a @ x is a scalar broadcast over both entries, so the sum counts it twice
    np.testing.assert_allclose(x.grad, a + 2 * a + a / x.data**2)


def test_reflected_operators_and_power():
    x = bl.Tensor(3.0, requires_grad=True)
    y = 2 - x + 12 / x + 2**x + x**2
    y.backward()
    assert y.item() == pytest.approx(2 - 3 + 4 + 8 + 9)
    assert x.grad == pytest.approx(-1 - 12 / 9 + 8 * np.log(2) + 6)


def test_comparisons_give_plain_arrays():
    x = bl.Tensor([1.0, 2.0, 3.0])
    assert isinstance(x > 1.5, np.ndarray)
    np.testing.assert_array_equal(x > 1.5, [False, True, True])
    np.testing.assert_array_equal(x == bl.Tensor([1.0, 0.0, 3.0]), [True, False, True])
    assert len({x, x}) == 1  # hashed by identity


def test_methods_and_shapes():
    x = bl.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.T.shape == (3, 2)
    assert x.reshape(3, 2).shape == x.reshape((3, 2)).shape == (3, 2)
    assert x.transpose(1, 0).shape == (3, 2)
    assert x.sum(axis=[0, 1]).item() == 15.0
    assert x.max(axis=1, keepdims=True).shape == (2, 1)
    assert [row.shape for row in x] == [(3,), (3,)]
    assert len(x) == 2
    assert float(x[1, 2]) == 5.0
    assert x[bl.Tensor(1.0).data.astype(int)].shape == (3,)


def test_numpy_item_detach():
    x = bl.Tensor([[2.0]], requires_grad=True, name="x")
    assert x.item() == 2.0 and isinstance(x.item(), float)
    assert x.numpy() is x.data
    d = (x * 3).detach()
    assert d.is_leaf and not d.requires_grad and d.item() == 6.0
    np.testing.assert_array_equal(np.asarray(x), [[2.0]])


def test_astype_copies_into_a_floating_dtype_and_refuses_an_integer_one():
    x = bl.Tensor([1.5, 2.5], requires_grad=True, name="x")
    y = x.astype(np.float32)
    assert (y.dtype, y.requires_grad, y.name, y.is_leaf) == (np.float32, True, "x", True)
    w = bl.Tensor([1.0, 2.0])
    assert not np.shares_memory(w.astype(np.float64).data, w.data)  # a copy, even in w's dtype
    with pytest.raises(TypeError, match="dtype int32 is not a floating-point dtype"):
        x.astype(np.int32)  # it gave float64 without a word


def test_repr_is_readable():
    x = bl.Tensor(-2.0, requires_grad=True, name="x")
    assert repr(x) == "Tensor(-2., name='x', requires_grad=True)"  # a float, as numpy prints it
    assert repr(x * 3) == "Tensor(-6., op='mul')"
    assert [repr(bl.Tensor(v)) for v in (0.0, -0.0, 1 / 3, 1e20, -np.inf, np.nan)] == [
        "Tensor(0.)",
        "Tensor(-0.)",
        "Tensor(0.333333)",
        "Tensor(1e+20)",
        "Tensor(-inf)",
        "Tensor(nan)",
    ]
    assert repr(bl.Tensor([1.5, 2.0], dtype=np.float32)) == "Tensor([1.5, 2. ], dtype=float32)"


@pytest.mark.parametrize(
    "call",
    [
        lambda x: np.exp(x),
        lambda x: np.maximum(x, 0.0),
        lambda x: np.add(x, 1.0),  # the function, not the operator x + 1
        lambda x: np.add.reduce(x),
        lambda x: np.ones(2) // x,  # an operator the package has no op for
    ],
)
def test_numpy_ufuncs_refuse_a_tensor_that_requires_grad_and_say_what_to_use(call):
    x = bl.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"^np\.\w+ on a tensor that requires grad .*x\.data$"):
        call(x)


def test_numpy_ufuncs_run_on_the_values_of_a_tensor_that_needs_no_gradient():
    c = bl.Tensor([0.0, 1.0])
    np.testing.assert_array_equal(np.exp(c), np.exp([0.0, 1.0]))
    assert type(np.exp(c)) is np.ndarray
    x = bl.Tensor([0.0, 1.0], requires_grad=True)
    with bl.no_grad():  # no graph is being recorded: nothing to lose
        np.testing.assert_array_equal(np.maximum(x, 0.5), [0.5, 1.0])


def test_numpy_true_or_false_tests_answer_for_a_tensor_that_requires_grad():
    loss = (bl.Tensor([1.0, np.inf], requires_grad=True) * 2).sum()  # such tests have no gradient
    assert not np.isfinite(loss) and np.isinf(loss) and not np.isnan(loss)
    np.testing.assert_array_equal(np.signbit(bl.Tensor([-1.0, 2.0], requires_grad=True)), [1, 0])


def test_a_numpy_ufunc_never_writes_into_a_tensor():
    c = bl.Tensor([0.0, 1.0])
    with pytest.raises(TypeError, match="out="):
        np.exp(np.zeros(2), out=c)
    np.testing.assert_array_equal(c.data, [0.0, 1.0])


OPERATORS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
    "@": lambda a, b: a @ b,
}
LEFT = {"array": np.array([1.5, 0.5]), "f64": np.float64(1.5), "f32": np.float32(1.5)}


@pytest.mark.parametrize(
    "symbol, left",
    [(s, v) for s in OPERATORS for v in LEFT if not (s == "@" and v != "array")],  # @ needs arrays
)
def test_a_numpy_value_on_the_left_uses_the_tensors_operator_and_keeps_the_graph(symbol, left):
    op, x = OPERATORS[symbol], bl.Tensor([0.5, 2.0], requires_grad=True)
    out = op(LEFT[left], x)  # numpy answers first: np.multiply(array, x) and so on
    assert isinstance(out, bl.Tensor) and out.op is not None
    twin = op(bl.Tensor(LEFT[left]), x)  # the same expression, the number made a tensor first
    np.testing.assert_array_equal(out.data, twin.data)
    out.sum().backward()
    first, x.grad = x.grad, None
    twin.sum().backward()
    np.testing.assert_array_equal(first, x.grad)


def test_comparisons_with_a_numpy_array_on_the_left_give_plain_arrays():
    a, x = np.array([1.0, 2.0, 3.0]), bl.Tensor([2.0, 2.0, 2.0], requires_grad=True)
    for got, want in [(a < x, [1, 0, 0]), (a <= x, [1, 1, 0]), (a > x, [0, 0, 1]),
                      (a >= x, [0, 1, 1]), (a == x, [0, 1, 0]), (a != x, [1, 0, 1])]:  # fmt: skip
        assert type(got) is np.ndarray
        np.testing.assert_array_equal(got, np.array(want, dtype=bool))


def test_len_of_a_0d_tensor_is_refused_and_len_of_others_is_the_first_axis():
    # (found by the coverage sweep: no test took len() of a 0-d tensor)
    with pytest.raises(TypeError, match=r"^len\(\) of a 0-d tensor$"):
        len(bl.Tensor(3.0))
    assert len(bl.Tensor(np.zeros((4, 2)))) == 4


@pytest.mark.parametrize("axes", [(2, 0, 1), [2, 0, 1]])
def test_transpose_takes_its_axes_as_one_tuple_or_list_too(axes):
    # x.transpose((2, 0, 1)) as numpy's x.transpose((2, 0, 1)): no test passed them as one tuple
    x = np.arange(24.0).reshape(2, 3, 4)
    t = bl.Tensor(x, requires_grad=True)
    out = t.transpose(axes)
    assert out.shape == (4, 2, 3)
    assert np.array_equal(out.data, np.transpose(x, (2, 0, 1)))
    weights = np.arange(24.0).reshape(4, 2, 3)
    (out * weights).sum().backward()
    assert np.array_equal(t.grad, np.transpose(weights, (1, 2, 0)))  # the inverse permutation
