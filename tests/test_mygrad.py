"""The learner's engine, notebooks/mygrad.py: the teacher's version passes every self-check,
agrees with the package on random programs and trains the digits; plausible mistakes get the hint
that names them; the student release stubs every piece with a pointer, and grades to zero."""

import csv
import importlib.util
import io
import re
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import backproplab as bl
from backproplab.classroom.__main__ import main
from backproplab.classroom.release import release, strip_solutions
from backproplab.exercises.mygrad import STEPS, check_step

SOURCE = Path(__file__).resolve().parent.parent / "notebooks" / "mygrad.py"
TEXT = SOURCE.read_text()


def load(text: str, name: str = "mygrad_under_test"):
    """The module made from ``text`` (a version of mygrad.py)."""
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and friends look modules up by name
    exec(compile(text, f"{name}.py", "exec"), module.__dict__)
    return module


def changed(old: str, new: str):
    """The teacher's mygrad with one line changed: a plausible mistake."""
    assert TEXT.count(old) == 1, old
    return load(TEXT.replace(old, new))


def check(module, step):
    return check_step(step, module)  # step 12: the op named by the module's own_op()


teacher = load(TEXT, "mygrad_teacher")


@pytest.mark.parametrize("step", list(STEPS))
def test_the_teachers_engine_passes_every_check(step):
    assert check(teacher, step).passed, check(teacher, step)


def test_step_12_checks_the_op_own_op_names():
    assert check_step("12", teacher, own_op="softplus").passed
    feedback = check_step("12", teacher, own_op="tanh")
    assert "one of the notebooks' ops" in feedback.message, feedback
    renamed = changed('    return "softplus"\n', '    return "softpluss"\n')
    message = check(renamed, "12").message  # was Python's own AttributeError
    assert "no method of that name" in message and "'softpluss'" in message, message
    assert "AttributeError" not in message


# ------------------------------------------------------------------ random programs
UNARY = ["relu", "tanh", "sigmoid", "exp"]
BINARY = ["+", "-", "*", "/"]


def random_program(rng, T):
    """A random graph on inputs of shapes (3, 4), (4,), (3, 1), with fan-out, broadcasting and
    numbers on either side, built with the Tensor class ``T``; returns its leaves and nodes."""
    values = [rng.uniform(0.5, 1.5, s) * rng.choice([-1, 1], s) for s in [(3, 4), (4,), (3, 1)]]
    leaves = [T(v, requires_grad=True) for v in values]
    nodes = list(leaves)
    for _ in range(int(rng.integers(3, 8))):
        a, b = (nodes[int(k)] for k in rng.integers(len(nodes), size=2))
        kind = rng.integers(4)
        if kind == 0:
            nodes.append(getattr(a, UNARY[int(rng.integers(len(UNARY)))])())
        elif kind == 1:
            op = BINARY[int(rng.integers(3))]  # no division by a node that may be near 0
            nodes.append(eval(f"a {op} b"))
        elif kind == 2:
            c = float(rng.uniform(1, 2))  # noqa: F841 (used in the eval below)
            op = BINARY[int(rng.integers(4))]
            left = rng.random() < 0.5 and op != "/"  # c / a: a may be near 0
            nodes.append(eval(f"c {op} a") if left else eval(f"a {op} c"))
        else:
            nodes.append(a**2 if rng.random() < 0.5 else (a * a + 1.0).log())
    return leaves, nodes[-1].sum() + nodes[-2].mean() * 0.5


@pytest.mark.parametrize("seed", range(300))
def test_gradients_agree_with_the_package_on_random_programs(seed):
    results = []
    for T in (teacher.Tensor, bl.Tensor):
        leaves, loss = random_program(np.random.default_rng(seed), T)
        loss.backward()
        results.append((loss.data, [leaf.grad for leaf in leaves]))
    (mine, my_grads), (theirs, their_grads) = results
    np.testing.assert_allclose(mine, theirs, rtol=1e-10)
    for g, h in zip(my_grads, their_grads):
        np.testing.assert_allclose(0 if g is None else g, 0 if h is None else h, rtol=1e-9)


