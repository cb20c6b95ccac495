"""``rehearse``: a teacher's checks tried before class on their own answers and on the release.

A notebook with three exercises: one whose check is sound, one whose check gives a point for
anything (``callable`` is true of the release's stub too) and one whose check reads a value that
only the solution cell computes (in the grader each check runs on its own: the teacher's own
answer scores 0). The rehearsal must name the last two, and only them. (The curriculum's own
rehearsal is tests/test_grading_curriculum.py.)
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from backproplab.classroom import (
    CheckResult,
    Limits,
    NotebookGrade,
    Rehearsal,
    grading,
    rehearsal_text,
    rehearse,
)
from backproplab.classroom import rehearsal as rehearsal_module
from backproplab.classroom.__main__ import main
from backproplab.classroom._sandbox import PlatformError


def _cell(source: str, grade_id: str | None = None, points: int | None = None):
    cell = nbformat.v4.new_code_cell(source)
    if grade_id is not None:
        cell.metadata["nbgrader"] = {
            "solution": points is None,
            "grade": points is not None,
            "locked": points is not None,
            "grade_id": grade_id,
            "schema_version": 3,
            **({"points": points} if points is not None else {}),
        }
    return cell


def _teacher(folder: Path) -> Path:
    folder.mkdir()
    cells = [
        _cell("import numpy as np"),
        _cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "hw-double"),
        _cell("assert double(3) == 6", "hw-double-check", 1),
        _cell("def triple(x):\n    ### BEGIN SOLUTION\n    return 3 * x\n    ### END SOLUTION", "hw-free"),
        _cell("assert callable(triple)", "hw-free-check", 1),
        _cell("### BEGIN SOLUTION\nk = 7\n### END SOLUTION", "hw-value"),
        _cell("assert k == 7", "hw-value-check", 1),
    ]  # fmt: skip
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "hw.ipynb")
    return folder


@pytest.fixture(scope="module")
def teacher(tmp_path_factory) -> Path:
    return _teacher(tmp_path_factory.mktemp("course") / "hw")


def test_names_the_check_that_pays_for_nothing_and_the_one_that_fails_the_teacher(teacher):
    rehearsal = rehearse(teacher)
    problems = rehearsal.problems()
    assert len(problems) == 2, problems
    free, value = sorted(problems)
    assert free.startswith("hw-free: the blank release scored 1 of 1: the check gives points")
    assert value.startswith("hw-value: your own answer scored 0 of 1")
    assert "k is assigned in a solution cell (code cell 6" in value  # the grade's words say why
    assert not any(p.startswith("hw-double") for p in problems)
    text = rehearsal_text(rehearsal)
    assert "  hw-double: your answers 1 of 1, the blank release 0\n" in text
    assert "  hw-free: your answers 1 of 1, the blank release 1\n" in text
    assert "\n2 to fix before class:\n- hw-value: " in text
    assert list(teacher.iterdir()) == [teacher / "hw.ipynb"]  # nothing written beside it


def test_the_command_exits_1_with_something_to_fix_and_0_without(teacher, tmp_path, capsys):
    assert main(["rehearse", str(teacher), "--timeout", "30"]) == 1
    assert "2 to fix before class:" in capsys.readouterr().out
    sound = tmp_path / "sound"
    sound.mkdir()
    notebook = nbformat.read(teacher / "hw.ipynb", as_version=4)
    notebook.cells = notebook.cells[:3]  # only the sound exercise
    nbformat.write(notebook, sound / "hw.ipynb")
    assert main(["rehearse", str(sound)]) == 0
    out = capsys.readouterr().out
    assert out.endswith("gives your answers all its points and the blank release none.\n")


def test_a_folder_that_is_not_there_is_one_line(tmp_path, capsys):
    assert main(["rehearse", str(tmp_path / "nowhere")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"rehearse: {tmp_path / 'nowhere'} is not a folder of notebooks"
    )


# ---------------------------------------------------------------- what an adversary found (adv5)
def _notebook(folder: Path, name: str, cells: list) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / name)


def _odd_teacher(folder: Path) -> Path:
    """A course folder as a teacher keeps it: a notebook of reading beside the graded ones, a
    cell that saves the data a check reads, and a solution region that holds the def line."""
    _notebook(folder, "hw.ipynb", [
        _cell("import numpy as np\nx_test = np.arange(3.0)\nnp.save('x_test.npy', x_test)"),
        _cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "hw-double"),
        _cell("assert (double(x_test) == 2 * x_test).all()", "hw-double-check", 1),
        _cell("### BEGIN SOLUTION\ndef scale(x):\n    return 3 * x\n### END SOLUTION", "hw-scale"),
        _cell("assert scale(2) == 6", "hw-scale-check", 1),
    ])  # fmt: skip
    _notebook(folder, "reading.ipynb", [nbformat.v4.new_markdown_cell("Read me first.")])
    _notebook(folder, "other.ipynb", [
        _cell("def half(x):\n    ### BEGIN SOLUTION\n    return x / 2\n    ### END SOLUTION", "o-half"),
        _cell("assert half(4) == 2", "o-half-check", 1),
    ])  # fmt: skip
    return folder


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    """The odd folder, what it held before and after its rehearsal, and the rehearsal."""
    folder = _odd_teacher(tmp_path_factory.mktemp("odd") / "my course")  # (a space in it)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    rehearsal = rehearse(folder, jobs=2)
    return folder, before, sorted(p.relative_to(folder) for p in folder.rglob("*")), rehearsal


def test_a_notebook_without_checks_beside_the_graded_ones_is_no_problem(odd):
    """It was handed in, matched none of the teacher's notebooks, and was named to fix."""
    _, _, _, rehearsal = odd
    assert rehearsal.problems() == [], rehearsal_text(rehearsal)
    assert sorted(g.notebook for g in rehearsal.answers) == ["hw.ipynb", "other.ipynb"]
    assert "reading" not in rehearsal_text(rehearsal)


