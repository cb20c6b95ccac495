"""Right answers written differently from the notebooks' solutions: every self-check accepts them.

A check that refuses a right answer is as wrong as one that accepts a wrong one. Earlier sweeps
attacked the checks with wrong answers (tests/test_exercises_nbNN.py, tests/test_mutants_killed.py);
this file holds the other side: for each of the 60 exercises and challenges of notebooks 01-14,
five or more right answers a learner could write from the prompt alone, as far from the
notebook's solution as the prompt allows (352 in all: loops instead of numpy, einsum, tensordot,
transposes placed elsewhere, np.where or a mask, sigmoid through tanh or logaddexp, other
algorithms for a topological order, a product with a division, the float32 round trip, tuples,
lists, numpy scalars, 0-d arrays, copies of the inputs, the engine's Tensors where the prompt
allows them, ...). Each must pass, with no warning (``test_a_right_answer_passes``); so must 8
answers built on the learner's own earlier answers, as the prompts' hints suggest.

An answer that breaks a rule the prompt states (numpy only, a tuple) is not right: its check may
refuse it, but the hint names that rule and the prompt states it
(``test_a_broken_rule_is_named_by_the_hint_and_by_the_prompt``). The sweep that wrote this file
found thirteen prompts whose check refused the package without the prompt saying so (now they
say it), a scalar graph of one-number arrays (``bl.Tensor([0.5])``) that crashed the check of
notebook 03's challenge, and answers to notebook 11's stack (np.linalg.multi_dot, reduce without
a start) that passed its check and crashed the cell after it, on a stack of no blocks (the
check now tries one, and the prompt says so). ``test_the_grade_says_what_the_notebook_says`` sends a sample through
the real grader: one answer to each of the 33 graded exercises of nine notebooks, 16 right ones
and 17 broken rules, and five of the slowest right answers (Python loops).
"""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest
from exercise_helpers import grade_students, our_words, run_as_notebook

import backproplab as bl
from backproplab import nn
from backproplab.convolution import col2im, im2col

ROOT = Path(__file__).resolve().parents[1]
# an exercise whose check is not named after its function
CHECK_NAMES = {"my_std": "trainable_init", "train_digits": "training_run"}