@pytest.mark.parametrize("std", ["np.sqrt(2 / n_in)", "0.1"], ids=["he", "notebook 09's 0.1"])
def test_the_teachers_engine_trains_the_digits_to_97_percent(std):
    """With He's scale, and with the 0.1 that notebook 09 tells the learner to use until notebook
    10 (the notebook promises that it trains this network)."""
    data = bl.datasets.digits()
    text = TEXT.replace("std = np.sqrt(2 / n_in)", f"std = {std}")
    assert f"std = {std}" in text
    mg = load(text, "mygrad_digits")  # a fresh file: its rng starts at seed 0
    model = mg.MLP([64, 128, 10])
    optimizer = mg.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(5):
        order = rng.permutation(len(data.X_train))
        for start in range(0, len(order), 32):
            batch = order[start : start + 32]
            optimizer.zero_grad()
            mg.cross_entropy(model(mg.Tensor(data.X_train[batch])), data.y_train[batch]).backward()
            optimizer.step()
    predicted = model(mg.Tensor(data.X_test)).data.argmax(axis=1)
    assert np.mean(predicted == data.y_test) >= 0.97


# ------------------------------------------------------------------ the student release
def test_the_release_stubs_every_piece_with_a_pointer(tmp_path):
    (tmp_path / "src").mkdir()
    shutil.copy(SOURCE, tmp_path / "src" / "mygrad.py")
    release(tmp_path / "src", tmp_path / "out")
    text = (tmp_path / "out" / "mygrad.py").read_text()
    assert "BEGIN SOLUTION" not in text and "x.grad + g" not in text
    stubs = re.findall(r'raise NotImplementedError\("(.*)"\)', text)
    assert len(stubs) == TEXT.count("### BEGIN SOLUTION") >= 25
    for message in stubs:
        assert re.search(r'see notebook \d\d, \\"Your engine\\"', message), message
    student = load(text, "mygrad_student")
    with pytest.raises(NotImplementedError, match="see notebook 03"):
        student.Tensor(1.0)
    for step in STEPS:
        feedback = check(student, step)
        assert feedback.status == "not done", feedback
        first = "do " if step != "03" else 'Part 1 of "Your engine" in this notebook'
        assert feedback.message.startswith(first) and "Traceback" not in feedback.message
        assert "not done yet" in str(feedback)
    assert 'part 1 of "Your engine" in notebook 03 first' in check(student, "05").message


def test_a_later_part_of_this_notebook_is_not_sent_to_first():
    """Notebook 05's parts 1 (@) written, 2 and 3 not: its check meets part 3 (sum) before part 2
    and said "do part 3 ... in notebook 05 first", as if it came before part 2."""
    solved = re.sub(
        r'### BEGIN SOLUTION (see notebook (03|04|05, "Your engine", part 1).*?)### END SOLUTION',
        r"# solved: \1# (solved)",
        TEXT,
        flags=re.S,
    )
    module = load(strip_solutions(solved), "mygrad_05_part_1")
    feedback = check(module, "05")
    assert feedback.status == "not done", feedback
    assert feedback.message == (
        'Part 3 of "Your engine" in this notebook is not written yet (`Tensor.sum` in '
        "mygrad.py): the check needs all its parts."
    )
    assert 'do part 3 of "Your engine" in notebook 05 first' in check(module, "07").message


def test_a_skipped_step_is_named_before_this_steps_own_stubs():
    """Only notebook 03's pieces written: every later step sends the learner to notebook 04 (the
    earliest stub), not to its own pieces first."""
    only_03 = re.sub(
        r"### BEGIN SOLUTION (see notebook 03.*?)### END SOLUTION", r"# solved: \1# (solved)",
        TEXT, flags=re.S,
    )  # fmt: skip
    module = load(strip_solutions(only_03), "mygrad_only_03")
    assert check(module, "03").passed
    for step in ("05", "07", "09", "11", "12"):
        feedback = check(module, step)
        assert feedback.status == "not done", feedback
        assert "in notebook 04 first" in feedback.message, (step, feedback.message)


