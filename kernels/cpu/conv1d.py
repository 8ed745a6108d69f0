"""conv1d on the CPU: one BLAS GEMM per filter tap on shifted views, accumulating in place.

Shapes (channels first): x (N, C_in, T_in), w (C_out, C_in, K), b (C_out,), y (N, C_out, T_out).
``pad_left`` zeros are implied before x (the right padding only changes T_out, which the caller
fixes through the shape of ``y``/``gy``). The caller owns and preallocates every output; scratch
is internal. Kernels overwrite their outputs (the autograd engine accumulates).

Tap k reads ``x[c, t·stride + k·dilation − pad_left]``. Write ``k·dilation − pad_left = q·stride
+ r`` (0 ≤ r < stride) and let phase r of x be ``x_r[c, u] = x[c, u·stride + r]``; then
``y[:, t] += W_k x_r[:, t + q]`` over the frames t where that index exists, with
``W_k = w[:, :, k]`` (C_out, C_in). For stride 1 the only phase is x itself, so every tap is a
GEMM on a view of x (no im2col); a stride > 1 first splits x into its phases (one copy of x).
The input gradient is the adjoint (``gx_r[:, t + q] += W_kᵀ gy[:, t]``, phases interleaved
back), the weight gradient ``gW_k = Σ_t gy[:, t] x_r[:, t + q]ᵀ``. GEMMs go straight to BLAS
(``blas.gemm``: leading dimensions, beta = 1), which does the threading: these kernels use no
``prange``, so Numba's pool never competes with BLAS's for the cores.

Two other forward routes, each taken where it measured faster: sequences shorter than the input
has channels build the column matrix (one GEMM over C_in·K rows; ``_columns``), and input layers
(stride 1, more channels in than K·C_out ≤ 96) stack the taps on the output side, one GEMM of
K·C_out rows per block of frames and a shifted sum (``_stacked_outputs``, ``_forward_stacked``).

The weight gradient runs one GEMM per tap over the whole sequence, except for input layers
(the forward's stacking rule without its length, ``_stacked_weight_grad``), where a tap's GEMM
would have only C_out columns: there the K shifted copies of gy are stacked, one GEMM of K·C_out
rows per block of frames (``_weight_grad_stacked``).

``im2col``/``col2im`` (the column-matrix form, ``col[c·K + k, t] = x[c, t·stride + k·dilation −
pad_left]``) remain for callers that want the explicit matrix.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from tinyemo.kernels.cpu.blas import gemm


@njit(inline="always")
def _columns(c_in, k, t_out):
    """Whether to build the column matrix (im2col) and run one GEMM instead of one GEMM per tap
    on views: only for sequences shorter than the input has channels, where each tap's GEMM is
    too thin to run well, and short kernels (K ≤ 4). Measured by ``bench/bench_conv_short.py``
    (K = 3): with NumPy's OpenBLAS the taps are 1.1-2.6x faster at 32-128 channels x 93-837
    frames, except 128 x 93, where the columns win by ~10 %; the columns' K-fold copy of x is
    what they lose on. Long kernels stay per tap: each GEMM then sums over C_in terms, not
    C_in·K, and an ensemble's stacked net sums in the same order as its seeds' nets."""
    return t_out < c_in and k <= 4


@njit(inline="always")
def _stacked_outputs(c_in, c_out, k, t_out):
    """Whether a stride-1 forward runs as one GEMM with all K taps stacked on the output side
    (:func:`_forward_stacked`) instead of K GEMMs: for input layers, more channels in than
    stacked rows out (C_in > K·C_out, at most 96 such rows), over sequences long enough for
    blocks. Measured by ``bench/bench_conv_stacked.py`` (inputs cycled as in an epoch): 0.62-0.95
    of the per-tap time for 160 → 16 or 32 (K = 2, 3), 128 → 32 and 64 → 16 (K = 3); even for
    64 → 32 (K = 2) and 160 → 64 (K = 2, 128 rows); 1.1-1.3x slower for 32 → 32 and 128 → 128,
    whose GEMMs are as wide in as out. NumPy's OpenBLAS runs a GEMM of 32 rows at ~75 GFLOP/s
    and one of 96 at ~110 here, and x is read once instead of once per tap."""
    return k > 1 and k * c_out <= _STACKED_ROWS and c_in > k * c_out and t_out >= 2 * _MIN_STACK


@njit(inline="always")
def _stacked_weight_grad(c_in, c_out, k):
    """Whether a stride-1 weight gradient stacks the K shifted copies of gy (one GEMM of K·C_out
    rows per block of frames, :func:`_weight_grad_stacked`) instead of one GEMM per tap over
    the whole sequence (:func:`_weight_grad_taps`): for input layers, the forward's rule without
    its length (C_in > K·C_out ≤ 96), where a tap's GEMM would have only C_out columns. Measured
    by ``bench/bench_weight_grad.py`` (inputs cycled as in an epoch, 1 thread): per tap 0.63-0.98
    of the stacked time on every hidden and output layer of the paper's nets, 1.04-1.23 on the
    160 → 32 input layers (at 2 threads per tap wins there too, 0.83-0.87; the rule does not
    depend on the thread count, so results do not either)."""
    return k > 1 and k * c_out <= _STACKED_ROWS and c_in > k * c_out


# The stacked forward's rows at most (K·C_out), and its blocks: elements of the stacked output
# and the block of x together (fits a 1.25 MiB L2 in float32), at least _MIN_STACK frames.
_STACKED_ROWS = 96
_STACK_ELEMS = 1 << 18
_MIN_STACK = 256

# Frames of x per block of the stride-1 weight gradient's shifted-gy stack (K·C_out × block).
# Measured (bench/bench_weight_grad.py, 1 thread): 0.76-0.99x the time of the whole sequence at
# once on the paper's layers; 256 and 512 were no better than 1024.
_WEIGHT_BLOCK = 1024

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


@njit(cache=True)
def im2col(x, kernel_size, stride, dilation, pad_left, col):
    """col (N, C·K, T_out) ← the strided, dilated windows of x (N, C, T_in)."""
    n_seq, n_ch, t_in = x.shape
    t_out = col.shape[2]
    for job in range(n_seq * n_ch):
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


@njit(cache=True)
def col2im(col, kernel_size, stride, dilation, pad_left, x):
    """x (N, C, T_in) ← Σ over windows of col (N, C·K, T_out): the adjoint of :func:`im2col`."""
    n_seq, n_ch, t_in = x.shape
    t_out = col.shape[2]
    for job in range(n_seq * n_ch):
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
def _taps(w):
    """w (C_out, C_in, K) → (K, C_out, C_in) contiguous: one GEMM operand per tap."""
    c_out, c_in, k = w.shape
    out = np.empty((k, c_out, c_in), dtype=w.dtype)
    for o in range(c_out):
        for c in range(c_in):
            for j in range(k):
                out[j, o, c] = w[o, c, j]
    return out


@njit(cache=True)
def _split_phases(xn, stride):
    """xn (C, T) → (stride, C, ceil(T / stride)) with [r, c, u] = xn[c, u·stride + r] (0 past
    the end)."""
    n_ch, t_in = xn.shape
    length = (t_in + stride - 1) // stride
    out = np.zeros((stride, n_ch, length), dtype=xn.dtype)
    for c in range(n_ch):
        for i in range(t_in):
            out[i % stride, c, i // stride] = xn[c, i]
    return out


@njit(cache=True)
def _tap(k, dilation, pad_left, stride, t_src, t_out):
    """For tap k: (phase r, shift q, lo, hi): frames t in [lo, hi) read phase index t + q."""
    off = k * dilation - pad_left
    q = off // stride
    r = off - q * stride
    n_phase = (t_src - r + stride - 1) // stride if r < t_src else 0
    lo = max(0, -q)
    hi = min(t_out, n_phase - q)
    if hi < lo:
        hi = lo
    return r, q, lo, hi


@njit(cache=True)
def _rows_contiguous(a):
    return a.shape[-1] <= 1 or a.strides[-1] == a.itemsize


@njit(cache=True)
def conv1d_forward(x, w, b, stride, dilation, pad_left, y):
    """y (N, C_out, T_out) ← conv of x (N, C_in, T_in) with w (C_out, C_in, K) plus b (C_out,)."""
    c_out, c_in, k = w.shape
    n_seq, _, t_out = y.shape
    t_in = x.shape[2]
    if _columns(c_in, k, t_out):
        w2 = np.ascontiguousarray(w).reshape(c_out, c_in * k)
        col = np.empty((1, c_in * k, t_out), dtype=x.dtype)
        for n in range(n_seq):
            im2col(x[n:n + 1], k, stride, dilation, pad_left, col)
            for o in range(c_out):
                y[n, o, :] = b[o]
            gemm(1.0, w2, False, col[0], False, 1.0, y[n])
        return
    if stride == 1 and _stacked_outputs(c_in, c_out, k, t_out):
        _forward_stacked(x if _rows_contiguous(x) else np.ascontiguousarray(x), w, b, dilation,
                         pad_left, y)
        return
    wk = _taps(w)
    for n in range(n_seq):
        if stride == 1 and _rows_contiguous(x):
            src = x[n:n + 1]
        else:
            src = _split_phases(x[n], stride)
        yn = y[n]
        for o in range(c_out):
            yn[o, :] = b[o]
        for j in range(k):
            r, q, lo, hi = _tap(j, dilation, pad_left, stride, t_in, t_out)
            if hi > lo:
                gemm(1.0, wk[j], False, src[r, :, lo + q:hi + q], False, 1.0, yn[:, lo:hi])


@njit(cache=True)
def _forward_stacked(x, w, b, dilation, pad_left, y):
    """Stride 1, the taps stacked on the output side: per block of output frames, one GEMM
    ``z = W x`` with W (K·C_out, C_in), ``W[j·C_out + o] = w[o, :, j]``, over the block's frames
    of x and the (K − 1)·dilation after them, then ``y[o, t] = b[o] + Σ_j z[j·C_out + o, t +
    j·dilation]`` (the same sum as the per-tap GEMMs, in the same tap order)."""
    c_out, c_in, k = w.shape
    n_seq, _, t_out = y.shape
    t_in = x.shape[2]
    stacked = _taps(w).reshape(k * c_out, c_in)   # row j·C_out + o is w[o, :, j]
    span = (k - 1) * dilation
    block = max(_MIN_STACK, _STACK_ELEMS // (k * c_out + c_in) - span)
    block = min(block, t_out)
    z = np.empty((k * c_out, block + span), dtype=y.dtype)
    for n in range(n_seq):
        for s in range(0, t_out, block):
            m = min(t_out, s + block) - s
            a = s - pad_left                  # z's column u holds x frame a + u
            lo = min(max(a, 0), a + m + span)
            hi = max(lo, min(a + m + span, t_in))
            if hi > lo:
                gemm(1.0, stacked, False, x[n, :, lo:hi], False, 0.0, z[:, lo - a:hi - a])
            if lo > a or hi < a + m + span:   # frames outside x: the padding's zeros
                for r in range(k * c_out):
                    z[r, :lo - a] = 0
                    z[r, hi - a:m + span] = 0
            for o in range(c_out):
                yo = y[n, o, s:s + m]
                first = z[o]
                bo = b[o]
                for t in range(m):
                    yo[t] = bo + first[t]
                for j in range(1, k):
                    zj = z[j * c_out + o, j * dilation:j * dilation + m]
                    for t in range(m):
                        yo[t] += zj[t]


@njit(cache=True)
def conv1d_backward_input(gy, w, stride, dilation, pad_left, gx):
    """gx (N, C_in, T_in) ← ∂L/∂x from gy (N, C_out, T_out) = ∂L/∂y."""
    c_out, c_in, k = w.shape
    n_seq, _, t_out = gy.shape
    t_in = gx.shape[2]
    if not _rows_contiguous(gy):
        gy = np.ascontiguousarray(gy)
    if _columns(c_in, k, t_out):
        w2 = np.ascontiguousarray(w).reshape(c_out, c_in * k)
        gcol = np.empty((1, c_in * k, t_out), dtype=gx.dtype)
        for n in range(n_seq):
            gemm(1.0, w2, True, gy[n], False, 0.0, gcol[0])
            col2im(gcol, k, stride, dilation, pad_left, gx[n:n + 1])
        return
    wk = _taps(w)
    direct = stride == 1 and _rows_contiguous(gx)
    for n in range(n_seq):
        if direct:
            dst = gx[n:n + 1]
            dst[:] = 0
        else:
            dst = np.zeros((stride, c_in, (t_in + stride - 1) // stride), dtype=gx.dtype)
        for j in range(k):
            r, q, lo, hi = _tap(j, dilation, pad_left, stride, t_in, t_out)
            if hi > lo:
                gemm(1.0, wk[j], True, gy[n, :, lo:hi], False, 1.0, dst[r, :, lo + q:hi + q])
        if not direct:
            for c in range(c_in):
                for i in range(t_in):
                    gx[n, c, i] = dst[i % stride, c, i // stride]


@njit(cache=True)
def conv1d_backward_weight(x, gy, stride, dilation, pad_left, gw):
    """gw (C_out, C_in, K) ← ∂L/∂w = Σ_n Σ_t gy[n, :, t] · x[n, :, t·stride + k·dilation − pad]ᵀ."""
    c_out, c_in, k = gw.shape
    n_seq, _, t_out = gy.shape
    t_in = x.shape[2]
    if not _rows_contiguous(gy):
        gy = np.ascontiguousarray(gy)
    if _columns(c_in, k, t_out):
        col = np.empty((1, c_in * k, t_out), dtype=x.dtype)
        g2 = np.zeros((c_out, c_in * k), dtype=gw.dtype)
        for n in range(n_seq):
            im2col(x[n:n + 1], k, stride, dilation, pad_left, col)
            gemm(1.0, gy[n], False, col[0], True, 1.0, g2)
        gw[:] = g2.reshape(c_out, c_in, k)
        return
    if stride == 1 and _stacked_weight_grad(c_in, c_out, k):
        _weight_grad_stacked(x, gy, dilation, pad_left, gw)
        return
    _weight_grad_taps(x, gy, stride, dilation, pad_left, gw)


@njit(cache=True)
def _weight_grad_taps(x, gy, stride, dilation, pad_left, gw):
    """One GEMM per tap over the whole sequence, ``gW_k = Σ_t gy[:, t] x_r[:, t + q]ᵀ`` (views of
    x for stride 1, its phases otherwise); the larger of C_in, C_out as the GEMM's rows runs
    faster in OpenBLAS."""
    c_out, c_in, k = gw.shape
    n_seq, _, t_out = gy.shape
    t_in = x.shape[2]
    rows_in = c_in >= c_out
    gk = np.zeros((k, c_in, c_out) if rows_in else (k, c_out, c_in), dtype=gw.dtype)
    for n in range(n_seq):
        if stride == 1 and _rows_contiguous(x):
            src = x[n:n + 1]
        else:
            src = _split_phases(x[n], stride)
        for j in range(k):
            r, q, lo, hi = _tap(j, dilation, pad_left, stride, t_in, t_out)
            if hi > lo:
                xv = src[r, :, lo + q:hi + q]
                if rows_in:
                    gemm(1.0, xv, False, gy[n, :, lo:hi], True, 1.0, gk[j])
                else:
                    gemm(1.0, gy[n, :, lo:hi], False, xv, True, 1.0, gk[j])
    for o in range(c_out):
        for c in range(c_in):
            for j in range(k):
                gw[o, c, j] = gk[j, c, o] if rows_in else gk[j, o, c]


@njit(cache=True)
def _weight_grad_stacked(x, gy, dilation, pad_left, gw):
    """Stride 1: ``gw[o, c, k] = Σ_u gy[o, u − q_k]·x[c, u]`` with q_k = k·dilation − pad, so
    stacking the K shifted copies of gy (K·C_out rows) makes one GEMM with all taps. The stack
    is built and multiplied in blocks of ``_WEIGHT_BLOCK`` frames of x, so it is still in cache
    when the GEMM reads it (the whole sequence's stack, 1-4 MB at the paper's sizes, was not):
    ``bench/bench_weight_grad.py``."""
    c_out, c_in, k = gw.shape
    n_seq, _, t_out = gy.shape
    t_in = x.shape[2]
    xs = x if _rows_contiguous(x) else np.ascontiguousarray(x)
    block = max(1, min(t_in, _WEIGHT_BLOCK))
    stack = np.empty((k * c_out, block), dtype=gw.dtype)
    rows_in = c_in >= k * c_out
    g = np.zeros((c_in, k * c_out) if rows_in else (k * c_out, c_in), dtype=gw.dtype)
    for n in range(n_seq):
        for s in range(0, t_in, block):
            m = min(t_in, s + block) - s
            for j in range(k):
                q = j * dilation - pad_left      # stack column u holds gy[:, s + u − q]
                lo = min(m, max(0, q - s))
                hi = max(lo, min(m, t_out + q - s))
                for o in range(c_out):
                    row = stack[j * c_out + o]
                    row[:lo] = 0
                    row[lo:hi] = gy[n, o, s + lo - q:s + hi - q]
                    row[hi:m] = 0
            if rows_in:
                gemm(1.0, xs[n, :, s:s + m], False, stack[:, :m], True, 1.0, g)
            else:
                gemm(1.0, stack[:, :m], False, xs[n, :, s:s + m], True, 1.0, g)
    for o in range(c_out):
        for c in range(c_in):
            for j in range(k):
                gw[o, c, j] = g[c, j * c_out + o] if rows_in else g[j * c_out + o, c]


@njit(cache=True, fastmath=True)
def conv1d_backward_bias(gy, gb):
    """gb (C_out,) ← Σ over sequences and time of gy (N, C_out, T_out)."""
    n_seq, c_out, t_out = gy.shape
    for o in range(c_out):
        acc = 0.0
        for n in range(n_seq):
            for t in range(t_out):
                acc += gy[n, o, t]
        gb[o] = acc
