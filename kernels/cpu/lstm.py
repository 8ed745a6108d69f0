"""One direction of one LSTM layer on the CPU: forward over the whole sequence and the backward
through time, PyTorch's gate order (i, f, g, o) and weight layout.

Shapes: x (N, C, T) channels first; w_ih (4H, C), w_hh (4H, H), b (4H,) = b_ih + b_hh; the
output y (N, H, T) may be a channel slice of a larger array (a bidirectional layer writes
both directions into one). What backward needs is kept time-major, so one step reads and writes
contiguous rows: ``gates`` (T, N, 4H) the activated gates (i, f, g, o), ``cell`` (T, N, H) the
cell states c_t, ``hidden`` (T, N, H) the hidden states h_t. ``reverse`` runs the sequence from
t = T − 1 down to 0 (the backward direction of a bidirectional layer); the initial h and c are 0.
The caller preallocates every output; kernels overwrite them; scratch is internal.

Forward: the input projection of all steps is one GEMM per sequence (``pre[:, n] ← x[n]ᵀ
w_ihᵀ``); then step by step ``pre[t] += h_prev w_hhᵀ`` (a vector-matrix product per sequence,
written out: at these sizes a BLAS call costs more than its arithmetic) and the fused cell formula (``formulas.lstm_cell``: three sigmoids, two tanh, the new c and h) per unit.
Backward: step by step in reverse processing order the fused cell gradient
(``formulas.lstm_cell_grad``) gives dz_t, the pre-activation gradients, and ``dz_t w_hh`` carries
∂L/∂h to the previous step; after the loop, three GEMMs over all steps at once give
∂L/∂w_hh = Σ_t dz_tᵀ h_prev, ∂L/∂w_ih = Σ_t dz_tᵀ x_t and ∂L/∂x = w_ihᵀ dz (skipped when
``gx`` is None: a first layer's features need no gradient, and this GEMM is as large as the
input projection), and a sum ∂L/∂b.
GEMMs go to BLAS (``blas.gemm``), which does the threading. The kernels release the GIL
(``nogil``), so the two directions of a bidirectional layer can run side by side
(``side_by_side``). float32 arrays use the formulas' ``fast`` activations (rational, float32-accurate, vectorised over the units); float64 the exact
ones.
"""
from __future__ import annotations

import numpy as np

from numba import njit

from tinyemo.kernels.cpu import formulas as F
from tinyemo.kernels.cpu.blas import gemm

__all__ = ["lstm_forward", "lstm_backward"]


@njit(inline="always")
def _add_rows(v, m, out, u):
    """out += v[u:u+4] · m[u:u+4]: four rows at once, so out is read and written once per four."""
    v0, v1, v2, v3 = v[u], v[u + 1], v[u + 2], v[u + 3]
    r0, r1, r2, r3 = m[u], m[u + 1], m[u + 2], m[u + 3]
    for k in range(out.shape[0]):
        out[k] += (v0 * r0[k] + v1 * r1[k]) + (v2 * r2[k] + v3 * r3[k])


@njit(inline="always")
def _add_row(v, m, out, u):
    vu = v[u]
    row = m[u]
    for k in range(out.shape[0]):
        out[k] += vu * row[k]


@njit(inline="always")
def _add_vector_matrix(v, m, out, backwards):
    """out (K,) += v (U,) · m (U, K), as contiguous axpys over K (vectorised), four rows at a
    time. One step's recurrent product is this small (U = H, K = 4H, or the transpose in the
    backward) that a BLAS call costs more than the arithmetic; at H = 64, m (64 KiB) does not
    fit the 48 KiB L1, so read in one order every step it comes from L2 each time. Alternate
    steps pass ``backwards`` and read the rows in reverse order (the same groups of four), so
    the rows the previous step read last, still in L1, come first. The product alone: ~1.8x
    faster than one row at a time in one order; the step kernels at H = 64: 0.92x their former
    time, forward and backward (``bench/bench_lstm_rows.py``). Consecutive calls (steps, and
    sequences within a step) alternate."""
    n_rows = v.shape[0]
    full = n_rows - n_rows % 4
    if backwards:
        for u in range(n_rows - 1, full - 1, -1):
            _add_row(v, m, out, u)
        for u in range(full - 4, -1, -4):
            _add_rows(v, m, out, u)
    else:
        for u in range(0, full, 4):
            _add_rows(v, m, out, u)
        for u in range(full, n_rows):
            _add_row(v, m, out, u)


