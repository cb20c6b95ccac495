"""A term of gradings, as a teacher runs it with the commands: one assignment after another, a
late student, a week's folder holding last week's notebooks, a notebook changed after the
release. docs/teaching.md, "Over a term", says what the teacher does.

Before the fixes: grading one late student with the class's ``--csv`` replaced the class's rows
by that one row (and week 3's grading with week 1's CSV name replaced week 1's scores), without a
word; last week's notebooks handed in again were graded again, their exercises became columns
of this week's scores and raised everyone's points (and each student's feedback listed them as
"not handed in"); an exercise added after the release scored 0 with "the check failed in the
grader: NameError", the teacher not told the notebook was older; the CSV had no column for the
cells a person marks, whose points it counted; and the terminal table ordered its columns by
the first student who handed each notebook in, the CSV by notebook.
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from backproplab.classroom import CheckResult, NotebookGrade, scores_table
from backproplab.classroom.__main__ import main
from backproplab.classroom._term import Merge, assignment, refuse_to_overwrite


def meta(grade_id: str, **flags) -> dict:
    return {"nbgrader": {"grade_id": grade_id, "schema_version": 3, "locked": False,
                         "solution": False, "grade": False, **flags}}  # fmt: skip


def exercise(name: str, body: str, test: str, points: int = 1) -> list:
    code = nbformat.v4.new_code_cell
    return [
        code(f"def {name}(x):\n    ### BEGIN SOLUTION\n    return {body}\n    ### END SOLUTION",
             metadata=meta(f"{name}", solution=True)),
        code(test, metadata=meta(f"{name}-check", grade=True, locked=True, points=points)),
    ]  # fmt: skip


def write(folder: Path, name: str, cells: list) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / name)


def course(folder: Path) -> None:
    """Two assignments: hw1 (double, 1 point) and hw2 (triple and square, 1 point each)."""
    write(folder, "hw1.ipynb", exercise("double", "2 * x", "assert double(2) == 4"))
    write(folder, "hw2.ipynb", [*exercise("triple", "3 * x", "assert triple(2) == 6"),
                                *exercise("square", "x * x", "assert square(3) == 9")])  # fmt: skip


def hand_in(
    folder: Path, student: str, source: Path, name: str, answers: dict[str, str] | None = None
) -> None:
    """The teacher's notebook ``name`` as the student's, with ``answers`` (grade_id -> code) in
    place of the teacher's (a wrong answer)."""
    notebook = nbformat.read(source / name, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in (answers or {}):
            cell.source = (answers or {})[grade_id]
    (folder / student).mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / student / name)


def grade(*args: str) -> int:
    return main(["grade", *args, "--timeout", "20", "--jobs", "2"])


def rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return {row["student"]: row for row in csv.DictReader(file)}


@pytest.fixture
def term(tmp_path: Path) -> Path:
    course(tmp_path / "course")
    return tmp_path


def test_a_late_student_is_merged_into_the_class_never_over_it(term, capsys):
    source, scores, feedback = term / "course", term / "w1.csv", term / "feedback"
    hand_in(term / "week1", "ada", source, "hw1.ipynb")
    hand_in(term / "week1", "alan", source, "hw1.ipynb", {"double": "def double(x):\n    return x"})
    args = ["--source", str(source), "--csv", str(scores), "--feedback", str(feedback)]
    assert grade(str(term / "week1"), *args) == 0
    class_csv = scores.read_bytes()
    hand_in(term / "late", "barbara", source, "hw1.ipynb")
    capsys.readouterr()

    # without --merge: refused before anything runs, the class's scores and feedback untouched
    assert grade(str(term / "late"), *args) == 1
    error = capsys.readouterr().err
    assert f"{scores} holds the scores of ada, alan" in error and "--merge" in error
    assert scores.read_bytes() == class_csv
    assert sorted(p.name for p in feedback.iterdir()) == ["ada.txt", "alan.txt"]

    assert grade(str(term / "late"), *args, "--merge") == 0
    assert f"scores merged into {scores}" in capsys.readouterr().out
    merged = rows(scores)
    assert list(merged) == ["ada", "alan", "barbara"]
    assert [merged[s]["double"] for s in merged] == ["1", "0", "1"]
    assert [merged[s]["score"] + "/" + merged[s]["points"] for s in merged] == ["1/1", "0/1", "1/1"]
    assert scores.read_text(encoding="utf-8").split("\n")[:3] == class_csv.decode().split("\n")[:3]
    assert sorted(p.name for p in feedback.iterdir()) == ["ada.txt", "alan.txt", "barbara.txt"]

    # a check changed after grading: the class graded again over its own file, no --merge needed
    notebook = nbformat.read(source / "hw1.ipynb", as_version=4)
    notebook.cells[1].source = "assert double(3) == 6"
    notebook.cells[1].metadata["nbgrader"]["points"] = 2
    nbformat.write(notebook, source / "hw1.ipynb")
    (term / "week1" / "barbara").mkdir()
    (term / "week1" / "barbara" / "hw1.ipynb").write_bytes(
        (term / "late" / "barbara" / "hw1.ipynb").read_bytes()
    )
    assert grade(str(term / "week1"), *args) == 0
    again = rows(scores)
    assert [again[s]["double"] + "/" + again[s]["points"] for s in again] == ["2/2", "0/2", "2/2"]


