"""backproplab: learn backpropagation by building it.

import backproplab as bl
x = bl.Tensor(-2.0, requires_grad=True, name="x")
L = (x + 5) * -4
L.backward(); x.grad
"""

from . import autodiff, functional, ops
from .autodiff import (
    GradientAccumulationWarning,
    backward,
    detect_anomaly,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    sum_to_shape,
    toposort,
)
from .convolution import avg_pool2d, col2im, conv2d, im2col, max_pool2d
from .functional import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    concatenate,
    cross_entropy,
    log_softmax,
    mse_loss,
    softmax,
    stack,
    where,
)
from .gradcheck import GradcheckError, check_direction, gradcheck, nudge_check
from .normalization import batch_norm, layer_norm
from .ops import (
    Op,
    ShapeError,
    abs,
    exp,
    leaky_relu,
    log,
    matmul,
    max,
    maximum,
    mean,
    relu,
    sigmoid,
    sqrt,
    sum,
    tanh,
)
from .tape import Replay, ReplayError, replay
from .tensor import Tensor, as_array, tensor

__version__ = "0.1.0"

_LAZY = ("nn", "optim", "train", "datasets", "plotting", "widgets", "symbolic", "exercises")


def __getattr__(name: str):  # bl.plotting etc. import on first use: numpy-only `import backproplab`
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'backproplab' has no attribute '{name}'")
