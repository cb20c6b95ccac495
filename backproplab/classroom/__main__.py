"""Command line: ``python -m backproplab.classroom {release,grade} ...`` (``--help`` for each)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .grading import grade_folder, scores_csv, scores_table
from .release import ReleaseError, release


def _release(args: argparse.Namespace) -> int:
    try:
        written = release(args.source, args.target)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} student notebooks to {args.target}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    try:
        grades = grade_folder(args.submissions, timeout=args.timeout, source=args.source)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    if not grades:
        print(f"grade: no notebooks found in {args.submissions}", file=sys.stderr)
        return 1
    print(scores_table(grades))
    if args.csv:
        Path(args.csv).write_text(scores_csv(grades), encoding="utf-8")
        print(f"\nscores written to {args.csv}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``release`` or ``grade`` command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m backproplab.classroom",
        description="Student release and autograding for the backproplab notebooks.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    make = commands.add_parser(
        "release",
        help="write the student version of a folder of notebooks",
        description="Replace every ### BEGIN SOLUTION ... ### END SOLUTION region by a stub "
        "raising NotImplementedError, clear the outputs of solution and check cells, and copy "
        "everything else unchanged.",
    )
    make.add_argument("source", help="the teacher's notebooks, e.g. notebooks/")
    make.add_argument("target", help="where the student notebooks go, e.g. student/")
    make.set_defaults(run=_release)

    grade = commands.add_parser(
        "grade",
        help="run submitted notebooks and score their self-checks",
        description="Run every notebook under SUBMISSIONS (SUBMISSIONS/<student>/*.ipynb or "
        "SUBMISSIONS/<student>.ipynb) in a fresh kernel; print a score per exercise per student.",
    )
    grade.add_argument("submissions", help="folder of submitted notebooks")
    grade.add_argument(
        "--source", help="the teacher's notebooks: restore their check cells before running"
    )
    grade.add_argument("--timeout", type=float, default=60, help="seconds per cell (default 60)")
    grade.add_argument("--csv", help="also write the scores to this CSV file")
    grade.set_defaults(run=_grade)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
