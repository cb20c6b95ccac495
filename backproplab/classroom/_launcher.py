"""The kernel launcher of _sandbox.py, run as a script: memory limit, fork, wait.

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
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status) & 0xFF


if __name__ == "__main__":
    sys.exit(main())
