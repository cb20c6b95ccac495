"""The self-checks of notebook 06: right answers pass, plausible wrong ones get a hint that names
the mistake without giving the code, stubs are "not done"."""

import numpy as np
import pytest
from exercise_helpers import ESTIMATE_WORDS, estimated_vjp, hint_asserter, stub

from backproplab.exercises import nb06

CHECKS = [nb06.check_through_relu, nb06.check_tiny_net_backward, nb06.check_gd_predicted_change]
CODE = ["> 0)", ">= 0", "np.", "@", ".T", "sum("]


assert_hint = hint_asserter(CODE)


@pytest.mark.parametrize("check", CHECKS)
def test_not_done(check):
    assert check(stub).status == "not done"


def test_no_module_function_answers_an_exercise():
    # a learner could call a helper with the exercise's own signature: there must be none
    public_or_private = [name for name in vars(nb06) if not name.startswith("__")]
    assert "_engine_grads" not in public_or_private
    assert all(not name.endswith("backward") or name.startswith("check_") for name in vars(nb06))


# ----------------------------------------------------------------------------- through_relu
def test_through_relu_right():
    assert nb06.check_through_relu(lambda dL_dh, z1: dL_dh * (z1 > 0)).passed
    assert nb06.check_through_relu(lambda dL_dh, z1: np.where(z1 > 0, dL_dh, 0.0)).passed


@pytest.mark.parametrize("h", [1e-5, 1e-6])
def test_through_relu_refuses_an_estimate_by_finite_differences(h):
    # differences to the left of z1: 0 at the kink, as the convention, so only the digits tell
    def estimated(dL_dh, z1):
        return dL_dh * (np.maximum(z1, 0) - np.maximum(z1 - h, 0)) / h

    feedback = nb06.check_through_relu(estimated)
    assert feedback.status == "hint" and all(w in feedback.message for w in ESTIMATE_WORDS), (
        feedback
    )


def zero_in_place(dL_dh, z1):
    dL_dh[z1 <= 0] = 0.0  # right numbers, but the caller's array is changed
    return dL_dh


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda dL_dh, z1: dL_dh, ["unchanged"]),
        (lambda dL_dh, z1: dL_dh * np.maximum(z1, 0), ["output"]),
        (lambda dL_dh, z1: dL_dh * (dL_dh > 0), ["its own input"]),
        (lambda dL_dh, z1: dL_dh * (z1 >= 0), ["z1 = 0", "strict"]),
        (zero_in_place, ["in place"]),
        (lambda dL_dh, z1: (z1 > 0) * 1.0, ["slope alone", "arriving"]),  # the upstream forgotten
        (lambda dL_dh, z1: dL_dh * np.sign(z1), ["slope is 1"]),  # -1 where the unit is off
        (lambda dL_dh, z1: -dL_dh * (z1 > 0), ["slope is 1"]),  # a sign error
    ],
)
def test_through_relu_wrong(wrong, words):
    assert_hint(nb06.check_through_relu(wrong), *words)


# ---------------------------------------------------------------------- gd_predicted_change
def right_change(grads, lr):
    return -lr * sum(float((g**2).sum()) for g in grads)


def test_gd_predicted_change_right():
    assert nb06.check_gd_predicted_change(right_change).passed


def scale_in_place(grads, lr):
    for g in grads:
        g *= -lr  # the caller's gradients are now steps
    return sum(float((g * g).sum()) for g in grads) / -lr


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda grads, lr: -right_change(grads, lr), ["sign"]),
        (lambda grads, lr: right_change(grads, lr) / lr, ["learning rate"]),
        # section 5's equal nudge with eps = -lr: was the catch-all, which did not say what was
        # wrong with putting the step into section 5's formula (the learner had)
        (
            lambda grads, lr: -lr * sum(float(g.sum()) for g in grads),
            ["every entry by the same amount", "an amount of its own"],
        ),
        (lambda grads, lr: right_change(grads[:1], lr), ["first array"]),
        (
            lambda grads, lr: right_change(grads, lr) / sum(g.size for g in grads),
            ["not averaged"],
        ),
        (scale_in_place, ["in place"]),
        # the norm instead of its square; |g| instead of g^2; a 1/2 from a Taylor habit; lr squared
        (lambda grads, lr: -lr * np.sqrt(-right_change(grads, 1.0)), ["section 5's formula"]),
        (lambda grads, lr: -lr * sum(float(abs(g).sum()) for g in grads), ["section 5's formula"]),
        (lambda grads, lr: right_change(grads, lr) / 2, ["section 5's formula"]),
        (lambda grads, lr: right_change(grads, lr**2), ["square of the learning rate"]),
        # the step's squared length, -sum((lr * g)^2): found in the review of notebook 06
        (
            lambda grads, lr: -sum(float(((lr * g) ** 2).sum()) for g in grads),
            ["square of the learning rate", "multiplied by its gradient"],
        ),
    ],
)
def test_gd_predicted_change_wrong(wrong, words):
    assert_hint(nb06.check_gd_predicted_change(wrong), *words)


