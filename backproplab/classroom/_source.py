"""The teacher's source notebooks: what decides a score, read before any submission is run.

Each teacher notebook gives its checks (the check cells, their ``grade_id`` and points), the
``grade_id`` of every nbgrader cell (a submission's fingerprint: a submission is graded as the
teacher notebook it shares most of them with, whatever the file is called), the functions its
solution cells define (the learner's answers) and the setup code (imports, definitions) its checks
need in the grader.
"""

from __future__ import annotations

import ast
import builtins
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ._by_hand import ByHand, is_by_hand
from ._dependence import notebook_names, runs_without_solutions
from ._learner_imports import bind, check_imports, learner_import
from ._parse import parse
from ._same_code import Region, module_solutions, regions_of

__all__ = [
    "TeacherCheck",
    "TeacherNotebook",
    "binds",
    "cell_code",
    "load_source",
    "matching_teacher",
    "nbgrader_metadata",
    "own_modules",
    "parse_cell",
    "read_notebook",
    "refuse_same_names",
    "teacher_notebook",
]


@dataclass
class TeacherCheck:
    """One check cell of a teacher notebook."""

    grade_id: str
    points: float
    source: str
    cell: int = 0  # its code cell's number, counted from 1
    # its own imports of the learner's modules (``from mygrad import run``), run in the student's
    # kernel at its place (_learner_imports.py)
    imports: str = ""
    # the names it reads (itself, or through the teacher's functions it calls) that the teacher's
    # other cells give a value: the grader runs those cells for them (_check.py)
    needs: set[str] = field(default_factory=set)

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
    # the names it binds the learner's own .py modules to (``mg`` for ``import mygrad as mg``):
    # the check cells' proxies; the files are ``module_files``
    modules: list[str] = field(default_factory=list)
    # exercise -> the long solution regions of its cell or of the learner's module (_same_code.py)
    solutions: dict[str, list[Region]] = field(default_factory=dict)
    # each of ``modules`` -> the module it names (``mg`` -> ``mygrad``)
    module_of: dict[str, str] = field(default_factory=dict)
    # the names it imports from the learner's modules -> what they name (``T`` -> ``mygrad.Tensor``
    # for ``from mygrad import Tensor as T``): a check using a class cannot be graded
    # (_learner_classes.py)
    imported: dict[str, str] = field(default_factory=dict)
    # the teacher's own .py modules beside the notebook that its cells import (checks of their
    # own): name -> file, imported in the grader from there, never from the student's folder
    own_modules: dict[str, Path] = field(default_factory=dict)
    loaded: dict[str, Any] | None = None  # those modules once the grader loaded them (_check.py)
    folder: Path | None = None  # the notebook's folder in the source
    # names the notebook's other code cells assign -> the first code cell that does
    assigned: dict[str, int] = field(default_factory=dict)
    # names a solution cell binds, other than its functions -> the first code cell that does,
    # and how ("import", "lambda" or "value"): the student's, which the grader never reads (it
    # calls their functions, those written with def)
    in_solutions: dict[str, tuple[int, str]] = field(default_factory=dict)
    # the top-level statements of its other code cells, in order: (code cell number, statement,
    # whether it runs without a solution, the names that may hold a solution's value after it)
    code: list[tuple[int, ast.stmt, bool, frozenset[str]]] = field(default_factory=list)
    # what the grader ran of ``code`` (_check.py): check grade_id -> (name -> value, name -> why
    # there is none), and the teacher's functions and classes it defined there
    values: dict[str, tuple[dict[str, Any], dict[str, str]]] | None = None
    defined: dict[str, Any] = field(default_factory=dict)

    # the cells a person marks (nbgrader's manually graded answers and tasks: _by_hand.py)
    by_hand: list[ByHand] = field(default_factory=list)
    # its read-only code cells (nbgrader's locked, not a solution or a check): grade_id -> code,
    # which runs in place of a student's edit of it (_steps.py)
    locked: dict[str, str] = field(default_factory=dict)
    # the grade_id of each solution cell: a submission without one was made from another
    # release of the notebook (or the student deleted it), and the teacher is told (_steps.py)
    answers: list[str] = field(default_factory=list)

    @property
    def points(self) -> float:
        return sum(check.points for check in self.checks) + sum(c.points for c in self.by_hand)

    @property
    def learner_modules(self) -> set[str]:
        """The learner's modules its cells import, either way (``import mygrad``, ``from mygrad
        import run``), as their files are named."""
        return {*self.module_of.values(), *(v.partition(".")[0] for v in self.imported.values())}

    @property
    def module_files(self) -> list[str]:
        """The learner's modules it imports, as their files are named (``mygrad``, for
        ``mygrad.py``, whatever name the notebook binds it to)."""
        return list(dict.fromkeys(self.module_of.get(name, name) for name in self.modules))


