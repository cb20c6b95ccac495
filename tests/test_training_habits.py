"""fit and the data sets as a learner uses them after notebooks 09-12, with habits from PyTorch,
scikit-learn and plain numpy. The reference is the same training written out by hand (numpy
indexing, the engine and the optimizer directly, the loss and accuracy of the last epoch in
numpy); where the input cannot work, one line naming the function."""

import warnings

import numpy as np
import pytest

import backproplab as bl
from backproplab.datasets import circles, digits, minibatches, moons, spirals, xor
from backproplab.nn import MLP, BatchNorm1d, Dropout, Linear, ReLU, Sequential
from backproplab.optim import SGD
from backproplab.train import evaluate, fit

X, Y = moons(50, rng=3)


def _cross_entropy(logits, y):
    """Mean cross-entropy in plain numpy (integer labels)."""
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def _model():
    return MLP([2, 8, 2], rng=1)


def _by_hand(model, X, y, batch_size, epochs, rng, test=None, params=None):
    """The loop fit runs, written out: returns (train loss, train acc, test loss, step losses)."""
    opt = SGD(params or model.parameters(), lr=0.1)
    train_loss, train_acc, test_loss, step_loss = [], [], [], []
    for _ in range(epochs):
        model.train()
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            i = order[start : start + batch_size]
            opt.zero_grad()
            loss = bl.cross_entropy(model(bl.Tensor(X[i])), y[i])
            loss.backward()
            opt.step()
            step_loss.append(loss.item())
        model.eval()
        with bl.no_grad():
            logits = model(bl.Tensor(X)).data
            test_logits = model(bl.Tensor(test[0])).data if test is not None else None
        train_loss.append(_cross_entropy(logits, y))
        train_acc.append(np.mean(logits.argmax(axis=1) == y))
        if test is not None:
            test_loss.append(_cross_entropy(test_logits, test[1]))
    return train_loss, train_acc, test_loss, step_loss


