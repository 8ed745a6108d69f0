"""moving_average1d: values against the literal matrix, the backward against central
differences and against the matrix's transpose (it is the adjoint), and the edge rule."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinyemo.kernels import reference as R

from tinyemo import Tensor
from tinyemo.engine import functional as F
from tinyemo.engine.ops.moving_average1d import window_sides

from tests.helpers.gradcheck import assert_grad_close, numeric_grad

shapes = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 14))


@given(shapes, st.integers(1, 20), st.integers(0, 2**31), st.booleans())
def test_values_and_gradient_float64(shape, window, seed, batched):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape if batched else shape[1:])
    gy = rng.standard_normal(x.shape)                    # never all ones
    left, right = window_sides(window)
    xt = Tensor(x, requires_grad=True)
    y = F.moving_average1d(xt, window)
    np.testing.assert_allclose(y.numpy(), R.moving_average1d(x, left, right), rtol=1e-12,
                               atol=1e-14)
    y.backward(gy)
    assert_grad_close(xt.grad, numeric_grad(
        lambda v: float(np.sum(R.moving_average1d(v, left, right) * gy)), x))
    a = R.moving_average_matrix(x.shape[-1], left, right)
    np.testing.assert_allclose(xt.grad, gy @ a, rtol=1e-12, atol=1e-14)   # Aᵀ applied to gy


def test_the_window_is_centred_and_shrinks_at_the_edges():
    x = np.arange(10, dtype=np.float32).reshape(1, 10)
    y = F.moving_average1d(x, 4).numpy()[0]       # left 1, right 2
    assert window_sides(4) == (1, 2) and window_sides(5) == (2, 2)
    np.testing.assert_allclose(y[0], np.mean([0, 1, 2]))          # 3 frames present
    np.testing.assert_allclose(y[4], np.mean([3, 4, 5, 6]))
    np.testing.assert_allclose(y[9], np.mean([8, 9]))
    # a constant stays constant up to the edges (no pull towards zero)
    np.testing.assert_allclose(F.moving_average1d(np.full((2, 7), 3.0), 5).numpy(), 3.0)
    np.testing.assert_array_equal(F.moving_average1d(x, 1).numpy(), x)    # window 1: identity


def test_float32_long_window_matches_float64_reference():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 600)).astype(np.float32)
    y = F.moving_average1d(x, 250).numpy()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, R.moving_average1d(x.astype(np.float64), 124, 125),
                               rtol=1e-5, atol=1e-6)


def test_bad_window_is_named():
    with pytest.raises(ValueError, match="window must be >= 1"):
        F.moving_average1d(np.zeros((2, 5), np.float32), 0)
