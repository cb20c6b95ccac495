"""Right answers written differently from the teacher's notebooks/mygrad.py (another graph walk,
a dict instead of a set, a class instead of a closure, another loop order, another but equal
form of a rule) pass every engine check from their notebook on: a check that refuses a right
answer is as wrong as one that accepts a wrong answer. Found by a learner's walk through the
workbook, which wrote each piece from the notebooks' words alone; and that walk's mistakes that
got a hint blaming another piece."""

import pytest
from exercise_helpers import hint_asserter
from test_adversarial_mygrad import TOPOSORT
from test_mygrad import TEXT, check, load

from backproplab.exercises.mygrad import STEPS

assert_hint = hint_asserter(["np.", "lambda", "+=", ".grad =", "sum_to_shape(", "for t in"])

SORTED_BY_SEQ = TOPOSORT  # the teacher's toposort, the text each variant replaces

# depth first, each tensor pushed twice (visit its inputs, then append it); a set of tensors
# (mygrad's Tensor has no __eq__, so a set compares them by identity)
DEPTH_FIRST = """    order, visited, stack = [], set(), [(root, False)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
        elif t not in visited:
            visited.add(t)
            stack.append((t, True))
            stack.extend((x, False) for x in t.inputs if x not in visited)
    return order"""

# Kahn's algorithm from the root: a tensor is placed once every tensor that uses it is placed
KAHN = """    users, seen, stack = {}, {id(root): root}, [root]
    while stack:
        for x in stack.pop().inputs:
            users[id(x)] = users.get(id(x), 0) + 1
            if id(x) not in seen:
                seen[id(x)] = x
                stack.append(x)
    order, ready = [], [root]
    while ready:
        t = ready.pop()
        order.append(t)
        for x in t.inputs:
            users[id(x)] -= 1
            if users[id(x)] == 0:
                ready.append(x)
    return order[::-1]"""

ACCUMULATE = (
    "                    x.grad = g if x.grad is None else x.grad + g  # paths add up, here only"
)
SEED = (
    "        seed = np.ones_like(self.data) if grad is None else np.asarray(grad, np.float64)\n"
    "        self.grad = seed if self.grad is None else self.grad + seed  # a leaf root adds up too"
)
VISIT = "        for t in reversed(order):  # outputs before inputs: t.grad is complete here"
MUL = "        return node(x * y, (self, other), lambda g: (g * y, g * x))"
SUM_TO_SHAPE = """    g = g.sum(axis=tuple(range(g.ndim - len(shape))))  # the axes broadcasting put in front
    ones = tuple(i for i, n in enumerate(shape) if n == 1)
    return g.sum(axis=ones, keepdims=True)  # the axes of length 1 it stretched"""
CROSS_ENTROPY = """    y = np.eye(z.shape[1])[labels]  # one row per example, 1 at its label
    loss = -(log_a * y).sum() / n
    return node(loss, (logits,), lambda g: (g * (np.exp(log_a) - y) / n,))  # delta = a - y"""
SGD_STEP = """                v *= self.momentum
                v += p.grad
                p.data -= self.lr * v"""
ADAM_UPDATE = """            m_hat, v_hat = m / (1 - beta1**self.t), v / (1 - beta2**self.t)  # no bias to 0
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)"""
OWN_OP = "    # ---------------------------------------------------------- notebook 12: my own op\n"
SILU = """    def silu(self):
        \"\"\"x * sigmoid(x) for each element.\"\"\"
        x = self.data
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1, e) / (1 + e)
        return node(x * s, (self,), lambda g: (g * (s + x * s * (1 - s)),))

"""

