"""The self-checks of notebook 03: pass, hint and not-done paths."""

import numpy as np
import pytest

import backproplab as bl
from backproplab.exercises import nb03, numeric_gradient


def stub(*args):
    raise NotImplementedError


# ------------------------------------------------------------------------ backward_by_hand
def test_backward_by_hand_pass():
    feedback = nb03.check_backward_by_hand(lambda x, y, z: (z, z, x + y))
    assert feedback.passed, feedback


def test_backward_by_hand_notebook_numbers():
    # the notebook's point (the CS231n example): x=-2, y=5, z=-4 gives q=3, L=-12, dL/dx = dL/dy = -4, dL/dz = 3
    want = numeric_gradient(lambda v: (v[0] + v[1]) * v[2], np.array([-2.0, 5.0, -4.0]))
    assert np.allclose(want, [-4.0, -4.0, 3.0], atol=1e-6)


def test_backward_by_hand_hints():
    local = nb03.check_backward_by_hand(lambda x, y, z: (1.0, 1.0, x + y))
    assert local.status == "hint" and "local gradients" in local.message

    not_swapped = nb03.check_backward_by_hand(lambda x, y, z: (z, z, z))
    assert not_swapped.status == "hint" and "*other* input" in not_swapped.message
    assert "x + y" not in not_swapped.message and "q" not in not_swapped.message

    only_z = nb03.check_backward_by_hand(
        lambda x, y, z: (1.0, 1.0, 7.0) if False else (0, 0, x + y)
    )
    assert only_z.status == "hint" and "dL/dz is right" in only_z.message

    assert "three numbers" in nb03.check_backward_by_hand(lambda x, y, z: z).message


def test_backward_by_hand_rejects_more_plausible_mistakes():
    def by_the_engine(x, y, z):  # three lines of the package instead of the backward pass
        t = [bl.Tensor(v, requires_grad=True) for v in (x, y, z)]
        ((t[0] + t[1]) * t[2]).backward()
        return tuple(float(v.grad) for v in t)

    engine = nb03.check_backward_by_hand(by_the_engine)
    assert engine.status == "hint" and "lets the package do the backward pass" in engine.message

    wrong = {
        "the notebook's numbers, hard-coded": lambda x, y, z: (-4.0, -4.0, 3.0),
        "every sign flipped": lambda x, y, z: (-z, -z, -(x + y)),
        "q taken as x * y": lambda x, y, z: (z, z, x * y),
        "dL/dz = L": lambda x, y, z: (z, z, (x + y) * z),
    }
    for name, answer in wrong.items():
        assert nb03.check_backward_by_hand(answer).status == "hint", name


def test_the_notebooks_own_numbers_returned_at_every_point_are_named():
    # a student out for marks works the notebook's point out once and returns those numbers:
    # at the check's second point they heard the catch-all "go node by node" (review of 03/04)
    hard_coded = nb03.check_backward_by_hand(lambda x, y, z: (-4.0, -4.0, 3.0))
    assert hard_coded.status == "hint" and "notebook's point" in hard_coded.message, hard_coded
    assert "x, y and z it is given" in hard_coded.message
    fan_out = nb03.check_fan_out(lambda x, y: (1.0, -2.0))  # L = (x + y) x at x=-2, y=5
    assert fan_out.status == "hint" and "notebook's point" in fan_out.message, fan_out
    # the right answers do not meet that hint, nor do the slips that have hints of their own
    assert nb03.check_backward_by_hand(lambda x, y, z: (z, z, x + y)).passed
    assert "notebook's point" not in nb03.check_fan_out(lambda x, y: (x + y, x)).message


def test_backward_by_hand_takes_an_array_of_three_numbers():
    assert nb03.check_backward_by_hand(lambda x, y, z: np.array([z, z, x + y])).passed
    assert nb03.check_fan_out(lambda x, y: np.array([2 * x + y, x])).passed


def test_backward_by_hand_not_done():
    assert nb03.check_backward_by_hand(stub).status == "not done"


# ---------------------------------------------------------------------------- mul_backward
def test_mul_backward_pass():
    assert nb03.check_mul_backward(lambda g, a, b: (g * b, g * a)).passed


def test_mul_backward_pass_as_one_array_of_two_rows():
    assert nb03.check_mul_backward(lambda g, a, b: np.array([g * b, g * a])).passed
    unswapped = nb03.check_mul_backward(lambda g, a, b: np.array([g * a, g * b]))
    assert unswapped.status == "hint" and "grows with a itself" in unswapped.message
    stacked_three = nb03.check_mul_backward(lambda g, a, b: np.array([g * b, g * a, g]))
    assert stacked_three.status == "hint" and "pair" in stacked_three.message


