"""Every exercise of the curriculum through the grader: the teacher's solutions earn every point,
the untouched student release none, with no problem, and no answer is flagged as the package's.

This is what makes sure each check can reach a learner's function through the grader's proxy
(its arguments are data the kernel can rebuild, its expected answers need nothing the kernel
holds). About a minute: 24 notebooks, two at a time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from backproplab.classroom import Limits, grade_folder, release

ROOT = Path(__file__).resolve().parents[1]
CURRICULUM = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_curriculum_solutions_pass_and_the_release_scores_nothing(tmp_path):
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    for path in CURRICULUM:
        shutil.copy(path, teacher)
    shutil.copy(ROOT / "notebooks" / "mygrad.py", teacher)  # the learner's own engine
    release(teacher, tmp_path / "in" / "released")
    shutil.copytree(teacher, tmp_path / "in" / "solved")
    grades = grade_folder(tmp_path / "in", teacher, limits=Limits(timeout=120), jobs=2)
    by_student: dict[str, list] = {}
    for grade in grades:
        by_student.setdefault(grade.student, []).append(grade)
    assert sorted(g.teacher for g in by_student["solved"]) == [p.name for p in CURRICULUM]
    for grade in grades:
        assert grade.problems == [], (grade.student, grade.notebook, grade.problems)
    solved = {c.exercise: c for g in by_student["solved"] for c in g.checks}
    released = {c.exercise: c for g in by_student["released"] for c in g.checks}
    assert len(solved) == len(released) >= 30
    assert [e for e, c in solved.items() if c.status != "correct"] == []
    assert sum(c.score for c in solved.values()) == sum(c.points for c in solved.values())
    assert {c.status for c in released.values()} == {"not done"}
    assert sum(c.score for c in released.values()) == 0