def nbgrader_metadata(cell: Any) -> dict:
    """A cell's nbgrader metadata ({} where a submission's is missing or not a dict)."""
    metadata = cell.get("metadata", {})
    meta = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
    return meta if isinstance(meta, dict) else {}


def cell_code(source: str) -> str:
    """A cell's code without its IPython magics and shell lines (``%timeit``, ``!pip``)."""
    return "\n".join(
        line for line in source.split("\n") if not line.lstrip().startswith(("%", "!"))
    )


def parse_cell(source: str) -> ast.Module | None:
    """A cell's code without IPython magics / shell lines, or None if it is not Python."""
    try:
        return parse(cell_code(source))
    except SyntaxError:
        return None


def teacher_notebook(
    name: str, notebook: nbformat.NotebookNode, student_modules: Collection[str] = frozenset()
) -> TeacherNotebook:
    """Read a teacher notebook's checks, points, solution functions and setup code.

    ``student_modules`` are the ``.py`` modules of the source folder that hold solutions (the
    learner's own engine): the notebook's imports of them are not run in the grader; what they
    bring in is reached through proxies, like the solution cells' functions.
    """
    checks, grade_ids = [], set()
    functions: list[str] = []
    modules: list[str] = []
    solutions: dict[str, list[Region]] = {}
    setup: list[ast.stmt] = []
    assigned: dict[str, int] = {}
    in_solutions: dict[str, tuple[int, str]] = {}
    cells: list[tuple[int, ast.Module, str]] = []  # (code cell number, code, "solution"/"check"/"")
    module_of: dict[str, str] = {}
    imported: dict[str, str] = {}
    number = 0  # code cells counted from 1, as the teacher's reports count them
    by_hand: list[ByHand] = []
    locked: dict[str, str] = {}
    answer_ids: list[str] = []
    for cell in notebook.cells:
        meta = nbgrader_metadata(cell)
        if meta.get("grade_id"):
            grade_ids.add(str(meta["grade_id"]))
        if is_by_hand(meta):  # an answer or a task a person marks: no check runs
            answer = cell.source if meta.get("solution") else None  # None: a task
            by_hand.append(ByHand(str(meta["grade_id"]), _points(name, meta, "cell"), answer))
        if cell.cell_type != "code":
            continue
        number += 1
        plain = not meta.get("solution") and not meta.get("grade")  # a check: the teacher's
        if meta.get("locked") and meta.get("grade_id") and plain:  # anyway, and never run
            locked[str(meta["grade_id"])] = cell.source
        tree = parse_cell(cell.source)
        if meta.get("grade") and meta.get("grade_id") and not is_by_hand(meta):
            points = _points(name, meta, "check")
            checks.append(TeacherCheck(str(meta["grade_id"]), points, cell.source, number))
            cells.append((number, tree or ast.Module([], []), "check"))
            own = check_imports(tree, student_modules)  # bound as in a cell above it
            for node in own:
                bind(node, modules, module_of, functions, imported)
            checks[-1].imports = "\n".join(ast.unparse(node) for node in own)
        elif meta.get("solution"):
            cells.append((number, tree or ast.Module([], []), "solution"))
            if meta.get("grade_id"):
                answer_ids.append(str(meta["grade_id"]))
                solutions[str(meta["grade_id"])] = [r for _, r in regions_of(cell.source)]
            body = tree.body if tree else []
            functions += [node.name for node in body if isinstance(node, ast.FunctionDef)]
            for node in body:
                how = _binding(node)
                for bound in notebook_names(ast.unparse(node))[0] - set(functions):
                    in_solutions.setdefault(bound, (number, how))
        elif tree is not None:
            cells.append((number, tree, ""))
            for node in tree.body:
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        one = ast.copy_location(ast.Import([alias]), node)
                        if alias.name in student_modules:
                            bind(one, modules, module_of, functions, imported)
                        else:
                            setup.append(one)
                elif learner_import(node, student_modules):
                    bind(node, modules, module_of, functions, imported)
                elif isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
                    setup.append(node)
                elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        for each in ast.walk(target):
                            if isinstance(each, ast.Name):
                                assigned.setdefault(each.id, number)
    graded = {check.exercise for check in checks}
    solutions = {exercise: r for exercise, r in solutions.items() if exercise in graded and r}
    teacher = TeacherNotebook(name, checks, grade_ids, functions, setup, modules, solutions)
    teacher.assigned, teacher.in_solutions = assigned, in_solutions
    teacher.module_of, teacher.imported = module_of, imported
    teacher.by_hand, teacher.locked, teacher.answers = by_hand, locked, answer_ids
    answers = [item for item in by_hand if item.stub is not None]
    if answers:  # an answer left as the release hands it out scores 0: that version of it
        from .release import student_notebook

        released = student_notebook(notebook, student_modules).cells
        stubs = {str(nbgrader_metadata(c).get("grade_id")): c.source for c in released}
        for item in answers:  # (a cell of the release as the source: handed out as it is)
            if not _handed_out(item.stub or ""):
                item.stub = stubs.get(item.grade_id, item.stub)
    _values_checks_need(teacher, cells, student_modules)
    return teacher


