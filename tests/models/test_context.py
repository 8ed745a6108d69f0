"""models.context against the nets themselves: perturbing input frame j changes exactly the
outputs t with t − left ≤ j ≤ t + right at the extremes, over every phase of the pooling
grid; and the streaming latency each architecture states."""
from __future__ import annotations

import numpy as np
import pytest

from tinyemo import Tensor, no_grad
from tinyemo.frontend import FbankOptions
from tinyemo.models.config import ModelConfig
from tinyemo.models.context import context
from tinyemo.models.nets import build_model
from tinyemo.serve.windowed import default_latencies, latency_seconds

CASES = [("downup", {"depth": 3}), ("downup", {"up_kernel_size": 4, "depth": 3}),
         ("downup", {"up_kernel_size": 5, "depth": 2, "pool": 4}),
         ("downup", {}),
         ("dilated", {}), ("dilated", {"kernel_size": 3, "depth": 4}),
         ("single", {"filter_length": 8}), ("single", {"filter_length": 9}),
         # the regularisation settings: a moving average ahead (its window widens the
         # context), per-layer kernels, tanh, dropout (the identity in evaluation)
         ("dilated", {"depth": 4, "kernel_size": [2, 3, 2, 3], "input_average": 0.2,
                      "activation": "tanh", "dropout": 0.5}),
         ("downup", {"depth": 2, "kernel_size": [3, 5, 3], "input_average": 0.16,
                     "dropout": 0.3, "dropout_mode": "channel"})]


def _randomised(arch, kw):
    width = {} if arch == "single" else {"width": 8}
    model = build_model(ModelConfig.for_arch(arch, in_channels=8, **width, **kw), seed=1)
    rng = np.random.default_rng(2)
    for p in model.parameters():   # no zero layer, no dead unit: every path carries signal
        p.data = (0.3 * rng.standard_normal(p.shape)).astype(np.float32)
    return model.eval()


@pytest.mark.parametrize("arch, kw", CASES)
def test_context_is_what_the_net_reads(arch, kw):
    model = _randomised(arch, kw)
    ctx = context(model)
    t_len = 2 * ctx.grid + 2 * (ctx.left + ctx.right) + 300
    x = np.random.default_rng(3).standard_normal((8, t_len)).astype(np.float32)
    with no_grad():
        base = model(Tensor(x)).numpy().ravel()
    widest_left = widest_right = 0
    mid = (t_len // 2) // ctx.grid * ctx.grid
    for j in range(mid, mid + ctx.grid + 1):          # every phase of the pooling grid
        changed = np.empty(0, np.int64)
        for bump in (3.0, -3.0, 100.0, -100.0):   # max-pools pass a bump only where it wins
            x2 = x.copy()
            x2[:, j] += bump
            with no_grad():
                y = model(Tensor(x2)).numpy().ravel()
            changed = np.union1d(changed, np.flatnonzero(y != base))
        assert changed.size
        widest_right = max(widest_right, j - changed.min())   # outputs before j that read it
        widest_left = max(widest_left, changed.max() - j)
    assert (widest_left, widest_right) == (ctx.left, ctx.right)


def test_stated_latencies():
    ctx = {arch: context(build_model(ModelConfig.for_arch(arch))) for arch in ("single", "dilated", "downup")}
    assert (ctx["dilated"].left, ctx["dilated"].right, ctx["dilated"].grid) == (511, 512, 1)
    assert (ctx["downup"].left, ctx["downup"].right, ctx["downup"].grid) == (201, 201, 81)
    assert (ctx["single"].left, ctx["single"].right) == (255, 256)
    # row t is final once its last 10-ms frame (samples up to 0.04 t + 0.055 s) and the
    # right context have arrived
    lat = default_latencies()
    assert {a: lat[a] for a in ("single", "dilated", "downup")} == pytest.approx(
        {"single": 256 * 0.04 + 0.055, "dilated": 512 * 0.04 + 0.055, "downup": 201 * 0.04 + 0.055})
    assert lat.get("blstm", float("inf")) == float("inf")     # recurrent: the whole recording
    centred = latency_seconds(ctx["downup"], 16000, FbankOptions(snip_edges=False))
    assert centred == pytest.approx(201 * 0.04 + (480 + 400 - 120) / 16000)
