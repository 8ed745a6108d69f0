"""Gradients through the autograd ops on CUDA equal the CPU's, and a training step (forward,
backward, Adam) stays on the device: no device→host copy until the loss value is read, and
host→device copies only of single numbers (the 1 of 1 − CCC, the seed gradient of backward).

Tiny models in float64 (tight comparisons); the block size is shrunk to 5 as in the kernel tests.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinyemo.engine.functional as F
from tinyemo import Tensor
from tinyemo.engine import backend
from tinyemo.engine.optim import Adam
from tinyemo.models.config import ModelConfig
from tinyemo.models.nets import build_model

TINY = {  # in_channels 3, width 2: a few blocks per launch, quick in the simulator
    "dilated": ModelConfig(arch="dilated", in_channels=3, width=2, kernel_size=2, depth=3),
    "downup": ModelConfig(arch="downup", in_channels=3, width=2, kernel_size=3, depth=2, pool=3),
}


@pytest.fixture(autouse=True)
def _small_blocks(device, monkeypatch):
    from tinyemo.kernels.cuda import config
    monkeypatch.setattr(config, "THREADS_PER_BLOCK", 5)


@pytest.fixture
def transfers(monkeypatch):
    """Records host→device uploads (their sizes) and device→host downloads."""
    from numba import cuda

    log = {"up": [], "down": 0}
    upload = cuda.to_device

    def counting_upload(array, *args, **kwargs):
        log["up"].append(int(np.size(array)))
        return upload(array, *args, **kwargs)

    device_type = type(cuda.device_array((1,), np.float64))
    download = device_type.copy_to_host

    def counting_download(self, *args, **kwargs):
        log["down"] += 1
        return download(self, *args, **kwargs)

    monkeypatch.setattr(cuda, "to_device", counting_upload)
    monkeypatch.setattr(device_type, "copy_to_host", counting_download)
    return log


def _data(t: int = 20):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, t))
    y = np.cumsum(rng.standard_normal((1, t)), axis=1) / 4  # a slow, label-like target
    return x, y


def _step(model, opt, x, y, loss_name):
    opt.zero_grad()
    prediction = model(x)
    loss = F.ccc_loss(prediction, y) if loss_name == "ccc" else F.mse_loss(prediction, y)
    loss.backward()
    opt.step()
    return loss


@pytest.mark.parametrize("arch, loss_name", [("dilated", "ccc"), ("downup", "ccc"),
                                             ("dilated", "mse")])
def test_training_steps_match_cpu_and_stay_on_device(device, transfers, arch, loss_name):
    x_host, y_host = _data()
    models = {d: build_model(TINY[arch], seed=1, dtype=np.float64).to(d) for d in ("cpu", device)}
    opts = {d: Adam(m.parameters(), lr=1e-2, weight_decay=1e-3) for d, m in models.items()}
    xs = {d: Tensor(backend.to_device(x_host, d)) for d in models}
    ys = {d: Tensor(backend.to_device(y_host, d)) for d in models}
    assert all(backend.device_of(p.data) == "cuda" for p in models[device].parameters())

    losses = {"cpu": [], device: []}
    for _ in range(2):
        for d in models:
            transfers["up"].clear()
            transfers["down"] = 0
            loss = _step(models[d], opts[d], xs[d], ys[d], loss_name)
            if d == device:
                assert transfers["down"] == 0, "a device→host copy inside the training step"
                assert all(size == 1 for size in transfers["up"]), transfers["up"]
                assert all(backend.device_of(p.grad) == "cuda" for p in models[d].parameters())
                assert all(backend.device_of(m) == "cuda" for m in opts[d].m + opts[d].v)
            losses[d].append(loss.item())
    np.testing.assert_allclose(losses[device], losses["cpu"], rtol=1e-10, atol=1e-12)
    for (name, p_cpu), (_, p_gpu) in zip(models["cpu"].named_parameters(),
                                         models[device].named_parameters()):
        # atol: the output layer starts at zero, so the first step's output-bias gradient is
        # Σ ∂CCC/∂y_i = 0 up to rounding (~1e-16, summed in a different order on each target),
        # and Adam turns that noise into a step of up to lr·|g|/(|g| + eps) ≈ 3e-10.
        np.testing.assert_allclose(p_gpu.numpy(), p_cpu.numpy(), rtol=1e-9, atol=1e-9,
                                   err_msg=name)
        np.testing.assert_allclose(backend.to_numpy(p_gpu.grad), p_cpu.grad, rtol=1e-9,
                                   atol=1e-12, err_msg=name)


def test_functional_gradients_match_cpu(device):
    """Every op's backward on CUDA, including gradients wrt inputs and targets, 2-D and 3-D."""
    rng = np.random.default_rng(2)
    host = {"x": rng.standard_normal((2, 2, 9)), "w": rng.standard_normal((3, 2, 2)),
            "b": rng.standard_normal(3), "wt": rng.standard_normal((3, 2, 3)),
            "bt": rng.standard_normal(2), "target": rng.standard_normal((2, 2, 12)),
            "x2": rng.standard_normal((2, 7))}
    grads = {}
    for d in ("cpu", device):
        t = {k: Tensor(backend.to_device(v, d), requires_grad=True) for k, v in host.items()}
        h = F.conv1d(t["x"], t["w"], t["b"], stride=1, padding=(1, 0), dilation=2)  # (2, 3, 8)
        h = F.max_pool1d(F.relu(h), 2, 2)                                            # (2, 3, 4)
        h = F.tanh(F.conv_transpose1d(h, t["wt"], t["bt"], stride=3))                # (2, 2, 12)
        h = F.pad1d(h, -1, 1)
        score = F.ccc(h, t["target"]) * 2.0 - (h * h).mean() + F.pad1d(t["x2"], 1, -2).sum()
        score.backward()
        grads[d] = {k: backend.to_numpy(v.grad) for k, v in t.items()}
        grads[d]["score"] = score.item()
    for k, g in grads["cpu"].items():
        np.testing.assert_allclose(grads[device][k], g, rtol=1e-9, atol=1e-12, err_msg=k)
