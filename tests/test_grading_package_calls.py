"""Which calls into the package the grader's kernel helper reports, exercise by exercise.

The helper's ``_call`` runs in the student's kernel; here it runs in the test's process, on a
request with no Tensor argument (what the grader sends for ``my_graph()`` of notebook 03).
"""

from __future__ import annotations

import backproplab as bl
from backproplab.classroom import _kernel_side
from backproplab.classroom import _wire as wire


def package_calls(name, fn):
    encode = wire.Encoder()
    request = wire.dumps({"args": encode([]), "kwargs": encode({}), "nodes": []})
    reply = _kernel_side._call({name: fn}, name, request)
    assert reply["status"] == "ok", reply
    return reply["package_calls"]


def graph_by_hand():
    x = bl.Tensor(2.0, requires_grad=True, name="x")
    y = bl.Tensor(-1.0, requires_grad=True, name="y")
    q = x * y
    L = (q + x).exp()
    return L, {"x": float(L.data) * (float(y.data) + 1), "y": float(L.data) * float(x.data)}


def graph_by_backward():
    L, _ = graph_by_hand()
    L.backward()
    return L, {}


def test_my_graph_may_build_a_graph_of_tensors():
    assert package_calls("my_graph", graph_by_hand) == []


def test_my_graph_may_not_call_backward():
    calls = package_calls("my_graph", graph_by_backward)
    assert any(call.endswith(".backward") for call in calls), calls


def test_another_function_without_tensors_may_not_build_one():
    calls = package_calls("fan_out", graph_by_hand)
    assert "backproplab.tensor.Tensor.__init__" in calls, calls


def test_train_of_notebook_01_may_call_backward():
    assert package_calls("train", graph_by_backward) == []


def test_train_may_not_call_a_vjp_rule():
    calls = package_calls("train", lambda: bl.ops.mul.vjp(1.0, 2.0, 3.0, 4.0))
    assert calls == ["backproplab.ops.<lambda>"], calls  # the rule, called by the learner


def graph_with_numpy_on_the_left():
    import numpy as np

    w = bl.Tensor([1.0, -2.0], requires_grad=True)
    L = (np.array([3.0, 0.5]) * w).sum()  # numpy's hook turns it into w.__rmul__(array)
    return L, {"w": [3.0, 0.5]}


def test_my_graph_may_put_an_array_on_the_left_of_a_tensor():
    # numpy's hooks live in _numpy_interop.py: a graph exercise's array * t was reported as a
    # call to NumpyInterop.__array_ufunc__ (notebook 01's train scored 0 in the rehearsal)
    assert package_calls("my_graph", graph_with_numpy_on_the_left) == []
    calls = package_calls("fan_out", graph_with_numpy_on_the_left)
    assert "backproplab._numpy_interop.NumpyInterop.__array_ufunc__" in calls, calls
