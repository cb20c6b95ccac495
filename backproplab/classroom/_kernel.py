"""Run code in a student's sandboxed kernel (_sandbox.py) with time limits; stop it for good."""

from __future__ import annotations

import asyncio
import os
import queue
import secrets
import shutil
import site
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ._runtime_code import cell_number
from ._sandbox import (
    SandboxKernelManager,
    cpu_seconds,
    end_descendants,
    kernel_pid,
    kill_group,
    kill_tagged,
)

# A cell's limit is CPU time, so that a machine busy with other work does not cut a right cell
# short (notebook 14's training cell took 72 s of wall-clock time for 19 s of CPU on a loaded
# machine). A cell that does not compute (sleep, input, a deadlock) still ends once its wall-clock
# time passes WALL_FACTOR times its limit: above the 3.8 times slower seen there, so a cell
# within its CPU limit is not cut by the cap, and a notebook of cells that wait ends too.
WALL_FACTOR = 5
# Seconds between two readings of the kernel's CPU time (each reads /proc): at least _CPU_READS,
# and at least _READ_SHARE times as long as a reading took, so that the grader spends at most a
# tenth of its time reading. A reading reads a file per thread of the kernel's processes: a
# kernel with 4000 idle threads took 166 ms, which every 0.2 s kept the grader busy 80% of the
# time (the cell's limit is then checked later, by as much as the kernel computed meanwhile).
_CPU_READS = 0.2
_READ_SHARE = 10

# Variables a kernel must not inherit: they tell it where the grader runs, or where to find
# configuration or code a kernel graded earlier could have written (the kernel gets a home
# folder of its own instead, see Kernel).
_HIDDEN_VARIABLES = (
    "PWD",
    "OLDPWD",
    "JPY_SESSION_NAME",
    "IPYTHONDIR",
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_CONFIG_PATH",
    "JUPYTER_DATA_DIR",
    "JUPYTER_PATH",
    "MPLCONFIGDIR",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
)
_ONE_THREAD = {  # 2 cores, several kernels at once: no BLAS thread pools
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
}
# Python's UTF-8 mode: a student's open() reads and writes UTF-8 as on their own machine, not
# ASCII when the grader runs in the C locale with PYTHONUTF8=0 (or a legacy locale's encoding)
_UTF8 = {"PYTHONUTF8": "1"}


def _user_site() -> dict[str, str]:
    """The kernel's user site-packages: the grader's, if the grader imports from it (the package
    installed with ``pip install --user``: without it the kernel could not start), else none (a
    kernel graded earlier could have made one in the home folder)."""
    user_site = site.getusersitepackages()
    if site.ENABLE_USER_SITE and user_site in sys.path:
        return {"PYTHONUSERBASE": site.getuserbase()}
    return {"PYTHONNOUSERSITE": "1"}


_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def closing_its_event_loop(work: Callable[[_Item], _Result]) -> Callable[[_Item], _Result]:
    """``work`` for a worker thread: after it, the thread's asyncio event loop is closed.

    jupyter_client's blocking calls make the calling thread a loop on first use and never close
    it; freed at some time after its thread ended, it warned ("unclosed event loop") in whatever
    ran then. (jupyter_core makes the thread a new loop if it is used again.)"""

    def work_then_close(item: _Item) -> _Result:
        try:
            return work(item)
        finally:
            try:
                loop = asyncio.get_event_loop()  # in a thread of its own: the one it was given
            except RuntimeError:  # it never had one
                loop = None
            if loop is not None:
                loop.close()
                asyncio.set_event_loop(None)

    return work_then_close


class KernelDied(RuntimeError):
    """The kernel (or its launcher) is gone."""