def test_a_missing_earlier_piece_names_its_notebook():
    no_sum_to_shape = TEXT.replace(
        "    g = g.sum(axis=tuple(range(g.ndim - len(shape))))",
        '    raise NotImplementedError("sum_to_shape: your code goes here, see notebook 05, '
        '\\"Your engine\\", part 2")',
    )
    module = load(no_sum_to_shape)
    assert check(module, "04").passed  # 04 needs no broadcasting
    feedback = check(module, "07")
    assert feedback.status == "not done"
    assert 'part 2 of "Your engine" in notebook 05 first (`sum_to_shape`' in feedback.message


def test_release_and_grading_round_trip(tmp_path):
    """A solved mygrad scores full marks, the untouched release scores zero."""
    teacher_dir = tmp_path / "teacher"
    teacher_dir.mkdir()
    shutil.copy(SOURCE, teacher_dir / "mygrad.py")
    cells = [
        nbformat.v4.new_code_cell(
            "import mygrad\nfrom backproplab.exercises.mygrad import check_step"
        )
    ]
    for step in ("03", "09"):
        cell = nbformat.v4.new_code_cell(f'check_step("{step}", mygrad)')
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": f"mygrad-{step}-check", "points": 2}
        cells.append(cell)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), teacher_dir / "engine.ipynb")
    release(teacher_dir, tmp_path / "student")
    for student, origin in [("solved", teacher_dir), ("stub", tmp_path / "student")]:
        shutil.copytree(origin, tmp_path / "in" / student)
    out = tmp_path / "scores.csv"
    command = ["grade", str(tmp_path / "in"), "--source", str(teacher_dir), "--csv", str(out)]
    assert main([*command, "--timeout", "60"]) == 0
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(out.read_text()))}
    assert [rows["solved"][f"mygrad-{s}"] for s in ("03", "09")] == ["2", "2"], rows
    assert [rows["stub"][f"mygrad-{s}"] for s in ("03", "09")] == ["0", "0"], rows
    assert rows["solved"]["problems"] == rows["stub"]["problems"] == ""


