"""Scale-out: `grade --shard auto` under Slurm arrays and Kubernetes Indexed Jobs, the deploy/
examples parse and agree with themselves, and running them shard by shard, then merging,
gives the grades of one unsharded run."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autograder import paths
from autograder.shards import ShardError, shard_from_env
from submission_kit import reference_submission, with_replacements

DEPLOY = paths.REPO / "deploy"
SLURM_SCRIPT = DEPLOY / "slurm" / "grade.sbatch"
GRADE_JOB = DEPLOY / "kubernetes" / "grade-job.yaml"
MERGE_JOB = DEPLOY / "kubernetes" / "merge-job.yaml"
SCHEDULER_VARIABLES = ("SLURM_", "JOB_COMPLETION_INDEX")


def slurm(task: int, first: int, count: int, step: int = 1, last: int | None = None) -> dict[str, str]:
    env = {"SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_MIN": str(first),
           "SLURM_ARRAY_TASK_COUNT": str(count), "SLURM_ARRAY_TASK_STEP": str(step)}
    env["SLURM_ARRAY_TASK_MAX"] = str(first + (count - 1) * step if last is None else last)
    return env


# --- the mapping ---------------------------------------------------------------------------

@pytest.mark.parametrize("first", [0, 1, 5])
def test_a_slurm_array_maps_to_every_shard_once_whatever_its_first_id(first):
    shards = [shard_from_env(slurm(first + i, first, 4)) for i in range(4)]
    assert shards == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_a_stepped_slurm_array_and_a_matching_shard_count():
    assert [shard_from_env(slurm(t, 0, 3, step=5), count=3) for t in (0, 5, 10)] == [(1, 3), (2, 3), (3, 3)]
    env = slurm(2, 1, 4)
    del env["SLURM_ARRAY_TASK_STEP"], env["SLURM_ARRAY_TASK_MAX"]  # older Slurm: step 1
    assert shard_from_env(env) == (2, 4)


def test_a_kubernetes_indexed_job_maps_its_0_based_index():
    assert [shard_from_env({"JOB_COMPLETION_INDEX": str(i)}, count=3) for i in range(3)] == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize("env, count, message", [
    ({}, None, "neither SLURM_ARRAY_TASK_ID"),
    ({"JOB_COMPLETION_INDEX": "0"}, None, "--shard-count"),
    ({"JOB_COMPLETION_INDEX": "3"}, 3, "outside 0..2"),
    ({"JOB_COMPLETION_INDEX": "-1"}, 3, "outside 0..2"),
    ({"JOB_COMPLETION_INDEX": "one"}, 3, "not an integer"),
    ({**slurm(0, 0, 2), "JOB_COMPLETION_INDEX": "0"}, None, "both"),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}, None, "SLURM_ARRAY_TASK_MIN is not set"),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1"}, None, "SLURM_ARRAY_TASK_COUNT is not set"),
    (slurm(0, 1, 4), None, "is not on the array"),
    (slurm(3, 0, 4, step=2), None, "is not on the array"),
    (slurm(4, 0, 4, last=9), None, "does not have SLURM_ARRAY_TASK_COUNT=4"),  # --array=0,1,4,9
    ({**slurm(0, 0, 4), "SLURM_ARRAY_TASK_MAX": ""}, 3, "--shard-count 3 differs"),
    ({**slurm(5, 1, 4), "SLURM_ARRAY_TASK_MAX": ""}, None, "task 5 of an array of"),
    (slurm(0, 0, 4), 0, "at least 1"),
])
def test_missing_or_inconsistent_variables_are_one_line_errors(env, count, message):
    with pytest.raises(ShardError, match=None) as raised:
        shard_from_env(env, count)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def scheduler_free_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCHEDULER_VARIABLES)}
    return {**env, **extra}


def run_cli(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=paths.REPO, capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("args, extra, message", [
    (["--shard", "auto"], {}, "neither SLURM_ARRAY_TASK_ID"),
    (["--shard", "auto", "--shard-count", "2"], {"JOB_COMPLETION_INDEX": "2"}, "outside 0..1"),
    (["--shard", "1/2", "--shard-count", "2"], {}, "--shard-count goes with --shard auto"),
    (["--shard", "auto"], {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1",
                           "SLURM_ARRAY_TASK_COUNT": "2", "JOB_COMPLETION_INDEX": "0"}, "both"),
])
def test_the_cli_refuses_a_shard_it_cannot_name_with_exit_2(tmp_path, args, extra, message):
    done = run_cli("grade", str(paths.EXERCISES), "--out", str(tmp_path / "out"), *args,
                   env=scheduler_free_env(**extra))
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "out").exists()


# --- the examples parse and agree with themselves -------------------------------------------

def test_the_slurm_script_parses_and_names_its_usage():
    done = subprocess.run(["bash", "-n", str(SLURM_SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = SLURM_SCRIPT.read_text()
    assert "#SBATCH --array=" in text and "--shard auto" in text and "merge" in text
    done = subprocess.run(["bash", str(SLURM_SCRIPT)], capture_output=True, text=True, env=scheduler_free_env())
    assert done.returncode == 2 and "usage:" in done.stderr


def load_job(path: Path) -> dict:
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert len(documents) == 1 and documents[0]["apiVersion"] == "batch/v1" and documents[0]["kind"] == "Job"
    return documents[0]


def container_command(job: dict) -> str:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    command, (script,) = container["command"], container["args"]
    assert command == ["sh", "-c"]
    return script


def test_the_kubernetes_jobs_parse_and_agree_with_each_other():
    grade, merge = load_job(GRADE_JOB), load_job(MERGE_JOB)
    spec = grade["spec"]
    assert spec["completionMode"] == "Indexed" and spec["template"]["spec"]["restartPolicy"] == "Never"
    command = shlex.split(container_command(grade))
    assert command[command.index("--shard") + 1] == "auto"
    assert int(command[command.index("--shard-count") + 1]) == spec["completions"] >= spec["parallelism"] >= 1
    out = command[command.index("--out") + 1]
    assert out.endswith("/${JOB_COMPLETION_INDEX}")
    assert f"{out.rsplit('/', 1)[0]}/*" in container_command(merge)
    claims = [j["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] for j in (grade, merge)]
    assert claims[0] == claims[1]


# --- shard by shard, then merge, equals one run ---------------------------------------------

@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> tuple[Path, str]:
    """Six submissions with different grades, and the gradebook of one unsharded run."""
    root = tmp_path_factory.mktemp("scale")
    subs = root / "subs"
    for name in ("ann", "ben", "cat"):
        reference_submission(subs / name)
    with_replacements(subs / "dan", "clipping", ("if total_norm > max_norm else 1.0", ""))
    with_replacements(subs / "eve", "schedules", ("step / warmup_steps", "(step + 1) / warmup_steps"))
    (subs / "fay").mkdir()
    for module in paths.MODULES:
        shutil.copy(paths.EXERCISES / f"{module}.py", subs / "fay" / f"{module}.py")
    done = run_cli("grade", str(subs), "--out", str(root / "whole"), "--quiet", "--jobs", "2",
                   env=scheduler_free_env())
    assert done.returncode == 0, done.stderr
    whole = (root / "whole" / "grades.csv").read_text()
    assert whole.count("\n") == 7 and len({line.split(",", 1)[1] for line in whole.splitlines()[1:]}) >= 3
    return subs, whole


@pytest.mark.slow
@pytest.mark.parametrize("first", [0, 1])
def test_the_slurm_script_run_task_by_task_then_merged_equals_one_run(klass, tmp_path, first):
    subs, whole = klass
    fake = tmp_path / "bin" / "sbatch"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\n{ echo CALL; for a in "$@"; do printf "%s\\n" "$a"; done; } >> "$FAKE_SBATCH_LOG"\n')
    fake.chmod(0o755)
    out, log = tmp_path / "out", tmp_path / "sbatch.log"
    count = 3
    for task in range(first, first + count):
        env = scheduler_free_env(**slurm(task, first, count), SLURM_ARRAY_JOB_ID="4242",
                                 SLURM_SUBMIT_DIR=str(paths.REPO), SLURM_CPUS_PER_TASK="1",
                                 PYTHON=sys.executable, SBATCH=str(fake), FAKE_SBATCH_LOG=str(log))
        done = subprocess.run(["bash", str(SLURM_SCRIPT), str(subs), str(out)], capture_output=True,
                              text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr
        assert log.exists()  # the first task submitted the merge job
    graded = sorted(p.parent.name for p in out.glob("shards/*/*/results.json"))
    assert graded == sorted(p.name for p in subs.iterdir())  # disjoint and complete
    submitted = log.read_text().splitlines()
    assert submitted.count("CALL") == 1
    assert "--dependency=afterok:4242" in submitted
    (wrap,) = [a.removeprefix("--wrap=") for a in submitted if a.startswith("--wrap=")]
    done = subprocess.run(["sh", "-c", wrap], cwd=paths.REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (out / "grades.csv").read_text() == whole


@pytest.mark.slow
def test_the_kubernetes_jobs_run_index_by_index_then_merged_equal_one_run(klass, tmp_path):
    subs, whole = klass
    data = tmp_path / "data"
    shutil.copytree(subs, data / "submissions")
    grade, merge = load_job(GRADE_JOB), load_job(MERGE_JOB)
    for index in range(grade["spec"]["completions"]):
        script = container_command(grade).replace("/data/", f"{data}/").replace("exec python", "exec \"$PYTHON\"")
        done = subprocess.run(["sh", "-c", script], cwd=paths.REPO, capture_output=True, text=True, timeout=600,
                              env=scheduler_free_env(JOB_COMPLETION_INDEX=str(index), PYTHON=sys.executable))
        assert done.returncode == 0, done.stderr
    script = container_command(merge).replace("/data/", f"{data}/").replace("exec python", "exec \"$PYTHON\"")
    done = subprocess.run(["sh", "-c", script], cwd=paths.REPO, capture_output=True, text=True, timeout=120,
                          env=scheduler_free_env(PYTHON=sys.executable))
    assert done.returncode == 0, done.stderr
    assert (data / "out" / "grades.csv").read_text() == whole


@pytest.mark.slow
def test_the_scaling_benchmark_runs():
    done = subprocess.run([sys.executable, "benchmarks/scaling.py", "--n", "3", "--shards", "2", "--singles", "1"],
                          cwd=paths.REPO, capture_output=True, text=True, timeout=600, env=scheduler_free_env())
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith(("one machine", "Gradescope", "cluster"))]
    assert len(rows) == 4
    for row in rows:
        wall, cpu, per_core = (float(v) for v in row[44:].split()[:3])
        assert wall > 0 and cpu > 0 and per_core > 0
