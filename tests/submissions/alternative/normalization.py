"""A correct submission written differently from the reference: loops, E[x^2] - E[x]^2,
einsum, moveaxis and the long-form backward pass. It must score 100."""
import numpy as np


def batch_norm(x, gamma=1.0, beta=0.0, eps=1e-5):
    x = np.array(x, dtype=float)
    features = np.moveaxis(x, 1, 0).reshape(x.shape[1], -1)      # (C, N * spatial)
    if features.shape[1] < 2:
        raise ValueError("x: need more than one value per feature in training")
    out = np.empty_like(features)
    gamma = np.broadcast_to(np.asarray(gamma, dtype=float), (x.shape[1],))
    beta = np.broadcast_to(np.asarray(beta, dtype=float), (x.shape[1],))
    for c in range(features.shape[0]):
        row = features[c]
        mean = row.sum() / row.size
        var = (row * row).sum() / row.size - mean * mean          # E[x^2] - E[x]^2
        out[c] = gamma[c] * (row - mean) / np.sqrt(var + eps) + beta[c]
    moved_shape = (x.shape[1], x.shape[0]) + x.shape[2:]
    return np.moveaxis(out.reshape(moved_shape), 0, 1).copy()


def layer_norm(x, gamma=1.0, beta=0.0, eps=1e-5):
    x = np.asarray(x, dtype=np.float64)
    d = x.shape[-1]
    mean = np.einsum("...d->...", x)[..., None] / d
    centred = x - mean
    var = np.einsum("...d,...d->...", centred, centred)[..., None] / d
    return np.asarray(gamma, dtype=float) * centred * (var + eps) ** -0.5 + np.asarray(beta, dtype=float)


def group_norm(x, num_groups, gamma=1.0, beta=0.0, eps=1e-5):
    x = np.asarray(x, dtype=np.float64)
    n, c = x.shape[:2]
    if not isinstance(num_groups, (int, np.integer)) or num_groups <= 0 or c % num_groups:
        raise ValueError(f"num_groups={num_groups} does not divide the {c} channels")
    size = c // num_groups
    out = np.empty_like(x)
    for i in range(n):
        for g in range(num_groups):
            block = x[i, g * size:(g + 1) * size]
            out[i, g * size:(g + 1) * size] = (block - block.mean()) / np.sqrt(block.var() + eps)
    shape = (1, c) + (1,) * (x.ndim - 2)
    gamma = np.asarray(gamma, dtype=float)
    beta = np.asarray(beta, dtype=float)
    gamma = gamma.reshape(shape) if gamma.ndim else gamma
    beta = beta.reshape(shape) if beta.ndim else beta
    return out * gamma + beta


def rms_norm(x, gamma=1.0, eps=1e-6):
    x = np.asarray(x, dtype=np.float64)
    rms = np.sqrt(np.einsum("...d,...d->...", x, x) / x.shape[-1] + eps)
    return np.asarray(gamma, dtype=float) * (x / rms[..., None])


def batch_norm_backward(dout, x, gamma, eps=1e-5):
    dout, x, gamma = (np.asarray(a, dtype=float) for a in (dout, x, gamma))
    n = x.shape[0]
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    std = np.sqrt(var + eps)
    x_hat = (x - mu) / std
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * std**-3
    dmu = -np.sum(dx_hat, axis=0) / std + dvar * np.mean(-2.0 * (x - mu), axis=0)
    dx = dx_hat / std + dvar * 2.0 * (x - mu) / n + dmu / n
    return dx, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)


def layer_norm_backward(dout, x, gamma, eps=1e-5):
    dx_t, _, _ = batch_norm_backward((np.asarray(dout, float) * gamma).T, np.asarray(x, float).T,
                                     np.ones(np.shape(x)[0]), eps)
    x = np.asarray(x, dtype=float)
    x_hat = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + eps)
    return dx_t.T, (dout * x_hat).sum(0), np.asarray(dout, float).sum(0)


class BatchNorm:
    def __init__(self, num_features, momentum=0.1, eps=1e-5):
        self.num_features, self.momentum, self.eps = num_features, momentum, eps
        self.gamma = np.ones(num_features)
        self.beta = np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.full(num_features, 1.0)
        self.training = True

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        flat = np.moveaxis(x, 1, -1).reshape(-1, self.num_features)
        if self.training:
            mean, var = flat.mean(0), flat.var(0)
            unbiased = flat.var(0, ddof=1)
            self.running_mean = self.running_mean + self.momentum * (mean - self.running_mean)
            self.running_var = self.running_var + self.momentum * (unbiased - self.running_var)
        else:
            mean, var = self.running_mean, self.running_var
        y = (flat - mean) / np.sqrt(var + self.eps) * self.gamma + self.beta
        moved = np.moveaxis(x, 1, -1).shape
        return np.moveaxis(y.reshape(moved), -1, 1).copy()
