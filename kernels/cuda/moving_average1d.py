"""A moving average (box filter) over the time axis on CUDA, and its adjoint: the twins of
``kernels/cpu/moving_average1d.py`` (see there for the definition, incl. the edges; the window
is the shared formula ``formulas.box_bounds``). One thread per output element, summing its
window in float64: O(window) per thread, no scan."""
from __future__ import annotations

from numba import cuda

from tinyemo.kernels.cuda import formulas as F
from tinyemo.kernels.cuda.device_functions import unravel3
from tinyemo.kernels.cuda.launch import per_element

__all__ = ["moving_average1d_forward", "moving_average1d_backward"]


@cuda.jit
def _forward_kernel(x, left, right, y):
    j = cuda.grid(1)
    n_seq, n_ch, t_len = y.shape
    if j >= n_seq * n_ch * t_len:
        return
    n, c, t = unravel3(j, n_ch, t_len)
    lo, hi = F.box_bounds(t, left, right, t_len)
    acc = 0.0
    for i in range(lo, hi):
        acc += float(x[n, c, i])  # float64, as on the CPU
    y[n, c, t] = acc / (hi - lo)


@cuda.jit
def _backward_kernel(gy, left, right, gx):
    j = cuda.grid(1)
    n_seq, n_ch, t_len = gx.shape
    if j >= n_seq * n_ch * t_len:
        return
    n, c, s = unravel3(j, n_ch, t_len)
    first, last = F.box_bounds(s, right, left, t_len)   # the outputs whose window holds s
    acc = 0.0
    for t in range(first, last):
        lo, hi = F.box_bounds(t, left, right, t_len)
        acc += float(gy[n, c, t]) / (hi - lo)
    gx[n, c, s] = acc


def moving_average1d_forward(x, left, right, y):
    """y (N, C, T) ← the mean of x (N, C, T) over each frame's window."""
    per_element(_forward_kernel, y.size, x, int(left), int(right), y)


def moving_average1d_backward(gy, left, right, gx):
    """gx (N, C, T) ← the adjoint of the forward applied to gy (N, C, T)."""
    per_element(_backward_kernel, gx.size, gy, int(left), int(right), gx)
