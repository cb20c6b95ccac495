"""Autograding a class that tries to cheat: every attack of issue 17, graded in one run.

The teacher's notebook is put together from five real exercises of the curriculum (their
solution and check cells, taken from notebooks/ by grade_id), so the real checks of
backproplab.exercises judge them: a data exercise (nb05 dL_db), one whose package twin exists
(nb07 sigmoid_backward), one on a Tensor graph (nb04 topo_order, worth 2 points here: points come
from this source), one whose check passes its own function (nb01 central_difference_gradient)
and one returning a Tensor that must backpropagate (nb11 residual_block). Full marks: 6.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from backproplab.classroom import grading, release
from backproplab.classroom.__main__ import main
from backproplab.classroom._sandbox import PlatformError
from backproplab.classroom.grading import Limits, feedback_status

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "exercises.ipynb"
TIMEOUT = 8  # CPU seconds per cell: the cells here take well under a second
BUDGET = 18  # CPU seconds per notebook (see the graded fixture)
NAME = "assignment.ipynb"
EXERCISES = [  # (notebook, exercise grade_id, points in this teacher source)
    ("05_matmul_gradients", "nb05-dL_db", 1),
    ("07_layers_and_losses", "nb07-sigmoid_backward", 1),
    ("04_inside_the_engine", "nb04-topo_order", 2),
    ("01_why_backprop", "nb01-central_difference_gradient", 1),
    ("11_skip_connections", "nb11-residual_block", 1),
]
COLUMNS = [grade_id for _, grade_id, _ in EXERCISES]
IMPORTS = (
    "import os\nimport numpy as np\nimport backproplab as bl\n"
    "from backproplab.exercises import nb01, nb04, nb05, nb07, nb11"
)


def teacher_notebook() -> nbformat.NotebookNode:
    """Imports, then each exercise's solution and check cells copied from the curriculum."""
    cells = [nbformat.v4.new_code_cell(IMPORTS)]
    for stem, grade_id, points in EXERCISES:
        source = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
        ids = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source.cells}
        solution, check = ids[grade_id], ids[f"{grade_id}-check"]
        check = nbformat.from_dict(check)
        check.metadata["nbgrader"]["points"] = points
        cells += [nbformat.from_dict(solution), check]
    cells.append(nbformat.v4.new_code_cell('print("the end")'))
    return nbformat.v4.new_notebook(cells=cells, metadata={})


def cell_of(notebook, grade_id):
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(grade_id)


def with_bodies(notebook, **bodies: str):
    """A copy of the student ``notebook`` with the stub of each named function replaced."""
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        for name, body in bodies.items():
            if f"def {name}(" in cell.source and "# YOUR CODE HERE" in cell.source:
                cell.source = cell.source[: cell.source.index("    # YOUR CODE HERE")] + body
    return notebook


def replace_solution(notebook, name: str, body: str):
    """A copy of the teacher's ``notebook`` with the solution of function ``name`` replaced."""
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        if f"def {name}(" in cell.source:
            start = cell.source.index("    ### BEGIN SOLUTION")
            end = cell.source.index("### END SOLUTION") + len("### END SOLUTION")
            cell.source = cell.source[:start] + body + cell.source[end:]
    return notebook


def add_cells(notebook, *sources: str, at: int | None = None):
    notebook = nbformat.from_dict(notebook)
    new = [nbformat.v4.new_code_cell(source) for source in sources]
    at = len(notebook.cells) if at is None else at
    notebook.cells[at:at] = new
    return notebook


PATCH_CHECKS = """
import backproplab.exercises as ex
from backproplab.exercises import Feedback
for module in (nb01, nb04, nb05, nb07, nb11):
    for name in dir(module):
        if name.startswith("check_"):
            setattr(module, name, lambda fn, _n=name: ex.correct(_n))
Feedback.__str__ = lambda self: f"{self.exercise}: ✔ correct — well done."
Feedback.status = "correct"
ex.attempt = lambda exercise, fn, *a, **k: None
"""

