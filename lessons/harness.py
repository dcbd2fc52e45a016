"""The training harness behind the lessons: a small numpy MLP on scikit-learn's digits.

The lessons show experiments; this module holds the plumbing. Every hidden layer is
``linear -> normalization (optional) -> activation``. The normalization layers and their
backward passes are *your* functions, passed in as ``norm`` (your ``normalization`` module);
so are the clipping and the schedule, passed to ``train``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

Array = np.ndarray
ACTIVATIONS = {
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(float)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a ** 2),
}


@functools.lru_cache(maxsize=1)
def digits() -> tuple[Array, Array, Array, Array]:
    """scikit-learn's 1,797 8x8 digits (bundled, no download), standardized; a fixed split
    of 1,437 training and 360 test images."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = data.data.astype(float)
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-8)
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:1437], order[1437:]
    return x[train], data.target[train], x[test], data.target[test]


def gaussian(std: float) -> Callable:
    """A weight maker drawing N(0, std²) entries: ``make(shape, seed)``."""
    return lambda shape, seed: np.random.default_rng(seed).normal(0.0, std, shape)


class MLP:
    """``depth`` linear layers of ``width`` units; ``norm_kind`` is None, "batch", "layer" or
    ("group", G). ``make_weight(shape, seed)`` draws each hidden weight; ``make_output``
    (default: the same) draws the last one."""

    def __init__(self, depth: int, width: int, make_weight: Callable, norm=None, norm_kind=None,
                 activation: str = "relu", seed: int = 0, make_output: Callable | None = None):
        rng = np.random.default_rng(seed)
        sizes = [64] + [width] * (depth - 1) + [10]
        makers = [make_weight] * (depth - 1) + [make_output or make_weight]
        self.W = [make((a, b), int(rng.integers(2**31))) for make, a, b in zip(makers, sizes, sizes[1:])]
        self.b = [np.zeros(b) for b in sizes[1:]]
        self.norm, self.norm_kind, self.act = norm, norm_kind, activation
        hidden = depth - 1 if norm_kind else 0
        self.gamma = [np.ones(width) for _ in range(hidden)]
        self.beta = [np.zeros(width) for _ in range(hidden)]
        self.bn = [norm.BatchNorm(width) for _ in range(hidden)] if norm_kind == "batch" else []
        self.cache: list = []

    def params(self) -> list[Array]:
        """Every trainable array: weights, biases, then the normalization's gamma and beta."""
        return self.W + self.b + self.gamma + self.beta

    def set_params(self, values: list[Array]) -> None:
        """Replace the trainable arrays (in the order of ``params()``)."""
        n, k = len(self.W), len(self.gamma)
        self.W, self.b = values[:n], values[n:2 * n]
        self.gamma, self.beta = values[2 * n:2 * n + k], values[2 * n + k:]

    def _normalize(self, i: int, z: Array, train: bool) -> Array:
        kind = self.norm_kind
        if kind == "batch":
            layer = self.bn[i].train() if train else self.bn[i].eval()
            layer.gamma, layer.beta = self.gamma[i], self.beta[i]
            return layer(z)
        if kind == "layer":
            return self.norm.layer_norm(z, self.gamma[i], self.beta[i])
        if isinstance(kind, tuple):  # group norm on (N, C): (N, C, 1) for the student's group_norm
            return self.norm.group_norm(z[:, :, None], kind[1], self.gamma[i], self.beta[i])[:, :, 0]
        return z

    def forward(self, x: Array, train: bool = True) -> Array:
        """The logits; keeps what ``backward`` needs."""
        f, _ = ACTIVATIONS[self.act]
        self.cache, h = [], x
        for i, (w, b) in enumerate(zip(self.W, self.b)):
            z = h @ w + b
            if i == len(self.W) - 1:
                self.cache.append((h, z, None, None))
                return z
            zn = self._normalize(i, z, train)
            a = f(zn)
            self.cache.append((h, z, zn, a))
            h = a
        return h

    def _norm_backward(self, i: int, d: Array, z: Array) -> tuple[Array, Array, Array]:
        kind = self.norm_kind
        if kind == "batch":
            return self.norm.batch_norm_backward(d, z, self.gamma[i])
        if kind == "layer":
            return self.norm.layer_norm_backward(d, z, self.gamma[i])
        # group norm = layer norm inside each group: your layer_norm_backward on (N*G, C/G)
        groups, n, c = kind[1], len(z), z.shape[1]
        zg = z.reshape(n * groups, c // groups)
        xhat = self.norm.layer_norm(zg).reshape(n, c)
        dxhat = (d * self.gamma[i]).reshape(n * groups, c // groups)
        dx, _, _ = self.norm.layer_norm_backward(dxhat, zg, np.ones(c // groups))
        return dx.reshape(n, c), (d * xhat).sum(axis=0), d.sum(axis=0)

    def backward(self, dlogits: Array) -> list[Array]:
        """Gradients of every parameter, in the order of ``params()``."""
        _, df = ACTIVATIONS[self.act]
        n = len(self.W)
        gW, gb = [None] * n, [None] * n
        gg, gbeta = [None] * len(self.gamma), [None] * len(self.beta)
        d = dlogits
        for i in range(n - 1, -1, -1):
            h, z, zn, a = self.cache[i]
            if zn is not None:
                d = d * df(zn, a)
                if self.norm_kind:
                    d, gg[i], gbeta[i] = self._norm_backward(i, d, z)
            gW[i], gb[i] = h.T @ d, d.sum(axis=0)
            d = d @ self.W[i].T
        return gW + gb + gg + gbeta


def cross_entropy(logits: Array, y: Array) -> tuple[float, Array]:
    """Mean cross-entropy of integer labels ``y`` and its gradient with respect to the logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
    p[np.arange(len(y)), y] -= 1
    return loss, p / len(y)


def accuracy(model: MLP, x: Array, y: Array, train_mode: bool = False) -> float:
    """Share of ``x`` classified right (0.0 when the logits are not finite)."""
    with np.errstate(all="ignore"):
        logits = model.forward(x, train=train_mode)
    if not np.isfinite(logits).all():
        return 0.0
    return float(np.mean(logits.argmax(axis=1) == y))


@dataclass
class Log:
    """What one training run recorded."""

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    clipped: list = field(default_factory=list)
    ratio: list = field(default_factory=list)
    diverged_at: int | None = None
    test_accuracy: float = 0.0
    model: "MLP | None" = None


def _sgd(state: dict, grads: list, lr: float, t: int, momentum: float = 0.9) -> list:
    state.setdefault("v", [np.zeros_like(g) for g in grads])
    state["v"] = [momentum * v + g for v, g in zip(state["v"], grads)]
    return [-lr * v for v in state["v"]]


def _adam(state: dict, grads: list, lr: float, t: int) -> list:
    state.setdefault("m", [np.zeros_like(g) for g in grads])
    state.setdefault("s", [np.zeros_like(g) for g in grads])
    state["m"] = [0.9 * m + 0.1 * g for m, g in zip(state["m"], grads)]
    state["s"] = [0.999 * s + 0.001 * g * g for s, g in zip(state["s"], grads)]
    return [-lr * (m / (1 - 0.9 ** (t + 1))) / (np.sqrt(s / (1 - 0.999 ** (t + 1))) + 1e-8)
            for m, s in zip(state["m"], state["s"])]


def train(model: MLP, lr_at: Callable[[int], float], steps: int = 240, batch: int = 64, seed: int = 0,
          clip=None, max_norm: float | None = None, adam: bool = False) -> Log:
    """Momentum SGD (or Adam) on random mini-batches of the digits. ``clip`` is your clipping
    module (for ``global_norm`` and, with ``max_norm``, ``clip_by_norm``). A run whose loss or
    gradient stops being finite is stopped and marked diverged."""
    x_train, y_train, x_test, y_test = digits()
    rng, state, log = np.random.default_rng(seed + 10_000), {}, Log()
    for t in range(steps):
        idx = rng.integers(0, len(x_train), batch)
        with np.errstate(all="ignore"):
            loss, dlogits = cross_entropy(model.forward(x_train[idx]), y_train[idx])
            grads = model.backward(dlogits)
            total = clip.global_norm(grads) if clip else float(np.sqrt(sum(np.sum(g * g) for g in grads)))
        log.loss.append(loss)
        log.grad_norm.append(total)
        if not (np.isfinite(loss) and np.isfinite(total)):
            log.diverged_at = t
            break
        if max_norm is not None:
            grads, _ = clip.clip_by_norm(grads, max_norm)
            log.clipped.append(total > max_norm)
        updates = (_adam if adam else _sgd)(state, grads, lr_at(t), t)
        n = len(model.W)
        log.ratio.append([float(np.std(u) / (np.std(w) + 1e-12)) for u, w in zip(updates[:n], model.W)])
        model.set_params([p + u for p, u in zip(model.params(), updates)])
    log.test_accuracy = 0.0 if log.diverged_at is not None else accuracy(model, x_test, y_test)
    if log.test_accuracy and not np.isfinite(log.loss[-1]):
        log.diverged_at = len(log.loss) - 1
    return log


def plot_losses(ax, logs: list[Log], label: str, color: str, cap: float = 5.0) -> None:
    """Each seed's training loss as a thin line (capped at ``cap`` so a blow-up stays in
    view); a run that diverged ends in an x, and the legend says so."""
    diverged = [log for log in logs if log.diverged_at is not None]
    for k, log in enumerate(logs):
        loss = np.minimum(np.nan_to_num(np.array(log.loss), nan=cap, posinf=cap), cap)
        ax.plot(loss, color=color, lw=1, alpha=0.8, label=label if k == 0 else None)
        if log.diverged_at is not None:
            ax.plot(len(loss) - 1, cap, "x", color=color, ms=9, mew=2)
    if diverged:
        steps = ", ".join(str(log.diverged_at) for log in diverged)
        ax.plot([], [], "x", color=color, label=f"{label}: {len(diverged)} of {len(logs)} diverged (step {steps})")
    ax.set_xlabel("step")
    ax.set_ylabel(f"training loss (capped at {cap:g})")


def seed_accuracies(logs: list[Log]) -> Array:
    """The test accuracy of each seed."""
    return np.array([log.test_accuracy for log in logs])


def run(depth: int, make_weight: Callable, lr_at: Callable[[int], float], seeds=range(3), norm=None,
        norm_kind=None, activation: str = "relu", width: int = 64, make_output: Callable | None = None,
        **train_args) -> list[Log]:
    """Train one configuration once per seed (a new network and new batches each time)."""
    logs = []
    for seed in seeds:
        model = MLP(depth, width, make_weight, norm, norm_kind, activation, seed, make_output)
        logs.append(train(model, lr_at, seed=seed, **train_args))
        logs[-1].model = model
    return logs


def initial_loss(depth: int, make_weight: Callable, make_output: Callable | None = None, seed: int = 0,
                 activation: str = "relu") -> float:
    """The loss of a freshly initialized network on the training set: ln(10) ≈ 2.30 when
    the output layer starts small enough that every class gets about 1/10."""
    x_train, y_train, _, _ = digits()
    model = MLP(depth, 64, make_weight, activation=activation, seed=seed, make_output=make_output)
    with np.errstate(all="ignore"):
        return cross_entropy(model.forward(x_train), y_train)[0]


def batch_mode_accuracy(model: MLP, x: Array, y: Array, batch: int) -> float:
    """Accuracy when ``x`` is classified ``batch`` images at a time in training mode, that is
    with each batch's own statistics (as batch norm does during training). A batch-norm
    layer's running statistics are updated on the way: call this after ``accuracy``."""
    right = []
    with np.errstate(all="ignore"):
        for start in range(0, len(x), batch):  # the last batch may be smaller (never of one)
            logits = model.forward(x[start:start + batch], train=True)
            right.append(logits.argmax(axis=1) == y[start:start + batch])
    return float(np.mean(np.concatenate(right)))


def he_scaled(shape: tuple, seed: int) -> Array:
    """N(0, 2 / fan_in) weights drawn here, so that a lesson can train a network before you
    have written ``he_normal`` (lesson 2)."""
    return np.random.default_rng(seed).normal(0.0, np.sqrt(2.0 / shape[0]), shape)


def numerical_gradient(f: Callable[[Array], float], x: Array, h: float = 1e-5) -> Array:
    """The gradient of the scalar ``f`` at ``x`` by central differences, one entry at a time."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        keep = x[index]
        x[index] = keep + h
        plus = f(x)
        x[index] = keep - h
        minus = f(x)
        x[index] = keep
        grad[index] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: Array, b: Array) -> float:
    """max |a - b| / max(|a| + |b|): about 1e-8 or less when two gradients agree."""
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-12))


def signal_profile(make_weight: Callable, activation: str, depth: int = 50, width: int = 256,
                   seed: int = 0) -> tuple[Array, Array]:
    """Push 512 random inputs through ``depth`` layers ``activation(h @ W)``, then push a random
    gradient back. Returns the activations' std after each layer and the norm of the gradient
    reaching each layer's input, relative to the gradient at the top (1 = kept, 1e-10 =
    vanished, 1e10 = exploded)."""
    f, df = ACTIVATIONS[activation]
    rng = np.random.default_rng(seed)
    h, stds, cache = rng.standard_normal((512, width)), [], []
    with np.errstate(all="ignore"):
        for layer in range(depth):
            w = make_weight((width, width), seed + 1000 * layer + 1)
            z = h @ w
            h = f(z)
            cache.append((w, z, h))
            stds.append(float(h.std()))
        grad = np.random.default_rng(seed + 1).standard_normal(h.shape)
        top, norms = np.linalg.norm(grad), []
        for w, z, a in reversed(cache):
            grad = (grad * df(z, a)) @ w.T
            norms.append(float(np.linalg.norm(grad) / top))
    return np.array(stds), np.array(norms[::-1])


def regression_with_spikes(clip, max_norm: float | None = None, lr: float = 0.05, steps: int = 400,
                           seed: int = 1) -> tuple[Array, Array]:
    """Linear regression (10 weights) by SGD on batches of 32, where one batch in fifty holds a
    label corrupted by 1e4. Returns the clean loss (mean squared distance of the predictions
    to the true ones) after each step and the global gradient norm before clipping, which
    ``clip.global_norm`` measures; with ``max_norm``, ``clip.clip_by_norm`` clips each step."""
    true_w = np.random.default_rng(0).normal(size=10)
    rng, w = np.random.default_rng(seed), np.zeros(10)
    losses, norms = [], []
    for step in range(steps):
        x = rng.normal(size=(32, 10))
        y = x @ true_w + 0.1 * rng.normal(size=32)
        if step % 50 == 25:
            y[0] += 1e4
        grad = 2 * x.T @ (x @ w - y) / len(y)
        norms.append(clip.global_norm([grad]))
        if max_norm is not None:
            (grad,), _ = clip.clip_by_norm([grad], max_norm)
        w = w - lr * grad
        losses.append(float(np.mean((x @ (w - true_w)) ** 2)))
    return np.array(losses), np.array(norms)


def small_output(shape: tuple, seed: int) -> Array:
    """Xavier-normal weights times 0.1, for an output layer: the initial loss is then ln(10)."""
    return np.random.default_rng(seed).normal(0.0, 0.1 * np.sqrt(2.0 / (shape[0] + shape[1])), shape)
