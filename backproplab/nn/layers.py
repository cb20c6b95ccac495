"""Dense layers: Linear, activations, Sequential, MLP, ResidualBlock, deep networks, Dropout.

Weight layout. ``Linear(n_in, n_out)`` stores ``weight`` with shape (n_out, n_in) -- the W of the
derivations, z = W a + b with column vectors a (n_in,) and z (n_out,) -- and ``bias`` with shape
(n_out,). Code works on a batch of row vectors, X of shape (batch, n_in), one example per row, so
the same layer is Z = X @ W.T + b: row i of Z is (W a_i + b) transposed, a_i being row i of X.
With G = dL/dZ (batch, n_out), whose row i is delta_i transposed, dL/dW is then G.T @ X, the sum
over the batch of the outer products delta_i a_i^T of the derivations.
This is PyTorch's layout (``torch.nn.Linear``), so weights carry over unchanged. For speed the
layer is one fused op, ``linear``, whose vjp is exactly those formulas (without a bias it is
two ordinary nodes, a transpose and a matmul).
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import functional as F
from .. import ops
from .._numbers import count, is_real, seeded
from ..tensor import Tensor, apply
from .module import Module, Parameter, _warn_if_untrained

RngLike = np.random.Generator | int | None


# ------------------------------------------------------------------------------ initialisation
INITS = ("he", "kaiming", "xavier", "glorot", "zeros")

# Layers built without ``rng`` draw from this one Generator in turn, so that each starts from
# numbers of its own (as in PyTorch, whose layers share one global generator), and a fresh
# Python session repeats itself. Pass ``rng`` (a seed or a Generator) to repeat one model.
_SHARED = np.random.default_rng(0)


def _generator(rng: RngLike, caller: str) -> np.random.Generator:
    """``rng`` as a Generator: a Generator as it is, a seed made into one, None the shared one;
    else a one-line error naming ``caller``."""
    return _SHARED if rng is None else seeded(rng, caller)


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
    if np.dtype(dtype).kind != "f":  # integers would round every weight, most of them to 0
        raise TypeError(
            f"init_weight: dtype {np.dtype(dtype)} is not a floating-point dtype; gradients "
            f"need float32 or float64"
        )
    n_in, n_out = count("init_weight", "n_in", n_in, 1), count("init_weight", "n_out", n_out, 1)
    if isinstance(init, np.ndarray) and init.ndim == 0 and init.dtype.kind in "iuf":
        init = init.item()  # a number held in a 0-d array (np.asarray(0.1), np.std(...)[()])
    if isinstance(init, numbers.Real) and not isinstance(init, bool):  # also numpy floats
        std = float(init)
        if not 0 <= std < np.inf:  # a normal with std -1 is one with std 1; NaN, all NaN
            raise ValueError(f"init_weight: a std must be a finite number >= 0, got {init!r}")
    elif init in ("he", "kaiming"):
        std = np.sqrt(2.0 / n_in)
    elif init in ("xavier", "glorot"):
        std = np.sqrt(2.0 / (n_in + n_out))
    elif init == "zeros":
        return np.zeros((n_out, n_in), dtype=dtype)
    else:
        raise ValueError(f"init_weight: unknown init {init!r}; use one of {INITS} or a std (float)")
    return (_generator(rng, "init_weight").standard_normal((n_out, n_in)) * std).astype(dtype)


# ------------------------------------------------------------------------------------ layers
class Linear(Module):
    """z = W a + b for every row a of the input: ``forward(X) = X @ W.T + b``.

    ``weight`` has shape (n_out, n_in) and ``bias`` (n_out,), as in the derivations (see the
    module docstring). ``init`` is "he" (default), "xavier", "zeros" or a standard deviation;
    the bias starts at zero. ``rng`` is a numpy Generator or a seed (the same seed, the same
    weights); without it each layer draws its own weights from one generator the package keeps.

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
        if not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in (n_in, n_out)
        ):  # e.g. 64 / 2
            raise TypeError(f"Linear: n_in and n_out must be whole numbers, got {n_in!r} and "
                            f"{n_out!r} (use // to divide widths)")  # fmt: skip
        if n_in < 1 or n_out < 1:
            raise ValueError(f"Linear: n_in and n_out must be at least 1, got {n_in} and {n_out}")
        _bias_flag("Linear", bias)
        self.n_in, self.n_out = n_in, n_out
        rng = _generator(rng, "Linear")
        self.weight = Parameter(init_weight(n_in, n_out, init, rng, dtype))
        self.bias = Parameter(np.zeros(n_out), dtype=dtype) if bias else None

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        """X (batch, n_in) -> Z = X @ W.T + b (batch, n_out); more leading axes are batch axes."""
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


