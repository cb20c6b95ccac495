"""Your workbook: your own copy of the notebooks, every exercise blank, opened in JupyterLab::

    python -m backproplab.workbook              # makes workbook/ (beside notebooks/ in a clone,
                                                # else here) the first time, later brings it up
                                                # to date; opens it
    python -m backproplab.workbook my-copy/     # the same, in another folder
    python -m backproplab.workbook --no-lab     # make or update it; do not open JupyterLab
    python -m backproplab.workbook --no-browser # other options go to JupyterLab (--port=8890)

``notebooks/`` holds the solved notebooks: every exercise answered, every self-check "correct"
(the teacher's version, which the tests run and the site shows). The workbook is the student
version of them (``classroom.release``): each exercise is a stub for you to replace, and
``mygrad.py``, the engine you grow, has every piece a stub. Unlike a class's release it keeps the
worked answer that follows an exercise's check, closed: open it once your answer passes.

Run it again at any time, after a ``git pull`` too (or after your teacher upgrades the package):
it brings the workbook up to date with ``notebooks/`` and says so in one line per file it writes
or removes. Then it says how far you got, from the verdicts your self-checks showed when each
notebook was last saved::

    Your exercises, as last saved: 01 5/5 ✔ · 02 1/5 · 03-14 not started.
    Next: 02_chain_rule.ipynb, partials (its check says not yet).

The rule for bringing it up to date, file by file (``mygrad.py`` as well as the notebooks):

* a file the workbook lacks (a new notebook, one you deleted to start it again) is added;
* a file you have not changed since the workbook wrote it becomes the new version: a notebook
  whose cells, their sources, tags and pasted images are as written (running it, which
  JupyterLab then saves, changes only its outputs, and may add an empty cell at the end), another
  file byte for byte, line endings aside (a Windows editor or git's ``autocrlf`` may have saved
  it with CRLF);
* a file you have changed is never touched: when ``notebooks/`` has changed it since the
  workbook last gave it to you, the new version is written beside yours as ``NAME.new.ipynb``
  (``mygrad.new.py``: not importable, so ``import mygrad`` still finds yours), which JupyterLab
  lists next to your copy. A later pull replaces it (never a second ``.new`` file); each run
  names it again while it waits; deleted, it comes back only with a newer version. To work in
  the new version instead, delete or rename your copy and run this again: the new version takes
  its place and the ``.new`` file goes. A ``.new`` file you have changed is yours too: it is
  never touched, and a newer version than it holds is not written until you rename it;
* a file that ``notebooks/`` no longer has is left alone.

What the workbook wrote is recorded in ``.workbook.json`` in it (hidden; a fingerprint of each file
as written). A workbook made before that record existed (or whose record was deleted) is judged
against the new version alone: a file identical to it is up to date, and any other file counts as
yours (it is kept, and the new version goes beside it). Running again without a change in
``notebooks/`` writes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from ._console import tolerant_output
from ._lab import MANIFEST, default_source, default_target, open_in_lab, option_value_taken

__all__ = ["MANIFEST", "Change", "WorkbookError", "main", "make_workbook", "new_version_path"]

_ABOUT = (
    "What python -m backproplab.workbook wrote into this folder: a fingerprint of each file as "
    "written (a notebook's cells, their sources, tags and pasted images, outputs aside; another "
    "file's sha256, CRLF read as LF). A file that still matches is replaced by its new version "
    "after a git pull; any other file is yours and never touched."
)
WRITES = ("added", "updated", "beside", "removed")  # the actions that write or remove a file


class WorkbookError(ValueError):
    """The workbook cannot be made where it was asked for."""


class Change(NamedTuple):
    """What a run did to one file of the workbook, or (``waiting``, ``blocked``) did not do.

    ``action`` is ``added``, ``updated`` (you had not changed it), ``beside`` (you had: ``path``
    is the new version written beside ``yours``), ``removed`` (``path``, a ``.new`` file, is what
    ``yours`` now holds), ``waiting`` (``path`` is a ``.new`` file an earlier run wrote beside
    ``yours``, still the newest version) or ``blocked`` (``path``, a ``.new`` file you have changed,
    stays as it is, so the newest version of ``yours`` is not written)."""

    action: str
    path: Path
    yours: Path | None = None


def new_version_path(path: Path) -> Path:
    """Where the new version of a file the learner changed goes: ``05_x.new.ipynb`` beside
    ``05_x.ipynb``, ``mygrad.new.py`` beside ``mygrad.py``."""
    return path.with_name(f"{path.stem}.new{path.suffix}")


def _sha256(path: Path) -> str:
    """The sha256 of ``path``'s bytes, each CRLF read as LF unless it is binary (a NUL byte in
    its first 8000, git's test): a copy that a Windows editor or git's ``autocrlf`` saved with
    CRLF is the file the workbook wrote, not one the learner changed (it was never updated)."""
    data = path.read_bytes()
    if b"\0" not in data[:8000]:
        data = data.replace(b"\r\n", b"\n")
    return hashlib.sha256(data).hexdigest()


def _fingerprint(path: Path) -> str:
    """What tells whether the learner changed a file: for a notebook, its cells' kinds, sources
    (CRLF read as LF), pasted images and tags, empty cells left out (running it, which
    JupyterLab then saves, changes outputs, counts and other metadata, and Shift+Enter on the
    last cell adds an empty one: no work of the learner's); for another file, or a notebook that
    cannot be read, ``_sha256``."""
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(path.read_text(encoding="utf-8-sig"))["cells"]
            kept = [
                [c["cell_type"], source, c.get("attachments"), c["metadata"].get("tags")]
                for c in cells
                for source in ["".join(c["source"]).replace("\r\n", "\n")]
                if source.strip() or c.get("attachments") or c["metadata"].get("tags")
            ]
            text = json.dumps(kept, sort_keys=True)
        except (ValueError, KeyError, TypeError, AttributeError):
            return _sha256(path)
        return "cells " + hashlib.sha256(text.encode("utf-8")).hexdigest()
    return _sha256(path)


class _Record:
    """``MANIFEST``: ``written``, the fingerprint of each file as the workbook wrote it (a
    notebook, ``mygrad.py``, a ``.new`` file); ``offered``, that of the newest version the
    workbook has given the learner of each file, into it or beside it (so a ``.new`` file the
    learner deleted comes back only with a newer version). A record written before notebooks
    were fingerprinted by their sources holds sha256s of whole files: those still count."""

    def __init__(self, target: Path):
        self.target = target
        self.written: dict[str, str] = {}
        self.offered: dict[str, str] = {}
        try:
            stored = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
            written = {str(k): str(v) for k, v in stored["written"].items()}
            offered = {str(k): str(v) for k, v in stored["offered"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # none, or unreadable
            return
        self.written, self.offered = written, offered

    def key(self, path: Path) -> str:
        return path.relative_to(self.target).as_posix()

    def ours(self, path: Path) -> bool:
        """The workbook wrote ``path`` and the learner has not changed it since."""
        recorded = self.written.get(self.key(path))
        return path.is_file() and recorded in (_fingerprint(path), _sha256(path))

    def put(self, new: Path, destination: Path) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        # its bytes, not its mode: a file read-only where the package is installed (a read-only
        # store, a umask of 077 at install time) must not make a workbook the learner cannot save
        shutil.copyfile(new, destination)
        self.written[self.key(destination)] = _fingerprint(destination)

    def save(self) -> None:
        text = json.dumps(
            {"about": _ABOUT, "written": self.written, "offered": self.offered},
            indent=1,
            sort_keys=True,
        )
        path = self.target / MANIFEST
        if not path.is_file() or path.read_text(encoding="utf-8") != text + "\n":
            path.write_text(text + "\n", encoding="utf-8")


def _update(new: Path, mine: Path, record: _Record) -> list[Change]:
    """Bring ``mine`` up to date with its new version ``new``, by the module docstring's rule."""
    beside, version = new_version_path(mine), _fingerprint(new)
    changes = []
    if mine.is_file() and _fingerprint(mine) == version:  # up to date (also without a record)
        record.written[record.key(mine)] = version
    elif not mine.exists() or record.ours(mine):
        changes.append(Change("updated" if mine.exists() else "added", mine))
        record.put(new, mine)
    elif (
        beside.is_file() and _fingerprint(beside) == version
    ):  # written beside it by an earlier run
        record.written[record.key(beside)] = version
        changes.append(Change("waiting", beside, mine))
    elif record.offered.get(record.key(mine)) in (version, _sha256(new)):  # offered already
        return changes  # (an older record: a sha256): the .new file is gone or the learner's
    elif not beside.exists() or record.ours(beside):  # yours: the new version goes beside it
        changes.append(Change("beside", beside, mine))
        record.put(new, beside)
    else:
        return [Change("blocked", beside, mine)]  # not offered yet: said again next time
    record.offered[record.key(mine)] = version
    if mine.is_file() and _fingerprint(mine) == version and record.ours(beside):
        beside.unlink()  # you took the new version: the .new file has done its work
        del record.written[record.key(beside)]
        changes.append(Change("removed", beside, mine))
    return changes


def _check_folders(source: Path, target: Path) -> None:
    if not any(source.glob("*.ipynb")):
        raise WorkbookError(
            f"workbook: {source} holds no notebooks: run this in your clone of backproplab, or "
            f"name the solved notebooks' folder with --source"
        )
    if (source / MANIFEST).exists():
        raise WorkbookError(
            f"workbook: {source} is a workbook, not the solved notebooks: name their folder "
            f"with --source, or leave it out to use the installed package's"
        )
    if target.resolve() == source.resolve() or source.resolve() in target.resolve().parents:
        raise WorkbookError(
            f"workbook: put the workbook outside {source} (that folder holds the solved "
            f"notebooks, and the tests run every notebook in it)"
        )
    if target.exists() and not target.is_dir():
        raise WorkbookError(f"workbook: {target} is a file, not a folder")
    workbook = any(target.glob("*.ipynb")) or (target / MANIFEST).is_file()  # (every notebook
    if target.is_dir() and any(target.iterdir()) and not workbook:  # deleted, to start again)
        raise WorkbookError(
            f"workbook: {target} already holds files but no notebooks: name another folder"
        )


def make_workbook(source: str | Path, target: str | Path) -> list[Change]:
    """Make ``target`` the student version of ``source`` (all of it the first time), or bring it
    up to date by the rule of the module's docstring; returns what it did, file by file, in the
    order of the files. A file the learner has changed is never written to or removed."""
    import nbformat  # the dev extra, as the release's

    from ._closed_answers import close_worked_answers
    from .classroom.release import ReleaseError, release

    source, target = Path(source), Path(target)
    _check_folders(source, target)
    record = _Record(target)
    changes: list[Change] = []
    with tempfile.TemporaryDirectory() as scratch:
        try:
            release(source, scratch, keep_answers=True)
        except ReleaseError as error:
            raise WorkbookError(f"workbook: {error}") from None
        for path in Path(scratch).rglob("*.ipynb"):  # the worked answers closed, until opened
            nbformat.write(close_worked_answers(nbformat.read(path, as_version=4)), path)
        try:
            for new in sorted(path for path in Path(scratch).rglob("*") if path.is_file()):
                changes += _update(new, target / new.relative_to(scratch), record)
            record.save()
        except OSError as error:  # a read-only folder or file, a full disk: say what was done
            done = [_say(change, target) for change in changes if change.action in WRITES]
            with contextlib.suppress(OSError):
                record.save()
            where = f" ({error.filename})" if error.filename else ""
            raise WorkbookError(
                f"workbook: cannot write in {target}/: {error.strerror or error}{where}. No "
                f"file you have changed was touched; "
                + ("written before that:\n" + "\n".join(done) if done else "nothing was written")
            ) from None
    return changes


_LINES = {  # what a run says about one file: {name} is the file, {yours} the learner's copy
    "added": "  added     {name}",
    "updated": "  updated   {name}: you had not changed it, so it is now the new version",
    "beside": "  new       {name}: the new version; your {yours}, which you have changed, is kept "
    "as it is",
    "removed": "  removed   {name}: your {yours} is now that version",
    "blocked": "  kept      {name}: you have changed it, so the newest version of {yours} is not "
    "written: rename {name} to keep your work, then run this again",
}
_HOW = (
    "To work in a new version, delete or rename your copy and run this again: the new version "
    "takes its place. A file you have changed is never overwritten."
)


def _say(change: Change, target: Path) -> str:
    yours = change.yours.relative_to(target) if change.yours else ""
    return _LINES[change.action].format(name=change.path.relative_to(target), yours=yours)


def _report(changes: list[Change], source: Path, target: Path, first_time: bool, old: bool) -> str:
    """What the command prints after ``make_workbook`` (``old``: a workbook made before
    ``MANIFEST`` existed)."""
    done = [change for change in changes if change.action in WRITES]
    waiting = [change.path.relative_to(target) for change in changes if change.action == "waiting"]
    blocked = [change for change in changes if change.action == "blocked"]
    if first_time:
        count = sum(change.path.suffix == ".ipynb" for change in done)
        return (
            f"Made your workbook in {target}/: {count} notebooks with every exercise blank, and "
            f"mygrad.py, your engine, with every piece a stub. The solved notebooks stay in "
            f"{source}/. They answer every exercise: work in {target}/."
        )
    lines = []
    if old and any(change.action == "beside" for change in done):
        lines.append(
            "Your workbook was made by an earlier version of this command, which kept no record "
            "of what it wrote: every file that differs from the new version counts as yours."
        )
    if done:
        lines.append(f"Brought your workbook {target}/ up to date with {source}/:")
    else:
        lines.append(f"Your workbook {target}/ has every notebook; nothing in it was changed.")
    lines += [_say(change, target) for change in done + blocked]
    if waiting:
        names = ", ".join(str(name) for name in waiting)
        lines.append(f"New versions of files you have changed wait beside them: {names}.")
    if waiting or blocked or any(change.action == "beside" for change in done):
        lines.append(_HOW)
    return "\n".join(lines)


def progress(target: str | Path) -> str:
    """Two lines on the learner's exercises in the workbook ``target``, read from the verdicts
    its check cells show as the notebooks were last saved: how many each notebook has correct
    (notebooks not started grouped: "05-14 not started"), and the first exercise that is not
    correct yet. Of several copies of a notebook ("02_chain_rule-Copy1.ipynb") the one furthest
    on counts. "" for a folder without checks."""
    runs: list[list[str]] = []  # [first notebook, last notebook, what they show]
    upcoming = ""
    for path, checks in _furthest_copies(Path(target)):
        if checks is None:
            shown = "unreadable"
        else:
            right = sum(status == "correct" for _, status in checks)
            shown = f"{right}/{len(checks)}" + (" ✔" if right == len(checks) else "")
            if all(status == "not run" for _, status in checks):
                shown = "not started"
        number = path.name[:2]  # two digits (the glob); a run holds notebooks in a row only
        if runs and shown == runs[-1][2] == "not started" and int(number) == int(runs[-1][1]) + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number, shown])
        for exercise, status in checks or []:
            if status != "correct" and not upcoming:
                what = "your engine (mygrad.py)" if exercise == "mygrad" else exercise
                upcoming = f"Next: {path.name}, {what} ({_STATES[status]})."
    if not runs:
        return ""
    counts = " · ".join(f"{a}-{b} {shown}" if a != b else f"{a} {shown}" for a, b, shown in runs)
    if not upcoming and all(shown != "unreadable" for _, _, shown in runs):
        upcoming = _first_uncounted_open(Path(target)) or "Every check says correct."
    return f"Your exercises, as last saved: {counts}." + (f"\n{upcoming}" if upcoming else "")


