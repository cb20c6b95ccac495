"""Self-checks of notebook 09: a correct answer passes, typical mistakes get their hint, stubs
are "not done", and no hint gives the answer away."""

import numpy as np
import pytest
from exercise_helpers import (
    ESTIMATE_WORDS,
    estimated_vjp,
    grade_one_exercise,
    hint_asserter,
    mygrad_with,
    our_words,
)

import backproplab as bl
from backproplab.exercises import nb09


def stub(*args):
    raise NotImplementedError


CHECKS = [
    nb09.check_linear_backward,
    nb09.check_hidden_delta,
    nb09.check_sigmoid_hidden_delta,
    nb09.check_mlp_backward,
    nb09.check_replay,
]


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("answer", [None, "abc", [[1, 2]], (1, 2, 3), {"a": 1}, 3.0])
def test_checks_never_raise_on_odd_answers(check, answer):
    assert check(lambda *args: answer).status == "hint"


# ---------------------------------------------------------------------------- linear_backward
def linear_by_the_package(d, A, W):
    dA, dW, db = bl.ops.linear.vjp(d, None, A, W, np.zeros(len(W)))
    return dW, db, dA()


def linear_in_place(d, A, W):
    d *= 2.0  # right values in the end, but the caller's delta is changed in place
    return d.T @ A / 2, d.sum(axis=0) / 2, d @ W / 2


def test_linear_backward_correct():
    feedback = nb09.check_linear_backward(lambda d, A, W: (d.T @ A, d.sum(axis=0), d @ W))
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda d, A, W: (A.T @ d, d.sum(axis=0), d @ W), "transposed"),
        (lambda d, A, W: (d.T @ A, d, d @ W), "its contributions add up"),
        (lambda d, A, W: (d.T @ A, d.mean(axis=0), d @ W), "factor of the batch size"),
        (lambda d, A, W: (d.T @ A / len(d), d.sum(axis=0), d @ W), "factor of the batch size"),
        (lambda d, A, W: (d.T @ A, d.sum(axis=0)), "three arrays"),
        (lambda d, A, W: (d.T @ A, d.sum(axis=0), d @ W.T), "ValueError"),
        (lambda d, A, W: (d.T @ A, -d.sum(axis=0), d @ W), "db has the wrong sign"),
        (lambda d, A, W: (d.T @ A, d.sum(axis=0), d @ W / len(d)), "dA_prev is off by a factor"),
        # the right arrays, in another order: a novice walk's (db, dW, dA_prev) heard only that
        # dW had the wrong shape; now the order is named
        (lambda d, A, W: (d.T @ A, d @ W, d.sum(axis=0)), "not in the order asked for"),
        (lambda d, A, W: (d.sum(axis=0), d.T @ A, d @ W), "not in the order asked for"),
        (lambda d, A, W: (d @ W, d.sum(axis=0), d.T @ A), "not in the order asked for"),
        (linear_by_the_package, "calls the package"),
        (linear_in_place, "in place"),
        # db right for a batch of one only (the first row of delta): heard "which error and
        # which input meet in each" (found trying the likely slips)
        (lambda d, A, W: (d.T @ A, d[0], d @ W), "one example's error only"),
    ],
)
def test_linear_backward_hints(wrong, words):
    feedback = nb09.check_linear_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "d.T @ A" not in our_words(feedback.message) and "delta.T" not in our_words(
        feedback.message
    )


@pytest.mark.parametrize(
    "wrong",
    [  # the first batch's 5 examples written in: five ones, or a loop over five rows
        lambda d, A, W: (d.T @ A, np.ones(5) @ d, d @ W),
        lambda d, A, W: (sum(np.outer(d[n], A[n]) for n in range(5)), d.sum(axis=0), d @ W),
    ],
)
def test_linear_backward_for_a_batch_of_five_only_is_refused(wrong):
    """The check called with one batch of 5: answers written for it passed."""
    feedback = nb09.check_linear_backward(wrong)
    assert feedback.status == "hint" and "not for one of 7" in feedback.message, feedback
    assert "the batch it is given" in feedback.message


def test_linear_backward_not_done():
    assert nb09.check_linear_backward(stub).status == "not done"