@pytest.mark.parametrize("batch_size", [7, 50, 64, 1])
@pytest.mark.parametrize("epochs", [0, 3])
def test_fit_matches_the_loop_written_by_hand(batch_size, epochs):
    mine = _model()
    expected = _by_hand(
        mine, X, Y, batch_size, epochs, np.random.default_rng(5), test=(X[:9], Y[:9])
    )
    model = _model()
    h = fit(model, X, Y, SGD(model.parameters(), lr=0.1), epochs=epochs, batch_size=batch_size,
            rng=5, test=(X[:9], Y[:9]))  # fmt: skip
    got = (h.train_loss, h.train_acc, h.test_loss, h.step_loss)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=0)
    assert len(h.step_loss) == epochs * -(-50 // batch_size)
    for p, q in zip(mine.parameters(), model.parameters()):
        np.testing.assert_array_equal(q.data, p.data)


def test_fit_with_rng_none_shuffles_as_seed_0_like_the_data_sets():
    expected = _by_hand(_model(), X, Y, 8, 2, np.random.default_rng(0))[0]
    runs = []
    for _ in range(2):  # before: a fresh generator from the OS each call
        model = _model()
        h = fit(model, X, Y, SGD(model.parameters(), lr=0.1), epochs=2, batch_size=8, rng=None)
        runs.append(h.train_loss)
    np.testing.assert_allclose(runs[0], expected, rtol=1e-12)
    np.testing.assert_allclose(runs[1], expected, rtol=1e-12)


@pytest.mark.parametrize("rng", [1.5, -1, "0"])
def test_fit_names_a_seed_it_cannot_use(rng):
    model = _model()
    with pytest.raises(TypeError, match=r"^fit: rng must be a numpy Generator or a seed"):
        fit(model, X, Y, SGD(model.parameters(), lr=0.1), rng=rng)


def test_one_generator_given_to_two_fits_draws_new_orders_and_each_history_restarts():
    """As a DataLoader with a generator: the second call goes on drawing from it."""
    mine = _model()
    g = np.random.default_rng(7)
    first = _by_hand(mine, X, Y, 8, 1, g)[0]
    second = _by_hand(mine, X, Y, 8, 1, g, params=None)[0]
    model, g = _model(), np.random.default_rng(7)
    opt = SGD(model.parameters(), lr=0.1)
    h1 = fit(model, X, Y, opt, epochs=1, batch_size=8, rng=g)
    h2 = fit(model, X, Y, opt, epochs=1, batch_size=8, rng=g)
    np.testing.assert_allclose([h1.train_loss, h2.train_loss], [first, second], rtol=1e-12)
    assert len(h2.train_loss) == 1  # a new History of the new epochs (documented)


@pytest.mark.parametrize(
    "labels",
    [Y.tolist(), Y.astype(np.int8), Y.astype(np.uint8), Y.astype(np.int32), np.eye(2)[Y]],
    ids=["list", "int8", "uint8", "int32", "one-hot"],
)
def test_labels_in_other_forms_give_the_same_history(labels):
    expected = _by_hand(_model(), X, Y, 8, 2, np.random.default_rng(0))
    model = _model()
    h = fit(model, X.tolist(), labels, SGD(model.parameters(), lr=0.1), epochs=2, batch_size=8,
            test=(bl.Tensor(X), labels))  # fmt: skip
    np.testing.assert_allclose(h.train_loss, expected[0], rtol=1e-12)
    np.testing.assert_allclose(h.train_acc, expected[1], rtol=1e-12)
    np.testing.assert_allclose(h.test_acc, expected[1], rtol=1e-12)


def test_dropout_and_batchnorm_train_in_training_mode_and_are_measured_in_evaluation_mode():
    def net():
        return Sequential(Linear(2, 8, rng=1), BatchNorm1d(8), ReLU(), Dropout(0.5, rng=2),
                          Linear(8, 2, rng=3))  # fmt: skip

    mine, model = net(), net()
    expected = _by_hand(mine, X, Y, 16, 2, np.random.default_rng(0), test=(X[:10], Y[:10]))
    h = fit(model, X, Y, SGD(model.parameters(), lr=0.1), epochs=2, batch_size=16,
            test=(X[:10], Y[:10]))  # fmt: skip
    np.testing.assert_allclose(h.train_loss, expected[0], rtol=1e-12)
    np.testing.assert_allclose(h.test_loss, expected[2], rtol=1e-12)
    bn, my_bn = model.layers[1], mine.layers[1]  # evaluating moved no running statistic
    np.testing.assert_array_equal(bn.running_mean, my_bn.running_mean)
    np.testing.assert_array_equal(bn.running_var, my_bn.running_var)
    assert not any(m.training for _, m in model.named_modules())


@pytest.mark.parametrize("where", ["X_train", "y_train", "X_test"])
def test_fit_refuses_nan_in_the_data_instead_of_a_nan_history(where):
    X_, y_ = X.copy(), Y[:, None].astype(np.float64)  # regression targets: mse_loss, no error
    X_t = X.copy()
    {"X_train": X_, "y_train": y_, "X_test": X_t}[where][3, 0] = np.nan
    model = MLP([2, 8, 1], rng=1)
    with pytest.raises(
        ValueError, match=rf"^fit: {where} \(shape .*\) holds NaN or inf, first in row 3"
    ):
        fit(model, X_, y_, SGD(model.parameters(), lr=0.1), loss_fn=bl.mse_loss,
            test=(X_t, y_))  # fmt: skip


@pytest.mark.parametrize(
    "loss_fn, message",
    [
        (lambda z, y: bl.cross_entropy(z, y).item(), "returned a value of type float"),
        (lambda z, y: bl.cross_entropy(z, y).data, "returned a value of type ndarray"),
        (lambda z, y: -bl.log_softmax(z, axis=1), r"returned a tensor of shape \(8, 2\)"),
        (
            lambda z, y: bl.Tensor(bl.cross_entropy(z, y).data),
            "returned a tensor with no graph back",
        ),
    ],
    ids=["float", "ndarray", "per-example", "no graph"],
)
def test_fit_names_a_loss_fn_that_returns_no_loss(loss_fn, message):
    model = _model()
    with pytest.raises((TypeError, ValueError), match=rf"^fit: loss_fn {message}"):
        fit(model, X, Y, SGD(model.parameters(), lr=0.1), batch_size=8, loss_fn=loss_fn)


def test_an_optimizer_over_the_last_layer_only_leaves_no_stale_gradient_in_the_first():
    """Training the head alone: the first layer's gradient norm is each batch's, not a sum
    growing step by step (which also warned of gradient accumulation at every step)."""
    mine = _model()
    head = mine.parameters()[2:]
    rng, norms = np.random.default_rng(0), []
    opt = SGD(head, lr=0.1)
    order = rng.permutation(len(X))
    for start in range(0, len(X), 8):
        i = order[start : start + 8]
        mine.zero_grad()
        bl.cross_entropy(mine(bl.Tensor(X[i])), Y[i]).backward()
        norms.append(np.linalg.norm(mine.layers[0].weight.grad))
        opt.step()
    model = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = fit(model, X, Y, SGD(model.parameters()[2:], lr=0.1), epochs=1, batch_size=8,
                diagnostics=True)  # fmt: skip
    np.testing.assert_allclose(h.diagnostics.grad_norm[:, 0], norms, rtol=1e-12)
    np.testing.assert_array_equal(model.layers[0].weight.data, mine.layers[0].weight.data)


def test_an_interrupted_fit_leaves_the_model_in_evaluation_mode_and_says_what_was_kept():
    model, calls = Sequential(Linear(2, 8, rng=1), Dropout(0.5, rng=2), Linear(8, 2, rng=3)), []

    def loss_fn(z, y):  # the learner presses stop during the 10th step (7 steps an epoch)
        calls.extend([1] if bl.is_grad_enabled() else [])  # a step, not an evaluation
        if len(calls) == 10:
            raise KeyboardInterrupt
        return bl.cross_entropy(z, y)

    with pytest.raises(KeyboardInterrupt) as stop:
        fit(model, X, Y, SGD(model.parameters(), lr=0.1), epochs=3, batch_size=8,
            loss_fn=loss_fn, diagnostics=True)  # fmt: skip
    assert not any(m.training for _, m in model.named_modules())
    assert stop.value.__notes__ == [
        "fit: interrupted in epoch 2 of 3 (step 10); the model keeps the steps taken, in "
        "evaluation mode; no History is returned (pass history=bl.train.History() to keep one)"
    ]
    assert not any("forward" in vars(m) for _, m in model.named_modules())  # no spy left


@pytest.mark.parametrize("where", ["X_train", "X_test"])
def test_fit_names_data_whose_rows_differ_in_length(where):
    ragged = [[1.0, 2.0], [3.0]] * 25  # numpy's words before, naming neither fit nor the data
    X_, X_t = (ragged, X) if where == "X_train" else (X, ragged)
    model = _model()
    with pytest.raises(ValueError, match=rf"^fit: {where} must be an array of numbers with rows"):
        fit(model, X_, Y, SGD(model.parameters(), lr=0.1), test=(X_t, Y))


def test_evaluate_names_a_loss_fn_that_returns_a_float():
    with pytest.raises(TypeError, match=r"^evaluate: loss_fn returned a value of type float"):
        evaluate(_model(), X, Y, loss_fn=lambda z, y: bl.cross_entropy(z, y).item())


def test_fit_refuses_a_test_set_that_is_not_a_pair():
    model = _model()
    with pytest.raises(ValueError, match=r"^fit: test must be a pair \(X_test, y_test\)"):
        fit(model, X, Y, SGD(model.parameters(), lr=0.1), test={"X": X, "y": Y})


# ------------------------------------------------------------------------------ data sets
@pytest.mark.parametrize("make", [moons, circles, spirals, xor])
def test_generators_refuse_noise_that_is_no_standard_deviation(make):
    name = make.__name__
    for noise in (-0.1, float("nan"), float("inf")):  # before: NaN points, or a mirrored jitter
        with pytest.raises(ValueError, match=rf"^{name}: noise must be a standard deviation"):
            make(noise=noise)
    with pytest.raises(TypeError, match=rf"^{name}: noise must be a number"):
        make(noise="0.1")


@pytest.mark.parametrize("make", [moons, circles, spirals, xor])
def test_generators_name_a_seed_they_cannot_use(make):
    for rng in (1.5, -1):
        with pytest.raises(TypeError, match=rf"^{make.__name__}: rng must be a numpy Generator"):
            make(rng=rng)
    with pytest.raises(TypeError, match=r"^minibatches: rng must be a numpy Generator"):
        list(minibatches(X, Y, rng=1.5))
    np.testing.assert_array_equal(make(rng=None)[0], make(rng=0)[0])


def test_digits_refuses_an_integer_dtype_that_would_round_the_standardized_pixels():
    with pytest.raises(TypeError, match=r"^digits: dtype must be a float dtype"):
        digits(dtype=int)


def test_digits_test_images_are_not_in_the_training_set():
    data = digits(standardize=False)
    seen = {row.tobytes() for row in data.X_train}
    assert not any(row.tobytes() in seen for row in data.X_test)
    assert len(data.X_train) + len(data.X_test) == 1797


@pytest.mark.parametrize("rng", [True, False, np.True_])
def test_a_bool_is_no_seed(rng):
    # rng=True reads as "random" but numpy took it as seed 1: the same order on every run
    model = _model()
    with pytest.raises(TypeError, match=r"^fit: rng=(np\.)?(True|False|True_)\)? is no seed"):
        fit(model, X, Y, SGD(model.parameters(), lr=0.1), rng=rng)
    with pytest.raises(TypeError, match=r"^moons: rng=.* is no seed; .*np.random.default_rng\(\)"):
        moons(10, rng=rng)
