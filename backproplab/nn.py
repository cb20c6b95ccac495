"""Layers: Parameter, Module, Linear, activations, Sequential, MLP, ResidualBlock.

A ``Module`` is a function with parameters. It finds its parameters by looking at its own
attributes: a ``Parameter``, another ``Module``, or a list/tuple of them. Nothing is registered by
hand, so a layer is written the way you would write the math::

    class ResidualBlock(Module):
        def forward(self, x):
            return x + self.f(x)          # H(x) = x + F(x)

Weight layout. ``Linear(n_in, n_out)`` stores ``weight`` with shape (n_out, n_in) -- the W of the
derivations, z = W a + b with column vectors a (n_in,) and z (n_out,) -- and ``bias`` with shape
(n_out,). Code works on a batch of row vectors, X of shape (batch, n_in), one example per row, so
the same layer is Z = X @ W.T + b: row i of Z is (W x_i + b) transposed. dL/dW is then
G.T @ X, the sum over the batch of the outer products delta_i a_i^T of the derivations.
This is PyTorch's layout (``torch.nn.Linear``), so weights carry over unchanged. For speed the
layer is one fused op, ``linear``, whose vjp is exactly those formulas (see below).

NB: PyTorch's ``nn.Module`` registers parameters in ``__setattr__``; walking attributes on demand
does the same job in fewer lines for a small package.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import functional as F
from . import ops
from .convolution import avg_pool2d, conv2d, max_pool2d
from .normalization import batch_norm, layer_norm
from .tensor import ArrayLike, Tensor, apply, as_array

__all__ = [
    "MLP",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "Identity",
    "LayerNorm",
    "MaxPool2d",
    "LeakyReLU",
    "Linear",
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

RngLike = np.random.Generator | int | None


class Parameter(Tensor):
    """A Tensor that a Module learns: ``requires_grad=True`` always, found by ``parameters()``.

    It is an ordinary Tensor in every other way (a subclass, so ``isinstance(p, Tensor)`` holds);
    the class only marks "this is trained" for Module's attribute walk and for the optimizers.
    The data is copied, so the optimizer's in-place updates never touch the array you passed.
    """

    __slots__ = ()

    def __init__(self, data: ArrayLike, name: str | None = None, dtype: Any = None) -> None:
        data = np.array(as_array(data), dtype=dtype)  # a copy this Parameter owns
        super().__init__(data, requires_grad=True, name=name)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


class Module:
    """Base class of every layer and model: override ``forward``; call the module to run it.

    Parameters are found by walking attributes (in the order they were set): Parameters,
    Modules and lists/tuples of either. ``named_parameters()`` gives dotted names such as
    ``blocks.0.weight`` (attribute ``blocks``, item 0, its ``weight``).
    """

    training: bool = True
    buffer_names: tuple[str, ...] = ()  # arrays kept but not learned (BatchNorm's running stats)

    def forward(self, *args: Any) -> Any:
        """The computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any) -> Any:
        return self.forward(*args)

    # ---------------------------------------------------------------- finding the parameters
    def named_children(self) -> list[tuple[str, Module]]:
        """The direct sub-modules with their attribute names (list items are ``name.i``)."""
        children = []
        for name, value in vars(self).items():
            if isinstance(value, Module):
                children.append((name, value))
            elif isinstance(value, (list, tuple)):
                children += [
                    (f"{name}.{i}", v) for i, v in enumerate(value) if isinstance(v, Module)
                ]
        return children

    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """This module and every module inside it, depth first, with dotted names ("" is self)."""
        found = [(prefix, self)]
        for name, child in self.named_children():
            found += child.named_modules(f"{prefix}.{name}" if prefix else name)
        return found

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """Every Parameter with its dotted name, e.g. ``("blocks.0.weight", p)``, each once."""
        found: list[tuple[str, Parameter]] = []
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, value in vars(module).items():
                values = value if isinstance(value, (list, tuple)) else [value]
                for i, v in enumerate(values):
                    if isinstance(v, Parameter) and id(v) not in seen:
                        seen.add(id(v))
                        full = name if values is not value else f"{name}.{i}"
                        found.append((f"{prefix}.{full}" if prefix else full, v))
        return found

    def parameters(self) -> list[Parameter]:
        """Every Parameter, each once (the list an optimizer takes)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """The total number of learned numbers."""
        return sum(p.size for p in self.parameters())

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets ``.grad`` to None)."""
        for p in self.parameters():
            p.grad = None

    # ------------------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and every module
        inside it. ``BatchNorm1d``/``BatchNorm2d`` (batch statistics vs running averages) and
        ``Dropout`` (random zeros vs identity) read ``self.training``; the other layers behave
        the same in both modes. ``fit`` trains in training mode and evaluates in evaluation
        mode. Returns self."""
        for _, m in self.named_modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode, ``train(False)``. Returns self."""
        return self.train(False)

    # ------------------------------------------------------------------- saving and restoring
    def named_buffers(self) -> list[tuple[str, np.ndarray]]:
        """Arrays a module keeps but does not learn (the attributes named in ``buffer_names``,
        such as BatchNorm's ``running_mean``), with dotted names. Optimizers never see them;
        ``state_dict`` saves them. (NB: PyTorch calls them buffers, made by ``register_buffer``.)"""
        return [
            (f"{prefix}.{name}" if prefix else name, getattr(module, name))
            for prefix, module in self.named_modules()
            for name in module.buffer_names
        ]

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values and every buffer, keyed by dotted name."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, b.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy values saved by ``state_dict`` back in; names and shapes must match."""
        params = dict(self.named_parameters())
        buffers = dict(self.named_buffers())
        if set(params) | set(buffers) != set(state):
            known = set(params) | set(buffers)
            missing, extra = sorted(known - set(state)), sorted(set(state) - known)
            raise KeyError(f"load_state_dict: missing {missing}, unexpected {extra}")
        for name, current in [*params.items(), *buffers.items()]:
            value = np.asarray(state[name])
            if value.shape != current.shape:
                raise ValueError(
                    f"load_state_dict: '{name}' has shape {current.shape}, the saved value "
                    f"{value.shape}"
                )
            if name in buffers:
                current[...] = value  # in place: the layer keeps its own array
            else:
                current.data = value.astype(current.dtype, copy=True)
                current.mark_modified()  # graphs built with the old value cannot backpropagate

    # ---------------------------------------------------------------------------- display
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's one-line repr."""
        return ""

    def __repr__(self) -> str:
        children = self.named_children()
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ initialisation
INITS = ("he", "kaiming", "xavier", "glorot", "zeros")


