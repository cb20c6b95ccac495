"""The workbook on a machine that is not the learner's own: the package installed from a wheel,
read-only, for everyone (a shared JupyterHub); the README's line typed in JupyterLab's own
terminal; a home folder that cannot be written; JupyterLab's options after the folder.

CI runs as root, which may write anywhere: these tests look at what root can see (what the wheel
holds, file modes, what the command would start JupyterLab with), and make folders unwritable
for root too by putting them under a regular file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from backproplab import _lab
from backproplab.workbook import main, make_workbook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SHIPPED = sorted(p.name for p in NOTEBOOKS.iterdir() if p.suffix in (".ipynb", ".py"))


def test_the_wheel_holds_the_solved_notebooks_and_mygrad_and_nothing_else_of_that_folder(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        inside = sorted(
            n.removeprefix("backproplab/notebooks/") for n in names if "/notebooks/" in n
        )
        assert inside == SHIPPED  # no __pycache__, .ipynb_checkpoints or workbook of the clone
        assert all(
            archive.read(f"backproplab/notebooks/{name}") == (NOTEBOOKS / name).read_bytes()
            for name in SHIPPED
        )
        assert "backproplab/workbook.py" in names and "backproplab/_lab.py" in names


def test_installed_read_only_the_workbook_goes_into_the_working_folder_writable(wheel, tmp_path):
    """The teacher's install: the wheel unpacked (as pip does) and every file made read-only
    (a read-only store, or a root-owned install). The learner runs the README's line in a course
    folder whose name has a space and an accent, with a home that cannot be written."""
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    for path in site.rglob("*"):
        if path.is_file():
            path.chmod(0o444)
    before = sorted(site.rglob("*"))
    course = tmp_path / "cours d'été"
    course.mkdir()
    (course / "notebooks").mkdir()  # the learner's own notebooks/ (no mygrad.py): not the source
    (course / "notebooks" / "mine.ipynb").write_text("{}", encoding="utf-8")
    blocked = tmp_path / "a file"
    blocked.write_text("", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(site), "HOME": str(blocked / "home")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # Python's own caches: root may write them there
    command = [sys.executable, "-m", "backproplab.workbook", "--no-lab"]
    run = subprocess.run(
        command, cwd=course, env=env, capture_output=True, encoding="utf-8", check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Made your workbook in workbook/: 14 notebooks")
    assert f"stay in {site / 'backproplab' / 'notebooks'}/" in run.stdout
    made = sorted(p.name for p in (course / "workbook").iterdir() if not p.name.startswith("."))
    assert made == SHIPPED
    modes = {p.name: p.stat().st_mode for p in (course / "workbook").iterdir()}
    assert all(mode & stat.S_IWUSR for mode in modes.values()), {
        n: oct(m) for n, m in modes.items()
    }
    assert sorted(site.rglob("*")) == before  # nothing written where the package is installed
    again = subprocess.run(
        command, cwd=course, env=env, capture_output=True, encoding="utf-8", check=False
    )
    assert again.returncode == 0, again.stderr
    assert "has every notebook; nothing in it was changed" in again.stdout


def test_a_read_only_file_beside_the_notebooks_is_copied_writable_and_updated_later(tmp_path):
    """A picture a notebook shows, read-only where it is installed: the learner's copy can be
    replaced when a newer version comes (copied with its mode, the second run failed)."""
    source = tmp_path / "notebooks"
    source.mkdir()
    for name in ("05_matmul_gradients.ipynb", "mygrad.py"):
        (source / name).write_bytes((NOTEBOOKS / name).read_bytes())
    picture = source / "figure.svg"
    picture.write_text("<svg/>", encoding="utf-8")
    picture.chmod(0o444)
    target = tmp_path / "workbook"
    make_workbook(source, target)
    assert (target / "figure.svg").stat().st_mode & stat.S_IWUSR
    picture.chmod(0o644)
    picture.write_text("<svg></svg>", encoding="utf-8")
    picture.chmod(0o444)
    changes = make_workbook(source, target)
    assert [(c.action, c.path.name) for c in changes] == [("updated", "figure.svg")]
    assert (target / "figure.svg").read_text(encoding="utf-8") == "<svg></svg>"


# ------------------------------------------------------------------ opening JupyterLab
@pytest.fixture
def lab(monkeypatch):
    """What the command would start JupyterLab with: [(command, environment)]."""
    started: list[tuple[list[str], dict[str, str] | None]] = []
    monkeypatch.setattr(_lab, "_run", lambda command, env: started.append((command, env)) or 0)
    monkeypatch.setattr(_lab.importlib.util, "find_spec", lambda name: object())
    for name in ("JUPYTER_SERVER_URL", "JUPYTER_SERVER_ROOT", *_lab._places({})):
        monkeypatch.delenv(name, raising=False)
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    return started


def test_with_a_home_that_can_be_written_jupyterlab_gets_the_environment_as_it_is(
    tmp_path, monkeypatch, lab, capsys
):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # not there yet: it can be made
    assert main([str(tmp_path / "wb"), "--source", str(NOTEBOOKS)]) == 0
    assert lab == [([sys.executable, "-m", "jupyterlab", str(tmp_path / "wb")], None)]
    assert not (tmp_path / "wb" / _lab.SETTINGS).exists()
    assert "Cannot write" not in capsys.readouterr().out


def test_with_a_home_that_cannot_be_written_its_folders_go_into_the_workbook(
    tmp_path, monkeypatch, lab, capsys
):
    (tmp_path / "a file").write_text("", encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path / "a file" / "home"))
    target = tmp_path / "wb"
    assert main([str(target), "--source", str(NOTEBOOKS)]) == 0
    ((command, env),) = lab
    settings = (target / _lab.SETTINGS).resolve()
    assert {name: env[name] for name in _lab._places({})} == {
        "JUPYTER_CONFIG_DIR": str(settings / "jupyter_config_dir"),
        "JUPYTER_DATA_DIR": str(settings / "jupyter_data_dir"),
        "IPYTHONDIR": str(settings / "ipythondir"),
        "MPLCONFIGDIR": str(settings / "mplconfigdir"),
    }
    assert env["HOME"] == str(tmp_path / "a file" / "home")  # the rest as it was
    assert all(Path(env[name]).is_dir() for name in _lab._places({}))
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith(f"Cannot write in {tmp_path / 'a file' / 'home' / '.jupyter'}, ")
    assert said.endswith(f"keep those settings and caches in {target}/.settings/ instead "
                         "(IPYTHONDIR, JUPYTER_CONFIG_DIR, JUPYTER_DATA_DIR, MPLCONFIGDIR).")  # fmt: skip


def test_only_the_folders_that_cannot_be_written_move_and_a_variable_set_is_kept(
    tmp_path, monkeypatch, lab
):
    (tmp_path / "a file").write_text("", encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a file" / "cache"))  # matplotlib's
    assert main([str(tmp_path / "wb"), "--source", str(NOTEBOOKS)]) == 0
    moved = {k: v for k, v in lab[0][1].items() if k in _lab._places({})}
    assert list(moved) == ["MPLCONFIGDIR"]
    lab.clear()
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mine"))  # the learner's choice
    assert main([str(tmp_path / "wb"), "--source", str(NOTEBOOKS)]) == 0
    assert lab[0][1] is None


def test_a_kernel_started_with_that_environment_warns_of_nothing(tmp_path):
    """What the moved folders are for, in a real process: with a home that cannot be written,
    importing matplotlib's pyplot and finding IPython's folder warn (matplotlib into the
    notebook's first plotting cell); with ``lab_environment``'s variables, nothing."""
    (tmp_path / "a file").write_text("", encoding="utf-8")
    home = {"HOME": str(tmp_path / "a file" / "home")}
    clean = {k: v for k, v in os.environ.items() if k not in _lab._places({}) and "XDG" not in k}
    code = (
        "import warnings; warnings.simplefilter('always'); import matplotlib.pyplot; "
        "from IPython.paths import get_ipython_dir; get_ipython_dir()"
    )
    environment, _ = _lab.lab_environment(tmp_path / "wb", {**clean, **home})
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        for env in ({**clean, **home}, environment)
    ]
    assert "MPLCONFIGDIR" in runs[0].stderr and "IPython parent" in runs[0].stderr
    assert runs[1].stderr == ""


def test_in_a_terminal_of_jupyterlab_it_says_where_the_workbook_is_instead_of_starting_another(
    tmp_path, monkeypatch, lab, capsys
):
    """A shared JupyterHub: the README's line typed in the JupyterLab the hub started. A second
    JupyterLab in it would listen on a port the learner's browser cannot reach."""
    monkeypatch.setenv("JUPYTER_SERVER_URL", "http://127.0.0.1:8888/user/ada/")
    monkeypatch.setenv("JUPYTER_SERVER_ROOT", str(tmp_path))
    assert main([str(tmp_path / "course" / "wb"), "--source", str(NOTEBOOKS)]) == 0
    assert lab == []
    said = capsys.readouterr().out.splitlines()[-1]
    assert said == (
        "This terminal is JupyterLab's (http://127.0.0.1:8888/user/ada/): open course/wb/ in "
        "its file browser."
    )
    monkeypatch.setenv("JUPYTER_SERVER_ROOT", str(tmp_path / "course" / "elsewhere"))
    assert main([str(tmp_path / "course" / "wb"), "--source", str(NOTEBOOKS)]) == 1
    assert lab == []
    assert "whose file browser shows" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, folder, options",
    [
        (["wb", "--no-browser", "--port", "8890"], "wb", ["--no-browser", "--port", "8890"]),
        (["--port=8890", "wb"], "wb", ["--port=8890"]),
        (["--no-lab", "wb"], "wb", None),
        # a flag of JupyterLab's before the folder: was asked "write --no-browser=wb"
        (["--no-browser", "wb"], "wb", ["--no-browser"]),
        (["-y", "--debug", "wb"], "wb", ["-y", "--debug"]),
    ],
)
def test_jupyterlabs_options_go_to_jupyterlab(tmp_path, monkeypatch, lab, argv, folder, options):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--source", str(NOTEBOOKS)]) == 0
    assert (tmp_path / folder).is_dir()
    assert [command[4:] for command, _ in lab] == ([options] if options is not None else [])


