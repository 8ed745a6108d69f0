"""Reverse-mode autograd: a ``Tensor`` records the ``Function`` that made it; ``backward``
walks that record in reverse topological order. No op writes a backward per model: a model's
backward is whatever its forward ran.

Each op is a ``Function`` subclass with ``forward(ctx, *arrays, **options)`` and
``backward(ctx, grad)`` side by side; ``ctx.save(...)`` keeps only what backward needs.
Gradients accumulate with ``+=`` so a tensor used twice gets both contributions.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import numpy as np

from tinyemo.engine import backend

__all__ = ["Tensor", "Function", "no_grad", "is_grad_enabled", "set_timer", "timed"]

_grad_enabled = True
# The op timer while ``tinyemo.engine.profiler`` records: ``timer(label, fn, *args, **kw)``
# calls fn(*args, **kw) and returns its result. None (the default) costs one test per op.
_timer: Callable | None = None


def set_timer(timer: Callable | None) -> Callable | None:
    """Install ``timer`` (None: none) around every op's forward and backward; returns the
    previous one. Used by :mod:`tinyemo.engine.profiler`."""
    global _timer
    previous, _timer = _timer, timer
    return previous


def timed(label: str, fn: Callable, *args):
    """fn(*args), through the installed timer when there is one (for work outside the ops:
    the optimizer step)."""
    return fn(*args) if _timer is None else _timer(label, fn, *args)


def is_grad_enabled() -> bool:
    return _grad_enabled


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Run ops without recording them (prediction, evaluation)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


class Tensor:
    """An array (NumPy on the CPU, a device array on CUDA) with an optional gradient.

    ``Tensor(array, requires_grad=False)``: float32 by default for Python data, the array's
    own dtype for float32/float64 arrays. ``.grad`` is an array of the same shape (``None``
    until a backward reaches this tensor).
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx")
    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        if not backend.is_device_array(data) and not (
                isinstance(data, np.ndarray) and data.dtype in (np.float32, np.float64)):
            data = np.asarray(data, dtype=np.float32)
        self._set(data, requires_grad)

    def _set(self, data, requires_grad: bool) -> None:
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Function | None = None

    @classmethod
    def _wrap(cls, value) -> "Tensor":
        """An op's raw input as a Tensor: any array keeps its dtype (the op checks it and names
        the problem); Python numbers and lists become float32 as in the constructor."""
        if not hasattr(value, "shape") or not hasattr(value, "dtype"):
            return cls(value)
        t = cls.__new__(cls)
        t._set(value, False)
        return t

    # -- introspection ------------------------------------------------------------------
    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: len(self.data.shape))
    device = property(lambda self: backend.device_of(self.data))

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (a host copy for device tensors)."""
        return backend.to_numpy(self.data)

    def item(self) -> float:
        values = self.numpy()  # one host copy
        return float(values.reshape(-1)[0]) if values.size == 1 else _not_scalar(self)

    def detach(self) -> "Tensor":
        return Tensor(self.data)

    def to(self, device: str) -> "Tensor":
        """A copy on ``device`` (a leaf; the gradient record does not cross devices)."""
        return Tensor(backend.to_device(self.data, device), requires_grad=self.requires_grad)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.numpy()!r}{grad})"

    # -- autograd ---------------------------------------------------------------------------
    def backward(self, grad=None) -> None:
        """Accumulate ∂self/∂leaf into every leaf's ``.grad`` that requires it.

        ``grad`` is the upstream gradient (an array of this tensor's shape); it may be omitted
        only for a single-element tensor, as in PyTorch.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad")
        if grad is None:
            if int(np.prod(self.shape)) != 1:
                raise RuntimeError("backward() without a gradient needs a single-element tensor")
            grad = backend.empty(self.shape, self.dtype, self.data)
            backend.kernels(grad).fill(grad, 1.0)  # on the array's target: no upload
        elif isinstance(grad, Tensor):
            grad = grad.data
        if tuple(grad.shape) != self.shape:
            raise ValueError(f"gradient shape {tuple(grad.shape)} != tensor shape {self.shape}")
        grads: dict[int, Any] = {id(self): grad}
        for node in reversed(_topological_order(self)):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            ctx = node._ctx
            if ctx is None:  # a leaf
                node.grad = g if node.grad is None else _accumulate(node.grad, g)
                continue
            input_grads = ctx.backward(g) if _timer is None else \
                _timer(type(ctx).__name__ + ".backward", ctx.backward, g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for parent, pg in zip(ctx.parents, input_grads):
                if parent is None or pg is None or not parent.requires_grad:
                    continue
                key = id(parent)
                grads[key] = pg if key not in grads else timed("accumulate", _accumulate,
                                                                 grads[key], pg)

    def zero_grad(self) -> None:
        self.grad = None


def _not_scalar(t: Tensor) -> float:
    raise ValueError(f"item() needs a single-element tensor, got shape {t.shape}")


def _accumulate(total, extra):
    """``total += extra`` on either target; returns the result (a fresh array the first time
    a gradient is shared, so arrays handed out by backward are never mutated)."""
    out = backend.empty(total.shape, total.dtype, total)
    backend.kernels(total).axpby(1.0, total, 1.0, extra, out)
    return out


def _topological_order(root: Tensor) -> list[Tensor]:
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        if node._ctx is not None:
            for parent in node._ctx.parents:
                if parent is not None and parent.requires_grad and id(parent) not in seen:
                    stack.append((parent, False))
    return order


class Function:
    """Base of every differentiable op. ``Op.apply(*inputs, **options)`` runs ``forward`` on
    the inputs' arrays and, when any input requires grad, records the op for ``backward``."""

    def __init__(self, parents: tuple):
        self.parents = parents
        self.saved: tuple = ()

    def save(self, *values) -> None:
        self.saved = values

    @staticmethod
    def forward(ctx: "Function", *arrays, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **options) -> Tensor:
        tensors = tuple(t if isinstance(t, Tensor) or t is None else Tensor._wrap(t) for t in inputs)
        ctx = cls(tensors)
        arrays = tuple(t.data if t is not None else None for t in tensors)
        if _timer is None:
            out = cls.forward(ctx, *arrays, **options)
        else:
            out = _timer(cls.__name__ + ".forward", cls.forward, ctx, *arrays, **options)
        result = Tensor(out)
        if _grad_enabled and any(t is not None and t.requires_grad for t in tensors):
            result.requires_grad = True
            result._ctx = ctx
        return result
