"""Attacks on the grader's staged copy, the unreadable-file rows, the loose-files notice and the
cell numbers, as a student out for marks and as a careless teacher.

A kernel runs as the grader's user and can reach the staged copy of every other student. CI
runs as root, which ignores permission bits: these tests look at the bits themselves, or make a
read fail as it fails for a user that is not root.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
from pathlib import Path
from types import SimpleNamespace

from backproplab.classroom import _staging
from backproplab.classroom._staging import copy_writable, digest_of, make_writable, unchanged

ROOT = Path(__file__).resolve().parents[1]


def submission(root: Path) -> Path:
    bob = root / "bob"
    (bob / "data").mkdir(parents=True)
    (bob / "mygrad.py").write_text("x = 1\n", encoding="utf-8")
    (bob / "data" / "points.csv").write_text("1,2\n", encoding="utf-8")
    return bob


def test_a_staged_folder_replaced_by_a_link_is_restored_and_the_link_never_followed(tmp_path):
    """A kernel replaced another student's staged folder with a link to the teacher's folder:
    the restore made every file there writable (0o444 became 0o644) and left the student not
    graded (rmtree refuses a link)."""
    bob = submission(tmp_path / "submitted")
    staged = tmp_path / "staged" / "bob"
    copy_writable(bob, staged)
    digest = digest_of(staged)
    teachers = tmp_path / "teacher"
    teachers.mkdir()
    (teachers / "answers.ipynb").write_text("{}", encoding="utf-8")
    (teachers / "answers.ipynb").chmod(0o444)
    shutil.rmtree(staged)
    staged.symlink_to(teachers)
    assert unchanged(staged, bob, digest)
    assert not staged.is_symlink() and digest_of(staged) == digest
    assert stat.S_IMODE((teachers / "answers.ipynb").stat().st_mode) == 0o444


def test_make_writable_leaves_what_a_link_at_its_top_leads_to_alone(tmp_path):
    target = tmp_path / "teacher"
    target.mkdir()
    (target / "key.py").write_text("", encoding="utf-8")
    (target / "key.py").chmod(0o444)
    (tmp_path / "link").symlink_to(target)
    make_writable(tmp_path / "link")
    assert stat.S_IMODE((target / "key.py").stat().st_mode) == 0o444


def test_a_staged_copy_a_kernel_removed_is_copied_again(tmp_path):
    bob = submission(tmp_path / "submitted")
    staged = tmp_path / "staging" / "submissions" / "bob"
    copy_writable(bob, staged)
    digest = digest_of(staged)
    shutil.rmtree(tmp_path / "staging" / "submissions")  # the whole class's staged copy
    assert unchanged(staged, bob, digest)
    assert (staged / "mygrad.py").read_text(encoding="utf-8") == "x = 1\n"
    grace = tmp_path / "submitted" / "grace.ipynb"  # a single-file submission
    grace.write_text("{}", encoding="utf-8")
    staged_grace = tmp_path / "staging" / "submissions" / "grace.ipynb"
    copy_writable(grace, staged_grace)
    digest = digest_of(staged_grace)
    staged_grace.unlink()
    staged_grace.symlink_to(tmp_path / "teacher.ipynb")  # (dangling, or the teacher's)
    assert unchanged(staged_grace, grace, digest) and not staged_grace.is_symlink()


def test_make_writable_opens_up_a_folder_before_listing_it(tmp_path):
    """``chmod 000`` on a folder of another student's staged copy: the folder got write
    permission alone (0o200), so a grader that is not root could not list or remove it and the
    student was not graded. Each folder gets rwx for its owner, each file rw."""
    bob = submission(tmp_path)
    (bob / "data" / "points.csv").chmod(0o000)
    (bob / "data").chmod(0o000)
    (bob / "mygrad.py").chmod(0o000)
    make_writable(bob)
    assert stat.S_IMODE((bob / "data").stat().st_mode) & 0o700 == 0o700
    for path in (bob / "data" / "points.csv", bob / "mygrad.py"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o600 == 0o600


def test_a_staged_file_a_kernel_made_unreadable_is_restored_not_a_reason_to_skip(
    tmp_path, monkeypatch
):
    """A kernel's ``chmod 000`` on another student's staged mygrad.py, its bytes untouched:
    for a grader that is not root, reading it raised and the student was "not graded". Root
    reads any file, so reading is made to fail as it fails for any other user."""
    bob = submission(tmp_path / "submitted")
    staged = tmp_path / "staged" / "bob"
    copy_writable(bob, staged)
    digest = digest_of(staged)
    sha256 = _staging._sha256

    def as_a_user(path: Path) -> str:
        if not os.stat(path).st_mode & stat.S_IRUSR:
            raise PermissionError(13, "Permission denied", str(path))
        return sha256(path)

    monkeypatch.setattr(_staging, "_sha256", as_a_user)
    (staged / "mygrad.py").chmod(0o000)
    assert unchanged(staged, bob, digest)
    assert os.stat(staged / "mygrad.py").st_mode & stat.S_IRUSR


def test_an_unreadable_file_of_a_macos_zip_is_no_student_and_costs_no_one(tmp_path):
    """An unreadable ``__MACOSX/ada/._mygrad.py`` made a student "__MACOSX" (not graded), and an
    unreadable ``._`` file in ada's folder left ada not graded for a file never used."""
    from backproplab.classroom.grading import _by_student

    folder = tmp_path / "submitted"
    left_out = [
        (str(folder / "__MACOSX" / "ada" / "._mygrad.py"), "[Errno 13] Permission denied: x"),
        (str(folder / "ada" / "._mygrad.py"), "[Errno 13] Permission denied: x"),
        (str(folder / "ada" / ".ipynb_checkpoints" / "a-checkpoint.ipynb"), "[Errno 13] x"),
        (str(folder / "bea" / "mygrad.py"), "[Errno 13] Permission denied: x"),
    ]
    assert _by_student(left_out, folder) == {
        "bea": ["mygrad.py", "bea/mygrad.py could not be read by the grader ([Errno 13] "
                "Permission denied)"],
    }  # fmt: skip


