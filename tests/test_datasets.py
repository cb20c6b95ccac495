"""Tests for backproplab.datasets: generated sets, the digits split, minibatches."""

import subprocess
import sys

import numpy as np
import pytest

from backproplab import datasets


@pytest.mark.parametrize("make, classes", [(datasets.moons, 2), (datasets.circles, 2),
                                           (datasets.spirals, 3), (datasets.xor, 2)])  # fmt: skip
def test_generated_sets_shapes_labels_and_seeding(make, classes):
    X, y = make(n=120, rng=3)
    assert X.shape == (120, 2) and X.dtype == np.float64
    assert y.shape == (120,) and y.dtype == np.int64
    assert sorted(np.unique(y)) == list(range(classes))
    assert np.bincount(y).min() >= 120 // (2 * classes)  # no class is starved
    X2, y2 = make(n=120, rng=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make(n=120, rng=4)
    assert not np.array_equal(X, X3)


def test_xor_labels_follow_the_signs_and_circles_the_radius():
    X, y = datasets.xor(n=400, noise=0.05, rng=0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))
    X, y = datasets.circles(n=400, noise=0.0, factor=0.5, rng=0)
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), np.where(y == 0, 1.0, 0.5))


def test_moons_without_noise_lie_on_two_half_circles():
    # class 0: the upper half of the unit circle; class 1: the lower half of the unit circle
    # around (1, 0.5), as sklearn.datasets.make_moons draws them
    X, y = datasets.moons(n=200, noise=0.0, rng=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, rtol=1e-12)
    assert upper[:, 1].min() >= -1e-12 and lower[:, 1].max() <= 0.5 + 1e-12
    assert upper[:, 0].min() == pytest.approx(-1) and upper[:, 0].max() == pytest.approx(1)
    assert lower[:, 0].min() == pytest.approx(0) and lower[:, 0].max() == pytest.approx(2)


def test_noise_is_the_standard_deviation_of_the_jitter():
    # xor's clouds sit at (+-1, +-1); with noise 0.1 no point crosses an axis, so the jitter of
    # each coordinate is X - sign(X): 8000 draws of N(0, 0.1**2), whose std is 0.1 within ~1 %
    for noise in (0.1, 0.05):
        X, _ = datasets.xor(n=4000, noise=noise, rng=0)
        jitter = X - np.sign(X)
        assert abs(jitter.mean()) < noise * 0.05
        assert jitter.std() == pytest.approx(noise, rel=0.05)


def test_spirals_take_any_number_of_classes():
    _, y = datasets.spirals(n=100, classes=5, rng=0)
    assert np.bincount(y).tolist() == [20] * 5


def test_digits_split_is_stratified_and_standardised_on_train_only():
    X_train, y_train, X_test, y_test = datasets.digits()
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert y_train.dtype == np.int64
    # stratified: each digit's share is the same in both parts (to within one image)
    share_train = np.bincount(y_train) / len(y_train)
    share_test = np.bincount(y_test) / len(y_test)
    assert np.abs(share_train - share_test).max() < 1 / len(y_test) + 1e-9
    varying = X_train.std(axis=0) > 0
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(axis=0)[varying], 1)
    assert np.abs(X_test.mean(axis=0)).max() > 0.05  # test statistics were not used


def test_digits_raw_pixels_and_float32():
    X_train, _, X_test, _ = datasets.digits(standardize=False, dtype=np.float32)
    assert X_train.dtype == np.float32
    assert X_train.min() == 0 and X_train.max() == 1 and X_test.max() <= 1
    a, b = datasets.digits(rng=0), datasets.digits(rng=1)
    assert not np.array_equal(a.y_train, b.y_train)


def test_import_backproplab_does_not_import_sklearn():
    code = "import sys, backproplab; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_minibatches_cover_every_row_once_in_a_seeded_order():
    X = np.arange(10).reshape(10, 1) * 1.0
    y = np.arange(10)
    batches = list(datasets.minibatches(X, y, batch_size=4, rng=0))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(10)) and seen.tolist() != list(range(10))
    assert all(np.array_equal(xb[:, 0], yb) for xb, yb in batches)  # rows stay paired
    again = np.concatenate([b[1] for b in datasets.minibatches(X, y, 4, rng=0)])
    assert np.array_equal(seen, again)
    rng = np.random.default_rng(0)  # one Generator: a new order every epoch
    e1 = np.concatenate([b[1] for b in datasets.minibatches(X, y, 4, rng=rng)])
    e2 = np.concatenate([b[1] for b in datasets.minibatches(X, y, 4, rng=rng)])
    assert not np.array_equal(e1, e2)
    ordered = np.concatenate([b[1] for b in datasets.minibatches(X, y, 3, shuffle=False)])
    assert ordered.tolist() == list(range(10))


def test_minibatches_and_generators_reject_bad_input():
    with pytest.raises(ValueError, match="minibatches: X has 3 rows but y has 2 labels"):
        list(datasets.minibatches(np.zeros((3, 1)), np.zeros(2)))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        list(datasets.minibatches(np.zeros((3, 1)), np.zeros(3), batch_size=0))
    with pytest.raises(ValueError, match="factor must lie in"):
        datasets.circles(factor=2)
    with pytest.raises(ValueError, match="spirals: need at least 3 points"):
        datasets.spirals(n=2)


def test_datasets_name_an_argument_they_cannot_use():
    # moons(200.0) and minibatches(X, None) gave numpy's words, digits(rng=Generator)
    # scikit-learn's many lines
    with pytest.raises(TypeError, match=r"^moons: n must be a whole number, got 200.0$"):
        datasets.moons(200.0)
    with pytest.raises(TypeError, match=r"^spirals: classes must be a whole number, got None$"):
        datasets.spirals(classes=None)
    with pytest.raises(TypeError, match=r"^minibatches: X and y must be arrays with one row"):
        next(datasets.minibatches(np.ones((4, 2)), None))
    with pytest.raises(TypeError, match=r"^digits: rng \(a seed\) must be a whole number"):
        datasets.digits(rng=np.random.default_rng(0))