@pytest.mark.parametrize("merge", [[], ["--merge"]])
def test_a_csv_this_grader_did_not_write_is_never_overwritten(term, capsys, merge):
    """The teacher's own gradebook given as --csv by mistake: it was replaced by the scores."""
    source, gradebook = term / "course", term / "gradebook.csv"
    gradebook.write_text("name,hw1,midterm\nada,9,17\n", encoding="utf-8")
    hand_in(term / "week1", "ada", source, "hw1.ipynb")
    assert grade(str(term / "week1"), "--source", str(source), "--csv", str(gradebook), *merge) == 1
    assert "is not a scores file this grader wrote" in capsys.readouterr().err
    assert gradebook.read_text(encoding="utf-8") == "name,hw1,midterm\nada,9,17\n"
    gradebook.write_text("", encoding="utf-8")  # an empty file is nobody's: it takes the scores
    assert grade(str(term / "week1"), "--source", str(source), "--csv", str(gradebook), *merge) == 0
    assert rows(gradebook)["ada"]["double"] == "1"


def test_an_assignment_grades_its_own_notebooks_only(term, capsys):
    source, feedback = term / "course", term / "feedback"
    hand_in(term / "week1", "ada", source, "hw1.ipynb")
    assert grade(str(term / "week1"), "--source", str(source), "--csv", str(term / "w1.csv")) == 0
    week3 = term / "week3"
    hand_in(week3, "ada", source, "hw1.ipynb")  # last week's again, beside this week's
    hand_in(week3, "ada", source, "hw2.ipynb", {"square": "def square(x):\n    return 2 * x"})
    hand_in(week3, "katherine", source, "hw1.ipynb")  # last week's instead of this week's
    capsys.readouterr()

    # week 1's CSV named again: its columns would be lost
    assert grade(str(week3), "--source", str(source), "--csv", str(term / "w1.csv"),
                 "--notebooks", "hw2") == 1  # fmt: skip
    assert "holds the columns double, which this grading would not write again" in (
        capsys.readouterr().err
    )
    scores = term / "w3.csv"
    assert grade(str(week3), "--source", str(source), "--csv", str(scores),
                 "--feedback", str(feedback), "--notebooks", "hw2") == 0  # fmt: skip
    header = capsys.readouterr().out.split("\n")[0].split()
    assert header == ["student", "triple", "square", "score", "points", "problems"]
    got = rows(scores)
    assert [got["ada"][k] for k in ("triple", "square", "score", "points")] == ["1", "0", "1", "2"]
    assert [got["katherine"][k] for k in ("triple", "score", "points")] == ["", "0", "2"]
    assert (
        "hw1.ipynb: the teacher's hw1.ipynb, not part of this assignment (hw2.ipynb): not graded"
        in (got["katherine"]["problems"])
    )
    katherine = (feedback / "katherine.txt").read_text(encoding="utf-8")
    assert "hw2.ipynb: not handed in (0 of 2 points)" in katherine
    assert "hw1.ipynb: not handed in" not in (feedback / "ada.txt").read_text(encoding="utf-8")

    assert grade(str(week3), "--source", str(source), "--notebooks", "hw9") == 1
    assert "--notebooks hw9: no such notebook" in capsys.readouterr().err


