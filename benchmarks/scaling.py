"""Throughput per core of the three ways to scale grading, measured with the real CLI.

    python benchmarks/scaling.py [--n 45] [--jobs N] [--shards 3]

It builds N synthetic submissions (as benchmarks/grading.py does: a third correct, a third
with one catalogued mistake, a third stubs) and times, each as `python -m autograder`
processes with feedback reports:

- one machine: `grade --jobs 1` and `grade --jobs N` over the whole class;
- Gradescope's model: one `grade` process per submission (Gradescope runs one container per
  submission; its container start and queueing are not included);
- a cluster's model: `--shards` array tasks, each a `grade --shard auto --jobs 1` process as a
  Slurm array task would run it (run one after another here, so each has a core to itself).

It prints submissions per second per core and the fixed cost of one process (start-up and
reference set-up), which is what a shard or a Gradescope container pays once.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from grading import make_submissions  # noqa: E402

from autograder import paths  # noqa: E402


def grade(submissions: Path, out: Path, *args: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the process and every worker it waited
    for) of one `grade` process. CPU seconds do not grow when other jobs share the cores."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out),
                           "--quiet", "--force", *args], cwd=paths.REPO, capture_output=True, text=True,
                          env=env or dict(os.environ))
    if done.returncode != 0:
        raise SystemExit(f"grade failed ({done.returncode}): {done.stderr.strip()}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=45, help="number of submissions (default 45)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="graders on one machine")
    parser.add_argument("--shards", type=int, default=3, help="array tasks of the cluster run (default 3)")
    parser.add_argument("--singles", type=int, default=3, help="submissions graded one process each (default 3)")
    args = parser.parse_args(argv)
    if min(args.n, args.jobs, args.shards, args.singles) < 1 or args.singles > args.n:
        parser.error("--n, --jobs, --shards and --singles must be at least 1, and --singles at most --n")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subs = root / "subs"
        folders = make_submissions(subs, args.n)
        one = grade(subs, root / "one")
        many = grade(subs, root / "many", "--jobs", str(args.jobs))
        single_times = []
        for folder in folders[:args.singles]:
            alone = root / "alone" / folder.name
            shutil.copytree(folder, alone / folder.name)
            single_times.append(grade(alone, root / "alone-out" / folder.name, "--jobs", "1"))
        shard_times = []
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "JOB_COMPLETION_INDEX"))}
        for task in range(1, args.shards + 1):
            env = {**clean, "SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_MIN": "1",
                   "SLURM_ARRAY_TASK_COUNT": str(args.shards)}
            shard_times.append(grade(subs, root / "shards" / str(task), "--shard", "auto", "--jobs", "1", env=env))

    (one_wall, one_cpu), (many_wall, many_cpu) = one, many
    single_wall = sum(t[0] for t in single_times) / len(single_times)
    single_cpu = sum(t[1] for t in single_times) / len(single_times)
    shard_cpu = sum(t[1] for t in shard_times)
    n = args.n
    print(f"{n} submissions, feedback reports included, {os.cpu_count()} cores; "
          "per core = submissions per CPU-second (user + system)")
    print(f"{'setting':44} {'wall s':>7} {'CPU s':>7} {'per core/s':>10}")
    print(f"{'one machine, --jobs 1':44} {one_wall:7.1f} {one_cpu:7.1f} {n / one_cpu:10.2f}")
    print(f"{f'one machine, --jobs {args.jobs}':44} {many_wall:7.1f} {many_cpu:7.1f} {n / many_cpu:10.2f}"
          f"   speed-up {one_wall / many_wall:.2f}x wall")
    print(f"{'Gradescope model, one process per submission':44} {single_wall:7.2f} {single_cpu:7.2f} "
          f"{1 / single_cpu:10.2f}   fixed cost per process {single_cpu - one_cpu / n:.2f} CPU s")
    print(f"{f'cluster model, {args.shards} array tasks x 1 core':44} {max(t[0] for t in shard_times):7.1f} "
          f"{shard_cpu:7.1f} {n / shard_cpu:10.2f}   wall = slowest task")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
