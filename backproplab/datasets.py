"""Data sets: small 2-D problems generated from a seed, and the 8x8 digits from scikit-learn.

Nothing is ever downloaded. Every generator takes ``rng`` (a numpy Generator or a seed) and
returns ``(X, y)``: X of shape (n, 2) (float64) and integer labels y of shape (n,).
``digits()`` returns a ``Split`` (X_train, y_train, X_test, y_test) ready to train on.
``minibatches`` cuts a data set into shuffled batches.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from ._numbers import count, is_real, seeded

__all__ = ["Split", "circles", "digits", "minibatches", "moons", "spirals", "xor"]

RngLike = np.random.Generator | int | None


def generator(rng: RngLike, caller: str) -> np.random.Generator:
    """A numpy Generator from a Generator, a seed, or None (seed 0: deterministic by default);
    anything else gets a one-line error naming ``caller``."""
    return seeded(0 if rng is None else rng, caller)


def _noise(noise: object, caller: str) -> float:
    """``noise`` if it is a standard deviation (a finite number >= 0), else a one-line error:
    a NaN would make every point NaN, and a negative one is no standard deviation."""
    if not is_real(noise) or isinstance(noise, bool):  # "0.1": numpy's words, later
        raise TypeError(f"{caller}: noise must be a number (a standard deviation), got {noise!r}")
    if not 0 <= noise < np.inf:
        raise ValueError(
            f"{caller}: noise must be a standard deviation (a finite number >= 0), got {noise!r}"
        )
    return float(noise)


def _counts(n: int, classes: int, caller: str) -> list[int]:
    """Split n points as evenly as possible between the classes."""
    for what, value in (("n", n), ("classes", classes)):  # 200.0: numpy's words, later
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise TypeError(f"{caller}: {what} must be a whole number, got {value!r}")
    if classes < 1:
        raise ValueError(f"{caller}: need at least 1 class, got classes={classes}")
    if n < classes:
        raise ValueError(f"{caller}: need at least {classes} points (one per class), got n={n}")
    return [n // classes + (k < n % classes) for k in range(classes)]


def _finish(parts: list[np.ndarray], noise: float, rng: np.random.Generator):
    """Stack the per-class point clouds, add Gaussian noise, shuffle the rows."""
    X = np.concatenate(parts)
    y = np.concatenate([np.full(len(p), k, dtype=np.int64) for k, p in enumerate(parts)])
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(len(X))
    return X[order], y[order]


def moons(n: int = 200, noise: float = 0.1, rng: RngLike = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (classes 0 and 1), like ``sklearn.datasets.make_moons``."""
    n0, n1 = _counts(n, 2, "moons")
    noise, rng = _noise(noise, "moons"), generator(rng, "moons")
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    return _finish([upper, lower], noise, rng)


def circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, rng: RngLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A circle of radius 1 (class 0) around a circle of radius ``factor`` (class 1)."""
    if not is_real(factor) or isinstance(factor, bool):  # "0.5", None: Python's words, unnamed
        raise TypeError(f"circles: factor must be a number in (0, 1), got {factor!r}")
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must lie in (0, 1), got {factor}")
    n0, n1 = _counts(n, 2, "circles")
    noise, rng = _noise(noise, "circles"), generator(rng, "circles")
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    outer = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    inner = factor * np.stack([np.cos(t1), np.sin(t1)], axis=1)
    return _finish([outer, inner], noise, rng)


def spirals(
    n: int = 300, classes: int = 3, noise: float = 0.2, rng: RngLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` spiral arms from the origin (CS231n's data set). ``noise`` jitters each
    point's angle (standard deviation in radians); its distance from the origin is exact, so
    the arms stay separable for small noise."""
    noise, rng = _noise(noise, "spirals"), generator(rng, "spirals")
    parts = []
    for k, m in enumerate(_counts(n, classes, "spirals")):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, m) + noise * rng.standard_normal(m)
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
    return _finish(parts, 0.0, rng)  # the noise is in the angles already


def xor(n: int = 200, noise: float = 0.2, rng: RngLike = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four clouds around (+-1, +-1) (standard deviation ``noise``): class 1 where the centre's
    coordinates have different signs. No straight line separates the classes."""
    noise, rng = _noise(noise, "xor"), generator(rng, "xor")
    parts = []
    for m, (sx, sy) in zip(_counts(n, 4, "xor"), [(1, 1), (-1, -1), (1, -1), (-1, 1)]):
        parts.append(np.tile([sx, sy], (m, 1)).astype(np.float64))
    X, cloud = _finish(parts, noise, rng)  # cloud k is around the k-th centre of the list
    return X, (cloud >= 2).astype(np.int64)  # clouds 2 and 3, (1, -1) and (-1, 1): mixed signs


class Split(NamedTuple):
    """A data set split into training and test parts: unpack it as
    ``X_train, y_train, X_test, y_test = digits()``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def digits(
    test_size: float = 0.25,
    standardize: bool = True,
    rng: int = 0,
    dtype: Any = np.float64,
) -> Split:
    """The 1,797 8x8 handwritten digits that ship inside scikit-learn (no download).

    Each image is a row of 64 pixel values (0-16); labels are 0-9. The split is stratified (each
    digit is in the same proportion in both parts) and seeded by ``rng``. With
    ``standardize=True`` every pixel is shifted and scaled by the mean and standard deviation
    measured on the training part only (the test part must not leak into training); pixels that
    are constant on the training part are only shifted. With ``standardize=False`` the pixels
    are divided by 16, so they lie in [0, 1] (handy for showing images).
    """
    from sklearn.datasets import load_digits  # here, so that `import backproplab` needs numpy only
    from sklearn.model_selection import train_test_split

    rng = count("digits", "rng (a seed)", rng, 0)  # scikit-learn's split takes no Generator
    if np.dtype(dtype).kind != "f":  # int would round the standardized pixels to -1, 0, 1...
        raise TypeError(
            f"digits: dtype must be a float dtype (float32, float64), got {np.dtype(dtype)}"
        )

    if not is_real(test_size) or isinstance(test_size, bool) or not 0 < test_size < 1:
        raise (ValueError if is_real(test_size) else TypeError)(  # else scikit-learn's words
            f"digits: test_size must be a fraction between 0 and 1 (the share of images kept "
            f"for testing, e.g. 0.25), got {test_size!r}"
        )
    bunch = load_digits()
    X, y = bunch.data.astype(np.float64), bunch.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=rng
    )
    if standardize:
        mean = X_train.mean(axis=0)
        std = X_train.std(axis=0)
        std[std == 0] = 1.0  # e.g. corner pixels that are always 0
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    else:
        X_train, X_test = X_train / 16.0, X_test / 16.0
    return Split(X_train.astype(dtype), y_train, X_test.astype(dtype), y_test)


def minibatches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int = 64,
    shuffle: bool = True,
    rng: RngLike = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X_batch, y_batch)`` pairs covering the data once (one epoch).

    With ``shuffle=True`` the order is a permutation drawn from ``rng``; pass the same Generator
    every epoch to get a new (but reproducible) order each time. The last batch may be smaller.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:  # None, a number: len() would fail in numpy's words
        raise TypeError(
            f"minibatches: X and y must be arrays with one row per example, got shapes "
            f"{X.shape} and {y.shape}"
        )
    if len(X) != len(y):
        raise ValueError(f"minibatches: X has {len(X)} rows but y has {len(y)} labels")
    batch_size = count("minibatches", "batch_size", batch_size, 1)
    order = generator(rng, "minibatches").permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]
