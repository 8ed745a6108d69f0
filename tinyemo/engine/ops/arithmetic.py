"""``+ - *``, ``sum`` and ``mean`` for Tensors, with scalar broadcasting (a size-1 operand
broadcasts; otherwise shapes must match), and ``reshape``. Kernels:
``kernels/{cpu,cuda}/elementwise.py`` (``axpby``, ``mul``; formulas in ``kernels/formulas.py``)
and ``kernels/{cpu,cuda}/arithmetic.py`` (``sum_all``)."""
from __future__ import annotations

import numpy as np

from tinyemo.engine import backend
from tinyemo.engine.autograd import Function, Tensor
from tinyemo.engine.ops.checks import contiguous

__all__ = ["AddFn", "MulFn", "SumFn", "ReshapeFn"]


def _out_shape(a, b) -> tuple:
    sa, sb = tuple(a.shape), tuple(b.shape)
    if sa == sb:
        return sa
    if int(np.prod(sa)) == 1:
        return sb
    if int(np.prod(sb)) == 1:
        return sa
    raise ValueError(f"shapes {sa} and {sb} do not match (only scalars broadcast)")


def _reduce_to(grad, shape, like):
    """Sum a gradient back to a broadcast operand's shape."""
    if tuple(grad.shape) == tuple(shape):
        return grad
    total = backend.empty((1,), grad.dtype, like)
    backend.kernels(grad).sum_all(contiguous(grad), total)
    return total.reshape(shape)


def _scale(grad, alpha):
    out = backend.empty(grad.shape, grad.dtype, grad)
    backend.kernels(grad).axpby(alpha, contiguous(grad), 0.0, contiguous(grad), out)
    return out


class AddFn(Function):
    """out = alpha·a + beta·b (``a + b`` is alpha = beta = 1, ``a − b`` is beta = −1)."""

    @staticmethod
    def forward(ctx, a, b, alpha=1.0, beta=1.0):
        out = backend.empty(_out_shape(a, b), a.dtype, a)
        backend.kernels(a).axpby(alpha, contiguous(a), beta, contiguous(b), out)
        ctx.save(tuple(a.shape), tuple(b.shape), alpha, beta)
        return out

    def backward(ctx, grad):
        shape_a, shape_b, alpha, beta = ctx.saved
        ga = _reduce_to(grad if alpha == 1.0 else _scale(grad, alpha), shape_a, grad)
        gb = _reduce_to(grad if beta == 1.0 else _scale(grad, beta), shape_b, grad)
        return ga, gb


class MulFn(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = backend.empty(_out_shape(a, b), a.dtype, a)
        backend.kernels(a).mul(contiguous(a), contiguous(b), out)
        ctx.save(a, b)
        return out

    def backward(ctx, grad):
        a, b = ctx.saved
        k = backend.kernels(grad)
        ga = backend.empty(grad.shape, grad.dtype, grad)
        gb = backend.empty(grad.shape, grad.dtype, grad)
        k.mul(contiguous(grad), contiguous(b), ga)
        k.mul(contiguous(grad), contiguous(a), gb)
        return _reduce_to(ga, a.shape, grad), _reduce_to(gb, b.shape, grad)


class SumFn(Function):
    """Σ of all elements (times ``scale``: ``mean`` is scale = 1/n); a 0-d result."""

    @staticmethod
    def forward(ctx, a, scale=1.0):
        total = backend.empty((1,), a.dtype, a)
        backend.kernels(a).sum_all(contiguous(a), total)
        out = backend.empty((1,), a.dtype, a)
        backend.kernels(a).axpby(scale, total, 0.0, total, out)
        ctx.save(a, scale)
        return out.reshape(())

    def backward(ctx, grad):
        a, scale = ctx.saved
        ga = backend.empty(a.shape, a.dtype, a)
        backend.kernels(a).axpby(scale, contiguous(grad).reshape((1,)), 0.0,
                                 contiguous(grad).reshape((1,)), ga)
        return (ga,)


class ReshapeFn(Function):
    """The same elements in a new shape (a view when the array is contiguous)."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.save(tuple(a.shape))
        return contiguous(a).reshape(tuple(shape))

    def backward(ctx, grad):
        (shape,) = ctx.saved
        return (contiguous(grad).reshape(shape),)


def _operand(value, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return Tensor(backend.to_device(np.full((), value, dtype=like.dtype), like.device))
    return Tensor(value)


def _install() -> None:
    """Attach the operators to ``Tensor`` (kept here, beside the Functions they call)."""
    Tensor.__add__ = lambda a, b: AddFn.apply(a, _operand(b, a))
    Tensor.__radd__ = lambda a, b: AddFn.apply(_operand(b, a), a)
    Tensor.__sub__ = lambda a, b: AddFn.apply(a, _operand(b, a), beta=-1.0)
    Tensor.__rsub__ = lambda a, b: AddFn.apply(_operand(b, a), a, beta=-1.0)
    Tensor.__neg__ = lambda a: AddFn.apply(a, a, alpha=-1.0, beta=0.0)
    Tensor.__mul__ = lambda a, b: MulFn.apply(a, _operand(b, a))
    Tensor.__rmul__ = lambda a, b: MulFn.apply(_operand(b, a), a)
    Tensor.reshape = lambda a, *shape: ReshapeFn.apply(
        a, shape=shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape)
    Tensor.sum = lambda a: SumFn.apply(a)
    Tensor.mean = lambda a: SumFn.apply(a, scale=1.0 / max(1, int(np.prod(a.shape))))


_install()
