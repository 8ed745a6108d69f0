"""Elementwise activations on CUDA, the twins of ``kernels/cpu/activations.py``: any shape,
C-contiguous device arrays, outputs preallocated; one thread per element of the flat view."""
from __future__ import annotations

import math

from numba import cuda

from .launch import flat, per_element

__all__ = ["relu_forward", "relu_backward", "tanh_forward", "tanh_backward"]


@cuda.jit
def _relu_forward_kernel(x, y):
    i = cuda.grid(1)
    if i >= y.shape[0]:
        return
    y[i] = x[i] if x[i] > 0 else 0.0


@cuda.jit
def _relu_backward_kernel(y, gy, gx):
    i = cuda.grid(1)
    if i >= gx.shape[0]:
        return
    gx[i] = gy[i] if y[i] > 0 else 0.0


@cuda.jit
def _tanh_forward_kernel(x, y):
    i = cuda.grid(1)
    if i >= y.shape[0]:
        return
    y[i] = math.tanh(x[i])


@cuda.jit
def _tanh_backward_kernel(y, gy, gx):
    i = cuda.grid(1)
    if i >= gx.shape[0]:
        return
    gx[i] = gy[i] * (1 - y[i] * y[i])


def relu_forward(x, y):
    """y ← max(x, 0)."""
    per_element(_relu_forward_kernel, y.size, flat(x), flat(y))


def relu_backward(y, gy, gx):
    """gx ← gy where the output y is positive, else 0 (the subgradient 0 at x = 0)."""
    per_element(_relu_backward_kernel, gx.size, flat(y), flat(gy), flat(gx))


def tanh_forward(x, y):
    """y ← tanh(x)."""
    per_element(_tanh_forward_kernel, y.size, flat(x), flat(y))


def tanh_backward(y, gy, gx):
    """gx ← gy · (1 − y²), from the saved output y = tanh(x)."""
    per_element(_tanh_backward_kernel, gx.size, flat(y), flat(gy), flat(gx))
