"""The fast conv1d paths against the references: the BLAS ``gemm`` on strided views, the direct
kernels' per-tap and stacked-gradient paths (sequences at least as long as the input has
channels) and their column-matrix path (shorter ones: ``_columns``), and the FFT kernels with
their dispatch rule.
float64 to a tight tolerance, float32 to a loose one."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import tinyemo.kernels.cpu as cpu
from hypothesis import given
from hypothesis import strategies as st
from tinyemo.kernels import reference as R
from tinyemo.kernels.cpu import conv1d as direct
from tinyemo.kernels.cpu import conv1d_fft
from tinyemo.kernels.cpu.blas import gemm
from tinyemo.kernels.shapes import conv1d_out_len

from tinyemo import Tensor
from tinyemo.engine import functional as F

TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=2e-4, atol=2e-4)}


def naive_grads(x, w, gy, stride, dilation, pad_left):
    """(gx, gw) straight from y[n, o, t] = Σ_c,k w[o, c, k]·x[n, c, t·s + k·d − pad], one tap at
    a time (checked against the literal conv matrix in ``test_naive_grads_match_conv_matrix``)."""
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    t_out = gy.shape[2]
    for k in range(w.shape[2]):
        i = np.arange(t_out) * stride + k * dilation - pad_left
        ok = (i >= 0) & (i < x.shape[2])
        gw[:, :, k] = np.einsum("not,nct->oc", gy[:, :, ok], x[:, :, i[ok]])
        gx[:, :, i[ok]] += np.einsum("oc,not->nct", w[:, :, k], gy[:, :, ok])
    return gx, gw


@functools.lru_cache(maxsize=None)
def case_data(n, c_in, c_out, k, t, stride, dilation, left, right, seed=0):
    """float64 inputs and reference outputs: x, w, b, gy, y, gx, gw, gb."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, t))
    w = rng.standard_normal((c_out, c_in, k))
    b = rng.standard_normal(c_out)
    y = R.conv1d(x, w, b, stride, dilation, left, right)
    gy = rng.standard_normal(y.shape)
    gx, gw = naive_grads(x, w, gy, stride, dilation, left)
    return x, w, b, gy, y, gx, gw, gy.sum(axis=(0, 2))


def check_kernels(forward, backward_input, backward_weight, case, dtype, transpose_x=False):
    x, w, b, gy, y_ref, gx_ref, gw_ref, gb_ref = (a.astype(dtype) for a in case_data(*case))
    stride, dilation, left = case[5], case[6], case[7]
    if transpose_x:  # same values, non-contiguous rows
        x = np.ascontiguousarray(x.transpose(2, 1, 0)).transpose(2, 1, 0)
    y = np.full(y_ref.shape, np.nan, dtype)
    gx = np.full(x.shape, np.nan, dtype)
    gw = np.full(w.shape, np.nan, dtype)
    gb = np.full(b.shape, np.nan, dtype)
    forward(x, w, b, stride, dilation, left, y)
    backward_input(gy, w, stride, dilation, left, gx)
    backward_weight(x, gy, stride, dilation, left, gw)
    cpu.conv1d_backward_bias(gy, gb)
    for got, ref in ((y, y_ref), (gx, gx_ref), (gw, gw_ref), (gb, gb_ref)):
        scale = max(1.0, float(np.abs(ref).max()))
        np.testing.assert_allclose(got, ref, rtol=TOL[dtype]["rtol"], atol=TOL[dtype]["atol"] * scale)