def _furthest_copies(target: Path) -> list[tuple[Path, list[tuple[str, str]] | None]]:
    """(notebook, its checks' verdicts or None if unreadable) of each numbered notebook of
    ``target`` that has checks, in order; of several copies of one number, the one with the
    most checks correct (the shortest name of equals: the workbook's own, not its "-Copy1")."""
    found: dict[str, tuple[Path, list[tuple[str, str]] | None]] = {}
    for path in sorted(target.glob("[0-9][0-9]_*.ipynb"), key=lambda p: (len(p.name), p.name)):
        if path.name.endswith(".new.ipynb"):
            continue
        checks = _verdicts(path)
        if checks == []:
            continue
        right = sum(status == "correct" for _, status in checks or [])
        kept = found.get(path.name[:2])
        if kept is None or right > sum(status == "correct" for _, status in kept[1] or []):
            found[path.name[:2]] = (path, checks)
    return [found[number] for number in sorted(found)]


def _verdicts(path: Path) -> list[tuple[str, str]] | None:
    """(exercise, verdict) of each check of the notebook at ``path`` ("nb03-fan_out-check" ->
    fan_out), one per check even if its cell was pasted twice (a copy that ran, or says
    correct, counts); None if the file cannot be read as a notebook."""
    from .classroom.grading import feedback_status  # nbformat: the dev extra

    try:
        verdicts: dict[str, str] = {}
        for grade_id, outputs in _check_cells(
            json.loads(path.read_text(encoding="utf-8"))["cells"]
        ):
            status = feedback_status(outputs)[0]
            if verdicts.get(grade_id, "not run") == "not run" or status == "correct":
                verdicts[grade_id] = status
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None  # (RecursionError: JSON nested thousands deep)
    return [(g.removesuffix("-check").partition("-")[2], s) for g, s in verdicts.items()]


