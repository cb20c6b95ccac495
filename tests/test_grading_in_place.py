"""What a student's function changes in the arguments a check hands it, the check sees in the grade
as in the notebook: arrays changed in place, inside lists, tuples and dicts (nested), and the
items of a list or a dict put in, replaced or removed. Before the fix the grader wrote back only
arrays given directly or inside lists: an optimizer step that updates a dict of parameters in
place (``params[k] -= lr * grads[k]``), right in the notebook, was told it changed nothing, and
a check that refuses a change of its inputs let one inside a dict or a tuple through.
"""

from __future__ import annotations

import pytest
from exercise_helpers import grade_one_exercise, grade_own_exercise

from backproplab.exercises import nb11

SOLUTION = '''def sgd_step_(params, grads, lr):
    """Update every array of the dict params in place: p -= lr * g. Returns None."""
    ### BEGIN SOLUTION
    for key in params:
        params[key] -= lr * grads[key]
    ### END SOLUTION'''
CHECK = """def check_sgd_step_(fn):
    params = {"W": np.ones((2, 3)), "b": np.zeros(2)}
    W = params["W"]  # the array itself: an update in place changes it
    grads = {"W": np.full((2, 3), 2.0), "b": np.ones(2)}
    result = fn(params, grads, 0.5)
    if result is not None:
        return hint("sgd_step_", "update in place and return None")
    if set(params) != {"W", "b"}:
        return hint("sgd_step_", "keep the dict's keys as they were")
    if params["W"] is not W:
        return hint("sgd_step_", "change the arrays themselves, do not put new ones in the dict")
    if not (np.allclose(params["W"], 0.0) and np.allclose(params["b"], -0.5)):
        return hint("sgd_step_", "each parameter goes down by lr times its gradient")
    if not np.allclose(grads["W"], 2.0):
        return hint("sgd_step_", "leave the gradients as they were")
    return correct("sgd_step_")


check_sgd_step_(sgd_step_)"""


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        ("    for key in params:\n        params[key] -= lr * grads[key]\n", "correct", ""),
        ("    for key, p in params.items():\n        p -= lr * grads[key]\n", "correct", ""),
        ("    for key in params:\n        params[key] = params[key] - lr * grads[key]\n",
         "hint", "do not put new ones"),
        ("    params['W'] -= lr * grads['W']\n", "hint", "goes down by lr"),
        ("    for key in params:\n        params[key] -= lr * grads[key]\n"
         "    params['extra'] = 1\n", "hint", "keep the dict's keys"),
        ("    for key in params:\n        params[key] -= lr * grads[key]\n"
         "    grads['W'] *= 0\n", "hint", "leave the gradients"),
        ("    for key in params:\n        params[key] -= lr * grads[key]\n"
         "    del params['b']\n", "hint", "keep the dict's keys"),
    ],
)  # fmt: skip
def test_a_dict_changed_in_place_is_seen_as_in_the_notebook(tmp_path, body, status, said):
    got, message = grade_own_exercise(tmp_path, "sgd_step_", SOLUTION, CHECK, body)
    assert got == status, message
    assert said in message


TUPLE_SOLUTION = '''def scale_all(groups, factor):
    """New arrays, each array of each group times factor; the arrays given left alone."""
    ### BEGIN SOLUTION
    return [[a * factor for a in group] for group in groups]
    ### END SOLUTION'''
TUPLE_CHECK = """def check_scale_all(fn):
    groups = ([np.ones(3)], [np.arange(2.0), np.ones(1)])  # a tuple of lists of arrays
    fn(groups, 3.0)
    if [len(group) for group in groups] != [1, 2]:
        return hint("scale_all", "your function changed the lists it was given")
    if not all(np.allclose(a, b) for a, b in zip(groups[1], [[0.0, 1.0], [1.0]])):
        return hint("scale_all", "your function changed the arrays it was given")
    if not np.allclose(groups[0][0], 1.0):
        return hint("scale_all", "your function changed the arrays it was given")
    return correct("scale_all")


check_scale_all(scale_all)"""


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        ("    return [[a * factor for a in group] for group in groups]\n", "correct", ""),
        ("    for group in groups:\n        for a in group:\n            a *= factor\n"
         "    return groups\n", "hint", "changed the arrays"),
        ("    groups[1][0][1] = 3.0\n"
         "    return [[a * factor for a in group] for group in groups]\n", "hint", "arrays"),
        ("    groups[1].append(np.zeros(1))\n"
         "    return [[a * factor for a in group] for group in groups]\n", "hint", "lists"),
        ("    groups[0].pop()\n    return [[np.ones(3) * factor], "
         "[a * factor for a in groups[1]]]\n", "hint", "lists"),
    ],
)  # fmt: skip
def test_what_changes_inside_a_tuple_is_seen(tmp_path, body, status, said):
    got, message = grade_own_exercise(tmp_path, "scale_all", TUPLE_SOLUTION, TUPLE_CHECK, body)
    assert got == status, message
    assert said in message


