"""max_pool1d: forward and argmax against the loop reference, gradient routing against
central differences, the documented handling of lengths not divisible by the stride."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinyemo.kernels import reference as R

from tinyemo import Tensor
from tinyemo.engine import functional as F

from tests.helpers.gradcheck import assert_grad_close, numeric_grad

cases = st.fixed_dictionaries(dict(
    n=st.integers(1, 2), c=st.integers(1, 3), k=st.integers(1, 5), stride=st.integers(1, 5),
    extra=st.integers(0, 12), seed=st.integers(0, 2**31), transpose_input=st.booleans()))


def _x(case):
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["c"], case["k"] + case["extra"])
    # distinct values, spaced far beyond the finite-difference step, so argmax is stable
    values = rng.permutation(np.prod(shape)).astype(np.float64) * 0.01 + rng.uniform(0, 1e-3)
    x = values.reshape(shape[::-1]).T if case["transpose_input"] else values.reshape(shape)
    return rng, x


@given(cases)
def test_forward_matches_reference(case):
    _, x = _x(case)
    y = F.max_pool1d(x, case["k"], case["stride"]).numpy()
    ref, _ = R.max_pool1d(np.ascontiguousarray(x), case["k"], case["stride"])
    np.testing.assert_array_equal(y, ref)


@given(cases)
def test_gradient_matches_central_differences(case):
    rng, x = _x(case)
    k, s = case["k"], case["stride"]
    ref, _ = R.max_pool1d(np.ascontiguousarray(x), k, s)
    gy = rng.standard_normal(ref.shape)
    xt = Tensor(x, requires_grad=True)
    F.max_pool1d(xt, k, s).backward(gy)
    num = numeric_grad(lambda v: float(np.sum(R.max_pool1d(v, k, s)[0] * gy)), x, h=1e-7)
    assert_grad_close(xt.grad, num)


def test_trailing_frames_that_fill_no_window_are_dropped():
    x = np.arange(10, dtype=np.float32)[None]          # 10 frames, windows of 3 every 3
    y = F.max_pool1d(x, 3, 3).numpy()
    np.testing.assert_array_equal(y, [[2, 5, 8]])      # frame 9 is dropped, as in PyTorch


def test_ties_go_to_the_first_maximum():
    x = Tensor(np.array([[1.0, 3.0, 3.0, 0.0]]), requires_grad=True)
    F.max_pool1d(x, 4).backward(np.array([[2.0]]))
    np.testing.assert_array_equal(x.grad, [[0, 2, 0, 0]])


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, gy = rng.standard_normal((2, 3, 20)), rng.standard_normal((2, 3, 6))
    xt = Tensor(x, requires_grad=True)
    y = F.max_pool1d(xt, 3)
    y.backward(gy)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.max_pool1d(tx, 3)
    ty.backward(torch.tensor(gy))
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(xt.grad, tx.grad.numpy())


def test_a_nan_in_a_window_gives_nan_and_takes_the_gradient():
    """NaN is the maximum, wherever it sits in the window (PyTorch's max_pool1d, NumPy's max):
    a scan that compares with ``>`` alone keeps it only when it comes first. The first NaN of
    the window is its argmax, as ``np.argmax`` says, and takes the window's gradient."""
    nan = np.nan
    x = np.array([[[0.0, nan, 2.0, 5.0, 1.0, nan, nan, 3.0, 4.0, 7.0, 8.0, 9.0]]])
    xt = Tensor(x, requires_grad=True)
    y = F.max_pool1d(xt, 3, 3)
    np.testing.assert_array_equal(y.numpy(), [[[nan, nan, nan, 9.0]]])
    ref, arg = R.max_pool1d(x, 3, 3)
    np.testing.assert_array_equal(y.numpy(), ref)
    np.testing.assert_array_equal(arg, [[[1, 5, 6, 11]]])
    y.backward(np.array([[[2.0, 3.0, 5.0, 7.0]]]))
    np.testing.assert_array_equal(xt.grad, [[[0, 2, 0, 0, 0, 3, 5, 0, 0, 0, 0, 7]]])
    # overlapping windows (stride 1): every window over the NaN is NaN, the others are not
    z = F.max_pool1d(np.array([[1.0, 2.0, nan, 0.0, 4.0, 3.0]]), 2, 1).numpy()
    np.testing.assert_array_equal(z, [[2.0, nan, nan, 4.0, 4.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, stride", [(2, 2), (3, 3), (4, 4), (3, 2), (5, 5), (1, 1)])
def test_every_kernel_route_matches_the_reference_with_nans_ties_and_infinities(k, stride, dtype):
    """K = s = 2, 3, 4 take the unrolled kernels, the others the generic scan: the same values
    and argmax as the loop reference on data with NaNs, ±inf and ties."""
    import tinyemo.kernels.cpu as cpu
    rng = np.random.default_rng(k * 10 + stride)
    x = rng.integers(-3, 4, size=(2, 5, 61)).astype(dtype)       # small integers: many ties
    x[0, 1, rng.integers(0, 61, 8)] = np.nan
    x[1, 2, rng.integers(0, 61, 5)] = np.inf
    x[1, 3, rng.integers(0, 61, 5)] = -np.inf
    x[1, 4, :] = np.nan
    t_out = (61 - k) // stride + 1
    y = np.empty((2, 5, t_out), dtype)
    arg = np.empty((2, 5, t_out), np.int64)
    cpu.max_pool1d_forward(x, k, stride, y, arg)
    ref, ref_arg = R.max_pool1d(x, k, stride)
    np.testing.assert_array_equal(y, ref)
    np.testing.assert_array_equal(arg, ref_arg)
