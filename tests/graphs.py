"""Graphs the tests share."""

import backproplab as bl


def seed_graph():
    """Seed 002's example: x = -2, y = 5, z = -4, q = x + y = 3, L = q z = -12."""
    x = bl.Tensor(-2.0, requires_grad=True, name="x")
    y = bl.Tensor(5.0, requires_grad=True, name="y")
    z = bl.Tensor(-4.0, requires_grad=True, name="z")
    q = x + y
    q.name = "q"
    L = q * z
    L.name = "L"
    return x, y, z, q, L
