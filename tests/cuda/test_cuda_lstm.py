"""The CUDA LSTM kernels against the CPU kernels (float32 and float64, both directions, T = 1
included, several sequences, a strided output slice), and nn.LSTM's gradients on CUDA against
the CPU's. Tiny shapes with the block size shrunk to 5: run in the simulator with
``NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/cuda``."""
from __future__ import annotations

import numpy as np
import pytest
from tinyemo.kernels import cpu

from tinyemo import Tensor
from tinyemo.engine import backend, nn

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


@pytest.fixture
def gpu(device, monkeypatch):
    from tinyemo.kernels import cuda
    from tinyemo.kernels.cuda import config
    monkeypatch.setattr(config, "THREADS_PER_BLOCK", 5)
    return cuda


def _run(target, host, x, w_ih, w_hh, b, reverse, gy, gx0):
    """Forward and backward on ``target``; every output as a host array."""
    n, c_in, t = x.shape
    h = w_hh.shape[1]
    put = (lambda a: a) if target is cpu else (lambda a: target.to_device(np.ascontiguousarray(a)))
    dt = x.dtype
    nan = (lambda s: np.full(s, np.nan, dt)) if target is cpu else \
        (lambda s: target.to_device(np.full(s, np.nan, dt)))
    xd, wi, wh = put(x), put(w_ih), put(w_hh)
    gates, cell, hidden = nan((t, n, 4 * h)), nan((t, n, h)), nan((t, n, h))
    y_wide = nan((n, 2 * h, t))
    y = y_wide[:, h:, :]  # a channel slice, as the second direction of a bidirectional layer
    target.lstm_forward(xd, wi, wh, put(b), reverse, gates, cell, hidden, y)
    gx, gw_ih, gw_hh, gb = put(gx0.copy()), nan(w_ih.shape), nan(w_hh.shape), nan((4 * h,))
    target.lstm_backward(xd, wi, wh, reverse, gates, cell, hidden, put(gy)[:, :, :], gx,
                         gw_ih, gw_hh, gb)
    return [host(a) for a in (y_wide, gates, cell, hidden, gx, gw_ih, gw_hh, gb)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, c_in, h, t, reverse", [(1, 2, 2, 1, False), (2, 3, 2, 4, False),
                                                    (2, 1, 3, 3, True), (1, 2, 1, 5, True)])
def test_lstm_kernels_match_cpu(gpu, n, c_in, h, t, reverse, dtype):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((n, c_in, t)).astype(dtype)
    w_ih = (rng.standard_normal((4 * h, c_in)) / 2).astype(dtype)
    w_hh = (rng.standard_normal((4 * h, h)) / 2).astype(dtype)
    b = rng.standard_normal(4 * h).astype(dtype)
    gy = rng.standard_normal((n, h, t)).astype(dtype)
    gx0 = rng.standard_normal((n, c_in, t)).astype(dtype)  # overwritten: gx is never added to
    want = _run(cpu, lambda a: a, x, w_ih, w_hh, b, reverse, gy, gx0)
    got = _run(gpu, lambda a: a.copy_to_host(), x, w_ih, w_hh, b, reverse, gy, gx0)
    names = ["y", "gates", "cell", "hidden", "gx", "gw_ih", "gw_hh", "gb"]
    for name, g, w in zip(names, got, want):
        if name == "y":  # only the slice was written; the rest stays NaN on both
            g, w = g[:, h:], w[:, h:]
        np.testing.assert_allclose(g, w, err_msg=name, **TOL[dtype])


def test_bidirectional_lstm_gradients_on_cuda_match_cpu(device, monkeypatch):
    from tinyemo.kernels.cuda import config
    monkeypatch.setattr(config, "THREADS_PER_BLOCK", 5)
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 3, 4))
    gy = rng.standard_normal((2, 4, 4))
    grads = {}
    for d in ("cpu", device):
        model = nn.LSTM(3, 2, num_layers=2, bidirectional=True, rng=np.random.default_rng(0),
                        dtype=np.float64).to(d)
        xt = Tensor(backend.to_device(x, d), requires_grad=True)
        y = model(xt)
        y.backward(backend.to_device(gy, d))
        grads[d] = {"y": y.numpy(), "x": backend.to_numpy(xt.grad)}
        grads[d].update({name: backend.to_numpy(p.grad) for name, p in model.named_parameters()})
    for name, want in grads["cpu"].items():
        np.testing.assert_allclose(grads[device][name], want, rtol=1e-11, atol=1e-13,
                                   err_msg=name)


@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_lstm_backward_without_gx_leaves_the_weight_gradients_unchanged(gpu, target):
    """gx None (an input that needs no gradient): the weight and bias gradients equal those of a
    call that computes gx, on both targets."""
    rng = np.random.default_rng(13)
    n, c_in, h, t = 2, 3, 2, 4
    x = rng.standard_normal((n, c_in, t))
    w_ih, w_hh = rng.standard_normal((4 * h, c_in)) / 2, rng.standard_normal((4 * h, h)) / 2
    b, gy = rng.standard_normal(4 * h), rng.standard_normal((n, h, t))
    k = cpu if target == "cpu" else gpu
    put = (lambda a: a) if target == "cpu" else k.to_device
    host = (lambda a: a) if target == "cpu" else (lambda a: a.copy_to_host())
    gates, cell, hidden = put(np.empty((t, n, 4 * h))), put(np.empty((t, n, h))), \
        put(np.empty((t, n, h)))
    k.lstm_forward(put(x), put(w_ih), put(w_hh), put(b), True, gates, cell, hidden,
                   put(np.empty((n, h, t))))
    results = []
    for gx in (put(np.empty((n, c_in, t))), None):
        out = [put(np.full(s, np.nan)) for s in (w_ih.shape, w_hh.shape, (4 * h,))]
        k.lstm_backward(put(x), put(w_ih), put(w_hh), True, gates, cell, hidden, put(gy), gx,
                        *out)
        results.append([host(a) for a in out])
    for name, with_gx, without in zip(("gw_ih", "gw_hh", "gb"), *results):
        assert np.isfinite(without).all(), name
        np.testing.assert_array_equal(without, with_gx, err_msg=name)