TOPO_SPACED = (  # the teacher's topo_order, its comments, spacing and blank lines changed
    "    # my own work\n"
    "    order , visited = [ ], set( )\n\n"
    "    stack = [ (root, False) ]\n"
    "    while stack :  # until every node is out\n"
    "        node, done = (stack.pop())\n"
    "        if done: order.append(node)\n"
    "        elif id(node) not in visited:\n\n"
    "            visited.add(id(node))\n"
    "            stack.append((node, True))\n"
    "            for parent in node.inputs:\n"
    "                if parent.requires_grad:\n"
    "                    stack.append(\n                        (parent, False)\n                    )\n"
    "    return order\n"
)
TOPO_OWN = (  # a right answer of the student's own: each node's inputs walked by an iterator
    "    result, seen = [], {id(root)}\n"
    "    todo = [(root, iter(root.inputs))]\n"
    "    while todo:\n"
    "        t, rest = todo[-1]\n"
    "        for x in rest:\n"
    "            if x.requires_grad and id(x) not in seen:\n"
    "                seen.add(id(x))\n"
    "                todo.append((x, iter(x.inputs)))\n"
    "                break\n"
    "        else:\n"
    "            todo.pop()\n"
    "            result.append(t)\n"
    "    return result\n"
)
COPIED = "the answer is the teacher's solution (the same code, comments and spacing aside)"

