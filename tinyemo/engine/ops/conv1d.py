"""conv1d: forward and backward. Kernels: ``kernels/{cpu,cuda}/conv1d.py`` (direct, BLAS) and
``kernels/cpu/conv1d_fft.py`` (FFT, CPU only); reference: ``kernels/reference.py:conv1d``;
tests: ``tests/engine/test_conv1d.py``, ``tests/engine/test_conv1d_fast.py``.

Which kernels run is the target's choice (``conv1d_kernels`` in its table): on the CPU the FFT ones
when ``conv1d_fft.fft_preferred`` says their estimated work is smaller (stride 1 and long
kernels, e.g. the paper's Figure 1 filter, K up to 2048; its docstring states the cost rule),
else the direct ones. Both compute the same function.

``groups`` (PyTorch's meaning): the channels split into ``groups`` equal, consecutive parts, group
g's outputs reading only group g's inputs, w (C_out, C_in/groups, K). Written once, above the
targets: each group is the ungrouped op on channel views of x, w, b and y (the kernels take
views whose rows are contiguous), so a grouped conv is exactly ``groups`` convs side by side.
"""
from __future__ import annotations

from tinyemo.engine import backend
from tinyemo.engine.autograd import Function
from tinyemo.engine.ops.checks import (
    as_batch, check_conv_args, check_float_array, check_groups, check_int, contiguous,
    split_groups,
)
from tinyemo.kernels.shapes import conv1d_out_len

__all__ = ["Conv1dFn", "resolve_padding"]


def resolve_padding(padding, kernel_size: int, dilation: int, stride: int) -> tuple[int, int]:
    """An int, a (left, right) pair or ``"same"`` → (left, right).

    ``"same"`` (stride 1 only) pads d·(K−1) in total, the odd frame on the right as PyTorch.
    """
    if isinstance(padding, str):
        if padding != "same":
            raise ValueError(f"padding must be an int, a (left, right) pair or 'same', got {padding!r}")
        if stride != 1:
            raise ValueError("padding='same' needs stride=1")
        total = dilation * (kernel_size - 1)
        return total // 2, total - total // 2
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(f"padding pair must have 2 entries, got {padding!r}")
        return check_int("padding left", padding[0], 0), check_int("padding right", padding[1], 0)
    pad = check_int("padding", padding, 0)
    return pad, pad


class Conv1dFn(Function):
    """y = conv(x, w) + b; x (C_in, T) or (N, C_in, T), w (C_out, C_in/groups, K), b (C_out,)."""

    @staticmethod
    def forward(ctx, x, w, b, stride=1, padding=0, dilation=1, groups=1):
        check_float_array("weight", w, (3,))
        c_out, c_group, k = w.shape
        groups = check_groups(groups, output_channels=c_out)
        stride = check_conv_args(x, w, b, stride, c_group * groups, c_out)
        dilation = check_int("dilation", dilation, 1)
        left, right = resolve_padding(padding, k, dilation, stride)
        x3, was_2d = as_batch(contiguous(x))
        t_out = conv1d_out_len(x3.shape[2], k, stride, dilation, left, right)
        if t_out < 1:
            raise ValueError(
                f"output would have {t_out} frames: input length {x3.shape[2]} with padding "
                f"({left}, {right}) is shorter than the dilated kernel {dilation * (k - 1) + 1}")
        w = contiguous(w)
        bias = contiguous(b) if b is not None else backend.zeros((c_out,), x.dtype, x)
        y = backend.empty((x3.shape[0], c_out, t_out), x.dtype, x)
        table = backend.kernels(x).conv1d_kernels(c_group, c_out // groups, k, dilation, stride,
                                                  t_out)
        for xg, wg, bg, yg in zip(split_groups(x3, 1, groups), split_groups(w, 0, groups),
                                  split_groups(bias, 0, groups), split_groups(y, 1, groups)):
            table.conv1d_forward(xg, wg, bg, stride, dilation, left, yg)
        ctx.save(x3, w, b is not None, stride, dilation, left, was_2d, table, groups)
        return y.reshape(y.shape[1:]) if was_2d else y

    def backward(ctx, grad):
        x3, w, has_bias, stride, dilation, left, was_2d, k, groups = ctx.saved
        gy = contiguous(grad).reshape((x3.shape[0],) + tuple(grad.shape)[-2:])
        gx = gw = gb = None
        x_t, w_t, b_t = ctx.parents
        gys, ws = split_groups(gy, 1, groups), split_groups(w, 0, groups)
        if x_t.requires_grad:
            gx = backend.empty(x3.shape, x3.dtype, x3)
            for gyg, wg, gxg in zip(gys, ws, split_groups(gx, 1, groups)):
                k.conv1d_backward_input(gyg, wg, stride, dilation, left, gxg)
            gx = gx.reshape(gx.shape[1:]) if was_2d else gx
        if w_t.requires_grad:
            gw = backend.empty(w.shape, w.dtype, w)
            for xg, gyg, gwg in zip(split_groups(x3, 1, groups), gys, split_groups(gw, 0, groups)):
                k.conv1d_backward_weight(xg, gyg, stride, dilation, left, gwg)
        if has_bias and b_t.requires_grad:
            gb = backend.empty((w.shape[0],), w.dtype, w)
            k.conv1d_backward_bias(gy, gb)
        return gx, gw, gb
