"""A student's kernel, started so that it cannot take the grader down with it.

``python _launcher.py --memory MB --token T --parent PID -- <kernel command>`` (the file next to
this one, run as a script so that it imports nothing of the grader's) is what the grader starts
instead of the kernel itself. It

* lowers the address-space limit (``RLIMIT_AS``) to ``MB`` megabytes, for itself and the kernel;
* forks: the kernel is its child, so the kernel's parent is this launcher, not the grader
  (``os.kill(os.getppid(), SIGKILL)`` in a notebook ends the launcher, and with it only that
  student's run);
* on Linux, asks to be killed when the grader exits, and the kernel when the launcher exits
  (``PR_SET_PDEATHSIG``), so a grader killed mid-class leaves no kernel behind;
* ignores the interrupt the grader sends to the whole process group (the kernel gets it).

jupyter_client already starts the launcher in a session of its own, so the launcher, the kernel
and every process they start share one process group, killed as a whole at the end. A process
that leaves the group (``setsid``, a double fork) still carries the environment variable
``BACKPROPLAB_GRADING=<token>``; ``kill_tagged`` finds those by their environment and kills them.
A process that also clears its environment escapes: see docs/teaching.md (use a container).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import KernelManager

TOKEN_VARIABLE = "BACKPROPLAB_GRADING"  # _launcher.py sets it too
LAUNCHER = Path(__file__).with_name("_launcher.py")


class PlatformError(RuntimeError):
    """The grader cannot sandbox a kernel on this operating system."""


def require_linux(platform: str | None = None) -> None:
    """Refuse, before any submission runs, to grade where the sandbox cannot work: the memory
    limit (refused or ignored on macOS), the launcher's fork (none on Windows) and the search for
    escaped processes (``/proc``) are Linux's."""
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        raise PlatformError(
            f"grade: the grader's sandbox needs Linux, and this is {platform}: run the grader in "
            f"a Linux container (Docker Desktop runs one on macOS and Windows), as docs/"
            f"teaching.md shows under 'Grading an untrusted class'"
        )


def kill_group(pgid: int | None) -> None:
    """SIGKILL every process of group ``pgid`` (nothing if it is gone)."""
    if pgid and pgid > 1 and pgid != os.getpgid(0):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def kill_tagged(token: str) -> int:
    """SIGKILL every process whose environment holds ``BACKPROPLAB_GRADING=token``; how many."""
    marker = f"{TOKEN_VARIABLE}={token}".encode()
    killed = 0
    for _ in range(3):  # a process may fork while we look: look again
        found = 0
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    os.kill(int(entry.name), signal.SIGKILL)
                    found += 1
            except (OSError, ValueError):
                continue
        killed += found
        if not found:
            break
        time.sleep(0.05)
    return killed


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100  # /proc's unit of CPU time


def _processes() -> list[tuple[int, int, int, int]]:
    """(pid, parent's pid, process group, CPU ticks) of every process in ``/proc``: the ticks
    its threads ran (user and system) and those of the children it waited for (Linux's
    ``/proc/<pid>/stat``, fields 4, 5 and 14 to 17)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as file:
                    stat = file.read()
                fields = stat[stat.rindex(b")") + 2 :].split()  # after the name, "(python3)"
                ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
                found.append((int(entry.name), int(fields[1]), int(fields[2]), ticks))
            except (OSError, ValueError, IndexError):  # it exited while we read
                continue
    return found


def kernel_pid(launcher: int | None) -> int | None:
    """The kernel's process id: the launcher's child (None if there is none, or no ``/proc``)."""
    try:
        children = [pid for pid, parent, _, _ in _processes() if parent == launcher]
    except OSError:
        return None
    return children[0] if launcher and len(children) == 1 else None


def cpu_seconds(kernel: int, group: int) -> float | None:
    """The CPU time (user + system, all threads) of the kernel and of every process of its group
    (the launcher, what the kernel started and has not left the group), with that of the
    children they waited for; None once the kernel is gone. A process that left the group
    (``setsid``) is not counted: the wall-clock cap of a cell still ends it (_kernel.py)."""
    counted = [(pid, t) for pid, _, pgrp, t in _processes() if pid == kernel or pgrp == group]
    if kernel not in (pid for pid, _ in counted):
        return None
    return sum(t for _, t in counted) / _TICK


# The kernel every submission runs in: this Python's ipykernel, named here rather than looked up
# as the "python3" kernel spec, which a kernel graded earlier could have replaced by writing a
# kernel.json into the user's Jupyter data folder (read first outside a virtual environment).
KERNEL_SPEC = KernelSpec(
    argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    display_name="Python 3 (grading)",
    language="python",
)


class SandboxKernelManager(KernelManager):
    """A KernelManager whose kernel, always ``KERNEL_SPEC``, is started through the launcher."""

    memory_mb: int = 2048
    token: str = ""

    @property
    def kernel_spec(self) -> KernelSpec:
        return KERNEL_SPEC

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command = super().format_kernel_cmd(extra_arguments)
        launcher = [sys.executable, str(LAUNCHER)]
        limits = ["--memory", str(self.memory_mb), "--token", self.token]
        return [*launcher, *limits, "--parent", str(os.getpid()), "--", *command]

    def process_group(self) -> int | None:
        """The kernel's process group (the launcher's pid), if it was started."""
        return getattr(self.provisioner, "pgid", None) if self.provisioner else None
