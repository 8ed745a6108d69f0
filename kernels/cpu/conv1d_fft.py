"""conv1d through the FFT, for long kernels (the paper's Figure 1 filter: K up to 2048 frames).

Same contract as ``conv1d.py`` (shapes, argument order, ``pad_left`` with the right padding
implied by the output's length, the caller preallocates and owns every output, outputs are
overwritten), so ``tinyemo.ops.conv1d`` can swap it in. SciPy's FFT is not a Numba kernel: these
are plain Python around ``scipy.fft`` plus one ``@njit`` spectral contraction; CPU only.

With ``span = dilation·(K − 1)`` and ``t_full = (T_out − 1)·stride + 1`` stride-1 output frames,
the conv reads ``length = t_full + span`` padded input frames. Every correlation and convolution
below is circular with ``N = next_fast_len(length) ≥ length``, which equals the linear one on the
frames used (no wrap-around reaches them); the left padding is a circular shift of the output
index. Strides > 1 compute the stride-1 result and keep every stride-th frame (the backward
passes upsample ``gy`` with zeros), so the cost rule below only picks this path for stride 1.

Cost rule (:func:`fft_preferred`), forward plus backward, for one sequence, in *GEMM-flop
equivalents*: the work of each path weighted by its cost per flop relative to a BLAS GEMM flop,
so the rule compares the two paths on whatever machine runs it and holds no absolute rate:
direct ``3·2·C_out·C_in·K·T_out`` flops at weight 1 (``GEMV_COST`` when C_out < 8: the per-tap
products are then memory-bound matrix-vector ones); FFT ``3·(C_in + C_out + C_in·C_out)`` real
transforms of ``2.5·N·log2 N`` flops at ``FFT_COST`` plus ``3·8·C_in·C_out·(N/2 + 1)`` flops of
per-frequency channel mixing at ``MIX_COST``. The weights are ratios of rates measured on a
2-core AVX-512 machine, one thread (GEMM 150, GEMV 30, FFT 10, mixing 5 GFLOP/s; both paths
scale alike with threads). Why ratios and not a measurement at run time: any absolute rate
cancels out of the comparison (the old rule's 150 GFLOP/s never changed a decision; the weights
here decide exactly as it did); a ratio of rates moves less between machines than a rate does
(GEMM, FFT and the mixing loop all speed up with SIMD width and clock); and a timing taken at run
time would make the kernel choice, hence the last bits of every result, depend on the machine's
load at that moment, where tinyemo's runs are reproducible from their seeds. At T = 7500 the rule switches to the FFT
at K ≈ 128 for 160 → 1 channels and K ≈ 512 for 32 → 32 and 128 → 128; measured, the FFT wins
from K ≈ 100, ≈ 200 and ≈ 300 (the rule errs towards the direct path's steadier cost).

:func:`conv1d_kernels` makes the choice: the op asks the target's table for the kernels of one
layer (the CUDA target has direct kernels only).
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numba
import numpy as np
import scipy.fft as sfft
from numba import njit, prange

from tinyemo.kernels.cpu.conv1d import (
    conv1d_backward_bias, conv1d_backward_input, conv1d_backward_weight, conv1d_forward,
)

__all__ = ["fft_preferred", "conv1d_kernels", "conv1d_fft_forward", "conv1d_fft_backward_input",
           "conv1d_fft_backward_weight"]

# Cost of one flop of each kind, in BLAS GEMM flops (rates on the reference machine: GEMM 150,
# GEMV 30, FFT 10, mixing 5 GFLOP/s); only these ratios enter the rule.
GEMV_COST = 5.0
FFT_COST = 15.0
MIX_COST = 30.0


def fft_preferred(c_in: int, c_out: int, kernel_size: int, dilation: int, stride: int,
                  t_out: int) -> bool:
    """True when the FFT path is expected to beat the direct (GEMM) kernels (stride 1 only)."""
    if stride != 1:
        return False
    n = sfft.next_fast_len(t_out + dilation * (kernel_size - 1), real=True)
    direct = 6.0 * c_out * c_in * kernel_size * t_out * (1.0 if c_out >= 8 else GEMV_COST)
    transforms = 3.0 * (c_in + c_out + c_in * c_out) * 2.5 * n * math.log2(n) * FFT_COST
    mixing = 24.0 * c_in * c_out * (n // 2 + 1) * MIX_COST
    return transforms + mixing < direct


def conv1d_kernels(c_in: int, c_out: int, kernel_size: int, dilation: int, stride: int,
                   t_out: int):
    """The four conv1d kernels for one layer, under the direct kernels' names
    (``conv1d_forward``, ``conv1d_backward_input``, ``conv1d_backward_weight``,
    ``conv1d_backward_bias``): the FFT ones when :func:`fft_preferred`, else the direct ones.
    Both compute the same function; the bias gradient is always the direct one."""
    return _FFT if fft_preferred(c_in, c_out, kernel_size, dilation, stride, t_out) else _DIRECT


def _plan(t_in, t_out, kernel_size, stride, dilation):
    """(t_full, length, N): stride-1 output frames, padded input frames used, FFT length."""
    t_full = (t_out - 1) * stride + 1
    length = t_full + dilation * (kernel_size - 1)
    return t_full, length, sfft.next_fast_len(length, real=True)


def _workers() -> int:
    return max(1, numba.get_num_threads())


def _dilated_spectrum(w, dilation, n):
    """rfft of w (C_out, C_in, K) with dilation−1 zeros between taps: (C_out, C_in, N//2+1)."""
    c_out, c_in, k = w.shape
    if dilation == 1:
        return sfft.rfft(w, n=n, axis=-1, workers=_workers())
    wd = np.zeros((c_out, c_in, dilation * (k - 1) + 1), dtype=w.dtype)
    wd[:, :, ::dilation] = w
    return sfft.rfft(wd, n=n, axis=-1, workers=_workers())


def _upsampled(gy, stride, t_full):
    """gy (N, C, T_out) with stride−1 zeros between frames: (N, C, t_full)."""
    if stride == 1:
        return gy
    up = np.zeros(gy.shape[:2] + (t_full,), dtype=gy.dtype)
    up[:, :, ::stride] = gy
    return up


@njit(parallel=True, cache=True)
def _mix(a, b, conj_a, out):
    """out[n, o, f] ← Σ_c op(a[o, c, f])·b[n, c, f], op = conj when ``conj_a``."""
    n_seq, c_out, n_f = out.shape
    c_in = b.shape[1]
    for job in prange(n_seq * c_out):
        n = job // c_out
        o = job % c_out
        acc = out[n, o]
        acc[:] = 0
        for c in range(c_in):
            ac = a[o, c]
            bc = b[n, c]
            if conj_a:
                for f in range(n_f):
                    acc[f] += ac[f].conjugate() * bc[f]
            else:
                for f in range(n_f):
                    acc[f] += ac[f] * bc[f]


@njit(parallel=True, cache=True)
def _outer(a, b, out):
    """out[o, c, f] ← Σ_n conj(a[n, o, f])·b[n, c, f]."""
    n_seq, c_out, n_f = a.shape
    c_in = b.shape[1]
    for job in prange(c_out * c_in):
        o = job // c_in
        c = job % c_in
        acc = out[o, c]
        acc[:] = 0
        for n in range(n_seq):
            an = a[n, o]
            bn = b[n, c]
            for f in range(n_f):
                acc[f] += an[f].conjugate() * bn[f]


def conv1d_fft_forward(x, w, b, stride, dilation, pad_left, y):
    """y (N, C_out, T_out) ← conv of x (N, C_in, T_in) with w (C_out, C_in, K) plus b (C_out,)."""
    t_full, length, n = _plan(x.shape[2], y.shape[2], w.shape[2], stride, dilation)
    xs = x[:, :, :max(0, min(x.shape[2], length - pad_left))]
    xf = sfft.rfft(xs, n=n, axis=-1, workers=_workers())
    yf = np.empty((x.shape[0], w.shape[0], xf.shape[2]), dtype=xf.dtype)
    _mix(_dilated_spectrum(w, dilation, n), xf, True, yf)
    full = sfft.irfft(yf, n=n, axis=-1, workers=_workers())
    where = (np.arange(y.shape[2]) * stride - pad_left) % n
    np.add(full[:, :, where], b[None, :, None], out=y, casting="unsafe")


def conv1d_fft_backward_input(gy, w, stride, dilation, pad_left, gx):
    """gx (N, C_in, T_in) ← ∂L/∂x from gy (N, C_out, T_out) = ∂L/∂y."""
    t_full, length, n = _plan(gx.shape[2], gy.shape[2], w.shape[2], stride, dilation)
    gyf = sfft.rfft(_upsampled(gy, stride, t_full), n=n, axis=-1, workers=_workers())
    wf = _dilated_spectrum(w, dilation, n).transpose(1, 0, 2)  # (C_in, C_out, F)
    gxf = np.empty((gy.shape[0], w.shape[1], gyf.shape[2]), dtype=gyf.dtype)
    _mix(wf, gyf, False, gxf)
    full = sfft.irfft(gxf, n=n, axis=-1, workers=_workers())  # padded-input frames 0 … N−1
    used = max(0, min(gx.shape[2], length - pad_left))  # later input frames never reach y
    gx[:, :, :used] = full[:, :, pad_left:pad_left + used]
    gx[:, :, used:] = 0


def conv1d_fft_backward_weight(x, gy, stride, dilation, pad_left, gw):
    """gw (C_out, C_in, K) ← ∂L/∂w = Σ_n Σ_t gy[n, o, t]·x[n, c, t·stride + k·dilation − pad]."""
    t_full, length, n = _plan(x.shape[2], gy.shape[2], gw.shape[2], stride, dilation)
    xs = x[:, :, :max(0, min(x.shape[2], length - pad_left))]
    xf = sfft.rfft(xs, n=n, axis=-1, workers=_workers())
    gyf = sfft.rfft(_upsampled(gy, stride, t_full), n=n, axis=-1, workers=_workers())
    gwf = np.empty((gw.shape[0], gw.shape[1], xf.shape[2]), dtype=xf.dtype)
    _outer(gyf, xf, gwf)
    full = sfft.irfft(gwf, n=n, axis=-1, workers=_workers())
    where = (np.arange(gw.shape[2]) * dilation - pad_left) % n
    gw[...] = full[:, :, where]


_DIRECT = SimpleNamespace(conv1d_forward=conv1d_forward, conv1d_backward_input=conv1d_backward_input,
                          conv1d_backward_weight=conv1d_backward_weight,
                          conv1d_backward_bias=conv1d_backward_bias)
_FFT = SimpleNamespace(conv1d_forward=conv1d_fft_forward,
                       conv1d_backward_input=conv1d_fft_backward_input,
                       conv1d_backward_weight=conv1d_fft_backward_weight,
                       conv1d_backward_bias=conv1d_backward_bias)
