"""A learner's or teacher's machine that is not the one the tests run on.

A terminal whose encoding is not UTF-8: what the commands print is never the end of them.
``classroom plan`` printed every title's "01 · ..." in the C locale without Python's UTF-8 mode
and stopped at the first with a UnicodeEncodeError; ``workbook`` made the workbook, then stopped
the same way at its folder's name on a cp1252 stream (Windows' output sent to a file or an IDE's
panel) and never opened JupyterLab.

An operating system without Linux's process tools (Windows has no ``fork``, process groups,
``SIGKILL`` or ``resource``): the release and the workbook work there, and the grader, whose
sandbox needs them, says so in one line.

Notebooks and ``mygrad.py`` saved on Windows (CRLF line endings, in the file and inside the
cells): the release and the grader make of them what they make of the same files saved on Linux
(the workbook's own rule for them is in test_workbook.py).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from backproplab import _lab, workbook
from backproplab._console import tolerant_output
from backproplab.classroom.__main__ import main as classroom
from backproplab.classroom.release import release

ROOT = Path(__file__).resolve().parents[1]


def teacher(folder: Path) -> Path:
    """A teacher's folder with one graded notebook titled as the curriculum's are."""
    folder.mkdir()
    cells = [nbformat.v4.new_markdown_cell("# 01 · Why backprop"), nbformat.v4.new_code_cell("1")]
    cells[1].metadata["nbgrader"] = {"grade": True, "grade_id": "ex-check", "points": 3}
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "01_a.ipynb")
    return folder


def terminal(monkeypatch, encoding: str, errors: str = "strict") -> io.BytesIO:
    """Replace stdout by a stream of ``encoding``, as a terminal of that locale gives; its bytes."""
    written = io.BytesIO()
    stream = io.TextIOWrapper(written, encoding=encoding, errors=errors, write_through=True)
    monkeypatch.setattr(sys, "stdout", stream)
    return written


def test_the_plan_prints_on_an_ascii_terminal(tmp_path, monkeypatch):
    written = terminal(monkeypatch, "ascii", "surrogateescape")  # LC_ALL=C PYTHONUTF8=0
    assert classroom(["plan", str(teacher(tmp_path / "teacher"))]) == 0
    out = written.getvalue().decode("ascii")
    assert out.startswith("01_a.ipynb: 01 \\xb7 Why backprop\n")
    assert "  total: 3 points" in out


def test_the_workbook_says_where_it_is_on_a_cp1252_stream_and_opens_jupyterlab(
    tmp_path, monkeypatch
):
    written = terminal(monkeypatch, "cp1252")
    opened = []
    monkeypatch.setattr(_lab, "_run", lambda args, env: opened.append(args) or 0)
    monkeypatch.delenv("JUPYTER_SERVER_URL", raising=False)  # (not a JupyterLab terminal)
    target = tmp_path / "Дмитрий" / "workbook"
    assert workbook.main([str(target), "--source", str(ROOT / "notebooks")]) == 0
    out = written.getvalue().decode("cp1252")
    assert "Made your workbook in " in out and "\\u0414\\u043c" in out
    assert opened and opened[0][-1] == str(target)


def test_a_file_name_the_locale_could_not_decode_is_printed_as_its_bytes(monkeypatch):
    """In the C locale "José" on disk reaches Python as "Jos" and two surrogates; Python writes
    them back as the bytes they were, and so must the escapes (not "Jos\\udcc3\\udca9")."""
    written = terminal(monkeypatch, "ascii", "surrogateescape")
    tolerant_output()
    print(b"/tmp/Jos\xc3\xa9".decode("ascii", "surrogateescape"), "\u2714")
    assert written.getvalue() == b"/tmp/Jos\xc3\xa9 \\u2714\n"


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_a_stream_with_its_own_error_handler_is_left_as_it_is(monkeypatch, stream):
    replaced = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="replace")
    monkeypatch.setattr(sys, stream, replaced)
    tolerant_output()
    assert replaced.errors == "replace"


def test_undecodable_bytes_beside_a_character_the_encoding_lacks_are_still_their_bytes(
    monkeypatch,
):
    """The encoder hands over the whole run of characters it lacks: a file name's undecodable
    bytes followed at once by a "✔" were all escaped ("Jos\\udcc3\\udca9\\u2714"), the name's
    bytes lost. A surrogate that stands for no byte >= 0x80 is escaped, not written as ASCII."""
    written = terminal(monkeypatch, "ascii", "surrogateescape")
    tolerant_output()
    print(b"Jos\xc3\xa9".decode("ascii", "surrogateescape") + "\u2714\udc41")
    assert written.getvalue() == b"Jos\xc3\xa9\\u2714\\udc41\n"


def test_stderr_with_pythons_own_error_handler_writes_an_undecodable_name_as_its_bytes(
    monkeypatch,
):
    """Python's stderr escapes with "backslashreplace": an error line naming a student's folder
    would show its undecodable bytes as "\\udcc3\\udca9", not as the name they are."""
    written = io.BytesIO()
    stream = io.TextIOWrapper(written, "ascii", errors="backslashreplace", write_through=True)
    monkeypatch.setattr(sys, "stderr", stream)
    tolerant_output()
    print(b"Jos\xc3\xa9".decode("ascii", "surrogateescape"), "\u2714", file=sys.stderr)
    assert written.getvalue() == b"Jos\xc3\xa9 \\u2714\n"


def test_a_stream_that_cannot_be_reconfigured_is_left_as_it_is(monkeypatch):
    class Panel:  # an IDE's stream: it writes text, and has no reconfigure
        errors = "strict"

        def write(self, text: str) -> int:
            return len(text)

    panel = Panel()
    monkeypatch.setattr(sys, "stdout", panel)
    tolerant_output()
    assert sys.stdout is panel and panel.errors == "strict"


def test_the_plan_in_the_c_locale_without_utf8_mode(tmp_path):
    """The real thing: a Python started in the C locale with its UTF-8 mode turned off."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONIOENCODING"}
    env.update(LANG="C", LC_ALL="C", PYTHONUTF8="0", PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-m", "backproplab.classroom", "plan", str(teacher(tmp_path / "t"))],
        capture_output=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode("ascii", "replace")
    assert run.stdout.startswith(b"01_a.ipynb: 01 \\xb7 Why backprop\n")


WITHOUT_POSIX = """
import builtins, os, signal, sys
for name in ("fork", "getpgid", "killpg", "setsid"):
    delattr(os, name)
del signal.SIGKILL
real_import = builtins.__import__

def without_posix(name, *args, **kwargs):
    if name in ("resource", "fcntl", "termios", "pwd", "grp"):
        raise ModuleNotFoundError(f"No module named {name!r}")
    return real_import(name, *args, **kwargs)

builtins.__import__ = without_posix
from backproplab import workbook
from backproplab.classroom.__main__ import main
sys.platform = "win32"
source, out = sys.argv[1], sys.argv[2]
print(main(["release", source, out + "/student"]))
print(workbook.main(["--no-lab", "--source", source, out + "/workbook"]))
print(main(["grade", out + "/workbook", "--source", source]))
"""


def test_without_linuxs_process_tools_the_release_and_workbook_work_and_grading_says_why_not(
    tmp_path,
):
    """Windows, simulated: the modules and functions it lacks are taken away before the
    package is imported (nothing imports them until a kernel is sandboxed)."""
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_POSIX, str(ROOT / "notebooks"), str(tmp_path)],
        capture_output=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines, count = run.stdout.splitlines(), len(list((ROOT / "notebooks").glob("*.ipynb")))
    assert lines[0].startswith(f"wrote {count} student notebooks") and lines[1] == "0"
    assert lines[2].startswith("Made your workbook in ") and lines[3] == "0"
    assert lines[4] == "1"
    assert run.stderr.startswith("grade: the grader's sandbox needs Linux, and this is win32")
    assert len(list((tmp_path / "workbook").glob("*.ipynb"))) == count


