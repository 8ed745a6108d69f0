"""One direction of one LSTM layer on CUDA, the twin of ``kernels/cpu/lstm.py``: same functions,
argument order, shapes and saved arrays (``gates`` (T, N, 4H) activated, ``cell`` and
``hidden`` (T, N, H), time-major), same formulas (``formulas.lstm_cell``,
``formulas.lstm_cell_grad``, with their ``fast`` activations for float32 as on the CPU).

Forward: one thread per element of the input projection; then one launch per step with one
thread per unit (n, j), which computes its four pre-activations (the projection, the bias and
its rows of w_hh against the previous h) and the fused cell formula; a last launch writes y
channels first. Backward: one launch per step (in reverse processing order) with one thread per
unit, which gathers ∂L/∂h from the later step's dz through w_hh and applies the fused cell
gradient, keeping ∂L/∂c in ``gc``; then one thread per element of each gradient, summing over
steps (and sequences) in float64. The launch boundaries order the steps.
"""
from __future__ import annotations

import numpy as np
from numba import cuda

from tinyemo.kernels.cuda import formulas as F
from tinyemo.kernels.cuda.arrays import empty, fill
from tinyemo.kernels.cuda.device_functions import unravel3
from tinyemo.kernels.cuda.launch import per_element

__all__ = ["lstm_forward", "lstm_backward"]


@cuda.jit
def _project_kernel(x, w_ih, gates):
    # gates[t, n, k] ← Σ_c w_ih[k, c] · x[n, c, t]
    j = cuda.grid(1)
    t_len, n_seq, rows = gates.shape
    if j >= t_len * n_seq * rows:
        return
    t, n, k = unravel3(j, n_seq, rows)
    acc = 0.0
    for c in range(x.shape[1]):
        acc += w_ih[k, c] * x[n, c, t]
    gates[t, n, k] = acc


@cuda.jit(device=True)
def _preactivation(gates, b, w_hh, hidden, t, prev, first, n, row):
    acc = gates[t, n, row] + b[row]
    if not first:
        for u in range(hidden.shape[2]):
            acc += w_hh[row, u] * hidden[prev, n, u]
    return acc


@cuda.jit
def _step_kernel(w_hh, b, t, prev, first, fast, zero, gates, cell, hidden):
    # one thread per unit (n, j) of step t
    u = cuda.grid(1)
    n_seq, h = hidden.shape[1], hidden.shape[2]
    if u >= n_seq * h:
        return
    n = u // h
    j = u % h
    zi = _preactivation(gates, b, w_hh, hidden, t, prev, first, n, j)
    zf = _preactivation(gates, b, w_hh, hidden, t, prev, first, n, h + j)
    zg = _preactivation(gates, b, w_hh, hidden, t, prev, first, n, 2 * h + j)
    zo = _preactivation(gates, b, w_hh, hidden, t, prev, first, n, 3 * h + j)
    c_prev = zero if first else cell[prev, n, j]     # zero: the arrays' dtype (float32 stays)
    i, f, g, o, c, tanh_c = F.lstm_cell(zi, zf, zg, zo, c_prev, fast)
    gates[t, n, j] = i
    gates[t, n, h + j] = f
    gates[t, n, 2 * h + j] = g
    gates[t, n, 3 * h + j] = o
    cell[t, n, j] = c
    hidden[t, n, j] = o * tanh_c


@cuda.jit
def _output_kernel(hidden, y):
    # y[n, j, t] ← hidden[t, n, j] (y may be a channel slice of a larger array)
    k = cuda.grid(1)
    n_seq, h, t_len = y.shape
    if k >= n_seq * h * t_len:
        return
    n, j, t = unravel3(k, h, t_len)
    y[n, j, t] = hidden[t, n, j]


def _fast(array) -> bool:
    """True for float32 arrays: the cell formulas' rational activations (as on the CPU). A
    boolean, so that a float32 step's cell formulas take their float32 twins."""
    return bool(array.dtype == np.float32)


def _order(t_len, s, reverse):
    """(t, prev): the time index of processing step s and of the step before it."""
    t = t_len - 1 - s if reverse else s
    return t, (t + 1 if reverse else t - 1)


def lstm_forward(x, w_ih, w_hh, b, reverse, gates, cell, hidden, y):
    """y (N, H, T), gates (T, N, 4H), cell and hidden (T, N, H) ← the LSTM over x (N, C, T)."""
    t_len, n_seq, h = hidden.shape
    per_element(_project_kernel, gates.size, x, w_ih, gates)
    fast, zero = _fast(gates), gates.dtype.type(0)
    for s in range(t_len):
        t, prev = _order(t_len, s, reverse)
        per_element(_step_kernel, n_seq * h, w_hh, b, t, prev, int(s == 0), fast, zero, gates,
                    cell, hidden)
    per_element(_output_kernel, y.size, hidden, y)


