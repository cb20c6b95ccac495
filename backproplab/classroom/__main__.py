"""Command line: ``python -m backproplab.classroom {release,grade,rehearse,plan} ...``
(``--help`` for each)."""

from __future__ import annotations

import argparse
import os
import sys
import threading

from .._console import tolerant_output
from ..exercises._draws import fresh_draw
from ._kernel import WALL_FACTOR
from ._reports import class_summary, plain_text, scores_table
from ._sandbox import PlatformError, require_linux
from ._source import load_source
from ._term import assignment
from .grading import Limits, grade_folder
from .plan import PlanError, course_plan, plan_markdown, plan_text
from .rehearsal import DRAWN, rehearsal_text, rehearse
from .release import release


def _os_error(command: str, error: OSError) -> int:
    """A folder or file the command may not write or read (a user that is not root: an output
    folder of root's, a read-only handout), in one line instead of a traceback."""
    where = f": {error.filename}" if error.filename else ""
    print(f"{command}: {error.strerror or error}{where}", file=sys.stderr)
    return 1


def _release(args: argparse.Namespace) -> int:
    try:
        chosen = None
        if args.notebooks is not None:  # an assignment's notebooks, as grade's --notebooks
            chosen = {
                t.name for t in assignment(load_source(args.source), args.notebooks, "release")
            }
        written = release(args.source, args.target, args.keep_answers, chosen)
    except ValueError as error:  # a ReleaseError, or --notebooks naming no notebook of the source
        message = str(error).removeprefix("grade: ")  # load_source speaks for grade
        print(message if message.startswith("release:") else f"release: {message}", file=sys.stderr)
        return 1
    except OSError as error:
        return _os_error("release", error)
    print(f"wrote {len(written)} student notebooks to {args.target}")
    return 0


ARCHIVES = (".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar")


def _loose_files(folder: str, csv: str | None = None) -> list[str]:
    """The files at the top of the submissions folder that are not notebooks: a download that
    puts every file in one folder, the student in each name, gave every notebook a student of
    its own and every mygrad.py to no one ("mygrad.run was not found", with no word why).
    Left out, as no student's: an archive (the download itself, unpacked beside it), a README,
    and the scores CSV this run writes (``--csv submitted/scores.csv`` graded again was told
    to put its own CSV in a student's folder)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return []  # (grade_folder says what is wrong with the folder)
    ours = os.path.realpath(csv) if csv else None
    return [
        e.name
        for e in entries
        if e.is_file()
        and not e.name.startswith(".")
        and not e.name.endswith(".ipynb")
        and not e.name.casefold().endswith(ARCHIVES)
        and os.path.splitext(e.name)[0].casefold() != "readme"
        and os.path.realpath(e.path) != ours
    ]


def _grade(args: argparse.Namespace) -> int:
    limits = Limits(timeout=args.timeout, budget=args.budget, memory_mb=args.memory)
    try:
        require_linux()  # said first: off Linux nothing else about the class matters yet
    except PlatformError as error:
        print(error, file=sys.stderr)
        return 1
    loose = _loose_files(args.submissions, args.csv)
    if loose:
        more = f" and {len(loose) - 1} more" if len(loose) > 1 else ""
        print(
            f"grade: {plain_text(os.path.join(args.submissions, loose[0]))}{more} "
            f"{'are' if more else 'is'} in no student's folder, so no notebook sees "
            f"{'them' if more else 'it'}: put each student's files in a folder named after the "
            "student",
            file=sys.stderr,
        )

    check_draw = fresh_draw() if args.check_draw is None else args.check_draw
    lock, said = threading.Lock(), list[int]()  # the draw: said once, before the first line

    def progress(student: str, grades: list) -> None:
        score = sum(g.score for g in grades)
        with lock:  # (--jobs: students finish in several threads)
            if not said:
                print(f"grade: {DRAWN} {check_draw}", file=sys.stderr, flush=True)
                said.append(check_draw)
            print(f"graded {plain_text(student)}: {score:g}", file=sys.stderr, flush=True)

    try:
        grades = grade_folder(
            args.submissions,
            args.source,
            limits=limits,
            jobs=args.jobs,
            csv_path=args.csv,
            feedback=args.feedback,
            on_student=progress,
            notebooks=args.notebooks,
            merge=args.merge,
            check_draw=check_draw,
        )
    except (FileNotFoundError, ValueError, PlatformError) as error:  # a clear message
        print(error, file=sys.stderr)
        return 1
    except OSError as error:  # (the CSV's or the feedback's folder: before any notebook runs)
        return _os_error("grade", error)
    except KeyboardInterrupt:  # the students being graded were finished, no other one started
        written = (
            f": {args.csv} holds the rows of the students graded (and any earlier row of the "
            "others)" if args.csv else ""
        )  # fmt: skip
        print(f"grade: stopped (Ctrl-C){written}", file=sys.stderr)
        return 130
    if not grades:
        print(f"grade: no notebooks found in {args.submissions}", file=sys.stderr)
        return 1
    assigned = assignment(load_source(args.source), args.notebooks)  # None: the notebooks graded
    print(scores_table(grades, assigned))
    summary = class_summary(grades, assigned)
    if summary:
        print(f"\n{summary}")
    print(f"\n{DRAWN} {check_draw}")
    if args.csv:
        print(f"scores {'merged into' if args.merge else 'written to'} {args.csv}")
    if args.feedback:
        print(f"feedback for each student written to {args.feedback}")
    return 0


def _draw_option(value: str) -> int:
    """``--check-draw``'s value: a whole number from 0 up."""
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"a whole number from 0 up, not {value!r}")
    return int(value)


