"""Self-checks for notebook 09, an MLP from scratch.

Code is batch-first, as in ``bl.nn.Linear``: a batch holds one example per row, a weight W has
shape (n_out, n_in), and a layer computes Z = A W^T + b. Expected answers are central finite
differences of numpy forward passes written here, never the learner's code or the engine. An
answer that calls the package is refused, and so is one that changes its inputs in place.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

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
    hint,
    numeric_gradient,
    result_array,
    uses_package,
)
from ._draws import check_rng

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

    # L = sum(delta * Z) is a loss whose gradient with respect to Z is exactly delta
    def loss(A_: np.ndarray, W_: np.ndarray, b_: np.ndarray) -> float:
        return float((delta * (A_ @ W_.T + b_)).sum())

    expected = {
        "dW": numeric_gradient(lambda v: loss(A, v, b), W),
        "db": numeric_gradient(lambda v: loss(A, W, v), b),
        "dA_prev": numeric_gradient(lambda v: loss(v, W, b), A),
    }
    result = attempt_own(name, linear_backward, delta, A, W)
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return hint(name, "return three arrays, in this order: (dW, db, dA_prev).")
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
        return correct(name, "dW, db and dA_prev all match finite differences.")
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

    def loss(Z_: np.ndarray) -> float:
        return float((delta_next * (np.maximum(Z_, 0) @ W_next.T)).sum())

    expected = numeric_gradient(loss, Z)
    expected[Z == 0] = 0.0  # central differences straddle the kink; the slope there is 0
    got = result_array(name, attempt_own(name, hidden_delta, delta_next, W_next, Z), Z.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return correct(name, "matches finite differences through the weights and the ReLU.")
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

    def loss(Z_: np.ndarray) -> float:
        return float((delta_out * (_sigmoid(Z_) @ W2.T)).sum())

    expected = numeric_gradient(loss, Zh)
    got = result_array(name, attempt_own(name, sigmoid_hidden_delta, delta_out, W2, H), H.shape)
    if isinstance(got, Feedback):
        return got
    if close(got, expected):
        return correct(name, "matches finite differences through W2 and the sigmoid.")
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
    return hint(name, "not yet: back through W2 (the same layout as Linear), then the sigmoid.")


# ------------------------------------------------------------------------- the challenge
_BACKWARD_KEYS = ("D3", "W3", "b3", "D2", "W2", "b2", "D1", "W1", "b1")


def _mlp_loss_from(layer: int, Z: np.ndarray, Ws: list, bs: list, labels: np.ndarray) -> float:
    """Mean cross-entropy of the ReLU MLP, run on from the pre-activations Z of ``layer`` (1..3)."""
    for k in range(layer, 3):  # the layers after ``layer``; Ws[k] is layer k + 1
        Z = np.maximum(Z, 0) @ Ws[k].T + bs[k]
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(labels)), labels].mean())


def _why_wrong(key: str, got: np.ndarray, want: np.ndarray, n: int, true_class: np.ndarray) -> str:
    """A hint for one wrong tensor of the challenge (the ones before it in the pass are right);
    ``true_class`` is 1 at each example's true class, 0 elsewhere."""
    kind = key[0]
    if key == "D3" and any(close(got, want * true_class * k) for k in (1, n)):  # (k: 1/N left out)
        return ("D3: only the true class's logit gets a gradient in your answer. But moving any "
                "logit moves every probability (they share one denominator), so every logit of "
                "a row gets one.")  # fmt: skip
    if close(got * n, want):
        if kind == "D":
            return (f"{key} is N times too small; the ones before it are right, so look at the "
                    "step that made it.")  # fmt: skip
        return f"{key} is off by a factor of the batch size: add over the examples, don't average."
    if close(got, want * n):
        return (f"{key} is N times too large: the loss is the mean over the batch, so the 1/N "
                "enters once, at the output error.")  # fmt: skip
    if close(got, -want):
        return f"{key} has the wrong sign."
    if kind == "D" and key != "D3":
        return (f"{key} is not yet right (the tensors before it are): two links of the chain, "
                "the weights of the layer above, then the ReLU of this layer.")  # fmt: skip
    if kind == "D":
        return "D3 is not yet right: softmax and cross-entropy together, notebook 08."
    return (f"{key} is not yet right (the tensors before it are): which error and which input "
            "meet in this layer?")  # fmt: skip


