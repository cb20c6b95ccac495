"""Behaviours no test ran before the coverage sweep (a line+branch coverage run of the whole
suite, notebook kernels and the grader's kernels included), for modules without a test file of
their own. Each test fails with the line it covers broken."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bl


def test_matmul_is_numpys_product_with_the_product_rule_backward():
    # bl.matmul is public (functional.__all__, docs/api.md) and no test or notebook called it
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    x, y = bl.Tensor(a, requires_grad=True), bl.Tensor(b, requires_grad=True)
    out = bl.matmul(x, y)
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-12)
    g = rng.standard_normal((2, 4))
    out.backward(g)
    np.testing.assert_allclose(x.grad, g @ b.T, rtol=1e-12)
    np.testing.assert_allclose(y.grad, a.T @ g, rtol=1e-12)


LOGITS = np.zeros((2, 3))
REFUSED = (
    r"^cross_entropy: labels of dtype float64 and shape \({shape}\) do not fit logits of shape "
    r"\(2, 3\); pass integer class indices of shape \(2,\) or rows of class probabilities of "
    r"shape \(2, 3\)$"
)


@pytest.mark.parametrize(
    ("labels", "shape"),
    [(np.ones(5), "5,"), (np.array([0.5, 1.2]), "2,")],  # another shape; not whole numbers
)
def test_float_labels_that_are_not_whole_class_indices_get_no_astype_hint(labels, shape):
    # "these floats are whole numbers: pass labels.astype(int)" would be wrong advice for both
    with pytest.raises(ValueError, match=REFUSED.format(shape=shape)):
        bl.cross_entropy(bl.Tensor(LOGITS), labels)


def test_whole_float_labels_of_the_labels_shape_get_the_astype_hint():
    # the hint the two cases above must not get, so their test cannot pass by a changed message
    with pytest.raises(ValueError, match=r"these floats are whole numbers"):
        bl.cross_entropy(bl.Tensor(LOGITS), np.array([0.0, 2.0]))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_target_rows_with_nan_or_inf_are_named_as_such(bad):
    target = np.array([[bad, 0.0, 1.0], [0.0, 1.0, 0.0]])
    with pytest.raises(
        ValueError, match=r"^cross_entropy: the target rows of shape \(2, 3\) contain NaN or inf$"
    ):
        bl.cross_entropy(bl.Tensor(LOGITS), target)


def test_mse_loss_against_a_tensor_target_sends_it_the_opposite_gradient():
    p = bl.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    t = bl.Tensor(np.array([0.0, 0.0, 1.0]), requires_grad=True)
    loss = bl.mse_loss(p, t)
    loss.backward()
    assert loss.item() == pytest.approx((1 + 4 + 4) / 3)
    np.testing.assert_allclose(p.grad, [2 / 3, 4 / 3, 4 / 3])  # 2 (p - t) / N
    np.testing.assert_allclose(t.grad, [-2 / 3, -4 / 3, -4 / 3])


def test_mse_loss_takes_a_boolean_target_as_zeros_and_ones():
    loss = bl.mse_loss(np.array([1.0, 2.0, 3.0]), np.array([True, False, True]))
    assert loss.item() == pytest.approx((0 + 4 + 4) / 3)


def test_the_console_escape_handler_is_for_encoding_only():
    # registered for writing (an encoder's unencodable character); a decoder given it gets its
    # own error back, not a half-decoded text
    from backproplab import _console  # noqa: F401 - registers the handler

    assert "·".encode("ascii", "backproplab.escape") == b"\\xb7"
    with pytest.raises(UnicodeDecodeError):
        b"\xff".decode("ascii", "backproplab.escape")


def test_a_closed_worked_answer_keeps_a_plain_text_result_as_a_code_block():
    import nbformat

    from backproplab._closed_answers import close_worked_answers
    from backproplab.classroom.release import ANSWER_TAG

    cell = nbformat.v4.new_code_cell("6 * 7", metadata={"tags": [ANSWER_TAG]})
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "42"})]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    (closed,) = close_worked_answers(notebook).cells
    assert closed.cell_type == "markdown" and closed.id == cell.id
    assert "```text\n42\n```" in closed.source and "```python\n6 * 7\n```" in closed.source


def test_an_explorer_whose_function_raises_shows_the_traceback_where_the_picture_goes():
    import ipywidgets

    from backproplab.widgets import _Explorer

    def show(x):
        if x > 1:
            raise ValueError(f"no picture for x = {x}")
        print(f"x = {x}")

    w = _Explorer(show, x=ipywidgets.IntSlider(value=0, min=0, max=3))
    assert [o["text"] for o in w.out.outputs] == ["x = 0\n"]
    w.children[0].value = 2
    (shown,) = w.out.outputs
    assert shown["name"] == "stderr" and "ValueError: no picture for x = 2" in shown["text"]


def test_lab_environment_skips_a_settings_folder_it_cannot_make(tmp_path, monkeypatch):
    from backproplab import _lab

    home = tmp_path / "home"
    home.write_text("a file where the home folder should be: nothing under it can be written")
    monkeypatch.setenv("HOME", str(home))
    workbook = tmp_path / "workbook"
    workbook.mkdir()
    (workbook / _lab.SETTINGS).write_text("a file where the settings folder should be")
    assert _lab.lab_environment(workbook, {}) == (None, "")
    (workbook / _lab.SETTINGS).unlink()  # the same home, a settings folder that can be made
    moved, said = _lab.lab_environment(workbook, {})
    assert moved is not None and moved["IPYTHONDIR"] == str(workbook / _lab.SETTINGS / "ipythondir")
    assert said.startswith(f"Cannot write in {home}/.jupyter")