def test_mul_backward_hints():
    unswapped = nb03.check_mul_backward(lambda g, a, b: (g * a, g * b))
    assert unswapped.status == "hint" and "grows with a itself" in unswapped.message
    assert "g * b" not in unswapped.message and "swap" not in unswapped.message
    assert "other input" not in unswapped.message

    local_only = nb03.check_mul_backward(lambda g, a, b: (b, a))
    assert local_only.status == "hint" and "local gradients" in local_only.message

    assert "pair" in nb03.check_mul_backward(lambda g, a, b: g * a * b).message
    assert "shape" in nb03.check_mul_backward(lambda g, a, b: (np.ones(3), np.ones(3))).message

    summed = nb03.check_mul_backward(lambda g, a, b: (np.sum(g * b), np.sum(g * a)))
    assert summed.status == "hint" and "nothing summed" in summed.message

    sign = nb03.check_mul_backward(lambda g, a, b: (-g * b, -g * a))
    assert sign.status == "hint" and "wrong sign" in sign.message

    half = nb03.check_mul_backward(lambda g, a, b: (g * b, a))
    assert half.status == "hint" and "the one for b is not" in half.message

    def in_place(g, a, b):
        g *= b  # reuses the upstream array
        return g, g / b * a

    mutated = nb03.check_mul_backward(in_place)
    assert mutated.status == "hint" and "changed an array" in mutated.message


def test_mul_backward_rejects_more_plausible_mistakes():
    def divides(g, a, b):  # "out changes by out / a per unit of a": wrong where a is 0
        out = a * b
        return g * out / a, g * out / b

    zero = nb03.check_mul_backward(divides)
    assert zero.status == "hint" and "divide by an input" in zero.message

    def the_package_row(g, a, b):
        return bl.ops.mul.vjp(g, a * b, a, b)

    row = nb03.check_mul_backward(the_package_row)
    assert row.status == "hint" and "lets the package" in row.message

    def changes_b(g, a, b):
        grad_a = g * b
        b *= g
        return grad_a, b / g * 0 + g * a

    assert "changed an array" in nb03.check_mul_backward(changes_b).message
    for answer in (lambda g, a, b: (g * a * b, g * a * b), lambda g, a, b: (g + b, g + a)):
        assert nb03.check_mul_backward(answer).status == "hint"


def test_mul_backward_not_done():
    assert nb03.check_mul_backward(stub).status == "not done"


# --------------------------------------------------------------------------------- fan_out
def test_fan_out_pass():
    assert nb03.check_fan_out(lambda x, y: (2 * x + y, x)).passed


def test_fan_out_hints():
    direct_only = nb03.check_fan_out(lambda x, y: (x + y, x))
    assert direct_only.status == "hint" and "straight into the mul node" in direct_only.message
    via_q_only = nb03.check_fan_out(lambda x, y: (x, x))
    assert via_q_only.status == "hint" and "through q" in via_q_only.message
    for feedback in (direct_only, via_q_only):
        assert "2 * x" not in feedback.message and "2x" not in feedback.message

    dy_wrong = nb03.check_fan_out(lambda x, y: (2 * x + y, 1.0))
    assert dy_wrong.status == "hint" and "dL/dy" in dy_wrong.message


def test_fan_out_names_an_add_node_that_forgot_its_upstream_gradient():
    # a novice walk: the add node's local gradients sent on alone (Exercise 1's slip, which has
    # a hint of its own there) heard the catch-all "draw the graph and go node by node"
    for forgot in (lambda x, y: (x + y + 1, 1.0), lambda x, y: (x + y + 1, x)):
        feedback = nb03.check_fan_out(forgot)
        assert feedback.status == "hint" and "local gradient 1 alone" in feedback.message
        assert "upstream gradient" in feedback.message and "2 * x" not in feedback.message


def test_fan_out_rejects_more_plausible_mistakes():
    def by_the_engine(x, y):
        tx, ty = bl.Tensor(x, requires_grad=True), bl.Tensor(y, requires_grad=True)
        ((tx + ty) * tx).backward()
        return float(tx.grad), float(ty.grad)

    assert "lets the package" in nb03.check_fan_out(by_the_engine).message
    wrong = {
        "both paths doubled": lambda x, y: (2 * (x + y), x),
        "the paths multiplied": lambda x, y: ((x + y) * x, x),
        "y forgotten in q": lambda x, y: (2 * x, x),
        "dL/dy = q": lambda x, y: (2 * x + y, x + y),
    }
    for name, answer in wrong.items():
        assert nb03.check_fan_out(answer).status == "hint", name


def test_fan_out_not_done():
    assert nb03.check_fan_out(stub).status == "not done"