def windows_notebook(source: Path, target: Path) -> None:
    """``source`` saved as Windows tools have saved notebooks: CRLF between the JSON's lines
    (git's ``autocrlf``) and inside each cell's source (an editor's line endings)."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        cell["source"] = "".join(cell["source"]).replace("\n", "\r\n")
    text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    target.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))


def test_a_release_of_notebooks_saved_on_windows_is_the_same_student_version(tmp_path):
    names = ["03_computational_graph.ipynb", "05_matmul_gradients.ipynb"]
    (tmp_path / "lf").mkdir()
    (tmp_path / "crlf").mkdir()
    for name in names:
        shutil.copy(ROOT / "notebooks" / name, tmp_path / "lf" / name)
        windows_notebook(ROOT / "notebooks" / name, tmp_path / "crlf" / name)
    for engine in ("lf", "crlf"):
        text = (ROOT / "notebooks" / "mygrad.py").read_bytes()
        (tmp_path / engine / "mygrad.py").write_bytes(
            text.replace(b"\n", b"\r\n") if engine == "crlf" else text
        )
        release(tmp_path / engine, tmp_path / f"{engine}-student")
    assert (tmp_path / "crlf-student" / "mygrad.py").read_bytes() == (
        tmp_path / "lf-student" / "mygrad.py"
    ).read_bytes()
    for name in names:
        lf = nbformat.read(tmp_path / "lf-student" / name, as_version=4)
        crlf = nbformat.read(tmp_path / "crlf-student" / name, as_version=4)
        assert [(c.source.replace("\r", ""), c.get("outputs")) for c in crlf.cells] == [
            (c.source, c.get("outputs")) for c in lf.cells
        ], name


def test_a_submission_saved_on_windows_is_graded_as_the_same_one_saved_on_linux(tmp_path):
    fixture = ROOT / "tests" / "fixtures" / "exercises.ipynb"
    for folder in ("teacher", "in/linux", "in/windows"):
        (tmp_path / folder).mkdir(parents=True)
    shutil.copy(fixture, tmp_path / "teacher")
    shutil.copy(fixture, tmp_path / "in" / "linux")
    windows_notebook(fixture, tmp_path / "in" / "windows" / fixture.name)
    out = tmp_path / "scores.csv"
    command = ["grade", str(tmp_path / "in"), "--source", str(tmp_path / "teacher")]
    assert classroom([*command, "--timeout", "20", "--csv", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as file:
        linux, windows = sorted(csv.DictReader(file), key=lambda row: row["student"])
    assert linux["score"] == "3", linux
    assert {**windows, "student": "linux"} == linux


def test_the_notebooks_sanitize_file_is_ascii_and_still_hides_a_timing():
    """nbval reads tests/nbval_sanitize.cfg in the locale's encoding: its "µs" and "±" stopped
    every notebook's test in the C locale without UTF-8 mode (UnicodeDecodeError), and read as
    cp1252 (Windows) they would be other characters, and the timing pattern would match nothing."""
    from nbval.plugin import get_sanitize_patterns

    text = (ROOT / "tests" / "nbval_sanitize.cfg").read_bytes().decode("ascii")
    timing = "1.23 µs ± 45.6 ns per loop (mean ± std. dev. of 7 runs, 1,000,000 loops each)"
    hidden = [re.sub(regex, replace, timing) for regex, replace in get_sanitize_patterns(text)]
    assert "TIMING" in hidden
