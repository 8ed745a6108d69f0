"""The concordance correlation coefficient as a differentiable op (the paper's training
objective is 1 − CCC). Kernels: ``kernels/{cpu,cuda}/ccc.py``; reference:
``kernels/reference.py:ccc``; tests: ``tests/engine/test_ccc.py``."""
from __future__ import annotations

import numpy as np

from tinyemo.engine import backend
from tinyemo.engine.autograd import Function
from tinyemo.engine.ops.checks import check_float_array, check_same_dtype, contiguous

__all__ = ["CCCFn"]


class CCCFn(Function):
    """CCC(prediction, target) over all elements (flattened), a 0-d tensor. CCC is symmetric,
    so the target's gradient is the same kernel with the roles exchanged."""

    @staticmethod
    def forward(ctx, x, y):
        check_float_array("prediction", x, (1, 2, 3))
        check_float_array("target", y, (1, 2, 3))
        check_same_dtype(prediction=x, target=y)
        n = int(np.prod(x.shape))
        if int(np.prod(y.shape)) != n:
            raise ValueError(f"prediction has {n} elements but target has {int(np.prod(y.shape))}")
        xf = contiguous(x).reshape((n,))
        yf = contiguous(y).reshape((n,))
        stats = backend.empty((5,), np.float64, x)
        out = backend.empty((1,), x.dtype, x)
        backend.kernels(x).ccc_forward(xf, yf, stats, out)
        ctx.save(xf, yf, stats, tuple(x.shape), tuple(y.shape))
        return out.reshape(())

    def backward(ctx, grad):
        xf, yf, stats, x_shape, y_shape = ctx.saved
        k = backend.kernels(xf)
        g = contiguous(grad).reshape((1,))
        gx = gy = None
        if ctx.parents[0].requires_grad:
            gx = backend.empty(xf.shape, xf.dtype, xf)
            k.ccc_backward(xf, yf, stats, g, gx)
            gx = gx.reshape(x_shape)
        if ctx.parents[1].requires_grad:
            swapped = backend.empty((5,), np.float64, xf)
            k.ccc_swap_stats(stats, swapped)
            gy = backend.empty(yf.shape, yf.dtype, yf)
            k.ccc_backward(yf, xf, swapped, g, gy)
            gy = gy.reshape(y_shape)
        return gx, gy
