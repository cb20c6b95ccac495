"""Code a learner who knows numpy and a little PyTorch writes without thinking, and what it gets.

Each test is one habit that used to give a silent wrong result (the model not learning, a loss
of the wrong thing) or a Python-internal error, and now gives the right result or a one-line
message naming the mistake.
"""

import numpy as np
import pytest

import backproplab as bl
from backproplab import nn

X, Y = bl.datasets.moons(32, rng=0)


# ------------------------------------------------------------------------------ custom modules
class _PlainTensorScale(nn.Module):
    """A layer followed by a learned scale made the numpy way, not as a Parameter."""

    def __init__(self):
        self.layer = nn.Linear(2, 2, rng=0)
        self.scale = bl.Tensor(np.ones(2), requires_grad=True)

    def forward(self, x):
        return self.layer(x) * self.scale


def test_a_plain_tensor_that_requires_grad_as_an_attribute_is_refused_not_left_untrained():
    model = _PlainTensorScale()  # the scale was silently left out of parameters(): never trained
    with pytest.raises(TypeError, match=r"_PlainTensorScale: attribute 'scale' is a Tensor .*"
                       r"not a Parameter.*bl\.nn\.Parameter"):  # fmt: skip
        bl.optim.SGD(model.parameters(), lr=0.1)


def test_a_nested_plain_tensor_is_named_by_its_dotted_path():
    outer = nn.Sequential(nn.Linear(2, 2, rng=0))
    outer.layers[0].gain = bl.Tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"attribute '0\.gain' is a Tensor"):
        outer.parameters()


def test_constant_tensors_stored_outputs_and_a_layer_used_twice_are_still_fine():
    class Model(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2, rng=0)
            self.twice = [self.layer, self.layer]  # the same layer applied twice
            self.mask = bl.Tensor([1.0, 0.0])  # a constant: requires_grad=False
            self.frozen = nn.Parameter(np.ones(2), requires_grad=False)  # PyTorch's spelling

        def forward(self, x):
            self.last = self.twice[1](self.twice[0](x)) * self.mask  # kept to look at later
            return self.last

    model = Model()
    model(X)  # `last` is a tensor in the graph, not a leaf: not a parameter, not refused
    names = [name for name, _ in model.named_parameters()]
    assert names == ["frozen", "layer.weight", "layer.bias"]
    assert not model.frozen.requires_grad
    assert sorted(model.state_dict()) == sorted(names)


def test_a_set_of_layers_is_refused_instead_of_holding_parameters_nobody_finds():
    class Model(nn.Module):
        def __init__(self):
            self.heads = {nn.Linear(2, 1, rng=0), nn.Linear(2, 1, rng=1)}

        def forward(self, x):
            return sum(h(x) for h in self.heads)

    with pytest.raises(TypeError, match=r"Model: attribute 'heads' is a set.*use a list"):
        Model().parameters()


@pytest.mark.parametrize("in_no_grad", [False, True])
def test_replacing_a_weight_by_an_update_that_is_not_in_place_is_refused(in_no_grad):
    layer = nn.Linear(2, 2, rng=0)
    bl.cross_entropy(layer(X), Y).backward()
    with pytest.raises(TypeError, match=r"Linear: cannot replace the Parameter 'weight'.*in place"):
        if in_no_grad:  # the weight became a plain tensor: dropped from parameters() silently
            with bl.no_grad():
                layer.weight = layer.weight - 0.1 * layer.weight.grad
        else:
            layer.weight = layer.weight - 0.1 * layer.weight.grad
    assert isinstance(layer.weight, nn.Parameter)
    layer.weight = nn.Parameter(np.zeros((2, 2)))  # a new Parameter is fine, as None is
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_forward_with_keyword_arguments_is_called_like_pytorchs():
    class Scaled(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2, rng=0)

        def forward(self, x, scale=1.0):
            return self.layer(x) * scale

    model = Scaled()
    np.testing.assert_allclose(model(X, scale=2.0).data, 2 * model(X).data)
