"""Code in a submission that changes the self-checks, named for the teacher.

The grader judges each answer with the teacher's checks in its own process, so a notebook that
replaces a check in its kernel (``nb05.check_dL_dW = lambda f: print("correct")``) or makes every
``Feedback`` say "correct" changes no score. Such code is still worth a teacher's look: the grade
lists, for the teacher only, each cell that does it.

Nothing runs: the code is read. A name that refers to the self-checks is one that an import from
``backproplab.exercises`` binds (``nb05``, ``Feedback``, ``check_dL_dW``, ``ex``), an attribute
chain through ``.exercises`` (``bl.exercises.nb05``), or the variable of a loop over a tuple or
list of such names (``for m in (nb01, nb05)``; it may be rebound: it is the learner's).
A cell is named when it

* assigns to, or deletes, an attribute or an item of such a name (``nb05.check_x = ...``,
  ``Feedback.__str__ = ...``, ``vars(nb05)["check_x"] = ...`` is read as an item of a call on it);
* calls ``setattr`` or ``delattr`` on one;
* binds such a name to something else than an import from ``backproplab.exercises``
  (``nb05 = MyChecks()``, ``def check_dL_dW(...)``);
* hands a string naming ``backproplab.exercises`` to a call or uses it as an item
  (``mock.patch("backproplab.exercises.nb05.check_x")``, ``sys.modules[...]``).

Code that hides what it changes (``exec`` of a built string, ``getattr`` chains) is not found: the
report is a pointer for the teacher, never part of the score.
"""

from __future__ import annotations

import ast

from ._parse import parse

__all__ = ["changed_checks"]

_PACKAGE = "backproplab.exercises"


def _check_names(trees: list[ast.Module]) -> set[str]:
    """The names that the imports of ``trees`` bind to the self-checks' package or its contents."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(_PACKAGE):
                names |= {alias.asname or alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module == "backproplab":
                names |= {a.asname or a.name for a in node.names if a.name == "exercises"}
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith(_PACKAGE) and alias.asname:
                        names.add(alias.asname)
    return names


def _refers(node: ast.AST, names: set[str]) -> bool:
    """Does the expression ``node`` (a name, an attribute chain, a call on one) reach the checks?"""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        if isinstance(node, ast.Attribute) and node.attr == "exercises":
            return True
        if isinstance(node, ast.Call):
            if not node.args:
                return False
            node = node.args[0]  # vars(nb05), getattr(nb05, "x")
        else:
            node = node.value
    return isinstance(node, ast.Name) and node.id in names


def _names_package(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and str(node.value).startswith(_PACKAGE)


def _changes(node: ast.AST, names: set[str], loops: set[str]) -> bool:
    """Does the statement or expression ``node`` (not its inner statements) change the checks?
    ``loops``: loop variables over check names, whose attributes are the checks' but which may be
    rebound freely."""
    reach = names | loops
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, (ast.Attribute, ast.Subscript)) and _refers(part, reach):
                    return True
                if isinstance(part, ast.Subscript) and _names_package(part.slice):
                    return True
                if (
                    isinstance(part, ast.Name)
                    and part.id in names
                    and isinstance(part.ctx, ast.Store)
                ):
                    return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name in names
    if isinstance(node, ast.ImportFrom):  # `from my_checks import nb05`
        outside = not (node.module or "").startswith(_PACKAGE)
        return outside and any((a.asname or a.name) in names for a in node.names)
    if isinstance(node, ast.Import):  # `import my_checks as nb05`
        return any(
            (a.asname or a.name.split(".")[0]) in names and not a.name.startswith(_PACKAGE)
            for a in node.names
        )
    if isinstance(node, ast.Call):
        called = node.func.id if isinstance(node.func, ast.Name) else None
        if called in ("setattr", "delattr") and node.args and _refers(node.args[0], reach):
            return True
        return any(_names_package(arg) for arg in [*node.args, *[k.value for k in node.keywords]])
    return False


def changed_checks(cells: list[str]) -> list[str]:
    """One line per code cell (numbered from 1 among the code cells) that changes the
    self-checks, quoting a statement that does (the outermost)."""
    trees = []
    for source in cells:
        try:
            trees.append(parse(source))
        except (SyntaxError, ValueError, MemoryError, RecursionError):  # a magic, a null byte, code
            trees.append(ast.Module(body=[], type_ignores=[]))  # nested too deeply: not read
    names, loops = _check_names(trees), set()
    for tree in trees:  # `for module in (nb01, nb05): setattr(module, ...)`, not `in dir(nb05)`
        for node in ast.walk(tree):
            if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
                items = node.iter.elts if isinstance(node.iter, (ast.Tuple, ast.List)) else []
                if any(isinstance(n, ast.Name) and n.id in names for n in items):
                    loops.add(node.target.id)
    found = []
    for number, tree in enumerate(trees, 1):
        for node in ast.walk(tree):
            if _changes(node, names, loops):
                try:
                    quoted = ast.unparse(node).splitlines()[0]
                except RecursionError:  # a statement nested too deeply to print
                    quoted = type(node).__name__
                quoted = quoted if len(quoted) <= 60 else quoted[:57] + "..."
                found.append(
                    f"code cell {number} changes the self-checks ({quoted}): the grade used "
                    "the teacher's checks"
                )
                break
    return found