def _binding(statement: ast.stmt) -> str:
    """How a solution cell's statement binds its names: "import", "lambda" (``f = lambda x:
    ...``, a function the grader does not call: only those written with def) or "value"."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return "import"
    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Lambda):
        return "lambda"
    return "value"


def _handed_out(source: str) -> bool:
    """Whether an answer cell of the source is the release's stub already (the source is the
    release): "YOUR ANSWER HERE", or code with a line ``# YOUR CODE HERE`` and no solution."""
    from .release import BEGIN_SOLUTION, TEXT_STUB

    lines = [line.strip() for line in source.split("\n")]
    return source.strip() == TEXT_STUB or (
        "# YOUR CODE HERE" in lines and all(BEGIN_SOLUTION not in line for line in lines)
    )


def _points(name: str, meta: dict, kind: str) -> float:
    try:
        return float(meta.get("points", 0))
    except (TypeError, ValueError):
        raise ValueError(
            f"grade: the teacher's {name}: {kind} {meta['grade_id']} has points "
            f"{meta.get('points')!r}, not a number"
        ) from None


def _values_checks_need(
    teacher: TeacherNotebook, cells: list[tuple[int, ast.Module, str]], student_modules: Any
) -> None:
    """Set each check's ``needs`` (the names it reads, itself or through the teacher's
    functions, that the teacher's other cells give a value, not the setup: imports, functions,
    classes) and, if any check needs one, ``teacher.code``: the statements of those cells, and
    whether each runs without a solution."""
    definitions = {
        statement.name: statement
        for statement in teacher.setup
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    given = {name for statement in teacher.setup for name in binds(statement)}
    given |= {*teacher.functions, *teacher.modules, *dir(builtins)}
    for check in teacher.checks:
        # what it reads before it assigns it itself, statement by statement: it may read a
        # value, then assign it (`x_test = x_test + 1`)
        reads: set[str] = set()
        own: set[str] = set()
        for statement in getattr(parse_cell(check.source), "body", []):
            bound, read_here = notebook_names(ast.unparse(statement))
            reads |= read_here - own
            own |= bound
        stack = [name for name in reads if name in definitions]
        while stack:  # the outer names the teacher's functions it calls read, and so on
            for name in notebook_names(ast.unparse(definitions[stack.pop()]))[1] - reads:
                reads.add(name)
                if name in definitions:
                    stack.append(name)
        check.needs = reads - given
    if not any(check.needs for check in teacher.checks):
        return  # (the curriculum's notebooks: reading their code costs half a second)
    read = [(tree, kind == "solution") for _, tree, kind in cells if kind != "check"]
    flows = iter(runs_without_solutions(read, student_modules))
    # every cell's statements, in order: a solution's and a check's never run, but what they
    # bind or change has, after them, the student's value or the check's, not the teacher's
    teacher.code = [
        (number, statement, runs, tainted)
        for number, tree, kind in cells
        for statement, (runs, tainted) in zip(
            tree.body,
            [(False, frozenset())] * len(tree.body) if kind == "check" else next(flows),
            strict=True,
        )
    ]
    plain = (tree for _, tree, kind in cells if kind == "")
    valued = set().union(*(notebook_names(ast.unparse(t))[0] for t in plain))
    for check in teacher.checks:
        check.needs &= valued


def binds(statement: ast.stmt) -> list[str]:
    """The names an import, function or class statement binds."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).partition(".")[0] for a in statement.names]
    return [getattr(statement, "name", "")]


def own_modules(
    teacher: TeacherNotebook, folder: Path, student_modules: Collection[str] = frozenset()
) -> dict[str, Path]:
    """The modules that the notebook's setup or its check cells import (at their top or in a
    function) that are ``.py`` files beside it in ``folder`` (a teacher's ``mychecks.py``), and
    the modules beside it that those import in turn (its ``helpers.py``): name -> file, all
    loaded before any kernel starts. The ``student_modules`` (``mygrad.py``) are not among them."""
    trees: list[ast.AST] = [*teacher.setup]
    trees += filter(None, (parse_cell(c.source) for c in teacher.checks))
    found: dict[str, Path] = {}
    while trees:
        for node in ast.walk(trees.pop()):
            if isinstance(node, ast.Import):
                names = [alias.name.partition(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module.partition(".")[0]]
            else:
                continue
            for name in names:
                path = folder / f"{name}.py"
                if name not in found and name not in student_modules and path.is_file():
                    found[name] = path
                    trees += filter(
                        None, [parse_cell(path.read_text(encoding="utf-8", errors="replace"))]
                    )
    return found


def _holds_solutions(path: Path) -> bool:
    """Whether a ``.py`` file is one the learner writes: it has the teacher's solution markers
    (as the release finds them) or the release's stub, a line ``# YOUR CODE HERE``. Not a
    module of checks that only mentions the stub's words (a hint "replace YOUR CODE HERE"): its
    functions would be called in the student's kernel, in the student's copy of the file."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return any("BEGIN SOLUTION" in line or line.strip() == "# YOUR CODE HERE" for line in lines)


def load_source(folder: str | Path) -> list[TeacherNotebook]:
    """Every teacher notebook with at least one check, or a cell marked by hand, in ``folder``
    (recursively).

    ``folder`` may as well be the student release: the grader needs the checks, the exercises'
    names and the setup code, never the solutions, so none need be on the grading machine.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"grade: the teacher's source {folder} is not a folder")
    student_modules = {  # the teacher's (solution markers) or the release's (stubs) mygrad.py
        path.stem for path in folder.rglob("*.py") if _holds_solutions(path)
    }
    teachers = []
    owner: dict[str, str] = {}  # check grade_id -> the notebook that has it
    for path in sorted(folder.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        try:
            notebook = read_notebook(path)
        except ValueError as error:
            raise ValueError(f"grade: {error}") from None
        teacher = teacher_notebook(path.name, notebook, student_modules)
        teacher.own_modules = own_modules(teacher, path.parent, student_modules)
        teacher.folder = path.parent  # where its cells run in the grader (_values.py)
        exercises = [check.exercise for check in teacher.checks]
        for module in teacher.module_files:  # the teacher's mygrad.py beside it: its solutions
            if (path.parent / f"{module}.py").is_file():
                teacher.solutions |= module_solutions(path.parent / f"{module}.py", exercises)
        where = path.relative_to(folder).as_posix()  # a release in the source: student/05...
        for check in teacher.checks:  # a "-Copy1" left beside the original: which one counts?
            if check.grade_id in owner:
                raise ValueError(
                    f"grade: the teacher's {owner[check.grade_id]} and {where} both have "
                    f"the check {check.grade_id}: keep one of them in the source"
                )
            owner[check.grade_id] = where
        if teacher.checks or teacher.by_hand:
            teachers.append(teacher)
    return teachers


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook in the file ``path``, or a ValueError "PATH is not a notebook: why" (a
    ``.ipynb`` file holding ``[]`` or ``{}`` stopped the commands with nbformat's
    AttributeError or ValidationError, and a traceback)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except ValueError:  # (not UTF-8 text, or not JSON)
        raise ValueError(f"{path} is not a notebook: it is not JSON text") from None
    why = ""
    if not isinstance(data, dict):
        why = f"its JSON is {'a list' if isinstance(data, list) else 'one value'}, not an object"
    elif "cells" not in data and "worksheets" not in data:  # (nbformat 3's cells: worksheets)
        why = "its JSON has no cells"
    elif not isinstance(data.get("cells", []), list):
        why = "its cells are not a list"
    else:
        try:
            return nbformat.reads(text, as_version=4)
        except (ValueError, TypeError, AttributeError, KeyError, nbformat.ValidationError) as error:
            why = str(error).strip().split("\n")[0] or type(error).__name__
    raise ValueError(f"{path} is not a notebook: {why}")


def refuse_same_names(
    teachers: list[TeacherNotebook], source: str | Path, command: str = "grade"
) -> None:
    """A ValueError if two of ``teachers`` have one file name (week1/hw.ipynb and
    week2/hw.ipynb): the grader knows a teacher notebook by its name (a grade's ``teacher``,
    the copies of one notebook, the scores' columns, the feedback), so a student's second hw
    was "another copy of hw.ipynb", its points in no column."""
    paths: dict[str, list[str]] = {}
    for teacher in teachers:
        path = (teacher.folder or Path(source)) / teacher.name
        where = path.relative_to(source) if path.is_relative_to(source) else path
        paths.setdefault(teacher.name, []).append(where.as_posix())
    for name, found in paths.items():
        if len(found) > 1:
            given = "--source" if command == "grade" else "the source"
            every = "both" if len(found) == 2 else "all"
            raise ValueError(
                f"{command}: the teacher's {', '.join(found[:-1])} and {found[-1]} are {every} "
                f"named {name}, and the grader tells the teacher's notebooks apart by name: give "
                f"one assignment's folder as {given}, or rename one"
            )


def matching_teacher(
    notebook: nbformat.NotebookNode, teachers: list[TeacherNotebook]
) -> TeacherNotebook | None:
    """The teacher notebook sharing most grade_ids with ``notebook`` (None if none shares any)."""
    ids = {str(nbgrader_metadata(cell).get("grade_id")) for cell in notebook.cells}
    best = max(teachers, key=lambda t: len(t.grade_ids & ids), default=None)
    return best if best is not None and best.grade_ids & ids else None
