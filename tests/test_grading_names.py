"""Checks that refuse an answer by the names its code uses give the grade the notebook's verdict.

``names_used(fn)`` reads ``fn.__code__``; in the grader a check gets a ``Proxy`` for the student's
function, which has no code. The grader's Proxy asks the student's kernel for the names (and for
the modules of the globals among them, which notebook 02's and 04's checks read through
``fn.__globals__``): an answer the notebook refuses by name (a sigmoid rule through ``np.exp``, a
softmax vjp through a K x K matrix, a derivative by ``sp.diff``) was "correct" in the grade before.
So does ``uses_package(proxy, allowed)``: the kernel runs the notebook's ``uses_package`` (the
allowed package functions sent by module and name) and names what of the package the code uses,
so an answer that calls ``.backward()`` on an engine of its own, or the package on a branch the
check's inputs do not take, is refused in the grade as in the notebook.
And notebook 08's check, which refuses a K x K array however it is built by the memory one call
takes, gets that memory from the kernel, measured there around the student's call
(``call_measured(proxy, ...)``): the matrix by broadcasting is refused in the grade too.

The first tests run the kernel's side in this process (fast); the last grades a small class in
real kernels, with exercises copied from the curriculum.
"""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
import sympy as sp
from test_grading import ROOT, replace_solution

import backproplab as bl
from backproplab.classroom import Limits, grade_folder
from backproplab.classroom import _wire as wire
from backproplab.classroom._kernel import Execution
from backproplab.classroom._kernel_side import REPLY_MIME
from backproplab.classroom._session import Budget, GradingStop, ModuleProxy, Proxy, Session
from backproplab.convolution import col2im, im2col
from backproplab.exercises import (
    call_measured,
    names_used,
    nb02,
    nb04,
    nb05,
    nb07,
    nb08,
    nb11,
    uses_package,
)
from backproplab.exercises.mygrad import check_step

# ------------------------------------------------------------ answers, as a learner writes them
SIGMOID_BY_LOG = (  # x recovered from out: the right values, the long way the check refuses
    "    x = np.log(out / (1 - out))\n    s = 1 / (1 + np.exp(-x))\n    return g * s * (1 - s)"
)
SOFTMAX_BY_MATRIX = "    J = np.diag(a) - np.outer(a, a)\n    return g @ J"
SOFTMAX_BY_BROADCASTING = (  # no name gives it away: refused by the memory the call takes
    "    J = a[:, None] * ((np.arange(a.size)[:, None] == np.arange(a.size)) - a)\n    return g @ J"
)
SIN_BY_SYMPY = (
    "    t = sp.Symbol('t')\n    return sp.lambdify(t, sp.diff(sp.sin(t**2), t), 'numpy')(x)"
)
DL_DB_ON_A_BRANCH = (  # the package, where the check's inputs (2-d G) never go
    "    if G.ndim != 2:\n        return bl.functional.sum(bl.Tensor(G), axis=0).data\n"
    "    return G.sum(axis=0)"
)
DL_DB_BY_OWN_ENGINE = (  # an engine of the learner's own, and its backward()
    "    class Engine:\n        def backward(self):\n            return G.sum(axis=0)\n\n"
    "    return Engine().backward()"
)

