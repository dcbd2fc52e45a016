"""Correct, written differently: explicit sums, np.linalg.norm per array, numpy scalars."""
import numpy as np


def global_norm(grads, norm_type=2.0):
    if norm_type < 1:
        raise ValueError("norm_type must be at least 1")
    if len(grads) == 0:
        return 0.0
    if np.isinf(norm_type):
        return max(np.max(np.abs(g)) if np.size(g) else 0.0 for g in grads)
    if norm_type == 2:
        return np.sqrt(sum(np.sum(np.square(np.asarray(g, dtype=float))) for g in grads))
    per_array = [np.linalg.norm(np.ravel(g), ord=norm_type) for g in grads]
    return np.linalg.norm(np.array(per_array), ord=norm_type)


def clip_by_value(grads, min_val, max_val):
    if max_val < min_val:
        raise ValueError(f"min_val={min_val} is above max_val={max_val}")
    return [np.minimum(np.maximum(np.array(g, dtype=float), min_val), max_val) for g in grads]


def clip_by_norm(grads, max_norm, norm_type=2.0):
    if not max_norm > 0:
        raise ValueError("max_norm must be > 0")
    total = global_norm(grads, norm_type)
    if not np.isfinite(total):
        raise ValueError(f"grads contain inf or nan (norm {total})")
    factor = min(1.0, max_norm / (total + 1e-6))
    return [np.array(g, dtype=float) * factor for g in grads], total