# ------------------------------------------------------------------------------- hidden_delta
def test_hidden_delta_correct():
    feedback = nb09.check_hidden_delta(lambda d, W, Z: (d @ W) * (Z > 0))
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda d, W, Z: d @ W, "not through the ReLU"),
        (lambda d, W, Z: (d @ W) * Z, "not by Z"),
        (lambda d, W, Z: (d @ W) * (Z < 0), "inverted"),
        (lambda d, W, Z: (d @ W.T) * (Z > 0), "ValueError"),
        (lambda d, W, Z: -(d @ W) * (Z > 0), "but for the sign"),
        (lambda d, W, Z: (d @ W) * (Z > 0) / len(d), "N times too small"),  # the mean twice
        # ReLU of the gradient, not ReLU': the mask from the wrong tensor (was "not yet")
        (lambda d, W, Z: np.maximum(d @ W, 0), "follows the sign of the gradient"),
        (lambda d, W, Z: (d @ W) * (d @ W > 0), "follows the sign of the gradient"),
        (lambda d, W, Z: np.maximum(d, 0) @ W, "follows the sign of the gradient"),
        # found by mutating the solution: Z had no entry at the kink, so >= passed
        (lambda d, W, Z: (d @ W) * (Z >= 0), "except where Z = 0 exactly"),
        (lambda d, W, Z: bl.ops.relu.vjp(d @ W, None, Z)[0], "calls the package"),
    ],
)
def test_hidden_delta_hints(wrong, words):
    feedback = nb09.check_hidden_delta(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "(Z > 0)" not in our_words(feedback.message) and "@ W" not in our_words(feedback.message)


def test_hidden_delta_not_done():
    assert nb09.check_hidden_delta(stub).status == "not done"


# ----------------------------------------------------------------------- sigmoid_hidden_delta
def test_sigmoid_hidden_delta_correct():
    feedback = nb09.check_sigmoid_hidden_delta(lambda d, W2, H: (d @ W2) * H * (1 - H))
    assert feedback.passed, feedback


def sig(v):
    return 1 / (1 + np.exp(-v))


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda d, W2, H: d @ W2, "stopped before the sigmoid"),
        (lambda d, W2, H: (d @ W2) * (H > 0), "stopped before the sigmoid"),
        (lambda d, W2, H: (d @ W2) * sig(H) * (1 - sig(H)), "again"),
        (lambda d, W2, H: (d @ W2.T) * H * (1 - H), "ValueError"),
        (lambda d, W2, H: (d @ W2) * H, "kept only one"),
        (lambda d, W2, H: (d @ W2) * (1 - H), "kept only one"),
        (lambda d, W2, H: -(d @ W2) * H * (1 - H), "but for the sign"),
        (lambda d, W2, H: (d @ W2) * (1 - H**2), "slope of tanh"),
        (lambda d, W2, H: (d @ W2) * H * (1 - H) / len(d), "N times too small"),
        (lambda d, W2, H: bl.ops.sigmoid.vjp(d @ W2, H, None)[0], "calls the package"),
        # the slope's two factors mixed up: none of the named slips (coverage sweep: nb09 212)
        (lambda d, W2, H: (d @ W2) * (1 - H) ** 2, "not yet: back through W2"),
    ],
)
def test_sigmoid_hidden_delta_hints(wrong, words):
    feedback = nb09.check_sigmoid_hidden_delta(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "H * (1 - H)" not in our_words(feedback.message) and "@ W2" not in our_words(
        feedback.message
    )


def test_sigmoid_hidden_delta_not_done():
    assert nb09.check_sigmoid_hidden_delta(stub).status == "not done"


# ------------------------------------------------------------------- mlp_backward (challenge)
def make_mlp_backward(
    scale_out=True,
    mean_loss=True,
    relu=True,
    mask_on="Z",
    db="sum",
    dW="DtA",
    mutate=False,
    true_class_only=False,
    count=None,
    shift="row",
    log_of_softmax=False,
):
    """A hand-written MLP backward with one chosen mistake (the defaults are all right);
    ``count(labels)``, if given, is its number of classes instead of the logits' columns."""

    def mlp_backward(Ws, bs, X, labels):
        N = len(X)
        Z1 = X @ Ws[0].T + bs[0]
        A1 = np.maximum(Z1, 0)
        Z2 = A1 @ Ws[1].T + bs[1]
        A2 = np.maximum(Z2, 0)
        Z3 = A2 @ Ws[2].T + bs[2]
        S = Z3 - {"row": Z3.max(axis=1, keepdims=True), "batch": Z3.max(), "none": 0}[shift]
        with np.errstate(all="ignore"):  # (the wrong ones overflow)
            if log_of_softmax:  # the probabilities first, then their log
                P = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
                log_P = np.log(P + (0 if log_of_softmax is True else log_of_softmax))  # (+1e-12)
            else:  # log-softmax: no probability is formed before the log
                log_P = S - np.log(np.exp(S).sum(axis=1, keepdims=True))
                P = np.exp(log_P)
        losses = -log_P[np.arange(N), labels]
        loss = losses.mean() if mean_loss else losses.sum()
        D3 = P - np.eye(P.shape[1] if count is None else count(labels))[labels]
        if true_class_only:  # the loss reads a_c only: only the true class's logit gets one
            D3 = D3 * np.eye(P.shape[1])[labels]
        if scale_out:
            D3 = D3 / N

        def back(D, W, Z, A):
            G = D @ W
            if not relu:
                return G
            return G * ((Z if mask_on == "Z" else -Z) > 0)

        D2 = back(D3, Ws[2], Z2, A2)
        D1 = back(D2, Ws[1], Z1, A1)
        grads = {}
        for k, (D, A) in enumerate([(D1, X), (D2, A1), (D3, A2)], start=1):
            grads[f"D{k}"] = D
            grads[f"W{k}"] = D.T @ A if dW == "DtA" else A.T @ D
            grads[f"b{k}"] = D.sum(axis=0) if db == "sum" else D.mean(axis=0)
        if mutate:
            Ws[0] -= 0.1
        return loss, grads

    return mlp_backward


def test_mlp_backward_correct():
    feedback = nb09.check_mlp_backward(make_mlp_backward())
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (make_mlp_backward(scale_out=False), "N times too large"),
        (make_mlp_backward(mean_loss=False), "your loss adds up the examples' losses"),
        (make_mlp_backward(relu=False), "D2 is not yet right"),
        (make_mlp_backward(mask_on="minus Z"), "D2 is not yet right"),
        (make_mlp_backward(db="mean"), "b3 is off by a factor of the batch size"),
        (make_mlp_backward(dW="AtD"), "W3 is transposed"),
        (make_mlp_backward(mutate=True), "changed the weights"),
        (make_mlp_backward(true_class_only=True), "D3: only the true class's logit"),
        (make_mlp_backward(true_class_only=True, scale_out=False), "D3: only the true class's"),
        (lambda Ws, bs, X, y: make_mlp_backward()(Ws, bs, X, y)[1], "two things"),
        # right for small logits only (found by mutating the solution: they passed)
        (make_mlp_backward(shift="none"), "e^z overflows to inf past z = 709"),
        (make_mlp_backward(shift="batch"), "shifted by each row's own largest logit"),
        (make_mlp_backward(log_of_softmax=True), "a loss of inf where it is 625.8"),
        (make_mlp_backward(log_of_softmax=1e-12), "a loss of 18.42 where it is 625.8"),
    ],
)
def test_mlp_backward_hints(wrong, words):
    feedback = nb09.check_mlp_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "@" not in feedback.message and ".T" not in feedback.message


