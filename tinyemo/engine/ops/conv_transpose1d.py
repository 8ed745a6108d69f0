"""conv_transpose1d (the paper's y = T x): forward and backward. Kernels:
``kernels/{cpu,cuda}/conv_transpose1d.py``; reference: ``kernels/reference.py``
(``transposed_conv_matrix`` builds the literal T); tests: ``tests/engine/test_conv_transpose1d.py``.

``groups`` (PyTorch's meaning): w (C_in, C_out/groups, K), group g's outputs made from group g's
inputs only; as in ``conv1d``, each group is the ungrouped op on channel views, above the targets.
"""
from __future__ import annotations

from tinyemo.engine import backend
from tinyemo.engine.autograd import Function
from tinyemo.engine.ops.checks import (
    as_batch, check_conv_args, check_float_array, check_groups, contiguous, split_groups,
)
from tinyemo.kernels.shapes import conv_transpose1d_out_len

__all__ = ["ConvTranspose1dFn"]


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
        for xg, wg, bg, yg in zip(split_groups(x3, 1, groups), split_groups(w, 0, groups),
                                  split_groups(bias, 0, groups), split_groups(y, 1, groups)):
            kernels.conv_transpose1d_forward(xg, wg, bg, stride, yg)
        ctx.save(x3, w, b is not None, stride, was_2d, groups)
        return y.reshape(y.shape[1:]) if was_2d else y

    def backward(ctx, grad):
        x3, w, has_bias, stride, was_2d, groups = ctx.saved
        k = backend.kernels(x3)
        gy = contiguous(grad).reshape((x3.shape[0],) + tuple(grad.shape)[-2:])
        gx = gw = gb = None
        x_t, w_t, b_t = ctx.parents
        if x_t.requires_grad:
            gx = backend.empty(x3.shape, x3.dtype, x3)
        if w_t.requires_grad:
            gw = backend.empty(w.shape, w.dtype, w)
        if gx is not None or gw is not None:  # both from one kernel call per group
            gxs = split_groups(gx, 1, groups) if gx is not None else [None] * groups
            gws = split_groups(gw, 0, groups) if gw is not None else [None] * groups
            for xg, gyg, wg, gxg, gwg in zip(split_groups(x3, 1, groups),
                                             split_groups(gy, 1, groups),
                                             split_groups(w, 0, groups), gxs, gws):
                k.conv_transpose1d_backward(xg, gyg, wg, stride, gxg, gwg)
        if gx is not None and was_2d:
            gx = gx.reshape(gx.shape[1:])
        if has_bias and b_t.requires_grad:
            gb = backend.empty((w.shape[1] * groups,), w.dtype, w)
            k.conv_transpose1d_backward_bias(gy, gb)
        return gx, gw, gb
