"""Grouped conv1d and conv_transpose1d on CUDA (each group the ungrouped kernels on channel
views, as on the CPU): forward and every gradient equal the CPU's in float64, tiny shapes."""
from __future__ import annotations

import numpy as np
import pytest

import tinyemo.engine.functional as F
from tinyemo import Tensor
from tinyemo.engine import backend


@pytest.fixture(autouse=True)
def _small_blocks(device, monkeypatch):
    from tinyemo.kernels.cuda import config
    monkeypatch.setattr(config, "THREADS_PER_BLOCK", 5)


@pytest.mark.parametrize("stride, groups", [(1, 2), (3, 3)])
def test_grouped_convs_match_cpu(device, stride, groups):
    rng = np.random.default_rng(stride)
    host = {"x": rng.standard_normal((2, 2 * groups, 7)),
            "w": rng.standard_normal((groups, 2, 2)),          # conv: 2·G → G channels
            "b": rng.standard_normal(groups),
            "wt": rng.standard_normal((groups, 2, 3)),         # transposed: G → 2·G channels
            "bt": rng.standard_normal(2 * groups)}
    results = {}
    for d in ("cpu", device):
        t = {k: Tensor(backend.to_device(v, d), requires_grad=True) for k, v in host.items()}
        h = F.conv1d(t["x"], t["w"], t["b"], padding=(1, 0), dilation=2, groups=groups)
        y = F.conv_transpose1d(F.tanh(h), t["wt"], t["bt"], stride=stride, groups=groups)
        gy = np.random.default_rng(9).standard_normal(y.shape)
        y.backward(backend.to_device(gy, d))
        results[d] = {k: backend.to_numpy(v.grad) for k, v in t.items()}
        results[d]["y"] = backend.to_numpy(y.data)
    for k, value in results["cpu"].items():
        np.testing.assert_allclose(results[device][k], value, rtol=1e-9, atol=1e-12, err_msg=k)
