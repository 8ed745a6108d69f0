"""conv_transpose1d (the paper's y = T x): forward and backward. Kernels:
``kernels/{cpu,cuda}/conv_transpose1d.py``; reference: ``kernels/reference.py``
(``transposed_conv_matrix`` builds the literal T); tests: ``tests/engine/test_conv_transpose1d.py``.

``groups`` (PyTorch's meaning): w (C_in, C_out/groups, K), group g's outputs made from group g's
inputs only; as in ``conv1d``, each group is the ungrouped op on channel views, above the targets.

Side by side: the groups, and pieces of the time axis (as many as the target's ``pieces`` says
for the work: the threads set, on the CPU), are independent tasks handed to the table's
``side_by_side``: input frames t0 … t1 − 1 reach output frames s·t0 … s·(t1 − 1) + K − 1, so a
piece's input gradient reads only those frames of the output gradient, and its weight gradient
is a partial sum (added up after); the forward is cut in time only where windows do not overlap
(K = s), each output frame then written by one piece. The transposed conv's serial scatter and
gather and its short GEMMs gain little from BLAS's own threads; pieces on separate cores do.
"""
from __future__ import annotations

import functools

from tinyemo.engine import backend
from tinyemo.engine.autograd import Function
from tinyemo.engine.ops.checks import (
    as_batch, check_conv_args, check_float_array, check_groups, contiguous, split_groups,
)
from tinyemo.kernels.shapes import conv_transpose1d_out_len

__all__ = ["ConvTranspose1dFn"]


def _work(x3, w, groups: int, pieces: int) -> int:
    """Multiply-adds of one task (a group's share, cut into ``pieces`` in time): the cost hint of
    the table's ``side_by_side``."""
    n_seq, _, n_x = x3.shape
    c_in, c_group, k = w.shape
    return n_seq * (c_in // groups) * c_group * k * n_x // max(pieces, 1)


def _spans(kernels, x3, w, groups: int) -> list[tuple[int, int]]:
    """The input frames cut into as many consecutive pieces as the target runs side by side for
    this work (one on the CUDA target; on the CPU, the threads set when each keeps enough work):
    the pieces' outputs, input gradients and weight gradients are independent."""
    n_x = x3.shape[2]
    count = min(kernels.pieces(_work(x3, w, groups, 1)), n_x)
    bounds = [n_x * i // count for i in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


class ConvTranspose1dFn(Function):
    """y_o = Σ_c T(w[c, o]) x_c + b_o (c and o in the same group); x (C_in, n_x) or
    (N, C_in, n_x), w (C_in, C_out/groups, K), y (…, C_out, s(n_x − 1) + K)."""

    @staticmethod
    def forward(ctx, x, w, b, stride=1, groups=1):
        check_float_array("weight", w, (3,))
        c_in, c_group, k = w.shape
        groups = check_groups(groups, input_channels=c_in)
        c_out = c_group * groups
        stride = check_conv_args(x, w, b, stride, c_in, c_out)
        x3, was_2d = as_batch(contiguous(x))
        w = contiguous(w)
        bias = contiguous(b) if b is not None else backend.zeros((c_out,), x.dtype, x)
        y = backend.empty((x3.shape[0], c_out, conv_transpose1d_out_len(x3.shape[2], k, stride)),
                          x.dtype, x)
        kernels = backend.kernels(x)
        # time pieces only where the outputs' windows do not overlap (K = s)
        spans = _spans(kernels, x3, w, groups) if k == stride else [(0, x3.shape[2])]
        tasks = [functools.partial(kernels.conv_transpose1d_forward, xg[:, :, t0:t1], wg, bg,
                                   stride, yg[:, :, stride * t0:stride * (t1 - 1) + k])
                 for xg, wg, bg, yg in zip(split_groups(x3, 1, groups), split_groups(w, 0, groups),
                                           split_groups(bias, 0, groups), split_groups(y, 1, groups))
                 for t0, t1 in spans]
        kernels.side_by_side(tasks, _work(x3, w, groups, len(spans)))
        ctx.save(x3, w, b is not None, stride, was_2d, groups)
        return y.reshape(y.shape[1:]) if was_2d else y

    def backward(ctx, grad):
        x3, w, has_bias, stride, was_2d, groups = ctx.saved
        k = backend.kernels(x3)
        gy = contiguous(grad).reshape((x3.shape[0],) + tuple(grad.shape)[-2:])
        gx = gw = gb = None
        x_t, w_t, b_t = ctx.parents
        gys, ws = split_groups(gy, 1, groups), split_groups(w, 0, groups)
        taps = w.shape[2]
        spans = _spans(k, x3, w, groups)

        def gy_of(gyg, t0, t1):           # the frames of gy that frames t0 … t1 − 1 of x reach
            return gyg[:, :, stride * t0:stride * (t1 - 1) + taps]
        if x_t.requires_grad:
            gx = backend.empty(x3.shape, x3.dtype, x3)
            k.side_by_side([functools.partial(k.conv_transpose1d_backward_input, gy_of(gyg, t0, t1),
                                              wg, stride, gxg[:, :, t0:t1])
                            for gyg, wg, gxg in zip(gys, ws, split_groups(gx, 1, groups))
                            for t0, t1 in spans], _work(x3, w, groups, len(spans)))
            gx = gx.reshape(gx.shape[1:]) if was_2d else gx
        if w_t.requires_grad:
            gw = backend.empty(w.shape, w.dtype, w)
            # each time piece's gradient apart (the first in gw itself), then summed
            parts = [[gwg] + [backend.empty(gwg.shape, w.dtype, w) for _ in spans[1:]]
                     for gwg in split_groups(gw, 0, groups)]
            k.side_by_side([functools.partial(k.conv_transpose1d_backward_weight, xg[:, :, t0:t1],
                                              gy_of(gyg, t0, t1), stride, part)
                            for xg, gyg, group in zip(split_groups(x3, 1, groups), gys, parts)
                            for (t0, t1), part in zip(spans, group)], _work(x3, w, groups, len(spans)))
            for gwg, *others in parts:
                for other in others:
                    k.axpby(1.0, gwg, 1.0, other, gwg)
        if has_bias and b_t.requires_grad:
            gb = backend.empty((w.shape[1] * groups,), w.dtype, w)
            k.conv_transpose1d_backward_bias(gy, gb)
        return gx, gw, gb
