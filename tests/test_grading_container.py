"""docs/teaching.md's container for grading an untrusted class: its image holds no solution.

The wheel installs the solved notebooks and mygrad.py beside the package (for the workbook
command), where a student's kernel could read them: a mygrad.py that runs the installed
solution scored full marks. The Dockerfile's install removes them; this runs its command on the
wheel unpacked as pip installs it, and checks that the grader does without them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dockerfile() -> str:
    text = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```dockerfile\n(.*?)```", text, flags=re.S)
    return block


def test_the_dockerfiles_install_removes_the_solutions_and_the_grader_does_without_them(
    wheel, tmp_path
):
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    solved = site / "backproplab" / "notebooks"
    assert (solved / "mygrad.py").is_file()  # what a student's mygrad.py could run
    # the RUN line's two commands that find the installed package and remove its notebooks
    (find,) = re.findall(r'(installed="\$\(.*\)")', dockerfile())
    (remove,) = re.findall(r'(rm -rf "\$installed/notebooks")', dockerfile())
    # (run in tmp_path: `python -c` puts the working folder first, and there it is no clone;
    # python is the one running the tests, as pip's is in the image)
    bin_folder = str(Path(sys.executable).parent)
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    env["PATH"] = bin_folder + os.pathsep + env["PATH"]
    run = subprocess.run(
        ["bash", "-c", f"{find} && {remove}"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert not solved.exists()
    # the grader's modules, and the checks its kernels import, load without them
    probe = (
        "import backproplab.classroom.grading, backproplab.classroom._kernel_side, "
        "backproplab.exercises.mygrad, backproplab.exercises.nb14; "
        "print(backproplab.classroom.grading.__file__)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip().startswith(str(site))  # the unpacked wheel, not the clone
    usage = subprocess.run(
        [sys.executable, "-m", "backproplab.classroom", "grade", "--help"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert usage.returncode == 0 and "--source" in usage.stdout, usage.stderr
