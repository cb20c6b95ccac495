"""The student release: the curriculum's notebooks with every solution replaced by a stub.

The notebooks in ``notebooks/`` are the teacher's version: each exercise's solution sits between
nbgrader's markers inside the function the learner completes::

    def mean_square(v):
        ### BEGIN SOLUTION
        return (v**2).mean()
        ### END SOLUTION

The student version keeps the function and loses the solution::

    def mean_square(v):
        # YOUR CODE HERE
        raise NotImplementedError("mean_square is not written yet: do Exercise 1 above first ...")

(the message ends "(your code replaces this line)"). It is the last line a learner reads when a
later cell calls the function before the exercise is done, so it names the exercise by the
heading above it: "Exercise 1", "the Challenge" (the text before " · "; see ``exercise_label``).

What changes, and nothing else:

* every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region becomes that stub, indented like the
  marker (in a Markdown cell the region becomes "YOUR ANSWER HERE");
* a cell that nbgrader's metadata marks as a solution but that has no markers becomes the stub
  as a whole (nbgrader does the same);
* every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region of a check cell goes,
  markers included (nbgrader does the same), and a comment line says that hidden tests will run
  (``grade`` refuses a source with that line: it is the release, without them); the grader runs
  the teacher's check cells; hidden tests anywhere else (another cell, a module of checks) stop
  the release with an error;
* nbgrader's mark scheme of a task (``=== BEGIN MARK SCHEME ===`` ... ``=== END MARK SCHEME
  ===``) goes;
* the outputs and execution counts of solution cells and of self-check cells (nbgrader
  ``grade: true``) are cleared, because they were produced by the solution;
* so are those of every later code cell that may depend on a solution or on a module that holds
  solutions (``mygrad``): one that uses a name a solution's value reached, or an object one
  changed (``_dependence.py`` reads the code to decide), or that is not plain Python (magics);
  a cell that only calls into modules (``np.linalg.norm(W)``) or uses none of them keeps its
  outputs;
* the saved state of the widgets those cleared cells displayed (the notebook's ``widgets``
  metadata keeps an Output widget's figures and text a second time) goes with them;
* a run of cells tagged ``worked-answer`` (an exercise's answer worked out after its check: the
  prose that derives it, a cell that prints the package's rule) becomes one Markdown note saying
  that the worked answer is in the teacher's version, unless ``keep_answers``; a tagged code cell
  may bind no name that a later cell uses (a ReleaseError names both);
* all other cells, outputs and metadata (including nbgrader's) stay as they are.

The markers are nbgrader's, so a teacher who runs nbgrader can use the same sources with
``nbgrader generate_assignment`` (see docs/teaching.md).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ._dependence import depends_on_solutions, notebook_names
from ._staging import make_writable

if TYPE_CHECKING:
    import nbformat

__all__ = [
    "HIDDEN_NOTE",
    "ReleaseError",
    "release",
    "solution_regions",
    "student_notebook",
    "strip_hidden_tests",
    "strip_mark_scheme",
    "strip_solutions",
]

BEGIN_SOLUTION = "BEGIN SOLUTION"  # nbgrader's delimiters: a line containing them is a marker
END_SOLUTION = "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"  # nbgrader's, in check cells
MARK_SCHEME = ("=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ===")  # nbgrader's, in tasks
HIDDEN_NOTE = "# (hidden tests, not in this copy, run when your work is graded)"  # in their place
TEXT_STUB = "YOUR ANSWER HERE"
LEARNER_ENGINE = "mygrad"  # the learner's own module (mygrad.py), which holds solutions
ANSWER_TAG = "worked-answer"  # a cell that works out an exercise's answer after its check
ANSWER_NOTE = (  # also stands where a summary's bullets gave answers away: no "this exercise"
    "*A worked answer is left out here. It is in the teacher's version of this notebook, which "
    "your teacher can hand out once your answers are in.*"
)

# Folders of the teacher's source that are never copied: editor checkpoints, Python's compiled
# files (the bytecode of the teacher's mygrad.py holds every solution of it) and version history.
_NOT_RELEASED = {".ipynb_checkpoints", "__pycache__", ".git", ".hg", ".svn"}

# The name of the function a solution region sits in: the nearest `def` above it, and of the
# classes around that (mygrad.py has five __init__ methods: "Linear.__init__" says which).
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)\s*\(")
_CLASS = re.compile(r"^(\s*)class\s+(\w+)\s*[(:]")


class ReleaseError(ValueError):
    """A notebook's solution markers cannot be turned into a student version."""


