"""The self-checks of notebook 05: right answers pass, plausible wrong ones get a hint that names
the mistake without giving the code, stubs are "not done"."""

import numpy as np
import pytest
from exercise_helpers import ESTIMATE_WORDS, estimated_vjp, grade_one_exercise, hint_asserter, stub

from backproplab.exercises import nb05

CHECKS = [
    nb05.check_dL_dX,
    nb05.check_dL_dW,
    nb05.check_dL_db,
    nb05.check_dL_dW_column,
    nb05.check_bilinear_grads,
]
CODE = ["W.T", "G.T", "X.T", "@", "sum(axis", "a.T", "np."]


assert_hint = hint_asserter(CODE + ["operand", "gufunc", "broadcast together"])  # numpy's words
PRODUCT = "a matrix product whose inner sizes differ"
ELEMENTWISE = "an elementwise operation on arrays of shapes (4,) and (4, 3), which do not fit"
GIVEN_GW = "given G of shape (5, 2) and W of shape (2, 3)"
GIVEN_DA = "given delta of shape (10, 1) and a of shape (128, 1)"
GIVEN_UAVG = "given U of shape (4, 3), A of shape (3, 2), V of shape (4, 2) and g of shape (4,)"


@pytest.mark.parametrize("check", CHECKS)
def test_not_done(check):
    assert check(stub).status == "not done"


def test_an_answer_calling_an_unwritten_exercise_is_told_which_one():
    """The challenge written with the learner's dL_dW, still the release's stub: a hint naming
    dL_dW and its exercise, not "not done"."""

    def dL_dW(X, G):
        raise NotImplementedError(
            "dL_dW is not written yet: do Exercises 1 and 2 above first (your code replaces "
            "this line)"
        )

    def bilinear_grads(U, A, V, g):
        return dL_dW(U, g), A, V

    feedback = nb05.check_bilinear_grads(bilinear_grads)
    assert_hint(feedback, "calls `dL_dW`", "do Exercises 1 and 2 first")
    assert nb05.check_dL_dW(dL_dW).status == "not done"


# ---------------------------------------------------------------------------------- dL_dX
def test_dL_dX_right():
    assert nb05.check_dL_dX(lambda G, W: G @ W).passed


def mutating_dX(G, W):
    G -= 1.0  # works on the caller's array: right numbers, but G is changed
    return (G + 1.0) @ W


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda G, W: G @ W.T, [PRODUCT, "Your result must have shape (5, 3)"]),  # (in, out) habit
        (lambda G, W: W @ G, ["the left factor has 3 columns, the right factor 5 rows", GIVEN_GW]),
        (lambda G, W: W.T @ G.T, ["transposed"]),
        (lambda G, W: -(G @ W), ["sign"]),
        (lambda G, W: G @ W / len(G), ["batch size"]),
        (lambda G, W: (G @ W).sum(axis=0), ["shape"]),
        (lambda G, W: G @ W + 1.0, ["wrong numbers"]),
        (mutating_dX, ["in place"]),
        (lambda G, W: G @ W / W.shape[0], ["wrong numbers"]),  # averaged over the outputs
        (lambda G, W: G.sum(1, keepdims=True) * W.sum(0), ["wrong numbers"]),  # sums first
    ],
)
def test_dL_dX_wrong(wrong, words):
    assert_hint(nb05.check_dL_dX(wrong), *words)


def test_the_grader_gives_the_same_shape_hint(tmp_path):
    """In the grader the student's ValueError comes back from their kernel as a name and a
    message (not numpy's class): the product that does not fit is named there as here."""
    check = grade_one_exercise(
        tmp_path, "05_matmul_gradients.ipynb", "nb05", "nb05-dL_dX", "    return G @ W.T\n"
    )
    assert check.status == "hint" and check.score == 0.0

    def dL_dX(G, W):
        return G @ W.T  # the line the grader's student wrote

    assert check.message == str(nb05.check_dL_dX(dL_dX)), check
    assert "The line that raised it: `return G @ W.T`." in check.message, check
    assert GIVEN_GW in check.message and "(5, 3)" in check.message, check


# ---------------------------------------------------------------------------------- dL_dW
def test_dL_dW_right():
    assert nb05.check_dL_dW(lambda X, G: G.T @ X).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda X, G: X.T @ G, ["transposed", "(outputs, inputs)"]),  # the (in, out) habit
        (lambda X, G: G @ X, [PRODUCT, "X of shape (5, 3) and G of shape (5, 2)", "(2, 3)"]),
        (lambda X, G: G.T @ X / len(X), ["batch size"]),
        (lambda X, G: np.outer(G[0], X[0]), ["wrong numbers"]),  # one example, no sum
        (lambda X, G: -(G.T @ X), ["sign"]),
        (lambda X, G: np.outer(G.sum(axis=0), X.sum(axis=0)), ["wrong numbers"]),  # sums first
        (lambda X, G: np.outer(G[-1], X[-1]), ["wrong numbers"]),  # the last example only
    ],
)
def test_dL_dW_wrong(wrong, words):
    assert_hint(nb05.check_dL_dW(wrong), *words)


