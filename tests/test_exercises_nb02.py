"""The self-checks of notebook 02: pass, hint and not-done paths."""

import numpy as np
import pytest
import sympy as sp
from sympy import lambdify

import backproplab as bl
from backproplab.exercises import _steepest, nb02


def stub(*args):
    raise NotImplementedError


# -------------------------------------------------------------------------- d_sin_of_square
def test_d_sin_of_square_pass():
    assert nb02.check_d_sin_of_square(lambda x: 2 * x * np.cos(x**2)).passed


def test_d_sin_of_square_hints():
    outer_only = nb02.check_d_sin_of_square(lambda x: np.cos(x**2))
    assert outer_only.status == "hint" and "one more factor" in outer_only.message
    assert "2" not in outer_only.message  # the missing factor is not given away

    wrong_place = nb02.check_d_sin_of_square(lambda x: 2 * x * np.cos(x))
    assert wrong_place.status == "hint" and "inner function's value" in wrong_place.message

    assert nb02.check_d_sin_of_square(lambda x: np.sin(x)).status == "hint"
    assert "shape" in nb02.check_d_sin_of_square(lambda x: [1.0, 2.0]).message


def test_d_sin_of_square_not_done():
    assert nb02.check_d_sin_of_square(stub).status == "not done"


# --------------------------------------------------------------------------------- partials
def right_partials(x, y):
    return 2 * x * y + y * np.exp(x * y), x**2 + x * np.exp(x * y)


def test_partials_pass():
    assert nb02.check_partials(right_partials).passed


def test_partials_pass_as_one_array_of_two_rows():
    # np.array([df/dx, df/dy]) unpacks like the pair the prose asks for
    assert nb02.check_partials(lambda x, y: np.array(right_partials(x, y))).passed
    swapped = nb02.check_partials(lambda x, y: np.array(right_partials(x, y)[::-1]))
    assert swapped.status == "hint" and "wrong order" in swapped.message
    three = nb02.check_partials(lambda x, y: np.array([*right_partials(x, y), x]))
    assert three.status == "hint" and "pair" in three.message


def test_partials_hints():
    swapped = nb02.check_partials(lambda x, y: right_partials(x, y)[::-1])
    assert swapped.status == "hint" and "wrong order" in swapped.message

    def no_inner_y(x, y):  # forgot the chain rule on e^(xy) in y
        return right_partials(x, y)[0], x**2 + np.exp(x * y)

    dy_wrong = nb02.check_partials(no_inner_y)
    assert dy_wrong.status == "hint" and "df/dx is right" in dy_wrong.message

    def no_inner_x(x, y):
        return 2 * x * y + np.exp(x * y), right_partials(x, y)[1]

    dx_wrong = nb02.check_partials(no_inner_x)
    assert dx_wrong.status == "hint" and "df/dy is right" in dx_wrong.message

    # the chain factor of e^(xy) forgotten in both, or swapped: was the catch-all, which said
    # to hold the other variable constant (the learner had)
    for no_chain in (
        lambda x, y: (2 * x * y + np.exp(x * y), x**2 + np.exp(x * y)),
        lambda x, y: (2 * x * y + x * np.exp(x * y), x**2 + y * np.exp(x * y)),
    ):
        told = nb02.check_partials(no_chain)
        assert told.status == "hint" and "the chain rule multiplies e^(x y)" in told.message
        assert "neither" not in told.message

    assert "pair" in nb02.check_partials(lambda x, y: 2 * x * y).message
    assert "neither" in nb02.check_partials(lambda x, y: (x, y)).message


def e_term(x, y, sign_x=1.0, sign_y=1.0):  # the partials with the e^(xy) terms' signs given
    return 2 * x * y + sign_x * y * np.exp(x * y), x**2 + sign_y * x * np.exp(x * y)


