"""Tests for backproplab.tape: a replay gives the eager numbers bit for bit, keeps one tape per
input signature, checks fn until it agrees on new inputs, and keeps the ordinary errors,
anomaly checks and backward pass.

Expected numbers always come from the ordinary (eager) path of the same package, which the
other test files check independently, never from the replay itself.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import backproplab as bl
from backproplab import autodiff, datasets, nn, optim, train
from backproplab.autodiff import MODE

C = 10  # classes of every model here (64 inputs, like the 8x8 digits)


# ------------------------------------------------------------------------------------ helpers
def batch(seed, n=8, dtype=np.float64):
    """A batch of standard-normal inputs (n, 64) and integer labels in 0..9."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 64)).astype(dtype), rng.integers(0, C, n)


def mlp(dtype=np.float64):
    return nn.MLP([64, 32, C], rng=0, dtype=dtype)


def counted(fn):
    """fn, counting how often it really runs (a replay that only refills does not run it)."""

    def wrapper(*args):
        wrapper.runs += 1
        return fn(*args)

    wrapper.runs = 0
    return wrapper


def only_tape(r):
    (tape,) = r.tapes.values()
    return tape


def error_message(exc, fn, *args):
    """The one-line message of the error ``fn(*args)`` raises (for comparing with eager)."""
    with pytest.raises(exc) as info:
        fn(*args)
    message = str(info.value)
    assert "\n" not in message, message
    return message


def grads(model):
    return [p.grad.copy() for p in model.parameters()]


# --------------------------------------------------- 1. the same numbers as the eager path
MODELS = {
    "mlp-float64": lambda: mlp(np.float64),
    "mlp-float32": lambda: mlp(np.float32),
    "deep-residual": lambda: nn.deep_network(8, 16, residual=True, init=0.05, rng=0),
    "deep-plain": lambda: nn.deep_network(6, 16, residual=False, activation="tanh", rng=0),
}


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_replayed_steps_equal_eager_steps_bit_for_bit(make):
    """Momentum makes every step depend on all earlier ones: any drift would show."""
    eager_model, replay_model = make(), make()
    dtype = eager_model.parameters()[0].dtype
    eager_opt = optim.SGD(eager_model.parameters(), lr=0.05, momentum=0.9)
    replay_opt = optim.SGD(replay_model.parameters(), lr=0.05, momentum=0.9)
    step = train.replayed_step(replay_model, replay_opt)
    sizes = [32, 32, 32, 20, 32, 20, 32]  # a smaller batch in between: a second tape
    eager_losses, replay_losses = [], []
    for seed, n in enumerate(sizes):
        X, y = batch(seed, n, dtype)
        eager_losses.append(train.train_step(eager_model, eager_opt, X, y))
        replay_losses.append(step(X, y))
    assert replay_losses == eager_losses
    assert len(set(eager_losses)) == len(sizes)  # the batches really differ
    for p, q in zip(eager_model.parameters(), replay_model.parameters()):
        assert q.dtype == p.dtype == dtype
        assert np.array_equal(q.data, p.data)
        assert np.array_equal(q.grad, p.grad)  # the last step's gradients too


@pytest.fixture(scope="module")
def digits():
    return datasets.digits()


@pytest.mark.parametrize("diagnostics", [False, 2])
def test_fit_with_replay_returns_the_same_history(digits, diagnostics, monkeypatch):
    """1347 rows in batches of 128: 10 full batches and one of 67, so two tapes. Over 3 epochs
    of 11 steps, with diagnostics=2 the 67-row batch is step 11 (recorded), 22 (eager: it
    records diagnostics) and 33 (checked)."""
    made = []
    real_replay = train.Replay
    monkeypatch.setattr(train, "Replay", lambda fn: made.append(real_replay(fn)) or made[-1])
    X, y, Xt, yt = digits
    histories = []
    for replay in (False, True):
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        history = train.fit(
            model, X, y, optimizer=opt, epochs=3, batch_size=128, test=(Xt, yt), rng=0,
            diagnostics=diagnostics, replay=replay,
        )  # fmt: skip
        histories.append(history)
    eager, replayed = histories
    assert len(replayed.step_loss) == 33
    for field in ("step_loss", "train_loss", "train_acc", "test_loss", "test_acc"):
        assert getattr(replayed, field) == getattr(eager, field), field
    if diagnostics:
        d, e = replayed.diagnostics, eager.diagnostics
        assert d.step.tolist() == list(range(2, 34, 2))
        for field in ("step", "epoch", "grad_norm", "update_ratio", "act_mean", "act_std"):
            assert np.array_equal(getattr(d, field), getattr(e, field)), field
        assert np.array_equal(d.dead_fraction, e.dead_fraction)
    else:
        assert replayed.diagnostics is None
    (r,) = made  # only the replayed run makes a Replay
    shapes = sorted(key[1][1] for key in r.tapes)
    assert shapes == [(67, 64), (128, 64)]
    assert all(tape.checked for tape in r.tapes.values())