# ------------------------------------------------------------------ plausible mistakes
# (step, old line, new line, words the hint must contain)
MISTAKES = [
    # 03: Tensor, + and *
    ("03", "self.data = np.asarray(data, dtype=np.float64)", "self.data = data", ["numpy array"]),
    ("03", "lambda g: (g * y, g * x))", "lambda g: (g, g))", ["product is missing"]),
    ("03", "lambda g: (g * y, g * x))", "lambda g: (g * x, g * y))", ["grows with x"]),
    ("03", "lambda g: (g * y, g * x))", "lambda g: (y, x))", ["local gradient alone"]),
    (
        "03",
        "(self, other), lambda g: (g, g))",
        "(self, other), lambda g: (1.0 + 0 * g, 1.0 + 0 * g))",
        ["1 everywhere"],
    ),
    # a product's rule written as a sum's: the hint of the rule, not a crash or "grows with x"
    ("03", "lambda g: (g * y, g * x))", "lambda g: (g + y, g + x))", ["value of the other input"]),
    # a vjp that hands back Tensors, not arrays
    (
        "03",
        "lambda g: (g * y, g * x))",
        "lambda g: (Tensor(g * y), Tensor(g * x)))",
        ["a gradient is a Tensor, not numbers"],
    ),
    (  # a vjp computing into an input's own array (numpy's out=)
        "03",
        "lambda g: (g * y, g * x))",
        "lambda g: (g * y, np.multiply(x, g, out=x)))",
        ["the vjp of x * y changed its output or an input in place"],
    ),
    # 04: toposort, backward, -, /, **
    ("04", "x.grad = g if x.grad is None else x.grad + g", "x.grad = g", ["add up"]),
    (
        "04",
        "                    x.grad = g if x.grad is None else x.grad + g",
        "                    if x.grad is None:\n"
        "                        x.grad = g\n"
        "                    else:\n"
        "                        x.grad += g",
        ["in place"],
    ),
    ("04", "lambda g: (g, -g))", "lambda g: (g, g))", ["wrong sign"]),
    ("04", "(g / y, -g * out / y)", "(g / y, g * out / y)", ["wrong sign"]),
    ("04", "(g * p * x ** (p - 1),)", "(g * p * x**p,)", ["power rule"]),
    # p x^p / x: right wherever x is not 0, and the check's inputs never were: nan at x = 0
    ("04", "(g * p * x ** (p - 1),)", "(g * p * x**p / x,)", ["not a number", "divide by x"]),
    # right gradients, but built from other ops (micrograd's way), where part 2 asks for a node
    # with a vjp of its own: the hint says so instead of "wrong sign"
    (
        "04",
        "return node(self.data - other.data, (self, other), lambda g: (g, -g))",
        "return self + (-other)",
        ["built from other ops", "node(values, inputs, vjp)"],
    ),
    (
        "04",
        "        out = x / y\n        return node(out, (self, other), lambda g: (g / y, -g * out / y))",
        "        return self * other ** -1",
        ["built from other ops", "node(values, inputs, vjp)"],
    ),
    ("04", "(g * out * np.log(base),)", "(g * out,)", ["log(a)"]),
    (
        "04",
        "return sorted(found.values(), key=lambda t: t.seq)",
        "return list(found.values())",
        ["toposort puts"],
    ),
    ("04", "for t in reversed(order):", "for t in order:", ["no gradient reached"]),
    # notebook 03's rules still wrong when notebook 04's check runs them alone (each op's vjp)
    ("04", "lambda g: (g * y, g * x))", "lambda g: (g, g))", ["unchanged", "product is missing"]),
    ("04", "lambda g: (g * y, g * x))", "lambda g: (g + y, g + x))", ["value of the other input"]),
    (  # the gradient split between the inputs
        "04",
        "(self, other), lambda g: (g, g))",
        "(self, other), lambda g: (g / 2, g / 2))",
        ["unchanged, to both inputs"],
    ),
    (  # the local gradients alone, as numbers: no array of x's shape
        "04",
        "(self, other), lambda g: (g, g))",
        "(self, other), lambda g: (1, 1))",
        ["has shape ()", "x0 has shape (4,)"],
    ),
    ("04", "lambda g: (g, -g))", "lambda g: (g, 0 * g))", ["shrinks with y"]),  # y as a constant
    ("04", "(g / y, -g * out / y)", "(g * y, -g * out / y)", ["1/y"]),  # a product's rule
    ("04", "(g / y, -g * out / y)", "(g, -g * out / y)", ["1/y"]),  # a sum's rule
    # toposort without the root, and a depth-first walk that lists a tensor each time it is met
    (
        "04",
        "    found = {id(root): root}\n    stack = [root]",
        "    found = {}\n    stack = [root]",
        ["toposort left out"],
    ),
    (
        "04",
        "    found = {id(root): root}\n    stack = [root]\n    while stack:\n"
        "        for x in stack.pop().inputs:\n            if id(x) not in found:\n"
        "                found[id(x)] = x\n                stack.append(x)\n"
        "    return sorted(found.values(), key=lambda t: t.seq)",
        "    order = []\n\n    def visit(t):\n        for x in t.inputs:\n            visit(x)\n"
        "        order.append(t)\n\n    visit(root)\n    return order",
        ["lists a tensor twice"],
    ),
    # 05: @, sum_to_shape, sum, mean
    ("05", "    return g.sum(axis=ones, keepdims=True)", "    return g", ["summed back"]),
    ("05", "g = g.sum(axis=tuple(range(g.ndim - len(shape))))", "pass", ["summed back"]),
    ("05", "(g @ y.T, x.T @ g)", "(g @ y.T, x @ g.T)", ["raised ValueError"]),
    ("05", "(g @ y.T, x.T @ g)", "(x.T @ g, g @ y.T)", ["each factor of @", "which factor"]),
    (
        "05",
        "        return self.sum(axis) / n",
        "        return self.sum(axis)",
        ["times the right one"],
    ),
    (  # was told 'each entry of a mean counts 1/n', which sent it to divide by n
        "05",
        "            return (np.broadcast_to(g, x.shape),)",
        "            return (np.broadcast_to(g, x.shape) / x.size,)",
        ["times the right one", "no 1/n"],
    ),
    (  # the shapes are right: was told 'check the shapes'
        "05",
        "lambda g: (g @ y.T, x.T @ g))",
        "lambda g: (g @ y.T, 2 * (x.T @ g)))",
        ["2 times the right one", "the shape is right"],
    ),
    (
        "05",
        "lambda g: (g @ y.T, x.T @ g))",
        "lambda g: (g @ y.T, x.T @ (g * 0 + 1)))",
        ["shape is right"],
    ),
    (
        "05",
        "                g = np.expand_dims(g, axis)",
        "                pass",
        ["raised ValueError"],
    ),
    # summed back as a mean of the copies: was told 'a sum passes its upstream gradient on'
    (
        "05",
        "g = g.sum(axis=tuple(range(g.ndim - len(shape))))",
        "g = g.mean(axis=tuple(range(g.ndim - len(shape))))",
        ["0.25 times the right one", "does not average"],
    ),
    (  # was told 'a product's local gradient for one input is the value of the other input'
        "05",
        "    return g.sum(axis=ones, keepdims=True)",
        "    return g.mean(axis=ones, keepdims=True)",
        ["times the right one", "does not average"],
    ),
    (  # mean as a node of its own, without the 1/n in its vjp
        "05",
        "        return self.sum(axis) / n",
        "        x = self.data\n"
        "        return node(x.mean(axis=axis), (self,), lambda g: (np.broadcast_to("
        "g if axis is None else np.expand_dims(g, axis), x.shape),))",
        ["3 times the right one", "counts 1/n"],
    ),
    (
        "05",
        "out = x.sum(axis=axis)\n",
        "out = x.sum(axis=axis, keepdims=True)\n",
        ["v6 = v5.sum() has shape (1, 1), not ()"],
    ),
    # 07: activations
    ("07", "(g * (1 - out**2),)", "(g * (1 - self.data**2),)", ["output, not its input"]),
    ("07", "(g * out * (1 - out),)", "(g * out,)", ["compare sigmoid's slope"]),
    ("07", "(g * out * (1 - out),)", "(g * self.data * (1 - self.data),)", ["not its input"]),
    ("07", "(g * (1 - out**2),)", "(g * (1 - out) ** 2,)", ["compare tanh's slope"]),
    ("07", "lambda g: (g * (x > 0),))", "lambda g: (g * x,))", ["0 elsewhere"]),
    (
        "07",
        "(g * out,))\n        ### END SOLUTION\n\n    def log",
        "(g * self.data,))\n        ### END SOLUTION\n\n    def log",
        ["its own derivative"],
    ),
    ("07", "lambda g: (g / x,))", "lambda g: (g * x,))", ["1/x"]),
    # a sign slip, named with the op whose vjp made it (was: "the gradient of x0 is off")
    ("07", "(g * (1 - out**2),)", "(g * (out**2 - 1),)", ["x0.tanh()", "wrong sign"]),
    ("07", "out = np.where(self.data >= 0, 1, e) / (1 + e)", "out = 1 / (1 + e)", ["sigmoid"]),
    # 08: cross_entropy
    (
        "08",
        "z = logits.data - logits.data.max(axis=1, keepdims=True)",
        "z = logits.data",
        ["overflows"],
    ),
    ("08", "(g * (np.exp(log_a) - y) / n,)", "(g * (np.exp(log_a) - y),)", ["mean over the batch"]),
    ("08", "loss = -(log_a * y).sum() / n", "loss = -(log_a * y).sum()", ["sum over the batch"]),
    ("08", "(g * (np.exp(log_a) - y) / n,)", "(g * np.exp(log_a) / n,)", ["one-hot"]),
    (  # a - y the other way round: was blamed on the @ that made the logits
        "08",
        "(g * (np.exp(log_a) - y) / n,)",
        "(g * (y - np.exp(log_a)) / n,)",
        ["in v3 = cross_entropy(v2, labels)", "wrong sign"],
    ),
    # 09: Linear, MLP, SGD
    (
        "09",
        "rng.standard_normal((n_out, n_in))",
        "rng.standard_normal((n_in, n_out))",
        ["(n_out, n_in)"],
    ),
    (
        "09",
        "        return self.layers[-1](x)",
        "        return self.layers[-1](x).relu()",
        ["no ReLU"],
    ),
    (
        "09",
        "        for p in self.params:\n            p.grad = None\n        ### END SOLUTION\n\n    def step",
        "        pass\n        ### END SOLUTION\n\n    def step",
        ["zero_grad"],
    ),
    (
        "09",
        "                v *= self.momentum\n",
        "                v *= 0\n",
        ["kept from one step"],
    ),
    (
        "09",
        "                v += p.grad\n",
        "                v += (1 - self.momentum) * p.grad\n",
        ["damped"],
    ),
    (
        "09",
        "                p.data -= self.lr * v",
        "                p.data += self.lr * v",
        ["uphill"],
    ),
    (  # the ReLU inside the layer: was told about 'the last layer's output (the logits)'
        "09",
        "        return x @ self.weight.T + self.bias",
        "        return (x @ self.weight.T + self.bias).relu()",
        ["never negative", "a layer alone has no ReLU"],
    ),
    (
        "09",
        "return x @ self.weight.T + self.bias",
        "return x @ self.weight.T - self.bias",
        ["bias", "wrong sign"],
    ),
    (  # a bias of one row: broadcasting hides it in the forward pass
        "09",
        "self.bias = Tensor(np.zeros(n_out), requires_grad=True)",
        "self.bias = Tensor(np.zeros((1, n_out)), requires_grad=True)",
        ["bias of layer 1", "(n_out,)"],
    ),
    (
        "09",
        "Tensor(rng.standard_normal((n_out, n_in)) * std, requires_grad=True)",
        "Tensor(np.zeros((n_out, n_in)), requires_grad=True)",
        ["start at 0"],
    ),
    (  # a generator of its own, unseeded: the training cell's seed cannot repeat the run
        "09",
        "rng.standard_normal((n_out, n_in)) * std",
        "np.random.default_rng().standard_normal((n_out, n_in)) * std",
        ["not the next standard normal numbers of the module's rng"],
    ),
    # 10: Linear's initial scale (He's)
    ("10", "std = np.sqrt(2 / n_in)", "std = 0.1", ["the same for both"]),  # notebook 09's guess
    ("10", "std = np.sqrt(2 / n_in)", "std = np.sqrt(1 / n_in)", ["√2 too small"]),  # LeCun
    ("10", "std = np.sqrt(2 / n_in)", "std = np.sqrt(2 / n_out)", ["number of outputs"]),
    ("10", "std = np.sqrt(2 / n_in)", "std = np.sqrt(2 / (n_in + n_out))", ["the same for both"]),
    (  # an activation inside the layer, one that can be negative
        "09",
        "        return x @ self.weight.T + self.bias",
        "        return (x @ self.weight.T + self.bias).tanh()",
        ["Linear(4, 3)(x0) is off", "Z = X Wᵀ + b"],
    ),
    ("10", "std = np.sqrt(2 / n_in)", "std = 2 / n_in", ["variance", "not its standard deviation"]),
    ("10", "std = np.sqrt(2 / n_in)", "std = np.sqrt(2) / n_in", ["He's scale is"]),
    # 11: Residual
    ("11", "return x + self.linear(x).relu()", "return self.linear(x).relu()", ["x + F(x)"]),
    ("11", "return x + self.linear(x).relu()", "return (x + self.linear(x)).relu()", ["x + F(x)"]),
    ("11", "return x + self.linear(x).relu()", "return x + self.linear(x)", ["x + F(x)"]),
    # 12: Adam and the learner's own op
    (
        "12",
        "m_hat, v_hat = m / (1 - beta1**self.t), v / (1 - beta2**self.t)",
        "m_hat, v_hat = m, v",
        ["1 - beta^t"],
    ),
    ("12", "(np.sqrt(v_hat) + self.eps)", "np.sqrt(v_hat + self.eps)", ["outside the square root"]),
    ("12", "        self.t += 1\n", "        self.t = 1\n", ["count the steps"]),
    ("12", "(1 - beta2) * p.grad**2", "(1 - beta2) * p.grad", ["squares"]),
    ("12", "(g * (1 - np.exp(-out)),)", "(g * (1 - np.exp(out)),)", ["central differences"]),
    ("12", '    return "softplus"\n', "    return Tensor.softplus\n", ["a str"]),
    (  # numpy handed the Tensor, not its data: the crash is named, in the learner's op
        "12",
        "out = np.logaddexp(0.0, self.data)",
        "out = np.logaddexp(0.0, self)",
        ["raised TypeError in Tensor.softplus"],
    ),  # not its name
    (  # the vjp computing into its own output (numpy's out=)
        "12",
        "(g * (1 - np.exp(-out)),)",
        "(g * (1 - np.exp(np.negative(out, out=out))),)",
        ["changed its output in place"],
    ),
]


