"""lstm: one LSTM layer (one direction, or two for a bidirectional layer), forward and
backward through time. Kernels: ``kernels/{cpu,cuda}/lstm.py`` (formulas ``lstm_cell`` and
``lstm_cell_grad`` in ``kernels/formulas.py``); reference: ``kernels/reference.py:lstm``;
tests: ``tests/engine/test_lstm.py``, ``tests/cuda/test_cuda_lstm.py``.

PyTorch's equations, gate order (i, f, g, o) and parameter layout, so ``torch.nn.LSTM``'s
weights load as they are: per direction ``weight_ih`` (4H, C), ``weight_hh`` (4H, H),
``bias_ih`` and ``bias_hh`` (4H,); the initial hidden and cell states are zero. Input (C, T) or
(N, C, T), channels first like every tinyemo op; output (D·H, T) or (N, D·H, T) with the forward
direction in channels 0…H−1 and the reverse one in H…2H−1 (PyTorch's order for D = 2).

The directions of a bidirectional layer are independent, forward and backward: the op hands
them to the table's ``side_by_side``, which on the CPU runs them on two cores at once when
two threads are set (each recurrence is serial, so this is where a second thread helps).
"""
from __future__ import annotations

import functools

from tinyemo.engine import backend
from tinyemo.engine.autograd import Function
from tinyemo.engine.ops.checks import as_batch, check_float_array, check_same_dtype, contiguous

__all__ = ["LSTMFn"]

_GATES = 4


def _check_direction(label, x_channels, w_ih, w_hh, b_ih, b_hh, like=None) -> int:
    """Checks one direction's parameters; returns H."""
    check_float_array(f"{label}weight_ih", w_ih, (2,))
    check_float_array(f"{label}weight_hh", w_hh, (2,))
    rows = w_ih.shape[0]
    if rows % _GATES:
        raise ValueError(f"{label}weight_ih has {rows} rows: expected 4·hidden_size "
                         "(gates i, f, g, o)")
    h = rows // _GATES
    if tuple(w_hh.shape) != (rows, h):
        raise ValueError(f"{label}weight_hh has shape {tuple(w_hh.shape)}: expected "
                         f"({rows}, {h}) for hidden_size {h}")
    if w_ih.shape[1] != x_channels:
        raise ValueError(f"input has {x_channels} channels but {label}weight_ih expects "
                         f"{w_ih.shape[1]}")
    for name, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if b is not None:
            check_float_array(label + name, b, (1,))
            if b.shape[0] != rows:
                raise ValueError(f"{label}{name} has {b.shape[0]} entries: expected {rows}")
    if like is not None and (tuple(w_ih.shape), tuple(w_hh.shape)) != like:
        raise ValueError(f"{label}weights have shapes {tuple(w_ih.shape)}, {tuple(w_hh.shape)}: "
                         f"expected those of the forward direction, {like[0]}, {like[1]}")
    return h


def _work(x3, h: int) -> int:
    """One direction's multiply-adds (input projection and recurrence): the cost hint of the
    table's ``side_by_side``."""
    n_seq, c_in, t_len = x3.shape
    return n_seq * t_len * _GATES * h * (c_in + h)


class LSTMFn(Function):
    """y = LSTM(x) for one layer. Inputs: x, then (weight_ih, weight_hh, bias_ih, bias_hh) for
    the forward direction and, when bidirectional, the same four for the reverse one (a bias
    may be None: no bias)."""

    @staticmethod
    def forward(ctx, x, *weights):
        check_float_array("input", x, (2, 3))
        if len(weights) not in (4, 8):
            raise ValueError(f"lstm takes 4 parameters per direction (weight_ih, weight_hh, "
                             f"bias_ih, bias_hh) for 1 or 2 directions, got {len(weights)}")
        directions = [weights[i:i + 4] for i in range(0, len(weights), 4)]
        check_same_dtype(input=x, **{f"{'reverse ' if d else ''}{n}": a
                                     for d, ws in enumerate(directions)
                                     for n, a in zip(("weight_ih", "weight_hh", "bias_ih",
                                                      "bias_hh"), ws)})
        x3, was_2d = as_batch(contiguous(x))
        n_seq, c_in, t_len = x3.shape
        h = _check_direction("", c_in, *directions[0])
        like = (tuple(directions[0][0].shape), tuple(directions[0][1].shape))
        for ws in directions[1:]:
            _check_direction("reverse ", c_in, *ws, like=like)
        k = backend.kernels(x3)
        y = backend.empty((n_seq, len(directions) * h, t_len), x.dtype, x3)
        saved, tasks = [], []
        for d, (w_ih, w_hh, b_ih, b_hh) in enumerate(directions):
            w_ih, w_hh = contiguous(w_ih), contiguous(w_hh)
            b = backend.zeros((_GATES * h,), x.dtype, x3)
            for bias in (b_ih, b_hh):
                if bias is not None:
                    k.axpby(1.0, b, 1.0, contiguous(bias), b)
            gates = backend.empty((t_len, n_seq, _GATES * h), x.dtype, x3)
            cell = backend.empty((t_len, n_seq, h), x.dtype, x3)
            hidden = backend.empty((t_len, n_seq, h), x.dtype, x3)
            tasks.append(functools.partial(k.lstm_forward, x3, w_ih, w_hh, b, d == 1, gates,
                                           cell, hidden, y[:, d * h:(d + 1) * h, :]))
            saved.append((w_ih, w_hh, gates, cell, hidden))
        k.side_by_side(tasks, _work(x3, h))       # the directions are independent
        ctx.save(x3, was_2d, saved)
        return y.reshape(y.shape[1:]) if was_2d else y

    def backward(ctx, grad):
        x3, was_2d, saved = ctx.saved
        k = backend.kernels(x3)
        gy = contiguous(grad).reshape((x3.shape[0],) + tuple(grad.shape)[-2:])
        want_gx = ctx.parents[0].requires_grad  # a first layer's features: no ∂L/∂x to compute
        outs, tasks = [], []
        for d, (w_ih, w_hh, gates, cell, hidden) in enumerate(saved):
            h = w_hh.shape[1]
            out = (backend.empty(x3.shape, x3.dtype, x3) if want_gx else None,  # each direction's own
                   backend.empty(w_ih.shape, w_ih.dtype, x3), backend.empty(w_hh.shape, w_hh.dtype, x3),
                   backend.empty((w_ih.shape[0],), w_ih.dtype, x3))
            tasks.append(functools.partial(k.lstm_backward, x3, w_ih, w_hh, d == 1, gates, cell,
                                           hidden, gy[:, d * h:(d + 1) * h, :], *out))
            outs.append(out)
        k.side_by_side(tasks, _work(x3, saved[0][1].shape[1]))
        gx, grads = outs[0][0], []
        for d, (gx_d, gw_ih, gw_hh, gb) in enumerate(outs):
            if d and want_gx:
                k.axpby(1.0, gx, 1.0, gx_d, gx)
            gb_hh = backend.empty(gb.shape, gb.dtype, x3)  # the same values, its own array
            k.axpby(1.0, gb, 0.0, gb, gb_hh)
            grads += [gw_ih, gw_hh, gb, gb_hh]
        if gx is not None and was_2d:
            gx = gx.reshape(gx.shape[1:])
        return (gx, *grads)
