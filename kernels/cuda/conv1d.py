"""conv1d on CUDA, the twin of ``kernels/cpu/conv1d.py``: same functions, same argument order,
same contracts, no im2col scratch.

Shapes (channels first): x (N, C_in, T_in), w (C_out, C_in, K), b (C_out,), y (N, C_out, T_out).
``pad_left`` zeros are implied before x (the right padding only changes T_out, which the caller
fixes through the shape of ``y``/``gy``). Every array is a device array that the caller owns
and preallocates, C-contiguous or a view of one along the channel axis (a grouped conv passes
each group's channels); kernels overwrite their outputs. Sums accumulate in the arrays'
dtype (float32 for float32, as the CPU's BLAS does).

Output frame t, tap k reads x at i = t·stride + k·dilation − pad_left (zero outside x). The three
contractions are matrix products, computed by the tiled shared-memory scheme of ``tiles.py``
(a block per output tile, operands staged in shared memory, a register tile per thread):

- forward, per sequence n: y[o, t] = b[o] + Σ_k Σ_c w[o, c, k] · x[c, t·s + k·d − p]
  (M = C_out, N = T_out, reduced over taps, then channels in steps of ``tile_k``);
- input gradient, per sequence n and phase r = i mod s: the frames i = r + s·j of gx only meet
  the taps k with (r + p − k·d) divisible by s, at gy frame t = j + q_k, q_k = (r + p − k·d)/s:
  gx[c, r + s·j] = Σ_{those k} Σ_o w[o, c, k] · gy[o, j + q_k] (M = C_in, N = ⌈(T_in − r)/s⌉;
  no work is spent on the s − 1 of every s taps that miss, as a transposed conv with stride 3
  would otherwise do);
- weight gradient, per tap k: gw[o, c, k] = Σ_n Σ_t gy[n, o, t] · x[n, c, t·s + k·d − p]
  (M = C_out, N = C_in, reduced over frames: long, into a small output, so the frames are split
  over several blocks (config ``GEMM_TARGET_BLOCKS``/``GEMM_MIN_SPLIT``) whose partial sums a
  second kernel adds in a fixed order: deterministic, no atomics);
- bias gradient: one block per gb[o] = Σ_n Σ_t gy[n, o, t].
"""
from __future__ import annotations

from types import SimpleNamespace

from numba import cuda

from tinyemo.kernels.cuda import config
from tinyemo.kernels.cuda.arrays import empty
from tinyemo.kernels.cuda.device_functions import block_sum, unravel3
from tinyemo.kernels.cuda.launch import per_block, per_element
from tinyemo.kernels.cuda.tiles import (
    REG_M, REG_N, first_slot, geometry, launch, multiply_tiles, next_slot, zero_tile,
)

__all__ = ["conv1d_forward", "conv1d_backward_input", "conv1d_backward_weight",
           "conv1d_backward_bias", "conv1d_kernels"]


@cuda.jit
def _forward_kernel(x, w, b, stride, dilation, pad_left, y, tile_k):
    # grid (T_out tiles, C_out tiles, N); A = w[o, c, k] (rows o), B = x[n, c, t·s + shift]
    buf = cuda.shared.array(0, x.dtype)
    acc = cuda.local.array((REG_M, REG_N), x.dtype)
    a_reg = cuda.local.array(REG_M, x.dtype)
    b_reg = cuda.local.array(REG_N, x.dtype)
    zero = x.dtype.type(0)
    n = cuda.blockIdx.z
    c_out, c_in, n_taps = w.shape
    t_in = x.shape[2]
    t_out = y.shape[2]
    tm = cuda.blockDim.y * REG_M
    tn = cuda.blockDim.x * REG_N
    lda = tm + 1
    ldb = tn + 1
    o0 = cuda.blockIdx.y * tm
    t0 = cuda.blockIdx.x * tn
    a_kk, a_i, a_dk, a_di = first_slot(tm)
    b_kk, b_j, b_dk, b_dj = first_slot(tn)
    zero_tile(acc)
    for k in range(n_taps):
        shift = k * dilation - pad_left
        for c0 in range(0, c_in, tile_k):
            kk, i = a_kk, a_i
            while kk < tile_k:
                o = o0 + i
                c = c0 + kk
                v = zero
                if o < c_out and c < c_in:
                    v = w[o, c, k]
                buf[kk * lda + i] = v
                kk, i = next_slot(kk, i, a_dk, a_di, tm)
            kk, j = b_kk, b_j
            while kk < tile_k:
                c = c0 + kk
                t = t0 + j
                src = t * stride + shift
                v = zero
                if c < c_in and t < t_out and src >= 0 and src < t_in:
                    v = x[n, c, src]
                buf[tile_k * lda + kk * ldb + j] = v
                kk, j = next_slot(kk, j, b_dk, b_dj, tn)
            cuda.syncthreads()
            multiply_tiles(buf, tile_k, lda, ldb, acc, a_reg, b_reg)
            cuda.syncthreads()
    for r in range(REG_M):
        o = o0 + cuda.threadIdx.y + r * cuda.blockDim.y
        if o < c_out:
            for s in range(REG_N):
                t = t0 + cuda.threadIdx.x + s * cuda.blockDim.x
                if t < t_out:
                    y[n, o, t] = acc[r, s] + b[o]