def _rehearse(args: argparse.Namespace) -> int:
    limits = Limits(timeout=args.timeout, budget=args.budget, memory_mb=args.memory)
    try:
        rehearsal = rehearse(
            args.source,
            limits=limits,
            jobs=args.jobs,
            notebooks=args.notebooks,
            check_draw=args.check_draw,
        )
    except (FileNotFoundError, ValueError, PlatformError) as error:  # a clear message
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # nothing was written outside the temporary folder, now gone
        print("rehearse: stopped (Ctrl-C)", file=sys.stderr)
        return 130
    print(rehearsal_text(rehearsal))
    return 1 if rehearsal.problems() else 0


def _plan(args: argparse.Namespace) -> int:
    try:
        plans = course_plan(args.source)
    except PlanError as error:
        print(error, file=sys.stderr)
        return 1
    print(plan_markdown(plans) if args.markdown else plan_text(plans))
    return 0


def _limits_options(command: argparse.ArgumentParser) -> None:
    """The options of a command that runs notebooks: its ``Limits`` and how many run at once."""
    command.add_argument(
        "--timeout",
        type=float,
        default=60,
        help="seconds of the kernel's CPU time per cell and per check (default 60); a cell that "
        f"waits ends after {WALL_FACTOR} times as long on the wall clock",
    )
    command.add_argument(
        "--budget",
        type=float,
        help="seconds of CPU time for a whole notebook (default 5 times --timeout); it also "
        f"stops once its wall-clock time passes this plus {WALL_FACTOR} times its CPU time",
    )
    command.add_argument(
        "--memory", type=int, default=2048, help="memory limit per kernel in MB (default 2048)"
    )
    command.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (default 1)")
    command.add_argument(
        "--check-draw",
        type=_draw_option,
        metavar="N",
        help="the draw of the checks' random inputs, to repeat a run (default: a fresh one, "
        "printed; a student's kernel cannot know it before its functions are called)",
    )


