"""Self-checks for notebook 05 · Matmul gradients.

The layer is the package's ``Linear``: Z = X W^T + b, batch-first, with X of shape (N, D), the
weights W of shape (M, D) = (n_out, n_in) and the upstream gradient G = dL/dZ of shape (N, M).

* ``dL_dX(G, W)``, ``dL_dW(X, G)``, ``dL_db(G)``: the three gradients of the layer;
* ``dL_dW_column(delta, a)``: the weight gradient for one example written as column vectors,
  z = W a + b (delta = dL/dz and a are column vectors);
* ``bilinear_grads(U, A, V, g)``, the challenge: all gradients of the batched bilinear form
  s_n = u_n^T A v_n, given g = dL/ds.

Every expected answer is a closed form written out in plain numpy here (G W, G^T X, the column
sums of G, ...), exact to rounding, so that an answer estimated by finite differences, right to
8-11 digits only, is told from a derived one by ``estimated``; never the learner's function and
never a package function. Shapes are all different, so a transposed or swapped answer cannot
pass by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import Feedback, attempt_own, close, correct, estimated, hint, result_array
from ._crash import PRODUCT_ADVICE
from ._draws import check_rng

__all__ = [
    "check_bilinear_grads",
    "check_dL_dW",
    "check_dL_dW_column",
    "check_dL_dX",
    "check_dL_db",
]

N, D, M = 5, 3, 2  # batch, inputs, outputs: all different


def _case(seed: int = 5, n: int = N) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = check_rng(seed)
    X = rng.standard_normal((n, D))
    W = rng.standard_normal((M, D))  # (n_out, n_in), as the package's Linear
    b = rng.standard_normal(M)
    G = rng.standard_normal((n, M))  # the upstream gradient dL/dZ
    return X, W, b, G


def _reference(X, W, b, G) -> dict[str, np.ndarray]:
    """dL/dX, dL/dW, dL/db of Z = X W^T + b given G = dL/dZ, in closed form: exact to rounding."""
    return {"X": G @ W, "W": G.T @ X, "b": G.sum(axis=0)}


def _call(exercise: str, fn: Callable[..., Any], want: tuple | None, *args: Any) -> Any:
    """Call the learner's ``fn`` on copies of ``args`` (``attempt_own``); to the hint for a
    matrix product that does not fit, add the shape ``want`` the result must have."""
    result = attempt_own(exercise, fn, *args)
    if isinstance(result, Feedback) and want is not None and PRODUCT_ADVICE in result.message:
        return hint(exercise, f"{result.message} Your result must have shape {want}.")
    return result


_OTHER_N = 6  # a second batch: neither the first one's N = 5 nor the notebook's 2, 3 or 4


def _other_batch(
    exercise: str, fn: Callable[..., Any], key: str, pick: Callable[..., tuple]
) -> Feedback | None:
    """None if ``fn``, given ``pick(X, W, G)`` of a batch of ``_OTHER_N`` examples, returns the
    gradient ``key`` of that batch as well; else the hint. An answer that writes in the first
    batch's N = 5 (five ones to add the rows with, a loop over five rows) passed that batch."""
    X, W, b, G = _case(15, _OTHER_N)
    want = _reference(X, W, b, G)[key]
    got = result_array(exercise, _call(exercise, fn, want.shape, *pick(X, W, G)), want.shape)
    if not isinstance(got, Feedback) and close(got, want):
        return None
    return hint(
        exercise,
        f"right for the batch of N = {N} examples, but not for one of N = {_OTHER_N}: does your "
        "answer use the number of examples of the first batch instead of the batch it is given?",
    )


def _shape_hint(exercise: str, what: str, got: tuple, want: tuple, of: str) -> Feedback:
    return hint(
        exercise,
        f"your {what} has shape {got}, but it must have the shape of {of}, {want}: a gradient "
        "always has the shape of the thing it is the gradient of",
    )