def init_weight(
    n_in: int, n_out: int, init: str | float = "he", rng: RngLike = None, dtype: Any = np.float64
) -> np.ndarray:
    """A (n_out, n_in) weight matrix drawn from a zero-mean normal distribution.

    ``init`` chooses the standard deviation:

    * ``"he"`` / ``"kaiming"``: sqrt(2 / n_in). Keeps the variance of ReLU activations constant
      from layer to layer (ReLU zeroes half of its inputs, the 2 makes up for it).
    * ``"xavier"`` / ``"glorot"``: sqrt(2 / (n_in + n_out)). Keeps the variance of activations
      and of gradients roughly constant for tanh/sigmoid-like (linear near 0) layers.
    * a number: that standard deviation, e.g. ``0.01`` (too small for a deep net: try it).
    * ``"zeros"``: all zeros (every unit then computes the same thing: symmetry is never broken).
    """
    if isinstance(init, numbers.Real) and not isinstance(init, bool):  # also numpy floats
        std = float(init)
    elif init in ("he", "kaiming"):
        std = np.sqrt(2.0 / n_in)
    elif init in ("xavier", "glorot"):
        std = np.sqrt(2.0 / (n_in + n_out))
    elif init == "zeros":
        return np.zeros((n_out, n_in), dtype=dtype)
    else:
        raise ValueError(f"init_weight: unknown init {init!r}; use one of {INITS} or a std (float)")
    return (np.random.default_rng(rng or 0).standard_normal((n_out, n_in)) * std).astype(dtype)


