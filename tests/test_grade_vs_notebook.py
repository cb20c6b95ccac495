"""The grade says what the notebook says: for every notebook of the curriculum, one grading of two
students whose feedback on every exercise (and on the notebook's step of mygrad) must equal the
check's verdict in the learner's own notebook, word for word. About 35 s on two cores.

The notebook's verdict is the check cell run in this process on the same cells (as the learner's
kernel runs them, ``run_as_notebook``); the grade's, the real grader's at the notebook's own draw
of the checks' inputs (the student's code in a sandboxed kernel, the teacher's check in the
grader, reaching the student's functions through the proxy). Between them, the two students
answer every exercise with a wrong answer of the exercise tests (``SLIPS``, from
tests/test_exercises_nbNN.py: shape errors that crash, arguments changed in place, wrong shapes,
the check's functions called back, copies of the check's tensors, the learner's own helpers),
and with the teacher's solution handing its result back otherwise (``ODD``: a list, float32, the
input itself, None, a set, arguments changed after, an error of its own class, a print, a
recursion too deep), the kinds taken in turn along the curriculum; one's mygrad.py holds a
mistake of tests/test_mygrad.py (``MYGRAD_SLIPS``), the other's prints when imported.

A difference that the full sweep (every wrong answer of the exercise tests, and 26 odd answers
for each exercise, notebook against grade) found and this test would meet is fixed in the grader
and held by tests/test_grade_vs_notebook_fixes.py. Left by design: the grader's record of calls
into backproplab (0 points for a Tensor built in an exercise on plain arrays, which the
notebook cannot see), a check whose hint the grade reports with "(its code uses ...)", and an
answer raising SystemExit or KeyboardInterrupt, which stops the check cell in the notebook and
is a hint in the grade.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from exercise_helpers import grade_students, run_as_notebook

ROOT = Path(__file__).resolve().parents[1]
MYGRAD = (ROOT / "notebooks" / "mygrad.py").read_text()

# notebook -> {exercise function: a wrong answer of the exercise tests, the test it comes from
# named above it (picked by the sweep among those whose verdicts agree, short ones first)}
# tests/test_exercises_nb13.py's compact formula, with switches for the mistakes (both norms),
# less the original's later `floor` switch (eps as a floor under the variance), unused here
NORM_BACKWARD = (
    "def norm_backward(g, x, gamma, eps, axis, ddof=0, centre=True, spread=True, n_scale=True,\n"
    "                  gamma_first=True):  # fmt: skip\n"
    '    """The compact formula over ``axis``, with switches for the mistakes."""\n'
    "    mu = x.mean(axis=axis, keepdims=True)\n"
    "    sigma = np.sqrt(x.var(axis=axis, ddof=ddof, keepdims=True) + eps)\n"
    "    x_hat = (x - mu) / sigma\n"
    "    reduce = np.mean if n_scale else np.sum\n"
    "    gh = g * gamma if gamma_first else g\n"
    "    dx = gh.copy()\n"
    "    if centre:\n"
    "        dx = dx - reduce(gh, axis=axis, keepdims=True)\n"
    "    if spread:\n"
    "        dx = dx - x_hat * reduce(gh * x_hat, axis=axis, keepdims=True)\n"
    "    dx = dx / sigma if gamma_first else gamma * dx / sigma\n"
    "    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)\n"
)

SLIPS: dict[str, dict[str, str]] = {
    "01": {
        # test_gradient_descent_step_hints
        "gradient_descent_step": (
            "def gradient_descent_step(params, grads, lr):  # updates but returns nothing\n"
            "    for p, g in zip(params, grads):\n"
            "        p -= lr * g\n"
        ),
        # test_count_parameters_other_hint_and_not_done
        "count_parameters": ("def count_parameters(sizes):\n    return sum(sizes)\n"),
        # test_central_difference_rejects_more_plausible_mistakes
        "central_difference_gradient": (
            "import numpy as np\n"
            "\n"
            'def central_difference_gradient(f, w, eps):  # "copies" that are the same array: both points are w itself\n'
            "    grad = np.zeros_like(w)\n"
            "    for idx in np.ndindex(*w.shape):\n"
            "        up, down = w, w\n"
            "        up[idx] += eps\n"
            "        down[idx] -= eps\n"
            "        grad[idx] = (f(up) - f(down)) / (2 * eps)\n"
            "    return grad\n"
        ),
        # test_chain_cost_refuses_wrong_answers_with_their_hints (_pops)
        "chain_cost": (
            "def chain_cost(shapes, mode):  # right counts, the caller's list emptied on the way\n"
            "    carried = shapes[0][1] if mode == 'forward' else shapes[-1][0]\n"
            "    total = 0\n"
            "    while shapes:\n"
            "        rows, cols = shapes.pop()\n"
            "        total += carried * rows * cols\n"
            "    return total\n"
        ),
        # test_train_not_done_and_shape_hints
        "train": ("def train(*a):\n    return [0.0]\n"),
    },
    "02": {
        # of our own: one of the three paths only
        "three_paths": ("def three_paths(x):\n    return 2 * x\n"),
        # test_d_sin_of_square_hints
        "d_sin_of_square": ("def d_sin_of_square(x):\n    return [1.0, 2.0]\n"),
        # test_partials_hints
        "partials": ("def partials(x, y):\n    return (x, y)\n"),
        # test_steepest_steps_refuses_plausible_mistakes_with_their_hint[one array]
        "steepest_steps": (
            "import numpy as np\n"
            "\n"
            "def steepest_steps(grad_f, w0, h, steps):  # one array, stored at every row\n"
            "    w = w0.copy()\n"
            "    points = [w]\n"
            "    for _ in range(steps):\n"
            "        g = grad_f(w)\n"
            "        if np.any(g):\n"
            "            w -= h * g / np.linalg.norm(g)\n"
            "        points.append(w)\n"
            "    return points\n"
        ),
        # test_two_paths_crash_becomes_hint
        "two_paths": ("import numpy as np\n\ndef two_paths(x):\n    return x @ np.ones((2, 2))\n"),
    },
    "03": {
        # test_backward_by_hand_hints
        "backward_by_hand": ("def backward_by_hand(x, y, z):\n    return z\n"),
        # test_mul_backward_hints
        "mul_backward": (
            "def mul_backward(g, a, b):\n"
            "    g *= b  # reuses the upstream array\n"
            "    return g, g / b * a\n"
        ),
        # test_fan_out_hints
        "fan_out": ("def fan_out(x, y):\n    return (x, x)\n"),
        # test_a_crash_and_the_stub
        "product_backward": ("def product_backward(g, xs):\n    return xs[3]\n"),
    },
    "04": {
        # test_topo_order_of_another_graph_or_copies
        "topo_order": (
            "import copy\n"
            "\n"
            "def topo_order(root):\n"
            "    order, visited, stack = [], set(), [(root, False)]\n"
            "    while stack:\n"
            "        node, done = stack.pop()\n"
            "        if done:\n"
            "            order.append(copy.copy(node))\n"
            "        elif id(node) not in visited:\n"
            "            visited.add(id(node))\n"
            "            stack.append((node, True))\n"
            "            stack.extend((p, False) for p in node.inputs if p.requires_grad)\n"
            "    return order\n"
        ),
        # test_checks_never_raise_on_odd_answers
        "backward_list": ("def backward_list(n, v, local):\n    return 1 / 0\n"),
        # test_softplus_vjp_that_changes_g_in_place_is_refused
        "softplus_vjp": (
            "import numpy as np\n"
            "\n"
            "def softplus_vjp(g, out, x):\n"
            "    g *= 1 / (1 + np.exp(-x))\n"
            "    return (g,)\n"
        ),
    },
    "05": {
        # test_dL_dX_wrong
        "dL_dX": ("def dL_dX(G, W):\n    return W @ G\n"),
        # test_dL_dW_wrong
        "dL_dW": ("def dL_dW(X, G):\n    return G @ X\n"),
        # test_dL_db_wrong
        "dL_db": ("def dL_db(G):\n    return G.sum()\n"),
        # test_dL_dW_column_wrong
        "dL_dW_column": ("def dL_dW_column(delta, a):\n    return delta @ a\n"),
        # test_bilinear_wrong
        "bilinear_grads": (
            "def bilinear_grads(U, A, V, g):\n    return (g * (V @ A.T), None, None)\n"
        ),
    },
    "06": {
        # test_through_relu_wrong
        "through_relu": ("def through_relu(dL_dh, z1):\n    return dL_dh\n"),
        # test_gd_predicted_change_wrong
        "gd_predicted_change": (
            "def gd_predicted_change(grads, lr):\n"
            "    for g in grads:\n"
            "        g *= -lr  # the caller's gradients are now steps\n"
            "    return sum(float((g * g).sum()) for g in grads) / -lr\n"
        ),
        # test_tiny_net_backward_shape_mistakes_get_the_shapes_by_name
        "tiny_net_backward": (
            "def tiny_net_backward(X, Y, W1, b1, W2, b2):\n"
            "    Z1 = X @ W1 + b1  # W1 used as (n_in, n_out)\n"
            "    return Z1, Z1, Z1, Z1\n"
        ),
    },
    "07": {
        # test_sigmoid_backward_wrong
        "sigmoid_backward": (
            "def sigmoid_backward(g, out):\n    g *= out * (1 - out)\n    return g\n"
        ),
        # test_leaky_relu_backward_wrong
        "leaky_relu_backward": (
            "def leaky_relu_backward(g, x, slope):\n    g[x <= 0] *= slope\n    return g\n"
        ),
        # test_softmax_jacobian_crash_is_named
        "softmax_jacobian": (
            "import numpy as np\n\ndef softmax_jacobian(s):\n    return s @ np.ones((3, 3))\n"
        ),
        # test_binary_cross_entropy_grad_wrong
        "binary_cross_entropy_grad": (
            "def binary_cross_entropy_grad(p, y):\n    return -y / p + (1 - y) / (1 - p)\n"
        ),
        # test_gelu_backward_wrong
        "gelu_backward": (
            "import math\n"
            "import numpy as np\n"
            "\n"
            "erf = np.vectorize(math.erf)\n"
            "\n"
            "def pdf(x):\n"
            "    return np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)\n"
            "\n"
            "def gelu_backward(g, x):\n"
            "    return g * (0.5 * (1 + erf(x)) + x * pdf(x))\n"
        ),
    },
    "08": {
        # test_softmax_vjp_that_fails_for_a_large_k_is_not_correct
        "softmax_vjp": (
            "def softmax_vjp(g, a):\n"
            "    if a.size > 100:\n"
            '        raise ValueError("too many classes")\n'
            "    return a * (g - g @ a)\n"
        ),
        # test_stable_log_softmax_wrong
        "stable_log_softmax": (
            "import numpy as np\n"
            "\n"
            "def stable_log_softmax(z):\n"
            "    z -= z.max(axis=-1, keepdims=True)\n"
            "    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))\n"
        ),
        # test_cross_entropy_grad_wrong
        "cross_entropy_grad": (
            "import numpy as np\n"
            "\n"
            "def softmax_rows(z, shift=True):\n"
            "    e = np.exp(z - z.max(axis=-1, keepdims=True) if shift else z)\n"
            "    return e / e.sum(axis=-1, keepdims=True)\n"
            "\n"
            "def cross_entropy_grad(z, c):\n"
            "    return -np.eye(z.shape[1])[c] / softmax_rows(z) / len(c)\n"
        ),
        # test_label_smoothing_grad_wrong
        "label_smoothing_grad": (
            "import numpy as np\n"
            "\n"
            "def softmax_rows(z, shift=True):\n"
            "    e = np.exp(z - z.max(axis=-1, keepdims=True) if shift else z)\n"
            "    return e / e.sum(axis=-1, keepdims=True)\n"
            "\n"
            "def label_smoothing_grad(z, c, e):\n"
            "    return (softmax_rows(z) - (1 - e) * np.eye(4)[c] - e) / len(c)\n"
        ),
    },
    "09": {
        # test_linear_backward_hints
        "linear_backward": (
            "def linear_backward(d, A, W):\n    return (d.T @ A, d.sum(axis=0), d @ W.T)\n"
        ),
        # test_hidden_delta_hints
        "hidden_delta": ("def hidden_delta(d, W, Z):\n    return (d @ W.T) * (Z > 0)\n"),
        # test_mlp_backward_hints
        "mlp_backward": (
            "import numpy as np\n"
            "\n"
            "def make_mlp_backward(\n"
            "    scale_out=True,\n"
            "    mean_loss=True,\n"
            "    relu=True,\n"
            '    mask_on="Z",\n'
            '    db="sum",\n'
            '    dW="DtA",\n'
            "    mutate=False,\n"
            "    true_class_only=False,\n"
            "    count=None,\n"
            '    shift="row",\n'
            "    log_of_softmax=False,\n"
            "):\n"
            '    """A hand-written MLP backward with one chosen mistake (the defaults are all right);\n'
            '    ``count(labels)``, if given, is its number of classes instead of the logits\' columns."""\n'
            "\n"
            "    def mlp_backward(Ws, bs, X, labels):\n"
            "        N = len(X)\n"
            "        Z1 = X @ Ws[0].T + bs[0]\n"
            "        A1 = np.maximum(Z1, 0)\n"
            "        Z2 = A1 @ Ws[1].T + bs[1]\n"
            "        A2 = np.maximum(Z2, 0)\n"
            "        Z3 = A2 @ Ws[2].T + bs[2]\n"
            '        S = Z3 - {"row": Z3.max(axis=1, keepdims=True), "batch": Z3.max(), "none": 0}[shift]\n'
            '        with np.errstate(all="ignore"):  # (the wrong ones overflow)\n'
            "            if log_of_softmax:  # the probabilities first, then their log\n"
            "                P = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)\n"
            "                log_P = np.log(P + (0 if log_of_softmax is True else log_of_softmax))  # (+1e-12)\n"
            "            else:  # log-softmax: no probability is formed before the log\n"
            "                log_P = S - np.log(np.exp(S).sum(axis=1, keepdims=True))\n"
            "                P = np.exp(log_P)\n"
            "        losses = -log_P[np.arange(N), labels]\n"
            "        loss = losses.mean() if mean_loss else losses.sum()\n"
            "        D3 = P - np.eye(P.shape[1] if count is None else count(labels))[labels]\n"
            "        if true_class_only:  # the loss reads a_c only: only the true class's logit gets one\n"
            "            D3 = D3 * np.eye(P.shape[1])[labels]\n"
            "        if scale_out:\n"
            "            D3 = D3 / N\n"
            "\n"
            "        def back(D, W, Z, A):\n"
            "            G = D @ W\n"
            "            if not relu:\n"
            "                return G\n"
            '            return G * ((Z if mask_on == "Z" else -Z) > 0)\n'
            "\n"
            "        D2 = back(D3, Ws[2], Z2, A2)\n"
            "        D1 = back(D2, Ws[1], Z1, A1)\n"
            "        grads = {}\n"
            "        for k, (D, A) in enumerate([(D1, X), (D2, A1), (D3, A2)], start=1):\n"
            '            grads[f"D{k}"] = D\n'
            '            grads[f"W{k}"] = D.T @ A if dW == "DtA" else A.T @ D\n'
            '            grads[f"b{k}"] = D.sum(axis=0) if db == "sum" else D.mean(axis=0)\n'
            "        if mutate:\n"
            "            Ws[0] -= 0.1\n"
            "        return loss, grads\n"
            "\n"
            "    return mlp_backward\n"
            "\n"
            "mlp_backward = make_mlp_backward(mutate=True)\n"
        ),
        # test_sigmoid_hidden_delta_hints
        "sigmoid_hidden_delta": (
            "def sigmoid_hidden_delta(d, W2, H):\n    return (d @ W2.T) * H * (1 - H)\n"
        ),
    },
    "10": {
        # test_input_gradient_shape_mistakes_get_the_shapes_by_name
        "input_gradient": (
            "import numpy as np\n"
            "\n"
            "def input_gradient(x, weights, g):\n"
            "    a = x\n"
            "    for W in weights:\n"
            "        a = np.maximum(a @ W, 0)  # the weights used as (n_in, n_out)\n"
            "    return a\n"
        ),
        # test_init_std_hints
        "init_std": ("def init_std(n_in, n_out, act):\n    return 0.0\n"),
        # test_dead_fraction_refuses_changing_the_activations_in_place
        "dead_fraction": (
            "def dead_fraction(a):\n"
            "    a[a > 0] = 1.0  # on or off, written into the caller's activations: right fraction\n"
            "    return float((a.sum(axis=0) == 0).mean())\n"
        ),
        # test_clip_gradients_hints
        "clip_gradients": (
            "import numpy as np\n"
            "\n"
            "def clip_gradients(grads, max_norm):\n"
            "    total = np.sqrt(sum((g**2).sum() for g in grads))\n"
            "    for g in grads:\n"
            "        g *= min(1.0, max_norm / total)\n"
            "    return grads\n"
        ),
        # test_trainable_init_hints
        "my_std": ("def my_std():\n    return 1.0\n"),
    },
    "11": {
        # test_residual_block_hints
        "residual_block": ("def residual_block(x, W, b):\n    return x + x @ W.T + b\n"),
        # test_residual_vjp_hints
        "residual_vjp": (
            "import numpy as np\n\ndef residual_vjp(g, J):\n    return np.outer(g, g)\n"
        ),
        # test_stack_input_gradient_rejects_more_slips
        "stack_input_gradient": (
            "def stack_input_gradient(g, jacobians, residual):\n"
            "    for J in reversed(jacobians):\n"
            "        g = g @ (J + 1) if residual else g @ J\n"
            "    return g\n"
        ),
    },
    "12": {
        # test_silu_vjp_is_numpy_only_and_leaves_its_inputs_alone
        "silu_vjp": (
            "import numpy as np\n"
            "\n"
            "def sigmoid(x):\n"
            "    return 1 / (1 + np.exp(-x))\n"
            "\n"
            "def silu_vjp(g, out, x):\n"
            "    s = sigmoid(x)\n"
            "    g *= s + x * s * (1 - s)  # the upstream gradient, overwritten\n"
            "    return (g,)\n"
        ),
        # test_huber_loss_hints
        "huber_loss": ("def huber_loss(p, t, d):\n    return (p - t).sum(axis=0, keepdims=True)\n"),
        # test_adam_step_hints
        "adam_step": (
            "def adam_step(p, g, m, v, t, lr, b1, b2, eps):\n"
            "    return (p - lr * g, b1 * m + g, v)\n"
        ),
    },
    "13": {
        # test_batch_norm_backward_hints
        "batch_norm_backward": (
            "import numpy as np\n"
            "\n" + NORM_BACKWARD + "\n"
            "def bn(g, x, gamma, eps, **mistake):\n"
            "    return norm_backward(g, x, gamma, eps, axis=0, **mistake)\n"
            "\n"
            "def batch_norm_backward(g, x, gamma, eps):\n"
            "    result = bn(g, x, gamma, eps)\n"
            "    x -= x.mean(axis=0)\n"
            "    return result\n"
        ),
        # test_layer_norm_backward_hints
        "layer_norm_backward": (
            "import numpy as np\n"
            "\n" + NORM_BACKWARD + "\n"
            "def ln(g, x, gamma, eps, **mistake):\n"
            "    return norm_backward(g, x, gamma, eps, axis=1, **mistake)\n"
            "\n"
            "def layer_norm_backward(g, x, gamma, eps):\n"
            "    result = ln(g, x, gamma, eps)\n"
            "    x /= 2\n"
            "    return result\n"
        ),
        # test_batch_norm_eval_backward_hints
        "batch_norm_eval_backward": (
            "import numpy as np\n"
            "\n"
            "def batch_norm_eval_backward(g, x, gamma, running_mean, running_var, eps):\n"
            '    g *= gamma / np.sqrt(running_var + eps)  # "dx is g scaled": scaled where it lies\n'
            "    return g, (g * (x - running_mean)).sum(axis=0) / gamma, g.sum(axis=0)\n"
        ),
    },
    "14": {
        # test_conv2d_weight_grad_hints
        "conv2d_weight_grad": (
            "import numpy as np\n"
            "from numpy.lib.stride_tricks import sliding_window_view\n"
            "\n"
            "def pad(a, p):\n"
            "    return np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)))\n"
            "\n"
            "def windows(a, kh, kw):\n"
            "    return sliding_window_view(a, (kh, kw), axis=(2, 3))\n"
            "\n"
            "def weight_grad(x, g, k, padding=0):\n"
            '    return np.einsum("ncpqij,nopq->ocij", windows(pad(x, padding), k, k), g)\n'
            "\n"
            "def conv2d_weight_grad(x, g, k, p):\n"
            "    return weight_grad(x, g, k, 0)\n"
        ),
        # test_conv2d_input_grad_hints
        "conv2d_input_grad": (
            "from backproplab.convolution import col2im\n"
            "\n"
            "def conv2d_input_grad(g, weight, padding=0):\n"
            "    n, o, oh, ow = g.shape\n"
            "    _, c, kh, kw = weight.shape\n"
            "    x_shape = (n, c, oh + kh - 1 - 2 * padding, ow + kw - 1 - 2 * padding)\n"
            "    dcols = g.transpose(0, 2, 3, 1).reshape(-1, o) @ weight.reshape(o, -1)\n"
            "    return col2im(dcols, x_shape, (kh, kw))\n"
        ),
        # test_max_pool2d_backward_batch_size_swapped_with_another_size_is_rejected
        "max_pool2d_backward": (
            "def max_pool2d_backward(g, x, k):\n"
            "    # the notebook's answer with the batch size and the number of rows of windows swapped when\n"
            "    # the windows are cut: the same windows while the two are equal (2 in the first cases)\n"
            "    n, c, h, w = x.shape\n"
            "    windows = x.reshape(h // k, c, n, k, w // k, k)\n"
            "    is_max = windows == windows.max(axis=(3, 5), keepdims=True)\n"
            "    share = is_max / is_max.sum(axis=(3, 5), keepdims=True)\n"
            "    return (share * g[:, :, :, None, :, None]).reshape(x.shape)\n"
        ),
    },
}

