"""The ``linclass`` command line (DESIGN section 6).

Each subcommand lives in its own module and is imported only when it runs, so that
``linclass --help`` stays fast.  Expected failures become one clear line on stderr and
exit code 2; the grader exits 0 whenever grading ran, whatever the score.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from . import __version__
from .errors import LinclassError

#: subcommand -> "module:function"; each function takes the parsed arguments and
#: returns the exit code.
COMMANDS = {
    "demo": "linclass.course.demo:main",
    "data": "linclass.course.fetch:main",
    "release": "linclass.course.release:main",
    "check": "linclass.cli:check_main",
    "grade": "autograder.commands:grade_main",
    "merge": "autograder.commands:merge_main",
    "bundle": "linclass.course.bundle:main",
    "doctor": "autograder.doctor:main",
    "export": "autograder.lms:main",
    "answers": "autograder.answers:main",
    "merge-manual": "autograder.manual:main",
}


ASSIGNMENT_HELP = "the assignment: a name or an assignment package folder (default: linear_classifiers)"
#: Where ``grade`` writes the class's reports, and where ``merge`` and ``export`` look for them, by default.
GRADES_DIR = "build/grades"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="linclass", description="Linear-classifier assignment kit: "
                                     "release notebooks, self-check, and grade submissions.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="train the reference on the embedded digits and show the slide numbers")
    demo.add_argument("--out", default="build/demo", help="where to save the figures (default: %(default)s)")

    data = sub.add_parser("data", help="fetch optional datasets (the only command that downloads)")
    data.add_argument("action", choices=["fetch"], help="what to do: fetch (download, check and unpack)")
    data.add_argument("dataset", choices=["cifar10"], help="the dataset: cifar10 (CIFAR-10, python version)")
    data.add_argument("--dir", default="datasets", help="target directory (default: %(default)s)")
    data.add_argument("--url", help="download from this mirror instead of the official URL")
    data.add_argument("--force", action="store_true", help="download again even if present")

    release = sub.add_parser("release", help="build the student release with nbgrader and verify it leaks nothing")
    release.add_argument("assignment", nargs="?", default=None, help=ASSIGNMENT_HELP)
    release.add_argument("--course", default=None,
                         help="nbgrader course root: its config and its source/<assignment>/ are used, and the "
                              "release is written to its release/ (default: the course that holds the "
                              "assignment's source)")

    check = sub.add_parser("check", help="the student's self-check: public checks only, no solutions needed")
    check.add_argument("path", help="a notebook, a directory of notebooks or modules, or a zip")
    check.add_argument("--assignment", default=None, help=ASSIGNMENT_HELP)
    check.add_argument("--part", action="append", default=[], metavar="NAME",
                       help="check only this part (repeatable): a function, Class.method or a class cell")

    grade = sub.add_parser("grade", help="grade one or many submissions")
    grade.add_argument("paths", nargs="+", metavar="PATH",
                       help="a submission (notebook, folder, module or zip), several of them, or one class folder "
                            "(one entry per student; nbgrader's submitted/ works as is)")
    grade.add_argument("--out", default=GRADES_DIR, help="report directory (default: %(default)s)")
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default: 1)")
    grade.add_argument("--shard", default=None, metavar="K/N", help="grade only the K-th of N shards (1-based)")
    grade.add_argument("--seed-salt", default=None, help="course salt of the input seeds (default: the config's)")
    grade.add_argument("--force", action="store_true", help="regrade students that already have a report")
    grade.add_argument("--config", default=None,
                       help="grading config (points, limits, [late] due date); default: the assignment's")
    grade.add_argument("--assignment", default=None, help=ASSIGNMENT_HELP)
    grade.add_argument("--sandbox", default="auto", choices=("auto", "strict", "minimal"),
                       help="kernel confinement of student code: auto (every layer this machine has, recorded in "
                            "results.json), strict (refuse without the full set), minimal (the kernel layers off); "
                            "see `linclass doctor`")

    merge = sub.add_parser("merge", help="combine the outputs of several shards")
    merge.add_argument("dirs", nargs="+", metavar="DIR", help="the --out directories of the shards")
    merge.add_argument("--out", required=True, help="where the combined reports are written")
    merge.add_argument("--config", default=None, help="grading config whose [late] table applies (default: the "
                                                      "assignment's)")
    merge.add_argument("--assignment", default=None, help=ASSIGNMENT_HELP)

    export = sub.add_parser("export", help="the class's grades as a gradebook CSV that Canvas or Moodle imports")
    export.add_argument("lms", choices=["canvas", "moodle"], help="the learning management system: canvas or moodle")
    export.add_argument("dir", nargs="?", default=GRADES_DIR, metavar="DIR",
                        help="the graded class (linclass grade --out; default: %(default)s)")
    export.add_argument("--out", default=None, help="the CSV written (default: DIR/<lms>_grades.csv)")
    export.add_argument("--column", default=None,
                        help="the grade column's header: a new assignment's name, or an existing one as the LMS "
                             "exports it, e.g. 'Linear classifiers (123456)' in Canvas (default: the assignment's "
                             "name)")
    export.add_argument("--id-column", default=None,
                        help="the LMS column that holds the student ids: canvas sis_login_id (default), sis_user_id "
                             "or id; moodle username (default), idnumber or email")
    export.add_argument("--assignment", default=None, help=ASSIGNMENT_HELP)

    doctor = sub.add_parser("doctor", help="what this machine's kernel enforces around student code")
    doctor.add_argument("--json", action="store_true", help="the sandbox record as JSON")

    bundle = sub.add_parser("bundle", help="package the autograder for Gradescope or a GitHub Actions workflow")
    bundle.add_argument("target", choices=["gradescope", "github"],
                        help="gradescope (an autograder zip) or github (a GitHub Actions workflow)")
    bundle.add_argument("--out", default=None, help="output path")
    bundle.add_argument("--assignment", default=None, help=ASSIGNMENT_HELP)
    add_written_answer_parsers(sub)
    return parser


def add_written_answer_parsers(sub) -> None:
    """``answers`` and ``merge-manual``: the manually graded written answers, outside nbgrader's formgrader."""
    answers = sub.add_parser("answers", help="collect every student's written answers, question by question")
    answers.add_argument("paths", nargs="+", metavar="PATH", help="a class folder, or submissions")
    answers.add_argument("--out", required=True, help="answers.md (to read) or answers.csv (to fill in the points)")
    answers.add_argument("--config", default=None, help="grading config (its [written] points)")
    answers.add_argument("--assignment", default=None, help=ASSIGNMENT_HELP)

    manual = sub.add_parser("merge-manual", help="add a TA's scores of the written answers to the reports")
    manual.add_argument("scores", help="CSV with student_id, grade_id, points (comment optional), "
                                       "e.g. a filled-in answers.csv")
    manual.add_argument("--out", default=None, help="the report directory of `linclass grade` "
                                                    "(default: the folder of SCORES)")
    manual.add_argument("--config", default=None, help="grading config (its [written] points)")
    manual.add_argument("--assignment", default=None, help=ASSIGNMENT_HELP)


def check_main(args: argparse.Namespace) -> int:
    """``linclass check PATH [--assignment A] [--part NAME]``: 0 when every public check passes, 1 otherwise,
    2 if unreadable (or no such part)."""
    from .assignment import load_assignment
    from .student.selfcheck import check

    assignment = load_assignment(args.assignment)
    return check(args.path, assignment.spec, assignment.module("checks"), prog="linclass: error", parts=args.part)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return its exit code."""
    args = build_parser().parse_args(argv)
    module_name, func_name = COMMANDS[args.command].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        print(f"linclass: error: '{args.command}' is not available in this installation", file=sys.stderr)
        return 2
    try:
        return int(getattr(module, func_name)(args) or 0)
    except LinclassError as exc:
        print(f"linclass: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("linclass: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`linclass check ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