STUCK = (
    "    import time\n    while True:\n        try:\n            time.sleep(0.05)\n"
    "        except KeyboardInterrupt:\n            pass"
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the whole class with the CLI (--jobs 2); return (rows, root, folder, csv, seconds)."""
    root = tmp_path_factory.mktemp("class")
    teacher_dir = root / "teacher"
    teacher_dir.mkdir()
    teacher = teacher_notebook()
    nbformat.write(teacher, teacher_dir / NAME)
    release(teacher_dir, root / "student")
    blank = nbformat.read(root / "student" / NAME, as_version=4)
    folder = root / "submitted"
    escaped = root / "escaped"  # where a detached child tries to write after the grading
    scores = root / "out" / "scores.csv"
    scores.parent.mkdir()

    renamed = nbformat.from_dict(blank)  # self-written checks, their points set to 100
    for cell in renamed.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = 'print("✔ correct")'
            cell.metadata["nbgrader"]["points"] = 100
    inflated = with_bodies(blank, dL_db="    return G.sum(axis=0)")
    check = cell_of(inflated, "nb05-dL_db-check")
    check.metadata["nbgrader"]["points"] = 100
    position = inflated.cells.index(check)
    copies = [nbformat.from_dict(check) for _ in range(5)]
    for k, copy in enumerate(copies):  # pasted copies get new cell ids, as in JupyterLab
        copy.id = f"copy-{k}"
    inflated.cells[position:position] = copies
    own = nbformat.v4.new_code_cell("print('✔ correct')")
    own.metadata["nbgrader"] = {"grade": True, "grade_id": "mine", "points": 50}
    no_id = nbformat.v4.new_code_cell("1 + 1")
    no_id.metadata["nbgrader"] = {"grade": True, "points": 1}
    lots = nbformat.v4.new_code_cell("2 + 2")
    lots.metadata["nbgrader"] = {"grade": True, "grade_id": "x", "points": "lots"}
    inflated.cells += [own, no_id, lots]

    detach = (  # two children that append to a file every 0.2 s, forever
        "import subprocess\n"
        f"loop = 'while true; do echo x >> {escaped}; sleep 0.2; done'\n"
        "subprocess.Popen(['sh', '-c', loop], start_new_session=True)\n"
        "if os.fork() == 0:\n"  # a double fork leaving the process group as well
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        while True:\n"
        f"            open('{escaped}2', 'a').write('x')\n"
        "            time.sleep(0.2)\n"
        "    os._exit(0)\n"
    )
    submissions = {
        "full": teacher,
        "blank": blank,
        "wrong": replace_solution(teacher, "dL_db", "    return G.sum(axis=0) / len(G)"),
        "patcher": add_cells(blank, PATCH_CHECKS, at=2),
        "patcher_solved_none": add_cells(blank, PATCH_CHECKS),
        "inflated": inflated,
        "package": with_bodies(
            blank,
            dL_db="    import sys\n"  # the module fetched at run time: no import names it
            "    _reference = sys.modules['backproplab.exercises.nb05']._reference\n"
            "    X, W, b = np.zeros((len(G), 3)), np.zeros((G.shape[1], 3)), np.zeros(G.shape[1])\n"
            "    return _reference(X, W, b, G)['b']",
            sigmoid_backward="    return bl.ops.sigmoid.vjp(g, out, None)[0]",
            topo_order="    return bl.toposort(root)",
        ),
        "copier": replace_solution(  # the engine's toposort, printed before the exercise, copied
            teacher,
            "topo_order",
            "    found, stack = {id(root): root}, [root]\n"
            "    while stack:\n"
            "        for x in stack.pop().inputs:\n"
            "            if x.requires_grad and id(x) not in found:\n"
            "                found[id(x)] = x\n"
            "                stack.append(x)\n"
            "    return sorted(found.values(), key=lambda t: t.seq)",
        ),
        "killer": add_cells(  # (the sleep: the kernel dies in this cell, not at the next one)
            teacher,
            "import signal, time\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(3)",
            at=3,
        ),
        "detacher": add_cells(teacher, "import time\n" + detach, at=1),
        "overwriter": add_cells(
            teacher,
            f"open({str(folder / 'full' / NAME)!r}, 'w').write('{{}}')\n"
            "open('../scores.csv', 'w').write('pwned')\nopen('scores.csv', 'w').write('pwned')",
            at=1,
        ),
        "impostor": add_cells(  # replaces the CSV with its own (it knows the absolute path)
            teacher,
            f"os.replace({str(scores)!r}, {str(scores)!r} + '.old')\n"
            f"open({str(scores)!r}, 'w').write('student,score\\nimpostor,1000\\n')",
            at=1,
        ),
        # 12 x 2.5 s of waiting. It is stopped once its wall-clock time passes BUDGET + 5 x its
        # CPU time c, which (its other cells taking about c of wall-clock time) needs
        # 2.5 x cells > 18 + 4 c: with 8 cells, c < 0.5 s (0.17 s here, 0.22 s in CI: a machine
        # 3 times slower ran it to the end unflagged; tried with a cell computing 1.6 s more),
        # with 12, c < 3 s. It stops at the first cell past the limit: no slower where 8 did.
        "sleeper": add_cells(teacher, *["import time\ntime.sleep(2.5)"] * 12, at=1),
        "hog": add_cells(teacher, "big = np.ones(400_000_000)", at=1),
        "loop": replace_solution(teacher, "dL_db", "    while True:\n        pass"),
        "spaced": with_bodies(blank, topo_order=TOPO_SPACED, dL_db="    return G.sum(axis=0)"),
        "own": with_bodies(blank, topo_order=TOPO_OWN),
        "stuck": replace_solution(teacher, "dL_db", STUCK),
    }
    for student, notebook in submissions.items():
        (folder / student).mkdir(parents=True)
        nbformat.write(notebook, folder / student / NAME)
    (folder / "renamed").mkdir()
    nbformat.write(renamed, folder / "renamed" / "assignment-Copy1.ipynb")
    (folder / "twice").mkdir()
    nbformat.write(teacher, folder / "twice" / NAME)
    nbformat.write(teacher, folder / "twice" / "again.ipynb")
    (folder / "mallory.ipynb").write_text("not json")  # a flat file: the student is "mallory"

    arguments = ["grade", str(folder), "--source", str(teacher_dir), "--timeout", str(TIMEOUT)]
    # a budget well above one cell's timeout (the loop student's 8 s of CPU fit in it), below
    # the sleeper's 12 x 2.5 s of waiting (no CPU time: past the notebook's wall-clock cap)
    arguments += ["--budget", str(BUDGET), "--memory", "1536", "--jobs", "2"]
    arguments += ["--csv", str(scores), "--feedback", str(root / "out" / "feedback")]
    start = time.monotonic()
    assert main(arguments) == 0
    seconds = time.monotonic() - start
    with scores.open() as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    return rows, root, folder, escaped, seconds


def scores(row) -> list[str]:
    return [row[column] for column in COLUMNS]


def test_columns_and_points_come_from_the_teacher(graded):
    rows = graded[0]
    assert list(next(iter(rows.values()))) == ["student", *COLUMNS, "score", "points", "problems"]
    assert all(row["points"] == "6" for row in rows.values())


@pytest.mark.parametrize(
    "student, expected",
    [
        ("full", ["1", "1", "2", "1", "1"]),
        ("blank", ["0", "0", "0", "0", "0"]),
        ("wrong", ["0", "1", "2", "1", "1"]),
        # 1. patching checks, Feedback and attempt in the kernel changes nothing
        ("patcher", ["0", "0", "0", "0", "0"]),
        ("patcher_solved_none", ["0", "0", "0", "0", "0"]),
        # 2. a renamed notebook with self-written checks is still found and judged
        ("renamed", ["0", "0", "0", "0", "0"]),
        # 3. points 100, five copies of the check, a graded cell of one's own: still 1
        ("inflated", ["1", "0", "0", "0", "0"]),
        # 7. answers taken from the package score 0
        ("package", ["0", "0", "0", "0", "0"]),
        # 8. the engine's own order (sorted by creation number) copied: the kernel's graph carries
        # the check's made-up numbers, so it fails there as in the self-check
        ("copier", ["1", "1", "0", "1", "1"]),
        # 5. killing the kernel's parent, detaching children, overwriting others
        ("killer", ["1", "0", "0", "0", "0"]),  # its kernel died after the first check
        ("detacher", ["1", "1", "2", "1", "1"]),
        ("overwriter", ["1", "1", "2", "1", "1"]),
        ("twice", ["1", "1", "2", "1", "1"]),
        ("hog", ["1", "1", "2", "1", "1"]),
        ("loop", ["0", "1", "2", "1", "1"]),
        # an answer that is the teacher's solution scores what its check says
        ("spaced", ["1", "0", "2", "0", "0"]),
        ("own", ["0", "0", "2", "0", "0"]),
    ],
)
def test_scores(graded, student, expected):
    row = graded[0][student]
    assert scores(row) == expected, row["problems"]
    assert row["score"] == f"{sum(int(s) for s in expected)}"


def test_extra_and_repeated_graded_cells_are_listed(graded):
    problems = graded[0]["inflated"]["problems"]
    assert problems.count("repeats the check nb05-dL_db-check: ignored") == 5
    assert "graded cell 'mine' that assignment.ipynb does not have" in problems
    assert "graded cell without a grade_id" in problems
    assert "graded cell 'x'" in problems  # points "lots": listed, no crash


def test_two_copies_count_once(graded):
    row = graded[0]["twice"]
    assert row["score"] == "6"
    assert "another copy of assignment.ipynb (scored 6): only the best counts" in row["problems"]


def test_package_answers_name_the_package_function(graded):
    problems = graded[0]["package"]["problems"]
    # a call the kernel recorded while the function ran (taken from sys.modules: its code names
    # nothing of the package)
    assert "nb05-dL_db: answered by calling backproplab.exercises.nb05._reference:" in problems
    # refused by the check's uses_package before any call (bl.ops.sigmoid.vjp, bl.toposort): the
    # check's hint, then what of the package the code uses, as the kernel read it
    sigmoid, topo = (
        problems.split("nb07-sigmoid_backward: ")[1],
        problems.split("nb04-topo_order: ")[1],
    )
    assert sigmoid.startswith("sigmoid_backward: ✘ not yet — "), problems
    assert sigmoid.split("; ")[0].endswith("(its code uses .vjp, backproplab)"), problems
    assert topo.startswith("topo_order: ✘ not yet — "), problems
    assert topo.split("; ")[0].endswith("(its code uses backproplab)"), problems


def test_unreadable_notebook_costs_only_its_student(graded):
    row = graded[0]["mallory"]
    assert "could not read the notebook" in row["problems"]
    assert row["score"] == "0" and row["points"] == "6"


def test_kernels_cannot_reach_other_submissions_or_the_csv(graded):
    rows, root, folder, _, _ = graded
    assert (folder / "full" / NAME).read_text() == "{}"  # the attack happened on disk ...
    assert rows["full"]["score"] == "6"  # ... and changed nothing graded
    assert not (folder / "overwriter" / "scores.csv").exists()
    assert not (folder / "scores.csv").exists() and not (Path.cwd() / "scores.csv").exists()
    assert rows["overwriter"]["problems"] == "; ".join(  # it handed in the teacher's answers
        f"{NAME}: {exercise}: {COPIED}" for exercise in COPIED_BY_FULL
    )
    assert rows["impostor"]["score"] == "6"  # the CSV it replaced was written over


def test_detached_children_die_with_their_kernel(graded):
    files = [graded[3], Path(f"{graded[3]}2")]
    sizes = [path.stat().st_size for path in files]  # they ran while the notebook was graded
    assert all(size > 0 for size in sizes)
    time.sleep(1.0)  # five more lines each, were they still alive
    assert [path.stat().st_size for path in files] == sizes


def test_limits_are_flagged(graded):
    rows = graded[0]
    sleeper = rows["sleeper"]["problems"]  # 12 x 2.5 s of waiting: the budget and 5 x its CPU
    # the limit is the budget plus 5 x the CPU time the kernel used (0.01-0.3 s, machine-dependent)
    assert "the notebook ran past " in sleeper and " s of wall-clock time: " in sleeper
    assert f"its time budget of {BUDGET} s, plus 5 times the " in sleeper
    assert "ran out of memory (limit 1536 MB)" in rows["hog"]["problems"]
    assert f"nb05-dL_db: dL_db ran longer than {TIMEOUT} s of CPU time" in rows["loop"]["problems"]
    assert "the kernel stayed stuck" in rows["stuck"]["problems"]
    # the case: 8 cells of 4.5 s (of CPU time now) pass the default budget for --timeout 5
    assert Limits(timeout=5).notebook_seconds < 8 * 4.5


def test_the_grader_survives_a_kernel_killing_its_parent(graded):
    assert "the kernel died in cell 4" in graded[0]["killer"]["problems"]
    assert len(graded[0]) == 21  # every student has a row


def test_feedback_file_per_student(graded):
    feedback = graded[1] / "out" / "feedback"
    assert sorted(p.stem for p in feedback.glob("*.txt")) == sorted(graded[0])
    text = (feedback / "wrong.txt").read_text()
    assert "assignment.ipynb (handed in as assignment.ipynb): 5 of 6" in text
    assert "✘ nb05-dL_db (0/1): dL_db: ✘ not yet — right shape but off by a factor" in text
    assert "✔ nb04-topo_order (2/2)" in text


COPIED_BY_FULL = ["nb04-topo_order", "nb01-central_difference_gradient"]  # in the check order


def test_answers_that_are_the_teachers_solution_are_flagged_for_the_teacher(graded):
    rows = graded[0]
    # the teacher's notebook handed in: its long answers are flagged, its one-statement answers
    # (dL_db, sigmoid_backward, residual_block) are not: they have one sensible form
    assert rows["full"]["problems"] == "; ".join(f"{NAME}: {e}: {COPIED}" for e in COPIED_BY_FULL)
    # comments, spacing, blank lines, line breaks and parentheses changed: the same code
    assert rows["spaced"]["problems"] == f"{NAME}: nb04-topo_order: {COPIED}"
    assert rows["own"]["problems"] == ""  # a right answer of its own
    assert rows["blank"]["problems"] == ""  # the stubs are no copy


def test_the_students_feedback_does_not_say_it(graded):
    feedback = graded[1] / "out" / "feedback"
    for student in ("full", "spaced"):
        assert COPIED in graded[0][student]["problems"]  # the teacher's scores say it
        text = (feedback / f"{student}.txt").read_text()
        assert "teacher" not in text, text
        assert "✔ nb04-topo_order (2/2)" in text  # its verdict and score are there


def test_csv_rows_are_written_as_students_finish(tmp_path):
    """A grader killed mid-class leaves the header and every finished row, and no kernel."""
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    nbformat.write(teacher_notebook(), teacher / NAME)
    release(teacher, tmp_path / "student")
    blank = nbformat.read(tmp_path / "student" / NAME, as_version=4)
    pid_file = tmp_path / "kernel.pid"
    slow = add_cells(
        blank, f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))", "time.sleep(60)"
    )
    slow = add_cells(slow, "import time", at=0)
    for student, notebook in [("a", blank), ("b", slow)]:
        (tmp_path / "in" / student).mkdir(parents=True)
        nbformat.write(notebook, tmp_path / "in" / student / NAME)
    out = tmp_path / "scores.csv"
    command = [sys.executable, "-m", "backproplab.classroom", "grade", str(tmp_path / "in")]
    command += ["--source", str(teacher), "--timeout", "60", "--csv", str(out)]
    # a grader killed by SIGKILL cannot remove its temporary folders: give it its own (short:
    # the kernel's Unix sockets live there), and remove them here
    scratch = tempfile.mkdtemp(prefix="bl-")
    env = {**os.environ, "TMPDIR": scratch}
    grader = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    try:
        for line in grader.stderr:  # "graded a: 0" comes once a's row is written
            if line.startswith("graded a"):
                break
        while not pid_file.exists() and time.monotonic() < deadline:  # b's kernel is running
            time.sleep(0.1)
    finally:
        grader.kill()
        grader.wait()
        grader.stderr.close()
        shutil.rmtree(scratch, ignore_errors=True)
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0][0] == "student" and [row[0] for row in rows[1:]] == ["a"]
    kernel = Path("/proc") / pid_file.read_text()
    while kernel.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not kernel.exists(), "the kernel outlived the grader"


MYGRAD = """def dL_db(G):
    ### BEGIN SOLUTION see notebook 05, exercise dL_db
    total = G.sum(axis=0)  # every row of the batch uses b
    total = total.copy()
    return total
    ### END SOLUTION
"""


def test_the_learners_own_module_is_graded_through_the_kernel(tmp_path):
    """An exercise that lives in the learner's mygrad.py: the release stubs it there, and the
    grader calls the kernel's mygrad.dL_db (the student's file), judged by the teacher's check."""
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    (teacher / "mygrad.py").write_text(MYGRAD)
    check = nbformat.v4.new_code_cell("nb05.check_dL_db(mygrad.dL_db)")
    check.metadata["nbgrader"] = {"grade": True, "grade_id": "nb05-mygrad-check", "points": 2}
    cells = [nbformat.v4.new_code_cell("import mygrad\nfrom backproplab.exercises import nb05")]
    nbformat.write(nbformat.v4.new_notebook(cells=[*cells, check]), teacher / "engine.ipynb")
    release(teacher, tmp_path / "student")
    assert "NotImplementedError" in (tmp_path / "student" / "mygrad.py").read_text()
    for student, origin in [
        ("solved", teacher),
        ("stub", tmp_path / "student"),
        ("spaced", teacher),
        ("own", teacher),
    ]:
        shutil.copytree(origin, tmp_path / "in" / student)
    spaced = MYGRAD.replace("  # every row of the batch uses b", "\n").replace(" = ", "=")
    (tmp_path / "in" / "spaced" / "mygrad.py").write_text(spaced)
    own = MYGRAD.replace("total", "db")  # renamed: not worth chasing, and not flagged
    (tmp_path / "in" / "own" / "mygrad.py").write_text(own)
    shutil.copy(teacher / "engine.ipynb", tmp_path / "in" / "alone.ipynb")  # no mygrad.py
    out, feedback = tmp_path / "scores.csv", tmp_path / "feedback"
    command = ["grade", str(tmp_path / "in"), "--source", str(teacher), "--csv", str(out)]
    assert main([*command, "--timeout", str(TIMEOUT), "--feedback", str(feedback)]) == 0
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(out.read_text()))}
    scores = [rows[s]["nb05-mygrad"] for s in ("solved", "stub", "spaced", "own")]
    assert scores == ["2", "0", "2", "2"]
    copied = "engine.ipynb: nb05-mygrad: the answer in mygrad.py is the teacher's solution"
    assert rows["solved"]["problems"].startswith(copied)  # the teacher's file handed in
    assert rows["spaced"]["problems"] == rows["solved"]["problems"]
    assert rows["stub"]["problems"] == rows["own"]["problems"] == ""
    assert "teacher" not in (feedback / "solved.txt").read_text()
    assert rows["alone"]["nb05-mygrad"] == "0"  # and the feedback says what is missing
    assert "needs mygrad.py handed in beside the notebook" in (feedback / "alone.txt").read_text()


