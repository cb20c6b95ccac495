"""Tests for backproplab.optim: updates against numbers worked out by hand (PyTorch's rules)."""

import math

import numpy as np
import pytest

import backproplab as bl
from backproplab import nn, optim


def _param(value):
    return nn.Parameter(np.array(value, dtype=np.float64))


def test_sgd_plain_step():
    p = _param([1.0, -2.0])
    p.grad = np.array([0.5, 0.25])
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [1.0 - 0.05, -2.0 - 0.025])


def test_sgd_momentum_and_weight_decay_two_steps_by_hand():
    p = _param([1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    p.grad = np.array([0.5])
    opt.step()
    # d1 = 0.5 + 0.1 * 1.0 = 0.6 ; v1 = 0.6 (first step: no decay of v) ; p1 = 1.0 - 0.1 * 0.6
    np.testing.assert_allclose(p.data, [0.94])
    p.grad = np.array([-0.2])
    opt.step()
    # d2 = -0.2 + 0.1 * 0.94 = -0.106 ; v2 = 0.9 * 0.6 - 0.106 = 0.434 ; p2 = 0.94 - 0.0434
    np.testing.assert_allclose(p.data, [0.8966])


def test_adam_two_steps_by_hand():
    p = _param([1.0])
    opt = optim.Adam([p], lr=0.1)  # betas (0.9, 0.999), eps 1e-8
    p.grad = np.array([0.5])
    opt.step()
    # m1 = 0.05, v1 = 0.00025 ; m_hat = 0.05 / 0.1 = 0.5, v_hat = 0.00025 / 0.001 = 0.25
    np.testing.assert_allclose(p.data, [1.0 - 0.1 * 0.5 / (0.5 + 1e-8)], rtol=1e-12)
    p.grad = np.array([-0.2])
    opt.step()
    # m2 = 0.045 - 0.02 = 0.025 ; v2 = 0.999 * 0.00025 + 0.001 * 0.04 = 0.00028975
    # bias corrections: 1 - 0.9^2 = 0.19 ; 1 - 0.999^2 = 0.001999
    p1 = 1.0 - 0.1 * 0.5 / (0.5 + 1e-8)
    expected = p1 - 0.1 * (0.025 / 0.19) / (math.sqrt(0.00028975 / 0.001999) + 1e-8)
    np.testing.assert_allclose(p.data, [expected], rtol=1e-12)
    assert p.data[0] == pytest.approx(0.86544, abs=1e-5)


def test_adam_weight_decay_is_added_to_the_gradient():
    p = _param([2.0])
    opt = optim.Adam([p], lr=0.1, weight_decay=0.5)
    p.grad = np.array([0.0])  # g = 0 + 0.5 * 2 = 1 ; first Adam step moves by lr * sign(g)
    opt.step()
    np.testing.assert_allclose(p.data, [2.0 - 0.1 * 1.0 / (1.0 + 1e-8)], rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1),
    ],
)
def test_optimizers_never_write_into_grad(make):
    p = _param([1.0, 2.0])
    shared = np.array([0.3, -0.7])
    other_view = shared[:]  # the gradient may alias other arrays
    p.grad = shared
    opt = make([p])
    opt.step()
    opt.step()
    assert p.grad is shared
    np.testing.assert_array_equal(other_view, [0.3, -0.7])


def test_parameters_without_grad_are_left_alone_and_zero_grad_clears():
    a, b = _param([1.0]), _param([5.0])
    a.grad = np.array([1.0])
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    opt.step()
    assert a.data[0] == 0.5 and b.data[0] == 5.0
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_sgd_and_adam_minimise_a_quadratic():
    for opt_class, lr in ((optim.SGD, 0.1), (optim.Adam, 0.1)):
        p = _param([3.0, -4.0])
        opt = opt_class([p], lr=lr)
        for _ in range(300):
            opt.zero_grad()
            ((p - bl.Tensor([1.0, 2.0])) ** 2).sum().backward()
            opt.step()
        np.testing.assert_allclose(p.data, [1.0, 2.0], atol=1e-3)


def test_float32_parameters_stay_float32():
    p = nn.Parameter(np.ones(3), dtype=np.float32)
    for opt in (optim.SGD([p], lr=0.1, momentum=0.9), optim.Adam([p])):
        p.grad = np.ones(3, dtype=np.float32)
        opt.step()
        opt.step()
        assert p.data.dtype == np.float32


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="SGD: got an empty list of parameters"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"SGD: item 0 \(shape \(\)\) does not require grad"):
        optim.SGD([bl.Tensor(1.0)], lr=0.1)
    with pytest.raises(TypeError, match="SGD: item 0 is a ndarray, not a tensor"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="momentum must be in"):
        optim.SGD([_param(1.0)], momentum=1.5)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([_param(1.0)], betas=(0.9, 1.0))
    p = _param([1.0, 2.0])
    p.grad = np.ones(3)
    with pytest.raises(
        ValueError,
        match=r"Adam: a gradient of shape \(3,\) does not fit a parameter of shape \(2,\)",
    ):
        optim.Adam([p]).step()
