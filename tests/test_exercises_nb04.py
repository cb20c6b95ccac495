"""The self-checks of notebook 04: pass, hint and not-done paths."""

import numpy as np

from backproplab.exercises import nb04


# ------------------------------------------------------------------------------- topo_order
def iterative_order(root):
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.inputs if p.requires_grad)
    return order


def recursive_order(root):  # micrograd's build_topo
    order, visited = [], set()

    def visit(node):
        if id(node) not in visited:
            visited.add(id(node))
            for p in node.inputs:
                if p.requires_grad:
                    visit(p)
            order.append(node)

    visit(root)
    return order


def test_topo_order_pass():
    assert nb04.check_topo_order(iterative_order).passed


def test_topo_order_recursion_hint():
    feedback = nb04.check_topo_order(recursive_order)
    assert feedback.status == "hint"
    assert "RecursionError" in feedback.message and "list of your own" in feedback.message


def test_topo_order_reversed_hint():
    feedback = nb04.check_topo_order(lambda root: iterative_order(root)[::-1])
    assert feedback.status == "hint"
    assert "before one of its inputs" in feedback.message
    assert "stack" not in feedback.message  # the hint does not hand over the algorithm


def test_topo_order_duplicates_and_constants_hints():
    def with_constants(root):  # also visits leaves that need no gradient
        order, visited, stack = [], set(), [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.inputs)
        return order

    assert "need no gradient" in nb04.check_topo_order(with_constants).message
    doubled = nb04.check_topo_order(lambda root: iterative_order(root) * 2)
    assert "more than once" in doubled.message


def test_topo_order_not_done():
    def stub(root):
        raise NotImplementedError

    assert nb04.check_topo_order(stub).status == "not done"


# -------------------------------------------------------------------------- backward_scalar
def make_backward(overwrite):
    def backward_scalar(root):
        order = iterative_order(root)
        for node in order:
            node.grad = None
        root.grad = np.ones_like(root.data)
        for node in reversed(order):
            if node.op is None:
                continue
            arrays = [x.data for x in node.inputs]
            for x, g in zip(
                node.inputs, node.op.vjp(node.grad, node.data, *arrays, **node.settings)
            ):
                if x.requires_grad:
                    x.grad = g if (overwrite or x.grad is None) else x.grad + g

    return backward_scalar


def test_backward_scalar_pass():
    assert nb04.check_backward_scalar(make_backward(overwrite=False)).passed


def test_backward_scalar_overwrite_hint():
    feedback = nb04.check_backward_scalar(make_backward(overwrite=True))
    assert feedback.status == "hint"
    assert "arrived last" in feedback.message
    assert "+=" not in feedback.message and "add" not in feedback.message  # no fix spelled out


def test_backward_scalar_none_hint():
    feedback = nb04.check_backward_scalar(lambda root: None)
    assert feedback.status == "hint" and "still None" in feedback.message


def test_backward_scalar_not_done():
    def stub(root):
        raise NotImplementedError

    assert nb04.check_backward_scalar(stub).status == "not done"


# ----------------------------------------------------------------------------- softplus_vjp
def test_softplus_vjp_pass():
    sigmoid = lambda x: 1 / (1 + np.exp(-x))
    assert nb04.check_softplus_vjp(lambda g, out, x: (g * sigmoid(x),)).passed


def test_softplus_vjp_missing_upstream_hint():
    sigmoid = lambda x: 1 / (1 + np.exp(-x))
    feedback = nb04.check_softplus_vjp(lambda g, out, x: (sigmoid(x),))
    assert feedback.status == "hint" and "upstream gradient g" in feedback.message
    assert "sigmoid" not in feedback.message


def test_softplus_vjp_not_a_tuple_and_wrong_rule_hints():
    sigmoid = lambda x: 1 / (1 + np.exp(-x))
    assert "1-tuple" in nb04.check_softplus_vjp(lambda g, out, x: g * sigmoid(x)).message
    wrong = nb04.check_softplus_vjp(lambda g, out, x: (g * out,))
    assert wrong.status == "hint" and "finite differences" in wrong.message


def test_softplus_vjp_not_done():
    def stub(g, out, x):
        raise NotImplementedError

    assert nb04.check_softplus_vjp(stub).status == "not done"


def test_checks_never_raise_on_odd_answers():
    def sets_strings(root):
        for node in iterative_order(root):
            node.grad = "a gradient"

    assert nb04.check_backward_scalar(sets_strings).status == "hint"
    assert nb04.check_softplus_vjp(lambda g, out, x: ("abc",)).status == "hint"
    assert nb04.check_topo_order(lambda root: None).status == "hint"
    assert nb04.check_topo_order(lambda root: [1, 2, 3]).status == "hint"