def test_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere"), "--source", str(tmp_path)]) == 1
    assert "is not a folder of submissions" in capsys.readouterr().err


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_grading_off_linux_is_refused_before_any_kernel_starts(tmp_path, capsys, monkeypatch,
                                                               platform):  # fmt: skip
    # macOS refuses (or ignores) the kernel's memory limit, Windows has no fork: every student
    # would score "the kernel did not start", or run without the sandbox
    teacher, submitted = tmp_path / "teacher", tmp_path / "submitted" / "ada"
    teacher.mkdir()
    submitted.mkdir(parents=True)
    nbformat.write(teacher_notebook(), teacher / NAME)
    nbformat.write(teacher_notebook(), submitted / NAME)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(grading, "Kernel", lambda *a, **k: pytest.fail("a kernel was started"))
    assert main(["grade", str(tmp_path / "submitted"), "--source", str(teacher)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"grade: the grader's sandbox needs Linux, and this is {platform}")
    assert "Linux container" in line and "Grading an untrusted class" in line


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_grading_one_notebook_off_linux_is_refused_before_any_kernel_starts(
    tmp_path, monkeypatch, platform
):
    """grade_notebook, the library's call for one notebook, started the kernel anyway: on macOS
    the launcher's memory limit fails, on Windows it has no fork, and the grade said only "the
    kernel did not start"."""
    nbformat.write(teacher_notebook(), tmp_path / NAME)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(grading, "Kernel", lambda *a, **k: pytest.fail("a kernel was started"))
    with pytest.raises(PlatformError, match=f"sandbox needs Linux, and this is {platform}"):
        grading.grade_notebook(tmp_path / NAME, "ada", grading.load_source(tmp_path))


def test_a_teachers_bad_points_are_a_clear_error(tmp_path, capsys):
    check = nbformat.v4.new_code_cell("check(f)")
    check.metadata["nbgrader"] = {"grade": True, "grade_id": "f-check", "points": "lots"}
    (tmp_path / "teacher").mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[check]), tmp_path / "teacher" / "t.ipynb")
    (tmp_path / "in").mkdir()
    assert main(["grade", str(tmp_path / "in"), "--source", str(tmp_path / "teacher")]) == 1
    assert "t.ipynb: check f-check has points 'lots', not a number" in capsys.readouterr().err


def stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def shown(text):
    return {"output_type": "execute_result", "data": {"text/plain": text}}


@pytest.mark.parametrize(
    "outputs, status",
    [
        ([shown("nb05-dL_dW: ✔ correct — well done.")], "correct"),
        ([shown("dW: ✘ not yet — off by the batch size.")], "hint"),
        ([stream("dW: … not done yet — replace the stub.\n")], "not done"),
        ([shown("a: ✔ correct — ok."), shown("b: ✘ not yet — no.")], "hint"),
        ([shown("a: ✔ correct — ok."), shown("b: ✘ not yet: write it out.")], "hint"),
        (
            [shown("a: ✔ correct — ok."), {"output_type": "error", "ename": "E", "evalue": ""}],
            "error",
        ),
        ([shown("42"), stream("correct!\n")], "not run"),
        ([], "not run"),
    ],
)
def test_feedback_status(outputs, status):
    """What nbgrader_support reads from stored outputs (the grader itself never does)."""
    assert feedback_status(outputs)[0] == status


def test_nbgrader_autograde_scores_checks_by_their_feedback(tmp_path):
    """With use_feedback_grades in nbgrader_config.py, an unsolved check scores 0 in nbgrader.

    (Without it nbgrader gives full points to every check cell that does not raise, and the
    checks never raise.)"""
    pytest.importorskip(
        "nbgrader", reason="nbgrader is not installed: pip install -e '.[instructor]'"
    )
    (tmp_path / "source" / "ps1").mkdir(parents=True)
    shutil.copy(FIXTURE, tmp_path / "source" / "ps1" / FIXTURE.name)
    (tmp_path / "nbgrader_config.py").write_text(
        "from backproplab.classroom.nbgrader_support import use_feedback_grades\n"
        "c = get_config()\n"
        "c.CourseDirectory.db_assignments = [dict(name='ps1')]\n"
        "c.CourseDirectory.db_students = [dict(id='ada')]\n"
        "use_feedback_grades(c)\n"
    )

    def nbgrader(*arguments):
        command = [sys.executable, "-m", "nbgrader", *arguments]
        # nbgrader runs its own executables (alembic): find them beside this Python
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        result = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
        )
        assert result.returncode == 0, result.stderr[-3000:]

    nbgrader("generate_assignment", "ps1")
    released = nbformat.read(tmp_path / "release" / "ps1" / FIXTURE.name, as_version=4)
    submitted = tmp_path / "submitted" / "ada" / "ps1"
    submitted.mkdir(parents=True)
    solved = nbformat.from_dict(released)
    for cell in solved.cells:
        if "def double(" in cell.source:
            cell.source = cell.source[: cell.source.index("    # YOUR CODE HERE")]
            cell.source += "    return 2 * x"
    assert "return 2 * x" in solved.cells[3].source
    nbformat.write(solved, submitted / FIXTURE.name)
    nbgrader("autograde", "ps1")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        (notebook,) = gradebook.find_submission("ps1", "ada").notebooks
        scores = {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}
    assert scores == {"fixture-double-check": (1.0, 1.0), "fixture-square-check": (0.0, 2.0)}


