"""Claims of docs/teaching.md that a teacher follows literally, checked by doing what it says.

"The three steps" shows what `grade` printed for a class of four (ada, alan, grace, linus) on
notebook 05; the page had gone stale: ada's row, who handed in the teacher's own `mygrad.py`,
now says it is the teacher's solution, and the lines "By exercise: ..." follow the table. The
test builds that class from the release, grades it with the page's command and compares what
the command prints, the CSV and alan's feedback with the page's blocks. "The release in detail"
said that in notebook 12 every code cell after the SiLU exercise loses its outputs but one; the
release clears five cells besides the exercises' own.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from backproplab.classroom.__main__ import main
from backproplab.classroom.release import release

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
NB05 = "05_matmul_gradients.ipynb"


def page_block(after: str) -> str:
    """The text of the first ```text block after the sentence ``after`` on the page."""
    start = PAGE.index(after)
    match = re.compile(r"```text\n(.*?)```", re.S).search(PAGE, start)
    assert match is not None, after
    return match[1]


def _write_answer(notebook: Path, grade_id: str, source: str) -> None:
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(cells) == 1, grade_id
    cells[0].source = source
    nbformat.write(nb, notebook)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, str, str]:
    """The page's class of four, graded with the page's command: (folder, stdout, stderr)."""
    where = tmp_path_factory.mktemp("teacher")
    teacher = where / "notebooks"
    teacher.mkdir()
    shutil.copy(ROOT / "notebooks" / NB05, teacher)
    shutil.copy(ROOT / "notebooks" / "mygrad.py", teacher)
    release(teacher, where / "student")
    student, sub = where / "student", where / "submitted"
    for name in ("ada", "alan", "linus"):
        (sub / name).mkdir(parents=True)
    shutil.copy(teacher / NB05, sub / "ada")  # the teacher's notebook and mygrad.py
    shutil.copy(teacher / "mygrad.py", sub / "ada")
    shutil.copy(student / NB05, sub / "alan")  # dL_db written, dL_dW divided by the batch size
    shutil.copy(student / "mygrad.py", sub / "alan")
    _write_answer(sub / "alan" / NB05, "nb05-dL_db", "def dL_db(G):\n    return G.sum(axis=0)")
    _write_answer(
        sub / "alan" / NB05, "nb05-dL_dW", "def dL_dW(X, G):\n    return G.T @ X / len(X)"
    )
    shutil.copy(student / NB05, sub / "grace.ipynb")  # the release's notebook alone
    shutil.copy(student / NB05, sub / "linus" / "05_matmul_gradients-Copy1.ipynb")
    shutil.copy(student / "mygrad.py", sub / "linus")
    return where, sub, teacher


@pytest.fixture(scope="module")
def printed(graded, monkeypatch_module) -> tuple[str, str]:
    where, _, _ = graded
    monkeypatch_module.chdir(where)
    out, err = io.StringIO(), io.StringIO()
    command = "grade submitted/ --source notebooks/ --timeout 60 --jobs 2"
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*command.split(), "--csv", "scores.csv", "--feedback", "feedback/"])
    assert code == 0, err.getvalue()
    return out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_page_shows_what_grade_prints_for_its_class(printed):
    out, err = (DRAW.sub(r"\1N", text) for text in printed)  # a fresh draw each grading
    block = DRAW.sub(
        r"\1N", page_block("For the class above (ada handed in the teacher's notebook")
    )
    first, *graded_lines = [line for line in block.splitlines() if line.startswith("grade")]
    assert first == "grade: checks' inputs drawn with --check-draw N"  # said first, on stderr
    assert graded_lines == ["graded ada: 7", "graded alan: 1", "graded grace: 0", "graded linus: 0"]
    said = err.splitlines()
    assert said[0] == first and sorted(said[1:]) == graded_lines  # in the order students finish
    table = "".join(line + "\n" for line in block.splitlines() if not line.startswith("grade"))
    assert out == table


DRAW = re.compile(r"(--check-draw )\d+")


def test_the_page_shows_the_csv_and_alans_feedback(graded, printed):
    where, _, _ = graded
    csv_block = page_block("`scores.csv`\nholds the same table:")
    assert (where / "scores.csv").read_text(encoding="utf-8").replace("\r\n", "\n") == csv_block
    feedback = page_block("This is `feedback/alan.txt`:")
    assert (where / "feedback" / "alan.txt").read_text(encoding="utf-8").strip() == (
        feedback.strip()
    )
    last = page_block("and the last line of `feedback/grace.txt`").strip()
    assert (where / "feedback" / "grace.txt").read_text(encoding="utf-8").strip().endswith(last)
    assert sorted(p.name for p in (where / "feedback").iterdir()) == [
        "ada.txt",
        "alan.txt",
        "grace.txt",
        "linus.txt",
    ]


def test_the_release_of_notebook_12_clears_four_cells_besides_the_exercises(tmp_path):
    shutil.copy(ROOT / "notebooks" / "12_your_own_layers.ipynb", tmp_path)
    shutil.copy(ROOT / "notebooks" / "mygrad.py", tmp_path)
    release(tmp_path, tmp_path / "student")
    teacher = nbformat.read(tmp_path / "12_your_own_layers.ipynb", as_version=4)
    student = nbformat.read(tmp_path / "student" / "12_your_own_layers.ipynb", as_version=4)
    by_id = {cell.id: cell for cell in student.cells}
    cleared = [
        cell.source.split("\n", 1)[0]
        for cell in teacher.cells
        if cell.cell_type == "code"
        and cell.outputs
        and "nbgrader" not in cell.metadata
        and cell.id in by_id
        and not by_id[cell.id].outputs
    ]
    assert cleared == [
        'silu = bl.Op("silu", lambda x: x / (1 + np.exp(-x)), silu_vjp)',
        "target = rng.standard_normal(8)",
        "x_line = np.linspace(-2, 2, 40)",
        "nb12.check_training_run(train_digits)",
    ]
    broken_run = [c for c in student.cells if c.source.startswith("softsign_op = bl.Op(")]
    assert len(broken_run) == 1 and broken_run[0].outputs  # it runs no solution: kept
    huber_slope = [c for c in student.cells if c.source.startswith('r = sp.Symbol("r"')]
    assert len(huber_slope) == 1 and huber_slope[0].outputs  # the sympy cell keeps its output
    assert "four cells\nbesides the exercises' own" in PAGE


def test_the_table_of_an_assignment_has_its_notebooks_columns_as_the_csv_has(
    tmp_path, monkeypatch, capsys
):
    """ "Over a term": with --notebooks the columns and points are those notebooks' (12 points
    for 04 and 05) even if no one handed one in. The CSV had them; the table printed in the
    terminal had only the notebooks handed in: a late student with notebook 04 alone was
    "0 of 5" on screen and "0 of 12" in the CSV."""
    for name in ("04_inside_the_engine.ipynb", "05_matmul_gradients.ipynb", "mygrad.py"):
        shutil.copy(ROOT / "notebooks" / name, tmp_path)
    release(tmp_path, tmp_path / "student")
    (tmp_path / "late" / "carol").mkdir(parents=True)
    for name in ("04_inside_the_engine.ipynb", "mygrad.py"):
        shutil.copy(tmp_path / "student" / name, tmp_path / "late" / "carol")
    (tmp_path / "teacher").mkdir()
    for name in ("04_inside_the_engine.ipynb", "05_matmul_gradients.ipynb", "mygrad.py"):
        shutil.move(tmp_path / name, tmp_path / "teacher")
    monkeypatch.chdir(tmp_path)
    command = "grade late/ --source teacher/ --notebooks 04 05 --csv w3.csv"
    assert main(command.split()) == 0
    table = capsys.readouterr().out.split("\n\n")[0].splitlines()
    header, row = table[0].split(), table[2].split()
    csv_header, csv_row = (tmp_path / "w3.csv").read_text(encoding="utf-8").splitlines()
    assert header == csv_header.split(",")
    assert header[5:12] == ["nb05-dL_dX", "nb05-dL_dW", "nb05-dL_db", "nb05-dL_dW_column",
                            "nb05-bilinear_grads", "nb05-mygrad", "score"]  # fmt: skip
    assert row == ["carol", "0", "0", "0", "0", "0", "12"]
    assert csv_row == "carol,0,0,0,0,,,,,,,0,12,"


def test_the_nbgrader_route_has_the_config_written_before_the_assignment_is_generated():
    """Followed top to bottom, "With nbgrader" had the teacher run generate_assignment first and
    write nbgrader_config.py after it ("Before autograding"): the student version kept the
    worked answers that hide_worked_answers(c) removes, and running the command again printed
    "Skipping existing assignment" and changed nothing."""
    section = PAGE[PAGE.index("## With nbgrader") : PAGE.index("### nbgrader is for a class")]
    config = section.index("hide_worked_answers(c)  # generate_assignment")
    first_run = re.search(r"^nbgrader generate_assignment ps1 ", section, re.M)
    assert first_run is not None
    assert config < first_run.start()
    assert "nbgrader generate_assignment ps1 --force" in section


def test_files_in_no_students_folder_are_named_before_anyone_is_graded(tmp_path, monkeypatch):
    """A download with every file side by side in one folder (the student in each name) gave
    each notebook a student of its own and each mygrad.py to no one: every engine check scored
    0 with "mygrad.run was not found" and nothing said why. The page quotes the line."""
    flat = tmp_path / "submitted"
    flat.mkdir()
    for name in ("lovelaceada_1042_mygrad.py", "lovelaceada_1042_notes.txt", "turingalan_1043_mygrad.py",
                 "turingalan_1043_mygrad-1.py", ".DS_Store"):  # fmt: skip
        (flat / name).write_text("", encoding="utf-8")
    (tmp_path / "hw").mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "exercises.ipynb", tmp_path / "hw")
    monkeypatch.chdir(tmp_path)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["grade", "submitted/", "--source", "hw/"]) == 1  # no notebook
    said = err.getvalue().splitlines()
    assert said[0] == page_block("for such a\ndownload it printed").strip()
    assert said[1] == "grade: no notebooks found in submitted/"


def test_the_page_says_to_install_into_a_virtual_environment():
    """A teacher on Debian's Python followed the README's `pip install -e ".[dev]"` and got
    "error: externally-managed-environment": the page says to make a virtual environment."""
    setup = PAGE[: PAGE.index("## The three steps")]
    assert "python3 -m venv .venv && . .venv/bin/activate" in setup
    assert "externally-managed-environment" in setup


def _bash_block(after: str) -> str:
    """The first ```bash block after the heading ``after``, its continuation lines joined."""
    start = PAGE.index(after)
    match = re.compile(r"```bash\n(.*?)```", re.S).search(PAGE, start)
    assert match is not None, after
    return match[1].replace("\\\n", " ")


def test_a_first_assignment_is_on_the_first_screens():
    """The page was 1,201 lines with the first assignment's steps spread over its first 230 (the
    notebooks' metadata first, `--notebooks` only in "Over a term"): a teacher reading the page
    to release, collect and grade once now finds all three before the reference begins."""
    top = PAGE[: PAGE.index("## What grade prints")]
    assert top.count("\n") < 150
    for heading in ("### 1. Make the student release", "### 2. Collect the submissions",
                    "### 3. Grade", "### Words on this page"):  # fmt: skip
        assert heading in top


def test_the_first_assignments_commands_do_what_the_page_says(tmp_path, monkeypatch, capsys):
    """Steps 1 and 3 followed literally for notebooks 01-03, with one student who handed in the
    untouched release of notebook 01 and mygrad.py: the columns are the three notebooks'
    exercises, the points their total (read here from the notebooks' metadata), and the
    feedback says "not handed in" for 02 and 03."""
    names = ["01_why_backprop.ipynb", "02_chain_rule.ipynb", "03_computational_graph.ipynb"]
    teacher = tmp_path / "notebooks"
    teacher.mkdir()
    for name in [*names, "mygrad.py"]:
        shutil.copy(ROOT / "notebooks" / name, teacher)
    monkeypatch.chdir(tmp_path)
    release_line = _bash_block("### 1. Make the student release").split()
    assert release_line[:3] == ["python", "-m", "backproplab.classroom"]
    assert main(release_line[3:]) == 0
    assert capsys.readouterr().out == "wrote 3 student notebooks to student/\n"
    (tmp_path / "submitted" / "dan").mkdir(parents=True)
    for name in ("01_why_backprop.ipynb", "mygrad.py"):
        shutil.copy(tmp_path / "student" / name, tmp_path / "submitted" / "dan")
    grade_line = _bash_block("### 3. Grade").split()
    assert grade_line[:4] == ["python", "-m", "backproplab.classroom", "grade"]
    assert "--notebooks" in grade_line
    assert main(grade_line[3:]) == 0
    columns, points = [], 0
    for name in names:
        for cell in nbformat.read(teacher / name, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and meta.get("grade_id", "").endswith("-check"):
                columns.append(meta["grade_id"].removesuffix("-check"))
                points += meta["points"]
    header, row = (tmp_path / "scores.csv").read_text(encoding="utf-8").splitlines()
    assert header.split(",") == ["student", *columns, "score", "points", "problems"]
    assert row.split(",")[-3:] == ["0", f"{points:g}", ""]
    feedback = (tmp_path / "feedback" / "dan.txt").read_text(encoding="utf-8")
    for name in names[1:]:
        assert f"{name}: not handed in" in feedback
    assert "01_why_backprop.ipynb (handed in as 01_why_backprop.ipynb): 0 of" in feedback


def test_with_the_release_as_source_no_answer_is_called_the_teachers_solution(
    tmp_path, monkeypatch
):
    """The options and the container recipe grade with the student release as --source; the
    page did not say that its rows then never flag a copy of the teacher's solutions (found
    grading a student who had pasted the teacher's answers into notebooks 01-03: 14 of 14 and an
    empty problems column, against eight flagged answers with notebooks/ as --source)."""
    assert 'no row says "the\n  answer is the teacher\'s solution"' in PAGE
    teacher = tmp_path / "notebooks"
    teacher.mkdir()
    for name in ("01_why_backprop.ipynb", "mygrad.py"):
        shutil.copy(ROOT / "notebooks" / name, teacher)
    release(teacher, tmp_path / "student")
    (tmp_path / "submitted" / "ada").mkdir(parents=True)
    shutil.copy(teacher / "01_why_backprop.ipynb", tmp_path / "submitted" / "ada")
    shutil.copy(tmp_path / "student" / "mygrad.py", tmp_path / "submitted" / "ada")
    monkeypatch.chdir(tmp_path)
    problems = {}
    for source in ("notebooks", "student"):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert main(["grade", "submitted/", "--source", source, "--csv", f"{source}.csv"]) == 0
        header, row = (tmp_path / f"{source}.csv").read_text(encoding="utf-8").splitlines()
        assert header.endswith(",score,points,problems")
        problems[source] = row
    assert "the answer is the teacher's solution" in problems["notebooks"]
    assert problems["student"].endswith(",5,5,")  # every point, and no problem named


# The page's numbers a teacher plans with (counts, points, limits), each computed again from the
# notebooks (``course_plan``, as `plan` reads them) or from the constant that decides it. Timings
# are not tied: they are dated runs.

FLAT = re.sub(r"\s+", " ", PAGE)  # the page with its line breaks as spaces
WORDS = {word: k for k, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split()
)}  # fmt: skip


def stated(pattern: str) -> list[str]:
    """The groups of ``pattern``'s one match on the page (whitespace collapsed)."""
    found = re.findall(pattern, FLAT)
    assert len(found) == 1, (pattern, found)
    return list(found[0]) if isinstance(found[0], tuple) else [found[0]]


