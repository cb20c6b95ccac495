"""The helpers every notebook's self-checks share (backproplab.exercises), tested once here."""

import functools
import html
import re
import tracemalloc
from textwrap import dedent

import numpy as np
import pytest
from exercise_helpers import our_words

from backproplab import Tensor
from backproplab.exercises import (
    Feedback,
    attempt,
    call_measured,
    close,
    correct,
    hint,
    not_done,
    numeric_gradient,
    result_array,
)


# ------------------------------------------------------------------------------ attempt
def test_attempt_returns_the_result_or_feedback():
    assert attempt("ex", lambda a, b: a + b, 2, 3) == 5

    def stub():
        raise NotImplementedError

    assert attempt("ex", stub).status == "not done"

    crashed = attempt("ex", lambda: 1 / 0)
    assert crashed.status == "hint" and "ZeroDivisionError" in crashed.message


def test_attempt_names_another_unwritten_exercise_the_answer_calls():
    """A written answer that calls an exercise still a stub (as the release writes it) is not
    "not done": the hint names the stub it called and the exercise to do."""

    def mul_backward(upstream, a, b):
        raise NotImplementedError(
            "mul_backward is not written yet: do Exercise 2 above first (your code replaces "
            "this line)"
        )

    def fan_out(x, y):
        return mul_backward(1.0, x + y, x)

    own = attempt("mul_backward", mul_backward, 1.0, 2.0, 3.0)
    assert own == not_done("mul_backward")
    other = attempt("fan_out", fan_out, 1.0, 2.0)
    assert other.status == "hint", other
    assert "calls `mul_backward`, which is not written yet: do Exercise 2 first" in other.message

    def engine_piece(x):
        raise NotImplementedError('__add__: your code goes here, see notebook 03, "Your engine"')

    def uses_engine(x):
        return engine_piece(x)

    assert "calls `__add__`, which is not written yet" in attempt("ex", uses_engine, 1).message

    def method_piece(x):  # a method's stub names its class (release.py)
        raise NotImplementedError("Linear.__init__: your code goes here, see notebook 09")

    def uses_method(x):
        return method_piece(x)

    told = attempt("ex", uses_method, 1).message
    assert "calls `Linear.__init__`, which is not written yet" in told, told

    def double(x):
        raise NotImplementedError("double: your code goes here")

    assert attempt("double", double, 1) == not_done("double")  # its own stub, in either form


def test_the_html_of_a_verdict_shows_code_as_code_and_escapes_the_rest():
    """In JupyterLab the verdict is its text/html: `x` becomes <code>x</code>, no backtick or
    tag of the message shows as text; the plain text is unchanged."""
    shown = not_done("ex")._repr_html_()
    assert "<code>raise NotImplementedError</code>" in shown and "`" not in shown
    tricky = Feedback("ex", "hint", "a <b> in `x < y` and one ` alone")
    assert str(tricky) == "ex: ✘ not yet — a <b> in `x < y` and one ` alone"
    # a hint that begins "not yet" says it once
    assert str(hint("ex", "not yet: go node by node")) == "ex: ✘ not yet: go node by node"
    assert "a &lt;b&gt; in <code>x &lt; y</code> and one ` alone" in tricky._repr_html_()


