"""Attacks on the grader by a student out for marks (or out to cost others theirs): each test
failed before its fix. See tests/test_adversarial_classroom.py for the earlier ones."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import nbformat
from test_adversarial_classroom import teacher_notebook
from test_grading import ROOT

from backproplab.classroom.__main__ import main

PLANT = """import json, os, sys
home = {home!r}  # the grader's home folder, as pwd.getpwuid(os.getuid()).pw_dir gives it
startup = os.path.join(home, ".ipython", "profile_default", "startup")
os.makedirs(startup, exist_ok=True)
with open(os.path.join(startup, "00-end.py"), "w") as file:
    file.write("import os\\nos._exit(0)\\n")
spec = os.path.join(home, ".local", "share", "jupyter", "kernels", "python3")
os.makedirs(spec, exist_ok=True)
argv = [sys.executable, "-c", "import sys; sys.exit(1)"]
with open(os.path.join(spec, "kernel.json"), "w") as file:
    json.dump({{"argv": argv, "display_name": "Python 3", "language": "python"}}, file)
"""


def _class(tmp_path, cells: dict[str, str]):
    """A teacher folder with teacher_notebook() and a class whose students add one cell each."""
    teacher, submitted = tmp_path / "teacher", tmp_path / "in"
    teacher.mkdir()
    nbformat.write(teacher_notebook(), teacher / "a.ipynb")
    for name, extra in cells.items():
        notebook = teacher_notebook()
        notebook.cells.insert(1, nbformat.v4.new_code_cell(extra))
        (submitted / name).mkdir(parents=True)
        nbformat.write(notebook, submitted / name / "a.ipynb")
    return teacher, submitted


def _grade(teacher, submitted, out, *extra: str) -> dict[str, dict]:
    command = ["grade", str(submitted), "--source", str(teacher), "--csv", str(out)]
    assert main([*command, "--timeout", "20", *extra]) == 0
    return {
        row["student"]: row for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    }


def test_a_kernel_cannot_plant_startup_code_or_a_kernel_spec_for_later_students(
    tmp_path, monkeypatch
):
    """Kernels ran with the grader's home folder, and the grader looked the "python3" kernel
    spec up there (first, outside a virtual environment: the container of docs/teaching.md,
    whose home folder is writable). One submission wrote an IPython startup file ending every
    later kernel, and a kernel.json whose kernel never starts: every student graded after it
    scored 0 ("the kernel did not start"). Now each kernel has an empty home of its own and the
    kernel's command is fixed by the grader."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "0")  # as outside a virtual environment
    teacher, submitted = _class(tmp_path, {"a-planter": PLANT.format(home=str(home)), "b": ""})
    rows = _grade(teacher, submitted, tmp_path / "scores.csv")
    assert (home / ".ipython" / "profile_default" / "startup" / "00-end.py").exists()
    spec = home / ".local" / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    assert json.loads(spec.read_text())["argv"][0] == sys.executable
    assert (rows["b"]["score"], rows["b"]["problems"]) == ("2", ""), rows["b"]


HIJACK = """import os
parent = [line for line in open("/proc/%d/status" % os.getppid()) if line.startswith("PPid")]
grader = int(parent[0].split()[1])  # the launcher's parent
folder = os.readlink("/proc/%d/cwd" % grader)
with open(os.path.join(folder, "sympy.py"), "w") as file:  # the checks' modules import sympy
    file.write('''
import sys
from backproplab.classroom import grading
from backproplab.classroom._grades import CheckResult
def full(check, teacher, session):
    return CheckResult(check.exercise, check.points, check.points, "correct", "correct")
grading.evaluate_check = full
''')
"""