# ------------------------------------------------------------------------ challenge: my_graph
def graph_of(mistake=None):
    """L = (x * y + exp(x)) * y at x = 0.5, y = -1.5: x and y each feed two operations."""

    def my_graph():
        x = bl.Tensor(0.5, requires_grad=True, name="x")
        y = bl.Tensor(-1.5, requires_grad=True, name="y")
        p = x * y
        p.name = "p"
        s = x.exp()
        s.name = "s"
        q = p + s
        q.name = "q"
        L = q * y
        xv, yv = 0.5, -1.5
        qv = xv * yv + np.exp(xv)
        dq = yv  # mul: the other input
        dy = qv + dq * xv  # from L directly, and through p
        dp, ds = dq, dq
        dx = dp * yv + ds * np.exp(xv)
        if mistake == "fan-out":
            dx = dp * yv  # only what p sends back
        if mistake == "sign":
            ds, dx = -ds, dp * yv - ds * np.exp(xv)
        if mistake == "not swapped":
            dq = qv
            dp, ds = dq, dq
            dx = dp * yv + ds * np.exp(xv)
            dy = qv + dq * xv
        grads = {"x": dx, "y": dy, "p": dp, "s": ds, "q": dq}
        if mistake == "missing":
            del grads["s"]
        return L, grads

    return my_graph


def test_my_graph_pass_and_agrees_with_backward():
    feedback = nb03.check_my_graph(graph_of())
    assert feedback.passed, feedback
    L, grads = graph_of()()
    L.backward()
    x, y = (n for n in bl.autodiff.toposort(L) if n.name in ("x", "y"))
    assert np.isclose(x.grad, grads["x"]) and np.isclose(y.grad, grads["y"])


def test_my_graph_rejects_plausible_mistakes():
    cases = {
        "fan-out": "feeds 2 operations",
        "sign": "dL/ds has the wrong sign",
        "not swapped": "dL/dq is the wrong gradient closest to L",
        "missing": "no entry for s",
    }
    for mistake, words in cases.items():
        feedback = nb03.check_my_graph(graph_of(mistake))
        assert feedback.status == "hint" and words in feedback.message, (mistake, feedback)


def test_my_graph_accepts_dL_dL_under_the_roots_name_and_checks_it():
    """The notebook names L and starts the hand pass at dL/dL = 1: a learner who names the root
    and lists that 1 is right; a seed other than 1 is refused."""

    def named_root(seed):
        def my_graph():
            L, grads = graph_of()()
            L.name = "L"
            return L, {**grads, "L": seed}

        return my_graph

    assert nb03.check_my_graph(named_root(1.0)).passed
    feedback = nb03.check_my_graph(named_root(0.0))
    assert (
        feedback.status == "hint" and "dL/dL is where the backward pass starts" in feedback.message
    )


def test_my_graph_refuses_gradients_read_from_backward():
    def read_from_grad():
        L, _ = graph_of()()
        L.backward()
        nodes = {n.name: n for n in bl.autodiff.toposort(L) if n.name}
        return L, {name: float(n.grad) for name, n in nodes.items() if name != "L"}

    feedback = nb03.check_my_graph(read_from_grad)
    assert feedback.status == "hint" and "backward() ran inside my_graph" in feedback.message


def test_my_graph_asks_for_a_big_enough_graph_with_a_fan_out():
    def chain():
        x = bl.Tensor(0.3, requires_grad=True, name="x")
        return ((x * 2).tanh() + 1).exp(), {"x": 0.0}

    assert "used twice" in nb03.check_my_graph(chain).message

    def tiny():
        x = bl.Tensor(0.3, requires_grad=True, name="x")
        return x * x, {"x": 0.6}

    assert "at least 3" in nb03.check_my_graph(tiny).message
    assert nb03.check_my_graph(stub).status == "not done"
    assert "(L, grads)" in nb03.check_my_graph(lambda: 1.0).message


def test_my_graph_refuses_backward_run_and_its_gradients_cleared():
    def read_then_clear():  # the engine's gradients copied out, then the tensors wiped
        L, _ = graph_of()()
        L.backward()
        nodes = bl.autodiff.toposort(L)
        grads = {n.name: float(n.grad) for n in nodes if n.name and n.name != "L"}
        for n in nodes:
            n.grad = None
        return L, grads

    feedback = nb03.check_my_graph(read_then_clear)
    assert feedback.status == "hint" and "calls backward()" in feedback.message, feedback


