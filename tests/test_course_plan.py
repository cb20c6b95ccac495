"""``python -m backproplab.classroom plan``: what each notebook grades, counted again here from the
notebooks' JSON; the copy in docs/teaching.md is the command's output; what an engine check needs
agrees with a real run of the grader; a folder it cannot plan gives one line and exit status 1."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from backproplab.classroom.__main__ import main
from backproplab.classroom.plan import NotebookPlan, course_plan, plan_markdown, plan_text

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
COMMAND = "$ python -m backproplab.classroom plan notebooks/"


@pytest.fixture(scope="module")
def output() -> str:
    """The command's output for notebooks/ (run once: it runs the engine checks)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["plan", str(NOTEBOOKS)]) == 0
    return out.getvalue()


def graded_cells(path: Path) -> list[tuple[str, float, str]]:
    """(grade_id, points, source) of the graded cells of a notebook, read from its JSON."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = []
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            found.append((meta["grade_id"], float(meta["points"]), "".join(cell["source"])))
    return found


def blocks(text: str) -> dict[str, dict[str, str]]:
    """The output's blocks by notebook file: {"09_....ipynb": {"graded": ..., "total": ...}}."""
    found = {}
    for block in text.strip().split("\n\n")[:-1]:
        head, *rest = block.split("\n")
        fields, key = {}, None
        for line in rest:
            if line.startswith("  ") and not line.startswith("   "):
                key, _, value = line.strip().partition(": ")
                fields[key] = value
            else:  # a wrapped line of the one before
                fields[key] += " " + line.strip()
        found[head.split(":")[0]] = fields
    return found


def self_checks(path: Path) -> list[str]:
    """The nbNN.check_... calls of a notebook's ungraded cells that no graded cell makes,
    read from its JSON with a regular expression (the plan parses the code)."""
    graded, other = set(), []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        calls = re.findall(r"\b(nb\d\d\.check_\w+)\(", "".join(cell["source"]))
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            graded.update(calls)
        elif cell["cell_type"] == "code":
            other += calls
    return [name for name in dict.fromkeys(other) if name not in graded]


def test_the_checks_without_points_are_listed(output):
    # which challenges are graded differs from notebook to notebook: the plan says which not
    shown = blocks(output)
    listed = {name: shown[name].get("self-check only, not graded", "") for name in shown}
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        assert listed[path.name] == ", ".join(self_checks(path)), path.name
    assert listed["12_your_own_layers.ipynb"] == "nb12.check_training_run"
    assert sum(bool(value) for value in listed.values()) == 6  # 03, 04, 09, 11, 12, 13


def test_every_number_agrees_with_the_notebooks_metadata(output):
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    graded = {path.name: graded_cells(path) for path in paths if graded_cells(path)}
    assert len(graded) == 14
    shown = blocks(output)
    assert list(shown) == list(graded)  # every graded notebook, in order
    for name, cells in graded.items():
        pairs = re.findall(r"([\w-]+) \(([\d.]+)\)", shown[name]["graded"])
        assert [(e, float(p)) for e, p in pairs] == [
            (grade_id.removesuffix("-check"), points) for grade_id, points, _ in cells
        ], name
        total = sum(points for _, points, _ in cells)
        assert shown[name]["total"] == f"{total:g} point" + ("" if total == 1 else "s")
        engine = [g for g, _, source in cells if "check_step(" in source]
        if engine:
            step = engine[0].split("-")[0].removeprefix("nb")
            assert shown[name]["your engine"].startswith(f"nb{step}-mygrad checks step {step} (")
        else:
            assert shown[name]["your engine"] == "no"
    exercises = sum(len(cells) for cells in graded.values())
    points = sum(p for cells in graded.values() for _, p, _ in cells)
    last = output.strip().split("\n")[-1]
    assert last == f"Course total: 14 notebooks, {exercises} graded exercises, {points:g} points"


def test_lines_fit_a_terminal(output):
    assert max(len(line) for line in output.split("\n")) <= 100


def test_titles_are_plain_text(output):
    # notebook 03's heading holds inline maths, $(x + y)\,z$: a terminal shows it without the
    # dollar signs and the LaTeX spacing
    assert "03_computational_graph.ipynb: 03 · The computational graph: (x + y) z\n" in output
    assert "$" not in output and "\\" not in output