def number(text: str) -> int:
    return int(text) if text.isdigit() else WORDS[text.lower()]


def notebooks(text: str) -> set[str]:
    """ "03, 04, 05 and 07–12" as {"03", "04", "05", "07", ..., "12"}."""
    found = set()
    for item in re.split(r",\s*|\s+and\s+", text):
        first, _, last = item.partition("–")
        found |= {f"{k:02d}" for k in range(int(first), int(last or first) + 1)}
    return found


@pytest.fixture(scope="module")
def plans():
    from backproplab.classroom.plan import course_plan

    return {plan.name[:2]: plan for plan in course_plan(ROOT / "notebooks")}


def test_the_page_counts_the_notebooks_as_plan_and_release_do(plans):
    written = len(list((ROOT / "notebooks").glob("*.ipynb")))  # what release writes
    assert len(plans) == written
    for pattern in (r"\*\*What this is\.\*\* (\w+) Jupyter notebooks that teach",
                    r"makes a learner's own copy of all (\w+) notebooks",
                    r"without opening (\w+) notebooks:",
                    r"It prints `wrote (\d+) student notebooks to student/`"):  # fmt: skip
        assert [number(n) for n in stated(pattern)] == [written], pattern


def test_the_page_names_the_notebooks_with_an_engine_check_and_its_points(plans):
    engine = {nb for nb, plan in plans.items() if plan.engine_step}
    assert [number(n) for n in stated(r"(\w+) notebooks also have the learner grow an engine")] == [
        len(engine)
    ]
    for pattern in (r"the section at the end of notebooks ([\d, –and]+?) in which the learner",
                    r"Notebooks ([\d, –and]+?) each end with a section \"Your engine\"",
                    r"the `mygrad.py` that notebooks ([\d, –and]+?) import"):  # fmt: skip
        assert notebooks(stated(pattern)[0]) == engine, pattern
    points = {p for plan in plans.values() for e, p in plan.exercises if e == plan.engine_exercise}
    assert [{int(n)} for n in stated(r"its check \((\d+) points\) compares their engine")] == [
        points
    ]
    assert [{int(n)} for n in stated(r"`nbNN-mygrad-check`, (\d+) points\)")] == [points]
    trains = set()  # the notebooks whose cells train the digits with the learner's engine
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        cells = nbformat.read(path, as_version=4).cells
        if any("trains with your engine" in c.source for c in cells if c.cell_type == "code"):
            trains.add(path.name[:2])
    assert notebooks(stated(r"In notebooks ([\d, and]+?) the learner's engine then trains")[0]) == (
        trains
    )