# ---------------------------------------------------------------------------------- dL_db
def test_dL_db_right():
    assert nb05.check_dL_db(lambda G: G.sum(axis=0)).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda G: G.mean(axis=0), ["batch size"]),
        (lambda G: G.sum(axis=1), ["which axis"]),
        (lambda G: G.sum(axis=0, keepdims=True), ["shape"]),
        (lambda G: G[0], ["one example"]),
        (lambda G: G.sum(), ["shape"]),
        (lambda G: G[-1], ["one example"]),
        (lambda G: G.sum(axis=0) * len(G), ["wrong numbers"]),  # "one bias per example"
    ],
)
def test_dL_db_wrong(wrong, words):
    feedback = nb05.check_dL_db(wrong)
    assert_hint(feedback, *words)
    assert "sum" not in feedback.message


# The notebook gives the check's sizes, N=5, D=3, M=2, and sums a batch with a row of ones: answers
# that write in N = 5 (five ones, a loop over five rows) passed the check's one batch.
@pytest.mark.parametrize(
    "check, wrong",
    [
        (nb05.check_dL_db, lambda G: np.ones(5) @ G),
        (nb05.check_dL_db, lambda G: sum(G[n] for n in range(5))),
        (nb05.check_dL_dW, lambda X, G: sum(np.outer(G[n], X[n]) for n in range(5))),
        (nb05.check_dL_dX, lambda G, W: np.array([G[n] @ W for n in range(5)])),
    ],
)
def test_answers_for_a_batch_of_five_only_are_refused(check, wrong):
    feedback = check(wrong)
    assert_hint(feedback, "not for one of N = 6", "the batch it is given")


# ---------------------------------------------------------------------------- dL_dW_column
def test_dL_dW_column_right():
    assert nb05.check_dL_dW_column(lambda delta, a: delta @ a.T).passed
    assert nb05.check_dL_dW_column(lambda delta, a: delta * a.T).passed  # broadcasting


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda delta, a: a @ delta.T, ["(128, 10)", "(n_out, n_in)"]),
        (lambda delta, a: delta.T @ a, ["10 columns, the right factor 128 rows", GIVEN_DA]),
        (lambda delta, a: delta @ a, ["1 column, the right factor 128 rows", GIVEN_DA]),
        (lambda delta, a: np.dot(delta, a), ["of shapes (10, 1) and (128, 1)", GIVEN_DA]),
        (lambda delta, a: (delta * a.T).sum(), ["whole matrix"]),
        (lambda delta, a: np.ones((10, 128)), ["wrong numbers"]),
        (lambda delta, a: -(delta @ a.T), ["wrong numbers"]),
        (lambda delta, a: delta @ a.T / len(a), ["wrong numbers"]),  # averaged over the inputs
    ],
)
def test_dL_dW_column_wrong(wrong, words):
    feedback = nb05.check_dL_dW_column(wrong)
    assert_hint(feedback, *words)
    assert "swap" not in feedback.message


# -------------------------------------------------------------------------- bilinear_grads
def bilinear(U, A, V, g, weight=True, transpose=False, mean=False):
    w = g[:, None] if weight else 1.0
    dU = w * (V @ A.T)
    dA = (U * w).T @ V
    dV = w * (U @ A)
    if mean:
        dA = dA / len(U)
    if transpose:
        dA = dA.T
    return dU, dA, dV


def g_twice_in_dA(U, A, V, g):
    dU, _, dV = bilinear(U, A, V, g)
    return dU, (g[:, None] * U).T @ (g[:, None] * V), dV  # each term weighted by g_n twice


def test_bilinear_right():
    assert nb05.check_bilinear_grads(bilinear).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda *a: bilinear(*a, weight=False), ["g_n were 1"]),
        (lambda *a: bilinear(*a, transpose=True), ["dA has shape (2, 3)"]),
        (lambda *a: bilinear(*a, mean=True), ["factor of N"]),
        (lambda U, A, V, g: (g[:, None] * (V @ A), None, None), [PRODUCT, GIVEN_UAVG]),
        # the weights g_n as a 1-d array: it lines up with the columns, not with the rows
        (lambda U, A, V, g: (g * (V @ A.T), None, None), [ELEMENTWISE, GIVEN_UAVG]),
        (lambda *a: bilinear(*a)[:2], ["tuple of three"]),
        # the weights g_n pooled into one number, or applied to both sides of dA
        (lambda U, A, V, g: (bilinear(U, A, V, g)[0], g.sum() * (U.T @ V), None), ["dA"]),
        (lambda U, A, V, g: g_twice_in_dA(U, A, V, g), ["dA is not right"]),
        # dU and dV handed back in each other's place
        (lambda *a: bilinear(*a)[::-1], ["dU has shape (4, 2)"]),
    ],
)
def test_bilinear_wrong(wrong, words):
    assert_hint(nb05.check_bilinear_grads(wrong), *words)


