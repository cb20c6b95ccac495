"""Self-checks for notebook 06 · A small network by hand.

The network, in the package's batch-first layout (weights are (n_out, n_in))::

    z1 = X @ W1.T + b1      h = relu(z1)      y_hat = h @ W2.T + b2

Three exercises:

* ``through_relu(dL_dh, z1)``: the backward step through the ReLU, returning dL/dz1;
* ``gd_predicted_change(grads, lr)``: the change of the loss that a gradient-descent step predicts;
* ``tiny_net_backward(X, Y, W1, b1, W2, b2)``, the challenge: every gradient of the network for a
  batch, with the loss L = mean over the examples of sum((y_hat - y) ** 2), returned as
  ``(dW1, db1, dW2, db2)``.

Expected answers are exact: a closed form, the engine's backward (``estimated`` then tells an
answer estimated by finite differences, right to 8-11 digits only, from a derived one), or the
measured change of a loss; never the learner's function, and no function here can be called
with an exercise's signature to answer it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from ..tensor import Tensor
from . import (
    Feedback,
    attempt_own,
    close,
    correct,
    estimated,
    hint,
    result_array,
    roughly,
)
from ._draws import check_rng

__all__ = ["check_gd_predicted_change", "check_through_relu", "check_tiny_net_backward"]


def check_through_relu(through_relu: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Feedback:
    """Check the ReLU backward step: dL/dz1 from dL/dh and the pre-activations z1.

    z1 holds an exact 0: there ReLU has a kink, and the package (like PyTorch) uses slope 0.
    """
    exercise = "through_relu"
    z1 = np.array([1.5, -0.5, 0.3, -2.0, 0.7, 0.0])
    dL_dh = np.array([0.4, -1.2, -0.8, 0.9, 0.0, 0.6])
    slope = np.where(z1 > 0, 1.0, 0.0)  # the ReLU's slope, 0 at the kink by convention
    want = dL_dh * slope
    got = result_array(exercise, attempt_own(exercise, through_relu, dL_dh, z1))
    if isinstance(got, Feedback):
        return got
    if got.shape != want.shape:
        return hint(exercise, f"your dL/dz1 has shape {got.shape}; z1 has shape {z1.shape}")
    if close(got, want):  # and to rounding (one-sided differences of relu land within 1e-11)
        return estimated(exercise, got, want) or correct(
            exercise, "gradients pass where the unit is on and stop where it is off."
        )
    at_kink = z1 == 0
    if close(got[~at_kink], want[~at_kink]):
        return hint(
            exercise,
            "right everywhere except at z1 = 0 exactly: there the unit counts as off (slope 0, "
            "the package's and PyTorch's convention); is your comparison strict?",
        )
    if close(got, dL_dh):
        return hint(
            exercise,
            "you passed dL/dh through unchanged: what is the slope of the ReLU where z1 < 0?",
        )
    if close(got, dL_dh * (dL_dh > 0)):
        return hint(
            exercise,
            "whether a unit passes its gradient depends on its own input z1, not on the gradient",
        )
    if close(got, slope):
        return hint(
            exercise,
            "you returned the ReLU's slope alone: the chain rule multiplies it by the gradient "
            "arriving at h",
        )
    if close(got, dL_dh * np.maximum(z1, 0)):
        return hint(
            exercise,
            "you multiplied by the ReLU's output; the chain rule needs its derivative (its slope)",
        )
    return hint(exercise, "not yet: the ReLU's slope is 1 where z1 > 0 and 0 where z1 < 0")


def check_gd_predicted_change(
    gd_predicted_change: Callable[[Sequence[np.ndarray], float], float],
) -> Feedback:
    """Check the first-order prediction of the loss change for the step -lr * grad.

    Two learning rates (0.05, then 0.2; the notebook steps with 0.01), so that a number written
    in where lr should be cannot pass."""
    exercise = "gd_predicted_change"
    rng = check_rng(7)
    grads = [rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal((1, 2))]
    # A linear loss sum(g * theta) has exactly these gradients and changes exactly as the first
    # order predicts: measure its change by evaluating it before and after the step.
    theta = [rng.standard_normal(g.shape) for g in grads]
    linear_loss = lambda ps: sum(float((p * g).sum()) for p, g in zip(ps, grads))
    first = None  # the prediction at the first lr
    for lr in (0.05, 0.2):
        want = linear_loss([p - lr * g for p, g in zip(theta, grads)]) - linear_loss(theta)
        got = attempt_own(exercise, gd_predicted_change, grads, lr)
        if isinstance(got, Feedback):
            return got
        try:
            got = float(got)
        except (TypeError, ValueError):
            return hint(exercise, "return one number (a float): the predicted change of the loss")
        if np.isclose(got, want):
            first = got
            continue
        if first is not None and np.isclose(got, first):
            return hint(
                exercise,
                f"right with lr = 0.05, but with lr = {lr:g} your prediction is the same: your "
                "answer does not change with lr. A bigger step moves every entry further; use "
                "the learning rate your function is given, not a number of your own",
            )
        return _change_hint(exercise, got, want, lr, grads)
    return correct(exercise, "a gradient-descent step predicts a decrease of lr * |grad|^2.")


def _change_hint(
    exercise: str, got: float, want: float, lr: float, grads: Sequence[np.ndarray]
) -> Feedback:
    """The hint for a prediction ``got`` other than the change ``want`` of a step of ``lr``."""
    if np.isclose(got, -want):
        return hint(
            exercise,
            "wrong sign: the step goes against the gradient, so the loss should go down",
        )
    if np.isclose(got * lr, want):
        return hint(exercise, "off by a factor of the learning rate: how big is each step?")
    if np.isclose(abs(got), lr * abs(want)):
        return hint(
            exercise,
            "your prediction grows with the square of the learning rate: in section 5's formula "
            "each entry's change appears once, multiplied by its gradient",
        )
    if np.isclose(got, -lr * sum(float((g**2).sum()) for g in grads[:1])):
        return hint(exercise, "only the first array counts in your sum: every parameter moves")
    if np.isclose(got, -lr * sum(float(g.sum()) for g in grads)):
        return hint(
            exercise,
            "you moved every entry by the same amount (a step of size lr), as section 5's "
            "equal nudge did; in a gradient-descent step each entry moves by an amount of its "
            "own: by how much?",
        )
    sizes = sum(g.size for g in grads)
    if np.isclose(got * sizes, want):
        return hint(
            exercise,
            "off by a factor of the number of entries: the contributions of the entries add up, "
            "they are not averaged",
        )
    return hint(
        exercise,
        "not the first-order prediction yet: put this step's change of every parameter entry "
        "into section 5's formula, and count every entry of every array",
    )


def _random_network(seed: int, n: int = 4, n_in: int = 2, n_hidden: int = 5, n_out: int = 3):
    """A batch and a network in which every hidden unit is on for some examples and off for
    others, none within 0.1 of the kink (where an estimate by finite differences would straddle
    it). The sizes all differ, and n_out is neither 2 nor n, so that a mean over every entry of
    y_hat (a factor n_out), a forgotten 2 and a forgotten 1/N each give a different answer."""
    rng = check_rng(seed)
    while True:
        X = rng.standard_normal((n, n_in))
        Y = rng.standard_normal((n, n_out))
        W1 = rng.standard_normal((n_hidden, n_in))
        b1 = rng.standard_normal(n_hidden)
        W2 = rng.standard_normal((n_out, n_hidden))
        b2 = rng.standard_normal(n_out)
        z1 = X @ W1.T + b1
        on = z1 > 0
        if np.all(np.abs(z1) > 0.1) and on.any(axis=0).all() and (~on).any(axis=0).all():
            return X, Y, W1, b1, W2, b2


def _exact(X: np.ndarray, Y: np.ndarray, weights: list[np.ndarray]) -> list[np.ndarray]:
    """The gradient of the mean squared error with respect to each of ``weights``
    (W1, b1, W2, b2), by the engine's backward: exact to rounding, so that ``estimated`` tells an
    answer estimated by finite differences from a derived one. Its ReLU counts a unit exactly at
    the kink as off (slope 0), the convention the exercise asks for."""
    W1, b1, W2, b2 = params = [Tensor(w, requires_grad=True) for w in weights]
    y_hat = (Tensor(X) @ W1.T + b1).relu() @ W2.T + b2
    (((y_hat - Tensor(Y)) ** 2).sum(axis=1).mean()).backward()
    assert all(p.grad is not None for p in params)  # backward() reached every parameter
    return [np.asarray(p.grad, dtype=np.float64) for p in params]


def check_tiny_net_backward(tiny_net_backward: Callable[..., tuple]) -> Feedback:
    """Check ``tiny_net_backward(X, Y, W1, b1, W2, b2) -> (dW1, db1, dW2, db2)`` for a batch,
    L = mean over the N examples of sum((y_hat - y) ** 2)."""
    exercise = "tiny_net_backward"
    names = ["dW1", "db1", "dW2", "db2"]
    for seed in (1, 2, 4):  # the third batch has other sizes: 6 examples, 3 inputs, 4 hidden,
        # 5 outputs, refusing an answer that writes in a size of the first two (their N = 4)
        other = {"n": 6, "n_in": 3, "n_hidden": 4, "n_out": 5} if seed == 4 else {}
        X, Y, W1, b1, W2, b2 = params = _random_network(seed, **other)
        n = len(X)

        want = _exact(X, Y, [W1, b1, W2, b2])
        got = attempt_own(exercise, tiny_net_backward, *params)
        if isinstance(got, Feedback):
            return got
        if not isinstance(got, (tuple, list)) or len(got) != 4:
            return hint(exercise, "return a tuple of four arrays: (dW1, db1, dW2, db2)")
        for order in list(itertools.permutations(range(4)))[1:]:  # right arrays, another order
            if all(np.shape(got[i]) == w.shape and close(np.asarray(got[i], float), w, 1e-4, 1e-6)
                   for i, w in zip(order, want)):  # fmt: skip
                return hint(exercise, "all four gradients are right, but not in the order asked "
                            "for: return (dW1, db1, dW2, db2)")  # fmt: skip
        sizes = f"a batch of {n}, {W1.shape[1]} inputs, {len(b1)} hidden units, {len(b2)} outputs"
        arrays = {}
        for name, g, w in zip(names[::-1], got[::-1], want[::-1]):  # from the loss backwards
            g = result_array(exercise, g, what=name)
            if isinstance(g, Feedback):
                return g
            if g.shape == w.T.shape and g.shape != w.shape:
                return hint(
                    exercise,
                    f"{name} is transposed: it must have the shape of its parameter, {w.shape} "
                    "(outputs, inputs)",
                )
            if g.ndim == w.ndim + 1 and g.shape[1:] == w.shape:
                return hint(
                    exercise,
                    f"{name} has one row per example, shape {g.shape}: the parameter is shared "
                    "by the whole batch, so its gradient has its shape, " + str(w.shape),
                )
            if g.shape != w.shape:
                return hint(
                    exercise,
                    f"with {sizes}, {name} has shape {g.shape}; it must have the shape of its "
                    f"parameter, {w.shape}",
                )
            if close(g, w, rtol=1e-4, atol=1e-6):
                arrays[name] = g
                continue
            if other:
                return hint(
                    exercise,
                    f"right on two batches of 4 examples, but with {sizes}, {name} disagrees "
                    "with backward(): does your function write in a number (the batch "
                    "size, a layer's width) instead of reading it from the shapes of its inputs?",
                )
            if close(g, w * n, rtol=1e-4, atol=1e-6):
                return hint(
                    exercise,
                    f"{name} is N = {n} times too large: L is a mean over the batch, not a sum",
                )
            if close(g, w / n, rtol=1e-4, atol=1e-6):
                return hint(
                    exercise,
                    f"{name} is {n} times too small: L is a mean over the batch, and its 1/N "
                    "belongs in the gradient once, at the start of the backward pass",
                )
            n_out = Y.shape[1]
            if close(n_out * g, w, rtol=1e-4, atol=1e-6):
                return hint(
                    exercise,
                    f"{name} is {n_out} times too small, {n_out} being the number of outputs: L "
                    "averages over the examples only; each example's squared errors are added "
                    "up over its outputs",
                )
            if close(2 * g, w, rtol=1e-4, atol=1e-6):
                return hint(
                    exercise,
                    f"{name} is half of what it should be: what is the derivative of "
                    "(y_hat - y) ** 2 with respect to y_hat?",
                )
            if close(g, -w, rtol=1e-4, atol=1e-6):
                return hint(exercise, f"{name} has the wrong sign")
            rough = roughly(exercise, g, w)  # an estimate, not a slip: no step to look at
            if rough is not None:
                return rough
            if name in ("dW1", "db1"):
                return hint(
                    exercise,
                    f"{name} disagrees (everything closer to the loss is right): check the step "
                    "through the ReLU; a unit that is off for an example passes none of that "
                    "example's gradient back",
                )
            return hint(
                exercise,
                f"with {sizes}, {name} disagrees with backward() (everything after it, "
                "closer to the loss, is right): check that step",
            )
        mine = tuple(arrays[name] for name in names)
        estimate = estimated(exercise, mine, tuple(want))  # to 8-11 digits only: estimated
        if estimate is not None:
            return estimate
    return _at_the_kink(tiny_net_backward)


def _at_the_kink(tiny_net_backward: Callable[..., tuple]) -> Feedback:
    """The verdict for a ``tiny_net_backward`` right on three random batches: a batch in which one
    example puts one hidden unit exactly at the kink, z1 = 0, where the unit counts as off."""
    exercise = "tiny_net_backward"
    X, Y, W1, b1, W2, b2 = params = _random_network(3)
    X[0], W1[0], b1[0] = (1.0, -1.0), (0.5, 0.5), 0.0  # z1[0, 0] = 0.5 - 0.5 + 0, exactly
    want = _exact(X, Y, [W1, b1, W2, b2])
    got = attempt_own(exercise, tiny_net_backward, *params)
    if isinstance(got, Feedback):
        return got
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        return hint(exercise, "return a tuple of four arrays: (dW1, db1, dW2, db2)")
    if all(close(np.asarray(g, dtype=float), w, rtol=1e-4, atol=1e-6) for g, w in zip(got, want)):
        return correct(exercise, "all four gradients match backward() on three random batches.")
    return hint(
        exercise,
        "right on three random batches, but not on one where a hidden unit's z1 is exactly 0 for "
        "an example: there the unit counts as off (slope 0, as in Exercise 1: the package's and "
        "PyTorch's convention); is your comparison strict?",
    )
