"""The autograd engine: PyTorch-style Tensor API, accumulation with +=, shared subgraphs,
no_grad, dtypes, and a whole model's backward derived from its forward."""
from __future__ import annotations

import numpy as np
import pytest
from tinyemo.kernels import reference as R

import tinyemo
from tinyemo import Tensor
from tinyemo.engine import functional as F
from tinyemo.engine import nn, optim

from tests.helpers.gradcheck import assert_grad_close, ccc_loss_of, numeric_grad


def test_default_dtype_is_float32_and_float64_is_kept():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.zeros(3)).dtype == np.float64
    assert Tensor(np.zeros(3, np.float32)).dtype == np.float32


def test_a_tensor_used_twice_accumulates_both_gradients():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    (x * x + x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * np.array([1.0, -2.0, 3.0]) + 3)


def test_leaf_gradients_accumulate_across_backward_calls_until_zeroed():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 2.0).sum().backward()
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(x.grad, [7.0, 7.0])
    x.zero_grad()
    assert x.grad is None


def test_scalar_arithmetic_and_means():
    x = Tensor(np.array([1.0, 2.0, 3.0, 6.0]), requires_grad=True)
    y = (2.0 - x * 0.5).mean()
    assert y.shape == () and y.item() == pytest.approx(2.0 - 1.5)
    y.backward()
    np.testing.assert_allclose(x.grad, [-0.125] * 4)
    z = -x
    z.backward(np.ones(4))
    np.testing.assert_allclose(x.grad, [-1.125] * 4)


def test_backward_needs_a_gradient_for_non_scalars():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="single-element"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match="gradient shape"):
        (x * 2.0).backward(np.ones(4))


def test_no_grad_records_nothing():
    x = Tensor(np.ones(3), requires_grad=True)
    with tinyemo.no_grad():
        y = x * 2.0
    assert not y.requires_grad


def test_a_small_model_backward_matches_central_differences_float64():
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv1d(3, 4, 3, padding="same", rng=rng, dtype=np.float64), nn.ReLU(),
        nn.MaxPool1d(3), nn.Conv1d(4, 4, 2, padding="same", dilation=2, rng=rng, dtype=np.float64),
        nn.Tanh(), nn.ConvTranspose1d(4, 2, 3, stride=3, rng=rng, dtype=np.float64), nn.ReLU(),
        nn.Pad1d(-1, 1), nn.Conv1d(2, 1, 1, rng=rng, dtype=np.float64))
    x = rng.standard_normal((3, 18))
    target = rng.standard_normal(18)
    loss = F.ccc_loss(model(x).reshape(-1), target)
    loss.backward()
    params = model.parameters()
    for p in params:
        def f(v, p=p):
            keep = p.data
            p.data = v
            with tinyemo.no_grad():
                out = F.ccc_loss(model(x).reshape(-1), target).item()
            p.data = keep
            return out
        assert_grad_close(p.grad, numeric_grad(f, p.data), rtol=1e-5, atol=1e-9)


def test_adam_step_matches_reference_and_pytorch_rule():
    rng = np.random.default_rng(1)
    p0, g = rng.standard_normal(7), rng.standard_normal(7)
    p = nn.Parameter(p0.copy())
    opt = optim.Adam([p], lr=0.01, weight_decay=0.1)
    m = v = np.zeros(7)
    ref = p0.copy()
    for step in (1, 2, 3):
        p.grad = g * step
        opt.step()
        ref, m, v = R.adam_step(ref, g * step, m, v, 0.01, 0.9, 0.999, 1e-8, 0.1, step)
    np.testing.assert_allclose(p.data, ref, rtol=1e-12)
    torch = pytest.importorskip("torch")
    tp = torch.tensor(p0.copy(), requires_grad=True)
    topt = torch.optim.Adam([tp], lr=0.01, weight_decay=0.1)
    for step in (1, 2, 3):
        tp.grad = torch.tensor(g * step)
        topt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10)


def test_state_dict_round_trip_and_mismatch_error():
    rng = np.random.default_rng(2)
    a = nn.Sequential(nn.Conv1d(2, 3, 3, rng=rng), nn.ReLU(), nn.Conv1d(3, 1, 1, rng=rng))
    b = nn.Sequential(nn.Conv1d(2, 3, 3, rng=rng), nn.ReLU(), nn.Conv1d(3, 1, 1, rng=rng))
    b.load_state_dict(a.state_dict())
    x = rng.standard_normal((2, 10)).astype(np.float32)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    c = nn.Sequential(nn.Conv1d(2, 5, 3, rng=rng))
    with pytest.raises(ValueError, match="ckpt.npz"):
        c.load_state_dict(a.state_dict(), source="ckpt.npz")


def test_downup_with_overlapping_up_filters_keeps_length_and_gradients():
    from tinyemo.models.config import ModelConfig
    from tinyemo.models.context import receptive_field
    from tinyemo.models.nets import build_model
    cfg = ModelConfig.for_arch("downup", "arousal", in_channels=3, width=2, depth=2,
                               up_kernel_size=5)
    model = build_model(cfg, seed=1, dtype=np.float64)
    rng = np.random.default_rng(3)
    x, target = rng.standard_normal((3, 20)), rng.standard_normal(20)
    assert model(x).shape == (1, 20) and receptive_field(model) > 1
    model.net.layers[-1].weight.data[:] = 0.5          # a non-zero output layer for the check
    F.ccc_loss(model(x), target).backward()
    up = [layer for layer in model.net.layers if isinstance(layer, nn.ConvTranspose1d)]
    assert len(up) == 2 and isinstance(model.net.layers[9], nn.Pad1d)   # crops the overlap
    p = up[0].weight
    assert_grad_close(p.grad, numeric_grad(ccc_loss_of(model, p, x, target), p.data),
                      rtol=1e-5, atol=1e-9)
