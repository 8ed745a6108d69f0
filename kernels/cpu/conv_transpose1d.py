"""Transposed conv on the CPU, in the paper's explicit form y = T x.

For one channel pair, T = [T_1 … T_nx] with column T_i = [0 (s(i−1) zeros), wᵀ, 0 (s(nx−i)
zeros)]ᵀ, n_y = s(n_x − 1) + n_w; for C_in → C_out channels y_o = Σ_c T(w[c, o]) x_c + b_o.
T is the matrix of the strided conv (no padding) transposed, so T x is exactly that conv's
input gradient. T itself is never materialised here (``reference.transposed_conv_matrix``
builds it for the tests).

Shapes: x (N, C_in, n_x), w (C_in, C_out, K) as in PyTorch, b (C_out,), y (N, C_out, n_y).

Stride > 1 (the down/up net's up-sampling): with W2 = w viewed as (C_in, C_out·K)
(``W2[c, o·K + k] = w[c, o, k]``, no copy when w is contiguous) every product is one GEMM on
a "column" matrix
``Z[o·K + k, t] = y-contribution of x[:, t] at y[o, s·t + k]``:

- forward ``Z = W2ᵀ X`` (C_out·K, n_x), then one scatter ``y[o, s·t + k] (+)= Z[o·K + k, t]``
  with the bias fused (for K = s each y element is written exactly once);
- input gradient ``gx = W2 G`` with the gather ``G[o·K + k, t] = gy[o, s·t + k]``;
- weight gradient ``gW2 = Σ_t X G ᵀ``, from the same G: the backward computes both in one
  kernel (``conv_transpose1d_backward``), gathering each block of G once (the gather is a
  memory pass over gy as long as a GEMM at 32 channels; with two gathers the backward took
  1.1-1.5x as long on the down/up levels of >= 837 frames, ``bench/bench_conv_transpose_backward.py``).

There is no padding, so every index s·t + k lies inside y. The work runs in blocks of time
columns (one scratch column matrix, reused; see ``_BLOCK_ELEMS``). For K = s = 2, 3, 4 the
scatter/gather loops are spelt out with constant strides, which LLVM vectorises. This replaced
conv1d's stride-phase kernels (a GEMM per tap into phase buffers, then an element-by-element
interleave with % and //): 128 → 128, K = s = 3, n_x = 2511, float32, 1 thread: forward 3.07 →
1.11 ms, input gradient 2.48 → 1.28, weight gradient 2.87 → 1.34 (GEMM alone ~1.0).
Stride 1 keeps conv1d's one-GEMM-per-tap kernels (views, no column matrix, no interleave).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from tinyemo.kernels.cpu.blas import gemm
from tinyemo.kernels.cpu.conv1d import (
    conv1d_backward_bias, conv1d_backward_input, conv1d_backward_weight, conv1d_forward,
)

__all__ = ["conv_transpose1d_forward", "conv_transpose1d_backward",
           "conv_transpose1d_backward_bias"]

# Column-matrix block: at most about this many elements (C_out·K·time columns; 1 MiB in
# float32). Measured at the op level (fresh output arrays, as in training), 128 → 128, K = s = 3,
# n_x = 2511: 2^16 1.38 ms, 2^17 1.19, 2^18 1.15, 2^19 1.20, 2^20 4.3 ms: a scratch that large
# next to a fresh output makes glibc return both to the OS on every call (page faults), and
# small blocks make short GEMMs.
_BLOCK_ELEMS = 1 << 18
# Time columns per block at least this many (GEMM efficiency), at most the sequence.
_MIN_COLS = 64


@njit(cache=True)
def _block_cols(rows, n_x):
    cols = _BLOCK_ELEMS // max(rows, 1)
    if cols < _MIN_COLS:
        cols = _MIN_COLS
    if cols > n_x:
        cols = n_x
    return max(cols, 1)


@njit(cache=True)
def _rows_contiguous(a):
    return a.shape[-1] <= 1 or a.strides[-1] == a.itemsize


@njit(cache=True)
def _forward_cols(x, w, b, stride, y):
    """Stride > 1: blocks of Z = W2ᵀ X, scattered into y with the bias."""
    c_in, c_out, k = w.shape
    n_seq, _, n_x = x.shape
    n_y = y.shape[2]
    rows = c_out * k
    w2 = np.ascontiguousarray(w).reshape(c_in, rows)
    xs = x if _rows_contiguous(x) else np.ascontiguousarray(x)
    tb = _block_cols(rows, n_x)
    z = np.empty((rows, tb), dtype=y.dtype)
    overlap = k != stride
    for n in range(n_seq):
        if overlap:  # gaps (K < s) keep the bias, overlaps (K > s) accumulate onto it
            for o in range(c_out):
                bo = b[o]
                yo = y[n, o]
                for i in range(n_y):
                    yo[i] = bo
        for t0 in range(0, n_x, tb):
            t1 = min(t0 + tb, n_x)
            m = t1 - t0
            zv = z[:, :m]
            gemm(1.0, w2, True, xs[n, :, t0:t1], False, 0.0, zv)
            if overlap:
                _scatter_add(z, stride, k, t0, m, y[n])
            else:
                _scatter_bias(z, b, stride, t0, m, y[n])


@njit(cache=True)
def _scatter_add(z, stride, k, t0, m, yn):
    """yn[o, s·(t0 + t) + j] += z[o·K + j, t] for t < m (K ≠ s)."""
    c_out = yn.shape[0]
    base = stride * t0
    for o in range(c_out):
        yo = yn[o]
        for j in range(k):
            zr = z[o * k + j]
            for t in range(m):
                yo[base + stride * t + j] += zr[t]


@njit(cache=True)
def _scatter_bias(z, b, stride, t0, m, yn):
    """yn[o, s·(t0 + t) + j] = z[o·s + j, t] + b[o] for t < m, j < s (K = s: each element of
    y once). Strides 2–4 are spelt out so LLVM vectorises the interleave (~4× the loop below)."""
    c_out = yn.shape[0]
    base = stride * t0
    for o in range(c_out):
        yo = yn[o, base:base + stride * m]
        bo = b[o]
        if stride == 3:
            z0 = z[3 * o]
            z1 = z[3 * o + 1]
            z2 = z[3 * o + 2]
            for t in range(m):
                yo[3 * t] = z0[t] + bo
                yo[3 * t + 1] = z1[t] + bo
                yo[3 * t + 2] = z2[t] + bo
        elif stride == 2:
            z0 = z[2 * o]
            z1 = z[2 * o + 1]
            for t in range(m):
                yo[2 * t] = z0[t] + bo
                yo[2 * t + 1] = z1[t] + bo
        elif stride == 4:
            z0 = z[4 * o]
            z1 = z[4 * o + 1]
            z2 = z[4 * o + 2]
            z3 = z[4 * o + 3]
            for t in range(m):
                yo[4 * t] = z0[t] + bo
                yo[4 * t + 1] = z1[t] + bo
                yo[4 * t + 2] = z2[t] + bo
                yo[4 * t + 3] = z3[t] + bo
        else:
            for j in range(stride):
                zr = z[o * stride + j]
                for t in range(m):
                    yo[stride * t + j] = zr[t] + bo


@njit(cache=True)
def _gather(gyn, stride, k, t0, m, g):
    """g[o·K + j, t] ← gyn[o, s·(t0 + t) + j] for t < m (the adjoint of the scatter)."""
    c_out = gyn.shape[0]
    base = stride * t0
    for o in range(c_out):
        go = gyn[o]
        if k == stride and stride <= 4:
            gv = go[base:base + stride * m]
            if stride == 3:
                g0 = g[3 * o]
                g1 = g[3 * o + 1]
                g2 = g[3 * o + 2]
                for t in range(m):
                    g0[t] = gv[3 * t]
                    g1[t] = gv[3 * t + 1]
                    g2[t] = gv[3 * t + 2]
                continue
            if stride == 2:
                g0 = g[2 * o]
                g1 = g[2 * o + 1]
                for t in range(m):
                    g0[t] = gv[2 * t]
                    g1[t] = gv[2 * t + 1]
                continue
            if stride == 4:
                g0 = g[4 * o]
                g1 = g[4 * o + 1]
                g2 = g[4 * o + 2]
                g3 = g[4 * o + 3]
                for t in range(m):
                    g0[t] = gv[4 * t]
                    g1[t] = gv[4 * t + 1]
                    g2[t] = gv[4 * t + 2]
                    g3[t] = gv[4 * t + 3]
                continue
        for j in range(k):
            gr = g[o * k + j]
            for t in range(m):
                gr[t] = go[base + stride * t + j]


@njit(cache=True)
def _backward_cols(x, gy, w, stride, gx, gw):
    """Stride > 1: per block of time columns, G gathered from gy once, then gx = W2 G and
    gW2 += X Gᵀ (either output None: skipped)."""
    c_in, c_out, k = w.shape
    n_seq, _, n_x = x.shape
    rows = c_out * k
    w2 = np.ascontiguousarray(w).reshape(c_in, rows)
    xs = x if _rows_contiguous(x) else np.ascontiguousarray(x)
    tb = _block_cols(rows, n_x)
    g = np.empty((rows, tb), dtype=x.dtype)
    direct = True
    if gx is not None:
        direct = _rows_contiguous(gx)
    out = np.empty((1, c_in, 0 if direct else tb), dtype=x.dtype)
    # The larger of C_in, C_out·K as the weight GEMM's rows (~20 % faster in OpenBLAS).
    rows_g = rows >= c_in
    g2 = np.zeros((rows, c_in) if rows_g else (c_in, rows), dtype=x.dtype)
    for n in range(n_seq):
        gyn = gy[n]
        for t0 in range(0, n_x, tb):
            t1 = min(t0 + tb, n_x)
            m = t1 - t0
            _gather(gyn, stride, k, t0, m, g)
            if gx is not None:
                if direct:
                    gemm(1.0, w2, False, g[:, :m], False, 0.0, gx[n, :, t0:t1])
                else:
                    gemm(1.0, w2, False, g[:, :m], False, 0.0, out[0, :, :m])
                    gx[n, :, t0:t1] = out[0, :, :m]
            if gw is not None:
                if rows_g:
                    gemm(1.0, g[:, :m], False, xs[n, :, t0:t1], True, 1.0, g2)
                else:
                    gemm(1.0, xs[n, :, t0:t1], False, g[:, :m], True, 1.0, g2)
    if gw is not None:
        for c in range(c_in):
            for o in range(c_out):
                for j in range(k):
                    gw[c, o, j] = g2[o * k + j, c] if rows_g else g2[c, o * k + j]


@njit(cache=True)
def conv_transpose1d_forward(x, w, b, stride, y):
    """y (N, C_out, n_y) ← T x + b: the input gradient of the stride-s conv with weight w."""
    if stride > 1:
        _forward_cols(x, w, b, stride, y)
        return
    conv1d_backward_input(x, w, stride, 1, 0, y)
    for n in range(y.shape[0]):
        for o in range(y.shape[1]):
            y[n, o] += b[o]


@njit(cache=True)
def conv_transpose1d_backward(x, gy, w, stride, gx, gw):
    """gx (N, C_in, n_x) ← Tᵀ gy (the stride-s conv of gy with weight w, no bias) and gw
    (C_in, C_out, K) ← ∂L/∂w (the conv weight gradient with input gy and output gradient x);
    either may be None: not computed. Stride > 1 gathers G from gy once for both."""
    if stride > 1:
        _backward_cols(x, gy, w, stride, gx, gw)
        return
    if gx is not None:
        conv1d_forward(gy, w, np.zeros(w.shape[0], dtype=w.dtype), stride, 1, 0, gx)
    if gw is not None:
        conv1d_backward_weight(gy, x, stride, 1, 0, gw)


@njit(cache=True)
def conv_transpose1d_backward_bias(gy, gb):
    """gb (C_out,) ← Σ over sequences and time of gy."""
    conv1d_backward_bias(gy, gb)
