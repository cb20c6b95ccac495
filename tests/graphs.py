"""Graphs and helpers the tests share."""

import inspect

import numpy as np

import backproplab as bl


def seed_graph():
    """Notebook 03's example: x = -2, y = 5, z = -4, q = x + y = 3, L = q z = -12."""
    x = bl.Tensor(-2.0, requires_grad=True, name="x")
    y = bl.Tensor(5.0, requires_grad=True, name="y")
    z = bl.Tensor(-4.0, requires_grad=True, name="z")
    q = x + y
    q.name = "q"
    L = q * z
    L.name = "L"
    return x, y, z, q, L


def leaf(data, name=None):
    """A float64 tensor that requires grad."""
    return bl.Tensor(np.asarray(data, dtype=np.float64), requires_grad=True, name=name)


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the float f(array) at x (float64), written independently of
    bl.gradcheck."""
    g = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        g[idx] = (f(up) - f(down)) / (2 * eps)
    return g


def arity(op):
    """How many arrays a row of the op table takes (its settings are keywords)."""
    forward = getattr(op.forward, "func", op.forward)  # a ufunc's forward is a partial
    if isinstance(forward, np.ufunc):
        return forward.nin
    parameters = inspect.signature(forward).parameters.values()
    return sum(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)
