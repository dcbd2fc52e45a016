"""Correct, written differently: numpy products, standard_normal() * std, random() scaled
to the bound, and orthogonal matrices from the SVD."""
import numpy as np

GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": np.sqrt(2.0), "selu": 0.75}
GAINS.update({f"conv{k}d": 1.0 for k in (1, 2, 3)})
GAINS.update({f"conv_transpose{k}d": 1.0 for k in (1, 2, 3)})


def compute_fans(shape):
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("shape needs two dimensions or more")
    field = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    return int(shape[1] * field), int(shape[0] * field)


def calculate_gain(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return float(np.sqrt(2.0 / (1 + slope * slope)))
    try:
        return float(GAINS[nonlinearity])
    except KeyError:
        raise ValueError(f"nonlinearity {nonlinearity!r} is not supported") from None


def xavier_uniform(shape, gain=1.0, rng=None):
    generator = np.random.default_rng(rng)
    fan_in, fan_out = compute_fans(shape)
    a = gain * np.sqrt(6.0 / (fan_in + fan_out))
    return generator.random(tuple(shape)) * 2 * a - a


def xavier_normal(shape, gain=1.0, rng=None):
    generator = np.random.default_rng(rng)
    fan_in, fan_out = compute_fans(shape)
    return generator.standard_normal(tuple(shape)) * (gain * np.sqrt(2.0 / (fan_in + fan_out)))


def _fan(shape, mode):
    if mode not in {"fan_in", "fan_out"}:
        raise ValueError(f"mode must be fan_in or fan_out, not {mode}")
    return dict(zip(("fan_in", "fan_out"), compute_fans(shape)))[mode]


def he_uniform(shape, mode="fan_in", nonlinearity="relu", param=None, rng=None):
    std = calculate_gain(nonlinearity, param) / np.sqrt(_fan(shape, mode))
    return np.random.default_rng(rng).uniform(-np.sqrt(3) * std, np.sqrt(3) * std, size=tuple(shape))


def he_normal(shape, mode="fan_in", nonlinearity="relu", param=None, rng=None):
    std = calculate_gain(nonlinearity, param) / np.sqrt(_fan(shape, mode))
    return std * np.random.default_rng(rng).standard_normal(tuple(shape))


def orthogonal(shape, gain=1.0, rng=None):
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("shape must have 2 or more dimensions")
    rows = shape[0]
    cols = int(np.prod(shape[1:]))
    a = np.random.default_rng(rng).normal(size=(rows, cols))
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return (gain * (u @ vt)).reshape(shape)