# name -> (the notebook of the piece, [(teacher's lines, the variant's lines), ...])
RIGHT = {
    "toposort depth first, a set of tensors": ("04", [(SORTED_BY_SEQ, DEPTH_FIRST)]),
    "toposort by Kahn's algorithm, a dict of counts": ("04", [(SORTED_BY_SEQ, KAHN)]),
    "backward walks order[::-1], adds in an if, adds the seed to a leaf root": (
        "04",
        [
            (VISIT, "        for t in order[::-1]:"),
            (
                ACCUMULATE,
                "                    if x.grad is None:\n"
                "                        x.grad = g.copy()\n"
                "                    else:\n"
                "                        x.grad = x.grad + g",
            ),
            (
                SEED,
                "        seed = np.ones(self.shape) if grad is None else np.array(grad, float)\n"
                "        self.grad = seed if self.grad is None else self.grad + seed",
            ),
        ],
    ),
    "mul's vjp a class, not a closure": (
        "03",
        [(MUL, "        return node(x * y, (self, other), _MulVjp(x, y))")],
    ),
    "sum_to_shape one axis at a time": (
        "05",
        [(
            SUM_TO_SHAPE,
            "    while g.ndim > len(shape):\n"
            "        g = g.sum(axis=0)\n"
            "    for i, n in enumerate(shape):\n"
            "        if n == 1 and g.shape[i] != 1:\n"
            "            g = g.sum(axis=i, keepdims=True)\n"
            "    return g",
        )],
    ),
    "mean as the sum times 1/n": (
        "05",
        [("        return self.sum(axis) / n", "        return self.sum(axis) * (1 / n)")],
    ),
    "cross_entropy by indexing the labels, and a vjp that writes its own copy": (
        "08",
        [(
            CROSS_ENTROPY,
            "    rows = np.arange(n)\n"
            "    loss = -log_a[rows, labels].mean()\n\n"
            "    def vjp(g):\n"
            "        d = np.exp(log_a)\n"
            "        d[rows, labels] -= 1\n"
            "        return (g * d / n,)\n\n"
            "    return node(loss, (logits,), vjp)",
        )],
    ),
    "momentum as v = mu v - lr g, p += v; zero_grad to zeros": (
        "09",
        [
            (
                SGD_STEP,
                "                v *= self.momentum\n"
                "                v -= self.lr * p.grad\n"
                "                p.data += v",
            ),
            ("            p.grad = None", "            p.grad = np.zeros_like(p.data)"),
        ],
    ),
    "He's scale drawn uniformly": (
        "10",
        [(
            "rng.standard_normal((n_out, n_in)) * std",
            "rng.uniform(-1, 1, (n_out, n_in)) * np.sqrt(3) * std",
        )],
    ),
    "the residual branch added first, F(x) + x": (
        "11",
        [("return x + self.linear(x).relu()", "return self.linear(x).relu() + x")],
    ),
    "Adam's bias corrections folded into the step (PyTorch's form)": (
        "12",
        [(
            ADAM_UPDATE,
            "            step = self.lr / (1 - beta1**self.t)\n"
            "            denom = np.sqrt(v) / np.sqrt(1 - beta2**self.t) + self.eps\n"
            "            p.data -= step * m / denom",
        )],
    ),
    "an own op of another name, SiLU, beside softplus": (
        "12",
        [
            (OWN_OP, OWN_OP + SILU),
            ('    return "softplus"', '    return "silu"'),
        ],
    ),
}  # fmt: skip

MUL_CLASS = '''

class _MulVjp:
    """The vjp of x * y as an object: g -> (g y, g x)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __call__(self, g):
        return (g * self.y, g * self.x)
'''


def variant(edits: list) -> str:
    text = TEXT
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text + MUL_CLASS


@pytest.mark.parametrize("name", list(RIGHT))
def test_a_right_answer_written_differently_passes(name):
    first, edits = RIGHT[name]
    engine = load(variant(edits), "mygrad_variant")
    for step in [s for s in STEPS if s >= first]:
        feedback = check(engine, step)
        assert feedback.passed, (step, feedback.message)


def test_the_variants_are_not_the_teachers_code():
    for _, edits in RIGHT.values():
        assert variant(edits) != TEXT + MUL_CLASS


# ---------------------------------------------------------- the walk's mistakes, hinted
def test_adding_in_place_after_a_depth_first_order_is_named():
    """With the engine's order (by seq), adding in place first shows in the probe that names
    it; with a depth-first order it showed in the first graph instead, as "a product's local
    gradient is the other input" of a * that had passed notebook 03's check."""
    text = variant(
        [
            (SORTED_BY_SEQ, DEPTH_FIRST),
            (
                ACCUMULATE,
                "                    if x.grad is None:\n"
                "                        x.grad = g\n"
                "                    else:\n"
                "                        x.grad += g",
            ),
        ]
    )
    feedback = check(load(text, "mygrad_in_place"), "04")
    assert_hint(feedback, "the very array that holds the gradient of", "in place", "new array")
    assert "local gradient" not in feedback.message


def test_summing_back_over_the_trailing_axes_is_named():
    """sum_to_shape written, but over the last axes: was told to write sum_to_shape."""
    front = "    g = g.sum(axis=tuple(range(g.ndim - len(shape))))"
    text = variant([(front, "    g = g.sum(axis=tuple(range(len(shape), g.ndim)))")])
    feedback = check(load(text, "mygrad_trailing_axes"), "05")
    assert_hint(feedback, "the wrong axes", "in front")
    assert "(sum_to_shape)" not in feedback.message


# ------------------------------------------------- in place: right numbers, changed arrays
def _vjp(body: str, out: str, inputs: str) -> str:
    """A node whose vjp is the function ``body`` (its lines after ``def vjp(g):``)."""
    lines = "".join(f"            {line}\n" for line in body.split("; "))
    return f"        def vjp(g):\n{lines}        return node({out}, {inputs}, vjp)"


MUL_VJP = "        return node(x * y, (self, other), lambda g: (g * y, g * x))"
DIV_VJP = "        return node(out, (self, other), lambda g: (g / y, -g * out / y))"
MATMUL_VJP = "        return node(x @ y, (self, other), lambda g: (g @ y.T, x.T @ g))"
TANH_VJP = "        return node(out, (self,), lambda g: (g * (1 - out**2),))"
LOG_VJP = "        return node(np.log(x), (self,), lambda g: (g / x,))"
EXP_VJP = "        return node(out, (self,), lambda g: (g * out,))"
SIGMOID_VJP = "        return node(out, (self,), lambda g: (g * out * (1 - out),))"
SOFTPLUS_VJP = "        return node(out, (self,), lambda g: (g * (1 - np.exp(-out)),))"
SHIFT = (
    "    z = logits.data - logits.data.max(axis=1, keepdims=True)  # the largest logit becomes 0"
)
UPSTREAM = "changed the upstream gradient it was given, in place"
KEPT = "is right after the forward pass, but backward() changed it"

