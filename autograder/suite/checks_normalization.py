"""Checks for ``normalization.py``: the four norms, two backward passes and ``BatchNorm``."""
from __future__ import annotations

import numpy as np

from .inputs import activations, distinct_sizes, positive, tiny
from .registry import check

SINGLE_VALUE = ("x", "feature", "channel", "value", "batch", "sample")
GROUPS = ("num_groups", "group")


def _params(rng, channels):
    return positive(rng, channels), rng.normal(0.0, 1.0, channels)


# --- batch_norm ----------------------------------------------------------------------------

@check("batch_norm", share=5, main=True)
def batch_norm_matches_reference(rng, ref):
    """batch_norm on random 2-D, 3-D and 4-D inputs (N != D != C), with per-feature gamma and beta."""
    n, d = distinct_sizes(rng, 2, 3, 9)
    n3, c3, length = distinct_sizes(rng, 3, 2, 7)
    n4, c4, h, w = distinct_sizes(rng, 4, 2, 6)
    return [
        ref.value("batch_norm", activations(rng, (n, d)), *_params(rng, d)),
        ref.value("batch_norm", activations(rng, (n3, c3, length)), *_params(rng, c3)),
        ref.value("batch_norm", activations(rng, (n4, c4, h, w)), *_params(rng, c4)),
        ref.value("batch_norm", activations(rng, (n, d))),
    ]


@check("batch_norm", share=1)
def batch_norm_eps_matters(rng, ref):
    """batch_norm on tiny-variance and constant features, where eps decides the output."""
    n, d = distinct_sizes(rng, 2, 3, 9)
    constant = np.full((n, d), float(rng.uniform(-3, 3)))
    return [ref.value("batch_norm", tiny(rng, (n, d))),
            ref.value("batch_norm", constant, *_params(rng, d)),
            ref.value("batch_norm", tiny(rng, (n, d)), eps=1e-3)]


@check("batch_norm", share=1, visible=True)
def batch_norm_single_value_raises(rng, ref):
    """batch_norm raises ValueError when a feature has a single value."""
    d = int(rng.integers(2, 6))
    return [ref.raises("batch_norm", rng.normal(size=(1, d)), names=SINGLE_VALUE),
            ref.raises("batch_norm", rng.normal(size=(1, d, 1, 1)), names=SINGLE_VALUE)]


@check("batch_norm", share=0.5)
def batch_norm_output_contract(rng, ref):
    """batch_norm returns a new float64 ndarray (from int and float32 input) and leaves x alone."""
    n, d = distinct_sizes(rng, 2, 3, 9)
    x = activations(rng, (n, d))
    return [ref.plain("batch_norm", rng.integers(-5, 5, size=(n, d))),
            ref.value("batch_norm", x.astype(np.float32)),
            ref.plain("batch_norm", x.astype(np.float32)),
            ref.unmodified("batch_norm", x, *_params(rng, d))]


@check("batch_norm", share=1, visible=True)
def batch_norm_small_example(rng, ref):
    """batch_norm on a small fixed (4, 3) input, with and without gamma and beta."""
    x = np.array([[1.0, 2.0, -1.0], [3.0, 6.0, 0.0], [5.0, 4.0, 1.0], [7.0, 0.0, 2.0]])
    return [ref.value("batch_norm", x),
            ref.value("batch_norm", x, np.array([1.0, 2.0, 0.5]), np.array([0.0, 1.0, -1.0]))]


# --- layer_norm ----------------------------------------------------------------------------