# "notebook exercise" -> right answers, each a cell defining the exercise's function (the
# notebook's first cell has imported numpy as np, backproplab as bl, nn, im2col and col2im)
RIGHT: dict[str, list[str]] = {
    "01 gradient_descent_step": [
        """\
def gradient_descent_step(params, grads, lr):
    return tuple(p - lr * g for p, g in zip(params, grads))
""",
        """\
def gradient_descent_step(params, grads, lr):
    new = []
    for p, g in zip(params, grads):
        q = p.copy()
        q -= lr * g
        new.append(q)
    return new
""",
        """\
def gradient_descent_step(params, grads, lr):
    return [np.subtract(p, np.multiply(lr, g)) for p, g in zip(params, grads)]
""",
        """\
def gradient_descent_step(params, grads, lr):
    return list(map(lambda pg: pg[0] - lr * pg[1], zip(params, grads)))
""",
        """\
def gradient_descent_step(params, grads, lr):
    return [np.array(p, dtype=float) - lr * np.asarray(g) for p, g in zip(params, grads)]
""",
        """\
def gradient_descent_step(params, grads, lr):
    return [params[i] + (-lr) * grads[i] for i in range(len(params))]
""",
    ],
    "01 count_parameters": [
        """\
def count_parameters(sizes):
    total = 0
    for i in range(len(sizes) - 1):
        total += sizes[i] * sizes[i + 1] + sizes[i + 1]
    return total
""",
        """\
def count_parameters(sizes):
    s = np.array(sizes)
    return int(np.sum(s[:-1] * s[1:] + s[1:]))
""",
        """\
def count_parameters(sizes):
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
""",
        """\
def count_parameters(sizes):
    return np.sum([(sizes[i] + 1) * sizes[i + 1] for i in range(len(sizes) - 1)], dtype=int)
""",
        """\
def count_parameters(sizes):
    n = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        n += np.zeros((n_out, n_in)).size + np.zeros(n_out).size
    return n
""",
    ],
    "01 central_difference_gradient": [
        """\
def central_difference_gradient(f, w, eps):
    grad = np.zeros(w.shape)
    flat = w.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps; up = f(w)
        flat[i] = old - eps; down = f(w)
        flat[i] = old
        grad.flat[i] = (up - down) / (2 * eps)
    return grad
""",
        """\
def central_difference_gradient(f, w, eps):
    grad = np.empty_like(w, dtype=float)
    for idx in np.ndindex(w.shape):
        w_up = w.copy(); w_up[idx] += eps
        w_down = w.copy(); w_down[idx] -= eps
        grad[idx] = (f(w_up) - f(w_down)) / (2 * eps)
    return grad
""",
        """\
def central_difference_gradient(f, w, eps):
    grad = np.zeros_like(w, dtype=float)
    it = np.nditer(w, flags=['multi_index'])
    for _ in it:
        i = it.multi_index
        e = np.zeros_like(w, dtype=float); e[i] = eps
        grad[i] = (f(w + e) - f(w - e)) / (2 * eps)
    return grad
""",
        """\
def central_difference_gradient(f, w, eps):
    grad = np.zeros_like(w)
    for idx in np.ndindex(*w.shape):
        old = w[idx]
        w[idx] = old + eps
        up = float(f(w))
        w[idx] = old - eps
        down = float(f(w))
        w[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad
""",
        """\
def central_difference_gradient(f, w, eps):
    out = []
    for i in range(w.size):
        d = np.zeros(w.size); d[i] = eps
        d = d.reshape(w.shape)
        out.append((f(w + d) - f(w - d)) / (2 * eps))
    return np.array(out).reshape(w.shape)
""",
    ],
    "01 train": [
        """\
def train(X, Y, W1, W2, lr, steps):
    w1, w2 = W1.copy(), W2.copy()
    losses = np.zeros(steps)
    for k in range(steps):
        t1, t2 = bl.Tensor(w1, requires_grad=True), bl.Tensor(w2, requires_grad=True)
        loss = bl.cross_entropy((X @ t1.T).sigmoid() @ t2.T, Y)
        losses[k] = loss.item()
        loss.backward()
        w1, w2 = w1 - lr * t1.grad, w2 - lr * t2.grad
    return losses, w1, w2
""",
        """\
def train(X, Y, W1, W2, lr, steps):
    w1, w2 = W1.copy(), W2.copy()
    losses = []
    for k in range(steps):
        t1, t2 = bl.Tensor(w1, requires_grad=True), bl.Tensor(w2, requires_grad=True)
        loss = bl.cross_entropy((X @ t1.T).sigmoid() @ t2.T, Y)
        losses.append(loss.data)
        loss.backward()
        w1, w2 = w1 - lr * t1.grad, w2 - lr * t2.grad
    return losses, w1, w2
""",
        """\
def train(X, Y, W1, W2, lr, steps):
    w1, w2 = W1.astype(float), W2.astype(float)
    losses = []
    for k in range(steps):
        t1, t2 = bl.Tensor(w1, requires_grad=True), bl.Tensor(w2, requires_grad=True)
        loss = bl.cross_entropy((X @ t1.T).sigmoid() @ t2.T, Y)
        losses.append(np.float64(loss.item()))
        loss.backward()
        w1, w2 = w1 - lr * t1.grad, w2 - lr * t2.grad
    return (losses, w1, w2)
""",
        """\
def train(X, Y, W1, W2, lr, steps):
    V1 = bl.Tensor(W1.copy(), requires_grad=True)
    V2 = bl.Tensor(W2.copy(), requires_grad=True)
    losses = []
    for _ in range(steps):
        V1.grad = None; V2.grad = None
        loss = bl.cross_entropy((bl.Tensor(X) @ V1.T).sigmoid() @ V2.T, Y)
        losses.append(float(loss.data))
        loss.backward()
        V1.data = V1.data - lr * V1.grad
        V2.data = V2.data - lr * V2.grad
    return losses, V1.data, V2.data
""",
        """\
def train(X, Y, W1, W2, lr, steps):
    W1, W2 = np.array(W1), np.array(W2)
    losses = []
    for k in range(steps):
        a, b = bl.Tensor(W1, requires_grad=True), bl.Tensor(W2, requires_grad=True)
        h = (X @ a.T).sigmoid()
        L = bl.cross_entropy(h @ b.T, Y)
        L.backward()
        losses.append(L.item())
        W1 = W1 - lr * a.grad
        W2 = W2 - lr * b.grad
    return losses, W1, W2
""",
        """\
def train(X, Y, W1, W2, lr, steps):
    V1 = bl.Tensor(W1, requires_grad=True)
    V2 = bl.Tensor(W2, requires_grad=True)
    opt = bl.optim.SGD([V1, V2], lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = bl.cross_entropy((X @ V1.T).sigmoid() @ V2.T, Y)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return losses, V1.data.copy(), V2.data.copy()
""",
        """\
def train(X, Y, W1, W2, lr, steps):
    w1, w2 = W1.copy(), W2.copy()
    losses = []
    for _ in range(steps):
        t1, t2 = bl.tensor(w1, requires_grad=True), bl.tensor(w2, requires_grad=True)
        hidden = 1 / (1 + (-(X @ t1.T)).exp())
        loss = bl.cross_entropy(hidden @ t2.T, Y)
        losses.append(float(loss.item()))
        loss.backward()
        w1 -= lr * t1.grad
        w2 -= lr * t2.grad
    return losses, w1, w2
""",
        """\
def train(X, Y, W1, W2, lr, steps):
    params = [bl.Tensor(W1, requires_grad=True), bl.Tensor(W2, requires_grad=True)]
    losses = []
    for _ in range(steps):
        for p in params:
            p.grad = np.zeros_like(p.data)
        loss = bl.cross_entropy((X @ params[0].T).sigmoid() @ params[1].T, Y)
        loss.backward()
        losses.append(loss.item())
        for p in params:
            p.data -= lr * p.grad
    return losses, params[0].data, params[1].data
""",
    ],
    "01 chain_cost": [
        """\
def chain_cost(shapes, mode):
    shapes = list(shapes)  # a copy: the caller's list stays as it was
    for k in range(1, len(shapes)):
        if shapes[k][1] != shapes[k - 1][0]:
            raise ValueError("the shapes do not chain")
    if mode == "reverse":
        carried, total = shapes[-1][0], 0
        for rows, cols in shapes[::-1]:
            total += carried * rows * cols
        return total
    carried, total = shapes[0][1], 0
    for rows, cols in shapes:
        total += rows * cols * carried
    return total
""",
        """\
def chain_cost(shapes, mode):
    if any(a[0] != b[1] for a, b in zip(shapes, shapes[1:])):
        raise ValueError(f"{shapes} do not chain")
    sizes = sum(rows * cols for rows, cols in shapes)
    return sizes * (shapes[0][1] if mode == "forward" else shapes[-1][0])
""",
        """\
def chain_cost(shapes, mode):
    dims = [shapes[0][1]] + [rows for rows, _ in shapes]  # m_0, m_1, ..., m_k
    if [cols for _, cols in shapes] != dims[:-1]:
        raise ValueError("neighbouring shapes do not chain")
    if mode == "forward":
        return int(sum(dims[i + 1] * dims[i] * dims[0] for i in range(len(shapes))))
    return int(sum(dims[-1] * dims[i + 1] * dims[i] for i in range(len(shapes))))
""",
        """\
def chain_cost(shapes, mode):
    def product_cost(left, right):  # (a, b) @ (b, c)
        if left[1] != right[0]:
            raise ValueError("shapes do not chain")
        return left[0] * left[1] * right[1], (left[0], right[1])

    total = 0
    if mode == "forward":
        carried = (shapes[0][1], shapes[0][1])  # the identity, one column per input
        for J in shapes:
            cost, carried = product_cost(J, carried)
            total += cost
    else:
        carried = (shapes[-1][0], shapes[-1][0])  # the identity, one row per output
        for J in reversed(shapes):
            cost, carried = product_cost(carried, J)
            total += cost
    return total
""",
        """\
def chain_cost(shapes, mode):
    import math

    for (rows, _), (_, cols) in zip(shapes, shapes[1:]):
        if cols != rows:
            raise ValueError("shapes do not chain")
    side = shapes[0][1] if mode == "forward" else shapes[-1][0]
    return sum(math.prod((side, rows, cols)) for rows, cols in shapes)
""",
    ],
    "02 steepest_steps": [
        """\
def steepest_steps(grad_f, w0, h, steps):
    path = np.empty((steps + 1, len(w0)))
    path[0] = w0
    for k in range(steps):
        g = np.asarray(grad_f(path[k].copy()), dtype=float)
        n = np.sqrt(g @ g)
        path[k + 1] = path[k] if n == 0 else path[k] - h * g / n
    return path
""",
        """\
def steepest_steps(grad_f, w0, h, steps):
    w = w0.astype(float)  # a new array
    out = [w]
    for _ in range(steps):
        g = grad_f(w)
        if np.any(g != 0):
            w = w - h * (g / np.linalg.norm(g))
        else:
            w = w.copy()
        out.append(w)
    return np.stack(out)
""",
        """\
def steepest_steps(grad_f, w0, h, steps):
    import math
    points = [list(map(float, w0))]
    for _ in range(steps):
        w = points[-1]
        g = [float(v) for v in grad_f(np.array(w))]
        length = math.sqrt(sum(v * v for v in g))
        if length == 0:
            points.append(list(w))
        else:
            points.append([wi - h * gi / length for wi, gi in zip(w, g)])
    return np.array(points)
""",
        """\
def steepest_steps(grad_f, w0, h, steps):
    w = np.copy(w0).astype(np.float64)
    visited = np.zeros((steps + 1, w.size))
    visited[0] = w
    for k in range(1, steps + 1):
        g = grad_f(w)
        norm = np.linalg.norm(g)
        direction = g / norm if norm > 0 else np.zeros_like(g)
        w = w - h * direction
        visited[k] = w
    return visited
""",
        """\
def steepest_steps(grad_f, w0, h, steps):
    points = [np.array(w0, dtype=float)]
    while len(points) < steps + 1:
        g = grad_f(points[-1])
        norm = np.linalg.norm(g)
        step = np.where(norm == 0, 0.0, h / np.where(norm == 0, 1.0, norm)) * g
        points.append(points[-1] - step)
    return np.vstack(points)
""",
    ],
    "02 d_sin_of_square": [
        """\
def d_sin_of_square(x):
    return 2 * x * np.cos(x * x)
""",
        """\
def d_sin_of_square(x):
    u = x**2
    return np.cos(u) * (2 * x)
""",
        """\
def d_sin_of_square(x):
    import math
    return np.array([2 * v * math.cos(v * v) for v in x])
""",
        """\
def d_sin_of_square(x):
    return np.multiply(np.cos(np.square(x)), np.multiply(2, x))
""",
        """\
def d_sin_of_square(x):
    return 2 * x * np.sin(x**2 + np.pi / 2)
""",
    ],
    "02 partials": [
        """\
def partials(x, y):
    e = np.exp(x * y)
    return 2 * x * y + y * e, x**2 + x * e
""",
        """\
def partials(x, y):
    return [y * (2 * x + np.exp(x * y)), x * (x + np.exp(x * y))]
""",
        """\
def partials(x, y):
    return np.array([2 * x * y + y * np.exp(x * y), x * x + x * np.exp(x * y)])
""",
        """\
def partials(x, y):
    dfdx = np.empty_like(x, dtype=float); dfdy = np.empty_like(x, dtype=float)
    import math
    for i in np.ndindex(x.shape):
        e = math.exp(x[i] * y[i])
        dfdx[i] = 2 * x[i] * y[i] + y[i] * e
        dfdy[i] = x[i] ** 2 + x[i] * e
    return dfdx, dfdy
""",
        """\
def partials(x, y):
    u = x * y
    return 2 * x * y + np.exp(u) * y, x**2 + np.exp(u) * x
""",
    ],
    "02 two_paths": [
        """\
def two_paths(x):
    return 3 * x**2 * np.cos(x) - x**3 * np.sin(x)
""",
        """\
def two_paths(x):
    return x**2 * (3 * np.cos(x) - x * np.sin(x))
""",
        """\
def two_paths(x):
    u, v = x**3, np.cos(x)
    return v * 3 * x * x + u * -np.sin(x)
""",
        """\
def two_paths(x):
    import math
    return np.array([3 * t * t * math.cos(t) - t**3 * math.sin(t) for t in x])
""",
        """\
def two_paths(x):
    return np.cos(x) * 3 * np.power(x, 2) - np.power(x, 3) * np.sin(x)
""",
    ],
    "02 three_paths": [
        """\
def three_paths(x):
    a = x**2
    b = np.sin(a) + x
    return 2 * x * b + a * (np.cos(a) * 2 * x + 1)
""",
        """\
def three_paths(x):
    return 2 * x * (np.sin(x**2) + x) + x**2 * (2 * x * np.cos(x**2) + 1)
""",
        """\
def three_paths(x):
    return 2 * x * np.sin(x**2) + 3 * x**2 + 2 * x**3 * np.cos(x**2)
""",
        """\
def three_paths(x):
    a = x * x
    dL_da = np.sin(a) + x + a * np.cos(a)
    dL_dx_direct = a
    return dL_da * 2 * x + dL_dx_direct
""",
        """\
def three_paths(x):
    import math
    return np.array([2 * t * (math.sin(t * t) + t) + t * t * (2 * t * math.cos(t * t) + 1) for t in x])
""",
    ],
    "10 clip_gradients": [
        """\
def clip_gradients(grads, max_norm):
    norm = np.sqrt(sum((g**2).sum() for g in grads))
    s = max_norm / norm if norm > max_norm else 1.0
    return tuple(g * s for g in grads)
""",
        """\
def clip_gradients(grads, max_norm):
    total = np.sqrt(sum((g**2).sum() for g in grads))
    coef = min(max_norm / (total + 1e-6), 1.0)
    return [g * coef for g in grads]
""",
        """\
def clip_gradients(grads, max_norm):
    norm = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
    if norm > max_norm:
        return [g * (max_norm / norm) for g in grads]
    return [g.copy() for g in grads]
""",
        """\
def clip_gradients(grads, max_norm):
    total = np.sqrt(sum(np.sum(g * g) for g in grads))
    scale = min(1.0, max_norm / total) if total > 0 else 1.0
    return [np.array(g) * scale for g in grads]
""",
        """\
def clip_gradients(grads, max_norm):
    norm = np.sqrt(sum(np.linalg.norm(g) ** 2 for g in grads))
    factor = max_norm / max(norm, max_norm)
    return [factor * g for g in grads]
""",
        """\
def clip_gradients(grads, max_norm):
    total = 0.0
    for g in grads:
        for v in g.ravel():
            total += v * v
    norm = total ** 0.5
    out = []
    for g in grads:
        c = g.copy()
        if norm > max_norm:
            c *= max_norm / norm
        out.append(c)
    return out
""",
        """\
def clip_gradients(grads, max_norm):
    norm = np.sqrt(np.sum([np.vdot(g, g) for g in grads]))
    return [g * max_norm / norm if norm > max_norm else g + 0 for g in grads]
""",
        """\
def clip_gradients(grads, max_norm):
    norm = np.linalg.norm([np.linalg.norm(g) for g in grads])
    return [g / max(1.0, norm / max_norm) for g in grads]
""",
        """\
def clip_gradients(grads, max_norm):
    total = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads))
    return [g * min(1.0, max_norm / total) if total > 0 else g.copy() for g in grads]
""",
    ],
    "12 huber_loss": [
        """\
def huber_loss(pred, target, delta=1.0):
    d = pred - target
    r = d.abs()
    return bl.where(r <= delta, 0.5 * d**2, delta * (r - 0.5 * delta)).mean()
""",
        """\
def huber_loss(pred, target, delta=1.0):
    d = pred - target
    r = bl.where(d.data >= 0, d, -d)
    return bl.where(r.data <= delta, 0.5 * r * r, delta * (r - 0.5 * delta)).mean()
""",
        """\
def huber_loss(pred, target, delta=1.0):
    r = (pred - target).abs()
    q = bl.where(r.data <= delta, r, 0 * r + delta)
    return (0.5 * q**2 + delta * (r - q)).mean()
""",
        """\
def huber_loss(pred, target, delta=1.0):
    d = pred - target
    r = d.abs()
    return bl.where(r.data <= delta, 0.5 * d**2, delta * r - 0.5 * delta**2).sum() / np.prod(pred.shape)
""",
        """\
def huber_loss(pred, target, delta=1.0):
    r = pred - target
    a = r.abs()
    small = np.abs(r.data) <= delta
    return bl.where(small, 0.5 * r * r, delta * a - 0.5 * delta**2).mean()
""",
        """\
def huber_loss(pred, target, delta=1.0):
    r = (pred - target).abs()
    quad = 0.5 * r ** 2
    lin = delta * (r - 0.5 * delta)
    return bl.where(r.data < delta, quad, lin).mean()
""",
        """\
def huber_loss(pred, target, delta=1.0):
    r = (pred - target).abs()
    mask = (r.data <= delta).astype(float)
    per = mask * (0.5 * r**2) + (1 - mask) * (delta * r - 0.5 * delta * delta)
    return per.sum() / r.data.size
""",
        """\
def huber_loss(pred, target, delta=1.0):
    r = (pred - target).abs()
    inside = r.data <= delta
    return bl.where(~inside, delta * (r - 0.5 * delta), 0.5 * r**2).mean()
""",
        """\
def huber_loss(pred, target, delta=1.0):
    d = pred - target
    r = d.abs()
    c = np.minimum(r.data, delta)  # the clipped part: a constant-free split
    inside = r.data <= delta
    return (bl.where(inside, 0.5 * d * d, delta * r - 0.5 * delta**2)).mean()
""",
    ],
    "03 backward_by_hand": [
        """\
def backward_by_hand(x, y, z):
    return z, z, x + y
""",
        """\
def backward_by_hand(x, y, z):
    q = x + y
    dq = z
    return (dq, dq, q)
""",
        """\
def backward_by_hand(x, y, z):
    return [float(z), float(z), float(x + y)]
""",
        """\
def backward_by_hand(x, y, z):
    q = np.add(x, y)
    dL_dL = np.float64(1)
    return np.array([dL_dL * z, dL_dL * z, dL_dL * q])
""",
        """\
def backward_by_hand(x, y, z):
    grads = {}
    q = x + y
    L = q * z
    grads['L'] = 1.0
    grads['q'] = grads['L'] * z
    grads['z'] = grads['L'] * q
    grads['x'] = grads['q'] * 1
    grads['y'] = grads['q'] * 1
    return grads['x'], grads['y'], grads['z']
""",
    ],
    "03 mul_backward": [
        """\
def mul_backward(upstream, a, b):
    return np.array([upstream * b, upstream * a])
""",
        """\
def mul_backward(upstream, a, b):
    return np.multiply(upstream, b, dtype=float), np.multiply(upstream, a, dtype=float)
""",
        """\
def mul_backward(upstream, a, b):
    return b * upstream, a * upstream
""",
        """\
def mul_backward(upstream, a, b):
    return [np.multiply(upstream, b), np.multiply(upstream, a)]
""",
        """\
def mul_backward(upstream, a, b):
    da, db = np.empty_like(a, dtype=float), np.empty_like(b, dtype=float)
    for i in np.ndindex(a.shape):
        da[i] = upstream[i] * b[i]
        db[i] = upstream[i] * a[i]
    return da, db
""",
        """\
def mul_backward(upstream, a, b):
    da = upstream.copy()
    da *= b
    db = upstream.copy()
    db *= a
    return da, db
""",
        """\
def mul_backward(upstream, a, b):
    local_a, local_b = b, a  # d(a*b)/da = b, d(a*b)/db = a
    return (upstream * local_a).reshape(a.shape), (upstream * local_b).reshape(b.shape)
""",
    ],
    "03 fan_out": [
        """\
def fan_out(x, y):
    return 2 * x + y, x
""",
        """\
def fan_out(x, y):
    q = x + y
    dq = x
    return [q + dq, dq]
""",
        """\
def fan_out(x, y):
    grads = {"x": 0.0, "y": 0.0}
    q = x + y
    grads["x"] += q      # the mul node, directly
    dq = x
    grads["x"] += dq     # through the add node
    grads["y"] += dq
    return grads["x"], grads["y"]
""",
        """\
def fan_out(x, y):
    return np.array([x + y + x, x], dtype=float)
""",
        """\
def fan_out(x, y):
    dx = 0
    dy = 0
    q = x + y
    # L = q * x: the mul node sends x to q and q to x
    dq = x
    dx = dx + q
    # q = x + y: the add node passes dq on to both
    dx = dx + dq
    dy = dy + dq
    return np.float64(dx), np.float64(dy)
""",
    ],
    "03 product_backward": [
        """\
def product_backward(upstream, inputs):
    if len(inputs) == 1:
        return [upstream]  # the product of no other inputs is 1
    grads = []
    for i in range(len(inputs)):
        others = [x for j, x in enumerate(inputs) if j != i]
        prod = others[0]
        for x in others[1:]:
            prod = prod * x
        grads.append(upstream * prod)
    return grads
""",
        """\
def product_backward(upstream, inputs):
    with np.errstate(divide='ignore', invalid='ignore'):
        p = np.prod(np.stack(inputs).astype(float), axis=0)
        grads = []
        for i, x in enumerate(inputs):
            others = np.prod(np.stack([np.ones_like(x, dtype=float)] + [y for j, y in enumerate(inputs) if j != i]), axis=0)
            grads.append(upstream * np.where(x != 0, p / np.where(x != 0, x, 1), others))
    return grads
""",
        """\
def product_backward(upstream, inputs):
    grads = []
    for i in range(len(inputs)):
        others = [x for j, x in enumerate(inputs) if j != i]
        grads.append(upstream * np.prod(others, axis=0) if others else upstream * np.ones_like(inputs[i], dtype=float))
    return grads
""",
        """\
def product_backward(upstream, inputs):
    n = len(inputs)
    prefix = [np.ones_like(inputs[0], dtype=float)]
    for x in inputs[:-1]:
        prefix.append(prefix[-1] * x)
    suffix = [np.ones_like(inputs[0], dtype=float)]
    for x in reversed(inputs[1:]):
        suffix.append(suffix[-1] * x)
    suffix.reverse()
    return [upstream * prefix[i] * suffix[i] for i in range(n)]
""",
        """\
def product_backward(upstream, inputs):
    stacked = np.stack(inputs).astype(float)
    out = []
    for i in range(len(inputs)):
        out.append(upstream * np.delete(stacked, i, axis=0).prod(axis=0))
    return out
""",
        """\
def product_backward(upstream, inputs):
    import math
    grads = []
    for i, xi in enumerate(inputs):
        g = np.zeros(np.shape(xi))
        for idx in np.ndindex(np.shape(xi)):
            g[idx] = upstream[idx] * math.prod(float(x[idx]) for j, x in enumerate(inputs) if j != i)
        grads.append(g)
    return grads
""",
        """\
def product_backward(upstream, inputs):
    return tuple(upstream * np.prod([x for j, x in enumerate(inputs) if j != i] or [np.ones_like(inputs[0], dtype=float)], axis=0) for i in range(len(inputs)))
""",
    ],
    "03 my_graph": [
        """\
def my_graph():
    import backproplab as bl
    a = bl.Tensor(2.0, requires_grad=True, name="a")
    b = bl.Tensor(-0.5, requires_grad=True, name="b")
    c = a * b; c.name = "c"
    d = a + c; d.name = "d"
    L = d.tanh(); L.name = "L"
    cv = 2.0 * -0.5; dv = 2.0 + cv
    dd = 1 - np.tanh(dv) ** 2
    dc = dd
    return L, {"L": 1.0, "d": dd, "c": dc, "a": dd + dc * -0.5, "b": dc * 2.0}
""",
        """\
def my_graph():
    import backproplab as bl
    x = bl.Tensor(0.3, requires_grad=True, name="x")
    s = x.sigmoid(); s.name = "s"
    p = s * x; p.name = "p"
    L = p / 2.0
    sv = 1 / (1 + np.exp(-0.3))
    dp = 0.5
    ds = dp * 0.3
    return L, {"p": dp, "s": ds, "x": dp * sv + ds * sv * (1 - sv)}
""",
        """\
def my_graph():
    import backproplab as bl
    x = bl.Tensor(1.5, requires_grad=True, name="x")
    y = bl.Tensor(0.5, requires_grad=True, name="y")
    q = x - y; q.name = "q"
    r = q ** 2; r.name = "r"
    L = r * x
    return L, {"r": 1.5, "q": 1.5 * 2 * (1.5 - 0.5), "x": (1.5 - 0.5) ** 2 + 1.5 * 2 * 1.0, "y": -1.5 * 2 * 1.0}
""",
        """\
def my_graph():
    import backproplab as bl
    x = bl.Tensor(0.2, requires_grad=True, name="x")
    e = x.exp(); e.name = "e"
    f = e * e; f.name = "f"
    L = f + x
    ev = np.exp(0.2)
    return L, {"f": np.float64(1.0), "e": np.float64(2 * ev), "x": np.float64(2 * ev * ev + 1.0)}
""",
        """\
def my_graph():
    import backproplab as bl
    w = bl.Tensor(-1.0, requires_grad=True, name="w")
    u = w * 3.0; u.name = "u"
    v = u + w; v.name = "v"
    L = v * v
    vv = -3.0 + -1.0
    dv = 2 * vv
    return L, {"v": dv, "u": dv, "w": dv * 3.0 + dv}
""",
        """\
def my_graph():
    x = bl.Tensor(0.8, requires_grad=True, name="x")
    y = bl.Tensor(2.0, requires_grad=True, name="y")
    r = x / y; r.name = "r"
    n = -x; n.name = "n"
    s = r + n; s.name = "s"
    L = 2.0 * s
    ds = 2.0
    dr, dn = ds, ds
    return L, {"s": ds, "r": dr, "n": dn, "x": dr / 2.0 - dn, "y": -dr * 0.8 / 2.0**2}
""",
        """\
def my_graph():
    x = bl.Tensor(0.4, requires_grad=True, name="x")
    a = 1 / x; a.name = "a"
    b = x - 3; b.name = "b"
    L = a * b
    av, bv = 1 / 0.4, 0.4 - 3
    da, db = bv, av
    return L, {"a": da, "b": db, "x": da * (-1 / 0.4**2) + db}
""",
        """\
def my_graph():
    x = bl.Tensor([0.5], requires_grad=True, name="x")
    t = x.tanh(); t.name = "t"
    m = t * x; m.name = "m"
    L = m + t
    tv = np.tanh(0.5)
    dm = 1.0
    dt = 1.0 + dm * 0.5
    return L, {"m": dm, "t": dt, "x": dt * (1 - tv**2) + dm * tv}
""",
        """\
def my_graph():
    x = bl.Tensor(np.float64(1.2), requires_grad=True, name="x")
    y = bl.Tensor(np.float64(-0.7), requires_grad=True, name="y")
    p = x * y; p.name = "p"
    e = p.exp(); e.name = "e"
    L = e * x + y
    L.name = "L"
    pv = 1.2 * -0.7; ev = np.exp(pv)
    de = 1.2
    dp = de * ev
    return L, {"L": 1, "e": de, "p": dp, "x": ev + dp * -0.7, "y": 1 + dp * 1.2}
""",
        """\
def my_graph():
    x = bl.Tensor([0.5], requires_grad=True, name="x")
    y = bl.Tensor([-1.5], requires_grad=True, name="y")
    p = x * y
    p.name = "p"
    q = p + x
    q.name = "q"
    L = q * y
    dq = y.data  # the forward values as the tensors hold them: arrays of one number
    dp = dq
    return L, {"q": dq, "p": dp, "x": dp * y.data + dq, "y": q.data + dp * x.data}
""",
    ],
    "04 topo_order": [
        """\
def topo_order(root):
    from collections import deque
    stack = deque([(root, False)])
    seen, order = set(), []
    while stack:
        node, ready = stack.pop()
        if ready:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.inputs if p.requires_grad)
    return order
""",
        """\
def topo_order(root):
    # Kahn's algorithm: count users, then emit nodes whose users are all done, and reverse
    nodes, stack, seen = [], [root], {id(root)}
    while stack:
        node = stack.pop()
        nodes.append(node)
        for p in node.inputs:
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p)); stack.append(p)
    users = {id(n): 0 for n in nodes}
    for n in nodes:
        for p in n.inputs:
            if p.requires_grad:
                users[id(p)] += 1
    ready, out = [root], []
    while ready:
        n = ready.pop()
        out.append(n)
        for p in n.inputs:
            if p.requires_grad:
                users[id(p)] -= 1
                if users[id(p)] == 0:
                    ready.append(p)
    return out[::-1]
""",
        """\
def topo_order(root):
    order, visited = [], set()
    stack = [(root, iter(root.inputs))]
    visited.add(id(root))
    while stack:
        node, it = stack[-1]
        for p in it:
            if p.requires_grad and id(p) not in visited:
                visited.add(id(p))
                stack.append((p, iter(p.inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
""",
        """\
def topo_order(root):
    order, done = [], {}
    stack = [root]
    while stack:
        node = stack[-1]
        if id(node) in done:
            stack.pop()
            continue
        pending = [p for p in node.inputs if p.requires_grad and id(p) not in done]
        if pending:
            stack.extend(reversed(pending))
        else:
            stack.pop()
            done[id(node)] = True
            order.append(node)
    return order
""",
        """\
def topo_order(root):
    visited = set()
    order = []
    stack = [(root, 0)]
    while stack:
        node, state = stack.pop()
        if state == 1:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, 1))
        for p in reversed(node.inputs):
            if p.requires_grad and id(p) not in visited:
                stack.append((p, 0))
    return order
""",
        """\
def topo_order(root):
    # a level order: each node one level above its highest input, nodes sorted by level (the
    # levels come from a post-order, which lists every input before its user)
    post, seen, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            post.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.inputs if p.requires_grad)
    level = {}
    for node in post:
        level[id(node)] = 1 + max((level[id(p)] for p in node.inputs if p.requires_grad), default=0)
    return sorted(post, key=lambda node: level[id(node)])
""",
    ],
    "04 backward_list": [
        """\
def backward_list(nodes, values, local):
    grads = {}
    for name, _, _ in nodes:
        grads[name] = 0.0
    grads[nodes[-1][0]] = 1.0
    for k in range(len(nodes) - 1, -1, -1):
        name, op, inputs = nodes[k]
        if op is not None:
            ds = local[op](*(values[i] for i in inputs))
            for i, d in zip(inputs, ds):
                grads[i] = grads[i] + grads[name] * d
    return grads
""",
        """\
def backward_list(nodes, values, local):
    from collections import defaultdict
    grads = defaultdict(float)
    grads[nodes[-1][0]] = 1.0
    for name, op, inputs in nodes[::-1]:
        if op is None:
            continue
        for i, d in zip(inputs, local[op](*[values[j] for j in inputs])):
            grads[i] += grads[name] * d
    return {name: grads[name] for name, _, _ in nodes}
""",
        """\
def backward_list(nodes, values, local):
    # gather instead of scatter: a node's gradient is the sum over its users
    grads = {}
    for k in range(len(nodes) - 1, -1, -1):
        name = nodes[k][0]
        if k == len(nodes) - 1:
            grads[name] = 1.0
            continue
        total = 0.0
        for user, op, inputs in nodes[k + 1:]:
            if op is None:
                continue
            ds = local[op](*[values[i] for i in inputs])
            for i, d in zip(inputs, ds):
                if i == name:
                    total += d * grads[user]
        grads[name] = total
    return grads
""",
        """\
def backward_list(nodes, values, local):
    grads = dict.fromkeys([n for n, _, _ in nodes], 0)
    grads[nodes[-1][0]] = 1
    for name, op, inputs in reversed(nodes):
        if op:
            derivs = list(local[op](*map(values.__getitem__, inputs)))
            for j in range(len(inputs)):
                grads[inputs[j]] += float(derivs[j]) * grads[name]
    return grads
""",
        """\
def backward_list(nodes, values, local):
    grads = {nodes[-1][0]: np.float64(1.0)}
    for name, op, inputs in reversed(nodes):
        grads.setdefault(name, np.float64(0.0))
        if op is None:
            continue
        for i, d in zip(inputs, local[op](*[values[i] for i in inputs])):
            grads[i] = grads.get(i, 0.0) + d * grads[name]
    return grads
""",
    ],
    "04 softplus_vjp": [
        """\
def softplus_vjp(g, out, x):
    return (g * np.exp(-np.logaddexp(0, -x)),)
""",
        """\
def softplus_vjp(g, out, x):
    return (g * 0.5 * (1 + np.tanh(x / 2)),)
""",
        """\
def softplus_vjp(g, out, x):
    s = np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))
    return (g * s,)
""",
        """\
def softplus_vjp(g, out, x):
    e = np.exp(-np.abs(x))
    return (g * np.where(x > 0, 1 / (1 + e), e / (1 + e)),)
""",
        """\
def softplus_vjp(g, out, x):
    return (g * np.exp(x - out),)  # e^x / (1 + e^x) = e^(x - softplus(x))
""",
        """\
def softplus_vjp(g, out, x):
    with np.errstate(over='ignore'):
        s = 1.0 / (1.0 + np.exp(-x))
    return (np.asarray(g) * s,)
""",
    ],
    "04 gradients": [
        """\
def topo_order(root):
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            for parent in node.inputs:
                if parent.requires_grad:
                    stack.append((parent, False))
    return order

def gradients(root, wrt):
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(topo_order(root)):
        if node.op is None or id(node) not in grads:
            continue
        outs = node.op.vjp(grads[id(node)], node.saved, *[x.data for x in node.inputs], **node.settings)
        for x, d in zip(node.inputs, outs):
            d = d() if callable(d) else d
            if d is None or not x.requires_grad:
                continue
            d = bl.sum_to_shape(np.asarray(d, dtype=x.dtype), x.shape)
            grads[id(x)] = grads[id(x)] + d if id(x) in grads else d
    return [grads.get(id(t), np.zeros_like(t.data)) for t in wrt]
""",
        """\
def unbroadcast(g, shape):
    g = np.asarray(g)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g.reshape(shape)

def gradients(root, wrt):
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(bl.toposort(root)):
        if node.op is None or id(node) not in grads:
            continue
        outs = node.op.vjp(grads[id(node)], node.saved, *[x.data for x in node.inputs], **node.settings)
        for x, d in zip(node.inputs, outs):
            if callable(d):
                d = d()
            if d is None:
                continue
            d = unbroadcast(d, x.shape).astype(x.dtype)
            grads[id(x)] = grads[id(x)] + d if id(x) in grads else d
    return [grads.get(id(t), np.zeros_like(t.data)) for t in wrt]
""",
        """\
def gradients(root, wrt):
    import backproplab as bl
    grads = {id(root): np.ones_like(root.data)}
    for node in bl.toposort(root)[::-1]:
        g = grads.get(id(node))
        if node.op is None or g is None:
            continue
        outs = node.op.vjp(g, node.saved, *[x.data for x in node.inputs], **node.settings)
        for x, d in zip(node.inputs, outs):
            if callable(d):
                d = d()
            if d is None:
                continue
            d = bl.sum_to_shape(np.asarray(d, dtype=x.dtype), x.shape)
            grads[id(x)] = grads[id(x)] + d if id(x) in grads else np.array(d, copy=True)
    return [np.array(grads[id(t)]) if id(t) in grads else np.zeros(t.shape, dtype=t.dtype) for t in wrt]
""",
        """\
def gradients(root, wrt):
    order = bl.toposort(root)
    grads = {}
    grads[id(root)] = np.ones(root.shape)
    for node in order[::-1]:
        if node.op is None:
            continue
        g = grads.get(id(node))
        if g is None:
            continue
        vjps = node.op.vjp(g, node.saved, *(i.data for i in node.inputs), **node.settings)
        for inp, d in zip(node.inputs, vjps):
            if callable(d):
                d = d()
            if d is None:
                continue
            d = bl.sum_to_shape(np.asarray(d, dtype=inp.dtype), inp.shape)
            if id(inp) in grads:
                grads[id(inp)] = grads[id(inp)] + d
            else:
                grads[id(inp)] = d
    out = []
    for t in wrt:
        out.append(grads[id(t)] if id(t) in grads else np.zeros(t.shape))
    return out
""",
        """\
def gradients(root, wrt):
    from collections import defaultdict
    grads = defaultdict(lambda: 0.0)
    grads[id(root)] = np.ones_like(root.data)
    for node in reversed(bl.toposort(root)):
        if node.op is None:
            continue
        down = node.op.vjp(grads[id(node)] * np.ones_like(node.data), node.saved, *[x.data for x in node.inputs], **node.settings)
        for x, d in zip(node.inputs, down):
            d = d() if callable(d) else d
            if d is not None:
                grads[id(x)] = grads[id(x)] + bl.sum_to_shape(np.asarray(d, dtype=x.dtype), x.shape)
    return [np.broadcast_to(np.asarray(grads[id(t)], dtype=t.dtype), t.shape).copy() for t in wrt]
""",
        """\
def gradients(root, wrt):
    grads = {}
    def add(t, g):
        grads[id(t)] = grads[id(t)] + g if id(t) in grads else g
    add(root, np.ones(root.shape, dtype=root.dtype))
    for node in reversed(bl.toposort(root)):
        if node.op is None or id(node) not in grads:
            continue
        parts = node.op.vjp(grads[id(node)], node.saved, *[x.data for x in node.inputs], **node.settings)
        for x, part in zip(node.inputs, parts):
            if callable(part):
                part = part()
            if part is not None:
                add(x, bl.sum_to_shape(np.asarray(part, dtype=x.dtype), x.shape))
    return [grads.get(id(t), np.zeros(t.shape, dtype=t.dtype)).copy() for t in wrt]
""",
        """\
def gradients(root, wrt):
    order = bl.toposort(root)
    position = {id(n): i for i, n in enumerate(order)}
    grads = [None] * len(order)
    grads[-1] = np.ones_like(root.data)
    for i in range(len(order) - 1, -1, -1):
        node = order[i]
        if node.op is None or grads[i] is None:
            continue
        outs = node.op.vjp(grads[i], node.saved, *(x.data for x in node.inputs), **node.settings)
        for x, d in zip(node.inputs, outs):
            d = d() if callable(d) else d
            if d is None or id(x) not in position:
                continue
            d = bl.sum_to_shape(np.asarray(d, dtype=x.dtype), x.shape)
            j = position[id(x)]
            grads[j] = d if grads[j] is None else grads[j] + d
    out = []
    for t in wrt:
        j = position.get(id(t))
        out.append(np.zeros(t.shape) if j is None or grads[j] is None else grads[j])
    return out
""",
    ],
    "05 dL_dX": [
        """\
def dL_dX(G, W):
    return np.dot(G, W)
""",
        """\
def dL_dX(G, W):
    return (W.T @ G.T).T
""",
        """\
def dL_dX(G, W):
    return np.einsum('nm,md->nd', G, W)
""",
        """\
def dL_dX(G, W):
    out = np.zeros((G.shape[0], W.shape[1]))
    for i in range(G.shape[0]):
        for k in range(W.shape[1]):
            out[i, k] = sum(G[i, j] * W[j, k] for j in range(G.shape[1]))
    return out
""",
        """\
def dL_dX(G, W):
    return np.tensordot(G, W, axes=1)
""",
        """\
def dL_dX(G, W):
    return np.matmul(G, W)
""",
    ],
    "05 dL_dW": [
        """\
def dL_dW(X, G):
    return (X.T @ G).T
""",
        """\
def dL_dW(X, G):
    return np.einsum('nm,nd->md', G, X)
""",
        """\
def dL_dW(X, G):
    return sum(np.outer(G[n], X[n]) for n in range(len(X)))
""",
        """\
def dL_dW(X, G):
    return np.dot(G.T, X)
""",
        """\
def dL_dW(X, G):
    return np.tensordot(G, X, axes=(0, 0))
""",
        """\
def dL_dW(X, G):
    out = np.zeros((G.shape[1], X.shape[1]))
    for n in range(X.shape[0]):
        out += G[n][:, None] * X[n][None, :]
    return out
""",
    ],
    "05 dL_db": [
        """\
def dL_db(G):
    return np.sum(G, axis=0)
""",
        """\
def dL_db(G):
    return np.ones(G.shape[0]) @ G
""",
        """\
def dL_db(G):
    return G.T.sum(axis=1)
""",
        """\
def dL_db(G):
    out = np.zeros(G.shape[1])
    for row in G:
        out += row
    return out
""",
        """\
def dL_db(G):
    return np.einsum('nm->m', G)
""",
        """\
def dL_db(G):
    return G.mean(axis=0) * G.shape[0]
""",
    ],
    "05 dL_dW_column": [
        """\
def dL_dW_column(delta, a):
    return np.outer(delta, a)
""",
        """\
def dL_dW_column(delta, a):
    return delta * a.T
""",
        """\
def dL_dW_column(delta, a):
    return (a @ delta.T).T
""",
        """\
def dL_dW_column(delta, a):
    return np.einsum('ik,jk->ij', delta, a)
""",
        """\
def dL_dW_column(delta, a):
    return np.dot(delta, a.T)
""",
        """\
def dL_dW_column(delta, a):
    W = np.empty((delta.shape[0], a.shape[0]))
    for i in range(delta.shape[0]):
        for j in range(a.shape[0]):
            W[i, j] = delta[i, 0] * a[j, 0]
    return W
""",
    ],
    "05 bilinear_grads": [
        """\
def bilinear_grads(U, A, V, g):
    dU = np.einsum('n,ij,nj->ni', g, A, V)
    dA = np.einsum('n,ni,nj->ij', g, U, V)
    dV = np.einsum('n,ni,ij->nj', g, U, A)
    return dU, dA, dV
""",
        """\
def bilinear_grads(U, A, V, g):
    G = g.reshape(-1, 1)
    return (G * V) @ A.T, U.T @ (G * V), (G * U) @ A
""",
        """\
def bilinear_grads(U, A, V, g):
    D = np.diag(g)
    return D @ V @ A.T, U.T @ D @ V, D @ U @ A
""",
        """\
def bilinear_grads(U, A, V, g):
    return [g[:, None] * (A @ V.T).T, (U * g[:, None]).T @ V, ((U * g[:, None]) @ A)]
""",
        """\
def bilinear_grads(U, A, V, g):
    dA = np.tensordot(U * g[:, np.newaxis], V, axes=([0], [0]))
    return np.multiply(g[:, np.newaxis], np.dot(V, A.T)), dA, np.multiply(g[:, np.newaxis], np.dot(U, A))
""",
        """\
def bilinear_grads(U, A, V, g):
    return np.array(g[:, None] * (V @ A.T)), np.einsum('ni,nj,n->ij', U, V, g), g[:, None] * (U @ A)
""",
    ],
    "06 through_relu": [
        """\
def through_relu(dL_dh, z1):
    return dL_dh if np.all(z1 > 0) else dL_dh * (z1 > 0)
""",
        """\
def through_relu(dL_dh, z1):
    return np.where(z1 > 0, dL_dh, 0.0)
""",
        """\
def through_relu(dL_dh, z1):
    out = dL_dh.copy()
    out[z1 <= 0] = 0
    return out
""",
        """\
def through_relu(dL_dh, z1):
    return dL_dh * np.heaviside(z1, 0)
""",
        """\
def through_relu(dL_dh, z1):
    return np.array([g if z > 0 else 0.0 for g, z in zip(dL_dh, z1)])
""",
        """\
def through_relu(dL_dh, z1):
    return dL_dh * (z1 > 0).astype(float)
""",
        """\
def through_relu(dL_dh, z1):
    return (np.sign(z1) > 0) * dL_dh
""",
    ],
    "06 gd_predicted_change": [
        """\
def gd_predicted_change(grads, lr):
    return -lr * sum(np.sum(g * g) for g in grads)
""",
        """\
def gd_predicted_change(grads, lr):
    total = 0.0
    for g in grads:
        total += np.vdot(g, -lr * g)
    return total
""",
        """\
def gd_predicted_change(grads, lr):
    flat = np.concatenate([np.ravel(g) for g in grads])
    return -lr * flat @ flat
""",
        """\
def gd_predicted_change(grads, lr):
    return float(-lr * sum(np.linalg.norm(g) ** 2 for g in grads))
""",
        """\
def gd_predicted_change(grads, lr):
    change = 0
    for g in grads:
        for v in np.ravel(g):
            change += v * (-lr * v)
    return change
""",
        """\
def gd_predicted_change(grads, lr):
    return np.array(-lr * sum((g**2).sum() for g in grads))
""",
    ],
    "06 tiny_net_backward": [
        """\
def tiny_net_backward(X, Y, W1, b1, W2, b2):
    N = X.shape[0]
    Z1 = np.einsum('ni,hi->nh', X, W1) + b1
    H = np.where(Z1 > 0, Z1, 0)
    dY = (2.0 / N) * (np.einsum('nh,oh->no', H, W2) + b2 - Y)
    dZ1 = np.einsum('no,oh->nh', dY, W2) * (Z1 > 0)
    return np.einsum('nh,ni->hi', dZ1, X), dZ1.sum(0), np.einsum('no,nh->oh', dY, H), dY.sum(0)
""",
        """\
def tiny_net_backward(X, Y, W1, b1, W2, b2):
    dW1, db1, dW2, db2 = (np.zeros_like(p, dtype=float) for p in (W1, b1, W2, b2))
    N = len(X)
    for x, y in zip(X, Y):
        z1 = W1 @ x + b1
        h = np.maximum(z1, 0)
        d = 2 * (W2 @ h + b2 - y) / N
        dW2 += np.outer(d, h); db2 += d
        dz1 = (W2.T @ d) * (z1 > 0)
        dW1 += np.outer(dz1, x); db1 += dz1
    return dW1, db1, dW2, db2
""",
        """\
def tiny_net_backward(X, Y, W1, b1, W2, b2):
    Z1 = X @ W1.T + b1
    H = Z1 * (Z1 > 0)
    E = H @ W2.T + b2 - Y
    G = 2 * E / X.shape[0]
    G1 = np.where(Z1 > 0, G @ W2, 0.0)
    return (X.T @ G1).T, np.ones(len(X)) @ G1, (H.T @ G).T, np.ones(len(X)) @ G
""",
        """\
def tiny_net_backward(X, Y, W1, b1, W2, b2):
    Z1 = X @ W1.T + b1
    H = np.maximum(0.0, Z1)
    G = (H @ W2.T + b2 - Y) * (2 / len(X))
    G1 = G @ W2
    G1[Z1 <= 0] = 0
    return [G1.T @ X, G1.sum(axis=0), G.T @ H, G.sum(axis=0)]
""",
        """\
def tiny_net_backward(X, Y, W1, b1, W2, b2):
    N = len(X)
    Z1 = np.dot(X, W1.T) + b1
    on = (Z1 > 0).astype(float)
    H = Z1 * on
    G = np.dot(H, W2.T) + b2 - Y
    G = G * 2 / N
    G1 = np.dot(G, W2) * on
    return tuple(np.asarray(a) for a in (np.dot(G1.T, X), G1.sum(0), np.dot(G.T, H), G.sum(0)))
""",
    ],
    "07 sigmoid_backward": [
        """\
def sigmoid_backward(g, out):
    return g * (out - out**2)
""",
        """\
def sigmoid_backward(g, out):
    return out * (1.0 - out) * g
""",
        """\
def sigmoid_backward(g, out):
    return np.multiply(g, out * (1 - out))
""",
        """\
def sigmoid_backward(g, out):
    return g * out - g * out * out
""",
        """\
def sigmoid_backward(g, out):
    return g * (0.25 - (out - 0.5) ** 2)
""",
        """\
def sigmoid_backward(g, out):
    local = out * (1 - out)
    return (g * local).astype(np.result_type(g, out))
""",
    ],
    "07 leaky_relu_backward": [
        """\
def leaky_relu_backward(g, x, slope):
    return np.where(x > 0, g, slope * g)
""",
        """\
def leaky_relu_backward(g, x, slope):
    return g * ((x > 0) + slope * (x <= 0))
""",
        """\
def leaky_relu_backward(g, x, slope):
    out = g * slope
    out[x > 0] = g[x > 0]
    return out
""",
        """\
def leaky_relu_backward(g, x, slope):
    d = np.full(np.shape(x), float(slope))
    d[x > 0] = 1.0
    return g * d
""",
        """\
def leaky_relu_backward(g, x, slope):
    mask = (x > 0).astype(float)
    return g * (mask + slope * (1 - mask))
""",
        """\
def leaky_relu_backward(g, x, slope):
    return np.array([gi if xi > 0 else slope * gi for gi, xi in zip(np.ravel(g), np.ravel(x))]).reshape(np.shape(x))
""",
    ],
    "07 softmax_jacobian": [
        """\
def softmax_jacobian(a):
    return np.diagflat(a) - a[:, None] * a[None, :]
""",
        """\
def softmax_jacobian(a):
    return np.diag(a) - np.outer(a, a.T)
""",
        """\
def softmax_jacobian(a):
    a = a.reshape(-1, 1)
    return np.diagflat(a) - a @ a.T
""",
        """\
def softmax_jacobian(a):
    K = len(a)
    return a[:, None] * (np.eye(K) - a[None, :])
""",
        """\
def softmax_jacobian(a):
    return np.einsum('i,ij->ij', a, np.eye(a.size) - a)
""",
        """\
def softmax_jacobian(a):
    J = -np.outer(a, a)
    J[np.diag_indices_from(J)] = a * (1 - a)
    return J
""",
    ],
    "07 binary_cross_entropy_grad": [
        """\
def binary_cross_entropy_grad(p, y):
    q = np.clip(p, 1e-15, 1 - 1e-15)
    return (-y / q + (1 - y) / (1 - q)) / len(q)
""",
        """\
def binary_cross_entropy_grad(p, y):
    return (p - y) / (p * (1 - p)) / len(p)
""",
        """\
def binary_cross_entropy_grad(p, y):
    return -(y / p - (1 - y) / (1 - p)) / p.shape[0]
""",
        """\
def binary_cross_entropy_grad(p, y):
    return np.where(y == 1, -1 / p, 1 / (1 - p)) / p.size
""",
        """\
def binary_cross_entropy_grad(p, y):
    N = len(p)
    return np.array([(-yi / pi + (1 - yi) / (1 - pi)) / N for pi, yi in zip(p, y)])
""",
        """\
def binary_cross_entropy_grad(p, y):
    return (1 / len(p)) * (-y / p + (1 - y) / (1 - p))
""",
        """\
def binary_cross_entropy_grad(p, y):
    return np.mean(np.ones_like(p)) * ((1 - y) / (1 - p) - y / p) / np.size(p)
""",
    ],
    "07 gelu_backward": [
        """\
def gelu_backward(g, x):
    from scipy.stats import norm
    return g * (norm.cdf(x) + x * norm.pdf(x))
""",
        """\
import math
def gelu_backward(g, x):
    Phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in np.ravel(x)]).reshape(np.shape(x))
    phi = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return g * (Phi + x * phi)
""",
        """\
import math
erfc = np.vectorize(math.erfc)
def gelu_backward(g, x):
    Phi = 0.5 * erfc(-x / np.sqrt(2))
    return g * (Phi + x * np.exp(-x**2 / 2) / np.sqrt(2 * np.pi))
""",
        """\
import math
def gelu_backward(g, x):
    out = np.empty(np.shape(x))
    for i, v in enumerate(np.ravel(x)):
        out.flat[i] = 0.5 * (1 + math.erf(v / math.sqrt(2))) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)
    return g * out
""",
        """\
import math
import sympy as sp
t = sp.Symbol('t')
_d = sp.lambdify(t, sp.diff(t * (1 + sp.erf(t / sp.sqrt(2))) / 2, t), modules=[{'erf': np.vectorize(math.erf)}, 'numpy'])
def gelu_backward(g, x):
    return g * _d(x)
""",
        """\
import math
erf = np.vectorize(math.erf)
def gelu_backward(g, x):
    return g * (0.5 + 0.5 * erf(x / math.sqrt(2)) + x * np.exp(-x**2 / 2) / math.sqrt(2 * math.pi))
""",
    ],
    "08 softmax_vjp": [
        """\
def softmax_vjp(g, a):
    return a * g - a * np.dot(g, a)
""",
        """\
def softmax_vjp(g, a):
    return a * (g - np.sum(g * a))
""",
        """\
def softmax_vjp(g, a):
    s = 0.0
    for gi, ai in zip(g, a):
        s += gi * ai
    return np.array([aj * (gj - s) for gj, aj in zip(g, a)])
""",
        """\
def softmax_vjp(g, a):
    return (g - a @ g) * a
""",
        """\
def softmax_vjp(g, a):
    return a * g - a * (a * g).sum()
""",
        """\
def softmax_vjp(g, a):
    return np.multiply(a, np.subtract(g, np.inner(g, a)))
""",
    ],
    "08 stable_log_softmax": [
        """\
def stable_log_softmax(z):
    m = np.max(z, axis=1, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
""",
        """\
def stable_log_softmax(z):
    lse = np.logaddexp.reduce(z, axis=-1, keepdims=True)
    return z - lse
""",
        """\
def stable_log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))
""",
        """\
def stable_log_softmax(z):
    rows = []
    for row in z:
        s = row - row.max()
        rows.append(s - np.log(np.sum(np.exp(s))))
    return np.array(rows)
""",
        """\
def stable_log_softmax(z):
    s = z - z.max(axis=-1)[:, None]
    return s - np.log1p(np.exp(s).sum(axis=-1, keepdims=True) - 1)
""",
        """\
def stable_log_softmax(z):
    import math
    out = np.empty_like(z, dtype=float)
    for i in range(z.shape[0]):
        m = max(z[i])
        lse = m + math.log(sum(math.exp(v - m) for v in z[i]))
        out[i] = z[i] - lse
    return out
""",
    ],
    "08 cross_entropy_grad": [
        """\
def cross_entropy_grad(logits, labels):
    s = logits - logits.max(axis=1, keepdims=True)
    a = np.exp(s - np.logaddexp.reduce(s, axis=1, keepdims=True))
    a[np.arange(len(labels)), labels] -= 1
    return a / len(labels)
""",
        """\
def cross_entropy_grad(logits, labels):
    n, k = logits.shape
    y = np.zeros((n, k))
    y[np.arange(n), labels] = 1
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True) - y) / n
""",
        """\
def cross_entropy_grad(logits, labels):
    n, k = logits.shape
    out = np.empty((n, k))
    for i in range(n):
        e = np.exp(logits[i] - logits[i].max())
        out[i] = e / e.sum()
        out[i, labels[i]] -= 1
    return out / n
""",
        """\
def cross_entropy_grad(logits, labels):
    lse = np.max(logits, 1, keepdims=True) + np.log(np.sum(np.exp(logits - np.max(logits, 1, keepdims=True)), 1, keepdims=True))
    a = np.exp(logits - lse)
    onehot = labels[:, None] == np.arange(logits.shape[1])
    return (a - onehot) / logits.shape[0]
""",
        """\
def cross_entropy_grad(logits, labels):
    N = logits.shape[0]
    z = logits - np.max(logits, axis=1)[:, None]
    logp = z - np.log(np.sum(np.exp(z), axis=1))[:, None]
    g = np.exp(logp)
    g[range(N), labels] -= 1.0
    return g * (1.0 / N)
""",
    ],
    "08 label_smoothing_grad": [
        """\
def label_smoothing_grad(logits, labels, eps):
    n, k = logits.shape
    s = logits - logits.max(axis=1, keepdims=True)
    a = np.exp(s - np.log(np.exp(s).sum(axis=1, keepdims=True)))
    y = np.zeros((n, k)); y[np.arange(n), labels] = 1
    return (a - ((1 - eps) * y + eps / k)) / n
""",
        """\
def label_smoothing_grad(logits, labels, eps):
    n, k = logits.shape
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    a = e / e.sum(axis=1, keepdims=True)
    g = a - eps / k
    g[np.arange(n), labels] -= 1 - eps
    return g / n
""",
        """\
def label_smoothing_grad(logits, labels, eps):
    n, k = logits.shape
    q = np.full((n, k), eps / k)
    for i, c in enumerate(labels):
        q[i, c] += 1 - eps
    e = np.exp(logits - logits.max(axis=1)[:, None])
    return (e / e.sum(axis=1)[:, None] - q) / n
""",
        """\
def label_smoothing_grad(logits, labels, eps):
    n, k = logits.shape
    s = logits - logits.max(axis=1, keepdims=True)
    a = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    onehot = np.eye(k)[labels]
    return ((1 - eps) * (a - onehot) + eps * (a - 1 / k)) / n
""",
        """\
def label_smoothing_grad(logits, labels, eps):
    out = []
    k = logits.shape[1]
    for z, c in zip(logits, labels):
        e = np.exp(z - z.max())
        q = np.full(k, eps / k); q[c] += 1 - eps
        out.append(e / e.sum() - q)
    return np.stack(out) / len(out)
""",
    ],
    "09 linear_backward": [
        """\
def linear_backward(delta, A_prev, W):
    return (A_prev.T @ delta).T, np.sum(delta, axis=0), (W.T @ delta.T).T
""",
        """\
def linear_backward(delta, A_prev, W):
    return np.einsum('no,ni->oi', delta, A_prev), np.einsum('no->o', delta), np.einsum('no,oi->ni', delta, W)
""",
        """\
def linear_backward(delta, A_prev, W):
    dW = np.zeros_like(W, dtype=float)
    for d, a in zip(delta, A_prev):
        dW += np.outer(d, a)
    return dW, delta.sum(0), np.dot(delta, W)
""",
        """\
def linear_backward(delta, A_prev, W):
    return [delta.T.dot(A_prev), np.ones(len(delta)) @ delta, delta.dot(W)]
""",
        """\
def linear_backward(delta, A_prev, W):
    dA = np.stack([W.T @ d for d in delta])
    return delta.T @ A_prev, delta.sum(axis=0), dA
""",
    ],
    "09 hidden_delta": [
        """\
def hidden_delta(delta_next, W_next, Z):
    return np.where(Z > 0, delta_next @ W_next, 0.0)
""",
        """\
def hidden_delta(delta_next, W_next, Z):
    return ((W_next.T @ delta_next.T) * (Z.T > 0)).T
""",
        """\
def hidden_delta(delta_next, W_next, Z):
    D = delta_next @ W_next
    D[Z <= 0] = 0
    return D
""",
        """\
def hidden_delta(delta_next, W_next, Z):
    return np.einsum('nk,kj->nj', delta_next, W_next) * np.heaviside(Z, 0.0)
""",
        """\
def hidden_delta(delta_next, W_next, Z):
    return np.array([(W_next.T @ d) * (z > 0) for d, z in zip(delta_next, Z)])
""",
    ],
    "09 sigmoid_hidden_delta": [
        """\
def sigmoid_hidden_delta(delta_out, W2, H):
    return (delta_out @ W2) * (H - H**2)
""",
        """\
def sigmoid_hidden_delta(delta_out, W2, H):
    return ((W2.T @ delta_out.T) * (H * (1 - H)).T).T
""",
        """\
def sigmoid_hidden_delta(delta_out, W2, H):
    return np.einsum('nk,kh->nh', delta_out, W2) * H * (1.0 - H)
""",
        """\
def sigmoid_hidden_delta(delta_out, W2, H):
    return np.array([(W2.T @ d) * h * (1 - h) for d, h in zip(delta_out, H)])
""",
        """\
def sigmoid_hidden_delta(delta_out, W2, H):
    local = H * (1 - H)
    return np.multiply(np.dot(delta_out, W2), local)
""",
    ],
    "09 mlp_backward": [
        """\
def mlp_backward(Ws, bs, X, labels):
    Zs, As = [], [X]
    for l, (W, b) in enumerate(zip(Ws, bs)):
        Z = As[-1] @ W.T + b
        Zs.append(Z)
        if l < len(Ws) - 1:
            As.append(np.maximum(Z, 0))
    Z3 = Zs[-1]
    N = len(X)
    lse = np.logaddexp.reduce(Z3, axis=1, keepdims=True)
    logp = Z3 - lse
    loss = -np.mean(logp[np.arange(N), labels])
    D = np.exp(logp)
    D[np.arange(N), labels] -= 1
    D /= N
    grads = {}
    for l in (3, 2, 1):
        grads[f"D{l}"] = D
        grads[f"W{l}"] = D.T @ As[l - 1]
        grads[f"b{l}"] = D.sum(axis=0)
        if l > 1:
            D = (D @ Ws[l - 1]) * (Zs[l - 2] > 0)
    return loss, grads
""",
        """\
def mlp_backward(Ws, bs, X, labels):
    W1, W2, W3 = Ws
    b1, b2, b3 = bs
    Z1 = X @ W1.T + b1; A1 = np.where(Z1 > 0, Z1, 0)
    Z2 = A1 @ W2.T + b2; A2 = np.where(Z2 > 0, Z2, 0)
    Z3 = A2 @ W3.T + b3
    N, K = Z3.shape
    m = Z3.max(axis=1, keepdims=True)
    e = np.exp(Z3 - m)
    s = e.sum(axis=1, keepdims=True)
    P = e / s
    loss = float(np.mean(m[:, 0] + np.log(s[:, 0]) - Z3[np.arange(N), labels]))
    Y = np.zeros((N, K)); Y[np.arange(N), labels] = 1
    D3 = (P - Y) / N
    D2 = (D3 @ W3) * (Z2 > 0)
    D1 = (D2 @ W2) * (Z1 > 0)
    return loss, dict(D1=D1, D2=D2, D3=D3, W1=D1.T @ X, W2=D2.T @ A1, W3=D3.T @ A2,
                      b1=D1.sum(0), b2=D2.sum(0), b3=D3.sum(0))
""",
        """\
def mlp_backward(Ws, bs, X, labels):
    # one example at a time
    N = len(X)
    grads = {f"{k}{l}": 0 for k in "Wb" for l in (1, 2, 3)}
    Ds = {1: [], 2: [], 3: []}
    loss = 0.0
    for x, c in zip(X, labels):
        z1 = Ws[0] @ x + bs[0]; a1 = np.maximum(z1, 0)
        z2 = Ws[1] @ a1 + bs[1]; a2 = np.maximum(z2, 0)
        z3 = Ws[2] @ a2 + bs[2]
        s = z3 - z3.max()
        logp = s - np.log(np.exp(s).sum())
        loss += -logp[c] / N
        d3 = np.exp(logp); d3[c] -= 1; d3 /= N
        d2 = (Ws[2].T @ d3) * (z2 > 0)
        d1 = (Ws[1].T @ d2) * (z1 > 0)
        for l, d, a in ((3, d3, a2), (2, d2, a1), (1, d1, x)):
            Ds[l].append(d)
            grads[f"W{l}"] = grads[f"W{l}"] + np.outer(d, a)
            grads[f"b{l}"] = grads[f"b{l}"] + d
    for l in (1, 2, 3):
        grads[f"D{l}"] = np.array(Ds[l])
    return loss, grads
""",
        """\
def mlp_backward(Ws, bs, X, labels):
    relu = lambda z: z * (z > 0)
    Z1 = np.einsum('ni,hi->nh', X, Ws[0]) + bs[0]
    Z2 = np.einsum('ni,hi->nh', relu(Z1), Ws[1]) + bs[1]
    Z3 = np.einsum('ni,hi->nh', relu(Z2), Ws[2]) + bs[2]
    N = X.shape[0]
    shift = Z3 - Z3.max(axis=-1, keepdims=True)
    log_sum = np.log(np.sum(np.exp(shift), axis=-1))
    loss = np.mean(log_sum - shift[np.arange(N), labels])
    D3 = np.exp(shift - log_sum[:, None]) - (np.arange(Z3.shape[1]) == labels[:, None])
    D3 = D3 / N
    D2 = np.einsum('nk,kh->nh', D3, Ws[2]) * (Z2 > 0)
    D1 = np.einsum('nk,kh->nh', D2, Ws[1]) * (Z1 > 0)
    out = {"D3": D3, "D2": D2, "D1": D1}
    for l, D, A in ((3, D3, relu(Z2)), (2, D2, relu(Z1)), (1, D1, X)):
        out[f"W{l}"] = np.einsum('nk,ni->ki', D, A)
        out[f"b{l}"] = np.einsum('nk->k', D)
    return loss, out
""",
        """\
def mlp_backward(Ws, bs, X, labels):
    A, cache = X, []
    for W, b in zip(Ws[:-1], bs[:-1]):
        Z = A @ W.T + b
        cache.append((A, Z))
        A = np.maximum(Z, 0)
    logits = A @ Ws[-1].T + bs[-1]
    cache.append((A, logits))
    N = len(labels)
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z); p /= p.sum(1, keepdims=True)
    loss = -np.log(p[range(N), labels] + 0.0).mean() if p[range(N), labels].min() > 1e-300 else -(z[range(N), labels] - np.log(np.exp(z).sum(1))).mean()
    D = p.copy(); D[range(N), labels] -= 1; D /= N
    grads = {}
    for l in range(len(Ws), 0, -1):
        A_prev, Z = cache[l - 1]
        grads[f"D{l}"] = D
        grads[f"W{l}"] = D.T @ A_prev
        grads[f"b{l}"] = D.sum(0)
        if l > 1:
            D = (D @ Ws[l - 1]) * (cache[l - 2][1] > 0)
    return loss, grads
""",
        """\
def mlp_backward(Ws, bs, X, labels):
    Z1 = X @ Ws[0].T + bs[0]; A1 = np.maximum(Z1, 0)
    Z2 = A1 @ Ws[1].T + bs[1]; A2 = np.maximum(Z2, 0)
    Z3 = A2 @ Ws[2].T + bs[2]
    N, K = Z3.shape
    S = Z3 - Z3.max(axis=1, keepdims=True)
    logp = S - np.log(np.exp(S).sum(axis=1, keepdims=True))
    loss = np.array(-logp[np.arange(N), labels].mean())
    D3 = (np.exp(logp) - np.eye(K)[labels]) / N
    D2 = (D3 @ Ws[2]) * (Z2 > 0)
    D1 = (D2 @ Ws[1]) * (Z1 > 0)
    grads = {"Z1": Z1, "Z2": Z2, "Z3": Z3, "A1": A1, "A2": A2,
             "D3": D3, "D2": D2, "D1": D1,
             "W3": D3.T @ A2, "W2": D2.T @ A1, "W1": D1.T @ X,
             "b3": D3.sum(0), "b2": D2.sum(0), "b1": D1.sum(0)}
    return loss, grads
""",
    ],
    "09 replay": [
        """\
def replay(order, inputs, values):
    for i in range(len(inputs)):
        inputs[i].data = values[i]
    for node in order:
        if node.op is None:
            continue
        new, saved = node.op.run([x.data for x in node.inputs], node.settings)
        node.data = new
        node.saved = saved
    return order[-1]
""",
        """\
def replay(order, inputs, values):
    for t, v in zip(inputs, values):
        t.data = np.asarray(v)
    for node in (n for n in order if n.op is not None):
        node.data, node.saved = node.op.run([p.data for p in node.inputs], dict(node.settings))
    return order[len(order) - 1]
""",
        """\
def replay(order, inputs, values):
    new = dict(zip(map(id, inputs), values))
    for t in inputs:
        t.data = new[id(t)]
    for node in order:
        if node.op is not None:
            arrays = [x.data for x in node.inputs]
            node.data, node.saved = node.op.run(arrays, node.settings)
    loss = order[-1]
    return loss
""",
        """\
def replay(order, inputs, values):
    for t, v in zip(inputs, values):
        t.data = v.copy()
    for node in order:
        if node.op:
            result = node.op.run(list(x.data for x in node.inputs), node.settings)
            node.data, node.saved = result[0], result[1]
    return order[-1]
""",
        """\
def replay(order, inputs, values):
    for t, v in zip(inputs, values):
        t.data = v
    last = None
    for node in order:
        if node.op is not None:
            node.data, node.saved = node.op.run([x.data for x in node.inputs], node.settings)
        last = node
    return last
""",
    ],
    "10 input_gradient": [
        """\
def input_gradient(x, weights, g):
    acts = [x]
    for W in weights:
        acts.append(np.maximum(acts[-1] @ W.T, 0))
    for W, a in zip(weights[::-1], acts[:0:-1]):
        g = (g * (a > 0)) @ W
    return g
""",
        """\
def input_gradient(x, weights, g):
    zs, a = [], x
    for W in weights:
        z = np.einsum('ni,oi->no', a, W)
        zs.append(z)
        a = np.where(z > 0, z, 0)
    for i in range(len(weights) - 1, -1, -1):
        g = np.einsum('no,oi->ni', g * (zs[i] > 0), weights[i])
    return g
""",
        """\
def input_gradient(x, weights, g):
    zs, a = [], x.T  # column form
    for W in weights:
        z = W @ a
        zs.append(z)
        a = np.maximum(z, 0)
    gc = g.T
    for W, z in zip(reversed(weights), reversed(zs)):
        gc = W.T @ (gc * (z > 0))
    return gc.T
""",
        """\
def input_gradient(x, weights, g):
    out = np.zeros_like(x, dtype=float)
    for n in range(len(x)):
        zs, a = [], x[n]
        for W in weights:
            zs.append(W @ a); a = np.maximum(zs[-1], 0)
        d = g[n]
        for W, z in zip(weights[::-1], zs[::-1]):
            d = W.T @ (d * (z > 0))
        out[n] = d
    return out
""",
        """\
def input_gradient(x, weights, g):
    masks, a = [], x
    for W in weights:
        z = a @ W.T
        masks.append(z > 0)
        a = z * masks[-1]
    for W, m in zip(reversed(weights), reversed(masks)):
        g = np.where(m, g, 0) @ W
    return g
""",
    ],
    "10 init_std": [
        """\
def init_std(n_in, n_out, activation):
    return (2 / n_in) ** 0.5 if activation == 'relu' else (1 / n_in) ** 0.5
""",
        """\
def init_std(n_in, n_out, activation):
    import math
    return math.sqrt({'relu': 2.0, 'linear': 1.0}[activation] / n_in)
""",
        """\
def init_std(n_in, n_out, activation):
    s = 1 / np.sqrt(n_in)
    if activation == 'relu':
        s *= np.sqrt(2)
    return s
""",
        """\
def init_std(n_in, n_out, activation):
    return np.float32(np.sqrt((1 + (activation == 'relu')) / n_in))
""",
        """\
def init_std(n_in, n_out, activation):
    return np.array(np.sqrt(2.0 / n_in) if activation.lower() == 'relu' else np.sqrt(1.0 / n_in))
""",
    ],
    "10 dead_fraction": [
        """\
def dead_fraction(a):
    return np.mean(~a.any(axis=0))
""",
        """\
def dead_fraction(a):
    return (a.max(axis=0) == 0).sum() / a.shape[1]
""",
        """\
def dead_fraction(a):
    dead = 0
    for j in range(a.shape[1]):
        if all(v == 0 for v in a[:, j]):
            dead += 1
    return dead / a.shape[1]
""",
        """\
def dead_fraction(a):
    return float(np.count_nonzero(np.abs(a).sum(axis=0) == 0)) / a.shape[1]
""",
        """\
def dead_fraction(a):
    return np.sum(np.all(a <= 0, axis=0)) / np.shape(a)[1]
""",
        """\
def dead_fraction(a):
    return 1 - np.count_nonzero(a.any(axis=0)) / a.shape[1]
""",
        """\
def dead_fraction(a):
    from fractions import Fraction
    return Fraction(int(np.sum(~a.any(axis=0))), a.shape[1])
""",
    ],
    "10 my_std": [
        """\
def my_std():
    return np.sqrt(2 / 48)
""",
        """\
def my_std():
    return 0.2
""",
        """\
def my_std():
    return np.float32(0.204)
""",
        """\
def my_std():
    return (2 / 48) ** 0.5
""",
        """\
def my_std():
    return np.array(0.2)
""",
    ],
    "11 residual_block": [
        """\
def residual_block(x, W, b):
    return (x @ W.T + b).relu() + x
""",
        """\
def residual_block(x, W, b):
    z = x @ W.transpose() + b
    return x + z.relu()
""",
        """\
def residual_block(x, W, b):
    z = (W @ x.T).T + b
    return x + z.relu()
""",
        """\
def residual_block(x, W, b):
    import backproplab as bl
    return x + bl.relu(x @ W.T + b)
""",
        """\
def residual_block(x, W, b):
    z = x @ W.T + b
    return x + z * (z.data > 0)
""",
        """\
def residual_block(x, W, b):
    z = x @ W.T + b
    return x + bl.where(z.data > 0, z, 0.0 * z)
""",
    ],
    "11 residual_vjp": [
        """\
def residual_vjp(g, J_F):
    return g + g @ J_F if J_F.any() else g
""",
        """\
def residual_vjp(g, J_F):
    return (J_F.T @ g) + g
""",
        """\
def residual_vjp(g, J_F):
    return g @ (J_F + np.eye(len(g)))
""",
        """\
def residual_vjp(g, J_F):
    return np.einsum('i,ij->j', g, J_F) + g
""",
        """\
def residual_vjp(g, J_F):
    out = g.copy()
    for i in range(len(g)):
        out += g[i] * J_F[i]
    return out
""",
        """\
def residual_vjp(g, J_F):
    return np.dot(g, J_F + np.identity(J_F.shape[0]))
""",
    ],
    "11 stack_input_gradient": [
        """\
def stack_input_gradient(g, jacobians, residual):
    I = np.eye(len(g))
    for J in jacobians[::-1]:
        g = g @ (J + I) if residual else g @ J
    return g
""",
        """\
def stack_input_gradient(g, jacobians, residual):
    M = np.eye(len(g))
    for J in jacobians:  # x_k depends on x_0 through J_k ... J_1
        M = (J + np.eye(len(g)) * residual) @ M
    return g @ M
""",
        """\
def stack_input_gradient(g, jacobians, residual):
    for l in range(len(jacobians), 0, -1):
        J = jacobians[l - 1]
        g = J.T @ g + (g if residual else 0)
    return g
""",
        """\
def stack_input_gradient(g, jacobians, residual):
    from functools import reduce
    return reduce(lambda acc, J: acc @ J + residual * acc, reversed(jacobians), g)
""",
        """\
def stack_input_gradient(g, jacobians, residual):
    out = np.array(g, dtype=float)
    for J in reversed(list(jacobians)):
        new = np.einsum('i,ij->j', out, J)
        if residual:
            new = new + out
        out = new
    return out
""",
    ],
    "11 block_gradient_norms": [
        """\
def block_gradient_norms(model, X, y):
    outs = []
    h = bl.Tensor(X)
    for layer in model:
        h = layer(h)
        outs.append(h)
    bl.cross_entropy(h, y).backward()
    return [float(np.sqrt((t.grad ** 2).sum())) for t in outs[1:-1]]
""",
        """\
def block_gradient_norms(model, X, y):
    layers = list(model)
    h = bl.Tensor(X)
    keep = []
    for i, layer in enumerate(layers):
        h = layer(h)
        if 1 <= i < len(layers) - 1:
            keep.append(h)
    loss = bl.cross_entropy(h, y)
    loss.backward()
    model.zero_grad()
    return np.array([np.linalg.norm(t.grad.ravel()) for t in keep])
""",
        """\
def block_gradient_norms(model, X, y):
    layers = list(model)
    h = layers[1](layers[0](bl.Tensor(X)))
    xs = [h]
    for layer in layers[2:-1]:
        h = layer(h)
        xs.append(h)
    bl.cross_entropy(layers[-1](h), y).backward()
    return np.linalg.norm(np.stack([t.grad.reshape(-1) for t in xs]), axis=1)
""",
        """\
def block_gradient_norms(model, X, y):
    outputs, h = [], bl.Tensor(X)
    for layer in model:
        h = layer(h)
        outputs.append(h)
    bl.cross_entropy(h, y).backward()
    return tuple(np.linalg.norm(t.grad) for t in outputs[1:len(outputs) - 1])
""",
        """\
def block_gradient_norms(model, X, y):
    h = bl.Tensor(X, requires_grad=True)
    outputs = []
    for layer in model:
        h = layer(h)
        outputs.append(h)
    bl.cross_entropy(h, y).backward()
    model.zero_grad()
    return np.array([np.sqrt(np.sum(np.square(t.grad))) for t in outputs[1:-1]])
""",
    ],
    "12 silu_vjp": [
        """\
def silu_vjp(g, out, x):
    s = 0.5 * (1 + np.tanh(x / 2))
    return (g * s * (1 + x * (1 - s)),)
""",
        """\
def silu_vjp(g, out, x):
    s = 1 / (1 + np.exp(-x))
    return (g * (s + out * (1 - s)),)
""",
        """\
def silu_vjp(g, out, x):
    s = np.exp(-np.logaddexp(0, -x))
    return (g * (s + x * s * (1 - s)),)
""",
        """\
def silu_vjp(g, out, x):
    e = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return (g * (s + x * s * (1 - s)),)
""",
        """\
def silu_vjp(g, out, x):
    s = 1 / (1 + np.exp(-x))
    return tuple([g * (s * (1 + x - x * s))])
""",
        """\
def silu_vjp(g, out, x):
    s = 1 / (1 + np.exp(-x))
    return (g * (out + s * (1 - out)),)
""",
    ],
    "12 adam_step": [
        """\
def adam_step(p, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = m + (1 - beta1) * (g - m)
    v = v + (1 - beta2) * (g * g - v)
    step = lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return p - step, m, v
""",
        """\
def adam_step(p, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * np.square(g)
    alpha = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return p - alpha * m_new / (np.sqrt(v_new) + eps_hat), m_new, v_new
""",
        """\
def adam_step(p, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    p, m, v = p.copy(), m.copy(), v.copy()
    m *= beta1; m += (1 - beta1) * g
    v *= beta2; v += (1 - beta2) * g**2
    p -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return p, m, v
""",
        """\
def adam_step(p, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return [p - lr * m_hat / (v_hat**0.5 + eps), m, v]
""",
        """\
def adam_step(p, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    new_p, new_m, new_v = np.empty_like(p), np.empty_like(m), np.empty_like(v)
    for i in np.ndindex(np.shape(p)):
        new_m[i] = beta1 * m[i] + (1 - beta1) * g[i]
        new_v[i] = beta2 * v[i] + (1 - beta2) * g[i] ** 2
        new_p[i] = p[i] - lr * (new_m[i] / (1 - beta1**t)) / ((new_v[i] / (1 - beta2**t)) ** 0.5 + eps)
    return new_p, new_m, new_v
""",
    ],
    "13 batch_norm_backward": [
        """\
def batch_norm_backward(g, x, gamma, eps):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    dxhat = g * gamma
    N = len(x)
    dvar = np.sum(dxhat * (x - mu) * -0.5 * (var + eps) ** -1.5, axis=0)
    dmu = np.sum(-dxhat / np.sqrt(var + eps), axis=0) + dvar * np.mean(-2 * (x - mu), axis=0)
    dx = dxhat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / N + dmu / N
    return [dx, np.sum(g * x_hat, axis=0), np.sum(g, axis=0)]
""",
        """\
def batch_norm_backward(g, x, gamma, eps):
    N = x.shape[0]
    mu = x.mean(0)
    var = x.var(0)
    inv = 1 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv
    dx_hat = g * gamma
    dx = inv / N * (N * dx_hat - dx_hat.sum(0) - x_hat * (dx_hat * x_hat).sum(0))
    return dx, (g * x_hat).sum(0), g.sum(0)
""",
        """\
def batch_norm_backward(g, x, gamma, eps):
    # the graph of primitives, backward step by step
    N = x.shape[0]
    mu = x.mean(axis=0)
    c = x - mu
    v = (c ** 2).mean(axis=0)
    sigma = np.sqrt(v + eps)
    x_hat = c / sigma
    dx_hat = g * gamma
    dsigma = -(dx_hat * c).sum(axis=0) / sigma**2
    dv = dsigma / (2 * sigma)
    dc = dx_hat / sigma + dv * 2 * c / N
    dmu = -dc.sum(axis=0)
    dx = dc + dmu / N
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)
""",
        """\
def batch_norm_backward(g, x, gamma, eps):
    mu = np.mean(x, axis=0, keepdims=True)
    sigma = np.sqrt(np.mean((x - mu) ** 2, axis=0, keepdims=True) + eps)
    x_hat = (x - mu) / sigma
    dgamma = np.sum(g * x_hat, axis=0)
    dbeta = np.sum(g, axis=0)
    dx = (gamma / sigma) * (g - dbeta / len(x) - x_hat * dgamma / len(x))
    return dx, dgamma, dbeta
""",
        """\
def batch_norm_backward(g, x, gamma, eps):
    N, D = x.shape
    dx = np.empty((N, D)); dgamma = np.empty(D); dbeta = np.empty(D)
    for j in range(D):
        col = x[:, j]
        mu = col.mean(); s = np.sqrt(((col - mu) ** 2).mean() + eps)
        xh = (col - mu) / s
        gj = g[:, j]
        dgamma[j] = (gj * xh).sum(); dbeta[j] = gj.sum()
        dx[:, j] = gamma[j] / s * (gj - gj.mean() - xh * (gj * xh).mean())
    return dx, dgamma, dbeta
""",
        """\
def batch_norm_backward(g, x, gamma, eps):
    mu = x.mean(axis=0)
    c = x - mu
    sigma = np.sqrt(np.einsum('nd,nd->d', c, c) / len(x) + eps)
    x_hat = c / sigma
    gm = g - g.mean(axis=0)
    dx = gamma * (gm / sigma - c * (g * c).mean(axis=0) / sigma**3)
    return dx, np.einsum('nd,nd->d', g, x_hat), np.einsum('nd->d', g)
""",
    ],
    "13 layer_norm_backward": [
        """\
def layer_norm_backward(g, x, gamma, eps):
    return tuple(np.array(a) for a in _ln(g, x, gamma, eps))
def _ln(g, x, gamma, eps):
    D = x.shape[1]
    mu = x.mean(1, keepdims=True)
    inv = 1 / np.sqrt(x.var(1, keepdims=True) + eps)
    x_hat = (x - mu) * inv
    gh = g * gamma
    dx = inv / D * (D * gh - gh.sum(1, keepdims=True) - x_hat * (gh * x_hat).sum(1, keepdims=True))
    return dx, (g * x_hat).sum(0), g.sum(0)
""",
        """\
def layer_norm_backward(g, x, gamma, eps):
    # batch norm's formula on the transpose, with gamma moved inside
    xt, gt = x.T, (g * gamma).T
    mu = xt.mean(axis=0)
    sigma = np.sqrt(((xt - mu) ** 2).mean(axis=0) + eps)
    xh = (xt - mu) / sigma
    dxt = (gt - gt.mean(axis=0) - xh * (gt * xh).mean(axis=0)) / sigma
    return dxt.T, (g * xh.T).sum(axis=0), g.sum(axis=0)
""",
        """\
def layer_norm_backward(g, x, gamma, eps):
    N, D = x.shape
    dx = np.empty_like(x, dtype=float)
    x_hat = np.empty_like(x, dtype=float)
    for n in range(N):
        mu = x[n].mean(); s = np.sqrt(((x[n] - mu) ** 2).mean() + eps)
        x_hat[n] = (x[n] - mu) / s
        gh = g[n] * gamma
        dx[n] = (gh - gh.mean() - x_hat[n] * (gh * x_hat[n]).mean()) / s
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)
""",
        """\
def layer_norm_backward(g, x, gamma, eps):
    D = x.shape[-1]
    mu = x.mean(axis=-1, keepdims=True)
    c = x - mu
    v = (c ** 2).mean(axis=-1, keepdims=True)
    sigma = np.sqrt(v + eps)
    x_hat = c / sigma
    dxh = g * gamma
    dsigma = -(dxh * c).sum(axis=-1, keepdims=True) / sigma**2
    dc = dxh / sigma + dsigma / (2 * sigma) * 2 * c / D
    dx = dc - dc.mean(axis=-1, keepdims=True)
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)
""",
        """\
def layer_norm_backward(g, x, gamma, eps):
    mu = x.mean(axis=1)[:, None]
    sigma = np.sqrt(np.square(x - mu).mean(axis=1)[:, None] + eps)
    x_hat = (x - mu) / sigma
    D = x.shape[1]
    J_terms = g * gamma
    dx = (1.0 / (D * sigma)) * (D * J_terms - J_terms.sum(axis=1)[:, None] - x_hat * np.einsum('nd,nd->n', J_terms, x_hat)[:, None])
    return dx, np.einsum('nd,nd->d', g, x_hat), g.sum(axis=0)
""",
    ],
    "13 batch_norm_eval_backward": [
        """\
def batch_norm_eval_backward(g, x, gamma, running_mean, running_var, eps):
    std = np.sqrt(running_var + eps)
    return g * gamma / std, (g * (x - running_mean) / std).sum(axis=0), g.sum(axis=0)
""",
        """\
def batch_norm_eval_backward(g, x, gamma, running_mean, running_var, eps):
    scale = gamma / np.sqrt(running_var + eps)
    x_hat = (x - running_mean) / np.sqrt(running_var + eps)
    return scale * g, np.einsum('nd,nd->d', g, x_hat), np.einsum('nd->d', g)
""",
        """\
def batch_norm_eval_backward(g, x, gamma, running_mean, running_var, eps):
    N, D = x.shape
    dx = np.empty_like(x); dgamma = np.zeros_like(gamma); dbeta = np.zeros_like(gamma)
    for n in range(N):
        for d in range(D):
            s = np.sqrt(running_var[d] + eps)
            dx[n, d] = g[n, d] * gamma[d] / s
            dgamma[d] += g[n, d] * (x[n, d] - running_mean[d]) / s
            dbeta[d] += g[n, d]
    return dx, dgamma, dbeta
""",
        """\
def batch_norm_eval_backward(g, x, gamma, running_mean, running_var, eps):
    dt = x.dtype
    g64, x64 = g.astype(np.float64), x.astype(np.float64)
    inv = 1 / np.sqrt(running_var.astype(np.float64) + eps)
    x_hat = (x64 - running_mean) * inv
    out = gamma * inv * g64, (g64 * x_hat).sum(axis=0), g64.sum(axis=0)
    return tuple(a.astype(dt) for a in out)
""",
        """\
def batch_norm_eval_backward(g, x, gamma, running_mean, running_var, eps):
    inv_std = (running_var + eps) ** -0.5
    x_hat = (x - running_mean) * inv_std
    return [g * (gamma * inv_std), np.sum(g * x_hat, axis=0), np.sum(g, axis=0)]
""",
    ],
    "13 fold_batch_norm": [
        """\
def fold_batch_norm(linear, bn):
    s = bn.weight.data / np.sqrt(bn.running_var + bn.eps)
    return np.diag(s) @ linear.weight.data, s * linear.bias.data + bn.bias.data - s * bn.running_mean
""",
        """\
def fold_batch_norm(linear, bn):
    std = np.sqrt(bn.running_var + bn.eps)
    W = linear.weight.data * (bn.weight.data / std)[:, np.newaxis]
    b = (linear.bias.data - bn.running_mean) / std * bn.weight.data + bn.bias.data
    return W, b
""",
        """\
def fold_batch_norm(linear, bn):
    W = linear.weight.data.copy()
    b = linear.bias.data.copy()
    for o in range(W.shape[0]):
        s = bn.weight.data[o] / np.sqrt(bn.running_var[o] + bn.eps)
        W[o] *= s
        b[o] = s * (b[o] - bn.running_mean[o]) + bn.bias.data[o]
    return W, b
""",
        """\
def fold_batch_norm(linear, bn):
    s = bn.weight.data / np.sqrt(bn.running_var + bn.eps)
    return (linear.weight.data.T * s).T, bn.bias.data + s * (linear.bias.data - bn.running_mean)
""",
        """\
def fold_batch_norm(linear, bn):
    s = bn.weight.data * (bn.running_var + bn.eps) ** -0.5
    W = np.einsum('o,oi->oi', s, linear.weight.data)
    b = np.einsum('o,o->o', s, linear.bias.data - bn.running_mean) + bn.bias.data
    return [W, b]
""",
    ],
    "14 conv2d_weight_grad": [
        """\
def conv2d_weight_grad(x, g, kernel_size, padding=0):
    k = kernel_size
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    N, O, OH, OW = g.shape
    dW = np.zeros((O, x.shape[1], k, k))
    for i in range(k):
        for j in range(k):
            dW[:, :, i, j] = np.einsum('nopq,ncpq->oc', g, xp[:, :, i:i + OH, j:j + OW])
    return dW
""",
        """\
def conv2d_weight_grad(x, g, kernel_size, padding=0):
    from numpy.lib.stride_tricks import sliding_window_view
    xp = np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2))
    win = sliding_window_view(xp, (kernel_size, kernel_size), axis=(2, 3))
    return np.einsum('ncpqij,nopq->ocij', win, g)
""",
        """\
def conv2d_weight_grad(x, g, kernel_size, padding=0):
    cols = im2col(x, kernel_size, 1, padding)
    G = np.moveaxis(g, 1, -1).reshape(cols.shape[0], -1)
    return (cols.T @ G).T.reshape(g.shape[1], x.shape[1], kernel_size, kernel_size)
""",
        """\
def conv2d_weight_grad(x, g, kernel_size, padding=0):
    k, P = kernel_size, padding
    N, C, H, W = x.shape
    _, O, OH, OW = g.shape
    xp = np.zeros((N, C, H + 2 * P, W + 2 * P))
    xp[:, :, P:P + H, P:P + W] = x
    dW = np.zeros((O, C, k, k))
    for n in range(N):
        for o in range(O):
            for p in range(OH):
                for q in range(OW):
                    dW[o] += g[n, o, p, q] * xp[n, :, p:p + k, q:q + k]
    return dW
""",
        """\
def conv2d_weight_grad(x, g, kernel_size, padding=0):
    cols = im2col(x, kernel_size, 1, padding)
    G = g.transpose(0, 2, 3, 1).reshape(-1, g.shape[1])
    return np.tensordot(G, cols, axes=(0, 0)).reshape(g.shape[1], x.shape[1], kernel_size, kernel_size)
""",
    ],
    "14 conv2d_input_grad": [
        """\
def conv2d_input_grad(g, weight, padding=0):
    N, O, OH, OW = g.shape
    _, C, kh, kw = weight.shape
    H, W = OH + kh - 1 - 2 * padding, OW + kw - 1 - 2 * padding
    dxp = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + OH, j:j + OW] += np.einsum('nopq,oc->ncpq', g, weight[:, :, i, j])
    return dxp[:, :, padding:padding + H, padding:padding + W]
""",
        """\
def conv2d_input_grad(g, weight, padding=0):
    # the full correlation with the flipped kernel, then the padding cut off
    from numpy.lib.stride_tricks import sliding_window_view
    _, _, kh, kw = weight.shape
    gp = np.pad(g, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    win = sliding_window_view(gp, (kh, kw), axis=(2, 3))
    full = np.einsum('nopqij,ocij->ncpq', win, weight[:, :, ::-1, ::-1])
    H, W = full.shape[2] - 2 * padding, full.shape[3] - 2 * padding
    return full[:, :, padding:padding + H, padding:padding + W]
""",
        """\
def conv2d_input_grad(g, weight, padding=0):
    n, o, oh, ow = g.shape
    _, c, kh, kw = weight.shape
    G = np.moveaxis(g, 1, 3).reshape(-1, o)
    dcols = np.einsum('ro,ok->rk', G, weight.reshape(o, -1))
    return col2im(dcols, (n, c, oh + kh - 1 - 2 * padding, ow + kw - 1 - 2 * padding), (kh, kw), 1, padding)
""",
        """\
def conv2d_input_grad(g, weight, padding=0):
    N, O, OH, OW = g.shape
    _, C, kh, kw = weight.shape
    P = padding
    dxp = np.zeros((N, C, OH + kh - 1, OW + kw - 1))
    for n in range(N):
        for o in range(O):
            for p in range(OH):
                for q in range(OW):
                    dxp[n, :, p:p + kh, q:q + kw] += g[n, o, p, q] * weight[o]
    return dxp[:, :, P:dxp.shape[2] - P, P:dxp.shape[3] - P]
""",
        """\
def conv2d_input_grad(g, weight, padding=0):
    n_batch, n_out, oh, ow = g.shape
    _, n_in, kh, kw = weight.shape
    x_shape = (n_batch, n_in, oh + kh - 1 - 2 * padding, ow + kw - 1 - 2 * padding)
    G = g.transpose(0, 2, 3, 1).reshape(-1, n_out)
    dcols = (weight.reshape(n_out, -1).T @ G.T).T
    return col2im(dcols, x_shape, (kh, kw), 1, padding)
""",
    ],
    "14 max_pool2d_backward": [
        """\
def max_pool2d_backward(g, x, kernel_size):
    k = kernel_size
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // k, k, w // k, k)
    is_max = (win == win.max(axis=(3, 5), keepdims=True))
    # ties: the last of them in reading order gets it all (as a loop with >= would)
    dx = np.zeros_like(win)
    for i in range(k):
        for j in range(k):
            later = np.zeros_like(is_max[:, :, :, 0, :, 0])
            for i2 in range(k):
                for j2 in range(k):
                    if (i2, j2) > (i, j):
                        later |= is_max[:, :, :, i2, :, j2]
            dx[:, :, :, i, :, j] = g * (is_max[:, :, :, i, :, j] & ~later)
    return dx.reshape(x.shape)
""",
        """\
def max_pool2d_backward(g, x, kernel_size):
    k = kernel_size
    dx = np.zeros_like(x, dtype=float)
    N, C, H, W = x.shape
    for n in range(N):
        for c in range(C):
            for i in range(H // k):
                for j in range(W // k):
                    win = x[n, c, i*k:(i+1)*k, j*k:(j+1)*k]
                    a, b = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i*k + a, j*k + b] += g[n, c, i, j]
    return dx
""",
        """\
def max_pool2d_backward(g, x, kernel_size):
    k = kernel_size
    up = np.repeat(np.repeat(g, k, axis=2), k, axis=3)
    n, c, h, w = x.shape
    m = x.reshape(n, c, h // k, k, w // k, k).max(axis=(3, 5))
    mask = x == np.repeat(np.repeat(m, k, axis=2), k, axis=3)
    count = np.repeat(np.repeat(mask.reshape(n, c, h // k, k, w // k, k).sum(axis=(3, 5)), k, axis=2), k, axis=3)
    return up * mask / count
""",
        """\
def max_pool2d_backward(g, x, kernel_size):
    k = kernel_size
    n, c, h, w = x.shape
    cols = im2col(x.reshape(n * c, 1, h, w), k, k, 0)  # one row per window
    onehot = np.zeros_like(cols)
    onehot[np.arange(len(cols)), cols.argmax(axis=1)] = 1
    dcols = onehot * g.reshape(n * c, -1).reshape(-1, 1)
    return col2im(dcols, (n * c, 1, h, w), (k, k), k, 0).reshape(x.shape)
""",
        """\
def max_pool2d_backward(g, x, kernel_size):
    k = kernel_size
    dx = np.zeros(x.shape)
    N, C, H, W = x.shape
    for a in range(k):
        for b in range(k):
            pass
    windows = x.reshape(N, C, H // k, k, W // k, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // k, W // k, k * k)
    first = windows.argmax(axis=-1)
    onehot = (np.arange(k * k) == first[..., None]) * g[..., None]
    return onehot.reshape(N, C, H // k, W // k, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)
""",
        """\
def max_pool2d_backward(g, x, kernel_size):
    k = kernel_size
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // k, k, w // k, k)
    is_max = win == win.max(axis=(3, 5), keepdims=True)
    # ties: all of g to each tied entry would double count; take the last one in reading order
    flat = is_max.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // k, w // k, k * k)
    last = k * k - 1 - flat[..., ::-1].argmax(axis=-1)
    onehot = (np.arange(k * k) == last[..., None]) * g[..., None]
    return onehot.reshape(n, c, h // k, w // k, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)
""",
        """\
def max_pool2d_backward(g, x, kernel_size):
    k = kernel_size
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // k, k, w // k, k).astype(np.float64)
    is_max = (windows == windows.max(axis=(3, 5), keepdims=True)).astype(np.float64)
    is_max /= is_max.sum(axis=(3, 5), keepdims=True)
    return np.einsum('ncpiqj,ncpq->ncpiqj', is_max, g).reshape(x.shape)
""",
    ],
    "12 train_digits": [
        """\
def train_digits(X, y):
    class Softsign(nn.Module):
        def forward(self, x):
            return x / (1 + x.abs())  # built from the engine's rows: no vjp of my own to get wrong
    model = nn.MLP([64, 64, 10], activation=Softsign, rng=0)
    optimizer = bl.optim.SGD(model.parameters(), lr=0.1)
    batches = np.random.default_rng(0)
    for _ in range(10):
        order = batches.permutation(len(X))
        for start in range(0, len(X), 64):
            rows = order[start:start + 64]
            optimizer.zero_grad()
            bl.cross_entropy(model(bl.Tensor(X[rows])), y[rows]).backward()
            optimizer.step()
    return model
""",
        """\
def train_digits(X, y):
    def vjp(g, out, x):
        return (g / (1 + np.abs(x)) ** 2,)
    op = bl.Op("softsign", lambda x: x / (1 + np.abs(x)), vjp)
    class S(nn.Module):
        def forward(self, x):
            return bl.apply(op, x)
    model = nn.MLP([64, 64, 10], activation=S, rng=0)
    opt = bl.optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(1)
    for _ in range(10):
        order = rng.permutation(len(X))
        for s in range(0, len(X), 64):
            rows = order[s:s + 64]
            opt.zero_grad()
            bl.cross_entropy(model(bl.Tensor(X[rows])), y[rows]).backward()
            opt.step()
    return model
""",
        """\
def train_digits(X, y):
    op = bl.Op("softsign", lambda x: x / (1 + np.abs(x)), lambda g, out, x: (g / (1 + np.abs(x)) ** 2,))
    class Softsign(nn.Module):
        def forward(self, x):
            return bl.apply(op, x)
    model = nn.MLP([64, 64, 10], activation=Softsign, rng=0)
    optimizer = bl.optim.SGD(model.parameters(), lr=0.1)
    batches = np.random.default_rng(0)
    for _ in range(10):
        order = batches.permutation(len(X))
        for start in range(0, len(X), 64):
            rows = order[start:start + 64]
            optimizer.zero_grad()
            bl.cross_entropy(model(bl.Tensor(X[rows])), y[rows]).backward()
            optimizer.step()
    return model
""",
        """\
def train_digits(X, y):
    def forward(x):
        return x / (1 + np.abs(x))
    def vjp(g, out, x):
        d = 1 + np.abs(x)
        return (g / (d * d),)
    op = bl.Op("softsign", forward, vjp)
    class Softsign(nn.Module):
        def forward(self, x):
            return bl.apply(op, x)
    model = nn.Sequential(nn.Linear(64, 64, rng=0), Softsign(), nn.Linear(64, 10, rng=1))
    optimizer = bl.optim.SGD(model.parameters(), lr=0.2)
    for epoch in range(10):
        for start in range(0, len(X), 64):
            model.zero_grad()
            loss = bl.cross_entropy(model(bl.Tensor(X[start:start + 64])), y[start:start + 64])
            loss.backward()
            optimizer.step()
    return model
""",
        """\
def train_digits(X, y):
    op = bl.Op("softsign", lambda x: x / (1 + np.abs(x)), lambda g, out, x: (g * (1 - np.abs(out)) ** 2,))
    class Softsign(nn.Module):
        def forward(self, x):
            return bl.apply(op, x)
    model = nn.MLP([64, 64, 10], activation=Softsign, rng=0)
    optimizer = bl.optim.SGD(model.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    for _ in range(10):
        order = rng.permutation(len(X))
        for start in range(0, len(X), 64):
            rows = order[start:start + 64]
            loss = bl.cross_entropy(model(bl.Tensor(X[rows])), y[rows])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()  # after the step: the next batch starts clean too
    return model
""",
        """\
def train_digits(X, y):
    op = bl.Op("softsign", lambda x: x / (1 + np.abs(x)), lambda g, out, x: (g * (1 - np.abs(out)) ** 2,))
    class Softsign(nn.Module):
        def forward(self, x):
            return bl.apply(op, x)
    model = nn.MLP([64, 64, 10], activation=Softsign, rng=0)
    optimizer = bl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(10):
        for start in range(0, len(X), 32):
            model.zero_grad()
            loss = bl.cross_entropy(model(bl.Tensor(X[start:start + 32])), y[start:start + 32])
            loss.backward()
            optimizer.step()
    return model
""",
    ],
}