def test_a_value_after_a_space_is_not_taken_for_the_folder(tmp_path, monkeypatch, lab, capsys):
    """ "--port 8890", as JupyterLab's own help writes it, made a workbook named 8890 and
    started JupyterLab on its default port."""
    monkeypatch.chdir(tmp_path)
    assert main(["--no-browser", "--port", "8890", "--source", str(NOTEBOOKS)]) == 1
    assert capsys.readouterr().err == (
        "workbook: is 8890 the workbook's folder or the value of --port? Put the folder first, "
        "or write --port=8890\n"
    )
    assert list(tmp_path.iterdir()) == [] and lab == []


def test_ctrl_c_is_left_to_jupyterlab_which_asks_whether_to_shut_down(monkeypatch):
    """Ctrl+C reaches JupyterLab and the command alike: the command went on waiting for it, not
    ending with a traceback and killing JupyterLab (its kernels left running)."""
    events = []

    class Lab:
        def __init__(self, command, env):
            self.waits = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            events.append("closed")

        def wait(self):
            self.waits += 1
            events.append(f"wait {self.waits}")
            if self.waits == 1:
                raise KeyboardInterrupt  # the first Ctrl+C: JupyterLab asks, the learner says n
            return 0

        def kill(self):
            events.append("killed")

    monkeypatch.setattr(_lab.subprocess, "Popen", Lab)
    assert _lab._run(["jupyter-lab"], None) == 0
    assert events == ["wait 1", "wait 2", "closed"]


