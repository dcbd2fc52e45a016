"""How many points each graded function or class is worth. The total is 100.

This is the only place where points are set: the CLI's results, the gradebook, the
self-check table and the nbgrader notebooks all read it.
"""
from __future__ import annotations

#: Contract name -> (module, points).
WEIGHTS: dict[str, tuple[str, float]] = {
    "batch_norm": ("normalization", 8),
    "layer_norm": ("normalization", 6),
    "group_norm": ("normalization", 6),
    "rms_norm": ("normalization", 4),
    "batch_norm_backward": ("normalization", 6),
    "layer_norm_backward": ("normalization", 5),
    "BatchNorm": ("normalization", 7),
    "compute_fans": ("initialization", 3),
    "calculate_gain": ("initialization", 3),
    "xavier_uniform": ("initialization", 4),
    "xavier_normal": ("initialization", 4),
    "he_uniform": ("initialization", 4),
    "he_normal": ("initialization", 4),
    "orthogonal": ("initialization", 4),
    "global_norm": ("clipping", 4),
    "clip_by_value": ("clipping", 3),
    "clip_by_norm": ("clipping", 7),
    "linear_warmup": ("schedules", 4),
    "cosine_decay": ("schedules", 4),
    "warmup_cosine": ("schedules", 5),
    "step_decay": ("schedules", 2),
    "inverse_sqrt": ("schedules", 3),
}

TOTAL = 100


def module_of(function: str) -> str:
    return WEIGHTS[function][0]


def points_of(function: str) -> float:
    return WEIGHTS[function][1]


def functions_in(module: str) -> list[str]:
    return [name for name, (mod, _) in WEIGHTS.items() if mod == module]