_BARE_CHECK = re.compile(r"nb\d\d\.check_\w+\((\w+)\)")  # nb13.check_x(fold_batch_norm)


def _first_uncounted_open(target: Path) -> str:
    """The "Next: ..." line for the first self-check that the counts leave out (a check cell
    without a grade id: some challenges, an optional exercise) and that does not say correct,
    or "" if none: "Every check says correct." must not stand above one that says not yet."""
    from .classroom.grading import feedback_status  # nbformat: the dev extra

    for path, _ in _furthest_copies(target):
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            for cell in cells:
                source = "".join(cell.get("source", ""))
                graded = str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))
                bare = _BARE_CHECK.fullmatch(source.strip())
                if cell.get("cell_type") != "code" or graded.endswith("-check") or not bare:
                    continue
                status = feedback_status(cell.get("outputs", []))[0]
                if status != "correct":
                    state = _STATES[status]
                    return f"Next: {path.name}, {bare.group(1)} ({state}; not counted above)."
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            continue  # (read once already: a notebook unreadable now is not this line's to say)
    return ""


def _check_cells(cells: list) -> list[tuple[str, list]]:
    """(grade_id, outputs) of each self-check cell of a notebook's ``cells``, in order."""
    found = []
    for cell in cells:
        grade_id = str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))
        if grade_id.endswith("-check"):
            found.append((grade_id, cell.get("outputs", [])))
    return found