def mlp_by_the_engine(Ws, bs, X, labels):
    """The challenge answered by the engine's backward pass instead of by hand."""
    W = [bl.Tensor(w, requires_grad=True) for w in Ws]
    b = [bl.Tensor(v, requires_grad=True) for v in bs]
    Z1 = bl.Tensor(X) @ W[0].T + b[0]
    Z2 = Z1.relu() @ W[1].T + b[1]
    Z3 = Z2.relu() @ W[2].T + b[2]
    loss = bl.cross_entropy(Z3, labels)
    loss.backward()
    grads = {"D1": Z1.grad, "D2": Z2.grad, "D3": Z3.grad}
    for k in range(3):
        grads[f"W{k + 1}"], grads[f"b{k + 1}"] = W[k].grad, b[k].grad
    return loss.item(), grads


def mlp_hard_coded_classes(Ws, bs, X, labels):
    """Right for the digits' 10 classes only: the check's network has 3."""
    loss, grads = make_mlp_backward()(Ws, bs, X, labels)
    grads["D3"] = grads["D3"] + 0 * np.eye(10)[labels]
    return loss, grads


def mlp_centring_X_in_place(Ws, bs, X, labels):
    """Right gradients, but it centres the caller's X in place (every later cell's X changes)."""
    result = make_mlp_backward()(Ws, bs, X.copy(), labels)
    X -= X.mean(axis=0)
    return result


