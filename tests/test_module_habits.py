"""What a learner who knows a little PyTorch does with Modules, optimizers and ``fit``.

Each fix is a test that failed before it (a parameter frozen the PyTorch way was refused by the
optimizer, a layer replaced after the optimizer was made was never trained without a word, ...);
the guards at the end pin down what was already right (copies that share nothing, gradients of a
tied layer that add up). Expected numbers are worked out with numpy, never by the code tested.
"""

import copy
import io
import pickle
import warnings

import numpy as np
import pytest

import backproplab as bl
from backproplab import nn, optim

RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 4))
Y = RNG.integers(0, 3, size=8)
IMAGES = RNG.standard_normal((4, 1, 6, 6))
IMAGE_LABELS = RNG.integers(0, 3, size=4)


def _mlp():
    return nn.MLP([4, 6, 3], rng=0)


def _backward(model, x=X, y=Y):
    bl.cross_entropy(model(bl.Tensor(x)), y).backward()


@pytest.fixture
def silent():
    """Turns every warning into an error for the block it guards."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ------------------------------------------------------------------------- frozen parameters
@pytest.mark.parametrize("make", [optim.SGD, optim.Adam])
def test_an_optimizer_over_all_parameters_skips_a_frozen_one_and_trains_it_once_unfrozen(make):
    """PyTorch's fine-tuning idiom: freeze, then optimizer(model.parameters()). It was refused
    ("does not require grad"), and the filtered list the message asked for never trains the
    parameter once unfrozen (gradual unfreezing), without a word."""
    model = _mlp()
    frozen = model[0].weight
    frozen.requires_grad = False
    optimizer = make(model.parameters(), lr=0.1)
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    optimizer.zero_grad()
    _backward(model)
    optimizer.step()
    assert frozen.grad is None and np.array_equal(frozen.data, before["0.weight"])
    assert not np.array_equal(model[2].weight.data, before["2.weight"])
    frozen.requires_grad = True  # unfrozen: the same optimizer trains it now
    optimizer.zero_grad()
    _backward(model)
    optimizer.step()
    assert not np.array_equal(frozen.data, before["0.weight"])


def test_sgd_leaves_a_parameter_frozen_after_backward_alone_and_steps_the_others_by_hand_rule():
    """Frozen between backward() and step(): its gradient was still used."""
    model = _mlp()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    _backward(model)
    model[0].weight.requires_grad = False
    w0, w2, g2 = model[0].weight.data.copy(), model[2].weight.data.copy(), model[2].weight.grad
    optimizer.step()
    assert np.array_equal(model[0].weight.data, w0)
    np.testing.assert_allclose(model[2].weight.data, w2 - 0.1 * g2, rtol=1e-15)


def test_a_parameter_made_frozen_is_accepted_and_a_plain_tensor_without_grad_still_refused():
    frozen = nn.Parameter(np.ones(2), requires_grad=False)  # PyTorch's spelling
    trained = nn.Parameter(np.ones(2))
    optim.SGD([trained, frozen], lr=0.1)  # no error
    with pytest.raises(TypeError, match=r"^SGD: item 1 \(shape \(2,\)\) does not require grad, "
                       r"so it would never be trained; make it with requires_grad=True"):  # fmt: skip
        optim.SGD([trained, bl.Tensor([1.0, 2.0])], lr=0.1)  # forgot requires_grad=True


def test_clip_grad_norm_over_a_model_with_a_frozen_layer():
    """``clip_grad_norm_(model.parameters(), 1.0)`` refused a model with a frozen layer."""
    model = _mlp()
    model[0].weight.requires_grad = False
    _backward(model)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert len(grads) == 3
    by_hand = np.sqrt(sum(np.sum(g**2) for g in grads))
    assert optim.clip_grad_norm_(model.parameters(), 1e6) == pytest.approx(by_hand, rel=1e-12)


# ----------------------------------------------------------------- layers replaced afterwards
class _Net(nn.Module):
    def __init__(self):
        self.hidden = nn.Linear(4, 5, rng=1)
        self.out = nn.Linear(5, 3, rng=2)

    def forward(self, x):
        return self.out(self.hidden(x).relu())


def test_replacing_a_layer_an_optimizer_holds_is_named_as_replacing_a_parameter_was():
    """``model.out = nn.Linear(...)`` after the optimizer was made: the new layer was never
    trained, without a word (replacing a Parameter so was warned about)."""
    model = _Net()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    with pytest.warns(UserWarning, match=r"^_Net: the layer 'out' is replaced, but an optimizer "
                      r"made before holds the old one: it will not train the new one") as caught:  # fmt: skip
        model.out = nn.Linear(5, 2, rng=3)
    assert caught.pop(UserWarning).filename == __file__  # points at the learner's line
    assert not any(p is model.out.weight for p in optimizer.params)


def test_replacing_a_layer_before_the_optimizer_or_wrapping_the_old_one_is_silent(silent):
    model = _Net()
    model.out = nn.Linear(5, 3, rng=3)  # no optimizer yet
    optim.SGD(model.parameters(), lr=0.1)
    model.out = nn.Sequential(model.out, nn.Identity())  # the old layer is still trained
    model.act = nn.ReLU()  # a new attribute


def test_sequential_item_assignment_replaces_a_layer_as_in_pytorch():
    """``model[-1] = nn.Linear(6, 2)``, PyTorch's way to give a network a new head: a TypeError
    ("does not support item assignment")."""
    model = _mlp()
    head = nn.Linear(6, 2, rng=5)
    model[-1] = head
    assert model[2] is head and model(bl.Tensor(X)).shape == (8, 2)
    assert [name for name, _ in model.named_parameters()][-2:] == ["2.weight", "2.bias"]
    with pytest.raises(TypeError, match=r"^Sequential: item 1 is the class ReLU, not a Module; "
                       r"make one: ReLU\(\)$"):  # fmt: skip
        model[1] = nn.ReLU
    with pytest.raises(TypeError, match=r"^Sequential: set one layer by position"):
        model[0:2] = [nn.Linear(4, 6)]


def test_sequential_item_assignment_after_the_optimizer_warns():
    model = _mlp()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    with pytest.warns(UserWarning, match=r"^MLP: the layer '2' is replaced, but an optimizer"):
        model[-1] = nn.Linear(6, 2, rng=5)
    assert optimizer.params[-1] is not model[-1].bias


@pytest.mark.parametrize("roundtrip", [copy.deepcopy, lambda x: pickle.loads(pickle.dumps(x))])
def test_an_optimizer_restored_with_its_model_still_guards_a_replaced_parameter(roundtrip):
    """A (model, optimizer) pair deep-copied or unpickled (a checkpoint): its optimizer was not
    known to Module, so replacing a parameter it held said nothing."""
    model = _Net()
    model, optimizer = roundtrip((model, optim.SGD(model.parameters(), lr=0.1)))
    assert all(any(p is q for q in model.parameters()) for p in optimizer.params)
    with pytest.warns(UserWarning, match=r"^Linear: the Parameter 'bias' is replaced"):
        model.out.bias = nn.Parameter(np.zeros(3))


# ------------------------------------------------------------------------------ PyTorch idioms
def test_param_groups_say_what_to_write_instead():
    model = _mlp()
    with pytest.raises(TypeError, match=r"^SGD: item 0 is a dict \(a PyTorch parameter group\?\); "
                       r".*make one optimizer per group$"):  # fmt: skip
        optim.SGD([{"params": model[0].parameters(), "lr": 0.01}], lr=0.1)
    optimizer = optim.Adam(model.parameters())
    with pytest.raises(AttributeError, match=r"^Adam has no param_groups .* change it with "
                       r"opt\.lr = \.\.\."):  # fmt: skip
        for group in optimizer.param_groups:
            group["lr"] = 0.01


def test_a_state_saved_by_savez_without_stars_says_add_them():
    model = _mlp()
    file = io.BytesIO()
    np.savez(file, model.state_dict())  # np.savez(path, **state) meant
    file.seek(0)
    with pytest.raises(KeyError, match=r"unexpected \['arr_0'\]; saved by np\.savez\(path, "
                       r"state\)\? save it with np\.savez\(path, \*\*state\)"):  # fmt: skip
        model.load_state_dict(np.load(file, allow_pickle=True))


def test_fit_takes_the_optimizer_as_its_fourth_argument():
    """``fit(model, X, y, opt)``: "fit() takes 3 positional arguments but 4 positional
    arguments (and 1 keyword-only argument) were given"."""
    models = [_mlp(), _mlp()]
    bl.train.fit(models[0], X, Y, optim.SGD(models[0].parameters(), lr=0.1), epochs=2)
    bl.train.fit(models[1], X, Y, optimizer=optim.SGD(models[1].parameters(), lr=0.1), epochs=2)
    first, second = (m.state_dict() for m in models)
    assert all(np.array_equal(first[k], second[k]) for k in first)


