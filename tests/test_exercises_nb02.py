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
    assert nb02.check_two_paths(lambda x: 2 * x * np.sin(x) + x**2 * np.cos(x)).passed


def test_two_paths_hints():
    via_u = nb02.check_two_paths(lambda x: 2 * x * np.sin(x))
    assert via_u.status == "hint" and "only the path through u" in via_u.message
    via_v = nb02.check_two_paths(lambda x: x**2 * np.cos(x))
    assert via_v.status == "hint" and "only the path through v" in via_v.message
    for feedback in (via_u, via_v):
        assert "add" not in feedback.message and "sum" not in feedback.message

    product = nb02.check_two_paths(lambda x: 2 * x * np.cos(x))
    assert product.status == "hint" and "multiplied du/dx by dv/dx" in product.message


def test_two_paths_not_done():
    assert nb02.check_two_paths(stub).status == "not done"


def test_two_paths_crash_becomes_hint():
    def crashes(x):
        return x @ np.ones((2, 2))

    feedback = nb02.check_two_paths(crashes)
    assert feedback.status == "hint" and "raised" in feedback.message
