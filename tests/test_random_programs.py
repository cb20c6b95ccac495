"""Random programs, drawn by hypothesis, against central finite differences in float64.

A program starts from two or three leaves with shapes that broadcast against each other, and
applies a drawn sequence of ops, each to tensors drawn from everything computed so far (so a
tensor is often reused: fan-out). The ops include broadcasting arithmetic, reductions over
negative axes, transposes with negative axes, and indexing with repeated indices. A failure
shrinks to a small program. 150 programs run by default; ``RANDOM_PROGRAMS=5000 python -m pytest
tests/test_random_programs.py`` runs a longer search.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import backproplab as bl

SHAPES = [(2, 3), (3,), (1, 3), (2, 1), ()]


def _unary(name):
    return {
        "tanh": lambda a: a.tanh(),
        "sigmoid": lambda a: a.sigmoid(),
        "square": lambda a: a**2,
        "exp_small": lambda a: (a * 0.1).exp(),
        "sum_last": lambda a: a.sum(axis=-1, keepdims=True) if a.ndim else a,
        "mean_first": lambda a: a.mean(axis=-a.ndim) if a.ndim else a,
        "transpose_neg": lambda a: a.transpose(-1, -2) if a.ndim == 2 else a,
        "repeat_rows": lambda a: a[np.array([0, 0, -1])] if a.ndim else a,
        "softplus_like": lambda a: bl.log(1 + bl.exp(a * 0.5)),
    }[name]


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
}


@st.composite
def programs(draw):
    shapes = [draw(st.sampled_from(SHAPES)) for _ in range(draw(st.integers(2, 3)))]
    steps = draw(
        st.lists(
            st.one_of(
                st.tuples(
                    st.just("unary"),
                    st.sampled_from(
                        sorted(
                            [
                                "tanh",
                                "sigmoid",
                                "square",
                                "exp_small",
                                "sum_last",
                                "mean_first",
                                "transpose_neg",
                                "repeat_rows",
                                "softplus_like",
                            ]
                        )
                    ),
                    st.integers(0, 99),
                ),  # fmt: skip
                st.tuples(st.sampled_from(sorted(BINARY)), st.integers(0, 99), st.integers(0, 99)),
            ),
            min_size=1,
            max_size=8,
        )
    )
    seed = draw(st.integers(0, 2**16))
    return shapes, steps, seed


def run(program, arrays):
    """The program's scalar output for these leaf values (tensors in, tensor out)."""
    _, steps, _ = program
    values = list(arrays)
    for kind, a, b in steps:
        if kind == "unary":
            values.append(_unary(a)(values[b % len(values)]))
        else:
            x, y = values[a % len(values)], values[b % len(values)]
            try:
                np.broadcast_shapes(x.shape, y.shape)
            except ValueError:  # shapes that do not broadcast: combine with y's sum instead
                y = y.sum()
            values.append(BINARY[kind](x, y))
    return values[-1].sum() + 0.0 * sum(v.sum() for v in values[: len(arrays)])


@settings(max_examples=int(os.environ.get("RANDOM_PROGRAMS", "150")))
@given(programs())
def test_random_programs_match_finite_differences(program):
    shapes, _, seed = program
    rng = np.random.default_rng(seed)
    data = [rng.uniform(-1.5, 1.5, size=s) for s in shapes]
    leaves = [bl.Tensor(d, requires_grad=True) for d in data]
    run(program, leaves).backward()
    eps = 1e-6
    for i, d in enumerate(data):
        numeric = np.zeros_like(d)
        for idx in np.ndindex(*d.shape):
            up = [x.copy() for x in data]
            down = [x.copy() for x in data]
            up[i][idx] += eps
            down[i][idx] -= eps
            with bl.no_grad():
                f_up = run(program, [bl.Tensor(x) for x in up]).item()
                f_down = run(program, [bl.Tensor(x) for x in down]).item()
            numeric[idx] = (f_up - f_down) / (2 * eps)
        assert leaves[i].grad.shape == d.shape
        np.testing.assert_allclose(leaves[i].grad, numeric, rtol=1e-5, atol=1e-6)
