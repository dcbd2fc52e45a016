"""Normalization layers: batch, layer, group and RMS norm, two backward passes, a BatchNorm layer.

Every function takes numpy arrays, computes in float64 and returns new arrays; inputs are
never modified. The contract is ``docs/contract.md``.
"""
from __future__ import annotations

import numpy as np


def _as_float64(x) -> np.ndarray:
    """``x`` as a float64 ndarray (a copy only when the dtype changes)."""
    return np.asarray(x, dtype=np.float64)


def _per_channel(param, ndim: int) -> np.ndarray:
    """Shape a scalar or a ``(C,)`` parameter so that it broadcasts along axis 1 of an
    ``ndim``-dimensional array: ``(C,)`` becomes ``(C, 1, ..., 1)``.

    >>> _per_channel(np.ones(3), 4).shape
    (3, 1, 1)
    """
    param = _as_float64(param)
    if param.ndim == 0:
        return param
    return param.reshape((-1,) + (1,) * (ndim - 2))


def batch_norm(x, gamma=1.0, beta=0.0, eps=1e-5) -> np.ndarray:
    """Batch normalization in training mode.

    Shapes: ``x`` is ``(N, D)`` or ``(N, C, *spatial)``; ``gamma`` and ``beta`` are scalars or
    ``(D,)`` / ``(C,)``, broadcast along axis 1. The output has the shape of ``x``.

    Formula: for each feature (axis 1), ``mean`` and ``var`` are taken over every other axis
    (the batch and all spatial positions) and
    ``y = gamma * (x - mean) / sqrt(var + eps) + beta``.

    Convention: ``var`` is the biased variance (divide by the count, ``ddof=0``), as PyTorch
    uses to normalize; PyTorch's ``running_var`` uses the unbiased one (see ``BatchNorm``).
    A feature with a single value (``N * prod(spatial) == 1``) has no spread, so it raises
    ``ValueError``, as PyTorch does in training.

    Equivalent: ``torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True,
    eps=eps)``.

    >>> batch_norm(np.array([[1.0, 10.0], [3.0, 30.0]])).round(3)
    array([[-1., -1.],
           [ 1.,  1.]])
    """
    x = _as_float64(x)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, D) or (N, C, *spatial), got shape {x.shape}")
    # BEGIN SOLUTION
    axes = (0,) + tuple(range(2, x.ndim))
    values_per_feature = x.size // x.shape[1]
    if values_per_feature == 1:
        raise ValueError("x has a single value per feature: batch statistics need at least two")
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return _per_channel(gamma, x.ndim) * x_hat + _per_channel(beta, x.ndim)
    # END SOLUTION


def layer_norm(x, gamma=1.0, beta=0.0, eps=1e-5) -> np.ndarray:
    """Layer normalization over the last axis.

    Shapes: ``x`` is ``(..., D)``; ``gamma`` and ``beta`` are scalars or ``(D,)``. The output
    has the shape of ``x``.

    Formula: for each sample (every index of the leading axes), ``mean`` and ``var`` are taken
    over the last axis and ``y = gamma * (x - mean) / sqrt(var + eps) + beta``.

    Convention: biased variance, as in PyTorch. Unlike batch norm, the statistics never mix
    samples, so it behaves the same at any batch size and in train and eval mode.

    Equivalent: ``torch.nn.functional.layer_norm(x, (D,), gamma, beta, eps)``.

    >>> layer_norm(np.array([[1.0, 3.0], [10.0, 30.0]])).round(3)
    array([[-1.,  1.],
           [-1.,  1.]])
    """
    x = _as_float64(x)
    # BEGIN SOLUTION
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return _as_float64(gamma) * x_hat + _as_float64(beta)
    # END SOLUTION