# ------------------------------------------------------- round 4: each hint names the mistake
def test_backward_by_hand_hints_name_the_mistake():
    cases = {
        "dL/dz is not": lambda x, y, z: (z, z, x),  # dL/dz from one input of the add node only
        "wrong signs": lambda x, y, z: (-z, -z, -(x + y)),
        "its own value": lambda x, y, z: (x + y, x + y, z),  # the mul node not swapped at all
    }
    for words, wrong in cases.items():
        feedback = nb03.check_backward_by_hand(wrong)
        assert feedback.status == "hint" and words in feedback.message, feedback
        assert "z *" not in feedback.message and "* z" not in feedback.message


def test_mul_backward_refuses_a_rule_right_only_for_positive_values():
    feedback = nb03.check_mul_backward(lambda up, a, b: (up * np.abs(b), up * np.abs(a)))
    assert feedback.status == "hint", feedback
    feedback = nb03.check_mul_backward(lambda up, a, b: (np.abs(up) * b, np.abs(up) * a))
    assert feedback.status == "hint", feedback


def test_fan_out_sign_error_is_named():
    feedback = nb03.check_fan_out(lambda x, y: (-(2 * x + y), -x))
    assert feedback.status == "hint" and "wrong signs" in feedback.message, feedback
    assert "draw the graph" not in feedback.message


def test_my_graph_names_the_requires_grad_and_naming_slips():
    def without_requires_grad():  # the engine records nothing: was "your graph has 0 operation(s)"
        x, y = bl.Tensor(0.5, name="x"), bl.Tensor(-1.5, name="y")
        return (x * y + x.exp()) * y, graph_of()()[1]

    feedback = nb03.check_my_graph(without_requires_grad)
    assert (
        feedback.status == "hint" and "no input of your graph needs a gradient" in feedback.message
    )

    def one_name_twice():  # s named p too: one of the two was never checked
        L, grads = graph_of()()
        (s,) = (n for n in bl.autodiff.toposort(L) if n.name == "s")
        s.name = "p"
        del grads["s"]
        return L, grads

    twice = nb03.check_my_graph(one_name_twice)  # was "dL/dp is the wrong gradient"
    assert twice.status == "hint" and "two nodes of your graph are named p" in twice.message

    def y_without_requires_grad():  # was "no node that needs a gradient is named y"
        x, y = bl.Tensor(0.5, requires_grad=True, name="x"), bl.Tensor(-1.5, name="y")
        return (x * y + x.exp()) * y, {"x": graph_of()()[1]["x"], "y": 0.0}

    constant = nb03.check_my_graph(y_without_requires_grad)
    assert constant.status == "hint" and "y in your graph needs no gradient" in constant.message
    assert "requires_grad=True" in constant.message


def _scalar_graph(names=("x", "y"), shape=(), grads=None):
    """my_graph for L = 2 (x y + x) at x = 2, y = 3 (dL/dx = 8, dL/dy = 4), a part changed."""

    def my_graph():
        x = bl.Tensor(np.full(shape, 2.0) if shape else 2.0, requires_grad=True, name=names[0])
        y = bl.Tensor(3.0, requires_grad=True, name=names[1])
        L = (x * y + x) * 2.0
        return L, {"x": 8.0, "y": 4.0} if grads is None else grads

    return my_graph


# Hints no test reached before the coverage sweep: each is reachable by the answer below
@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda: (3.0, {}), "L should be the Tensor your graph ends in"),
        (lambda: (_scalar_graph()()[0], [8.0, 4.0]), "grads should be a dict"),
        (_scalar_graph(shape=(2,)), "keep every value of the graph a single number"),
        (_scalar_graph(names=("x", None)), "give every input that needs a gradient a name"),
        (_scalar_graph(grads={"x": 8.0, "y": 4.0, "z": 1.0}), "no node that needs a gradient is"),
        (_scalar_graph(grads={"x": "eight", "y": 4.0}), "each entry of grads should be one number"),
    ],
)
def test_my_graph_hints_no_answer_reached(answer, words):
    assert nb03.check_my_graph(_scalar_graph()).passed  # the graph they change is right
    feedback = nb03.check_my_graph(answer)
    assert feedback.status == "hint" and words in feedback.message, feedback


def test_gradients_given_as_text_get_a_hint():
    fan_out = nb03.check_fan_out(lambda x, y: ("a", "b"))
    assert fan_out.status == "hint" and fan_out.message == "return two numbers: (dL/dx, dL/dy)"
    mul = nb03.check_mul_backward(lambda upstream, a, b: ("a", "b"))
    assert mul.status == "hint" and mul.message == "each gradient should be an array of numbers"


def test_a_product_backward_wrong_in_no_known_way_gets_the_general_hint():
    # (coverage sweep: every wrong answer so far matched a known mistake first)
    feedback = nb03.check_product_backward(lambda upstream, inputs: [upstream + x for x in inputs])
    assert feedback.status == "hint"
    assert feedback.message.endswith("not yet: downstream = upstream x local, for each input")
