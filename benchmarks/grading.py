"""Grading speed: seconds per submission at --jobs 1 and at --jobs all cores.

    python benchmarks/grading.py [--n 45] [--jobs N]

It builds N synthetic submissions (a third correct, a third with one catalogued mistake
each, a third untouched stubs), grades them once with one grader process and once with all
cores, and prints the median seconds per submission (one core, feedback report with plots
included), what the plots cost, and the throughput. It exits 1 when a target is missed:
- the full hidden suite takes at most 0.5 s per submission on one core (median);
- scaling to all cores is near-linear (at least 75% parallel efficiency).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import paths  # noqa: E402
from autograder.engine import grade_submission  # noqa: E402
from autograder.feedback.catalogue import CATALOGUE  # noqa: E402
from autograder.feedback.mutants import write_mutant_submission  # noqa: E402
from autograder.feedback.report import feedback_html  # noqa: E402
from autograder.grading import grade_folder  # noqa: E402
from autograder.suite.reference import Reference  # noqa: E402
from autograder.suite.registry import all_checks  # noqa: E402

TARGET_MEDIAN_SECONDS = 0.5
TARGET_EFFICIENCY = 0.75


def make_submissions(root: Path, n: int) -> list[Path]:
    folders = []
    for i in range(n):
        folder = root / f"student{i:03d}"
        kind = i % 3
        if kind == 0:
            folder.mkdir(parents=True)
            for module in paths.MODULES:
                shutil.copy(paths.SOLUTIONS / f"{module}.py", folder)
        elif kind == 1:
            write_mutant_submission(folder, CATALOGUE[(i * 7) % len(CATALOGUE)])
        else:
            folder.mkdir(parents=True)
            for module in paths.MODULES:
                shutil.copy(paths.EXERCISES / f"{module}.py", folder)
        folders.append(folder)
    return folders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=45, help="number of submissions (default 45)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel graders for the second run")
    parser.add_argument("--no-targets", action="store_true", help="report only; do not fail on a missed target")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="stability-bench-") as tmp:
        root = Path(tmp)
        folders = make_submissions(root / "subs", args.n)
        checks, reference = all_checks(), Reference()
        grade_submission(folders[0], "warm-up", checks=checks, reference=reference)

        feedback_html(grade_submission(folders[1], "warm-up", checks=checks, reference=reference))
        per_submission, plotting = [], []
        for folder in folders:
            start = time.perf_counter()
            grade = grade_submission(folder, folder.name, checks=checks, reference=reference)
            graded = time.perf_counter()
            feedback_html(grade)
            per_submission.append(time.perf_counter() - start)
            plotting.append(time.perf_counter() - graded)
        median = statistics.median(per_submission)

        start = time.perf_counter()
        grade_folder(root / "subs", root / "out1", jobs=1, progress=False)
        serial = (time.perf_counter() - start) / args.n
        start = time.perf_counter()
        grade_folder(root / "subs", root / "out2", jobs=args.jobs, progress=False)
        parallel = (time.perf_counter() - start) / args.n

    efficiency = serial / (parallel * args.jobs)
    print(f"submissions: {args.n} (correct, one mistake, stub in turn); cores: {os.cpu_count()}")
    print(f"one core, per submission with its feedback report: median {median:.3f} s "
          f"(min {min(per_submission):.3f}, max {max(per_submission):.3f})")
    print(f"  of which plots and report: median {statistics.median(plotting):.3f} s, "
          f"mean {statistics.mean(plotting):.3f} s ({sum(plotting) / sum(per_submission):.0%} of the time)")
    print(f"grade --jobs 1:  {serial:.3f} s per submission ({1 / serial:.1f} submissions/s)")
    print(f"grade --jobs {args.jobs}:  {parallel:.3f} s per submission ({1 / parallel:.1f} submissions/s), "
          f"speed-up {serial / parallel:.2f}x, efficiency {efficiency:.0%}")
    print(f"a class of 500 at --jobs {args.jobs}: about {500 * parallel / 60:.1f} min")
    missed = []
    if median > TARGET_MEDIAN_SECONDS:
        missed.append(f"median {median:.3f} s > {TARGET_MEDIAN_SECONDS} s")
    if args.jobs > 1 and efficiency < TARGET_EFFICIENCY:
        missed.append(f"efficiency {efficiency:.0%} < {TARGET_EFFICIENCY:.0%}")
    if missed and not args.no_targets:
        print("TARGET MISSED: " + "; ".join(missed))
        return 1
    print("targets met" if not missed else "targets not checked (--no-targets): " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