@pytest.mark.parametrize("step, old, new, words", MISTAKES)
def test_a_plausible_mistake_gets_the_hint_that_names_it(step, old, new, words):
    with np.errstate(all="ignore"):
        feedback = check(changed(old, new), step)
    assert feedback.status == "hint", feedback
    for word in words:
        assert word in feedback.message, feedback
    assert "Traceback" not in feedback.message


def test_at_least_three_mistakes_per_step():
    counts = {step: sum(m[0] == step for m in MISTAKES) for step in STEPS}
    assert min(counts.values()) >= 3, counts


def test_an_engine_that_borrows_the_package_is_refused():
    borrowed = load(TEXT + "\nfrom backproplab import Tensor as Tensor\n", "mygrad_borrowed")
    feedback = check_step("03", borrowed)
    assert feedback.status == "hint" and "uses backproplab itself (Tensor)" in feedback.message
    assert teacher.__dict__.get("bl") is None  # the teacher's engine is numpy only


def test_a_docstring_that_names_the_package_is_not_borrowing_it():
    # the refusal of the package imported inside a function read every string of a function's
    # code: a docstring starting "backproplab.autodiff..." was taken for an import
    text = TEXT.replace(
        '    """Sum the gradient ``g`` down to ``shape``: the gradient of numpy broadcasting."""',
        '    """backproplab.autodiff.sum_to_shape does this too; this one is my own."""',
    )
    assert text != TEXT
    feedback = check_step("05", load(text, "mygrad_docstring"))
    assert feedback.passed, feedback


