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

* is the "subreaper" of the kernel's processes: one whose parent exits (a double fork, a daemon)
  is re-parented to the launcher, not to init, so it is still counted (``cpu_seconds``), and once
  the kernel exits the launcher kills every process left before it exits itself.

jupyter_client already starts the launcher in a session of its own, so the launcher, the kernel
and every process they start share one process group, killed as a whole at the end. A process
that leaves the group (``setsid``) is still the launcher's descendant (``end_descendants``), and
still carries the environment variable ``BACKPROPLAB_GRADING=<token>`` (``kill_tagged``).
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


def _stat(pid: int) -> list[bytes]:
    """The fields of Linux's ``/proc/<pid>/stat`` from the third on (after the name)."""
    with open(f"/proc/{pid}/stat", "rb") as file:
        stat = file.read()
    return stat[stat.rindex(b")") + 2 :].split()  # the name, "(python3)", may hold anything


def kernel_pid(launcher: int | None) -> int | None:
    """The kernel's process id: the launcher's only child (None if not found, or no ``/proc``)."""
    children = []
    try:
        for entry in os.scandir("/proc"):
            try:
                if entry.name.isdigit() and int(_stat(int(entry.name))[1]) == launcher:
                    children.append(int(entry.name))
            except (OSError, ValueError, IndexError):  # it exited while we looked
                continue
    except OSError:
        return None
    return children[0] if launcher and len(children) == 1 else None


def _children(pid: int) -> list[int]:
    """The running processes that ``pid``'s threads started (none if it cannot be read)."""
    children = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for task in tasks:
        try:
            children += [
                int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_bytes().split()
            ]
        except (OSError, ValueError):  # the thread ended while we looked
            continue
    return children


def cpu_seconds(pid: int) -> float | None:
    """The CPU time (user + system, every thread) that process ``pid`` and the processes it
    started and that are still running (its descendants) have used, with that of the children
    each of them waited for; None once ``pid`` is gone. Read from the launcher, it counts the
    orphans of the kernel's processes too (re-parented to it, see the module doc). Not counted:
    the children of a process that has them reaped without waiting (``SIGCHLD`` ignored,
    ``SA_NOCLDWAIT``) once they exit: Linux adds their time to no one. The wall-clock cap of a
    cell bounds what that gains (_kernel.py)."""
    ticks, processes = 0, [pid]
    while processes:
        process = processes.pop()
        try:
            ticks += sum(int(f) for f in _stat(process)[11:15])  # utime, stime, cutime, cstime
        except (OSError, ValueError, IndexError):  # gone: its time is its parent's now, if reaped
            if process == pid:
                return None
            continue
        processes += _children(process)
    return ticks / _TICK


def _descendants(pid: int) -> list[int]:
    """The processes ``pid`` started and that have not exited (zombies left out), its own
    children's descendants too."""
    found, processes = [], _children(pid)
    while processes:
        process = processes.pop()
        try:
            if _stat(process)[0] in (b"Z", b"X"):  # exited, not yet waited for
                continue
        except (OSError, ValueError, IndexError):
            continue
        found.append(process)
        processes += _children(process)
    return found


def end_descendants(launcher: int | None, rounds: int = 20) -> None:
    """SIGKILL every descendant of the launcher (the kernel, the processes it started, orphans
    re-parented to the launcher), again while any is left: a process whose parent is killed is
    re-parented to the launcher, alive or stopped, so it is found the next time round."""
    if not launcher:
        return
    for _ in range(rounds):
        processes = _descendants(launcher)
        if not processes:
            return
        for pid in processes:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
        time.sleep(0.02)


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
