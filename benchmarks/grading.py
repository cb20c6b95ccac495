"""Notebooks graded per minute on this machine, with ``--jobs 1`` and ``--jobs 2``.

    python benchmarks/grading.py [--students 8] [--notebook 05_matmul_gradients]

Makes a class of ``--students`` submissions of one curriculum notebook and the learner's
``mygrad.py`` (half the teacher's solved versions, half the untouched student release), grades it
with the ``grade`` command's function for each number of jobs, checks the scores (solved: full
marks, release: 0), and prints the wall-clock time and the notebooks graded per minute. Each
notebook costs a kernel start, its cells, and one kernel round trip per call of a student
function by a check.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from backproplab.classroom import Limits, grade_folder, release

ROOT = Path(__file__).resolve().parents[1]


def make_class(root: Path, notebook: str, students: int) -> tuple[Path, Path]:
    """A teacher folder with ``notebook`` and a submissions folder of ``students`` copies."""
    teacher = root / "teacher"
    teacher.mkdir()
    for name in (f"{notebook}.ipynb", "mygrad.py"):  # the learner's engine sits beside the notebook
        shutil.copy(ROOT / "notebooks" / name, teacher)
    release(teacher, root / "student")
    submitted = root / "submitted"
    for k in range(students):
        (submitted / f"s{k:03d}").mkdir(parents=True)
        origin = teacher if k % 2 == 0 else root / "student"
        for name in (f"{notebook}.ipynb", "mygrad.py"):
            shutil.copy(origin / name, submitted / f"s{k:03d}")
    return teacher, submitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--notebook", default="05_matmul_gradients")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        teacher, submitted = make_class(Path(scratch), args.notebook, args.students)
        points = sum(
            c.metadata.get("nbgrader", {}).get("points", 0)
            for c in nbformat.read(teacher / f"{args.notebook}.ipynb", as_version=4).cells
            if c.metadata.get("nbgrader", {}).get("grade")
        )
        print(f"{args.students} submissions of {args.notebook}, {os.cpu_count()} cores")
        for jobs in args.jobs:
            start = time.perf_counter()
            grades = grade_folder(submitted, teacher, limits=Limits(timeout=60), jobs=jobs)
            seconds = time.perf_counter() - start
            for grade in grades:
                expected = points if int(grade.student[1:]) % 2 == 0 else 0
                assert grade.score == expected and not grade.problems, (grade, expected)
            rate = 60 * len(grades) / seconds
            print(f"--jobs {jobs}: {seconds:5.1f} s, {rate:4.1f} notebooks graded per minute")


if __name__ == "__main__":
    main()
