"""The conv2d benchmark's hand-written numpy must compute what the engine computes, and it runs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import conv2d as bench  # noqa: E402


def test_numpy_conv2d_computes_the_engines_output_and_gradients():
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        (x, w, b, g), tensors = bench.setup(dtype)
        want = bench.numpy_conv2d_step(x, w, b, g, bench.PADDING)
        got = bench.engine_step(*tensors, g, bench.PADDING)
        for name, a, e in zip(("out", "dx", "dw", "db"), got, want):
            assert a.dtype == e.dtype == dtype, name
            np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol, err_msg=name)
        again = bench.engine_step(*tensors, g, bench.PADDING)  # gradients start fresh each step
        np.testing.assert_array_equal(again[2], got[2])


def test_rows_time_both_variants():
    rows = bench.rows(quick=True)
    assert [r["dtype"] for r in rows] == ["float32", "float64"]
    for r in rows:
        for variant in ("numpy", "backproplab"):
            assert 0 < r[variant] < 0.5, (variant, r[variant])  # seconds per step
