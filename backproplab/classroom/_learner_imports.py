"""The teacher's imports of the learner's own modules (``import mygrad as mg``, ``from mygrad
import run``): the grader never runs them in its own process; the names they bind are proxies
for what the student's kernel holds (_session.py). An import in a check cell itself (nbgrader's
test cells often import what they test) runs in the student's kernel at the check's place, the
teacher's line, never the student's, so that the names are there when the check calls them.
"""

from __future__ import annotations

import ast
from collections.abc import Collection

__all__ = ["bind", "check_imports", "learner_import"]


def learner_import(statement: ast.stmt, learner_modules: Collection[str]) -> bool:
    """Whether ``statement`` imports the learner's own modules only."""
    if isinstance(statement, ast.ImportFrom):
        return statement.module in learner_modules
    return isinstance(statement, ast.Import) and all(
        alias.name in learner_modules for alias in statement.names
    )


def bind(
    statement: ast.stmt,
    modules: list[str],
    module_of: dict[str, str],
    functions: list[str],
    imported: dict[str, str],
) -> None:
    """Record the names an import of the learner's modules binds: a module (``mg`` ->
    ``mygrad``) or what it takes from one (``run``; ``T`` -> ``mygrad.Tensor``)."""
    for alias in getattr(statement, "names", []):
        bound = alias.asname or alias.name
        if isinstance(statement, ast.ImportFrom):
            functions += [] if bound in functions else [bound]
            imported[bound] = f"{statement.module}.{alias.name}"
        elif bound not in modules:
            modules.append(bound)
            module_of[bound] = alias.name


def check_imports(tree: ast.Module | None, learner_modules: Collection[str]) -> list[ast.stmt]:
    """The imports of the learner's modules among a check cell's statements."""
    body = tree.body if tree is not None else []
    return [statement for statement in body if learner_import(statement, learner_modules)]