@pytest.mark.parametrize("own", [0.05, 0.2, 0.01])  # the check's two lrs, the notebook's
def test_gd_predicted_change_refuses_a_learning_rate_of_its_own(own):
    """A number written in where lr should be: at the check's first lr (0.05) alone that passed."""

    def own_lr(grads, lr):
        return right_change(grads, own)

    feedback = nb06.check_gd_predicted_change(own_lr)
    assert feedback.status == "hint"
    if own == 0.05:
        assert_hint(feedback, "does not change with lr", "lr = 0.2")


# ------------------------------------------------------------------------ tiny_net_backward
def backward(
    X, Y, W1, b1, W2, b2, relu_mask=True, factor=2.0, mean=True, transpose_W1=False, keep=False
):
    n = {True: len(X), False: 1, "every entry": Y.size}[mean]
    z1 = X @ W1.T + b1
    h = np.maximum(z1, 0)
    y_hat = h @ W2.T + b2
    G = factor * (y_hat - Y) / n  # dL/dy_hat
    dW2, db2 = G.T @ h, G.sum(axis=0)
    mask = {True: z1 > 0, False: 1.0, "per unit": (z1 > 0).any(axis=0), "first": z1[0] > 0}
    mask["at the kink"] = z1 >= 0
    G1 = (G @ W2) * mask[relu_mask]
    dW1, db1 = G1.T @ X, G1.sum(axis=0)
    if keep:
        db1 = G1
    return (dW1.T if transpose_W1 else dW1), db1, dW2, db2


def test_tiny_net_backward_right():
    assert nb06.check_tiny_net_backward(backward).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda *a: backward(*a, relu_mask=False), ["ReLU", "off"]),
        (lambda *a: backward(*a, factor=1.0), ["half", "db2"]),
        (lambda *a: backward(*a, mean=False), ["db2", "not a sum"]),
        (lambda *a: backward(*a, transpose_W1=True), ["dW1 is transposed"]),
        (lambda *a: backward(*a, keep=True), ["db1", "one row per example"]),
        (lambda *a: backward(*a)[0], ["tuple of four"]),
        # np.mean over every entry of y_hat: L is a mean over the examples, a sum over outputs
        (lambda *a: backward(*a, mean="every entry"), ["db2", "3 times too small", "outputs"]),
        # a unit's mask taken for the whole batch, or from the first example only
        (lambda *a: backward(*a, relu_mask="per unit"), ["db1", "off for an example"]),
        (lambda *a: backward(*a, relu_mask="first"), ["db1", "off for an example"]),
        # found by mutating the solution: no z1 of the random batches is at the kink, so a mask
        # of z1 >= 0 passed
        (lambda *a: backward(*a, relu_mask="at the kink"), ["z1 is exactly 0", "off"]),
        # a novice walk: the right four in another order heard "db2 has shape (5,); it must
        # have the shape of its parameter, (3,)", sending the learner to re-derive it
        (lambda *a: backward(*a)[::-1], ["all four gradients are right", "order"]),
        (lambda *a: (*backward(*a)[2:], *backward(*a)[:2]), ["(dW1, db1, dW2, db2)"]),
    ],
)
def test_tiny_net_backward_wrong(wrong, words):
    assert_hint(nb06.check_tiny_net_backward(wrong), *words)


def tiny_net_through_W2_transposed(X, Y, W1, b1, W2, b2):
    Z1 = X @ W1.T + b1
    H = np.maximum(Z1, 0)
    G = 2 * (H @ W2.T + b2 - Y) / len(X)
    G1 = (G @ W2.T) * (Z1 > 0)  # the forward pass's transpose, kept on the way back
    return G1.T @ X, G1.sum(axis=0), G.T @ H, G.sum(axis=0)


def tiny_net_forward_untransposed(X, Y, W1, b1, W2, b2):
    Z1 = X @ W1 + b1  # W1 used as (n_in, n_out)
    return Z1, Z1, Z1, Z1


GIVEN = ("Your function was given X of shape (4, 2), Y of shape (4, 3), W1 of shape (5, 2), "
         "b1 of shape (5,), W2 of shape (3, 5) and b2 of shape (3,): check which side each "
         "factor goes on and whether it needs a transpose.")  # fmt: skip


@pytest.mark.parametrize(
    "wrong, words",
    [
        (tiny_net_through_W2_transposed, "the left factor has 3 columns, the right factor 5 rows"),
        (tiny_net_forward_untransposed, "the left factor has 2 columns, the right factor 5 rows"),
    ],
)
def test_tiny_net_backward_shape_mistakes_get_the_shapes_by_name(wrong, words):
    feedback = nb06.check_tiny_net_backward(wrong)
    assert_hint(feedback, "a matrix product whose inner sizes differ: " + words, GIVEN)
    assert "operand" not in feedback.message and "gufunc" not in feedback.message


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("answer", [None, "abc", ("a", "b", "c", "d")])
def test_checks_never_raise_on_odd_answers(check, answer):
    assert check(lambda *args: answer).status == "hint"


