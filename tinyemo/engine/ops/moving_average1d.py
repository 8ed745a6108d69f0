"""moving_average1d: a fixed box filter over time, forward and backward (its adjoint).

y[t] = mean of x[t − left … t + right] over the frames that exist: 'same' length, and at the
edges the window shrinks (no zero padding, so the first and last frames are not pulled towards
0). ``window`` W frames: left = (W − 1) // 2, right = W // 2 (an even window's odd frame goes
on the right, as PyTorch places 'same' padding). Kernels: ``kernels/{cpu,cuda}/moving_average1d.py``;
reference: ``kernels/reference.py:moving_average1d``; tests: ``tests/engine/test_moving_average1d.py``.
"""
from __future__ import annotations

from tinyemo.engine import backend
from tinyemo.engine.autograd import Function
from tinyemo.engine.ops.checks import as_batch, check_float_array, check_int, contiguous

__all__ = ["MovingAverage1dFn", "window_sides"]


def window_sides(window: int) -> tuple[int, int]:
    """(left, right) frames of a centred window of ``window`` frames."""
    return (window - 1) // 2, window // 2


class MovingAverage1dFn(Function):
    """The mean over a centred window of ``window`` frames (see the module docstring)."""

    @staticmethod
    def forward(ctx, x, window):
        check_float_array("input", x, (2, 3))
        left, right = window_sides(check_int("window", window, 1))
        x3, was_2d = as_batch(contiguous(x))
        y = backend.empty(x3.shape, x.dtype, x)
        backend.kernels(x).moving_average1d_forward(x3, left, right, y)
        ctx.save(left, right, was_2d)
        return y.reshape(y.shape[1:]) if was_2d else y

    def backward(ctx, grad):
        left, right, was_2d = ctx.saved
        gy, _ = as_batch(contiguous(grad))
        gx = backend.empty(gy.shape, grad.dtype, grad)
        backend.kernels(grad).moving_average1d_backward(gy, left, right, gx)
        return (gx.reshape(gx.shape[1:]) if was_2d else gx),