@cuda.jit
def _backward_input_kernel(gy, w, stride, dilation, pad_left, gx, tile_k):
    # grid (column tiles, C_in tiles, N·stride); block z = n·stride + phase; column j is frame
    # i = phase + stride·j of gx. A = w[o, c, k] (rows c), B = gy[n, o, j + q_k]
    buf = cuda.shared.array(0, gy.dtype)
    acc = cuda.local.array((REG_M, REG_N), gy.dtype)
    a_reg = cuda.local.array(REG_M, gy.dtype)
    b_reg = cuda.local.array(REG_N, gy.dtype)
    zero = gy.dtype.type(0)
    n = cuda.blockIdx.z // stride
    phase = cuda.blockIdx.z - n * stride
    c_out, c_in, n_taps = w.shape
    t_in = gx.shape[2]
    t_out = gy.shape[2]
    cols = (t_in - phase + stride - 1) // stride
    tm = cuda.blockDim.y * REG_M
    tn = cuda.blockDim.x * REG_N
    lda = tm + 1
    ldb = tn + 1
    c_base = cuda.blockIdx.y * tm
    j0 = cuda.blockIdx.x * tn
    a_kk, a_i, a_dk, a_di = first_slot(tm)
    b_kk, b_j, b_dk, b_dj = first_slot(tn)
    zero_tile(acc)
    for k in range(n_taps):
        num = phase + pad_left - k * dilation
        if num % stride != 0:  # the same for the whole block: no divergence at the barriers
            continue
        q = num // stride
        for o0 in range(0, c_out, tile_k):
            kk, i = a_kk, a_i
            while kk < tile_k:
                o = o0 + kk
                c = c_base + i
                v = zero
                if o < c_out and c < c_in:
                    v = w[o, c, k]
                buf[kk * lda + i] = v
                kk, i = next_slot(kk, i, a_dk, a_di, tm)
            kk, j = b_kk, b_j
            while kk < tile_k:
                o = o0 + kk
                t = j0 + j + q
                v = zero
                if o < c_out and j0 + j < cols and t >= 0 and t < t_out:
                    v = gy[n, o, t]
                buf[tile_k * lda + kk * ldb + j] = v
                kk, j = next_slot(kk, j, b_dk, b_dj, tn)
            cuda.syncthreads()
            multiply_tiles(buf, tile_k, lda, ldb, acc, a_reg, b_reg)
            cuda.syncthreads()
    for r in range(REG_M):
        c = c_base + cuda.threadIdx.y + r * cuda.blockDim.y
        if c < c_in:
            for s in range(REG_N):
                j = j0 + cuda.threadIdx.x + s * cuda.blockDim.x
                if j < cols:
                    gx[n, c, phase + stride * j] = acc[r, s]


@cuda.jit
def _backward_weight_kernel(x, gy, stride, dilation, pad_left, frames_per_split, partial,
                            tile_k):
    # grid (C_in tiles, C_out tiles, splits·K); block z = split·K + k; partial[split, o, c, k].
    # A = gy[n, o, t] (rows o), B = x[n, c, t·s + shift]; staged with the frame index fastest
    # across threads, so the global reads coalesce.
    buf = cuda.shared.array(0, x.dtype)
    acc = cuda.local.array((REG_M, REG_N), x.dtype)
    a_reg = cuda.local.array(REG_M, x.dtype)
    b_reg = cuda.local.array(REG_N, x.dtype)
    zero = x.dtype.type(0)
    n_taps = partial.shape[3]
    split = cuda.blockIdx.z // n_taps
    k = cuda.blockIdx.z - split * n_taps
    c_out, c_in = partial.shape[1], partial.shape[2]
    n_seq, t_out = gy.shape[0], gy.shape[2]
    t_in = x.shape[2]
    tm = cuda.blockDim.y * REG_M
    tn = cuda.blockDim.x * REG_N
    lda = tm + 1
    ldb = tn + 1
    o0 = cuda.blockIdx.y * tm
    c0 = cuda.blockIdx.x * tn
    shift = k * dilation - pad_left
    t_lo = split * frames_per_split
    t_hi = min(t_out, t_lo + frames_per_split)
    a_i, a_kk, a_di, a_dk = first_slot(tile_k)
    b_j, b_kk, b_dj, b_dk = first_slot(tile_k)
    zero_tile(acc)
    for n in range(n_seq):
        for f0 in range(t_lo, t_hi, tile_k):
            i, kk = a_i, a_kk
            while i < tm:
                o = o0 + i
                t = f0 + kk
                v = zero
                if o < c_out and t < t_hi:
                    v = gy[n, o, t]
                buf[kk * lda + i] = v
                i, kk = next_slot(i, kk, a_di, a_dk, tile_k)
            j, kk = b_j, b_kk
            while j < tn:
                c = c0 + j
                t = f0 + kk
                src = t * stride + shift
                v = zero
                if c < c_in and t < t_hi and src >= 0 and src < t_in:
                    v = x[n, c, src]
                buf[tile_k * lda + kk * ldb + j] = v
                j, kk = next_slot(j, kk, b_dj, b_dk, tile_k)
            cuda.syncthreads()
            multiply_tiles(buf, tile_k, lda, ldb, acc, a_reg, b_reg)
            cuda.syncthreads()
    for r in range(REG_M):
        o = o0 + cuda.threadIdx.y + r * cuda.blockDim.y
        if o < c_out:
            for s in range(REG_N):
                c = c0 + cuda.threadIdx.x + s * cuda.blockDim.x
                if c < c_in:
                    partial[split, o, c, k] = acc[r, s]


