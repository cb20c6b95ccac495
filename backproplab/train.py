"""Training: ``train_step``, ``fit`` and its ``History``, ``evaluate``, and per-layer diagnostics.

One training step is four lines, and ``train_step`` is those lines (plus making X a tensor in the
parameters' dtype, and returning the loss as a number)::

    optimizer.zero_grad()              # forget the last step's gradients
    loss = loss_fn(model(X), y)        # forward pass
    loss.backward()                    # backward pass: fills p.grad for every parameter
    optimizer.step()                   # p <- p - lr * (something made of p.grad)

``fit`` repeats it over shuffled minibatches for some epochs and records the loss and accuracy
after each epoch. With ``diagnostics=True`` it also records, layer by layer, what notebooks 10
to 13 plot: the gradient norm, the update/weight ratio, the mean and standard deviation of the
activations and the fraction of dead (always-zero) ReLU units.

Progress bar: ``progress=False`` by default, so notebooks whose outputs are stored and compared
(nbval) stay deterministic; pass ``progress=True`` for a ``tqdm.auto`` bar (a widget in Jupyter).
The environment variable ``TQDM_DISABLE=1`` turns every bar off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._diagnostics import Diagnostics, Recorder, joined
from ._numbers import count
from .autodiff import no_grad
from .datasets import RngLike, generator, minibatches
from .functional import cross_entropy
from .nn import Module
from .optim import Optimizer
from .tensor import Tensor, as_array

__all__ = [
    "Diagnostics",
    "History",
    "accuracy",
    "evaluate",
    "fit",
    "predict",
    "train_step",
]

LossFn = Callable[[Tensor, np.ndarray], Tensor]


def _model_dtype(model: Module) -> np.dtype:
    params = model.parameters()
    return params[0].dtype if params else np.dtype(np.float64)


def train_step(
    model: Module,
    optimizer: Optimizer,
    X: np.ndarray | Tensor,
    y: np.ndarray,
    loss_fn: LossFn = cross_entropy,
) -> float:
    """One step of gradient descent on the batch (X, y); returns the loss before the step."""
    _check_model_and_optimizer("train_step", model, optimizer)  # swapped: one clear line
    optimizer.zero_grad()
    if not isinstance(X, Tensor):  # in the parameters' dtype: a float32 model stays float32
        X = Tensor(X, dtype=optimizer.params[0].dtype)
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def _check_model_and_optimizer(caller: str, model: object, optimizer: object) -> None:
    """One line when the model and the optimizer are not where ``caller`` takes them (swapped,
    or X in the place of one): the error came from deep inside, naming neither."""
    if not isinstance(model, Module) or not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{caller}: expected a Module and an Optimizer, got a {type(model).__name__} and a "
            f"{type(optimizer).__name__}; call {_CALLS[caller]}"
        )


_CALLS = {
    "train_step": "train_step(model, optimizer, X, y)",
    "fit": "fit(model, X, y, optimizer=SGD(model.parameters()))",
}


def predict(model: Module, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """The model's outputs (e.g. logits) for every row of X as a numpy array, without a graph.

    The model runs in evaluation mode (Dropout off, BatchNorm on its running averages, which
    stay unchanged), whatever its mode; each module's mode is restored afterwards."""
    count("predict", "batch_size", batch_size, 1)
    if np.ndim(X) < 2:  # one example's features would be cut into "rows"
        raise ValueError(
            f"predict: X must have one row per example, got shape {np.shape(X)}; for one "
            f"example x, pass x[None] (shape (1, ...))"
        )
    dtype = _model_dtype(model)
    modes = [(m, m.training) for _, m in model.named_modules()]
    model.eval()
    try:
        with no_grad():
            outs = [
                model(Tensor(X[i : i + batch_size], dtype=dtype)).data
                for i in range(0, max(len(X), 1), batch_size)  # no rows: one empty batch
            ]
    finally:
        for m, mode in modes:
            m.training = mode
    return np.concatenate(outs)