def code_stub(exercise: str, where: str = "", label: str | None = None) -> list[str]:
    """The lines that replace a code solution: nbgrader's stub, naming the exercise. In a
    notebook, ``label`` names the exercise to do ("Exercise 4", from the heading above it: see
    ``exercise_label``); in a ``.py`` file, ``where`` says where it is explained (the text after
    the BEGIN marker)."""
    if label is not None:
        message = (
            f"{exercise} is not written yet: do {label} above first (your code replaces this line)"
        )
    else:
        message = f"{exercise}: your code goes here" + (f", {where}" if where else "")
    return [
        "# YOUR CODE HERE",
        f"raise NotImplementedError({json.dumps(message, ensure_ascii=False)})",
    ]


_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
# The label of an exercise's heading: "Exercise 4 · ...", "Exercises 1 and 2: ...", "Challenge"
_LABEL = re.compile(r"^((Exercises?|Challenge)\b[^·:—]*?)\s*(·|:|—|$)")


def exercise_label(heading: str | None) -> str:
    """How a stub names its exercise, from the Markdown heading above it: the label before
    " · " (or ":", "—") of an exercise's heading ("### Exercise 4 · a product node" gives
    "Exercise 4", "## Challenge · ..." gives "the Challenge"); another heading gives its section
    (math and code marks removed); no heading gives "its exercise"."""
    if not heading:
        return "its exercise"
    match = _HEADING.match(heading.strip())
    text = match.group(1) if match else heading.strip().lstrip("#").strip()
    label = _LABEL.match(text)
    if label:
        name = label.group(1).strip()
        return name if name.startswith("Exercise") else f"the {name}"
    return 'the section "' + re.sub(r"[$`\\]", "", text) + '"'


def _last_heading(source: str) -> str | None:
    """The last Markdown heading line of ``source``, if any (outside code blocks)."""
    found, fenced = None, False
    for line in source.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and _HEADING.match(line):
            found = line
    return found


def _enclosing_function(lines: list[str], marker_index: int) -> str | None:
    """The name of the innermost `def` above line ``marker_index`` that contains it, if any,
    with the classes it sits in (``Linear.__init__``)."""
    indent = len(lines[marker_index]) - len(lines[marker_index].lstrip())
    names: list[str] = []
    for line in reversed(lines[:marker_index]):
        match = _DEF.match(line) if not names else _CLASS.match(line)
        if match and len(match.group(1)) < indent:
            names.insert(0, match.group(2))
            indent = len(match.group(1))
        elif (
            names and line.strip()[:1] not in ("", "#") and len(line) - len(line.lstrip()) < indent
        ):
            break  # code less indented than the def, and no class: the def is not a method
    return ".".join(names) or None


def _regions(lines: list[str]) -> list[tuple[int, int]]:
    """The (BEGIN line, END line) index pairs of the solution regions in ``lines``.
    Raises ReleaseError for a region that is nested or never closed."""
    regions: list[tuple[int, int]] = []
    begin: int | None = None
    for index, line in enumerate(lines):
        if BEGIN_SOLUTION in line:
            if begin is not None:
                raise ReleaseError(f"nested '{BEGIN_SOLUTION}' in a cell starting {lines[0]!r}")
            begin = index
        elif END_SOLUTION in line:
            if begin is None:
                raise ReleaseError(
                    f"'{END_SOLUTION}' without a begin in a cell starting {lines[0]!r}"
                )
            regions.append((begin, index))
            begin = None
    if begin is not None:
        raise ReleaseError(f"'{BEGIN_SOLUTION}' never ended in a cell starting {lines[0]!r}")
    return regions


