"""conv1d on CUDA, the twin of ``kernels/cpu/conv1d.py``: same functions, same argument order,
same contracts, no im2col scratch.

Shapes (channels first): x (N, C_in, T_in), w (C_out, C_in, K), b (C_out,), y (N, C_out, T_out).
``pad_left`` zeros are implied before x (the right padding only changes T_out, which the caller
fixes through the shape of ``y``/``gy``). Every array is a C-contiguous device array that the
caller owns and preallocates; kernels overwrite their outputs. Sums accumulate in float64.

Output frame t, tap k reads x at i = t·stride + k·dilation − pad_left (zero outside x):

- forward: one thread per y[n, o, t] = b[o] + Σ_c Σ_k w[o, c, k] · x[n, c, i];
- input gradient: one thread per gx[n, c, i] = Σ_k Σ_o w[o, c, k] · gy[n, o, t], over the taps
  k for which t = (i + pad_left − k·dilation) / stride is a whole frame in [0, T_out);
- weight gradient: one block per gw[o, c, k] = Σ_n Σ_t gy[n, o, t] · x[n, c, i];
- bias gradient: one block per gb[o] = Σ_n Σ_t gy[n, o, t].
"""
from __future__ import annotations

from types import SimpleNamespace

from numba import cuda, float64

from .device_functions import block_sum, unravel3
from .launch import per_block, per_element

__all__ = ["conv1d_forward", "conv1d_backward_input", "conv1d_backward_weight",
           "conv1d_backward_bias", "conv1d_kernels"]


@cuda.jit
def _forward_kernel(x, w, b, stride, dilation, pad_left, y):
    j = cuda.grid(1)
    n_seq, c_out, t_out = y.shape
    if j >= n_seq * c_out * t_out:
        return
    n, o, t = unravel3(j, c_out, t_out)
    c_in, t_in = x.shape[1], x.shape[2]
    acc = 0.0
    for c in range(c_in):
        for k in range(w.shape[2]):
            i = t * stride + k * dilation - pad_left
            if i >= 0 and i < t_in:
                acc += w[o, c, k] * x[n, c, i]
    y[n, o, t] = acc + b[o]


@cuda.jit
def _backward_input_kernel(gy, w, stride, dilation, pad_left, gx):
    j = cuda.grid(1)
    n_seq, c_in, t_in = gx.shape
    if j >= n_seq * c_in * t_in:
        return
    n, c, i = unravel3(j, c_in, t_in)
    c_out, t_out = gy.shape[1], gy.shape[2]
    acc = 0.0
    for k in range(w.shape[2]):
        shifted = i + pad_left - k * dilation  # = t·stride for the frame t that reads x[i]
        if shifted >= 0 and shifted % stride == 0:
            t = shifted // stride
            if t < t_out:
                for o in range(c_out):
                    acc += w[o, c, k] * gy[n, o, t]
    gx[n, c, i] = acc


@cuda.jit
def _backward_weight_kernel(x, gy, stride, dilation, pad_left, gw):
    # one block per gw element: the grid has exactly C_out·C_in·K blocks
    buf = cuda.shared.array(0, float64)
    o, c, k = unravel3(cuda.blockIdx.x, gw.shape[1], gw.shape[2])
    n_seq, t_out = gy.shape[0], gy.shape[2]
    t_in = x.shape[2]
    start = k * dilation - pad_left
    acc = 0.0
    for j in range(cuda.threadIdx.x, n_seq * t_out, cuda.blockDim.x):
        n = j // t_out
        t = j % t_out
        i = start + t * stride
        if i >= 0 and i < t_in:
            acc += gy[n, o, t] * x[n, c, i]
    total = block_sum(buf, acc)
    if cuda.threadIdx.x == 0:
        gw[o, c, k] = total


@cuda.jit
def _backward_bias_kernel(gy, gb):
    # one block per gb element: the grid has exactly C_out blocks
    buf = cuda.shared.array(0, float64)
    o = cuda.blockIdx.x
    n_seq, t_out = gy.shape[0], gy.shape[2]
    acc = 0.0
    for j in range(cuda.threadIdx.x, n_seq * t_out, cuda.blockDim.x):
        acc += float(gy[j // t_out, o, j % t_out])  # float64 sums in the simulator too
    total = block_sum(buf, acc)
    if cuda.threadIdx.x == 0:
        gb[o] = total


def conv1d_forward(x, w, b, stride, dilation, pad_left, y):
    """y (N, C_out, T_out) ← conv of x (N, C_in, T_in) with w (C_out, C_in, K) plus b (C_out,)."""
    per_element(_forward_kernel, y.size, x, w, b, stride, dilation, pad_left, y)


def conv1d_backward_input(gy, w, stride, dilation, pad_left, gx):
    """gx (N, C_in, T_in) ← ∂L/∂x from gy (N, C_out, T_out) = ∂L/∂y."""
    per_element(_backward_input_kernel, gx.size, gy, w, stride, dilation, pad_left, gx)


def conv1d_backward_weight(x, gy, stride, dilation, pad_left, gw):
    """gw (C_out, C_in, K) ← ∂L/∂w = Σ_n Σ_t gy[n, o, t] · x[n, c, t·s + k·d − pad_left]."""
    per_block(_backward_weight_kernel, gw.size, x, gy, stride, dilation, pad_left, gw)


def conv1d_backward_bias(gy, gb):
    """gb (C_out,) ← Σ over sequences and time of gy (N, C_out, T_out)."""
    per_block(_backward_bias_kernel, gb.size, gy, gb)


_DIRECT = SimpleNamespace(conv1d_forward=conv1d_forward, conv1d_backward_input=conv1d_backward_input,
                          conv1d_backward_weight=conv1d_backward_weight,
                          conv1d_backward_bias=conv1d_backward_bias)


def conv1d_kernels(c_in, c_out, kernel_size, dilation, stride, t_out):
    """The four conv1d kernels for one layer (the CPU may pick FFT ones; CUDA has only these)."""
    return _DIRECT
