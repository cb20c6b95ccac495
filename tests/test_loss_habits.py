"""What a learner who knows a little PyTorch does with the losses, the functional ops and the
gradient checks, and what it gets: the right number, or one line saying what to write instead.

Each test is a case that used to give a silent wrong result (a gradient added where none was
asked for, a check that blamed the gradients for Dropout's noise) or Python's own words.
Expected values are worked out by hand in the comments.
"""

import numpy as np
import pytest

import backproplab as bl


# ---------------------------------------------------- the checks leave other gradients alone
def _closed_over():
    """x checked, w used by fn but not passed: d/dx sum(x * w) = w, d/dw = x."""
    w = bl.Tensor([3.0, -1.0], requires_grad=True, name="w")
    x = bl.Tensor([1.0, 2.0], requires_grad=True)
    return w, x, lambda t: (t * w).sum()


@pytest.mark.parametrize("check", [bl.gradcheck, bl.check_direction])
def test_a_check_adds_no_gradient_to_a_parameter_fn_closes_over(check):
    w, x, fn = _closed_over()
    check(fn, x)  # w.grad was -1.7 * x = [-1.7, -3.4]: the check's seed, on a tensor not checked
    assert w.grad is None and x.grad is None
    w.grad = np.array([6.0, -2.0])  # from the learner's own backward(), before the check
    check(fn, x)  # it was added to, with a warning about gradients nobody had asked for
    np.testing.assert_array_equal(w.grad, [6.0, -2.0])


def test_gradcheck_of_a_model_leaves_its_weights_gradients_alone():
    model = bl.nn.Linear(2, 1, rng=0)
    bl.gradcheck(model, bl.Tensor([[1.0, 2.0]], requires_grad=True))
    assert model.weight.grad is None and model.bias.grad is None  # were -1.7 * x and -1.7


def test_nudge_check_leaves_the_gradients_of_parameters_not_nudged_alone():
    w, x, fn = _closed_over()
    w.grad = np.array([6.0, -2.0])
    report = bl.nudge_check(lambda: fn(x), [x], 1e-3)
    np.testing.assert_array_equal(w.grad, [6.0, -2.0])  # was [7, 0]: x added to it
    assert x.grad is None
    np.testing.assert_allclose(report.predicted_change, (3.0 - 1.0) * 1e-3)  # sum(w * nudge)


# ------------------------------------------------------------------ functions that differ
def test_nudge_check_refuses_a_loss_that_changes_between_calls_as_gradcheck_does():
    model = bl.nn.Sequential(
        bl.nn.Linear(2, 3, rng=0), bl.nn.Dropout(0.5), bl.nn.Linear(3, 1, rng=1)
    )
    X = np.ones((4, 2))
    # a new Dropout mask per call: the report said "relative difference 7.7e-01", which
    # blames the gradients
    with pytest.raises(ValueError, match=r"nudge_check: loss_fn gives different outputs .*Dropout"):
        bl.nudge_check(lambda: model(X).sum(), model.parameters())
    model.eval()
    # in eval(), the same loss every call: a nudge small enough that the second-order term (the
    # two layers' product) is negligible agrees to 1.7e-6 (1e-3 gave 1.3e-2 for other weights)
    report = bl.nudge_check(lambda: model(X).sum(), model.parameters(), nudge=1e-6)
    assert report.relative_difference < 1e-4


def test_nudge_check_says_when_the_loss_is_a_float():
    w = bl.Tensor([1.0, 2.0], requires_grad=True)  # was AttributeError: 'float' ... 'backward'
    with pytest.raises(TypeError, match=r"nudge_check: loss_fn returned a float, not a Tensor.*"
                       r"not loss\.item\(\)"):  # fmt: skip
        bl.nudge_check(lambda: (w * w).sum().item(), [w])


def test_gradcheck_names_a_function_that_changes_its_input_in_place():
    def fn(t):
        t.data += 1.0  # each call moves the input
        return (t * t).sum()

    x = bl.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"gradcheck: fn's forward pass changed input 0 \(shape "
                       r"\(2,\)\) in place"):  # fmt: skip
        bl.gradcheck(fn, x)
    assert x.data.tolist() == [1.0, 2.0]  # and its values are put back


# --------------------------------------------------------------------- PyTorch's keywords
LOGITS, LABELS = np.array([[1.0, 2.0, 0.0], [0.5, 0.5, 3.0]]), np.array([1, 2])
P, T = np.array([0.25, 0.5]), np.array([1.0, 0.0])

PYTORCH_KEYWORDS = [  # was: "cross_entropy() got an unexpected keyword argument 'reduction'"
    (bl.cross_entropy, (LOGITS, LABELS), "reduction", "sum", r"mean over the examples.*multiply"),
    (bl.cross_entropy, (LOGITS, LABELS), "reduction", "none", r"mean over the examples"),
    (bl.cross_entropy, (LOGITS, LABELS), "ignore_index", -100, r"keep = labels != ignore_index"),
    (bl.cross_entropy, (LOGITS, LABELS), "label_smoothing", 0.1, r"\(1 - s\) \* np\.eye\(C\)"),
    (bl.cross_entropy, (LOGITS, LABELS), "weight", np.ones(3), r"weighted losses"),
    (bl.mse_loss, (P, T), "reduction", "sum", r"mean over the entries"),
    (bl.binary_cross_entropy, (P, T), "reduction", "sum", r"mean over the entries"),
    (bl.binary_cross_entropy_with_logits, (P, T), "pos_weight", np.ones(2), r"weighted losses"),
    (bl.softmax, (LOGITS,), "dim", 1, r"axis="),
    (bl.log_softmax, (LOGITS,), "dim", 1, r"axis="),
    (bl.stack, ([P, T],), "dim", 0, r"axis="),
    (bl.concatenate, ([P, T],), "dim", 0, r"axis="),
]


@pytest.mark.parametrize("fn, args, name, value, hint", PYTORCH_KEYWORDS)
def test_a_pytorch_keyword_gets_a_line_saying_what_to_write_instead(fn, args, name, value, hint):
    with pytest.raises(TypeError, match=rf"^{fn.__name__}: there is no {name}= here.*{hint}"):
        fn(*args, **{name: value})


def test_reduction_mean_is_what_the_losses_do_and_other_keywords_are_still_typos():
    # mean of -log softmax: row 1 [1, 2, 0] label 1, row 2 [0.5, 0.5, 3] label 2
    row1 = -(2.0 - np.log(np.exp(1.0) + np.exp(2.0) + np.exp(0.0)))
    row2 = -(3.0 - np.log(2 * np.exp(0.5) + np.exp(3.0)))
    loss = bl.cross_entropy(LOGITS, LABELS, reduction="mean")
    np.testing.assert_allclose(loss.item(), (row1 + row2) / 2, rtol=1e-12)
    with pytest.raises(TypeError, match=r"^mse_loss\(\) got an unexpected keyword argument 'dim'"):
        bl.mse_loss(P, T, dim=0)
    with pytest.raises(TypeError, match=r"^softmax\(\) got an unexpected keyword argument 'axs'"):
        bl.softmax(LOGITS, axs=1)


def test_a_column_of_integer_labels_gets_the_fix():
    with pytest.raises(
        ValueError, match=r"got \(2, 1\) \(a column of labels\? pass labels\[:, 0\]\)"
    ):
        bl.cross_entropy(LOGITS, LABELS[:, None])
