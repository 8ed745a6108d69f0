"""Transposed conv: equals the paper's literal T-matrix product; T is the adjoint of the
strided conv; every gradient element against central differences; PyTorch when installed."""
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
    n=st.integers(1, 2), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
    n_x=st.integers(1, 9), k=st.integers(1, 6), stride=st.integers(1, 4),
    seed=st.integers(0, 2**31), transpose_input=st.booleans()))


def _arrays(case):
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["c_in"], case["n_x"])
    x = (rng.standard_normal(shape[::-1]).T if case["transpose_input"]
         else rng.standard_normal(shape))
    w = rng.standard_normal((case["c_in"], case["c_out"], case["k"]))
    b = rng.standard_normal(case["c_out"])
    return rng, x, w, b


@given(cases)
def test_forward_equals_literal_T_matrix_product(case):
    _, x, w, b = _arrays(case)
    y = F.conv_transpose1d(x, w, b, stride=case["stride"]).numpy()
    assert y.shape[-1] == case["stride"] * (case["n_x"] - 1) + case["k"]
    np.testing.assert_allclose(y, R.conv_transpose1d(np.ascontiguousarray(x), w, b, case["stride"]),
                               rtol=1e-12, atol=1e-12)


@given(st.integers(1, 12), st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**31))
def test_T_is_the_adjoint_of_the_strided_conv(n_x, k, stride, seed):
    """⟨conv_s(y), x⟩ = ⟨y, T x⟩, and T equals the strided conv's literal matrix transposed."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(k)
    t = R.transposed_conv_matrix(n_x, w, stride)
    n_y = t.shape[0]
    np.testing.assert_array_equal(t, R.conv_matrix(n_y, w, stride=stride).T)
    x, y = rng.standard_normal(n_x), rng.standard_normal(n_y)
    conv_y = F.conv1d(y[None, None], w[None, None], stride=stride).numpy()[0, 0]
    t_x = F.conv_transpose1d(x[None, None], w[None, None], stride=stride).numpy()[0, 0]
    np.testing.assert_allclose(conv_y @ x, y @ t_x, rtol=1e-12, atol=1e-12)


def test_T_columns_follow_the_paper():
    w = np.array([1.0, 2.0, 3.0])
    t = R.transposed_conv_matrix(3, w, stride=2)   # n_y = 2·(3 − 1) + 3 = 7
    expected = np.array([[1, 2, 3, 0, 0, 0, 0],
                         [0, 0, 1, 2, 3, 0, 0],
                         [0, 0, 0, 0, 1, 2, 3]], dtype=float).T
    np.testing.assert_array_equal(t, expected)


@given(cases)
def test_gradients_match_central_differences(case):
    rng, x, w, b = _arrays(case)
    s = case["stride"]
    gy = rng.standard_normal((case["n"], case["c_out"], s * (case["n_x"] - 1) + case["k"]))
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    F.conv_transpose1d(xt, wt, bt, stride=s).backward(gy)

    def loss(xv, wv, bv):
        return float(np.sum(R.conv_transpose1d(xv, wv, bv, s) * gy))

    assert_grad_close(xt.grad, numeric_grad(lambda v: loss(v, w, b), x))
    assert_grad_close(wt.grad, numeric_grad(lambda v: loss(x, v, b), w))
    assert_grad_close(bt.grad, numeric_grad(lambda v: loss(x, w, v), b))


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 4, 10)), rng.standard_normal((4, 3, 3)), rng.standard_normal(3)
    gy = rng.standard_normal((2, 3, 30))
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv_transpose1d(xt, wt, bt, stride=3)
    y.backward(gy)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.conv_transpose1d(tx, tw, tb, stride=3)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in ((xt.grad, tx.grad), (wt.grad, tw.grad), (bt.grad, tb.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)
