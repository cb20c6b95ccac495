"""Your workbook: your own copy of the notebooks, every exercise blank, opened in JupyterLab::

    python -m backproplab.workbook              # makes workbook/ (beside notebooks/) the first
                                                # time, then opens it
    python -m backproplab.workbook my-copy/     # the same, in another folder
    python -m backproplab.workbook --no-lab     # make or complete it; do not open JupyterLab
    python -m backproplab.workbook --no-browser # other options go to JupyterLab

``notebooks/`` holds the solved notebooks: every exercise answered, every self-check "correct"
(the teacher's version, which the tests run and the site shows). The workbook is the student
version of them (``classroom.release``): each exercise is a stub for you to replace, and
``mygrad.py``, the engine you grow, has every piece a stub. Unlike a class's release it keeps the
worked answer that follows an exercise's check: read it once your answer passes.

Run it again at any time. A file already in the workbook is never changed (it is your work); a
file that ``notebooks/`` has and the workbook lacks (a new notebook after a ``git pull``, a
notebook you deleted to start it again) is added as the student version.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["WorkbookError", "main", "make_workbook"]

# the clone this package was installed from (pip install -e .): its notebooks/ folder
_CLONE_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


class WorkbookError(ValueError):
    """The workbook cannot be made where it was asked for."""


def make_workbook(source: str | Path, target: str | Path) -> list[Path]:
    """Write into ``target`` the student version of every file of ``source`` that ``target``
    does not have yet (all of them the first time); returns the files added, sorted.
    Nothing already in ``target`` is changed."""
    from .classroom.release import ReleaseError, release  # nbformat: the dev extra

    source, target = Path(source), Path(target)
    if not any(source.glob("*.ipynb")):
        raise WorkbookError(
            f"workbook: {source} holds no notebooks: run this in your clone of backproplab, or "
            f"name the solved notebooks' folder with --source"
        )
    if target.resolve() == source.resolve() or source.resolve() in target.resolve().parents:
        raise WorkbookError(
            f"workbook: put the workbook outside {source} (that folder holds the solved "
            f"notebooks, and the tests run every notebook in it)"
        )
    if target.exists() and not target.is_dir():
        raise WorkbookError(f"workbook: {target} is a file, not a folder")
    if target.is_dir() and any(target.iterdir()) and not any(target.glob("*.ipynb")):
        raise WorkbookError(
            f"workbook: {target} already holds files but no notebooks: name another folder"
        )
    added = []
    with tempfile.TemporaryDirectory() as scratch:
        try:
            release(source, scratch, keep_answers=True)
        except ReleaseError as error:
            raise WorkbookError(f"workbook: {error}") from None
        for path in sorted(Path(scratch).rglob("*")):
            destination = target / path.relative_to(scratch)
            if path.is_file() and not destination.exists():
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
                added.append(destination)
    return added


def _default_source() -> Path:
    """``notebooks/`` in the working folder, else the one of the clone the package came from."""
    here = Path("notebooks")
    return here if any(here.glob("*.ipynb")) else _CLONE_NOTEBOOKS


def main(argv: list[str] | None = None) -> int:
    """Make or complete the workbook, then open it in JupyterLab; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m backproplab.workbook",
        description="Make your own copy of the notebooks with every exercise blank (once; files "
        "already there are never changed) and open it in JupyterLab.",
    )
    parser.add_argument(
        "folder", nargs="?", help="where it goes (default: workbook, beside notebooks/)"
    )
    parser.add_argument(
        "--source", type=Path, help="the solved notebooks (default: notebooks/ of this clone)"
    )
    parser.add_argument("--no-lab", action="store_true", help="do not open JupyterLab")
    parser.epilog = "Other options go to JupyterLab (--no-browser, --port 8890, ...)."
    args, lab_options = parser.parse_known_args(argv)
    source = args.source or _default_source()
    target = Path(args.folder) if args.folder else source.parent / "workbook"
    first_time = not any(target.glob("*.ipynb"))
    try:
        added = make_workbook(source, target)
    except WorkbookError as error:
        print(error, file=sys.stderr)
        return 1
    except ModuleNotFoundError as error:  # nbformat, which the dev extra installs
        print(f"workbook: {error.name} is missing: pip install -e '.[dev]'", file=sys.stderr)
        return 1
    notebooks = [path for path in added if path.suffix == ".ipynb"]
    if first_time:
        print(
            f"Made your workbook in {target}/: {len(notebooks)} notebooks with every exercise "
            f"blank, and mygrad.py, your engine, with every piece a stub. The solved notebooks "
            f"stay in {source}/."
        )
    elif added:
        names = ", ".join(str(path.relative_to(target)) for path in added)
        print(f"Added to your workbook {target}/: {names} (nothing already in it was changed).")
    else:
        print(f"Your workbook {target}/ has every notebook; nothing in it was changed.")
    if args.no_lab:
        return 0
    if importlib.util.find_spec("jupyterlab") is None:
        print(f"JupyterLab is not installed (pip install jupyterlab); {target}/ is ready")
        return 1
    return subprocess.call([sys.executable, "-m", "jupyterlab", str(target), *lab_options])


if __name__ == "__main__":
    sys.exit(main())
