"""Random inputs shared by the checks: shapes with distinct sizes and data that separates
the catalogued mistakes.
"""
from __future__ import annotations

import numpy as np


def distinct_sizes(rng: np.random.Generator, count: int, low: int = 2, high: int = 9) -> list[int]:
    """``count`` different sizes in ``[low, high]``, so that a wrong axis changes the shape
    or the statistics (N != D != C)."""
    return [int(v) for v in rng.choice(np.arange(low, high + 1), size=count, replace=False)]


def activations(rng: np.random.Generator, shape: tuple, axis: int = 1) -> np.ndarray:
    """Normal data whose mean (within [-5, 5]) and scale (within [0.5, 3]) differ along
    ``axis``, as real pre-activations do; ``|mean| <= 5 * std`` keeps ``E[x**2] - E[x]**2``
    accurate to ~1e-13."""
    size = shape[axis]
    view = [1] * len(shape)
    view[axis] = size
    shift = rng.uniform(-2.5, 2.5, size).reshape(view)
    scale = rng.uniform(0.5, 3.0, size).reshape(view)
    return shift + scale * rng.standard_normal(shape)


def tiny(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Data with std ~1e-3, so var ~1e-6 is far below eps = 1e-5: eps dominates."""
    return 1e-3 * rng.standard_normal(shape) + rng.uniform(-1, 1)


def positive(rng: np.random.Generator, size: int) -> np.ndarray:
    """Per-channel scales away from 1 (so a missing gamma shows)."""
    return rng.uniform(0.5, 2.0, size)


def gradients(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """A list of gradient arrays of different shapes and very different norms."""
    shapes = [(int(rng.integers(2, 6)),), (int(rng.integers(2, 5)), int(rng.integers(2, 5))),
              (int(rng.integers(2, 4)), 3, 2), (int(rng.integers(3, 7)),)]
    scales = [0.1, 1.0, 5.0, 20.0]
    return [scales[i % 4] * rng.standard_normal(shapes[i % 4]) for i in range(count)]
