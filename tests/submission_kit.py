"""Build test submissions: the reference with replacements, zero-returning fakes, attacks."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from autograder import paths

#: Module bodies whose functions return zeros of a plausible shape: what an attacker returns
#: when only a forged comparison could earn points.
ZEROS = {
    "normalization": '''
        import numpy as np
        def _z(x, *a, **k): return np.zeros_like(np.asarray(x, dtype=float))
        batch_norm = layer_norm = group_norm = rms_norm = _z
        def batch_norm_backward(dout, x, gamma, eps=1e-5):
            return np.zeros_like(np.asarray(x, float)), np.zeros_like(np.asarray(gamma, float)), np.zeros_like(np.asarray(gamma, float))
        layer_norm_backward = batch_norm_backward
        class BatchNorm:
            def __init__(self, num_features, momentum=0.1, eps=1e-5):
                self.gamma = np.ones(num_features); self.beta = np.zeros(num_features)
                self.running_mean = np.zeros(num_features); self.running_var = np.ones(num_features)
                self.training = True
            def train(self): return self
            def eval(self): return self
            def __call__(self, x): return np.zeros_like(np.asarray(x, dtype=float))
    ''',
    "initialization": '''
        import numpy as np
        def compute_fans(shape): return (0, 0)
        def calculate_gain(nonlinearity, param=None): return 0.0
        def _z(shape, *a, **k): return np.zeros(tuple(shape))
        xavier_uniform = xavier_normal = he_uniform = he_normal = orthogonal = _z
    ''',
    "clipping": '''
        import numpy as np
        def global_norm(grads, norm_type=2.0): return 0.0
        def clip_by_value(grads, min_val, max_val): return [np.zeros_like(np.asarray(g, float)) for g in grads]
        def clip_by_norm(grads, max_norm, norm_type=2.0): return [np.zeros_like(np.asarray(g, float)) for g in grads], 0.0
    ''',
    "schedules": '''
        def linear_warmup(step, warmup_steps, base_lr): return 0.0
        def cosine_decay(step, total_steps, base_lr, min_lr=0.0): return 0.0
        def warmup_cosine(step, warmup_steps, total_steps, base_lr, min_lr=0.0): return 0.0
        def step_decay(step, base_lr, step_size, gamma=0.1): return 0.0
        def inverse_sqrt(step, warmup_steps, base_lr): return 0.0
    ''',
}


def reference_submission(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for module in paths.MODULES:
        shutil.copy(paths.SOLUTIONS / f"{module}.py", folder / f"{module}.py")
    return folder


def with_replacements(folder: Path, module: str, *pairs: tuple[str, str]) -> Path:
    """The reference, with text replacements in one module."""
    reference_submission(folder)
    path = folder / f"{module}.py"
    source = path.read_text()
    for old, new in pairs:
        assert old in source, old
        source = source.replace(old, new)
    path.write_text(source)
    return folder


def attack_submission(folder: Path, prelude: str, body_for=None) -> Path:
    """Every module: ``prelude`` (attack code run at import) then the zero-returning fakes,
    then ``body_for(module)`` if given (e.g. functions that return what the attack found)."""
    folder.mkdir(parents=True, exist_ok=True)
    for module in paths.MODULES:
        parts = [textwrap.dedent(prelude), textwrap.dedent(ZEROS[module])]
        if body_for:
            parts.append(textwrap.dedent(body_for(module)))
        (folder / f"{module}.py").write_text("\n".join(parts))
    return folder
