"""Every exercise of the curriculum through the grader: the teacher's solutions earn every point,
the untouched student release none, with no problem, and no answer is flagged as the package's.

This is what makes sure each check can reach a learner's function through the grader's proxy
(its arguments are data the kernel can rebuild, its expected answers need nothing the kernel
holds). It is the teacher's ``rehearse`` command run on notebooks/. About a minute: 28
notebooks, two at a time.
"""

from __future__ import annotations

from pathlib import Path

from backproplab.classroom import Limits, rehearsal_text, rehearse

ROOT = Path(__file__).resolve().parents[1]
CURRICULUM = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_curriculum_solutions_pass_and_the_release_scores_nothing():
    # a draw of the checks' inputs other than the notebooks' own, fixed so that the test is the
    # same on every run (test_grade_draws tries five more; rehearse's own default is fresh)
    rehearsal = rehearse(ROOT / "notebooks", limits=Limits(timeout=120), jobs=2, check_draw=271828)
    assert rehearsal.problems() == [], rehearsal_text(rehearsal)
    assert sorted(g.teacher for g in rehearsal.answers) == [p.name for p in CURRICULUM]
    assert sorted(g.teacher for g in rehearsal.blank) == [p.name for p in CURRICULUM]
    solved = {c.exercise: c for g in rehearsal.answers for c in g.checks}
    released = {c.exercise: c for g in rehearsal.blank for c in g.checks}
    assert len(solved) == len(released) >= 30
    assert [e for e, c in solved.items() if c.status != "correct"] == []
    assert sum(c.score for c in solved.values()) == sum(c.points for c in solved.values())
    assert {c.status for c in released.values()} == {"not done"}
    assert sum(c.score for c in released.values()) == 0
    assert rehearsal_text(rehearsal).endswith("all its points and the blank release none.")