NOTEBOOK = """
from functools import partial

import numpy as np
import sympy as sp
import backproplab as bl
from backproplab.convolution import im2col
from backproplab.plotting import hidden_gradient_norms


def slope(f, x, h=1e-6):  # notebook 02's measured slope
    return (f(x + h) - f(x - h)) / (2 * h)


def diff(x):  # a learner's own helper that happens to be called diff
    return np.cos(x**2) * 2 * x


def sigmoid_backward_by_log(g, out):
{SIGMOID_BY_LOG}


def sigmoid_backward(g, out):
    return g * out * (1 - out)


def softmax_vjp_by_matrix(g, a):
{SOFTMAX_BY_MATRIX}


def softmax_vjp(g, a):
    return a * (g - g @ a)


def softmax_vjp_by_broadcasting(g, a):
{SOFTMAX_BY_BROADCASTING}


def sin_by_sympy(x):
{SIN_BY_SYMPY}


def sin_by_slope(x):
    return slope(lambda u: np.sin(u**2), x)


def sin_by_own_diff(x):
    return diff(x)


def gradients_by_backward(root, wrt):
    root.backward()
    return [t.grad for t in wrt]


def block_gradient_norms(model, X, y):
    return hidden_gradient_norms(model, X, y)


class Box:  # a learner's own engine (mygrad's Tensor, say)
    def __init__(self, value):
        self.value = value

    def backward(self):
        self.grad = 1.0


def dL_db_by_own_engine(G):
    Box(G).backward()
    return G.sum(axis=0)


def dL_db_on_a_branch(G):
{DL_DB_ON_A_BRANCH}


def dL_db(G):
    return G.sum(axis=0)


def windows(x):
    return im2col(x, 3)


def _recover(out):  # helpers of the learner's own: the answer split in two is read whole
    return 1 / (1 + np.exp(-np.log(out / (1 - out))))


def sigmoid_backward_by_helper(g, out):
    s = _recover(out)
    return g * s * (1 - s)


def _jacobian(a):
    return np.diag(a) - np.outer(a, a)


def softmax_vjp_by_helper(g, a):
    return g @ _jacobian(a)


def _measured(x):  # two levels down: the notebook's slope
    return slope(lambda u: np.sin(u**2), x)


def sin_by_helper(x):
    return _measured(x)


def _column_sums(G):  # the package on a branch the check's inputs never take, one call down
    if G.ndim != 2:
        return bl.functional.sum(bl.Tensor(G), axis=0).data
    return G.sum(axis=0)


def dL_db_by_helper(G):
    return _column_sums(G)


class Recover:  # helpers hidden in an object, a static method, a partial, a dict
    def __call__(self, out):
        return 1 / (1 + np.exp(-np.log(out / (1 - out))))

    @staticmethod
    def jacobian(a):
        return np.diag(a) - np.outer(a, a)


recover = Recover()
LIBRARY = {{"sum": partial(bl.functional.sum, axis=0)}}


def sigmoid_backward_by_object(g, out):
    s = recover(out)
    return g * s * (1 - s)


def softmax_vjp_by_static_method(g, a):
    return g @ Recover.jacobian(a)


def dL_db_by_dict(G):  # the package, in a dict, on a branch the check's inputs never take
    return LIBRARY["sum"](G).data if G.ndim != 2 else G.sum(axis=0)
"""


class InProcessKernel:
    """A stand-in for a student's kernel: runs the grader's requests in this process, in the
    namespace of a notebook, and keeps what they display (the kernel helper's replies)."""

    def __init__(self, namespace: dict) -> None:
        self.namespace = namespace

    def execute(self, code, timeout, on_input=None, keep=None) -> Execution:
        shown: list[dict] = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("IPython.display.display", lambda bundle, raw=False: shown.append(bundle))
            exec(code, self.namespace)  # noqa: S102 - the grader's request, as a kernel runs it
        return Execution("ok", displays=shown)


@pytest.fixture(scope="module")
def notebook():
    """A learner's notebook namespace, and a grader's Session into it."""
    namespace = {"__name__": "__main__"}
    source = NOTEBOOK.format(
        SIGMOID_BY_LOG=SIGMOID_BY_LOG,
        SOFTMAX_BY_MATRIX=SOFTMAX_BY_MATRIX,
        SOFTMAX_BY_BROADCASTING=SOFTMAX_BY_BROADCASTING,
        SIN_BY_SYMPY=SIN_BY_SYMPY,
        DL_DB_ON_A_BRANCH=DL_DB_ON_A_BRANCH,
    )
    exec(compile(source, "<notebook>", "exec"), namespace)  # noqa: S102
    return namespace, Session(InProcessKernel(namespace), Budget(30, 120))


