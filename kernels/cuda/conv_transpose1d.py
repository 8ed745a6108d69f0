"""Transposed conv on CUDA, in the paper's explicit form y = T x; the twin of
``kernels/cpu/conv_transpose1d.py``.

T (never materialised) is the matrix of the stride-s conv with no padding, transposed, so T x
is that conv's input gradient and these launchers are conv1d's kernels with the roles of the
arrays exchanged, exactly as on the CPU.

Shapes: x (N, C_in, n_x), w (C_in, C_out, K) as in PyTorch, b (C_out,), y (N, C_out, n_y),
n_y = s(n_x − 1) + K. Outputs are device arrays preallocated by the caller (C-contiguous, or
views along the channel axis for a grouped conv).
"""
from __future__ import annotations

from numba import cuda

from tinyemo.kernels.cuda.arrays import zeros
from tinyemo.kernels.cuda.conv1d import (
    conv1d_backward_bias, conv1d_backward_input, conv1d_backward_weight, conv1d_forward,
)
from tinyemo.kernels.cuda.device_functions import unravel3
from tinyemo.kernels.cuda.launch import per_element

__all__ = ["conv_transpose1d_forward", "conv_transpose1d_backward",
           "conv_transpose1d_backward_bias"]


@cuda.jit
def _add_bias_kernel(b, y):
    j = cuda.grid(1)
    n_seq, c_out, n_y = y.shape
    if j >= n_seq * c_out * n_y:
        return
    n, o, t = unravel3(j, c_out, n_y)
    y[n, o, t] += b[o]


def conv_transpose1d_forward(x, w, b, stride, y):
    """y (N, C_out, n_y) ← T x + b: the input gradient of the stride-s conv with weight w."""
    conv1d_backward_input(x, w, stride, 1, 0, y)
    per_element(_add_bias_kernel, y.size, b, y)


def conv_transpose1d_backward(x, gy, w, stride, gx, gw):
    """gx (N, C_in, n_x) ← Tᵀ gy (the stride-s conv of gy with weight w, no bias) and gw
    (C_in, C_out, K) ← ∂L/∂w (the conv weight gradient with input gy and output gradient x);
    either may be None: not computed."""
    if gx is not None:
        conv1d_forward(gy, w, zeros((w.shape[0],), w.dtype), stride, 1, 0, gx)
    if gw is not None:
        conv1d_backward_weight(gy, x, stride, 1, 0, gw)


def conv_transpose1d_backward_bias(gy, gb):
    """gb (C_out,) ← Σ over sequences and time of gy."""
    conv1d_backward_bias(gy, gb)
