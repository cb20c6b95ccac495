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


def test_repr_is_readable():
    x = bl.Tensor(-2.0, requires_grad=True, name="x")
    assert repr(x) == "Tensor(-2, name='x', requires_grad=True)"
    assert repr(x * 3) == "Tensor(-6, op='mul')"
    assert repr(bl.Tensor([1.5, 2.0], dtype=np.float32)) == "Tensor([1.5, 2. ], dtype=float32)"


def test_numpy_functions_refuse_tensors_instead_of_silently_dropping_the_graph():
    x = bl.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError):
        np.exp(x)