# ------------------------------------------------------------------------ the fused linear op
# ------------------------------------------------------------------------------------ layers
class Linear(Module):
    """z = W a + b for every row a of the input: ``forward(X) = X @ W.T + b``.

    ``weight`` has shape (n_out, n_in) and ``bias`` (n_out,), as in the derivations (see the
    module docstring). ``init`` is "he" (default), "xavier", "zeros" or a standard deviation;
    the bias starts at zero. ``rng`` is a numpy Generator or a seed: pass one Generator to all
    layers of a model so that each draws different numbers.

    >>> layer = Linear(3, 2, rng=0)
    >>> layer(Tensor(np.ones((5, 3)))).shape
    (5, 2)
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        bias: bool = True,
        init: str | float = "he",
        rng: RngLike = None,
        dtype: Any = np.float64,
    ) -> None:
        if n_in < 1 or n_out < 1:
            raise ValueError(f"Linear: n_in and n_out must be at least 1, got {n_in} and {n_out}")
        self.n_in, self.n_out = n_in, n_out
        self.weight = Parameter(init_weight(n_in, n_out, init, rng, dtype))
        self.bias = Parameter(np.zeros(n_out, dtype=dtype)) if bias else None

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=self.weight.dtype)  # data given as a numpy array
        try:
            if self.bias is None:
                return x @ self.weight.T  # (batch, n_in) @ (n_in, n_out) -> (batch, n_out)
            return apply(ops.linear, x, self.weight, self.bias)  # X @ W.T + b, one node
        except ops.ShapeError:
            if x.shape[-1:] == (self.n_in,):
                raise  # the shapes fit: the row's own message says what is wrong
            raise ValueError(
                f"Linear({self.n_in} -> {self.n_out}): input has shape {x.shape}, expected "
                f"(batch, {self.n_in})"
            ) from None

    def extra_repr(self) -> str:
        bias = f", bias {self.bias.shape}" if self.bias is not None else ", no bias"
        return f"{self.n_in} -> {self.n_out}: weight {self.weight.shape}{bias}"


class ReLU(Module):
    """max(z, 0) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """z where z > 0, else ``slope * z``: a small gradient survives for negative inputs."""

    def __init__(self, slope: float = 0.01) -> None:
        self.slope = slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, slope=self.slope)

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


class Sigmoid(Module):
    """1 / (1 + e^-z) elementwise; its derivative is at most 1/4."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(z) elementwise; its derivative is at most 1."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Identity(Module):
    """Returns its input unchanged (no activation)."""

    def forward(self, x: Tensor) -> Tensor:
        return x


ACTIVATIONS: dict[str, Callable[[], Module]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "identity": Identity,
}


def make_activation(activation: str | Module | Callable[[], Module]) -> Module:
    """An activation module from a name ("relu", "leaky_relu", "sigmoid", "tanh", "identity"),
    a Module class (or any function returning a Module), or a Module instance (used as is)."""
    if isinstance(activation, Module):
        return activation
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"make_activation: unknown activation {activation!r}; use one of "
                f"{tuple(ACTIVATIONS)} or a Module"
            )
        return ACTIVATIONS[activation]()
    module = activation()
    if not isinstance(module, Module):
        raise TypeError(f"make_activation: {activation!r} did not build a Module")
    return module


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(f, g, h)(x) == h(g(f(x)))``."""

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: item {i} is a {type(layer).__name__}, not a Module")
        self.layers = list(layers)

    def named_children(self) -> list[tuple[str, Module]]:
        """The layers, named by position: "0", "1", ... (as in PyTorch)."""
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int | slice) -> Module:
        if isinstance(i, slice):  # model[:-1] is a Sequential of those layers (the same objects)
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)