def test_a_notebook_past_its_budget_names_its_cell_from_1(tmp_path, monkeypatch):
    """The message "ran past its time budget ... in cell N" counted from 0 (the other messages count
    from 1): the fixture's first code cell is its second cell, after the title."""
    from backproplab.classroom import grading

    class Slow:
        def __init__(self, cwd, memory_mb):
            pass

        def cpu_time(self):
            return 0.0

        def execute(self, code, timeout):
            return SimpleNamespace(status="timeout", errors=[], capped=False)

        def close(self):
            pass

    monkeypatch.setattr(grading, "Kernel", Slow)
    source = tmp_path / "hw"
    source.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "exercises.ipynb", source)
    teachers = grading.load_source(source)
    limits = grading.Limits(timeout=60, budget=30)
    grade = grading.grade_notebook(source / "exercises.ipynb", "ada", teachers, limits)
    said = [p for p in grade.problems if "time budget" in p]
    assert said == [
        "the notebook ran past its time budget of 30 s of CPU time in cell 2: the rest was not run"
    ]


def test_the_loose_files_notice_names_no_archive_readme_or_the_runs_own_csv(tmp_path):
    """Graded again with ``--csv submitted/scores.csv``, the grader told the teacher to put its
    own CSV in a student's folder; the class's zip unpacked beside it and a README got the same
    advice. A student's file at the top is still named, once."""
    from backproplab.classroom.__main__ import main

    submitted = tmp_path / "submitted"
    (submitted / "ada").mkdir(parents=True)
    (tmp_path / "hw").mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "exercises.ipynb", tmp_path / "hw")
    shutil.copy(tmp_path / "hw" / "exercises.ipynb", submitted / "ada")
    shutil.copy(tmp_path / "hw" / "exercises.ipynb", submitted / "grace.ipynb")
    for name in ("scores.csv", "class.zip", "README.md", ".DS_Store"):
        (submitted / name).write_text("", encoding="utf-8")
    command = ["grade", str(submitted), "--source", str(tmp_path / "hw")]

    def said(*more: str) -> list[str]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            main([*command, *more])
        return [line for line in err.getvalue().splitlines() if "no student's folder" in line]

    assert said("--csv", str(submitted / "scores.csv")) == []
    (submitted / "mygrad.py").write_text("", encoding="utf-8")
    notice = said("--csv", str(submitted / "scores.csv"))
    assert len(notice) == 1 and notice[0].startswith(f"grade: {submitted / 'mygrad.py'} is in")
    assert len(said()) == 1 and "and 1 more are" in said()[0]  # (another CSV: a student's?)


def test_a_link_inside_the_students_folder_is_kept_and_one_out_of_it_left_out(tmp_path):
    """The kernel's copy of a submission leaves out the links that lead out of the student's
    folder (to another student's mygrad.py) and keeps those inside it (data.csv under a
    second name): their own files, which their notebook reads."""
    folder, other = tmp_path / "ada", tmp_path / "bob"
    folder.mkdir()
    other.mkdir()
    (folder / "data.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    (other / "mygrad.py").write_text("answers = 1\n", encoding="utf-8")
    (folder / "copy.csv").symlink_to(folder / "data.csv")
    (folder / "mygrad.py").symlink_to(other / "mygrad.py")
    ignore = _staging.links_out_of(folder)
    assert ignore(str(folder), ["copy.csv", "data.csv", "mygrad.py"]) == ["mygrad.py"]


def test_a_staged_copy_is_not_restored_from_a_submission_changed_since_it_was_staged(tmp_path):
    """A kernel rewrote bob's staged mygrad.py, and his submitted one changed too, to another
    file of the same size: copied again, the copy is not what was staged, so bob is not graded
    from it (the grade says the submission changed: CHANGED)."""
    bob = submission(tmp_path / "submitted")
    staged = tmp_path / "staged" / "bob"
    copy_writable(bob, staged)
    digest = digest_of(staged)
    (staged / "mygrad.py").write_text("x = 2\n", encoding="utf-8")
    (bob / "mygrad.py").write_text("x = 3\n", encoding="utf-8")  # the same size as staged
    assert not unchanged(staged, bob, digest)
    (bob / "mygrad.py").write_text("x = 1\n", encoding="utf-8")  # as staged: restored
    assert unchanged(staged, bob, digest)
    assert (staged / "mygrad.py").read_text(encoding="utf-8") == "x = 1\n"


def test_a_folders_size_counts_its_files_not_what_its_links_lead_to(tmp_path):
    """The grader copies a student's folder for the kernel only under 1 GiB: a link to a big
    file elsewhere (left out of the copy) must not count, or a link to a data set would run
    the notebook without the student's own files."""
    folder = tmp_path / "ada"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "points.csv").write_bytes(b"1,2\n" * 5)  # 20 bytes
    (tmp_path / "big.npy").write_bytes(b"\0" * 5000)
    (folder / "data" / "big.npy").symlink_to(tmp_path / "big.npy")
    assert _staging.folder_size(folder) == 20