def test_the_challenge_refuses_an_answer_that_changes_its_inputs():
    feedback = nb09.check_mlp_backward(mlp_centring_X_in_place)
    assert feedback.status == "hint" and "changed the inputs X" in feedback.message, feedback


def test_the_challenge_refuses_the_engine_and_hard_coded_sizes():
    assert nb09.check_mlp_backward(mlp_by_the_engine).message.startswith("your function lets")
    feedback = nb09.check_mlp_backward(mlp_hard_coded_classes)
    assert feedback.status == "hint" and "ValueError" in feedback.message, feedback


def test_mlp_backward_names_missing_keys():
    def no_deltas(Ws, bs, X, y):
        loss, grads = make_mlp_backward()(Ws, bs, X, y)
        return loss, {k: v for k, v in grads.items() if not k.startswith("D")}

    feedback = nb09.check_mlp_backward(no_deltas)
    assert feedback.status == "hint" and "D3, D2, D1" in feedback.message, feedback


def test_mlp_backward_not_done():
    assert nb09.check_mlp_backward(stub).status == "not done"


# ------------------------------------------------------- a shape mistake gets a hint in words
# numpy's words for it ("Input operand 1 has a mismatch in its core dimension 0, with gufunc
# signature (n?,k),(k,m?)->(n?,m?)"), and the code of the fix, never appear in the hint
assert_shape_hint = hint_asserter(
    ["operand", "gufunc", "(n?,k)", "aligned", "broadcast together", "@", ".T", "np.", "> 0"]
)
PRODUCT = "your code raised ValueError: a matrix product whose inner sizes differ: "
ADVICE = "check which side each factor goes on and whether it needs a transpose."


def hidden_delta_transposed(delta_next, W_next, Z):
    return (delta_next @ W_next.T) * (Z > 0)  # the transpose of the forward pass, kept


def hidden_delta_columns(delta_next, W_next, Z):
    return (W_next.T @ delta_next) * (Z > 0)  # the column-vector formula on batch-first arrays


def sigmoid_hidden_delta_transposed(delta_out, W2, H):
    return (delta_out @ W2.T) * H * (1 - H)


def sigmoid_hidden_delta_columns(delta_out, W2, H):
    return np.dot(W2, delta_out) * H * (1 - H)


def linear_backward_transposed(delta, A_prev, W):
    return delta.T @ A_prev, delta.sum(axis=0), delta @ W.T


def linear_backward_swapped(delta, A_prev, W):
    return delta @ A_prev.T, delta.sum(axis=0), delta @ W  # the factors of dW swapped


def linear_backward_column_bias(delta, A_prev, W):
    return delta.T @ A_prev, delta.sum(axis=0), delta @ W + delta.sum(axis=1)


def mlp_backward_forward_untransposed(Ws, bs, X, labels):
    Z1 = X @ Ws[0] + bs[0]  # the weights used as (n_in, n_out)
    return Z1, {}


HIDDEN = "given delta_next of shape (4, 3), W_next of shape (3, 6) and Z of shape (4, 6): "
SIGMOID = "given delta_out of shape (4, 3), W2 of shape (3, 5) and H of shape (4, 5): "
LINEAR = "given delta of shape (5, 3), A_prev of shape (5, 4) and W of shape (3, 4): "


