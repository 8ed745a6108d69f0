"""relu and tanh: forward and backward (both from the saved output). Kernels:
``kernels/{cpu,cuda}/activations.py``; tests: ``tests/test_activations.py``."""
from __future__ import annotations

from .. import backend
from ..autograd import Function
from ._checks import check_float_array, contiguous

__all__ = ["ReluFn", "TanhFn"]


class ReluFn(Function):
    @staticmethod
    def forward(ctx, x):
        check_float_array("input", x, (1, 2, 3))
        x = contiguous(x)
        y = backend.empty(x.shape, x.dtype, x)
        backend.kernels(x).relu_forward(x, y)
        ctx.save(y)
        return y

    def backward(ctx, grad):
        (y,) = ctx.saved
        gx = backend.empty(y.shape, y.dtype, y)
        backend.kernels(y).relu_backward(y, contiguous(grad), gx)
        return (gx,)


class TanhFn(Function):
    @staticmethod
    def forward(ctx, x):
        check_float_array("input", x, (1, 2, 3))
        x = contiguous(x)
        y = backend.empty(x.shape, x.dtype, x)
        backend.kernels(x).tanh_forward(x, y)
        ctx.save(y)
        return y

    def backward(ctx, grad):
        (y,) = ctx.saved
        gx = backend.empty(y.shape, y.dtype, y)
        backend.kernels(y).tanh_backward(y, contiguous(grad), gx)
        return (gx,)
