"""The grader's staged copy of the class: copied once before any kernel runs, checked before each
student is graded (a kernel runs as the grader's user and can write to it).

The submissions are copied to a private folder first, special files (named pipes...) left out;
each student's staged files are recorded by size and SHA-256. Before a student is graded their
staged copy is compared with that record, sizes first (a sparse file of a terabyte takes no room
on disk and must never be read whole), and copied again from the submissions folder if a kernel
changed it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "CHANGED",
    "compiled_code",
    "copy_writable",
    "digest_of",
    "folder_size",
    "leaving_out",
    "links_out_of",
    "special_files",
    "unchanged",
]


def special_files(directory: str, names: list[str]) -> list[str]:
    """A ``copytree`` filter leaving out what is neither a file, a folder nor a link: copying a
    named pipe (a tar file can hold one) raised, and one student's pipe stopped the class."""
    kinds = (stat.S_ISREG, stat.S_ISDIR, stat.S_ISLNK)
    return [
        n for n in names if not any(k(os.lstat(os.path.join(directory, n)).st_mode) for k in kinds)
    ]


def copy_writable(
    original: Path, copy: Path, ignore: Callable = special_files
) -> list[tuple[str, str]]:
    """Copy a submission (a folder, or one file; links kept as links), every folder and file of
    the copy writable by its owner. ``copytree`` keeps the originals' permissions, and a class
    handed in read-only (``chmod -R a-w``, an archive that keeps them, files of a read-only
    mount) gave a grader that is not root a work folder it could not remove the notebook from:
    "grading failed: PermissionError" and 0 for every such student.

    What of a folder could not be copied (a file the grader's user may not read) is returned as
    (path, reason), the rest copied: one student's unreadable file ended the class's run."""
    left_out: list[tuple[str, str]] = []
    if original.is_dir():
        try:
            shutil.copytree(original, copy, symlinks=True, ignore=ignore)
        except shutil.Error as error:  # (raised once the rest is copied)
            left_out = [(str(path), str(reason)) for path, _, reason in error.args[0]]
    else:
        shutil.copy2(original, copy)
    make_writable(copy)
    return left_out


def make_writable(where: Path) -> None:
    """Give the owner read and write permission on ``where`` and everything in it, and on each
    folder the right to list it too: a folder is opened up before it is listed (a kernel's
    ``chmod 000`` on a folder of another student's staged copy hid what was in it and stopped
    the restore). Links are left alone and never followed, ``where`` itself included (a staged
    folder a kernel replaced by a link to the teacher's folder had the teacher's files made
    writable)."""
    pending = [where]
    while pending:
        path = pending.pop()
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode):
            path.chmod(stat.S_IMODE(mode) | stat.S_IRWXU)
            pending += path.iterdir()
        elif stat.S_ISREG(mode):
            path.chmod(stat.S_IMODE(mode) | stat.S_IRUSR | stat.S_IWUSR)


def _files(where: Path) -> dict[str, Path]:
    """The files of ``where`` (a folder, or one file) by path inside it, links left out."""
    files = [where] if where.is_file() else sorted(where.rglob("*"))
    return {str(p.relative_to(where)): p for p in files if p.is_file() and not p.is_symlink()}


def _sizes(where: Path) -> dict[str, int]:
    return {name: path.stat().st_size for name, path in _files(where).items()}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(2**20):
            digest.update(chunk)
    return digest.hexdigest()


def digest_of(where: Path) -> dict[str, tuple[int, str]]:
    """The size and SHA-256 of each file of ``where`` (a folder, or one file), by path in it."""
    return {name: (path.stat().st_size, _sha256(path)) for name, path in _files(where).items()}


CHANGED = (
    "the submission changed on disk while the class was graded (another submission's kernel "
    "may have written to it): not graded, grade this student again"
)


def _holds(where: Path, digest: dict[str, tuple[int, str]]) -> bool:
    """Whether ``where`` holds the files of ``digest``: the sizes are compared before any file
    is read (a kernel can leave a sparse file of a terabyte, which takes no room, in another
    student's folder: reading it whole took the grader's memory and ended the class's run)."""
    if _sizes(where) != {name: size for name, (size, _) in digest.items()}:
        return False
    return digest_of(where) == digest


def unchanged(staged: Path, original: Path, digest: dict[str, tuple[int, str]]) -> bool:
    """Whether the staged copy of a submission (a folder or one file) still holds what was
    staged, after copying it again from ``original`` if a kernel graded earlier changed it
    (and the original's sizes are still those staged). A staged copy that a kernel removed,
    made unreadable or replaced by a link is copied again too: each left that student "not
    graded" when the grader was not root (and a link was followed: what it led to was made
    writable)."""
    try:
        if not staged.is_symlink() and _holds(staged, digest):
            return True
    except OSError:  # (a file a kernel made unreadable, the copy gone...): copied again below
        pass
    try:
        if _sizes(original) != {name: size for name, (size, _) in digest.items()}:
            return False
        if staged.is_dir() and not staged.is_symlink():
            make_writable(staged)  # a kernel may have taken its permissions away
            shutil.rmtree(staged)
        else:
            staged.unlink(missing_ok=True)  # a file, or a link (never followed)
        staged.parent.mkdir(parents=True, exist_ok=True)
        copy_writable(original, staged)
        return digest_of(staged) == digest
    except OSError:  # the original is gone, or unreadable
        return False


def links_out_of(folder: Path) -> Callable[[str, list[str]], list[str]]:
    """A ``copytree`` filter leaving out the symbolic links that lead out of ``folder`` (to
    another student's ``mygrad.py``...): the kernel gets the student's own files only."""
    root = folder.resolve()

    def ignore(directory: str, names: list[str]) -> list[str]:
        paths = [(name, Path(directory) / name) for name in names]
        return [n for n, p in paths if p.is_symlink() and root not in p.resolve().parents]

    return ignore


def compiled_code(directory: str, names: list[str]) -> list[str]:
    """A ``copytree`` filter leaving out compiled Python (``__pycache__`` folders, ``.pyc``
    files): never the student's work, and Python runs it in place of the ``.py`` beside it. A
    submission of the release's stubs in mygrad.py with a ``__pycache__`` of the solved file
    compiled as an unchecked-hash .pyc scored full marks (an adversary pass); without it the
    kernel compiles the files handed in."""
    return [n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))]


def leaving_out(folder: Path) -> Callable[[str, list[str]], list[str]]:
    """The filter of the kernel's working copy of ``folder``: links out of it, compiled Python."""
    links = links_out_of(folder)
    return lambda directory, names: [*links(directory, names), *compiled_code(directory, names)]


def folder_size(folder: Path) -> int:
    """The bytes of the files under ``folder``, symbolic links left out."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
