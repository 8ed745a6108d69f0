"""Zero-pad or crop the time axis on CUDA, the twin of ``kernels/cpu/pad1d.py``:
y[n, c, t] = x[n, c, t − left] (0 outside x). ``left`` < 0 crops from the front; the length of
``y`` fixes the right side; with ``−left`` it is its own adjoint. One thread per element of y;
which frames copy is the formula ``formulas.pad_bounds``, shared with the CPU."""
from __future__ import annotations

from numba import cuda

from tinyemo.kernels.cuda import formulas as F
from tinyemo.kernels.cuda.device_functions import unravel3
from tinyemo.kernels.cuda.launch import per_element

__all__ = ["pad1d"]


@cuda.jit
def _pad_kernel(x, left, y):
    j = cuda.grid(1)
    n_seq, n_ch, t_out = y.shape
    if j >= n_seq * n_ch * t_out:
        return
    n, c, t = unravel3(j, n_ch, t_out)
    lo, hi = F.pad_bounds(left, x.shape[2], t_out)
    if t >= lo and t < hi:
        y[n, c, t] = x[n, c, t - left]
    else:
        y[n, c, t] = 0


def pad1d(x, left, y):
    """y (N, C, T_out) ← x (N, C, T_in) shifted right by ``left`` frames, zeros elsewhere."""
    per_element(_pad_kernel, y.size, x, int(left), y)
