"""CCC: value against the formula, gradient against central differences (incl. near-constant
predictions), the symmetric target gradient, the degenerate case, and PyTorch-free loss use."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tinyemo.kernels import reference as R

from tinyemo import Tensor
from tinyemo.engine import functional as F

from tests.helpers.gradcheck import assert_grad_close, numeric_grad


@given(st.integers(2, 60), st.integers(0, 2**31), st.floats(1e-6, 10.0), st.floats(-3, 3))
def test_value_and_gradients_match_references(t, seed, pred_scale, offset):
    rng = np.random.default_rng(seed)
    x = pred_scale * rng.standard_normal(t) + offset   # pred_scale → 1e-6: near-constant
    y = rng.standard_normal(t)
    xt, yt = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    c = F.ccc(xt, yt)
    np.testing.assert_allclose(c.item(), R.ccc(x, y), rtol=1e-12, atol=1e-15)
    g = rng.standard_normal()
    c.backward(np.array(g))
    assert_grad_close(xt.grad, g * R.ccc_grad(x, y), rtol=1e-9, atol=1e-12)
    assert_grad_close(xt.grad, g * numeric_grad(lambda v: R.ccc(v, y), x, h=1e-7 * pred_scale + 1e-9),
                      rtol=1e-5, atol=1e-7)
    assert_grad_close(yt.grad, g * numeric_grad(lambda v: R.ccc(x, v), y), rtol=1e-6, atol=1e-8)


def test_constant_prediction_has_zero_ccc_and_a_finite_gradient():
    y = np.sin(np.linspace(0, 6, 50))
    xt = Tensor(np.full(50, 0.3), requires_grad=True)
    c = F.ccc(xt, y)
    assert abs(c.item()) < 1e-15
    c.backward()
    assert np.isfinite(xt.grad).all() and np.abs(xt.grad).max() > 0
    assert_grad_close(xt.grad, numeric_grad(lambda v: R.ccc(v, y), np.full(50, 0.3)), rtol=1e-6)


def test_perfect_and_degenerate_cases():
    y = np.linspace(-1, 1, 11)
    assert abs(F.ccc(y, y).item() - 1) < 1e-15
    assert abs(F.ccc(-y, y).item() + 1) < 1e-15
    const = Tensor(np.full(5, 2.0), requires_grad=True)
    c = F.ccc(const, np.full(5, 2.0))       # 0/0: defined as 1, zero gradient
    c.backward()
    assert c.item() == 1.0 and not const.grad.any()


def test_ccc_loss_composes_with_tensor_arithmetic():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal(30), rng.standard_normal(30)
    xt = Tensor(x, requires_grad=True)
    loss = 0.5 * F.ccc_loss(xt, y) + F.mse_loss(xt, y) * 2.0 - 1.0
    expected = 0.5 * (1 - R.ccc(x, y)) + 2 * np.mean((x - y) ** 2) - 1
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    loss.backward()
    num = numeric_grad(lambda v: 0.5 * (1 - R.ccc(v, y)) + 2 * np.mean((v - y) ** 2) - 1, x)
    assert_grad_close(xt.grad, num)