# ------------------------------------------------------------ 2. one tape per input signature
def test_a_smaller_batch_records_a_second_tape():
    model = mlp()
    fn = lambda X, y: bl.cross_entropy(model(X), y)
    r = bl.replay(fn)
    X8, y8 = batch(0, 8)
    X5, y5 = batch(1, 5)
    big = r(X8, y8)
    small = r(X5, y5)
    assert len(r.tapes) == 2
    assert small is not big
    assert small.item() == fn(X5, y5).item()
    assert big.item() == fn(X8, y8).item()  # the first tape was not disturbed
    assert r(*batch(2, 8)) is big  # back to the first tape, refilled
    assert big.item() == fn(*batch(2, 8)).item()
    assert len(r.tapes) == 2


def test_repr_lists_the_recorded_shapes():
    def loss(X, y):
        return bl.cross_entropy(mlp()(X), y)

    r = bl.replay(loss)
    assert repr(r) == "Replay(loss, recorded for: none yet)"
    r(*batch(0, 8))
    r(*batch(1, 5))
    assert repr(r) == "Replay(loss, recorded for: (8, 64), (8,); (5, 64), (5,))"


def test_float32_and_float64_inputs_get_separate_tapes():
    fn = lambda X: (bl.tanh(X) * 3).sum()  # the ops take X as it is, in either dtype
    r = bl.replay(fn)
    X64 = batch(0)[0]
    X32 = X64.astype(np.float32)
    out64, out32 = r(X64), r(X32)
    assert len(r.tapes) == 2 and out64 is not out32
    assert out64.dtype == np.float64 and out32.dtype == np.float32
    assert np.array_equal(out32.data, fn(X32).data)
    assert np.array_equal(out64.data, fn(X64).data)


def test_no_grad_calls_use_a_tape_of_their_own():
    model = mlp()
    fn = lambda X, y: bl.cross_entropy(model(X), y)
    r = bl.replay(fn)
    X, y = batch(0)
    with_grad = r(X, y)
    with bl.no_grad():
        without = r(X, y)
        assert r(*batch(1)) is without
    assert len(r.tapes) == 2 and without is not with_grad
    assert with_grad.requires_grad and not without.requires_grad
    assert without.order is None  # nothing to differentiate: nothing sorted
    assert without.item() == fn(*batch(1)).item()
    with pytest.raises(RuntimeError, match=r"does not require grad"):
        without.backward()


# --------------------------------------------------------- 3. fn is checked against itself
def test_numpy_on_an_input_is_caught_at_the_first_new_inputs():
    model = mlp()
    r = bl.replay(lambda X, y: bl.cross_entropy(model(X), y) + bl.Tensor(X.sum()))
    r(*batch(0))
    # nodes: 0 linear, 1 relu, 2 linear, 3 cross_entropy, 4 add (of the frozen X.sum())
    message = (
        r"^replay: node 4 \('add', shape \(\)\) of the replay differs from running fn again: fn "
        r"computes something outside the ops \(numpy on its inputs, random numbers\) that the "
        r"recording froze; call it without replay$"
    )
    with pytest.raises(bl.ReplayError, match=message):
        r(*batch(1))
    assert not only_tape(r).checked
    with pytest.raises(bl.ReplayError, match=message):  # it stays checked: never replayed blind
        r(*batch(2))
    assert MODE.recording is False


def test_one_hot_rows_made_with_numpy_are_caught():
    """y reaches the graph (the hard-label term), the smoothed one-hot rows made from it do not."""
    model = mlp()

    def loss(X, y):
        logits = model(X)
        smooth = 0.9 * np.eye(C)[y] + 0.1 / C  # numpy on y: frozen by the recording
        return 0.5 * bl.cross_entropy(logits, y) + 0.5 * bl.cross_entropy(logits, smooth)

    r = bl.replay(loss)
    r(*batch(0))
    # nodes: 0 linear, 1 relu, 2 linear, 3 cross_entropy(y), 4 mul, 5 cross_entropy(smooth)
    with pytest.raises(bl.ReplayError, match=r"^replay: node 5 \('cross_entropy', shape \(\)\) "):
        r(*batch(1))