# mygrad step -> (the teacher's line, a mistake of tests/test_mygrad.py's MISTAKES)
MYGRAD_SLIPS: dict[str, tuple[str, str]] = {
    "03": ("self.data = np.asarray(data, dtype=np.float64)", "self.data = data"),
    "04": (
        "                    x.grad = g if x.grad is None else x.grad + g",
        "                    if x.grad is None:\n"
        "                        x.grad = g\n"
        "                    else:\n"
        "                        x.grad += g",
    ),
    # a vjp that crashes: the grade names where, "in the vjp of Tensor.__matmul__", as the
    # notebook does (the kernel reads the traceback, exercises.mygrad its raised_in)
    "05": ("(g @ y.T, x.T @ g)", "(g @ y.T, x @ g.T)"),
    "07": ("(g * (1 - out**2),)", "(g * (1 - self.data**2),)"),
    "08": ("z = logits.data - logits.data.max(axis=1, keepdims=True)", "z = logits.data"),
    "09": ("                p.data -= self.lr * v", "                p.data += self.lr * v"),
    "10": ("std = np.sqrt(2 / n_in)", "std = np.sqrt(2 / n_out)"),
    "11": ("return x + self.linear(x).relu()", "return self.linear(x).relu()"),
    "12": ("(np.sqrt(v_hat) + self.eps)", "np.sqrt(v_hat + self.eps)"),
}

