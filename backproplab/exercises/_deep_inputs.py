"""Inputs of notebook 10's checks, built so that what a check needs holds at every draw
(exercises._draws): a deep net's units on and off, weights a right standard deviation keeps
steady. At the notebook's seeds the first draw holds, so the notebook's inputs are as drawn."""

from __future__ import annotations

import numpy as np


def on_and_off(x: np.ndarray, weights: list[np.ndarray]) -> bool:
    """Whether every layer a = relu(a @ W.T) has units on (z > 0) and off for each example."""
    for W in weights:
        z = x @ W.T
        if not np.all(np.any(z > 0, axis=1) & np.any(z <= 0, axis=1)):
            return False
        x = np.maximum(z, 0)
    return True


def steady_layer(
    rng: np.random.Generator,
    a: np.ndarray,
    std: float,
    n_out: int,
    activation: str,
    mean_squares: list[float],
    more: bool,
) -> tuple[float, np.ndarray]:
    """One layer of init_std's check on the signal ``a``: weights of ``std`` drawn from ``rng``
    (again, at most 100 times, until a right std keeps the signal steady, so that a right
    answer meets the check's 1.4 at every draw); its pre-activations' mean square and output.
    ``mean_squares`` are the earlier layers', ``more`` says whether a layer follows."""
    n_in, gain = a.shape[1], 2.0 if activation == "relu" else 1.0
    for _ in range(100):
        W = rng.standard_normal((n_out, n_in)) * std
        with np.errstate(all="ignore"):  # a huge std overflows: the check says so, not numpy
            z = a @ W.T
            square = float((z**2).mean())
            after = np.maximum(z, 0) if activation == "relu" else z
            # with these weights a right std (gain / n_in) changes the mean square by `right`,
            # and the ReLU keeps `kept` of it (about 1/2, which the next layer's right std
            # expects): both scale-free, so the learner's std does not change the draws
            right = (
                np.float64(square) / mean_squares[-1] * gain / n_in / std**2
                if mean_squares
                else 1.0
            )
            kept = gain * np.mean(after**2) / square if more else 1.0
            steady = abs(np.log(right)) <= np.log(1.2) and abs(np.log(kept)) <= np.log(1.25)
        if steady or not np.isfinite(right * kept) or right * kept == 0:
            break  # (seed 11: every layer at once; 300 other draws: at most 18 again)
    return square, after
