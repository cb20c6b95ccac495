"""Ops at their special points, where a comparison with PyTorch (``.ci/pytorch-agreement``)
found the package wrong. PyTorch is not needed here: each expected value is a closed form
worked out below, or central finite differences in float64; none comes from the package.
"""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bl


def _closed_form_cross_entropy(rows: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Loss and gradient of the mean cross-entropy of ordinary logits (|z| <= 2), in float64:
    log(sum e^z) - z_label per row, and (softmax - one-hot) / N."""
    e = np.exp(rows)
    losses = np.log(e.sum(axis=1)) - rows[np.arange(len(rows)), labels]
    grad = e / e.sum(axis=1, keepdims=True) - np.eye(rows.shape[1])[labels]
    return float(losses.mean()), grad


# --------------------------------------- cross_entropy with logits further apart than the dtype
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("one_hot", [False, True])
def test_cross_entropy_is_finite_when_a_wrong_class_is_beyond_the_dtypes_range(dtype, one_hot):
    # Row 0: the labelled class's logit is huge and another's is as far below it: the gap, 1.33
    # times the dtype's largest number, overflows to -inf in log_softmax, and 0 * -inf gave NaN,
    # which cross_entropy refused as "the loss overflows". The loss is finite: that class's
    # softmax is e^-gap, whose log, though beyond the dtype, is multiplied by its target 0 (and
    # every other term of the row is below e^-(largest / 1.5), far below rounding): row 0
    # contributes exactly 0 to the loss and to the gradient. PyTorch gives 0 for the row too
    # (for integer labels).
    big = float(np.finfo(dtype).max) / 1.5
    ordinary = np.array([[0.0, 1.0, 2.0], [-1.5, 0.5, 0.25]])
    labels = np.array([0, 1, 2])
    logits = np.vstack([[big, -big, 0.0], ordinary]).astype(dtype)
    z = bl.Tensor(logits, requires_grad=True)
    loss = bl.cross_entropy(z, np.eye(3)[labels] if one_hot else labels)
    loss.backward()

    rest_loss, rest_grad = _closed_form_cross_entropy(ordinary, labels[1:])
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert loss.dtype == dtype and z.grad.dtype == dtype
    np.testing.assert_allclose(loss.item(), rest_loss * 2 / 3, rtol=rtol)
    np.testing.assert_allclose(z.grad[0], np.zeros(3), atol=0)
    np.testing.assert_allclose(z.grad[1:], rest_grad / 3, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_still_refuses_a_loss_that_does_overflow(dtype):
    # the labelled class is the one beyond the range: the loss itself, gap / N, overflows
    big = float(np.finfo(dtype).max) / 1.5
    z = bl.Tensor(np.array([[big, -big, 0.0]], dtype), requires_grad=True)
    with pytest.raises(ValueError, match="cross_entropy: the loss overflows"):
        bl.cross_entropy(z, np.array([1]))
