"""What comes back from a student's kernel is read as data only: never unpickled, never code."""

from __future__ import annotations

import base64
import io
import math
import pickle

import numpy as np
import pytest

from backproplab.classroom import _wire as wire


def roundtrip(value):
    return wire.Decoder()(wire.loads(wire.dumps(wire.Encoder()(value))))


def test_plain_data_round_trips():
    value = {
        "a": [1, 2.5, None, True, "text"],
        3: (np.arange(6.0).reshape(2, 3), np.float64(0.5), np.int64(7)),
        "empty": [],
    }
    back = roundtrip(value)
    assert back.keys() == value.keys()
    assert back["a"] == [1, 2.5, None, True, "text"]
    array, scalar, integer = back[3]
    np.testing.assert_array_equal(array, value[3][0])
    assert isinstance(scalar, np.float64) and scalar == 0.5
    assert isinstance(integer, np.int64) and integer == 7
    assert math.isnan(roundtrip(float("nan"))) and roundtrip(-math.inf) == -math.inf


class Evil:
    def __reduce__(self):
        return (print, ("this ran in the grader",))


def test_a_pickled_array_is_refused(capsys):
    buffer = io.BytesIO()
    np.save(buffer, np.array([Evil()], dtype=object), allow_pickle=True)
    text = base64.b64encode(buffer.getvalue()).decode()
    with pytest.raises(wire.WireError):
        wire.Decoder()({"array": text})
    raw = base64.b64encode(pickle.dumps(Evil())).decode()
    with pytest.raises(wire.WireError):
        wire.Decoder()({"array": raw})
    assert "this ran" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "data",
    [
        {"function": 0},  # the kernel cannot hand the grader a function to call
        {"tensor": {"ref": 0}},  # nor a tensor, unless the grader asked for tensors
        {"object": "os.system"},
        {"float": "1e400x"},
        {"dict": [[{"list": []}, 1]]},  # an unhashable key
        {"same": 0},  # a reference to an array that did not come
        {"list": [{"array": wire.array_to_text(np.zeros(2))}, {"same": 1}]},
        {"list": [{"array": wire.array_to_text(np.zeros(2))}, {"same": True}]},
        {"list": [{"array": wire.array_to_text(np.float64(1)), "scalar": True}, {"same": 0}]},
        [1, 2],  # a bare JSON list is not a value
    ],
)
def test_unknown_or_malformed_structures_are_refused(data):
    with pytest.raises(wire.WireError):
        wire.Decoder()(data)


def test_values_that_are_not_data_cannot_be_sent():
    with pytest.raises(wire.WireError, match="cannot be sent"):
        wire.Encoder()(object())
    for value, kind in [(1j, "complex"), ({1}, "set"), (..., "ellipsis"), (range(2), "range")]:
        with pytest.raises(wire.WireError) as raised:  # named, and what can go instead
            wire.Encoder()(value)
        assert str(raised.value).startswith(f"a value of type {kind} cannot be sent")
        assert "data only (real numbers, strings" in str(raised.value)
    with pytest.raises(wire.WireError, match="cannot be sent"):
        wire.Encoder()(np.array([object()]))


def test_an_array_at_two_places_arrives_as_one_array():
    """x * x * y as a check passes it: [x, x, y] with one array twice. The function on the other
    side must see one array at both places, as in the notebook, or "the other inputs" compared by
    identity would pass in the grader and fail in the notebook."""
    x, y = np.arange(3.0), np.ones(3)
    encode, decode = wire.Encoder(), wire.Decoder()
    back = decode(wire.loads(wire.dumps(encode([x, x, (y, {"k": x})]))))
    assert back[0] is back[1] and back[2][1]["k"] is back[0] and back[2][0] is not back[0]
    np.testing.assert_array_equal(back[0], x)
    # the references reach within one value only: the next value starts afresh
    again = decode(wire.loads(wire.dumps(encode([y, x]))))
    assert again[0] is not back[0] and again[0] is not again[1]
    np.testing.assert_array_equal(again[1], x)
    # equal arrays that are different objects stay different objects
    twins = roundtrip([np.zeros(2), np.zeros(2)])
    assert twins[0] is not twins[1]


def test_known_arrays_travel_as_references_to_the_other_sides_own():
    # the kernel sends the arrays a check handed over as references, and the grader reads them
    # as the check's own arrays: an array the student's function returned or left in a list
    # is the check's array again, as in the notebook
    sent = [np.zeros(2), np.ones(3)]
    value = {"kept": sent[1], "new": np.ones(3), "list": [sent[0], sent[0]]}
    text = wire.dumps(wire.Encoder(known=sent)(value))
    assert text.count('{"same":') == 3
    mine = [np.zeros(2), np.ones(3)]  # the grader's own arrays, in the order it sent them
    back = wire.Decoder(known=mine)(wire.loads(text))
    assert back["kept"] is mine[1] and back["list"][0] is mine[0] and back["list"][1] is mine[0]
    assert back["new"] is not mine[1]
    np.testing.assert_array_equal(back["new"], np.ones(3))


@pytest.mark.parametrize("ref", [-1, 2, "0", None])
def test_a_reference_to_a_tensor_the_check_did_not_hand_over_is_refused(ref):
    """A kernel's reply names the check's own tensors by their place in the call (0 and 1
    here); any other reference, a negative one too (Python would read -1 as the last), is a
    malformed reply, never one of the check's tensors."""
    from backproplab import Tensor
    from backproplab.classroom._returned import _tensor

    nodes = [Tensor(np.zeros(2)), Tensor(np.ones(3))]
    decode = wire.Decoder(tensor=lambda content: _tensor(content, nodes, {}))
    assert decode({"tensor": {"ref": 1}}) is nodes[1]
    with pytest.raises(wire.WireError, match="a tensor reference out of range"):
        decode({"tensor": {"ref": ref}})


@pytest.mark.parametrize(
    "changed",
    [
        [{"data": wire.array_to_text(np.ones(2))}],  # a list, not a table by place
        {"-1": {"data": wire.array_to_text(np.ones(2))}},
        {"2": {"data": wire.array_to_text(np.ones(2))}},
        {"0": "not a table"},
    ],
)
def test_a_malformed_table_of_the_tensors_a_call_changed_is_refused(changed):
    """What a kernel says the student's call changed of the check's tensors is a table from
    their place in the call to the new data; anything else is a malformed reply (a WireError,
    which the grader reports), and the check's tensors stay as they were."""
    from backproplab import Tensor
    from backproplab.classroom._returned import _tensors_left

    nodes = [Tensor(np.zeros(2)), Tensor(np.zeros(2))]
    with pytest.raises(wire.WireError):
        _tensors_left(nodes, changed)
    assert all(not node.data.any() for node in nodes)
    _tensors_left(nodes, {"1": {"data": wire.array_to_text(np.ones(2))}})
    np.testing.assert_array_equal(nodes[1].data, [1.0, 1.0])


def test_only_the_shapes_of_arrays_are_taken_from_a_crash_reply():
    """A crash's reply lists the shapes of the failing line's local arrays, for its hint: the
    grader makes a stand-in of each, so a list that is no array's shape (a negative or
    non-integer size) or has more dimensions than the grader's bound (32) is left out."""
    from backproplab.classroom._returned import _is_shape

    assert _is_shape([4, 3]) and _is_shape([0]) and _is_shape([1] * 32)
    for sizes in ([1] * 33, [1] * 10_000, [-1, 3], [2.0], [True, 3], ["4"]):
        assert not _is_shape(sizes), sizes
