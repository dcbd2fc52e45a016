"""Stability Lab's command line.

Students: ``check [DIR]`` runs the visible checks on DIR (default exercises/) and writes a
feedback report. Instructors (in the full repository) also have ``stubs``, ``grade``,
``merge``, ``release`` and ``gradescope``.
"""
from __future__ import annotations

import argparse
import os
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
    from .selfcheck_report import UnknownFunction, run_self_check

    folder = Path(args.dir)
    if not folder.is_dir():
        print(f"error: {folder} is not a folder", file=sys.stderr)
        return 2
    try:
        return run_self_check(folder, html_path=Path(args.html) if args.html else None, function=args.function,
                              json_path=Path(args.json) if args.json else None)
    except UnknownFunction as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _cmd_grade(args: argparse.Namespace) -> int:
    from .collect import SubmissionsError
    from .grading import grade_folder
    from .runtime.sandbox import IsolationError

    if args.jobs is not None and args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    shard = None
    if args.shard_count is not None and args.shard != "auto":
        print("error: --shard-count goes with --shard auto", file=sys.stderr)
        return 2
    if args.shard == "auto":
        from .shards import ShardError, shard_from_env

        try:
            shard = shard_from_env(os.environ, args.shard_count)
        except ShardError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    elif args.shard:
        try:
            index, count = (int(v) for v in args.shard.split("/"))
            if not 1 <= index <= count:
                raise ValueError
            shard = (index, count)
        except ValueError:
            print("error: --shard takes K/N with 1 <= K <= N, e.g. 2/4", file=sys.stderr)
            return 2
    try:
        summary = grade_folder(Path(args.submissions), Path(args.out), args.jobs, args.force,
                               progress=not args.quiet, shard=shard, isolation=args.isolation)
    except (SubmissionsError, IsolationError) as error:
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
    print(f"student code ran in isolation: {summary.isolation}")
    return 3 if summary.failed else 0


def _cmd_release(args: argparse.Namespace) -> int:
    from .release import build_release

    try:
        written = build_release(Path(args.out))
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote the student release to {args.out} ({len(written)} files)")
    return 0


def _cmd_gradescope(args: argparse.Namespace) -> int:
    from .gradescope import build_package

    names = build_package(Path(args.zip))
    print(f"wrote {args.zip} ({len(names)} files): upload it as the Gradescope autograder")
    return 0


def _cmd_gradescope_run(args: argparse.Namespace) -> int:
    from .gradescope import run_in_container
    from .runtime.sandbox import IsolationError

    try:
        print(f"wrote {run_in_container(Path(args.root), args.isolation)}")
    except IsolationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _cmd_nbgrader(args: argparse.Namespace) -> int:
    from .nbgrader_course import ASSIGNMENT, build_course

    build_course(Path(args.course))
    print(f"wrote an nbgrader course in {args.course}: assignment '{ASSIGNMENT}' with one notebook per module.\n"
          f"Next: cd {args.course} && nbgrader generate_assignment {ASSIGNMENT}")
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    from .gradebook import MergeError, merge_gradebooks

    try:
        rows = merge_gradebooks([Path(p) for p in args.outs], Path(args.out))
    except MergeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({rows} submissions)")
    return 0


#: The instructor's commands need the check suite, which the student release does not have.
INSTRUCTOR = (Path(__file__).resolve().parent / "suite").is_dir()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    _student_commands(commands)
    if INSTRUCTOR:
        _instructor_commands(commands)
    return parser


def _student_commands(commands) -> None:
    check = commands.add_parser("check", help="the student self-check: run the visible checks on DIR")
    check.add_argument("dir", nargs="?", default=str(paths.EXERCISES), help="folder of exercise modules (default: exercises/)")
    check.add_argument("--html", default=None, help="where to write the feedback report (default: build/feedback.html)")
    check.add_argument("--function", default=None, metavar="NAME", help="check one function only (e.g. clip_by_norm)")
    check.add_argument("--json", default=None, metavar="FILE", help="also write the per-function estimate as JSON")
    check.set_defaults(run=_cmd_check)


def _instructor_commands(commands) -> None:
    stubs = commands.add_parser("stubs", help="generate exercises/*.py from solutions/")
    stubs.add_argument("--out", default=str(paths.EXERCISES), help="output folder (default: exercises/)")
    stubs.set_defaults(run=_cmd_stubs)

    grade = commands.add_parser("grade", help="grade a folder of submissions (one sub-folder per student)")
    grade.add_argument("submissions", help="folder with one sub-folder of exercise modules per student")
    grade.add_argument("--out", required=True, help="output folder: <submission>/results.json and grades.csv")
    grade.add_argument("--jobs", type=int, default=None, help="parallel graders (default: all cores)")
    grade.add_argument("--force", action="store_true", help="regrade submissions that already have results")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--isolation", choices=("sandbox", "uid", "process"), default=None,
                       help="grade at this isolation level; by default the bubblewrap sandbox, and grading "
                            "refuses to start where it does not work (uid: a uid of its own and file "
                            "permissions only, root only; process: no isolation)")
    grade.add_argument("--shard", default=None, metavar="K/N",
                       help="grade only shard K of N (a stable split by name), for several graders; "
                            "'auto' takes K and N from a Slurm array or a Kubernetes Indexed Job")
    grade.add_argument("--shard-count", type=int, default=None, metavar="N",
                       help="with --shard auto under Kubernetes: the Job's completions")
    grade.set_defaults(run=_cmd_grade)

    merge = commands.add_parser("merge", help="merge the gradebooks of several output folders (shards)")
    merge.add_argument("outs", nargs="+", help="output folders of `grade` runs")
    merge.add_argument("--out", required=True, help="the merged grades.csv")
    merge.set_defaults(run=_cmd_merge)

    release = commands.add_parser("release", help="write the student repository (no solutions, no hidden checks)")
    release.add_argument("out", help="an empty or new folder")
    release.set_defaults(run=_cmd_release)

    gradescope = commands.add_parser("gradescope", help="build the Gradescope autograder zip")
    gradescope.add_argument("zip", help="the zip file to write")
    gradescope.set_defaults(run=_cmd_gradescope)

    nbgrader = commands.add_parser("nbgrader", help="write a ready nbgrader course (config, notebooks, grader)")
    nbgrader.add_argument("course", help="the course folder to write")
    nbgrader.set_defaults(run=_cmd_nbgrader)

    gradescope_run = commands.add_parser("gradescope-run", help="(inside Gradescope) grade ROOT/submission")
    gradescope_run.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    gradescope_run.add_argument("--isolation", choices=("sandbox", "uid", "process"), default=None,
                                help="by default the sandbox where it works, else a uid of its own (the floor)")
    gradescope_run.set_defaults(run=_cmd_gradescope_run)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
