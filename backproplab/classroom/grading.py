"""Autograding: run each submission in a sandboxed kernel, judge its functions in the grader.

Everything that decides a score comes from the teacher's source notebooks (``--source``): which
notebook a submission is (the one sharing its cells' nbgrader ``grade_id``, whatever the file is
called), which exercises it has, their points, and the check of each (the teacher's check cell,
e.g. ``nb05.check_dL_dX(dL_dX)``). A submission's own metadata, points and check cells count for
nothing; an extra or repeated graded cell is listed as a problem.

How one notebook is graded:

1. a throwaway copy of the student's folder is made, and a kernel is started there through the
   sandbox launcher (_sandbox.py: its own process group, a memory limit, not a child of the
   grader);
2. the student's code cells run one by one, each with a time limit, the notebook with a time
   budget; the check cells are not run in the kernel;
3. where a check cell stands (or at the end, if the student deleted it) the grader evaluates the
   teacher's check cell in its own process, with each exercise function bound to a proxy: calling
   the proxy sends the arguments to the kernel as data, the kernel calls the student's function,
   and the result (and the arguments after the call) come back as data (_wire.py: JSON and .npy,
   never pickle). The teacher's check, imported here from the installed package, judges it.
   Patching checks or ``Feedback`` inside the kernel changes nothing here;
4. while the student's function runs, the kernel records calls into backproplab's own code that
   the exercise is not meant to use (_kernel_side.py); such an answer scores 0 with a problem
   naming the function;
5. the kernel, its process group and every process carrying its token are killed.

Any failure while grading one notebook becomes a problem in that student's row; the CSV is
written one student at a time and flushed, so a killed grader leaves every finished row.
What one machine cannot guarantee is in docs/teaching.md.
"""

from __future__ import annotations

import ast
import csv
import io
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from backproplab.exercises import Feedback

from . import _wire as wire
from ._kernel import Kernel, KernelDied
from ._kernel_side import CALLBACK_PROMPT, REPLY_MIME

__all__ = [
    "CheckResult",
    "NotebookGrade",
    "TeacherNotebook",
    "feedback_status",
    "feedback_text",
    "grade_folder",
    "grade_notebook",
    "load_source",
    "scores_csv",
    "scores_table",
]


def _verdict(status: str) -> str:
    """How a verdict reads inside a Feedback's text, e.g. ": ✔ correct — ", taken from Feedback."""
    text = str(Feedback("EXERCISE", status, "MESSAGE"))  # "EXERCISE: ✔ correct — MESSAGE"
    return text[len("EXERCISE") : -len("MESSAGE")]


_VERDICTS = {status: _verdict(status) for status in ("correct", "hint", "not done")}


@dataclass
class CheckResult:
    """One exercise of one submission: its verdict and the points it earned."""

    exercise: str  # the check cell's grade_id without a trailing "-check"
    points: float  # what the teacher's source says it is worth
    score: float  # points if correct, else 0
    status: str  # "correct", "hint", "not done", "package", "error", "timeout" or "not run"
    message: str = ""