@cuda.jit
def _sum_splits_kernel(partial, gw):
    # one thread per gw element; the splits are added in order (deterministic)
    j = cuda.grid(1)
    c_out, c_in, n_taps = gw.shape
    if j >= c_out * c_in * n_taps:
        return
    o, c, k = unravel3(j, c_in, n_taps)
    acc = partial[0, o, c, k]
    for split in range(1, partial.shape[0]):
        acc += partial[split, o, c, k]
    gw[o, c, k] = acc


@cuda.jit
def _backward_bias_kernel(gy, gb):
    # one block per gb element: the grid has exactly C_out blocks
    buf = cuda.shared.array(0, gy.dtype)
    o = cuda.blockIdx.x
    n_seq, t_out = gy.shape[0], gy.shape[2]
    acc = gy.dtype.type(0)
    for j in range(cuda.threadIdx.x, n_seq * t_out, cuda.blockDim.x):
        acc += gy[j // t_out, o, j % t_out]
    total = block_sum(buf, acc)
    if cuda.threadIdx.x == 0:
        gb[o] = total


def conv1d_forward(x, w, b, stride, dilation, pad_left, y):
    """y (N, C_out, T_out) ← conv of x (N, C_in, T_in) with w (C_out, C_in, K) plus b (C_out,)."""
    n_seq, c_out, t_out = y.shape
    launch(_forward_kernel, c_out, t_out, n_seq, x.dtype.itemsize,
           x, w, b, stride, dilation, pad_left, y)


def conv1d_backward_input(gy, w, stride, dilation, pad_left, gx):
    """gx (N, C_in, T_in) ← ∂L/∂x from gy (N, C_out, T_out) = ∂L/∂y."""
    n_seq, c_in, t_in = gx.shape
    launch(_backward_input_kernel, c_in, -(-t_in // stride), n_seq * stride, gy.dtype.itemsize,
           gy, w, stride, dilation, pad_left, gx)


def weight_splits(c_out: int, c_in: int, n_taps: int, t_out: int) -> tuple[int, int]:
    """(splits, frames per split) of the weight gradient's reduction over ``t_out`` frames."""
    _, _, tm, tn = geometry(c_out, c_in)
    tiles = -(-c_out // tm) * -(-c_in // tn) * n_taps
    wanted = -(-config.GEMM_TARGET_BLOCKS // tiles)
    splits = max(1, min(wanted, t_out // max(1, config.GEMM_MIN_SPLIT)))
    frames = -(-t_out // splits)
    return -(-t_out // frames), frames


def conv1d_backward_weight(x, gy, stride, dilation, pad_left, gw):
    """gw (C_out, C_in, K) ← ∂L/∂w = Σ_n Σ_t gy[n, o, t] · x[n, c, t·s + k·d − pad_left]."""
    c_out, c_in, n_taps = gw.shape
    splits, frames = weight_splits(c_out, c_in, n_taps, gy.shape[2])
    partial = gw.reshape((1,) + gw.shape) if splits == 1 else \
        empty((splits,) + gw.shape, gw.dtype)
    launch(_backward_weight_kernel, c_out, c_in, splits * n_taps, x.dtype.itemsize,
           x, gy, stride, dilation, pad_left, frames, partial)
    if splits > 1:
        per_element(_sum_splits_kernel, gw.size, partial, gw)


def conv1d_backward_bias(gy, gb):
    """gb (C_out,) ← Σ over sequences and time of gy (N, C_out, T_out)."""
    per_block(_backward_bias_kernel, gb.size, gy, gb)


_DIRECT = SimpleNamespace(conv1d_forward=conv1d_forward, conv1d_backward_input=conv1d_backward_input,
                          conv1d_backward_weight=conv1d_backward_weight,
                          conv1d_backward_bias=conv1d_backward_bias)


def conv1d_kernels(c_in, c_out, kernel_size, dilation, stride, t_out):
    """The four conv1d kernels for one layer (the CPU may pick FFT ones; CUDA has only these)."""
    return _DIRECT
