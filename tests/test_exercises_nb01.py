"""The self-checks of notebook 01: pass, hint and not-done paths."""

import numpy as np
import pytest
from exercise_helpers import grade_one_exercise

import backproplab as bl
from backproplab.exercises import _chain_cost, nb01
from backproplab.exercises._draws import draw


def stub(*args):
    raise NotImplementedError


# ------------------------------------------------------------------------- count_parameters
def count_with_biases(sizes):
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def test_count_parameters_pass():
    assert nb01.check_count_parameters(count_with_biases).passed


def test_count_parameters_known_value():
    # 784*128 + 128 + 128*64 + 64 + 64*10 + 10, worked out by hand
    assert count_with_biases([784, 128, 64, 10]) == 109386
    assert nb01._layer_count([784, 128, 64, 10]) == 109386


@pytest.mark.parametrize("sizes", [*nb01._SIZES, nb01._HIDDEN_SIZES])
def test_count_parameters_reference_agrees_with_a_real_network(sizes):
    assert nb01._layer_count(sizes) == bl.nn.MLP(sizes, rng=0).num_parameters()


def test_count_parameters_rejects_plausible_mistakes():
    def biases_per_input(sizes):
        return sum(a * b + a for a, b in zip(sizes[:-1], sizes[1:]))

    def biases_for_every_width(sizes):
        return sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + sum(sizes)

    def last_layer_forgotten(sizes):
        return sum(a * b + b for a, b in zip(sizes[:-2], sizes[1:-1]))

    def ask_the_network(sizes):
        return bl.nn.MLP(sizes).num_parameters()

    expected = {
        biases_per_input: "one bias per input",
        biases_for_every_width: "input layer",
        last_layer_forgotten: "left out at least one layer",
        ask_the_network: "count from the layer widths yourself",
    }
    for wrong, words in expected.items():
        feedback = nb01.check_count_parameters(wrong)
        assert feedback.status == "hint", wrong.__name__
        assert words in feedback.message, feedback.message
        assert "+ b" not in feedback.message and "n_out *" not in feedback.message


def test_count_parameters_rejects_more_plausible_mistakes():
    def sum_the_layers_parameters(sizes):  # the package counts, without num_parameters
        return sum(p.size for p in bl.nn.MLP(sizes, rng=0).parameters())

    asked = nb01.check_count_parameters(sum_the_layers_parameters)
    assert asked.status == "hint" and "count from the layer widths yourself" in asked.message

    printed = {(2, 7): 21, (3, 5, 3): 38, (784, 128, 64, 10): 109386}  # the printed cases

    def looked_up(sizes):
        return printed[tuple(sizes)]

    assert nb01.check_count_parameters(looked_up).status == "hint"

    def one_bias_per_layer(sizes):
        return sum(a * b + 1 for a, b in zip(sizes[:-1], sizes[1:]))

    def first_layer_forgotten(sizes):
        return sum(a * b + b for a, b in zip(sizes[1:-1], sizes[2:]))

    def square_weights(sizes):  # n_out x n_out instead of n_out x n_in
        return sum(b * b + b for b in sizes[1:])

    for wrong in (one_bias_per_layer, first_layer_forgotten, square_weights):
        feedback = nb01.check_count_parameters(wrong)
        assert feedback.status == "hint", wrong.__name__
        assert "+ b" not in feedback.message and "n_out *" not in feedback.message


def test_count_parameters_weights_only_hint():
    def weights_only(sizes):
        return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))

    feedback = nb01.check_count_parameters(weights_only)
    assert feedback.status == "hint"
    assert "only the weight matrices" in feedback.message
    assert "bias" not in feedback.message  # the hint does not name the missing piece


def test_count_parameters_other_hint_and_not_done():
    assert nb01.check_count_parameters(lambda sizes: sum(sizes)).status == "hint"
    assert nb01.check_count_parameters(stub).status == "not done"


# ------------------------------------------------------------------- difference quotients
def forward_difference(f, w, eps):
    grad = np.zeros_like(w)
    base = f(w)
    for idx in np.ndindex(*w.shape):
        old = w[idx]
        w[idx] = old + eps
        grad[idx] = (f(w) - base) / eps
        w[idx] = old
    return grad


def central_difference(f, w, eps, scale=2.0):
    grad = np.zeros_like(w)
    for idx in np.ndindex(*w.shape):
        old = w[idx]
        w[idx] = old + eps
        up = f(w)
        w[idx] = old - eps
        down = f(w)
        w[idx] = old
        grad[idx] = (up - down) / (scale * eps)
    return grad


def test_gradient_descent_step_pass():
    def step(params, grads, lr):
        return [p - lr * g for p, g in zip(params, grads)]

    assert nb01.check_gradient_descent_step(step).passed