# ----------------------------------------------------------------------- guards (right before)
class _Custom(nn.Module):
    def __init__(self):
        self.a = nn.Linear(4, 5, rng=1)
        self.scale = nn.Parameter(np.ones(5))
        self.out = nn.Linear(5, 3, rng=2)

    def forward(self, x):
        return self.out(self.a(x).relu() * self.scale)


def _sequential():
    return nn.Sequential(nn.Linear(4, 6, rng=0), nn.Tanh(), nn.Linear(6, 3, rng=1))


def _residual():
    return nn.Sequential(nn.Linear(4, 5, rng=0), nn.ResidualBlock(5, rng=1), nn.Linear(5, 3, rng=2))


def _conv():
    conv = nn.Conv2d(1, 2, 3, rng=0)
    return nn.Sequential(conv, nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(8, 3, rng=1))  # fmt: skip


MODELS = {
    "mlp": (_mlp, X, Y),
    "sequential": (_sequential, X, Y),
    "residual": (_residual, X, Y),
    "conv+batchnorm": (_conv, IMAGES, IMAGE_LABELS),
    "custom": (_Custom, X, Y),
}


def _state(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", MODELS)
def test_a_deep_copy_trained_leaves_the_original_and_saved_states_restore_it(name):
    make, x, y = MODELS[name]
    model = make()
    start = _state(model)
    twin = copy.deepcopy(model)
    optimizer = optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        optimizer.zero_grad()
        _backward(twin, x, y)
        optimizer.step()
    assert all(np.array_equal(model.state_dict()[k], start[k]) for k in start)
    file = io.BytesIO()
    np.savez(file, **twin.state_dict())
    file.seek(0)
    model.load_state_dict(np.load(file))
    restored = pickle.loads(pickle.dumps(model))
    with bl.no_grad():
        twin.eval(), restored.eval()
        assert np.array_equal(twin(bl.Tensor(x)).data, restored(bl.Tensor(x)).data)


def test_a_layer_in_two_models_gets_the_sum_of_both_gradients():
    shared = nn.Linear(4, 4, rng=0)
    a, b = nn.Sequential(shared, nn.ReLU()), nn.Sequential(shared, nn.Tanh())
    (a(bl.Tensor(X)).sum() + b(bl.Tensor(X)).sum()).backward()
    z = X @ shared.weight.data.T + shared.bias.data
    dz = (z > 0) + (1 - np.tanh(z) ** 2)  # d/dz of relu(z) + tanh(z), summed
    np.testing.assert_allclose(shared.weight.grad, dz.T @ X, rtol=1e-12)
    np.testing.assert_allclose(shared.bias.grad, dz.sum(axis=0), rtol=1e-12)


def _stale_warnings(model, optimizer, zero_grad=True, steps=2):
    """The warnings of ``steps`` training steps, each with or without optimizer.zero_grad()."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            if zero_grad:
                optimizer.zero_grad()
            bl.cross_entropy(model(bl.Tensor(X)), Y).backward()
            optimizer.step()
    return [str(w.message) for w in caught if w.category is bl.GradientAccumulationWarning]


def test_an_optimizer_over_the_head_only_is_named_when_the_body_gathers_gradients():
    """opt = SGD(model.head.parameters()): its zero_grad() leaves the body's gradients, which
    add up at every step. The warning said to call zero_grad(), which the learner does."""
    model = _mlp()
    messages = _stale_warnings(model, optim.SGD(model.layers[-1].parameters(), lr=0.1))
    assert len(messages) == 1  # the second step's backward
    assert (
        "an optimizer's zero_grad() (or clearing by hand) reaches only the parameters it is"
        in (messages[0])
    )
    assert "model.zero_grad()" in messages[0] and "requires_grad = False" in messages[0]


@pytest.mark.parametrize("case", ["no zero_grad", "plain leaves"])
def test_the_optimizer_hint_stays_out_of_other_stale_gradients(case):
    if case == "no zero_grad":  # every parameter stepped and none cleared: the plain warning
        model = _mlp()
        messages = _stale_warnings(model, optim.SGD(model.parameters(), lr=0.1), zero_grad=False)
    else:  # no optimizer at all
        w = bl.Tensor([1.0, 2.0], requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", ResourceWarning)  # another test's, freed here by gc
            for _ in range(2):
                (w * w).sum().backward()
        messages = [str(m.message) for m in caught]
    assert len(messages) == 1 and "already hold" in messages[0]
    assert "reaches only the parameters" not in messages[0]


def test_the_hint_also_fits_a_head_updated_by_hand():
    """No optimizer: the head cleared and stepped in a loop of the learner's own, the body not."""
    model = _mlp()
    head = model.layers[-1].parameters()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ResourceWarning)  # another test's, freed here by gc
        for _ in range(2):
            for p in head:
                p.grad = None
            bl.cross_entropy(model(bl.Tensor(X)), Y).backward()
            with bl.no_grad():
                for p in head:
                    p -= 0.1 * p.grad
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "(or clearing by hand) reaches only the parameters" in messages[0]
