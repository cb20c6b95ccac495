"""Notebook 03's exercise 4: the backward of a product node out = x1 * x2 * ... * xn.

The solution passes (three different ways of writing it); each wrong-but-plausible answer gets the
hint that names its mistake, never the code; the grader reaches the function in a student's kernel.
The expected gradients below are written out by hand for small inputs, not computed by the check.
"""

import numpy as np
import pytest
from exercise_helpers import grade_one_exercise, hint_asserter, stub

import backproplab as bl
from backproplab.exercises import _product, nb03

check = nb03.check_product_backward
assert_hint = hint_asserter(["np.prod", "prod(", "upstream *", "cumprod", "p / x"])


def others(xs, i):
    """x1 * ... * xn without xi, by a plain loop (1 when there are no others)."""
    out = np.ones_like(xs[i], dtype=float)
    for j, x in enumerate(xs):
        if j != i:
            out = out * x
    return out


# ------------------------------------------------------------------------ right answers
def solution(upstream, inputs):  # the notebook's: multiply the others
    return [upstream * others(inputs, i) for i in range(len(inputs))]


def with_np_prod(upstream, inputs):  # np.prod of the others is fine too
    n = len(inputs)
    return [
        upstream * np.prod([x for j, x in enumerate(inputs) if j != i], axis=0) for i in range(n)
    ]


def before_and_after(upstream, inputs):  # everything before i times everything after i
    n = len(inputs)
    before = [np.ones_like(inputs[0])]
    for x in inputs[:-1]:
        before.append(before[-1] * x)
    after = [np.ones_like(inputs[0])]
    for x in inputs[:0:-1]:
        after.append(after[-1] * x)
    return [upstream * before[i] * after[n - 1 - i] for i in range(n)]


@pytest.mark.parametrize("answer", [solution, with_np_prod, before_and_after])
def test_right_answers_pass(answer):
    feedback = check(answer)
    assert feedback.passed, feedback


def test_a_tuple_and_python_floats_are_accepted():
    def as_tuple(upstream, inputs):
        return tuple(solution(upstream, inputs))

    assert check(as_tuple).passed


def test_the_checks_reference_agrees_with_gradients_worked_out_by_hand():
    reference = _product._product_gradients
    one = np.array(1.0)
    # x = (2, 0, 5): the zero's gradient is 2 * 5 = 10, the other two get 0 (their others hold 0)
    xs = [np.array(2.0), np.array(0.0), np.array(5.0)]
    assert np.allclose(reference(one, xs), [0.0, 10.0, 0.0], atol=1e-9)
    # ... where a division gives 0/0
    with np.errstate(invalid="ignore"):
        assert np.isnan(float(one * (xs[0] * xs[1] * xs[2]) / xs[1]))
    # two zeros: every gradient is 0
    xs = [np.array(0.0), np.array(0.0), np.array(3.0)]
    assert np.allclose(reference(one, xs), [0.0, 0.0, 0.0], atol=1e-9)
    # one input: the upstream itself; two inputs: the swap, times the upstream entry by entry
    g = np.array([3.0, -1.0])
    assert np.allclose(reference(g, [np.array([7.0, 8.0])]), [[3.0, -1.0]], atol=1e-9)
    xs = [np.array([1.0, 2.0]), np.array([4.0, -3.0])]
    assert np.allclose(reference(g, xs), [[12.0, 3.0], [3.0, -2.0]], atol=1e-9)


def test_the_reference_treats_one_array_at_two_positions_as_two_inputs():
    x, y = np.array(3.0), np.array(5.0)  # out = x * x * y: position 1 gets x * y, as position 2
    assert np.allclose(_product._product_gradients(np.array(1.0), [x, x, y]), [15.0, 15.0, 9.0])


# ------------------------------------------------------------------------ wrong answers
def others_by_identity(upstream, inputs):  # "the other inputs" as the other arrays
    grads = []
    for x in inputs:
        out = np.ones_like(x)
        for y in inputs:
            if y is not x:
                out = out * y
        grads.append(upstream * out)
    return grads


def test_other_arrays_instead_of_other_positions_is_refused_for_x_times_x():
    feedback = check(others_by_identity)
    assert_hint(feedback, "x * x * y", "two positions", "the other positions")


def divides(upstream, inputs):
    p = inputs[0]
    for x in inputs[1:]:
        p = p * x
    return [upstream * p / x for x in inputs]