def _bias_flag(layer: str, bias: object) -> None:
    """A one-line error for a ``bias`` that is not True or False: ``Linear(3, 2, "xavier")`` read
    the init as ``bias=True`` and drew He weights, without a word."""
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(
            f"{layer}: bias must be True or False, got {bias!r}; init, rng and dtype are "
            f"keywords: {layer}(..., init='xavier')"
        )


class ReLU(Module):
    """max(z, 0) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """z where z > 0, else ``slope * z``: a small gradient survives for negative inputs."""

    def __init__(self, slope: float = 0.01) -> None:
        ops.check_slope("LeakyReLU", slope)  # else refused only at the first forward
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
    if _takes_an_input(activation):  # bl.relu, a function of a tensor, not a maker of Modules
        name = getattr(activation, "__name__", repr(activation))
        raise TypeError(
            f"make_activation: {name} is a function of a tensor; pass a name such as "
            f"{name!r} if it is one of {tuple(ACTIVATIONS)}, or a Module class such as nn.ReLU"
        )
    if not callable(activation):  # None, a number...
        raise TypeError(
            f"make_activation: expected a name such as 'relu', a Module class or a Module, got "
            f"{activation!r}"
        )
    module = activation()
    if not isinstance(module, Module):
        raise TypeError(f"make_activation: {activation!r} did not build a Module")
    return module


def _takes_an_input(f: Callable) -> bool:
    """Whether f needs an argument (a function like bl.relu), unlike a class or a factory."""
    if isinstance(f, type):
        return False
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):  # no signature to read: let the call decide
        return False
    return any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in params)  # fmt: skip


def _not_a_layer(layer: object) -> str:
    """What ``layer`` is instead of a Module, and, for the two usual slips, what to write."""
    if isinstance(layer, type) and issubclass(layer, Module):  # nn.ReLU for nn.ReLU()
        return f"the class {layer.__name__}, not a Module; make one: {layer.__name__}()"
    if isinstance(layer, (list, tuple)):  # Sequential([a, b]) as Python lists them
        return (
            f"a {type(layer).__name__}, not a Module; pass the layers one by one: "
            f"Sequential(*layers)"
        )
    return f"a {type(layer).__name__}, not a Module"


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(f, g, h)(x) == h(g(f(x)))``."""

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: item {i} is {_not_a_layer(layer)}")
        self.layers = list(layers)

    def named_children(self) -> list[tuple[str, Module]]:
        """The layers, named by position: "0", "1", ... (as in PyTorch)."""
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    def forward(self, x: Tensor) -> Tensor:
        """Each layer's output is the next layer's input; the last one's is returned."""
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int | slice) -> Module:
        if isinstance(i, slice):  # model[:-1] is a Sequential of those layers (the same objects)
            return Sequential(*self.layers[i])
        self._check_position(i)
        return self.layers[i]

    def _check_position(self, i: object) -> None:
        """One line naming the Sequential for a position that is not one of its layers."""
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
            raise TypeError(f"Sequential: layers are numbered 0, 1, ...; got [{i!r}]")
        if not -len(self.layers) <= i < len(self.layers):
            raise IndexError(f"Sequential: there is no layer {i} in one of {len(self)} layers")

    def __setitem__(self, i: int, layer: Module) -> None:
        """``model[-1] = nn.Linear(64, 2)``: a new layer in the place of layer i (as in PyTorch);
        a warning if an optimizer made before holds the old one's parameters."""
        if not isinstance(i, (int, np.integer)):  # a slice, a name...
            raise TypeError(f"Sequential: set one layer by position, model[i] = layer, not [{i!r}]")
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential: item {i} is {_not_a_layer(layer)}")
        self._check_position(i)
        old = self.layers[i]
        _warn_if_untrained(self, str(i % len(self.layers)), old, layer)
        self.layers[i] = layer

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
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):  # MLP(64), MLP(64, 10)
            raise TypeError(
                f"MLP: sizes must be a list of widths, e.g. [64, 32, 10], got {sizes!r}"
            )
        sizes = [int(n) if isinstance(n, np.integer) else n for n in sizes]  # a range, an array
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output width, got {sizes}")
        rng = _generator(rng, "MLP")  # one Generator for every layer: a seed each would repeat
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, init=init, rng=rng, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(_fresh(activation))
        super().__init__(*layers)
        self.sizes = list(sizes)