RULED = [
    (
        "03",
        "backward_by_hand",
        """\
def backward_by_hand(x, y, z):
    tx, ty, tz = (bl.Tensor(float(v), requires_grad=True) for v in (x, y, z))
    L = (tx + ty) * tz
    L.backward()
    return tx.grad, ty.grad, tz.grad
""",
        "with plain numbers",
        "with plain numbers",
    ),
    (
        "03",
        "fan_out",
        """\
def fan_out(x, y):
    tx, ty = bl.Tensor(float(x), requires_grad=True), bl.Tensor(float(y), requires_grad=True)
    ((tx + ty) * tx).backward()
    return float(tx.grad), float(ty.grad)
""",
        "with plain numbers",
        "with plain numbers",
    ),
    (
        "04",
        "softplus_vjp",
        """\
def softplus_vjp(g, out, x):
    return (g * bl.Tensor(x).sigmoid().data,)
""",
        "plain Python and numpy",
        "plain Python and numpy",
    ),
    (
        "04",
        "softplus_vjp",
        """\
def softplus_vjp(g, out, x):
    return [g * 0.5 * (1 + np.tanh(x / 2))]
""",
        "tuple",
        "tuple",
    ),
    (
        "05",
        "dL_db",
        """\
def dL_db(G):
    return bl.Tensor(G).sum(axis=0).data
""",
        "numpy only",
        "numpy only",
    ),
    (
        "05",
        "dL_dW_column",
        """\
def dL_dW_column(delta, a):
    return (bl.Tensor(delta) @ bl.Tensor(a).T).data
""",
        "numpy only",
        "numpy only",
    ),
    (
        "06",
        "through_relu",
        """\
def through_relu(dL_dh, z1):
    z = bl.Tensor(z1, requires_grad=True)
    z.relu().backward(dL_dh)
    return z.grad
""",
        "numpy only",
        "numpy only",
    ),
    (
        "06",
        "gd_predicted_change",
        """\
def gd_predicted_change(grads, lr):
    return -lr * sum((bl.Tensor(g) ** 2).sum().item() for g in grads)
""",
        "numpy only",
        "numpy only",
    ),
    (
        "06",
        "tiny_net_backward",
        """\
def tiny_net_backward(X, Y, W1, b1, W2, b2):
    ps = [bl.Tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
    H = (bl.Tensor(X) @ ps[0].T + ps[1]).relu()
    L = (((H @ ps[2].T + ps[3]) - Y) ** 2).sum() / len(X)
    L.backward()
    return tuple(p.grad for p in ps)
""",
        "numpy only",
        "numpy only",
    ),
    (
        "07",
        "leaky_relu_backward",
        """\
def leaky_relu_backward(g, x, slope):
    t = bl.Tensor(x, requires_grad=True)
    bl.where(x > 0, t, slope * t).backward(g)
    return t.grad
""",
        "numpy only",
        "numpy only",
    ),
    (
        "07",
        "binary_cross_entropy_grad",
        """\
def binary_cross_entropy_grad(p, y):
    t = bl.Tensor(p, requires_grad=True)
    bl.binary_cross_entropy(t, y).backward()
    return t.grad
""",
        "numpy only",
        "numpy only",
    ),
    (
        "08",
        "softmax_vjp",
        """\
def softmax_vjp(g, a):
    return a * (g - (bl.Tensor(a) * bl.Tensor(g)).sum().item())
""",
        "numpy only",
        "numpy only",
    ),
    (
        "08",
        "stable_log_softmax",
        """\
def stable_log_softmax(z):
    return bl.log_softmax(bl.Tensor(z)).data
""",
        "numpy only",
        "numpy only",
    ),
    (
        "08",
        "cross_entropy_grad",
        """\
def cross_entropy_grad(logits, labels):
    z = bl.Tensor(logits, requires_grad=True)
    bl.cross_entropy(z, labels).backward()
    return z.grad
""",
        "numpy only",
        "numpy only",
    ),
    (
        "11",
        "stack_input_gradient",
        """\
def stack_input_gradient(g, jacobians, residual):
    identity = np.eye(len(g))
    return np.linalg.multi_dot([g] + [J + identity if residual else J for J in reversed(jacobians)])
""",
        "stack of none",
        "an empty list",
    ),
    (
        "11",
        "stack_input_gradient",
        """\
def stack_input_gradient(g, jacobians, residual):
    from functools import reduce

    return g @ reduce(np.matmul, [J + np.eye(len(g)) * residual for J in jacobians][::-1])
""",
        "stack of none",
        "an empty list",
    ),
    (
        "13",
        "batch_norm_backward",
        """\
def batch_norm_backward(g, x, gamma, eps):
    t, w = bl.Tensor(x, requires_grad=True), bl.Tensor(gamma, requires_grad=True)
    b = bl.Tensor(np.zeros_like(gamma), requires_grad=True)
    mu = t.mean(axis=0)
    c = t - mu
    x_hat = c / ((c**2).mean(axis=0) + eps) ** 0.5
    (w * x_hat + b).backward(g)
    return t.grad, w.grad, b.grad
""",
        "numpy only",
        "numpy only",
    ),
    (
        "13",
        "layer_norm_backward",
        """\
def layer_norm_backward(g, x, gamma, eps):
    t, w = bl.Tensor(x, requires_grad=True), bl.Tensor(gamma, requires_grad=True)
    b = bl.Tensor(np.zeros_like(gamma), requires_grad=True)
    bl.layer_norm(t, x.shape[-1], w, b, eps=eps).backward(g)
    return t.grad, w.grad, b.grad
""",
        "numpy only",
        "numpy only",
    ),
    (
        "14",
        "conv2d_weight_grad",
        """\
def conv2d_weight_grad(x, g, kernel_size, padding=0):
    W = bl.Tensor(np.zeros((g.shape[1], x.shape[1], kernel_size, kernel_size)), requires_grad=True)
    bl.conv2d(bl.Tensor(x), W, padding=padding).backward(g)
    return W.grad
""",
        "only im2col and col2im",
        "Use `im2col`",
    ),
]