def solution_regions(source: str) -> list[tuple[str, str]]:
    """Each solution region of ``source`` (a cell's, or a .py file's): (the text after its BEGIN
    marker, the lines between its markers). Raises ReleaseError like ``strip_solutions``."""
    lines = source.split("\n")
    return [
        (
            lines[begin].split(BEGIN_SOLUTION, 1)[1].strip(" :-—()"),
            "\n".join(lines[begin + 1 : end]),
        )
        for begin, end in _regions(lines)
    ]


def strip_solutions(
    source: str, *, code: bool = True, fallback_name: str = "exercise", label: str | None = None
) -> str:
    """Replace each solution region of one cell's ``source`` by the stub.

    ``code`` says whether the cell is code (stub raising NotImplementedError, naming the enclosing
    function, or ``fallback_name`` at top level) or Markdown ("YOUR ANSWER HERE"). ``label``
    (for a notebook's cell) names the exercise the stub's message tells the learner to do.
    Raises ReleaseError for a region that is nested or never closed.
    """
    lines = source.split("\n")
    kept: list[str] = []
    done = 0  # the lines before it are handled
    for begin, end in _regions(lines):
        line = lines[begin]
        kept += lines[done:begin]
        indent = line[: len(line) - len(line.lstrip())]
        name = _enclosing_function(lines, begin) or fallback_name
        where = line.split(BEGIN_SOLUTION, 1)[1].strip(" :-—()")
        stub = code_stub(name, where, label) if code else [TEXT_STUB]
        kept.extend(indent + stub_line for stub_line in stub)
        done = end + 1
    return "\n".join(kept + lines[done:])


def strip_mark_scheme(source: str) -> str:
    """``source`` without nbgrader's mark scheme (``=== BEGIN MARK SCHEME ===`` to ``=== END
    MARK SCHEME ===``, in a task a person marks): the student never sees it."""
    return re.sub(rf"{MARK_SCHEME[0]}.*?{MARK_SCHEME[1]}\n?", "", source, flags=re.S).rstrip()


def strip_hidden_tests(source: str) -> str:
    """``source`` without its hidden tests: each region between nbgrader's ``### BEGIN HIDDEN
    TESTS`` and ``### END HIDDEN TESTS`` becomes one comment line, ``HIDDEN_NOTE``, which tells
    the student that tests they cannot see will run, and the grader that this check cell is not
    the teacher's. Raises ReleaseError for a region that is nested or never closed."""
    kept: list[str] = []
    hidden = False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line or END_HIDDEN in line:
            if hidden == (BEGIN_HIDDEN in line):
                problem = "nested" if hidden else "without a begin"
                marker = BEGIN_HIDDEN if hidden else END_HIDDEN
                raise ReleaseError(f"'{marker}' {problem} in a cell starting {source[:40]!r}")
            hidden = not hidden
            if hidden:
                kept.append(line[: len(line) - len(line.lstrip())] + HIDDEN_NOTE)
        elif not hidden:
            kept.append(line)
    if hidden:
        raise ReleaseError(f"'{BEGIN_HIDDEN}' never ended in a cell starting {source[:40]!r}")
    return "\n".join(kept)


