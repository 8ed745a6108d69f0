"""pad1d: zero-pad (or, with negative amounts, crop) the time axis; its backward is the
opposite crop/pad. Kernel: ``kernels/{cpu,cuda}/pad1d.py``; tests: ``tests/engine/test_activations_pad.py``."""
from __future__ import annotations

from tinyemo.engine import backend
from tinyemo.engine.autograd import Function
from tinyemo.engine.ops.checks import as_batch, check_float_array, contiguous

__all__ = ["Pad1dFn"]


class Pad1dFn(Function):
    """y = x with ``left`` zeros before and ``right`` after (negative: frames removed)."""

    @staticmethod
    def forward(ctx, x, left, right):
        check_float_array("input", x, (2, 3))
        x3, was_2d = as_batch(contiguous(x))
        t_out = x3.shape[2] + int(left) + int(right)
        if t_out < 1:
            raise ValueError(f"padding ({left}, {right}) leaves {t_out} frames of {x3.shape[2]}")
        y = backend.empty(x3.shape[:2] + (t_out,), x.dtype, x)
        backend.kernels(x).pad1d(x3, int(left), y)
        ctx.save(int(left), x3.shape, was_2d)
        return y.reshape(y.shape[1:]) if was_2d else y

    def backward(ctx, grad):
        left, x_shape, was_2d = ctx.saved
        gy, _ = as_batch(contiguous(grad))
        gx = backend.empty(x_shape, grad.dtype, grad)
        backend.kernels(grad).pad1d(gy, -left, gx)
        return (gx.reshape(x_shape[1:]) if was_2d else gx),
