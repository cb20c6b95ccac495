"""The teacher's imports of the learner's own modules (``import mygrad as mg``, ``from mygrad
import run``): the grader never runs them in its own process; the names they bind are proxies
for what the student's kernel holds (_session.py). An import in a check cell itself (nbgrader's
test cells often import what they test) runs in the student's kernel at the check's place, the
teacher's line, never the student's, so that the names are there when the check calls them.
"""

from __future__ import annotations

import ast
from collections.abc import Collection

__all__ = ["bind", "check_imports", "learner_import", "split_imports"]


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


def split_imports(
    body: list[ast.stmt], learner_modules: Collection[str]
) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """A check cell's statements as (the imports of the learner's modules, the rest). One
    ``import math, mygrad`` is split name by name, as in a cell above the check: left whole, it
    ran in the grader, where there is no mygrad (every student scored 0)."""
    learner: list[ast.stmt] = []
    rest: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, ast.Import) and not learner_import(statement, learner_modules):
            mine = [alias for alias in statement.names if alias.name in learner_modules]
            others = [alias for alias in statement.names if alias.name not in learner_modules]
            learner += [ast.copy_location(ast.Import(mine), statement)] if mine else []
            rest.append(ast.copy_location(ast.Import(others), statement))
        else:
            (learner if learner_import(statement, learner_modules) else rest).append(statement)
    return learner, rest


def check_imports(tree: ast.Module | None, learner_modules: Collection[str]) -> list[ast.stmt]:
    """The imports of the learner's modules among a check cell's statements."""
    return split_imports(tree.body if tree is not None else [], learner_modules)[0]
