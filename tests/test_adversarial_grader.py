"""Attacks on the grader by a student out for marks (or out to cost others theirs): each test
failed before its fix. See tests/test_adversarial_classroom.py for the earlier ones."""

from __future__ import annotations

import csv
import json
import sys

import nbformat
from test_adversarial_classroom import teacher_notebook

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
    return {row["student"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}


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
