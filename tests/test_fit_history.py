"""fit(..., history=History()): one History over several calls, and what is kept when the
learner interrupts training. The reference is the loop written out by hand in
test_training_habits (the engine and the optimizer directly, losses in numpy)."""

import numpy as np
import pytest
from test_training_habits import X, Y, _by_hand

import backproplab as bl
from backproplab.nn import MLP
from backproplab.optim import SGD
from backproplab.train import History, fit


def _stop_at(step):
    """A loss that raises KeyboardInterrupt in training step `step` (the learner presses stop)."""
    steps = []

    def loss_fn(z, y):
        steps.extend([1] if bl.is_grad_enabled() else [])  # a step, not an evaluation
        if len(steps) == step:
            raise KeyboardInterrupt
        return bl.cross_entropy(z, y)

    return loss_fn


def test_one_history_over_two_fits_is_the_loop_by_hand_over_all_epochs():
    expected = _by_hand(MLP([2, 8, 2], rng=1), X, Y, 8, 5, np.random.default_rng(5))
    model, rng, history = MLP([2, 8, 2], rng=1), np.random.default_rng(5), History()
    opt = SGD(model.parameters(), lr=0.1)
    first = fit(model, X, Y, opt, epochs=3, batch_size=8, rng=rng, history=history)
    again = fit(model, X, Y, opt, epochs=2, batch_size=8, rng=rng, history=history)
    assert first is history and again is history
    np.testing.assert_allclose(history.train_loss, expected[0], rtol=1e-12)
    np.testing.assert_allclose(history.train_acc, expected[1], rtol=1e-12)
    np.testing.assert_allclose(history.step_loss, expected[3], rtol=1e-12)
    assert list(history.epochs) == [1, 2, 3, 4, 5]


def test_diagnostics_count_steps_and_epochs_on_across_calls():
    model, history = MLP([2, 8, 2], rng=1), History()
    opt = SGD(model.parameters(), lr=0.1)
    for _ in range(2):  # 7 steps an epoch (50 rows, batches of 8): records at steps 3, 6, 9, 12
        fit(model, X, Y, opt, epochs=1, batch_size=8, diagnostics=3, history=history)
    d = history.diagnostics
    assert d.step.tolist() == [3, 6, 9, 12] and d.epoch.tolist() == [1, 1, 2, 2]
    assert d.grad_norm.shape == (4, 2) and d.act_mean.shape == (4, 1)


def test_an_interrupted_fit_keeps_what_it_recorded_in_the_history_given():
    model, history = MLP([2, 8, 2], rng=1), History()
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(KeyboardInterrupt) as stop:  # in the 10th step: epoch 2, 3rd step
        fit(model, X, Y, opt, epochs=3, batch_size=8, loss_fn=_stop_at(10), diagnostics=True,
            history=history)  # fmt: skip
    assert stop.value.__notes__ == [
        "fit: interrupted in epoch 2 of 3 (step 10); the model keeps the steps taken, in "
        "evaluation mode; the History passed as history= holds 1 finished epoch and the "
        "losses of 9 steps"
    ]
    assert [len(v) for v in (history.train_loss, history.train_acc, history.test_loss)] == [1] * 3
    assert len(history.step_loss) == 9 and history.diagnostics.step.tolist() == list(range(1, 10))
    fit(
        model, X, Y, opt, epochs=1, batch_size=8, diagnostics=True, history=history
    )  # on from there
    assert len(history.train_loss) == 2 and len(history.step_loss) == 16
    assert history.diagnostics.step.tolist() == list(range(1, 17))
    assert history.diagnostics.epoch.tolist()[-7:] == [2] * 7


def test_an_interrupt_between_an_epochs_entries_leaves_lists_of_one_length():
    model, history, calls = MLP([2, 8, 2], rng=1), History(), []

    def loss_fn(z, y):  # stops in the 4th evaluation: the test set's after epoch 2
        calls.extend([] if bl.is_grad_enabled() else [1])
        if len(calls) == 4:
            raise KeyboardInterrupt
        return bl.cross_entropy(z, y)

    with pytest.raises(KeyboardInterrupt):
        fit(model, X, Y, SGD(model.parameters(), lr=0.1), epochs=3, batch_size=8,
            loss_fn=loss_fn, test=(X[:9], Y[:9]), history=history)  # fmt: skip
    lengths = [len(v) for v in (history.train_loss, history.train_acc, history.test_loss)]
    assert lengths + [len(history.test_acc)] == [1, 1, 1, 1]  # train entries of epoch 2 cut


@pytest.mark.parametrize(("history", "got"), [([], "a list"), (History, "the class itself")])
def test_fit_refuses_a_history_that_is_no_history(history, got):
    model = MLP([2, 8, 2], rng=1)
    with pytest.raises(
        TypeError, match=rf"^fit: history must be a bl.train.History\(\) .*got {got}$"
    ):
        fit(model, X, Y, SGD(model.parameters()), epochs=1, history=history)


def test_fit_refuses_another_models_diagnostics_before_training():
    small, history = MLP([2, 8, 2], rng=1), History()
    fit(small, X, Y, SGD(small.parameters()), epochs=1, diagnostics=True, history=history)
    deeper = MLP([2, 8, 8, 2], rng=1)
    before = [p.data.copy() for p in deeper.parameters()]
    with pytest.raises(ValueError, match=r"^fit: the History's diagnostics are of layers"):
        fit(deeper, X, Y, SGD(deeper.parameters()), epochs=1, diagnostics=True, history=history)
    for p, b in zip(deeper.parameters(), before):
        np.testing.assert_array_equal(p.data, b)
