"""Learning-rate warmup and schedules.

``step`` counts the optimizer updates already taken: 0 for the first update. Each function
returns the learning rate (a float) for that update, and a negative ``step`` raises
``ValueError``.
"""
from __future__ import annotations

import math


def linear_warmup(step, warmup_steps, base_lr) -> float:
    """Linear warmup from 0 to ``base_lr`` over ``warmup_steps`` updates, then constant.

    Formula: ``base_lr * step / warmup_steps`` while ``step < warmup_steps``, then ``base_lr``.
    Step 0 gives 0.0 (HuggingFace's ``get_linear_schedule_with_warmup`` convention);
    ``warmup_steps == 0`` gives ``base_lr`` at every step.

    Equivalent: ``torch.optim.lr_scheduler.LinearLR(start_factor≈0, total_iters=warmup_steps)``.

    >>> [linear_warmup(s, 4, 1.0) for s in (0, 1, 4, 9)]
    [0.0, 0.25, 1.0, 1.0]
    """
    # BEGIN SOLUTION
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if step < warmup_steps:
        return float(base_lr * step / warmup_steps)
    return float(base_lr)
    # END SOLUTION


def cosine_decay(step, total_steps, base_lr, min_lr=0.0) -> float:
    """Cosine annealing from ``base_lr`` to ``min_lr`` over ``total_steps``, then held.

    Formula: ``min_lr + (base_lr - min_lr) * (1 + cos(pi * t / total_steps)) / 2`` with
    ``t = min(step, total_steps)``. It reaches ``min_lr`` at ``total_steps`` and stays there
    (PyTorch's ``CosineAnnealingLR`` would climb back up after ``T_max``).

    Equivalent: ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=total_steps,
    eta_min=min_lr)`` up to ``total_steps``.

    >>> cosine_decay(5, 10, 1.0), cosine_decay(10, 10, 1.0, 0.1), cosine_decay(12, 10, 1.0, 0.1)
    (0.5, 0.1, 0.1)
    """
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    # BEGIN SOLUTION
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    t = min(step, total_steps)
    return float(min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2)
    # END SOLUTION


def warmup_cosine(step, warmup_steps, total_steps, base_lr, min_lr=0.0) -> float:
    """Linear warmup, then cosine decay to ``min_lr``: the usual Transformer recipe.

    Formula: ``linear_warmup(step, warmup_steps, base_lr)`` while ``step < warmup_steps``;
    then the cosine from ``base_lr`` to ``min_lr`` over the remaining
    ``total_steps - warmup_steps`` updates, counted from the end of warmup, and ``min_lr``
    after ``total_steps``. ``total_steps <= warmup_steps`` raises ``ValueError``.

    Equivalent: ``transformers.get_cosine_schedule_with_warmup`` (with ``min_lr`` added).

    >>> [round(warmup_cosine(s, 2, 6, 1.0), 3) for s in range(8)]
    [0.0, 0.5, 1.0, 0.854, 0.5, 0.146, 0.0, 0.0]
    """
    # BEGIN SOLUTION
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if total_steps <= warmup_steps:
        raise ValueError(f"total_steps ({total_steps}) must exceed warmup_steps ({warmup_steps})")
    if step < warmup_steps:
        return linear_warmup(step, warmup_steps, base_lr)
    return cosine_decay(step - warmup_steps, total_steps - warmup_steps, base_lr, min_lr)
    # END SOLUTION


def step_decay(step, base_lr, step_size, gamma=0.1) -> float:
    """Step decay: multiply the rate by ``gamma`` every ``step_size`` updates.

    Formula: ``base_lr * gamma ** (step // step_size)``; steps ``0 .. step_size - 1`` use
    ``base_lr``.

    Equivalent: ``torch.optim.lr_scheduler.StepLR(step_size, gamma)``.

    >>> [round(step_decay(s, 1.0, 3), 6) for s in (0, 2, 3, 6)]
    [1.0, 1.0, 0.1, 0.01]
    """
    if step_size < 1:
        raise ValueError(f"step_size must be >= 1, got {step_size}")
    # BEGIN SOLUTION
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    return float(base_lr * gamma ** (step // step_size))
    # END SOLUTION


def inverse_sqrt(step, warmup_steps, base_lr) -> float:
    """The Transformer schedule ("Attention Is All You Need"), scaled to peak at ``base_lr``.

    Formula: ``base_lr * min(step / warmup_steps, sqrt(warmup_steps / step))``: linear warmup
    to ``base_lr`` at ``step == warmup_steps``, then decay as ``1 / sqrt(step)``. Step 0
    gives 0.0.

    Equivalent: fairseq's ``inverse_sqrt`` scheduler.

    >>> [inverse_sqrt(s, 4, 1.0) for s in (0, 2, 4, 16)]
    [0.0, 0.5, 1.0, 0.5]
    """
    if warmup_steps < 1:
        raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps}")
    # BEGIN SOLUTION
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if step == 0:
        return 0.0
    return float(base_lr * min(step / warmup_steps, math.sqrt(warmup_steps / step)))
    # END SOLUTION