def test_the_package_cannot_answer():
    import backproplab as bl

    def through_engine(dL_dh, z1):
        z = bl.Tensor(z1, requires_grad=True)
        (z.relu() * dL_dh).sum().backward()
        return z.grad

    assert_hint(nb06.check_through_relu(through_engine), "calls the package")


def test_tiny_net_batches_switch_every_unit_on_and_off():
    # the notebook says so: every hidden unit is on for some examples and off for others
    for seed in (1, 2):
        X, Y, W1, b1, W2, b2 = nb06._random_network(seed)
        on = X @ W1.T + b1 > 0
        assert on.any(axis=0).all() and (~on).any(axis=0).all()
        sizes = {len(X), X.shape[1], len(b1), Y.shape[1]}
        assert len(sizes) == 4 and Y.shape[1] != 2  # a factor n_out is not a forgotten 2


# ------------------------------------------- sizes written in (the check's first batches hold 4)
def tiny_net_four_examples(X, Y, W1, b1, W2, b2):
    """The batch size of the check's first two batches written in: the mean's 1/N as 1/4."""
    Z1 = X @ W1.T + b1
    H = np.maximum(Z1, 0)
    G = 2 * (H @ W2.T + b2 - Y) / 4
    G1 = (G @ W2) * (Z1 > 0)
    return G1.T @ X, G1.sum(axis=0), G.T @ H, G.sum(axis=0)


def test_tiny_net_backward_refuses_a_batch_size_written_in():
    feedback = nb06.check_tiny_net_backward(tiny_net_four_examples)
    assert feedback.status == "hint", feedback
    assert "right on two batches of 4 examples" in feedback.message
    assert "write in a number" in feedback.message


# Hints no test reached before the coverage sweep: each is reachable by the answer below
def test_through_relu_of_another_shape_is_told_both_shapes():
    assert_hint(nb06.check_through_relu(lambda d, z: d[:3]), "shape (3,)", "z1 has shape (6,)")


@pytest.mark.parametrize("odd", ["raises", "three"])
def test_an_answer_right_on_random_batches_but_odd_at_the_kink_gets_a_hint(odd):
    # the fourth batch puts a unit exactly at z1 = 0: an answer that only there raises, or
    # returns three arrays, reached no test before the coverage sweep
    def at_kink_odd(X, Y, W1, b1, W2, b2):
        if np.any(X @ W1.T + b1 == 0):
            if odd == "raises":
                raise ValueError("a unit at the kink")
            return backward(X, Y, W1, b1, W2, b2)[:3]
        return backward(X, Y, W1, b1, W2, b2)

    feedback = nb06.check_tiny_net_backward(at_kink_odd)
    if odd == "raises":
        assert_hint(feedback, "ValueError", "a unit at the kink")
    else:
        assert_hint(feedback, "return a tuple of four arrays")


def _one_output_changed(index, change):
    """The right tiny_net_backward with output ``index`` (0..3: dW1, db1, dW2, db2) changed."""

    def tiny_net_backward(X, Y, W1, b1, W2, b2):
        grads = list(backward(X, Y, W1, b1, W2, b2))
        grads[index] = change(grads[index], len(X))
        return tuple(grads)

    return tiny_net_backward


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_one_output_changed(3, lambda g, n: np.append(g, 0.0)), "db2 has shape (4,); it must"),
        (_one_output_changed(3, lambda g, n: g / n), "db2 is 4 times too small: L is a mean"),
        (_one_output_changed(3, lambda g, n: -g), "db2 has the wrong sign"),
        (_one_output_changed(2, lambda g, n: g + 1.0), "dW2 disagrees with backward()"),
    ],
)
def test_tiny_net_backward_hints_no_answer_reached(answer, words):
    # (coverage sweep: these four hints were reached by no answer)
    assert_hint(nb06.check_tiny_net_backward(answer), words)


# A finite-difference answer to the challenge: central differences of a forward pass of the
# answer's own. The network is piecewise linear and the loss quadratic, so an estimate with a
# LARGE step is exact to rounding and still passes; the usual small steps, h = 1e-5 and 1e-6,
# leave rounding errors of 1e-16 / h of the loss, right to 8-11 digits only, and the exact
# reference (the engine's backward) tells those from a derived answer (exercises.estimated).
@pytest.mark.parametrize("h", [1e-5, 1e-6])
def test_tiny_net_backward_refuses_an_estimate_by_finite_differences(h):
    def loss(X, Y, W1, b1, W2, b2):
        y_hat = np.maximum(X @ W1.T + b1, 0) @ W2.T + b2
        return ((y_hat - Y) ** 2).sum(axis=1).mean()

    def tiny_net_backward(*params):
        return tuple(estimated_vjp(loss, 1.0, list(params), k, h) for k in (2, 3, 4, 5))

    assert_hint(nb06.check_tiny_net_backward(tiny_net_backward), *ESTIMATE_WORDS)