@dataclass
class Execution:
    """What running one piece of code gave."""

    status: str  # "ok", "error", "timeout" or "stuck" (ignored the interrupt)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (ename, evalue)
    displays: list[dict] = field(default_factory=list)  # the last bundle of the kept MIME type
    seconds: float = 0.0  # wall-clock
    cpu_seconds: float = 0.0  # the kernel's (see Kernel.cpu_time)
    limit: str = ""  # what a "timeout" or "stuck" run ran longer than, in words
    capped: bool = False  # stopped by the wall-clock cap, not by its CPU time


class Kernel:
    """A python3 kernel started through the sandbox launcher in ``cwd``.

    ``memory_mb`` limits its address space. Use as a context manager: on exit the kernel, its
    process group and every process tagged with its token are killed.

    The kernel listens on Unix sockets in a directory of its own, not on TCP ports: the grader
    picks free ports and the kernel binds them a moment later, and a kernel starting in another
    process at the same moment can take one of them first ("Address already in use": 2 of 240
    starts, 8 at a time, died so).

    Its ``HOME`` is an empty folder of its own, and it has no user site-packages unless the
    grader imports from them: IPython's startup files, Jupyter's configuration and Python's user
    site-packages are read from the home folder, and a kernel graded earlier could have written
    there (an IPython startup file ending every later kernel zeroed the rest of the class).

    Its time limits are its CPU time (``cpu_time``), with a wall-clock cap (``execute``).
    """

    said_wall_clock = False  # the grader said once that it measures wall-clock time instead

    def __init__(self, cwd: Path, memory_mb: int) -> None:
        self.token = secrets.token_hex(16)
        self.cwd = cwd  # the student's folder (the learner's modules are in it: _runtime_code.py)
        self.cells: dict[str, str] = {}  # the code it was sent, by ipykernel's name of each cell
        self.sockets = tempfile.mkdtemp(prefix="backproplab-kernel-")
        self.km = SandboxKernelManager(
            kernel_name="python3", transport="ipc", ip=os.path.join(self.sockets, "kernel")
        )
        self.km.memory_mb = memory_mb
        self.km.token = self.token
        home = os.path.join(self.sockets, "home")
        os.mkdir(home)
        env = {k: v for k, v in os.environ.items() if k not in _HIDDEN_VARIABLES}
        env.update(_ONE_THREAD, **_UTF8, HOME=home)
        env.update(_user_site())
        self.km.start_kernel(
            cwd=str(cwd), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.pgid = self.km.process_group()
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=60)
        except RuntimeError as error:
            self.close()
            raise KernelDied(f"the kernel did not start: {error}") from None
        self.pid, self._last_cpu = kernel_pid(self.pgid), 0.0
        self.clock = "CPU time" if self.pid and self._cpu() is not None else "wall-clock time"
        if self.clock != "CPU time" and not Kernel.said_wall_clock:
            Kernel.said_wall_clock = True
            warnings.warn(
                "grade: the kernel's CPU time cannot be read here (no /proc): the time limits "
                "are wall-clock seconds",
                RuntimeWarning,
                stacklevel=2,
            )

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill the kernel, its launcher, their process group and everything tagged as theirs."""
        try:
            self.kc.stop_channels()
        except Exception:  # noqa: BLE001 - closing must not fail
            pass
        end_descendants(self.pgid)  # those that left the group too
        kill_group(self.pgid)
        kill_tagged(self.token)
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001
            pass
        kill_group(self.pgid)
        kill_tagged(self.token)
        try:
            self.km.cleanup_resources()
        except Exception:  # noqa: BLE001
            pass
        shutil.rmtree(self.sockets, ignore_errors=True)

    def alive(self) -> bool:
        """False once the launcher (the kernel's parent) has exited."""
        try:
            return bool(self.km.is_alive())
        except Exception:  # noqa: BLE001
            return False

    def _cpu(self) -> float | None:
        # read from the launcher: the kernel's processes whose parent exited are its children
        return cpu_seconds(self.pgid) if self.pid and self.pgid else None

    def cpu_time(self) -> float:
        """Seconds of CPU time the kernel and the processes it started have used (user and
        system, every thread: ``cpu_seconds``); wall-clock seconds where that cannot be read
        (``clock``)."""
        if self.clock != "CPU time":
            return time.monotonic()
        seconds = self._cpu()  # None once the kernel is gone: its last reading stays
        self._last_cpu = self._last_cpu if seconds is None else seconds
        return self._last_cpu

    def execute(
        self,
        code: str,
        timeout: float,
        on_input: Callable[[str], str] | None = None,
        keep: str | None = None,
    ) -> Execution:
        """Run ``code``; interrupt it once it has used ``timeout`` s of CPU time (``cpu_time``),
        or ``WALL_FACTOR * timeout`` s of wall-clock time. ``on_input(prompt)`` answers input().

        Of what the code displays only the last bundle holding the MIME type ``keep`` is kept;
        the rest is dropped as it arrives (a cell displaying megabytes in a loop would otherwise
        fill the grader's memory, which has no limit). Raises KernelDied when the kernel dies on
        the way.
        """
        self.cells[cell_number(code)] = code  # (a cell's code is named after it: _runtime_code)
        start, cpu_start = time.monotonic(), self.cpu_time()
        # stop_on_error=False: after a cell's error the kernel would drop the requests reaching
        # it soon after (a race with ipykernel 6's 0 s window), and the next cell, never run,
        # looked like one that ran and said nothing
        msg_id = self.kc.execute(
            code, store_history=False, allow_stdin=on_input is not None, stop_on_error=False
        )
        result = Execution("ok")
        timeout = max(timeout, 0.01)
        cap, read_at, cpu = start + WALL_FACTOR * timeout, start, 0.0
        interrupted_at: float | None = None
        replied = idle = False
        while not (replied and idle):
            now = time.monotonic()
            if interrupted_at is None and now >= read_at:
                cpu = self.cpu_time() - cpu_start
                read_at = now + max(_CPU_READS, _READ_SHARE * (time.monotonic() - now))
            if interrupted_at is None and (cpu > timeout or now > cap):
                self.km.interrupt_kernel()
                interrupted_at = now
                result.status, result.capped = "timeout", cpu <= timeout
                result.limit = f"{timeout:g} s of {self.clock}"
                if result.capped:
                    result.limit = (
                        f"{WALL_FACTOR * timeout:g} s of wall-clock time, computing for "
                        f"{cpu:.1f} s of it (it waited: on sleep, input or a lock, or for a busy "
                        "machine)"
                    )
            if interrupted_at is not None and now > interrupted_at + min(max(timeout, 1.0), 3.0):
                result.status = "stuck"
                break
            if on_input is not None:
                try:
                    request = self.kc.get_stdin_msg(timeout=0)
                    if request["msg_type"] == "input_request":
                        self.kc.input(on_input(request["content"].get("prompt", "")))
                except queue.Empty:
                    pass
            try:
                message = self.kc.get_iopub_msg(timeout=0.02)
            except queue.Empty:
                message = None
                if not self.alive():
                    raise KernelDied("the kernel died") from None
            if message is not None and message["parent_header"].get("msg_id") == msg_id:
                kind, content = message["msg_type"], message["content"]
                if kind == "error":
                    result.errors.append((content.get("ename", ""), content.get("evalue", "")))
                elif kind in ("display_data", "execute_result"):
                    data = content.get("data", {})
                    if keep is not None and keep in data:
                        result.displays = [data]
                elif kind == "status" and content.get("execution_state") == "idle":
                    idle = True
            try:
                reply = self.kc.get_shell_msg(timeout=0)
                if reply["parent_header"].get("msg_id") == msg_id:
                    replied = True
            except queue.Empty:
                pass
        if not self.alive():  # e.g. the code killed the launcher, the kernel's parent
            raise KernelDied("the kernel died")
        if result.status == "ok" and result.errors:
            result.status = "error"
        result.seconds = time.monotonic() - start
        result.cpu_seconds = self.cpu_time() - cpu_start
        return result