@pytest.mark.parametrize(
    "check, wrong, words",
    [
        (nb09.check_hidden_delta, hidden_delta_transposed,
         [PRODUCT + "the left factor has 3 columns, the right factor 6 rows.", HIDDEN + ADVICE]),
        (nb09.check_hidden_delta, hidden_delta_columns,
         [PRODUCT + "the left factor has 3 columns, the right factor 4 rows.", HIDDEN + ADVICE]),
        (nb09.check_sigmoid_hidden_delta, sigmoid_hidden_delta_transposed,
         [PRODUCT + "the left factor has 3 columns, the right factor 5 rows.", SIGMOID + ADVICE]),
        (nb09.check_sigmoid_hidden_delta, sigmoid_hidden_delta_columns,
         ["a matrix product of shapes (3, 5) and (4, 3) whose inner sizes differ: the left "
          "factor has 5 columns, the right factor 4 rows.",  # swapped: no transpose fits
          SIGMOID + "check which side each factor goes on and which arrays you multiply."]),
        (nb09.check_linear_backward, linear_backward_transposed,
         [PRODUCT + "the left factor has 3 columns, the right factor 4 rows.", LINEAR + ADVICE]),
        (nb09.check_linear_backward, linear_backward_swapped,
         [PRODUCT + "the left factor has 3 columns, the right factor 4 rows.", LINEAR + ADVICE]),
        (nb09.check_linear_backward, linear_backward_column_bias,
         ["an elementwise operation on arrays of shapes (5, 4) and (5,), which do not fit",
          LINEAR + "check the shape of each array you combine"]),
        (nb09.check_mlp_backward, mlp_backward_forward_untransposed,
         [PRODUCT + "the left factor has 5 columns, the right factor 7 rows.",
          "given Ws of shapes [(7, 5), (4, 7), (3, 4)], bs of shapes [(7,), (4,), (3,)], X of "
          "shape (6, 5) and labels of shape (6,): " + ADVICE]),
    ],
    ids=["hidden", "hidden columns", "sigmoid", "sigmoid columns", "linear", "linear swapped",
         "linear bias", "mlp"],
)  # fmt: skip
def test_a_shape_mistake_gets_the_shapes_by_name_not_numpys_words(check, wrong, words):
    assert_shape_hint(check(wrong), *words)


def test_the_grader_gives_the_same_shape_hint(tmp_path):
    """In the grader the function runs in the student's kernel: the exception comes back as a
    name and a message, the parameter names are read there, and the hint is the notebook's."""
    body = "    return (delta_next @ W_next.T) * (Z > 0)\n"
    check = grade_one_exercise(
        tmp_path, "09_mlp_from_scratch.ipynb", "nb09", "nb09-hidden_delta", body
    )
    assert check.status == "hint" and check.score == 0.0
    local = nb09.check_hidden_delta(hidden_delta_transposed)
    assert check.message == str(local) and HIDDEN + ADVICE in check.message, check


