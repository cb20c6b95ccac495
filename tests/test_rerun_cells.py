"""A learner runs a cell twice, or a check before its exercise: the notebook must not punish it.

nbval runs every notebook once, top to bottom. In JupyterLab a cell is run again (Shift-Enter
twice, or to see it once more), and a cell that changes what an earlier cell made (gradients
adding up in `.grad`, a random generator drawn from again) printed different numbers, a
GradientAccumulationWarning, or a failed assertion the second time. Each test runs the cells a
learner would, in a kernel, in the notebook's folder: the cells above once, the cell under test
twice, and asserts that both runs print the same. Only the cells needed are run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import jupyter_client.manager
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ROOT = NOTEBOOKS.parent


class Kernel:
    """A kernel in the notebooks' folder that runs a cell and returns its text outputs."""

    def __init__(self):
        env = dict(os.environ, TQDM_DISABLE="1", PYTHONHASHSEED="0")
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        self.manager, self.client = jupyter_client.manager.start_new_kernel(
            kernel_name="python3", cwd=str(NOTEBOOKS), env=env
        )

    def run(self, source: str) -> str:
        """The cell's text: stdout, stderr, text/plain of results (figures left out), errors
        with their traceback's last lines."""
        parts: list[str] = []

        def keep(msg):
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                parts.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                data = content["data"]
                if "image/png" not in data and "text/plain" in data:
                    parts.append(data["text/plain"] + "\n")
            elif kind == "error":
                parts.append("\n".join(content["traceback"][-2:]) + "\n")

        self.client.execute_interactive(source, output_hook=keep, timeout=120)
        return re.sub(r"\x1b\[[0-9;]*m", "", "".join(parts))  # no terminal colours

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel():
    k = Kernel()
    yield k
    k.close()


def code_cells(name: str) -> list[str]:
    return [c.source for c in nbformat.read(NOTEBOOKS / name, 4).cells if c.cell_type == "code"]


def find(cells: list[str], text: str) -> int:
    """The index (among the code cells) of the one cell that contains ``text``."""
    found = [i for i, source in enumerate(cells) if text in source]
    assert len(found) == 1, f"{text!r} is in {len(found)} code cells"
    return found[0]


def run_twice(kernel: Kernel, cells: list[str], text: str) -> tuple[str, str]:
    """Run the cells above the one holding ``text`` once, then that cell twice."""
    target = find(cells, text)
    for source in cells[:target]:
        kernel.run(source)
    return kernel.run(cells[target]), kernel.run(cells[target])


def assert_clean(output: str):
    assert "Error" not in output and "Warning" not in output, output


# ----------------------------------------------------------------------- cells run twice
def test_nb01_the_network_of_the_notebook_is_the_same_on_a_second_run(kernel):
    first, second = run_twice(kernel, code_cells("01_why_backprop.ipynb"), "def loss_fn():")
    assert "loss L = 1.433113" in first  # the loss the rest of the notebook works with
    assert second == first


def test_nb03_fan_out_gradient_is_1_again_on_a_second_run(kernel):
    first, second = run_twice(
        kernel, code_cells("03_computational_graph.ipynb"), "assert fx.grad == exact == 1.0"
    )
    assert "backward(): x.grad = 1\n" in first
    assert_clean(second)  # was x.grad = 2, a GradientAccumulationWarning and an AssertionError
    assert second == first


def test_nb06_the_random_nudge_is_the_same_on_a_second_run(kernel):
    # drawn from the notebook's generator again, the nudge was another one on every run, and
    # about one run in 30 stopped at the cell's assertion (a nudge that does not tell them apart)
    first, second = run_twice(
        kernel, code_cells("06_small_network_by_hand.ipynb"), "random_nudge = [1e-3 *"
    )
    assert "predicted by the buggy gradients" in first
    assert_clean(first)
    assert second == first


def test_nb11_the_30_block_measurement_is_the_same_on_a_second_run(kernel):
    first, second = run_twice(
        kernel, code_cells("11_skip_connections.ipynb"), "jacobians.append(np.diag("
    )
    assert "residual 4.91  (started at 4.60)" in first  # the numbers the text quotes
    assert second == first


def test_nb13_node_by_node_backward_and_its_comparisons_survive_a_second_run(kernel):
    cells = code_cells("13_normalization.ipynb")
    first, second = run_twice(kernel, cells, 't["o"].backward(g)')
    assert_clean(second)  # was a GradientAccumulationWarning and an AssertionError
    assert second.count("by hand = engine") == 5
    # the package's batch_norm is compared with the graph's gradients: doubled, they disagreed
    compare = kernel.run(cells[find(cells, "bl.batch_norm vs graph of primitives")])
    differences = [float(d) for d in re.findall(r"max difference (\S+)\n", compare)]
    assert len(differences) == 3 and max(differences) < 1e-12, compare


def test_nb13_evaluation_mode_cell_twice_gives_no_accumulation_warning(kernel):
    first, second = run_twice(kernel, code_cells("13_normalization.ipynb"), "layer.eval()  #")
    assert "evaluation mode: dL/dx" in first
    assert_clean(second)  # was a GradientAccumulationWarning about the layer's parameters
    assert second == first


# ------------------------------------------------------------- a check before its exercise
def test_a_check_run_before_its_exercise_says_to_run_the_cell_that_defines_it(kernel):
    cells = code_cells("01_why_backprop.ipynb")
    kernel.run(cells[find(cells, "from backproplab.exercises import nb01")])
    output = kernel.run(cells[find(cells, "nb01.check_gradient_descent_step(")])
    assert "NameError: name 'gradient_descent_step' is not defined" in output
    assert "`gradient_descent_step` is not defined yet: if a cell above defines it, run" in output