def divides_with_a_guard(upstream, inputs):  # 0/0 patched: the zero's own gradient becomes 0
    p = inputs[0]
    for x in inputs[1:]:
        p = p * x
    return [np.where(x == 0, 0.0, np.nan_to_num(upstream * p / x)) for x in inputs]


def the_whole_product(upstream, inputs):
    p = inputs[0]
    for x in inputs[1:]:
        p = p * x
    return [upstream * p for _ in inputs]


def swap_of_two(upstream, inputs):  # notebook 2's rule, copied
    return [upstream * inputs[1], upstream * inputs[0]]


def the_next_input(upstream, inputs):  # "swap" stretched to n inputs: right for 2 only
    n = len(inputs)
    return [upstream * inputs[(i + 1) % n] if n > 1 else upstream for i in range(n)]


def no_upstream(upstream, inputs):
    return [others(inputs, i) for i in range(len(inputs))]


def upstream_summed(upstream, inputs):
    return [np.sum(upstream) * others(inputs, i) for i in range(len(inputs))]


def summed_to_a_number(upstream, inputs):
    return [np.sum(upstream * others(inputs, i)) for i in range(len(inputs))]


def upstream_in_place(upstream, inputs):
    grads = []
    for i in range(len(inputs)):
        grads.append(others(inputs, i))
    for grad in grads:
        grad *= upstream
    upstream *= 0  # "done with it"
    return grads


def input_in_place(upstream, inputs):
    grads = [upstream * others(inputs, i) for i in range(len(inputs))]
    inputs[0] *= 2.0  # reuses an input as scratch space
    return grads


def one_input_zero(upstream, inputs):  # "no other inputs: nothing to multiply, so 0"
    if len(inputs) == 1:
        return [np.zeros_like(inputs[0])]
    return solution(upstream, inputs)


def one_input_itself(upstream, inputs):
    if len(inputs) == 1:
        return [inputs[0]]
    return solution(upstream, inputs)


def one_input_bare(upstream, inputs):  # the right array, not in a list
    if len(inputs) == 1:
        return upstream
    return solution(upstream, inputs)


def skips_the_zeros(upstream, inputs):  # the others, with every 0 among them left out
    def nonzero_others(i):
        out = np.ones_like(inputs[i])
        for j, x in enumerate(inputs):
            if j != i:
                out = out * np.where(x == 0, 1.0, x)
        return out

    return [upstream * nonzero_others(i) for i in range(len(inputs))]


def two_zeros_missed(upstream, inputs):  # a zero input skips the other zeros: wrong at two 0s
    def product_for(i):
        out = np.ones_like(inputs[i])
        for j, x in enumerate(inputs):
            if j != i:
                out = out * np.where(inputs[i] == 0, np.where(x == 0, 1.0, x), x)
        return out

    return [upstream * product_for(i) for i in range(len(inputs))]


def every_sign_flipped(upstream, inputs):
    return [-g for g in solution(upstream, inputs)]


def test_dividing_by_the_input_is_refused_at_a_zero():
    feedback = check(divides)
    assert_hint(feedback, "an input that is 0", "nan or inf", "divide by an input", "no division")


def test_a_division_with_the_nan_patched_to_0_is_refused():
    assert_hint(
        check(divides_with_a_guard), "an input that is 0", "wrong only for an input that is 0"
    )


def test_the_whole_product_is_refused():
    assert_hint(check(the_whole_product), "2 inputs", "the whole product", "raise x_i by 1")


def test_the_two_input_swap_is_refused_for_three_inputs():
    assert_hint(check(swap_of_two), "3 inputs", "returned 2 gradient(s)", "one per input")
    assert_hint(check(the_next_input), "3 inputs", "right for 2 inputs, not for 3")


def test_forgetting_the_upstream_is_refused():
    assert_hint(check(no_upstream), "local gradients", "carries the upstream")


def test_a_summed_or_misshapen_upstream_is_refused():
    assert_hint(check(upstream_summed), "sum of the upstream gradient", "that entry only")
    assert_hint(check(summed_to_a_number), "has shape ()", "nothing summed")

    def upstream_as_a_column(upstream, inputs):
        return [upstream[..., None] * others(inputs, i) for i in range(len(inputs))]

    assert_hint(check(upstream_as_a_column), "the gradient for input 1 has shape (3, 3)")


