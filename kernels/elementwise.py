"""The element-wise kernels of every target, written once over that target's map/zip factories.

A target supplies two factories (``kernels/cpu/elementwise.py``, ``kernels/cuda/elementwise.py``)
that turn a formula of ``kernels/formulas.py`` into a kernel over C-contiguous arrays of any
shape (flattened), outputs preallocated:

- ``map_kernel(formula)(x, out, params)``: out[i] ← formula(x[i], *params);
- ``zip_kernel(formula)(a, b, out, params)``: out[i] ← formula(a[i], b[i], *params), where an
  operand of size 1 broadcasts against the other (scalars only).

``params`` is a tuple of scalars (``()`` for none). :class:`Elementwise` builds the public kernels
from them; each target exports one instance's ``kernels()`` under those names. A new element-wise
op is a formula plus a method here (and its name in ``NAMES``), and both targets have it.
"""
from __future__ import annotations

from tinyemo.kernels import formulas as F

__all__ = ["Elementwise"]


class Elementwise:
    """The element-wise kernels (relu, tanh, their gradients, axpby, mul, fill, dropout) of one
    target."""

    NAMES = ("relu_forward", "relu_backward", "tanh_forward", "tanh_backward", "axpby", "mul",
             "fill", "dropout")

    def __init__(self, map_kernel, zip_kernel):
        self._relu = map_kernel(F.relu)
        self._relu_grad = zip_kernel(F.relu_grad)
        self._tanh = map_kernel(F.tanh)
        self._tanh_grad = zip_kernel(F.tanh_grad)
        self._axpby = zip_kernel(F.axpby)
        self._mul = zip_kernel(F.mul)
        self._constant = map_kernel(F.constant)
        self._dropout = zip_kernel(F.dropout)

    def kernels(self) -> dict:
        """{name: kernel} for every name in ``NAMES`` (bound methods: the kernels' arguments)."""
        return {name: getattr(self, name) for name in self.NAMES}

    def relu_forward(self, x, y):
        """y ← max(x, 0)."""
        self._relu(x, y, ())

    def relu_backward(self, y, gy, gx):
        """gx ← gy where the output y is positive, else 0 (the subgradient 0 at x = 0)."""
        self._relu_grad(y, gy, gx, ())

    def tanh_forward(self, x, y):
        """y ← tanh(x)."""
        self._tanh(x, y, ())

    def tanh_backward(self, y, gy, gx):
        """gx ← gy · (1 − y²), from the saved output y = tanh(x)."""
        self._tanh_grad(y, gy, gx, ())

    def axpby(self, alpha, a, beta, b, out):
        """out ← alpha·a + beta·b (a size-1 operand broadcasts)."""
        self._axpby(a, b, out, (float(alpha), float(beta)))

    def mul(self, a, b, out):
        """out ← a·b (a size-1 operand broadcasts)."""
        self._mul(a, b, out, ())

    def fill(self, array, value):
        """Every element of ``array`` ← ``value`` (on the array's target: no copy)."""
        self._constant(array, array, (float(value),))

    def dropout(self, x, draws, p, out):
        """out ← x / (1 − p) where the uniform draw ≥ p, else 0 (the forward on x; the backward
        is the same kernel on the upstream gradient with the same draws)."""
        self._dropout(x, draws, out, (float(p), 1.0 / (1.0 - float(p))))
