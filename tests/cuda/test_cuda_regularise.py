"""The model-selection settings on CUDA: the moving-average kernels against their CPU twins and
the literal matrix, and training steps with dropout, the moving-average input, clipping and
decoupled weight decay equal to the CPU's (same draws, float64), staying on the device.
Block size shrunk to 5 as in the other CUDA tests; outputs prefilled with NaN."""
from __future__ import annotations

import numpy as np
import pytest
from tinyemo.kernels import cpu, reference

import tinyemo.engine.functional as F
from tinyemo import Tensor
from tinyemo.engine import backend
from tinyemo.engine.optim import Adam, clip_grad_norm
from tinyemo.models.config import ModelConfig
from tinyemo.models.nets import build_model

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


@pytest.fixture
def gpu(device, monkeypatch):
    from tinyemo.kernels import cuda
    from tinyemo.kernels.cuda import config
    monkeypatch.setattr(config, "THREADS_PER_BLOCK", 5)
    return cuda


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, left, right", [((1, 1, 1), 0, 0), ((2, 3, 9), 1, 2),
                                                ((1, 2, 7), 4, 4), ((2, 1, 5), 0, 6)])
def test_moving_average_kernels_match_cpu_and_the_matrix(gpu, shape, left, right, dtype):
    rng = np.random.default_rng(0)
    x, gy = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    a = reference.moving_average_matrix(shape[-1], left, right)
    for name, source, expected in (("forward", x, x @ a.T), ("backward", gy, gy @ a)):
        out = gpu.to_device(np.full(shape, np.nan, dtype))
        getattr(gpu, f"moving_average1d_{name}")(gpu.to_device(source), left, right, out)
        host = np.empty(shape, dtype)
        getattr(cpu, f"moving_average1d_{name}")(source, left, right, host)
        got = out.copy_to_host()
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_allclose(got, host, **TOL[dtype])
        np.testing.assert_allclose(got, expected, **TOL[dtype])


def test_training_steps_with_the_new_settings_match_cpu(gpu):
    cfg = ModelConfig(arch="dilated", in_channels=3, width=2, kernel_size=(2, 3), depth=2,
                      activation="tanh", init="xavier", dropout=0.3, dropout_mode="channel",
                      input_average=0.12)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((3, 20)), np.cumsum(rng.standard_normal((1, 20)), axis=1) / 4
    models = {d: build_model(cfg, seed=2, dtype=np.float64).to(d) for d in ("cpu", "cuda")}
    opts = {d: Adam(m.parameters(), lr=1e-2, weight_decay=0.04, decoupled_weight_decay=0.1)
            for d, m in models.items()}
    norms = {"cpu": [], "cuda": []}
    for step in range(2):
        for d, model in models.items():
            opts[d].zero_grad()
            model.reseed(np.random.default_rng([step, 5]))          # the same draws on both
            loss = F.ccc_loss(model(Tensor(backend.to_device(x, d))),
                              Tensor(backend.to_device(y, d)))
            loss.backward()
            norms[d].append(clip_grad_norm(model.parameters(), 0.05))
            opts[d].step()
    np.testing.assert_allclose(norms["cuda"], norms["cpu"], rtol=1e-10)
    assert norms["cpu"][0] > 0.05                                    # clipping was active
    for (name, p_cpu), (_, p_gpu) in zip(models["cpu"].named_parameters(),
                                         models["cuda"].named_parameters()):
        assert backend.device_of(p_gpu.data) == "cuda"
        # atol as in test_cuda_autograd.py: the zero-initialised output layer's first bias
        # gradient is rounding noise (summed in another order per target) that Adam amplifies
        np.testing.assert_allclose(p_gpu.numpy(), p_cpu.numpy(), rtol=1e-9, atol=1e-9,
                                   err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_kernel_matches_cpu_and_reference(gpu, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7)).astype(dtype)
    draws = rng.random((2, 3, 7)).astype(dtype)
    out = gpu.to_device(np.full(x.shape, np.nan, dtype))
    gpu.dropout(gpu.to_device(x), gpu.to_device(draws), 0.3, out)
    host = np.empty_like(x)
    cpu.dropout(x, draws, 0.3, host)
    got = out.copy_to_host()
    np.testing.assert_array_equal(got == 0, host == 0)          # the same mask
    np.testing.assert_allclose(got, host, **TOL[dtype])   # the simulator rounds float32 its way
    np.testing.assert_allclose(got, reference.dropout(x, draws, 0.3), **TOL[dtype])
    assert 0 < (got == 0).sum() < x.size
