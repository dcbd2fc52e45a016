"""The reference solutions against values computed by PyTorch (tests/golden/make_golden.py).

PyTorch is not needed here: its outputs and the inputs it saw are in torch_golden.npz.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

GOLDEN = np.load(Path(__file__).parent / "golden" / "torch_golden.npz", allow_pickle=False)
RTOL, ATOL = 1e-10, 1e-12  # both sides compute in float64; only summation order differs


def case(name: str) -> tuple[dict, dict]:
    arrays = {k.split("/", 1)[1]: GOLDEN[k] for k in GOLDEN.files if k.startswith(name + "/")}
    return json.loads(str(arrays.pop("meta"))), arrays


def close(got, want, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ["batch_norm_2d", "batch_norm_4d"])
def test_batch_norm_matches_torch(ref, name):
    _, a = case(name)
    close(ref.normalization.batch_norm(a["x"], a["gamma"], a["beta"]), a["y"])


def test_layer_norm_matches_torch(ref):
    _, a = case("layer_norm_3d")
    close(ref.normalization.layer_norm(a["x"], a["gamma"], a["beta"]), a["y"])


def test_group_norm_matches_torch(ref):
    meta, a = case("group_norm_4d")
    close(ref.normalization.group_norm(a["x"], meta["num_groups"], a["gamma"], a["beta"]), a["y"])


def test_rms_norm_matches_torch(ref):
    _, a = case("rms_norm_2d")
    close(ref.normalization.rms_norm(a["x"], a["gamma"]), a["y"])


@pytest.mark.parametrize("name", ["batch_norm_backward", "layer_norm_backward"])
def test_backward_matches_autograd(ref, name):
    _, a = case(name)
    dx, dgamma, dbeta = getattr(ref.normalization, name)(a["dout"], a["x"], a["gamma"])
    close(dx, a["dx"])
    close(dgamma, a["dgamma"])
    close(dbeta, a["dbeta"])


@pytest.mark.parametrize("name", ["BatchNorm_2d", "BatchNorm_4d"])
def test_batchnorm_running_statistics_match_torch(ref, name):
    meta, a = case(name)
    layer = ref.normalization.BatchNorm(meta["num_features"], momentum=meta["momentum"])
    for step in range(3):
        close(layer(a[f"x{step}"]), a[f"y{step}"])
        close(layer.running_mean, a[f"running_mean{step}"])
        close(layer.running_var, a[f"running_var{step}"])
    close(layer.eval()(a["x_eval"]), a["y_eval"])


def test_gains_match_torch(ref):
    meta, a = case("gains")
    got = [ref.initialization.calculate_gain(n, p) for n, p in meta["calls"]]
    close(got, a["values"])


def test_fans_match_torch(ref):
    meta, a = case("fans")
    got = [ref.initialization.compute_fans(tuple(s)) for s in meta["shapes"]]
    assert got == [tuple(int(v) for v in row) for row in a["values"]]


@pytest.mark.parametrize("name", ["clip_grad_norm_2", "clip_grad_norm_1", "clip_grad_norm_inf"])
def test_clip_by_norm_matches_clip_grad_norm(ref, name):
    meta, a = case(name)
    grads = [a[f"g{i}"] for i in range(3)]
    clipped, total = ref.clipping.clip_by_norm(grads, meta["max_norm"], float(meta["norm_type"]))
    assert math.isclose(total, float(a["total"]), rel_tol=RTOL)
    for i, c in enumerate(clipped):
        close(c, a[f"clipped{i}"])


def test_cosine_decay_matches_cosine_annealing(ref):
    meta, a = case("CosineAnnealingLR")
    got = [ref.schedules.cosine_decay(s, meta["total_steps"], meta["base_lr"], meta["min_lr"])
           for s in range(len(a["rates"]))]
    close(got, a["rates"], rtol=1e-9)  # PyTorch updates the rate recursively


def test_linear_warmup_matches_linear_lr(ref):
    meta, a = case("LinearLR")
    got = [ref.schedules.linear_warmup(s, meta["warmup_steps"], meta["base_lr"]) for s in range(len(a["rates"]))]
    close(got, a["rates"], rtol=1e-9, atol=1e-11)  # LinearLR starts at 1e-12 * base_lr, not 0


def test_step_decay_matches_step_lr(ref):
    meta, a = case("StepLR")
    got = [ref.schedules.step_decay(s, meta["base_lr"], meta["step_size"], meta["gamma"]) for s in range(len(a["rates"]))]
    close(got, a["rates"])
