"""conv1d: fast kernels against the loop reference; every gradient element against central
differences in float64; the literal conv matrix; PyTorch when it is installed."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinyemo.kernels import reference as R
from tinyemo.kernels.shapes import conv1d_out_len

from tinyemo import Tensor
from tinyemo.engine import functional as F

from tests.helpers.gradcheck import assert_grad_close, numeric_grad


@st.composite
def conv_cases(draw):
    k = draw(st.integers(1, 5))
    dilation = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    left, right = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    span = dilation * (k - 1) + 1
    # lengths from "kernel longer than the input, rescued by padding" up to a few spans
    t_min = max(1, span - left - right)
    t = draw(st.integers(t_min, t_min + 12))
    n = draw(st.integers(1, 2))
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31))
    transpose_input = draw(st.booleans())
    return dict(n=n, c_in=c_in, c_out=c_out, t=t, k=k, stride=stride, dilation=dilation,
                left=left, right=right, seed=seed, transpose_input=transpose_input)


def _arrays(case, dtype=np.float64):
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["c_in"], case["t"])
    if case["transpose_input"]:  # a non-contiguous view with the same values layout
        x = rng.standard_normal(shape[::-1]).astype(dtype).T
    else:
        x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((case["c_out"], case["c_in"], case["k"])).astype(dtype)
    b = rng.standard_normal(case["c_out"]).astype(dtype)
    return rng, x, w, b


@given(conv_cases())
def test_forward_matches_reference(case):
    _, x, w, b = _arrays(case)
    args = (case["stride"], (case["left"], case["right"]), case["dilation"])
    y = F.conv1d(x, w, b, *args).numpy()
    ref = R.conv1d(np.ascontiguousarray(x), w, b, case["stride"], case["dilation"],
                   case["left"], case["right"])
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)


@given(conv_cases())
def test_gradients_match_central_differences(case):
    rng, x, w, b = _arrays(case)
    stride, pad, dil = case["stride"], (case["left"], case["right"]), case["dilation"]
    t_out = conv1d_out_len(case["t"], case["k"], stride, dil, *pad)
    gy = rng.standard_normal((case["n"], case["c_out"], t_out))  # never all ones
    xt, wt, bt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    F.conv1d(xt, wt, bt, stride, pad, dil).backward(gy)

    def loss(xv, wv, bv):
        return float(np.sum(R.conv1d(np.ascontiguousarray(xv), wv, bv, stride, dil, *pad) * gy))

    assert_grad_close(xt.grad, numeric_grad(lambda v: loss(v, w, b), x))
    assert_grad_close(wt.grad, numeric_grad(lambda v: loss(x, v, b), w))
    assert_grad_close(bt.grad, numeric_grad(lambda v: loss(x, w, v), b))


@given(conv_cases())
def test_float32_forward_close_to_float64(case):
    _, x, w, b = _arrays(case)
    args = (case["stride"], (case["left"], case["right"]), case["dilation"])
    y32 = F.conv1d(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), *args)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32.numpy(), F.conv1d(x, w, b, *args).numpy(), rtol=1e-4, atol=1e-4)


def test_reference_is_the_literal_conv_matrix():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(17), rng.standard_normal(3)
    m = R.conv_matrix(17, w, stride=2, dilation=3, pad_left=2, pad_right=1)
    ref = R.conv1d(x[None, None], w[None, None], np.zeros(1), 2, 3, 2, 1)[0, 0]
    np.testing.assert_allclose(m @ x, ref, rtol=1e-13)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("dilation", [1, 2, 5])
def test_same_padding_keeps_length_and_matches_pytorch_rule(k, dilation):
    rng = np.random.default_rng(k * 10 + dilation)
    x, w = rng.standard_normal((2, 9)), rng.standard_normal((3, 2, k))
    y = F.conv1d(x, w, None, padding="same", dilation=dilation).numpy()
    total = dilation * (k - 1)
    ref = R.conv1d(x[None], w, np.zeros(3), 1, dilation, total // 2, total - total // 2)[0]
    assert y.shape == (3, 9)
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 5, 40)), rng.standard_normal((4, 5, 3)), rng.standard_normal(4)
    gy = rng.standard_normal((2, 4, 17))
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv1d(xt, wt, bt, stride=2, padding=(0, 0), dilation=3)
    y.backward(gy)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.conv1d(tx, tw, tb, stride=2, dilation=3)
    ty.backward(torch.tensor(gy))
    assert y.shape == ty.shape == (2, 4, 17)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in ((xt.grad, tx.grad), (wt.grad, tw.grad), (bt.grad, tb.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("k, dilation", [(1, 1), (2, 1), (3, 2), (4, 3), (5, 1)])
def test_same_padding_matches_pytorch_values(k, dilation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10 * k + dilation)
    x, w, b = rng.standard_normal((2, 11)), rng.standard_normal((3, 2, k)), rng.standard_normal(3)
    y = F.conv1d(x, w, b, padding="same", dilation=dilation).numpy()
    ty = torch.nn.functional.conv1d(torch.tensor(x[None]), torch.tensor(w), torch.tensor(b),
                                    padding="same", dilation=dilation)[0].numpy()
    np.testing.assert_allclose(y, ty, rtol=1e-10, atol=1e-12)