def group_norm(x, num_groups, gamma=1.0, beta=0.0, eps=1e-5) -> np.ndarray:
    """Group normalization.

    Shapes: ``x`` is ``(N, C, *spatial)``; ``gamma`` and ``beta`` are scalars or ``(C,)``. The
    output has the shape of ``x``.

    Formula: the ``C`` channels are split into ``num_groups`` contiguous blocks of ``C / G``
    channels (channels ``0 .. C/G - 1`` form group 0). Each (sample, group) is normalized with
    the mean and biased variance of its ``C/G`` channels over all spatial positions, then
    ``gamma`` and ``beta`` are applied per channel.

    Convention: ``num_groups=1`` is layer norm over ``(C, *spatial)``; ``num_groups=C`` is
    instance norm. ``C % num_groups != 0`` or ``num_groups < 1`` raises ``ValueError``.

    Equivalent: ``torch.nn.functional.group_norm(x, num_groups, gamma, beta, eps)``.

    >>> group_norm(np.array([[1.0, 3.0, 10.0, 30.0]]), num_groups=2).round(3)
    array([[-1.,  1., -1.,  1.]])
    """
    x = _as_float64(x)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, C, *spatial), got shape {x.shape}")
    # BEGIN SOLUTION
    n, c = x.shape[:2]
    if num_groups < 1 or c % num_groups != 0:
        raise ValueError(f"num_groups must be a positive divisor of C={c}, got {num_groups}")
    grouped = x.reshape((n, num_groups, c // num_groups) + x.shape[2:])
    axes = tuple(range(2, grouped.ndim))
    mean = grouped.mean(axis=axes, keepdims=True)
    var = grouped.var(axis=axes, keepdims=True)
    x_hat = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    return _per_channel(gamma, x.ndim) * x_hat + _per_channel(beta, x.ndim)
    # END SOLUTION


def rms_norm(x, gamma=1.0, eps=1e-6) -> np.ndarray:
    """Root-mean-square normalization over the last axis.

    Shapes: ``x`` is ``(..., D)``; ``gamma`` is a scalar or ``(D,)``.

    Formula: ``y = gamma * x / sqrt(mean(x ** 2, last axis) + eps)``. There is no centring
    and no ``beta``: only the scale of each sample is fixed.

    Equivalent: ``torch.nn.functional.rms_norm(x, (D,), gamma, eps)``; used in LLaMA and T5.

    >>> rms_norm(np.array([[3.0, 4.0]]), eps=0.0).round(4)
    array([[0.8485, 1.1314]])
    """
    x = _as_float64(x)
    # BEGIN SOLUTION
    mean_square = np.mean(x**2, axis=-1, keepdims=True)
    return _as_float64(gamma) * x / np.sqrt(mean_square + eps)
    # END SOLUTION


def batch_norm_backward(dout, x, gamma, eps=1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``y = batch_norm(x, gamma, beta, eps)`` for ``x`` of shape ``(N, D)``.

    Shapes: ``dout`` and ``x`` are ``(N, D)``, ``gamma`` is ``(D,)``. Returns
    ``(dx, dgamma, dbeta)`` with shapes ``(N, D)``, ``(D,)``, ``(D,)``.

    Formula: with ``x_hat = (x - mean) / sqrt(var + eps)`` per column and
    ``g = dout * gamma``:
    ``dbeta = sum_n dout``, ``dgamma = sum_n dout * x_hat`` and
    ``dx = (g - mean_n(g) - x_hat * mean_n(g * x_hat)) / sqrt(var + eps)``.
    The two subtracted terms are the paths through the batch mean and the batch variance.

    Equivalent: autograd through ``torch.nn.functional.batch_norm(..., training=True)``.

    >>> dx, dgamma, dbeta = batch_norm_backward(np.array([[1.0], [0.0]]),
    ...                                         np.array([[1.0], [3.0]]), np.ones(1), eps=0.0)
    >>> dx.round(6).tolist(), dgamma.round(6).tolist(), dbeta.tolist()
    ([[0.0], [0.0]], [-1.0], [1.0])
    """
    dout, x, gamma = _as_float64(dout), _as_float64(x), _as_float64(gamma)
    # BEGIN SOLUTION
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) * inv_std
    return dx, dgamma, dbeta
    # END SOLUTION


def layer_norm_backward(dout, x, gamma, eps=1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``y = layer_norm(x, gamma, beta, eps)`` for ``x`` of shape ``(N, D)``.

    Shapes: ``dout`` and ``x`` are ``(N, D)``, ``gamma`` is ``(D,)``. Returns
    ``(dx, dgamma, dbeta)`` with shapes ``(N, D)``, ``(D,)``, ``(D,)``.

    Formula: the batch-norm backward pass with the roles of the axes swapped. The statistics
    are per row, so with ``g = dout * gamma``:
    ``dx = (g - mean_d(g) - x_hat * mean_d(g * x_hat)) / sqrt(var + eps)`` (means over the
    last axis), while ``dgamma = sum_n dout * x_hat`` and ``dbeta = sum_n dout`` still sum
    over the batch, because ``gamma`` and ``beta`` are shared by every row.

    Equivalent: autograd through ``torch.nn.functional.layer_norm``.

    >>> dx, dgamma, dbeta = layer_norm_backward(np.array([[1.0, 0.0]]),
    ...                                         np.array([[1.0, 3.0]]), np.ones(2), eps=0.0)
    >>> dx.round(6).tolist(), dgamma.round(6).tolist(), dbeta.tolist()
    ([[0.0, 0.0]], [-1.0, 0.0], [1.0, 0.0])
    """
    dout, x, gamma = _as_float64(dout), _as_float64(x), _as_float64(gamma)
    # BEGIN SOLUTION
    inv_std = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=1, keepdims=True)) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = (g - g.mean(axis=1, keepdims=True)
          - x_hat * (g * x_hat).mean(axis=1, keepdims=True)) * inv_std
    return dx, dgamma, dbeta
    # END SOLUTION


class BatchNorm:
    """A batch-norm layer with learnable ``gamma``/``beta`` and running statistics.

    Attributes (all shape ``(num_features,)``): ``gamma`` (ones), ``beta`` (zeros),
    ``running_mean`` (zeros) and ``running_var`` (ones); ``training`` is True at first.

    ``__call__(x)`` takes ``(N, num_features)`` or ``(N, num_features, *spatial)``:

    - training: normalize with the batch mean and **biased** batch variance, then update
      ``running = (1 - momentum) * running + momentum * batch_stat``, where ``running_var``
      takes the **unbiased** batch variance (``ddof=1``), as PyTorch's ``BatchNorm1d`` does;
    - eval: normalize with ``running_mean`` and ``running_var`` and update nothing.

    Equivalent: ``torch.nn.BatchNorm1d(num_features, momentum=momentum, eps=eps)`` (or 2d).

    >>> bn = BatchNorm(1)
    >>> bn(np.array([[1.0], [3.0]])).round(3).tolist()
    [[-1.0], [1.0]]
    >>> bn.running_mean.tolist(), bn.running_var.round(3).tolist()
    ([0.2], [1.1])
    """

    def __init__(self, num_features, momentum=0.1, eps=1e-5):
        self.num_features = num_features
        self.momentum = momentum
        self.eps = eps
        # BEGIN SOLUTION
        self.gamma = np.ones(num_features)
        self.beta = np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.training = True
        # END SOLUTION

    def train(self) -> "BatchNorm":
        """Switch to training mode (batch statistics, buffers updated) and return self."""
        self.training = True
        return self

    def eval(self) -> "BatchNorm":
        """Switch to eval mode (running statistics, nothing updated) and return self."""
        self.training = False
        return self

    def __call__(self, x) -> np.ndarray:
        x = _as_float64(x)
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"x must have shape (N, {self.num_features}, *spatial), got {x.shape}")
        # BEGIN SOLUTION
        axes = (0,) + tuple(range(2, x.ndim))
        if self.training:
            count = x.size // x.shape[1]
            if count == 1:
                raise ValueError("x has a single value per feature: batch statistics need at least two")
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mean
            self.running_var = (1 - m) * self.running_var + m * var * count / (count - 1)
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - _per_channel(mean, x.ndim)) / np.sqrt(_per_channel(var, x.ndim) + self.eps)
        return _per_channel(self.gamma, x.ndim) * x_hat + _per_channel(self.beta, x.ndim)
        # END SOLUTION
