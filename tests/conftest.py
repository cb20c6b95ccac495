"""Shared test settings: hypothesis profile (deterministic, modest example counts), and every test
starting the package's shared generator afresh."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "backproplab",
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("backproplab")


@pytest.fixture(autouse=True)
def _layers_start_from_a_fresh_session():
    """Layers made without ``rng`` draw in turn from one generator the package keeps: each test
    starts it afresh, as a new Python session does, so that no test's weights depend on which
    tests ran before it in its worker (pytest-xdist shares the files out by timing)."""
    from backproplab.nn import layers

    kept, layers._SHARED = layers._SHARED, np.random.default_rng(0)
    yield
    layers._SHARED = kept