@check("layer_norm", share=5, main=True)
def layer_norm_matches_reference(rng, ref):
    """layer_norm over the last axis of random 2-D, 3-D and 4-D inputs, with gamma and beta."""
    n, d = distinct_sizes(rng, 2, 3, 9)
    b, t, d3 = distinct_sizes(rng, 3, 2, 7)
    shape4 = tuple(distinct_sizes(rng, 4, 2, 6))
    return [
        ref.value("layer_norm", activations(rng, (n, d), axis=1), *_params(rng, d)),
        ref.value("layer_norm", activations(rng, (b, t, d3), axis=2), *_params(rng, d3)),
        ref.value("layer_norm", activations(rng, shape4, axis=3), *_params(rng, shape4[-1])),
        ref.value("layer_norm", activations(rng, (n, d), axis=0)),
    ]


@check("layer_norm", share=1)
def layer_norm_eps_matters(rng, ref):
    """layer_norm on tiny-variance and constant rows, where eps decides the output."""
    n, d = distinct_sizes(rng, 2, 3, 9)
    constant = np.repeat(rng.uniform(-3, 3, (n, 1)), d, axis=1)
    return [ref.value("layer_norm", tiny(rng, (n, d))),
            ref.value("layer_norm", constant, *_params(rng, d))]


@check("layer_norm", share=0.5, visible=True)
def layer_norm_output_contract(rng, ref):
    """layer_norm returns a new float64 ndarray and leaves x alone."""
    n, d = distinct_sizes(rng, 2, 3, 9)
    x = activations(rng, (n, d))
    return [ref.plain("layer_norm", rng.integers(-5, 5, size=(n, d))),
            ref.unmodified("layer_norm", x, *_params(rng, d))]


@check("layer_norm", share=1, visible=True)
def layer_norm_small_example(rng, ref):
    """layer_norm on a small fixed (2, 4) input and on a (2, 2, 3) sequence."""
    x = np.array([[1.0, 2.0, 3.0, 6.0], [-2.0, 0.0, 2.0, 4.0]])
    seq = np.arange(12.0).reshape(2, 2, 3) ** 1.5
    return [ref.value("layer_norm", x),
            ref.value("layer_norm", seq, np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.0, -0.5]))]


# --- group_norm ----------------------------------------------------------------------------

