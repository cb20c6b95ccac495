"""The suite's pytest-xdist workers end in the time execnet gives them (tests/conftest.py).

Once every worker has finished, the controller tells them to exit, and execnet sends a worker
still running 5 s later a SIGINT (``os.kill(os.getpid(), 2)``, ``_terminate_execution`` in
execnet's gateway_base.py). A worker then runs pytest's unconfigure, whose garbage collections
went through every object of the worker's heap; on a loaded CI machine that passed 5 s, and the
SIGINT came out as a KeyboardInterrupt in hypothesis's gc callback (no test failed; traced to
execnet with a SIGINT handler and an ``os.kill`` wrapper installed in every process, and a
worker's unconfigure made 7 s longer). No grader kernel signalled anything of the suite's: each
kernel runs in a session of its own (test_grading_cpu_time.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent

# A session leaving a heap of objects that are still reachable at its end, as the suite's
# imports do (numpy, sympy, hypothesis, jupyter_client: hundreds of thousands)
KEEPS = """
KEPT = [[] for _ in range(200_000)]


def test_nothing():
    assert KEPT
"""
# What the garbage collector would go through in the worker's unconfigure, as pytest's
# collections there do, and how many objects it does not (frozen)
PROBE = """
import gc, json, os


def pytest_unconfigure(config):
    if hasattr(config, "workerinput"):
        seen = {"tracked": len(gc.get_objects()), "frozen": gc.get_freeze_count()}
        with open(os.environ["WORKER_TAIL"], "w") as file:
            json.dump(seen, file)
"""


def test_a_workers_unconfigure_has_no_heap_to_collect(tmp_path):
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_keeps.py").write_text(KEEPS)
    (tmp_path / "worker_tail_probe.py").write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    env["WORKER_TAIL"] = str(tmp_path / "tail.json")
    command = [sys.executable, "-m", "pytest", "-n", "1", "-p", "worker_tail_probe", "-q"]
    command += ["-p", "no:cacheprovider", "-p", "no:randomly", "test_keeps.py"]
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    seen = json.loads((tmp_path / "tail.json").read_text())
    assert seen["frozen"] > 200_000, seen  # the session's objects, collected and frozen
    assert seen["tracked"] < 20_000, seen  # what is left to go through