# ------------------------------------------------------------------------------ odd answers
@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("answer", [None, "abc", [[1, 2]]])
def test_checks_never_raise_on_odd_answers(check, answer):
    assert check(lambda *args: answer).status == "hint"


def test_a_missing_return_is_named():
    def forgot_return(G, W):
        G @ W

    feedback = nb05.check_dL_dX(forgot_return)
    assert feedback.status == "hint" and "return" in feedback.message, feedback


def test_the_package_cannot_answer():
    import backproplab as bl

    def through_engine(X, G):
        W = bl.Tensor(np.zeros((G.shape[1], X.shape[1])), requires_grad=True)
        (bl.Tensor(X) @ W.T * G).sum().backward()
        return W.grad

    assert through_engine(np.ones((5, 3)), np.ones((5, 2))).shape == (2, 3)  # it would work
    assert_hint(nb05.check_dL_dW(through_engine), "calls the package")


def _bilinear_right(U, A, V, g):
    return g[:, None] * (V @ A.T), U.T @ (g[:, None] * V), g[:, None] * (U @ A)


def test_bilinear_grads_right_written_out_passes_and_its_negation_has_the_wrong_sign():
    # (coverage sweep: the sign hint and a non-array entry were reached by no answer)
    assert nb05.check_bilinear_grads(_bilinear_right).passed
    negated = nb05.check_bilinear_grads(lambda *a: tuple(-t for t in _bilinear_right(*a)))
    assert_hint(negated, "dU has the wrong sign")


def test_bilinear_grads_with_text_for_an_array_is_told_so():
    feedback = nb05.check_bilinear_grads(lambda *a: ("dU", *_bilinear_right(*a)[1:]))
    assert_hint(feedback, "dU is a str, not an array of numbers")


# Finite-difference answers: central differences of a forward pass of the answer's own. These
# maps are linear (bilinear for the challenge), so an estimate with a LARGE step is exact to
# rounding and still passes; the usual small steps, h = 1e-5 and 1e-6, leave rounding errors of
# 1e-16 / h, right to 8-11 digits only, and the exact references (closed forms) tell those from
# a derived answer (exercises.estimated). db, a sum of five terms per entry, is the closest
# call: measured over 200 points, h = 1e-5 lands within the gate's 1e-12 at 4 of them (1e-6 at
# none); the point here (seed 2) is not one of those, seeds 0 and 1 are.
def _estimated(h):
    rng = np.random.default_rng(0)
    point = lambda *shape: rng.standard_normal(shape)  # where the answer estimates: any point

    def x_grad(G, W):
        return estimated_vjp(lambda X: X @ W.T, G, [point(len(G), W.shape[1])], 0, h)

    def w_grad(X, G):
        return estimated_vjp(lambda W: X @ W.T, G, [point(G.shape[1], X.shape[1])], 0, h)

    def b_grad(G):
        own = np.random.default_rng(2)  # the measured points: seed s draws X W^T, then b
        XWt = own.standard_normal(G.shape)  # X W^T at some X and W: b is added to it
        return estimated_vjp(lambda b: XWt + b, G, [own.standard_normal(G.shape[1])], 0, h)

    def column(delta, a):
        return estimated_vjp(lambda W: W @ a, delta, [point(len(delta), len(a))], 0, h)

    def bilinear(U, A, V, g):
        def s(U, A, V):
            return np.einsum("nd,de,ne->n", U, A, V)

        return tuple(estimated_vjp(s, g, [U, A, V], k, h) for k in range(3))

    return [
        (nb05.check_dL_dX, x_grad),
        (nb05.check_dL_dW, w_grad),
        (nb05.check_dL_db, b_grad),
        (nb05.check_dL_dW_column, column),
        (nb05.check_bilinear_grads, bilinear),
    ]


@pytest.mark.parametrize("h", [1e-5, 1e-6])
@pytest.mark.parametrize("which", range(5))
def test_a_finite_difference_answer_is_refused_with_the_estimate_hint(which, h):
    check, answer = _estimated(h)[which]
    feedback = check(answer)
    assert feedback.status == "hint" and all(w in feedback.message for w in ESTIMATE_WORDS), (
        feedback
    )