CASES = [  # (check, the learner's function, refused by name in the notebook)
    (nb07.check_sigmoid_backward, "sigmoid_backward_by_log", True),
    (nb07.check_sigmoid_backward, "sigmoid_backward", False),
    (nb08.check_softmax_vjp, "softmax_vjp_by_matrix", True),
    (nb08.check_softmax_vjp, "softmax_vjp", False),
    (nb08.check_softmax_vjp, "softmax_vjp_by_broadcasting", True),  # by the memory it takes
    (nb02.check_d_sin_of_square, "sin_by_sympy", True),  # sp.diff: an attribute
    (nb02.check_d_sin_of_square, "sin_by_slope", True),  # the notebook's slope
    (nb02.check_d_sin_of_square, "sin_by_own_diff", False),  # a global of the learner's own
    (nb04.check_gradients, "gradients_by_backward", True),  # a tensor's .backward()
    (nb11.check_block_gradient_norms, "block_gradient_norms", True),  # the package's measurement
    (nb05.check_dL_db, "dL_db_by_own_engine", True),  # uses_package: an own engine's .backward()
    (nb05.check_dL_db, "dL_db_on_a_branch", True),  # uses_package: bl, on a branch not taken
    (nb05.check_dL_db, "dL_db", False),
    (nb07.check_sigmoid_backward, "sigmoid_backward_by_helper", True),  # exp and log, one down
    (nb08.check_softmax_vjp, "softmax_vjp_by_helper", True),
    (nb02.check_d_sin_of_square, "sin_by_helper", True),  # slope, two functions down
    (nb05.check_dL_db, "dL_db_by_helper", True),  # uses_package: bl, in a helper
    (nb07.check_sigmoid_backward, "sigmoid_backward_by_object", True),  # a callable object
    (nb08.check_softmax_vjp, "softmax_vjp_by_static_method", True),
    (nb05.check_dL_db, "dL_db_by_dict", True),  # uses_package: bl, in a partial in a dict
]


@pytest.mark.parametrize("check, name, refused", CASES, ids=[c[1] for c in CASES])
def test_a_check_gives_a_proxy_the_verdict_it_gives_the_function(notebook, check, name, refused):
    namespace, session = notebook
    in_the_notebook = check(namespace[name])
    assert in_the_notebook.passed is not refused, in_the_notebook
    assert str(check(Proxy(session, name))) == str(in_the_notebook)


def test_the_kernel_measures_the_memory_of_the_students_call_only(notebook):
    namespace, session = notebook
    a, g = np.full(2000, 1 / 2000), np.linspace(-1.0, 1.0, 2000)
    measured = {}
    for name in ["softmax_vjp", "softmax_vjp_by_broadcasting"]:
        here = call_measured(namespace[name], g, a)
        there = call_measured(Proxy(session, name), g, a)
        assert np.array_equal(there[0], here[0])
        measured[name] = here[1], there[1]
    assert 8 * 2000**2 < min(measured["softmax_vjp_by_broadcasting"])  # the K x K float64 array
    assert max(measured["softmax_vjp"]) < 100_000  # not the arguments the kernel decoded


def test_a_reply_without_the_memory_stops_the_grading():
    class Forgetful:  # a kernel whose helper replies without peak_bytes
        def execute(self, code, timeout, on_input=None, keep=None) -> Execution:
            reply = {"status": "ok", "result": wire.Encoder()(1.0), "given_after": [],
                     "tensors_after": {},
                     "args_after": {"list": []}}  # fmt: skip
            return Execution("ok", displays=[{REPLY_MIME: wire.dumps(reply)}])

    session = Session(Forgetful(), Budget(30, 120))
    assert Proxy(session, "f")() == 1.0
    with pytest.raises(GradingStop, match="unreadable reply for the memory f takes"):
        call_measured(Proxy(session, "f"))


def test_a_reply_without_the_parameter_names_stops_the_grading():
    """A shape error's hint names the arrays by the student's parameter names, read in their
    kernel: a reply without them (or with too few) is the grader's problem, not a hint."""
    replies = [
        {"status": "ok"},
        {"status": "ok", "names": ["x"]},
        {"status": "ok", "names": [1, 2]},
    ]

    class Forgetful:  # a kernel whose helper replies without the names asked for
        def execute(self, code, timeout, on_input=None, keep=None) -> Execution:
            return Execution("ok", displays=[{REPLY_MIME: wire.dumps(replies.pop(0))}])

    session = Session(Forgetful(), Budget(30, 120))
    for _ in range(3):
        with pytest.raises(GradingStop, match="unreadable reply for the parameters of f"):
            Proxy(session, "f").parameter_names(2)


def test_the_names_come_from_the_kernel_by_the_notebooks_rule(notebook):
    namespace, session = notebook
    fn = namespace["sin_by_slope"]
    assert names_used(Proxy(session, "sin_by_slope")) == names_used(fn) >= {"slope", "sin"}
    scope = Proxy(session, "sin_by_own_diff").__globals__
    assert list(scope) == ["diff", "np"]  # np: used by diff, a helper of the learner's own
    assert scope["diff"].__module__ == "__main__" and scope["np"].__module__ == ""
    assert Proxy(session, "sin_by_sympy").__globals__["sp"].__module__ == ""  # a module
    assert names_used(ModuleProxy(session, "np")) == names_used(np) == set()