def test_a_kernel_that_does_not_start_is_tried_once_more(monkeypatch, tmp_path):
    """A kernel start fails before any student code ran (seen once on a busy machine): the grader
    starts another before it gives the student a problem instead of points."""
    from backproplab.classroom import grading
    from backproplab.classroom._kernel import KernelDied

    calls = []

    def flaky(cwd, memory_mb):
        calls.append(cwd)
        if len(calls) == 1:
            raise KernelDied("the kernel did not start: Kernel didn't respond in 60 seconds")
        return "a kernel"

    monkeypatch.setattr(grading, "Kernel", flaky)
    assert grading._start_kernel(tmp_path, 512) == "a kernel" and len(calls) == 2

    def dead(cwd, memory_mb):
        calls.append(cwd)
        raise KernelDied("the kernel did not start: no")

    calls.clear()
    monkeypatch.setattr(grading, "Kernel", dead)
    with pytest.raises(KernelDied, match="did not start"):
        grading._start_kernel(tmp_path, 512)
    assert len(calls) == 2  # twice, not forever


def test_a_kernel_listens_on_sockets_of_its_own_not_on_ports(tmp_path):
    """TCP ports picked by the grader could be taken by another kernel starting at the same moment
    ("Address already in use"); Unix sockets in a directory of the kernel's own cannot be, and
    the directory goes with the kernel."""
    from backproplab.classroom._kernel import Kernel

    with Kernel(tmp_path, 1024) as kernel:
        info = kernel.km.get_connection_info()
        sockets = Path(kernel.sockets)
        assert info["transport"] == "ipc" and str(info["ip"]).startswith(str(sockets))
        assert any(sockets.iterdir())  # the kernel's socket files
        assert kernel.execute("x = 1 + 1", timeout=30).status == "ok"
    assert not sockets.exists()