def test_gradient_descent_step_hints():
    uphill = nb01.check_gradient_descent_step(
        lambda params, grads, lr: [p + lr * g for p, g in zip(params, grads)]
    )
    assert uphill.status == "hint" and "along the gradient" in uphill.message
    assert "minus" not in uphill.message and "-" not in uphill.message

    no_lr = nb01.check_gradient_descent_step(
        lambda params, grads, lr: [p - g for p, g in zip(params, grads)]
    )
    assert no_lr.status == "hint" and "ignores lr" in no_lr.message

    def in_place(params, grads, lr):  # updates but returns nothing
        for p, g in zip(params, grads):
            p -= lr * g

    # updates the given arrays and returns nothing: the inputs changed, which is said first
    assert "changed the parameter arrays" in nb01.check_gradient_descent_step(in_place).message

    def in_place_returned(params, grads, lr):  # updates the given arrays, returns them
        for p, g in zip(params, grads):
            p -= lr * g
        return params

    mutated = nb01.check_gradient_descent_step(in_place_returned)
    assert mutated.status == "hint" and "changed the parameter arrays" in mutated.message
    assert "-=" not in mutated.message

    def lr_squared(params, grads, lr):
        return [p - lr * lr * g for p, g in zip(params, grads)]

    assert nb01.check_gradient_descent_step(lr_squared).status == "hint"

    def first_only(params, grads, lr):
        return [params[0] - lr * grads[0]] + [p.copy() for p in params[1:]]

    frozen = nb01.check_gradient_descent_step(first_only)
    assert frozen.status == "hint" and "did not move" in frozen.message

    def grads_changed(params, grads, lr):
        for g in grads:
            g *= lr
        return [p - g for p, g in zip(params, grads)]

    assert "changed the gradients" in nb01.check_gradient_descent_step(grads_changed).message

    def no_list(params, grads, lr):
        return params[0] - lr * grads[0]

    assert "return a list" in nb01.check_gradient_descent_step(no_list).message


def test_gradient_descent_step_not_done():
    assert nb01.check_gradient_descent_step(stub).status == "not done"


def test_forward_difference_is_one_sided():
    # the helper below is what the central-difference check must reject; make sure it is sane
    w = np.array([[0.5]])
    assert abs(forward_difference(lambda a: float(a[0, 0] ** 2), w, 1e-6)[0, 0] - 1.0) < 1e-5


def test_central_difference_pass():
    feedback = nb01.check_central_difference_gradient(central_difference)
    assert feedback.passed, feedback
    assert "12 forward passes" in feedback.message


def test_central_difference_hints():
    one_sided = nb01.check_central_difference_gradient(forward_difference)
    assert one_sided.status == "hint" and "both sides" in one_sided.message
    assert "2 * eps" not in one_sided.message and "/ (2" not in one_sided.message

    factor = nb01.check_central_difference_gradient(
        lambda f, w, eps: central_difference(f, w, eps, scale=1.0)
    )
    assert factor.status == "hint" and "factor of 2" in factor.message

    def not_restored(f, w, eps):
        grad = np.zeros_like(w)
        for idx in np.ndindex(*w.shape):
            w[idx] += eps
            up = f(w)
            w[idx] -= 2 * eps
            grad[idx] = (up - f(w)) / (2 * eps)
        return grad

    leaked = nb01.check_central_difference_gradient(not_restored)
    assert leaked.status == "hint" and "put every entry back" in leaked.message

    def no_division(f, w, eps):
        return central_difference(f, w, eps) * 2 * eps

    tiny = nb01.check_central_difference_gradient(no_division)
    assert tiny.status == "hint" and "divided by" in tiny.message

    wrong_shape = nb01.check_central_difference_gradient(lambda f, w, eps: np.zeros(3))
    assert wrong_shape.status == "hint" and "shaped like w" in wrong_shape.message


