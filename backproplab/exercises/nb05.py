"""Self-checks for notebook 05 · Matmul gradients.

Four exercises, for Y = X W + b with upstream gradient G = dL/dY (batch-first, as in the code):

* ``dL_dX(G, W)``, ``dL_dW(X, G)``, ``dL_db(G)``;
* ``dL_dW_column(delta, a)``: the same weight gradient in the column-vector notation z = W a + b
  of seed 004 (delta and a are column vectors).

The expected answers come from the engine's backward pass (``(X @ W + b) * G`` summed, then
``backward()``), never from the learner's function. Shapes are deliberately all different, so a
transposed or swapped answer cannot pass by accident.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..tensor import Tensor
from . import Feedback, attempt, correct, hint, result_array

__all__ = ["check_dL_dW", "check_dL_dW_column", "check_dL_dX", "check_dL_db"]

N, D, M = 5, 3, 2  # batch, inputs, outputs: all different


def _case(seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    W = rng.standard_normal((D, M))
    b = rng.standard_normal(M)
    G = rng.standard_normal((N, M))  # the upstream gradient dL/dY
    return X, W, b, G


def _engine_grads(X, W, b, G) -> dict[str, np.ndarray]:
    """dL/dX, dL/dW, dL/db by backward() on L = sum(G * (X W + b)), whose dL/dY is G."""
    Xt, Wt, bt = (Tensor(a, requires_grad=True) for a in (X, W, b))
    ((Xt @ Wt + bt) * G).sum().backward()
    return {"X": Xt.grad, "W": Wt.grad, "b": bt.grad}


def _shape_hint(exercise: str, what: str, got: tuple, want: tuple, rows: str) -> Feedback:
    return hint(
        exercise,
        f"your {what} has shape {got}, but it must have the shape of {rows} {want}: a gradient "
        "always has the shape of the thing it is the gradient of",
    )


def check_dL_dX(dL_dX: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Feedback:
    """Check ``dL_dX(G, W)`` for Y = X W: (N, M) and (D, M) give (N, D)."""
    exercise = "dL_dX"
    X, W, b, G = _case()
    want = _engine_grads(X, W, b, G)["X"]
    got = result_array(exercise, attempt(exercise, dL_dX, G, W))
    if isinstance(got, Feedback):
        return got
    if got.shape == want.T.shape and np.allclose(got, want.T):
        return hint(exercise, "right numbers, but transposed: dL/dX must be shaped like X (N, D)")
    if got.shape != want.shape:
        return _shape_hint(exercise, "dL/dX", got.shape, want.shape, "X")
    if np.allclose(got, want):
        return correct(exercise, "matches the engine's backward pass.")
    return hint(
        exercise,
        "right shape, wrong numbers: which product of G and W (transposed or not) has shape "
        "(N, D)? Write out one entry, dL/dx_11, as a sum over the outputs",
    )


def check_dL_dW(dL_dW: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Feedback:
    """Check ``dL_dW(X, G)`` for Y = X W: (N, D) and (N, M) give (D, M)."""
    exercise = "dL_dW"
    X, W, b, G = _case()
    want = _engine_grads(X, W, b, G)["W"]
    got = result_array(exercise, attempt(exercise, dL_dW, X, G))
    if isinstance(got, Feedback):
        return got
    if got.shape == want.T.shape and np.allclose(got, want.T):
        return hint(exercise, "right numbers, but transposed: dL/dW must be shaped like W (D, M)")
    if got.shape != want.shape:
        return _shape_hint(exercise, "dL/dW", got.shape, want.shape, "W")
    if np.allclose(got, want):
        return correct(exercise, "matches the engine's backward pass.")
    if np.allclose(got * N, want):
        return hint(
            exercise,
            "right shape but off by a factor of the batch size N: G already says how much each "
            "example matters, so the examples' contributions are simply added",
        )
    return hint(
        exercise,
        "right shape, wrong numbers: which product of X and G (transposed or not) has shape "
        "(D, M)? Write out one entry, dL/dw_11, as a sum over the batch",
    )


def check_dL_db(dL_db: Callable[[np.ndarray], np.ndarray]) -> Feedback:
    """Check ``dL_db(G)`` for Y = X W + b, b of shape (M,) broadcast over the N rows."""
    exercise = "dL_db"
    X, W, b, G = _case()
    want = _engine_grads(X, W, b, G)["b"]
    got = result_array(exercise, attempt(exercise, dL_db, G))
    if isinstance(got, Feedback):
        return got
    if got.shape == (1, M) and np.allclose(got[0], want):
        return hint(exercise, f"right numbers, but b has shape {want.shape}, not {got.shape}")
    if got.shape != want.shape:
        return hint(
            exercise,
            f"your dL/db has shape {got.shape}, but b has shape {want.shape} (one entry per "
            "output column): which axis of G runs over the batch?",
        )
    if np.allclose(got, want):
        return correct(exercise, "b is used by every row, so its gradient adds up over the batch.")
    if np.allclose(got * N, want):
        return hint(
            exercise,
            "right shape but off by a factor of the batch size N: b is used once per example; "
            "how do gradients from several uses combine?",
        )
    return hint(exercise, "right shape, wrong numbers: b_j is added to every entry of column j")


def check_dL_dW_column(dL_dW_column: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Feedback:
    """Check ``dL_dW_column(delta, a)`` for z = W a + b with column vectors, as in seed 004."""
    exercise = "dL_dW_column"
    rng = np.random.default_rng(6)
    n_out, n_in = 10, 128  # seed 004's shapes: 10 classes, 128 hidden units
    delta = rng.standard_normal((n_out, 1))
    a = rng.standard_normal((n_in, 1))
    W = rng.standard_normal((n_out, n_in))
    Wt = Tensor(W, requires_grad=True)
    ((Wt @ a) * delta).sum().backward()  # L with dL/dz = delta
    want = Wt.grad
    got = result_array(exercise, attempt(exercise, dL_dW_column, delta, a))
    if isinstance(got, Feedback):
        return got
    if got.shape == want.T.shape:
        return hint(
            exercise,
            f"your gradient has shape {got.shape}; W is {want.shape} (outputs x inputs): swap "
            "the roles of the two vectors",
        )
    if got.shape != want.shape:
        return hint(
            exercise,
            f"your gradient has shape {got.shape}, but W has shape {want.shape}: an (n_out, 1) "
            "column times a (1, n_in) row gives the right shape",
        )
    if np.allclose(got, want):
        return correct(exercise, "the outer product delta a^T, shape (10, 128).")
    return hint(exercise, "right shape, wrong numbers: entry (i, j) is how z_i depends on W_ij")
