"""conv1d on the CPU: im2col into a scratch matrix, then one BLAS GEMM per sequence.

Shapes (channels first): x (N, C_in, T_in), w (C_out, C_in, K), b (C_out,), y (N, C_out, T_out).
``pad_left`` zeros are implied before x (the right padding only changes T_out, which the caller
fixes through the shape of ``y``/``gy``). The caller owns and preallocates every output; the
im2col scratch is internal. Kernels overwrite their outputs (the autograd engine accumulates).

The column matrix has row ``c·K + k`` and column ``t`` holding ``x[c, t·stride + k·dilation −
pad_left]`` (zero outside), so ``w.reshape(C_out, C_in·K)`` multiplies it without a copy:
forward ``y = W col``; input gradient ``gx = col2im(Wᵀ gy)``; weight gradient ``gW = gy colᵀ``.
``col2im`` is the adjoint of ``im2col``; the transposed conv reuses both (see
``conv_transpose1d.py``).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["im2col", "col2im", "conv1d_forward", "conv1d_backward_input",
           "conv1d_backward_weight", "conv1d_backward_bias"]


@njit(inline="always")
def _valid_range(start, stride, t_in, t_out):
    """Columns t in [lo, hi) whose source index start + t·stride lies in [0, t_in)."""
    lo = 0
    if start < 0:
        lo = (-start + stride - 1) // stride
    hi = t_out
    last = t_in - 1 - start  # need t·stride <= last
    if last < 0:
        hi = 0
    elif last // stride + 1 < hi:
        hi = last // stride + 1
    if lo > hi:
        lo = hi
    return lo, hi


@njit(parallel=True, cache=True)
def im2col(x, kernel_size, stride, dilation, pad_left, col):
    """col (N, C·K, T_out) ← the strided, dilated windows of x (N, C, T_in)."""
    n_seq, n_ch, t_in = x.shape
    t_out = col.shape[2]
    for job in prange(n_seq * n_ch):
        n = job // n_ch
        c = job % n_ch
        for k in range(kernel_size):
            start = k * dilation - pad_left
            lo, hi = _valid_range(start, stride, t_in, t_out)
            row = col[n, c * kernel_size + k]
            row[:lo] = 0
            row[hi:] = 0
            for t in range(lo, hi):
                row[t] = x[n, c, start + t * stride]


@njit(parallel=True, cache=True)
def col2im(col, kernel_size, stride, dilation, pad_left, x):
    """x (N, C, T_in) ← Σ over windows of col (N, C·K, T_out): the adjoint of :func:`im2col`."""
    n_seq, n_ch, t_in = x.shape
    t_out = col.shape[2]
    for job in prange(n_seq * n_ch):
        n = job // n_ch
        c = job % n_ch
        out = x[n, c]
        out[:] = 0
        for k in range(kernel_size):
            start = k * dilation - pad_left
            lo, hi = _valid_range(start, stride, t_in, t_out)
            row = col[n, c * kernel_size + k]
            for t in range(lo, hi):
                out[start + t * stride] += row[t]


@njit(cache=True)
def conv1d_forward(x, w, b, stride, dilation, pad_left, y):
    """y (N, C_out, T_out) ← conv of x (N, C_in, T_in) with w (C_out, C_in, K) plus b (C_out,)."""
    c_out, c_in, k = w.shape
    n_seq, _, t_out = y.shape
    col = np.empty((n_seq, c_in * k, t_out), dtype=x.dtype)
    im2col(x, k, stride, dilation, pad_left, col)
    w2 = w.reshape(c_out, c_in * k)
    for n in range(n_seq):
        np.dot(w2, col[n], y[n])
        for o in range(c_out):
            y[n, o] += b[o]


@njit(cache=True)
def conv1d_backward_input(gy, w, stride, dilation, pad_left, gx):
    """gx (N, C_in, T_in) ← ∂L/∂x from gy (N, C_out, T_out) = ∂L/∂y."""
    c_out, c_in, k = w.shape
    n_seq, _, t_out = gy.shape
    gcol = np.empty((n_seq, c_in * k, t_out), dtype=gy.dtype)
    w2 = w.reshape(c_out, c_in * k)
    for n in range(n_seq):
        np.dot(w2.T, gy[n], gcol[n])
    col2im(gcol, k, stride, dilation, pad_left, gx)


@njit(cache=True)
def conv1d_backward_weight(x, gy, stride, dilation, pad_left, gw):
    """gw (C_out, C_in, K) ← ∂L/∂w = Σ_n gy[n] · im2col(x)[n]ᵀ."""
    c_out, c_in, k = gw.shape
    n_seq, _, t_out = gy.shape
    col = np.empty((n_seq, c_in * k, t_out), dtype=x.dtype)
    im2col(x, k, stride, dilation, pad_left, col)
    gw2 = gw.reshape(c_out, c_in * k)
    np.dot(gy[0], col[0].T, gw2)
    if n_seq > 1:
        part = np.empty_like(gw2)
        for n in range(1, n_seq):
            np.dot(gy[n], col[n].T, part)
            gw2 += part


@njit(parallel=True, cache=True)
def conv1d_backward_bias(gy, gb):
    """gb (C_out,) ← Σ over sequences and time of gy (N, C_out, T_out)."""
    n_seq, c_out, t_out = gy.shape
    for o in prange(c_out):
        acc = 0.0
        for n in range(n_seq):
            for t in range(t_out):
                acc += gy[n, o, t]
        gb[o] = acc
