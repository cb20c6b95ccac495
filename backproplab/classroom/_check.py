"""Evaluating one teacher check in the grader, with proxies for the student's functions."""

from __future__ import annotations

import ast
from typing import Any

from backproplab.exercises import Feedback

from ._grades import CheckResult
from ._session import GradingStop, ModuleProxy, Proxy, Session
from ._source import TeacherCheck, TeacherNotebook, parse_cell

__all__ = ["evaluate_check", "setup_namespace"]


def setup_namespace(teacher: TeacherNotebook) -> dict[str, Any]:
    """A namespace holding the teacher notebook's imports and definitions, run in the grader.

    The grader runs it once per teacher notebook before any kernel starts, so that the modules
    the checks import (sympy...) are imported before a student's code could write a module of
    the same name somewhere on the grader's path."""
    namespace: dict[str, Any] = {"__name__": "backproplab_grading_check"}
    for statement in teacher.setup:  # the teacher's imports and definitions
        try:
            exec(compile(ast.Module([statement], []), teacher.name, "exec"), namespace)
        except Exception:  # noqa: BLE001, S102 - a failing import is the check's problem below
            pass
    return namespace


def evaluate_check(check: TeacherCheck, teacher: TeacherNotebook, session: Session) -> CheckResult:
    """Run the teacher's check cell in the grader, with proxies for the student's functions."""
    namespace = setup_namespace(teacher)
    for name in teacher.functions:
        namespace[name] = Proxy(session, name)
    for name in teacher.modules:
        namespace[name] = ModuleProxy(session, name)
    session.package_calls, session.package_uses = [], []
    result = CheckResult(check.exercise, check.points, 0.0, "error")
    tree = parse_cell(check.source)
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
    elif session.package_uses and feedback.status != "correct":  # refused without a call
        result.status = "package"
        result.message = f"{feedback} (its code uses {', '.join(session.package_uses[:3])})"
    result.score = check.points if result.status == "correct" else 0.0
    return result