def test_a_clone_the_learner_cannot_write_in_gets_the_workbook_in_the_working_folder(
    tmp_path, monkeypatch
):
    """A clone installed editable for everyone (``pip install -e /opt/backproplab``): beside its
    notebooks/ the learner cannot write, so the workbook goes where the command runs."""
    clone = tmp_path / "opt" / "backproplab" / "notebooks"
    writable = {str(clone.parent): False}
    monkeypatch.setattr(_lab.os, "access", lambda path, mode: writable.get(str(path), True))
    assert _lab.default_target(clone) == Path("workbook")
    writable[str(clone.parent)] = True
    assert _lab.default_target(clone) == clone.parent / "workbook"


def test_a_workbook_named_notebooks_is_brought_up_to_date_not_taken_for_the_solved_ones(
    tmp_path, monkeypatch, capsys
):
    """``python -m backproplab.workbook notebooks`` made the workbook; the same line again was
    refused ("that folder holds the solved notebooks": it holds mygrad.py), and the command
    without a folder made workbook/ from the learner's own stubs, saying they answer every
    exercise. A folder that is a workbook is never the source."""
    monkeypatch.chdir(tmp_path)
    assert main(["notebooks", "--no-lab", "--source", str(NOTEBOOKS)]) == 0
    assert _lab.default_source() != Path("notebooks")
    (tmp_path / "notebooks" / "mygrad.py").write_text("# mine\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["notebooks", "--no-lab"]) == 0
    assert "Your workbook notebooks/ has every notebook" in capsys.readouterr().out
    assert (tmp_path / "notebooks" / "mygrad.py").read_text(encoding="utf-8") == "# mine\n"
    assert main(["wb", "--no-lab", "--source", "notebooks"]) == 1
    assert "notebooks is a workbook, not the solved notebooks" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notebooks"]


def test_run_from_inside_the_workbook_it_updates_that_workbook(tmp_path, monkeypatch, capsys):
    """Installed from a wheel the workbook goes into the working folder: run again from inside
    the workbook (a JupyterLab terminal opened there), it made workbook/workbook/."""
    monkeypatch.chdir(tmp_path)
    assert main(["workbook", "--no-lab", "--source", str(NOTEBOOKS)]) == 0
    monkeypatch.chdir(tmp_path / "workbook")
    assert _lab.default_target(NOTEBOOKS) == Path(".")
    capsys.readouterr()
    assert main(["--no-lab", "--source", str(NOTEBOOKS)]) == 0
    assert "nothing in it was changed" in capsys.readouterr().out
    assert not (tmp_path / "workbook" / "workbook").exists()