# ------------------------------------------------------------------------------------ replay
def replay_right(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data = value
    for node in order:
        if node.op is not None:
            node.data, node.saved = node.op.run([x.data for x in node.inputs], node.settings)
    return order[-1]


def replay_no_refill(order, inputs, values):
    for node in order:
        if node.op is not None:
            node.data, node.saved = node.op.run([x.data for x in node.inputs], node.settings)
    return order[-1]


def replay_rebinds(order, inputs, values):
    inputs = [bl.Tensor(value) for value in values]  # new tensors: the graph holds the old ones
    return replay_no_refill(order, inputs, values)


def replay_reversed(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data = value
    for node in reversed(order):
        if node.op is not None:
            node.data, node.saved = node.op.run([x.data for x in node.inputs], node.settings)
    return order[-1]


def replay_no_settings(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data = value
    for node in order:
        if node.op is not None:
            node.data, node.saved = node.op.run([x.data for x in node.inputs], {})
    return order[-1]


def replay_leaves_too(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data = value
    for node in order:
        node.data, node.saved = node.op.run([x.data for x in node.inputs], node.settings)
    return order[-1]


def replay_not_stored(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data = value
    for node in order:
        if node.op is not None:
            node.op.forward(*[x.data for x in node.inputs], **node.settings)
    return order[-1]


def replay_only_the_loss(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data = value
    last = order[-1]
    last.data = last.op.forward(*[x.data for x in last.inputs], **last.settings)
    return last


def replay_first_input_only(order, inputs, values):
    inputs[0].data = values[0]
    return replay_no_refill(order, inputs, values)


def replay_data_only(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data = value
    for node in order:
        if node.op is not None:
            node.data = node.op.run([x.data for x in node.inputs], node.settings)[0]
    return order[-1]


def replay_keeps_the_pair(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data = value
    for node in order:
        if node.op is not None:
            node.data = node.op.run([x.data for x in node.inputs], node.settings)  # both, unsplit
    return order[-1]


def replay_skips_the_loss(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data = value
    for node in order[:-1]:  # one node short: the loss keeps its recorded value
        if node.op is not None:
            node.data, node.saved = node.op.run([x.data for x in node.inputs], node.settings)
    return order[-1]


def replay_settings_as_keywords(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data = value
    for node in order:
        if node.op is not None:
            node.data, node.saved = node.op.run([x.data for x in node.inputs], **node.settings)
    return order[-1]


def replay_returns_first(order, inputs, values):
    replay_right(order, inputs, values)
    return order[0]


def test_replay_correct():
    feedback = nb09.check_replay(replay_right)
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (replay_no_refill, "still hold the recorded batch"),
        (replay_rebinds, "still hold the recorded batch"),
        (replay_reversed, "must run after the nodes it reads"),
        (replay_no_settings, "without its settings"),
        (replay_leaves_too, "has no op to run"),
        (replay_not_stored, "no node has a new value"),
        (replay_only_the_loss, "still holds its recorded value"),
        (replay_skips_the_loss, "the 'div' node still holds its recorded value"),
        (replay_keeps_the_pair, "gives back two things"),
        (replay_settings_as_keywords, "the list of the inputs' arrays and the node's settings"),
        (replay_first_input_only, "still hold the recorded batch"),
        (replay_returns_first, "the loss node itself"),
        (replay_data_only, "what each rule kept"),
        (lambda order, inputs, values: None, "returned None"),
    ],
)
def test_replay_hints(wrong, words):
    feedback = nb09.check_replay(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "forward(*" not in feedback.message and "for node" not in feedback.message


def test_replay_not_done():
    assert nb09.check_replay(stub).status == "not done"


def test_a_missing_return_is_named():
    def forgot_return(d, W, Z):
        (d @ W) * (Z > 0)

    feedback = nb09.check_hidden_delta(forgot_return)
    assert feedback.status == "hint" and "return" in feedback.message
    feedback = nb09.check_linear_backward(lambda d, A, W: (d.T @ A, None, d @ W))
    assert feedback.status == "hint" and "db is None" in feedback.message


def test_linear_backward_non_numbers_get_a_hint_not_a_crash():
    feedback = nb09.check_linear_backward(lambda d, A, W: (d.T @ A, "db", d @ W))
    assert feedback.status == "hint" and feedback.message.startswith("db is a str"), feedback


# ------------------------------------ the challenge's classes counted from the labels (a minibatch)
def mlp_three_classes(Ws, bs, X, labels):
    """The check's first network's 3 classes written in (the digits' cell then crashes)."""
    loss, grads = make_mlp_backward()(Ws, bs, X, labels)
    grads["D3"] = grads["D3"] + 0 * np.eye(3)[labels]
    return loss, grads


@pytest.mark.parametrize(
    "wrong",
    [
        make_mlp_backward(count=lambda y: y.max() + 1),
        make_mlp_backward(count=lambda y: len(np.unique(y))),
    ],
)
def test_the_challenge_refuses_classes_counted_from_the_labels(wrong):
    feedback = nb09.check_mlp_backward(wrong)
    assert feedback.status == "hint", feedback
    assert "miss the last" in feedback.message and "count the classes" in feedback.message
    assert "write in" not in feedback.message


def mlp_six_examples(Ws, bs, X, labels):
    """The first batch's 6 examples written in for the mean (its classes read from the logits)."""
    loss, grads = make_mlp_backward()(Ws, bs, X, labels)
    return loss, {key: value * len(X) / 6 for key, value in grads.items()}


@pytest.mark.parametrize("wrong", [mlp_three_classes, mlp_six_examples])
def test_the_challenge_names_a_size_written_in_not_the_labels(wrong):
    """A size of the first batch written in fails on a second batch that holds every class: its
    hint is about sizes written in, not classes counted from the labels (it said so before)."""
    feedback = nb09.check_mlp_backward(wrong)
    assert feedback.status == "hint", feedback
    assert "write in a size" in feedback.message and "6 examples" in feedback.message, feedback
    assert "count the classes from the labels" not in feedback.message, feedback


# --------------------------------------- a sign or a value mistake is not called a shape mistake
@pytest.mark.parametrize(
    "check, wrong, words",
    [
        (
            nb09.check_linear_backward,
            lambda d, A, W: (-(d.T @ A), d.sum(0), d @ W),
            "dW has the wrong sign",
        ),  # fmt: skip
        (
            nb09.check_linear_backward,
            lambda d, A, W: (d.T @ A, d.sum(0), -(d @ W)),
            "dA_prev has the wrong sign",
        ),  # fmt: skip
        (
            nb09.check_linear_backward,
            lambda d, A, W: (d.T @ A, d.sum(0), 2 * (d @ W)),
            "though the shapes are",
        ),  # fmt: skip
        (nb09.check_hidden_delta, lambda d, W, Z: -(d @ W) * (Z > 0), "but for the sign"),
        (
            nb09.check_sigmoid_hidden_delta,
            lambda d, W, H: -(d @ W) * H * (1 - H),
            "but for the sign",
        ),  # fmt: skip
    ],
)
def test_a_value_mistake_gets_a_hint_about_values(check, wrong, words):
    """These answers have every shape right: the old catch-all sent them to their shapes."""
    feedback = check(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "check the shapes" not in feedback.message and "@" not in feedback.message


@pytest.mark.parametrize("drawn", [8, 17, 21, 30, 44, 61, 124])
def test_the_large_logits_case_holds_at_other_draws(drawn):
    """At the grader's draws (exercises._draws) the right answer passes and the softmax slips are
    refused: with the last layer always times 1000, central differences' rounding (loss ~600)
    refused the right answer at draws 8, 17 and 30, and the logits fell short of what shows each
    slip at 21, 44, 61 and 124 (an overflowing softmax scored there)."""
    from backproplab.exercises._draws import draw

    with draw(drawn):
        assert nb09.check_mlp_backward(make_mlp_backward()).passed
        for slip in (dict(shift="none"), dict(shift="batch"), dict(log_of_softmax=True)):
            feedback = nb09.check_mlp_backward(make_mlp_backward(**slip))
            assert feedback.status == "hint" and "logits in the hundreds" in feedback.message, slip


def replay_writes_into_the_batch(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data[...] = value  # the recorded batch's arrays overwritten: the caller's data
    for node in order:
        if node.op is not None:
            node.data, node.saved = node.op.run([x.data for x in node.inputs], node.settings)
    return order[-1]


def replay_writes_into_the_recorded_values(order, inputs, values):
    for tensor, value in zip(inputs, values):
        tensor.data = value
    for node in order:
        if node.op is not None:
            fresh, node.saved = node.op.run([x.data for x in node.inputs], node.settings)
            node.data[...] = fresh  # new values, but in the recorded arrays
    return order[-1]


@pytest.mark.parametrize(
    "wrong, words",
    [  # found by the in-place audit: the first passed (the notebook's X = bl.Tensor(rows of
        # data.X_train) would have its training rows overwritten), the second heard that no
        # node had a new value
        (replay_writes_into_the_batch, "the caller's own data"),
        (replay_writes_into_the_recorded_values, "written into the array that held its recorded"),
    ],
)
def test_replay_that_writes_in_place_is_named(wrong, words):
    feedback = nb09.check_replay(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "no node has a new value" not in feedback.message and "[...]" not in feedback.message


def test_hidden_delta_matching_no_known_mistake_gets_the_general_hint():
    # (coverage sweep: no wrong answer fell through to the last hint)
    feedback = nb09.check_hidden_delta(lambda delta_next, W_next, Z: np.zeros_like(Z))
    assert feedback.status == "hint" and feedback.message.startswith("not yet: two links"), feedback


def _altered(loss=lambda v: v, grads=lambda g: g, **change):
    """The right mlp_backward, its loss, its grads or some of its arrays changed afterwards."""
    right = make_mlp_backward()

    def mlp_backward(Ws, bs, X, labels):
        value, got = right(Ws, bs, X, labels)
        n = len(X)
        got = {key: change[key](array, n) if key in change else array for key, array in got.items()}
        return loss(value), grads(got)

    return mlp_backward


# Hints no test reached before the coverage sweep: each is reachable by the answer below
@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (_altered(grads=lambda g: list(g.values())), "grads is a list; make it a dict keyed"),
        (_altered(loss=lambda v: v + 1.0), "the loss is not yet right"),
        (_altered(D3=lambda a, n: a / n), "D3 is N times too small"),
        (_altered(W3=lambda a, n: -a), "W3 has the wrong sign"),
        (_altered(D3=lambda a, n: a + 1.0), "D3 is not yet right: softmax and cross-entropy"),
        (_altered(W3=lambda a, n: a + 1.0), "W3 is not yet right (the tensors before it are)"),
    ],
)
def test_mlp_backward_hints_no_answer_reached(wrong, words):
    feedback = nb09.check_mlp_backward(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback


def test_mygrad_sgd_with_the_notebooks_momentum_written_in_is_refused():
    """Momentum read as a switch, the notebook's 0.9 written in: the check tried 0 and 0.9 only."""
    from backproplab.exercises.mygrad import check_step

    engine = mygrad_with(
        "                v *= self.momentum\n",
        "                v *= 0.9 if self.momentum else 0.0\n",
        "mygrad_momentum_switch",
    )
    feedback = check_step("09", engine)
    assert feedback.status == "hint", feedback
    assert "SGD(lr=0.02, momentum=0.5)" in feedback.message
    assert "does not change with momentum" in feedback.message


# A finite-difference answer: Z recovered from H, then central differences of the forward pass,
# right to 8-11 digits. The reference is exact now (the engine's backward), so the check tells
# it from a derived answer (exercises.estimated) instead of calling it right.
@pytest.mark.parametrize("h", [1e-5, 1e-6])
def test_sigmoid_hidden_delta_refuses_an_estimate_by_finite_differences(h):
    def estimated(delta_out, W2, H):
        def forward(Z):
            return (1 / (1 + np.exp(-Z))) @ W2.T

        return estimated_vjp(forward, delta_out, [np.log(H / (1 - H))], 0, h)

    feedback = nb09.check_sigmoid_hidden_delta(estimated)
    assert feedback.status == "hint" and all(w in feedback.message for w in ESTIMATE_WORDS), (
        feedback
    )


# Finite-difference answers to linear_backward, hidden_delta and mlp_backward: central
# differences of a forward pass of the answer's own. These layers are linear or piecewise linear
# (and the loss quadratic or smooth), so an estimate with a LARGE step is exact to rounding and
# still passes; the usual small steps, h = 1e-5 and 1e-6, leave rounding errors of 1e-16 / h of
# the loss, right to 8-11 digits only, and the exact references (the engine's backward) tell
# those from a derived answer (exercises.estimated).
def _estimated_linear_backward(h):
    def linear_backward(delta, A, W):
        def forward(A_, W_, b_):
            return A_ @ W_.T + b_

        inputs = [A, W, np.zeros(W.shape[0])]
        return tuple(estimated_vjp(forward, delta, inputs, k, h) for k in (1, 2, 0))

    return nb09.check_linear_backward, linear_backward


def _estimated_hidden_delta(h):
    def hidden_delta(delta_next, W_next, Z):
        estimate = estimated_vjp(lambda Z_: np.maximum(Z_, 0) @ W_next.T, delta_next, [Z], 0, h)
        estimate[Z == 0] = 0.0  # the differences straddle the kink there: slope 0 written in
        return estimate

    return nb09.check_hidden_delta, hidden_delta


def _mlp_loss_from(layer, Z, Ws, bs, labels):  # mean cross-entropy, run on from layer's Z
    for k in range(layer, 3):
        Z = np.maximum(Z, 0) @ Ws[k].T + bs[k]
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(labels)), labels].mean()


def _mlp_loss(Ws, bs, X, labels):
    return _mlp_loss_from(1, X @ Ws[0].T + bs[0], Ws, bs, labels)


def _estimated_mlp_backward(h):
    def mlp_backward(Ws, bs, X, labels):
        grads = {}
        for k in range(3):
            grads[f"W{k + 1}"] = estimated_vjp(
                lambda W, k=k: _mlp_loss([*Ws[:k], W, *Ws[k + 1 :]], bs, X, labels),
                1.0,
                [Ws[k]],
                0,
                h,
            )
            grads[f"b{k + 1}"] = estimated_vjp(
                lambda b, k=k: _mlp_loss(Ws, [*bs[:k], b, *bs[k + 1 :]], X, labels),
                1.0,
                [bs[k]],
                0,
                h,
            )
        A, Zs = X, []
        for W, b in zip(Ws, bs):
            Zs.append(A @ W.T + b)
            A = np.maximum(Zs[-1], 0)
        for k in range(3):  # dL/dZ of layer k + 1: the network run on from its Z
            grads[f"D{k + 1}"] = estimated_vjp(
                lambda Z, k=k: _mlp_loss_from(k + 1, Z, Ws, bs, labels), 1.0, [Zs[k]], 0, h
            )
        return _mlp_loss(Ws, bs, X, labels), grads

    return nb09.check_mlp_backward, mlp_backward


@pytest.mark.parametrize("h", [1e-5, 1e-6])
@pytest.mark.parametrize(
    "estimate", [_estimated_linear_backward, _estimated_hidden_delta, _estimated_mlp_backward]
)
def test_a_finite_difference_answer_is_refused_with_the_estimate_hint(estimate, h):
    check, answer = estimate(h)
    feedback = check(answer)
    assert feedback.status == "hint" and all(w in feedback.message for w in ESTIMATE_WORDS), (
        feedback
    )