def test_the_docs_show_the_commands_real_output(output):
    text = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    start = text.index(COMMAND + "\n") + len(COMMAND) + 1
    assert text[start : text.index("```", start)] == output
    # the sentence about notebook 10 says what the output says
    assert "for notebook 10 that is 03, 05 and 09 (not 04, 07 or 08)" in text
    nb10 = blocks(output)["10_vanishing_gradients.ipynb"]
    assert nb10["engine parts that check needs"] == "03, 05, 09"


def test_markdown_table_has_a_row_per_notebook_and_the_total(capsys):
    assert main(["plan", "--markdown", str(NOTEBOOKS)]) == 0
    rows = capsys.readouterr().out.strip().split("\n")
    graded = [p for p in sorted(NOTEBOOKS.glob("*.ipynb")) if graded_cells(p)]
    assert len(rows) == 2 + len(graded) + 1
    assert rows[2].startswith("| 01 · Why backprop | nb01-gradient_descent_step (1), ")
    points = sum(p for path in graded for _, p, _ in graded_cells(path))
    assert f"| **{points:g}** |" in rows[-1]


def write(path: Path, first: str, graded: bool = True) -> None:
    cells = [nbformat.v4.new_markdown_cell(first), nbformat.v4.new_code_cell("x = 1")]
    if graded:
        cells[1].metadata["nbgrader"] = {"grade": True, "grade_id": "ex-check", "points": 3}
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