def test_changing_an_input_in_place_is_refused():
    assert_hint(check(upstream_in_place), "changed one of its inputs in place")
    assert_hint(check(input_in_place), "changed one of its inputs in place")


def test_one_input_returning_0_or_the_input_is_refused():
    assert_hint(check(one_input_zero), "1 input", "your gradient is 0", "product of no numbers")
    assert_hint(check(one_input_itself), "1 input", "holds x1")
    assert_hint(check(one_input_bare), "a list of arrays", "even for one")


def test_mistakes_with_zeros_are_named():
    assert_hint(check(skips_the_zeros), "an input that is 0", "for an input that is not")
    assert_hint(check(two_zeros_missed), "two inputs that are 0", "two or more inputs are 0")


def test_a_flipped_sign_and_wrong_lengths_are_refused():
    assert_hint(check(every_sign_flipped), "wrong sign")
    assert_hint(check(lambda g, xs: solution(g, xs)[:-1]), "returned 1 gradient(s)")
    assert_hint(check(lambda g, xs: None), "a list of arrays")
    assert_hint(check(lambda g, xs: [None] * len(xs)), "the gradient for input 1 is None")


def test_the_package_doing_the_work_is_refused():
    def by_the_engine(upstream, inputs):
        tensors = [bl.Tensor(x, requires_grad=True) for x in inputs]
        out = tensors[0]
        for t in tensors[1:]:
            out = out * t
        out.backward(upstream)
        return [t.grad for t in tensors]

    assert_hint(check(by_the_engine), "lets the package do the backward pass")

    def by_the_mul_row(upstream, inputs):  # two inputs through the package's own rule
        return list(bl.ops.mul.vjp(upstream, inputs[0] * inputs[1], *inputs))

    assert_hint(check(by_the_mul_row), "lets the package do the backward pass")


def test_a_crash_and_the_stub():
    assert_hint(check(lambda g, xs: xs[3]), "raised IndexError")
    assert check(stub).status == "not done"


def test_the_check_leaves_numpy_warnings_alone():
    # the division answer divides by 0 inside the check: no RuntimeWarning reaches the notebook
    with np.errstate(all="raise"):
        assert check(divides).status == "hint"


# ------------------------------------------------------------------------ through the grader
DIVIDES = """    p = inputs[0]
    for x in inputs[1:]:
        p = p * x
    return [upstream * p / x for x in inputs]
"""
CHANGES_AN_INPUT = """    grads = []
    for i in range(len(inputs)):
        others = np.ones_like(inputs[i])
        for j, x in enumerate(inputs):
            if j != i:
                others = others * x
        grads.append(upstream * others)
    inputs[-1] *= 2.0
    return grads
"""


BY_IDENTITY = """\
    grads = []
    for x in inputs:
        others = np.ones_like(x)
        for y in inputs:
            if y is not x:
                others = others * y
        grads.append(upstream * others)
    return grads
"""


@pytest.mark.parametrize(
    "body, status, words",
    [
        (None, "correct", "right for 1 to 5 inputs"),
        (DIVIDES, "hint", "divide by an input"),
        (CHANGES_AN_INPUT, "hint", "changed one of its inputs in place"),
        (BY_IDENTITY, "hint", "one array sits at two positions"),
    ],
    ids=["solution", "divides", "changes an input", "other arrays"],
)
def test_the_grader_reaches_the_function_through_its_proxy(tmp_path, body, status, words):
    """In the grader the learner's function runs in another process: the list of arrays goes
    there as data, a nan comes back in an array, and a changed input is copied back."""
    check = grade_one_exercise(
        tmp_path, "03_computational_graph.ipynb", "nb03", "nb03-product_backward", body
    )
    assert check.status == status and words in check.message, check
    assert check.score == (1.0 if status == "correct" else 0.0)


def np_prod_without_an_axis(upstream, inputs):  # the others multiplied into one number
    n = len(inputs)
    return [upstream * np.prod([x for j, x in enumerate(inputs) if j != i]) for i in range(n)]


def test_the_others_multiplied_into_one_number_is_named():
    # a novice walk: it got the catch-all "downstream = upstream x local", though the upstream
    # was there; what is wrong is the product of the others, taken over every entry at once
    feedback = check(np_prod_without_an_axis)
    assert_hint(feedback, "one number, the same for every entry", "at that entry only")
