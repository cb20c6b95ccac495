"""Self-checks for notebook 06 · A small network by hand.

The network (column-vector notation, one example)::

    z1 = W1 @ x + b1      h = relu(z1)      y_hat = W2 @ h + b2      L = sum((y_hat - y) ** 2)

Three exercises:

* ``through_relu(dL_dh, z1)``: the backward step through the ReLU, returning dL/dz1;
* ``tiny_net_backward(x, y, W1, b1, W2, b2)``: every gradient of the network, returned as
  ``(dW1, db1, dW2, db2)``; checked on networks of other sizes than the notebook's;
* ``gd_predicted_change(grads, lr)``: the change of the loss that a gradient-descent step predicts.

Expected answers come from the engine's backward pass or from running a forward pass, never from
the learner's function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..gradcheck import nudge_check
from ..tensor import Tensor
from . import Feedback, attempt, correct, hint, result_array

__all__ = ["check_gd_predicted_change", "check_through_relu", "check_tiny_net_backward"]


def _forward(x, y, W1, b1, W2, b2):
    """The network on Tensors or arrays: returns (z1, L)."""
    z1 = W1 @ x + b1
    y_hat = W2 @ z1.relu() + b2
    return z1, ((y_hat - y) ** 2).sum()


def _random_network(seed: int, n_in: int = 3, n_hidden: int = 4, n_out: int = 2):
    """A network whose hidden layer has neurons on and off, none within 0.1 of the kink."""
    rng = np.random.default_rng(seed)
    while True:
        x = rng.standard_normal(n_in)
        y = rng.standard_normal(n_out)
        W1 = rng.standard_normal((n_hidden, n_in))
        b1 = rng.standard_normal(n_hidden)
        W2 = rng.standard_normal((n_out, n_hidden))
        b2 = rng.standard_normal(n_out)
        z1 = W1 @ x + b1
        if np.all(np.abs(z1) > 0.1) and 0 < np.sum(z1 > 0) < n_hidden:
            return x, y, W1, b1, W2, b2


def check_through_relu(through_relu: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Feedback:
    """Check the ReLU backward step: dL/dz1 from dL/dh and the pre-activations z1."""
    exercise = "through_relu"
    z1 = np.array([1.5, -0.5, 0.3, -2.0, 0.7])
    dL_dh = np.array([0.4, -1.2, -0.8, 0.9, 0.0])
    z = Tensor(z1, requires_grad=True)
    (z.relu() * dL_dh).sum().backward()  # a loss whose dL/dh is dL_dh
    want = z.grad
    got = result_array(exercise, attempt(exercise, through_relu, dL_dh, z1))
    if isinstance(got, Feedback):
        return got
    if got.shape != want.shape:
        return hint(exercise, f"your dL/dz1 has shape {got.shape}; z1 has shape {z1.shape}")
    if np.allclose(got, want):
        return correct(exercise, "gradients pass where the neuron is on and stop where it is off.")
    if np.allclose(got, dL_dh):
        return hint(
            exercise,
            "you passed dL/dh through unchanged: what is the slope of the ReLU where z1 < 0?",
        )
    if np.allclose(got, dL_dh * (dL_dh > 0)):
        return hint(
            exercise,
            "whether a neuron passes its gradient depends on its own input z1, not on the gradient",
        )
    if np.allclose(got, dL_dh * np.maximum(z1, 0)):
        return hint(
            exercise,
            "you multiplied by the ReLU's output; the chain rule needs its derivative (its slope)",
        )
    return hint(exercise, "not yet: the ReLU's slope is 1 where z1 > 0 and 0 where z1 < 0")


def _engine_grads(x, y, W1, b1, W2, b2) -> list[np.ndarray]:
    params = [Tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
    _forward(x, y, *params)[1].backward()
    return [p.grad for p in params]


def check_tiny_net_backward(tiny_net_backward: Callable[..., tuple]) -> Feedback:
    """Check ``tiny_net_backward(x, y, W1, b1, W2, b2) -> (dW1, db1, dW2, db2)``."""
    exercise = "tiny_net_backward"
    names = ["dW1", "db1", "dW2", "db2"]
    for seed in (1, 2):
        x, y, W1, b1, W2, b2 = _random_network(seed)
        want = _engine_grads(x, y, W1, b1, W2, b2)
        off = (W1 @ x + b1) < 0  # hidden neurons whose ReLU is off
        got = attempt(exercise, tiny_net_backward, x, y, W1, b1, W2, b2)
        if isinstance(got, Feedback):
            return got
        if not isinstance(got, (tuple, list)) or len(got) != 4:
            return hint(exercise, "return a tuple of four arrays: (dW1, db1, dW2, db2)")
        sizes = f"{len(x)} inputs, {len(b1)} hidden neurons, {len(b2)} outputs"
        for name, g, w in zip(names[::-1], got[::-1], want[::-1]):  # from the loss backwards
            g = result_array(exercise, g, what=name)
            if isinstance(g, Feedback):
                return g
            if g.shape == w.T.shape and g.shape != w.shape:
                return hint(exercise, f"{name} is transposed: it must have shape {w.shape}")
            if g.shape != w.shape:
                return hint(
                    exercise,
                    f"on a network with {sizes}, {name} has shape {g.shape}; it must have the "
                    f"shape of its parameter, {w.shape}",
                )
            if np.allclose(g, w):
                continue
            if np.allclose(2 * g, w):
                return hint(
                    exercise,
                    f"{name} is half of what it should be: what is the derivative of "
                    "(y_hat - y) ** 2 with respect to y_hat?",
                )
            on_rows_right = np.allclose(g[~off], w[~off])
            if name in ("dW1", "db1") and on_rows_right and not np.allclose(g[off], 0):
                return hint(
                    exercise,
                    f"{name} is right for the neurons that are on, but not zero for the neurons "
                    "whose ReLU is off: those pass no gradient back",
                )
            return hint(
                exercise,
                f"on a network with {sizes}, {name} disagrees with the engine "
                f"(everything after it, closer to the loss, is right): check that step",
            )
    return correct(exercise, "all four gradients match the engine on two random networks.")


def check_gd_predicted_change(
    gd_predicted_change: Callable[[Sequence[np.ndarray], float], float],
) -> Feedback:
    """Check the first-order prediction of the loss change for the step -lr * grad."""
    exercise = "gd_predicted_change"
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal((1, 2))]
    lr = 0.05
    # A linear loss sum(g * theta) has exactly these gradients and changes exactly as predicted:
    # measure its change by running it before and after the step.
    params = [Tensor(rng.standard_normal(g.shape), requires_grad=True) for g in grads]
    linear_loss = lambda: sum(((p * g).sum() for p, g in zip(params, grads)), Tensor(0.0))
    want = nudge_check(linear_loss, params, nudge=[-lr * g for g in grads]).actual_change

    got = attempt(exercise, gd_predicted_change, grads, lr)
    if isinstance(got, Feedback):
        return got
    try:
        got = float(got)
    except (TypeError, ValueError):
        return hint(exercise, "return one number (a float): the predicted change of the loss")
    if np.isclose(got, want):
        return correct(exercise, "a gradient-descent step predicts a decrease of lr * |grad|^2.")
    if np.isclose(got, -want):
        return hint(
            exercise,
            "wrong sign: the step goes against the gradient, so the loss should go down",
        )
    if np.isclose(got * lr, want):
        return hint(exercise, "off by a factor of the learning rate: how big is each step?")
    return hint(
        exercise,
        "each parameter entry changes by -lr times its gradient; its contribution to the change "
        "of the loss is its gradient times its own change, summed over every entry",
    )