@check("group_norm", share=5, main=True)
def group_norm_matches_reference(rng, ref):
    """group_norm with contiguous groups on 2-D, 3-D and 4-D inputs, G = 1, C/2 and C."""
    n, length = distinct_sizes(rng, 2, 2, 6)
    c = int(rng.choice([6, 8, 10]))
    h, w = distinct_sizes(rng, 2, 2, 5)
    probes = [ref.value("group_norm", activations(rng, (n, c, length)), c // 2, *_params(rng, c)),
              ref.value("group_norm", activations(rng, (n, c, h, w)), 2, *_params(rng, c)),
              ref.value("group_norm", activations(rng, (n, c, h, w)), 1),
              ref.value("group_norm", activations(rng, (n, c, length)), c),
              ref.value("group_norm", activations(rng, (n, c)), 2, *_params(rng, c))]
    return probes


@check("group_norm", share=1, visible=True)
def group_norm_invalid_groups_raise(rng, ref):
    """group_norm raises ValueError when C is not divisible by num_groups, or num_groups < 1."""
    c = int(rng.choice([6, 10]))
    x = rng.normal(size=(2, c, 3))
    return [ref.raises("group_norm", x, 4, names=GROUPS), ref.raises("group_norm", x, 0, names=GROUPS)]


@check("group_norm", share=1)
def group_norm_eps_matters(rng, ref):
    """group_norm on tiny-variance groups, where eps decides the output."""
    return [ref.value("group_norm", tiny(rng, (3, 4, 5)), 2)]


@check("group_norm", share=0.5)
def group_norm_output_contract(rng, ref):
    """group_norm returns a new float64 ndarray and leaves x alone."""
    x = activations(rng, (3, 4, 5))
    return [ref.plain("group_norm", rng.integers(-5, 5, size=(3, 4, 5)), 2),
            ref.unmodified("group_norm", x, 2, *_params(rng, 4))]


@check("group_norm", share=1, visible=True)
def group_norm_small_example(rng, ref):
    """group_norm on a fixed (1, 4) input with 2 groups and on a (2, 4, 3) input."""
    x = np.arange(24.0).reshape(2, 4, 3) ** 1.3
    return [ref.value("group_norm", np.array([[1.0, 3.0, 10.0, 30.0]]), 2),
            ref.value("group_norm", x, 2)]


# --- rms_norm ------------------------------------------------------------------------------

@check("rms_norm", share=5, main=True)
def rms_norm_matches_reference(rng, ref):
    """rms_norm over the last axis of random 2-D and 3-D inputs with a nonzero mean."""
    n, d = distinct_sizes(rng, 2, 3, 9)
    b, t, d3 = distinct_sizes(rng, 3, 2, 7)
    return [ref.value("rms_norm", activations(rng, (n, d), axis=1) + 1.0, positive(rng, d)),
            ref.value("rms_norm", activations(rng, (b, t, d3), axis=2) + 1.0, positive(rng, d3)),
            ref.value("rms_norm", activations(rng, (n, d), axis=0) + 1.0)]


@check("rms_norm", share=1)
def rms_norm_eps_matters(rng, ref):
    """rms_norm on tiny inputs, where eps inside the square root decides the output."""
    n, d = distinct_sizes(rng, 2, 3, 9)
    return [ref.value("rms_norm", 1e-3 * rng.standard_normal((n, d))),
            ref.value("rms_norm", np.zeros((2, d)))]


@check("rms_norm", share=0.5, visible=True)
def rms_norm_output_contract(rng, ref):
    """rms_norm returns a new float64 ndarray and leaves x alone."""
    x = activations(rng, (4, 5))
    return [ref.plain("rms_norm", rng.integers(-5, 5, size=(4, 5))), ref.unmodified("rms_norm", x, positive(rng, 5))]


@check("rms_norm", share=1, visible=True)
def rms_norm_small_example(rng, ref):
    """rms_norm on fixed inputs: [[3, 4]] with eps=0, and a (2, 3) input with gamma."""
    return [ref.value("rms_norm", np.array([[3.0, 4.0]]), eps=0.0),
            ref.value("rms_norm", np.array([[1.0, 2.0, 2.0], [0.5, -1.0, 4.0]]), np.array([1.0, 0.5, 2.0]))]


# --- backward passes -----------------------------------------------------------------------

def _backward_probes(rng, ref, function):
    probes = []
    for low, high in ((3, 9), (2, 6)):
        n, d = distinct_sizes(rng, 2, low, high)
        x = activations(rng, (n, d), axis=1 if function == "batch_norm_backward" else 0)
        probes.append(ref.value(function, rng.standard_normal((n, d)), x, positive(rng, d)))
    return probes


@check("batch_norm_backward", share=5, main=True)
def batch_norm_backward_matches_reference(rng, ref):
    """batch_norm_backward: (dx, dgamma, dbeta) on random (N, D) inputs with N != D."""
    return _backward_probes(rng, ref, "batch_norm_backward")


@check("batch_norm_backward", share=0.5, visible=True)
def batch_norm_backward_output_contract(rng, ref):
    """batch_norm_backward returns three float64 ndarrays and leaves its inputs alone."""
    args = (rng.standard_normal((5, 3)), activations(rng, (5, 3)), positive(rng, 3))
    return [ref.plain("batch_norm_backward", *args), ref.unmodified("batch_norm_backward", *args)]


@check("batch_norm_backward", share=1, visible=True)
def batch_norm_backward_small_example(rng, ref):
    """batch_norm_backward on a fixed (3, 2) input."""
    x = np.array([[1.0, 0.0], [2.0, 4.0], [6.0, 2.0]])
    dout = np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]])
    return [ref.value("batch_norm_backward", dout, x, np.array([1.0, 2.0]))]