def _forward_kernel(fast):
    """The forward kernel with the cell formula's ``fast`` flag frozen (a compile-time
    constant, so the per-unit loop has no branch and vectorises)."""
    def lstm_forward_(x, w_ih, w_hh, b, reverse, gates, cell, hidden, y):
        n_seq, _, t_len = x.shape
        h = w_hh.shape[1]
        zero = np.zeros(h, dtype=cell.dtype)
        pre = np.empty_like(gates)  # pre-activations; gates only receives the activated values
        w_hh_t = np.ascontiguousarray(w_hh.T)  # (H, 4H): h_prev · w_hhᵀ as axpys over 4H
        for n in range(n_seq):  # input projection of every step: (T, C)·(C, 4H)
            gemm(1.0, x[n], True, w_ih, True, 0.0, pre[:, n, :])
        for s in range(t_len):
            t = t_len - 1 - s if reverse else s
            prev = t + 1 if reverse else t - 1  # the step before t in processing order (s > 0)
            for n in range(n_seq):
                z = pre[t, n]
                if s > 0:
                    _add_vector_matrix(hidden[prev, n], w_hh_t, z, (s * n_seq + n) % 2 == 1)
                a = gates[t, n]
                zi, zf, zg, zo = z[:h], z[h:2 * h], z[2 * h:3 * h], z[3 * h:]
                bi, bf, bg, bo = b[:h], b[h:2 * h], b[2 * h:3 * h], b[3 * h:]
                ai, af, ag, ao = a[:h], a[h:2 * h], a[2 * h:3 * h], a[3 * h:]
                c_prev = cell[prev, n] if s > 0 else zero
                c_out = cell[t, n]
                h_out = hidden[t, n]
                # separate arrays read and written, one view per gate: no dependence between
                # units, so the loop vectorises
                for j in range(h):
                    i, f, g, o, c, tanh_c = F.lstm_cell(zi[j] + bi[j], zf[j] + bf[j],
                                                        zg[j] + bg[j], zo[j] + bo[j], c_prev[j],
                                                        fast)
                    ai[j] = i
                    af[j] = f
                    ag[j] = g
                    ao[j] = o
                    c_out[j] = c
                    h_out[j] = o * tanh_c
        for n in range(n_seq):  # time-major → channels first
            for t in range(t_len):
                for j in range(h):
                    y[n, j, t] = hidden[t, n, j]
    lstm_forward_.__qualname__ = f"lstm_forward_{'fast' if fast else 'exact'}"
    return F.kernel(error_model="numpy", nogil=True)(lstm_forward_)  # no zero-division checks: vectorises


