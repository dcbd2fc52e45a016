"""``grade --shard auto``: the shard K of N from a cluster scheduler's environment.

- **Slurm job array** (``sbatch --array=A-B[:S]``): ``SLURM_ARRAY_TASK_ID``,
  ``SLURM_ARRAY_TASK_MIN`` (ids may start at 0, 1 or anything), ``SLURM_ARRAY_TASK_STEP``
  (1 when unset) and ``SLURM_ARRAY_TASK_COUNT``: ``K = (ID - MIN) / STEP + 1``,
  ``N = COUNT``. A ``--shard-count`` given as well must equal ``COUNT``.
- **Kubernetes Indexed Job**: ``JOB_COMPLETION_INDEX`` (0-based) and the Job's
  ``completions``, passed as ``--shard-count``: ``K = INDEX + 1``.

Anything missing, malformed or inconsistent is a :class:`ShardError`, whose message fits on
one line.
"""
from __future__ import annotations

from collections.abc import Mapping

SLURM_ID = "SLURM_ARRAY_TASK_ID"
SLURM_MIN = "SLURM_ARRAY_TASK_MIN"
SLURM_MAX = "SLURM_ARRAY_TASK_MAX"
SLURM_STEP = "SLURM_ARRAY_TASK_STEP"
SLURM_COUNT = "SLURM_ARRAY_TASK_COUNT"
K8S_INDEX = "JOB_COMPLETION_INDEX"


class ShardError(ValueError):
    """The scheduler's variables do not name one shard."""


def _integer(env: Mapping[str, str], name: str) -> int:
    value = env.get(name)
    if value is None or value.strip() == "":
        raise ShardError(f"--shard auto: {name} is not set")
    try:
        return int(value)
    except ValueError:
        raise ShardError(f"--shard auto: {name}={value!r} is not an integer") from None


def _slurm(env: Mapping[str, str], count: int | None) -> tuple[int, int]:
    task, first, total = _integer(env, SLURM_ID), _integer(env, SLURM_MIN), _integer(env, SLURM_COUNT)
    step = _integer(env, SLURM_STEP) if env.get(SLURM_STEP, "").strip() else 1
    if total < 1 or step < 1:
        raise ShardError(f"--shard auto: {SLURM_COUNT}={total} and {SLURM_STEP}={step} must be at least 1")
    offset = task - first
    if offset < 0 or offset % step:
        raise ShardError(f"--shard auto: {SLURM_ID}={task} is not on the array {first}, {first + step}, ... "
                         f"({SLURM_MIN}={first}, {SLURM_STEP}={step})")
    index = offset // step + 1
    if env.get(SLURM_MAX, "").strip():
        last = _integer(env, SLURM_MAX)
        if (last - first) // step + 1 != total:
            raise ShardError(f"--shard auto: the array {first}-{last}:{step} does not have {SLURM_COUNT}={total} "
                             "tasks (use a range, not a list, for --array)")
    if index > total:
        raise ShardError(f"--shard auto: {SLURM_ID}={task} is task {index} of an array of {SLURM_COUNT}={total}")
    if count is not None and count != total:
        raise ShardError(f"--shard auto: --shard-count {count} differs from {SLURM_COUNT}={total}")
    return index, total


def _kubernetes(env: Mapping[str, str], count: int | None) -> tuple[int, int]:
    index = _integer(env, K8S_INDEX)
    if count is None:
        raise ShardError(f"--shard auto: {K8S_INDEX} is set; pass the Job's completions as --shard-count N")
    if not 0 <= index < count:
        raise ShardError(f"--shard auto: {K8S_INDEX}={index} is outside 0..{count - 1} (--shard-count {count})")
    return index + 1, count


def shard_from_env(env: Mapping[str, str], count: int | None = None) -> tuple[int, int]:
    """The 1-based shard ``(K, N)`` named by a Slurm array's or a Kubernetes Indexed Job's
    variables in ``env``; ``count`` is ``--shard-count`` (required under Kubernetes).

    >>> shard_from_env({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "4"})
    (1, 4)
    >>> shard_from_env({"JOB_COMPLETION_INDEX": "3"}, count=4)
    (4, 4)
    """
    if count is not None and count < 1:
        raise ShardError(f"--shard-count must be at least 1, got {count}")
    slurm, kubernetes = SLURM_ID in env, K8S_INDEX in env
    if slurm and kubernetes:
        raise ShardError(f"--shard auto: both {SLURM_ID} and {K8S_INDEX} are set; unset the one that does not apply")
    if slurm:
        return _slurm(env, count)
    if kubernetes:
        return _kubernetes(env, count)
    raise ShardError(f"--shard auto: neither {SLURM_ID} (a Slurm array) nor {K8S_INDEX} "
                     "(a Kubernetes Indexed Job) is set; use --shard K/N elsewhere")