def test_a_function_of_the_learners_module_is_found_and_a_missing_one_named(notebook):
    namespace, session = notebook
    namespace["mine"] = type("Module", (), {"f": staticmethod(namespace["sin_by_sympy"])})
    assert "lambdify" in names_used(ModuleProxy(session, "mine").f)
    with pytest.raises(NameError, match="the check needs mine.py handed in"):
        names_used(ModuleProxy(session, "mine").missing)
    with pytest.raises(NameError, match="'nowhere' is not defined"):
        names_used(Proxy(session, "nowhere"))


def test_an_engine_check_without_mygrad_says_what_is_missing(notebook):
    """A notebook handed in without mygrad.py: the engine check's hint says so, as a learner's
    answer (0 points, no problem for the teacher). Naming where the crash happened asked the
    kernel for the missing function's globals, which raised out of the check, and the row read
    "the check failed in the grader: NameError"."""
    namespace, session = notebook
    assert "mygrad" not in namespace
    feedback = check_step("05", ModuleProxy(session, "mygrad"))
    assert feedback.status == "hint", feedback
    assert "your engine raised NameError: mygrad.run was not found" in str(feedback)
    assert "the check needs mygrad.py handed in beside the notebook" in str(feedback)


@pytest.mark.parametrize(
    "content, said",
    [
        (None, "the check needs mygrad.py handed in beside the notebook, with run in it"),
        (b"return 1\n", "mygrad.py is not Python: SyntaxError: 'return' outside function"),
        (b"x = 1\0\n", "mygrad.py is not Python: "),  # a NUL byte: compile's ValueError
        (b"raise ImportError\n", "mygrad.py is there, but the notebook's import of it failed"),
    ],
)
def test_an_engine_check_says_what_is_wrong_with_mygrad(
    notebook, tmp_path, monkeypatch, content, said
):
    """A mygrad.py handed in that does not compile (or whose import raised) was reported as
    not handed in: "the check needs mygrad.py handed in beside the notebook"."""
    namespace, session = notebook
    monkeypatch.chdir(tmp_path)  # the kernel's folder: the student's, the notebook beside it
    if content is not None:
        (tmp_path / "mygrad.py").write_bytes(content)
    feedback = check_step("05", ModuleProxy(session, "mygrad"))
    assert feedback.status == "hint", feedback
    assert f"your engine raised NameError: mygrad.run was not found: {said}" in str(feedback)
    assert ("(mygrad.py, line 1)" in str(feedback)) == (content == b"return 1\n")


def test_uses_package_gives_a_proxy_the_verdict_it_gives_the_function(notebook):
    namespace, session = notebook
    in_the_notebook = nb05.check_dL_db(namespace["dL_db_by_own_engine"])  # a .backward() call
    assert not in_the_notebook.passed
    assert str(nb05.check_dL_db(Proxy(session, "dL_db_by_own_engine"))) == str(in_the_notebook)


def test_the_kernel_names_what_of_the_package_the_code_uses(notebook):
    _, session = notebook
    session.package_uses = []
    assert uses_package(Proxy(session, "dL_db_by_own_engine"))
    assert uses_package(Proxy(session, "dL_db_on_a_branch"))
    assert not uses_package(Proxy(session, "dL_db"))
    assert session.package_uses == [".backward", "backproplab"]


def test_allowed_package_functions_are_sent_by_name(notebook):
    namespace, session = notebook
    session.package_uses = []
    for allowed, verdict in [((), True), ((im2col, col2im), False), ((col2im,), True)]:
        assert uses_package(namespace["windows"], allowed) is verdict
        assert uses_package(Proxy(session, "windows"), allowed) is verdict
    assert session.package_uses == ["backproplab.convolution.im2col"]


@pytest.mark.parametrize("allowed", [np.sum, lambda x: x, "backproplab.convolution.im2col"])
def test_only_package_functions_can_be_allowed_in_the_grader(notebook, allowed):
    _, session = notebook
    with pytest.raises(TypeError, match="uses_package in the grader: allowed holds .* not a funct"):
        uses_package(Proxy(session, "windows"), (im2col, allowed))


def test_the_kernel_resolves_only_package_functions(notebook):
    namespace, session = notebook
    with pytest.raises(GradingStop, match="kernel helper failed: ValueError: os.getcwd is not in"):
        session._ask("windows", "uses_package(globals(), 'windows', '[[\"os\", \"getcwd\"]]')", [])


