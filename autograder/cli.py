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


class UsageError(Exception):
    """A bad path or argument: reported as one line on stderr, exit status 2."""


def _under_a_folder(path: Path, option: str) -> Path:
    """``path``, whose nearest existing ancestor must be a folder (so it can be made)."""
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise UsageError(f"{option} {path}: {parent} is not a folder")
    return path


def _file_target(path: Path, option: str) -> Path:
    """A file the command will write: not a folder, and its folder exists or can be made."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder; give the file to write")
    return _under_a_folder(path, option)


def _folder_target(path: Path, option: str) -> Path:
    """A folder the command will write into: a folder or nothing yet, under a folder."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} exists and is not a folder")
    return _under_a_folder(path, option)


def _cmd_stubs(args: argparse.Namespace) -> int:
    from .markers import MarkerError
    from .stubgen import generate_stubs

    try:
        written = generate_stubs(_folder_target(Path(args.out), "--out"))
    except MarkerError as error:
        raise UsageError(str(error)) from None
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .selfcheck_report import UnknownFunction, run_self_check

    folder = Path(args.dir)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    html = _file_target(Path(args.html), "--html") if args.html else None
    json_path = _file_target(Path(args.json), "--json") if args.json else None
    try:
        return run_self_check(folder, html_path=html, function=args.function, json_path=json_path)
    except UnknownFunction as error:
        raise UsageError(str(error)) from None


def _parse_shard(text: str | None, count: int | None = None) -> tuple[int, int] | None:
    """``--shard K/N``, or ``--shard auto`` (with ``--shard-count``) from the job array's
    environment (Slurm, Kubernetes Indexed Jobs)."""
    if count is not None and text != "auto":
        raise UsageError("--shard-count goes with --shard auto")
    if text == "auto":
        from .shards import ShardError, shard_from_env

        try:
            return shard_from_env(os.environ, count)
        except ShardError as error:
            raise UsageError(str(error)) from None
    if not text:
        return None
    try:
        index, total = (int(v) for v in text.split("/"))
        if not 1 <= index <= total:
            raise ValueError
    except ValueError:
        raise UsageError("--shard takes K/N with 1 <= K <= N, e.g. 2/4") from None
    return index, total


def _cmd_grade(args: argparse.Namespace) -> int:
    from .collect import SubmissionsError
    from .grading import grade_folder
    from .runtime.sandbox import IsolationError

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    shard = _parse_shard(args.shard, args.shard_count)
    out = _folder_target(Path(args.out), "--out")
    try:
        summary = grade_folder(Path(args.submissions), out, args.jobs, args.force,
                               progress=not args.quiet, shard=shard, isolation=args.isolation)
    except (SubmissionsError, IsolationError) as error:
        raise UsageError(str(error)) from None
    print_summary(summary)
    return 3 if summary.failed else 0


def print_summary(summary) -> None:
    """The per-run summary: graded, regraded, skipped as unchanged, and what needs a look."""
    print(f"graded {len(summary.graded)}, regraded {len(summary.regraded)} (changed files or grader), "
          f"skipped {len(summary.skipped)} unchanged (--force regrades them), "
          f"{len(summary.no_module)} with no gradable module, {len(summary.reported)} not graded, "
          f"{len(summary.failed)} could not be graded")
    for title, group in (("no gradable module", summary.no_module), ("not graded", summary.reported)):
        if group:
            print(f"{title}:")
            for name, reason in group.items():
                print(f"  {name}: {reason}")
    if summary.notes:
        print("notes:")
        for name, notes in summary.notes.items():
            for note in notes:
                print(f"  {name}: {note}")
    for name, error in summary.failed.items():
        print(f"  {name}: internal error: {error}", file=sys.stderr)
    print(f"gradebook: {summary.gradebook}")
    print(f"student code ran in isolation: {summary.isolation}")


def _cmd_release(args: argparse.Namespace) -> int:
    from .release import build_release

    try:
        written = build_release(_folder_target(Path(args.out), "release:"))
    except FileExistsError as error:
        raise UsageError(str(error)) from None
    print(f"wrote the student release to {args.out} ({len(written)} files)")
    return 0


def _cmd_gradescope(args: argparse.Namespace) -> int:
    from .gradescope import build_package

    names = build_package(_file_target(Path(args.zip), "gradescope:"))
    print(f"wrote {args.zip} ({len(names)} files): upload it as the Gradescope autograder")
    return 0


def _cmd_gradescope_run(args: argparse.Namespace) -> int:
    from .gradescope import UploadError, run_in_container
    from .runtime.sandbox import IsolationError

    try:
        print(f"wrote {run_in_container(Path(args.root), args.isolation)}")
    except (UploadError, IsolationError) as error:
        raise UsageError(str(error)) from None
    return 0


def _cmd_nbgrader(args: argparse.Namespace) -> int:
    from .nbgrader_course import ASSIGNMENT, CourseExists, build_course

    try:
        build_course(_folder_target(Path(args.course), "nbgrader:"), force=args.force)
    except CourseExists as error:
        raise UsageError(str(error)) from None
    print(f"wrote an nbgrader course in {args.course}: assignment '{ASSIGNMENT}' with one notebook per module.\n"
          f"Next: cd {args.course} && nbgrader generate_assignment {ASSIGNMENT}")
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    from .gradebook import MergeError, merge_gradebooks

    try:
        rows = merge_gradebooks([Path(p) for p in args.outs], Path(args.out))
    except MergeError as error:
        raise UsageError(str(error)) from None
    print(f"wrote {args.out} ({rows} submissions)")
    return 0


#: The instructor's commands need the check suite, which the student release does not have.
INSTRUCTOR = (Path(__file__).resolve().parent / "suite").is_dir()


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"error: {' '.join(message.split())} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m autograder", description=__doc__,
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
    grade.add_argument("--out", required=True,
                       help="output folder: grades.csv and submissions/<name>/results.json (kept out of SUBMISSIONS)")
    grade.add_argument("--jobs", type=int, default=None, help="parallel graders (default: all cores)")
    grade.add_argument("--force", action="store_true",
                       help="regrade every submission, even those unchanged since their results")
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
    nbgrader.add_argument("--force", action="store_true",
                          help="replace an edited nbgrader_config.py (kept as nbgrader_config.py.old)")
    nbgrader.set_defaults(run=_cmd_nbgrader)

    gradescope_run = commands.add_parser("gradescope-run", help="(inside Gradescope) grade ROOT/submission")
    gradescope_run.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    gradescope_run.add_argument("--isolation", choices=("sandbox", "uid", "process"), default=None,
                                help="by default the sandbox where it works, else a uid of its own (the floor)")
    gradescope_run.set_defaults(run=_cmd_gradescope_run)


def main(argv: list[str] | None = None) -> int:
    """Run one command. A bad path or argument is one line on stderr and exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as error:
        return _fail(str(error))
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as error:
        return _fail(_os_error_text(error))


def _fail(message: str) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return 2


def _os_error_text(error: OSError) -> str:
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"