def _nbgrader(cell: nbformat.NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _depends_on_solutions(
    notebook: nbformat.NotebookNode, solution_modules: set[str]
) -> list[bool]:
    """For each cell: may its outputs show something a solution computed? (_dependence.py)"""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    marked = [BEGIN_SOLUTION in c.source or _nbgrader(c).get("solution", False) for c in code]
    flags = iter(
        depends_on_solutions([(c.source, m) for c, m in zip(code, marked)], solution_modules)
    )
    return [next(flags) if cell.cell_type == "code" else False for cell in notebook.cells]


_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _widgets_shown(cells: list) -> set[str]:
    """The ids of the widget models that the outputs of ``cells`` display."""
    return {
        str(output["data"][_WIDGET_VIEW].get("model_id"))
        for cell in cells
        for output in cell.get("outputs", [])
        if isinstance(output.get("data", {}).get(_WIDGET_VIEW), dict)
    }


def _drop_widget_state(notebook: nbformat.NotebookNode, cleared: set[str]) -> None:
    """Remove the saved state of the widget models ``cleared`` and of the models they hold
    (layouts, an Output widget's outputs), unless a kept output still displays them."""
    state = notebook.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state")
    if not isinstance(state, dict):
        return

    def reachable(roots: set[str]) -> set[str]:
        found, stack = set(), [r for r in roots if r in state]
        while stack:
            model = stack.pop()
            if model not in found:
                found.add(model)
                text = json.dumps(state[model])
                stack += [m for m in re.findall(r"IPY_MODEL_(\w+)", text) if m in state]
        return found

    for model in reachable(cleared) - reachable(_widgets_shown(notebook.cells)):
        del state[model]


def _is_answer(cell: nbformat.NotebookNode) -> bool:
    return ANSWER_TAG in cell.get("metadata", {}).get("tags", [])


def _without_answers(cells: list) -> list:
    """``cells`` with each run of ``worked-answer`` cells replaced by one note (see module doc)."""
    import nbformat  # here, not above: see the package's __init__.py

    kept: list = []
    for number, cell in enumerate(cells, 1):
        if not _is_answer(cell):
            kept.append(cell)
            continue
        if (
            BEGIN_SOLUTION in cell.source
            or _nbgrader(cell).get("solution")
            or _nbgrader(cell).get("grade")
        ):
            raise ReleaseError(f"cell {number} is tagged {ANSWER_TAG} but is an exercise or check")
        if cell.cell_type == "code":
            bound = notebook_names(cell.source)[0]
            for later, other in enumerate(cells[number:], number + 1):
                used = bound & notebook_names(other.source)[1] if other.cell_type == "code" else ()
                if used and not _is_answer(other):
                    raise ReleaseError(
                        f"cell {number} is tagged {ANSWER_TAG} but binds {sorted(used)[0]}, "
                        f"which cell {later} uses: the student version would not run"
                    )
        if not (kept and kept[-1].source == ANSWER_NOTE):
            note = nbformat.v4.new_markdown_cell(ANSWER_NOTE)
            note.pop("id", None)  # the answer's own id, if it has one (nbformat 4.5): the same
            if "id" in cell:  # release every time, and none in an older notebook
                note.id = cell.id
            kept.append(note)
    return kept


def student_notebook(
    notebook: nbformat.NotebookNode,
    solution_modules: Iterable[str] = (LEARNER_ENGINE,),
    keep_answers: bool = False,
) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with solutions stubbed and their outputs cleared (see module doc).
    ``solution_modules``: the modules beside it that hold solutions (an output computed with
    one of them is cleared). ``keep_answers``: keep the cells tagged ``worked-answer`` (a
    learner's own workbook) instead of replacing them by a note (a class's release)."""
    student = copy.deepcopy(notebook)
    depends = _depends_on_solutions(notebook, set(solution_modules))
    cleared: set[str] = set()
    heading: str | None = None  # the last Markdown heading above the cell
    for cell, dependent in zip(student.cells, depends):
        if cell.cell_type == "markdown":
            heading = _last_heading(cell.source) or heading
        meta = _nbgrader(cell)
        has_region = BEGIN_SOLUTION in cell.source
        is_solution = has_region or meta.get("solution", False)
        fallback = meta.get("grade_id", "exercise")
        if has_region:
            cell.source = strip_solutions(
                cell.source,
                code=cell.cell_type == "code",
                fallback_name=fallback,
                label=exercise_label(heading),
            )
        elif is_solution:  # marked as a solution as a whole, no markers: all of it goes
            cell.source = "\n".join(
                code_stub(fallback, label=exercise_label(heading))
                if cell.cell_type == "code"
                else [TEXT_STUB]
            )
        if MARK_SCHEME[0] in cell.source:
            cell.source = strip_mark_scheme(cell.source)
        if BEGIN_HIDDEN in cell.source or END_HIDDEN in cell.source:
            if cell.cell_type != "code" or not meta.get("grade", False):  # never run, or shown
                raise ReleaseError(
                    f"hidden tests in a {cell.cell_type} cell that is not a check (nbgrader "
                    f"grade: true), starting {cell.source[:40]!r}: the grader runs them only in "
                    "a check cell, and the release would hand them out elsewhere"
                )
            cell.source = strip_hidden_tests(cell.source)
        if cell.cell_type == "code" and (is_solution or meta.get("grade", False) or dependent):
            cleared |= _widgets_shown([cell])
            cell.outputs = []
            cell.execution_count = None
    if not keep_answers:
        answers = [cell for cell in student.cells if _is_answer(cell)]
        student.cells = _without_answers(student.cells)
        cleared |= _widgets_shown(answers)
    _drop_widget_state(student, cleared)
    return student


def release(
    source_dir: str | Path,
    target_dir: str | Path,
    keep_answers: bool = False,
    notebooks: Collection[str] | None = None,
) -> list[Path]:
    """Write the student version of every notebook in ``source_dir`` into ``target_dir``
    (``keep_answers``: see ``student_notebook``).

    A ``.py`` file with solution regions (the learner's own engine, ``mygrad.py``) gets the same
    stubs; text after a BEGIN marker says where the exercise is explained and ends up in the stub's
    message (``### BEGIN SOLUTION see notebook 04, exercise topo_order`` gives
    ``NotImplementedError("topo_order: your code goes here, see notebook 04, exercise
    topo_order")``). Other files (images, data) are copied unchanged, except the folders in
    ``_NOT_RELEASED``, ``.pyc`` files and ``target_dir`` itself (when it is inside the source),
    which are skipped; another file that holds a solution marker (an editor's backup
    ``mygrad.py~``...) is a ReleaseError naming it.
    ``notebooks``: the file names of the notebooks to release (an assignment's; the command's
    ``--notebooks``), the others left out; every other file is written all the same.
    Returns the notebooks written, sorted. ``target_dir`` may exist; files in it are overwritten.
    """
    import nbformat  # here, not above: see the package's __init__.py

    from ._source import read_notebook  # (it imports this module)

    source_dir, target_dir = Path(source_dir), Path(target_dir)
    if not source_dir.is_dir():
        raise ReleaseError(f"release: {source_dir} is not a folder of notebooks")
    if target_dir.resolve() == source_dir.resolve():
        raise ReleaseError(f"release: the student folder must differ from the source {source_dir}")
    target = target_dir.resolve()
    solution_modules = {LEARNER_ENGINE} | {
        path.stem
        for path in source_dir.rglob("*.py")
        if BEGIN_SOLUTION in path.read_text(encoding="utf-8", errors="replace")
    }
    written = []
    for path in sorted(source_dir.rglob("*")):
        relative = path.relative_to(source_dir)
        if _NOT_RELEASED & set(relative.parts) or path.suffix == ".pyc" or path.is_dir():
            continue
        if target in path.resolve().parents:  # an earlier release inside the source folder
            continue
        if path.suffix == ".ipynb" and notebooks is not None and path.name not in notebooks:
            continue  # another assignment's
        destination = target_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".ipynb":
            try:
                notebook = read_notebook(path)
            except ValueError as error:  # ([] or {} in a .ipynb: nbformat's traceback)
                raise ReleaseError(f"release: {error}") from None
            try:
                student = student_notebook(notebook, solution_modules, keep_answers)
            except ReleaseError as error:
                raise ReleaseError(f"{path}: {error}") from None
            nbformat.write(student, destination)
            written.append(destination)
        elif path.suffix == ".py" and BEGIN_SOLUTION in path.read_text(encoding="utf-8"):
            try:
                stubbed = strip_solutions(path.read_text(encoding="utf-8"), fallback_name=path.stem)
            except ReleaseError as error:
                raise ReleaseError(f"{path}: {error}") from None
            destination.write_text(stubbed, encoding="utf-8")
        elif BEGIN_SOLUTION.encode() in path.read_bytes():
            raise ReleaseError(
                f"release: {path} holds a solution marker but is not a notebook or a .py file: "
                "remove it from the source"
            )
        elif BEGIN_HIDDEN.encode() in path.read_bytes():  # a module of checks, handed out as is
            raise ReleaseError(
                f"release: {path} holds hidden tests, which only a notebook's check cells can "
                "hide: move them into a check cell"
            )
        else:  # (a data file, a module of checks): writable by its owner, whatever the source
            destination.unlink(missing_ok=True)  # a read-only copy a release made before
            shutil.copy2(path, destination)
            make_writable(destination)
    return written