@dataclass
class NotebookGrade:
    """The result of grading one submitted notebook."""

    student: str
    notebook: str  # the submitted file's name
    checks: list[CheckResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    teacher: str = ""  # the teacher notebook it was matched to ("" if none)

    @property
    def score(self) -> float:
        """The points earned over all checks."""
        return sum(check.score for check in self.checks)

    @property
    def points(self) -> float:
        """The points available over all checks."""
        return sum(check.points for check in self.checks)


# ------------------------------------------------------------------------ the teacher's source
@dataclass
class TeacherCheck:
    """One check cell of a teacher notebook."""

    grade_id: str
    points: float
    source: str

    @property
    def exercise(self) -> str:
        return self.grade_id.removesuffix("-check")


@dataclass
class TeacherNotebook:
    """What the grader needs from one teacher notebook."""

    name: str
    checks: list[TeacherCheck]
    grade_ids: set[str]  # of every nbgrader cell (solutions and checks): a submission's fingerprint
    functions: list[str]  # the functions the solution cells define: the learner's answers
    setup: list[ast.stmt]  # imports and definitions of its other code cells, run in the grader
    modules: list[str] = field(default_factory=list)  # the learner's own .py modules it imports

    @property
    def points(self) -> float:
        return sum(check.points for check in self.checks)


def _nbgrader(cell: Any) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _parse(source: str) -> ast.Module | None:
    """A cell's code without IPython magics / shell lines, or None if it is not Python."""
    lines = [line for line in source.split("\n") if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def teacher_notebook(
    name: str, notebook: nbformat.NotebookNode, student_modules: set[str] = frozenset()
) -> TeacherNotebook:
    """Read a teacher notebook's checks, points, solution functions and setup code.

    ``student_modules`` are the ``.py`` modules of the source folder that hold solutions (the
    learner's own engine): the notebook's imports of them are not run in the grader; what they
    bring in is reached through proxies, like the solution cells' functions.
    """
    checks, grade_ids, functions, setup, modules = [], set(), [], [], []
    for cell in notebook.cells:
        meta = _nbgrader(cell)
        if meta.get("grade_id"):
            grade_ids.add(str(meta["grade_id"]))
        if cell.cell_type != "code":
            continue
        tree = _parse(cell.source)
        if meta.get("grade") and meta.get("grade_id"):
            try:
                points = float(meta.get("points", 0))
            except (TypeError, ValueError):
                raise ValueError(
                    f"grade: the teacher's {name}: check {meta['grade_id']} has points "
                    f"{meta.get('points')!r}, not a number"
                ) from None
            checks.append(TeacherCheck(str(meta["grade_id"]), points, cell.source))
        elif meta.get("solution"):
            body = tree.body if tree else []
            functions += [node.name for node in body if isinstance(node, ast.FunctionDef)]
        elif tree is not None:
            for node in tree.body:
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name in student_modules:
                            modules.append(alias.asname or alias.name)
                        else:
                            setup.append(ast.Import([alias]))
                elif isinstance(node, ast.ImportFrom) and node.module in student_modules:
                    functions += [alias.asname or alias.name for alias in node.names]
                elif isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
                    setup.append(node)
    return TeacherNotebook(name, checks, grade_ids, functions, setup, modules)


def load_source(folder: str | Path) -> list[TeacherNotebook]:
    """Every teacher notebook with at least one check in ``folder`` (recursively)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"grade: the teacher's source {folder} is not a folder")
    student_modules = {
        path.stem
        for path in folder.rglob("*.py")
        if "BEGIN SOLUTION" in path.read_text(encoding="utf-8", errors="replace")
    }
    teachers = []
    for path in sorted(folder.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        notebook = nbformat.read(path, as_version=4)
        teacher = teacher_notebook(path.name, notebook, student_modules)
        if teacher.checks:
            teachers.append(teacher)
    return teachers


def _match(notebook: nbformat.NotebookNode, teachers: list[TeacherNotebook]):
    """The teacher notebook sharing most grade_ids with ``notebook`` (None if none shares any)."""
    ids = {str(_nbgrader(cell).get("grade_id")) for cell in notebook.cells}
    best = max(teachers, key=lambda t: len(t.grade_ids & ids), default=None)
    return best if best is not None and best.grade_ids & ids else None


# ------------------------------------------------------------------------- the grader's proxy
class GradingStop(BaseException):
    """The grader could not get an answer from the kernel (not the student's exception).

    A BaseException, so that a check's ``attempt`` (which catches Exception) lets it through.
    """


class _Budget:
    """The notebook's time budget."""

    def __init__(self, cell_timeout: float, seconds: float) -> None:
        self.cell_timeout = cell_timeout
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def timeout(self) -> float:
        return max(0.0, min(self.cell_timeout, self.end - time.monotonic()))

    def spent(self) -> bool:
        return time.monotonic() >= self.end


def _exception(type_name: str, message: str) -> BaseException:
    """The student's exception, rebuilt by name (a fresh class: nothing of theirs is imported)."""
    if type_name == "NotImplementedError":
        return NotImplementedError(message)
    name = type_name if type_name.isidentifier() else "Exception"
    return type(name, (Exception,), {})(message)


class _Session:
    """Calls into one student's kernel on behalf of the teacher's checks."""

    def __init__(self, kernel: Kernel, budget: _Budget) -> None:
        self.kernel = kernel
        self.budget = budget
        self.package_calls: list[str] = []  # forbidden calls seen during the current check
        self.broken = ""  # why the kernel cannot be used any more ("" while it can)

    def call(self, name: str, args: tuple, kwargs: dict) -> Any:
        if self.budget.spent():
            raise GradingStop("the notebook's time budget was spent before this check")
        nodes: list[Any] = []
        node_index: dict[int, int] = {}
        functions: list[Callable] = []

        def tensor(t: Any) -> int:
            _add_graph(t, nodes, node_index)
            return node_index[id(t)]

        def function(f: Callable) -> int:
            functions.append(f)
            return len(functions) - 1

        encode = wire.Encoder(tensor=tensor, function=function)
        try:
            request = {"args": encode(list(args)), "kwargs": encode(kwargs)}
        except wire.WireError as error:
            raise GradingStop(f"the grader cannot send this check's arguments: {error}") from None
        request["nodes"] = [
            {
                "data": wire.array_to_text(t.data),
                "rg": bool(t.requires_grad),
                "name": t.name,
                "op": None if t.op is None else str(getattr(t.op, "name", "op")),
                "inputs": [node_index[id(p)] for p in t.inputs],
            }
            for t in nodes
        ]
        code = (
            "__import__('backproplab.classroom._kernel_side', fromlist=['call'])"
            f".call(globals(), {name!r}, {wire.dumps(request)!r})"
        )

        def answer(prompt: str) -> str:
            return _callback(prompt, functions)

        allowed = self.budget.timeout()
        try:
            run = self.kernel.execute(code, allowed, on_input=answer)
        except KernelDied:
            self.broken = "the kernel died while a check ran its function"
            raise GradingStop("the kernel died while running the function") from None
        if run.status == "stuck":
            self.broken = "the kernel stayed stuck: the remaining cells were not run"
        if run.status in ("timeout", "stuck") and allowed < self.budget.cell_timeout:
            raise GradingStop(f"the notebook's time budget ran out while a check ran {name}")
        if run.status in ("timeout", "stuck"):
            raise GradingStop(f"{name} ran longer than {allowed:g} s")
        replies = [d[REPLY_MIME] for d in run.displays if REPLY_MIME in d]
        if not replies:
            raise GradingStop(f"no reply from the kernel for {name}")
        try:
            reply = wire.loads(replies[-1])
            return self._result(name, reply, nodes, args)
        except (wire.WireError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise GradingStop(f"unreadable reply for {name}: {error}") from None

    def _result(self, name: str, reply: dict, nodes: list, args: tuple) -> Any:
        status = reply["status"]
        if status == "missing":
            raise NameError(f"name {name!r} is not defined")
        if status == "grader":
            raise GradingStop(f"the kernel helper failed: {reply.get('error', '')}")
        for label in reply.get("package_calls") or []:
            if str(label) not in self.package_calls:
                self.package_calls.append(str(label))
        if reply.get("profiler_removed"):
            self.package_calls.append("sys.setprofile (the grader's call recorder was removed)")
        jacobians = reply.get("jacobians") or {}
        decode = wire.Decoder(tensor=lambda content: _tensor(content, nodes, jacobians))
        _copy_back(args, decode(reply["args_after"]))
        if status == "raised":
            raise _exception(str(reply.get("error_type")), str(reply.get("error", "")))
        return decode(reply["result"])


def _add_graph(root: Any, nodes: list, node_index: dict[int, int]) -> None:
    """Append ``root``'s graph to ``nodes``, inputs first, without recursion."""
    stack = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if id(t) in node_index:
            continue
        if expanded:
            node_index[id(t)] = len(nodes)
            nodes.append(t)
        else:
            stack.append((t, True))
            stack += [(p, False) for p in t.inputs if id(p) not in node_index]


def _tensor(content: Any, nodes: list, jacobians: dict) -> Any:
    """A Tensor the kernel sent: one of the check's own (by index) or a new one."""
    from ..ops import Op
    from ..tensor import Tensor, apply

    if not isinstance(content, dict):
        raise wire.WireError("a malformed tensor")
    if "ref" in content:
        index = content["ref"]
        if not isinstance(index, int) or not 0 <= index < len(nodes):
            raise wire.WireError("a tensor reference out of range")
        return nodes[index]
    data = wire.array_from_text(content["data"])
    if data.dtype.kind not in "fiub":
        raise wire.WireError(f"a tensor of dtype {data.dtype}")
    if content.get("leaf", True):
        return Tensor(data, requires_grad=bool(content.get("rg")))
    found = jacobians.get(str(content.get("index")), {}) or {}
    inputs, matrices = [], []
    for key, text in found.items():
        leaf = nodes[int(key)]
        matrix = wire.array_from_text(text)
        if matrix.shape != (data.size, leaf.data.size):
            raise wire.WireError("a Jacobian of the wrong shape")
        inputs.append(leaf)
        matrices.append(matrix)

    def vjp(g: np.ndarray, out: np.ndarray, *xs: np.ndarray) -> tuple:
        flat = np.broadcast_to(g, data.shape).ravel()
        return tuple((flat @ m).reshape(x.shape) for m, x in zip(matrices, xs))

    return apply(Op("your function", lambda *xs: data.copy(), vjp), *inputs)


def _copy_back(args: tuple, after: Any) -> None:
    """Write the arrays the student's function changed back into the check's arguments."""
    if not isinstance(after, list) or len(after) != len(args):
        return
    for mine, theirs in zip(args, after):
        if isinstance(mine, np.ndarray) and isinstance(theirs, np.ndarray):
            if mine.shape == theirs.shape and mine.flags.writeable:
                mine[...] = theirs
        elif isinstance(mine, list) and isinstance(theirs, list):
            _copy_back(tuple(mine), theirs)


def _callback(prompt: str, functions: list[Callable]) -> str:
    """Run one of the check's own functions for the kernel; reply as data."""
    try:
        if not prompt.startswith(CALLBACK_PROMPT):
            raise wire.WireError("not a grader callback")
        request = wire.loads(prompt[len(CALLBACK_PROMPT) :])
        number = request["call"]
        if not isinstance(number, int) or not 0 <= number < len(functions):
            raise wire.WireError("no such function")
        decode = wire.Decoder()
        value = functions[number](*decode(request["args"]), **decode(request["kwargs"]))
        return wire.dumps({"ok": wire.Encoder()(value)})
    except Exception as error:  # noqa: BLE001 - the kernel gets the error, the grader goes on
        return wire.dumps({"error": f"{type(error).__name__}: {error}"})


class _ModuleProxy:
    """Stands for the learner's own module (``mygrad``): its attributes are proxies."""

    def __init__(self, session: _Session, name: str) -> None:
        self._session = session
        self._name = name

    def __getattr__(self, attribute: str) -> _Proxy:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Proxy(self._session, f"{self._name}.{attribute}")


class _Proxy:
    """Stands for the student's function ``name`` in the teacher's check."""

    def __init__(self, session: _Session, name: str) -> None:
        self.session = session
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.call(self.__name__, args, kwargs)


# ------------------------------------------------------------------------------ one notebook
def _evaluate(check: TeacherCheck, teacher: TeacherNotebook, session: _Session) -> CheckResult:
    """Run the teacher's check cell in the grader, with proxies for the student's functions."""
    namespace: dict[str, Any] = {"__name__": "backproplab_grading_check"}
    for statement in teacher.setup:  # the teacher's imports and definitions
        try:
            exec(compile(ast.Module([statement], []), teacher.name, "exec"), namespace)
        except Exception:  # noqa: BLE001, S102 - a failing import is the check's problem below
            pass
    for name in teacher.functions:
        namespace[name] = _Proxy(session, name)
    for name in teacher.modules:
        namespace[name] = _ModuleProxy(session, name)
    session.package_calls = []
    result = CheckResult(check.exercise, check.points, 0.0, "error")
    tree = _parse(check.source)
    try:
        if tree is None or not tree.body or not isinstance(tree.body[-1], ast.Expr):
            raise ValueError("the teacher's check cell does not end in an expression")
        body = ast.Module(tree.body[:-1], [])
        exec(compile(body, check.grade_id, "exec"), namespace)  # noqa: S102 - teacher's code
        feedback = eval(
            compile(ast.Expression(tree.body[-1].value), check.grade_id, "eval"), namespace
        )  # noqa: E501, S307
    except GradingStop as stop:
        timed_out = "longer than" in str(stop) or "budget" in str(stop)
        result.status, result.message = ("timeout" if timed_out else "error"), str(stop)
        return result
    except Exception as error:  # noqa: BLE001 - the teacher's check failed in the grader
        result.message = f"the check failed in the grader: {type(error).__name__}: {error}"
        return result
    if not isinstance(feedback, Feedback):
        result.message = f"the teacher's check returned {type(feedback).__name__}, not Feedback"
        return result
    result.status, result.message = feedback.status, str(feedback)
    if session.package_calls:
        result.status = "package"
        result.message = (
            f"answered by calling {', '.join(session.package_calls[:3])}: "
            "the exercise asks for your own code, scored 0"
        )
    result.score = check.points if result.status == "correct" else 0.0
    return result


@dataclass
class Limits:
    """How long and how much memory one notebook may take."""

    timeout: float = 60.0  # seconds per cell (and per call of a student function)
    budget: float | None = None  # seconds for the whole notebook; default 5 x timeout
    memory_mb: int = 2048

    @property
    def notebook_seconds(self) -> float:
        return self.budget if self.budget is not None else 5 * self.timeout


def _read(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    if not isinstance(notebook.get("cells"), list):
        raise ValueError("no list of cells")
    return notebook


def grade_notebook(
    path: str | Path,
    student: str,
    teachers: list[TeacherNotebook],
    limits: Limits | None = None,
    *,
    folder: str | Path | None = None,
) -> NotebookGrade:
    """Grade one submitted notebook against the teacher notebook it matches (see module doc).

    ``folder``, the student's folder holding the notebook (data files...), is copied to a
    throwaway folder the kernel runs in (without it the kernel gets an empty one). Never raises:
    whatever goes wrong is listed in the grade's problems.
    """
    path = Path(path)
    grade = NotebookGrade(student, path.name)
    try:
        folder = Path(folder) if folder is not None else None
        _grade_into(grade, path, teachers, limits or Limits(), folder)
    except Exception as error:  # noqa: BLE001 - one bad submission costs that student only
        grade.problems.append(f"grading failed: {type(error).__name__}: {error}")
    return grade


def _grade_into(
    grade: NotebookGrade,
    path: Path,
    teachers: list[TeacherNotebook],
    limits: Limits,
    folder: Path | None,
) -> None:
    try:
        notebook = _read(path)
    except Exception as error:  # noqa: BLE001 - a corrupt upload
        grade.problems.append(f"could not read the notebook: {type(error).__name__}: {error}")
        return
    teacher = _match(notebook, teachers)
    if teacher is None:
        grade.problems.append("its cells match none of the teacher's notebooks: not graded")
        return
    grade.teacher = teacher.name
    checks = {check.grade_id: check for check in teacher.checks}
    results: dict[str, CheckResult] = {}
    plan: list[tuple[int, Any]] = []  # (cell index, code to run or the check to evaluate)
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        meta = _nbgrader(cell)
        grade_id = str(meta.get("grade_id", ""))
        if grade_id in checks:
            if any(step is checks[grade_id] for _, step in plan):
                grade.problems.append(f"cell {index} repeats the check {grade_id}: ignored")
            else:
                plan.append((index, checks[grade_id]))
            continue  # a check cell is never run in the kernel
        if meta.get("grade"):
            what = f"graded cell {grade_id!r}" if grade_id else "graded cell without a grade_id"
            grade.problems.append(
                f"cell {index} is a {what} that {teacher.name} does not have: it scores nothing"
            )
        plan.append((index, str(cell.get("source", ""))))
    plan += [(len(notebook.cells), c) for c in teacher.checks if all(s is not c for _, s in plan)]

    with tempfile.TemporaryDirectory(prefix="backproplab-grading-") as scratch:
        workdir = Path(scratch) / "work"
        cwd = workdir
        if folder is not None and folder.is_dir() and _size(folder) < 2**30:
            shutil.copytree(folder, workdir, symlinks=True)
            cwd = workdir / path.parent.relative_to(folder)
        else:
            workdir.mkdir()
            if folder is not None:
                grade.problems.append(
                    "the student's folder holds over 1 GiB: the notebook ran without its files"
                )
        (cwd / path.name).unlink(missing_ok=True)  # the kernel never sees the notebook file
        budget = _Budget(limits.timeout, limits.notebook_seconds)
        try:
            kernel = Kernel(cwd, limits.memory_mb)
        except KernelDied as error:
            grade.problems.append(str(error))
            kernel = None
        stopped = kernel is None
        session = _Session(kernel, budget) if kernel is not None else None
        try:
            for index, step in plan:
                if isinstance(step, TeacherCheck):
                    if stopped:
                        results[step.grade_id] = CheckResult(
                            step.exercise, step.points, 0.0, "not run", "the kernel was stopped"
                        )
                    else:
                        results[step.grade_id] = _evaluate(step, teacher, session)
                        if session.broken:
                            grade.problems.append(session.broken)
                            stopped = True
                    continue
                if stopped or not step.strip():
                    continue
                if budget.spent():
                    grade.problems.append(
                        f"the notebook ran past its time budget of {budget.seconds:g} s before "
                        f"cell {index}: the rest was not run"
                    )
                    stopped = True
                    continue
                allowed = budget.timeout()
                try:
                    run = kernel.execute(step, allowed)
                except KernelDied:
                    grade.problems.append(f"the kernel died in cell {index}: the rest was not run")
                    stopped = True
                    continue
                if run.status in ("timeout", "stuck") and allowed < limits.timeout:
                    grade.problems.append(
                        f"the notebook ran past its time budget of {budget.seconds:g} s in cell "
                        f"{index}: the rest was not run"
                    )
                    stopped = True
                elif run.status in ("timeout", "stuck"):
                    grade.problems.append(f"cell {index} ran longer than {limits.timeout:g} s")
                if run.status == "stuck" and not stopped:
                    grade.problems.append(
                        "the kernel stayed stuck: the remaining cells were not run"
                    )
                    stopped = True
                for ename, _ in run.errors:
                    if ename == "MemoryError":
                        grade.problems.append(
                            f"cell {index} ran out of memory (limit {limits.memory_mb} MB)"
                        )
        finally:
            if kernel is not None:
                kernel.close()
    grade.checks = [results[c.grade_id] for c in teacher.checks]
    for result in grade.checks:
        if result.status in ("error", "package", "timeout") and result.message:
            grade.problems.append(f"{result.exercise}: {result.message}")


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


# ------------------------------------------------------------------------------ a whole class
def _submissions(folder: Path) -> Iterable[tuple[str, Path]]:
    """(student, notebook) pairs: ``folder/<student>/**/*.ipynb``, or ``folder/<student>.ipynb``."""
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder)
        if ".ipynb_checkpoints" in relative.parts:
            continue
        yield (relative.parts[0] if len(relative.parts) > 1 else path.stem), path


def _best(student: str, grades: list[NotebookGrade], teachers: list[TeacherNotebook]):
    """One grade per teacher notebook (the best copy), with the other copies as problems."""
    kept: dict[str, NotebookGrade] = {}
    others: list[NotebookGrade] = []
    for grade in grades:
        if not grade.teacher:
            others.append(grade)
            continue
        current = kept.get(grade.teacher)
        if current is None or grade.score > current.score:
            if current is not None:
                others.append(current)
            kept[grade.teacher] = grade
        else:
            others.append(grade)
    result = list(kept.values())
    for grade in others:
        note = NotebookGrade(student, grade.notebook, [], list(grade.problems), "")
        if grade.teacher:
            note.problems.append(
                f"another copy of {grade.teacher} (scored {grade.score:g}): only the best counts"
            )
        result.append(note)
    return result


class _CsvRows:
    """The scores CSV, rewritten whole after each student (to a temporary file in the same
    folder, then renamed over it): a killed grader leaves every finished row, and whatever a
    submission wrote to that path in the meantime is replaced by the grader's rows."""

    def __init__(self, path: Path | None, exercises: list[str]) -> None:
        self.path = path
        self.rows = [_header(exercises)]
        self.exercises = exercises
        self.lock = threading.Lock()
        self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(self.rows)
        handle, temporary = tempfile.mkstemp(prefix=".scores-", dir=self.path.parent)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(buffer.getvalue())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)

    def add(self, grades: list[NotebookGrade], points: float) -> None:
        with self.lock:
            self.rows.append(_row(grades, self.exercises, points))
            self._write()

    def close(self) -> None:
        with self.lock:
            self._write()


def grade_folder(
    folder: str | Path,
    source: str | Path,
    *,
    limits: Limits | None = None,
    jobs: int = 1,
    csv_path: str | Path | None = None,
    feedback: str | Path | None = None,
    on_student: Callable[[str, list[NotebookGrade]], None] | None = None,
) -> list[NotebookGrade]:
    """Grade every submission in ``folder`` against the teacher notebooks in ``source``.

    ``jobs`` students are graded at once. With ``csv_path`` each student's row is written (and
    flushed) as soon as they are graded; with ``feedback`` a text file per student goes there.
    The submissions are first copied to a private staging folder: a kernel writing into the
    submissions folder changes nothing that is graded.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"grade: {folder} is not a folder of submissions")
    teachers = load_source(source)
    if not teachers:
        raise FileNotFoundError(f"grade: no notebook with self-checks in {source}")
    limits = limits or Limits()
    with tempfile.TemporaryDirectory(prefix="backproplab-staging-") as staging:
        staged = Path(staging) / "submissions"
        shutil.copytree(folder, staged, symlinks=True)
        by_student: dict[str, list[Path]] = {}
        for student, path in _submissions(staged):
            by_student.setdefault(student, []).append(path)
        matched = []
        for paths in by_student.values():
            for path in paths:
                try:
                    teacher = _match(_read(path), teachers)
                except Exception:  # noqa: BLE001 - reported when graded
                    teacher = None
                if teacher is not None and teacher not in matched:
                    matched.append(teacher)
        matched.sort(key=teachers.index)
        exercises = [check.exercise for t in matched for check in t.checks]
        points = sum(t.points for t in matched)
        rows = _CsvRows(Path(csv_path) if csv_path else None, exercises)
        if feedback is not None:
            Path(feedback).mkdir(parents=True, exist_ok=True)

        def grade_student(student: str) -> list[NotebookGrade]:
            grades = []
            for path in by_student[student]:
                own = None if path.parent == staged else staged / student
                grades.append(grade_notebook(path, student, teachers, limits, folder=own))
            grades = _best(student, grades, teachers)
            rows.add(grades, points)
            if feedback is not None:
                name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in student)
                (Path(feedback) / f"{name}.txt").write_text(
                    feedback_text(student, grades, matched), encoding="utf-8"
                )
            if on_student is not None:
                on_student(student, grades)
            return grades

        try:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                results = list(pool.map(grade_student, by_student))
        finally:
            rows.close()
    return [grade for grades in results for grade in grades]


# ----------------------------------------------------------------------------- the reports
def _header(exercises: list[str]) -> list[str]:
    return ["student", *exercises, "score", "points", "problems"]


def _row(grades: list[NotebookGrade], exercises: list[str], points: float) -> list[str]:
    """One student's row: a score per exercise ("" if never graded), totals, problems."""
    checks = {c.exercise: c for g in grades for c in g.checks}
    cells = [f"{checks[e].score:g}" if e in checks else "" for e in exercises]
    score = sum(g.score for g in grades)
    problems = "; ".join(f"{g.notebook}: {p}" for g in grades for p in g.problems)
    return [grades[0].student, *cells, f"{score:g}", f"{points:g}", problems]


def _table(grades: list[NotebookGrade]) -> tuple[list[str], list[list[str]]]:
    exercises: list[str] = []
    by_student: dict[str, list[NotebookGrade]] = {}
    available: dict[str, float] = {}
    for grade in grades:
        by_student.setdefault(grade.student, []).append(grade)
        for check in grade.checks:
            if check.exercise not in exercises:
                exercises.append(check.exercise)
            available[check.exercise] = check.points
    points = sum(available.values())
    rows = [_row(gs, exercises, points) for gs in by_student.values()]
    return _header(exercises), rows


def scores_csv(grades: list[NotebookGrade]) -> str:
    """The scores as CSV: one row per student, one column per exercise, then the totals."""
    header, rows = _table(grades)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def scores_table(grades: list[NotebookGrade]) -> str:
    """The scores as an aligned plain-text table, for the terminal."""
    header, rows = _table(grades)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(text.ljust(width) for text, width in zip(row, widths)) for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


_MARKS = {"correct": "✔", "hint": "✘", "not done": "…"}


def feedback_text(
    student: str, grades: list[NotebookGrade], teachers: list[TeacherNotebook] | None = None
) -> str:
    """The feedback to hand back to one student: per exercise its verdict and hint, then the
    problems the grader met (like nbgrader's generate_feedback, as plain text)."""
    lines = [f"Feedback for {student}", ""]
    graded = {g.teacher for g in grades if g.teacher}
    for teacher in teachers or []:
        if teacher.name not in graded:
            lines += [f"{teacher.name}: not handed in (0 of {teacher.points:g} points)", ""]
    for grade in grades:
        title = grade.teacher or grade.notebook
        lines.append(
            f"{title} (handed in as {grade.notebook}): {grade.score:g} of {grade.points:g}"
        )
        for check in grade.checks:
            mark = _MARKS.get(check.status, "✘")
            text = check.message or check.status
            lines.append(f"  {mark} {check.exercise} ({check.score:g}/{check.points:g}): {text}")
        for problem in grade.problems:
            lines.append(f"  ! {problem}")
        lines.append("")
    return "\n".join(lines)


def feedback_status(outputs: list) -> tuple[str, str]:
    """The verdict a check cell's stored ``outputs`` show: (status, the line that says so).

    Used by nbgrader_support (nbgrader reads outputs); this grader does not trust outputs.
    Status is "correct" only if at least one Feedback was displayed and every one says correct;
    "error" if the cell raised; "not run" if it shows no Feedback at all.
    """
    verdicts: list[tuple[str, str]] = []
    for output in outputs:
        if output.get("output_type") == "error":
            return "error", f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        if output.get("output_type") == "stream":
            text = output.get("text", "")
        else:
            text = output.get("data", {}).get("text/plain", "")
        for line in "".join(text).splitlines():
            for status, verdict in _VERDICTS.items():
                if verdict in line:
                    verdicts.append((status, line.strip()))
    if not verdicts:
        return "not run", "the check displayed no feedback"
    wrong = [verdict for verdict in verdicts if verdict[0] != "correct"]
    return wrong[0] if wrong else verdicts[0]
