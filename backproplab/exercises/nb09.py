"""Self-checks for notebook 09, an MLP from scratch.

Code is batch-first, as in ``bl.nn.Linear``: a batch holds one example per row, a weight W has
shape (n_out, n_in), and a layer computes Z = A W^T + b. Expected answers are the engine's
backward (exact to rounding: an answer estimated by finite differences, right to 8-11 digits
only, is told from a derived one by ``estimated``), never the learner's code; the replay's
gradients are compared with central differences of a numpy forward pass. An answer that
calls the package is refused, and so is one that changes its inputs in place.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from ..autodiff import toposort
from ..functional import log_softmax
from ..tensor import Tensor
from . import (
    Feedback,
    attempt,
    attempt_own,
    close,
    correct,
    estimated,
    hint,
    numeric_gradient,
    result_array,
    roughly,
)
from ._draws import check_rng
from ._mlp_backward import check_mlp_backward

__all__ = [
    "check_hidden_delta",
    "check_linear_backward",
    "check_mlp_backward",
    "check_replay",
    "check_sigmoid_hidden_delta",
]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_MEAN_TWICE = (
    "N times too small: the error that arrives already holds the 1/N of the mean; it enters "
    "once, at the output."
)


def _linear_grads(delta: np.ndarray, A: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple:
    """(dW, db, dA) of L = sum(delta * Z), Z = A W^T + b (a loss whose dL/dZ is exactly delta),
    by the engine's backward: exact to rounding."""
    leaves = [Tensor(x, requires_grad=True) for x in (W, b, A)]
    W_t, b_t, A_t = leaves
    (A_t @ W_t.T + b_t).backward(delta)
    assert all(x.grad is not None for x in leaves)  # backward() reached every input
    return tuple(np.asarray(x.grad, dtype=np.float64) for x in leaves)


def check_linear_backward(linear_backward: Callable) -> Feedback:
    """``linear_backward(delta, A_prev, W)`` -> ``(dW, db, dA_prev)`` for Z = A_prev W^T + b,
    given delta = dL/dZ of shape (N, n_out)."""
    name = "linear_backward"
    rng = check_rng(21)
    n, n_in, n_out = 5, 4, 3
    A = rng.standard_normal((n, n_in))
    W = rng.standard_normal((n_out, n_in))
    b = rng.standard_normal(n_out)
    delta = rng.standard_normal((n, n_out))

    expected = dict(zip(("dW", "db", "dA_prev"), _linear_grads(delta, A, W, b)))
    result = attempt_own(name, linear_backward, delta, A, W)
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return hint(name, "return three arrays, in this order: (dW, db, dA_prev).")
    for order in list(itertools.permutations(range(3)))[1:]:  # right arrays, another order
        if all(np.shape(result[i]) == e.shape and close(np.asarray(result[i], float), e)
               for i, e in zip(order, expected.values())):  # fmt: skip
            return hint(name, "all three gradients are right, but not in the order asked for: "
                        "return (dW, db, dA_prev).")  # fmt: skip
    raw = dict(zip(expected, result))
    got = {}
    for key, value in raw.items():
        shape = expected[key].shape
        if value is None:
            return hint(name, f"{key} is None: is something missing from the returned tuple?")
        array = result_array(name, value, what=key)  # any shape yet: two shapes get own hints
        if isinstance(array, Feedback):
            return array
        if key == "dW" and array.shape == shape[::-1] and close(array.T, expected["dW"]):
            return hint(name, "dW is transposed: a gradient always has the shape of its parameter, "
                        f"here W's {shape}.")  # fmt: skip
        if key == "db" and array.shape == (n, n_out):
            return hint(
                name,
                f"db has one row per example; the bias has shape {shape}, and every example "
                "used the same bias: its contributions add up.",
            )
        checked = result_array(name, array, shape, key)
        if isinstance(checked, Feedback):
            return checked
        got[key] = checked
    wrong = [key for key in expected if not close(got[key], expected[key])]
    if not wrong:
        mine = (got["dW"], got["db"], got["dA_prev"])
        return (
            estimated(name, mine, tuple(expected.values()))  # to 8-11 digits only: estimated
            or _other_batch(linear_backward, rng, W, n)
            or correct(name, "dW, db and dA_prev all match backward().")
        )
    if "db" in wrong and any(close(got["db"], row) for row in delta):  # right for N = 1 only
        return hint(name, "db is one example's error only: every example of the batch used the "
                    "same bias, so their contributions add up.")  # fmt: skip
    if "db" in wrong and close(got["db"] * n, expected["db"]):
        return hint(name, "db is off by a factor of the batch size: add the rows, don't average.")
    for key in ("dW", "dA_prev"):
        if key in wrong and close(got[key] * n, expected[key]):
            return hint(
                name, f"{key} is off by a factor of the batch size: delta already holds the 1/N."
            )
    for key in wrong:
        if close(got[key], -expected[key]):
            return hint(name, f"{key} has the wrong sign (its size is right).")
    return hint(name, f"{', '.join(wrong)} not yet right (the others are), though the shapes "
                "are: which error and which input meet in each, and is every factor the one "
                "the forward pass used?")  # fmt: skip


