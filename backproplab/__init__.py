"""backproplab: learn backpropagation by building it::

    import backproplab as bl
    x = bl.Tensor(-2.0, requires_grad=True, name="x")
    L = (x + 5) * -4
    L.backward(); x.grad          # array(-4.)

The files, one idea each, with the notebooks that use them most::

    ops.py            the derivative table: each op's forward beside its vjp (03, 04)
    tensor.py         Tensor, and apply: a row run on tensors and recorded in the graph (04)
    autodiff.py       toposort, sum_to_shape and the one backward loop (04)
    gradcheck.py      gradients against finite differences; nudge_check (02, 03, 06)
    functional.py     the ops as functions; softmax and the losses (07, 08)
    nn/               Module, Linear, MLP (09), init (10), ResidualBlock (11), norms (13),
                      Conv2d (14)
    optim.py          SGD, Adam, clip_grad_norm_ (09, 10, 12)
    train.py          train_step, fit and per-layer diagnostics (09-14)
    datasets.py       the 2-D toy problems and the 8x8 digits
    normalization.py  batch_norm and layer_norm, which nn's norm layers call (13)
    convolution.py    conv2d (im2col + one matmul) and pooling (14)
    symbolic.py       the table again in sympy, to check the rules (03, 05)
    plotting/, widgets.py   graphs, loss curves and explorers built on the above
    source.py         prints the package's own lines in the notebooks (03, 04, 07, 10-12)
    exercises/, classroom/  the notebooks' self-checks, and the teacher's tools
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
    abs,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    concatenate,
    cross_entropy,
    exp,
    leaky_relu,
    log,
    log_softmax,
    matmul,
    max,
    maximum,
    mean,
    mse_loss,
    relu,
    sigmoid,
    softmax,
    sqrt,
    stack,
    sum,
    tanh,
    where,
)
from .gradcheck import GradcheckError, check_direction, gradcheck, nudge_check
from .normalization import batch_norm, layer_norm
from .ops import Op, ShapeError
from .tensor import Tensor, apply, as_array, tensor

__version__ = "0.1.0"

# `from backproplab import *` brings these; bl.sum, bl.max and bl.abs stay out of it so that they
# never shadow Python's builtins (use them as bl.sum(...)).
__all__ = [
    "GradcheckError",
    "GradientAccumulationWarning",
    "Op",
    "ShapeError",
    "Tensor",
    "apply",
    "as_array",
    "avg_pool2d",
    "backward",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "check_direction",
    "col2im",
    "concatenate",
    "conv2d",
    "cross_entropy",
    "detect_anomaly",
    "exp",
    "gradcheck",
    "im2col",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "layer_norm",
    "leaky_relu",
    "log",
    "log_softmax",
    "matmul",
    "max_pool2d",
    "maximum",
    "mean",
    "mse_loss",
    "no_grad",
    "nudge_check",
    "relu",
    "sigmoid",
    "softmax",
    "sqrt",
    "stack",
    "sum_to_shape",
    "tanh",
    "tensor",
    "toposort",
    "where",
]

_LAZY = ("nn", "optim", "train", "datasets", "plotting", "widgets", "symbolic", "exercises")


def __getattr__(name: str):  # bl.plotting etc. import on first use: numpy-only `import backproplab`
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'backproplab' has no attribute '{name}'")
