"""Self-checks for notebook 11, skip connections.

Expected gradients come from the engine: each check builds a network whose branch F is linear, so
that its Jacobian is exactly the matrix handed to the learner, and runs ``backward`` on it.
Expected forward values come from plain numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from ..autodiff import no_grad
from ..functional import cross_entropy
from ..nn import Linear, deep_network
from ..tensor import Tensor
from . import (
    Feedback,
    attempt,
    attempt_own,
    changed_input,
    close,
    correct,
    estimated,
    hint,
    names_used,
    result_array,
    roughly,
)
from ._draws import check_rng

__all__ = [
    "check_block_gradient_norms",
    "check_residual_block",
    "check_residual_vjp",
    "check_stack_input_gradient",
]

# The references here are exact (the engine, numpy formulas), so agreement can be tighter than
# close()'s default, which allows for finite differences.
_close = partial(close, rtol=1e-6, atol=1e-9)


def _engine_input_grad(g: np.ndarray, blocks: list[tuple[np.ndarray, bool]]) -> np.ndarray:
    """dL/dx_0 by backward() through blocks x <- F(x) (+ x when the block's flag is True), with
    F linear, F(x) = J x, for ``blocks`` = [(J, residual), ...]."""
    x0 = Tensor(np.zeros(g.shape), requires_grad=True)  # a linear map's gradient ignores x
    x = x0
    for J, residual in blocks:
        fx = x @ Tensor(J).T  # row-vector form of J x
        x = fx + x if residual else fx
    x.backward(g)
    assert x0.grad is not None  # backward() reached x0
    return x0.grad


# ------------------------------------------------------------------------------ residual_vjp
def check_residual_vjp(residual_vjp: Callable) -> Feedback:
    """``residual_vjp(g, J_F)``: dL/dx for H = F(x) + x, given g = dL/dH and J_F = dF/dx."""
    name = "residual_vjp"
    rng = check_rng(110)
    n = 4
    J = rng.standard_normal((n, n))  # not symmetric, so J and J.T give different answers
    g = rng.standard_normal(n)
    expected = _engine_input_grad(g, [(J, True)])
    got = result_array(name, attempt_own(name, residual_vjp, g, J), (n,))  # numpy only
    if isinstance(got, Feedback):
        return got
    if _close(got, expected):
        J_wide, g_wide = rng.standard_normal((_WIDER, _WIDER)), rng.standard_normal(_WIDER)
        wide = _engine_input_grad(g_wide, [(J_wide, True)])
        return (
            estimated(name, got, expected)  # to 8 or 10 digits only: an estimate, not derived
            or _wider(name, residual_vjp, (g_wide, J_wide), wide, n)
            or correct(name, "matches backward() through H = F(x) + x.")
        )
    if _close(got, g @ J):
        return hint(
            name,
            "you kept the path through F but dropped the skip path: x reaches H "
            "twice, and the chain rule adds one term per path.",
        )
    if _close(got, g):
        return hint(name, "only the skip path is there: the gradient also flows through F.")
    if _close(got, g @ (J + 1)):
        return hint(
            name,
            "the skip path's Jacobian is the identity matrix I: 1 on the diagonal, 0 "
            "elsewhere, not 1 in every entry.",
        )
    if _close(got, g + 1 + g @ J) or _close(got, 1 + g @ J):
        return hint(
            name,
            "you added the number 1 to the gradient: the +1 of dH/dx = dF/dx + 1 is a local "
            "derivative like any other (for a vector x, the identity I), and the chain rule "
            "multiplies the upstream gradient by it.",
        )
    if _close(got, J @ g + g):
        return hint(
            name,
            "both paths are there, but the Jacobian is applied the wrong way "
            "round: which index of J_F belongs to x?",
        )
    return roughly(name, got, expected) or hint(
        name, "not yet: write dL/dx_j as a sum over i of dL/dH_i * dH_i/dx_j."
    )


_WIDER = 6  # a second width: not the checks' first (4), nor the notebook's (2, 3 and 32)


def _wider(
    name: str, fn: Callable, args: tuple, expected: np.ndarray, width: int
) -> Feedback | None:
    """None if ``fn(*args)``, whose vectors have ``_WIDER`` entries, gives ``expected``; else the
    hint. An answer that writes in the first call's ``width`` (an identity matrix of that size
    for the skip path) is right at that width only."""
    got = result_array(name, attempt_own(name, fn, *args), expected.shape)
    if not isinstance(got, Feedback) and _close(got, expected):
        return None
    return hint(
        name,
        f"right for vectors of {width} entries, but not for vectors of {_WIDER}: does your "
        "answer use a size of its own (of the identity matrix, say) instead of the width of "
        "the g it is given?",
    )


# ---------------------------------------------------------------------- stack_input_gradient
def check_stack_input_gradient(stack_input_gradient: Callable) -> Feedback:
    """``stack_input_gradient(g, jacobians, residual)``: dL/dx_0 through a stack of blocks.

    Block l maps x_l to x_{l+1} = F_l(x_l) (+ x_l when ``residual``); ``jacobians[l]`` is
    dF_l/dx_l and ``g`` is dL/dx_n for n blocks (L is the loss).
    """
    name = "stack_input_gradient"
    rng = check_rng(111)
    n = 4
    stacks = [  # 3 blocks, then 5 more: an answer written for one depth does not pass
        [rng.standard_normal((n, n)) * 0.5 for _ in range(depth)] for depth in (3, 5)
    ]  # random matrices: they do not commute
    g = rng.standard_normal(n)
    for jacobians, residual in [(js, residual) for js in stacks for residual in (False, True)]:
        expected = _engine_input_grad(g, [(J, residual) for J in jacobians])
        result = attempt_own(name, stack_input_gradient, g, jacobians, residual)  # numpy only
        if isinstance(result, Feedback):
            return result
        got = result_array(name, result, (n,))
        if isinstance(got, Feedback):
            return got
        if _close(got, expected):  # and to rounding, as a derived answer is
            derived = estimated(name, got, expected)
            if derived is not None:
                return derived
            continue
        label = f"with {len(jacobians)} blocks and residual={residual}"
        other = _engine_input_grad(g, [(J, not residual) for J in jacobians])
        if _close(got, other):
            return hint(
                name,
                f"{label} you computed the gradient of the other kind of stack: "
                "does each block have a skip path or not?",
            )
        if _close(got, _engine_input_grad(g, [(J, residual) for J in jacobians[::-1]])):
            return hint(
                name,
                f"{label} the blocks are visited in the wrong order: backward "
                "starts at the block nearest the loss.",
            )
        if _close(got, _engine_input_grad(g, [(J.T, residual) for J in jacobians])):
            return hint(
                name,
                f"{label} every branch's Jacobian is applied the wrong way round: J_l[i, j] is "
                "dF_i/dx_j, and the gradient of an input x_j sums over the outputs i. Which "
                "index of J belongs to the block's input?",
            )
        through_all = _engine_input_grad(g, [(J, False) for J in jacobians])
        upstream_each_time = g  # the loss's g added at every block, not what arrived there
        for J in reversed(jacobians):
            upstream_each_time = upstream_each_time @ J + g
        if residual and any(
            _close(got, paths)
            for paths in (g + through_all, g + sum(g @ J for J in jacobians), upstream_each_time)
        ):
            return hint(
                name,
                f"{label} your gradient adds up only some of the paths from x_0 to the loss. "
                "Each block offers two ways back, its skip and its branch, and a path may mix "
                "them: going back through a block acts on everything that has arrived there, "
                "whichever ways it came.",
            )
        if len(jacobians) > len(stacks[0]):  # right on both stacks of 3 blocks
            return hint(name, f"right with {len(stacks[0])} blocks, not {label}: does your "
                        "function go through every block it is given, however many?")  # fmt: skip
        return hint(
            name,
            f"not yet {label}: get one block right first (the previous exercise), "
            "then repeat it block by block.",
        )
    wide = [rng.standard_normal((_WIDER, _WIDER)) * 0.5 for _ in range(2)]
    g_wide = rng.standard_normal(_WIDER)
    for residual in (False, True):
        expected = _engine_input_grad(g_wide, [(J, residual) for J in wide])
        verdict = _wider(name, stack_input_gradient, (g_wide, wide, residual), expected, n)
        if verdict is not None:
            return verdict
    empty = _empty_stack(name, stack_input_gradient, g)
    if empty is not None:
        return empty
    return correct(name, "matches backward() through stacks of 3 and 5 blocks, plain and residual.")


def _empty_stack(name: str, stack_input_gradient: Callable, g: np.ndarray) -> Feedback | None:
    """A hint if ``stack_input_gradient`` fails on a stack of no blocks (an empty list), where
    x_0 is x_k and the answer is g itself; None if right. The cell after the check measures from
    that stack up: an answer that multiplies the list together with np.linalg.multi_dot, or
    functools.reduce without a start, passed 3 and 5 blocks and crashed there."""
    words = (
        "right through 3 and 5 blocks, but not through a stack of none (an empty list of "
        "Jacobians, where the next cell starts): with no block, x_0 is the stack's output itself."
    )
    for residual in (False, True):
        result = attempt_own(name, stack_input_gradient, g, [], residual)
        got = result_array(name, result, g.shape)
        if isinstance(got, Feedback):
            crash = f" {got.message[0].upper()}{got.message[1:]}" if got.status == "hint" else ""
            return hint(name, words + crash)
        if not _close(got, g):
            return hint(name, words)
    return None


# ---------------------------------------------------------------------------- residual_block
def check_residual_block(residual_block: Callable) -> Feedback:
    """``residual_block(x, W, b)``: H = x + relu(x @ W.T + b) on Tensors, so backward can follow."""
    name = "residual_block"
    rng = check_rng(112)
    n, width = 5, 3
    x = rng.standard_normal((n, width))
    W = rng.standard_normal((width, width))
    b = rng.standard_normal(width)
    branch = np.maximum(x @ W.T + b, 0)
    expected = x + branch
    x_t = Tensor(x, requires_grad=True, name="x")
    W_t = Tensor(W, requires_grad=True, name="W")
    b_t = Tensor(b, requires_grad=True, name="b")
    result = attempt(name, residual_block, x_t, W_t, b_t)
    if isinstance(result, Feedback):
        return result
    passed = {"x": x_t.data, "W": W_t.data, "b": b_t.data}  # (copies: they require grad)
    changed = changed_input(name, {"x": x, "W": W, "b": b}, passed)
    if changed:
        return changed
    got = result_array(name, result, (n, width))
    if isinstance(got, Feedback):
        return got
    if not _close(got, expected):
        if _close(got, branch):
            return hint(name, "this is F(x) alone: the block's output also carries x itself.")
        if _close(got, x + x @ W.T + b):
            return hint(name, "the branch is missing its activation.")
        if _close(got, x + np.maximum(x @ W + b, 0)):
            return hint(name, "W has the package's layout (n_out, n_in): check the transpose.")
        return hint(name, _residual_mistake(got, x, W, b, expected))
    if not isinstance(result, Tensor) or result.op is None:
        return hint(
            name,
            "right values, but not a Tensor computed from x, W and b: build it "
            "with Tensor operations so that backward() can follow it.",
        )
    upstream = rng.standard_normal((n, width))
    try:
        result.backward(upstream)
    except Exception as error:  # a check never raises: say what backward() said
        return hint(name, f"right values, but backward() failed: {type(error).__name__}: {error}")
    if x_t.grad is None or W_t.grad is None or b_t.grad is None:
        return hint(
            name,
            "right values, but the gradient does not reach x, W and b: use the "
            "Tensors you were given, not their .data.",
        )
    # the expected gradients: backward() through the block built here from fresh Tensors
    x_r, W_r, b_r = (Tensor(v, requires_grad=True) for v in (x, W, b))
    (x_r + (x_r @ W_r.T + b_r).relu()).backward(upstream)
    assert x_r.grad is not None and W_r.grad is not None and b_r.grad is not None
    if not _close(x_t.grad, x_r.grad):
        if _close(x_t.grad, x_r.grad - upstream):
            return hint(name, "right values, but the gradient reaching x misses the skip path: "
                        "the x that is added must be the Tensor you were given, so that "
                        "backward() can follow that path too.")  # fmt: skip
        return hint(name, "right values, but not the gradient that reaches x through both paths "
                    "(the skip and the branch): build every part from the Tensors you were "
                    "given.")  # fmt: skip
    if not (_close(W_t.grad, W_r.grad) and _close(b_t.grad, b_r.grad)):
        return hint(name, "right values, but the gradients of W and b are wrong: build the "
                    "branch from the Tensors you were given.")  # fmt: skip
    return correct(name, "right values, and backward() gives x, W and b their right gradients.")


def _residual_mistake(got: np.ndarray, x: np.ndarray, W: np.ndarray, b: np.ndarray,
                      expected: np.ndarray) -> str:  # fmt: skip
    """The hint for a block whose values are wrong: which part of x + relu(x W^T + b) differs."""
    z = x @ W.T + b
    if _close(got, np.maximum(x + z, 0)):
        return ("the activation is applied after x is added: in this block relu acts on the "
                "branch alone, and x is added to its output as it is.")  # fmt: skip
    if _close(got, x + np.maximum(x @ W.T, 0) + b):
        return "b is added after the activation: it belongs to the branch, before relu."
    if _close(got, x + np.maximum(x, 0) @ W.T + b):
        return "the activation is applied to x before the product: it comes after x W^T + b."
    if any(_close(got, x + f(z)) for f in (np.tanh, lambda v: 1 / (1 + np.exp(-v)))):
        return "the branch uses another activation than relu."
    if _close(got - expected, x):
        return "x is added one time too many: the block adds it once, to the branch's output."
    if _close(got, x + np.maximum(x @ W.T, 0)):
        return "the branch is missing its bias b: it is added before the activation."
    return "the output values are not x + relu(x W^T + b)."


# ---------------------------------------------------------------------------- the challenge
def check_block_gradient_norms(block_gradient_norms: Callable) -> Feedback:
    """The challenge: ``block_gradient_norms(model, X, y)`` for a ``deep_network`` returns
    ||dL/dx_l|| (the whole batch's gradient, L the mean cross-entropy) for x_0, the output of the
    input layer, then x_1 .. x_depth, the outputs of the hidden layers."""
    name = "block_gradient_norms"
    package = {getattr(block_gradient_norms, "__name__", "")} | names_used(block_gradient_norms)
    if "hidden_gradient_norms" in package:  # the function itself, or a call to it
        return hint(name, "your answer calls backproplab's own measurement, the one notebook 10 "
                    "used: this challenge is to write it yourself")  # fmt: skip
    rng = check_rng(111)
    X, y = rng.standard_normal((12, 7)), rng.integers(0, 4, 12)
    # a third network of 7 hidden layers (width 5) refuses an answer that writes in the 5
    for residual, depth, width in ((False, 5, 6), (True, 5, 6), (True, 7, 5)):
        kind = "residual" if residual else "plain"
        model = deep_network(depth, width, residual=residual, activation="sigmoid",
                             init="xavier", n_in=7, n_out=4, rng=112)  # fmt: skip
        # expected: ||dL/dx_l||, each by its own backward pass from a fresh leaf holding x_l
        layers = list(model)
        with no_grad():
            values, h = [], Tensor(X)
            for layer in layers[:-1]:
                h = layer(h)
                values.append(h.data)
        norms, per_example = [], []
        for start in range(1, len(layers) - 1):  # x_l enters layer start + 1
            leaf = Tensor(values[start].copy(), requires_grad=True)
            h = leaf
            for layer in layers[start + 1 :]:
                h = layer(h)
            model.zero_grad()
            cross_entropy(h, y).backward()
            assert leaf.grad is not None  # backward() reached the leaf
            norms.append(np.linalg.norm(leaf.grad))
            per_example.append(np.linalg.norm(leaf.grad, axis=1).mean())
        model.zero_grad()
        want = np.array(norms)
        passed = {"X": X.copy(), "y": y.copy()}
        given = [p.data.copy() for p in model.parameters()]
        result = attempt(name, block_gradient_norms, model, passed["X"], passed["y"])
        changed = changed_input(name, {"X": X, "y": y}, passed)
        if changed or not all(np.array_equal(p.data, before)
                              for p, before in zip(model.parameters(), given)):  # fmt: skip
            return changed or hint(name, "your function changed the model's weights: measure "
                                   "the gradients, and leave the network as it was.")  # fmt: skip
        got = result_array(name, result, None, "your result")
        if isinstance(got, Feedback):
            return got
        got = got.ravel()
        if depth != 5 and not (got.shape == want.shape and _close(got, want)):
            return hint(name, f"right on the networks of 5 hidden layers, but not on a {kind} "
                        f"network of {depth} ({len(want)} norms, x_0 .. x_{depth}; yours: "
                        f"{got.size}): does your function write in the number of layers, or "
                        "a width, instead of reading them from the model?")  # fmt: skip
        if got.shape != want.shape:
            model.zero_grad()
            cross_entropy(model(Tensor(X)), y).backward()
            weights = np.array([np.linalg.norm(m.weight.grad) for m in _linears(model)])
            model.zero_grad()
            if got.shape == weights.shape and _close(got, weights):
                return hint(name, "these are the gradients of the Linear layers' weights; the "
                            "challenge asks for the gradients of the layers' outputs.")  # fmt: skip
            return hint(name, f"for a network with 5 hidden layers expected {len(want)} norms "
                        f"(x_0 .. x_5), got {got.size}{_off_by_one(got, want)}.")  # fmt: skip
        if _close(got, want):
            continue
        if _close(got[::-1], want):
            return hint(name, "the right numbers in reverse order: x_0, next to the input, first.")
        if _close(got, want * len(X)):
            return hint(name, "N times too large: the loss is the mean over the batch.")
        if _close(got * len(X), want):
            return hint(name, "N times too small: the loss already is the mean over the "
                        "batch, and its gradient needs no averaging of its own.")  # fmt: skip
        if _close(got, want**2):
            return hint(name, "these are squared norms.")
        if _close(got, np.array(per_example)):
            return hint(name, "these are the norms of each example's gradient, averaged: the "
                        "challenge asks for the norm of the whole batch's gradient.")  # fmt: skip
        return hint(name, f"not yet right on the {kind} network: one backward pass, then the "
                    "norm of the gradient each layer's output received.")  # fmt: skip
    return correct(name, "right on a plain and a residual network of 5 hidden layers.")


def _linears(model: Any) -> list:
    """Every Linear layer of ``model``, input side first."""
    return [module for _, module in model.named_modules() if isinstance(module, Linear)]


def _off_by_one(got: np.ndarray, want: np.ndarray) -> str:
    """For a list of norms one too long or too short, which end is off; "" otherwise."""
    if got.size == want.size + 1 and _close(got[1:], want):
        return (": the first of yours is one norm too many, the gradient of a tensor before x_0 "
                "(x_0 is the output of the input layer's activation)")  # fmt: skip
    if got.size == want.size + 1 and _close(got[:-1], want):
        return (": the last of yours is one norm too many, the gradient of the network's output "
                "(the logits), which is no hidden layer's output")  # fmt: skip
    if got.size + 1 == want.size and _close(got, want[1:]):
        return ": x_0, the output of the input layer's activation, is missing"
    if got.size + 1 == want.size and _close(got, want[:-1]):
        return ": the last hidden layer's output is missing"
    return ""
