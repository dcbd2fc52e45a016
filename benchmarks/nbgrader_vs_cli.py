"""nbgrader autograde against the CLI, on the same submissions.

    python benchmarks/nbgrader_vs_cli.py [--n 6]

It generates the nbgrader course, makes N submissions from the released notebooks (correct,
one catalogued mistake, untouched, in turn), times `nbgrader autograde` on all of them, then
extracts each submission's modules from its notebooks (as the isolated grader does) and times
`python -m autograder grade --jobs 1` on those. Both grade with the same isolated worker (no
student kernel runs in either); the difference is nbgrader's own steps, per notebook.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nbformat  # noqa: E402

from autograder import paths  # noqa: E402
from autograder.feedback.catalogue import CATALOGUE  # noqa: E402
from autograder.nbgrader_course import ASSIGNMENT, build_course, sample_submission  # noqa: E402
from autograder.nbgrader_grading import module_source  # noqa: E402
from autograder.suite.weights import module_of  # noqa: E402

BIN = Path(sys.executable).parent


def run(args: list[str], cwd: Path) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def make_submission(course: Path, student: str, index: int) -> None:
    """Correct, one catalogued mistake, or untouched, in turn."""
    kind = index % 3
    mistake = CATALOGUE[(index * 7) % len(CATALOGUE)]

    def plant(module, book):
        if kind != 1 or module_of(mistake.function) != module:
            return
        for cell in book.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == f"solution_{mistake.function}":
                for old, new in mistake.patch:
                    cell.source = cell.source.replace(old, new)

    sample_submission(course, student, fill=kind != 2, edit=plant)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=6)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="stability-nbbench-") as tmp:
        course = Path(tmp) / "course"
        build_course(course)
        run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT, "--force"], course)
        students = [f"student{i:02d}" for i in range(args.n)]
        for i, student in enumerate(students):
            make_submission(course, student, i)
        nb_seconds = run([str(BIN / "nbgrader"), "autograde", ASSIGNMENT], course) / args.n

        modules = Path(tmp) / "modules"
        for student in students:
            folder = modules / student
            folder.mkdir(parents=True)
            for module in paths.MODULES:
                book = nbformat.read(course / "submitted" / student / ASSIGNMENT / f"{module}.ipynb", as_version=4)
                (folder / f"{module}.py").write_text(module_source(book))
        cli_seconds = run([sys.executable, "-m", "autograder", "grade", str(modules), "--out", str(Path(tmp) / "out"),
                           "--jobs", "1", "--quiet"], paths.REPO) / args.n
    print(f"submissions: {args.n} (four notebooks each)")
    print(f"nbgrader autograde (isolated grader, no kernel): {nb_seconds:.2f} s per submission")
    print(f"python -m autograder grade --jobs 1:            {cli_seconds:.2f} s per submission")
    print(f"ratio: nbgrader takes {nb_seconds / cli_seconds:.1f}x as long as the CLI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
