"""A class handed in read-only is graded like any other.

Submissions often arrive without write permission: a teacher protects them with
``chmod -R a-w submitted/``, an archive keeps its files' modes, a container mounts them read-only.
``copytree`` copies permissions, so a grader that is not root (in a container, as the teaching
guide recommends) got a work folder it could not remove the notebook from, and every such
student scored 0 with "grading failed: PermissionError". CI runs as root, which ignores
permissions, so these tests look at the permission bits themselves.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from backproplab.classroom._staging import copy_writable, digest_of, unchanged


def read_only_submission(root: Path) -> Path:
    """ada/ holding a notebook, mygrad.py, a data folder and a link, every mode without write."""
    ada = root / "ada"
    (ada / "data").mkdir(parents=True)
    (ada / "05_matmul_gradients.ipynb").write_text("{}", encoding="utf-8")
    (ada / "mygrad.py").write_text("x = 1\n", encoding="utf-8")
    (ada / "data" / "points.csv").write_text("1,2\n", encoding="utf-8")
    (ada / "link.py").symlink_to("mygrad.py")
    for path in [*(ada / "data").iterdir(), ada / "data", *ada.iterdir(), ada]:
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)
    return ada


def one_student_class(tmp_path: Path) -> Path:
    """hw/ (the fixture's teacher notebook) and submitted/ada/ holding a copy of it; hw/."""
    source = tmp_path / "hw"
    source.mkdir()
    shutil.copy(Path(__file__).resolve().parent / "fixtures" / "exercises.ipynb", source)
    (tmp_path / "submitted" / "ada").mkdir(parents=True)
    shutil.copy(source / "exercises.ipynb", tmp_path / "submitted" / "ada")
    return source


def writable_by_owner(path: Path) -> bool:
    return bool(os.lstat(path).st_mode & stat.S_IWUSR)


def test_the_copy_of_a_read_only_folder_is_writable_by_its_owner(tmp_path):
    ada = read_only_submission(tmp_path / "submitted")
    copy_writable(ada, tmp_path / "work")
    copied = [tmp_path / "work", *(tmp_path / "work").rglob("*")]
    assert len(copied) == 6
    assert all(writable_by_owner(p) for p in copied if not p.is_symlink())
    assert (tmp_path / "work" / "link.py").is_symlink()  # a link stays a link
    assert (tmp_path / "work" / "data" / "points.csv").read_text(encoding="utf-8") == "1,2\n"
    originals = [ada, *ada.rglob("*")]  # the submissions themselves are left as they were
    assert not any(writable_by_owner(p) for p in originals if not p.is_symlink())


def test_the_copy_of_a_read_only_file_is_writable_by_its_owner(tmp_path):
    grace = tmp_path / "grace.ipynb"
    grace.write_text("{}", encoding="utf-8")
    grace.chmod(0o444)
    copy_writable(grace, tmp_path / "staged.ipynb")
    assert writable_by_owner(tmp_path / "staged.ipynb")
    assert not writable_by_owner(grace)


def test_a_staged_copy_a_kernel_changed_and_made_read_only_is_restored(tmp_path):
    ada = read_only_submission(tmp_path / "submitted")
    staged = tmp_path / "staged"
    copy_writable(ada, staged)
    digest = digest_of(staged)
    (staged / "mygrad.py").write_text("x = 2\n", encoding="utf-8")  # another student's kernel
    for path in [staged / "mygrad.py", staged / "data", staged]:
        path.chmod(0o555)
    assert unchanged(staged, ada, digest)
    assert (staged / "mygrad.py").read_text(encoding="utf-8") == "x = 1\n"
    assert all(writable_by_owner(p) for p in [staged, *staged.rglob("*")] if not p.is_symlink())


def test_the_scores_csv_gets_the_mode_of_a_new_file_not_a_private_one(tmp_path):
    """In the container of the teaching guide the grader's user writes the CSV into a folder the
    teacher mounted (``chmod 777 out``): with mkstemp's 0o600 a teacher who is another user on
    the host could read every feedback file but not the scores."""
    from backproplab.classroom._reports import ScoresFile

    previous = os.umask(0o022)
    try:
        scores = ScoresFile(tmp_path / "out" / "scores.csv", ["nb05-dL_dX"])
        assert stat.S_IMODE((tmp_path / "out" / "scores.csv").stat().st_mode) == 0o644
        scores.close(["ada"])  # rewritten whole: a new file again, with the same mode
        assert stat.S_IMODE((tmp_path / "out" / "scores.csv").stat().st_mode) == 0o644
        os.umask(0o027)  # a teacher who shares with a group and no one else
        scores.close(["ada"])
        assert stat.S_IMODE((tmp_path / "out" / "scores.csv").stat().st_mode) == 0o640
    finally:
        os.umask(previous)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["scores.csv"]  # no temporary left


def test_a_file_the_grader_may_not_read_is_one_students_row_not_the_end_of_the_run(
    tmp_path, monkeypatch
):
    """A file of one student that the grader's user may not read (handed in through a copy made
    by another user, ``-rw-------``) ended the class's run with a traceback of shutil.Error,
    no row written: the page promises an unreadable file is a problem in that student's row.
    Root reads every file, so the test makes the copy of two files fail as it fails for a user
    that is not root (EACCES on open), through the standard copytree."""
    from backproplab.classroom import grade_folder
    from backproplab.classroom._reports import scores_table

    source = one_student_class(tmp_path)
    submitted = tmp_path / "submitted"
    (submitted / "bea").mkdir()
    shutil.copy(source / "exercises.ipynb", submitted / "bea")
    (submitted / "bea" / "notes.txt").write_text("mine", encoding="utf-8")
    shutil.copy(source / "exercises.ipynb", submitted / "grace.ipynb")
    unreadable = {submitted / "bea" / "notes.txt", submitted / "grace.ipynb"}

    def copy(src, dst, **kwargs):
        if Path(src) in unreadable:
            raise PermissionError(13, "Permission denied", str(src))
        return shutil.copy2(src, dst, **kwargs)

    copytree = shutil.copytree

    def copy_all_but(src, dst, symlinks=False, ignore=None, _=None, dangling=False, exist=False):
        # (copytree calls itself with its arguments in place, the copy function among them)
        return copytree(src, dst, symlinks, ignore, copy, dangling, exist)

    monkeypatch.setattr(shutil, "copytree", copy_all_but)
    grades = grade_folder(submitted, source, csv_path=tmp_path / "scores.csv")
    rows = {g.student: g for g in grades}
    assert sorted(rows) == ["ada", "bea", "grace"]
    assert rows["ada"].checks and not rows["ada"].problems
    assert rows["bea"].problems == [
        "bea/notes.txt could not be read by the grader ([Errno 13] Permission denied): not "
        "graded; make the submissions readable (chmod -R a+rX) and grade this student again"
    ]
    assert rows["grace"].notebook == "grace.ipynb" and not rows["grace"].checks
    assert "grace.ipynb could not be read by the grader" in rows["grace"].problems[0]
    table = scores_table(grades)
    assert "exercises.ipynb: bea/notes.txt could not be read" in table
    written = (tmp_path / "scores.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in written] == ["student", "ada", "bea", "grace"]


def test_an_output_the_command_cannot_write_is_one_line_before_any_notebook_runs(tmp_path, capsys):
    """As a user that is not root, a CSV, feedback or release folder in a folder of root's (the
    container's output folder without its ``chmod 777``) ended each command with a traceback,
    the CSV's naming a temporary file. Root may write anywhere, so the test puts the output
    under a file, which no user can write into: the same OSError, the same one line."""
    from backproplab.classroom.__main__ import main

    source = one_student_class(tmp_path)
    blocked = tmp_path / "out"
    blocked.write_text("a file, not a folder", encoding="utf-8")
    grade = ["grade", str(tmp_path / "submitted"), "--source", str(source)]
    for command in (
        [*grade, "--csv", str(blocked / "scores.csv")],
        [*grade, "--feedback", str(blocked / "feedback")],
        ["release", str(source), str(blocked / "student")],
    ):
        assert main(command) == 1
        out, err = capsys.readouterr()
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert err.startswith(f"{command[0]}: ") and str(blocked) in err, err
        assert ".scores-" not in err and "graded" not in err and not out


def test_a_feedback_folder_the_grader_may_not_write_is_said_before_anyone_is_graded(
    tmp_path, monkeypatch, capsys
):
    """An existing feedback folder of another user (written by the teacher on the host, graded
    again in the container): the first student was graded, then the run ended at their
    feedback file. Root may write anywhere, so the test answers the grader's question (may this
    user write there?) as the system answers a user that is not root."""
    from backproplab.classroom import grading
    from backproplab.classroom.__main__ import main

    source = one_student_class(tmp_path)
    theirs = tmp_path / "feedback"
    theirs.mkdir()
    access = os.access
    monkeypatch.setattr(
        grading.os, "access", lambda path, mode: Path(path) != theirs and access(path, mode)
    )
    command = ["grade", str(tmp_path / "submitted"), "--source", str(source)]
    csv = tmp_path / "scores.csv"
    assert main([*command, "--feedback", str(theirs), "--csv", str(csv)]) == 1
    out, err = capsys.readouterr()
    assert err == f"grade: Permission denied: {theirs}\n" and not out
    assert not csv.exists()  # (no CSV of a header alone left behind)