def _luminance(color: str) -> float:
    """WCAG 2.1's relative luminance of a colour "#rrggbb"."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """WCAG 2.1's contrast ratio of two colours, 1 to 21; AA asks 4.5 for text."""
    light, dark = sorted([_luminance(one), _luminance(other)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_wcags():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the AA grey


@pytest.mark.parametrize(
    "verdict", [correct("ex"), hint("ex", "off by `2`"), hint("ex", "not yet: go"), not_done("ex")]
)
def test_a_verdict_is_readable_on_a_light_and_on_a_dark_page(verdict):
    """A text colour of its own would be on the page's background, which the verdict cannot
    know: #1a7f37 was 3.5:1 on the site's dark mode (its light-grey output card, #ced6dd) and 3.7:1
    on JupyterLab's dark theme (#111111); AA asks 4.5. So a colour comes with its own background
    (the verdict's badge), at 4.5:1 or more, and the rest of the line keeps the page's colours."""
    shown = verdict._repr_html_()
    styles = re.findall(r'style="([^"]*)"', shown)
    assert styles  # the verdict still has its colour
    for style in styles:
        rules = dict(rule.split(":", 1) for rule in style.split(";") if rule)
        assert ("color" in rules) == ("background-color" in rules), style
        if "color" in rules:
            assert contrast(rules["color"], rules["background-color"]) >= 4.5, style
    assert re.sub(r"<[^>]+>", "", shown) == html.escape(str(verdict), quote=False).replace(
        "`", ""
    )  # the same words as the plain text, code without its backticks


# ------------------------------------------------------------------------- result_array
@pytest.mark.parametrize(
    "result",
    [np.array([1.0, 2.0, 3.0]), [1, 2, 3], (1.0, 2.0, 3.0), Tensor([1.0, 2.0, 3.0])],
)
def test_result_array_accepts_arrays_lists_and_tensors(result):
    got = result_array("ex", result, (3,))
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert np.array_equal(got, [1.0, 2.0, 3.0])


def test_result_array_reads_a_numpy_array_not_its_memory_buffer():
    # getattr(a, "data", a) would give a memoryview of the raw bytes for a numpy array
    a = np.arange(6.0).reshape(2, 3)
    got = result_array("ex", a, (2, 3))
    assert isinstance(got, np.ndarray) and np.array_equal(got, a)


def test_result_array_hints_name_the_problem():
    none = result_array("ex", None, (3,))
    assert isinstance(none, Feedback) and none.status == "hint"
    assert none.message == "your result is None: is a `return` missing?"

    text = result_array("ex", "abc", (3,), what="dW")
    assert text.message == "dW is a str, not an array of numbers."

    ragged = result_array("ex", [[1.0, 2.0], [3.0]], (2, 2))
    assert isinstance(ragged, Feedback) and "list, not an array of numbers" in ragged.message

    shape = result_array("ex", np.zeros((3, 2)), (2, 3))
    assert shape.message == "your result has shape (3, 2), but it should have shape (2, 3)."
    assert str(shape).startswith("ex: ")


def test_result_array_passes_attempts_feedback_through():
    def stub(x):
        raise NotImplementedError

    assert result_array("ex", attempt("ex", stub, 1.0), (3,)) == not_done("ex")
    wrong = Feedback("ex", "hint", "a hint from attempt")
    assert result_array("ex", wrong, (3,)) is wrong


def test_result_array_without_a_shape_accepts_any_shape():
    assert result_array("ex", np.zeros((4, 5))).shape == (4, 5)
    assert result_array("ex", 2.5).shape == ()
    assert isinstance(result_array("ex", None), Feedback)


# -------------------------------------------------------------------------------- close
def test_close_default_and_custom_tolerances():
    assert close([1.0, 2.0], [1.0 + 1e-6, 2.0])  # within rtol 1e-5
    assert not close([1.0, 2.0], [1.0 + 1e-4, 2.0])
    assert not close([1.0, 2.0], [1.0 + 1e-6, 2.0], rtol=1e-7, atol=1e-9)
    assert not close([1.0, 2.0], [2.0, 4.0])  # a missing factor 2 fails
    assert isinstance(close(1.0, 1.0), bool)


# ------------------------------------------------------------------- central differences
def test_numeric_gradient_matches_a_hand_derivative():
    # f(W) = sum(sin(W) * C): df/dW = cos(W) * C, entry by entry
    rng = np.random.default_rng(0)
    W = rng.standard_normal((2, 3))
    C = np.arange(1.0, 7.0).reshape(2, 3)
    grad = numeric_gradient(lambda v: float(np.sum(np.sin(v) * C)), W)
    assert grad.shape == W.shape
    assert np.allclose(grad, np.cos(W) * C, atol=1e-8)


def test_numeric_gradient_does_not_change_its_input():
    x = np.array([0.5, -0.5])
    numeric_gradient(lambda v: float(v @ v), x)
    assert np.array_equal(x, [0.5, -0.5])


# ----------------------------------------------------------------- the engine check's programs
def test_random_engine_programs_never_divide_a_number_by_a_number():
    """Step 04's random programs drew 2.0 / b with b a number as often as a node: a step that is
    no node of the graph, on which a correct engine fails (94 of 300 other seeds of the step's
    check failed the teacher's mygrad.py so). Every step now uses at least one node."""
    from backproplab.exercises.mygrad._programs import _random_steps

    ops = ["add", "sub", "mul", "truediv", "pow", "rpow"]
    for seed in range(300):
        for name, a, b, _ in _random_steps(np.random.default_rng(seed), 3, ops, 7):
            nodes = [x for x in (a, b) if isinstance(x, int) and not isinstance(x, bool)]
            assert nodes, (seed, name, a, b)


# ------------------------------------------------------------------ the names an answer uses
def _ping(n):  # two helpers of the learner's own that call each other
    return n if n < 1 else _pong(n - 1)


def _pong(n):
    return np.exp(_ping(n))


def test_names_used_reads_the_learners_own_helpers_and_stops_at_other_modules():
    from backproplab.exercises import names_used

    def answer(x):
        return _ping(x) + len(dedent("a"))  # dedent: a global function of another module

    names = names_used(answer)
    assert {"_ping", "_pong", "exp", "np", "dedent", "len"} <= names  # the cycle ends
    assert "re" not in names and "_whitespace_only_re" not in names  # textwrap's own code: no

    def inner(out):
        return np.log(out)

    def by_closure(g, out):
        return g * inner(out)

    assert "log" in names_used(by_closure)  # a helper reached through a closure
    assert names_used(np.exp) == set() and names_used(len) == set()  # no Python code


def test_uses_package_reads_the_learners_own_helpers_too():
    import backproplab as bl
    from backproplab.exercises import uses_package

    def by_the_engine(x):
        t = Tensor(x, requires_grad=True)
        (t * t).sum().backward()
        return t.grad

    def answer(x):  # the engine's backward, one call down
        return by_the_engine(x)

    def backward(x):  # a function of the learner's own that happens to be called backward
        return 2 * x

    def own(x):
        return backward(x)

    def package_in_a_helper(x):
        return sum_columns(x)

    def sum_columns(x):
        return bl.functional.sum(Tensor(x), axis=0).data if x.ndim > 2 else x.sum(axis=0)

    assert uses_package(answer) and uses_package(package_in_a_helper)
    assert not uses_package(own)


def test_uses_package_sees_an_import_inside_the_answer():
    # an import inside the function binds a local name and reads no global, so the answer's
    # globals showed nothing of the package: notebook 04's softplus_vjp and notebook 08's
    # stable_log_softmax written this way scored correct in the notebook (the grader, which
    # records calls into the package, refused them)
    from backproplab import exercises, functional
    from backproplab.exercises import nb01, nb08, uses_package

    def module_imported(x):
        import backproplab as bl

        return bl.functional.log_softmax(bl.Tensor(x)).data

    def function_imported(x):
        from backproplab.functional import log_softmax

        return log_softmax(x).data

    def in_an_inner_function(x):
        def inner(z):
            from backproplab import functional

            return functional.log_softmax(z).data

        return inner(x)

    def numpy_only(x):
        import numpy

        shifted = x - x.max(axis=-1, keepdims=True)
        return shifted - numpy.log(numpy.exp(shifted).sum(axis=-1, keepdims=True))

    def an_allowed_one(x):
        from backproplab.functional import log_softmax

        return log_softmax(x).data

    for answer in (module_imported, function_imported, in_an_inner_function):
        assert uses_package(answer), answer.__name__
        assert not nb08.check_stable_log_softmax(answer).passed, answer.__name__
    assert not uses_package(numpy_only) and nb08.check_stable_log_softmax(numpy_only).passed
    assert not uses_package(an_allowed_one, allowed=(functional.log_softmax,))
    assert exercises.uses_package is uses_package

    def count_parameters(sizes):  # notebook 01 asks for a count from the widths
        import backproplab as bl

        return sum(p.data.size for p in bl.nn.MLP(list(sizes)).parameters())

    assert "count from the layer widths" in nb01.check_count_parameters(count_parameters).message


E = np.exp  # an alias a learner might define in an earlier cell


def test_names_used_sees_a_function_under_another_name():
    from backproplab.exercises import names_used, nb07

    def by_alias(g, out):
        return g * E(-np.log(1 / out - 1)) * out * (1 - out) / E(-np.log(1 / out - 1))

    def by_default(g, out, e=np.exp, lg=np.log):
        return g * e(lg(out)) * (1 - out)

    assert {"exp", "log"} <= names_used(by_alias) and {"exp", "log"} <= names_used(by_default)
    for answer in (by_alias, by_default):
        feedback = nb07.check_sigmoid_backward(answer)
        assert not feedback.passed and "exponential or a logarithm" in str(feedback), feedback


# Ways to hide a helper that a learner could write (in an earlier cell, so module level here):
# each holds np.exp or np.log where the answer's own code never names them.
def _logit(out):
    return np.log(out / (1 - out))


class _Sigmoid:  # a callable object
    def __call__(self, x):
        return 1 / (1 + np.exp(-x))


class _Tools:  # a static and a class method, a method of an object, a class attribute
    act = np.exp

    def __init__(self, inv=np.log):
        self.inv = inv

    @staticmethod
    def logit(out):
        return _logit(out)

    @classmethod
    def sigmoid(cls, x):
        return 1 / (1 + cls.act(-x))

    def recover(self, out):
        return 1 / (1 + np.exp(-self.inv(out / (1 - out))))


_SIGMOID = _Sigmoid()
_TOOLS = _Tools()
_RECOVER = _TOOLS.recover  # a bound method
_EXP = functools.partial(np.exp, dtype=float)
_STEPS = {"logit": _logit, "sigmoid": [lambda x: 1 / (1 + np.exp(-x))]}
_CACHED = functools.lru_cache(maxsize=None)(lambda x: float(np.exp(-x)))


def _hidden_helpers():
    """Sigmoid rules by x recovered from out, each through one way of hiding exp and log."""

    def by_callable_object(g, out):
        s = _SIGMOID(-np.negative(_logit(out)))
        return g * s * (1 - s)

    def by_static_and_class_method(g, out):
        s = _Tools.sigmoid(_Tools.logit(out))
        return g * s * (1 - s)

    def by_bound_method(g, out):
        s = _RECOVER(out)
        return g * s * (1 - s)

    def by_method_of_an_object(g, out):
        s = _TOOLS.recover(out)
        return g * s * (1 - s)

    def by_partial(g, out):
        s = 1 / (1 + _EXP(-_STEPS["logit"](out)))
        return g * s * (1 - s)

    def by_list_in_a_dict(g, out):
        s = _STEPS["sigmoid"][0](_logit(out))
        return g * s * (1 - s)

    def by_cached_wrapper(g, out):
        s = 1 / (1 + np.vectorize(_CACHED)(_Tools.logit(out)))
        return g * s * (1 - s)

    return [by_callable_object, by_static_and_class_method, by_bound_method,
            by_method_of_an_object, by_partial, by_list_in_a_dict, by_cached_wrapper]  # fmt: skip


@pytest.mark.parametrize("answer", _hidden_helpers(), ids=lambda f: f.__name__)
def test_names_used_opens_objects_methods_partials_wrappers_and_containers(answer):
    from backproplab.exercises import names_used, nb07

    assert "exp" in names_used(answer)
    feedback = nb07.check_sigmoid_backward(answer)
    assert not feedback.passed and "exponential or a logarithm" in str(feedback), feedback


def test_an_answer_that_is_an_object_or_a_partial_is_read_too():
    from backproplab.exercises import names_used, nb07

    def rule(g, out, e):
        s = 1 / (1 + e(-_logit(out)))
        return g * s * (1 - s)

    class Rule:
        def __call__(self, g, out):
            return rule(g, out, np.exp)

    for answer in (functools.partial(rule, e=np.exp), Rule(), Rule().__call__):
        assert {"exp", "log"} <= names_used(answer)
        assert not nb07.check_sigmoid_backward(answer).passed


class _Summer:  # the package, in an object's attribute
    def __init__(self):
        import backproplab as bl

        self.total = bl.functional.sum

    def columns(self, G):
        return self.total(G, axis=0).data if G.ndim > 2 else G.sum(axis=0)


class _Plain:  # a class of the learner's own with a method no answer below calls
    def columns(self, G):
        return G.sum(axis=0)

    def unused(self, G):
        return G.backward()


def test_uses_package_opens_them_too_and_only_what_the_code_names():
    import backproplab as bl
    from backproplab.exercises import uses_package

    summer, table = _Summer(), {"sum": bl.functional.sum}
    by_partial = functools.partial(bl.functional.sum, axis=0)

    def by_object(G):
        return summer.columns(G)

    def by_dict(G):
        return table["sum"](G, axis=0).data if G.ndim > 2 else G.sum(axis=0)

    def by_a_partial(G):
        return by_partial(G).data if G.ndim > 2 else G.sum(axis=0)

    def own_object(G):  # an object of the learner's own class: its other methods are not read
        return _Plain().columns(G)

    assert uses_package(by_object) and uses_package(by_dict) and uses_package(by_a_partial)
    assert not uses_package(own_object) and uses_package(_Plain().unused)


# --------------------------------------------------------------------------- call_measured
def test_call_measured_counts_the_arrays_a_call_makes_and_frees():
    def temporary(n):  # 8 n^2 bytes at once, freed before it returns
        return float(np.ones((n, n)).sum())

    result, peak = call_measured(temporary, 1000)
    assert result == 1e6
    assert 8_000_000 <= peak < 8_100_000  # the 8 MB array, and little else
    assert call_measured(lambda v: v * 2, np.ones(1000))[1] < 10_000  # 8 KB


def test_call_measured_leaves_tracemalloc_as_it_found_it():
    assert not tracemalloc.is_tracing()
    call_measured(np.ones, 10)
    assert not tracemalloc.is_tracing()  # off before: off after
    with pytest.raises(ZeroDivisionError):
        call_measured(lambda: 1 / 0)
    assert not tracemalloc.is_tracing()  # also when the call raises
    tracemalloc.start(5)
    try:
        kept = np.ones(100_000)  # traced memory that stays allocated across the call
        _, peak = call_measured(np.zeros, 1000)
        assert 8000 <= peak < 20_000  # what the call made, not what was there before
        assert tracemalloc.is_tracing() and tracemalloc.get_traceback_limit() == 5  # on: on
        assert tracemalloc.get_traced_memory()[0] >= kept.nbytes  # its traces kept
    finally:
        tracemalloc.stop()


def test_an_attribute_is_not_read_as_the_notebooks_global_of_that_name():
    # notebook 09 keeps the package's dataset in a global `data`; `x.data` is not that global
    import backproplab as bl
    from backproplab.exercises import uses_package

    namespace = {"data": bl.Tensor([1.0, 2.0]), "np": np}
    exec("def answer(x):\n    return np.asarray(x.data) * 2\n", namespace)  # noqa: S102
    exec("def by_global(x):\n    return data.data * x\n", namespace)  # noqa: S102
    assert not uses_package(namespace["answer"])
    assert uses_package(namespace["by_global"])


# ------------------------------------------------------------------ a shape error, in words
NUMPY_WORDS = ("operand", "gufunc", "(n?,k)", "aligned", "broadcast together with", "remapped")


def hidden_delta_transposed(delta_next, W_next, Z):
    return (delta_next @ W_next.T) * (Z > 0)  # the transpose of the forward pass, kept


def test_a_matrix_product_that_does_not_fit_is_said_in_words_with_the_shapes_given():
    """numpy's "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc
    signature ..." becomes the two sizes that differ and the shapes of the arguments, by name."""
    given = np.ones((4, 3)), np.ones((3, 6)), np.ones((4, 6))
    feedback = attempt("hidden_delta", hidden_delta_transposed, *given)
    assert feedback.message == (
        "your code raised ValueError: a matrix product whose inner sizes differ: the left factor "
        "has 3 columns, the right factor 6 rows. Your function was given delta_next of shape "
        "(4, 3), W_next of shape (3, 6) and Z of shape (4, 6): check which side each factor goes "
        "on and whether it needs a transpose. The line that raised it: `return (delta_next @ "
        "W_next.T) * (Z > 0)`."
    )


def dot_wrong_side(d, W):
    return np.dot(W, d)


def number_factor(d, W):
    return d @ np.float64(2.0)


def three_shapes(d, W):
    return np.where(d > 0, W, 0.0)


def stretched(d, W):
    return np.broadcast_to(d, W.shape)


def in_place(d, W):
    out = d.sum(axis=1, keepdims=True)
    out += d
    return out


def assigned(d, W):
    out = np.zeros_like(d)
    out[:] = W
    return out


def tensor_product(d, W):
    return Tensor(W) @ Tensor(d)


def tensor_sum(d, W):
    return Tensor(d) + Tensor(W)


@pytest.mark.parametrize(
    "fn, words",
    [
        (
            dot_wrong_side,
            "a matrix product of shapes (3, 6) and (4, 3) whose inner sizes differ: "
            "the left factor has 6 columns, the right factor 4 rows",
        ),
        (number_factor, "a matrix product whose right factor is a single number"),
        (
            lambda d, W: d * W,
            "an elementwise operation on arrays of shapes (4, 3) and (3, 6), "
            "which do not fit together (lined up from the right",
        ),
        (three_shapes, "arrays of shapes (4, 3), (3, 6) and ()"),
        (stretched, "an operation on arrays of shapes (4, 3) and (3, 6), which do not fit"),
        (
            in_place,
            "an in-place operation whose result, of shape (4, 3), does not fit into the "
            "array of shape (4, 1)",
        ),
        (assigned, "an assignment of an array of shape (3, 6) into a place of shape (4, 3)"),
        # the package's own ShapeError is readable already: it stays, with the shapes given
        (tensor_product, "ShapeError: matmul: cannot multiply (3, 6) by (4, 3)"),
        (tensor_sum, "ShapeError: add: shapes (4, 3) and (3, 6) cannot be broadcast together"),
    ],
    ids=[
        "dot",
        "number",
        "broadcast",
        "three",
        "remapped",
        "in place",
        "assigned",
        "Tensor @",
        "Tensor +",
    ],
)
def test_every_kind_of_shape_error_is_said_in_words(fn, words):
    feedback = attempt("ex", fn, np.ones((4, 3)), np.ones((3, 6)))
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert (
        "Your function was given d of shape (4, 3) and W of shape (3, 6): check" in feedback.message
    )
    assert not any(w in feedback.message for w in NUMPY_WORDS), feedback


def test_the_arguments_are_named_as_the_function_receives_them():
    """A list of arrays by its shapes, a Tensor by its shape, a keyword by its name, a *args by
    position; numbers, strings and other objects are left out."""

    def through(x, weights, *rest, scale=1.0, label="z"):
        return x @ weights[0]

    feedback = attempt("ex", through, np.ones((3, 5)), [np.ones((7, 5)), np.ones((4, 7))],
                       Tensor(np.ones((2, 2))), 0.5, np.float64(1.0), scale=np.ones(3), label="z")  # fmt: skip
    assert (
        "Your function was given x of shape (3, 5), weights of shapes [(7, 5), (4, 7)], rest[0] "
        "of shape (2, 2) and scale of shape (3,): check" in feedback.message
    ), feedback


def mismatched_product():
    return np.ones((2, 3)) @ np.ones((2, 3))


def huber_with_an_if(pred, target, delta):
    r = pred - target
    if abs(r) <= delta:  # one question for every entry
        return 0.5 * r**2
    return delta * (abs(r) - 0.5 * delta)


def test_an_if_on_an_array_is_named_without_numpys_any_or_all():
    # numpy's "Use a.any() or a.all()" would answer one question for all the entries
    feedback = attempt("huber_loss", huber_with_an_if, np.ones(3), np.zeros(3), 1.0)
    assert feedback.status == "hint", feedback
    assert "an `if`, `while`, `and`, `or` or `not`" in feedback.message
    assert "asks one yes-or-no question of a whole array" in feedback.message
    assert "a.any()" not in feedback.message
    assert feedback.message.endswith("The line that raised it: `if abs(r) <= delta:`."), feedback


def relu_with_pythons_max(z):
    return max(0, z)  # Python's max compares the whole array with 0: no if in sight


def test_pythons_max_on_an_array_is_named_among_the_yes_or_no_questions():
    # the words named only if, and, or, not: the line that raised holds none of them
    feedback = attempt("relu", relu_with_pythons_max, np.array([-1.0, 2.0]))
    assert feedback.status == "hint", feedback
    assert "Python's own `max` or `min`" in feedback.message, feedback
    assert feedback.message.endswith("The line that raised it: `return max(0, z)`."), feedback


def test_without_arrays_given_the_advice_stands_alone():
    # no array at hand to tell what the factors are (here the left one transposed would fit):
    # the advice keeps the transpose
    feedback = attempt("ex", mismatched_product)
    assert feedback.message.endswith(
        "rows. Check which side each factor goes on and whether it needs a transpose. The line "
        "that raised it: `return np.ones((2, 3)) @ np.ones((2, 3))`."
    ), feedback


def swapped_factors(d, W):
    return W @ d  # (10, 128) @ (64, 10): only the other order fits, no transpose does


def transposed_factor(d, W):
    return d @ W  # (64, 10) @ (64, 128): d transposed would fit


def product_of_locals(d, W):
    h = np.tanh(d)  # (64, 10)
    g = W[:, :5]  # (10, 5)
    return g @ h  # neither transposed fits; swapped does


@pytest.mark.parametrize(
    ("fn", "shapes", "transpose"),
    [
        (swapped_factors, [(64, 10), (10, 128)], False),
        (transposed_factor, [(64, 10), (64, 128)], True),
        (product_of_locals, [(64, 10), (10, 128)], False),
    ],
)
def test_a_transpose_is_suggested_only_when_one_would_fit(fn, shapes, transpose):
    feedback = attempt("ex", fn, *(np.ones(s) for s in shapes))
    assert feedback.status == "hint" and "check which side each factor goes on" in feedback.message
    assert ("transpose" in feedback.message) is transpose, feedback
    if not transpose:
        assert "which arrays you multiply" in feedback.message


def test_a_transpose_is_judged_from_the_shapes_numpys_dot_gives():
    fits = attempt("ex", lambda d, W: np.dot(d, W), np.ones((4, 3)), np.ones((4, 6)))
    assert "whether it needs a transpose" in fits.message  # d transposed: (3, 4) (4, 6)
    swapped = attempt("ex", lambda d, W: np.dot(W, d), np.ones((4, 3)), np.ones((3, 6)))
    assert "transpose" not in swapped.message and "which arrays" in swapped.message


@pytest.mark.parametrize(
    "fn, message",
    [
        (lambda d, W: 1 / 0, "your code raised ZeroDivisionError: division by zero"),
        (
            lambda d, W: d.reshape(5, 5),
            "your code raised ValueError: cannot reshape array of size 12 into shape (5,5)",
        ),  # fmt: skip
        (lambda d, W: d.sum(axis=2), "your code raised AxisError: axis 2 is out of bounds"),
    ],
)
def test_other_errors_keep_their_one_line(fn, message):
    feedback = attempt("ex", fn, np.ones((4, 3)), np.ones((3, 6)))
    assert feedback.message.startswith(message) and "given" not in our_words(feedback.message), (
        feedback
    )


def test_the_grader_gets_the_same_words():
    """In the grader the student's exception comes back from their kernel as its type's name and
    its message (a fresh subclass of ValueError), and the parameter names come from the
    kernel too (``parameter_names`` of the proxy): the hint is the same as in the notebook."""
    from backproplab.classroom._session import _exception
    from backproplab.exercises import RemoteFunction
    from backproplab.exercises._crash import failing_line

    given = np.ones((4, 3)), np.ones((3, 6)), np.ones((4, 6))
    local = attempt("hidden_delta", hidden_delta_transposed, *given)

    class Remote(RemoteFunction):
        def __call__(self, *args):
            try:
                hidden_delta_transposed(*args)
            except ValueError as error:  # as _session rebuilds it from the kernel's reply
                line = failing_line(error)  # the kernel sends it with the name and message
                raise _exception(type(error).__name__, str(error), line) from None

        def parameter_names(self, count):
            return ["delta_next", "W_next", "Z"][:count]

    remote = attempt("hidden_delta", Remote(), *given)
    assert isinstance(_exception("ValueError", ""), ValueError)  # a teacher's except catches it
    assert remote.message == local.message and "W_next of shape (3, 6)" in remote.message
    assert "The line that raised it: `return (delta_next @ W_next.T)" in remote.message


def two_steps(d, W):
    h = d * 2.0  # fine
    return Tensor(h) @ Tensor(W)  # the product raises inside the package


def calls_a_helper_of_its_own(d, W):
    return two_steps(d, W)


def test_the_hint_quotes_the_learners_line_that_raised():
    """The innermost line of the learner's own code: not the package's line that raised (the
    Tensor's matmul), not the line of the learner's function that called their other function,
    without its comment."""
    for fn in (two_steps, calls_a_helper_of_its_own):
        feedback = attempt("ex", fn, np.ones((4, 3)), np.ones((4, 3)))
        assert feedback.message.endswith("raised it: `return Tensor(h) @ Tensor(W)`."), feedback


def test_a_line_the_hint_quotes_is_one_short_line_of_code():
    from backproplab.exercises._crash import failing_line

    class Carried(ValueError):
        failing_line = "x = `a`\n" + "y" * 200  # what a student's kernel could send

    line = failing_line(Carried())
    assert "\n" not in line and "`" not in line and len(line) == 80 and line.endswith("...")
    assert failing_line(ValueError("never raised: no line")) is None


def test_the_kernel_sends_the_line_that_raised():
    from backproplab.classroom import _kernel_side
    from backproplab.classroom import _wire as wire

    encode = wire.Encoder()
    args = (np.ones((4, 3)), np.ones((4, 3)))
    request = wire.dumps({"args": encode(list(args)), "kwargs": encode({}), "nodes": []})
    reply = _kernel_side._call({"two_steps": two_steps}, "two_steps", request)
    assert reply["status"] == "raised", reply
    assert reply["failing_line"] == "return Tensor(h) @ Tensor(W)"


def test_the_kernel_reads_the_parameter_names_off_the_students_function():
    """What the grader's proxy asks the kernel for: the names, by the notebook's rule."""
    from backproplab.classroom._kernel_side import _parameters

    def input_gradient(x, weights, *rest):
        return x

    namespace = {"input_gradient": input_gradient, "not_a_function": 3}
    reply = _parameters(namespace, "input_gradient", 4)
    assert reply == {"status": "ok", "names": ["x", "weights", "rest[0]", "rest[1]"]}
    assert _parameters(namespace, "not_a_function", 1) == {"status": "missing", "close": []}
    assert _parameters(namespace, "nowhere", 1) == {"status": "missing", "close": []}
    typo = {"status": "missing", "close": ["input_gradient"]}  # the closest functions' names
    assert _parameters(namespace, "input_gradiant", 1) == typo


def test_an_exception_whose_message_fails_is_still_a_hint():
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no message")

    def answer(x):
        raise Unprintable

    feedback = attempt("ex", answer, 1)
    assert feedback.status == "hint" and "raised Unprintable" in feedback.message, feedback


def test_a_layer_whose_forward_is_misspelt_gets_a_hint_not_not_done_yet():
    """``Module.forward`` raises NotImplementedError for a layer without ``forward``: a learner
    who wrote ``foward`` was told "not done yet: replace `raise NotImplementedError`", about an
    answer written out in full (found by mutating notebook 12's solutions)."""
    from backproplab import nn, optim

    class Softsign(nn.Module):
        def foward(self, x):  # the slip
            return x / (1 + abs(x))

    told = attempt("ex", lambda x: Softsign()(x), Tensor(1.0))
    assert told.status == "hint", told
    assert "Softsign must define forward()" in told.message and "misspelt" in told.message

    class Plain(optim.Optimizer):
        def stpe(self):  # the same slip in an optimizer of one's own
            pass

    told = attempt("ex", lambda: Plain([Tensor(1.0, requires_grad=True)], lr=0.1).step())
    assert told.status == "hint" and "Plain must define step()" in told.message, told

    def nbgrader_stub():  # nbgrader's stub has no message: still "not done"
        raise NotImplementedError()

    assert attempt("ex", nbgrader_stub) == not_done("ex")

    def own_stub():  # a teacher's own words (or an older release's): still "not done"
        raise NotImplementedError("ex is not written yet")

    assert attempt("ex", own_stub) == not_done("ex")


def test_notebook_12s_training_run_with_forward_misspelt_is_a_hint():
    from backproplab import nn
    from backproplab.exercises import nb12

    def train_digits(X, y):
        class FixedSoftsign(nn.Module):
            def foward(self, x):
                return x

        return nn.MLP([64, 8, 10], activation=FixedSoftsign, rng=0)(Tensor(X[:2]))

    told = nb12.check_training_run(train_digits)
    assert told.status == "hint" and "FixedSoftsign must define forward()" in told.message, told


def test_estimated_does_not_fault_rounding_where_the_gradient_is_zero():
    """A reference array of zeros (a whole gradient, or one of a tuple) has no scale of its own:
    an honest answer's 1e-17 there was told it 'agrees only to about 1 digits'."""
    from backproplab.exercises import estimated

    assert estimated("x", np.array([1e-17, 0.0]), np.zeros(2)) is None
    assert estimated("x", (np.ones(2), np.array([1e-17])), (np.ones(2), np.zeros(1))) is None
    # measured against the other arrays, an estimate's error there is still seen
    wrong = estimated("x", (np.ones(2), np.array([1e-9])), (np.ones(2), np.zeros(1)))
    assert wrong is not None and "about 9 digits" in wrong.message


def test_roughly_names_an_imprecise_computation_and_nothing_further_off():
    from backproplab.exercises import roughly

    exact = np.array([[1.5, -2.0], [0.25, 3.0]])
    in_float32 = exact.astype(np.float32) * np.float32(1 + 3e-7)  # the rule, rounded to float32
    feedback = roughly("f", in_float32, exact)
    assert (
        feedback is not None
        and "only to about" in feedback.message
        and "float32" in feedback.message
    )
    assert roughly("f", exact * 1.001, exact) is None  # 1e-3 off: a wrong rule is not excused
    assert roughly("f", exact + 0.01, exact) is None
    assert roughly("f", exact[0], exact) is None  # another shape: not for this hint
    assert roughly("f", exact, exact) is None  # right to rounding: nothing to say