def test_a_hand_written_stub_is_not_done_and_names_no_empty_place():
    """A bare ``raise NotImplementedError`` (no pointer to a notebook): was told "... (`` in
    mygrad.py)", an empty name in the learner's face."""
    stub = changed(
        "        return node(np.maximum(x, 0), (self,), lambda g: (g * (x > 0),))",
        "        raise NotImplementedError",
    )
    feedback = check(stub, "07")
    assert feedback.status == "not done", feedback
    assert "finish the part of mygrad.py this step needs" in feedback.message, feedback
    assert "``" not in feedback.message, feedback


def test_an_own_op_of_slope_zero_is_refused():
    """np.sign as the learner's op: its slope is 0 wherever it is checked, so no gradient could
    be told from a wrong one. (Was told that sign "does not depend on its input".)"""
    text = TEXT.replace(
        "    def softplus(self):",
        "    def sign(self):\n"
        "        return node(np.sign(self.data), (self,), lambda g: (g * 0,))\n\n"
        "    def softplus(self):",
    ).replace('    return "softplus"\n', '    return "sign"\n')
    feedback = check(load(text), "12")
    assert feedback.status == "hint", feedback
    assert "slope 0 at every input checked" in feedback.message, feedback


def test_a_module_object_whose_attributes_raise_is_no_borrowing():
    """The look for backproplab's names in the learner's module asks every object it holds for
    ``__func__`` and ``fget``: an object whose attributes raise (a lazy loader, say) is skipped,
    not a crash of the check."""
    text = TEXT + (
        "\n\nclass _Lazy:\n"
        "    def __getattr__(self, name):\n"
        "        raise RuntimeError('not loaded yet')\n\n\n"
        "lazy = _Lazy()\n"
    )
    assert check(load(text), "03").passed