def test_random_numbers_drawn_inside_are_caught_on_the_same_inputs():
    model = mlp()
    rng = np.random.default_rng(0)
    noisy = lambda X, y: bl.cross_entropy(model(X) * bl.Tensor(rng.standard_normal((8, C))), y)
    r = bl.replay(noisy)
    X, y = batch(0)
    r(X, y)
    with pytest.raises(bl.ReplayError, match=r"^replay: node 3 \('mul', shape \(8, 10\)\) of"):
        r(X, y)  # the very same arrays: still checked once


def test_a_graph_chosen_by_value_is_caught_naming_the_ops():
    model = mlp()

    def branchy(X, y):
        h = model[0](X)
        h = bl.relu(h) if X.sum() > 0 else bl.tanh(h)  # an if on a value: not an op
        return bl.cross_entropy(model[2](h), y)

    r = bl.replay(branchy)
    X, y = batch(0)
    X = np.abs(X)
    r(X, y)
    with pytest.raises(
        bl.ReplayError,
        match=r"^replay: fn built a different graph on this call \(node 1 is 'tanh', was "
        r"'relu'\): it chooses ops by values, so it cannot be replayed; call it without replay$",
    ):
        r(-X, y)


def test_an_extra_op_chosen_by_value_is_caught_by_the_node_count():
    model = mlp()

    def maybe_scaled(X, y):
        loss = bl.cross_entropy(model(X), y)
        return loss * 2 if X.sum() < 0 else loss  # the first 4 nodes agree either way

    r = bl.replay(maybe_scaled)
    X, y = batch(0)
    X = np.abs(X)
    r(X, y)
    with pytest.raises(
        bl.ReplayError,
        match=r"^replay: fn built 5 nodes on this call, 4 when it was recorded: it chooses ops "
        r"by values, so it cannot be replayed; call it without replay$",
    ):
        r(-X, y)


# ----------------------------------------------- 4. checked until new inputs agree; 9. memory
def test_the_tape_is_checked_until_new_inputs_agree():
    model = mlp()
    fn = counted(lambda X, y: bl.cross_entropy(model(X), y))
    r = bl.replay(fn)
    X, y = batch(0)
    root = r(X, y)
    tape = only_tape(r)
    assert fn.runs == 1 and tape.checks == 0 and not tape.checked
    # the recorded inputs are kept as copies (so that "new" can be told from "the same")
    assert all(k is not a and np.array_equal(k, a) for k, a in zip(tape.recorded_inputs, (X, y)))

    r(X, y)  # the same arrays: checked once (for random numbers), but not marked
    assert fn.runs == 2 and tape.checks == 1 and not tape.checked
    r(X.copy(), y.copy())  # equal values count as the same inputs: just refilled
    r(X, y)
    assert fn.runs == 2 and tape.checks == 1 and not tape.checked

    X2, y2 = batch(1)
    assert r(X2, y2) is root
    assert fn.runs == 3 and tape.checks == 2 and tape.checked
    assert tape.recorded_inputs == []  # 9. no copies of the inputs kept once checked

    for seed in (2, 3, 4):  # from now on: replayed, fn never runs again
        Xs, ys = batch(seed)
        assert r(Xs, ys).item() == bl.cross_entropy(model(Xs), ys).item()
    assert fn.runs == 3 and tape.checks == 2


def test_an_input_buffer_changed_in_place_counts_as_new():
    """A loop that refills one buffer passes the same object with other values."""
    model = mlp()
    fn = counted(lambda X, y: bl.cross_entropy(model(X), y))
    r = bl.replay(fn)
    X, y = batch(0)
    r(X, y)
    X[:], y[:] = batch(1)
    assert r(X, y).item() == bl.cross_entropy(model(X), y).item()
    assert only_tape(r).checked and fn.runs == 2


# ------------------------------------------------------------------------- 5. input errors
def test_an_input_fn_converts_is_refused_naming_it():
    model = mlp()
    r = bl.replay(lambda X, y: bl.cross_entropy(model(X), y.astype(np.int32)))
    with pytest.raises(
        bl.ReplayError,
        match=r"^replay: input 1 \(shape \(8,\), int64\) never reaches an op as it is: fn made "
        r"something else of it outside the ops \(a copy, another dtype, a numpy computation\), "
        r"so a replay could not feed it new values; call fn without replay, or let the ops see "
        r"the input itself$",
    ):
        r(*batch(0))
    assert r.tapes == {} and MODE.recording is False