@pytest.mark.parametrize(
    "wrong, which",
    [
        (lambda x, y: e_term(x, y, -1.0, -1.0), "e^(x y) term of df/dx and of df/dy"),
        (lambda x, y: e_term(x, y, -1.0, 1.0), "e^(x y) term of df/dx,"),
        (lambda x, y: e_term(x, y, 1.0, -1.0), "e^(x y) term of df/dy,"),
        (lambda x, y: tuple(-d for d in right_partials(x, y)), "opposite sign, in every term"),
    ],
)
def test_partials_names_a_sign_slip(wrong, which):
    """An expert review: a minus on e^(xy)'s terms got 'neither partial derivative matches' (both)
    or 'df/dy is right; df/dx is not ... needs the chain rule' (one), though the chain rule was
    done; the hint now says which term's sign is off."""
    feedback = nb02.check_partials(wrong)
    assert feedback.status == "hint" and which in feedback.message, feedback
    assert "neither" not in feedback.message and "np." not in feedback.message


@pytest.mark.parametrize(
    "wrong",
    [
        lambda x, y: (2 * x * y - y * np.exp(-x * y), x**2 - x * np.exp(-x * y)),  # e^(-xy) read
        lambda x, y: (-2 * x * y + y * np.exp(x * y), -(x**2) + x * np.exp(x * y)),  # x^2 y's sign
        lambda x, y: (2 * x * y - np.exp(x * y), x**2 - np.exp(x * y)),  # a minus, no chain factor
        lambda x, y: (e_term(x, y, -1.0)[0], x**2 + np.exp(x * y)),  # a minus, a factor lost
        lambda x, y: (-right_partials(x, y)[0], right_partials(x, y)[1]),  # one partial negated
    ],
)
def test_partials_sign_hints_only_for_those_slips(wrong):
    feedback = nb02.check_partials(wrong)
    assert feedback.status == "hint" and "sign" not in feedback.message, feedback


def test_partials_not_done():
    assert nb02.check_partials(stub).status == "not done"


# --------------------------------------------------------------------------- steepest_steps
def steepest_steps(grad_f, w0, h, steps):
    points = [np.array(w0, dtype=float)]
    for _ in range(steps):
        g = grad_f(points[-1])
        length = np.linalg.norm(g)
        points.append(points[-1] if length == 0 else points[-1] - h * g / length)
    return np.array(points)


def steepest_preallocated(grad_f, w0, h, steps):  # a loop over rows, sqrt of a dot product
    path = np.empty((steps + 1, len(w0)))
    path[0] = w0
    for k in range(steps):
        g = grad_f(path[k])
        size = np.sqrt(g @ g)
        path[k + 1] = path[k] - (h / size) * g if size > 0 else path[k]
    return path


def steepest_float32(grad_f, w0, h, steps):  # every point float32, a list of them stacked
    w = np.asarray(w0, dtype=np.float32)
    points = [w]
    for _ in range(steps):
        g = np.asarray(grad_f(w), dtype=np.float32)
        if np.any(g != 0):
            w = w - np.float32(h) * g / np.float32(np.sqrt(np.sum(g * g)))
        points.append(w)
    return np.stack(points)


@pytest.mark.parametrize(
    "answer", [steepest_steps, steepest_preallocated, steepest_float32], ids=lambda f: f.__name__
)
def test_steepest_steps_pass(answer):
    feedback = nb02.check_steepest_steps(answer)
    assert feedback.passed, feedback


def test_steepest_steps_reference_agrees_with_a_walk_by_hand():
    # f(w) = (w - 1)^2 from w = 2 with h = 0.3: down by 0.3 three times to 1.1, across the
    # minimum to 0.8, where the gradient points the other way, and back up to 1.1
    def grad_f(w):
        return 2 * (w - 1)

    path = _steepest._path(grad_f, np.array([2.0]), 0.3, 5)
    assert np.allclose(path[:, 0], [2.0, 1.7, 1.4, 1.1, 0.8, 1.1])
    # in 2-d, a 3-4-5 gradient: the step is h * (3, 4) / 5; at the minimum, no step
    path = _steepest._path(lambda w: np.array([3.0, 4.0]) * np.any(w), np.array([1.0, 1.0]), 0.5, 1)
    assert np.allclose(path, [[1.0, 1.0], [0.7, 0.6]])
    assert np.array_equal(
        _steepest._path(lambda w: 0 * w, np.array([0.0, 0.0]), 0.5, 2), np.zeros((3, 2))
    )


