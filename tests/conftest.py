"""Shared test settings: hypothesis profile (deterministic, modest example counts), every test
starting the package's shared generator afresh, a pytest-xdist worker's garbage collected
before it says it has finished, and the wheel ``pip install /path/to/clone`` builds (built once,
for the tests of an installed package)."""

import gc
import os
import subprocess
import sys
from pathlib import Path

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


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel ``pip install /path/to/clone`` builds and installs."""
    folder = tmp_path_factory.mktemp("wheel")
    root = Path(__file__).resolve().parents[1]
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "-w",
        str(folder),
        str(root),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    (found,) = folder.glob("backproplab-*.whl")
    return found


@pytest.fixture(autouse=True)
def _layers_start_from_a_fresh_session():
    """Layers made without ``rng`` draw in turn from one generator the package keeps: each test
    starts it afresh, as a new Python session does, so that no test's weights depend on which
    tests ran before it in its worker (pytest-xdist shares the files out by timing)."""
    from backproplab.nn import layers

    kept, layers._SHARED = layers._SHARED, np.random.default_rng(0)
    yield
    layers._SHARED = kept


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    """In a pytest-xdist worker, collect the garbage and freeze what is left before the worker
    tells the controller it has finished (xdist does so once every sessionfinish hook returned).

    Once the last worker has finished, the controller tells every worker to exit, and execnet,
    which carries their messages, sends a worker still running 5 s later a SIGINT of its own
    (``os.kill(os.getpid(), 2)`` in ``WorkerGateway._terminate_execution``). What a worker still
    runs then is pytest's unconfigure, whose two garbage collections went through the worker's
    whole heap (250,000 to 400,000 objects: 0.2 to 1.3 s each on 2 cores at a load of 10). A CI
    run under heavier load showed that SIGINT as a KeyboardInterrupt inside hypothesis's gc
    callback. Collected here, the garbage's finalizers run while the session's warnings are
    still recorded, and the frozen objects, all reachable now, are not gone through again."""
    if hasattr(session.config, "workerinput"):  # a worker (the controller has no deadline)
        gc.collect()
        gc.freeze()
