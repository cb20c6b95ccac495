"""mygrad: my own automatic-differentiation engine, built notebook by notebook.

A Tensor holds a numpy array (``data``), its gradient (``grad``), and, when an op made it, the
tensors it was made from (``inputs``) and the op's vector-Jacobian product (``vjp``): given the
upstream gradient g, the gradient for each input, the local derivative times g. ``backward``
walks the graph from the output back to the leaves, undoes broadcasting, and adds each
gradient into its input's ``.grad``: that is the whole engine. The names are PyTorch's.

Each piece I write goes where the file says ``# YOUR CODE HERE``; the ``NotImplementedError``
under it says which notebook explains the piece. (The teacher's copy has the solutions there,
between nbgrader's solution markers.) The notebooks reload this file and check it.
"""

from __future__ import annotations

import itertools
import operator

import numpy as np

rng = np.random.default_rng(0)  # the layers' initial weights (reloading the file resets it)
_seq = itertools.count()  # numbers every tensor as it is made: inputs before outputs


class Tensor:
    """An array that remembers how it was made, so that gradients can flow back through it."""

    def __init__(self, data, requires_grad=False):
        ### BEGIN SOLUTION see notebook 03, "Your engine", part 1
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = None
        self.requires_grad = requires_grad
        ### END SOLUTION
        self.inputs = ()  # the tensors this one was computed from (none for a leaf)
        self.vjp = None  # g -> one gradient per input (None for a leaf)
        self.seq = next(_seq)  # larger than the number of every tensor made before

    @property
    def shape(self):
        return self.data.shape

    @property
    def T(self):
        """The transpose of a 2-d tensor."""
        return node(self.data.T, (self,), lambda g: (g.T,))

    def __repr__(self):
        return f"Tensor({self.data}, requires_grad={self.requires_grad})"

    # ---------------------------------------------------------------- notebook 03: + and *
    def __add__(self, other):
        other = as_tensor(other)
        ### BEGIN SOLUTION see notebook 03, "Your engine", part 2
        return node(self.data + other.data, (self, other), lambda g: (g, g))
        ### END SOLUTION

    def __mul__(self, other):
        other = as_tensor(other)
        ### BEGIN SOLUTION see notebook 03, "Your engine", part 2
        x, y = self.data, other.data
        return node(x * y, (self, other), lambda g: (g * y, g * x))
        ### END SOLUTION

    # -------------------------------------------------------- notebook 04: backward; - / **
    def backward(self, grad=None):
        """Fill ``.grad`` of every tensor this one depends on, starting from ``grad`` (by default
        ones of this tensor's shape)."""
        ### BEGIN SOLUTION see notebook 04, "Your engine", part 1
        order = toposort(self)
        for t in order:
            if t.vjp is not None:
                t.grad = None  # gradients of intermediate nodes start fresh on every pass
        seed = np.ones_like(self.data) if grad is None else np.asarray(grad, np.float64)
        self.grad = seed if self.grad is None else self.grad + seed  # a leaf root adds up too
        for t in reversed(order):  # outputs before inputs: t.grad is complete here
            if t.vjp is None or t.grad is None:
                continue
            for x, g in zip(t.inputs, t.vjp(t.grad)):
                if x.requires_grad:
                    g = sum_to_shape(g, x.shape)
                    x.grad = g if x.grad is None else x.grad + g  # paths add up, here only
        ### END SOLUTION

    def __sub__(self, other):
        other = as_tensor(other)
        ### BEGIN SOLUTION see notebook 04, "Your engine", part 2
        return node(self.data - other.data, (self, other), lambda g: (g, -g))
        ### END SOLUTION

    def __truediv__(self, other):
        other = as_tensor(other)
        ### BEGIN SOLUTION see notebook 04, "Your engine", part 2
        x, y = self.data, other.data
        out = x / y
        return node(out, (self, other), lambda g: (g / y, -g * out / y))
        ### END SOLUTION

    def __pow__(self, p):
        """``x ** p`` for a number p."""
        ### BEGIN SOLUTION see notebook 04, "Your engine", part 2
        x = self.data
        return node(x**p, (self,), lambda g: (g * p * x ** (p - 1),))
        ### END SOLUTION

    def __rpow__(self, base):
        """``base ** x`` for a number base > 0."""
        ### BEGIN SOLUTION see notebook 04, "Your engine", part 2
        out = base**self.data
        return node(out, (self,), lambda g: (g * out * np.log(base),))
        ### END SOLUTION

    def __neg__(self):
        return self * -1.0

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return as_tensor(other) - self

    def __rtruediv__(self, other):
        return as_tensor(other) / self

    # --------------------------------------------------------- notebook 05: @, sum, mean
    def __matmul__(self, other):
        """Matrix product of two 2-d tensors."""
        other = as_tensor(other)
        ### BEGIN SOLUTION see notebook 05, "Your engine", part 1
        x, y = self.data, other.data
        return node(x @ y, (self, other), lambda g: (g @ y.T, x.T @ g))
        ### END SOLUTION

    def sum(self, axis=None):
        """Sum over ``axis`` (every axis by default)."""
        ### BEGIN SOLUTION see notebook 05, "Your engine", part 3
        x = self.data
        out = x.sum(axis=axis)

        def vjp(g):
            if axis is not None:  # put back the axis the sum removed
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g, x.shape),)

        return node(out, (self,), vjp)
        ### END SOLUTION

    def mean(self, axis=None):
        """Mean over ``axis`` (every axis by default)."""
        ### BEGIN SOLUTION see notebook 05, "Your engine", part 3
        n = self.data.size if axis is None else self.data.shape[axis]
        return self.sum(axis) / n
        ### END SOLUTION

    # ---------------------------------------------------------- notebook 07: activations
    def relu(self):
        """max(x, 0) for each element."""
        ### BEGIN SOLUTION see notebook 07, "Your engine"
        x = self.data
        return node(np.maximum(x, 0), (self,), lambda g: (g * (x > 0),))
        ### END SOLUTION

    def tanh(self):
        """Hyperbolic tangent of each element."""
        ### BEGIN SOLUTION see notebook 07, "Your engine"
        out = np.tanh(self.data)
        return node(out, (self,), lambda g: (g * (1 - out**2),))
        ### END SOLUTION

    def sigmoid(self):
        """1 / (1 + e^-x) for each element, computed without overflow."""
        ### BEGIN SOLUTION see notebook 07, "Your engine"
        e = np.exp(-np.abs(self.data))  # <= 1: no overflow for any x
        out = np.where(self.data >= 0, 1, e) / (1 + e)
        return node(out, (self,), lambda g: (g * out * (1 - out),))
        ### END SOLUTION

    def exp(self):
        """e to the power of each element."""
        ### BEGIN SOLUTION see notebook 07, "Your engine"
        out = np.exp(self.data)
        return node(out, (self,), lambda g: (g * out,))
        ### END SOLUTION

    def log(self):
        """Natural logarithm of each element."""
        ### BEGIN SOLUTION see notebook 07, "Your engine"
        x = self.data
        return node(np.log(x), (self,), lambda g: (g / x,))
        ### END SOLUTION

    # ---------------------------------------------------------- notebook 12: my own op
    def softplus(self):
        """log(1 + e^x), computed without overflow."""
        ### BEGIN SOLUTION see notebook 12, "Your engine", part 2
        out = np.logaddexp(0.0, self.data)  # log(e^0 + e^x), which numpy keeps finite
        return node(out, (self,), lambda g: (g * (1 - np.exp(-out)),))
        ### END SOLUTION