def accuracy(logits: np.ndarray | Tensor, labels: np.ndarray) -> float:
    """The fraction of rows whose largest logit is at the true label's index."""
    logits = as_array(logits)
    labels = np.asarray(labels)
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(
            f"accuracy: expected logits (N, K) and labels (N,), got shapes {logits.shape} "
            f"and {labels.shape}"
        )
    if len(labels) == 0:  # the mean of nothing: NaN, with numpy's warning
        raise ValueError("accuracy: no rows: the accuracy of an empty batch is not defined")
    if logits.shape[1] == 1:  # argmax would always be 0
        raise ValueError(
            f"accuracy: logits of shape {logits.shape} have one column, so the largest is always "
            f"class 0; for one binary logit compare (logits[:, 0] > 0) with the labels"
        )
    if labels.size and not (
        labels.dtype.kind in "iub" and labels.min() >= 0 and labels.max() < logits.shape[1]
    ):  # 0.5, 1.5 or 7 never equals an argmax: the accuracy would be 0 without a word
        raise ValueError(
            f"accuracy: labels must be class indices 0..{logits.shape[1] - 1} (integers), got "
            f"dtype {labels.dtype} from {labels.min()} to {labels.max()}"
        )
    return float(np.mean(logits.argmax(axis=1) == labels))


def evaluate(
    model: Module, X: np.ndarray, y: np.ndarray, loss_fn: LossFn = cross_entropy
) -> tuple[float, float]:
    """(loss, accuracy) of the model on (X, y), computed without building a graph, in
    evaluation mode (see ``predict``).

    Labels given as rows of class probabilities (one-hot rows, shaped like the logits) count
    as the class of their largest entry. The accuracy is NaN when the labels are not classes
    (e.g. regression targets) or when the model has a single output column.
    """
    if len(X) == 0:
        raise ValueError(f"evaluate: X has no rows (shape {np.shape(X)}); nothing to evaluate")
    logits = predict(model, X)
    with no_grad():
        loss = _checked(loss_fn, "evaluate")(Tensor(logits), y).item()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape == logits.shape and _probability_rows(y):  # e.g. one-hot rows
        y = y.argmax(axis=1)
    is_classes = y.dtype.kind in "iu" and logits.ndim == 2 and y.shape == logits.shape[:1]
    is_classes = is_classes and logits.shape[1] > 1  # one column: no argmax to compare
    is_classes = is_classes and (
        y.size == 0 or int(np.min(y)) >= 0 and int(np.max(y)) < logits.shape[1]
    )
    return loss, accuracy(logits, y) if is_classes else float("nan")


def _checked(loss_fn: LossFn, caller: str) -> LossFn:
    """``loss_fn``, with a one-line error naming ``caller`` when what it returns is no loss to
    call ``backward`` on (a float, a non-scalar tensor, a tensor cut off from the model)."""

    def loss(out: Tensor, y: np.ndarray) -> Tensor:
        value = loss_fn(out, y)
        if not isinstance(value, Tensor) or value.size != 1:
            what = (
                f"tensor of shape {value.shape}"
                if isinstance(value, Tensor)
                else f"value of type {type(value).__name__}"
            )
            raise TypeError(
                f"{caller}: loss_fn returned a {what} for logits of shape {out.shape}; it must "
                f"return a scalar Tensor (e.g. the .mean() of the per-example losses)"
            )
        if out.requires_grad and not value.requires_grad:  # .item(), .data or numpy in between
            raise ValueError(
                f"{caller}: loss_fn returned a tensor with no graph back to the logits of shape "
                f"{out.shape}; compute it from them with bl operations (no .data, .item() or numpy)"
            )
        return value

    return loss


def _rows(name: str, data: object, dtype: np.dtype | None = None) -> np.ndarray:
    """``np.asarray(data, dtype)``, with one line for rows of different lengths or for text."""
    try:
        return np.asarray(data, dtype=dtype)
    except ValueError:  # numpy: "setting an array element with a sequence. The requested..."
        raise ValueError(
            f"fit: {name} must be an array of numbers with rows of one length (nested lists whose "
            f"rows differ, or text, cannot be)"
        ) from None


def _finite(name: str, data: object) -> None:
    """A one-line error when the data hold NaN or inf (a NaN History, without a word)."""
    a = _rows(name, data)
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        row = int(np.argwhere(~np.isfinite(a))[0][0])
        raise ValueError(
            f"fit: {name} (shape {a.shape}) holds NaN or inf, first in row {row}; every loss "
            f"and gradient would be NaN"
        )