def test_central_difference_rejects_more_plausible_mistakes():
    def backward_difference(f, w, eps):  # one-sided, on the other side
        grad = np.zeros_like(w)
        base = f(w)
        for idx in np.ndindex(*w.shape):
            old = w[idx]
            w[idx] = old - eps
            grad[idx] = (base - f(w)) / eps
            w[idx] = old
        return grad

    one_sided = nb01.check_central_difference_gradient(backward_difference)
    assert one_sided.status == "hint" and "one-sided" in one_sided.message

    def own_eps(f, w, eps):  # a central difference, but with a step of its own
        return central_difference(f, w, 1e-3)

    fixed = nb01.check_central_difference_gradient(own_eps)
    assert fixed.status == "hint" and "the eps you were given" in fixed.message
    assert "one-sided" not in fixed.message

    def second_point_unmoved(f, w, eps):  # lowers the raised entry back to w, not below it
        grad = np.zeros_like(w)
        for idx in np.ndindex(*w.shape):
            old = w[idx]
            w[idx] = w[idx] + eps
            up = f(w)
            w[idx] = w[idx] - eps
            grad[idx] = (up - f(w)) / (2 * eps)
            w[idx] = old
        return grad

    halved = nb01.check_central_difference_gradient(second_point_unmoved)
    assert halved.status == "hint" and "factor of 2" in halved.message

    def aliased(f, w, eps):  # "copies" that are the same array: both points are w itself
        grad = np.zeros_like(w)
        for idx in np.ndindex(*w.shape):
            up, down = w, w
            up[idx] += eps
            down[idx] -= eps
            grad[idx] = (f(up) - f(down)) / (2 * eps)
        return grad

    assert nb01.check_central_difference_gradient(aliased).status == "hint"

    def one_extra_pass(f, w, eps):
        f(w)
        return central_difference(f, w, eps)

    extra = nb01.check_central_difference_gradient(one_extra_pass)
    assert extra.status == "hint" and "13 times" in extra.message


@pytest.mark.parametrize("own", [1e-5, 1e-6])
def test_central_difference_refuses_a_step_of_its_own_that_is_good_at_the_checks_eps(own):
    # 1e-5 is the check's first eps (and 1e-6 is as precise there): only another eps shows it
    fixed = nb01.check_central_difference_gradient(lambda f, w, eps: central_difference(f, w, own))
    assert fixed.status == "hint" and "not a number of your own" in fixed.message, fixed
    assert "2 * eps" not in fixed.message


def rows_and_columns(f, w, eps):
    """Right for a matrix only: two loops, over rows and columns, for a w of any shape."""
    grad = np.zeros_like(w)
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            old = w[i, j]
            w[i, j] = old + eps
            up = f(w)
            w[i, j] = old - eps
            down = f(w)
            w[i, j] = old
            grad[i, j] = (up - down) / (2 * eps)
    return grad


