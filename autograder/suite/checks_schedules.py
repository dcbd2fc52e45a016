"""Checks for ``schedules.py``: every schedule over whole curves, at its boundaries
(step 0, the end of warmup, ``total_steps``, past the end) and with its errors."""
from __future__ import annotations

from .registry import check

STEP = ("step",)
LENGTHS = ("total_steps", "warmup_steps", "total", "warmup")


def _lr(rng) -> float:
    return float(rng.choice([1e-3, 3e-4, 0.1, 1.0]) * rng.uniform(0.5, 2.0))


@check("linear_warmup", share=5, main=True)
def linear_warmup_curve(rng, ref):
    """linear_warmup over steps 0 .. 2 * warmup_steps, with a random warmup length and rate."""
    warmup, lr = int(rng.integers(3, 40)), _lr(rng)
    return [ref.curve("linear_warmup", list(range(0, 2 * warmup + 1)), warmup, lr)]


@check("linear_warmup", share=1, visible=True)
def linear_warmup_without_warmup(rng, ref):
    """linear_warmup with warmup_steps = 0 gives base_lr from step 0."""
    return [ref.curve("linear_warmup", [0, 1, 5], 0, _lr(rng))]


@check("linear_warmup", share=1, visible=True)
def linear_warmup_rejects_negative_step(rng, ref):
    """linear_warmup raises ValueError for a negative step."""
    return [ref.raises("linear_warmup", -1, 10, 0.1, names=STEP)]


@check("linear_warmup", share=1, visible=True)
def linear_warmup_worked_values(rng, ref):
    """linear_warmup(0, 4, 1.0) = 0.0, (1, 4, 1.0) = 0.25, (4, 4, 1.0) = 1.0."""
    return [ref.curve("linear_warmup", [0, 1, 2, 3, 4, 5], 4, 1.0)]


@check("cosine_decay", share=5, main=True)
def cosine_decay_curve(rng, ref):
    """cosine_decay from step 0 to past total_steps, with random min_lr."""
    total, lr = int(rng.integers(10, 60)), _lr(rng)
    return [ref.curve("cosine_decay", list(range(0, total + 4)), total, lr, lr * float(rng.uniform(0.01, 0.2))),
            ref.curve("cosine_decay", [0, total // 3, total - 1, total, total + 7], total, lr)]


@check("cosine_decay", share=1, visible=True)
def cosine_decay_rejects_negative_step(rng, ref):
    """cosine_decay raises ValueError for a negative step."""
    return [ref.raises("cosine_decay", -3, 10, 0.1, names=STEP)]


@check("cosine_decay", share=1, visible=True)
def cosine_decay_worked_values(rng, ref):
    """cosine_decay(5, 10, 1.0) = 0.5; cosine_decay(10 or 12, 10, 1.0, 0.1) = 0.1."""
    # Over the whole range and past its end, so a plot shows the hold at min_lr.
    return [ref.curve("cosine_decay", [0, 5, 10], 10, 1.0), ref.curve("cosine_decay", list(range(14)), 10, 1.0, 0.1)]


@check("warmup_cosine", share=5, main=True)
def warmup_cosine_curve(rng, ref):
    """warmup_cosine over every step from 0 to past total_steps."""
    warmup = int(rng.integers(3, 15))
    total = warmup + int(rng.integers(10, 40))
    lr = _lr(rng)
    return [ref.curve("warmup_cosine", list(range(0, total + 4)), warmup, total, lr, lr * float(rng.uniform(0.0, 0.2)))]


@check("warmup_cosine", share=1)
def warmup_cosine_without_warmup(rng, ref):
    """warmup_cosine with warmup_steps = 0 is a plain cosine decay."""
    total = int(rng.integers(8, 30))
    return [ref.curve("warmup_cosine", [0, 1, total // 2, total, total + 1], 0, total, _lr(rng))]


@check("warmup_cosine", share=1, visible=True)
def warmup_cosine_rejects_bad_arguments(rng, ref):
    """warmup_cosine raises ValueError when total_steps <= warmup_steps or step < 0."""
    return [ref.raises("warmup_cosine", 0, 10, 10, 0.1, names=LENGTHS),
            ref.raises("warmup_cosine", 3, 10, 5, 0.1, names=LENGTHS),
            ref.raises("warmup_cosine", -1, 2, 10, 0.1, names=STEP)]


@check("warmup_cosine", share=1, visible=True)
def warmup_cosine_small_example(rng, ref):
    """warmup_cosine(step, 2, 6, 1.0) for steps 0..7: 0, 0.5, 1, 0.854, 0.5, 0.146, 0, 0."""
    return [ref.curve("warmup_cosine", list(range(8)), 2, 6, 1.0)]


@check("step_decay", share=5, main=True)
def step_decay_curve(rng, ref):
    """step_decay over several decay periods, with a random step_size and gamma."""
    size = int(rng.integers(2, 12))
    return [ref.curve("step_decay", list(range(0, 4 * size + 1)), _lr(rng), size, float(rng.uniform(0.2, 0.7)))]


@check("step_decay", share=1, visible=True)
def step_decay_rejects_negative_step(rng, ref):
    """step_decay raises ValueError for a negative step."""
    return [ref.raises("step_decay", -1, 0.1, 5, names=STEP)]


@check("step_decay", share=1, visible=True)
def step_decay_small_example(rng, ref):
    """step_decay(step, 1.0, 3) for steps 0..7: 1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01."""
    return [ref.curve("step_decay", list(range(8)), 1.0, 3)]


@check("inverse_sqrt", share=5, main=True)
def inverse_sqrt_curve(rng, ref):
    """inverse_sqrt from step 0 to 4 * warmup_steps, peaking at base_lr."""
    warmup, lr = int(rng.integers(3, 30)), _lr(rng)
    return [ref.curve("inverse_sqrt", list(range(0, 4 * warmup + 1)), warmup, lr)]


@check("inverse_sqrt", share=1, visible=True)
def inverse_sqrt_rejects_negative_step(rng, ref):
    """inverse_sqrt raises ValueError for a negative step."""
    return [ref.raises("inverse_sqrt", -2, 4, 0.1, names=STEP)]


@check("inverse_sqrt", share=1, visible=True)
def inverse_sqrt_worked_values(rng, ref):
    """inverse_sqrt(step, 4, 1.0) at 0, 2, 4, 16: 0.0, 0.5, 1.0, 0.5."""
    return [ref.curve("inverse_sqrt", list(range(17)), 4, 1.0)]
