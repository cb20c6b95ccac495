"""The notebooks' stored outputs hold on other CPUs, not only on the machine that stored them.

numpy's OpenBLAS picks its matrix kernels by CPU, and each kernel adds up products in its own
order, so the last bits of a matrix product differ between a learner's laptop and the machine
that executed the notebooks. A stored output must not depend on those bits: no digit of rounding
noise, no unstable training run compared number by number. ``OPENBLAS_CORETYPE`` makes this
machine use an old CPU's kernels (SSE only: no AVX, no fused multiply-add), the most different
from today's, and nbval runs every notebook under them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OLD_CPU = "Prescott"


def _blas_kernels(env: dict[str, str]) -> str:
    """The kernel family numpy's OpenBLAS uses in a process with ``env`` (as threadpoolctl reports)."""
    code = (
        "import numpy, threadpoolctl; "
        "print([i.get('architecture') for i in threadpoolctl.threadpool_info()])"
    )
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]  # no answer must not read as "no change"
    return run.stdout.strip()


def test_stored_outputs_hold_with_an_old_cpus_blas_kernels():
    own = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    old = {**own, "OPENBLAS_CORETYPE": OLD_CPU}
    if _blas_kernels(old) == _blas_kernels(own):
        pytest.skip(f"numpy's BLAS here does not change kernels with OPENBLAS_CORETYPE={OLD_CPU}")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "notebooks"],
        cwd=ROOT,
        env=old,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-4000:]
