"""Checks for ``initialization.py``: fans, gains, Xavier, He and orthogonal.

Random initializers are judged by statistics of at least ``tolerances.MIN_SAMPLES`` draws, on
shapes whose fans differ by a factor of 4, so that every catalogued mistake (swapped fans,
the wrong fan, a missing gain or sqrt(3)) moves the std by 10% or more.
"""
from __future__ import annotations

import math

from ..runtime import tolerances
from ..runtime.protocol import Rng
from .inputs import distinct_sizes
from .registry import check

SHAPE = ("shape", "dimension", "dim", "ndim")


def _dense(rng) -> tuple[int, int]:
    """A dense shape with >= MIN_SAMPLES entries and fan_in = 4 fan_out or the reverse."""
    small = int(rng.integers(160, 200))
    big = 4 * small
    return (big, small) if rng.random() < 0.5 else (small, big)


def _conv(rng) -> tuple[int, int, int, int]:
    """A conv kernel (C_out, C_in, k, k) with C_out = 4 C_in and >= MIN_SAMPLES entries."""
    k = int(rng.choice([3, 5]))
    c_in = int(math.ceil(math.sqrt(tolerances.MIN_SAMPLES / (4 * k * k))))
    return (4 * c_in, c_in, k, k)


def _fans(ref, shape):
    return ref("compute_fans", shape)


def _determinism(ref, function, shape, seed, **kwargs):
    """Same seed -> same array (int or Generator); another seed -> another array."""
    first = ref.plain(function, shape, rng=seed, **kwargs)
    generator = ref.plain(function, shape, rng=Rng(seed + 7), **kwargs)
    return [first, ref.repeat(first, 0, same=True),
            ref.repeat(ref.plain(function, shape, rng=seed + 1, **kwargs), 0, same=False),
            generator, ref.repeat(generator, 3, same=True)]


# --- compute_fans and calculate_gain -------------------------------------------------------

@check("compute_fans", share=4, main=True)
def compute_fans_matches_reference(rng, ref):
    """compute_fans on random dense and 3-D, 4-D, 5-D convolution shapes."""
    shapes = [tuple(distinct_sizes(rng, 2, 2, 99)), tuple(distinct_sizes(rng, 3, 2, 9)),
              tuple(distinct_sizes(rng, 4, 1, 9)), tuple(distinct_sizes(rng, 5, 1, 7))]
    return [ref.value("compute_fans", shape) for shape in shapes]


@check("compute_fans", share=1, visible=True)
def compute_fans_rejects_vectors(rng, ref):
    """compute_fans raises ValueError for shapes with fewer than 2 dimensions."""
    return [ref.raises("compute_fans", (int(rng.integers(2, 50)),), names=SHAPE), ref.raises("compute_fans", (), names=SHAPE)]


@check("compute_fans", share=1, visible=True)
def compute_fans_worked_values(rng, ref):
    """compute_fans((16, 8, 3, 5)) == (120, 240) and compute_fans((64, 1024)) == (64, 1024)."""
    return [ref.value("compute_fans", (16, 8, 3, 5)), ref.value("compute_fans", (64, 1024))]


@check("calculate_gain", share=4, main=True)
def calculate_gain_matches_reference(rng, ref):
    """calculate_gain for every supported name, and leaky_relu with random and default slopes."""
    names = ["linear", "sigmoid", "conv2d", "conv_transpose1d", "tanh", "relu", "selu"]
    probes = [ref.value("calculate_gain", name) for name in names]
    probes.append(ref.value("calculate_gain", "leaky_relu"))
    probes.append(ref.value("calculate_gain", "leaky_relu", float(rng.uniform(0.05, 0.5))))
    return probes


@check("calculate_gain", share=1, visible=True)
def calculate_gain_rejects_unknown(rng, ref):
    """calculate_gain raises ValueError for an unknown nonlinearity."""
    return [ref.raises("calculate_gain", name, names=("nonlinearity", "activation", name))
            for name in ("gelu", "Tanh", "softmax")]


@check("calculate_gain", share=1, visible=True)
def calculate_gain_worked_values(rng, ref):
    """calculate_gain('relu') == sqrt(2), calculate_gain('tanh') == 5/3."""
    return [ref.value("calculate_gain", "relu"), ref.value("calculate_gain", "tanh")]


# --- Xavier --------------------------------------------------------------------------------

def _xavier(ref, function, shape, gain=None):
    fan_in, fan_out = _fans(ref, shape)
    g = 1.0 if gain is None else gain
    std = g * math.sqrt(2.0 / (fan_in + fan_out))
    args = (shape,) if gain is None else (shape, gain)
    if function == "xavier_uniform":
        return ref.samples(function, *args, dist="uniform", std=std, bound=std * math.sqrt(3.0))
    return ref.samples(function, *args, dist="normal", std=std)


@check("xavier_uniform", share=5, main=True)
def xavier_uniform_statistics(rng, ref):
    """xavier_uniform: std and bound of >= 100,000 draws on dense and conv shapes."""
    return [_xavier(ref, "xavier_uniform", _dense(rng)),
            _xavier(ref, "xavier_uniform", _conv(rng), float(rng.uniform(0.5, 2.0)))]


@check("xavier_uniform", share=1, visible=True)
def xavier_uniform_seeded(rng, ref):
    """xavier_uniform: the same seed gives the same float64 array, another seed another."""
    return _determinism(ref, "xavier_uniform", (20, 30), int(rng.integers(1000)))


@check("xavier_uniform", share=1, visible=True)
def xavier_uniform_small_example(rng, ref):
    """xavier_uniform((300, 400), rng=0): draws within +-sqrt(6/700) with std sqrt(2/700)."""
    return [_xavier(ref, "xavier_uniform", (300, 400))]


