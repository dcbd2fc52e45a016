"""The ``python -m autograder`` command line."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import paths


def _cmd_stubs(args: argparse.Namespace) -> int:
    from .markers import MarkerError
    from .stubgen import generate_stubs

    try:
        written = generate_stubs(Path(args.out))
    except MarkerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .selfcheck_report import run_self_check

    folder = Path(args.dir)
    if not folder.is_dir():
        print(f"error: {folder} is not a folder", file=sys.stderr)
        return 2
    return run_self_check(folder, html_path=Path(args.html) if args.html else None)


def _cmd_grade(args: argparse.Namespace) -> int:
    from .collect import SubmissionsError
    from .grading import grade_folder

    if args.jobs is not None and args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    try:
        summary = grade_folder(Path(args.submissions), Path(args.out), args.jobs, args.force,
                               progress=not args.quiet)
    except SubmissionsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"graded {len(summary.graded)}, skipped {len(summary.skipped)} already graded "
          f"(--force regrades them), {len(summary.failed)} could not be graded")
    for name, error in summary.failed.items():
        print(f"  {name}: internal error: {error}", file=sys.stderr)
    print(f"gradebook: {summary.gradebook}")
    return 3 if summary.failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    stubs = commands.add_parser("stubs", help="generate exercises/*.py from solutions/")
    stubs.add_argument("--out", default=str(paths.EXERCISES), help="output folder (default: exercises/)")
    stubs.set_defaults(run=_cmd_stubs)

    grade = commands.add_parser("grade", help="grade a folder of submissions (one sub-folder per student)")
    grade.add_argument("submissions", help="folder with one sub-folder of exercise modules per student")
    grade.add_argument("--out", required=True, help="output folder: <submission>/results.json and grades.csv")
    grade.add_argument("--jobs", type=int, default=None, help="parallel graders (default: all cores)")
    grade.add_argument("--force", action="store_true", help="regrade submissions that already have results")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.set_defaults(run=_cmd_grade)

    check = commands.add_parser("check", help="the student self-check: run the visible checks on DIR")
    check.add_argument("dir", nargs="?", default=str(paths.EXERCISES), help="folder of exercise modules (default: exercises/)")
    check.add_argument("--html", default=None, help="where to write the feedback report (default: build/feedback.html)")
    check.set_defaults(run=_cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