def six_entries(f, w, eps):
    """Right for the check's (2, 3) array only: its six entries written in."""
    grad = np.zeros((2, 3))
    for i in range(6):
        old = w.flat[i]
        w.flat[i] = old + eps
        up = f(w)
        w.flat[i] = old - eps
        down = f(w)
        w.flat[i] = old
        grad.flat[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("shaped", [rows_and_columns, six_entries])
def test_central_difference_refuses_an_answer_for_the_checks_shape_only(shaped):
    """The exercise asks for a w of any shape; the check passed one (2, 3) array, so answers
    written for a matrix, or for six entries, passed."""
    feedback = nb01.check_central_difference_gradient(shaped)
    assert feedback.status == "hint", feedback
    assert "not for a w of shape (2, 2, 2)" in feedback.message, feedback
    assert "any shape" in feedback.message and "range" not in feedback.message


@pytest.mark.parametrize("shape", [(5,), (2, 1, 3), (1, 2, 2, 1)])
def test_central_difference_reference_for_any_shape_agrees_with_the_derivative(shape):
    """The second shape's reference is the central difference of a loss written for any shape:
    it agrees with that loss's derivative, cos(w) * c + sum(w**2) * w, written out here."""
    from backproplab.exercises import _difference_inputs, numeric_gradient

    w = np.random.default_rng(0).uniform(-1, 1, shape)
    c = np.arange(1.0, w.size + 1).reshape(shape)
    exact = np.cos(w) * c + np.sum(w**2) * w
    assert np.allclose(
        numeric_gradient(_difference_inputs.loss, w, 1e-5), exact, rtol=1e-8, atol=1e-9
    )


def test_gradient_descent_step_refuses_an_answer_for_two_parameters_only():
    """The check passed two parameters both times: an answer that steps the first two passed."""

    def two_only(params, grads, lr):
        return [params[0] - lr * grads[0], params[1] - lr * grads[1]]

    feedback = nb01.check_gradient_descent_step(two_only)
    assert feedback.status == "hint" and "one new array per parameter (3 here)" in feedback.message


def test_central_difference_not_done():
    assert nb01.check_central_difference_gradient(stub).status == "not done"


# ---------------------------------------------------------------------------- challenge: train
def make_train(sign=-1.0, zero_grads=True, copy=True, use_new=True, record_after=False):
    """A learner's train() with the package, with one switch per plausible mistake."""

    def train(X, Y, W1, W2, lr, steps):
        w1 = bl.Tensor(W1.copy() if copy else W1, requires_grad=True)
        w2 = bl.Tensor(W2.copy() if copy else W2, requires_grad=True)
        first = (w1, w2)
        losses = []
        for _ in range(steps):
            a, b = (w1, w2) if use_new else first
            loss = bl.cross_entropy((X @ a.T).sigmoid() @ b.T, Y)
            if not record_after:
                losses.append(loss.item())
            if zero_grads:
                a.grad = b.grad = None
            loss.backward()
            if copy:
                w1 = bl.Tensor(a.data + sign * lr * a.grad, requires_grad=True)
                w2 = bl.Tensor(b.data + sign * lr * b.grad, requires_grad=True)
                if not zero_grads:  # carry the accumulated gradients along
                    w1.grad, w2.grad = a.grad.copy(), b.grad.copy()
            else:  # a step in place on the very arrays it was given, then tensors of them
                W1 += sign * lr * a.grad
                W2 += sign * lr * b.grad
                w1, w2 = bl.Tensor(W1, requires_grad=True), bl.Tensor(W2, requires_grad=True)
            if record_after:
                with bl.no_grad():
                    losses.append(bl.cross_entropy((X @ w1.T).sigmoid() @ w2.T, Y).item())
        return losses, w1.data, w2.data

    return train


def test_train_reference_gradients_agree_with_the_engine():
    X, Y, W1, W2 = nb01._challenge_data()
    loss, g1, g2 = nb01._network_loss_and_grads(X, Y, W1, W2)
    w1, w2 = bl.Tensor(W1, requires_grad=True), bl.Tensor(W2, requires_grad=True)
    L = bl.cross_entropy((X @ w1.T).sigmoid() @ w2.T, Y)
    L.backward()
    assert np.isclose(L.item(), loss, rtol=1e-12)
    assert np.allclose(w1.grad, g1, rtol=1e-10) and np.allclose(w2.grad, g2, rtol=1e-10)


def test_train_pass():
    feedback = nb01.check_train(make_train())
    assert feedback.passed, feedback


def test_train_stepping_tensors_made_from_the_given_arrays_in_place_passes():
    # a tensor that requires grad owns a copy of its data, so this leaves W1, W2 alone
    def train(X, Y, W1, W2, lr, steps):
        w1, w2 = bl.Tensor(W1, requires_grad=True), bl.Tensor(W2, requires_grad=True)
        losses = []
        for _ in range(steps):
            w1.grad = w2.grad = None
            loss = bl.cross_entropy((X @ w1.T).sigmoid() @ w2.T, Y)
            losses.append(loss.item())
            loss.backward()
            w1.data -= lr * w1.grad
            w2.data -= lr * w2.grad
        return losses, w1.data, w2.data

    feedback = nb01.check_train(train)
    assert feedback.passed, feedback


@pytest.mark.filterwarnings("ignore::backproplab.autodiff.GradientAccumulationWarning")
def test_train_rejects_plausible_mistakes():
    cases = {
        "uphill": (make_train(sign=+1.0), "goes up"),
        "grads never cleared": (make_train(zero_grads=False), "still in .grad"),
        "in place on the given arrays": (make_train(copy=False), "W1, W2 you were given changed"),
        "old weights reused": (make_train(use_new=False), "never changes"),
        "loss recorded after the step": (make_train(record_after=True), "before any step"),
    }
    for name, (wrong, words) in cases.items():
        feedback = nb01.check_train(wrong)
        assert feedback.status == "hint", name
        assert words in feedback.message, (name, feedback.message)


def test_train_rejects_more_plausible_mistakes():
    def train(X, Y, W1, W2, lr, steps, mistake):
        w1, w2 = W1.copy(), W2.copy()
        losses, before_last = [], None
        for _ in range(steps):
            v1, v2 = bl.Tensor(w1, requires_grad=True), bl.Tensor(w2, requires_grad=True)
            loss = bl.cross_entropy((X @ v1.T).sigmoid() @ v2.T, Y)
            if mistake == "summed loss":
                loss = loss * len(Y)
            losses.append(loss.item())
            loss.backward()
            before_last = (w1, w2)
            if mistake != "W1 never stepped":
                w1 = w1 - lr * v1.grad
            w2 = w2 - lr * v2.grad
        if mistake == "weights before the last step":
            return losses, *before_last
        if mistake == "the given weights":
            return losses, W1, W2
        return losses, w1, w2

    cases = {
        "summed loss": "averaged over the examples",
        "W1 never stepped": "drift away",
        "weights before the last step": "not the last ones",
        "the given weights": "not the last ones",
    }
    for mistake, words in cases.items():
        feedback = nb01.check_train(lambda *a, m=mistake: train(*a, mistake=m))
        assert feedback.status == "hint" and words in feedback.message, (mistake, feedback)


@pytest.mark.parametrize(
    ("mistake", "words"),
    [  # each of these used to get "your losses drift away" or "the shapes you were given"
        ("a learning rate of its own", "a learning rate of 0.1, not of the lr"),
        ("step divided by N", "N = 8 times too small"),
        ("step times N", "N = 8 times too big"),
        ("weights swapped", "in each other's place"),
        ("weights transposed", "in the shapes you were given"),
    ],
)
def test_train_names_the_step_size_and_the_returned_weights(mistake, words):
    def train(X, Y, W1, W2, lr, steps):
        w1, w2 = W1.copy(), W2.copy()
        losses = []
        step = {"a learning rate of its own": 0.1, "step divided by N": lr / len(X)}.get(
            mistake, lr * len(X) if mistake == "step times N" else lr
        )
        for _ in range(steps):
            v1, v2 = bl.Tensor(w1, requires_grad=True), bl.Tensor(w2, requires_grad=True)
            loss = bl.cross_entropy((X @ v1.T).sigmoid() @ v2.T, Y)
            losses.append(loss.item())
            loss.backward()
            w1, w2 = w1 - step * v1.grad, w2 - step * v2.grad
        if mistake == "weights swapped":
            return losses, w2, w1
        if mistake == "weights transposed":  # (3, 5) and (5, 3): the shapes of W2 and W1
            return losses, w1.T, w2.T
        return losses, w1, w2

    feedback = nb01.check_train(train)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "drift" not in feedback.message


@pytest.mark.parametrize("lr, steps", [(0.5, None), (None, 30)])
def test_train_refuses_numbers_of_its_own_for_lr_and_steps(lr, steps):
    """Found by a generic attack (each argument frozen at the value of the check's first call):
    the check ran once, with lr = 0.5, the step size notebook 01 itself uses, so a train() that
    copied that step with 0.5 written in place of lr passed; so did one with 30 steps written
    in."""

    def train(X, Y, W1, W2, lr_given, steps_given):
        return make_train()(X, Y, W1, W2, lr or lr_given, steps or steps_given)

    feedback = nb01.check_train(train)
    assert feedback.status == "hint" and "a number of your own" in feedback.message, feedback
    assert "0.5 *" not in feedback.message and "range(" not in feedback.message


def test_train_not_done_and_shape_hints():
    assert nb01.check_train(stub).status == "not done"
    assert "three things" in nb01.check_train(lambda *a: [0.0]).message


# ------------------------------------------------------- round 4: each hint names the mistake
@pytest.mark.parametrize(
    ("wrong", "words", "not_words"),
    [
        (lambda s: sum(a * b + 1 for a, b in zip(s[:-1], s[1:])), "a single bias", "shape"),
        (lambda s: sum(a * b + b for a, b in zip(s[:-2], s[1:-1])), "left out", "shape"),
        (lambda s: sum(a * b + b for a, b in zip(s[1:-1], s[2:])), "left out", "shape"),
        (lambda s: sum(b * b + b for b in s[1:]), "weight counts are off", "bias per"),
        (lambda s: print(sum(s)), "`return` missing", "shape"),
        (lambda s: [a * b + b for a, b in zip(s[:-1], s[1:])], "return one number", "shape"),
    ],
)
def test_count_parameters_hint_names_the_mistake(wrong, words, not_words):
    feedback = nb01.check_count_parameters(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert not_words not in feedback.message, feedback
    assert "+ b" not in feedback.message and "n_out *" not in feedback.message


def test_count_parameters_catch_all_asserts_no_cause():
    # neither a weight-shape mistake nor a bias mistake: the hint must not blame the weights
    feedback = nb01.check_count_parameters(lambda sizes: sum(sizes) + 1)
    assert feedback.status == "hint" and "one at a time" in feedback.message, feedback
    assert "weight matrix of which shape" not in feedback.message


@pytest.mark.parametrize(
    "wrong",
    [
        lambda params, grads, lr: [p - lr * lr * g for p, g in zip(params, grads)],
        lambda params, grads, lr: [p - g / lr for p, g in zip(params, grads)],
        lambda params, grads, lr: [p - 0.1 * g for p, g in zip(params, grads)],  # lr of its own
    ],
)
def test_gradient_descent_step_wrong_size_is_named(wrong):
    feedback = nb01.check_gradient_descent_step(wrong)
    assert feedback.status == "hint" and "times the gradient" in feedback.message, feedback
    assert "lr *" not in feedback.message and "- lr" not in feedback.message


def test_central_difference_sign_error_is_named():
    feedback = nb01.check_central_difference_gradient(
        lambda f, w, eps: -central_difference(f, w, eps)
    )
    assert feedback.status == "hint" and "wrong sign" in feedback.message, feedback
    assert "eps" not in feedback.message


def test_central_difference_steps_of_twice_eps_are_not_called_a_number_of_ones_own():
    def two_eps_each_side(f, w, eps):  # moves by 2 eps, divides by 4 eps: right only as eps -> 0
        return central_difference(f, w, 2 * eps)

    feedback = nb01.check_central_difference_gradient(two_eps_each_side)
    assert feedback.status == "hint" and "exactly the eps" in feedback.message, feedback


def test_count_parameters_that_uses_up_the_list_of_sizes_is_refused():
    """Right counts, but the caller's list of widths is emptied on the way (a later cell that
    builds the network from it gets one layer): found by the in-place audit."""

    def pops_the_widths(sizes):
        total = 0
        while len(sizes) > 1:
            n_in = sizes.pop(0)
            total += n_in * sizes[0] + sizes[0]
        return total

    feedback = nb01.check_count_parameters(pops_the_widths)
    assert feedback.status == "hint" and "changed the list" in feedback.message, feedback
    assert "pop" not in feedback.message


# ------------------------------------------------------------------------------- chain_cost
# Right answers, written three ways: a loop over the products, the sizes summed once, and the
# products made with numpy on real arrays, counted from their shapes.
def _fits(shapes):
    for (rows, _), (_, cols) in zip(shapes, shapes[1:]):
        if cols != rows:
            raise ValueError(f"chain_cost: {shapes} do not chain")


def chain_cost_loop(shapes, mode):
    _fits(shapes)
    if mode == "forward":  # carry (m_i, m_0): start with the (m_0, m_0) identity
        carried, total = (shapes[0][1], shapes[0][1]), 0
        for J in shapes:
            total += J[0] * J[1] * carried[1]
            carried = (J[0], carried[1])
        return total
    carried, total = (shapes[-1][0], shapes[-1][0]), 0  # (m_k, m_i), from the (m_k, m_k) identity
    for J in reversed(shapes):
        total += carried[0] * J[0] * J[1]
        carried = (carried[0], J[1])
    return total


def chain_cost_sizes(shapes, mode):
    _fits(shapes)
    carried = shapes[0][1] if mode == "forward" else shapes[-1][0]
    return carried * sum(rows * cols for rows, cols in shapes)


def chain_cost_numpy(shapes, mode):  # the shape checks are numpy's own (a ValueError)
    r = np.random.default_rng(0)
    jacobians = [r.standard_normal(shape) for shape in shapes]
    order = jacobians if mode == "forward" else jacobians[::-1]
    carried = np.eye(shapes[0][1] if mode == "forward" else shapes[-1][0])
    total = 0
    for J in order:
        a, b = (J, carried) if mode == "forward" else (carried, J)
        total += a.shape[0] * a.shape[1] * b.shape[1]
        carried = a @ b
    return total


@pytest.mark.parametrize("right", [chain_cost_loop, chain_cost_sizes, chain_cost_numpy])
def test_chain_cost_passes_right_answers_written_differently(right):
    feedback = nb01.check_chain_cost(right)
    assert feedback.passed, feedback


@pytest.mark.parametrize("drawn", [3, 58, 901])
def test_chain_cost_holds_at_the_graders_draws(drawn):
    with draw(drawn):
        assert nb01.check_chain_cost(chain_cost_numpy).passed
        assert nb01.check_chain_cost(_swapped).status == "hint"


def test_chain_cost_reference_agrees_with_costs_worked_out_by_hand():
    # forward: (5,6)@I6 = 180, (4,5)@(5,6) = 120, (1,4)@(4,6) = 24; reverse: I1@(1,4) = 4,
    # (1,4)@(4,5) = 20, (1,5)@(5,6) = 30
    loss = [(5, 6), (4, 5), (1, 4)]
    assert (_chain_cost.cost(loss, "forward"), _chain_cost.cost(loss, "reverse")) == (324, 54)
    # its mirror: (4,1)@I1 = 4, (5,4)@(4,1) = 20, (6,5)@(5,1) = 30; I6@(6,5) = 180, 120, 24
    mirror = [(4, 1), (5, 4), (6, 5)]
    assert (_chain_cost.cost(mirror, "forward"), _chain_cost.cost(mirror, "reverse")) == (54, 324)
    # one Jacobian: (3,5)@I5 = 75; I3@(3,5) = 45
    assert (_chain_cost.cost([(3, 5)], "forward"), _chain_cost.cost([(3, 5)], "reverse")) == (
        75,
        45,
    )
    for _, shapes in _chain_cost._cases():  # and with the loop, for every case of the check
        for mode in _chain_cost.MODES:
            assert _chain_cost.cost(shapes, mode) == chain_cost_loop(shapes, mode)


def _swapped(shapes, mode):
    return chain_cost_sizes(shapes, "reverse" if mode == "forward" else "forward")


def _priced(price):
    """The loop with another price for an (a, b) by (b, c) product."""

    def chain_cost(shapes, mode):
        _fits(shapes)
        m = [shapes[0][1], *(rows for rows, _ in shapes)]
        if mode == "forward":
            return sum(price(m[i], m[i - 1], m[0]) for i in range(1, len(m)))
        return sum(price(m[-1], m[i], m[i - 1]) for i in range(1, len(m)))

    return chain_cost


def _jacobians_only(shapes, mode):  # k - 1 products: the identity's product left out
    (rows, cols), (last_rows, last_cols) = shapes[0], shapes[-1]
    first = rows * cols * cols if mode == "forward" else last_rows * last_rows * last_cols
    return chain_cost_loop(shapes, mode) - first


def _both_identities(shapes, mode):  # forward mode ends with the (m_k, m_k) identity too
    m0, mk = shapes[0][1], shapes[-1][0]
    return chain_cost_sizes(shapes, mode) + m0 * mk * (mk if mode == "forward" else m0)


def _last_left_out(shapes, mode):
    cut = shapes[:-1] if mode == "forward" else shapes[1:]
    return chain_cost_loop(cut, mode) if cut else 0


def _first_width_throughout(shapes, mode):
    _fits(shapes)
    n = shapes[0][1]
    return len(shapes) * n**3


def _per_product(shapes, mode):
    _fits(shapes)
    m = [shapes[0][1], *(rows for rows, _ in shapes)]
    if mode == "forward":
        return [m[i] * m[i - 1] * m[0] for i in range(1, len(m))]
    return [m[-1] * m[i] * m[i - 1] for i in range(len(m) - 1, 0, -1)]


def _reverses_the_list(shapes, mode):
    if mode == "reverse":
        shapes.reverse()  # walks from the output end... and leaves the caller's list reversed
        carried = shapes[0][0]
        return carried * sum(rows * cols for rows, cols in shapes)
    return chain_cost_sizes(shapes, mode)


def _pops(shapes, mode):
    _fits(shapes)
    carried = shapes[0][1] if mode == "forward" else shapes[-1][0]
    total = 0
    while shapes:
        rows, cols = shapes.pop()
        total += carried * rows * cols
    return total


def _never_refuses(shapes, mode):
    carried = shapes[0][1] if mode == "forward" else shapes[-1][0]
    return carried * sum(rows * cols for rows, cols in shapes)


def _asserts(shapes, mode):
    for (rows, _), (_, cols) in zip(shapes, shapes[1:]):
        assert rows == cols
    return _never_refuses(shapes, mode)


# the four fixed cases' counts, as a student could note them down (plain numbers, no package)
KNOWN = {(tuple(s), m): _chain_cost.cost(s, m) for _, s in _chain_cost._cases()[:4] for m in _chain_cost.MODES}  # fmt: skip


def _printed_cases_looked_up(shapes, mode):  # the four fixed cases by heart, then a guess
    return KNOWN.get((tuple(shapes), mode), 0)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (_swapped, "that is what the other mode costs"),
        (lambda shapes, mode: chain_cost_sizes(shapes, "forward"), "the same in both modes"),
        (_jacobians_only, "one product is missing, the first"),
        (_priced(lambda a, b, c: a * b), "two of the three sizes"),
        (_priced(lambda a, b, c: b * c), "two of the three sizes"),
        (_both_identities, "one product too many or too few"),
        (_last_left_out, "one product too many or too few"),
        (_first_width_throughout, "as if every width were 6"),
        (_per_product, "costs of the products one by one"),
        (_reverses_the_list, "changed the list of shapes"),
        (_pops, "changed the list of shapes"),
        (_never_refuses, "these shapes do not chain"),
        (_asserts, "your code raised AssertionError: raise a ValueError"),
        (lambda shapes, mode: None, "is a `return` missing"),
        (_printed_cases_looked_up, "go product by product"),
    ],
)
def test_chain_cost_refuses_wrong_answers_with_their_hints(wrong, words):
    feedback = nb01.check_chain_cost(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "sum of the" not in feedback.message and "m_0" not in feedback.message  # no formula


def test_chain_cost_not_done():
    assert nb01.check_chain_cost(stub).status == "not done"


NEVER_REFUSES = """    carried = shapes[0][1] if mode == "forward" else shapes[-1][0]
    return carried * sum(rows * cols for rows, cols in shapes)
"""
REVERSES = """    if mode == "reverse":
        shapes.reverse()
    return shapes[0][1 if mode == "forward" else 0] * sum(r * c for r, c in shapes)
"""


@pytest.mark.parametrize(
    "body, status, words",
    [
        (None, "correct", "shapes that do not chain are refused"),
        (NEVER_REFUSES, "hint", "these shapes do not chain"),
        (REVERSES, "hint", "changed the list of shapes"),
    ],
    ids=["solution", "never refuses", "reverses the list"],
)
def test_chain_cost_through_the_grader(tmp_path, body, status, words):
    """In the grader the learner's function runs in its kernel: its ValueError for shapes that
    do not chain comes back as one, and a list it reverses is reversed in the check's hands."""
    check = grade_one_exercise(tmp_path, "01_why_backprop.ipynb", "nb01", "nb01-chain_cost", body)
    assert check.status == status and words in check.message, check


def test_chain_cost_refuses_an_answer_that_calls_the_checks_own_count():
    # it scored correct in the notebook (the grader's call recorder refused it)
    def chain_cost(shapes, mode):
        from backproplab.exercises._chain_cost import cost

        if any(a[0] != b[1] for a, b in zip(shapes, shapes[1:])):
            raise ValueError("shapes do not chain")
        return cost(shapes, mode)

    feedback = nb01.check_chain_cost(chain_cost)
    assert feedback.status == "hint" and "count it yourself" in feedback.message


# Hints no test reached before the coverage sweep: each is reachable by the answer below
@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda params, grads, lr: params, "return new arrays, not the parameter arrays"),
        (
            lambda params, grads, lr: [(p - lr * g).ravel() for p, g in zip(params, grads)],
            "each new parameter must have the shape of the old one",
        ),
        (
            lambda params, grads, lr: [p * 2 for p in params],
            "the new parameters are not one small step downhill",
        ),
    ],
)
def test_gradient_descent_step_odd_returns_get_their_hint(answer, words):
    feedback = nb01.check_gradient_descent_step(answer)
    assert feedback.status == "hint" and words in feedback.message, feedback