def test_the_page_names_the_checks_that_give_no_points(plans):
    challenges, replay = stated(r"the challenges of ([\d, and]+?) and (\d\d)'s optional replay")
    with_self_checks = {nb for nb, plan in plans.items() if plan.self_checks}
    assert notebooks(challenges) | {replay} == with_self_checks
    assert plans[replay].self_checks == [f"nb{replay}.check_replay"]


def test_the_points_the_page_gives_an_assignment(plans):
    """Step 3's class of notebooks 01-03 ("graded ada: 16" for a student with every point),
    "Over a term"'s 04 and 05, and nbgrader's grading of notebook 05."""
    grade_line = _bash_block("### 3. Grade").split()
    first = grade_line[grade_line.index("--notebooks") + 1 : grade_line.index("--timeout")]
    assert first == ["01", "02", "03"]
    assert [int(n) for n in stated(r"\(`graded ada: (\d+)`\)")] == [
        sum(plans[nb].points for nb in first)
    ]
    later = plans["04"].points + plans["05"].points
    assert [int(n) for n in stated(r"\((\d+) points for 04 and 05\)")] == [later]
    assert [int(n) for n in stated(r"on top of the assignment's (\d+),")] == [later]
    full, _, _, total = stated(r"scored them (\d+), (\d+) and (\d+) of (\d+),")
    assert int(full) == int(total) == plans["05"].points  # ada handed in the teacher's notebook