def test_steepest_steps_cases_cover_what_the_exercise_promises():
    cases = _steepest._cases()
    assert sorted({len(c.w0) for c in cases}) == [1, 2, 3, 5]
    for case in cases:
        path = _steepest._path(case.grad_f, case.w0, case.h, case.steps)
        steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
        if case.zero:  # the walk meets a gradient that is exactly 0, and stays put
            assert not np.any(case.grad_f(path[-1])) and steps[-1] == 0, case.what
        else:
            assert np.allclose(steps, case.h), case.what


def _walk(step, first_only=False, zero_stays=True):
    """A wrong answer: the walk with ``step(g, h)`` instead of the steepest step."""

    def answer(grad_f, w0, h, steps):
        points = [np.array(w0, dtype=float)]
        g0 = grad_f(points[0])
        for _ in range(steps):
            g = g0 if first_only else grad_f(points[-1])
            stays = zero_stays and not np.any(g)
            points.append(points[-1] if stays else points[-1] + step(g, h))
        return np.array(points)

    return answer


def _one_array_stored_each_step(grad_f, w0, h, steps):
    w = w0.copy()
    points = [w]
    for _ in range(steps):
        g = grad_f(w)
        if np.any(g):
            w -= h * g / np.linalg.norm(g)
        points.append(w)
    return points


def _w0_moved_in_place(grad_f, w0, h, steps):
    points = [w0.copy()]
    for _ in range(steps):
        g = grad_f(w0)
        if np.any(g):
            w0 -= h * g / np.linalg.norm(g)
        points.append(w0.copy())
    return np.array(points)


def _stops_at_zero(grad_f, w0, h, steps):
    points = [np.array(w0, dtype=float)]
    for _ in range(steps):
        g = grad_f(points[-1])
        if not np.any(g):
            break
        points.append(points[-1] - h * g / np.linalg.norm(g))
    return np.array(points)


def _small_gradient_is_zero(grad_f, w0, h, steps):
    points = [np.array(w0, dtype=float)]
    for _ in range(steps):
        g = grad_f(points[-1])
        length = np.linalg.norm(g)
        points.append(points[-1] if length < 1e-8 else points[-1] - h * g / length)
    return np.array(points)


def _epsilon_in_the_division(grad_f, w0, h, steps):
    points = [np.array(w0, dtype=float)]
    for _ in range(steps):
        g = grad_f(points[-1])
        points.append(points[-1] - h * g / (np.linalg.norm(g) + 1e-8))
    return np.array(points)


STEEPEST_SLIPS = [
    ("plain descent", _walk(lambda g, h: -h * g), "plain gradient descent"),
    ("uphill", _walk(lambda g, h: h * g / np.linalg.norm(g)), "uphill"),
    ("sign", _walk(lambda g, h: -h * np.sign(g)), "moves every coordinate by h"),
    ("sum of sizes", _walk(lambda g, h: -h * g / np.abs(g).sum()), "another measure of the"),
    ("squared length", _walk(lambda g, h: -h * g / (g @ g)), "divided out once too often"),
    (
        "first gradient",
        _walk(lambda g, h: -h * g / np.linalg.norm(g), first_only=True),
        "ask for the gradient again at each new point",
    ),
    (
        "nan at zero",
        _walk(lambda g, h: -h * g / np.linalg.norm(g), zero_stays=False),
        "nan or inf: where the gradient is exactly 0",
    ),
    (
        "moves at zero",
        _walk(
            lambda g, h: -h * g / np.linalg.norm(g) if np.any(g) else h + 0 * g, zero_stays=False
        ),
        "did not stay put",
    ),
    (
        "slightly turned",
        _walk(lambda g, h: -h * (g + 1e-3) / np.linalg.norm(g + 1e-3)),
        "but not against the gradient",
    ),
    ("one array", _one_array_stored_each_step, "every row of your result is the last point"),
    ("w0 in place", _w0_moved_in_place, "changed one of its inputs in place"),
    ("no start", lambda *a: steepest_steps(*a)[1:], "the starting point w0 is missing"),
    ("a step too few", lambda f, w, h, n: steepest_steps(f, w, h, n - 1), "one too few"),
    ("a step too many", lambda f, w, h, n: steepest_steps(f, w, h, n + 1), "one too many"),
    ("stops at zero", _stops_at_zero, "your walk ended early"),
    ("small is zero", _small_gradient_is_zero, "the gradient is tiny here"),
    ("epsilon", _epsilon_in_the_division, "but they are not h long"),
    ("a column", lambda *a: steepest_steps(*a).ravel(), "it should have shape"),
]