# name -> (the notebook of the piece, (teacher's lines, the variant's lines), what the hint says)
IN_PLACE = {
    "mul's vjp multiplies g in place": (
        "03", (MUL_VJP, _vjp("gx = g * x; g *= y; return (g, gx)", "x * y", "(self, other)")),
        f"the vjp of x * y {UPSTREAM}",
    ),
    "mul's vjp multiplies g in place, seen by backward()": (
        "04", (MUL_VJP, _vjp("gx = g * x; g *= y; return (g, gx)", "x * y", "(self, other)")),
        f"the vjp of x0 * x1 {UPSTREAM}",
    ),
    "truediv's vjp divides g in place": (
        "04", (DIV_VJP, _vjp("gy = -g * out / y; g /= y; return (g, gy)", "out", "(self, other)")),
        f"the vjp of x0 / x1 {UPSTREAM}",
    ),
    "matmul's vjp clears g after using it": (
        "05",
        (MATMUL_VJP, _vjp("gx, gy = g @ y.T, x.T @ g; g[...] = 0; return (gx, gy)", "x @ y",
                          "(self, other)")),
        f"the vjp of x0 @ x1 {UPSTREAM}",
    ),
    "tanh's vjp multiplies g in place": (
        "07", (TANH_VJP, _vjp("g *= 1 - out**2; return (g,)", "out", "(self,)")),
        f"the vjp of x0.tanh() {UPSTREAM}",
    ),
    "log's vjp divides g in place": (
        "07", (LOG_VJP, _vjp("g /= x; return (g,)", "np.log(x)", "(self,)")),
        f"the vjp of x0.log() {UPSTREAM}",
    ),
    "exp's vjp writes its result into the output": (
        "07", (EXP_VJP, _vjp("out[...] = g * out; return (out,)", "out", "(self,)")),
        f"the value of v1 = x0.exp() {KEPT}",
    ),
    "sigmoid's vjp writes sigmoid' into the output": (
        "07", (SIGMOID_VJP, _vjp("out[...] = out * (1 - out); return (g * out,)", "out", "(self,)")),
        f"the value of v1 = x0.sigmoid() {KEPT}",
    ),
    "cross_entropy shifts the logits' own array": (
        "08", (SHIFT, "    z = logits.data\n    z -= z.max(axis=1, keepdims=True)"),
        "the value of v2 = x0 @ x1 is right when it is made, but a later op changed it",
    ),
    "softplus's vjp multiplies g in place": (
        "12", (SOFTPLUS_VJP, _vjp("g *= 1 - np.exp(-out); return (g,)", "out", "(self,)")),
        f"the vjp of softplus {UPSTREAM}",
    ),
    "SGD scales the gradient in place": (
        "09", ("                p.data -= self.lr * v",
               "                p.grad *= self.lr\n                p.data -= self.lr * v"),
        "SGD(lr=0.1, momentum=0.0): step() changed a parameter's gradient (its .grad) in place",
    ),
    "Adam squares the gradient in place": (
        "12",
        ("            v[...] = beta2 * v + (1 - beta2) * p.grad**2  # and of their squares",
         "            p.grad **= 2\n            v[...] = beta2 * v + (1 - beta2) * p.grad"),
        "step() changed a parameter's gradient (its .grad) in place",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_an_engine_that_changes_an_array_in_place_is_told_so(name):
    """Each gave the right numbers where the check looked, and changed an array the engine still
    uses: some passed (mul's vjp at step 03, softplus's, SGD and Adam changing .grad), the others
    heard a hint blaming something else (the seed, fan-out, the local gradient, the forward of
    exp, sigmoid or @). Found by the in-place audit."""
    step, edit, words = IN_PLACE[name]
    feedback = check(load(variant([edit]), "mygrad_in_place_audit"), step)
    assert_hint(feedback, words)
    for other in ("check the forward of", "backward starts from", "very array", "local gradient"):
        assert other not in feedback.message, feedback


def test_a_log_of_the_exponent_in_rpow_s_vjp_is_named():
    """base ** x with the log taken of x instead of the base: nan where x < 0, and the hint
    asked whether the rule divides by x (found trying the likely slips of each step)."""
    rpow = "        return node(out, (self,), lambda g: (g * out * np.log(base),))"
    text = variant([(rpow, rpow.replace("np.log(base)", "np.log(self.data)"))])
    feedback = check(load(text, "mygrad_log_of_x"), "04")
    assert_hint(feedback, "a log of x, which is negative there", "x the exponent")
    assert "divide" not in feedback.message
