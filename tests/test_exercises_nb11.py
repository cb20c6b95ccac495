"""Self-checks of notebook 11: a correct answer passes, typical mistakes get their hint, stubs
are "not done", and no hint gives the answer away."""

import numpy as np
import pytest
from exercise_helpers import ESTIMATE_WORDS, estimated_vjp, our_words

import backproplab as bl
from backproplab.exercises import nb11


def stub(*args):
    raise NotImplementedError


# ------------------------------------------------------------------------------ residual_vjp
def vjp_g_as_a_column(g, J_F):
    return g[:, None] @ J_F + g  # g as a column vector on the left of J_F


def block_bias_as_a_column(x, W, b):
    return x + (x @ W.T + b.reshape(-1, 1)).relu()  # b as a column vector, x batch-first


@pytest.mark.parametrize(
    "check, wrong, words",
    [
        (nb11.check_residual_vjp, vjp_g_as_a_column,
         ["ValueError: a matrix product whose inner sizes differ: the left factor has 1 column, "
          "the right factor 4 rows. Your function was given g of shape (4,) and J_F of shape "
          "(4, 4): check which side each factor goes on"]),
        # the package's own ShapeError is readable: it stays, and the shapes given are added
        (nb11.check_residual_block, block_bias_as_a_column,
         ["ShapeError: add: shapes (5, 3) and (3, 1) cannot be broadcast together. Your function "
          "was given x of shape (5, 3), W of shape (3, 3) and b of shape (3,): check the shape "
          "of each array you combine"]),
    ],
    ids=["vjp", "block"],
)  # fmt: skip
def test_shape_mistakes_get_the_shapes_by_name(check, wrong, words):
    feedback = check(wrong)
    assert feedback.status == "hint" and all(w in feedback.message for w in words), feedback
    for code in ("@", ".T", "[:, None]", "reshape", "operand", "gufunc"):
        assert code not in our_words(feedback.message), feedback


def test_residual_vjp_computed_in_float32_is_told_so_not_sent_to_the_sum():
    # the right rule in float32 misses the check's tolerance (1e-6): it was told "not yet: write
    # dL/dx_j as a sum ...", a search for a mistake its formula does not have
    def in_float32(g, J_F):
        g32 = g.astype(np.float32)
        return (g32 @ J_F.astype(np.float32) + g32).astype(np.float64)

    feedback = nb11.check_residual_vjp(in_float32)
    assert feedback.status == "hint", feedback
    assert all(word in feedback.message for word in (*ESTIMATE_WORDS, "float32")), feedback
    assert "sum over i" not in feedback.message