def _backward_kernel(fast):
    """The backward kernel with the cell gradient's ``fast`` flag frozen."""
    def lstm_backward_(x, w_ih, w_hh, reverse, gates, cell, hidden, gy, gx, gw_ih, gw_hh, gb):
        n_seq, _, t_len = x.shape
        h = w_hh.shape[1]
        dz = np.empty_like(gates)                     # (T, N, 4H) pre-activation gradients
        gh = np.zeros((n_seq, h), dtype=gates.dtype)  # ∂L/∂h_t from the step after t
        gc = np.zeros((n_seq, h), dtype=gates.dtype)  # ∂L/∂c_t from the step after t
        zero = np.zeros(h, dtype=cell.dtype)
        gy_t = np.empty((t_len, n_seq, h), dtype=gates.dtype)  # time-major: contiguous rows
        for n in range(n_seq):  # written row by row (one step's units at a time): 7x faster at
            for t in range(t_len):  # H = 64 than reading gy's rows in order, whose writes,
                for j in range(h):  # 4H bytes apart, touched each cache line H/16 times
                    gy_t[t, n, j] = gy[n, j, t]
        for s in range(t_len - 1, -1, -1):
            t = t_len - 1 - s if reverse else s
            prev = t + 1 if reverse else t - 1
            for n in range(n_seq):
                a = gates[t, n]
                d = dz[t, n]
                c_prev = cell[prev, n] if s > 0 else zero
                c_now = cell[t, n]
                gy_n = gy_t[t, n]
                gh_n = gh[n]
                gc_n = gc[n]
                for j in range(h):
                    d[j], d[h + j], d[2 * h + j], d[3 * h + j], gc_n[j] = F.lstm_cell_grad(
                        a[j], a[h + j], a[2 * h + j], a[3 * h + j], c_now[j], c_prev[j],
                        gy_n[j] + gh_n[j], gc_n[j], fast)
            if s > 0:  # ∂L/∂h_prev = dz_t · w_hh: (4H,)·(4H, H) per sequence
                gh[:] = 0
                for n in range(n_seq):
                    _add_vector_matrix(dz[t, n], w_hh, gh[n], (s * n_seq + n) % 2 == 1)
        flat_dz = dz.reshape(t_len * n_seq, 4 * h)
        flat_h = hidden.reshape(t_len * n_seq, h)
        if t_len > 1:  # Σ dz_tᵀ h_prev: dz of steps 1…T−1 (processing order) with h of 0…T−2
            later = flat_dz[:(t_len - 1) * n_seq] if reverse else flat_dz[n_seq:]
            earlier = flat_h[n_seq:] if reverse else flat_h[:(t_len - 1) * n_seq]
            gemm(1.0, later, True, earlier, False, 0.0, gw_hh)
        else:
            gw_hh[:] = 0
        for n in range(n_seq):
            gemm(1.0, dz[:, n, :], True, x[n], True, 0.0 if n == 0 else 1.0, gw_ih)
            if gx is not None:  # None (an input that needs no gradient): typed away, no GEMM
                gemm(1.0, w_ih, True, dz[:, n, :], True, 0.0, gx[n])
        total = np.zeros(4 * h)  # float64 sums over T·N frames
        for r in range(t_len * n_seq):
            for k in range(4 * h):
                total[k] += flat_dz[r, k]
        gb[:] = total
    lstm_backward_.__qualname__ = f"lstm_backward_{'fast' if fast else 'exact'}"
    return F.kernel(error_model="numpy", nogil=True)(lstm_backward_)


_FORWARD = {True: _forward_kernel(True), False: _forward_kernel(False)}
_BACKWARD = {True: _backward_kernel(True), False: _backward_kernel(False)}


def lstm_forward(x, w_ih, w_hh, b, reverse, gates, cell, hidden, y):
    """y (N, H, T), gates (T, N, 4H), cell and hidden (T, N, H) ← the LSTM over x (N, C, T)."""
    _FORWARD[x.dtype == np.float32](x, w_ih, w_hh, b, bool(reverse), gates, cell, hidden, y)


def lstm_backward(x, w_ih, w_hh, reverse, gates, cell, hidden, gy, gx, gw_ih, gw_hh, gb):
    """gx (N, C, T), gw_ih (4H, C), gw_hh (4H, H), gb (4H,) ← the gradients of the LSTM given
    gy (N, H, T) = ∂L/∂y and what the forward saved. gb is ∂L/∂b_ih = ∂L/∂b_hh. Every output
    is overwritten (a bidirectional layer sums its directions' gx); gx None: not computed."""
    _BACKWARD[x.dtype == np.float32](x, w_ih, w_hh, bool(reverse), gates, cell, hidden, gy,
                                      gx, gw_ih, gw_hh, gb)
