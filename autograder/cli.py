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
    return run_self_check(folder)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    stubs = commands.add_parser("stubs", help="generate exercises/*.py from solutions/")
    stubs.add_argument("--out", default=str(paths.EXERCISES), help="output folder (default: exercises/)")
    stubs.set_defaults(run=_cmd_stubs)

    check = commands.add_parser("check", help="the student self-check: run the visible checks on DIR")
    check.add_argument("dir", nargs="?", default=str(paths.EXERCISES), help="folder of exercise modules (default: exercises/)")
    check.set_defaults(run=_cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
