"""The self-checks of notebook 04: pass, hint and not-done paths."""

import numpy as np
import pytest

import backproplab as bl
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


def test_topo_order_sorted_by_creation_number_is_refused():
    # The notebook prints the engine's toposort (find the nodes, sort them by seq) just before the
    # exercise: copying it must not pass. The check's graphs carry made-up numbers.
    def by_seq(root):
        found, stack = {id(root): root}, [root]
        while stack:
            for p in stack.pop().inputs:
                if p.requires_grad and id(p) not in found:
                    found[id(p)] = p
                    stack.append(p)
        return sorted(found.values(), key=lambda t: t.seq)

    feedback = nb04.check_topo_order(by_seq)
    assert feedback.status == "hint"
    assert "creation numbers" in feedback.message and "seq" in feedback.message
    assert "stack" not in feedback.message  # names the mistake, not the algorithm
    descending = nb04.check_topo_order(lambda root: by_seq(root)[::-1])  # "fixing" the sign
    assert descending.status == "hint" and "before one of its inputs" in descending.message


@pytest.mark.parametrize("inputs_reversed", [False, True])
def test_topo_order_marking_visited_when_pushed_is_refused(inputs_reversed):
    # A common slip in an iterative search: a node is marked visited as soon as it is pushed,
    # so a node that reaches it later, but is expanded earlier, is appended before it.
    def marks_on_push(root):
        order, visited, stack = [], {id(root)}, [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            stack.append((node, True))
            for p in reversed(node.inputs) if inputs_reversed else node.inputs:
                if p.requires_grad and id(p) not in visited:
                    visited.add(id(p))
                    stack.append((p, False))
        return order

    feedback = nb04.check_topo_order(marks_on_push)
    assert feedback.status == "hint" and "before one of its inputs" in feedback.message
    assert "visited" not in feedback.message.split(":")[-1]  # names the symptom, not the fix


def test_topo_order_reversed_preorder_and_bfs_are_refused():
    def reversed_preorder(root):  # each node once, when first popped; then the list reversed
        order, visited, stack = [], set(), [root]
        while stack:
            node = stack.pop()
            if id(node) not in visited:
                visited.add(id(node))
                order.append(node)
                stack.extend(p for p in node.inputs if p.requires_grad)
        return order[::-1]

    def reversed_bfs(root):  # breadth-first from the root, then reversed
        queue, seen = [root], {id(root)}
        for node in queue:
            for p in node.inputs:
                if p.requires_grad and id(p) not in seen:
                    seen.add(id(p))
                    queue.append(p)
        return queue[::-1]

    for wrong in (reversed_preorder, reversed_bfs):
        feedback = nb04.check_topo_order(wrong)
        assert feedback.status == "hint" and "before one of its inputs" in feedback.message


def test_topo_order_not_done():
    def stub(root):
        raise NotImplementedError

    assert nb04.check_topo_order(stub).status == "not done"


# ---------------------------------------------------------------------------- backward_list
def make_backward_list(mistake=None):
    """A backward pass over (name, op, inputs) lists; ``mistake`` injects one typical error."""

    def backward_list(nodes, values, local):
        grads = {nodes[-1][0]: 0.0 if mistake == "no seed" else 1.0}
        walk = nodes if mistake == "forwards" else reversed(nodes)
        for name, op, inputs in walk:
            grads.setdefault(name, 0.0)
            if op is None:
                continue
            derivatives = local[op](*[values[i] for i in inputs])
            for i, d in zip(inputs, derivatives):
                share = d if mistake == "no upstream" else d * grads[name]
                if mistake == "overwrite":
                    grads[i] = share
                else:
                    grads[i] = grads.get(i, 0.0) + share
        return grads

    return backward_list


def test_backward_list_pass():
    feedback = nb04.check_backward_list(make_backward_list())
    assert feedback.passed, feedback


def test_backward_list_overwrite_hint():
    feedback = nb04.check_backward_list(make_backward_list("overwrite"))
    assert feedback.status == "hint"
    assert "arrived last" in feedback.message and "'x'" in feedback.message
    advice = feedback.message.split("), ", 1)[1]  # after the graph's formula, which has a +
    assert "+" not in advice and "add" not in advice and "sum" not in advice  # no fix spelled out


def test_backward_list_missing_upstream_and_order_hints():
    # each named for itself (both had one hint that asked about both, naming neither)
    for mistake, words in [
        ("no upstream", "a local derivative alone"),
        ("forwards", "in which direction does the backward pass walk the list"),
    ]:
        feedback = nb04.check_backward_list(make_backward_list(mistake))
        assert feedback.status == "hint", (mistake, feedback)
        assert words in feedback.message, (mistake, feedback)
        assert "reversed" not in feedback.message and "[::-1]" not in feedback.message


def test_backward_list_names_handed_to_the_local_table_are_named():
    # a novice walk: local[op](*inputs), the names where the values belong, crashed with
    # Python's "can't multiply sequence by non-int of type 'float'", which names neither
    def backward_list(nodes, values, local):
        grads = {name: 0.0 for name, _, _ in nodes}
        grads[nodes[-1][0]] = 1.0
        for name, op, inputs in reversed(nodes):
            if op is not None:
                for i, d in zip(inputs, local[op](*inputs)):
                    grads[i] += d * grads[name]
        return grads

    feedback = nb04.check_backward_list(backward_list)
    assert feedback.status == "hint" and "a node's name" in feedback.message, feedback
    assert "forward values" in feedback.message


def test_backward_list_seed_hint():
    feedback = nb04.check_backward_list(make_backward_list("no seed"))
    assert feedback.status == "hint" and "with respect to itself" in feedback.message


def test_backward_list_shape_of_answer_hints():
    assert "return a dict" in nb04.check_backward_list(lambda n, v, local: None).message
    leaves_left_out = nb04.check_backward_list(
        lambda n, v, local: {k: g for k, g in make_backward_list()(n, v, local).items() if k != "y"}
    )
    assert leaves_left_out.status == "hint" and "no gradient for 'y'" in leaves_left_out.message


def test_backward_list_that_changes_its_inputs_is_refused():
    def reverses_in_place(nodes, values, local):  # right numbers, but the caller's list is reversed
        nodes.reverse()
        return make_backward_list()(nodes[::-1], values, local)

    def stores_in_values(nodes, values, local):  # keeps the gradients in the caller's dict
        grads = make_backward_list()(nodes, values, local)
        values.update({f"d{name}": g for name, g in grads.items()})
        return grads

    for wrong in (reverses_in_place, stores_in_values):
        feedback = nb04.check_backward_list(wrong)
        assert feedback.status == "hint" and "changed the list of nodes" in feedback.message


def test_backward_list_more_wrong_answers():
    def swapped_derivatives(nodes, values, local):  # each input gets the other one's derivative
        grads = {name: 0.0 for name, _, _ in nodes}
        grads[nodes[-1][0]] = 1.0
        for name, op, inputs in reversed(nodes):
            if op is not None:
                derivatives = local[op](*[values[i] for i in inputs])
                for i, d in zip(inputs, derivatives[::-1]):
                    grads[i] += d * grads[name]
        return grads

    def every_node_starts_at_one(nodes, values, local):
        grads = {name: 1.0 for name, _, _ in nodes}
        for name, op, inputs in reversed(nodes):
            if op is not None:
                for i, d in zip(inputs, local[op](*[values[i] for i in inputs])):
                    grads[i] += d * grads[name]
        return grads

    def the_example_hard_coded(nodes, values, local):
        return {"x": 7.0, "y": 2.0, "q": 2.0, "L": 1.0}

    def the_loss_is_called_L(nodes, values, local):  # seeds "L", whatever the last node is
        grads = {name: 0.0 for name, _, _ in nodes}
        grads["L"] = 1.0
        for name, op, inputs in reversed(nodes):
            if op is not None:
                for i, d in zip(inputs, local[op](*[values[i] for i in inputs])):
                    grads[i] += d * grads[name]
        return grads

    wrong_answers = (
        swapped_derivatives,
        every_node_starts_at_one,
        the_example_hard_coded,
        the_loss_is_called_L,
    )
    for wrong in wrong_answers:
        assert nb04.check_backward_list(wrong).status == "hint", wrong.__name__


def test_backward_list_a_gradient_slightly_off_is_not_accepted():
    # the wrong answers above are off by far; this pins the check's tolerance (rel 1e-5): a
    # leaf's gradient 0.1 % off, as a slope measured with a coarse step would be, gets a hint
    def measured_not_derived(nodes, values, local):
        grads = make_backward_list()(nodes, values, local)
        leaf = next(name for name, op, _ in nodes if op is None)
        return {**grads, leaf: grads[leaf] * (1 + 1e-3)}

    feedback = nb04.check_backward_list(measured_not_derived)
    assert feedback.status == "hint" and "disagrees with finite differences" in feedback.message


def test_backward_list_not_done():
    def stub(nodes, values, local):
        raise NotImplementedError

    assert nb04.check_backward_list(stub).status == "not done"


def test_backward_list_expected_values_match_calculus():
    # The check's finite differences on L = x (x + y) at x=2, y=3: dL/dx = 2x + y, dL/dy = x.
    _, nodes, leaves = nb04._LIST_CASES[0]
    fd = nb04._finite_differences(nodes, leaves)
    assert np.allclose([fd["x"], fd["y"], fd["q"], fd["L"]], [7.0, 2.0, 2.0, 1.0], atol=1e-6)


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
    bare = nb04.check_softplus_vjp(lambda g, out, x: g * sigmoid(x)).message
    assert "one entry for each" in bare and "(g" not in bare  # names the mistake, not the code
    wrong = nb04.check_softplus_vjp(lambda g, out, x: (g * out,))  # exp's rule copied
    assert wrong.status == "hint" and "softplus itself" in wrong.message


def test_softplus_vjp_returning_a_list_is_told_the_convention_is_a_tuple():
    # the engine refuses a list too (autodiff checks for a tuple): the prose asks for a tuple,
    # and the hint names it instead of "one entry for each", which a list of one already has
    sigmoid = lambda x: 1 / (1 + np.exp(-x))
    feedback = nb04.check_softplus_vjp(lambda g, out, x: [g * sigmoid(x)])
    assert feedback.status == "hint" and "is a tuple" in feedback.message, feedback
    assert "trailing comma" in feedback.message and "(g" not in feedback.message


def test_softplus_vjp_that_overflows_at_large_x_is_refused():
    # e^x / (1 + e^x) is the right derivative on paper, and nan at x = 800 (inf / inf)
    feedback = nb04.check_softplus_vjp(lambda g, out, x: (g * np.exp(x) / (1 + np.exp(x)),))
    assert feedback.status == "hint" and "x = 800" in feedback.message, feedback
    assert "overflows" in feedback.message and "exp(-" not in feedback.message


def test_softplus_vjp_right_answers_pass_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exp(800) in 1 / (1 + e^-x) at x = -800: no warning shown
        assert nb04.check_softplus_vjp(lambda g, out, x: (g / (1 + np.exp(-x)),)).passed
        assert nb04.check_softplus_vjp(lambda g, out, x: (g * (1 - np.exp(-out)),)).passed


@pytest.mark.parametrize(
    "wrong",
    [
        lambda g, out, x: (g * np.exp(-x) / (1 + np.exp(-x)) ** 2,),  # sigmoid's own derivative
    ],
)
def test_softplus_vjp_wrong_rules_get_the_finite_difference_hint(wrong):
    feedback = nb04.check_softplus_vjp(wrong)
    assert feedback.status == "hint" and "disagrees with finite differences" in feedback.message


def test_softplus_vjp_without_the_outer_logs_slope_is_named():
    # a novice walk: e^x, the inner function's slope alone (the chain rule's outer factor
    # forgotten), heard the catch-all "differentiate log(1 + e^x)"
    with np.errstate(over="ignore"):
        feedback = nb04.check_softplus_vjp(lambda g, out, x: (g * np.exp(x),))
    assert feedback.status == "hint" and "inner function 1 + e^x only" in feedback.message
    assert "outer log" in feedback.message and "sigmoid" not in feedback.message


def test_softplus_vjp_with_relus_slope_is_named():
    # "a smooth version of ReLU" read as "ReLU's derivative": a step from 0 to 1, heard the
    # catch-all; x = 0 counted either way (review of 03/04)
    for step in (lambda g, out, x: (g * (x > 0),), lambda g, out, x: (g * (x >= 0),)):
        feedback = nb04.check_softplus_vjp(step)
        assert feedback.status == "hint" and "ReLU's" in feedback.message, feedback
        assert "sigmoid" not in feedback.message and "1 + e" not in feedback.message


def test_softplus_vjp_sign_slip_that_also_overflows_is_named():
    # e^-x / (1 + e^-x) is 1 - sigmoid(x), the slope with x's sign flipped, and nan at x = -800
    # (inf / inf): its slip was compared with the nan included and heard the catch-all
    with np.errstate(all="ignore"):
        feedback = nb04.check_softplus_vjp(lambda g, out, x: (g * np.exp(-x) / (1 + np.exp(-x)),))
    assert feedback.status == "hint" and "sign of x" in feedback.message, feedback


def test_softplus_vjp_not_done():
    def stub(g, out, x):
        raise NotImplementedError

    assert nb04.check_softplus_vjp(stub).status == "not done"


def test_checks_never_raise_on_odd_answers():
    strings = nb04.check_backward_list(lambda n, v, local: {name: "a gradient" for name, _, _ in n})
    assert strings.status == "hint"
    assert nb04.check_backward_list(lambda n, v, local: 1 / 0).status == "hint"
    assert nb04.check_softplus_vjp(lambda g, out, x: ("abc",)).status == "hint"
    assert nb04.check_topo_order(lambda root: None).status == "hint"
    assert nb04.check_topo_order(lambda root: [1, 2, 3]).status == "hint"


# ----------------------------------------------------------------- answers from the package
def test_the_package_cannot_answer_topo_order():
    everything = nb04.check_topo_order(lambda root: bl.toposort(root))  # constants included
    assert everything.status == "hint"
    filtered = nb04.check_topo_order(lambda root: [t for t in bl.toposort(root) if t.requires_grad])
    assert filtered.status == "hint" and "backproplab" in filtered.message


def test_the_package_cannot_answer_softplus():
    from backproplab import ops

    feedback = nb04.check_softplus_vjp(lambda g, out, x: ops.sigmoid.vjp(g, out, x))
    assert feedback.status == "hint" and "backproplab" in feedback.message


def test_softplus_vjp_that_changes_g_in_place_is_refused():
    def in_place(g, out, x):
        g *= 1 / (1 + np.exp(-x))
        return (g,)

    feedback = nb04.check_softplus_vjp(in_place)
    assert feedback.status == "hint" and "in place" in feedback.message


# -------------------------------------------------------------------- challenge: gradients
def _vjps(node, g, call=True):
    """The node's gradients for its inputs; ``call``: the ones a rule hands over as a function
    (linear's, for its input) called, as every answer below but the one that forgets does."""
    grads = node.op.vjp(g, node.saved, *[x.data for x in node.inputs], **node.settings)
    return [gi() if call and callable(gi) else gi for gi in grads]


def gradients_never_calls(root, wrt):  # the right walk, but linear's function is never called
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(bl.toposort(root)):
        if node.op is None or id(node) not in grads:
            continue
        for x, g in zip(node.inputs, _vjps(node, grads[id(node)], call=False)):
            g = g if callable(g) else bl.sum_to_shape(np.asarray(g, dtype=float), x.shape)
            grads[id(x)] = grads[id(x)] + g if id(x) in grads else g
    return [grads.get(id(t), np.zeros(t.shape)) for t in wrt]


def gradients_never_calls_and_crashes(root, wrt):  # np.asarray of a function: numpy's TypeError
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(bl.toposort(root)):
        if node.op is None or id(node) not in grads:
            continue
        for x, g in zip(node.inputs, _vjps(node, grads[id(node)], call=False)):
            g = bl.sum_to_shape(np.asarray(g, dtype=float), x.shape)
            grads[id(x)] = grads[id(x)] + g if id(x) in grads else g
    return [grads.get(id(t), np.zeros(t.shape)) for t in wrt]


def gradients_keyerror_if_unused(root, wrt):  # every asked tensor looked up: c never arrives
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(bl.toposort(root)):
        if node.op is None or id(node) not in grads:
            continue
        for x, g in zip(node.inputs, _vjps(node, grads[id(node)])):
            g = bl.sum_to_shape(np.asarray(g, dtype=float), x.shape)
            grads[id(x)] = grads[id(x)] + g if id(x) in grads else g
    return [grads[id(t)] for t in wrt]


def gradients_right(root, wrt):
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(bl.toposort(root)):
        if node.op is None or id(node) not in grads:
            continue
        for x, g in zip(node.inputs, _vjps(node, grads[id(node)])):
            g = bl.sum_to_shape(np.asarray(g, dtype=float), x.shape)
            grads[id(x)] = grads[id(x)] + g if id(x) in grads else g
    return [grads.get(id(t), np.zeros(t.shape)) for t in wrt]


def gradients_overwrites(root, wrt):
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(bl.toposort(root)):
        if node.op is not None and id(node) in grads:
            for x, g in zip(node.inputs, _vjps(node, grads[id(node)])):
                grads[id(x)] = bl.sum_to_shape(np.asarray(g, dtype=float), x.shape)  # '=' not '+'
    return [grads.get(id(t), np.zeros(t.shape)) for t in wrt]


def gradients_no_unbroadcast(root, wrt):
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(bl.toposort(root)):
        if node.op is not None and id(node) in grads:
            for x, g in zip(node.inputs, _vjps(node, grads[id(node)])):
                grads[id(x)] = grads[id(x)] + g if id(x) in grads else g
    return [grads.get(id(t), np.zeros(t.shape)) for t in wrt]


def gradients_wrong_direction(root, wrt):
    grads = {id(root): np.ones_like(root.data)}
    for node in bl.toposort(root):  # inputs first: a node sends its gradient before it is complete
        if node.op is not None and id(node) in grads:
            for x, g in zip(node.inputs, _vjps(node, grads[id(node)])):
                g = bl.sum_to_shape(np.asarray(g, dtype=float), x.shape)
                grads[id(x)] = grads[id(x)] + g if id(x) in grads else g
    return [grads.get(id(t), np.zeros(t.shape)) for t in wrt]


def gradients_no_seed(root, wrt):
    grads = {}  # nothing starts the walk: every gradient stays zero
    for node in reversed(bl.toposort(root)):
        if node.op is not None and id(node) in grads:
            for x, g in zip(node.inputs, _vjps(node, grads[id(node)])):
                grads[id(x)] = g
    return [grads.get(id(t), np.zeros(t.shape)) for t in wrt]


def gradients_none_if_unused(root, wrt):
    right = gradients_right(root, wrt)
    reached = {id(t) for t in bl.toposort(root)}
    return [g if id(t) in reached else None for t, g in zip(wrt, right)]


def gradients_in_place(root, wrt):  # += changes the array that add handed to both inputs
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(bl.toposort(root)):
        if node.op is not None and id(node) in grads:
            for x, g in zip(node.inputs, _vjps(node, grads[id(node)])):
                g = bl.sum_to_shape(np.asarray(g, dtype=float), x.shape)
                if id(x) in grads:
                    grads[id(x)] += g
                else:
                    grads[id(x)] = g
    return [grads.get(id(t), np.zeros(t.shape)) for t in wrt]


def gradients_in_grad(root, wrt):  # the engine's way: the results land in .grad
    order = bl.toposort(root)
    for node in order:
        node.grad = None
    root.grad = np.ones_like(root.data)
    for node in reversed(order):
        if node.op is not None and node.grad is not None:
            for x, g in zip(node.inputs, _vjps(node, node.grad)):
                g = bl.sum_to_shape(np.asarray(g, dtype=float), x.shape)
                x.grad = g if x.grad is None else x.grad + g
    return [t.grad if t.grad is not None else np.zeros(t.shape) for t in wrt]


def gradients_via_backward(root, wrt):
    saved = [(t, t.grad) for t in bl.toposort(root)]
    root.backward(accumulate=True)
    result = [t.grad for t in wrt]
    for t, g in saved:
        t.grad = g
    return result


def gradients_via_backward_in_a_helper(root, wrt):
    def helper():  # backward() called one function down, every .grad restored afterwards
        saved = [(t, t.grad) for t in bl.toposort(root)]
        root.backward(accumulate=True)  # the check's leaves held 7 before: backward added to it
        result = [np.array(t.grad) - (7.0 if t.op is None else 0.0) for t in wrt]
        for t, g in saved:
            t.grad = g
        return result

    return helper()


def test_gradients_right():
    assert nb04.check_gradients(gradients_right).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (gradients_overwrites, "paths"),
        (gradients_no_unbroadcast, "summed back"),
        (gradients_wrong_direction, "only after every node that uses it"),
        (gradients_no_seed, "gradient of 1"),
        (gradients_none_if_unused, "zero"),
        (gradients_in_place, "in place"),
        (gradients_in_grad, "leave .grad alone"),
        (gradients_via_backward, "write that loop"),
        (gradients_via_backward_in_a_helper, "write that loop"),
        (lambda root, wrt: {id(t): np.zeros(t.shape) for t in wrt}, "one gradient per tensor"),
        # found by mutating the solution: without the call, it passed all four graphs of then
        (gradients_never_calls, "the gradient of x is a function. A rule may hand over"),
        (gradients_never_calls_and_crashes, "it must be called to give the array"),
        # a novice walk: a dict lookup for a tensor the root does not use crashed with a bare
        # "KeyError: 1403...", naming no graph
        (
            gradients_keyerror_if_unused,
            "on L = a (a + b), with a used twice and c not used, your code raised KeyError",
        ),
    ],
)
def test_gradients_hints(wrong, words):
    feedback = nb04.check_gradients(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "vjp(" not in feedback.message and "+=" not in feedback.message


def backward_list_one_share_per_input_name(nodes, values, local):
    """Each node's shares kept in a dict keyed by input name: b * b sends b one share, not two."""
    grads = {name: 0.0 for name, _, _ in nodes}
    grads[nodes[-1][0]] = 1.0
    for name, op, inputs in reversed(nodes):
        if op is not None:
            shares = dict(zip(inputs, local[op](*[values[i] for i in inputs])))
            for i, d in shares.items():
                grads[i] += d * grads[name]
    return grads


def test_backward_list_counts_both_inputs_of_a_square():
    feedback = nb04.check_backward_list(backward_list_one_share_per_input_name)
    assert feedback.status == "hint" and "both inputs of 'c'" in feedback.message, feedback


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (lambda g, out, x: (g / (1 + np.exp(x)),), "check the sign of x"),  # sigmoid(-x)
        (lambda g, out, x: (-g / (1 + np.exp(-x)),), "wrong sign"),
        (lambda g, out, x: (g * out,), "softplus itself"),  # exp's rule copied
    ],
)
def test_softplus_vjp_recognisable_slips_get_their_own_hint(wrong, words):
    feedback = nb04.check_softplus_vjp(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "exp(" not in feedback.message and "sigmoid" not in feedback.message


# ------------------------------------------------ topo_order: what a wrong list holds or lacks
@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (lambda root: [t.name for t in iterative_order(root)], "str objects"),
        (lambda root: [id(t) for t in iterative_order(root)], "int objects"),
        (lambda root: [t.data for t in iterative_order(root)], "ndarray objects"),
        (lambda root: [(t, True) for t in iterative_order(root)], "tuple objects"),
        (lambda root: iterative_order(root) + [None], "holds None"),
    ],
)
def test_topo_order_list_of_something_else(wrong, words):
    # these used to get "contains tensors that need no gradient" (or, for names, "more than once")
    feedback = nb04.check_topo_order(wrong)
    assert feedback.status == "hint" and words in feedback.message
    assert "the tensors themselves" in feedback.message
    assert "need no gradient" not in feedback.message and "more than once" not in feedback.message