def _other_batch(
    linear_backward: Callable, rng: np.random.Generator, W: np.ndarray, n: int
) -> Feedback | None:
    """None if ``linear_backward``, right on the first batch of ``n`` examples, is right on a
    batch of 7 as well; else the hint. An answer that writes in the first batch's size (five
    ones to add the rows of delta with) passed that batch."""
    name = "linear_backward"
    A = rng.standard_normal((7, W.shape[1]))
    delta = rng.standard_normal((7, W.shape[0]))
    expected = _linear_grads(delta, A, W, np.zeros(W.shape[0]))
    result = attempt_own(name, linear_backward, delta, A, W)
    if (
        isinstance(result, (tuple, list))
        and len(result) == 3
        and all(
            np.shape(r) == e.shape and close(np.asarray(r, float), e)
            for r, e in zip(result, expected)
        )
    ):
        return None
    return hint(
        name,
        f"right for the batch of {n} examples, but not for one of 7: does your answer use the "
        "number of examples of the first batch instead of the batch it is given?",
    )


def check_hidden_delta(hidden_delta: Callable) -> Feedback:
    """``hidden_delta(delta_next, W_next, Z)``: dL/dZ for A = relu(Z), Z_next = A W_next^T + b."""
    name = "hidden_delta"
    rng = check_rng(22)
    n, width, n_next = 4, 6, 3
    Z = rng.standard_normal((n, width))
    Z[np.abs(Z) < 1e-2] = 0.5  # no entry near the kink of ReLU, but for one exactly at it:
    Z[1, 2] = 0.0  # a unit at z = 0 counts as off (notebook 06's convention), not at 1/2
    W_next = rng.standard_normal((n_next, width))
    delta_next = rng.standard_normal((n, n_next))

    Z_t = Tensor(Z, requires_grad=True)
    (Z_t.relu() @ Tensor(W_next).T).backward(delta_next)  # the engine: exact, slope 0 at z = 0
    assert Z_t.grad is not None  # backward() reached Z
    expected = Z_t.grad
    got = result_array(name, attempt_own(name, hidden_delta, delta_next, W_next, Z), Z.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return estimated(name, got, expected) or correct(  # to 8-11 digits only: estimated
            name, "matches backward() through the weights and the ReLU."
        )
    through_weights = delta_next @ W_next
    if close(got[Z != 0], expected[Z != 0]):
        return hint(
            name,
            "right everywhere except where Z = 0 exactly: there the unit counts as off (slope 0, "
            "the package's and PyTorch's convention, as in notebook 06); is your comparison "
            "strict?",
        )
    if close(got, through_weights):
        return hint(
            name,
            "you carried the error back through the weights, but not through the ReLU: "
            "some of these units were switched off in the forward pass.",
        )
    if close(got, through_weights * Z) or close(got, through_weights * np.maximum(Z, 0)):
        return hint(name, "multiply by the derivative of ReLU at Z, not by Z (or ReLU(Z)) itself.")
    if close(got, through_weights * (Z < 0)):
        return hint(name, "the ReLU mask is inverted: which units let the gradient through?")
    if close(got, np.maximum(through_weights, 0)) or close(got, np.maximum(delta_next, 0) @ W_next):
        return hint(name, "your mask follows the sign of the gradient, but ReLU's slope depends "
                    "on its input: which units were on in the forward pass?")  # fmt: skip
    if close(got * n, expected):
        return hint(name, _MEAN_TWICE)
    if close(got, -expected):
        return hint(name, "right but for the sign: the error arrives with its own sign, keep it.")
    return hint(name, "not yet: two links of the chain, the weights, then the activation.")


def check_sigmoid_hidden_delta(sigmoid_hidden_delta: Callable) -> Feedback:
    """``sigmoid_hidden_delta(delta_out, W2, H)`` for H = sigmoid(X W1^T), logits = H W2^T (no
    biases, weights (n_out, n_in)): dL/d(X W1^T) given delta_out = dL/dlogits."""
    name = "sigmoid_hidden_delta"
    rng = check_rng(23)
    n, hidden, classes = 4, 5, 3
    Zh = rng.standard_normal((n, hidden))
    Zh[0, 0] = 0.0  # the sigmoid's steepest point, where its slope is 1/4
    W2 = rng.standard_normal((classes, hidden))
    delta_out = rng.standard_normal((n, classes))
    H = _sigmoid(Zh)
    Zh_t = Tensor(Zh, requires_grad=True)
    (Zh_t.sigmoid() @ Tensor(W2).T).backward(delta_out)  # the engine: exact to rounding
    assert Zh_t.grad is not None  # backward() reached Zh
    expected = Zh_t.grad
    got = result_array(name, attempt_own(name, sigmoid_hidden_delta, delta_out, W2, H), H.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return estimated(name, got, expected) or correct(  # to 8-11 digits only: estimated
            name, "matches backward() through W2 and the sigmoid."
        )
    through_weights = delta_out @ W2
    if close(got, through_weights) or close(got, through_weights * (H > 0)):
        return hint(
            name,
            "you went back through W2 but stopped before the sigmoid (and a sigmoid's "
            "output H is always > 0, so a ReLU mask would change nothing).",
        )
    if close(got, through_weights * _sigmoid(H) * (1 - _sigmoid(H))):
        return hint(name, "H already is the sigmoid's output: do not apply the sigmoid again.")
    if close(got * n, expected):
        return hint(name, _MEAN_TWICE)
    if close(got, -expected):
        return hint(name, "right but for the sign: the error arrives with its own sign, keep it.")
    if close(got, through_weights * (1 - H**2)):
        return hint(name, "that is the slope of tanh; this hidden layer is a sigmoid.")
    if close(got, through_weights * H) or close(got, through_weights * (1 - H)):
        return hint(name, "the sigmoid's slope has two factors, written with its output: "
                    "you kept only one.")  # fmt: skip
    return roughly(name, got, expected) or hint(
        name, "not yet: back through W2 (the same layout as Linear), then the sigmoid."
    )


# ----------------------------------------------------------------------------- the replay
def _replay_graph(rng: np.random.Generator) -> tuple:
    """A small graph with settings (slope, axis), fan-out and two refillable inputs."""
    X = Tensor(rng.standard_normal((5, 3)))
    Y = Tensor(np.eye(4)[rng.integers(0, 4, 5)])
    W1 = Tensor(rng.standard_normal((6, 3)), requires_grad=True)
    W2 = Tensor(rng.standard_normal((4, 6)), requires_grad=True)
    H = (X @ W1.T).leaky_relu(slope=0.3)
    logits = H @ W2.T + H.sum(axis=1, keepdims=True) * 0.1  # H used twice
    loss = -(log_softmax(logits, axis=1) * Y).sum() / 5
    return X, Y, W1, W2, loss


def _replay_numpy(X: np.ndarray, Y: np.ndarray, W1: np.ndarray, W2: np.ndarray) -> float:
    Z = X @ W1.T
    H = np.where(Z > 0, Z, 0.3 * Z)
    logits = H @ W2.T + H.sum(axis=1, keepdims=True) * 0.1
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-(log_p * Y).sum() / 5)


_RUN_GIVES_TWO = (
    "a node's .data became a pair: node.op.run gives back two things, the node's new value and "
    "what its rule will read in the backward pass; each goes into a place of its own."
)


def check_replay(replay: Callable) -> Feedback:
    """``replay(order, inputs, values)``: put each new value into its input tensor's ``.data``,
    run every op node of ``order`` (from ``bl.toposort(loss)``) again with ``node.op.run`` into
    ``node.data`` and ``node.saved``, return the loss node."""
    name = "replay"
    rng = check_rng(25)
    X, Y, W1, W2, loss = _replay_graph(rng)
    order = toposort(loss)
    recorded = {id(node): node.data for node in order}
    copies = {id(node): np.array(node.data, copy=True) for node in order}
    kept = {id(node): node.saved for node in order}
    new_X, new_Y = rng.standard_normal((5, 3)), np.eye(4)[[3, 0, 1, 1, 2]]
    want = _replay_numpy(new_X, new_Y, W1.data, W2.data)
    result = attempt(name, replay, list(order), (X, Y), (new_X.copy(), new_Y.copy()))
    if any(isinstance(node.data, tuple) for node in order):  # the pair run gives back, unsplit
        return hint(name, _RUN_GIVES_TWO)
    if isinstance(result, Feedback):
        if "NoneType" in result.message and (
            "run" in result.message or "forward" in result.message
        ):
            return hint(name, "a leaf (a parameter, an input) has no op to run: skip it.")
        if "keyword" in result.message or "argument" in result.message:
            return hint(name, f"{result.message} node.op.run takes two arguments: the list "
                        "of the inputs' arrays and the node's settings, the dict as it "
                        "is.")  # fmt: skip
        return result
    if result is None:
        return hint(name, "your replay returned None: is a `return` missing?")
    if result is not loss:
        return hint(name, "return the loss node itself, the last node of the order: backward() "
                    "starts from it.")  # fmt: skip
    if any(t.data is recorded[id(t)] and not np.array_equal(t.data, copies[id(t)]) for t in (X, Y)):
        return hint(name, "the new values were written into the arrays the input tensors held, "
                    "in place: those arrays are the recorded batch, the caller's own data (rows "
                    "of the training set), which now changed too. Put each new array itself "
                    "into .data.")  # fmt: skip
    if not (np.array_equal(X.data, new_X) and np.array_equal(Y.data, new_Y)):
        return hint(name, "the input tensors still hold the recorded batch: the new values go "
                    "into their .data.")  # fmt: skip
    if all(node.data is recorded[id(node)] for node in order if node.op is not None):
        if any(not np.array_equal(n.data, copies[id(n)]) for n in order if n.op is not None):
            return hint(name, "each node's new value was written into the array that held its "
                        "recorded value, in place: whatever kept a recorded value (a loss "
                        "printed before, an array taken from a node) changes with it. Store "
                        "each new array itself in the node.")  # fmt: skip
        return hint(name, "no node has a new value: store each node's recomputed value in it.")
    for node in order:
        if node.op is None:
            continue
        arrays = [x.data for x in node.inputs]
        fresh, _ = node.op.run(arrays, node.settings)
        if not np.allclose(node.data, fresh, rtol=1e-12, atol=1e-12):
            if node.data is recorded[id(node)]:  # never run again (the loss, or only the loss)
                return hint(name, f"the {node.op.name!r} node still holds its recorded value: "
                            "every node of the order that has an op runs again, from the first "
                            "to the last, the loss.")  # fmt: skip
            if np.allclose(node.data, node.op.forward(*arrays), rtol=1e-12, atol=1e-12):
                return hint(name, f"the {node.op.name!r} node ran without its settings "
                            f"({', '.join(node.settings)}).")  # fmt: skip
            return hint(
                name,
                f"the {node.op.name!r} node was computed from inputs that changed after it "
                "ran: a node must run after the nodes it reads.",
            )
    if any(node.saved is kept[id(node)] for node in order if node.op is not None):
        return hint(name, "every node has its new value, but the backward pass reads what "
                    "each rule kept (node.saved), and that still belongs to the recorded "
                    "batch.")  # fmt: skip
    if not close(float(np.asarray(loss.data)), want, rtol=1e-10, atol=1e-12):
        return hint(name, "every node agrees with its inputs, but the loss is not that of the "
                    "new batch: did every input get its new value?")  # fmt: skip
    W1.grad = W2.grad = None
    loss.backward()
    for W, which in ((W1, 0), (W2, 1)):

        def f(value: np.ndarray, which: int = which) -> float:
            ws = [W1.data, W2.data]
            ws[which] = value
            return _replay_numpy(new_X, new_Y, *ws)

        if not close(W.grad, numeric_gradient(f, W.data)):
            return hint(name, "the loss is right but backward() gives other gradients: did "
                        "every node on the way get its new value?")  # fmt: skip
    return correct(name, "the replayed loss and its gradients are those of the new batch.")
