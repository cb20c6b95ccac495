"""Adversarial audit of the "Your engine" checks: wrong-but-plausible versions of the learner's
notebooks/mygrad.py, each one mistake away from the teacher's, that the check of their step must
reject with a hint naming the mistake (and no code). Each of these passed the checks, or got a
hint blaming the wrong piece, before the checks were fixed."""

import numpy as np
import pytest
from exercise_helpers import hint_asserter
from test_mygrad import TEXT, check, load

assert_hint = hint_asserter(["np.", "lambda", "+=", ".grad =", "sum_to_shape(", "for t in"])

TOPOSORT = """    found = {id(root): root}
    stack = [root]
    while stack:
        for x in stack.pop().inputs:
            if id(x) not in found:
                found[id(x)] = x
                stack.append(x)
    return sorted(found.values(), key=lambda t: t.seq)  # made later = computed later"""

RECURSIVE_TOPOSORT = """    order, seen = [], set()

    def visit(t):
        if id(t) not in seen:
            seen.add(id(t))
            for x in t.inputs:
                visit(x)
            order.append(t)

    visit(root)
    return order"""

VISIT_LOOP = """        for t in reversed(order):  # outputs before inputs: t.grad is complete here
            if t.vjp is None or t.grad is None:
                continue"""

BREADTH_FIRST_BACKWARD = """        queue, seen = [self], set()
        while queue:  # nearest to the output first: each node once, when first reached
            t = queue.pop(0)
            if id(t) in seen or t.vjp is None or t.grad is None:
                continue
            seen.add(id(t))
            queue += list(t.inputs)"""

SIGMOID = """        e = np.exp(-np.abs(self.data))  # <= 1: no overflow for any x
        out = np.where(self.data >= 0, 1, e) / (1 + e)"""

SUM_FRONT = (
    "    g = g.sum(axis=tuple(range(g.ndim - len(shape))))  # the axes broadcasting put in front"
)
SUM_ONES = "    ones = tuple(i for i, n in enumerate(shape) if n == 1)"
ADAM_HATS = "m_hat, v_hat = m / (1 - beta1**self.t), v / (1 - beta2**self.t)"
ADAM_UPDATE = "            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n"

INIT = "rng.standard_normal((n_out, n_in)) * std"
SGD_GUARDED = """            if p.grad is not None:
                v *= self.momentum
                v += p.grad
                p.data -= self.lr * v"""
SGD_UNGUARDED = """            v *= self.momentum
            v += p.grad
            p.data -= self.lr * v"""
SEED_LINES = """        seed = np.ones_like(self.data) if grad is None else np.asarray(grad, np.float64)
        self.grad = seed if self.grad is None else self.grad + seed  # a leaf root adds up too
"""