def test_float64_inputs_to_a_float32_model_are_refused():
    model = mlp(np.float32)  # Linear converts float64 data to float32: a copy
    r = bl.replay(lambda X, y: bl.cross_entropy(model(X), y))
    with pytest.raises(
        bl.ReplayError, match=r"^replay: input 0 \(shape \(8, 64\), float64\) never"
    ):
        r(*batch(0))
    assert r.tapes == {}
    X, y = batch(0, dtype=np.float32)
    assert r(X, y).item() == bl.cross_entropy(model(X), y).item()  # float32 data is fine


def test_inputs_must_be_numpy_arrays():
    model = mlp()
    r = bl.replay(lambda X, y: bl.cross_entropy(model(X), y))
    X, y = batch(0)
    hint = r"; pass numpy arrays \(a tensor's are in \.data; numbers and other settings belong inside fn\)$"
    with pytest.raises(TypeError, match=r"^replay: input 0 is a Tensor" + hint):
        r(bl.Tensor(X), y)
    with pytest.raises(TypeError, match=r"^replay: input 1 is a list" + hint):
        r(X, y.tolist())
    assert r.tapes == {}
    r(X, y)  # a tape for arrays of that shape and dtype exists now: a Tensor is still refused
    with pytest.raises(TypeError, match=r"^replay: input 0 is a Tensor" + hint):
        r(bl.Tensor(X), y)
    with pytest.raises(TypeError, match=r"^replay: input 0 is a Parameter" + hint):
        r(nn.Parameter(X), y)
    assert len(r.tapes) == 1


@pytest.mark.parametrize(
    "fn, got",
    [
        (lambda X: float(bl.tanh(X).sum()), "float"),
        (lambda X: None, "NoneType"),
        (lambda X: bl.Tensor(X), "Tensor"),  # a leaf: no op computed it
    ],
)
def test_fn_must_return_a_tensor_made_by_ops(fn, got):
    r = bl.replay(fn)
    with pytest.raises(
        bl.ReplayError,
        match=rf"^replay: fn must return a Tensor computed by ops from its inputs, got {got}$",
    ):
        r(batch(0)[0])
    assert r.tapes == {} and MODE.recording is False


# -------------------------------------------------------- 6. values are checked on replays
@pytest.fixture
def checked():
    """A model, its loss as fn, and a replay of it whose tape is checked (fn no longer runs)."""
    model = mlp()
    fn = lambda X, y: bl.cross_entropy(model(X), y)
    r = bl.replay(counted(fn))
    r(*batch(0))
    r(*batch(1))
    assert only_tape(r).checked and r.fn.runs == 2
    return model, fn, r


@pytest.mark.parametrize(
    "bad, message",
    [
        (10, r"^cross_entropy: label 10 is out of range for 10 classes \(labels must be 0\.\.9\)$"),
        (-3, r"^cross_entropy: label -3 is out of range for 10 classes \(labels must be 0\.\.9\)$"),
    ],
)
def test_a_replay_checks_the_label_values(checked, bad, message):
    model, fn, r = checked
    X, y = batch(2)
    y[3] = bad
    replayed = error_message(ValueError, r, X, y)
    assert re.search(message, replayed), replayed
    assert replayed == error_message(ValueError, fn, X, y)  # word for word the eager error
    assert r.fn.runs == 2  # raised by the replay's own row, not by running fn again
    X, y = batch(3)  # the tape still works afterwards
    assert r(X, y).item() == fn(X, y).item()


def test_a_replay_checks_for_nan_logits(checked):
    model, fn, r = checked
    X, y = batch(2)
    X[5, 7] = np.nan
    replayed = error_message(ValueError, r, X, y)
    assert re.search(r"^cross_entropy: the logits of shape \(8, 10\) contain NaN or inf$", replayed)
    assert replayed == error_message(ValueError, fn, X, y)
    assert r.fn.runs == 2


# --------------------------------------------------------- 7. anomaly mode on replays
def test_anomaly_mode_names_the_op_on_a_replay(checked):
    model, fn, r = checked
    X = np.full((8, 64), 1e308)  # finite, but W X overflows in the first linear
    y = batch(2)[1]
    with bl.detect_anomaly(), np.errstate(over="ignore", invalid="ignore"):
        replayed = error_message(FloatingPointError, r, X, y)
        eager = error_message(FloatingPointError, fn, X, y)
    assert re.search(
        r"^detect_anomaly: the forward of 'linear' \(inputs \(8, 64\), \(32, 64\), \(32,\)\) "
        r"turned finite inputs into a non-finite output \((-?inf|nan)\)$",
        replayed,
    ), replayed
    assert replayed == eager
    assert r.fn.runs == 2