# (n, c_in, c_out, k, t, stride, dilation, left, right), and the routes its forward and its weight
# gradient take. Forward: "taps" (one GEMM per tap), "stacked" (stride 1, more channels in than
# K·C_out: one GEMM of the taps stacked on the output side per block of frames) or "columns"
# (im2col and one GEMM: sequences shorter than the input has channels, kernels of at most 4 taps).
# Weight gradient: "taps" (one GEMM per tap over the whole sequence), "stacked" (stride 1, input
# layers: the K shifted copies of gy stacked, one GEMM per block of frames) or "columns".
ROUTES = {
    "stride1-stack-rows-in": ((1, 16, 3, 3, 3000, 1, 1, 1, 1), "stacked", "stacked"),
    "stride1-taps-rows-out": ((1, 4, 3, 4, 8200, 1, 1, 2, 1), "taps", "taps"),
    "stride1-taps-wide": ((1, 40, 40, 3, 2100, 1, 1, 1, 1), "taps", "taps"),
    "dilation64-batch2": ((2, 8, 2, 2, 9000, 1, 64, 32, 32), "stacked", "stacked"),
    "dilation64-taps-batch2": ((2, 6, 5, 2, 3000, 1, 64, 32, 32), "taps", "taps"),
    # two blocks of the stacked forward (2^18 // (12 + 20) − 2 frames each)
    "stacked-input-layer-blocks": ((1, 20, 4, 3, 8500, 1, 1, 1, 1), "stacked", "stacked"),
    # blocks whose x frames start in the left padding and end past x, a tap beyond a block
    "stacked-padding-past-x-batch2": ((2, 30, 4, 2, 6000, 1, 900, 600, 300), "stacked", "stacked"),
    # a tap shifted further than the stacked weight gradient's block of frames (1024), uneven
    # padding; and the same shape per tap
    "dilation-beyond-a-block": ((1, 6, 2, 2, 2600, 1, 1100, 50, 1050), "stacked", "stacked"),
    "dilation-beyond-a-block-taps": ((1, 2, 2, 2, 2600, 1, 1100, 50, 1050), "taps", "taps"),
    "kernel-longer-than-input": ((1, 100, 2, 40, 30, 1, 1, 25, 24), "taps", "stacked"),
    "stride2-dilation2": ((1, 16, 2, 5, 4000, 2, 2, 3, 0), "taps", "taps"),
    "stride2-more-outputs": ((1, 3, 4, 5, 17500, 2, 1, 0, 3), "taps", "taps"),
    "stride3-tmatrix-batch2": ((2, 12, 3, 3, 12000, 3, 1, 0, 0), "taps", "taps"),
    "down-up-deepest": ((1, 128, 128, 3, 93, 1, 1, 1, 1), "columns", "columns"),
    "short-kernel-longer-than-input": ((1, 100, 2, 4, 3, 1, 1, 2, 1), "columns", "columns"),
    "short-stride2-dilation3-batch2": ((2, 48, 5, 4, 30, 2, 3, 4, 0), "columns", "columns"),
    "short-stride3-more-outputs": ((1, 64, 3, 4, 60, 3, 1, 0, 3), "columns", "columns"),
}


def _routes(case):
    c_in, c_out, k, stride = case[1], case[2], case[3], case[5]
    t_out = conv1d_out_len(case[4], k, *case[5:9])
    if direct._columns(c_in, k, t_out):
        return "columns", "columns"
    forward = "stacked" if stride == 1 and direct._stacked_outputs(c_in, c_out, k, t_out) else "taps"
    weight = "stacked" if stride == 1 and direct._stacked_weight_grad(c_in, c_out, k) else "taps"
    return forward, weight


@pytest.mark.parametrize("name", sorted(ROUTES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_direct_routes_match_reference(name, dtype):
    case, forward, weight = ROUTES[name]
    assert _routes(case) == (forward, weight)
    check_kernels(cpu.conv1d_forward, cpu.conv1d_backward_input, cpu.conv1d_backward_weight,
                  case, dtype, transpose_x=name.startswith("stride1-stack-rows-in"))


@pytest.mark.parametrize("name", sorted(n for n, r in ROUTES.items() if r[0][5] == 1
                                        and r[1] != "columns"))
def test_both_stride1_weight_gradients_match_reference(name):
    """The stacked and the per-tap weight gradients on every stride-1 case, whichever the rule
    picks (``bench/bench_weight_grad.py`` times both): the same sums, float64."""
    case = ROUTES[name][0]
    x, w, _, gy, _, _, gw_ref, _ = case_data(*case)
    dilation, left = case[6], case[7]
    for kernel in (lambda gw: direct._weight_grad_stacked(x, gy, dilation, left, gw),
                   lambda gw: direct._weight_grad_taps(x, gy, 1, dilation, left, gw)):
        gw = np.full(w.shape, np.nan)
        kernel(gw)
        np.testing.assert_allclose(gw, gw_ref, rtol=1e-10, atol=1e-10 * np.abs(gw_ref).max())


def test_naive_grads_match_conv_matrix():
    rng = np.random.default_rng(3)
    for stride, dilation, left, right in [(1, 1, 1, 1), (2, 3, 4, 0), (3, 1, 0, 2)]:
        x, w = rng.standard_normal((2, 3, 19)), rng.standard_normal((2, 3, 4))
        y = R.conv1d(x, w, np.zeros(2), stride, dilation, left, right)
        gy = rng.standard_normal(y.shape)
        gx, gw = naive_grads(x, w, gy, stride, dilation, left)
        gx_ref, gw_ref = np.zeros_like(x), np.zeros_like(w)
        for n in range(2):
            for o in range(2):
                for c in range(3):
                    m = R.conv_matrix(19, w[o, c], stride, dilation, left, right)
                    gx_ref[n, c] += m.T @ gy[n, o]
                    for k in range(4):
                        tap = np.eye(4)[k]
                        gw_ref[o, c, k] += gy[n, o] @ R.conv_matrix(19, tap, stride, dilation,
                                                                      left, right) @ x[n, c]
        np.testing.assert_allclose(gx, gx_ref, atol=1e-12)
        np.testing.assert_allclose(gw, gw_ref, atol=1e-12)


@st.composite
def fft_cases(draw):
    k = draw(st.integers(1, 40))
    dilation, stride = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    left, right = draw(st.integers(0, 45)), draw(st.integers(0, 45))
    span = dilation * (k - 1) + 1
    t_min = max(1, span - left - right)  # includes K longer than the input, rescued by padding
    t = draw(st.integers(t_min, t_min + 60))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), k, t,
            stride, dilation, left, right, draw(st.integers(0, 2**31)))


