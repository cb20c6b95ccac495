"""Notebook 09's challenge, the whole backward pass of a 3-layer ReLU MLP by hand
(``check_mlp_backward``): expected values are the engine's backward on three networks (one with
logits in the hundreds), exact to rounding: an answer estimated by finite differences, right to
8-11 digits only, is told from a derived one by ``estimated``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..functional import log_softmax
from ..tensor import Tensor
from . import (
    Feedback,
    attempt,
    close,
    correct,
    estimated,
    hint,
    result_array,
    roughly,
    uses_package,
)
from ._draws import check_rng

# ------------------------------------------------------------------------- the challenge
_BACKWARD_KEYS = ("D3", "W3", "b3", "D2", "W2", "b2", "D1", "W1", "b1")


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
    rough = roughly(key, got, want)  # an estimate, not a slip: no step to look at
    if rough is not None:
        return f"{key}: {rough.message}"
    if kind == "D" and key != "D3":
        return (f"{key} is not yet right (the tensors before it are): two links of the chain, "
                "the weights of the layer above, then the ReLU of this layer.")  # fmt: skip
    if kind == "D":
        return "D3 is not yet right: softmax and cross-entropy together, notebook 08."
    return (f"{key} is not yet right (the tensors before it are): which error and which input "
            "meet in this layer?")  # fmt: skip


def _mlp_expected(Ws: list, bs: list, X: np.ndarray, labels: np.ndarray) -> tuple[float, dict]:
    """The loss of the challenge's MLP and every Delta (dL/dZ) and parameter gradient, by the
    engine's backward (exact to rounding, so that ``estimated`` can tell an answer estimated by
    finite differences from a derived one)."""
    Wt = [Tensor(W, requires_grad=True) for W in Ws]
    bt = [Tensor(b, requires_grad=True) for b in bs]
    Zs, A = [], Tensor(X)
    for W, b in zip(Wt, bt):
        Zs.append(A @ W.T + b)
        A = Zs[-1].relu()
    true_class = np.eye(Ws[-1].shape[0])[labels]
    loss = -(log_softmax(Zs[-1], axis=1) * true_class).sum() / len(labels)
    loss.backward()
    expected = {}
    for k in range(3):
        for key, node in ((f"D{k + 1}", Zs[k]), (f"W{k + 1}", Wt[k]), (f"b{k + 1}", bt[k])):
            assert node.grad is not None  # backward() reached every layer
            expected[key] = np.asarray(node.grad, dtype=np.float64)
    return float(loss.data), expected


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
    got = {}
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
        got[key] = checked
    exact = tuple(expected[key] for key in _BACKWARD_KEYS)
    estimate = estimated(name, tuple(got.values()), exact)  # to 8-11 digits only: estimated
    if estimate is not None:
        return estimate
    other_batch = _mlp_second_network(name, mlp_backward)
    if other_batch is not None:
        return other_batch
    return _mlp_large_logits(name, mlp_backward, Ws, bs, X, labels) or correct(
        name, "every Delta, dW and db matches backward()."
    )


def _mlp_large_logits(name: str, mlp_backward: Callable, Ws: list, bs: list, X: np.ndarray,
                      labels: np.ndarray) -> Feedback | None:  # fmt: skip
    """The first network with its last layer scaled up (1000 times, or more where the logits
    need it): a row's largest logit past +-800, where e^z overflows (or the whole row underflows)
    unless each row is shifted by its own largest, row maxima 800 apart (a shift by the batch's
    largest sends a row to 0/0), and a true class 800 behind its row's largest, whose
    probability underflows to 0 (a loss of inf) unless the loss is taken with log-softmax
    (notebook 08). None if ``mlp_backward`` is right there too."""
    A = X
    for W, b in zip(Ws, bs):  # the logits as they are (the notebook's: up to about 0.9)
        Z = A @ W.T + b
        A = np.maximum(Z, 0)
    top = Z.max(axis=1)
    spans = (np.abs(top).max(), top.max() - top.min(), (top - Z[np.arange(len(Z)), labels]).max())
    scale = min(1e6, max([1000.0] + [800 / span for span in spans if span > 0]))
    Ws, bs = [*Ws[:2], scale * Ws[2]], [*bs[:2], scale * bs[2]]
    loss, expected = _mlp_expected(Ws, bs, X, labels)
    with np.errstate(all="ignore"):
        result = attempt(name, mlp_backward, [W.copy() for W in Ws], [b.copy() for b in bs],
                         X.copy(), labels.copy())  # fmt: skip
    if isinstance(result, Feedback):
        return result
    if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[1], dict):
        return hint(name, "return two things: (loss, grads), grads a dict of arrays.")
    arrays = [result_array(name, result[0], ())]
    arrays += [result_array(name, result[1].get(key), want.shape) for key, want in expected.items()]
    # a loss in the hundreds: a tolerance that grows with it (set when the reference was
    # central differences, rounding error |L| 1e-16 / 1e-6 per entry); the mistakes sought here
    # give inf, nan or a loss far off
    atol = 1e-8 * max(1.0, abs(loss))
    right = [not isinstance(a, Feedback) and close(a, w, atol=atol)
             for a, w in zip(arrays, [loss, *expected.values()])]  # fmt: skip
    if all(right):
        return None
    where = "with logits in the hundreds (the last layer's weights and biases scaled up)"
    got_loss = arrays[0]
    if all(right[1:]) and not isinstance(got_loss, Feedback):  # the loss alone is wrong
        return hint(
            name,
            f"right gradients {where}, but a loss of {float(got_loss):.4g} where it is "
            f"{loss:.1f}: a true class far behind gets a probability that underflows to 0 "
            "before its log is taken (log 0 = -inf; a small number added to it only hides "
            "that). Notebook 08's log-softmax never forms that probability.",
        )
    return hint(
        name,
        f"right for the small logits above, not {where}: e^z overflows to inf past z = 709, "
        "and a row whose logits all lie far below the shift underflows to 0/0. Notebook 08's "
        "softmax, shifted by each row's own largest logit, stays finite.",
    )
