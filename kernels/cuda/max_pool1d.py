"""max_pool1d on CUDA, the twin of ``kernels/cpu/max_pool1d.py``. x (N, C, T) → y (N, C, T_out)
with argmax (N, C, T_out) int64 indices into the time axis of x; T_out = (T − K) // s + 1
(trailing frames that do not fill a window are dropped). Ties go to the first maximum; NaN
counts as the maximum (the first NaN is the argmax). The window scan is the formula
``formulas.window_argmax``, shared with the CPU.

Forward: one thread per output element. Backward: gx is zeroed, then one thread per gy element
adds it at its argmax with an atomic add; where windows overlap (stride < kernel size) the
order of those few additions, hence the last bit of the sum, may vary from run to run.
"""
from __future__ import annotations

from numba import cuda

from tinyemo.kernels.cuda import formulas as F
from tinyemo.kernels.cuda.arrays import fill
from tinyemo.kernels.cuda.device_functions import unravel3
from tinyemo.kernels.cuda.launch import per_element

__all__ = ["max_pool1d_forward", "max_pool1d_backward"]


@cuda.jit
def _forward_kernel(x, kernel_size, stride, y, argmax):
    j = cuda.grid(1)
    n_seq, n_ch, t_out = y.shape
    if j >= n_seq * n_ch * t_out:
        return
    n, c, t = unravel3(j, n_ch, t_out)
    y[n, c, t], argmax[n, c, t] = F.window_argmax(x, n, c, t * stride, kernel_size)


@cuda.jit
def _scatter_kernel(gy, argmax, gx):
    j = cuda.grid(1)
    n_seq, n_ch, t_out = gy.shape
    if j >= n_seq * n_ch * t_out:
        return
    n, c, t = unravel3(j, n_ch, t_out)
    cuda.atomic.add(gx, (n, c, argmax[n, c, t]), gy[n, c, t])


def max_pool1d_forward(x, kernel_size, stride, y, argmax):
    """y ← max over each window of x; argmax ← where it was."""
    per_element(_forward_kernel, y.size, x, kernel_size, stride, y, argmax)


def max_pool1d_backward(gy, argmax, gx):
    """gx (N, C, T) ← gy routed to the argmax of each window (summed where windows overlap)."""
    fill(gx, 0)
    per_element(_scatter_kernel, gy.size, gy, argmax, gx)