@pytest.mark.parametrize(
    ("wrong", "words"), [s[1:] for s in STEEPEST_SLIPS], ids=[s[0] for s in STEEPEST_SLIPS]
)
def test_steepest_steps_refuses_plausible_mistakes_with_their_hint(wrong, words):
    feedback = nb02.check_steepest_steps(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "np." not in feedback.message and "norm" not in feedback.message


def test_steepest_steps_not_done_and_crash():
    assert nb02.check_steepest_steps(stub).status == "not done"

    def crashes(grad_f, w0, h, steps):
        return grad_f(np.zeros((steps, len(w0))))  # the gradient asked at a whole path

    feedback = nb02.check_steepest_steps(crashes)
    assert feedback.status == "hint" and "raised" in feedback.message


# -------------------------------------------------------------------------------- two_paths
def test_two_paths_pass():
    assert nb02.check_two_paths(lambda x: 3 * x**2 * np.cos(x) - x**3 * np.sin(x)).passed


def test_two_paths_hints():
    via_u = nb02.check_two_paths(lambda x: 3 * x**2 * np.cos(x))
    assert via_u.status == "hint" and "only the path through u" in via_u.message
    via_v = nb02.check_two_paths(lambda x: -(x**3) * np.sin(x))
    assert via_v.status == "hint" and "only the path through v" in via_v.message
    for feedback in (via_u, via_v):
        assert "add" not in feedback.message and "sum" not in feedback.message

    product = nb02.check_two_paths(lambda x: -3 * x**2 * np.sin(x))
    assert product.status == "hint" and "multiplied du/dx by dv/dx" in product.message

    sign = nb02.check_two_paths(lambda x: 3 * x**2 * np.cos(x) + x**3 * np.sin(x))
    assert sign.status == "hint" and "wrong sign" in sign.message
    assert "-sin" not in sign.message and "minus" not in sign.message


def test_two_paths_names_a_path_short_of_its_dL_factor():
    # a novice walk: a path's d(variable)/dx alone, its dL/du or dL/dv left out, heard the
    # catch-all "for each path from x to L, multiply the derivatives along it"
    for wrong, which in [
        (lambda x: 3 * x**2 - x**3 * np.sin(x), "through u is"),
        (lambda x: 3 * x**2 * np.cos(x) - np.sin(x), "through v is"),
        (lambda x: 3 * x**2 - np.sin(x), "through u and v"),
    ]:
        feedback = nb02.check_two_paths(wrong)
        assert feedback.status == "hint" and which in feedback.message, feedback
        assert "short of a factor" in feedback.message and "cos" not in feedback.message


def test_two_paths_not_done():
    assert nb02.check_two_paths(stub).status == "not done"


def test_two_paths_crash_becomes_hint():
    def crashes(x):
        return x @ np.ones((2, 2))

    feedback = nb02.check_two_paths(crashes)
    assert feedback.status == "hint" and "raised" in feedback.message


# ---------------------------------------------------------------------- challenge: three_paths
def three_paths(x, drop=None, sin_at_x=False, sign=1.0, inner=True):
    a, b = x**2, np.sin(x**2) + x
    cos_a = np.cos(x) if sin_at_x else np.cos(a)
    da_dx = 2 * x if inner else 1.0  # inner=False: the chain rule's da/dx left out of one path
    paths = {"a": 2 * x * b, "ab": a * sign * cos_a * da_dx, "b": a * 1.0}
    return sum(v for k, v in paths.items() if k != drop)


def test_three_paths_pass():
    feedback = nb02.check_three_paths(three_paths)
    assert feedback.passed, feedback


def test_three_paths_rejects_plausible_mistakes():
    cases = [
        (lambda x: three_paths(x, drop="a"), "the path x -> a -> L"),
        (lambda x: three_paths(x, drop="ab"), "the path x -> a -> b -> L"),
        (lambda x: three_paths(x, drop="b"), "the path x -> b -> L"),
        (lambda x: three_paths(x, sin_at_x=True), "sin sees a"),
        (lambda x: three_paths(x, sign=-1.0), "wrong sign"),
        # was the catch-all ("draw the graph"): the path through sin without its da/dx factor
        (lambda x: three_paths(x, inner=False), "x -> a -> b -> L is short of a factor"),
        # a novice walk: the same slip on the other path through a, then on both, heard the
        # catch-all ("draw the graph")
        (
            lambda x: three_paths(x) - 2 * x * (np.sin(x**2) + x) + np.sin(x**2) + x,
            "the path x -> a -> L is short of a factor",
        ),
        (
            lambda x: three_paths(x, inner=False) - 2 * x * (np.sin(x**2) + x) + np.sin(x**2) + x,
            "the two paths through a are short of a factor",
        ),
        (lambda x: 2 * x * (np.sin(x**2) + x), "not yet"),
    ]
    for wrong, words in cases:
        feedback = nb02.check_three_paths(wrong)
        assert feedback.status == "hint" and words in feedback.message, feedback.message
        assert "cos(" not in feedback.message and "2 * x" not in feedback.message


def test_three_paths_not_done():
    assert nb02.check_three_paths(stub).status == "not done"


# ------------------------------------------------------ answers that measure the derivative
def slope(f, at, eps=1e-6):  # the notebook's helper of the same name
    return (f(at + eps) - f(at - eps)) / (2 * eps)


def test_the_written_out_derivatives_agree_with_sympy_and_central_differences():
    # the checks' exact references, recomputed here by sympy and by central differences
    t, s = sp.symbols("t s", real=True)
    x = nb02._POINTS
    cases = [
        (nb02.check_d_sin_of_square, sp.sin(t**2)),
        (nb02.check_two_paths, t**3 * sp.cos(t)),
        (nb02.check_three_paths, t**2 * (sp.sin(t**2) + t)),
    ]
    for check, expr in cases:
        exact = sp.lambdify(t, sp.diff(expr, t), "numpy")
        f = sp.lambdify(t, expr, "numpy")
        assert np.allclose(exact(x), (f(x + 1e-6) - f(x - 1e-6)) / 2e-6, rtol=1e-7)
        assert check(exact).passed, check.__name__
    f2 = t**2 * s + sp.exp(t * s)
    dx, dy = (sp.lambdify((t, s), sp.diff(f2, v), "numpy") for v in (t, s))
    assert nb02.check_partials(lambda a, b: (dx(a, b), dy(a, b))).passed


@pytest.mark.parametrize("eps", [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8])
def test_a_finite_difference_written_inline_is_not_the_derivative(eps):
    def f(a, b):
        return a**2 * b + np.exp(a * b)

    answers = {
        nb02.check_d_sin_of_square: lambda x: (
            (np.sin((x + eps) ** 2) - np.sin((x - eps) ** 2)) / (2 * eps)
        ),
        nb02.check_two_paths: lambda x: (
            ((x + eps) ** 3 * np.cos(x + eps) - (x - eps) ** 3 * np.cos(x - eps)) / (2 * eps)
        ),
        nb02.check_three_paths: lambda x: (
            (
                (x + eps) ** 2 * (np.sin((x + eps) ** 2) + x + eps)
                - (x - eps) ** 2 * (np.sin((x - eps) ** 2) + x - eps)
            )
            / (2 * eps)
        ),
        nb02.check_partials: lambda x, y: (
            (f(x + eps, y) - f(x - eps, y)) / (2 * eps),
            (f(x, y + eps) - f(x, y - eps)) / (2 * eps),
        ),
    }
    for check, answer in answers.items():
        feedback = check(answer)
        assert feedback.status == "hint" and "digits" in feedback.message, (check, feedback)


def test_an_answer_that_hands_the_derivative_to_a_tool_is_refused():
    t = sp.Symbol("t")

    def by_slope(x):
        return slope(lambda u: np.sin(u**2), x)

    def by_sympy(x):
        return sp.lambdify(t, sp.diff(sp.sin(t**2), t), "numpy")(x)

    def partials_by_the_engine(x, y):
        u, v = bl.Tensor(x, requires_grad=True), bl.Tensor(y, requires_grad=True)
        (u * u * v + (u * v).exp()).sum().backward()
        return u.grad, v.grad

    def partials_by_slope(x, y):
        return slope(lambda u: u**2 * y + np.exp(u * y), x), slope(
            lambda v: x**2 * v + np.exp(x * v), y
        )

    def two_paths_by_slope(x):
        return slope(lambda u: u**3 * np.cos(u), x)

    def three_paths_by_slope(x):
        return slope(lambda u: u**2 * (np.sin(u**2) + u), x)

    cases = [
        (nb02.check_d_sin_of_square, by_slope),
        (nb02.check_d_sin_of_square, by_sympy),
        (nb02.check_partials, partials_by_slope),
        (nb02.check_partials, partials_by_the_engine),
        (nb02.check_two_paths, two_paths_by_slope),
        (nb02.check_three_paths, three_paths_by_slope),
    ]
    for check, answer in cases:
        feedback = check(answer)
        assert feedback.status == "hint", (check, answer.__name__, feedback)
        assert "something else find the derivative" in feedback.message


def test_more_plausible_chain_rule_slips_are_rejected():
    wrong = [
        (nb02.check_d_sin_of_square, lambda x: x * np.cos(x**2)),  # the power rule's 2 lost
        (nb02.check_d_sin_of_square, lambda x: 2 * x * np.cos(2 * x)),  # outer at the inner slope
        (nb02.check_d_sin_of_square, lambda x: -2 * x * np.cos(x**2)),  # a sign
        (nb02.check_partials, lambda x, y: (2 * x * y + np.exp(x * y), x**2 + np.exp(x * y))),
        (nb02.check_partials, lambda x, y: (2 * x + y * np.exp(x * y), x**2 + x * np.exp(x * y))),
        (nb02.check_two_paths, lambda x: x**2 * np.cos(x) - x**3 * np.sin(x)),  # x^3 -> x^2
        (nb02.check_two_paths, lambda x: x**3 * np.cos(x) - 3 * x**2 * np.sin(x)),  # swapped
        (nb02.check_three_paths, lambda x: 2 * x * (np.sin(x**2) + x) + np.cos(x**2) * x**2 + x**2),
        (
            nb02.check_three_paths,
            lambda x: 2 * x * np.sin(x**2) + 2 * x * np.cos(x**2) * x**2 + x**2,
        ),
    ]
    for check, answer in wrong:
        assert check(answer).status == "hint", check.__name__


def diff(u):  # a learner's own helper that happens to share sympy's name
    return 2 * u


def test_a_helper_of_ones_own_named_like_a_tool_is_fine():
    def own_helper(x):
        return np.cos(x**2) * diff(x)

    assert nb02.check_d_sin_of_square(own_helper).passed


def test_sympys_lambdify_imported_by_name_is_refused():
    t = sp.Symbol("t")
    derivative = sp.diff(sp.sin(t**2), t)  # found outside: the function only evaluates it

    def by_sympy(x):
        return lambdify(t, derivative, "numpy")(x)

    assert "something else" in nb02.check_d_sin_of_square(by_sympy).message


# ------------------------------------------------------- round 4: each hint names the mistake
@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (lambda x: -2 * x * np.cos(x**2), "wrong sign"),  # d sin = -cos
        (lambda x: 2 * x * np.sin(x**2), "derivative of sin"),  # sin's derivative taken as sin
        (lambda x: -2 * x * np.sin(x**2), "derivative of sin"),  # ... or as -sin (cos's)
    ],
)
def test_d_sin_of_square_outer_derivative_slips_are_named(wrong, words):
    feedback = nb02.check_d_sin_of_square(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "cos(" not in feedback.message and "2 * x" not in feedback.message


# Found in the review of notebooks 02 and 06: these got the catch-all, which only says to name
# the two functions (the learner had); each now hears which factor is wrong, and not its formula
@pytest.mark.parametrize(
    ("check", "wrong", "words"),
    [
        (nb02.check_d_sin_of_square, lambda x: x * np.cos(x**2), "not the inner function's"),
        (nb02.check_d_sin_of_square, lambda x: 2 * np.cos(x**2), "not the inner function's"),
        (nb02.check_d_sin_of_square, lambda x: x**2 * np.cos(x**2), "inner function itself"),
        (
            nb02.check_two_paths,  # the chain rule's "multiply", carried over to the paths
            lambda x: (np.cos(x) * 3 * x**2) * (x**3 * -np.sin(x)),
            "they do not multiply",
        ),
    ],
)
def test_inner_factor_and_multiplied_paths_are_named(check, wrong, words):
    feedback = check(wrong)
    assert feedback.status == "hint" and words in feedback.message, feedback
    assert "not yet" not in feedback.message
    assert "2 * x" not in feedback.message and "2x" not in feedback.message


def _doubles_x_in_place(x):  # right values: cos((2x / 2)^2) * 2x, but the caller's x is 2x now
    x *= 2
    return np.cos((x / 2) ** 2) * x


def _partials_x_times_y_in_place(x, y):  # x becomes x * y on the way
    x0 = x.copy()
    x *= y
    return 2 * x + y * np.exp(x), x0**2 + x0 * np.exp(x)


def _two_paths_written_into_x(x):  # the answer written over the caller's points
    x[...] = 3 * x**2 * np.cos(x) - x**3 * np.sin(x)
    return x


def _three_paths_written_into_x(x):
    a = x**2
    x[...] = 2 * x * (np.sin(a) + x) + 2 * x * np.cos(a) * a + a
    return x


@pytest.mark.parametrize(
    "check, wrong, name",
    [
        (nb02.check_d_sin_of_square, _doubles_x_in_place, "x"),
        (nb02.check_partials, _partials_x_times_y_in_place, "x"),
        (nb02.check_two_paths, _two_paths_written_into_x, "x"),
        (nb02.check_three_paths, _three_paths_written_into_x, "x"),
    ],
)
def test_right_values_that_change_the_points_in_place_are_refused(check, wrong, name):
    """Each passed as exact before: the checks handed over copies and never looked at them
    again, while a notebook plots its points after the call (found by the in-place audit)."""
    feedback = check(wrong)
    assert feedback.status == "hint" and f"changed its input {name} in place" in feedback.message
    assert "*=" not in feedback.message and "[...]" not in feedback.message


# Hints no test reached before the coverage sweep: each is reachable by the answer below
def test_three_paths_multiplied_together_get_their_hint():
    def multiplied(x):
        a, b = x**2, np.sin(x**2) + x
        return (2 * x * b) * (2 * x * np.cos(a) * a) * a  # the three products, multiplied

    feedback = nb02.check_three_paths(multiplied)
    assert feedback.status == "hint"
    assert feedback.message == "the paths' contributions do not multiply with each other"


@pytest.mark.parametrize(
    ("answer", "which"), [(lambda x, y: ("a", y), "df/dx"), (lambda x, y: (x, "b"), "df/dy")]
)
def test_partials_that_are_no_arrays_are_named(answer, which):
    feedback = nb02.check_partials(answer)
    assert feedback.status == "hint" and feedback.message.startswith(f"{which} is a str"), feedback


def _nan_after_the_start(grad_f, w0, h, steps):
    path = steepest_steps(grad_f, w0, h, steps)
    path[1:] = np.nan
    return path


def _never_moves(grad_f, w0, h, steps):
    return np.repeat(np.array(w0, dtype=float)[None], steps + 1, axis=0)


def _starts_elsewhere(grad_f, w0, h, steps):
    return steepest_steps(grad_f, np.array(w0, dtype=float) + 0.5, h, steps)


def _bent(grad_f, w0, h, steps):
    path = steepest_steps(grad_f, w0, h, steps)
    return path + 0.01 * np.arange(path.size).reshape(path.shape) ** 2


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_nan_after_the_start, "your points hold nan or inf: each step should be h long"),
        (_never_moves, "your walk never moved: from each point, take a step of length h"),
        (_starts_elsewhere, "your first row is not w0"),
        (_bent, "not yet: from each point, a step of length h against the gradient"),
    ],
)
def test_steepest_steps_slips_no_test_reached_get_their_hint(answer, words):
    # (coverage sweep: these four hints of _steepest were reached by no answer)
    feedback = nb02.check_steepest_steps(answer)
    assert feedback.status == "hint" and words in feedback.message, feedback
