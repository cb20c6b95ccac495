"""The self-checks of notebook 05: pass, hint and not-done paths."""

import numpy as np
import pytest

from backproplab.exercises import nb05


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    "check",
    [nb05.check_dL_dX, nb05.check_dL_dW, nb05.check_dL_db, nb05.check_dL_dW_column],
)
def test_not_done(check):
    assert check(stub).status == "not done"


def test_dL_dX():
    assert nb05.check_dL_dX(lambda G, W: G @ W.T).passed
    transposed = nb05.check_dL_dX(lambda G, W: W @ G.T)
    assert transposed.status == "hint" and "transposed" in transposed.message
    crashed = nb05.check_dL_dX(lambda G, W: W @ G)  # (3, 2) @ (5, 2): numpy raises
    assert crashed.status == "hint" and "ValueError" in crashed.message


def test_dL_dX_wrong_numbers_hint_gives_no_formula():
    feedback = nb05.check_dL_dX(lambda G, W: G @ W.T + 1.0)
    assert feedback.status == "hint" and "wrong numbers" in feedback.message
    assert "W.T" not in feedback.message and "W^T" not in feedback.message


def test_dL_dW():
    assert nb05.check_dL_dW(lambda X, G: X.T @ G).passed
    mean = nb05.check_dL_dW(lambda X, G: X.T @ G / len(X))
    assert mean.status == "hint" and "batch size" in mean.message
    transposed = nb05.check_dL_dW(lambda X, G: G.T @ X)
    assert "transposed" in transposed.message


def test_dL_db():
    assert nb05.check_dL_db(lambda G: G.sum(axis=0)).passed
    mean = nb05.check_dL_db(lambda G: G.mean(axis=0))
    assert mean.status == "hint" and "batch size" in mean.message
    assert "sum" not in mean.message
    wrong_axis = nb05.check_dL_db(lambda G: G.sum(axis=1))
    assert wrong_axis.status == "hint" and "which axis" in wrong_axis.message
    kept = nb05.check_dL_db(lambda G: G.sum(axis=0, keepdims=True))
    assert kept.status == "hint" and "shape" in kept.message


def test_dL_dW_column():
    assert nb05.check_dL_dW_column(lambda delta, a: delta @ a.T).passed
    swapped = nb05.check_dL_dW_column(lambda delta, a: a @ delta.T)
    assert swapped.status == "hint" and "swap" in swapped.message
    inner = nb05.check_dL_dW_column(lambda delta, a: np.ones((10, 128)))
    assert inner.status == "hint" and "wrong numbers" in inner.message


@pytest.mark.parametrize(
    "check",
    [nb05.check_dL_dX, nb05.check_dL_dW, nb05.check_dL_db, nb05.check_dL_dW_column],
)
@pytest.mark.parametrize("answer", [None, "abc", [[1, 2]]])
def test_checks_never_raise_on_odd_answers(check, answer):
    assert check(lambda *args: answer).status == "hint"


def test_a_missing_return_is_named():
    def forgot_return(G, W):
        G @ W.T

    feedback = nb05.check_dL_dX(forgot_return)
    assert feedback.status == "hint" and "return" in feedback.message, feedback
