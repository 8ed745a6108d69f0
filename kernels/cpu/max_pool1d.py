"""max_pool1d on the CPU. x (N, C, T) → y (N, C, T_out) with argmax (N, C, T_out) int64
indices into the time axis of x; T_out = (T − K) // s + 1 (trailing frames that do not fill a
window are dropped). Ties go to the first maximum and NaN counts as the maximum (the first NaN
of a window is its argmax), as in PyTorch's values and NumPy's argmax. The window scan is the
formula ``formulas.window_argmax`` (its step, ``window_takes``, branch-free), shared with the
CUDA twin.

Windows that do not overlap, K = s = 2, 3 or 4 (the down/up net pools 3 every 3), have their
own kernels with K a compile-time constant: LLVM unrolls the window and vectorises over the
output frames, 5x the generic scan at K = 3 (32 and 128 × 7533, float32). Other K and s run the
generic scan.

Serial on purpose: at the paper's sizes (32 × 7500) a pass takes tens of microseconds, less
than waking a second thread, and Numba's OpenMP workers spinning after a ``prange`` would
compete for the cores with the BLAS threads of the convolutions around the pool."""
from __future__ import annotations

from numba import njit

from tinyemo.kernels.cpu import formulas as F
__all__ = ["max_pool1d_forward", "max_pool1d_backward"]


@F.kernel()
def _forward_any(x, kernel_size, stride, y, argmax):
    n_seq, n_ch, t_out = y.shape
    for job in range(n_seq * n_ch):
        n = job // n_ch
        c = job % n_ch
        for t in range(t_out):
            y[n, c, t], argmax[n, c, t] = F.window_argmax(x, n, c, t * stride, kernel_size)


def _forward_tiled(size):
    """The forward kernel for windows of ``size`` frames every ``size`` frames, ``size`` frozen
    as a constant (the same scan as ``window_argmax``, unrolled)."""
    def forward_(x, y, argmax):
        n_seq, n_ch, t_out = y.shape
        for n in range(n_seq):
            for c in range(n_ch):
                xr = x[n, c]
                yr = y[n, c]
                ar = argmax[n, c]
                for t in range(t_out):
                    start = size * t
                    best = xr[start]
                    where = start
                    for j in range(1, size):     # a constant trip count: unrolled
                        v = xr[start + j]
                        take = F.window_takes(v, best)
                        best = v if take else best
                        where = start + j if take else where
                    yr[t] = best
                    ar[t] = where
    forward_.__qualname__ = f"max_pool1d_forward_tiled{size}"  # one cache entry per size
    return F.kernel()(forward_)


_TILED = {size: _forward_tiled(size) for size in (2, 3, 4)}


def max_pool1d_forward(x, kernel_size, stride, y, argmax):
    """y ← max over each window of x; argmax ← where it was."""
    tiled = _TILED.get(kernel_size) if stride == kernel_size else None
    if tiled is not None:
        tiled(x, y, argmax)
    else:
        _forward_any(x, kernel_size, stride, y, argmax)


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