def test_topo_order_missing_root_leaves_or_op_nodes_are_named():
    no_root = nb04.check_topo_order(lambda root: iterative_order(root)[:-1])
    assert "the root itself is missing" in no_root.message
    no_leaves = nb04.check_topo_order(lambda root: [t for t in iterative_order(root) if t.inputs])
    assert "the leaves (u, v, x and y) are missing" in no_leaves.message
    leaves = nb04.check_topo_order(lambda root: [t for t in iterative_order(root) if not t.inputs])
    assert "only leaves" in leaves.message and "the root among them" in leaves.message
    # the root's own inputs only: found nodes never followed in turn (ops and leaves missing)
    one_level = nb04.check_topo_order(
        lambda root: [p for p in root.inputs if p.requires_grad] + [root]
    )
    assert "6 nodes are missing: follow every node's inputs" in one_level.message
    no_root_either = nb04.check_topo_order(lambda root: [p for p in root.inputs if p.requires_grad])
    assert "7 nodes are missing, the root among them" in no_root_either.message
    for feedback in (no_root, no_leaves, leaves, one_level, no_root_either):
        assert feedback.status == "hint" and "stack" not in feedback.message


def test_topo_order_visited_compared_by_value_is_named():
    def by_value(root):  # `in` on a list compares tensors by value: v (0.5) equals (u + v) u
        order, visited, stack = [], [], [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif not any(bool(node.data == seen.data) for seen in visited):
                visited.append(node)
                stack.append((node, True))
                stack.extend((p, False) for p in node.inputs if p.requires_grad)
        return order

    feedback = nb04.check_topo_order(by_value)
    assert feedback.status == "hint" and "(v)" in feedback.message
    assert "same value" in feedback.message and "different nodes" in feedback.message


L = bl.Tensor(2.0, requires_grad=True, name="x") * 3.0  # the notebook's own graph, a global


def test_topo_order_of_another_graph_or_copies():
    import copy

    def notebooks_graph(root):  # walks the notebook's L, not the root it is given
        return [t for t in iterative_order(L) if t.requires_grad]

    other = nb04.check_topo_order(notebooks_graph)  # used to be "calls into backproplab"
    assert other.status == "hint" and "not nodes of the graph" in other.message
    assert "backproplab" not in other.message
    copies = nb04.check_topo_order(lambda root: [copy.copy(t) for t in iterative_order(root)])
    assert copies.status == "hint" and "copies" in copies.message


def test_topo_order_that_changes_the_graph_is_refused():
    def cuts_edges(root):  # a valid order, but the graph is left without its edges
        order = iterative_order(root)
        for t in order:
            t.inputs = ()
        return order

    def renumbers(root):  # a valid order, but the creation numbers are rewritten
        order = iterative_order(root)
        for k, t in enumerate(order):
            t.seq = k
        return order

    for wrong in (cuts_edges, renumbers):
        feedback = nb04.check_topo_order(wrong)
        assert feedback.status == "hint" and "changed the graph" in feedback.message


def test_topo_order_recursion_with_the_limit_raised_is_refused():
    import sys

    limit = sys.getrecursionlimit()

    def raises_the_limit(root):
        sys.setrecursionlimit(10_000)
        return recursive_order(root)

    try:
        feedback = nb04.check_topo_order(raises_the_limit)  # used to pass
    finally:
        sys.setrecursionlimit(limit)
    assert feedback.status == "hint" and "calling yourself" in feedback.message


def test_gradients_that_write_the_seed_into_the_root_s_values_are_refused():
    """The seed of ones written into root.data (a name for the array, where a new array was
    meant): the gradients are right, since no rule reads the root's value, so it passed, with
    the loss's value overwritten by 1 (found by the in-place audit)."""

    def seed_in_root_data(root, wrt):
        seed = root.data
        seed[...] = 1.0  # dL/dL = 1
        grads = {id(root): seed}
        for node in reversed(bl.toposort(root)):
            if node.op is None or id(node) not in grads:
                continue
            for x, g in zip(node.inputs, _vjps(node, grads[id(node)])):
                g = bl.sum_to_shape(np.asarray(g, dtype=float), x.shape)
                grads[id(x)] = grads[id(x)] + g if id(x) in grads else g
        return [grads.get(id(t), np.zeros(t.shape)) for t in wrt]

    feedback = nb04.check_gradients(seed_in_root_data)
    assert (
        feedback.status == "hint" and "changed the values (.data) of the root" in feedback.message
    )
    assert "seed" not in feedback.message


def test_gradients_that_skip_a_gradient_handed_over_as_a_function_are_told_to_call_it():
    """A walk that steps over linear's gradient for x, a function, instead of calling it (as
    after a TypeError from adding a function): x's gradient is 0, and the hint asked whether
    the walk starts from 1 and visits each node after its users. Found trying the likely
    slips of the challenge."""

    def skips_functions(root, wrt):
        grads = {id(root): np.ones_like(root.data)}
        for node in reversed(bl.toposort(root)):
            if node.op is None or id(node) not in grads:
                continue
            for x, g in zip(node.inputs, _vjps(node, grads[id(node)], call=False)):
                if callable(g):
                    continue
                g = bl.sum_to_shape(np.asarray(g, dtype=float), x.shape)
                grads[id(x)] = grads[id(x)] + g if id(x) in grads else g
        return [grads.get(id(t), np.zeros(t.shape)) for t in wrt]

    feedback = nb04.check_gradients(skips_functions)
    assert feedback.status == "hint" and "it must be called to give the array" in feedback.message
    assert "started from the loss" not in feedback.message


def test_softplus_vjp_of_another_shape_than_x_is_told_both_shapes():
    # (coverage sweep: no answer reached this hint)
    feedback = nb04.check_softplus_vjp(lambda g, out, x: (np.ones(2),))
    assert feedback.status == "hint"
    assert feedback.message.startswith("the gradient has shape (2,), but x has shape ("), feedback
