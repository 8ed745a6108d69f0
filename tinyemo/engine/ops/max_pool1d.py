"""max_pool1d: forward (with argmax) and backward. Kernels: ``kernels/{cpu,cuda}/max_pool1d.py``;
reference: ``kernels/reference.py:max_pool1d``; tests: ``tests/engine/test_max_pool1d.py``."""
from __future__ import annotations

import numpy as np

from tinyemo.engine import backend
from tinyemo.engine.autograd import Function
from tinyemo.engine.ops.checks import as_batch, check_float_array, check_int, contiguous
from tinyemo.kernels.shapes import max_pool1d_out_len

__all__ = ["MaxPool1dFn"]


class MaxPool1dFn(Function):
    """y[t] = max(x[t·s : t·s + K]); trailing frames that do not fill a window are dropped."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None):
        check_float_array("input", x, (2, 3))
        kernel_size = check_int("kernel_size", kernel_size, 1)
        stride = kernel_size if stride is None else check_int("stride", stride, 1)
        x3, was_2d = as_batch(contiguous(x))
        t_out = max_pool1d_out_len(x3.shape[2], kernel_size, stride)
        if t_out < 1:
            raise ValueError(f"input length {x3.shape[2]} is shorter than kernel_size {kernel_size}")
        shape = (x3.shape[0], x3.shape[1], t_out)
        y = backend.empty(shape, x.dtype, x)
        argmax = backend.empty(shape, np.int64, x)
        backend.kernels(x).max_pool1d_forward(x3, kernel_size, stride, y, argmax)
        ctx.save(argmax, x3.shape, was_2d)
        return y.reshape(y.shape[1:]) if was_2d else y

    def backward(ctx, grad):
        argmax, x_shape, was_2d = ctx.saved
        gy = contiguous(grad).reshape(argmax.shape)
        gx = backend.empty(x_shape, grad.dtype, grad)
        backend.kernels(grad).max_pool1d_backward(gy, argmax, gx)
        return (gx.reshape(x_shape[1:]) if was_2d else gx),
