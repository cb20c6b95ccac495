"""Answers on which the grade said something else than the notebook, found by a differential sweep
(every wrong answer of the exercise tests and a few of our own, each judged by the check called
in one process, as in the learner's notebook, and through the real grader): each test grades its
answers in one grading and compares every feedback with the notebook's, and fails without its
fix."""

from __future__ import annotations

import nbformat
import numpy as np
from exercise_helpers import grade_one_exercise, grade_students, run_as_notebook

SETUP = "import numpy as np\nfrom backproplab.exercises import attempt, correct, hint"


def cell(source: str, **nbgrader) -> nbformat.NotebookNode:
    made = nbformat.v4.new_code_cell(source)
    if nbgrader:
        made.metadata["nbgrader"] = {"schema_version": 3, "locked": False, **nbgrader}
    return made


def one_exercise(name: str, solution: str, check: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[
        cell(SETUP),
        cell(solution, solution=True, grade=False, grade_id=name),
        cell(check, solution=False, grade=True, grade_id=f"{name}-check", points=1),
    ])  # fmt: skip


def same_as_notebook(tmp_path, name: str, solution: str, check: str, answers: dict) -> dict:
    """Grade every answer (student -> solution cell) in one grading; assert that each check's
    status and message are the notebook's (the check cell run in this process on the answer).
    Returns student -> the grade's CheckResult."""
    grades = grade_students(
        tmp_path,
        one_exercise(name, solution, check),
        {who: one_exercise(name, answer, check) for who, answer in answers.items()},
    )
    results = {}
    for who, answer in answers.items():
        feedback = run_as_notebook([SETUP, answer, check])[-1]
        (graded,) = grades[who].checks
        assert (graded.status, graded.message) == (feedback.status, str(feedback)), who
        results[who] = graded
    return results


# ---------------------------------------------------------------- a recursion too deep
TRIANGLE = '''def triangle(n):
    """1 + 2 + ... + n."""
    ### BEGIN SOLUTION
    return n * (n + 1) // 2
    ### END SOLUTION'''
TRIANGLE_CHECK = """def check_triangle(fn):
    for n, expected in [(0, 0), (3, 6), (100_000, 5_000_050_000)]:
        got = attempt("triangle", fn, n)
        if not isinstance(got, int):
            return got if got is not None and hasattr(got, "status") else hint(
                "triangle", f"triangle({n}) should be a whole number"
            )
        if got != expected:
            return hint("triangle", f"triangle({n}) is not {got}")
    return correct("triangle")


check_triangle(triangle)"""


def test_a_recursion_too_deep_is_the_notebooks_recursion_error_not_a_removed_recorder(tmp_path):
    # Python removes a profile function that raises, as the grader's call recorder does when it
    # is called at the recursion limit: the grade said "answered by calling sys.setprofile (the
    # grader's call recorder was removed)", with the status "package", for an honest recursive
    # answer that the notebook tells "your code raised RecursionError" (a recursive toposort)
    recursive = TRIANGLE.replace(
        "return n * (n + 1) // 2", "return 0 if n == 0 else n + triangle(n - 1)"
    )
    results = same_as_notebook(
        tmp_path, "triangle", TRIANGLE, TRIANGLE_CHECK, {"ada": TRIANGLE, "bob": recursive}
    )
    assert results["ada"].status == "correct"
    assert results["bob"].status == "hint"
    assert "RecursionError" in results["bob"].message


def test_an_answer_that_goes_on_after_its_recursion_error_still_removed_the_recorder(tmp_path):
    # what the fix leaves: from the RecursionError on, no call of the answer is recorded, so one
    # that catches it and goes on (to call the package unseen, or not) is refused as before
    body = (
        "    def deep(k):\n"
        "        return deep(k + 1)\n"
        "    try:\n"
        "        deep(0)\n"
        "    except RecursionError:\n"
        "        pass\n"
        "    return n * (n + 1) // 2\n"
    )
    answer = TRIANGLE[: TRIANGLE.index("    ### BEGIN SOLUTION")] + body
    teacher = one_exercise("triangle", TRIANGLE, TRIANGLE_CHECK)
    grades = grade_students(
        tmp_path, teacher, {"cy": one_exercise("triangle", answer, TRIANGLE_CHECK)}
    )
    (graded,) = grades["cy"].checks
    assert graded.status == "package", graded.message
    assert "the grader's call recorder was removed" in graded.message


# ---------------------------------------------------------- a function of the check's, returned
STEEPER = '''def steeper(f, g, x):
    """Whichever of the functions f and g is steeper at x."""
    ### BEGIN SOLUTION
    slope = lambda h: abs(h(x + 1e-6) - h(x - 1e-6))
    return f if slope(f) > slope(g) else g
    ### END SOLUTION'''
