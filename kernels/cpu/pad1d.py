"""Zero-pad or crop the time axis on the CPU: y[n, c, t] = x[n, c, t − left] (0 outside x).

``left`` < 0 crops from the front; the length of ``y`` fixes the right side. The same kernel
with ``−left`` is its own adjoint, so it serves as the backward too. Which frames copy and
which are zeros is the formula ``formulas.pad_bounds``, shared with the CUDA twin.
"""
from __future__ import annotations

from tinyemo.kernels.cpu import formulas as F

__all__ = ["pad1d"]


@F.kernel()
def pad1d(x, left, y):
    """y (N, C, T_out) ← x (N, C, T_in) shifted right by ``left`` frames, zeros elsewhere."""
    n_seq, n_ch, t_out = y.shape
    t_in = x.shape[2]
    lo, hi = F.pad_bounds(left, t_in, t_out)
    for job in range(n_seq * n_ch):
        n = job // n_ch
        c = job % n_ch
        row = y[n, c]
        row[:lo] = 0
        row[max(lo, hi):] = 0
        if hi > lo:  # a slice copy vectorises; an indexed loop (negative-index checks) does not
            row[lo:hi] = x[n, c, lo - left:hi - left]