def own_op():
    """The name of the op I added to Tensor in notebook 12 (a method with no arguments)."""
    ### BEGIN SOLUTION see notebook 12, "Your engine", part 2
    return "softplus"
    ### END SOLUTION


def as_tensor(x):
    """``x`` itself if it is a Tensor, else a constant Tensor holding it (no gradient)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def node(data, inputs, vjp):
    """The result of an op: a Tensor that remembers its inputs and its vjp, if a gradient can
    flow back to any input."""
    out = Tensor(data)
    if any(x.requires_grad for x in inputs):
        out.requires_grad, out.inputs, out.vjp = True, inputs, vjp
    return out


def toposort(root):
    """Every tensor ``root`` depends on (root included), each after the tensors it was made from."""
    ### BEGIN SOLUTION see notebook 04, "Your engine", part 1
    found = {id(root): root}
    stack = [root]
    while stack:
        for x in stack.pop().inputs:
            if id(x) not in found:
                found[id(x)] = x
                stack.append(x)
    return sorted(found.values(), key=lambda t: t.seq)  # made later = computed later
    ### END SOLUTION


def sum_to_shape(g, shape):
    """Sum the gradient ``g`` down to ``shape``: the gradient of numpy broadcasting."""
    if g.shape == shape:  # nothing was broadcast
        return g
    ### BEGIN SOLUTION see notebook 05, "Your engine", part 2
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))  # the axes broadcasting put in front
    ones = tuple(i for i, n in enumerate(shape) if n == 1)
    return g.sum(axis=ones, keepdims=True)  # the axes of length 1 it stretched
    ### END SOLUTION


# ------------------------------------------------------------- notebook 08: the loss
def cross_entropy(logits, labels):
    """Mean over the batch of -log softmax(logits)[label]: logits (N, C), integer labels (N,)."""
    ### BEGIN SOLUTION see notebook 08, "Your engine"
    z = logits.data - logits.data.max(axis=1, keepdims=True)  # the largest logit becomes 0
    log_a = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    n = len(labels)
    y = np.eye(z.shape[1])[labels]  # one row per example, 1 at its label
    loss = -(log_a * y).sum() / n
    return node(loss, (logits,), lambda g: (g * (np.exp(log_a) - y) / n,))  # delta = a - y
    ### END SOLUTION


# ----------------------------------------------------------- notebook 09: the network
class Linear:
    """Z = X Wᵀ + b, with W of shape (n_out, n_in) and b of shape (n_out,)."""

    def __init__(self, n_in, n_out):
        ### BEGIN SOLUTION see notebook 09, "Your engine", part 1
        std = np.sqrt(2 / n_in)  # He's scale (notebook 10); 0.1 until then (notebook 09)
        self.weight = Tensor(rng.standard_normal((n_out, n_in)) * std, requires_grad=True)
        self.bias = Tensor(np.zeros(n_out), requires_grad=True)
        ### END SOLUTION

    def __call__(self, x):
        ### BEGIN SOLUTION see notebook 09, "Your engine", part 1
        return x @ self.weight.T + self.bias
        ### END SOLUTION

    def parameters(self):
        return [self.weight, self.bias]


class MLP:
    """Linear layers of the given sizes, e.g. [64, 128, 10], with ReLU between them."""

    def __init__(self, sizes):
        ### BEGIN SOLUTION see notebook 09, "Your engine", part 1
        self.layers = [Linear(n_in, n_out) for n_in, n_out in zip(sizes, sizes[1:])]
        ### END SOLUTION

    def __call__(self, x):
        ### BEGIN SOLUTION see notebook 09, "Your engine", part 1
        for layer in self.layers[:-1]:
            x = layer(x).relu()
        return self.layers[-1](x)
        ### END SOLUTION

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


class SGD:
    """p = p - lr * v, with v = g (momentum 0), else v = momentum * v + g (PyTorch's rule)."""

    def __init__(self, params, lr, momentum=0.0):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def zero_grad(self):
        """Forget every parameter's gradient, before the next backward()."""
        ### BEGIN SOLUTION see notebook 09, "Your engine", part 2
        for p in self.params:
            p.grad = None
        ### END SOLUTION

    def step(self):
        """One update of every parameter that has a gradient."""
        ### BEGIN SOLUTION see notebook 09, "Your engine", part 2
        for p, v in zip(self.params, self.velocity):
            if p.grad is not None:
                v *= self.momentum
                v += p.grad
                p.data -= self.lr * v
        ### END SOLUTION


# ------------------------------------------------------- notebook 11: a residual block
class Residual:
    """H(x) = x + relu(x Wᵀ + b): the block adds its input to its layer's output."""

    def __init__(self, width):
        self.linear = Linear(width, width)

    def __call__(self, x):
        ### BEGIN SOLUTION see notebook 11, "Your engine"
        return x + self.linear(x).relu()
        ### END SOLUTION

    def parameters(self):
        return self.linear.parameters()


# --------------------------------------------------------------------- notebook 12: Adam
class Adam:
    """Adam (Kingma and Ba, 2015): a step of about lr in each coordinate, scaled by its history."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self.t = 0

    zero_grad = SGD.zero_grad  # the same as SGD's: every gradient back to None

    def step(self):
        """One update of every parameter that has a gradient."""
        ### BEGIN SOLUTION see notebook 12, "Your engine", part 1
        beta1, beta2 = self.betas
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m[...] = beta1 * m + (1 - beta1) * p.grad  # the mean of the gradients
            v[...] = beta2 * v + (1 - beta2) * p.grad**2  # and of their squares
            m_hat, v_hat = m / (1 - beta1**self.t), v / (1 - beta2**self.t)  # no bias to 0
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        ### END SOLUTION


# =========================================================================================
# For the notebooks' self-checks (no need to read or change it): they write a small program as
# data, this runs it on my engine and answers with arrays only.
def run(program, inputs, how="backward", seed=None):
    """Run ``program``, a list of steps ``(name, *arguments, settings)`` on the tensors made from
    ``inputs`` (an int argument is a tensor by its position, anything else a value). Layer steps
    add their parameters as tensors before their output. ``how`` is "forward", "vjp" (the last
    op's vjp of the upstream gradient ``seed``), "backward" (from ``seed``, if given) or
    "backward twice" (two calls of backward on the same graph). Returns the values, the
    gradients and the positions in ``toposort``'s order."""
    ts = [Tensor(x, requires_grad=True) for x in inputs]
    for name, *args, settings in program:
        if name in ("Linear", "MLP", "Residual"):  # (name, input, sizes..., settings)
            layer = globals()[name](*args[1:])
            ts += layer.parameters()
            ts.append(layer(ts[args[0]]))
            continue
        args = [ts[a] if type(a) is int else a for a in args]
        if hasattr(operator, name):
            ts.append(getattr(operator, name)(*args))
        elif name == "cross_entropy":
            ts.append(cross_entropy(*args))
        else:
            ts.append(getattr(args[0], name)(*args[1:], **settings))
    grads, order = [], []
    if how == "vjp":
        grads = list(ts[-1].vjp(np.asarray(seed, dtype=np.float64)))
    elif how in ("backward", "backward twice"):
        ts[-1].backward(seed)
        if how == "backward twice":
            ts[-1].backward()
        grads = [t.grad for t in ts]
        position = {id(t): i for i, t in enumerate(ts)}
        order = [position.get(id(t), -1) for t in toposort(ts[-1])]
    return [t.data for t in ts], grads, order


def fit(optimizer, params, coefficients, settings):
    """Take one optimizer step per row of ``coefficients`` on L = sum(c * p * p); return the
    parameters after each step."""
    ps = [Tensor(np.array(p), requires_grad=True) for p in params]  # a copy: steps change it
    opt = globals()[optimizer](ps, **settings)
    path = []
    for row in coefficients:
        opt.zero_grad()
        loss = sum((p * p * c).sum() for p, c in zip(ps, row))
        loss.backward()
        opt.step()
        path.append([p.data.copy() for p in ps])
    return path
