"""Functions on tensors: each op of the table as a function, and composites built from them.

``relu(x)``, ``exp(x)``, ``sum(x, axis)`` ... apply one row of ``ops.py``. The composites
(``softmax``, ``mse_loss``) have no derivative rules of their own: their gradients come from the
rows they are made of. The exceptions, for numerical stability, are ``log_softmax`` and the
cross-entropy losses (``cross_entropy``, ``binary_cross_entropy`` and its ``_with_logits`` form):
each is one fused row of ``ops.py`` (see notebooks 07 and 08). The checks that give a
learner a clear error for wrong labels or targets live here, in front of the rows.
"""

from __future__ import annotations

import numpy as np

from . import ops
from .autodiff import is_grad_enabled
from .tensor import ArrayLike, Tensor, _axis, _keepdims, apply, as_array

__all__ = [
    "abs",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "concatenate",
    "cross_entropy",
    "exp",
    "leaky_relu",
    "log",
    "log_softmax",
    "matmul",
    "max",
    "maximum",
    "mean",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "sqrt",
    "stack",
    "sum",
    "tanh",
    "where",
]

Axis = int | tuple[int, ...] | None


# ---------------------------------------------------------------------- one row, one function
def exp(x: ArrayLike) -> Tensor:
    """e to the power of each element."""
    return apply(ops.exp, x)


def log(x: ArrayLike) -> Tensor:
    """Natural logarithm of each element."""
    return apply(ops.log, x)


def sqrt(x: ArrayLike) -> Tensor:
    """Square root of each element."""
    return apply(ops.sqrt, x)


def abs(x: ArrayLike) -> Tensor:  # noqa: A001 (bl.abs, like np.abs and torch.abs)
    """Absolute value of each element (gradient 0 at 0)."""
    return apply(ops.abs, x)


def relu(x: ArrayLike) -> Tensor:
    """max(x, 0) for each element (gradient 0 at 0)."""
    return apply(ops.relu, x)


def leaky_relu(x: ArrayLike, slope: float = 0.01) -> Tensor:
    """x where x > 0, else slope * x (gradient ``slope`` at 0)."""
    ops.check_slope("leaky_relu", slope)
    return apply(ops.leaky_relu, x, slope=slope)


def sigmoid(x: ArrayLike) -> Tensor:
    """1 / (1 + e^-x) for each element, computed without overflow."""
    return apply(ops.sigmoid, x)


def tanh(x: ArrayLike) -> Tensor:
    """Hyperbolic tangent of each element."""
    return apply(ops.tanh, x)


def maximum(x: ArrayLike, y: ArrayLike) -> Tensor:
    """Elementwise maximum of two tensors (at a tie each gets half the gradient)."""
    return apply(ops.maximum, x, y)


def matmul(x: ArrayLike, y: ArrayLike) -> Tensor:
    """Matrix product ``x @ y`` (numpy's rules for 1-d and batched operands)."""
    return apply(ops.matmul, x, y)


def sum(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes by default)."""
    return apply(ops.sum, x, axis=_axis(axis), keepdims=_keepdims(keepdims))  # a list of axes too


def mean(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes by default)."""
    return apply(ops.mean, x, axis=_axis(axis), keepdims=_keepdims(keepdims))  # a list of axes too