@given(fft_cases(), st.sampled_from([np.float64, np.float32]))
def test_fft_kernels_match_reference(case, dtype):
    check_kernels(conv1d_fft.conv1d_fft_forward, conv1d_fft.conv1d_fft_backward_input,
                  conv1d_fft.conv1d_fft_backward_weight, case, dtype)


def test_fft_rule_picks_long_filters_only():
    assert conv1d_fft.fft_preferred(160, 1, 2048, 1, 1, 7500)  # the paper's Figure 1 filter
    assert conv1d_fft.fft_preferred(160, 1, 256, 1, 1, 7500)
    assert not conv1d_fft.fft_preferred(160, 1, 64, 1, 1, 7500)
    assert not conv1d_fft.fft_preferred(160, 32, 3, 1, 1, 7500)  # the models' layers
    assert not conv1d_fft.fft_preferred(32, 32, 2, 64, 1, 7500)
    assert not conv1d_fft.fft_preferred(160, 1, 2048, 1, 2, 3750)  # strided: direct


def test_op_uses_fft_for_long_filter_and_matches_reference():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 700)).astype(np.float32)
    w = (rng.standard_normal((1, 6, 300)) / 40).astype(np.float32)
    b = rng.standard_normal(1).astype(np.float32)
    assert conv1d_fft.fft_preferred(6, 1, 300, 1, 1, 700)
    xt, wt, bt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    y = F.conv1d(xt, wt, bt, padding="same")
    gy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(gy)
    ref = R.conv1d(x[None].astype(np.float64), w.astype(np.float64), b.astype(np.float64), 1, 1,
                   149, 150)[0]
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-4, atol=1e-4)
    gx, gw = naive_grads(x[None].astype(np.float64), w.astype(np.float64),
                         gy[None].astype(np.float64), 1, 1, 149)
    np.testing.assert_allclose(xt.grad, gx[0], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(wt.grad, gw, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(bt.grad, gy.sum(axis=1), rtol=1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("trans_a, trans_b, beta", [(False, False, 0.0), (True, False, 1.0),
                                                     (False, True, 0.5), (True, True, 1.0)])
def test_gemm_on_strided_views(dtype, trans_a, trans_b, beta):
    rng = np.random.default_rng(7)
    big_a, big_b = rng.standard_normal((60, 80)).astype(dtype), rng.standard_normal((90, 70)).astype(dtype)
    c = rng.standard_normal((50, 60)).astype(dtype)
    a = big_a[3:23, 5:36] if not trans_a else big_a[3:34, 5:25]  # op(a) is (20, 31)
    b = big_b[10:41, 7:47] if not trans_b else big_b[10:50, 7:38]  # op(b) is (31, 40)
    before = c.copy()
    gemm(1.5, a, trans_a, b, trans_b, beta, c[5:25, 10:50])
    expect = before.copy()
    op_a, op_b = (a.T if trans_a else a), (b.T if trans_b else b)
    expect[5:25, 10:50] = 1.5 * (op_a.astype(np.float64) @ op_b) + beta * before[5:25, 10:50]
    np.testing.assert_allclose(c, expect, rtol=TOL[dtype]["rtol"], atol=TOL[dtype]["atol"] * 10)


def test_gemm_rejects_non_contiguous_rows():
    a = np.ones((4, 6))[:, ::2]
    with pytest.raises(ValueError, match="contiguous rows"):
        gemm(1.0, a, False, np.ones((3, 2)), False, 0.0, np.zeros((4, 2)))
