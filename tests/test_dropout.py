"""Dropout (inverted: kept values scaled by 1 / (1 - p), identity in evaluation) and
Module.train() / eval() reaching every submodule."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bl
from backproplab import nn


def test_dropout_zeros_a_fraction_p_and_scales_the_rest_by_one_over_one_minus_p():
    x = bl.Tensor(np.full((200, 100), 3.0))
    out = nn.Dropout(0.25, rng=0)(x).data
    kept = out != 0
    assert set(np.unique(out)) == {0.0, 4.0}  # 3 / (1 - 0.25)
    # 20000 independent draws: the dropped fraction is 0.25 within 5 standard deviations
    assert abs((~kept).mean() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / 20000)
    assert abs(out.mean() - 3.0) < 5 * 3 * np.sqrt(0.25 / 0.75 / 20000)  # the mean is kept


def test_dropout_gradient_flows_through_the_kept_values_only():
    x = bl.Tensor(np.random.default_rng(1).standard_normal((6, 7)), requires_grad=True)
    out = nn.Dropout(0.5, rng=2)(x)
    out.sum().backward()
    kept = out.data != 0
    np.testing.assert_array_equal(x.grad, np.where(kept, 2.0, 0.0))
    bl.gradcheck(lambda x: nn.Dropout(0.5, rng=3)(x), x)  # a fresh layer: the same mask each time


def test_dropout_is_deterministic_for_a_seed_and_draws_new_masks_each_call():
    x = np.ones((10, 10))
    a, b = nn.Dropout(0.5, rng=7), nn.Dropout(0.5, rng=7)
    first, again = a(x).data, b(x).data
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(a(x).data, first)  # the next call draws a new mask
    assert not np.array_equal(nn.Dropout(0.5, rng=8)(x).data, first)


def test_dropout_in_evaluation_and_at_the_ends_of_p():
    x = bl.Tensor(np.arange(6.0).reshape(2, 3))
    layer = nn.Dropout(0.9, rng=0).eval()
    assert layer(x) is x  # identity: nothing drawn, nothing scaled
    assert nn.Dropout(0.0)(x) is x
    assert not nn.Dropout(1.0)(x).data.any()
    assert nn.Dropout(1.0)(x.astype(np.float32)).dtype == np.float32
    assert nn.Dropout(0.5)(x.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError) as err:
        nn.Dropout(1.5)
    assert str(err.value) == "Dropout: p must be a probability in [0, 1], got 1.5"
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2)"


class Net(nn.Module):
    def __init__(self):
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), nn.BatchNorm2d(2), nn.ReLU())
        self.blocks = [nn.Dropout(0.5), nn.ResidualBlock(8, rng=0)]
        self.head = (nn.Flatten(), nn.Sequential(nn.Linear(8, 2, rng=0), nn.Dropout(0.1)))

    def forward(self, x):
        return self.head[1](self.blocks[1](self.blocks[0](self.head[0](self.features(x)))))


def test_train_and_eval_switch_every_submodule():
    net = Net()
    modules = [m for _, m in net.named_modules()]
    assert len(modules) == 14  # Net; Sequential + 3; Dropout; ResidualBlock + 3; Flatten; 1 + 2
    assert all(m.training for m in modules)
    assert net.eval() is net
    assert not any(m.training for m in modules)
    assert net.train() is net
    assert all(m.training for m in modules)
    net.train(False)
    assert not any(m.training for m in modules)
    x = np.random.default_rng(0).standard_normal((3, 1, 4, 4))
    np.testing.assert_array_equal(net(x).data, net(x).data)  # eval: deterministic
    net.train()
    assert not np.array_equal(net(x).data, net(x).data)  # training: new dropout masks
