"""Helpers shared by the tests of the notebooks' self-checks."""

from __future__ import annotations

from collections.abc import Callable


def stub(*args):
    """What the student release puts in place of a solution."""
    raise NotImplementedError


def hint_asserter(code: list[str]) -> Callable:
    """``assert_hint(feedback, *words)``: the check gave a hint that contains every one of
    ``words`` and none of the snippets of ``code`` (a hint names the mistake, never the code)."""

    def assert_hint(feedback, *words):
        assert feedback.status == "hint", feedback
        for word in words:
            assert word in feedback.message, feedback
        for snippet in code:
            assert snippet not in feedback.message, feedback

    return assert_hint