class MLP(Sequential):
    """A multilayer perceptron: Linear, activation, Linear, activation, ..., Linear.

    ``sizes`` lists the widths from input to output, e.g. ``MLP([64, 128, 64, 10])`` has two
    hidden layers. The last layer has no activation: it returns logits for ``cross_entropy``.

    >>> MLP([64, 128, 64, 10], activation="relu", init="he", rng=0).num_parameters()
    17226
    """

    def __init__(
        self,
        sizes: list[int],
        activation: str | Module | Callable[[], Module] = "relu",
        init: str | float = "he",
        rng: RngLike = None,
        dtype: Any = np.float64,
    ) -> None:
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output width, got {sizes}")
        rng = np.random.default_rng(rng or 0)  # one Generator for every layer
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, init=init, rng=rng, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(_fresh(activation))
        super().__init__(*layers)
        self.sizes = list(sizes)


def _fresh(activation: str | Module | Callable[[], Module]) -> Module:
    """A new activation module per layer (an instance passed in is copied by its class)."""
    if isinstance(activation, Module):
        clone = object.__new__(type(activation))
        clone.__dict__.update(vars(activation))
        return clone
    return make_activation(activation)


class ResidualBlock(Module):
    """H(x) = x + F(x), with F(x) = activation(W x + b) of shape (width,) -> (width,).

    Backward, the chain rule gives dH/dx = I + dF/dx: the gradient reaches x through the
    identity even when dF/dx has vanished. Compare a plain layer, H(x) = F(x), in
    ``deep_network(..., residual=False)``: the two differ only by the ``x +``.

    Forward, every block adds F(x) to x, so the size of x grows with depth. With ReLU and He
    init it grows by about 1.6x per block (30 blocks: ~1e6, and the logits overflow). Real
    ResNets keep it in check with normalisation layers or by starting F near zero; here, use a
    small init for deep residual stacks (e.g. ``init=0.05``: 30 blocks then grow x only ~15x).
    """

    def __init__(
        self,
        width: int,
        activation: str | Module | Callable[[], Module] = "relu",
        init: str | float = "he",
        rng: RngLike = None,
        dtype: Any = np.float64,
    ) -> None:
        self.f = Sequential(
            Linear(width, width, init=init, rng=rng, dtype=dtype), _fresh(activation)
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.f(x)


def deep_network(
    depth: int,
    width: int,
    residual: bool = False,
    activation: str | Module | Callable[[], Module] = "relu",
    init: str | float = "he",
    n_in: int = 64,
    n_out: int = 10,
    rng: RngLike = None,
    dtype: Any = np.float64,
) -> Sequential:
    """A deep network: Linear(n_in, width), then ``depth`` hidden layers of width ``width``,
    then Linear(width, n_out) returning logits.

    Each hidden layer is ``activation(W x + b)`` (plain) or ``x + activation(W x + b)``
    (``residual=True``, a ResidualBlock): the same parameters, the same initialisation, and
    one ``x +`` of difference. ``depth`` counts the hidden layers, so the network has
    ``depth + 2`` Linear layers. The defaults fit the 8x8 digits (64 inputs, 10 classes).
    """
    if depth < 0 or width < 1:
        raise ValueError(f"deep_network: need depth >= 0 and width >= 1, got {depth} and {width}")
    rng = np.random.default_rng(rng or 0)  # one Generator for every layer
    layers: list[Module] = [
        Linear(n_in, width, init=init, rng=rng, dtype=dtype),
        _fresh(activation),
    ]
    for _ in range(depth):
        if residual:
            layers.append(ResidualBlock(width, activation, init=init, rng=rng, dtype=dtype))
        else:
            layers.append(
                Sequential(
                    Linear(width, width, init=init, rng=rng, dtype=dtype), _fresh(activation)
                )
            )
    layers.append(Linear(width, n_out, init=init, rng=rng, dtype=dtype))
    return Sequential(*layers)


# ------------------------------------------------------- convolution, normalization, dropout
class Conv2d(Module):
    """A 2-d convolution layer: ``conv2d(x, weight, bias, stride, padding)`` on images x of shape
    (N, in_channels, H, W), as ``torch.nn.Conv2d``.

    ``weight`` has shape (out_channels, in_channels, kh, kw): each output channel is a Linear
    unit looking at one kh x kw window of all input channels, so its fan-in is
    in_channels * kh * kw, and He init draws it with std sqrt(2 / fan-in) (``init`` as in
    ``Linear``). The bias (one per output channel) starts at zero.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        init: str | float = "he",
        rng: RngLike = None,
        dtype: Any = np.float64,
    ) -> None:
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = (kh, kw), stride, padding
        fan_in = in_channels * kh * kw
        w = init_weight(fan_in, out_channels, init, rng, dtype)  # (out, in * kh * kw)
        self.weight = Parameter(w.reshape(out_channels, in_channels, kh, kw))
        self.bias = Parameter(np.zeros(out_channels, dtype=dtype)) if bias else None

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=self.weight.dtype)  # data given as a numpy array
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        bias = "" if self.bias is not None else ", bias=False"
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}{bias}"
        )


class MaxPool2d(Module):
    """``max_pool2d(x, kernel_size, stride)``: the maximum of every window, channel by channel."""

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ) -> None:
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}"


class AvgPool2d(MaxPool2d):
    """``avg_pool2d(x, kernel_size, stride)``: the mean of every window, channel by channel."""

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride)


class Flatten(Module):
    """Flattens every axis from ``start_dim`` on: (N, C, H, W) -> (N, C * H * W) by default."""

    def __init__(self, start_dim: int = 1) -> None:
        self.start_dim = start_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(*x.shape[: self.start_dim], -1)


class _BatchNorm(Module):
    """Batch normalization with a learned scale ``weight`` (gamma, starts at 1) and shift
    ``bias`` (beta, starts at 0), one per channel, and running averages of the mean and
    variance (``running_mean`` starts at 0, ``running_var`` at 1): plain arrays, not Parameters,
    so optimizers leave them alone; they are buffers (``named_buffers``) and ``state_dict``
    saves them. In training mode (``train()``) the layer normalizes with the batch's statistics
    and updates the running averages; in evaluation mode (``eval()``) it uses the averages."""

    buffer_names = ("running_mean", "running_var")
    dims: tuple[int, ...] = ()  # the numbers of axes the layer accepts

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        dtype: Any = np.float64,
    ) -> None:
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features, dtype=dtype))
        self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=self.weight.dtype)
        if x.ndim not in self.dims:
            shapes = " or ".join(["(N, C)", "(N, C, L)", "(N, C, H, W)"][d - 2] for d in self.dims)
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected an input of shape "
                f"{shapes}, got {x.shape}"
            )
        return batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            self.training, self.momentum, self.eps,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch norm over features: input (N, C) (or (N, C, L)), each of the C features
    normalized over the batch. See ``batch_norm``."""

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over image channels: input (N, C, H, W), each channel normalized over the
    batch and all pixels (N * H * W values). See ``batch_norm``."""

    dims = (4,)


class LayerNorm(Module):
    """Layer normalization over the last axes, ``normalized_shape`` (an int for the last axis
    alone), with a learned ``weight`` (starts at 1) and ``bias`` (starts at 0) of that shape.
    The same in training and evaluation. See ``layer_norm``."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape, self.eps = tuple(shape), eps
        self.weight = Parameter(np.ones(shape, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape, dtype=dtype)) if elementwise_affine else None

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


class Dropout(Module):
    """Inverted dropout: in training mode, zero each value with probability ``p`` and scale the
    kept ones by 1 / (1 - p), so that the expected output equals the input; in evaluation mode,
    return the input unchanged (nothing to rescale at test time).

    The zeros are drawn from ``rng`` (a numpy Generator or a seed, as elsewhere in the package):
    the same seed gives the same masks. Backward, the gradient flows through the kept values,
    scaled by the same 1 / (1 - p) (the mask is a constant of the ``mul`` node).
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = p
        self.rng = np.random.default_rng(rng or 0)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p == 1:  # every value dropped (and nothing to scale)
            return x * np.zeros(x.shape, dtype=x.dtype)
        keep = self.rng.random(x.shape) >= self.p
        return x * (keep / (1 - self.p)).astype(x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"
