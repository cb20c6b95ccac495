"""Notebook 03's exercise 4: the backward of one node out = x1 * x2 * ... * xn with n inputs.

The cases (1 to 5 inputs, zeros among them, one array at two positions), the reference gradients
(central differences of the product, never the learner's function) and the hints for the typical
slips (local instead of downstream gradients, a division by an input that is 0, the other arrays
instead of the other positions). ``nb03.check_product_backward`` refuses an answer that lets the
package do the work, then calls ``check`` here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Feedback, attempt_own, close, correct, hint, numeric_gradient, result_array
from ._draws import check_rng


def _product_cases() -> list[tuple[str, np.ndarray, list[np.ndarray]]]:
    """(what, upstream, inputs): 2, 3, 5 and 1 inputs of several shapes, then entries where one,
    two or all inputs are 0, then one array at two positions (x * x * y: each position is an
    input of its own, whose other inputs include the other x). Values are 0.5 to 2 in size, of
    either sign; no upstream is all 1."""
    rng = check_rng(7)

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)

    cases = []
    for what, n, shape in [
        ("2 inputs", 2, (3,)),
        ("3 inputs", 3, (2, 3)),
        ("5 inputs", 5, ()),
        ("1 input", 1, (4,)),
        ("an input that is 0", 3, (4,)),
        ("two inputs that are 0", 4, (2, 2)),
        ("every input 0", 3, (2,)),
        ("one array given twice, x * x * y", 3, (3,)),
    ]:
        cases.append((what, draw(shape), [draw(shape) for _ in range(n)]))
    one, two, every, twice = (inputs for _, _, inputs in cases[4:])
    twice[1] = twice[0]  # the same array object at two positions, as in x * x
    one[0][0] = one[1][2] = 0.0  # a single zero at entries 0 and 2
    two[0][0, 1] = two[2][0, 1] = 0.0  # two zeros at entry (0, 1)
    two[3][1, 1] = 0.0  # and a single one at (1, 1)
    for x in every:
        x[...] = 0.0
    return cases


def _product(xs: list[np.ndarray]) -> np.ndarray:
    """x1 * x2 * ... * xn entry by entry (1 for an empty list of a given shape's arrays)."""
    out = np.ones_like(xs[0])
    for x in xs:
        out = out * x
    return out


def _product_gradients(upstream: np.ndarray, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The reference: the gradient of L = sum(upstream * x1 * ... * xn) for each input, by
    central differences over every entry of every input (exact but for rounding: L is linear
    in each entry)."""
    n, shape = len(inputs), upstream.shape

    def loss(v: np.ndarray) -> float:  # v: every input's entries, one input after the other
        return float(np.sum(upstream * _product([x.reshape(shape) for x in np.split(v, n)])))

    flat = np.concatenate([x.ravel() for x in inputs])
    return [g.reshape(shape) for g in np.split(numeric_gradient(loss, flat), n)]


def check(fn: Callable[[np.ndarray, list], list]) -> Feedback:
    """Check ``fn(upstream, inputs)`` = [dL/dx1, ..., dL/dxn] for a node out = x1 * ... * xn.

    Cases with 2, 3, 5 and 1 inputs (vectors, matrices, scalars), then with zeros: one input 0
    at an entry (its gradient there is the product of the others, not 0), two inputs 0 (every
    gradient 0 there) and all inputs 0; then x * x * y, one array at two positions. Nothing
    given may be changed in place.
    """
    exercise = "product_backward"
    passed_two = False
    for what, upstream, inputs in _product_cases():
        n, shape = len(inputs), upstream.shape
        at = f"with {what} (shape {shape})"
        result = attempt_own(exercise, fn, upstream, inputs)
        if isinstance(result, Feedback):
            return result
        if isinstance(result, np.ndarray) or not isinstance(result, (list, tuple)):
            return hint(exercise, "return a list of arrays: one gradient per input, even for one")
        if len(result) != n:
            return hint(
                exercise,
                f"{at} your function returned {len(result)} gradient(s): return one per input, "
                "in the order of the inputs",
            )
        got = []
        for i, r in enumerate(result):
            g = result_array(exercise, r, None, what=f"the gradient for input {i + 1}")
            if isinstance(g, Feedback):
                return g
            if g.shape != shape:
                return hint(
                    exercise,
                    f"{at} the gradient for input {i + 1} has shape {g.shape}, its input {shape}: "
                    "each gradient has the shape of its input (one number per entry, nothing "
                    "summed)",
                )
            got.append(g)
        want = _product_gradients(upstream, inputs)
        if all(close(g, w) for g, w in zip(got, want)):
            passed_two = passed_two or n == 2
            continue
        verdict = _product_hint(got, want, upstream, inputs, passed_two)
        return hint(exercise, f"{at}: {verdict}")
    return correct(
        exercise, "right for 1 to 5 inputs, with zeros among them, and for x * x * y too."
    )


def _product_hint(
    got: list[np.ndarray],
    want: list[np.ndarray],
    upstream: np.ndarray,
    inputs: list[np.ndarray],
    passed_two: bool,
) -> str:
    """What is wrong with ``got`` (one gradient per input, of the right shapes), in words."""
    n = len(inputs)
    if not all(np.all(np.isfinite(g)) for g in got):
        return (
            "your gradients hold nan or inf: does your rule divide by an input? That breaks "
            "exactly where an input is 0 (0/0); find a way with no division"
        )
    if n == 1 and close(got[0], 0 * upstream):
        return (
            "your gradient is 0, but out = x1 moves one-for-one with x1. The product of no "
            "numbers at all is 1, as their sum is 0"
        )
    if n == 1 and (close(got[0], inputs[0]) or close(got[0], upstream * inputs[0])):
        return "out = x1, and your gradient holds x1: by how much does out move when x1 does?"
    others = [_product([x for j, x in enumerate(inputs) if j != i] or [np.ones_like(upstream)])
              for i in range(n)]  # fmt: skip
    if all(close(g, o) for g, o in zip(got, others)):
        return "those are the local gradients; a downstream gradient also carries the upstream one"
    if all(close(g, upstream * _product(inputs)) for g in got):
        return (
            "every input gets the same gradient, the upstream times the whole product. Hold the "
            "other inputs fixed and raise x_i by 1: by how much does the product grow?"
        )
    if all(close(g, np.sum(upstream) * o) for g, o in zip(got, others)):
        return (
            "you used the sum of the upstream gradient; each of its entries belongs to one "
            "entry of the output, and multiplies the gradients at that entry only"
        )
    whole = [np.prod([x for j, x in enumerate(inputs) if j != i]) for i in range(n)]  # (n > 1)
    if n > 1 and all(close(g, upstream * s) or close(g, s + 0 * g) for g, s in zip(got, whole)):
        return (  # np.prod over the list of arrays, without an axis: one number
            "your product of the other inputs is one number, the same for every entry: it "
            "multiplied all of their entries together. Each entry of the output is the product "
            "of the inputs at that entry only"
        )
    if all(close(g, -w) for g, w in zip(got, want)):
        return "right size, wrong sign: nothing in a product flips a sign"
    bad = [~np.isclose(g, w, rtol=1e-5, atol=1e-7) for g, w in zip(got, want)]
    zeros = sum((x == 0).astype(int) for x in inputs)  # how many inputs are 0, entry by entry
    if all(np.all(zeros[b] >= 1) for b in bad):  # wrong only where some input is 0
        if all(np.all((x == 0)[b] & (zeros[b] == 1)) for b, x in zip(bad, inputs)):
            return (
                "wrong only for an input that is 0 where no other input is. Nudge it: the "
                "product moves, although it is 0; a rule that divides by the input, with the 0/0 "
                "patched, cannot see by how much"
            )
        if all(np.all(zeros[b] >= 2) for b in bad):
            return (
                "wrong only where two or more inputs are 0: there the other inputs of every "
                "input include a 0"
            )
        return (
            "wrong only where an input is 0, for an input that is not: its other inputs "
            "include that 0"
        )
    by_identity = [  # "the other inputs" taken as the other arrays: x * x loses both x's
        _product([x for x in inputs if x is not inputs[i]] or [np.ones_like(upstream)]) * upstream
        for i in range(n)
    ]
    if len({id(x) for x in inputs}) < n and all(close(g, b) for g, b in zip(got, by_identity)):
        return (
            "one array sits at two positions here (x * x * y), and your gradient for an x leaves "
            "out both: the other inputs of a position are the other positions, whatever array "
            "they hold"
        )
    if n > 2 and passed_two:
        return (
            f"right for 2 inputs, not for {n}: with more inputs, every input other than x_i is "
            "a factor of x_i's local gradient"
        )
    return "not yet: downstream = upstream x local, for each input"