def _mlp_expected(Ws: list, bs: list, X: np.ndarray, labels: np.ndarray) -> tuple[float, dict]:
    """The loss of the challenge's MLP and every Delta (dL/dZ) and parameter gradient, by central
    differences of numpy forward passes."""
    Zs, A = [], X
    for k in range(3):
        Zs.append(A @ Ws[k].T + bs[k])
        A = np.maximum(Zs[-1], 0)

    def loss_with(k: int, which: str, value: np.ndarray) -> float:
        Ws_, bs_ = list(Ws), list(bs)
        (Ws_ if which == "W" else bs_)[k] = value
        return _mlp_loss_from(1, X @ Ws_[0].T + bs_[0], Ws_, bs_, labels)

    expected = {}
    for k in range(3):
        layer = k + 1
        expected[f"D{layer}"] = numeric_gradient(
            partial(_mlp_loss_from, layer, Ws=Ws, bs=bs, labels=labels), Zs[k]
        )
        expected[f"W{layer}"] = numeric_gradient(partial(loss_with, k, "W"), Ws[k])
        expected[f"b{layer}"] = numeric_gradient(partial(loss_with, k, "b"), bs[k])
    return _mlp_loss_from(3, Zs[2], Ws, bs, labels), expected


def _mlp_second_network(name: str, mlp_backward: Callable) -> Feedback | None:
    """A second network (4 inputs, hidden 6 and 5, 4 classes) on two batches of 5: one that holds
    every class, then one whose labels miss the last (as a minibatch's may). None if
    ``mlp_backward`` is right on both, else the hint: a size of the first network or batch written
    in fails on the first of them, classes counted from the labels on the second only."""
    rng = check_rng(26)
    sizes = (4, 6, 5, 4)
    X = rng.standard_normal((5, sizes[0]))
    Ws = [rng.standard_normal((sizes[k + 1], sizes[k])) for k in range(3)]
    bs = [0.5 * rng.standard_normal(sizes[k + 1]) for k in range(3)]
    every_class = np.array([1, 0, 2, 3, 0])
    labels = np.array([1, 0, 2, 1, 0])  # class 3 never occurs

    def right_on(labels: np.ndarray) -> Feedback | bool:
        loss, expected = _mlp_expected(Ws, bs, X, labels)
        with np.errstate(all="ignore"):
            result = attempt(name, mlp_backward, [W.copy() for W in Ws], [b.copy() for b in bs],
                             X.copy(), labels.copy())  # fmt: skip
        if isinstance(result, Feedback) and result.status != "hint":
            return result
        if isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[1], dict):
            got_loss, grads = result
            arrays = [result_array(name, got_loss, ())]
            arrays += [result_array(name, grads.get(key), expected[key].shape) for key in expected]
            wants = [np.asarray(loss), *expected.values()]
            return all(not isinstance(a, Feedback) and close(a, w) for a, w in zip(arrays, wants))
        return False

    verdict = right_on(every_class)
    if isinstance(verdict, Feedback):
        return verdict
    if not verdict:
        return hint(
            name,
            "right on the first batch, but not on a second network of other sizes (4 inputs, "
            "hidden layers of 6 and 5, 4 classes) and a batch of 5 examples that holds every "
            "class: does your function write in a size of the first (its 6 examples, its 3 "
            "classes, a width)? Every size can be read from the arrays it is given.",
        )
    verdict = right_on(labels)
    if isinstance(verdict, Feedback):
        return verdict
    if verdict:
        return None
    return hint(
        name,
        f"right on a batch that holds every class, but not on one whose labels "
        f"({', '.join(map(str, labels))}) miss the last of the network's {sizes[-1]} classes: "
        "does your function count the classes from the labels? A batch need not hold every "
        "class; the logits have one column per class.",
    )


