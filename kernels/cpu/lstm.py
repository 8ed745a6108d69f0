"""One direction of one LSTM layer on the CPU: forward over the whole sequence and the backward
through time, PyTorch's gate order (i, f, g, o) and weight layout.

Shapes: x (N, C, T) channels first; w_ih (4H, C), w_hh (4H, H), b (4H,) = b_ih + b_hh; the
output y (N, H, T) may be a channel slice of a larger array (a bidirectional layer writes
both directions into one). What backward needs is kept time-major, so one step reads and writes
contiguous rows: ``gates`` (T, N, 4H) the activated gates (i, f, g, o), ``cell`` (T, N, H) the
cell states c_t, ``hidden`` (T, N, H) the hidden states h_t. ``reverse`` runs the sequence from
t = T − 1 down to 0 (the backward direction of a bidirectional layer); the initial h and c are 0.
The caller preallocates every output; kernels overwrite them; scratch is internal.

Forward: the input projection of all steps is one GEMM per sequence (``gates[:, n] ← x[n]ᵀ
w_ihᵀ``); then step by step ``gates[t] += h_prev w_hhᵀ`` (a GEMM over the batch) and the fused
cell formula (``formulas.lstm_cell``: three sigmoids, two tanh, the new c and h) per unit.
Backward: step by step in reverse processing order the fused cell gradient
(``formulas.lstm_cell_grad``) gives dz_t, the pre-activation gradients, and ``dz_t w_hh`` carries
∂L/∂h to the previous step; after the loop, three GEMMs over all steps at once give
∂L/∂w_hh = Σ_t dz_tᵀ h_prev, ∂L/∂w_ih = Σ_t dz_tᵀ x_t and ∂L/∂x = w_ihᵀ dz, and a sum ∂L/∂b.
GEMMs go to BLAS (``blas.gemm``), which does the threading.
"""
from __future__ import annotations

import numpy as np

from . import formulas as F
from .blas import gemm

__all__ = ["lstm_forward", "lstm_backward"]


@F.kernel()
def lstm_forward(x, w_ih, w_hh, b, reverse, gates, cell, hidden, y):
    """y (N, H, T), gates (T, N, 4H), cell and hidden (T, N, H) ← the LSTM over x (N, C, T)."""
    n_seq, _, t_len = x.shape
    h = w_hh.shape[1]
    for n in range(n_seq):  # input projection of every step: (T, C)·(C, 4H)
        gemm(1.0, x[n], True, w_ih, True, 0.0, gates[:, n, :])
    for s in range(t_len):
        t = t_len - 1 - s if reverse else s
        prev = t + 1 if reverse else t - 1  # the step before t in processing order (s > 0)
        z = gates[t]
        if s > 0:
            gemm(1.0, hidden[prev], False, w_hh, True, 1.0, z)
        for n in range(n_seq):
            for j in range(h):
                c_prev = cell[prev, n, j] if s > 0 else 0.0
                i, f, g, o, c, tanh_c = F.lstm_cell(z[n, j] + b[j], z[n, h + j] + b[h + j],
                                                    z[n, 2 * h + j] + b[2 * h + j],
                                                    z[n, 3 * h + j] + b[3 * h + j], c_prev)
                z[n, j] = i
                z[n, h + j] = f
                z[n, 2 * h + j] = g
                z[n, 3 * h + j] = o
                cell[t, n, j] = c
                hidden[t, n, j] = o * tanh_c
    for n in range(n_seq):  # time-major → channels first
        for t in range(t_len):
            for j in range(h):
                y[n, j, t] = hidden[t, n, j]


@F.kernel()
def lstm_backward(x, w_ih, w_hh, reverse, gates, cell, hidden, gy, accumulate, gx, gw_ih,
                  gw_hh, gb):
    """gx (N, C, T), gw_ih (4H, C), gw_hh (4H, H), gb (4H,) ← the gradients of the LSTM given
    gy (N, H, T) = ∂L/∂y and what the forward saved. gb is ∂L/∂b_ih = ∂L/∂b_hh. With
    ``accumulate``, gx += the input gradient (the second direction of a bidirectional layer);
    the parameter gradients are always overwritten."""
    n_seq, _, t_len = x.shape
    h = w_hh.shape[1]
    dz = np.empty_like(gates)                     # (T, N, 4H) pre-activation gradients
    gh = np.zeros((n_seq, h), dtype=gates.dtype)  # ∂L/∂h_t from the step after t
    gc = np.zeros((n_seq, h), dtype=gates.dtype)  # ∂L/∂c_t from the step after t
    for s in range(t_len - 1, -1, -1):
        t = t_len - 1 - s if reverse else s
        prev = t + 1 if reverse else t - 1
        a = gates[t]
        d = dz[t]
        for n in range(n_seq):
            for j in range(h):
                c_prev = cell[prev, n, j] if s > 0 else 0.0
                d[n, j], d[n, h + j], d[n, 2 * h + j], d[n, 3 * h + j], gc[n, j] = \
                    F.lstm_cell_grad(a[n, j], a[n, h + j], a[n, 2 * h + j], a[n, 3 * h + j],
                                     cell[t, n, j], c_prev, gy[n, j, t] + gh[n, j], gc[n, j])
        if s > 0:
            gemm(1.0, d, False, w_hh, False, 0.0, gh)  # (N, 4H)·(4H, H)
    flat_dz = dz.reshape(t_len * n_seq, 4 * h)
    flat_h = hidden.reshape(t_len * n_seq, h)
    if t_len > 1:  # Σ_t dz_tᵀ h_prev: dz of steps 1…T−1 (in processing order) against h of 0…T−2
        later = flat_dz[:(t_len - 1) * n_seq] if reverse else flat_dz[n_seq:]
        earlier = flat_h[n_seq:] if reverse else flat_h[:(t_len - 1) * n_seq]
        gemm(1.0, later, True, earlier, False, 0.0, gw_hh)
    else:
        gw_hh[:] = 0
    for n in range(n_seq):
        gemm(1.0, dz[:, n, :], True, x[n], True, 0.0 if n == 0 else 1.0, gw_ih)
        gemm(1.0, w_ih, True, dz[:, n, :], True, 1.0 if accumulate else 0.0, gx[n])
    total = np.zeros(4 * h)  # float64 sums over T·N frames
    for r in range(t_len * n_seq):
        for k in range(4 * h):
            total[k] += flat_dz[r, k]
    gb[:] = total