STEEPER_CHECK = """def double(x):
    return 2 * x


def square(x):
    return x * x


def check_steeper(fn):
    got = attempt("steeper", fn, double, square, 3.0)
    if hasattr(got, "status"):
        return got
    if not callable(got):
        return hint("steeper", f"return one of the two functions; yours is a {type(got).__name__}")
    if got is not square:
        return hint("steeper", "at 3, one of them is steeper than the other")
    return correct("steeper")


check_steeper(steeper)"""


def test_a_function_of_the_checks_returned_is_the_checks_own_function(tmp_path):
    # the kernel sent a function the check had handed over back as "not data", and the check got
    # a stand-in named _Remote: a right answer was refused ("yours is a _Remote") and a wrong
    # one told of a type the learner never wrote (the notebook: "yours is a function")
    results = same_as_notebook(tmp_path, "steeper", STEEPER, STEEPER_CHECK, {
        "ada": STEEPER,
        "bob": STEEPER.replace("return f if slope(f) > slope(g) else g", "return f"),
        "cy": STEEPER.replace("return f if slope(f) > slope(g) else g", "return [f, g]"),
    })  # fmt: skip
    assert [r.status for r in results.values()] == ["correct", "hint", "hint"]
    assert "one of them is steeper" in results["bob"].message
    assert "yours is a list" in results["cy"].message


# ------------------------------------------------------------------ copies of the check's nodes
def test_copies_of_the_checks_tensors_get_the_notebooks_hint_not_a_grader_error(tmp_path):
    # a topological order of copies of the nodes (copy.copy): the kernel rebuilds the check's
    # graph with stand-ins for its ops, and working out the copies' gradients for the grader
    # raised AttributeError: '_OpName' object has no attribute 'vjp', a grading "error" (the
    # kernel helper failed) where the notebook tells the learner the tensors are not the graph's
    from backproplab.exercises import nb04

    body = (
        "    import copy\n"
        "    order, seen, stack = [], set(), [(root, False)]\n"
        "    while stack:\n"
        "        t, done = stack.pop()\n"
        "        if done:\n"
        "            order.append(copy.copy(t))\n"
        "        elif id(t) not in seen:\n"
        "            seen.add(id(t))\n"
        "            stack.append((t, True))\n"
        "            stack.extend((p, False) for p in t.inputs if p.requires_grad)\n"
        "    return order\n"
    )
    graded = grade_one_exercise(
        tmp_path, "04_inside_the_engine.ipynb", "nb04", "nb04-topo_order", body
    )
    namespace: dict = {}
    exec(f"def topo_order(root):\n{body}", namespace)  # noqa: S102 - the answer above
    feedback = nb04.check_topo_order(namespace["topo_order"])
    assert (graded.status, graded.message) == (feedback.status, str(feedback))
    assert "not nodes of the graph" in graded.message


# ------------------------------------------------------------------- the calls an answer nests
COUNTDOWN = '''def countdown(n):
    """[n, n - 1, ..., 1], with a loop (a recursion nests one call per number)."""
    ### BEGIN SOLUTION
    return list(range(n, 0, -1))
    ### END SOLUTION'''
COUNTDOWN_CHECK = """from backproplab.exercises import RemoteFunction
from backproplab.exercises._order import deepest_call


def check_countdown(fn):
    got, depth = deepest_call(fn, 700)
    if isinstance(fn, RemoteFunction):  # the grader's proxy: the kernel counted the calls
        depth = fn.deepest
    if depth > 500:
        return hint("countdown", f"your function nested {depth} calls: write a loop")
    if list(got) != list(range(700, 0, -1)):
        return hint("countdown", "count down from n to 1")
    return correct("countdown")


check_countdown(countdown)"""


def test_the_calls_an_answer_nests_are_counted_in_its_kernel(tmp_path):
    # notebook 04's check refuses a recursive toposort that raised the recursion limit by the
    # calls it nests (exercises._order.deepest_call, a profile function); in the grader the
    # function runs in the kernel and the check's profile function saw none of its calls: that
    # wrong answer scored. The kernel counts them, and after a call the proxy's deepest says
    # how deep it went (deepest_call still has to read it: see the report of this branch)
    recursive = COUNTDOWN.replace(
        "return list(range(n, 0, -1))", "return [n] + countdown(n - 1) if n else []"
    )
    results = same_as_notebook(
        tmp_path, "countdown", COUNTDOWN, COUNTDOWN_CHECK, {"ada": COUNTDOWN, "bob": recursive}
    )
    assert results["ada"].status == "correct"
    assert "your function nested 701 calls" in results["bob"].message