def test_a_notebook_made_before_an_exercise_was_added_is_named(term, capsys):
    source = term / "course"
    hand_in(term / "week1", "ada", source, "hw1.ipynb")
    notebook = nbformat.read(source / "hw1.ipynb", as_version=4)  # the update, after the release
    notebook.cells += exercise("half", "x / 2", "assert half(4) == 2")
    nbformat.write(notebook, source / "hw1.ipynb")
    assert grade(str(term / "week1"), "--source", str(source), "--csv", str(term / "s.csv")) == 0
    ada = rows(term / "s.csv")["ada"]
    assert (ada["double"], ada["half"]) == ("1", "0")
    assert "the exercise cell half of hw1.ipynb is not in the notebook: it was made from another " \
        "release of the notebook, or the cell was deleted" in ada["problems"]  # fmt: skip


def test_the_csv_has_a_column_for_each_cell_a_person_marks(term, capsys):
    source = term / "course"
    notebook = nbformat.read(source / "hw1.ipynb", as_version=4)
    notebook.cells.append(
        nbformat.v4.new_markdown_cell("Why?", metadata=meta("why", task=True, points=3))
    )
    nbformat.write(notebook, source / "hw1.ipynb")
    hand_in(term / "week1", "ada", source, "hw1.ipynb")
    assert grade(str(term / "week1"), "--source", str(source), "--csv", str(term / "s.csv")) == 0
    table = capsys.readouterr().out.split("\n")[0].split()
    with (term / "s.csv").open(encoding="utf-8") as file:
        assert next(csv.reader(file)) == table == [
            "student", "double", "why", "score", "points", "problems"]  # fmt: skip
    assert (rows(term / "s.csv")["ada"]["why"], rows(term / "s.csv")["ada"]["points"]) == ("", "4")


def test_the_table_orders_its_columns_by_notebook_as_the_csv_does():
    def graded(student: str, teacher: str, exercise: str) -> NotebookGrade:
        result = CheckResult(exercise, 1.0, 1.0, "correct")
        return NotebookGrade(student, teacher, [result], teacher=teacher)

    table = scores_table(
        [graded("ada", "hw2.ipynb", "triple"), graded("bob", "hw1.ipynb", "double")]
    )
    assert table.split("\n")[0].split() == [
        "student",
        "double",
        "triple",
        "score",
        "points",
        "problems",
    ]


# ------------------------------------------------------------------ the parts, one at a time
# (found by mutation testing: each of these changed in _term.py left every test above passing)
def one_exercise():
    return SimpleNamespace(checks=[SimpleNamespace(exercise="double", points=1.0)], by_hand=[])


def test_notebooks_are_named_by_file_name_or_number():
    """``--notebooks 04`` names 04_inside_the_engine.ipynb (the course's numbers), as its file
    name does with or without .ipynb; a --notebooks naming nothing ("", ",") is refused, not a
    grading of no notebook at all."""
    course = [SimpleNamespace(name="04_inside_the_engine.ipynb"),
              SimpleNamespace(name="05_backward_pass.ipynb")]  # fmt: skip
    for names in (["04"], ["04_inside_the_engine"], ["04_inside_the_engine.ipynb"], ["04,"]):
        assert assignment(course, names) == course[:1], names
    assert assignment(course, ["05 ", "04"]) == course  # the source's order
    assert assignment(course, None) is None
    for names in ([""], [","], []):
        with pytest.raises(ValueError, match="no such notebook"):
            assignment(course, names)


def test_a_scores_csv_is_read_as_a_spreadsheet_saves_it(tmp_path):
    """Blank lines (one before the header too) and rows of empty cells are no student's rows;
    a row without a student's name that holds something (a note typed under the table) stops
    the merge, which would lose it; a header with a column twice is no file this grader
    wrote."""
    scores = tmp_path / "s.csv"
    header = ["student", "double", "score", "points", "problems"]
    scores.write_text(
        "\nstudent,double,score,points,problems\n\nada,1,1,1,\n,,,,\n , ,,,\n", "utf-8"
    )
    merge = Merge(scores, ["double"], [one_exercise()])
    assert merge.rows([], header) == [["ada", "1", "1", "1", ""]]
    refuse_to_overwrite(scores, None, ["ada"], ["double"])  # the class again: nothing lost
    with scores.open("a", encoding="utf-8") as file:
        file.write("ada,0,0,1,\n")  # a student's row twice (pasted in): a merge kept one
    with pytest.raises(ValueError, match="has more than one row of ada"):
        Merge(scores, ["double"], [one_exercise()])
    scores.write_text("student,double,score,points,problems\nada,1,1,1,\n", "utf-8")
    with scores.open("a", encoding="utf-8") as file:
        file.write(",,,,marks checked on Monday\n")
    for read in (lambda: Merge(scores, ["double"], [one_exercise()]),
                 lambda: refuse_to_overwrite(scores, None, ["ada"], ["double"])):  # fmt: skip
        with pytest.raises(
            ValueError, match="row without a student, holding 'marks checked on Monday'"
        ):
            read()
    scores.write_text("student,double,double,score,points,problems\nada,1,0,1,1,\n", "utf-8")
    with pytest.raises(ValueError, match="is not a scores file this grader wrote"):
        Merge(scores, ["double"], [one_exercise()])


