"""The kernel launcher of _sandbox.py, run as a script: memory limit, fork, wait, clean up.

``python _launcher.py --memory MB --token T --parent PID -- <kernel command>``: see _sandbox.py.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys

TOKEN_VARIABLE = "BACKPROPLAB_GRADING"


def die_with_parent(parent: int) -> None:
    """Be killed when ``parent`` exits (Linux): a grader killed mid-class leaves no kernel."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it exited before the line above
        os._exit(1)


def become_subreaper() -> None:
    """Be the parent of every orphan of the kernel's processes (Linux's
    ``PR_SET_CHILD_SUBREAPER``): a process whose parent exits (a double fork, a daemon) is
    re-parented here, not to init, so it stays among the kernel's processes, whose CPU time the
    grader counts (_sandbox.cpu_seconds) and which end with the kernel (``reap``)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER


def _children() -> list[int]:
    try:
        with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children", "rb") as file:
            return [int(pid) for pid in file.read().split()]
    except (OSError, ValueError):
        return []


def reap(kernel: int) -> int:
    """Wait for ``kernel``, reaping the orphans re-parented here meanwhile (their CPU time joins
    this process's children's); then kill every process left, orphaned again as its parent dies,
    until none is: the kernel's status."""
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == kernel:
            break
    while True:
        for pid in _children():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return status


def main(argv: list[str] | None = None) -> int:
    """Limit the memory, start the kernel as a child, wait for it; its exit status."""
    parser = argparse.ArgumentParser(prog="_launcher.py")
    parser.add_argument("--memory", type=int, required=True, help="address space limit, MB")
    parser.add_argument("--token", required=True)
    parser.add_argument("--parent", type=int, required=True, help="the grader's process id")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    die_with_parent(args.parent)
    become_subreaper()
    limit = args.memory * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ[TOKEN_VARIABLE] = args.token
    launcher = os.getpid()
    child = os.fork()
    if child == 0:
        try:
            die_with_parent(launcher)  # and the kernel dies with the launcher
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader's interrupts are for the kernel
    signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGKILL))
    status = reap(child)
    return os.waitstatus_to_exitcode(status) & 0xFF


if __name__ == "__main__":
    sys.exit(main())