# right answers that call the learner's own answers to earlier exercises (as hints suggest:
# "Exercise 1 works on whole matrices too", "Reuse exercise 1's compact formula"): the cells of
# the helpers, then the answer's
REUSE = [
    (
        "06 tiny_net_backward",
        [
            """\
def through_relu(dL_dh, z1):
    return dL_dh * (z1 > 0)
""",
            """\
def tiny_net_backward(X, Y, W1, b1, W2, b2):
    Z1 = X @ W1.T + b1
    H = np.maximum(Z1, 0)
    G = 2 * (H @ W2.T + b2 - Y) / len(X)
    G1 = through_relu(G @ W2, Z1)
    return G1.T @ X, G1.sum(axis=0), G.T @ H, G.sum(axis=0)
""",
        ],
    ),
    (
        "13 layer_norm_backward",
        [
            """\
def batch_norm_backward(g, x, gamma, eps):
    mu = x.mean(axis=0)
    sigma = np.sqrt(((x - mu) ** 2).mean(axis=0) + eps)
    x_hat = (x - mu) / sigma
    dx = gamma / sigma * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)
""",
            """\
def layer_norm_backward(g, x, gamma, eps):
    dxT, _, _ = batch_norm_backward((g * gamma).T, x.T, np.ones(len(x)), eps)
    mu = x.mean(axis=1, keepdims=True)
    x_hat = (x - mu) / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    return dxT.T, (g * x_hat).sum(axis=0), g.sum(axis=0)
""",
        ],
    ),
    (
        "11 stack_input_gradient",
        [
            """\
def residual_vjp(g, J_F):
    return g @ J_F + g
""",
            """\
def stack_input_gradient(g, jacobians, residual):
    for J in jacobians[::-1]:
        g = residual_vjp(g, J) if residual else g @ J
    return g
""",
        ],
    ),
    (
        "08 cross_entropy_grad",
        [
            """\
def stable_log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
""",
            """\
def cross_entropy_grad(logits, labels):
    n, k = logits.shape
    return (np.exp(stable_log_softmax(logits)) - np.eye(k)[labels]) / n
""",
        ],
    ),
    (
        "08 label_smoothing_grad",
        [
            """\
def stable_log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
""",
            """\
def cross_entropy_grad(logits, labels):
    n, k = logits.shape
    return (np.exp(stable_log_softmax(logits)) - np.eye(k)[labels]) / n
""",
            """\
def label_smoothing_grad(logits, labels, eps):
    n, k = logits.shape
    a = np.exp(stable_log_softmax(logits))
    return (1 - eps) * cross_entropy_grad(logits, labels) + eps * (a - 1 / k) / n
""",
        ],
    ),
    (
        "09 sigmoid_hidden_delta",
        [
            """\
def linear_backward(delta, A_prev, W):
    return delta.T @ A_prev, delta.sum(axis=0), delta @ W
""",
            """\
def sigmoid_hidden_delta(delta_out, W2, H):
    _, _, dH = linear_backward(delta_out, H, W2)
    return dH * H * (1 - H)
""",
        ],
    ),
    (
        "09 hidden_delta",
        [
            """\
def linear_backward(delta, A_prev, W):
    return delta.T @ A_prev, delta.sum(axis=0), delta @ W
""",
            """\
def hidden_delta(delta_next, W_next, Z):
    return linear_backward(delta_next, np.maximum(Z, 0), W_next)[2] * (Z > 0)
""",
        ],
    ),
    (
        "05 dL_dW_column",
        [
            """\
def dL_dW(X, G):
    return G.T @ X
""",
            """\
def dL_dW_column(delta, a):
    return dL_dW(a.T, delta.T)
""",
        ],
    ),
]