def test_an_unknown_step_is_an_error_naming_the_steps():
    with pytest.raises(ValueError, match=r"check_step: no step '99'; the steps are 03, 04"):
        check_step("99", teacher)


def test_a_wrong_earlier_step_does_not_hide_a_skipped_one():
    """Notebook 03's * written wrong, notebook 04 skipped: notebook 05's check names the earliest
    stub (04), passing over 03's wrong answer, which is a hint and not a stub."""
    only_03 = re.sub(
        r"### BEGIN SOLUTION (see notebook 03.*?)### END SOLUTION", r"# solved: \1# (solved)",
        TEXT, flags=re.S,
    )  # fmt: skip
    wrong_03 = only_03.replace("lambda g: (g * y, g * x))", "lambda g: (g * x, g * y))")
    module = load(strip_solutions(wrong_03), "mygrad_wrong_03")
    assert check(module, "03").status == "hint"
    feedback = check(module, "05")
    assert feedback.status == "not done", feedback
    assert "in notebook 04 first" in feedback.message, feedback


def test_a_piece_of_a_later_notebook_called_too_early_is_named():
    """* written through log and exp (x y = e^(log x + log y)), which notebook 07 adds: step 03's
    check says the engine called a later notebook's piece, not 'do notebook 07 first'."""
    only_03 = re.sub(
        r"### BEGIN SOLUTION (see notebook 03.*?)### END SOLUTION", r"# solved: \1# (solved)",
        TEXT, flags=re.S,
    )  # fmt: skip
    by_logs = only_03.replace(
        "        x, y = self.data, other.data\n"
        "        return node(x * y, (self, other), lambda g: (g * y, g * x))",
        "        return (self.log() + other.log()).exp()",
    )
    assert by_logs != only_03
    feedback = check(load(strip_solutions(by_logs), "mygrad_mul_by_logs"), "03")
    assert feedback.status == "hint", feedback
    assert feedback.message == (
        "your engine called `Tensor.log`, a piece of notebook 07; this step does not need it"
    )  # and nothing of the words for sum_to_shape, met by a number given a gradient


@pytest.mark.parametrize("factor", [2, 4])
def test_a_matmul_rule_off_by_a_factor_is_not_told_about_broadcast_copies(factor):
    # x0 @ x3's output (4, 2) has more entries than x3 (3, 2), as a broadcast's output has: a
    # rule giving x3 half (a quarter) of its gradient was told "broadcasting copied x3 ... it
    # does not average them", about copies a product does not make (found reviewing that hint)
    old, new = "lambda g: (g @ y.T, x.T @ g))", f"lambda g: (g @ y.T, x.T @ g / {factor}))"
    with np.errstate(all="ignore"):
        feedback = check(changed(old, new), "05")
    assert feedback.status == "hint", feedback
    assert f"{1 / factor:g} times the right one" in feedback.message, feedback
    assert "broadcast" not in feedback.message and "average" not in feedback.message, feedback
