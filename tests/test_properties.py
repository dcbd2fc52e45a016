"""Invariants of the reference solutions, checked by hypothesis on random inputs."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from strategies import feature_arrays, gradient_lists, norm_types, rates, steps

EPS = 1e-5


def expected_var(var: np.ndarray, eps: float = EPS) -> np.ndarray:
    """The variance of (x - mean) / sqrt(var + eps) is var / (var + eps), not exactly 1."""
    return var / (var + eps)


# --- normalized outputs have mean 0 and variance 1 on the right axes -----------------------

@given(feature_arrays())
def test_batch_norm_normalizes_each_feature(ref, x):
    axes = (0,) + tuple(range(2, x.ndim))
    y = ref.normalization.batch_norm(x)
    np.testing.assert_allclose(y.mean(axis=axes), 0.0, atol=1e-9)
    np.testing.assert_allclose(y.var(axis=axes), expected_var(x.var(axis=axes)), atol=1e-9)


@given(feature_arrays(min_dims=1))
def test_layer_norm_normalizes_each_sample(ref, x):
    y = ref.normalization.layer_norm(x)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-9)
    np.testing.assert_allclose(y.var(axis=-1), expected_var(x.var(axis=-1)), atol=1e-9)


@given(feature_arrays(min_dims=3), st.data())
def test_group_norm_normalizes_each_group(ref, x, data):
    c = x.shape[1]
    groups = data.draw(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))
    y = ref.normalization.group_norm(x, groups).reshape(x.shape[0], groups, -1)
    xg = x.reshape(x.shape[0], groups, -1)
    np.testing.assert_allclose(y.mean(axis=2), 0.0, atol=1e-9)
    np.testing.assert_allclose(y.var(axis=2), expected_var(xg.var(axis=2)), atol=1e-9)


@given(feature_arrays(min_dims=1))
def test_rms_norm_gives_unit_root_mean_square(ref, x):
    y = ref.normalization.rms_norm(x)
    ms = np.mean(x**2, axis=-1)
    np.testing.assert_allclose(np.mean(y**2, axis=-1), ms / (ms + 1e-6), atol=1e-9)


@given(feature_arrays(max_dims=2), st.floats(0.05, 0.9))
def test_batchnorm_layer_in_training_matches_batch_norm(ref, x, momentum):
    layer = ref.normalization.BatchNorm(x.shape[1], momentum=momentum)
    np.testing.assert_allclose(layer(x), ref.normalization.batch_norm(x), atol=1e-12)
    n = x.shape[0]
    np.testing.assert_allclose(layer.running_var, (1 - momentum) + momentum * x.var(axis=0) * n / (n - 1))


# --- backward passes agree with centred finite differences ---------------------------------

def numerical_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += h
        minus[index] -= h
        grad[index] = (f(plus) - f(minus)) / (2 * h)
    return grad


@settings(max_examples=25, deadline=None)
@pytest.mark.parametrize("norm", ["batch", "layer"])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5), d=st.integers(2, 5))
def test_backward_matches_finite_differences(ref, norm, seed, n, d):
    rng = np.random.default_rng(seed)
    x, dout = rng.normal(0, 2, (n, d)), rng.normal(size=(n, d))
    gamma, beta = rng.uniform(0.5, 2, d), rng.normal(size=d)
    forward = getattr(ref.normalization, f"{norm}_norm")
    backward = getattr(ref.normalization, f"{norm}_norm_backward")
    dx, dgamma, dbeta = backward(dout, x, gamma)

    def loss(x_=x, gamma_=gamma, beta_=beta):
        return float(np.sum(dout * forward(x_, gamma_, beta_)))

    np.testing.assert_allclose(dx, numerical_gradient(lambda v: loss(x_=v), x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dgamma, numerical_gradient(lambda v: loss(gamma_=v), gamma), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dbeta, numerical_gradient(lambda v: loss(beta_=v), beta), rtol=1e-5, atol=1e-6)


# --- clipping ------------------------------------------------------------------------------

@given(gradient_lists(), st.floats(0.01, 100.0), norm_types)
def test_clip_by_norm_bounds_the_norm_and_keeps_the_direction(ref, grads, max_norm, norm_type):
    clipped, total = ref.clipping.clip_by_norm(grads, max_norm, norm_type)
    assert total == ref.clipping.global_norm(grads, norm_type)
    assert ref.clipping.global_norm(clipped, norm_type) <= max_norm * (1 + 1e-12) or total <= max_norm
    flat, flat_clipped = np.concatenate([g.ravel() for g in grads]), np.concatenate([c.ravel() for c in clipped])
    assume(np.any(flat != 0))
    scale = flat_clipped[np.argmax(np.abs(flat))] / flat[np.argmax(np.abs(flat))]
    assert 0 < scale <= 1
    np.testing.assert_allclose(flat_clipped, scale * flat, rtol=1e-12, atol=1e-300)


@given(gradient_lists(), st.floats(-50, 50), st.floats(0, 50))
def test_clip_by_value_stays_in_bounds(ref, grads, low, width):
    for g, c in zip(grads, ref.clipping.clip_by_value(grads, low, low + width)):
        assert c.shape == g.shape and np.all((c >= low) & (c <= low + width))


@given(gradient_lists(), norm_types)
def test_global_norm_matches_numpy_norm_of_the_concatenation(ref, grads, norm_type):
    flat = np.concatenate([g.ravel() for g in grads])
    assert math.isclose(ref.clipping.global_norm(grads, norm_type), np.linalg.norm(flat, norm_type),
                        rel_tol=1e-12, abs_tol=1e-300)


# --- schedules -----------------------------------------------------------------------------

@given(st.integers(1, 500), rates)
def test_warmup_is_monotone_and_continuous_at_its_end(ref, warmup, lr):
    curve = [ref.schedules.linear_warmup(s, warmup, lr) for s in range(2 * warmup + 2)]
    assert all(b >= a for a, b in zip(curve, curve[1:]))
    increments = np.diff(curve[: warmup + 1])
    np.testing.assert_allclose(increments, lr / warmup, rtol=1e-9)  # no jump at the end
    assert curve[warmup:] == [lr] * (warmup + 2)
    full = [ref.schedules.warmup_cosine(s, warmup, 3 * warmup, lr) for s in range(warmup + 2)]
    assert full[:warmup] == curve[:warmup] and full[warmup] == lr


@given(steps, st.integers(1, 1000), rates, st.floats(0, 1))
def test_cosine_stays_between_min_and_base(ref, step, total, lr, fraction):
    low = lr * fraction
    value = ref.schedules.cosine_decay(step, total, lr, low)
    assert low - 1e-12 <= value <= lr + 1e-12
    if step >= total:
        assert math.isclose(value, low, abs_tol=1e-12)


@given(st.integers(1, 200), rates)
def test_inverse_sqrt_peaks_at_base_lr(ref, warmup, lr):
    curve = [ref.schedules.inverse_sqrt(s, warmup, lr) for s in range(3 * warmup)]
    assert max(curve) == pytest.approx(lr) and int(np.argmax(curve)) == warmup


# --- initialization statistics -------------------------------------------------------------

SHAPES = st.sampled_from([(200, 100), (100, 300), (32, 16, 3, 3), (8, 64, 5, 5)])


def sampling_tolerance(n: int) -> float:
    """Six standard errors of a sample std (1 / sqrt(2 n))."""
    return 6 / math.sqrt(2 * n)


@settings(max_examples=20, deadline=None)
@given(SHAPES, st.floats(0.5, 2.0), st.integers(0, 2**31))
def test_xavier_statistics(ref, shape, gain, seed):
    init = ref.initialization
    fan_in, fan_out = init.compute_fans(shape)
    std = gain * math.sqrt(2 / (fan_in + fan_out))
    for w, bound in ((init.xavier_normal(shape, gain, seed), None), (init.xavier_uniform(shape, gain, seed), std * math.sqrt(3))):
        assert w.shape == shape and w.dtype == np.float64
        assert abs(w.std() / std - 1) < sampling_tolerance(w.size)
        if bound is not None:
            assert np.abs(w).max() <= bound


@settings(max_examples=20, deadline=None)
@given(SHAPES, st.sampled_from(["fan_in", "fan_out"]), st.sampled_from(["relu", "tanh", "linear", "leaky_relu"]),
       st.integers(0, 2**31))
def test_he_statistics(ref, shape, mode, nonlinearity, seed):
    init = ref.initialization
    fan = init.compute_fans(shape)[0 if mode == "fan_in" else 1]
    std = init.calculate_gain(nonlinearity) / math.sqrt(fan)
    w = init.he_normal(shape, mode, nonlinearity, rng=seed)
    assert abs(w.std() / std - 1) < sampling_tolerance(w.size)
    u = init.he_uniform(shape, mode, nonlinearity, rng=seed)
    assert np.abs(u).max() <= std * math.sqrt(3) and abs(u.std() / std - 1) < sampling_tolerance(u.size)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.floats(0.1, 3.0), st.integers(0, 2**31))
def test_orthogonal_has_equal_singular_values(ref, rows, cols, gain, seed):
    w = ref.initialization.orthogonal((rows, cols), gain, seed)
    np.testing.assert_allclose(np.linalg.svd(w, compute_uv=False), gain, rtol=1e-10)


@given(st.integers(0, 2**31))
def test_same_seed_same_draws(ref, seed):
    for name in ("xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "orthogonal"):
        f = getattr(ref.initialization, name)
        assert np.array_equal(f((5, 4), rng=seed), f((5, 4), rng=np.random.default_rng(seed)))


# --- every ValueError of the contract, with the argument named -----------------------------

VALUE_ERRORS = [
    ("normalization", "batch_norm", (np.ones((1, 3)),), {}, "x"),
    ("normalization", "batch_norm", (np.ones((1, 3, 1)),), {}, "x"),
    ("normalization", "group_norm", (np.ones((2, 6, 3)), 4), {}, "num_groups"),
    ("normalization", "group_norm", (np.ones((2, 6, 3)), 0), {}, "num_groups"),
    ("initialization", "compute_fans", ((5,),), {}, "shape"),
    ("initialization", "calculate_gain", ("gelu",), {}, "nonlinearity"),
    ("initialization", "he_uniform", ((4, 4),), {"mode": "fan_avg"}, "mode"),
    ("initialization", "he_normal", ((4, 4),), {"mode": "avg"}, "mode"),
    ("initialization", "he_normal", ((4, 4),), {"nonlinearity": "gelu"}, "nonlinearity"),
    ("initialization", "orthogonal", ((4,),), {}, "shape"),
    ("clipping", "global_norm", ([np.ones(2)], 0.5), {}, "norm_type"),
    ("clipping", "clip_by_value", ([np.ones(2)], 1.0, 0.0), {}, "min_val"),
    ("clipping", "clip_by_norm", ([np.ones(2)], 0.0), {}, "max_norm"),
    ("clipping", "clip_by_norm", ([np.array([np.nan, 1.0])], 1.0), {}, "grads"),
    ("clipping", "clip_by_norm", ([np.array([np.inf])], 1.0), {}, "grads"),
    ("schedules", "linear_warmup", (-1, 4, 1.0), {}, "step"),
    ("schedules", "cosine_decay", (-1, 4, 1.0), {}, "step"),
    ("schedules", "warmup_cosine", (-1, 2, 4, 1.0), {}, "step"),
    ("schedules", "warmup_cosine", (0, 4, 4, 1.0), {}, "total_steps"),
    ("schedules", "step_decay", (-1, 1.0, 3), {}, "step"),
    ("schedules", "inverse_sqrt", (-1, 4, 1.0), {}, "step"),
]


@pytest.mark.parametrize("module, function, args, kwargs, argument", VALUE_ERRORS,
                         ids=[f"{e[1]}-{i}" for i, e in enumerate(VALUE_ERRORS)])
def test_contract_value_errors_name_the_argument(ref, module, function, args, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        getattr(getattr(ref, module), function)(*args, **kwargs)


def test_inputs_are_never_modified(ref):
    rng = np.random.default_rng(0)
    x, dout, gamma = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.uniform(1, 2, 3)
    grads = [rng.normal(size=3) * 10, rng.normal(size=(2, 2))]
    copies = [a.copy() for a in (x, dout, gamma, *grads)]
    norm = ref.normalization
    for f in (norm.batch_norm, norm.layer_norm, norm.rms_norm):
        f(x, gamma)
    norm.batch_norm_backward(dout, x, gamma)
    norm.layer_norm_backward(dout, x, gamma)
    ref.clipping.clip_by_norm(grads, 1.0)
    ref.clipping.clip_by_value(grads, -1, 1)
    for before, after in zip(copies, (x, dout, gamma, *grads)):
        assert np.array_equal(before, after)