def define(source: str, name: str):
    """The function ``name`` of a cell ``source``, run as the learner's notebook runs it."""
    namespace = {"__name__": "__main__", "np": np, "bl": bl, "nn": nn}
    namespace |= {"im2col": im2col, "col2im": col2im}
    exec(compile(source, f"<cell of {name}>", "exec"), namespace)  # noqa: S102 - our own cells
    return namespace[name]


def check_of(number: str, name: str):
    module = importlib.import_module(f"backproplab.exercises.nb{number}")
    return getattr(module, f"check_{CHECK_NAMES.get(name, name)}")


def notebook_path(number: str) -> Path:
    return next((ROOT / "notebooks").glob(f"{number}_*.ipynb"))


def prompt_of(number: str, name: str) -> str:
    """The markdown cell above the exercise's solution cell: all the learner is told."""
    cells = nbformat.read(notebook_path(number), as_version=4).cells
    (at,) = [i for i, c in enumerate(cells)
             if c.cell_type == "code" and "BEGIN SOLUTION" in c.source and f"def {name}(" in c.source]  # fmt: skip
    return next(c.source for c in reversed(cells[:at]) if c.cell_type == "markdown")


def test_every_exercise_has_five_right_answers():
    checked = set()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for name in re.findall(r"nb\d\d\.check_\w+\((\w+)\)", cell.source):
                checked.add(f"{path.name[:2]} {name}")
    assert set(RIGHT) == checked
    assert all(len(answers) >= 5 for answers in RIGHT.values())


