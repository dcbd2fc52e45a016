"""Compute expected outputs with PyTorch and save them, with their inputs, to torch_golden.npz.

Run it where PyTorch is installed (it is not a dependency of this repository):

    pip install torch==2.13.0 numpy && python tests/golden/make_golden.py

The tests (tests/test_golden.py) feed the same inputs to the reference solutions and compare
at float64 tolerance, so the solutions are checked against PyTorch without importing it.
Every tensor here is float64. Keys are "<case>/<name>"; "<case>/meta" holds JSON arguments.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).with_name("torch_golden.npz")
torch.set_default_dtype(torch.float64)


def t(array: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(array, dtype=torch.float64, requires_grad=grad)


def main() -> None:
    rng = np.random.default_rng(2024)
    cases: dict[str, np.ndarray] = {}

    def save(case: str, meta: dict | None = None, **arrays: np.ndarray) -> None:
        for name, value in arrays.items():
            cases[f"{case}/{name}"] = np.asarray(value, dtype=np.float64)
        cases[f"{case}/meta"] = np.array(json.dumps(meta or {}))

    # Forward norms.
    for case, shape in (("batch_norm_2d", (6, 4)), ("batch_norm_4d", (3, 5, 4, 2))):
        x = rng.normal(2.0, 3.0, shape)
        c = shape[1]
        gamma, beta = rng.uniform(0.5, 2, c), rng.normal(size=c)
        y = F.batch_norm(t(x), None, None, t(gamma), t(beta), training=True, eps=1e-5)
        save(case, x=x, gamma=gamma, beta=beta, y=y.numpy())
    x = rng.normal(1.0, 2.0, (2, 3, 5))
    gamma, beta = rng.uniform(0.5, 2, 5), rng.normal(size=5)
    save("layer_norm_3d", x=x, gamma=gamma, beta=beta,
         y=F.layer_norm(t(x), (5,), t(gamma), t(beta), 1e-5).numpy())
    x = rng.normal(-1.0, 2.0, (3, 6, 4, 2))
    gamma, beta = rng.uniform(0.5, 2, 6), rng.normal(size=6)
    save("group_norm_4d", {"num_groups": 3}, x=x, gamma=gamma, beta=beta,
         y=F.group_norm(t(x), 3, t(gamma), t(beta), 1e-5).numpy())
    x = rng.normal(0.5, 2.0, (4, 7))
    gamma = rng.uniform(0.5, 2, 7)
    save("rms_norm_2d", x=x, gamma=gamma, y=F.rms_norm(t(x), (7,), t(gamma), 1e-6).numpy())

    # Backward passes through autograd.
    for case, norm in (("batch_norm_backward", "batch"), ("layer_norm_backward", "layer")):
        x = rng.normal(1.0, 2.0, (5, 3))
        gamma, beta, dout = rng.uniform(0.5, 2, 3), rng.normal(size=3), rng.normal(size=(5, 3))
        xt, gt, bt = t(x, True), t(gamma, True), t(beta, True)
        if norm == "batch":
            y = F.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5)
        else:
            y = F.layer_norm(xt, (3,), gt, bt, 1e-5)
        y.backward(t(dout))
        save(case, x=x, gamma=gamma, dout=dout, dx=xt.grad.numpy(), dgamma=gt.grad.numpy(), dbeta=bt.grad.numpy())

    # BatchNorm running statistics over three training steps, then eval.
    for case, shape, layer in (("BatchNorm_2d", (6, 4), torch.nn.BatchNorm1d(4, momentum=0.2)),
                               ("BatchNorm_4d", (3, 4, 3, 2), torch.nn.BatchNorm2d(4, momentum=0.1))):
        layer = layer.double()
        arrays = {}
        for step in range(3):
            x = rng.normal(1.0, 2.0, shape)
            arrays[f"x{step}"] = x
            arrays[f"y{step}"] = layer(t(x)).detach().numpy()
            arrays[f"running_mean{step}"] = layer.running_mean.numpy().copy()
            arrays[f"running_var{step}"] = layer.running_var.numpy().copy()
        layer.eval()
        x = rng.normal(1.0, 2.0, shape)
        arrays["x_eval"], arrays["y_eval"] = x, layer(t(x)).detach().numpy()
        save(case, {"momentum": layer.momentum, "num_features": 4}, **arrays)

    # Gains and fans.
    gains = [("linear", None), ("sigmoid", None), ("conv2d", None), ("tanh", None), ("relu", None),
             ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]
    save("gains", {"calls": gains}, values=[torch.nn.init.calculate_gain(n, p) for n, p in gains])
    shapes = [(64, 1024), (16, 8, 3, 5), (4, 3, 2), (7, 5, 3, 2, 2)]
    fans = []
    for shape in shapes:
        # PyTorch stores a dense weight as (out, in); this course uses (in, out).
        torch_shape = shape[::-1] if len(shape) == 2 else shape
        fans.append(torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(torch_shape)))
    save("fans", {"shapes": shapes}, values=fans)

    # clip_grad_norm_.
    grads = [rng.normal(0, s, shape) for s, shape in ((0.5, (3,)), (2.0, (2, 4)), (5.0, (3, 2, 2)))]
    for norm_type in (2.0, 1.0, math.inf):
        params = [torch.nn.Parameter(t(g)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = t(g)
        total = torch.nn.utils.clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type)
        name = "inf" if norm_type == math.inf else str(int(norm_type))
        save(f"clip_grad_norm_{name}", {"max_norm": 1.5, "norm_type": repr(norm_type)},
             total=total.item(), **{f"g{i}": g for i, g in enumerate(grads)},
             **{f"clipped{i}": p.grad.numpy() for i, p in enumerate(params)})

    # Schedulers, read before each optimizer step: the rate for update `step`.
    def rates(make, steps, lr):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
        scheduler = make(opt)
        values = []
        for _ in range(steps):
            values.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
        return values

    lr, total, eta = 0.3, 12, 0.01
    save("CosineAnnealingLR", {"base_lr": lr, "total_steps": total, "min_lr": eta},
         rates=rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total, eta_min=eta), total + 1, lr))
    # LinearLR cannot start at exactly 0; 1e-12 of base_lr is zero at this tolerance.
    save("LinearLR", {"base_lr": lr, "warmup_steps": 5, "start_factor": 1e-12},
         rates=rates(lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=1e-12, total_iters=5), 11, lr))
    save("StepLR", {"base_lr": lr, "step_size": 3, "gamma": 0.5},
         rates=rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 10, lr))

    cases["torch_version"] = np.array(torch.__version__)
    np.savez_compressed(OUT, **cases)
    print(f"wrote {OUT} ({len(cases)} arrays) with torch {torch.__version__}")


if __name__ == "__main__":
    main()
