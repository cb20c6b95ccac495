"""What an archive puts beside the students' notebooks is not a submission.

A zip made on macOS holds a ``__MACOSX`` folder of ``._`` files (the Finder's metadata, binary),
one per file: unpacked into the submissions folder it was graded as a student called
``__MACOSX`` (a row and a feedback file, "could not read the notebook"), and unpacked inside a
student's folder its ``._05_matmul_gradients.ipynb`` was an unreadable copy in that student's row.
"""

from __future__ import annotations

from backproplab.classroom.grading import _submissions

APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "


def test_the_metadata_of_a_macos_zip_is_no_student_and_no_notebook(tmp_path):
    notebook = "05_matmul_gradients.ipynb"
    for student in ("ada", "zoe"):
        (tmp_path / student).mkdir()
        (tmp_path / student / notebook).write_text("{}", encoding="utf-8")
    for metadata in (  # a class zip unpacked at the top, a student's zip unpacked in their folder
        tmp_path / "__MACOSX" / "ada" / f"._{notebook}",
        tmp_path / "zoe" / "__MACOSX" / "zoe" / f"._{notebook}",
        tmp_path / "zoe" / f"._{notebook}",  # (an archiver that keeps them beside the files)
    ):
        metadata.parent.mkdir(parents=True, exist_ok=True)
        metadata.write_bytes(APPLE_DOUBLE)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "grace-checkpoint.ipynb").write_text("{}", "utf-8")
    (tmp_path / "grace.ipynb").write_text("{}", encoding="utf-8")
    found = [(student, str(path.relative_to(tmp_path))) for student, path in _submissions(tmp_path)]
    assert found == [
        ("ada", f"ada/{notebook}"),
        ("grace", "grace.ipynb"),
        ("zoe", f"zoe/{notebook}"),
    ]
