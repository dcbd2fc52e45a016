"""Correct solutions written other ways never lose a point and never get a mistake named."""
from __future__ import annotations

import pytest

from autograder.engine import grade_submission
from submission_kit import with_replacements

REWRITES = {
    "variance_as_mean_of_squares_minus_square_of_mean": ("normalization", [
        ("var = x.var(axis=axes, keepdims=True)", "var = (x**2).mean(axis=axes, keepdims=True) - mean**2"),
        ("    var = x.var(axis=-1, keepdims=True)\n    x_hat", "    var = np.mean(x * x, axis=-1, keepdims=True) - mean**2\n    x_hat"),
    ]),
    "einsum_rms_and_divide_by_rsqrt": ("normalization", [
        ("mean_square = np.mean(x**2, axis=-1, keepdims=True)",
         "mean_square = np.einsum('...d,...d->...', x, x)[..., None] / x.shape[-1]"),
        ("return _as_float64(gamma) * x / np.sqrt(mean_square + eps)",
         "return _as_float64(gamma) * x * (mean_square + eps) ** -0.5"),
    ]),
    "standard_normal_times_std_and_scaled_random": ("initialization", [
        ("return rng.normal(0.0, std, size=shape)", "return std * rng.standard_normal(shape)"),
        ("return rng.uniform(-bound, bound, size=shape)", "return (2 * rng.random(shape) - 1) * bound"),
    ]),
    "orthogonal_through_the_svd": ("initialization", [
        ("    q, r = np.linalg.qr(flat)\n    q = q * np.sign(np.diag(r))",
         "    u, _, vt = np.linalg.svd(flat, full_matrices=False)\n    q = u @ vt"),
    ]),
    "numpy_norms_and_tuples": ("clipping", [
        ("return float(np.linalg.norm(flat, ord=norm_type))",
         "return np.max(np.abs(flat)) if norm_type == np.inf else np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)"),
        ("return [np.asarray(g, dtype=np.float64) * scale for g in grads], total_norm",
         "return tuple(np.multiply(g, scale, dtype=np.float64) for g in grads), total_norm"),
    ]),
    "clipping_without_the_small_guard": ("clipping", [
        ("scale = max_norm / (total_norm + 1e-6) if total_norm > max_norm else 1.0",
         "scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0"),
    ]),
    "numpy_scalars_from_schedules": ("schedules", [
        ("return float(min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2)",
         "return np.float64(min_lr) + (base_lr - min_lr) * 0.5 * (1 + np.cos(np.pi * t / total_steps))"),
        ("return float(base_lr * gamma ** (step // step_size))", "return base_lr * np.power(gamma, step // step_size)"),
        ("import math\n", "import math\n\nimport numpy as np\n"),
    ]),
    "warmup_cosine_written_out": ("schedules", [
        ("    return cosine_decay(step - warmup_steps, total_steps - warmup_steps, base_lr, min_lr)",
         "    progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))\n"
         "    return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * progress))"),
    ]),
}


@pytest.mark.parametrize("name", sorted(REWRITES))
def test_a_correct_rewrite_scores_100(tmp_path, name):
    module, pairs = REWRITES[name]
    grade = grade_submission(with_replacements(tmp_path / name, module, *pairs), name)
    failed = {t.name: t.message for t in grade.tests if t.score < t.max_score}
    assert grade.score == 100, failed
    assert not [t.name for t in grade.tests if t.mistakes]