BACKWARD_LIST = """    grads = {name: 0.0 for name, _, _ in nodes}
    grads[nodes[-1][0]] = 1.0
    for name, op, inputs in reversed(nodes):
        if op is None:
            continue
        derivatives = local[op](*[values[i] for i in inputs])
        for i, d in zip(inputs, derivatives):
            grads[i] += d * grads[name]
"""


@pytest.mark.parametrize(
    "slip",
    [
        "    values.clear()  # done with them\n",
        "    values.update(grads)  # the gradients kept beside the values\n",
        "    nodes.pop()\n",
    ],
)
def test_notebook_04_refuses_a_changed_graph_in_the_grade_too(tmp_path, slip):
    # the notebook's check refuses these (its hint: "changed the list of nodes or the dict of
    # values"); the grader scored them correct, the dict and the list of tuples never came back
    body = BACKWARD_LIST + slip + "    return grads\n"
    check = grade_one_exercise(
        tmp_path, "04_inside_the_engine.ipynb", "nb04", "nb04-backward_list", body
    )
    assert check.status == "hint", check.message
    assert "changed the list of nodes or the dict of values" in check.message


@pytest.mark.parametrize(
    "body",
    [
        "    out = x + (x @ W.T + b).relu()\n    x.data += 1.0\n    return out\n",
        "    out = x + (x @ W.T + b).relu()\n    x.data = x.data + 1.0\n    return out\n",
        "    out = x + (x @ W.T + b).relu()\n    W.data[0] = 0.0\n    return out\n",
    ],
)
def test_a_tensors_data_changed_in_place_is_seen_as_in_the_notebook(tmp_path, body):
    # notebook 11's check names an input changed in place; the grade heard "the gradients of W
    # and b are wrong" (or nothing): a Tensor's .data never came back from the kernel
    namespace: dict = {}
    exec("import numpy as np\ndef residual_block(x, W, b):\n" + body, namespace)  # noqa: S102
    in_the_notebook = nb11.check_residual_block(namespace["residual_block"])
    check = grade_one_exercise(
        tmp_path, "11_skip_connections.ipynb", "nb11", "nb11-residual_block", body
    )
    assert "changed its input" in str(in_the_notebook)
    assert (check.status, check.message) == ("hint", str(in_the_notebook))


PAIRS_SOLUTION = '''def total_area(pairs):
    """The sum of rows * columns over a list of (rows, columns) pairs; the list left as given."""
    ### BEGIN SOLUTION
    return sum(rows * columns for rows, columns in pairs)
    ### END SOLUTION'''
PAIRS_CHECK = """def check_total_area(fn):
    pairs = [(2, 3), (3, 4), (4, 1)]
    area = fn(pairs)
    if pairs != [(2, 3), (3, 4), (4, 1)]:
        return hint("total_area", "your function changed the list it was given")
    if area != 22:
        return hint("total_area", "add rows times columns over the pairs")
    return correct("total_area")


check_total_area(total_area)"""


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        ("    return sum(rows * columns for rows, columns in pairs)\n", "correct", ""),
        ("    pairs.reverse()\n    return sum(r * c for r, c in pairs)\n", "hint", "changed the list"),
        ("    pairs[0] = (3, 2)\n    return sum(r * c for r, c in pairs)\n", "hint", "changed the list"),
        ("    pairs.sort(key=lambda pair: pair[1])\n    return sum(r * c for r, c in pairs)\n", "hint", "changed the list"),
    ],
)  # fmt: skip
def test_tuples_that_move_in_a_list_are_seen_as_in_the_notebook(tmp_path, body, status, said):
    # a tuple cannot change, but the list holding it can: the grader kept the check's own tuple
    # at each place whatever the student's call had put there, so a list of pairs reversed in
    # place was told it changed nothing (found by notebook 01's chain_cost, which takes pairs)
    got, message = grade_own_exercise(tmp_path, "total_area", PAIRS_SOLUTION, PAIRS_CHECK, body)
    assert got == status, message
    assert said in message
