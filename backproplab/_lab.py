"""Where the workbook comes from and how it opens, on a machine that is not the learner's own.

Installed from a wheel (``pip install /path/to/clone``, as a shared JupyterHub has it), the
package holds the solved notebooks and ``mygrad.py`` in ``backproplab/notebooks/`` (see
pyproject.toml), a folder the learner cannot, and should not, write in: the workbook then goes
into the working folder. Two more set-ups the workbook command meets there:

* a terminal of JupyterLab itself (a shared JupyterHub: the learner types the README's line in
  the JupyterLab the hub started): a second JupyterLab would start inside it, on a port the
  learner's browser cannot reach. ``running_jupyterlab`` says so, and the command points to the
  file browser instead;
* a home folder the learner cannot write to (a read-only home, HOME set to a folder of someone
  else's): JupyterLab does not start at all (its runtime folder is under it), IPython warns in
  every kernel and matplotlib prints a warning into the first plotting cell of every notebook,
  and builds its font cache again each time. ``lab_environment`` gives JupyterLab, and so its
  kernels, folders in the workbook instead, for the places that cannot be written only.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "SETTINGS",
    "default_source",
    "default_target",
    "lab_environment",
    "open_in_lab",
    "option_value_taken",
    "running_jupyterlab",
]

# the clone this package was installed from (pip install -e .): its notebooks/ folder
_CLONE_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# the same notebooks and mygrad.py inside an installed wheel (pip install /path/to/clone, as a
# shared JupyterHub has it): pyproject.toml puts them there
_PACKAGED_NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"

SETTINGS = ".settings"  # in the workbook: what JupyterLab and its kernels cannot keep at home
MANIFEST = ".workbook.json"  # in the workbook: what it wrote, file by file (workbook.py's)


def default_source() -> Path:
    """``notebooks/`` in the working folder if it is the curriculum's (it holds ``mygrad.py``: a
    learner's own ``notebooks/`` in their home is not, nor a workbook the learner named
    ``notebooks``), else the notebooks installed with the package (from a wheel), else those of
    the clone the package was installed from."""
    here = Path("notebooks")
    if (here / "mygrad.py").is_file() and any(here.glob("*.ipynb")):
        if not (here / MANIFEST).exists():
            return here
    return _PACKAGED_NOTEBOOKS if _PACKAGED_NOTEBOOKS.is_dir() else _CLONE_NOTEBOOKS


def default_target(source: Path) -> Path:
    """``workbook/`` beside a clone's ``notebooks/``, or in the working folder when the notebooks
    are the installed package's (a folder that is not the learner's, often read-only) or the
    learner cannot write beside them (a clone installed for everyone); the working folder itself
    when it is a workbook (run from inside it, it made a second workbook in it)."""
    if Path(MANIFEST).is_file():
        return Path(".")
    if source.resolve() == _PACKAGED_NOTEBOOKS or not os.access(source.parent, os.W_OK):
        return Path("workbook")
    return source.parent / "workbook"


def running_jupyterlab(environ: Mapping[str, str]) -> tuple[str, Path] | None:
    """(its address, the folder its file browser shows) of the JupyterLab whose terminal runs this
    command (jupyter_server_terminals sets both variables in a terminal's environment), or None."""
    url, root = environ.get("JUPYTER_SERVER_URL"), environ.get("JUPYTER_SERVER_ROOT")
    return (url, Path(root)) if url and root else None


def _can_write(folder: Path) -> bool:
    """Whether ``folder`` is, or can be made as, a folder this user may write in: its nearest
    existing ancestor must be a folder we may write in (a file there, or no permission, and the
    library that wants it warns or fails)."""
    for path in (folder, *folder.parents):
        if path.exists():
            return path.is_dir() and os.access(path, os.W_OK | os.X_OK)
    return False


def _places(environ: Mapping[str, str]) -> dict[str, list[Path]]:
    """Each variable that moves a folder JupyterLab or a kernel writes in, and where that folder
    is while it is unset (Linux's defaults; elsewhere all of them are in the home folder too)."""
    home = Path(os.path.expanduser("~"))  # HOME, else the user's entry in the password file

    def xdg(name: str, default: str) -> Path:
        return Path(environ.get(name) or home / default)

    return {
        "JUPYTER_CONFIG_DIR": [home / ".jupyter"],  # JupyterLab's settings and workspaces
        "JUPYTER_DATA_DIR": [xdg("XDG_DATA_HOME", ".local/share") / "jupyter"],  # runtime: in it
        "IPYTHONDIR": [home / ".ipython"],
        "MPLCONFIGDIR": [  # matplotlib's settings, and its font cache
            xdg("XDG_CONFIG_HOME", ".config") / "matplotlib",
            xdg("XDG_CACHE_HOME", ".cache") / "matplotlib",
        ],
    }


def lab_environment(target: Path, environ: Mapping[str, str]) -> tuple[dict[str, str] | None, str]:
    """(the environment to start JupyterLab with, a line saying what it changed), or (None, "")
    when every folder JupyterLab, IPython and matplotlib write in can be written (or is set by
    a variable already). Each variable that is unset and whose folder cannot be written is
    pointed at a folder of ``SETTINGS`` in the workbook ``target``, made here."""
    moved, blocked = {}, []
    for name, folders in _places(environ).items():
        unwritable = [str(folder) for folder in folders if not _can_write(folder)]
        if name not in environ and unwritable:
            folder = (target / SETTINGS / name.lower()).resolve()
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError:
                continue  # (the workbook is writable: it was just written)
            moved[name] = str(folder)
            blocked += unwritable
    if not moved:
        return None, ""
    said = (
        f"Cannot write in {', '.join(blocked)}: JupyterLab and its kernels keep those settings and "
        f"caches in {target}/{SETTINGS}/ instead ({', '.join(sorted(moved))})."
    )
    return {**environ, **moved}, said


def option_value_taken(argv: list[str], folder: str | None) -> str:
    """The JupyterLab option whose value argparse took for the workbook's folder ("--port 8890"
    made a workbook named 8890), or "": a value written after a space cannot be told from the
    folder, so the command asks for "--port=8890" instead of guessing."""
    if folder is None or folder not in argv:
        return ""
    before = argv[argv.index(folder) - 1] if argv.index(folder) else ""
    ours = before in ("--source", "--no-lab") or not before.startswith("-")
    return "" if ours or "=" in before or before.lstrip("-") in _LAB_FLAGS else before


# JupyterLab's options that take no value (LabApp.flags of JupyterLab 4): "--no-browser wb" is
# the flag and the folder ("write --no-browser=wb", the command said)
_LAB_FLAGS = frozenset(
    "allow-root autoreload collaborative core-mode custom-css debug dev-mode "
    "expose-app-in-browser extensions-in-dev-mode generate-config no-browser no-script script "
    "show-config show-config-json skip-dev-build splice-source watch y".split()
)


def open_in_lab(target: Path, lab_options: list[str]) -> int:
    """Open the workbook ``target`` in JupyterLab (``lab_options`` are its options); says instead
    how to open it in the JupyterLab whose terminal runs this, or that JupyterLab is missing.
    Returns the exit status."""
    running = running_jupyterlab(os.environ)
    if running:
        url, root = running
        where = target.resolve()
        if root.resolve() != where and root.resolve() not in where.parents:
            print(
                f"This terminal is JupyterLab's ({url}), whose file browser shows {root}/ only: "
                f"run this command in a folder inside {root}/ to see your workbook there"
            )
            return 1
        shown = where.relative_to(root.resolve()).as_posix()
        print(f"This terminal is JupyterLab's ({url}): open {shown}/ in its file browser.")
        return 0
    if importlib.util.find_spec("jupyterlab") is None:
        print(f"JupyterLab is not installed (pip install jupyterlab); {target}/ is ready")
        return 1
    environment, said = lab_environment(target, os.environ)
    if said:
        print(said)
    return _run([sys.executable, "-m", "jupyterlab", str(target), *lab_options], environment)


def _run(command: list[str], environment: dict[str, str] | None) -> int:
    """Run JupyterLab until it stops; its exit status. Ctrl+C in the terminal reaches JupyterLab
    too, which asks whether to shut down: here it only goes on waiting (``subprocess.call`` would
    end with a traceback and kill JupyterLab, leaving its kernels running)."""
    with subprocess.Popen(command, env=environment) as process:
        while True:
            with contextlib.suppress(KeyboardInterrupt):
                return process.wait()