def check_mlp_backward(mlp_backward: Callable) -> Feedback:
    """The challenge: ``mlp_backward(Ws, bs, X, labels)`` -> ``(loss, grads)`` for the ReLU MLP
    with three Linear layers (weights (n_out, n_in)) and mean cross-entropy; ``grads`` holds
    "D3", "D2", "D1" (dL/dZ of each layer, batch-first) and "W1".."W3", "b1".."b3"."""
    name = "mlp_backward"
    rng = check_rng(24)
    n, sizes = 6, (5, 7, 4, 3)  # three layers of different widths: a wrong product cannot fit
    X = rng.standard_normal((n, sizes[0]))
    Ws = [rng.standard_normal((sizes[k + 1], sizes[k])) for k in range(3)]
    bs = [0.5 * rng.standard_normal(sizes[k + 1]) for k in range(3)]
    labels = np.array([0, 2, 2, 1, 0, 2])  # repeated labels, so rows of a class add up
    loss, expected = _mlp_expected(Ws, bs, X, labels)
    if uses_package(mlp_backward):
        return hint(
            name,
            "your function lets the package (backproplab) do the work: the challenge is the "
            "backward pass in plain numpy",
        )
    copies = ([W.copy() for W in Ws], [b.copy() for b in bs], X.copy())
    result = attempt(name, mlp_backward, *copies, labels.copy())
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return hint(name, "return two things: (loss, grads), grads a dict of arrays.")
    got_loss, grads = result
    if not isinstance(grads, dict):
        return hint(name, f"grads is a {type(grads).__name__}; make it a dict keyed "
                    f"{', '.join(_BACKWARD_KEYS)}.")  # fmt: skip
    missing = [key for key in _BACKWARD_KEYS if key not in grads]
    if missing:
        return hint(name, f"grads has no {', '.join(missing)}: expected the keys "
                    f"{', '.join(_BACKWARD_KEYS)}.")  # fmt: skip
    if any(not np.array_equal(a, b) for a, b in zip(copies[0] + copies[1], Ws + bs)):
        return hint(name, "your function changed the weights it was given: compute new arrays.")
    if not np.array_equal(copies[2], X):  # the caller's X, changed for every later cell
        return hint(name, "your function changed the inputs X it was given: compute new arrays.")
    loss_value = result_array(name, got_loss, (), "the loss")
    if isinstance(loss_value, Feedback):
        return loss_value
    if close(loss_value, loss * n):
        return hint(name, "your loss adds up the examples' losses, so it is N times too large: "
                    "the loss here is their mean over the batch.")  # fmt: skip
    if not close(loss_value, loss):
        return hint(name, "the loss is not yet right: mean cross-entropy of the softmax.")
    for key in _BACKWARD_KEYS:  # in the order backpropagation makes them
        want = expected[key]
        array = result_array(name, grads[key], None, key)
        if isinstance(array, Feedback):
            return array
        if key[0] == "W" and array.shape == want.shape[::-1] and close(array.T, want):
            return hint(name, f"{key} is transposed: a gradient has the shape of its parameter, "
                        f"{want.shape}.")  # fmt: skip
        checked = result_array(name, array, want.shape, key)
        if isinstance(checked, Feedback):
            return checked
        if not close(checked, want):
            return hint(name, _why_wrong(key, checked, want, n, np.eye(sizes[-1])[labels]))
    other_batch = _mlp_second_network(name, mlp_backward)
    if other_batch is not None:
        return other_batch
    return correct(name, "every Delta, dW and db matches finite differences.")


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
    if not (np.array_equal(X.data, new_X) and np.array_equal(Y.data, new_Y)):
        return hint(name, "the input tensors still hold the recorded batch: the new values go "
                    "into their .data.")  # fmt: skip
    if all(node.data is recorded[id(node)] for node in order if node.op is not None):
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