def test_a_function_cannot_choose_its_names_in_the_notebook():
    def sigmoid_backward(g, out):
        return g * np.exp(np.log(out)) * (1 - out)

    sigmoid_backward.names_used = lambda: set()  # the Proxy's method: ignored on a function
    assert not nb07.check_sigmoid_backward(sigmoid_backward).passed
    assert "exp" in names_used(sigmoid_backward)


# ------------------------------------------------------------------------ a class, in kernels
EXERCISES = [  # (notebook, exercise grade_id, the answer its check refuses by name)
    ("07_layers_and_losses", "nb07-sigmoid_backward", SIGMOID_BY_LOG),
    ("08_softmax_cross_entropy", "nb08-softmax_vjp", SOFTMAX_BY_MATRIX),
    ("02_chain_rule", "nb02-d_sin_of_square", SIN_BY_SYMPY),
    ("05_matmul_gradients", "nb05-dL_db", DL_DB_ON_A_BRANCH),  # by uses_package
]
CHECKS = {"07": nb07, "08": nb08, "02": nb02, "05": nb05}


def test_the_grade_refuses_what_the_notebook_refuses_by_name(tmp_path):
    cells = [
        nbformat.v4.new_code_cell(
            "import numpy as np\nimport sympy as sp\nimport backproplab as bl\n"
            "from backproplab.exercises import nb02, nb05, nb07, nb08"
        )
    ]
    for stem, grade_id, _ in EXERCISES:
        source = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
        ids = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source.cells}
        cells += [nbformat.from_dict(ids[grade_id]), nbformat.from_dict(ids[f"{grade_id}-check"])]
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    solved = nbformat.v4.new_notebook(cells=cells)
    nbformat.write(solved, teacher / "a.ipynb")
    by_name = solved
    for _, grade_id, body in EXERCISES:
        by_name = replace_solution(by_name, grade_id.split("-", 1)[1], body)
    own_engine = replace_solution(solved, "dL_db", DL_DB_BY_OWN_ENGINE)
    by_memory = replace_solution(solved, "softmax_vjp", SOFTMAX_BY_BROADCASTING)
    students = [("solved", solved), ("by_name", by_name), ("own_engine", own_engine)]
    students.append(("by_memory", by_memory))
    for student, notebook in students:
        (tmp_path / "in" / student).mkdir(parents=True)
        nbformat.write(notebook, tmp_path / "in" / student / "a.ipynb")

    grades = grade_folder(tmp_path / "in", teacher, limits=Limits(timeout=30), jobs=2)
    checks = {(g.student, c.exercise): c for g in grades for c in g.checks}
    refusals = [("by_name", *exercise) for exercise in EXERCISES]
    refusals.append(("own_engine", "05_matmul_gradients", "nb05-dL_db", DL_DB_BY_OWN_ENGINE))
    refusals.append(  # the kernel measures the memory the call takes
        ("by_memory", "08_softmax_cross_entropy", "nb08-softmax_vjp", SOFTMAX_BY_BROADCASTING)
    )
    for student, stem, grade_id, body in refusals:
        assert checks["solved", grade_id].status == "correct", checks["solved", grade_id]
        refused = checks[student, grade_id]
        name = grade_id.split("-", 1)[1]
        check = getattr(CHECKS[stem[:2]], f"check_{name}")
        in_the_notebook = check(learner_function(name, body))
        assert in_the_notebook.status == "hint"
        if stem.startswith("05"):  # refused by uses_package: what of the package is named
            uses = "backproplab" if student == "by_name" else ".backward"
            expected = ("package", 0.0, f"{in_the_notebook} (its code uses {uses})")
        else:
            expected = ("hint", 0.0, str(in_the_notebook))
        assert (refused.status, refused.score, refused.message) == expected
    problems = {g.student: g.problems for g in grades}
    assert problems["solved"] == problems["by_memory"] == [], problems
    for student in ["by_name", "own_engine"]:
        assert problems[student] == [f"nb05-dL_db: {checks[student, 'nb05-dL_db'].message}"]


def learner_function(name: str, body: str):
    """The learner's function ``name`` with ``body``, as a notebook cell defines it."""
    arguments = {
        "sigmoid_backward": "g, out",
        "softmax_vjp": "g, a",
        "d_sin_of_square": "x",
        "dL_db": "G",
    }
    namespace = {"__name__": "__main__", "np": np, "sp": sp, "bl": bl}
    exec(f"def {name}({arguments[name]}):\n{body}\n", namespace)  # noqa: S102
    return namespace[name]