# ----------------------------------------------------------- where in the learner's code it failed
TOTAL = '''def total(values):
    """The sum of the numbers in the list values."""
    ### BEGIN SOLUTION
    return sum(values)
    ### END SOLUTION'''
TOTAL_CHECK = """from backproplab.exercises.mygrad._calls import _where


def check_total(fn):
    try:
        got = fn([1.0, 2.0])
    except Exception as error:
        where = getattr(error, "raised_in", None)  # the grader's: told by the kernel
        where = _where(error, fn) if where is None else where
        return hint("total", f"your code raised {type(error).__name__}{where}")
    return correct("total") if got == 3.0 else hint("total", "add them up")


check_total(total)"""


def test_where_in_the_learners_code_an_error_came_from_is_told_by_the_kernel(tmp_path):
    # the checks of mygrad name the function of the learner's module an error came from ("your
    # engine raised ValueError in Tensor.__matmul__: ...", notebook 09's Linear with its weight
    # transposed) by reading the traceback, which stays in the kernel: the grade said "your
    # engine raised ValueError: ...". The rebuilt exception now carries it, as raised_in (the
    # checks of mygrad still have to read it: see the report of this branch)
    helper = (
        TOTAL.replace("    return sum(values)", "    return add_up(values)")
        + "\n\n\ndef add_up(values):\n    return values[0] + values[1] + values[2]\n"
    )
    results = same_as_notebook(tmp_path, "total", TOTAL, TOTAL_CHECK, {"ada": TOTAL, "bob": helper})
    assert results["ada"].status == "correct"
    assert results["bob"].message.endswith("your code raised IndexError in add_up")


# ------------------------------------------------------- the arrays at hand where the code failed
PRODUCT = '''def product(A):
    """A times its transpose."""
    ### BEGIN SOLUTION
    return A @ A.T
    ### END SOLUTION'''
PRODUCT_CHECK = """from backproplab.exercises._crash import _array_shape, _locals


def check_product(fn):
    try:
        got = fn(np.ones((2, 3)))
    except ValueError as error:
        seen = getattr(error, "failing_locals", None)  # the grader's: sent by the kernel
        seen = _locals(error) if seen is None else seen
        shapes = sorted(shape for value in seen if (shape := _array_shape(value)))
        return hint("product", f"the arrays at hand: {shapes}")
    return correct("product") if got.shape == (2, 2) else hint("product", "A A^T is 2 x 2")


check_product(product)"""


def test_the_arrays_at_hand_where_the_code_failed_are_told_by_the_kernel(tmp_path):
    # a crash's hint says "whether it needs a transpose" only when a transpose of the arrays at
    # hand where the code failed would make the product fit, else "which arrays you multiply"
    # (exercises._crash.crash_message); it reads them from the traceback's frame, which stays in
    # the kernel, and the grade saw only the arguments: notebook 14's conv2d_weight_grad that
    # ignores the padding got the other advice (found by the notebook-vs-grade sweep). The
    # rebuilt exception now carries arrays of their shapes, as failing_locals (_crash._locals
    # still has to read them: see the report of this branch)
    wrong = PRODUCT.replace("return A @ A.T", "C = A.T\n    return C @ C")
    results = same_as_notebook(
        tmp_path, "product", PRODUCT, PRODUCT_CHECK, {"ada": PRODUCT, "bob": wrong}
    )
    assert results["ada"].status == "correct"
    assert results["bob"].message.endswith("the arrays at hand: [(2, 3), (3, 2)]")


# --------------------------------------------------------------------- what an exercise may use
def test_max_pooling_by_windows_cut_with_im2col_scores_as_in_the_notebook(tmp_path):
    # notebook 14's check accepts a max_pool2d_backward that cuts the windows out with im2col
    # and puts them back with col2im, as its exercises 1 and 2 do (test_exercises_nb14); the
    # grader allowed those two to the convolution exercises only, and scored it 0 ("answered by
    # calling backproplab.convolution.im2col, backproplab.convolution.col2im")
    from backproplab.convolution import col2im, im2col
    from backproplab.exercises import nb14

    body = (
        "    from backproplab.convolution import col2im, im2col\n"
        "    n, c, h, w = x.shape\n"
        "    k = kernel_size\n"
        "    cols = im2col(x.reshape(n * c, 1, h, w), k, k)\n"
        "    dcols = np.zeros_like(cols)\n"
        "    dcols[np.arange(len(cols)), cols.argmax(axis=1)] = g.reshape(-1)\n"
        "    return col2im(dcols, (n * c, 1, h, w), k, k).reshape(x.shape)\n"
    )
    graded = grade_one_exercise(
        tmp_path, "14_convolution_resnet.ipynb", "nb14", "nb14-max_pool2d_backward", body
    )
    namespace = {"np": np, "im2col": im2col, "col2im": col2im}
    exec(f"def max_pool2d_backward(g, x, kernel_size):\n{body}", namespace)  # noqa: S102 - the answer
    feedback = nb14.check_max_pool2d_backward(namespace["max_pool2d_backward"])
    assert feedback.passed, feedback
    assert (graded.status, graded.message) == (feedback.status, str(feedback))


