"""The self-checks of notebook 02: pass, hint and not-done paths."""

import numpy as np

from backproplab.exercises import nb02


def stub(*args):
    raise NotImplementedError


# -------------------------------------------------------------------------- d_sin_of_square
def test_d_sin_of_square_pass():
    assert nb02.check_d_sin_of_square(lambda x: 2 * x * np.cos(x**2)).passed


def test_d_sin_of_square_hints():
    outer_only = nb02.check_d_sin_of_square(lambda x: np.cos(x**2))
    assert outer_only.status == "hint" and "one more factor" in outer_only.message
    assert "2" not in outer_only.message  # the missing factor is not given away

    wrong_place = nb02.check_d_sin_of_square(lambda x: 2 * x * np.cos(x))
    assert wrong_place.status == "hint" and "inner function's value" in wrong_place.message

    assert nb02.check_d_sin_of_square(lambda x: np.sin(x)).status == "hint"
    assert "shape" in nb02.check_d_sin_of_square(lambda x: [1.0, 2.0]).message


def test_d_sin_of_square_not_done():
    assert nb02.check_d_sin_of_square(stub).status == "not done"


# --------------------------------------------------------------------------------- partials
def right_partials(x, y):
    return 2 * x * y + y * np.exp(x * y), x**2 + x * np.exp(x * y)


def test_partials_pass():
    assert nb02.check_partials(right_partials).passed


def test_partials_hints():
    swapped = nb02.check_partials(lambda x, y: right_partials(x, y)[::-1])
    assert swapped.status == "hint" and "wrong order" in swapped.message

    def no_inner_y(x, y):  # forgot the chain rule on e^(xy) in y
        return right_partials(x, y)[0], x**2 + np.exp(x * y)

    dy_wrong = nb02.check_partials(no_inner_y)
    assert dy_wrong.status == "hint" and "df/dx is right" in dy_wrong.message

    def no_inner_x(x, y):
        return 2 * x * y + np.exp(x * y), right_partials(x, y)[1]

    dx_wrong = nb02.check_partials(no_inner_x)
    assert dx_wrong.status == "hint" and "df/dy is right" in dx_wrong.message

    assert "pair" in nb02.check_partials(lambda x, y: 2 * x * y).message
    assert "neither" in nb02.check_partials(lambda x, y: (x, y)).message


def test_partials_not_done():
    assert nb02.check_partials(stub).status == "not done"


# -------------------------------------------------------------------------------- two_paths
def test_two_paths_pass():
    assert nb02.check_two_paths(lambda x: 3 * x**2 * np.cos(x) - x**3 * np.sin(x)).passed


def test_two_paths_hints():
    via_u = nb02.check_two_paths(lambda x: 3 * x**2 * np.cos(x))
    assert via_u.status == "hint" and "only the path through u" in via_u.message
    via_v = nb02.check_two_paths(lambda x: -(x**3) * np.sin(x))
    assert via_v.status == "hint" and "only the path through v" in via_v.message
    for feedback in (via_u, via_v):
        assert "add" not in feedback.message and "sum" not in feedback.message

    product = nb02.check_two_paths(lambda x: -3 * x**2 * np.sin(x))
    assert product.status == "hint" and "multiplied du/dx by dv/dx" in product.message

    sign = nb02.check_two_paths(lambda x: 3 * x**2 * np.cos(x) + x**3 * np.sin(x))
    assert sign.status == "hint" and "wrong sign" in sign.message
    assert "-sin" not in sign.message and "minus" not in sign.message


def test_two_paths_not_done():
    assert nb02.check_two_paths(stub).status == "not done"


def test_two_paths_crash_becomes_hint():
    def crashes(x):
        return x @ np.ones((2, 2))

    feedback = nb02.check_two_paths(crashes)
    assert feedback.status == "hint" and "raised" in feedback.message


# ---------------------------------------------------------------------- challenge: three_paths
def three_paths(x, drop=None, sin_at_x=False, sign=1.0):
    a, b = x**2, np.sin(x**2) + x
    cos_a = np.cos(x) if sin_at_x else np.cos(a)
    paths = {"a": 2 * x * b, "ab": a * sign * cos_a * 2 * x, "b": a * 1.0}
    return sum(v for k, v in paths.items() if k != drop)


def test_three_paths_pass():
    feedback = nb02.check_three_paths(three_paths)
    assert feedback.passed, feedback


def test_three_paths_rejects_plausible_mistakes():
    cases = [
        (lambda x: three_paths(x, drop="a"), "the path x -> a -> L"),
        (lambda x: three_paths(x, drop="ab"), "the path x -> a -> b -> L"),
        (lambda x: three_paths(x, drop="b"), "the path x -> b -> L"),
        (lambda x: three_paths(x, sin_at_x=True), "sin sees a"),
        (lambda x: three_paths(x, sign=-1.0), "wrong sign"),
        (lambda x: 2 * x * (np.sin(x**2) + x), "not yet"),
    ]
    for wrong, words in cases:
        feedback = nb02.check_three_paths(wrong)
        assert feedback.status == "hint" and words in feedback.message, feedback.message
        assert "cos(" not in feedback.message and "2 * x" not in feedback.message


def test_three_paths_not_done():
    assert nb02.check_three_paths(stub).status == "not done"
