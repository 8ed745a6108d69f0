"""relu, tanh and pad1d: values against NumPy, gradients against central differences."""
from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from tinyemo.kernels import reference as R

from tinyemo import Tensor
from tinyemo.engine import functional as F

from tests.helpers.gradcheck import assert_grad_close, numeric_grad

shapes = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9))


@given(shapes, st.integers(0, 2**31), st.sampled_from(["relu", "tanh"]))
def test_activation_values_and_gradients(shape, seed, name):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x[np.abs(x) < 1e-3] = 0.5                         # keep relu away from its kink
    gy = rng.standard_normal(shape)
    fn, ref = getattr(F, name), getattr(R, name)
    xt = Tensor(x, requires_grad=True)
    y = fn(xt)
    np.testing.assert_allclose(y.numpy(), ref(x), rtol=1e-14)
    y.backward(gy)
    assert_grad_close(xt.grad, numeric_grad(lambda v: float(np.sum(ref(v) * gy)), x))


@given(shapes, st.integers(-4, 4), st.integers(-4, 4), st.integers(0, 2**31))
def test_pad1d_values_and_gradient(shape, left, right, seed):
    assume(shape[2] + left + right >= 1)   # an empty result is an error (test_engine_errors.py)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    t_out = shape[2] + left + right
    gy = rng.standard_normal(shape[:2] + (t_out,))
    xt = Tensor(x, requires_grad=True)
    y = F.pad1d(xt, left, right)
    np.testing.assert_array_equal(y.numpy(), R.pad1d(x, left, t_out))
    y.backward(gy)
    assert_grad_close(xt.grad, numeric_grad(lambda v: float(np.sum(R.pad1d(v, left, t_out) * gy)), x))