def test_prerequisites_none_stated_or_not_stated(tmp_path, capsys):
    write(
        tmp_path / "01_a.ipynb", "# A\n\n**Prerequisites**: none ([02_b.ipynb](02_b.ipynb) later)"
    )
    write(tmp_path / "02_b.ipynb", "# B\n\nNo such paragraph: [01_a.ipynb](01_a.ipynb).")
    assert main(["plan", str(tmp_path)]) == 1  # two notebooks with the check ex-check
    assert capsys.readouterr().err == (
        "plan: the teacher's 01_a.ipynb and 02_b.ipynb both have the check ex-check: "
        "keep one of them in the source\n"
    )
    write(tmp_path / "02_b.ipynb", "# B\n\nNo such paragraph: [01_a.ipynb](01_a.ipynb).", False)
    assert main(["plan", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "  prerequisites (first cell): none\n" in out
    assert "02_b" not in out  # no graded cell: not in the plan
    stated = "# A\n\n## Prerequisites\n\n[02_b.ipynb](02_b.ipynb) and [00_c.ipynb](x/00_c.ipynb)."
    write(tmp_path / "01_a.ipynb", stated + "\n\nAlso [03_d.ipynb](03_d.ipynb), later on.")
    assert main(["plan", str(tmp_path)]) == 0
    assert "  prerequisites (first cell): 00, 02\n" in capsys.readouterr().out
    write(tmp_path / "01_a.ipynb", "# A\n\nNo such paragraph: [02_b.ipynb](02_b.ipynb).")
    assert main(["plan", str(tmp_path)]) == 0
    assert "  prerequisites (first cell): not stated\n" in capsys.readouterr().out


def test_a_folder_without_graded_cells_is_one_line_and_status_1(tmp_path, capsys):
    write(tmp_path / "01_a.ipynb", "# A", graded=False)
    assert main(["plan", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"plan: no graded cells (nbgrader grade_id and points) in {tmp_path}\n"


def test_a_missing_folder_is_one_line_and_status_1(tmp_path, capsys):
    assert main(["plan", str(tmp_path / "nowhere")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"plan: {tmp_path / 'nowhere'} is not a folder\n"


def engine_notebook(folder: Path, steps: tuple[str, ...]) -> None:
    """``folder`` with the teacher's mygrad.py and engine.ipynb: a check cell per step."""
    folder.mkdir()
    shutil.copy(NOTEBOOKS / "mygrad.py", folder / "mygrad.py")
    write(folder / "engine.ipynb", "# engine", graded=False)
    notebook = nbformat.read(folder / "engine.ipynb", as_version=4)
    notebook.cells[1].source = "import mygrad\nfrom backproplab.exercises.mygrad import check_step"
    for step in steps:
        cell = nbformat.v4.new_code_cell(f'check_step("{step}", mygrad)')
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": f"mygrad-{step}-check", "points": 2}
        notebook.cells.append(cell)
    nbformat.write(notebook, folder / "engine.ipynb")


def test_a_release_engine_is_not_measured(tmp_path, capsys):
    engine_notebook(tmp_path / "source", ("05",))
    assert main(["release", str(tmp_path / "source"), str(tmp_path / "student")]) == 0
    capsys.readouterr()
    assert main(["plan", str(tmp_path / "student")]) == 0
    out = capsys.readouterr().out
    assert "  your engine: mygrad-05 checks step 05 (@, sum_to_shape, sum and mean)\n" in out
    assert "  engine parts that check needs: not measured (" in out
    assert main(["plan", str(tmp_path / "source")]) == 0
    assert "  engine parts that check needs: 03, 04\n" in capsys.readouterr().out


def test_what_a_check_needs_is_what_the_grader_scores(tmp_path, output, capsys):
    """mygrad.py without notebook 04's parts (cut out here with a regex, not the plan's code):
    the grader scores the engine check of notebook 08 zero and that of notebook 10 full, as the
    plan says (08 needs 04, 10 does not); a notebook handed in without mygrad.py scores zero."""
    shown = blocks(output)
    assert "04" in shown["08_softmax_cross_entropy.ipynb"]["engine parts that check needs"]
    assert "04" not in shown["10_vanishing_gradients.ipynb"]["engine parts that check needs"]
    teacher = tmp_path / "teacher"
    engine_notebook(teacher, ("08", "10"))
    student = tmp_path / "in" / "skipped_04"
    student.mkdir(parents=True)
    shutil.copy(teacher / "engine.ipynb", student / "engine.ipynb")
    shutil.copy(teacher / "engine.ipynb", tmp_path / "in" / "alone.ipynb")  # no mygrad.py
    text = (NOTEBOOKS / "mygrad.py").read_text(encoding="utf-8")
    no_04, count = re.subn(
        r"### BEGIN SOLUTION see notebook 04.*?### END SOLUTION",
        'raise NotImplementedError("see notebook 04, \\"Your engine\\"")',
        text,
        flags=re.S,
    )
    assert count >= 3
    (student / "mygrad.py").write_text(no_04, encoding="utf-8")
    out = tmp_path / "scores.csv"
    command = ["grade", str(tmp_path / "in"), "--source", str(teacher), "--csv", str(out)]
    assert main([*command, "--timeout", "60"]) == 0
    rows = {
        row["student"]: row for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    }
    assert (rows["skipped_04"]["mygrad-08"], rows["skipped_04"]["mygrad-10"]) == ("0", "2"), rows
    assert (rows["alone"]["mygrad-08"], rows["alone"]["mygrad-10"]) == ("0", "0"), rows


# ---------------------------------------------------------------- what mutation testing found
def test_two_notebooks_of_one_name_in_two_subfolders_are_each_planned_from_their_own_file(
    tmp_path, capsys
):
    """week2/hw.ipynb was planned from week1/hw.ipynb: its own checks beside the other's title
    and prerequisites (the plan searched the folder for the name and took the first found)."""
    for week, title, stated in (
        ("week1", "Week one", "none"),
        ("week2", "Week two", "[x](01_x.ipynb)"),
    ):
        (tmp_path / week).mkdir()
        check = nbformat.v4.new_code_cell("x = 1")
        check.metadata["nbgrader"] = {"grade": True, "grade_id": f"{week}-check", "points": 1}
        first = nbformat.v4.new_markdown_cell(f"# {title}\n\n**Prerequisites**: {stated}")
        nbformat.write(nbformat.v4.new_notebook(cells=[first, check]), tmp_path / week / "hw.ipynb")
    assert main(["plan", str(tmp_path)]) == 0
    week1, week2 = capsys.readouterr().out.split("\n\n")[:2]
    # each headed by its path in the folder: both were "hw.ipynb:", told apart by their titles only
    assert week1.startswith("week1/hw.ipynb: Week one\n  graded: week1 (1)\n")
    assert week1.endswith("  prerequisites (first cell): none")
    assert week2.startswith("week2/hw.ipynb: Week two\n  graded: week2 (1)\n")
    assert week2.endswith("  prerequisites (first cell): 01")


def one_plan(folder: Path, first: str, *cells: nbformat.NotebookNode) -> NotebookPlan:
    """The plan of 01_a.ipynb: a first cell ``first``, the graded cell of write(), ``cells``."""
    folder.mkdir(exist_ok=True)
    write(folder / "01_a.ipynb", first)
    notebook = nbformat.read(folder / "01_a.ipynb", as_version=4)
    notebook.cells += list(cells)
    nbformat.write(notebook, folder / "01_a.ipynb")
    (plan,) = course_plan(folder)
    return plan


@pytest.mark.parametrize(
    ("stated", "labels"),
    [
        ("**Prerequisites:** [02](02_b.ipynb)", ["02"]),  # the colon inside the stars
        ("**Prerequisites**: None ([02](02_b.ipynb) comes later)", []),  # "None", capital
        ("**Prerequisites**: [05](05_x.ipynb), [intro](intro.ipynb); none other", ["05", "intro"]),
        ("**Prerequisites**: [02](02_b.ipynb) (03_c.ipynb: not a link)", ["02"]),
        ("**Prerequisites**: [02](02_b.ipynb) (see 03_c.ipynb)", ["02"]),  # a bare name
        ("**Prerequisites**: [02](02_b.ipynb) (03_c.ipynb)", ["02"]),  # in brackets, no link
        ("**Prerequisites**:\n\n[02](02_b.ipynb)", ["02"]),  # the links a paragraph below
        ("**Prerequisites** : none ([02](02_b.ipynb) later)", []),
        (
            "**Prerequisites**: [09](09_a.ipynb), [03](03_a.ipynb), [11](11_a.ipynb), "
            "[01](01_a.ipynb), [07](07_a.ipynb), [05](05_a.ipynb), [12](12_a.ipynb)",
            ["01", "03", "05", "07", "09", "11", "12"],  # in the notebooks' order
        ),
    ],
)
def test_the_prerequisites_as_a_first_cell_may_state_them(tmp_path, stated, labels):
    assert one_plan(tmp_path, f"# A\n\n{stated}").prerequisites == labels


def test_a_title_is_its_heading_as_plain_text_or_the_file_name(tmp_path):
    heading = r"# T: $a\;b\quad c\qquad d\!e\:f$ and $(x + y)\, z$"
    assert one_plan(tmp_path, heading).title == "T: a b c d e f and (x + y) z"
    assert one_plan(tmp_path, "Read notebook #3 first.").title == "01_a"  # no heading


def test_a_self_check_is_an_nbNN_check_called_once_and_a_by_hand_answer_is_graded(tmp_path):
    calls = "nb12.check_a(f)\nnb12.check_a(f)\nnb123.check_b(f)\nmine.check_c(f)\nnb12.train(f)"
    essay = nbformat.v4.new_markdown_cell("Because ...")
    essay.metadata["nbgrader"] = {"solution": True, "grade": True, "grade_id": "essay", "points": 2}
    broken = nbformat.v4.new_code_cell("def unfinished(:")  # a cell that does not parse
    plan = one_plan(tmp_path, "# A", broken, nbformat.v4.new_code_cell(calls), essay)
    assert plan.self_checks == ["nb12.check_a"]
    assert plan.exercises == [("ex", 3), ("essay (by hand)", 2)]
    assert plan.points == 5


def test_an_engine_check_called_as_an_attribute_with_a_number(tmp_path):
    cells = []
    for k, source in enumerate(
        ("checks.check_step(5, mygrad)", "check_step(STEP, mygrad)", "check_step()")
    ):
        cells.append(nbformat.v4.new_code_cell(source))  # the last two: no step to read
        cells[-1].metadata["nbgrader"] = {
            "grade": True,
            "grade_id": f"engine{k or ''}-check",
            "points": 1,
        }
    plan = one_plan(tmp_path, "# A", *cells)
    assert (plan.engine_step, plan.engine_exercise, plan.needs) == ("05", "engine", None)


def test_the_teachers_engine_file_is_measured_not_a_release_copy_beside_it(tmp_path, capsys):
    engine_notebook(tmp_path / "source", ("05",))
    assert main(["release", str(tmp_path / "source"), str(tmp_path / "student")]) == 0
    (tmp_path / "source" / "a_copy").mkdir()  # found before the teacher's file
    shutil.copy(tmp_path / "student" / "mygrad.py", tmp_path / "source" / "a_copy" / "mygrad.py")
    capsys.readouterr()
    assert main(["plan", str(tmp_path / "source")]) == 0
    assert "  engine parts that check needs: 03, 04\n" in capsys.readouterr().out


def unmarked(text: str, number: str) -> str:
    """mygrad.py with notebook ``number``'s solution markers taken out, its code kept: parts
    that no stub replaces, which no check can need."""
    lines, inside = [], False
    for line in text.split("\n"):
        if f"### BEGIN SOLUTION see notebook {number}," in line:
            inside = True
        elif inside and "### END SOLUTION" in line:
            inside = False
        else:
            lines.append(line)
    return "\n".join(lines)


def test_each_engine_check_is_measured_on_the_engine_file_beside_its_notebook(tmp_path, capsys):
    """week1/ and week2/ each with the teacher's mygrad.py: the plan measured both notebooks'
    checks on the first file found (week1's), not on the one each notebook imports."""
    engine_notebook(tmp_path / "week1", ("03",))
    engine_notebook(tmp_path / "week2", ("05",))
    text = (tmp_path / "week2" / "mygrad.py").read_text(encoding="utf-8")
    (tmp_path / "week2" / "mygrad.py").write_text(unmarked(text, "04"), encoding="utf-8")
    assert main(["plan", str(tmp_path)]) == 0
    needs = {
        name: fields["engine parts that check needs"]
        for name, fields in blocks(capsys.readouterr().out).items()
    }
    assert needs == {"week1/engine.ipynb": "none from other notebooks", "week2/engine.ipynb": "03"}
    (tmp_path / "week1" / "engine.ipynb").rename(tmp_path / "engine.ipynb")  # beside neither
    assert main(["plan", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        "plan: engine.ipynb checks your engine but has no mygrad.py beside it, and the folder "
        "has several (week1/mygrad.py and week2/mygrad.py): put the one it imports beside it\n"
    )
    (tmp_path / "week2" / "mygrad.py").unlink()  # the folder's only one: that one
    assert main(["plan", str(tmp_path)]) == 0
    shown = blocks(capsys.readouterr().out)
    assert shown["engine.ipynb"]["engine parts that check needs"] == "none from other notebooks"
    assert shown["week2/engine.ipynb"]["engine parts that check needs"] == "03, 04"


def plan_of(title: str, exercises: list, **fields) -> NotebookPlan:
    fields = {"engine_step": None, "engine_exercise": None, "needs": None, **fields}
    return NotebookPlan("01_a.ipynb", title, exercises, prerequisites=None, **fields)


def test_a_line_of_the_text_plan_is_filled_up_to_100_characters_never_past_them():
    # "  graded: a (1), " is 17 characters: a second item of 83 fills the line to 100
    fits = plan_text([plan_of("A", [("a", 1), ("b" * 79, 1)])]).split("\n")
    assert fits[1] == "  graded: a (1), " + "b" * 79 + " (1)"
    wraps = plan_text([plan_of("A", [("a", 1), ("b" * 80, 1)])]).split("\n")
    assert wraps[1:3] == ["  graded: a (1),", " " * 10 + "b" * 80 + " (1)"]
    long = plan_text([plan_of("A", [("c" * 95, 1)])]).split("\n")
    assert long[1] == "  graded: " + "c" * 95 + " (1)"  # never split, not moved off its head
    title = plan_text([plan_of("word " * 30, [("a", 1)])]).split("\n")[0]
    assert len(title) <= 100 and title.startswith("01_a.ipynb: word word") and title.endswith(" …")


def test_the_markdown_table_row_by_row():
    plans = [
        plan_of("01 · A|B", [("a", 1), ("b", 0.5)], self_checks=["nb01.check_c"]),
        NotebookPlan("02_b.ipynb", "02 · B", [("c", 2)], "05", "c", [], ["01"]),
    ]
    assert plan_markdown(plans).split("\n")[2:] == [
        "| 01 · A\\|B | a (1), b (0.5); self-check only, not graded: nb01.check_c | 1.5 | no "
        "|  | not stated |",
        "| 02 · B | c (2) | 2 | c | none from other notebooks | 01 |",
        "| **Course total** | 3 exercises in 2 notebooks | **3.5** | | | |",
    ]


# ---------------------------------------------------------------- what mutation testing found (mutants5)
def imports(path: Path, source: str) -> None:
    """``path`` with a plain cell ``source`` (not graded) after its first."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(1, nbformat.v4.new_code_cell(source))
    nbformat.write(notebook, path)


def test_only_a_notebook_that_checks_the_engine_looks_for_its_engine_file(tmp_path, capsys):
    """A notebook that imports mygrad and checks nothing of it needs no mygrad.py beside it
    (several elsewhere in the folder: the plan refused it); one that checks the engine and has
    none beside it is refused, named by its path in the folder, not its file name."""
    engine_notebook(tmp_path / "week1", ("03",))
    engine_notebook(tmp_path / "week2", ("05",))
    write(tmp_path / "reader.ipynb", "# Reader")
    imports(tmp_path / "reader.ipynb", "import mygrad")
    assert main(["plan", str(tmp_path)]) == 0
    assert blocks(capsys.readouterr().out)["reader.ipynb"]["your engine"] == "no"
    engine_notebook(tmp_path / "week3", ("04",))
    (tmp_path / "week3" / "mygrad.py").unlink()
    assert main(["plan", str(tmp_path)]) == 1
    assert capsys.readouterr().err.startswith(
        "plan: week3/engine.ipynb checks your engine but has no mygrad.py beside it, and the "
        "folder has several (week1/mygrad.py and week2/mygrad.py): "
    )


def test_the_engine_is_measured_on_mygrad_not_another_module_of_solutions_beside_it(
    tmp_path, capsys
):
    """A notebook importing the teacher's helpers.py (a solution in it) beside mygrad.py: its
    engine check was run on helpers.py, the first name in order, and was "not measured"."""
    engine_notebook(tmp_path / "course", ("05",))
    helpers = "def h(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    (tmp_path / "course" / "helpers.py").write_text(helpers, encoding="utf-8")
    imports(tmp_path / "course" / "engine.ipynb", "import helpers")
    assert main(["plan", str(tmp_path / "course")]) == 0
    assert "  engine parts that check needs: 03, 04\n" in capsys.readouterr().out


def test_a_release_copy_beside_the_notebook_is_not_the_teachers_engine_file(tmp_path, capsys):
    """The teacher's mygrad.py in lib/, a release's copy beside the notebook: the teacher's is
    measured, not the copy (its stubs fail every check: "not measured")."""
    engine_notebook(tmp_path / "source", ("05",))
    assert main(["release", str(tmp_path / "source"), str(tmp_path / "student")]) == 0
    (tmp_path / "source" / "lib").mkdir()
    (tmp_path / "source" / "mygrad.py").rename(tmp_path / "source" / "lib" / "mygrad.py")
    shutil.copy(tmp_path / "student" / "mygrad.py", tmp_path / "source" / "mygrad.py")
    capsys.readouterr()
    assert main(["plan", str(tmp_path / "source")]) == 0
    assert "  engine parts that check needs: 03, 04\n" in capsys.readouterr().out


def test_a_part_the_engine_runs_as_it_loads_is_needed_by_every_check(tmp_path, capsys):
    """A part of notebook 15 that mygrad.py runs as it loads, beside a line that reads the
    file's own path: with its stub the file does not load, and every check needs it, a later
    notebook's part as well as an earlier one's (a file that did not load counted as passing)."""
    engine_notebook(tmp_path / "course", ("05",))
    engine = tmp_path / "course" / "mygrad.py"
    part = '### BEGIN SOLUTION see notebook 15, "Your engine"\nSCALE = 1.0\n### END SOLUTION\n'
    text = engine.read_text(encoding="utf-8") + "\n" + part + "HERE = (__file__, SCALE)\n"
    engine.write_text(text, encoding="utf-8")
    assert main(["plan", str(tmp_path / "course")]) == 0
    assert "  engine parts that check needs: 03, 04, 15\n" in capsys.readouterr().out