def _training_data(model: Module, X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """X as an array in the model's dtype and y as an array, one label per row, or a one-line
    error naming fit."""
    X, y = _rows("X_train", X), _rows("y_train", y)
    if np.iscomplexobj(X):  # the cast below would drop the imaginary parts with a warning
        raise TypeError("fit: X_train holds complex numbers; a model takes real numbers")
    X = _rows("X_train", X, _model_dtype(model))
    if X.ndim == 0 or len(X) == 0:
        raise ValueError(f"fit: X_train has no rows (shape {X.shape}); nothing to train on")
    if y.ndim == 0 or len(X) != len(y):  # y_train=None is a 0-d array
        labels = len(y) if y.ndim else "no"
        raise ValueError(f"fit: X_train has {len(X)} rows but y_train has {labels} labels")
    return X, y


def _untrained(model: Module, optimizer: Optimizer) -> list[Tensor]:
    """The model's parameters that the optimizer does not update (e.g. a body left as it is);
    an error if it updates none of them."""
    params, trained = model.parameters(), {id(p) for p in optimizer.params}
    untrained: list[Tensor] = [p for p in params if id(p) not in trained]
    if len(untrained) == len(params):
        raise ValueError(  # e.g. the model's cell was run again but not the optimizer's
            "fit: none of the optimizer's parameters belongs to this model, so training would "
            "change nothing; build the optimizer from this model's parameters()"
        )
    return untrained


def _check_test_data(test: object) -> None:
    """A one-line error for ``test`` that is not a pair (X_test, y_test) of as many rows."""
    if test is None:
        return
    if not isinstance(test, (tuple, list)) or len(test) != 2:
        raise ValueError("fit: test must be a pair (X_test, y_test)")
    if np.ndim(test[1]) and len(test[0]) != len(test[1]):  # found after epoch 1, otherwise,
        raise ValueError(  # by the loss, whose message named neither fit nor the test data
            f"fit: X_test has {len(test[0])} rows but y_test has {len(test[1])} labels"
        )


def _probability_rows(y: np.ndarray) -> bool:
    """Whether every row of y is a distribution over classes (>= 0, summing to 1)."""
    return y.dtype.kind == "f" and bool(np.all(y >= 0) and np.allclose(y.sum(axis=1), 1))


@dataclass
class History:
    """What ``fit`` recorded: per-epoch lists (index 0 is after the first epoch), the loss of
    every step, and optional per-layer ``diagnostics``. Test entries are NaN without test data."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    diagnostics: Diagnostics | None = None

    @property
    def epochs(self) -> np.ndarray:
        """1, 2, ..., the number of epochs run (for the x-axis of a plot)."""
        return np.arange(1, len(self.train_loss) + 1)

    def __repr__(self) -> str:
        if not self.train_loss:
            return "History(no epochs)"

        def num(v: float) -> str:  # a diverged loss such as 1e190: not 190 digits
            return f"{v:.4f}" if abs(v) < 1e6 else f"{v:.4g}"

        last = (
            f"train loss {num(self.train_loss[-1])}, train acc {num(self.train_acc[-1])}, "
            f"test loss {num(self.test_loss[-1])}, test acc {num(self.test_acc[-1])}"
        )
        return f"History({len(self.train_loss)} epochs; last: {last})"


def _whole_epochs(history: History) -> None:
    """Cut the per-epoch lists to the epochs whose four entries were all recorded."""
    lists = (history.train_loss, history.train_acc, history.test_loss, history.test_acc)
    n = min(map(len, lists))
    for values in lists:
        del values[n:]


def fit(
    model: Module,
    X_train: np.ndarray,
    y_train: np.ndarray,
    optimizer: Optimizer,
    *,
    epochs: int = 10,
    batch_size: int = 64,
    loss_fn: LossFn = cross_entropy,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    rng: RngLike = 0,
    diagnostics: bool | int = False,
    progress: bool = False,
    history: History | None = None,
) -> History:
    """Train ``model`` on (X_train, y_train) with minibatch gradient descent; return a History.

    Each epoch visits the training data once in a new shuffled order drawn from ``rng``, takes
    one ``train_step`` per batch, then evaluates the loss and accuracy on the training data and,
    when given, on ``test = (X_test, y_test)``. Each epoch trains in training mode (Dropout on,
    BatchNorm on batch statistics); the model is left in evaluation mode, ready to use, so call
    ``model.train()`` before training it further with ``train_step`` yourself.

    ``rng`` is a numpy Generator or a seed (None is seed 0, as in ``datasets``). Calling ``fit``
    again trains on from where the model and the optimizer are and returns a new History of the
    new epochs only; with the same seed it shuffles in the same orders as before (pass one
    Generator to both calls for new ones). Only the optimizer's parameters are trained; every
    gradient of the model is cleared before each step.

    ``history=`` a History (e.g. ``bl.train.History()``): the new epochs are added to it, and it
    is returned. One History then spans several calls (its steps and epochs count on), and it
    keeps what was recorded when training is interrupted (KeyboardInterrupt: the finished epochs,
    and in ``step_loss`` the steps taken). Interrupted, the model keeps the steps taken and is
    left in evaluation mode.

    ``diagnostics=True`` records per-layer statistics at every step (an integer n: every n-th
    step) into ``history.diagnostics`` (see ``Diagnostics``). ``progress=True`` shows a
    ``tqdm.auto`` progress bar over epochs (off by default: see the module docstring).
    """
    _check_model_and_optimizer("fit", model, optimizer)
    if not callable(loss_fn):  # loss_fn="cross_entropy"
        raise TypeError(
            f"fit: loss_fn must be a function such as bl.cross_entropy, got {loss_fn!r}"
        )
    epochs = count("fit", "epochs", epochs, 0)
    count("fit", "batch_size", batch_size, 1)
    if not isinstance(diagnostics, bool):  # or record every n-th step
        diagnostics = count("fit", "diagnostics (True or every how many steps)", diagnostics, 0)
    X_train, y_train = _training_data(model, X_train, y_train)
    untrained = _untrained(model, optimizer)  # their gradients are cleared before each step
    _check_test_data(test)
    data = (X_train, y_train, *(test or ()))
    for name, a in zip(("X_train", "y_train", "X_test", "y_test"), data):
        _finite(name, a)
    rng = generator(rng, "fit")
    loss_fn = _checked(loss_fn, "fit")
    every = int(diagnostics)
    recorder = Recorder(model) if every else None
    given = history
    if history is None:
        history = History()
    elif not isinstance(history, History):
        got = "the class itself" if history is History else f"a {type(history).__name__}"
        raise TypeError(
            f"fit: history must be a bl.train.History() (to add the new epochs to), got {got}"
        )
    elif recorder is not None and history.diagnostics is not None:
        joined(history.diagnostics, recorder.result())  # before training: another model's?
    first_step, first_epoch = len(history.step_loss), len(history.train_loss)
    epoch_iter = range(first_epoch + 1, first_epoch + epochs + 1)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = bar = tqdm(epoch_iter, desc="epochs", unit="epoch")
    step, epoch = first_step, first_epoch
    try:
        for epoch in epoch_iter:
            model.train()
            for Xb, yb in minibatches(X_train, y_train, batch_size, shuffle=True, rng=rng):
                step += 1
                record = recorder if recorder is not None and step % every == 0 else None
                if record is not None:
                    record.start()
                for p in untrained:  # train_step clears the optimizer's: no stale gradient here
                    p.grad = None
                try:
                    loss = train_step(model, optimizer, Tensor(Xb), yb, loss_fn)
                finally:
                    if record is not None:
                        record.unwatch()  # never leave a spy behind, even after an error
                history.step_loss.append(loss)
                if record is not None:
                    record.finish(step, epoch)
            model.eval()
            loss, acc = evaluate(model, X_train, y_train, loss_fn)
            history.train_loss.append(loss)
            history.train_acc.append(acc)
            if test is not None:
                loss, acc = evaluate(model, test[0], test[1], loss_fn)
            else:
                loss, acc = float("nan"), float("nan")
            history.test_loss.append(loss)
            history.test_acc.append(acc)
            if bar is not None:
                bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}", test_acc=f"{acc:.4f}")
    except KeyboardInterrupt as stop:
        where = (
            f"fit: interrupted in epoch {epoch - first_epoch} of {epochs} "
            f"(step {step - first_step})"
        )
        _whole_epochs(history)
        done = len(history.train_loss)
        kept = (
            f"the History passed as history= holds {done} finished epoch{'s' * (done != 1)} "
            f"and the losses of {len(history.step_loss)} steps"
            if given is not None
            else "no History is returned (pass history=bl.train.History() to keep one)"
        )
        stop.add_note(f"{where}; the model keeps the steps taken, in evaluation mode; {kept}")
        raise
    finally:
        model.eval()  # (also after 0 epochs or an error: the docstring's promise)
        _whole_epochs(history)  # stopped between two appends, its lists would differ in length
        if recorder is not None:  # what was recorded, also when interrupted
            history.diagnostics = joined(history.diagnostics, recorder.result())
    return history