CASES = [
    pytest.param(key, source, id=f"{key.replace(' ', '-')}-{i}")
    for key, answers in RIGHT.items()
    for i, source in enumerate(answers)
]


@pytest.mark.parametrize(("key", "source"), CASES)
def test_a_right_answer_passes(key, source):
    number, name = key.split()
    answer = define(source, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # accepted with a warning is not accepted
        feedback = check_of(number, name)(answer)
    assert feedback.passed, feedback


@pytest.mark.parametrize(("key", "cells"), REUSE, ids=[key for key, _ in REUSE])
def test_a_right_answer_built_on_the_learners_earlier_answers_passes(key, cells):
    number, name = key.split()
    setup = f"import numpy as np\nfrom backproplab.exercises import nb{number}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        *_, feedback = run_as_notebook([setup, *cells, f"nb{number}.check_{name}({name})"])
    assert feedback.passed, feedback


@pytest.mark.parametrize(
    ("number", "name", "source", "said", "stated"),
    [pytest.param(*case, id=f"{case[0]}-{case[1]}-{i}") for i, case in enumerate(RULED)],
)
def test_a_broken_rule_is_named_by_the_hint_and_by_the_prompt(number, name, source, said, stated):
    feedback = check_of(number, name)(define(source, name))
    assert feedback.status == "hint" and said in feedback.message, feedback
    assert stated in " ".join(prompt_of(number, name).split())


# the grader: one student answering every graded exercise of these notebooks, in one notebook
# (one kernel), with a broken rule of RULED where there is one, else with one of RIGHT (a
# different one from one exercise to the next); and, as more exercises of that notebook (their
# grade ids numbered), the slowest right answers (Python loops) and the odd ones of SLOW
GRADED = ("03", "04", "05", "06", "07", "08", "11", "13", "14")
SLOW = {  # notebook -> exercise -> indices into RIGHT (19 such answers graded alike by hand)
    "04": {"topo_order": [0]},
    "09": {"mlp_backward": [2]},
    "14": {"conv2d_weight_grad": [3], "conv2d_input_grad": [3], "max_pool2d_backward": [0]},
}


def _renamed(cell, grade_id: str):
    """A copy of a solution or check cell under another grade id (its check's: with -check)."""
    suffix = "-check" if cell.metadata["nbgrader"]["grade_id"].endswith("-check") else ""
    nbgrader = {**cell.metadata["nbgrader"], "grade_id": grade_id + suffix}
    return nbformat.v4.new_code_cell(cell.source, metadata={"nbgrader": nbgrader})


def test_the_grade_says_what_the_notebook_says(tmp_path):
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from test_grade_vs_notebook import Notebook
    finally:
        sys.path.remove(str(ROOT / "tests"))
    teacher, student, expected = [], [], {}
    for turn, number in enumerate(GRADED):
        notebook = Notebook(number)
        setup = nbformat.v4.new_code_cell(notebook.setup)
        teacher.append(setup)
        student.append(setup)
        ruled = {name: source for n, name, source, _, _ in RULED if n == number}
        for i, (name, solution, check) in enumerate(notebook.exercises):
            right = RIGHT[f"{number} {name}"]
            answer = ruled.get(name, right[(turn + i) % len(right)])
            student.append(nbformat.v4.new_code_cell(answer, metadata=solution.metadata))
            teacher.append(nbformat.v4.new_code_cell(solution.source, metadata=solution.metadata))
            for cells in (teacher, student):
                cells.append(nbformat.v4.new_code_cell(check.source, metadata=check.metadata))
            expected[f"nb{number}-{name}"] = name not in ruled
    for number, exercises in SLOW.items():
        notebook = Notebook(number)
        setup = nbformat.v4.new_code_cell(notebook.setup)
        teacher.append(setup)
        student.append(setup)
        for name, solution, check in notebook.exercises:
            for k in exercises.get(name, []):
                grade_id = f"nb{number}-{name}-{k}"
                answer = _renamed(solution, grade_id)
                answer.source = RIGHT[f"{number} {name}"][k]
                student.append(answer)
                teacher.append(_renamed(solution, grade_id))
                for cells in (teacher, student):
                    cells.append(_renamed(check, grade_id))
                expected[grade_id] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a check's own overflow, as the notebook shows it
        verdicts = [v for v in run_as_notebook([c.source for c in student]) if v is not None]
    graded = grade_students(
        tmp_path,
        nbformat.v4.new_notebook(cells=teacher, metadata={}),
        {"ada": nbformat.v4.new_notebook(cells=student, metadata={})},
    )["ada"]
    assert [c.exercise for c in graded.checks] == list(expected)
    for mine, grade in zip(verdicts, graded.checks):
        if expected[grade.exercise]:  # a right answer: correct in both
            assert mine.passed and grade.status == "correct" and grade.score > 0, (mine, grade)
        else:  # a broken rule: refused in both, for the same reason
            assert not mine.passed and grade.score == 0, (mine, grade)
            assert our_words(mine.message) in grade.message, (mine, grade)
    refused = [exercise for exercise, right in expected.items() if not right]
    assert all(p.split(":")[0] in refused for p in graded.problems), graded.problems