def _fresh(activation: str | Module | Callable[[], Module]) -> Module:
    """A new activation module per layer. An instance passed in is copied (a new object of its
    class with the same attributes, e.g. LeakyReLU's slope), so no two layers share one. An
    instance with parameters is refused: the copies would share them (one learned slope for
    every layer, without a word); its class makes a new one per layer."""
    if isinstance(activation, Module):
        if activation.parameters():
            raise TypeError(
                f"{type(activation).__name__} has parameters, which every layer would share; "
                f"pass its class (activation={type(activation).__name__}) or a function that "
                f"makes one, so each layer gets its own"
            )
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
    init it grows by about 1.6x per block (30 blocks of width 32 on the digits: 2 to 11 million
    times for rng 0, 1, 2, logits of order 1e7 to 1e8, and the first SGD steps overflow). Real
    ResNets keep it in check with normalisation layers or by starting F near zero; here, use a
    small init for deep residual stacks (e.g. ``init=0.05``: 30 blocks of width 32 then grow x
    about 20x; wider blocks grow faster).
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
        """x (batch, width) -> x + F(x) (batch, width)."""
        fx = self.f(x)  # F(x), the branch beside the skip
        _same_shape(fx, x)  # a branch that changed the width would be broadcast across x
        return x + fx  # H(x) = x + F(x)


def _same_shape(fx: Tensor, x: Tensor | np.ndarray) -> None:
    """A residual block adds F(x) to x: a branch whose layers change the shape is refused (numpy
    would add an F(x) of width 1 to every column of x without a word)."""
    if fx.shape != np.shape(x):
        raise ValueError(
            f"ResidualBlock: F(x) has shape {fx.shape} but x has shape {np.shape(x)}; "
            f"x + F(x) needs F to keep the shape"
        )


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
    (``residual=True``, a ResidualBlock): the same parameters, the same initialisation (for the
    same ``rng``), and one ``x +`` of difference. ``depth`` counts the hidden layers, so the
    network has ``depth + 2`` Linear layers. The defaults fit the 8x8 digits (64 inputs, 10
    classes).
    """
    if not isinstance(residual, (bool, np.bool_)):  # deep_network(20, 64, "tanh"): residual
        raise TypeError(  # read as True, the activation left at relu, without a word
            f"deep_network: residual must be True or False, got {residual!r}; activation, init "
            f"and the rest are keywords: deep_network(depth, width, activation='tanh')"
        )
    depth = count("deep_network", "depth", depth, 0)
    width = count("deep_network", "width", width, 1)
    rng = _generator(rng, "deep_network")  # one Generator for all: a seed each would repeat
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


class Dropout(Module):
    """Inverted dropout: in training mode, zero each value with probability ``p`` and scale the
    kept ones by 1 / (1 - p), so that the expected output equals the input; in evaluation mode,
    return the input unchanged (nothing to rescale at test time).

    The zeros are drawn from ``rng`` (a numpy Generator or a seed, as elsewhere in the package):
    the same seed gives the same masks; without it each Dropout has a generator of its own.
    Backward, the gradient flows through the kept values, scaled by the same 1 / (1 - p) (the
    mask is a constant of the ``mul`` node).
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None) -> None:
        if not is_real(p) or isinstance(p, bool):
            raise TypeError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = p
        # masks of its own
        self.rng = _SHARED.spawn(1)[0] if rng is None else _generator(rng, "Dropout")

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        """x with a fresh random mask in training mode, x itself in evaluation; same shape."""
        if not isinstance(x, Tensor):
            x = Tensor(x)  # data given as an array: floats (integers would round the scaling)
        if not self.training or self.p == 0:
            return x
        if self.p == 1:  # every value dropped (and nothing to scale)
            return x * np.zeros(x.shape, dtype=x.dtype)
        keep = self.rng.random(x.shape) >= self.p
        return x * (keep / (1 - self.p)).astype(x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"
