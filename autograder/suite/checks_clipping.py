"""Checks for ``clipping.py``: the global norm, clipping by value and by global norm."""
from __future__ import annotations

import math

import numpy as np

from .inputs import gradients
from .registry import check

INF = math.inf
NORM_TYPE = ("norm_type", "norm", "p")
BOUNDS = ("min_val", "max_val", "min", "max")
MAX_NORM = ("max_norm", "norm")
NON_FINITE = ("grads", "grad", "norm", "nan", "inf", "finite", "diverge")


@check("global_norm", share=5, main=True)
def global_norm_matches_reference(rng, ref):
    """global_norm over several arrays of different shapes, for p = 2, 1, 3 and inf."""
    grads = gradients(rng, int(rng.integers(3, 6)))
    return [ref.value("global_norm", grads), ref.value("global_norm", grads, 1.0),
            ref.value("global_norm", grads, 3.0), ref.value("global_norm", grads, INF),
            ref.value("global_norm", [-g for g in grads], INF)]


@check("global_norm", share=1, visible=True)
def global_norm_edge_cases(rng, ref):
    """global_norm of an empty list is 0.0; a tuple works like a list."""
    grads = gradients(rng, 3)
    return [ref.value("global_norm", []), ref.value("global_norm", tuple(grads))]


@check("global_norm", share=1, visible=True)
def global_norm_rejects_small_p(rng, ref):
    """global_norm raises ValueError for norm_type < 1."""
    return [ref.raises("global_norm", gradients(rng, 2), 0.5, names=NORM_TYPE),
            ref.raises("global_norm", gradients(rng, 2), 0.0, names=NORM_TYPE)]


@check("global_norm", share=1, visible=True)
def global_norm_worked_value(rng, ref):
    """global_norm([[3, 0], [0, 4]]) == 5.0 (and 4.0 for norm_type=inf)."""
    grads = [np.array([3.0, 0.0]), np.array([0.0, 4.0])]
    return [ref.value("global_norm", grads), ref.value("global_norm", grads, INF)]


@check("clip_by_value", share=5, main=True)
def clip_by_value_matches_reference(rng, ref):
    """clip_by_value with random asymmetric bounds on several arrays."""
    grads = gradients(rng, 4)
    low, high = sorted(rng.uniform(-3, 3, 2))
    return [ref.value("clip_by_value", grads, float(low), float(high)),
            ref.value("clip_by_value", grads, -float(rng.uniform(4, 8)), float(rng.uniform(0.1, 1)))]


@check("clip_by_value", share=1, visible=True)
def clip_by_value_rejects_inverted_bounds(rng, ref):
    """clip_by_value raises ValueError when min_val > max_val."""
    return [ref.raises("clip_by_value", gradients(rng, 2), 1.0, -1.0, names=BOUNDS)]


@check("clip_by_value", share=0.5)
def clip_by_value_output_contract(rng, ref):
    """clip_by_value returns a list of new float64 arrays and leaves the gradients alone."""
    grads = gradients(rng, 3)
    return [ref.plain("clip_by_value", grads, -1.0, 1.0), ref.unmodified("clip_by_value", grads, -1.0, 1.0),
            ref.value("clip_by_value", tuple(grads), -1.0, 1.0)]


@check("clip_by_value", share=1, visible=True)
def clip_by_value_small_example(rng, ref):
    """clip_by_value([[10, -0.5], [[-3]]], -1, 1) == [[1, -0.5], [[-1]]]."""
    return [ref.value("clip_by_value", [np.array([10.0, -0.5]), np.array([[-3.0]])], -1.0, 1.0)]


@check("clip_by_norm", share=5, main=True)
def clip_by_norm_matches_reference(rng, ref):
    """clip_by_norm above the threshold for p = 2, 1 and inf: one shared factor, norm before clipping."""
    grads = gradients(rng, int(rng.integers(3, 6)))
    total = ref("global_norm", grads)
    return [ref.value("clip_by_norm", grads, float(total * rng.uniform(0.1, 0.5))),
            ref.value("clip_by_norm", grads, float(rng.uniform(0.5, 1.0)), 1.0),
            ref.value("clip_by_norm", grads, float(rng.uniform(0.5, 1.0)), INF)]


@check("clip_by_norm", share=2)
def clip_by_norm_below_threshold(rng, ref):
    """clip_by_norm leaves gradients whose norm is at or below max_norm unchanged."""
    grads = gradients(rng, 3)
    total = ref("global_norm", grads)
    return [ref.value("clip_by_norm", grads, float(total * rng.uniform(1.5, 3.0))),
            ref.value("clip_by_norm", grads, float(total))]


@check("clip_by_norm", share=1, visible=True)
def clip_by_norm_rejects_bad_input(rng, ref):
    """clip_by_norm raises ValueError for max_norm <= 0 and for NaN or infinite gradients."""
    grads = gradients(rng, 2)
    nan = [g.copy() for g in grads]
    nan[1].flat[0] = np.nan
    inf = [g.copy() for g in grads]
    inf[0].flat[-1] = np.inf
    return [ref.raises("clip_by_norm", grads, 0.0, names=MAX_NORM), ref.raises("clip_by_norm", grads, -1.0, names=MAX_NORM),
            ref.raises("clip_by_norm", nan, 1.0, names=NON_FINITE), ref.raises("clip_by_norm", inf, 1.0, names=NON_FINITE)]


@check("clip_by_norm", share=0.5)
def clip_by_norm_output_contract(rng, ref):
    """clip_by_norm returns new float64 arrays and a float, and leaves the gradients alone."""
    grads = gradients(rng, 3)
    return [ref.plain("clip_by_norm", grads, 0.5), ref.unmodified("clip_by_norm", grads, 0.5)]


@check("clip_by_norm", share=1, visible=True)
def clip_by_norm_worked_example(rng, ref):
    """clip_by_norm([[3, 0], [0, 4]], 1.0) -> ([[0.6, 0], [0, 0.8]], 5.0)."""
    # The second example tells clipping each array by its own norm (which shrinks these
    # arrays) from clipping each entry by value (which leaves them alone): on the first
    # one both give [[1, 0], [0, 1]].
    return [ref.value("clip_by_norm", [np.array([3.0, 0.0]), np.array([0.0, 4.0])], 1.0),
            ref.value("clip_by_norm", [np.array([0.6, 0.6]), np.array([0.5, 0.5])], 0.8)]
