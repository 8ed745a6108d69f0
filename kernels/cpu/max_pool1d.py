"""max_pool1d on the CPU. x (N, C, T) → y (N, C, T_out) with argmax (N, C, T_out) int64
indices into the time axis of x; T_out = (T − K) // s + 1 (trailing frames that do not fill a
window are dropped). Ties go to the first maximum and NaN counts as the maximum (the first NaN
of a window is its argmax), as in PyTorch's values and NumPy's argmax. The window scan is the
formula ``formulas.window_argmax``, shared with the CUDA twin.

Serial on purpose: at the paper's sizes (32 × 7500) a pass takes tens of microseconds, less
than waking a second thread, and Numba's OpenMP workers spinning after a ``prange`` would
compete for the cores with the BLAS threads of the convolutions around the pool."""
from __future__ import annotations

from numba import njit

from tinyemo.kernels.cpu import formulas as F
__all__ = ["max_pool1d_forward", "max_pool1d_backward"]


@F.kernel()
def max_pool1d_forward(x, kernel_size, stride, y, argmax):
    """y ← max over each window of x; argmax ← where it was."""
    n_seq, n_ch, t_out = y.shape
    for job in range(n_seq * n_ch):
        n = job // n_ch
        c = job % n_ch
        for t in range(t_out):
            y[n, c, t], argmax[n, c, t] = F.window_argmax(x, n, c, t * stride, kernel_size)


@njit(cache=True)
def max_pool1d_backward(gy, argmax, gx):
    """gx (N, C, T) ← gy routed to the argmax of each window (summed where windows overlap)."""
    n_seq, n_ch, t_out = gy.shape
    for job in range(n_seq * n_ch):
        n = job // n_ch
        c = job % n_ch
        gx[n, c, :] = 0
        for t in range(t_out):
            gx[n, c, argmax[n, c, t]] += gy[n, c, t]
