"""Weight initialization: fans, gains, Xavier (Glorot), He (Kaiming) and orthogonal.

Layout: a dense layer's weight is ``(fan_in, fan_out)`` and is used as ``x @ W`` (numpy's and
CS231n's layout; PyTorch stores ``(out, in)``). A convolution kernel is
``(C_out, C_in, *kernel)``, as in PyTorch.

Every sampler takes ``rng``: ``None``, an ``int`` seed or a ``numpy.random.Generator``,
resolved with ``numpy.random.default_rng(rng)``, so the same seed gives the same array.
"""
from __future__ import annotations

import math

import numpy as np


def compute_fans(shape) -> tuple[int, int]:
    """The ``(fan_in, fan_out)`` of a weight of the given shape.

    Formula: a dense weight ``(a, b)`` has ``fan_in = a`` and ``fan_out = b``. A convolution
    kernel ``(C_out, C_in, *k)`` has ``fan_in = C_in * prod(k)`` and
    ``fan_out = C_out * prod(k)``: each output sums over ``C_in`` channels times the kernel's
    receptive field. Fewer than 2 dimensions raises ``ValueError``.

    Equivalent: ``torch.nn.init._calculate_fan_in_and_fan_out`` (on PyTorch's ``(out, in)``
    layout for dense weights).

    >>> compute_fans((16, 8, 3, 5))
    (120, 240)
    >>> compute_fans((64, 1024))
    (64, 1024)
    """
    shape = tuple(int(s) for s in shape)
    # BEGIN SOLUTION
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 dimensions, got {shape}")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field
    # END SOLUTION


def calculate_gain(nonlinearity, param=None) -> float:
    """The recommended gain for a nonlinearity: the factor that keeps activations' variance.

    Values: ``'linear'``, ``'sigmoid'`` and the convolution names (``'conv1d'``, ...,
    ``'conv_transpose3d'``) give 1; ``'tanh'`` gives 5/3; ``'relu'`` gives ``sqrt(2)``
    (ReLU zeroes half of a symmetric input, halving its second moment);
    ``'leaky_relu'`` gives ``sqrt(2 / (1 + s**2))`` with ``s = param``, or 0.01 when
    ``param`` is None; ``'selu'`` gives 3/4. Any other name raises ``ValueError``.

    Equivalent: ``torch.nn.init.calculate_gain``.

    >>> round(calculate_gain('relu'), 6), calculate_gain('tanh') == 5 / 3
    (1.414214, True)
    """
    # BEGIN SOLUTION
    linear_like = {"linear", "sigmoid", "conv1d", "conv2d", "conv3d",
                   "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}
    if nonlinearity in linear_like:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")
    # END SOLUTION


def xavier_uniform(shape, gain=1.0, rng=None) -> np.ndarray:
    """Xavier (Glorot) uniform initialization.

    Formula: samples of ``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``, which
    has the variance ``gain**2 * 2 / (fan_in + fan_out)``: a compromise that keeps both the
    forward signal and the backward gradient at about the same scale for tanh-like layers.

    Equivalent: ``torch.nn.init.xavier_uniform_``; Keras' ``glorot_uniform``.

    >>> w = xavier_uniform((300, 100), rng=0)
    >>> w.shape, bool(np.abs(w).max() <= np.sqrt(6 / 400))
    ((300, 100), True)
    """
    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(rng)
    # BEGIN SOLUTION
    fan_in, fan_out = compute_fans(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)
    # END SOLUTION


def xavier_normal(shape, gain=1.0, rng=None) -> np.ndarray:
    """Xavier (Glorot) normal initialization.

    Formula: samples of ``N(0, std**2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Equivalent: ``torch.nn.init.xavier_normal_``; Keras' ``glorot_normal`` (truncated).

    >>> w = xavier_normal((500, 300), rng=0)
    >>> round(float(w.std()), 2), round(float(np.sqrt(2 / 800)), 2)
    (0.05, 0.05)
    """
    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(rng)
    # BEGIN SOLUTION
    fan_in, fan_out = compute_fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(0.0, std, size=shape)
    # END SOLUTION


def he_uniform(shape, mode='fan_in', nonlinearity='relu', param=None, rng=None) -> np.ndarray:
    """He (Kaiming) uniform initialization.

    Formula: samples of ``U(-b, b)`` with ``b = sqrt(3) * gain / sqrt(fan)``: the uniform
    distribution whose std is ``gain / sqrt(fan)``. ``fan`` is ``fan_in`` (keeps the forward
    signal's scale) or ``fan_out`` (keeps the gradient's scale), chosen by ``mode``; any other
    ``mode`` raises ``ValueError``. ``gain = calculate_gain(nonlinearity, param)``.

    Equivalent: ``torch.nn.init.kaiming_uniform_(w, a=param or 0, mode, nonlinearity)``.

    >>> w = he_uniform((200, 50), rng=0)
    >>> bool(np.abs(w).max() <= np.sqrt(3) * np.sqrt(2) / np.sqrt(200))
    True
    """
    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(rng)
    # BEGIN SOLUTION
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = compute_fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, param) / math.sqrt(fan)
    return rng.uniform(-bound, bound, size=shape)
    # END SOLUTION


def he_normal(shape, mode='fan_in', nonlinearity='relu', param=None, rng=None) -> np.ndarray:
    """He (Kaiming) normal initialization.

    Formula: samples of ``N(0, std**2)`` with ``std = gain / sqrt(fan)``; ``fan`` and ``gain``
    as in ``he_uniform``. For ReLU, ``std = sqrt(2 / fan_in)``: the factor 2 makes up for
    ReLU discarding half of the signal.

    Equivalent: ``torch.nn.init.kaiming_normal_``; Keras' ``he_normal`` (truncated).

    >>> w = he_normal((400, 300), rng=0)
    >>> round(float(w.std()), 3), round(float(np.sqrt(2 / 400)), 3)
    (0.071, 0.071)
    """
    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(rng)
    # BEGIN SOLUTION
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = compute_fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    std = calculate_gain(nonlinearity, param) / math.sqrt(fan)
    return rng.normal(0.0, std, size=shape)
    # END SOLUTION


def orthogonal(shape, gain=1.0, rng=None) -> np.ndarray:
    """Orthogonal initialization (Saxe et al., 2014).

    Formula: view the weight as a matrix ``(rows, cols) = (shape[0], prod(shape[1:]))``. Draw a
    standard normal matrix, take its QR decomposition (of the transpose when rows < cols), fix
    the signs so that ``diag(R) > 0`` (this makes the result uniform over orthogonal matrices)
    and multiply by ``gain``. Rows are orthonormal when rows <= cols, columns otherwise, so
    every singular value equals ``gain``. Fewer than 2 dimensions raises ``ValueError``.

    Equivalent: ``torch.nn.init.orthogonal_``.

    >>> w = orthogonal((3, 5), rng=0)
    >>> np.allclose(w @ w.T, np.eye(3))
    True
    """
    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(rng)
    # BEGIN SOLUTION
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 dimensions, got {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    flat = rng.standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)
    # END SOLUTION