# how the odd student hands back the teacher's result r; {first}: the first parameter, {params}:
# all of them
ODD = {
    "a list": "return _each(r, lambda a: a.tolist())",
    "float32": "return _each(r, lambda a: a.astype(np.float32))",
    "the first argument": "return {first}",
    "None": "return None",
    "a set": "return {{1, 2}}",
    "arguments changed after": (
        "for p in [{params}]:\n"
        "        _each(p, lambda a: a.__imul__(2) if a.flags.writeable and a.dtype.kind == 'f' "
        "else None)\n    return r"
    ),
    "an error of its own": "class Slip(Exception):\n        pass\n    raise Slip('mine')",
    "a print": "print('debugging', type(r).__name__)\n    return r",
    "too deep": "def deep(n):\n        return deep(n + 1)\n    return deep(0)",
}
EACH = """def _each(r, f):
    if isinstance(r, np.ndarray):
        return f(r)
    if isinstance(r, (list, tuple)):
        return type(r)(_each(x, f) for x in r)
    if isinstance(r, dict):
        return {k: _each(v, f) for k, v in r.items()}
    return r"""


def trimmed(source: str) -> str:
    """A solution cell up to its END SOLUTION line (what follows it uses other cells)."""
    head, marker, _ = source.partition("    ### END SOLUTION")
    return head + marker