@cuda.jit
def _step_backward_kernel(w_hh, t, prev, later, first, last, fast, zero, gates, cell, gy, dz,
                          gc):
    # one thread per unit (n, j) of step t; `later` is the step processed after t in forward
    u = cuda.grid(1)
    n_seq, h = gc.shape
    if u >= n_seq * h:
        return
    n = u // h
    j = u % h
    gh = gy[n, j, t]
    if not last:  # ∂L/∂h_t from the later step: Σ_k dz_later[n, k] · w_hh[k, j]
        for k in range(4 * h):
            gh += dz[later, n, k] * w_hh[k, j]
    c_prev = zero if first else cell[prev, n, j]
    dzi, dzf, dzg, dzo, gc_prev = F.lstm_cell_grad(
        gates[t, n, j], gates[t, n, h + j], gates[t, n, 2 * h + j], gates[t, n, 3 * h + j],
        cell[t, n, j], c_prev, gh, gc[n, j], fast)
    dz[t, n, j] = dzi
    dz[t, n, h + j] = dzf
    dz[t, n, 2 * h + j] = dzg
    dz[t, n, 3 * h + j] = dzo
    gc[n, j] = gc_prev


@cuda.jit
def _grad_w_hh_kernel(dz, hidden, reverse, gw_hh):
    # gw_hh[k, u] ← Σ over steps with a predecessor Σ_n dz[t, n, k] · hidden[prev, n, u]
    e = cuda.grid(1)
    rows, h = gw_hh.shape
    if e >= rows * h:
        return
    k = e // h
    u = e % h
    t_len, n_seq = dz.shape[0], dz.shape[1]
    acc = 0.0
    for t in range(t_len - 1):
        later = t if reverse else t + 1
        earlier = t + 1 if reverse else t
        for n in range(n_seq):
            acc += dz[later, n, k] * hidden[earlier, n, u]
    gw_hh[k, u] = acc


@cuda.jit
def _grad_w_ih_kernel(dz, x, gw_ih):
    # gw_ih[k, c] ← Σ_n Σ_t dz[t, n, k] · x[n, c, t]
    e = cuda.grid(1)
    rows, c_in = gw_ih.shape
    if e >= rows * c_in:
        return
    k = e // c_in
    c = e % c_in
    acc = 0.0
    for n in range(x.shape[0]):
        for t in range(x.shape[2]):
            acc += dz[t, n, k] * x[n, c, t]
    gw_ih[k, c] = acc


@cuda.jit
def _grad_b_kernel(dz, gb):
    # gb[k] ← Σ_t Σ_n dz[t, n, k]
    k = cuda.grid(1)
    if k >= gb.shape[0]:
        return
    acc = 0.0
    for t in range(dz.shape[0]):
        for n in range(dz.shape[1]):
            acc += dz[t, n, k]
    gb[k] = acc


@cuda.jit
def _grad_x_kernel(dz, w_ih, gx):
    # gx[n, c, t] ← Σ_k w_ih[k, c] · dz[t, n, k]
    e = cuda.grid(1)
    n_seq, c_in, t_len = gx.shape
    if e >= n_seq * c_in * t_len:
        return
    n, c, t = unravel3(e, c_in, t_len)
    acc = 0.0
    for k in range(w_ih.shape[0]):
        acc += w_ih[k, c] * dz[t, n, k]
    gx[n, c, t] = acc


def lstm_backward(x, w_ih, w_hh, reverse, gates, cell, hidden, gy, gx, gw_ih, gw_hh, gb):
    """gx (N, C, T), gw_ih (4H, C), gw_hh (4H, H), gb (4H,) ← the gradients of the LSTM given
    gy (N, H, T) = ∂L/∂y and what the forward saved. gb is ∂L/∂b_ih = ∂L/∂b_hh. Every output
    is overwritten; gx None: not computed (an input that needs no gradient)."""
    t_len, n_seq, h = hidden.shape
    dz = empty(gates.shape, gates.dtype)
    gc = empty((n_seq, h), gates.dtype)
    fill(gc, 0)
    fast, zero = _fast(gates), gates.dtype.type(0)
    for s in range(t_len - 1, -1, -1):
        t, prev = _order(t_len, s, reverse)
        later = t - 1 if reverse else t + 1
        per_element(_step_backward_kernel, n_seq * h, w_hh, t, prev, later, int(s == 0),
                    int(s == t_len - 1), fast, zero, gates, cell, gy, dz, gc)
    per_element(_grad_w_hh_kernel, gw_hh.size, dz, hidden, int(bool(reverse)), gw_hh)
    per_element(_grad_w_ih_kernel, gw_ih.size, dz, x, gw_ih)
    per_element(_grad_b_kernel, gb.size, dz, gb)
    if gx is not None:
        per_element(_grad_x_kernel, gx.size, dz, w_ih, gx)