# (step, [(old, new), ...], words the hint must contain)
MISTAKES = {
    # 03: Tensor, + and *
    "the vjp of + returns one array, not a pair": (
        "03",
        [("(self, other), lambda g: (g, g))", "(self, other), lambda g: g)")],
        ["one array, not a tuple"],
    ),
    "data kept as integers": (
        "03",
        [("np.asarray(data, dtype=np.float64)", "np.asarray(data)")],
        ["float64), not an array of int"],
    ),
    "+ changes its left input in place": (
        "03",
        [(
            "        return node(self.data + other.data, (self, other)",
            "        self.data += other.data\n        return node(self.data, (self, other)",
        )],
        ["changed after it was made", "in place"],
    ),
    # 04: toposort and backward
    "intermediate gradients kept from an earlier pass": (
        "04",
        [("                t.grad = None  # gradients of intermediate", "                pass  #")],
        ["second backward()", "clear", "intermediate"],
    ),
    "every gradient, the leaves' too, cleared by backward": (
        "04",
        [("            if t.vjp is not None:\n                t.grad = None", "            t.grad = None")],
        ["second backward()", "leaf's gradients add up"],
    ),
    "backward ignores the grad it is given": (
        "04",
        [(
            "np.ones_like(self.data) if grad is None else np.asarray(grad, np.float64)",
            "np.ones_like(self.data)",
        )],
        ["grad it is given"],
    ),
    "a recursive toposort": ("04", [(TOPOSORT, RECURSIVE_TOPOSORT)], ["recursion", "2,500"]),
    "backward breadth first, each node once": (
        "04",
        [(VISIT_LOOP, BREADTH_FIRST_BACKWARD)],
        ["after every node that uses it"],
    ),
    "the seed is a scalar 1 for a non-scalar output": (
        "04",
        [("np.ones_like(self.data) if grad is None", "np.float64(1.0) if grad is None")],
        ["ones of the output's own shape"],
    ),
    "grad starts at 0.0 instead of None": (
        "04",
        [
            ("        self.grad = None\n        self.requires_grad", "        self.grad = 0.0\n        self.requires_grad"),
            ("            if t.vjp is None or t.grad is None:", "            if t.vjp is None:"),
        ],
        ["stay None"],
    ),
    "the vjp of - ignores the upstream gradient": (
        "04",
        [("lambda g: (g, -g))", "lambda g: (np.ones_like(g), -np.ones_like(g)))")],
        ["upstream gradient"],
    ),
    "the divisor's gradient misses the dividend": (
        "04",
        [("-g * out / y)", "-g / y**2)")],
        ["with respect to y"],
    ),
    "the vjp of / ignores the upstream gradient for the dividend": (
        "04",
        [("lambda g: (g / y, ", "lambda g: (1 / y, ")],
        ["x0 in x0 / x1", "upstream gradient"],
    ),
    "backward calls each vjp with ones, not the node's gradient": (
        "04",
        [("t.vjp(t.grad)", "t.vjp(np.ones_like(t.grad))")],
        ["every op's vjp is right", "node's own gradient"],
    ),
    "backward hands a number (x + 2.5) a gradient, before notebook 05's sum_to_shape": (
        "04",
        [
            (SUM_FRONT, '    raise NotImplementedError("sum_to_shape: see notebook 05, \\"Your engine\\", part 2")'),
            ("                if x.requires_grad:\n", "                if True:\n"),
        ],
        ["a piece of notebook 05", "inputs that require one"],
    ),
    "toposort outputs first, and backward calls a vjp with None": (
        "04",
        [
            ("key=lambda t: t.seq)  # made later", "key=lambda t: -t.seq)  # made later"),
            ("            if t.vjp is None or t.grad is None:", "            if t.vjp is None:"),
        ],
        ["got None as its upstream gradient", "every node that uses it"],
    ),
    # 05: sum_to_shape, @, mean
    "sum_to_shape removes only one leading axis": (
        "05",
        [(SUM_FRONT, "    g = g.sum(axis=0) if g.ndim > len(shape) else g")],
        ["summed back"],
    ),
    "sum_to_shape in one go, the length-1 axes not moved past the leading ones": (
        "05",
        [
            (SUM_FRONT, "    lead = g.ndim - len(shape)"),
            (SUM_ONES, SUM_ONES.replace("ones = ", "ones = tuple(range(lead)) + ")),
            ("    return g.sum(axis=ones, keepdims=True)", "    return g.sum(axis=ones, keepdims=True).reshape(shape)"),
        ],
        ["raised ValueError in sum_to_shape"],
    ),
    "sum's vjp hands back the upstream gradient without copying it out": (
        "05",
        [("            return (np.broadcast_to(g, x.shape),)", "            return (g,)")],
        ["the vjp of sum", "every entry that was reduced"],
    ),
    "sum_to_shape drops the axes of length 1": (
        "05",
        [("    return g.sum(axis=ones, keepdims=True)", "    return g.sum(axis=ones)")],
        ["axis of length 1 went missing"],
    ),
    "mean over an axis divides by every entry": (
        "05",
        [("n = self.data.size if axis is None else self.data.shape[axis]", "n = self.data.size")],
        ["mean(axis=0)", "divides the sum by the length of axis 0"],
    ),
    "the factors of @ swapped in its vjp": (
        "05",
        [("(g @ y.T, x.T @ g)", "(g @ x.T, y.T @ g)")],
        ["raised ValueError in the vjp of Tensor.__matmul__"],
    ),
    "sum_to_shape skips a length-1 first axis": (
        "05",
        [(SUM_ONES, SUM_ONES.replace("if n == 1", "if n == 1 and i > 0"))],
        ["summed back"],
    ),
    "the gradient of @'s second factor transposed": (
        "05",
        [("(g @ y.T, x.T @ g)", "(g @ y.T, g.T @ x)")],
        ["the transpose of", "factor's shape"],
    ),
    "mean over an axis divides by the first axis' length": (
        "05",
        [("else self.data.shape[axis]", "else self.data.shape[0]")],
        ["divides the sum by the length of axis 1"],
    ),
    # 07: activations
    "relu zeroes its input in place": (
        "07",
        [(
            "        return node(np.maximum(x, 0), (self,), lambda g: (g * (x > 0),))",
            "        mask = x > 0\n        x *= mask\n        return node(x, (self,), lambda g: (g * mask,))",
        )],
        ["changed after it was made", "in place"],
    ),
    "relu's gradient 1 at 0": (  # was told '1 where positive, 0 elsewhere': not where it was off
        "07",
        [("(g * (x > 0),))", "(g * (x >= 0),))")],
        ["only where the input is exactly 0", "negative side's slope"],
    ),
    "relu's gradient 1 where the input is negative": (
        "07",
        [("(g * (x > 0),))", "(g * (x < 0),))")],
        ["0 elsewhere"],
    ),
    "sigmoid overflows for large negative inputs": (
        "07",
        [(SIGMOID, "        out = 1 / (1 + np.exp(-self.data))")],
        ["overflow"],
    ),
    "sigmoid's two branches both computed": (
        "07",
        [(SIGMOID, "        x = self.data\n        out = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))")],
        ["overflow"],
    ),
    "exp's vjp ignores the upstream gradient": (
        "07",
        [("(g * out,))\n        ### END SOLUTION\n\n    def log", "(out,))\n        ### END SOLUTION\n\n    def log")],
        ["upstream gradient"],
    ),
    # 08: cross_entropy
    "cross_entropy's vjp ignores the upstream gradient": (
        "08",
        [("(g * (np.exp(log_a) - y) / n,)", "((np.exp(log_a) - y) / n,)")],
        ["upstream gradient"],
    ),
    "cross_entropy shifted by the largest logit of the batch": (
        "08",
        [("logits.data.max(axis=1, keepdims=True)", "logits.data.max()")],
        ["each row"],
    ),
    "cross_entropy shifted by each row's mean, not its maximum": (
        "08",
        [("logits.data.max(axis=1, keepdims=True)", "logits.data.mean(axis=1, keepdims=True)")],
        ["largest logit"],
    ),
    "cross_entropy's vjp changes the softmax it kept": (
        "08",
        [(
            "    return node(loss, (logits,), lambda g: (g * (np.exp(log_a) - y) / n,))",
            "    a = np.exp(log_a)\n\n    def vjp(g):\n        a[...] -= y\n        return (g * a / n,)\n\n"
            "    return node(loss, (logits,), vjp)",
        )],
        ["second backward()", "vjp of cross_entropy changed"],
    ),
    "cross_entropy takes every example's log-probability at every label": (
        "08",
        [("    loss = -(log_a * y).sum() / n", "    loss = -log_a[:, labels].mean()")],
        ["its own label"],
    ),
    # 09: Linear
    "a bias that does not require grad": (
        "09",
        [("self.bias = Tensor(np.zeros(n_out), requires_grad=True)", "self.bias = Tensor(np.zeros(n_out))")],
        ["require gradients"],
    ),
    "the MLP's ReLU before each layer, not after": (
        "09",
        [(
            "        for layer in self.layers[:-1]:\n            x = layer(x).relu()\n        return self.layers[-1](x)",
            "        for layer in self.layers:\n            x = layer(x.relu())\n        return x",
        )],
        ["a ReLU after each layer but the last"],
    ),
    # 11: Residual
    "the skip cut out of the graph": (
        "11",
        [("return x + self.linear(x).relu()", "return Tensor(x.data) + self.linear(x).relu()")],
        ["skip's share is missing"],
    ),
    # 09: Linear's initial weights (the training cell seeds rng and repeats the notebook's run)
    "weights drawn from numpy's global generator (passed)": (
        "09",
        [(INIT, "np.random.randn(n_out, n_in) * std")],
        ["numpy's global generator", "module's rng"],
    ),
    "weights drawn from a new generator seeded 0 in every layer (passed)": (
        "09",
        [(INIT, "np.random.default_rng(0).standard_normal((n_out, n_in)) * std")],
        ["the same numbers in every layer", "next numbers of the module's rng"],
    ),
    "weights drawn transposed (passed)": (
        "09",
        [(INIT, "rng.standard_normal((n_in, n_out)).T * std")],
        ["(n_in, n_out) and transposed", "(n_out, n_in)"],
    ),
    "weights not scaled (passed)": (
        "09",
        [(INIT, "rng.standard_normal((n_out, n_in))")],
        ["standard deviation 1", "not scaled down"],
    ),
    "weights at another standard deviation, 0.01 (passed)": (
        "09",
        [("std = np.sqrt(2 / n_in)", "std = 0.01")],
        ["standard deviation 0.01", "asks for 0.1"],
    ),
    "weights drawn as float32 numbers (refused as not the module rng's)": (
        "09",
        [(INIT, "rng.standard_normal((n_out, n_in), dtype=np.float32) * std")],
        ["drawn as float32", "in float64"],
    ),
    "a bias drawn from rng and then zeroed (refused as not the module rng's)": (
        "09",
        [("Tensor(np.zeros(n_out), requires_grad=True)", "Tensor(0 * rng.standard_normal(n_out), requires_grad=True)")],
        ["the module rng's numbers with 128 other numbers drawn among them", "a bias drawn"],
    ),
    "a bias drawn before the weight and then zeroed (refused as not the module rng's)": (
        "09",
        [("        std = np.sqrt(2 / n_in)", "        b = rng.standard_normal(n_out) * 0\n        std = np.sqrt(2 / n_in)"),
         ("Tensor(np.zeros(n_out), requires_grad=True)", "Tensor(b, requires_grad=True)")],
        ["with 256 other numbers drawn among them"],
    ),
    "weights drawn uniformly at 0.1's spread (passed)": (
        "09",
        [(INIT, "rng.uniform(-1, 1, (n_out, n_in)) * np.sqrt(3) * 0.1")],
        ["not spread like normal numbers"],
    ),
    # 09 and 12: a parameter the loss does not use (grad None) is left as it is
    "SGD steps a parameter without a gradient (passed)": (
        "09",
        [(SGD_GUARDED, SGD_UNGUARDED)],
        ["SGD(lr=0.1, momentum=0.0) failed", "the loss does not use", "grad is None"],
    ),
    "Adam steps a parameter without a gradient (passed)": (
        "12",
        [("            if p.grad is None:\n                continue\n", "")],
        ["Adam(", "failed on a parameter that the loss does not use"],
    ),
    "t counted once per parameter, before the one without a gradient is skipped": (
        "12",
        [
            ("        self.t += 1\n", ""),
            ("            if p.grad is None:\n", "            self.t += 1\n            if p.grad is None:\n"),
        ],
        ["not once per parameter"],
    ),
    # 04: backward() on a leaf
    "backward() on a leaf overwrites its gradient (passed)": (
        "04",
        [(SEED_LINES, "        self.grad = np.ones_like(self.data) if grad is None else np.asarray(grad, np.float64)\n")],
        ["backward() on a leaf", "called twice", "second seed alone", "add up"],
    ),
    "backward() on a leaf does nothing (passed)": (
        "04",
        [("        order = toposort(self)\n", "        if self.vjp is None:\n            return\n        order = toposort(self)\n")],
        ["backward() on a leaf", "left its gradient empty"],
    ),
    # 12: Adam
    "t counted after the update (0 on the first step)": (
        "12",
        [("        self.t += 1\n", ""), (ADAM_UPDATE, ADAM_UPDATE + "        self.t += 1\n")],
        ["t must be 1 on the first step"],
    ),
    "t counted once per parameter": (
        "12",
        [
            ("        self.t += 1\n", ""),
            ("                continue\n            m[...]", "                continue\n            self.t += 1\n            m[...]"),
        ],
        ["not once per parameter"],
    ),
    "eps added to the step, not to the denominator": (
        "12",
        [(ADAM_UPDATE, "            p.data -= self.lr * m_hat / np.sqrt(v_hat) + self.eps\n")],
        ["not to the step"],
    ),
    "the step divided by v_hat, not its square root": (
        "12",
        [("(np.sqrt(v_hat) + self.eps)", "(v_hat + self.eps)")],
        ["square root of v_hat"],
    ),
    "the own op's vjp ignores the upstream gradient": (
        "12",
        [("(g * (1 - np.exp(-out)),)", "((1 - np.exp(-out)),)")],
        ["local gradient alone"],
    ),
    "t one step ahead": (
        "12",
        [(ADAM_HATS, ADAM_HATS.replace("**self.t", "** (self.t + 1)"))],
        ["t must be 1 on the first step"],
    ),
    "only m bias-corrected": (
        "12",
        [(ADAM_HATS, "m_hat, v_hat = m / (1 - beta1**self.t), v")],
        ["v as well as m"],
    ),
    "m and v not kept between steps": (
        "12",
        [
            ("            m[...] = beta1 * m", "            m = beta1 * m"),
            ("            v[...] = beta2 * v", "            v = beta2 * v"),
        ],
        ["kept from one step to the next"],
    ),
    "the corrected averages stored in m and v": (
        "12",
        [(ADAM_HATS, "m /= 1 - beta1**self.t\n            v /= 1 - beta2**self.t\n            m_hat, v_hat = m, v")],
        ["uncorrected"],
    ),
    # found by re-reading every step's hints (each passed, or was told a wrong cause, before)
    "the package imported inside a method, not at the top of the file": (
        "03",
        [(
            "        self.data = np.asarray(data, dtype=np.float64)",
            "        import backproplab  # noqa\n        self.data = np.asarray(data, dtype=np.float64)",
        )],
        ["uses backproplab itself (Tensor.__init__)"],
    ),
    "sum_to_shape borrowed from the package inside the function": (
        "05",
        [(
            "    if g.shape == shape:  # nothing was broadcast\n        return g",
            "    from backproplab.autodiff import sum_to_shape as s\n    return s(g, shape)",
        )],
        ["uses backproplab itself (sum_to_shape)"],
    ),
    "the seed is 2, not 1 (was: 'it is 2 times the right one')": (
        "04",
        [("np.ones_like(self.data) if grad is None", "2 * np.ones_like(self.data) if grad is None")],
        ["starts from a gradient of ones"],
    ),
    "tanh built from sigmoid, not a node with a vjp of its own (passed)": (
        "07",
        [(
            "        out = np.tanh(self.data)\n        return node(out, (self,), lambda g: (g * (1 - out**2),))",
            "        return (self * 2).sigmoid() * 2 - 1",
        )],
        ["your tanh is built from other ops"],
    ),
    "the log of a softmax that underflowed (was told only to shift each row, which it did)": (
        "08",
        [(
            "    log_a = z - np.log(np.exp(z).sum(axis=1, keepdims=True))",
            "    log_a = np.log(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))",
        )],
        ["largest logit", "z - log(sum of e^z)"],
    ),
    "the layer computes with a copy of its weight (was told 'parameters require gradients')": (
        "09",
        [("        return x @ self.weight.T + self.bias", "        return x @ Tensor(self.weight.data).T + self.bias")],
        ["those very tensors"],
    ),
    "SGD ignores its lr (passed: the check's only rate was 0.1)": (
        "09",
        [("                p.data -= self.lr * v", "                p.data -= 0.1 * v")],
        ["SGD(lr=0.05", "are off"],
    ),
    "SGD changes the gradient, not the data": (
        "09",
        [("                p.data -= self.lr * v", "                p.grad -= self.lr * v")],
        ["did not move"],
    ),
    "the bias starts random (passed)": (
        "09",
        [("self.bias = Tensor(np.zeros(n_out), requires_grad=True)", "self.bias = Tensor(rng.standard_normal(n_out), requires_grad=True)")],
        ["biases of Linear do not start at 0"],
    ),
    "Adam changes the gradient, not the data": (
        "12",
        [(ADAM_UPDATE, ADAM_UPDATE.replace("p.data -=", "p.grad -="))],
        ["did not move"],
    ),
    "only v bias-corrected": (
        "12",
        [(ADAM_HATS, "m_hat, v_hat = m, v / (1 - beta2**self.t)")],
        ["m as well as v"],
    ),
    "Adam's betas swapped": (
        "12",
        [("        beta1, beta2 = self.betas", "        beta2, beta1 = self.betas")],
        ["beta1 belongs to m"],
    ),
    "the own op built from other ops (passed: its gradient was never the learner's)": (
        "12",
        [(
            "        out = np.logaddexp(0.0, self.data)  # log(e^0 + e^x), which numpy keeps finite\n"
            "        return node(out, (self,), lambda g: (g * (1 - np.exp(-out)),))",
            "        return (self.exp() + 1).log()",
        )],
        ["your softplus is built from other ops"],
    ),
    "the own op overwrites its input (passed)": (
        "12",
        [("        out = np.logaddexp(0.0, self.data)", "        self.data[...] = np.logaddexp(0.0, self.data)\n        out = self.data")],
        ["changed its input in place"],
    ),
    # found by mutation testing the teacher's file (one small change each; every check passed)
    "the own op returns its input itself (passed: its gradient, 1, agrees with its forward)": (
        "12",
        [("        return node(out, (self,), lambda g: (g * (1 - np.exp(-out)),))", "        return self")],
        ["your softplus returns a tensor that no node made from its input"],
    ),
    "toposort goes on from a tensor every time it reaches it (passed: 2^n steps on fan-out)": (
        "04",
        [(
            "            if id(x) not in found:\n                found[id(x)] = x\n                stack.append(x)",
            "            found[id(x)] = x\n            stack.append(x)",
        )],
        ["v = v + v, repeated 40 times", "2 to the power of 40", "only the first time"],
    ),
    "toposort's memory never consulted (passed: 2^n steps on fan-out)": (
        "04",
        [("            if id(x) not in found:", "            if x not in found:")],
        ["2 to the power of 40", "remember the tensors found"],
    ),
    "backward gives a gradient to every input, also one that requires none (passed)": (
        "04",
        [("                if x.requires_grad:\n", "                if True:\n")],
        ["without requires_grad", "gave x a gradient", "stays None"],
    ),
    "backward keeps the grad it is given as it comes, a list say (passed)": (
        "04",
        [("else np.asarray(grad, np.float64)", "else grad")],
        ["grad given as a list of numbers failed", "array of floats"],
    ),
    "Adam stops at the first parameter without a gradient (passed: fit leaves out the last)": (
        "12",
        [("                continue\n            m[...]", "                break\n            m[...]")],
        ["listed before one it uses", "did not take its step", "goes on to the next"],
    ),
    # mutants of step 03's nodes that only step 04 rejected, blaming toposort or the op's rule
    "+ keeps its right input twice (was: 'toposort left out v2')": (
        "04",
        [("node(self.data + other.data, (self, other)", "node(self.data + other.data, (other, other)")],
        ["the node of x0 + x1 does not keep x0 among its inputs"],
    ),
    "* keeps its left input twice (was: 'toposort left out x1')": (
        "04",
        [("node(x * y, (self, other)", "node(x * y, (self, self)")],
        ["the node of x0 * x1 does not keep x1 among its inputs"],
    ),
    "* keeps its inputs swapped (was: 'a product's local gradient ... the other input')": (
        "04",
        [("node(x * y, (self, other)", "node(x * y, (other, self)")],
        ["in x0 * x1, each input got the gradient its vjp gives the other", "other order"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_wrong_engine_is_rejected_with_the_hint_that_names_its_mistake(mistake):
    step, edits, words = MISTAKES[mistake]
    text = TEXT
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    with np.errstate(all="ignore"):
        feedback = check(load(text, "mygrad_adversarial"), step)
    assert_hint(feedback, *words)
    assert "Traceback" not in feedback.message


@pytest.mark.parametrize(
    "first, edits",
    [
        ("09", [("std = np.sqrt(2 / n_in)", "std = 0.1")]),  # notebook 09's own guess
        ("09", [(INIT, "rng.normal(0.0, std, size=(n_out, n_in))")]),
        ("09", [(INIT, "std * rng.standard_normal(size=(n_out, n_in))")]),
        (
            "09",
            [
                ("std = np.sqrt(2 / n_in)", "std = 1"),
                (INIT, "rng.standard_normal((n_out, n_in)) / 10"),
            ],
        ),
        # float32: the same draws rounded (the check compared them to 1e-8 and said they were
        # not the module rng's numbers)
        ("09", [(INIT, "(rng.standard_normal((n_out, n_in)) * std).astype(np.float32)")]),
        ("09", [("np.asarray(data, dtype=np.float64)", "np.asarray(data, dtype=np.float32)")]),
    ],
    ids=[
        "0.1",
        "normal(0, std)",
        "std times the draws",
        "divided by 10",
        "cast to float32",
        "float32 tensors",
    ],
)
def test_initial_weights_written_differently_still_pass(first, edits):
    """The right inits of notebook 09, which the check of where the draws come from accepts."""
    text = TEXT
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    feedback = check(load(text, "mygrad_init"), first)
    assert feedback.passed, feedback