def test_a_cell_that_writes_a_file_writes_it_in_the_temporary_folder_not_the_source(odd):
    """The cells a check's values come from ran in the source folder: x_test.npy appeared
    there, though the rehearsal writes "nothing outside a temporary folder"."""
    folder, before, after, rehearsal = odd
    assert after == before == [Path(n) for n in ("hw.ipynb", "other.ipynb", "reading.ipynb")]
    assert "  hw-double: your answers 1 of 1, the blank release 0" in rehearsal_text(rehearsal)


def test_a_release_whose_stub_took_the_def_line_scores_0_and_is_no_problem(odd):
    """The blank release has no function scale: the grader said "the check failed in the
    grader: NameError", a problem of the teacher's, for a sound check (and for every student
    who had not written it)."""
    _, _, _, rehearsal = odd
    (blank,) = [c for g in rehearsal.blank for c in g.checks if c.exercise == "hw-scale"]
    assert (blank.status, blank.score) == ("hint", 0), blank.message
    assert blank.message.endswith("NameError: name 'scale' is not defined (`assert scale(2) == 6`)")
    assert "  hw-scale: your answers 1 of 1, the blank release 0" in rehearsal_text(rehearsal)


def test_only_the_notebooks_named_are_rehearsed(odd, capsys):
    """The others were graded "not part of this assignment" and named to fix: exit status 1."""
    folder, _, _, _ = odd
    assert main(["rehearse", str(folder), "--notebooks", "other"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("other.ipynb:\n  o-half: your answers 1 of 1, the blank release 0\n")
    assert "hw" not in out
    assert main(["rehearse", str(folder), "--notebooks", "nothere"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rehearse: --notebooks nothere: no such notebook")  # not "grade:"
    assert str(folder) not in err


def test_a_folder_of_exercises_marked_by_hand_says_nothing_was_rehearsed(tmp_path, capsys):
    """It said "Every exercise graded gives your answers all its points", of none."""
    essay = nbformat.v4.new_markdown_cell("The chain rule, because ...")
    essay.metadata["nbgrader"] = {"solution": True, "grade": True, "locked": False,
                                  "grade_id": "essay", "points": 2, "schema_version": 3}  # fmt: skip
    _notebook(tmp_path / "essays", "essay.ipynb", [essay])
    assert main(["rehearse", str(tmp_path / "essays")]) == 0
    assert capsys.readouterr().out == (
        "essay.ipynb:\n  essay: marked by hand (2), not rehearsed\n\n"
        "No exercise here is graded by a check: there was nothing to rehearse.\n"
    )


def test_the_messages_name_your_folder_not_the_copy(tmp_path, capsys):
    folder = tmp_path / "hw1"
    _notebook(folder, "hw.ipynb", [_cell("import numpy as np")])
    (folder / "notes.txt").write_text("### BEGIN SOLUTION\n", encoding="utf-8")
    _notebook(folder, "graded.ipynb", [
        _cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION", "f"),
        _cell("assert f(1) == 1", "f-check", 1),
    ])  # fmt: skip
    assert main(["rehearse", str(folder)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"rehearse: {folder / 'notes.txt'} holds a solution marker but is not a "
                   "notebook or a .py file: remove it from the source"), err  # fmt: skip
    (folder / "graded.ipynb").unlink()
    (folder / "notes.txt").unlink()
    assert main(["rehearse", str(folder)]) == 1
    assert capsys.readouterr().err.strip() == f"rehearse: no notebook with self-checks in {folder}"
    with pytest.raises(FileNotFoundError, match="^rehearse: no notebook with self-checks"):
        rehearse(folder)  # the library's call raises what it raised, in the command's words


# ---------------------------------------------------------------- what mutation testing found (mut3)
def test_the_commands_limits_jobs_and_notebooks_reach_the_grader(teacher, monkeypatch):
    """Given to the command and read from it, they were never checked to arrive: --timeout 30
    and the defaults (60 s, 5 x timeout, 2048 MB, one at a time) grade alike a quick notebook."""
    seen, draws = [], []

    def grade_folder(submissions, source, *, limits, jobs, notebooks, check_draw):
        seen.append((limits, jobs, notebooks))
        draws.append(check_draw)
        return []

    monkeypatch.setattr(rehearsal_module, "grade_folder", grade_folder)
    assert main(["rehearse", str(teacher)]) == 0
    options = ["--timeout", "7", "--budget", "9", "--memory", "999", "--jobs", "2"]
    assert main(["rehearse", str(teacher), *options, "--notebooks", "hw"]) == 0
    assert main(["rehearse", str(teacher), "--check-draw", "77"]) == 0
    assert seen[:2] == [
        (Limits(timeout=60, budget=None, memory_mb=2048), 1, None),
        (Limits(timeout=7, budget=9, memory_mb=999), 2, ["hw"]),
    ]
    # a fresh draw each time (the same twice: one in a billion), or the one given
    assert isinstance(draws[0], int) and draws[0] != draws[1] and draws[2] == 77
    assert rehearse(teacher, check_draw=77).draw == 77  # kept, to be said with its problems


def test_a_rehearsal_with_something_to_fix_gives_its_draw_to_repeat_it():
    """A check that fails at some draws only: the teacher needs the draw to see it again.
    A rehearsal with nothing to fix says nothing of its draw (the page's example)."""
    answers = _graded("your answers", ("hw-a", 0, "hint"))
    blank = _graded("the blank release", ("hw-a", 0, "not done"))
    text = rehearsal_text(Rehearsal(answers=[answers], blank=[blank], draw=4321))
    assert text.endswith(
        "(checks' inputs drawn with --check-draw 4321: rehearse with it to see these again)"
    )
    fine = _graded("your answers", ("hw-a", 1, "correct"))
    assert "draw" not in rehearsal_text(Rehearsal(answers=[fine], blank=[blank], draw=4321))


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_off_linux_it_says_so_in_its_own_words_before_it_copies_anything(
    teacher, monkeypatch, capsys, platform
):
    """It said so in grade's words ("grade: the grader's sandbox needs Linux"), after it had
    copied the source and made the release (the command's one line is held here too)."""
    monkeypatch.setattr("sys.platform", platform)
    monkeypatch.setattr(rehearsal_module, "release", lambda *a: pytest.fail("a release was made"))
    monkeypatch.setattr(grading, "Kernel", lambda *a, **k: pytest.fail("a kernel was started"))
    assert main(["rehearse", str(teacher)]) == 1
    assert capsys.readouterr().err.startswith(
        f"rehearse: the grader's sandbox needs Linux, and this is {platform}: run the grader in "
    )
    with pytest.raises(PlatformError, match="^rehearse: the grader's sandbox needs Linux"):
        rehearse(teacher)


def _graded(student: str, *checks: tuple, problems: tuple = ()) -> NotebookGrade:
    """A grade of hw.ipynb: ``checks`` as (exercise, score, status), each worth 1 point."""
    results = [CheckResult(exercise, 1, score, status) for exercise, score, status in checks]
    return NotebookGrade(student, "hw.ipynb", results, list(problems), "hw.ipynb")


def test_a_problem_of_the_blank_release_alone_is_named_once_and_one_of_both_once():
    """The grade of the blank release is read for its problems too (a check that fails in the
    grader on a stub: every student who has not answered would score it so), and a problem
    both students have (a slow cell of the teacher's) is said once, not once per student."""
    slow = "cell 2 ran longer than 60 s"
    broken = "hw-b: the check failed in the grader: TypeError: stub"
    rehearsal = Rehearsal(
        answers=[_graded("your answers", ("hw-a", 1, "correct"), ("hw-b", 1, "correct"),
                         problems=(slow,))],
        blank=[_graded("the blank release", ("hw-a", 0, "not done"), ("hw-b", 0, "error"),
                       problems=(slow, broken))],
    )  # fmt: skip
    assert rehearsal.problems() == [
        f"hw.ipynb (your answers): {slow}",
        f"hw.ipynb (the blank release): {broken}",
    ]


def test_the_summary_of_exercises_graded_by_checks_and_by_hand():
    """Some exercises marked by hand beside checked ones, all sound: every exercise graded is
    said to be sound (not "nothing to rehearse"); one the blank release has no verdict for
    (its notebook not graded) shows "-"."""
    answers = _graded("your answers", ("hw-a", 1, "correct"), ("hw-b", 1, "correct"),
                      ("essay", 0, "by hand"))  # fmt: skip
    blank = _graded("the blank release", ("hw-a", 0, "not done"), ("essay", 0, "by hand"))
    text = rehearsal_text(Rehearsal(answers=[answers], blank=[blank]))
    assert text == (
        "hw.ipynb:\n"
        "  hw-a: your answers 1 of 1, the blank release 0\n"
        "  hw-b: your answers 1 of 1, the blank release -\n"
        "  essay: marked by hand (1), not rehearsed\n\n"
        "Every exercise graded gives your answers all its points and the blank release none."
    )


def test_ctrl_c_is_one_line(tmp_path, capsys, monkeypatch):
    from backproplab.classroom import __main__ as cli

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "rehearse", ctrl_c)
    assert main(["rehearse", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "rehearse: stopped (Ctrl-C)\n"


# ---------------------------------------------------------------- what mutation testing found
@pytest.mark.parametrize("bad", [-1, True, 2.5])
def test_a_draw_that_is_not_one_is_refused_before_anything_is_copied(teacher, monkeypatch, bad):
    """A draw is a whole number from 0 up. Nothing checked that the library's call refuses any
    other before it copies the source and makes the release (as it refuses off Linux)."""
    monkeypatch.setattr(rehearsal_module, "release", lambda *a: pytest.fail("a release was made"))
    monkeypatch.setattr(grading, "Kernel", lambda *a, **k: pytest.fail("a kernel was started"))
    with pytest.raises(ValueError, match=f"^check draw: a whole number from 0 up, not {bad!r}$"):
        rehearse(teacher, check_draw=bad)


def test_a_notebook_in_a_subfolder_is_rehearsed(tmp_path):
    """Each notebook is handed in where it sits in the source: one in week1/ was graded
    nowhere if the rehearsal looked for it at the top of the folder."""
    _notebook(tmp_path / "course" / "week1", "hw.ipynb", [
        _cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "hw-double"),
        _cell("assert double(3) == 6", "hw-double-check", 1),
    ])  # fmt: skip
    rehearsal = rehearse(tmp_path / "course")
    assert rehearsal.problems() == [], rehearsal_text(rehearsal)
    assert rehearsal_text(rehearsal).startswith(
        "hw.ipynb:\n  hw-double: your answers 1 of 1, the blank release 0\n"
    )


def test_an_error_in_no_commands_words_is_said_whole(teacher, monkeypatch):
    """An error in no command's words (nbformat's "Notebook does not appear to be JSON: ...",
    before the source's reading named the file) is said whole, after "rehearse: ", not only
    what follows its colon."""

    def grade_folder(*args, **kwargs):
        raise ValueError("Notebook does not appear to be JSON: 'not json'")

    monkeypatch.setattr(rehearsal_module, "grade_folder", grade_folder)
    with pytest.raises(
        ValueError, match="^rehearse: Notebook does not appear to be JSON: 'not json'$"
    ):
        rehearse(teacher)


# ---------------------------------------------------------------- what mutation testing found (mutants4)
def test_an_error_without_a_colon_is_said_whole_and_nothing_after_it(teacher, monkeypatch):
    """An error of no command's and with no ": " in it (nothing to split off): it is said after
    "rehearse: " as it is, with no ": " left dangling after it."""

    def grade_folder(*args, **kwargs):
        raise ValueError("the grader stopped")

    monkeypatch.setattr(rehearsal_module, "grade_folder", grade_folder)
    with pytest.raises(ValueError, match="^rehearse: the grader stopped$"):
        rehearse(teacher)


# ---------------------------------------------------------------- what mutation testing found (mutants5)
def _grade(student: str, notebook: str, *checks: CheckResult, problems=()) -> NotebookGrade:
    return NotebookGrade(student, notebook, list(checks), list(problems), notebook)


def test_each_line_reads_its_own_notebooks_grades_past_an_exercise_marked_by_hand():
    """Three blind spots: only the blank release's first grade was read (hw2's line showed "-",
    its check's points for nothing and its slow cell went unsaid), an exercise marked by hand
    before a checked one ended its notebook's lines (``break`` for ``continue``), and no line
    had a score that differs from the points (the text could have said points for score)."""
    answers = [
        _graded("your answers", ("hw-a", 1, "correct")),
        _grade("your answers", "hw2.ipynb", CheckResult("essay", 2, 0, "by hand"),
               CheckResult("hw2-b", 4, 1.5, "partial", "a quarter of it")),
    ]  # fmt: skip
    blank = [
        _graded("the blank release", ("hw-a", 0, "not done")),
        _grade("the blank release", "hw2.ipynb", CheckResult("essay", 2, 0, "by hand"),
               CheckResult("hw2-b", 4, 0.5, "partial"), problems=["cell 3 ran longer than 60 s"]),
    ]  # fmt: skip
    assert rehearsal_text(Rehearsal(answers=answers, blank=blank)) == (
        "hw.ipynb:\n"
        "  hw-a: your answers 1 of 1, the blank release 0\n"
        "hw2.ipynb:\n"
        "  essay: marked by hand (2), not rehearsed\n"
        "  hw2-b: your answers 1.5 of 4, the blank release 0.5\n"
        "\n"
        "3 to fix before class:\n"
        "- hw2.ipynb (the blank release): cell 3 ran longer than 60 s\n"
        "- hw2-b: your own answer scored 1.5 of 4 (partial): a quarter of it\n"
        "- hw2-b: the blank release scored 0.5 of 4: the check gives points for an exercise "
        "nobody answered (its verdict: partial)"
    )


def test_draw_0_is_given_to_repeat_a_rehearsal():
    """A draw is a whole number from 0 up: 0 is one, and was the one draw not said; a
    rehearsal without a draw (the notebook's own inputs) says none."""
    answers = _graded("your answers", ("hw-a", 0, "hint"))
    blank = _graded("the blank release", ("hw-a", 0, "not done"))
    text = rehearsal_text(Rehearsal(answers=[answers], blank=[blank], draw=0))
    assert text.endswith("\n\n(checks' inputs drawn with --check-draw 0: rehearse with it to see "
                         "these again)")  # fmt: skip
    # None: the notebook's own inputs (no draw to give)
    assert rehearsal_text(Rehearsal(answers=[answers], blank=[blank])).endswith(" (hint): ")