def test_the_exercises_the_page_names_by_number_are_those_of_the_notebooks():
    """ "What the tags cannot hide" names exercises of notebooks 07 and 08 by their headings."""
    for notebook, grade_id, pattern in [
        ("07", "nb07-softmax_jacobian", r"08 writes out the softmax Jacobian, 07's Exercise (\d)"),
        ("07", "nb07-sigmoid_backward", r"σ′ = σ\(1 − σ\), 07's Exercise (\d)"),
        ("08", "nb08-stable_log_softmax", r"by their maximum, 08's Exercise (\d)"),
        ("08", "nb08-cross_entropy_grad", r"most of notebook 08's Exercise (\d)"),
    ]:
        (path,) = (ROOT / "notebooks").glob(f"{notebook}_*.ipynb")
        heading = None
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown" and (
                found := re.search(r"^#+ .*?Exercise (\d+)", cell.source, re.M)
            ):
                heading = found[1]
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                break
        assert stated(pattern) == [heading], grade_id


def test_the_limits_the_page_states_are_the_graders(monkeypatch):
    """The options' defaults as the command parses them, and the grader's constants."""
    import backproplab.classroom.__main__ as cli
    from backproplab.classroom._copies import MAX_COPIES
    from backproplab.classroom._kernel import WALL_FACTOR
    from backproplab.classroom._same_code import MIN_STATEMENTS
    from backproplab.classroom.grading import MAX_NOTEBOOK_MB, Limits
    from backproplab.exercises import _draws, nb08

    parsed = []
    monkeypatch.setattr(cli, "_grade", lambda args: parsed.append(args) or 0)
    assert main(["grade", "submitted/", "--source", "notebooks/"]) == 0
    (args,) = parsed
    assert [float(n) for n in stated(r"`--timeout` \(default (\d+)\)")] == [args.timeout]
    assert [int(n) for n in stated(r"`--memory` \(default (\d+)\)")] == [args.memory]
    assert [int(n) for n in stated(r"`--jobs` \(default (\d+)\)")] == [args.jobs]
    assert args.budget is None  # then Limits' default:
    factor = number(stated(r"`--budget` \(default (\w+) times `--timeout`\)")[0])
    assert Limits(timeout=args.timeout).notebook_seconds == factor * args.timeout
    assert number(stated(r"after (\w+) times `--timeout` on the wall clock \(")[0]) == WALL_FACTOR
    assert number(stated(r"(\w+) is above the slowdown we saw")[0]) == WALL_FACTOR
    assert [int(n) for n in stated(r"a notebook over (\d+) MB")] == [MAX_NOTEBOOK_MB]
    assert number(stated(r"At most (\w+) copies of one notebook are graded")[0]) == MAX_COPIES
    assert number(stated(r"Only solutions of (\w+) statements or more")[0]) == MIN_STATEMENTS
    k, most, mb = stated(r"with K = (\d+) and refuses it when the call takes more than K²/(\d) "
                         r"bytes \((\d+) MB")  # fmt: skip
    assert int(k) == nb08._BIG_K and nb08._MATRIX_BYTES == int(k) ** 2 // int(most)
    assert int(mb) * 10**6 == nb08._MATRIX_BYTES
    bounds = []
    monkeypatch.setattr(_draws.secrets, "randbelow", lambda n: bounds.append(n) or 0)
    _draws.fresh_draw()
    assert stated(r"A table of answers for every draw is out of reach \(a (\w+) draws\)") == [
        {10**9: "billion"}[bounds[0]]
    ]


def test_the_page_says_what_test_mygrad_checks():
    source = (ROOT / "tests" / "test_mygrad.py").read_text(encoding="utf-8")
    programs, percent = stated(r"agrees with the package on (\d+) random programs and trains the "
                               r"digits to at least (\d+) %")  # fmt: skip
    assert re.search(
        rf'parametrize\("seed", range\({programs}\)\)\ndef test_gradients_agree', source
    )
    assert f">= {int(percent) / 100}" in source