@pytest.mark.parametrize("odd", ["raises", "text"])
def test_central_difference_right_only_at_the_first_eps_gets_a_hint(odd):
    # right at eps = 1e-5; at the second call's larger eps it raises, or returns text
    def only_small_steps(f, w, eps):
        if eps > 1e-3:
            if odd == "raises":
                raise ValueError("a big step")
            return "no numbers"
        return central_difference(f, w, eps)

    feedback = nb01.check_central_difference_gradient(only_small_steps)
    assert feedback.status == "hint", feedback
    if odd == "raises":
        assert "ValueError" in feedback.message and "a big step" in feedback.message
    else:
        assert feedback.message.startswith("right at eps = 1e-05, but with eps = 0.01"), feedback


def test_train_with_losses_that_are_no_numbers_is_told_so():
    feedback = nb01.check_train(lambda X, Y, W1, W2, lr, steps: (["a"] * steps, W1, W2))
    assert feedback.status == "hint"
    assert feedback.message == "losses should be a list of numbers, one per step"


def _refusing_bad_shapes_then(answer):
    def chain_cost(shapes, mode):
        chain_cost_loop(shapes, mode)  # a ValueError for shapes that do not chain, as asked
        return answer(shapes, mode)

    return chain_cost


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda shapes, mode: [1, 2], "return one number, the total count, not a list"),
        (lambda shapes, mode: ["a"], "return one number, the total count, not a list"),
        (lambda shapes, mode: "12", "return one number, the total count, not a str"),
    ],
)
def test_chain_cost_that_is_no_count_is_told_so(answer, words):
    # (coverage sweep: no answer returned a list that is not the products' costs, or text)
    feedback = nb01.check_chain_cost(_refusing_bad_shapes_then(answer))
    assert feedback.status == "hint" and feedback.message.endswith(words), feedback


