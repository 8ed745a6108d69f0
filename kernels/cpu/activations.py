"""Elementwise activations on the CPU: any shape, C-contiguous, outputs preallocated.

Memory-bound and cheap, so serial: a parallel region's start-up costs more than it saves at
these sizes, and much more on a loaded machine (measured: 60 ms for a 32×83 ReLU under load)."""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["relu_forward", "relu_backward", "tanh_forward", "tanh_backward"]


@njit(cache=True)
def relu_forward(x, y):
    """y ← max(x, 0)."""
    xf = x.reshape(-1)
    yf = y.reshape(-1)
    for i in range(xf.size):
        yf[i] = xf[i] if xf[i] > 0 else 0


@njit(cache=True)
def relu_backward(y, gy, gx):
    """gx ← gy where the output y is positive, else 0 (the subgradient 0 at x = 0)."""
    yf = y.reshape(-1)
    gyf = gy.reshape(-1)
    gxf = gx.reshape(-1)
    for i in range(yf.size):
        gxf[i] = gyf[i] if yf[i] > 0 else 0


@njit(cache=True)
def tanh_forward(x, y):
    """y ← tanh(x)."""
    xf = x.reshape(-1)
    yf = y.reshape(-1)
    for i in range(xf.size):
        yf[i] = np.tanh(xf[i])


@njit(cache=True)
def tanh_backward(y, gy, gx):
    """gx ← gy · (1 − y²), from the saved output y = tanh(x)."""
    yf = y.reshape(-1)
    gyf = gy.reshape(-1)
    gxf = gx.reshape(-1)
    for i in range(yf.size):
        gxf[i] = gyf[i] * (1 - yf[i] * yf[i])