def test_the_graders_interrupt_reaches_the_kernel_not_the_grader(tmp_path):
    """A cell past its limit is interrupted by a SIGINT to the kernel's process group. Were the
    kernel in the grader's group, the grader (and, in the suite, the pytest worker and its
    controller) would get it too. The kernel runs in a session of its own, the launcher's."""
    from backproplab.classroom._kernel import Kernel

    received = []
    before = signal.signal(signal.SIGINT, lambda *_: received.append("SIGINT"))
    try:
        with Kernel(tmp_path, 1024) as kernel:
            ours = os.getsid(0), os.getpgid(0)
            assert (os.getsid(kernel.pid), os.getpgid(kernel.pid)) == (kernel.pgid, kernel.pgid)
            assert kernel.pgid not in ours
            run = kernel.execute("while True:\n    pass", timeout=0.5)
            time.sleep(0.2)  # a signal sent to us would have been handled by now
    finally:
        signal.signal(signal.SIGINT, before)
    assert (run.status, run.errors) == ("timeout", [("KeyboardInterrupt", "")])
    assert received == []


def test_a_cell_after_one_that_raised_is_run_not_aborted(tmp_path):
    """After a cell's error the kernel drops ("aborts") the execute requests that reach it in a
    short window (ipykernel's stop_on_error_timeout, 0 s by default: a race). At ipykernel 6.25,
    the floor, the hog's cell after its MemoryError was sometimes aborted unseen, as run "ok":
    its dL_db was never defined and the check scored 0 (seen twice in nine gradings). Here the
    window is 30 s, so without stop_on_error=False the next cell is always aborted."""
    from backproplab.classroom._kernel import Kernel

    with Kernel(tmp_path, 1024) as kernel:
        window = "get_ipython().kernel.stop_on_error_timeout = 30.0\nraise ValueError('a bug')"
        assert kernel.execute(window, timeout=30).errors == [("ValueError", "a bug")]
        # an aborted request looks like a cell that ran and said nothing: this one must speak
        assert kernel.execute("raise KeyError('ran')", timeout=30).errors == [("KeyError", "'ran'")]