def test_the_rows_a_grading_writes_again_are_not_taken_for_rows_it_would_lose(tmp_path):
    """A student whose name a spreadsheet would read as a formula is written "'-ana", and a
    cell of a mark holding only spaces is no mark: grading the same class again is not
    refused; a mark typed in is."""
    scores = tmp_path / "s.csv"
    scores.write_text("student,double,why,score,points,problems\n'-ana,1, ,1,4,\n", "utf-8")
    refuse_to_overwrite(scores, None, ["-ana"], ["double", "why"], by_hand=["why"])
    scores.write_text("student,double,why,score,points,problems\n'-ana,1,3,1,4,\n", "utf-8")
    with pytest.raises(ValueError, match="the marks typed in for '-ana"):
        refuse_to_overwrite(scores, None, ["-ana"], ["double", "why"], by_hand=["why"])


def test_a_feedback_folder_of_other_students_is_refused_without_merge(tmp_path):
    """The feedback folder is refused on its own (no --csv given) when it holds a file of a
    student not in this grading, and not when it holds the files this grading writes again
    (named as on a case-insensitive disk: "Ada.txt"); a long list is cut after five names."""
    feedback = tmp_path / "feedback"
    feedback.mkdir()
    (feedback / "Ada.txt").write_text("hw1.ipynb: 1 of 1 points\n", encoding="utf-8")
    refuse_to_overwrite(None, feedback, ["Ada"], ["double"])
    with pytest.raises(ValueError, match=r"holds feedback of students not in this grading \(Ada"):
        refuse_to_overwrite(None, feedback, ["bob"], ["double"])
    for name in "bcdefg":  # a class's worth: five named, the others counted
        (feedback / f"{name}.txt").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match=r"\(Ada.txt, b.txt, c.txt, d.txt, e.txt and 2 more\)"):
        refuse_to_overwrite(None, feedback, ["bob"], ["double"])


def test_a_csv_with_a_column_no_notebook_grades_is_not_merged_into(tmp_path):
    """A merge writes the points of every column: one that no notebook of the source grades
    (a notebook since removed, a column typed in) has none to give, and is refused."""
    scores = tmp_path / "s.csv"
    scores.write_text("student,double,bonus,score,points,problems\nada,1,2,3,1,\n", "utf-8")
    with pytest.raises(ValueError, match="has the columns bonus, which no notebook in the source"):
        Merge(scores, ["double"], [one_exercise()])


def test_a_merge_has_the_columns_of_both_in_the_sources_order_and_their_points(tmp_path):
    """Week 1's CSV (double) merged with week 2's grading (triple, square): the columns in the
    order of the source's notebooks and their exercises, not alphabetical, and the points of
    every row the total of all three columns; a student not graded now keeps the score of
    their row (a teacher's own, here half a point off for lateness), and one graded again keeps
    the cells of columns this grading does not have (a word typed in, not counted)."""
    hw1 = one_exercise()
    hw2 = SimpleNamespace(checks=[SimpleNamespace(exercise="triple", points=2.0),
                                  SimpleNamespace(exercise="square", points=1.0)], by_hand=[])  # fmt: skip
    scores = tmp_path / "s.csv"
    scores.write_text(
        "student,double,score,points,problems\nada,1,0.5,1,late\nbob,excused,0,1,\n", "utf-8"
    )
    merge = Merge(scores, ["triple", "square"], [hw1, hw2])
    assert merge.header() == [
        "student",
        "double",
        "triple",
        "square",
        "score",
        "points",
        "problems",
    ]
    new = [["bob", "2", "0", "2", "3", ""]]
    assert merge.rows(new, ["student", "triple", "square", "score", "points", "problems"]) == [
        ["ada", "1", "", "", "0.5", "4", "late"],
        ["bob", "excused", "2", "0", "2", "4", ""],
    ]


