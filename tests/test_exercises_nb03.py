"""The self-checks of notebook 03: pass, hint and not-done paths."""

import numpy as np

from backproplab.exercises import nb03, numeric_gradient


def stub(*args):
    raise NotImplementedError


# ------------------------------------------------------------------------ backward_by_hand
def test_backward_by_hand_pass():
    feedback = nb03.check_backward_by_hand(lambda x, y, z: (z, z, x + y))
    assert feedback.passed, feedback


def test_backward_by_hand_seed_numbers():
    # seed 002 / CS231n: x=-2, y=5, z=-4 gives q=3, L=-12, dL/dx = dL/dy = -4, dL/dz = 3
    want = numeric_gradient(lambda v: (v[0] + v[1]) * v[2], np.array([-2.0, 5.0, -4.0]))
    assert np.allclose(want, [-4.0, -4.0, 3.0], atol=1e-6)


def test_backward_by_hand_hints():
    local = nb03.check_backward_by_hand(lambda x, y, z: (1.0, 1.0, x + y))
    assert local.status == "hint" and "local gradients" in local.message

    not_swapped = nb03.check_backward_by_hand(lambda x, y, z: (z, z, z))
    assert not_swapped.status == "hint" and "*other* input" in not_swapped.message
    assert "x + y" not in not_swapped.message and "q" not in not_swapped.message

    only_z = nb03.check_backward_by_hand(
        lambda x, y, z: (1.0, 1.0, 7.0) if False else (0, 0, x + y)
    )
    assert only_z.status == "hint" and "dL/dz is right" in only_z.message

    assert "three numbers" in nb03.check_backward_by_hand(lambda x, y, z: z).message


def test_backward_by_hand_not_done():
    assert nb03.check_backward_by_hand(stub).status == "not done"


# ---------------------------------------------------------------------------- mul_backward
def test_mul_backward_pass():
    assert nb03.check_mul_backward(lambda g, a, b: (g * b, g * a)).passed


def test_mul_backward_hints():
    unswapped = nb03.check_mul_backward(lambda g, a, b: (g * a, g * b))
    assert unswapped.status == "hint" and "swapped" in unswapped.message
    assert "g * b" not in unswapped.message

    local_only = nb03.check_mul_backward(lambda g, a, b: (b, a))
    assert local_only.status == "hint" and "local gradients" in local_only.message

    assert "pair" in nb03.check_mul_backward(lambda g, a, b: g * a * b).message
    assert "shape" in nb03.check_mul_backward(lambda g, a, b: (np.ones(3), np.ones(3))).message


def test_mul_backward_not_done():
    assert nb03.check_mul_backward(stub).status == "not done"


# --------------------------------------------------------------------------------- fan_out
def test_fan_out_pass():
    assert nb03.check_fan_out(lambda x, y: (2 * x + y, x)).passed


def test_fan_out_hints():
    direct_only = nb03.check_fan_out(lambda x, y: (x + y, x))
    assert direct_only.status == "hint" and "straight into the mul node" in direct_only.message
    via_q_only = nb03.check_fan_out(lambda x, y: (x, x))
    assert via_q_only.status == "hint" and "through q" in via_q_only.message
    for feedback in (direct_only, via_q_only):
        assert "2 * x" not in feedback.message and "2x" not in feedback.message

    dy_wrong = nb03.check_fan_out(lambda x, y: (2 * x + y, 1.0))
    assert dy_wrong.status == "hint" and "dL/dy" in dy_wrong.message


def test_fan_out_not_done():
    assert nb03.check_fan_out(stub).status == "not done"