RAISES_THE_LIMIT = """    import sys

    sys.setrecursionlimit(10_000)  # micrograd's recursive walk, the limit raised to fit
    order, visited = [], set()

    def visit(node):
        if id(node) not in visited:
            visited.add(id(node))
            for p in node.inputs:
                if p.requires_grad:
                    visit(p)
            order.append(node)

    visit(root)
    return order
"""
PADDING_IGNORED = """    from backproplab.convolution import im2col

    rows = g.transpose(0, 2, 3, 1).reshape(-1, g.shape[1])
    cols = im2col(x, kernel_size, 1, 0)  # the padding it was given is never used
    return (rows.T @ cols).reshape(g.shape[1], x.shape[1], kernel_size, kernel_size)
"""


def _in_the_notebook(signature: str, body: str, check) -> str:
    """The check's words on the answer, run as the learner's cells (its lines kept)."""
    namespace: dict = {"check": check}
    name = signature.split("(")[0][4:]
    cells = ["import numpy as np", f"{signature}\n{body}", f"check({name})"]
    return str(run_as_notebook(cells, namespace)[-1])


def test_a_recursive_walk_with_the_limit_raised_is_counted_in_the_grade_too(tmp_path):
    # the calls it nests are counted in the kernel (Proxy.deepest) and, since exercises._order
    # reads them, from where the check called it: "nested 1504 calls" as in the notebook (the
    # grade scored it correct, its nesting unseen)
    import sys

    from backproplab.exercises import nb04

    limit = sys.getrecursionlimit()
    try:
        want = _in_the_notebook("def topo_order(root):", RAISES_THE_LIMIT, nb04.check_topo_order)
    finally:
        sys.setrecursionlimit(limit)
    check = grade_one_exercise(
        tmp_path, "04_inside_the_engine.ipynb", "nb04", "nb04-topo_order", RAISES_THE_LIMIT
    )
    assert "calling yourself" in want
    assert (check.status, check.message) == ("hint", want)


def test_a_crash_is_told_by_the_shapes_at_hand_in_the_grade_too(tmp_path):
    # the hint tells a transpose from a wrong array by the shapes of the arrays of the failing
    # line (exercises._crash reads the kernel's failing_locals): the grade advised a transpose
    from backproplab.exercises import nb14

    want = _in_the_notebook(
        "def conv2d_weight_grad(x, g, kernel_size, padding=0):",
        PADDING_IGNORED,
        nb14.check_conv2d_weight_grad,
    )
    check = grade_one_exercise(
        tmp_path,
        "14_convolution_resnet.ipynb",
        "nb14",
        "nb14-conv2d_weight_grad",
        PADDING_IGNORED,
    )
    assert "which arrays you multiply" in want
    assert (check.status, check.message) == ("hint", want)


WALKS_THE_NOTEBOOKS_L = """    order, seen, todo = [], set(), [(L, False)]  # the notebook's L, not root
    while todo:
        node, done = todo.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            todo.append((node, True))
            todo += [(p, False) for p in node.inputs if p.requires_grad]
    return order


import backproplab as bl

L = bl.Tensor(2.0, requires_grad=True, name="x") * 3.0  # the notebook's own graph
"""


def test_a_walk_of_the_notebooks_own_graph_is_the_notebooks_hint_in_the_grade_too(tmp_path):
    # the notebook names the tensors that are not nodes of the graph; the grade said "calls
    # into backproplab" (its code uses a Tensor: the global L), status package, a problem for
    # the teacher. The kernel now counts the tensors among the function's globals as the
    # learner's own too, when the check asks (uses_package(..., global_tensors=True))
    from backproplab.exercises import nb04

    want = _in_the_notebook("def topo_order(root):", WALKS_THE_NOTEBOOKS_L, nb04.check_topo_order)
    check = grade_one_exercise(
        tmp_path, "04_inside_the_engine.ipynb", "nb04", "nb04-topo_order", WALKS_THE_NOTEBOOKS_L
    )
    assert "not nodes of the graph" in want and "backproplab" not in want
    assert (check.status, check.message) == ("hint", want)
