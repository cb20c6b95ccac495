"""Shared test settings: hypothesis profile (deterministic, modest example counts)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "backproplab",
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("backproplab")