def odd(solution: str, name: str, kind: str) -> str:
    """The teacher's solution of ``name``, renamed, and ``name`` handing back its result as
    ``kind`` says."""
    code = "\n".join(line for line in trimmed(solution).split("\n") if "### " not in line)
    (fn,) = [s for s in ast.parse(code).body if isinstance(s, ast.FunctionDef) and s.name == name]
    params = [a.arg for a in fn.args.args]
    how = ODD[kind].format(first=params[0] if params else "None", params=", ".join(params))
    return (
        f"{code.replace(f'def {name}(', f'def _right_{name}(', 1)}\n\n\n{EACH}\n\n\n"
        f"def {name}({ast.unparse(fn.args)}):\n    r = _right_{name}({', '.join(params)})\n"
        f"    {how}\n"
    )


class Notebook:
    """A curriculum notebook cut down to its exercises: its first code cell (imports), each
    solution cell and its check cell, and the mygrad step's import and check cells."""

    def __init__(self, number: str) -> None:
        path = next((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
        cells = nbformat.read(path, as_version=4).cells
        self.number = number
        self.setup = next(c for c in cells if c.cell_type == "code").source
        graded = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in cells}
        self.exercises: list[tuple[str, nbformat.NotebookNode, nbformat.NotebookNode]] = []
        for grade_id, check in graded.items():
            if grade_id and grade_id.endswith("-check") and "check_step" not in check.source:
                name = re.fullmatch(r"nb\d\d\.check_\w+\((\w+)\)", check.source.strip())
                assert name is not None, check.source
                self.exercises.append((name.group(1), graded[grade_id[:-6]], check))
        self.mygrad = graded.get(f"nb{number}-mygrad-check")
        self.mygrad_import = next((c for c in cells if "import mygrad" in c.source), None)

    def cells(self, answers: dict[str, str]) -> list[nbformat.NotebookNode]:
        made = [nbformat.v4.new_code_cell(self.setup)]
        for name, solution, check in self.exercises:
            source = answers.get(name, trimmed(solution.source))
            made.append(nbformat.v4.new_code_cell(source, metadata=solution.metadata))
            made.append(nbformat.v4.new_code_cell(check.source, metadata=check.metadata))
        if self.mygrad is not None:
            assert self.mygrad_import is not None
            made.append(nbformat.v4.new_code_cell(self.mygrad_import.source))
            made.append(
                nbformat.v4.new_code_cell(self.mygrad.source, metadata=self.mygrad.metadata)
            )
        return made

    def notebook(self, answers: dict[str, str]) -> nbformat.NotebookNode:
        return nbformat.v4.new_notebook(cells=self.cells(answers), metadata={})


def notebook_verdicts(notebook: Notebook, answers: dict[str, str], folder: Path) -> list:
    """The check cells' Feedback, the cells run in this process as in the learner's kernel, with
    the learner's mygrad.py in ``folder``."""
    sys.path.insert(0, str(folder))
    sys.modules.pop("mygrad", None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a check's own overflow, as the notebook shows it
            values = run_as_notebook([c.source for c in notebook.cells(answers)])
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("mygrad", None)
    return [v for v in values if hasattr(v, "status")]


NOTEBOOKS = sorted(p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("number", NOTEBOOKS)
def test_the_grade_says_what_the_notebook_says(tmp_path, number):
    notebook = Notebook(number)
    assert set(SLIPS[number]) == {name for name, _, _ in notebook.exercises}
    # two students: ada has a slip of the tests in every other exercise and an odd answer in
    # the others, bob the other way round (the odd kinds taken in turn along the curriculum, so
    # that each meets several notebooks)
    turn = NOTEBOOKS.index(number)
    students: dict[str, dict[str, str]] = {"ada": {}, "bob": {}}
    for i, (name, solution, _) in enumerate(notebook.exercises):
        kind = list(ODD)[(2 * turn + i) % len(ODD)]
        slip, odd_one = ("ada", "bob") if (turn + i) % 2 == 0 else ("bob", "ada")
        students[slip][name] = SLIPS[number][name]
        students[odd_one][name] = odd(solution.source, name, kind)
    mygrad = {  # ada's mygrad.py holds a mistake of the tests, bob's prints when imported
        "ada": MYGRAD,
        "bob": MYGRAD.replace("import numpy as np", "import numpy as np\nprint('my engine')", 1),
    }
    if number in MYGRAD_SLIPS:
        teachers, slip = MYGRAD_SLIPS[number]
        assert MYGRAD.count(teachers) == 1, teachers
        mygrad["ada"] = MYGRAD.replace(teachers, slip)
    files = {who: {"mygrad.py": text} for who, text in {**mygrad, "teacher": MYGRAD}.items()}
    grades = grade_students(
        tmp_path / "graded",
        notebook.notebook({}),
        {who: notebook.notebook(answers) for who, answers in students.items()},
        files,
    )
    for who, answers in students.items():
        folder = tmp_path / "in this process" / who
        folder.mkdir(parents=True)
        (folder / "mygrad.py").write_text(mygrad[who])
        expected = [(f.status, str(f)) for f in notebook_verdicts(notebook, answers, folder)]
        assert [(c.status, c.message) for c in grades[who].checks] == expected, who