@check("layer_norm_backward", share=5, main=True)
def layer_norm_backward_matches_reference(rng, ref):
    """layer_norm_backward: (dx, dgamma, dbeta) on random (N, D) inputs with N != D."""
    return _backward_probes(rng, ref, "layer_norm_backward")


@check("layer_norm_backward", share=0.5, visible=True)
def layer_norm_backward_output_contract(rng, ref):
    """layer_norm_backward returns three float64 ndarrays and leaves its inputs alone."""
    args = (rng.standard_normal((5, 3)), activations(rng, (5, 3)), positive(rng, 3))
    return [ref.plain("layer_norm_backward", *args), ref.unmodified("layer_norm_backward", *args)]


@check("layer_norm_backward", share=1, visible=True)
def layer_norm_backward_small_example(rng, ref):
    """layer_norm_backward on a fixed (2, 3) input."""
    x = np.array([[1.0, 0.0, 2.0], [2.0, 4.0, -1.0]])
    dout = np.array([[1.0, -1.0, 0.5], [0.5, 2.0, 0.0]])
    return [ref.value("layer_norm_backward", dout, x, np.array([1.0, 2.0, 0.5]))]


# --- BatchNorm -----------------------------------------------------------------------------

def _training_steps(rng, shapes, features):
    gamma, beta = _params(rng, features)
    steps = [["set", "gamma", gamma], ["set", "beta", beta]]
    for shape in shapes:
        steps += [["call", [activations(rng, shape)]], ["get", "running_mean"], ["get", "running_var"]]
    return steps


@check("BatchNorm", share=4, main=True)
def batchnorm_running_statistics(rng, ref):
    """BatchNorm in training: outputs and running_mean/running_var over three steps."""
    n1, n2, d = distinct_sizes(rng, 3, 3, 9)
    momentum = float(rng.uniform(0.05, 0.4))
    steps = _training_steps(rng, [(n1, d), (n2, d), (n1, d)], d)
    return [ref.session("BatchNorm", {"num_features": d, "momentum": momentum}, steps)]


@check("BatchNorm", share=2, main=True)
def batchnorm_spatial_inputs(rng, ref):
    """BatchNorm on (N, C, H, W) inputs: per-channel statistics over batch and space."""
    n, c, h, w = distinct_sizes(rng, 4, 2, 6)
    steps = _training_steps(rng, [(n, c, h, w), (n + 1, c, h, w)], c)
    return [ref.session("BatchNorm", {"num_features": c}, steps)]


@check("BatchNorm", share=2)
def batchnorm_eval_mode(rng, ref):
    """BatchNorm.eval() normalizes with the running statistics and leaves them untouched."""
    n, d = distinct_sizes(rng, 2, 3, 9)
    steps = _training_steps(rng, [(n, d), (n, d)], d)
    steps += [["method", "eval"], ["call", [activations(rng, (n, d))]], ["call", [activations(rng, (1, d))]],
              ["get", "running_mean"], ["get", "running_var"],
              ["method", "train"], ["call", [activations(rng, (n, d))]], ["get", "running_mean"]]
    return [ref.session("BatchNorm", {"num_features": d, "momentum": 0.2}, steps)]


@check("BatchNorm", share=1, visible=True)
def batchnorm_initial_state(rng, ref):
    """A new BatchNorm has gamma = 1, beta = 0, running_mean = 0, running_var = 1."""
    d = int(rng.integers(3, 9))
    steps = [["get", name] for name in ("gamma", "beta", "running_mean", "running_var")]
    return [ref.session("BatchNorm", {"num_features": d}, steps)]


@check("BatchNorm", share=1, visible=True)
def batchnorm_small_example(rng, ref):
    """BatchNorm(1): one training step on [[1], [3]], then eval on [[2]]."""
    steps = [["call", [np.array([[1.0], [3.0]])]], ["get", "running_mean"], ["get", "running_var"],
             ["method", "eval"], ["call", [np.array([[2.0]])]]]
    return [ref.session("BatchNorm", {"num_features": 1}, steps)]