def test_chain_cost_still_a_stub_for_shapes_that_do_not_chain_is_not_done():
    def stub_for_bad_shapes(shapes, mode):
        try:
            return chain_cost_loop(shapes, mode)
        except ValueError:
            raise NotImplementedError("not written yet") from None

    assert nb01.check_chain_cost(stub_for_bad_shapes).status == "not done"


def _divided_by_two_then_times_eps(f, w, eps):
    # (up - down) / 2 * eps, which Python reads as ((up - down) / 2) * eps: the same as dividing
    # by scale * eps with scale = 2 / eps**2
    return central_difference(f, w, eps, scale=2 / eps**2)


def _rows_nudged_together(f, w, eps):  # a whole row up and down at once, not one entry
    grad = np.zeros_like(w)
    for i in range(len(w)):
        old = w[i].copy()
        w[i] = old + eps
        up = f(w)
        w[i] = old - eps
        down = f(w)
        w[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def _all_nudged_together(f, w, eps):  # every entry moved at once: one slope copied everywhere
    return np.full_like(w, (f(w + eps) - f(w - eps)) / (2 * eps))


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (_divided_by_two_then_times_eps, "divided by 2 and then multiplied by eps"),
        (_rows_nudged_together, "called 4 times for 6 entries: nudge one entry at a time"),
        (_all_nudged_together, "called 2 times for 6 entries: nudge one entry at a time"),
    ],
)
def test_central_difference_slips_far_off_are_named(wrong, words):
    # found by the review of notebook 01: all three got "not close to the true one", no cause
    feedback = nb01.check_central_difference_gradient(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "(2 * eps)" not in feedback.message and "np.ndindex" not in feedback.message