def check_dL_dX(dL_dX: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Feedback:
    """Check ``dL_dX(G, W)`` for Z = X W^T: G (N, M) and W (M, D) give (N, D)."""
    exercise = "dL_dX"
    X, W, b, G = _case()
    want = _reference(X, W, b, G)["X"]
    got = result_array(exercise, _call(exercise, dL_dX, want.shape, G, W))
    if isinstance(got, Feedback):
        return got
    if got.shape == want.T.shape and close(got, want.T):
        return hint(
            exercise, f"right numbers, but transposed: dL/dX must be shaped like X {X.shape}"
        )
    if got.shape != want.shape:
        return _shape_hint(exercise, "dL/dX", got.shape, want.shape, "X")
    if close(got, want):
        return (
            estimated(exercise, got, want)  # to 8-11 digits only: estimated
            or _other_batch(exercise, dL_dX, "X", lambda X, W, G: (G, W))
            or correct(exercise, "dL/dX = G W, shaped like X.")
        )
    if close(got, -want):
        return hint(exercise, "right size, wrong sign: Z grows with X where W is positive")
    if close(got * N, want):
        return hint(
            exercise,
            "off by a factor of the batch size N: row n of dL/dX comes from row n of G alone; "
            "nothing is averaged here",
        )
    return hint(
        exercise,
        "right shape, wrong numbers: write out dL/dx_11 as a sum over the outputs j and compare "
        "it with entry (1, 1) of each product of G and W that has the right shape",
    )


def check_dL_dW(dL_dW: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Feedback:
    """Check ``dL_dW(X, G)`` for Z = X W^T: X (N, D) and G (N, M) give (M, D)."""
    exercise = "dL_dW"
    X, W, b, G = _case()
    want = _reference(X, W, b, G)["W"]
    got = result_array(exercise, _call(exercise, dL_dW, want.shape, X, G))
    if isinstance(got, Feedback):
        return got
    if got.shape == want.T.shape and close(got, want.T):
        return hint(
            exercise,
            f"right numbers, but transposed: dL/dW must be shaped like W {W.shape}, which is "
            "(outputs, inputs) in the package's layout",
        )
    if got.shape != want.shape:
        return _shape_hint(exercise, "dL/dW", got.shape, want.shape, "W")
    if close(got, want):
        return (
            estimated(exercise, got, want)  # to 8-11 digits only: estimated
            or _other_batch(exercise, dL_dW, "W", lambda X, W, G: (X, G))
            or correct(exercise, "dL/dW = G^T X: one term per example, added up.")
        )
    if close(got * N, want):
        return hint(
            exercise,
            "right shape but off by a factor of the batch size N: G already says how much each "
            "example matters, so the examples' contributions are simply added.",
        )
    if close(got, -want):
        return hint(exercise, "right size, wrong sign")
    return hint(
        exercise,
        "right shape, wrong numbers: write out dL/dw_11 as a sum over the batch and compare it "
        "with entry (1, 1) of each product of X and G that has the right shape",
    )


def check_dL_db(dL_db: Callable[[np.ndarray], np.ndarray]) -> Feedback:
    """Check ``dL_db(G)`` for Z = X W^T + b, b of shape (M,) broadcast over the N rows."""
    exercise = "dL_db"
    X, W, b, G = _case()
    want = _reference(X, W, b, G)["b"]
    got = result_array(exercise, _call(exercise, dL_db, want.shape, G))
    if isinstance(got, Feedback):
        return got
    if got.shape == (1, M) and close(got[0], want):
        return hint(exercise, f"right numbers, but b has shape {want.shape}, not {got.shape}")
    if got.shape != want.shape:
        return hint(
            exercise,
            f"your dL/db has shape {got.shape}, but b has shape {want.shape} (one entry per "
            "output column): which axis of G runs over the batch?",
        )
    if close(got, want):
        return (
            estimated(exercise, got, want)  # to 8-11 digits only: estimated
            or _other_batch(exercise, dL_db, "b", lambda X, W, G: (G,))
            or correct(exercise, "b is used by every row, so its gradient adds up over the batch.")
        )
    if close(got * N, want):
        return hint(
            exercise,
            "right shape but off by a factor of the batch size N: b is used once per example; "
            "how do gradients from several uses combine?",
        )
    if any(close(got, G[n]) for n in range(N)):
        return hint(
            exercise,
            "that is one example's contribution only: b is used by every row of the batch",
        )
    return hint(exercise, "right shape, wrong numbers: b_j is added to every entry of column j")


def check_dL_dW_column(dL_dW_column: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Feedback:
    """Check ``dL_dW_column(delta, a)`` for z = W a + b, delta = dL/dz (n_out, 1), a (n_in, 1)."""
    exercise = "dL_dW_column"
    rng = check_rng(6)
    n_out, n_in = 10, 128  # the last layer of notebook 09's digits network
    delta = rng.standard_normal((n_out, 1))
    a = rng.standard_normal((n_in, 1))
    want = delta @ a.T  # closed form, exact: dL/dw_ij = delta_i a_j
    got = result_array(exercise, _call(exercise, dL_dW_column, want.shape, delta, a))
    if isinstance(got, Feedback):
        return got
    if got.shape == want.T.shape:
        return hint(
            exercise,
            f"your gradient has shape {got.shape}, but W has shape {want.shape}, (n_out, n_in): "
            "a gradient has the shape of its variable",
        )
    if got.shape != want.shape:
        return hint(
            exercise,
            f"your gradient has shape {got.shape}, but W has shape {want.shape}: every weight "
            "w_ij gets its own entry, so the result is a whole matrix",
        )
    if close(got, want):
        return estimated(exercise, got, want) or correct(  # to 8-11 digits only: estimated
            exercise, "the outer product delta a^T, shape (10, 128)."
        )
    return hint(exercise, "right shape, wrong numbers: entry (i, j) is how z_i depends on w_ij")


def check_bilinear_grads(bilinear_grads: Callable[..., tuple]) -> Feedback:
    """Check ``bilinear_grads(U, A, V, g) -> (dU, dA, dV)`` for s_n = u_n^T A v_n, g = dL/ds."""
    exercise = "bilinear_grads"
    rng = check_rng(12)
    n, d, e = 4, 3, 2  # all different
    U, A, V = rng.standard_normal((n, d)), rng.standard_normal((d, e)), rng.standard_normal((n, e))
    g = rng.standard_normal(n)

    def grads(g: np.ndarray) -> dict[str, np.ndarray]:  # of L = sum_n g_n s_n, closed forms
        return {
            "dU": g[:, None] * (V @ A.T),
            "dA": U.T @ (g[:, None] * V),
            "dV": g[:, None] * (U @ A),
        }

    want = grads(g)
    got = _call(exercise, bilinear_grads, None, U, A, V, g)
    if isinstance(got, Feedback):
        return got
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return hint(exercise, "return a tuple of three arrays: (dU, dA, dV)")
    unweighted = grads(np.ones(n))  # every g_n = 1: the upstream gradient forgotten
    variables = {"dU": U, "dA": A, "dV": V}
    mine = []
    for (name, w), value in zip(want.items(), got):
        value = result_array(exercise, value, what=name)
        if isinstance(value, Feedback):
            return value
        shape = variables[name].shape
        if value.shape != shape:
            return hint(
                exercise,
                f"{name} has shape {value.shape}; it must have the shape of {name[1:]}, {shape}",
            )
        if close(value, w):
            mine.append(value)
            continue
        if close(value, unweighted[name]):
            return hint(
                exercise,
                f"{name} is what you would get if every g_n were 1: each example's term must be "
                "weighted by its own upstream gradient g_n",
            )
        if close(value * n, w):
            return hint(exercise, f"{name} is off by a factor of N = {n}: nothing is averaged here")
        if close(value, -w):
            return hint(exercise, f"{name} has the wrong sign")
        return hint(
            exercise,
            f"{name} is not right yet: write s_n as a double sum over i and j, differentiate one "
            "entry, then find the product whose shape fits",
        )
    return estimated(
        exercise, tuple(mine), tuple(want.values())
    ) or correct(  # 8-11 digits: estimated
        exercise, "all three gradients of the bilinear form are right."
    )