def test_residual_vjp_correct():
    feedback = nb11.check_residual_vjp(lambda g, J: g @ J + g)
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda g, J: g @ J, "dropped the skip path"),
        (lambda g, J: g, "only the skip path"),
        (lambda g, J: J @ g + g, "wrong way"),
        # the "+1" of dH/dx = dF/dx + 1 added to the gradient as a number (a novice walk's slip,
        # which got only the catch-all "write dL/dx_j as a sum")
        (lambda g, J: g @ J + 1, "you added the number 1"),
        (lambda g, J: g + 1 + g @ J, "you added the number 1"),
        (lambda g, J: np.outer(g, g), "shape"),
        (lambda g, J: g @ (J + 1), "identity matrix"),  # "+ 1" read as 1 in every entry
        (lambda g, J: (g @ J) * g, "not yet"),  # the two paths multiplied, not added
        (lambda g, J: g * np.diag(J) + g, "not yet"),  # only the diagonal of the Jacobian
    ],
)
def test_residual_vjp_hints(wrong, words):
    feedback = nb11.check_residual_vjp(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "g @ J" not in feedback.message and "J.T" not in feedback.message


def engine_residual_vjp(g, J_F):
    x = bl.Tensor(np.zeros(len(g)), requires_grad=True)  # a linear branch with Jacobian J_F
    (x @ bl.Tensor(J_F).T + x).backward(g)
    return x.grad


def engine_stack(g, jacobians, residual):
    x0 = bl.Tensor(np.zeros(len(g)), requires_grad=True)
    x = x0
    for J in jacobians:
        x = x @ bl.Tensor(J).T + x if residual else x @ bl.Tensor(J).T
    x.backward(g)
    return x0.grad


def stack_in_place(g, jacobians, residual):
    jacobians.reverse()  # the caller's list, turned round
    for J in jacobians:
        g = g @ J + g if residual else g @ J
    return g


def vjp_in_place(g, J):
    g += g @ J  # the caller's upstream gradient, overwritten
    return g


@pytest.mark.parametrize(
    "check, wrong, words",
    [
        (nb11.check_residual_vjp, engine_residual_vjp, "calls the package"),
        (nb11.check_residual_vjp, vjp_in_place, "in place"),
        (nb11.check_stack_input_gradient, engine_stack, "calls the package"),
        # the caller's list turned round: a second call with it would go the wrong way
        (nb11.check_stack_input_gradient, stack_in_place, "in place"),
    ],
)
def test_the_by_hand_exercises_are_numpy_only_and_leave_their_inputs_alone(check, wrong, words):
    feedback = check(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback


def test_residual_vjp_not_done():
    assert nb11.check_residual_vjp(stub).status == "not done"


# ---------------------------------------------------------------------- stack_input_gradient
def stack_solution(g, jacobians, residual):
    for J in reversed(jacobians):
        g = g @ J + g if residual else g @ J
    return g


def test_stack_input_gradient_correct():
    feedback = nb11.check_stack_input_gradient(stack_solution)
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda g, Js, residual: stack_solution(g, Js, not residual), "other kind of stack"),
        (lambda g, Js, residual: stack_solution(g, Js[::-1], residual), "wrong order"),
        # was 'get one block right first', though one block was right but for the transpose
        (
            lambda g, Js, residual: stack_solution(g, [J.T for J in Js], residual),
            "applied the wrong way round",
        ),
    ],
)
def test_stack_input_gradient_hints(wrong, words):
    feedback = nb11.check_stack_input_gradient(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "reversed" not in feedback.message and "@" not in feedback.message


def skip_added_once(g, jacobians, residual):
    h = stack_solution(g, jacobians, False)
    return h + g if residual else h  # I + J_n...J_1: one skip path, not the sum over all paths


def one_branch_at_a_time(g, jacobians, residual):
    if not residual:
        return stack_solution(g, jacobians, False)
    return g + sum(g @ J for J in jacobians)  # I + sum of J_l: the paths through 2+ branches lost


def upstream_added_at_every_block(g, jacobians, residual):
    """The skip read as "hand over the upstream gradient": the loss's g added at every block,
    where the gradient that arrived at the block was meant. Found trying the exercise's slips
    in review: it got 'get one block right first', though one block was right."""
    h = g
    for J in reversed(jacobians):
        h = h @ J + g if residual else h @ J
    return h


def written_for_three_blocks(g, jacobians, residual):
    for J in (jacobians[2], jacobians[1], jacobians[0]):  # the check's first stack, hard-coded
        g = g @ J + g if residual else g @ J
    return g


def first_block_without_skip(g, jacobians, residual):
    for i, J in enumerate(reversed(jacobians)):
        g = g @ J + g if residual and i > 0 else g @ J  # off by one block
    return g


def plus_one_everywhere(g, jacobians, residual):
    for J in reversed(jacobians):
        g = g @ (J + 1) if residual else g @ J
    return g


@pytest.mark.parametrize(
    "wrong, words",
    [
        (skip_added_once, "3 blocks and residual=True"),
        (skip_added_once, "only some of the paths"),
        (one_branch_at_a_time, "only some of the paths"),
        (upstream_added_at_every_block, "only some of the paths"),
        (written_for_three_blocks, "5 blocks"),
        (first_block_without_skip, "3 blocks and residual=True"),
        (plus_one_everywhere, "3 blocks and residual=True"),
        (lambda g, Js, r: stack_solution(g, [J.T for J in Js[::-1]], r)[::-1], "one block"),
    ],
)
def test_stack_input_gradient_rejects_more_slips(wrong, words):
    feedback = nb11.check_stack_input_gradient(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback


def test_stack_input_gradient_always_residual_is_caught_on_the_plain_stack():
    feedback = nb11.check_stack_input_gradient(lambda g, Js, r: stack_solution(g, Js, True))
    assert feedback.status == "hint" and "residual=False" in feedback.message, feedback


def skip_of_four(g, J_F):
    """The skip path's identity written with the check's width, 4."""
    return g @ (np.eye(4) + J_F)


def stack_with_skips_of_four(g, jacobians, residual):
    for J in reversed(jacobians):
        g = g @ (np.eye(4) + J) if residual else g @ J
    return g


@pytest.mark.parametrize(
    "check, wrong",
    [
        (nb11.check_residual_vjp, skip_of_four),
        (nb11.check_stack_input_gradient, stack_with_skips_of_four),
    ],
)
def test_an_identity_of_the_checks_width_is_refused(check, wrong):
    """Both checks used vectors of 4 entries only: an identity matrix of size 4 passed."""
    feedback = check(wrong)
    assert feedback.status == "hint", feedback
    assert "not for vectors of 6" in feedback.message and "width" in feedback.message


def test_stack_input_gradient_not_done():
    assert nb11.check_stack_input_gradient(stub).status == "not done"


# ---------------------------------------------------------------------------- residual_block
def test_residual_block_correct():
    feedback = nb11.check_residual_block(lambda x, W, b: x + (x @ W.T + b).relu())
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda x, W, b: (x @ W.T + b).relu(), "F(x) alone"),
        (lambda x, W, b: x + x @ W.T + b, "activation"),
        (lambda x, W, b: x + (x @ W + b).relu(), "transpose"),
        (lambda x, W, b: x.data + np.maximum(x.data @ W.data.T + b.data, 0), "Tensor"),
        (lambda x, W, b: x - (x @ W.T + b).relu(), "not x + relu"),
        # these four used to get "the output values are not x + relu(x W^T + b)"
        (lambda x, W, b: (x + x @ W.T + b).relu(), "after x is added"),  # ReLU after the sum
        (lambda x, W, b: x + (x @ W.T).relu() + b, "b is added after the activation"),
        (lambda x, W, b: x + x.relu() @ W.T + b, "applied to x before the product"),
        (lambda x, W, b: x + (x @ W.T + b).tanh(), "another activation than relu"),
        (lambda x, W, b: x + x + (x @ W.T + b).relu(), "one time too many"),
        (lambda x, W, b: x + (x @ W.T).relu(), "missing its bias"),  # was 'not x + relu(...)'
        # the skip path cut off: x enters the sum as an array or a new Tensor, not as itself
        (lambda x, W, b: x.data + (x @ W.T + b).relu(), "misses the skip path"),
        (lambda x, W, b: bl.Tensor(x.data) + (x @ W.T + b).relu(), "misses the skip path"),
        # the branch cut off, with W and b still in the graph (their gradients all 0)
        (
            lambda x, W, b: (
                x + bl.Tensor(np.maximum(x.data @ W.data.T + b.data, 0)) + 0 * (W.sum() + b.sum())
            ),
            "both paths",
        ),
    ],
)
def test_residual_block_hints(wrong, words):
    feedback = nb11.check_residual_block(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert ".relu()" not in feedback.message


def test_residual_block_not_done():
    assert nb11.check_residual_block(stub).status == "not done"


def test_residual_block_backward_failure_is_a_hint():
    broken = bl.Op("broken", lambda x: x, lambda g, out, x: (g[:1],))  # a vjp of the wrong shape

    feedback = nb11.check_residual_block(lambda x, W, b: bl.apply(broken, x + (x @ W.T + b).relu()))
    assert feedback.status == "hint" and "backward() failed" in feedback.message, feedback


# ------------------------------------------------------------- block_gradient_norms (challenge)
def outputs_after_backward(model, X, y, scale=1.0):
    """Every layer's output, after one backward pass of the (scaled) loss: their .grad is set."""
    outputs, h = [], bl.Tensor(X)
    for layer in model:
        h = layer(h)
        outputs.append(h)
    (bl.cross_entropy(h, y) * scale).backward()
    return outputs


def block_norms(model, X, y, scale=1.0, power=1, reverse=False):
    """||dL/dx_l|| of every hidden layer's input (and the last one's output), by one backward."""
    model.zero_grad()
    outputs = outputs_after_backward(model, X, y, scale)
    norms = np.array([np.linalg.norm(t.grad) ** power for t in outputs[1:-1]])
    return norms[::-1] if reverse else norms


def block_norms_of(model, X, y, outputs_kept):
    """The norms of the gradients of the layers' outputs ``outputs_kept`` (a slice)."""
    outputs = outputs_after_backward(model, X, y)
    return np.array([np.linalg.norm(t.grad) for t in outputs[outputs_kept]])


def block_rms(model, X, y):
    outputs = outputs_after_backward(model, X, y)
    return np.array([np.sqrt(np.mean(t.grad**2)) for t in outputs[1:-1]])


def test_block_gradient_norms_correct():
    feedback = nb11.check_block_gradient_norms(block_norms)
    assert feedback.passed, feedback


def weight_norms(model, X, y):
    return list(bl.plotting.layer_gradient_norms(model, X, y).values())


def per_example(model, X, y):
    outputs = outputs_after_backward(model, X, y)
    return [np.linalg.norm(t.grad, axis=1).mean() for t in outputs[1:-1]]


@pytest.mark.parametrize(
    "wrong, words",
    [
        (weight_norms, "weights"),
        (lambda m, X, y: block_norms(m, X, y, reverse=True), "reverse order"),
        (lambda m, X, y: block_norms(m, X, y, scale=len(X)), "N times too large"),
        (lambda m, X, y: block_norms(m, X, y, power=2), "squared"),
        (lambda m, X, y: block_norms(m, X, y)[1:], "expected 6 norms"),
        (per_example, "each example's gradient, averaged"),  # was "not yet right"
        # one norm too many or too few, said at which end (was only "expected 6 norms, got 7")
        (lambda m, X, y: block_norms_of(m, X, y, slice(0, -1)), "before x_0"),
        (lambda m, X, y: block_norms_of(m, X, y, slice(1, None)), "the logits"),
        (lambda m, X, y: block_norms_of(m, X, y, slice(2, -1)), "x_0, the output of the input"),
        (lambda m, X, y: block_norms_of(m, X, y, slice(1, -2)), "last hidden layer's output is"),
        # every layer's output, the input layer's and the logits too: more than one norm off
        (
            lambda m, X, y: block_norms_of(m, X, y, slice(None)),
            "expected 6 norms (x_0 .. x_5), got 8.",
        ),
        (lambda m, X, y: block_norms(m, X, y) / len(X), "N times too small"),  # averaged again
        (block_rms, "not yet right on the plain network"),  # the root mean square, not the norm
    ],
)
def test_block_gradient_norms_hints(wrong, words):
    feedback = nb11.check_block_gradient_norms(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "backward()" not in feedback.message and ".grad" not in feedback.message


def test_block_gradient_norms_from_the_package_is_refused():
    # Notebook 10 measures these norms with bl.plotting.hidden_gradient_norms: calling it is no answer
    feedback = nb11.check_block_gradient_norms(bl.plotting.hidden_gradient_norms)
    assert feedback.status == "hint" and "notebook 10" in feedback.message
    wrapped = nb11.check_block_gradient_norms(
        lambda m, X, y: bl.plotting.hidden_gradient_norms(m, X, y)
    )
    assert wrapped.status == "hint" and "write it yourself" in wrapped.message


def test_the_package_measurement_is_the_challenges_answer():
    # what notebook 10 plots is what the challenge asks for (and what the check accepts)
    from backproplab.nn import deep_network

    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((9, 7)), rng.integers(0, 4, 9)
    for residual in (False, True):
        model = deep_network(4, 6, residual=residual, n_in=7, n_out=4, rng=3)
        measured = bl.plotting.hidden_gradient_norms(model, X, y)
        assert all(p.grad is None for p in model.parameters())  # it leaves no gradients behind
        np.testing.assert_allclose(measured, block_norms(model, X, y), rtol=1e-12)


def test_block_gradient_norms_not_done():
    assert nb11.check_block_gradient_norms(stub).status == "not done"


# ------------------------------------ block_gradient_norms: the check's depth of 5 written in
def block_norms_depth_written_in(model, X, y):
    """x_0 .. x_5 as outputs 1 .. 6: right for the check's networks of 5 hidden layers only (the
    notebook's 30-block networks would get 6 norms, a plot that ends early)."""
    model.zero_grad()
    outputs = outputs_after_backward(model, X, y)
    return np.array([np.linalg.norm(outputs[k].grad) for k in range(1, 7)])


def test_block_gradient_norms_refuses_the_depth_written_in():
    feedback = nb11.check_block_gradient_norms(block_norms_depth_written_in)
    assert feedback.status == "hint", feedback
    assert "not on a residual network of 7" in feedback.message
    assert "write in the number of layers" in feedback.message


def test_stack_input_gradient_that_stops_after_three_blocks_is_told_so():
    # right block by block, but written for the first stack's depth: not "get one block right"
    def first_three_blocks(g, jacobians, residual):
        v = g
        for J in jacobians[:3][::-1]:
            v = v @ J + (v if residual else 0)
        return v

    feedback = nb11.check_stack_input_gradient(first_three_blocks)
    assert feedback.status == "hint" and "every block" in feedback.message, feedback
    assert "one block right first" not in feedback.message and "@" not in feedback.message


# ------------------------------------------------------------- answers that change their inputs
def adds_into_x(x, W, b):  # the branch added into x's own array: x comes back, changed
    x.data += (x @ W.T + b).relu().data
    return x


def scales_the_batch(model, X, y):  # X rescaled in place before measuring
    X /= np.abs(X).max()
    return block_norms(model, X, y)


def takes_a_step(model, X, y):  # right norms, then an update of the weights on the way out
    norms = block_norms(model, X, y)
    for p in model.parameters():
        p.data -= 0.1 * p.grad
    return norms


@pytest.mark.parametrize(
    "check, wrong, words",
    [  # found by the in-place audit: the first heard "not a Tensor computed from x, W and b",
        # the second "not yet right on the plain network", the third passed
        (nb11.check_residual_block, adds_into_x, "changed its input x in place"),
        (nb11.check_block_gradient_norms, scales_the_batch, "changed its input X in place"),
        (nb11.check_block_gradient_norms, takes_a_step, "changed the model's weights"),
    ],
)
def test_answers_that_change_what_they_were_given_are_named(check, wrong, words):
    feedback = check(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback


# Hints no test reached before the coverage sweep: each is reachable by the answer below
def test_a_stack_answer_wrong_only_for_no_blocks_is_told_where_the_next_cell_starts():
    feedback = nb11.check_stack_input_gradient(
        lambda g, Js, residual: stack_solution(g, Js, residual) if Js else 0 * g
    )
    assert feedback.status == "hint" and "not through a stack of none" in feedback.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [  # right values; the branch built from .data, or from a copy of W
        (
            lambda x, W, b: x + bl.Tensor(x.data @ W.data.T + b.data).relu(),
            "the gradient does not reach x, W and b",
        ),
        (
            lambda x, W, b: x + (x @ bl.Tensor(W.data).T + b).relu() + 0 * W.sum(),
            "the gradients of W and b are wrong",
        ),
    ],
)
def test_a_residual_block_whose_gradients_miss_the_parameters_gets_a_hint(answer, words):
    feedback = nb11.check_residual_block(answer)
    assert feedback.status == "hint" and words in feedback.message, feedback


# A finite-difference answer at a point of its own (here x = 1): a linear map's central
# differences are exact only up to rounding divided by h, 8 to 11 digits. (At x = 0, or with a
# step of 1, they are exact to rounding: a linear map's numbers cannot tell them apart.)
@pytest.mark.parametrize("h", [1e-5, 1e-6])
def test_residual_vjp_refuses_an_estimate_by_finite_differences(h):
    def estimated(g, J):
        return estimated_vjp(lambda x: J @ x + x, g, [np.ones(len(g))], 0, h)

    feedback = nb11.check_residual_vjp(estimated)
    assert feedback.status == "hint" and all(w in feedback.message for w in ESTIMATE_WORDS), (
        feedback
    )


@pytest.mark.parametrize("h", [1e-5, 1e-6])
def test_stack_input_gradient_refuses_an_estimate_by_finite_differences(h):
    def estimated(g, jacobians, residual):
        def forward(x):
            for J in jacobians:
                x = J @ x + x if residual else J @ x
            return x

        return estimated_vjp(forward, g, [np.ones(len(g))], 0, h)

    feedback = nb11.check_stack_input_gradient(estimated)
    assert feedback.status == "hint" and all(w in feedback.message for w in ESTIMATE_WORDS), (
        feedback
    )