def main(argv: list[str] | None = None) -> int:
    """Run the ``release``, ``grade``, ``rehearse`` or ``plan`` command; returns the exit
    status."""
    tolerant_output()  # a title's "·" on an ASCII terminal is an escape, not a traceback
    parser = argparse.ArgumentParser(
        prog="python -m backproplab.classroom",
        description="Student release, autograding and course plan of the backproplab notebooks.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    make = commands.add_parser(
        "release",
        help="write the student version of a folder of notebooks",
        description="Replace every ### BEGIN SOLUTION ... ### END SOLUTION region by a stub "
        "raising NotImplementedError, clear the outputs of solution and check cells, replace the "
        "worked answers by a note, and copy everything else unchanged.",
    )
    make.add_argument("source", help="the teacher's notebooks, e.g. notebooks/")
    make.add_argument("target", help="where the student notebooks go, e.g. student/")
    make.add_argument(
        "--keep-answers",
        action="store_true",
        help="keep the cells tagged worked-answer (each exercise's answer worked out after its "
        "check), which are otherwise replaced by a note: for a handout after the answers are in",
    )
    make.add_argument(
        "--notebooks",
        nargs="+",
        metavar="NOTEBOOK",
        help="only these notebooks, by name or number (e.g. 01 02 03): an assignment's; the other "
        "files (mygrad.py, data) are written all the same",
    )
    make.set_defaults(run=_release)

    grade = commands.add_parser(
        "grade",
        help="run submitted notebooks and score their exercises with the teacher's checks",
        description="Run every notebook under SUBMISSIONS (SUBMISSIONS/<student>/*.ipynb or "
        "SUBMISSIONS/<student>.ipynb) in a sandboxed kernel and judge each exercise with the "
        "teacher's check, in the grader's own process; print a score per exercise per student.",
    )
    grade.add_argument("submissions", help="folder of submitted notebooks")
    grade.add_argument(
        "--source",
        required=True,
        help="the teacher's notebooks: exercises, points and checks are taken from them",
    )
    _limits_options(grade)
    grade.add_argument("--csv", help="write the scores to this CSV file, one row per student")
    grade.add_argument("--feedback", help="write a feedback file per student into this folder")
    grade.add_argument(
        "--notebooks",
        nargs="+",
        metavar="NOTEBOOK",
        help="the assignment's notebooks, by name or number (e.g. 04 05): the scores have their "
        "exercises, and other notebooks handed in are listed, not graded",
    )
    grade.add_argument(
        "--merge",
        action="store_true",
        help="put this grading into the existing --csv and --feedback (one late student...): "
        "each student graded replaces their row, the others are kept",
    )
    grade.set_defaults(run=_grade)

    rehearsal = commands.add_parser(
        "rehearse",
        help="before class: grade your own answers (every point) and the blank release (none)",
        description="Grade, in a temporary folder, two students: one who hands in SOURCE as it "
        "is (your answers) and one who hands in its student release untouched. Print each "
        "exercise's points for both, and every check that gives your answers less than all its "
        "points or the blank release any; exit with status 1 if there is one.",
    )
    rehearsal.add_argument("source", help="the teacher's notebooks, e.g. notebooks/")
    _limits_options(rehearsal)
    rehearsal.add_argument(
        "--notebooks",
        nargs="+",
        metavar="NOTEBOOK",
        help="only these notebooks, by name or number (e.g. 04 05)",
    )
    rehearsal.set_defaults(run=_rehearse)

    plan = commands.add_parser(
        "plan",
        help="print what each notebook grades, its points and what its engine check needs",
        description="Print, per graded notebook in order: its title, its graded exercises and "
        "points, its total, whether it checks the learner's engine (mygrad.py) and which other "
        "notebooks' engine parts that check needs (measured by running it on the teacher's "
        "mygrad.py with each notebook's parts stubbed), and the prerequisites its first cell "
        "states; then the course total.",
    )
    plan.add_argument("source", help="the teacher's notebooks, e.g. notebooks/")
    plan.add_argument(
        "--markdown", action="store_true", help="print a Markdown table (for a syllabus)"
    )
    plan.set_defaults(run=_plan)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    # ``python -m`` puts the working folder first on sys.path; a student's kernel can write there
    # (it runs as the same user) a module the grader imports later: leave that folder out
    if not getattr(sys.flags, "safe_path", False) and sys.path[:1] in ([""], [os.getcwd()]):
        del sys.path[0]
    sys.exit(main())