def max(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; ties share the gradient equally.

    So do PyTorch's ``torch.amax(x, dim)`` and ``torch.max(x)``; ``torch.max(x, dim)`` also
    returns the indices, and gives a tie's whole gradient to the index it returns.
    """
    return apply(ops.max, x, axis=_axis(axis), keepdims=_keepdims(keepdims))  # a list of axes too


def where(condition: ArrayLike, x: ArrayLike, y: ArrayLike) -> Tensor:
    """Elementwise ``x`` where ``condition`` holds, else ``y`` (the condition gets no gradient)."""
    cond = as_array(condition)
    if cond.dtype.kind not in "biuf":  # None, a string: numpy would call it True or False
        raise TypeError(
            f"where: the condition must be an array of booleans, got {type(condition).__name__} "
            f"of dtype {cond.dtype}"
        )
    return apply(ops.where, x, y, cond=cond.astype(bool))


def concatenate(tensors: list[ArrayLike], axis: int = 0, **pytorch: object) -> Tensor:
    """Join tensors along an existing axis."""
    _no_pytorch_keywords("concatenate", pytorch)
    return apply(ops.concatenate, *_joined("concatenate", tensors), axis=axis)


def stack(tensors: list[ArrayLike], axis: int = 0, **pytorch: object) -> Tensor:
    """Join tensors of one shape along a new axis."""
    _no_pytorch_keywords("stack", pytorch)
    return apply(ops.stack, *_joined("stack", tensors), axis=axis)


def _joined(op: str, tensors: list[ArrayLike]) -> list[ArrayLike]:
    """The tensors to join as a list: one tensor or array would be split into its rows."""
    if isinstance(tensors, (Tensor, np.ndarray)):
        raise TypeError(
            f"{op}: got one {type(tensors).__name__} of shape {tensors.shape}, which would be "
            f"split into its rows; pass a list of tensors, e.g. bl.{op}([x, y])"
        )
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: got an empty list; there is nothing to join")
    return tensors


def log_softmax(x: ArrayLike, axis: int = -1, **pytorch: object) -> Tensor:
    """log(softmax(x)) along ``axis``, computed stably (shift by the max, log-sum-exp)."""
    _no_pytorch_keywords("log_softmax", pytorch)
    return apply(ops.log_softmax, x, axis=_axis(axis))


# ------------------------------------------------------------------------------- composites
def softmax(x: ArrayLike, axis: int = -1, **pytorch: object) -> Tensor:
    """e^x / sum(e^x) along ``axis``: positive, sums to 1. Built as exp(log_softmax(x))."""
    _no_pytorch_keywords("softmax", pytorch)
    return exp(log_softmax(x, axis=axis))


def mse_loss(prediction: Tensor, target: ArrayLike, **pytorch: object) -> Tensor:
    """Mean squared error, mean((prediction - target)^2). The shapes must match exactly."""
    _no_pytorch_keywords("mse_loss", pytorch)
    prediction = prediction if isinstance(prediction, Tensor) else Tensor(prediction)
    given = as_array(target)
    if prediction.shape != given.shape:
        raise ValueError(
            f"mse_loss: prediction shape {prediction.shape} and target shape {given.shape} "
            f"differ (broadcasting them would silently compare every pair); reshape one of them"
        )
    if given.size == 0:  # the mean of nothing: NaN, with numpy's warning
        raise ValueError("mse_loss: the batch is empty")
    if not isinstance(target, Tensor) and given.dtype.kind in "iuf":  # (a float16 model's
        _fits_dtype("mse_loss: the target", given, prediction.dtype)  # int target may not fit)
    if not isinstance(target, Tensor) and given.dtype.kind == "f":  # as the other losses do:
        target = given.astype(prediction.dtype, copy=False)  # a float32 model stays float32
    return ((prediction - target) ** 2).mean()


# ----------------------------------------------------------------------------------- losses
def cross_entropy(logits: ArrayLike, labels: ArrayLike, **pytorch: object) -> Tensor:
    """Mean cross-entropy of softmax(logits) against ``labels``, like PyTorch's.

    ``logits`` has shape (N, K) (or (K,) for one example), K the number of classes. ``labels``
    are integer class indices of shape (N,), or rows of class probabilities (e.g. one-hot) of
    shape (N, K).
    The gradient with respect to the logits is (softmax(logits) - y) / N, y the one-hot rows
    (for probability rows that do not sum to 1: (softmax * sum(y) - y) / N).
    PyTorch's other keywords (``reduction="sum"``, ``ignore_index``...) get a line saying what
    to write instead. Logits further apart than the dtype's range (a model that has diverged)
    are refused in one line, even where PyTorch still gives a finite loss.
    """
    _no_pytorch_keywords("cross_entropy", pytorch)
    logits = logits if isinstance(logits, Tensor) else Tensor(logits)
    _no_target_graph("cross_entropy", labels)
    y = as_array(labels)
    shape = logits.shape
    if len(shape) not in (1, 2):
        raise ValueError(f"cross_entropy: logits must have shape (N, K) or (K,), got {shape}")
    if shape[-1] == 0:
        raise ValueError(f"cross_entropy: logits of shape {shape} have no classes (K = 0)")
    if logits.op is ops.exp and logits.inputs[0].op is ops.log_softmax:  # O(1): one node back
        raise ValueError(
            f"cross_entropy: the logits of shape {shape} are the output of softmax, but "
            f"cross_entropy applies softmax itself (twice gives a wrong loss and tiny "
            f"gradients); pass the scores from before the softmax"
        )
    if y.dtype.kind in "iu":
        if y.shape != shape[:-1]:
            raise ValueError(
                f"cross_entropy: integer labels must have shape {shape[:-1]} for logits "
                f"of shape {shape}, got {y.shape}{_one_score_hint(shape, y.shape)}"
                f"{_one_hot_hint(y, shape)}"
            )
        if y.size and (y.min() < 0 or y.max() >= shape[-1]):
            bad = y.min() if y.min() < 0 else y.max()
            raise ValueError(
                f"cross_entropy: label {bad} is out of range for {shape[-1]} classes "
                f"(labels must be 0..{shape[-1] - 1}){_one_score_hint(shape, y.shape)}"
            )
    elif y.dtype.kind != "f" or y.shape != shape:
        raise ValueError(
            f"cross_entropy: labels of dtype {y.dtype} and shape {y.shape} do not fit logits of "
            f"shape {shape}; pass integer class indices of shape {shape[:-1]} or "
            f"rows of class probabilities of shape {shape}{_float_labels_hint(labels, y, shape)}"
        )
    elif y.size and y.min() < 0:  # a negative "probability" makes the loss meaningless
        raise ValueError(f"cross_entropy: probability rows must be >= 0, got {y.min():g}")
    else:  # the row casts the target rows to the logits' dtype
        _fits_dtype("cross_entropy: the target rows", y, logits.dtype)
    if y.size == 0:
        raise ValueError("cross_entropy: the batch is empty")
    with np.errstate(over="ignore", invalid="ignore"):  # said below, not warned
        loss = apply(ops.cross_entropy, logits, labels=y)
    if not np.isfinite(loss.data):  # finite logits and targets give a finite loss, unless huge
        raise ValueError(_not_finite(logits.data, y))
    return loss


def _one_score_hint(shape: tuple[int, ...], label_shape: tuple[int, ...]) -> str:
    """What to do when the logits hold one score per example (shape (N,) or (N, 1))."""
    if shape[-1] == 1 or (len(shape) == 1 and label_shape == shape):
        return (
            " (one score per example? cross_entropy needs one column per class: give the model "
            "C outputs, or use binary_cross_entropy_with_logits with float targets 0 and 1)"
        )
    return ""


def _one_hot_hint(y: np.ndarray, shape: tuple[int, ...]) -> str:
    """For integer one-hot rows: the two ways cross_entropy takes them (and for a column)."""
    if y.shape == (*shape[:-1], 1) and shape[-1] > 1:
        return " (a column of labels? pass labels[:, 0])"
    if y.shape != shape or len(shape) != 2:
        return ""
    return " (one-hot rows? pass labels.argmax(axis=1), or the rows as floats)"


def _float_labels_hint(labels: ArrayLike, y: np.ndarray, shape: tuple[int, ...]) -> str:
    """For class indices that arrived as floats or booleans: where they came from, the fix."""
    if y.shape != shape[:-1]:
        return ""
    if y.dtype.kind == "b":
        return " (True/False labels: pass labels.astype(int))"
    if y.dtype.kind != "f" or not np.all(y == np.round(y)):
        return ""
    if isinstance(labels, Tensor):  # bl.Tensor(y) holds floats, whatever y held
        return " (a Tensor always holds floats: pass the integer labels y, not bl.Tensor(y))"
    return " (these floats are whole numbers: pass labels.astype(int))"


def _not_finite(logits: np.ndarray, y: np.ndarray) -> str:
    """Why cross_entropy's loss is not finite: NaN or inf in the input, or logits so far apart
    that the loss overflows."""
    if not np.all(np.isfinite(logits)):
        return f"cross_entropy: the logits of shape {logits.shape} contain NaN or inf"
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        return f"cross_entropy: the target rows of shape {y.shape} contain NaN or inf"
    spread = float(logits.max()) - float(logits.min())
    if y.dtype.kind == "f" and y.max() > 1:  # huge target rows, not the logits, can overflow it
        return (
            f"cross_entropy: the loss overflows {logits.dtype} (target rows of shape {y.shape} "
            f"up to {y.max():.3g}, logits {spread:.3g} apart); rows of class probabilities "
            f"lie in [0, 1]: scale the target rows"
        )
    return (
        f"cross_entropy: the loss overflows {logits.dtype} (logits from {logits.min():.3g} to "
        f"{logits.max():.3g}, {spread:.3g} apart); logits this large mean the model has "
        f"diverged: lower the learning rate or check the inputs' scale"
    )


def _fits_dtype(what: str, given: np.ndarray, dtype: np.dtype) -> None:
    """One line, instead of numpy's "overflow encountered in cast" and an inf, for float targets
    that a loss casts to the model's dtype (float32) but that lie beyond its range ("loss: the
    target" in ``what``). NaN and inf stay what they are (each loss says what it does with them)."""
    finite = given[np.isfinite(given)]
    with np.errstate(over="ignore"):  # the cast itself says which entries do not fit
        overflows = finite[np.isinf(finite.astype(dtype))]
    if overflows.size:
        entry = overflows[np.abs(overflows).argmax()]
        raise ValueError(
            f"{what} of shape {given.shape} has an entry {entry:.3g}, beyond the range of "
            f"{np.dtype(dtype)} (±{np.finfo(dtype).max:.3g}), the dtype of the model's output; "
            f"scale the targets, or make the model float64"
        )


def binary_cross_entropy(probability: Tensor, target: ArrayLike, **pytorch: object) -> Tensor:
    """Mean of -(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1].

    Each log is clamped at -100, as in PyTorch, so p = 0 or 1 gives a finite loss (and a
    confident right answer a loss of 0). The gradient is PyTorch's, (p - y) / (N max(p (1 - p),
    1e-12)) with N the number of entries: the exact derivative wherever p (1 - p) > 1e-12, and
    bounded closer to 0 and 1, where it is no longer the slope of the clamped loss. Prefer
    ``binary_cross_entropy_with_logits`` on the raw score: it needs neither clamp nor floor.
    """
    _no_pytorch_keywords("binary_cross_entropy", pytorch)
    probability = probability if isinstance(probability, Tensor) else Tensor(probability)
    y = _binary_target("binary_cross_entropy: probability", probability, target)
    p = probability.data
    if not np.all((p >= 0) & (p <= 1)):  # also False for NaN
        raise ValueError("binary_cross_entropy: probabilities must lie in [0, 1]")
    return apply(ops.binary_cross_entropy, probability, target=y)


def binary_cross_entropy_with_logits(
    logits: Tensor, target: ArrayLike, **pytorch: object
) -> Tensor:
    """``binary_cross_entropy(sigmoid(z), y)`` computed stably from the raw scores z:
    mean(log(1 + e^z) - z y), which never overflows. Its gradient is (sigmoid(z) - y) / N, N the
    number of entries."""
    _no_pytorch_keywords("binary_cross_entropy_with_logits", pytorch)
    logits = logits if isinstance(logits, Tensor) else Tensor(logits)
    if logits.op is ops.sigmoid:  # O(1): the node that made the logits
        raise ValueError(
            f"binary_cross_entropy_with_logits: the logits of shape {logits.shape} are the output "
            f"of sigmoid, but this loss applies sigmoid itself; pass the scores from before the "
            f"sigmoid (or use binary_cross_entropy on the probabilities)"
        )
    y = _binary_target("binary_cross_entropy_with_logits: logits", logits, target)
    return apply(ops.bce_with_logits, logits, target=y)


def _binary_target(what: str, x: Tensor, target: ArrayLike) -> np.ndarray:
    """The target as an array of x's dtype, after checking it fits ("loss: input" in ``what``)."""
    loss = what.split(":")[0]
    _no_target_graph(loss, target)
    given = as_array(target)
    if given.dtype.kind not in "biuf":  # text, None, complex: numpy would convert or fail
        raise TypeError(f"{loss}: targets must be real numbers in [0, 1], got dtype {given.dtype}")
    if x.shape != given.shape:  # broadcasting (N, 1) with (N,) would compare every pair
        fix = "they must match"
        if x.shape == (*given.shape, 1):  # a model with one output column, targets (N,)
            fix = f"pass {what.split(': ')[1]}[:, 0], or the targets as target[:, None]"
        raise ValueError(f"{what} shape {x.shape} and target shape {given.shape} differ; {fix}")
    if x.size == 0:
        raise ValueError(f"{loss}: the batch is empty")
    if not np.all((given >= 0) & (given <= 1)):  # before the cast: 1e300 would overflow float32
        raise ValueError(f"{loss}: targets must lie in [0, 1]")
    return np.array(given, dtype=x.dtype)  # a copy: target may be refilled before backward


# PyTorch's keywords that the functions above do not take, and what to write instead.
_PYTORCH_ONLY = {
    "dim": "the same argument is called axis= here, as in numpy",
    "reduction": "the loss is always the mean over the {terms}; for reduction='sum' multiply "
    "it by their number",
    "ignore_index": "leave those examples out first: keep = labels != ignore_index, then "
    "cross_entropy(logits[keep], labels[keep])",
    "label_smoothing": "pass smoothed rows as the labels: (1 - s) * np.eye(C)[labels] + s / C",
    "weight": "weighted losses are not built in; write your own (notebook 12)",
    "pos_weight": "weighted losses are not built in; write your own (notebook 12)",
}


def _no_pytorch_keywords(fn: str, given: dict[str, object]) -> None:
    """One line for a keyword of PyTorch's ``fn`` that ours does not take (or for a typo)."""
    is_loss = "loss" in fn or "entropy" in fn
    for name, value in given.items():
        if name == "reduction" and value == "mean":  # what the loss does anyway
            continue
        if name not in _PYTORCH_ONLY or (name == "dim") == is_loss:
            raise TypeError(f"{fn}() got an unexpected keyword argument {name!r}")
        terms = "examples" if fn == "cross_entropy" else "entries"
        hint = _PYTORCH_ONLY[name].format(terms=terms)
        raise TypeError(f"{fn}: there is no {name}= here (a keyword of PyTorch's); {hint}")


def _no_target_graph(loss: str, target: ArrayLike) -> None:
    """A loss's target gets no gradient: a target tensor that wants one is refused, not detached
    in silence."""
    if isinstance(target, Tensor) and target.requires_grad and is_grad_enabled():
        raise ValueError(
            f"{loss}: the target is a tensor that requires grad, but a target gets no gradient; "
            f"pass target.detach() (or a numpy array)"
        )