_STATES = {  # a check's verdict, as the saved notebook shows it
    "not run": "its check has not run yet",
    "not done": "not done yet",
    "hint": "its check says not yet",
    "error": "its check raised an error",
}


def main(argv: list[str] | None = None) -> int:
    """Make the workbook or bring it up to date, then open it in JupyterLab; returns the exit
    status."""
    tolerant_output()  # a folder's name the terminal cannot show is an escape, not a traceback
    parser = argparse.ArgumentParser(
        prog="python -m backproplab.workbook",
        description="Make your own copy of the notebooks with every exercise blank, or bring it "
        "up to date (a file you have changed is never overwritten), and open it in JupyterLab.",
    )
    parser.add_argument(
        "folder", nargs="?", help="where it goes (default: workbook, beside a clone's notebooks/)"
    )
    parser.add_argument(
        "--source",
        type=Path,
        help="the solved notebooks (default: this clone's, or the installed package's)",
    )
    parser.add_argument("--no-lab", action="store_true", help="do not open JupyterLab")
    parser.epilog = "Other options go to JupyterLab (--no-browser, --port=8890, ...)."
    args, lab_options = parser.parse_known_args(argv)
    option = option_value_taken(sys.argv[1:] if argv is None else argv, args.folder)
    if option:  # "--port 8890": 8890 is not the workbook's folder
        print(
            f"workbook: is {args.folder} the workbook's folder or the value of {option}? Put the "
            f"folder first, or write {option}={args.folder}",
            file=sys.stderr,
        )
        return 1
    source = args.source or default_source()
    target = Path(args.folder) if args.folder else default_target(source)
    first_time = not any(target.glob("*.ipynb")) and not (target / MANIFEST).exists()
    old = not first_time and not (target / MANIFEST).exists()
    try:
        changes = make_workbook(source, target)
    except WorkbookError as error:
        print(error, file=sys.stderr)
        return 1
    except ModuleNotFoundError as error:  # nbformat, which the dev extra installs
        print(
            f"workbook: {error.name} is missing: pip install -e '.[dev]' in your clone (a shared "
            f"installation: pip install 'backproplab[classroom]')",
            file=sys.stderr,
        )
        return 1
    print(_report(changes, source, target, first_time, old))
    said = "" if first_time else progress(target)  # (it reads every notebook)
    if said:
        print(said)
    return 0 if args.no_lab else open_in_lab(target, lab_options)


if __name__ == "__main__":
    sys.exit(main())
