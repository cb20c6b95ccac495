"""A name a notebook's cell needs but the kernel does not have: which cell to run first.

A learner runs a check before its exercise, or restarts the kernel and goes on from the middle
of the notebook. Python then says ``NameError: name 'topo_order' is not defined``, true but
silent about the cause: the cell that defines it has not run (since the restart). In IPython
(JupyterLab), importing the self-checks adds one line to that error saying so; outside IPython
nothing changes.
"""

from __future__ import annotations

from typing import Any


def name_hint(name: str) -> str:
    """The line added under a NameError for ``name``."""
    return (
        f"`{name}` is not defined yet: if a cell above defines it, run that cell first (after a "
        "restart of the kernel, run the cells above this one again: Run > Run All Above "
        "Selected Cell)."
    )


def _with_hint(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None):
    """Show IPython's usual traceback of a NameError, with the hint as its last line (a note,
    which IPython prints under the error), when the name was looked up in the notebook's own
    names (a cell, a function of one): one missing from a module (mygrad.py's ``np`` never
    imported) is no cell's to define."""
    name = getattr(value, "name", None)
    last = tb
    while last is not None and last.tb_next is not None:
        last = last.tb_next
    in_notebook = last is not None and last.tb_frame.f_globals is shell.user_global_ns
    if (
        in_notebook
        and isinstance(name, str)
        and name_hint(name) not in getattr(value, "__notes__", [])
    ):
        value.add_note(name_hint(name))
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def install_name_hint() -> None:
    """Add the hint to NameErrors in the running IPython kernel, if there is one and no other
    handler of errors is installed there."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return
    shell = get_ipython()
    if shell is None or shell.custom_exceptions not in ((), (NameError,)):
        return
    shell.set_custom_exc((NameError,), _with_hint)