@check("xavier_normal", share=5, main=True)
def xavier_normal_statistics(rng, ref):
    """xavier_normal: std and shape of >= 100,000 draws on dense and conv shapes."""
    return [_xavier(ref, "xavier_normal", _dense(rng)),
            _xavier(ref, "xavier_normal", _conv(rng), float(rng.uniform(0.5, 2.0)))]


@check("xavier_normal", share=1, visible=True)
def xavier_normal_seeded(rng, ref):
    """xavier_normal: the same seed gives the same float64 array, another seed another."""
    return _determinism(ref, "xavier_normal", (20, 30), int(rng.integers(1000)))


@check("xavier_normal", share=1, visible=True)
def xavier_normal_small_example(rng, ref):
    """xavier_normal((300, 400)): draws with std sqrt(2/700)."""
    return [_xavier(ref, "xavier_normal", (300, 400))]


# --- He ------------------------------------------------------------------------------------

def _he(ref, function, shape, **kwargs):
    fan_in, fan_out = _fans(ref, shape)
    fan = fan_out if kwargs.get("mode") == "fan_out" else fan_in
    gain = ref("calculate_gain", kwargs.get("nonlinearity", "relu"), kwargs.get("param"))
    std = gain / math.sqrt(fan)
    if function == "he_uniform":
        return ref.samples(function, shape, dist="uniform", std=std, bound=std * math.sqrt(3.0), **kwargs)
    return ref.samples(function, shape, dist="normal", std=std, **kwargs)


def _he_main(rng, ref, function):
    slope = float(rng.uniform(0.1, 0.5))
    return [_he(ref, function, _dense(rng)),
            _he(ref, function, _dense(rng), mode="fan_out"),
            _he(ref, function, _conv(rng), nonlinearity="tanh"),
            _he(ref, function, _dense(rng), mode="fan_out", nonlinearity="leaky_relu", param=slope)]


def _he_errors(ref, function):
    return [ref.raises(function, (30, 20), mode="fan_avg", names=("mode", "fan_avg")),
            ref.raises(function, (30, 20), nonlinearity="gelu", names=("nonlinearity", "activation", "gelu"))]


@check("he_uniform", share=5, main=True)
def he_uniform_statistics(rng, ref):
    """he_uniform: std and bound for both modes and relu, tanh and leaky_relu gains."""
    return _he_main(rng, ref, "he_uniform")


@check("he_uniform", share=1, visible=True)
def he_uniform_rejects_bad_arguments(rng, ref):
    """he_uniform raises ValueError for an unknown mode or nonlinearity."""
    return _he_errors(ref, "he_uniform")


@check("he_uniform", share=1)
def he_uniform_seeded(rng, ref):
    """he_uniform: the same seed gives the same float64 array, another seed another."""
    return _determinism(ref, "he_uniform", (20, 30), int(rng.integers(1000)))


@check("he_uniform", share=1, visible=True)
def he_uniform_small_example(rng, ref):
    """he_uniform((500, 250)): bound sqrt(3) * sqrt(2) / sqrt(500)."""
    return [_he(ref, "he_uniform", (500, 250))]


@check("he_normal", share=5, main=True)
def he_normal_statistics(rng, ref):
    """he_normal: std for both modes and relu, tanh and leaky_relu gains."""
    return _he_main(rng, ref, "he_normal")


@check("he_normal", share=1, visible=True)
def he_normal_rejects_bad_arguments(rng, ref):
    """he_normal raises ValueError for an unknown mode or nonlinearity."""
    return _he_errors(ref, "he_normal")


@check("he_normal", share=1)
def he_normal_seeded(rng, ref):
    """he_normal: the same seed gives the same float64 array, another seed another."""
    return _determinism(ref, "he_normal", (20, 30), int(rng.integers(1000)))


@check("he_normal", share=1, visible=True)
def he_normal_small_example(rng, ref):
    """he_normal((500, 250)): std sqrt(2 / 500)."""
    return [_he(ref, "he_normal", (500, 250))]


# --- orthogonal ----------------------------------------------------------------------------

@check("orthogonal", share=5, main=True)
def orthogonal_is_orthogonal(rng, ref):
    """orthogonal: wide, tall, square and conv shapes, with a random gain."""
    rows, cols = distinct_sizes(rng, 2, 10, 60)
    gain = float(rng.uniform(0.5, 2.0))
    return [ref.orthogonal("orthogonal", (min(rows, cols), max(rows, cols))),
            ref.orthogonal("orthogonal", (max(rows, cols), min(rows, cols)), gain),
            ref.orthogonal("orthogonal", (rows, rows), gain),
            ref.orthogonal("orthogonal", (int(rng.integers(4, 9)), 3, 3, 3), gain)]


@check("orthogonal", share=1)
def orthogonal_seeded(rng, ref):
    """orthogonal: the same seed gives the same float64 array, another seed another."""
    return _determinism(ref, "orthogonal", (12, 20), int(rng.integers(1000)))


@check("orthogonal", share=1, visible=True)
def orthogonal_rejects_vectors(rng, ref):
    """orthogonal raises ValueError for shapes with fewer than 2 dimensions."""
    return [ref.raises("orthogonal", (int(rng.integers(2, 50)),), names=SHAPE)]


@check("orthogonal", share=1, visible=True)
def orthogonal_small_example(rng, ref):
    """orthogonal((3, 5)) has orthonormal rows; orthogonal((5, 3), 2.0) has columns of norm 2."""
    return [ref.orthogonal("orthogonal", (3, 5)), ref.orthogonal("orthogonal", (5, 3), 2.0)]
