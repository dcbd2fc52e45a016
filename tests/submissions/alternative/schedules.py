"""Correct, written differently: numpy scalars and functions, one helper for the cosine."""
import numpy as np


def _check(step):
    if step < 0:
        raise ValueError(f"negative step {step}")


def linear_warmup(step, warmup_steps, base_lr):
    _check(step)
    if warmup_steps == 0:
        return np.float64(base_lr)
    return np.float64(base_lr) * min(1.0, step / warmup_steps)


def _cosine(fraction, base_lr, min_lr):
    return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + np.cos(np.pi * min(fraction, 1.0)))


def cosine_decay(step, total_steps, base_lr, min_lr=0.0):
    _check(step)
    return _cosine(step / total_steps, base_lr, min_lr)


def warmup_cosine(step, warmup_steps, total_steps, base_lr, min_lr=0.0):
    _check(step)
    if total_steps <= warmup_steps:
        raise ValueError("total_steps must be greater than warmup_steps")
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    return _cosine((step - warmup_steps) / (total_steps - warmup_steps), base_lr, min_lr)


def step_decay(step, base_lr, step_size, gamma=0.1):
    _check(step)
    return base_lr * np.power(gamma, np.floor_divide(step, step_size))


def inverse_sqrt(step, warmup_steps, base_lr):
    _check(step)
    if step == 0:
        return 0.0
    return base_lr * (step / warmup_steps if step < warmup_steps else np.sqrt(warmup_steps) / np.sqrt(step))
