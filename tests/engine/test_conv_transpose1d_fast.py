"""The transposed conv's column-matrix kernels (stride > 1: one GEMM on W2 = w as (C_in, C_out·K)
plus a scatter/gather, in blocks of time columns) against the references: the literal T matrix
(``kernels/reference.py``) on moderate shapes, and a tap-by-tap einsum (checked against it) on
shapes large enough for several blocks. Strides 1–4 with K < s, K = s and K > s; float64 to a
tight tolerance, float32 to a loose one; contiguous and non-contiguous inputs."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import tinyemo.kernels.cpu as cpu
from tinyemo.kernels import reference as R
from tinyemo.kernels.cpu import conv_transpose1d as ct

TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=2e-4, atol=2e-4)}


def naive(x, w, b, gy, stride):
    """(y, gx, gw, gb) of y[n, o, s·t + k] += Σ_c w[c, o, k]·x[n, c, t], one tap at a time."""
    n_seq, _, n_x = x.shape
    _, c_out, k_size = w.shape
    n_y = stride * (n_x - 1) + k_size
    y = np.zeros((n_seq, c_out, n_y)) + b[None, :, None]
    gx, gw = np.zeros(x.shape), np.zeros(w.shape)
    idx = np.arange(n_x) * stride
    for k in range(k_size):
        y[:, :, idx + k] += np.einsum("co,nct->not", w[:, :, k], x)
        gx += np.einsum("co,not->nct", w[:, :, k], gy[:, :, idx + k])
        gw[:, :, k] = np.einsum("nct,not->co", x, gy[:, :, idx + k])
    return y, gx, gw, gy.sum(axis=(0, 2))


@functools.lru_cache(maxsize=None)
def case_data(n, c_in, c_out, k, n_x, stride, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, n_x))
    w = rng.standard_normal((c_in, c_out, k))
    b = rng.standard_normal(c_out)
    gy = rng.standard_normal((n, c_out, stride * (n_x - 1) + k))
    return (x, w, b, gy) + naive(x, w, b, gy, stride)


def run_kernels(x, w, b, gy, stride):
    dtype = x.dtype
    y = np.full(gy.shape, np.nan, dtype)
    gx = np.full(x.shape, np.nan, dtype)
    gw = np.full(w.shape, np.nan, dtype)
    gb = np.full(b.shape, np.nan, dtype)
    cpu.conv_transpose1d_forward(x, w, b, stride, y)
    cpu.conv_transpose1d_backward(x, gy, w, stride, gx, gw)
    cpu.conv_transpose1d_backward_bias(gy, gb)
    return y, gx, gw, gb


# (n, c_in, c_out, k, n_x, stride): every stride 1–4 with K < s, K = s, K > s.
MODERATE = [(1, 5, 7, 3, 40, 1), (2, 6, 4, 1, 33, 1),
            (2, 5, 7, 1, 41, 2), (1, 6, 5, 2, 37, 2), (2, 4, 6, 5, 29, 2),
            (2, 5, 7, 2, 41, 3), (1, 8, 8, 3, 45, 3), (2, 6, 5, 7, 23, 3),
            (1, 5, 4, 3, 30, 4), (2, 7, 5, 4, 31, 4), (1, 4, 6, 9, 27, 4)]


def test_naive_matches_literal_T_matrix():
    for case in MODERATE[:6]:
        x, w, b, _, y = case_data(*case)[:5]
        np.testing.assert_allclose(y, R.conv_transpose1d(x, w, b, case[5]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", MODERATE)
def test_kernels_match_reference(case, dtype):
    x, w, b, gy, *ref = (a.astype(dtype) for a in case_data(*case))
    y_lit = R.conv_transpose1d(x.astype(np.float64), w.astype(np.float64),
                               b.astype(np.float64), case[5])
    got = run_kernels(x, w, b, gy, case[5])
    np.testing.assert_allclose(got[0], y_lit, **TOL[dtype])
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, **TOL[dtype])


# Several column blocks (C_out·K·n_x > ct._BLOCK_ELEMS), the last one partial; the down/up
# net's shape (128 → 128, K = s = 3).
LARGE = [(1, 3, 512, 4, 1100, 4), (2, 3, 256, 8, 1200, 3), (1, 3, 512, 2, 1500, 4),
         (1, 4, 400, 3, 1000, 2), (1, 3, 300, 3, 1300, 1), (1, 128, 128, 3, 837, 3)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", LARGE)
def test_large_shapes_take_several_blocks(case, dtype):
    n, c_in, c_out, k, n_x, stride = case
    if case[:5] != (1, 128, 128, 3, 837):
        assert c_out * k * n_x > ct._BLOCK_ELEMS
    x, w, b, gy, *ref = (a.astype(dtype) for a in case_data(*case))
    for g, r in zip(run_kernels(x, w, b, gy, stride), ref):
        np.testing.assert_allclose(g, r, **TOL[dtype])


@pytest.mark.parametrize("stride", [2, 3, 4])
def test_non_contiguous_arrays(stride):
    """Time-strided x, gy and outputs, and a non-contiguous weight."""
    x, w, b, gy, y_ref, gx_ref, gw_ref, _ = case_data(2, 6, 5, 3, 50, stride)
    xs = np.ascontiguousarray(x.transpose(2, 1, 0)).transpose(2, 1, 0)
    gys = np.ascontiguousarray(gy.transpose(2, 1, 0)).transpose(2, 1, 0)
    ws = np.asfortranarray(w)
    y = np.full(y_ref.shape[::-1], np.nan).transpose(2, 1, 0)
    gx = np.full(x.shape[::-1], np.nan).transpose(2, 1, 0)
    gw = np.full(w.shape[::-1], np.nan).transpose(2, 1, 0)
    cpu.conv_transpose1d_forward(xs, ws, b, stride, y)
    cpu.conv_transpose1d_backward(xs, gys, ws, stride, gx, gw)
    for g, r in ((y, y_ref), (gx, gx_ref), (gw, gw_ref)):
        np.testing.assert_allclose(g, r, **TOL[np.float64])


@pytest.mark.parametrize("case", [MODERATE[1], MODERATE[4], MODERATE[7], LARGE[1]])
def test_backward_with_one_output_computes_that_one_alone(case):
    """gx or gw None (an input or a weight that needs no gradient): the output asked for equals
    the one computed beside the other, and both match the reference."""
    x, w, b, gy, _, gx_ref, gw_ref, _ = (a.astype(np.float32) for a in case_data(*case))
    stride = case[5]
    both = np.full(x.shape, np.nan, np.float32), np.full(w.shape, np.nan, np.float32)
    cpu.conv_transpose1d_backward(x, gy, w, stride, *both)
    gx = np.full(x.shape, np.nan, np.float32)
    cpu.conv_transpose1d_backward(x, gy, w, stride, gx, None)
    gw = np.full(w.shape, np.nan, np.float32)
    cpu.conv_transpose1d_backward(x, gy, w, stride, None, gw)
    np.testing.assert_array_equal(gx, both[0])
    np.testing.assert_array_equal(gw, both[1])
    np.testing.assert_allclose(gx, gx_ref, **TOL[np.float32])
    np.testing.assert_allclose(gw, gw_ref, **TOL[np.float32])