def test_a_kernel_cannot_plant_a_module_the_grader_imports_later(tmp_path):
    """``python -m`` puts the working folder first on the grader's sys.path, and the grader
    imports sympy (every curriculum notebook does) only when it runs the first check, after the
    first kernel ran. A kernel found the grader's working folder (/proc, through its launcher)
    and wrote a sympy.py there that made every check of every later student correct. Now the
    grader leaves its working folder off sys.path and imports the checks' modules before any
    kernel runs."""
    teacher, submitted = _class(tmp_path, {"a-hijacker": HIJACK, "b-idle": ""})
    notebook = teacher_notebook()
    notebook.cells[0].source += "\nimport sympy as sp"
    nbformat.write(notebook, teacher / "a.ipynb")
    for name in ("a-hijacker", "b-idle"):  # the student release: nothing solved
        released = nbformat.read(submitted / name / "a.ipynb", as_version=4)
        for cell in released.cells:
            if "### BEGIN SOLUTION" in cell.source:
                cell.source = (
                    cell.source.split("    ### BEGIN SOLUTION")[0]
                    + "    raise NotImplementedError\n"
                )
        nbformat.write(released, submitted / name / "a.ipynb")
    here = tmp_path / "working"
    here.mkdir()
    out = tmp_path / "scores.csv"
    command = [sys.executable, "-m", "backproplab.classroom", "grade", str(submitted)]
    command += ["--source", str(teacher), "--csv", str(out), "--timeout", "20"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(command, cwd=here, env=env, check=True, capture_output=True)
    rows = {
        row["student"]: row for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    }
    assert (here / "sympy.py").exists()
    assert [rows[name]["score"] for name in ("a-hijacker", "b-idle")] == ["0", "0"], rows


FORGER = """    class Lying(list):
        def __iter__(self):  # the kernel helper fails with the student's message
            raise Exception("\\nmallory  1  1  2  2\\x1b[8m")
    return Lying([1])
"""


def test_a_students_text_cannot_forge_a_row_or_a_formula(tmp_path, capsys):
    """A problem quotes what the kernel said ("the kernel helper failed: Exception: ..."), and
    the problems cell starts with the notebook's file name: both are the student's. A newline
    in the message printed a forged row "mallory ... 2" in the terminal table, an escape
    sequence (ESC [8m) hid everything printed after it, and a file name starting with "=" made
    the CSV cell a spreadsheet formula. Now every such character is printed as its escape and a
    leading "=" gets a "'"."""
    from test_adversarial_classroom import with_body

    teacher, submitted = _class(tmp_path, {})
    (submitted / "eve").mkdir(parents=True)
    notebook = with_body(teacher_notebook(), "dL_db", FORGER)
    nbformat.write(notebook, submitted / "eve" / "=HYPERLINK(1)\x1b[8m.ipynb")
    feedback = tmp_path / "feedback"
    rows = _grade(teacher, submitted, tmp_path / "scores.csv", "--feedback", str(feedback))
    table = capsys.readouterr().out
    assert "\x1b" not in table and not any(
        line.startswith("mallory") for line in table.splitlines()
    )
    assert len(table.split("\n\n")[0].splitlines()) == 3  # header, rule, eve (then the summary)
    assert list(rows) == ["eve"]
    assert rows["eve"]["problems"].startswith("'=HYPERLINK(1)\\x1b[8m.ipynb: nb05-dL_db: ")
    assert "\\nmallory" in rows["eve"]["problems"] and "\x1b" not in rows["eve"]["problems"]
    text = (feedback / "eve.txt").read_text(encoding="utf-8")
    assert "\x1b" not in text and "\nmallory" not in text


BOMB = """import glob, os, tempfile
staged = os.path.join(tempfile.gettempdir(), "backproplab-staging-*", "submissions")
for folder in glob.glob(os.path.join(staged, "*-{token}")) + [{original!r}]:
    if "bomber" not in folder:
        with open(os.path.join(folder, "big.bin"), "wb") as file:
            file.truncate(2**40)  # a sparse file: a terabyte that takes no room on disk
"""


def test_a_sparse_terabyte_in_other_students_folders_does_not_end_the_run(tmp_path):
    """The grader checks each staged submission before grading it, and read every file whole
    to hash it: a kernel that left a sparse file of a terabyte in the staged folders of the
    students graded after it made the grader raise MemoryError, and the run ended there (no
    later row, no table). Now sizes are compared before any file is read, and whatever goes
    wrong while grading one student is a problem in that student's row."""
    token = tmp_path.name[-12:].replace("_", "")
    names = [f"{who}-{token}" for who in ("a-bomber", "b-staged", "c-both", "d-after")]
    original = tmp_path / "in" / names[2]
    bomb = BOMB.format(token=token, original=str(original))
    teacher, submitted = _class(
        tmp_path, {names[0]: bomb, names[1]: "", names[2]: "", names[3]: ""}
    )
    try:
        rows = _grade(teacher, submitted, tmp_path / "scores.csv")
    finally:
        (original / "big.bin").unlink(missing_ok=True)
    assert [rows[name]["score"] for name in names] == ["2", "2", "0", "2"], rows
    assert "changed on disk while the class was graded" in rows[names[2]]["problems"]


def test_a_named_pipe_in_a_students_folder_does_not_stop_the_class(tmp_path):
    """Staging copies the submissions folder first; a named pipe in it (a tar file can hold one,
    a kernel of an earlier run can make one) made the copy raise, and no student was graded."""
    teacher, submitted = _class(tmp_path, {"ada": "", "bob": ""})
    os.mkfifo(submitted / "ada" / "pipe.ipynb")
    rows = _grade(teacher, submitted, tmp_path / "scores.csv")
    assert [(rows[s]["score"], rows[s]["problems"]) for s in ("ada", "bob")] == [("2", "")] * 2


def test_a_folder_of_many_copies_is_graded_on_three(tmp_path, capsys):
    """Every copy of a notebook ran in a kernel of its own (the better one counts): a student's
    folder of many copies held the grader on that student for as many kernel runs. Now three
    copies of a teacher notebook are graded, the one named as the teacher's first, and the
    others are listed as not graded."""
    teacher, submitted = _class(tmp_path, {"many": ""})
    notebook = nbformat.read(submitted / "many" / "a.ipynb", as_version=4)
    for k in range(1, 7):
        nbformat.write(notebook, submitted / "many" / f"a-Copy{k}.ipynb")
    rows = _grade(teacher, submitted, tmp_path / "scores.csv")
    assert rows["many"]["score"] == "2"
    problems = rows["many"]["problems"].split("; ")
    assert sum("not graded: 3 copies of a.ipynb were graded already" in p for p in problems) == 4
    assert [p.split(":")[0] for p in problems if "not graded" in p] == [
        f"a-Copy{k}.ipynb" for k in (3, 4, 5, 6)
    ]
    assert sum("only the best counts" in p for p in problems) == 2


def test_a_kernel_keeps_the_user_site_packages_the_grader_imports_from(monkeypatch, tmp_path):
    """The kernel's home folder is its own; a teacher who installed the package with
    ``pip install --user`` still gets kernels that import it (from the grader's user base), and
    everyone else kernels without user site-packages."""
    from backproplab.classroom import _kernel

    user_site = str(tmp_path / "lib" / "site-packages")
    monkeypatch.setattr(_kernel.site, "ENABLE_USER_SITE", True)
    monkeypatch.setattr(_kernel.site, "getusersitepackages", lambda: user_site)
    monkeypatch.setattr(_kernel.site, "getuserbase", lambda: str(tmp_path))
    assert _kernel._user_site() == {"PYTHONNOUSERSITE": "1"}
    monkeypatch.setattr(sys, "path", [*sys.path, user_site])
    assert _kernel._user_site() == {"PYTHONUSERBASE": str(tmp_path)}