# ---------------------------------------------------- 8. the root, backward and its order
def test_backward_after_a_replay_gives_the_eager_gradients(checked, monkeypatch):
    model, fn, r = checked
    root = only_tape(r).root
    X, y = batch(2)
    model.zero_grad()
    fn(X, y).backward()
    eager = grads(model)

    model.zero_grad()
    loss = r(X, y)
    assert loss is root  # the same Tensor, refilled
    assert [id(t) for t in root.order] == [id(t) for t in bl.toposort(root)]
    monkeypatch.setattr(autodiff, "toposort", lambda root: pytest.fail("backward re-sorted"))
    loss.backward()
    for g, e in zip(grads(model), eager):
        assert np.array_equal(g, e)


def test_accumulation_warning_still_fires_between_replays(checked):
    model, fn, r = checked
    (X2, y2), (X3, y3) = batch(2), batch(3)
    model.zero_grad()
    fn(X2, y2).backward()
    g2 = grads(model)
    model.zero_grad()
    fn(X3, y3).backward()
    g3 = grads(model)

    model.zero_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error", bl.GradientAccumulationWarning)
        r(X2, y2).backward()  # zeroed first: no warning
    with pytest.warns(
        bl.GradientAccumulationWarning,
        match=r"^backward: a tensor of shape \(32, 64\), a tensor of shape \(32,\), a tensor of "
        r"shape \(10, 32\), a tensor of shape \(10,\) already hold gradients from an earlier "
        r"backward\(\); the new gradients are being added to them\.",
    ):
        r(X3, y3).backward()  # not zeroed: they add up, as in eager mode
    for g, a, b in zip(grads(model), g2, g3):
        assert np.array_equal(g, a + b)


# ------------------------------------------------------- bugs found while writing these tests
def test_the_same_array_passed_for_two_inputs_at_recording_is_not_mixed_up_later():
    """A denoising autoencoder's loss, first used with the clean data as both input and target
    (one array for both), then with noisy inputs: the replay must still see both arrays."""
    model = nn.MLP([64, 16, 64], rng=0)
    fn = lambda X, T: bl.mse_loss(model(X), T)
    r = bl.replay(fn)
    X0, X1, X2 = batch(0)[0], batch(1)[0], batch(2)[0]
    r(X0, X0)
    r(X1, X1)  # new inputs, and fn agrees: the tape is checked
    assert only_tape(r).checked
    noisy = X2 + 0.1 * np.random.default_rng(3).standard_normal(X2.shape)
    assert r(noisy, X2).item() == fn(noisy, X2).item()