def test_a_kernel_reads_text_as_utf8_whatever_the_graders_locale(tmp_path, monkeypatch):
    """A grader started in the C locale without Python's UTF-8 mode gave every kernel ASCII as
    the default encoding: a student's ``open("notes.txt").read()`` of a UTF-8 file, right on
    their own machine, raised UnicodeDecodeError, and the grade depended on the teacher's shell."""
    from backproplab.classroom._kernel import Kernel

    (tmp_path / "notes.txt").write_text("∂L/∂x × 2 — noted\n", encoding="utf-8")
    monkeypatch.delenv("PYTHONIOENCODING", raising=False)
    for name, value in {"LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0"}.items():
        monkeypatch.setenv(name, value)
    with Kernel(tmp_path, 1024) as kernel:
        run = kernel.execute("text = open('notes.txt').read()\nassert '∂' in text", timeout=30)
        assert (run.status, run.errors) == ("ok", [])


def test_code_that_changes_the_checks_is_named_for_the_teacher_only(graded):
    rows, root = graded[0], graded[1]
    for student in ("patcher", "patcher_solved_none"):
        assert "changes the self-checks (" in rows[student]["problems"], rows[student]
        text = (root / "out" / "feedback" / f"{student}.txt").read_text()
        assert "self-checks" not in text, text
    assert all("self-checks" not in row["problems"] for row in rows.values()
               if not row["student"].startswith("patcher"))  # fmt: skip