def test_a_grading_again_stopped_half_way_keeps_the_rows_of_the_students_it_had_not_reached(
    tmp_path,
):
    """Grading the class again over its own CSV (no --merge: the same students) wrote the header
    at once and then each student as graded: killed after ada (or two Ctrl-C), the CSV held
    ada's row only, and alan's and grace's scores were gone."""
    from backproplab.classroom._reports import ScoresFile

    def graded(student: str, score: float) -> list[NotebookGrade]:
        result = CheckResult("double", 1.0, score, "correct" if score else "hint")
        return [NotebookGrade(student, "hw1.ipynb", [result], teacher="hw1.ipynb")]

    path = tmp_path / "scores.csv"
    first = ScoresFile(path, ["double"])
    for student in ("ada", "alan", "grace"):
        first.add(graded(student, 0.0), 1.0)
    first.close(["ada", "alan", "grace"])
    again = ScoresFile(path, ["double"])  # the check was fixed: grade them all again
    again.add(graded("ada", 1.0), 1.0)  # ... and the grader is killed here
    assert {name: row["double"] for name, row in rows(path).items()} == {
        "ada": "1",  # graded again
        "alan": "0",  # not yet: their earlier rows
        "grace": "0",
    }
    again.add(graded("grace", 1.0), 1.0)
    again.add(graded("alan", 1.0), 1.0)
    again.close(["ada", "alan", "grace"])
    with path.open(encoding="utf-8") as file:
        written = list(csv.reader(file))
    assert [row[0] for row in written] == ["student", "ada", "alan", "grace"]  # once each
    assert [row[1] for row in written[1:]] == ["1", "1", "1"]


def test_ctrl_c_stops_the_grading_after_the_students_being_graded_and_loses_no_row(
    term, capsys, monkeypatch
):
    """Ctrl-C stops the grading once the students being graded are done (no other one starts);
    the CSV keeps the earlier rows of the others (they were lost), and the command says so in
    one line (it printed a traceback)."""
    from backproplab.classroom import __main__ as cli
    from backproplab.classroom import grade_folder

    source, scores = term / "course", term / "scores.csv"
    class_ = ["ada", "alan", "grace", "linus"]
    for student in class_:
        hand_in(term / "week1", student, source, "hw1.ipynb")
    grade_folder(term / "week1", source, csv_path=scores)
    notebook = nbformat.read(source / "hw1.ipynb", as_version=4)
    notebook.cells[1].metadata["nbgrader"]["points"] = 2  # a changed check: grade them again
    nbformat.write(notebook, source / "hw1.ipynb")

    def interrupted(student, grades):
        raise KeyboardInterrupt  # as Ctrl-C would, once the first student is graded

    with pytest.raises(KeyboardInterrupt):
        grade_folder(term / "week1", source, csv_path=scores, on_student=interrupted)
    points = {name: row["points"] for name, row in rows(scores).items()}
    assert sorted(points) == class_  # no one's row lost
    again = [name for name in class_ if points[name] == "2"]
    assert again[:1] == ["ada"] and len(again) <= 2  # the one interrupted, and at most the next

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "grade_folder", ctrl_c)
    capsys.readouterr()
    assert grade(str(term / "week1"), "--source", str(source), "--csv", str(scores)) == 130
    assert capsys.readouterr().err == (
        f"grade: stopped (Ctrl-C): {scores} holds the rows of the students graded (and any "
        "earlier row of the others)\n"
    )


def test_release_writes_only_the_assignments_notebooks(tmp_path, capsys):
    """grade and rehearse took --notebooks and release did not: a first-time teacher released
    all fourteen and picked the assignment's three out by hand. `release --notebooks 02` writes
    notebook 02 (by number or name, as grade's option) and every other file (mygrad.py)."""
    source = tmp_path / "teacher"
    source.mkdir()
    root = Path(__file__).resolve().parents[1] / "notebooks"
    for name in ("01_why_backprop.ipynb", "02_chain_rule.ipynb", "mygrad.py"):
        (source / name).write_bytes((root / name).read_bytes())
    assert main(["release", str(source), str(tmp_path / "student"), "--notebooks", "02"]) == 0
    assert capsys.readouterr().out == f"wrote 1 student notebooks to {tmp_path / 'student'}\n"
    assert sorted(p.name for p in (tmp_path / "student").iterdir()) == [
        "02_chain_rule.ipynb",
        "mygrad.py",
    ]
    assert main(["release", str(source), str(tmp_path / "other"), "--notebooks", "07"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("release: --notebooks 07: no such notebook") and "\n" == error[-1:]
    assert error.count("\n") == 1 and not (tmp_path / "other").exists()
