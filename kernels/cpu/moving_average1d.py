"""A moving average (box filter) over the time axis on the CPU, and its adjoint.

Window of ``left + 1 + right`` frames centred on each output frame: y[t] is the mean of
x[t − left … t + right] over the frames *present* (at the edges the window shrinks and the mean
is over fewer frames: 'same' length, no zero padding). It is linear, so the backward is its
adjoint: gx[s] = Σ_t gy[t] / n_t over the outputs t whose window holds s, i.e. a box *sum* of
gy / n over the mirrored window (``right`` frames before s, ``left`` after). The window is the
formula ``formulas.box_bounds``, shared with the CUDA twin.

Both run on prefix sums accumulated in float64: O(T) per row whatever the window.
"""
from __future__ import annotations

import numpy as np

from tinyemo.kernels.cpu import formulas as F

__all__ = ["moving_average1d_forward", "moving_average1d_backward"]


@F.kernel()
def moving_average1d_forward(x, left, right, y):
    """y (N, C, T) ← the mean of x (N, C, T) over each frame's window (see the module)."""
    n_seq, n_ch, t_len = x.shape
    prefix = np.empty(t_len + 1, dtype=np.float64)
    for n in range(n_seq):
        for c in range(n_ch):
            prefix[0] = 0.0
            for t in range(t_len):
                prefix[t + 1] = prefix[t] + x[n, c, t]
            for t in range(t_len):
                lo, hi = F.box_bounds(t, left, right, t_len)
                y[n, c, t] = (prefix[hi] - prefix[lo]) / (hi - lo)


@F.kernel()
def moving_average1d_backward(gy, left, right, gx):
    """gx (N, C, T) ← the adjoint of the forward applied to gy (N, C, T)."""
    n_seq, n_ch, t_len = gy.shape
    prefix = np.empty(t_len + 1, dtype=np.float64)
    for n in range(n_seq):
        for c in range(n_ch):
            prefix[0] = 0.0
            for t in range(t_len):
                lo, hi = F.box_bounds(t, left, right, t_len)
                prefix[t + 1] = prefix[t] + gy[n, c, t] / (hi - lo)
            for s in range(t_len):
                lo, hi = F.box_bounds(s, right, left, t_len)   # the mirrored window
                gx[n, c, s] = prefix[hi] - prefix[lo]
