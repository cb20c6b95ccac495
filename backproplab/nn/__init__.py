"""Layers, PyTorch's names: ``bl.nn.Linear``, ``bl.nn.Conv2d``, ``bl.nn.Module``...

* ``module``: ``Parameter`` and ``Module`` (a function with parameters, found by walking its
  attributes, so a layer is written the way you would write the math);
* ``layers``: ``Linear`` (weight (n_out, n_in), batch-first ``X @ W.T + b``, as PyTorch), the
  activations, ``Sequential``, ``MLP``, ``ResidualBlock`` (``x + self.f(x)``), deep networks,
  ``Dropout``;
* ``convolution``: ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``, ``Flatten``;
* ``normalization``: ``BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm``.
"""

from .convolution import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .layers import (
    ACTIVATIONS,
    INITS,
    MLP,
    Dropout,
    Identity,
    LeakyReLU,
    Linear,
    ReLU,
    ResidualBlock,
    Sequential,
    Sigmoid,
    Tanh,
    deep_network,
    init_weight,
    make_activation,
)
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "MLP",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "Module",
    "Parameter",
    "ReLU",
    "ResidualBlock",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "deep_network",
    "init_weight",
    "make_activation",
]
