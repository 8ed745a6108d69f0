"""Transposed conv on the CPU, in the paper's explicit form y = T x.

For one channel pair, T = [T_1 … T_nx] with column T_i = [0 (s(i−1) zeros), wᵀ, 0 (s(nx−i)
zeros)]ᵀ, n_y = s(n_x − 1) + n_w; for C_in → C_out channels y_o = Σ_c T(w[c, o]) x_c + b_o.
T is the matrix of the strided conv (no padding) transposed, so T x is exactly that conv's
input gradient and these kernels are conv1d's, with the roles of the arrays exchanged. T itself
is never materialised here (``reference.transposed_conv_matrix`` builds it for the tests).

Shapes: x (N, C_in, n_x), w (C_in, C_out, K) as in PyTorch, b (C_out,), y (N, C_out, n_y).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .conv1d import conv1d_backward_bias, conv1d_backward_input, conv1d_backward_weight, conv1d_forward

__all__ = ["conv_transpose1d_forward", "conv_transpose1d_backward_input",
           "conv_transpose1d_backward_weight", "conv_transpose1d_backward_bias"]


@njit(cache=True)
def conv_transpose1d_forward(x, w, b, stride, y):
    """y (N, C_out, n_y) ← T x + b: the input gradient of the stride-s conv with weight w."""
    conv1d_backward_input(x, w, stride, 1, 0, y)
    for n in range(y.shape[0]):
        for o in range(y.shape[1]):
            y[n, o] += b[o]


@njit(cache=True)
def conv_transpose1d_backward_input(gy, w, stride, gx):
    """gx (N, C_in, n_x) ← Tᵀ gy: the stride-s conv of gy with weight w (no bias)."""
    conv1d_forward(gy, w, np.zeros(w.shape[0], dtype=w.dtype), stride, 1, 0, gx)


@njit(cache=True)
def conv_transpose1d_backward_weight(x, gy, stride, gw):
    """gw (C_in, C_out, K) ← ∂L/∂w: the conv weight gradient with input gy and output grad x."""
    conv1d_backward_weight(gy, x, stride, 1, 0, gw)


@njit(cache=True)
def conv_transpose1d_backward_bias(gy, gb):
    """gb (C_out,) ← Σ over sequences and time of gy."""
    conv1d_backward_bias(gy, gb)
