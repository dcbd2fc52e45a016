"""Gradient clipping: the global norm, clipping by value and clipping by global norm.

``grads`` is a list (or tuple) of arrays, one gradient per parameter. Inputs are never
modified: every function returns a new list of new float64 arrays.
"""
from __future__ import annotations

import math

import numpy as np


def global_norm(grads, norm_type=2.0) -> float:
    """The p-norm of every entry of every array, taken together as one long vector.

    Formula: ``(sum over arrays and entries of |g| ** p) ** (1 / p)`` with ``p = norm_type``;
    ``norm_type=inf`` gives the largest absolute entry. An empty list gives 0.0 and a
    ``norm_type`` below 1 (not a norm) raises ``ValueError``.

    Equivalent: the ``total_norm`` that ``torch.nn.utils.clip_grad_norm_`` returns;
    ``tf.linalg.global_norm`` for p = 2.

    >>> global_norm([np.array([3.0, 0.0]), np.array([0.0, 4.0])])
    5.0
    """
    # BEGIN SOLUTION
    if norm_type < 1:
        raise ValueError(f"norm_type must be >= 1, got {norm_type}")
    flat = np.concatenate([np.ravel(np.asarray(g, dtype=np.float64)) for g in grads] + [np.zeros(0)])
    if flat.size == 0:
        return 0.0
    return float(np.linalg.norm(flat, ord=norm_type))
    # END SOLUTION


def clip_by_value(grads, min_val, max_val) -> list[np.ndarray]:
    """Clip every entry of every gradient to ``[min_val, max_val]``.

    Each entry is treated alone, so the direction of the whole gradient can change: a
    gradient ``[10, 1]`` clipped to ``[-1, 1]`` becomes ``[1, 1]``. ``min_val > max_val``
    raises ``ValueError``.

    Equivalent: ``torch.nn.utils.clip_grad_value_`` (symmetric); ``tf.clip_by_value``.

    >>> clip_by_value([np.array([10.0, -0.5])], -1.0, 1.0)
    [array([ 1. , -0.5])]
    """
    # BEGIN SOLUTION
    if min_val > max_val:
        raise ValueError(f"min_val ({min_val}) must not exceed max_val ({max_val})")
    return [np.clip(np.asarray(g, dtype=np.float64), min_val, max_val) for g in grads]
    # END SOLUTION


def clip_by_norm(grads, max_norm, norm_type=2.0) -> tuple[list[np.ndarray], float]:
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    Returns ``(clipped, total_norm)``, where ``total_norm = global_norm(grads, norm_type)`` is
    measured **before** clipping (log it: it is the best early warning of divergence).

    Formula: when ``total_norm > max_norm`` every array is multiplied by the same factor
    ``max_norm / (total_norm + 1e-6)``, which keeps the direction of the whole update;
    otherwise the arrays come back unchanged (as copies). A non-finite ``total_norm`` raises
    ``ValueError`` (the step has already diverged), as does ``max_norm <= 0``.

    Equivalent: ``torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type,
    error_if_nonfinite=True)``; ``tf.clip_by_global_norm``.

    >>> clipped, total = clip_by_norm([np.array([3.0, 0.0]), np.array([0.0, 4.0])], 1.0)
    >>> total, [c.round(3).tolist() for c in clipped]
    (5.0, [[0.6, 0.0], [0.0, 0.8]])
    """
    # BEGIN SOLUTION
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    total_norm = global_norm(grads, norm_type)
    if not math.isfinite(total_norm):
        raise ValueError(f"grads have a non-finite norm ({total_norm}): the step has diverged")
    scale = max_norm / (total_norm + 1e-6) if total_norm > max_norm else 1.0
    return [np.asarray(g, dtype=np.float64) * scale for g in grads], total_norm
    # END SOLUTION