def test_a_leaf_made_inside_fn_starts_without_a_gradient_at_each_call():
    """In eager mode a tensor created inside fn is new at every call, so backward never finds
    an old gradient on it; a replay must not add this call's gradient to the last one's."""
    fn = lambda X: (bl.Tensor(X, requires_grad=True) ** 2).sum()
    r = bl.replay(fn)
    Xs = [batch(seed)[0] for seed in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", bl.GradientAccumulationWarning)
        for X in Xs:
            loss = r(X)
            loss.backward()
            eager = fn(X)
            eager.backward()
            (leaf,) = [t for t in loss.order if t.op is None]
            (eager_leaf,) = [t for t in eager.order or bl.toposort(eager) if t.op is None]
            assert np.array_equal(leaf.grad, eager_leaf.grad)


# ------------------------------------------------------------- property: any MLP, any batch
@given(
    sizes=st.lists(st.integers(1, 12), min_size=2, max_size=5),
    batches=st.lists(st.integers(1, 9), min_size=2, max_size=4),
    activation=st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_a_replay_equals_the_ordinary_call_for_any_mlp_and_batches(
    sizes, batches, activation, dtype, seed
):
    """Losses and gradients bit for bit, over batch sizes that come and go (several tapes)."""
    sizes = [*sizes, 3]  # three classes
    model = nn.MLP(sizes, activation=activation, rng=seed, dtype=dtype)
    fn = lambda X, y: bl.cross_entropy(model(X), y)  # noqa: E731
    r = bl.replay(fn)
    rng = np.random.default_rng(seed)
    for n in batches + batches:  # every size at least twice: recorded, then checked or replayed
        X = rng.standard_normal((n, sizes[0])).astype(dtype)
        y = rng.integers(0, 3, n)
        model.zero_grad()
        replayed = r(X, y)
        replayed.backward()
        got = (replayed.item(), grads(model))
        model.zero_grad()
        ordinary = fn(X, y)
        ordinary.backward()
        assert got[0] == ordinary.item()
        for g, p in zip(got[1], model.parameters()):
            assert np.array_equal(g, p.grad)
    assert len(r.tapes) == len(set(batches))


LOSSES = {
    "mse_loss": (bl.mse_loss, lambda rng: rng.standard_normal((6, 3))),
    "binary_cross_entropy": (
        lambda z, t: bl.binary_cross_entropy(bl.sigmoid(z), t),
        lambda rng: rng.random((6, 3)),
    ),
    "binary_cross_entropy_with_logits": (
        bl.binary_cross_entropy_with_logits,
        lambda rng: rng.random((6, 3)).round(),
    ),
}


@pytest.mark.parametrize("loss, targets", LOSSES.values(), ids=LOSSES.keys())
def test_the_other_losses_replay_with_their_float_targets(loss, targets):
    """Their targets reach the ops as they are (no numpy on them outside the ops)."""
    net = nn.Sequential(nn.Linear(5, 4, bias=False, rng=0), nn.Sigmoid(), nn.Linear(4, 3, rng=1))
    fn = lambda X, T: loss(net(X), T)  # noqa: E731
    r = bl.replay(fn)
    rng = np.random.default_rng(0)
    for _ in range(4):
        X, T = rng.standard_normal((6, 5)), targets(rng)
        net.zero_grad()
        replayed = r(X, T)
        replayed.backward()
        got = grads(net)
        net.zero_grad()
        ordinary = fn(X, T)
        ordinary.backward()
        assert replayed.item() == ordinary.item()
        assert all(np.array_equal(g, p.grad) for g, p in zip(got, net.parameters()))
    assert only_tape(r).checked


def test_labels_inside_an_index_are_fed_like_any_input():
    """A hand-written loss picks -log p[n, y_n] with x[rows, y]: y sits in a tuple setting."""
    model = mlp()

    def nll(X, y):
        log_p = bl.log_softmax(model(X))
        return -log_p[np.arange(len(y)), y].mean()

    r = bl.replay(nll)
    for seed in range(4):
        X, y = batch(seed)
        model.zero_grad()
        replayed = r(X, y)
        replayed.backward()
        got = grads(model)
        model.zero_grad()
        ordinary = nll(X, y)
        ordinary.backward()
        assert replayed.item() == ordinary.item()
        assert all(np.array_equal(g, p.grad) for g, p in zip(got, model.parameters()))
    assert only_tape(r).checked


def test_fit_replays_a_float32_regression_on_float64_targets():
    """fit puts float targets in the model's dtype, as the losses would, so that they reach the
    ops as they are: the replay is not refused and gives the ordinary numbers."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((40, 5)), rng.standard_normal((40, 2))  # float64 data
    histories, weights = [], []
    for replay in (False, True):
        net = nn.MLP([5, 8, 2], activation="tanh", rng=0, dtype=np.float32)
        opt = optim.SGD(net.parameters(), lr=0.1)
        history = train.fit(
            net, X, Y, optimizer=opt, epochs=2, batch_size=16, loss_fn=bl.mse_loss, replay=replay
        )
        histories.append(history.step_loss)
        weights.append([p.data.copy() for p in net.parameters()])
    assert histories[0] == histories[1]
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


def test_freezing_or_unfreezing_a_layer_after_recording_is_refused():
    """Which leaves want a gradient decided which nodes the recording made differentiable."""
    model = mlp()
    r = bl.replay(lambda X, y: bl.cross_entropy(model(X), y))
    r(*batch(0))
    r(*batch(1))
    first = model.parameters()[0]
    for flag in (False, True):
        first.requires_grad = flag
        if flag:  # back as recorded: fine again
            assert r(*batch(2)).item() == bl.cross_entropy(model(batch(2)[0]), batch(2)[1]).item()
            continue
        with pytest.raises(
            bl.ReplayError,
            match=r"^replay: a leaf of shape \(32, 64\) had requires_grad=True when fn was "
            r"recorded and has False now \(a layer frozen or unfrozen\?\); the recorded graph "
            r"cannot follow that: make a new replay\(fn\)$",
        ):
            r(*batch(2))
