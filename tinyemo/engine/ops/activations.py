"""relu and tanh: forward and backward (both from the saved output). Kernels:
``kernels/{cpu,cuda}/elementwise.py`` (formulas in ``kernels/formulas.py``); tests:
``tests/engine/test_activations_pad.py``."""
from __future__ import annotations

from tinyemo.engine import backend
from tinyemo.engine.autograd import Function
from tinyemo.engine.ops.checks import check_float_array, contiguous

__all__ = ["ReluFn", "TanhFn"]


class _ActivationFn(Function):
    """y = f(x) elementwise; the gradient is computed from y (``<name>_backward(y, gy, gx)``)."""

    name = ""

    @classmethod
    def forward(cls, ctx, x):
        check_float_array("input", x, (1, 2, 3))
        x = contiguous(x)
        y = backend.empty(x.shape, x.dtype, x)
        getattr(backend.kernels(x), f"{cls.name}_forward")(x, y)
        ctx.save(y)
        return y

    def backward(ctx, grad):
        (y,) = ctx.saved
        gx = backend.empty(y.shape, y.dtype, y)
        getattr(backend.kernels(y), f"{ctx.name}_backward")(y, contiguous(grad), gx)
        return (gx,)


class ReluFn(_ActivationFn):
    """max(x, 0); its gradient is 0 where the output is 0 (the subgradient 0 at x = 0)."""

    name = "relu"


class TanhFn(_ActivationFn):
    """tanh(x); its gradient is 1 − y²."""

    name = "tanh"
