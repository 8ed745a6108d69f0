"""Element-wise kernels on the CPU: the map/zip factories of ``kernels/elementwise.py``.

Each factory returns one ``@njit(cache=True)`` kernel per formula, looping over the flattened
arrays (C-contiguous, any shape, outputs preallocated) with the formula inlined into the loop,
so the loop vectorises as a hand-written one does. Serial on purpose: these passes are
memory-bound and cheap, and a parallel region's start-up costs more than it saves at the
paper's sizes, much more on a loaded machine (measured: 60 ms for a 32×83 ReLU under load).
"""
from __future__ import annotations

import numpy as np

from tinyemo.kernels.elementwise import Elementwise
from tinyemo.kernels.cpu import formulas  # noqa: F401  (registers the formulas for @njit code)
from tinyemo.kernels.cpu.formulas import kernel

__all__ = ["map_kernel", "zip_kernel", "ops"] + list(Elementwise.NAMES)


def map_kernel(formula):
    """kernel(x, out, params): out[i] ← formula(x[i], *params)."""
    def map_(x, out, params):
        xf = x.reshape(-1)
        of = out.reshape(-1)
        for i in range(of.size):
            of[i] = formula(xf[i], *params)
    map_.__qualname__ = f"map_kernel.{formula.__name__}"  # one cache entry per formula
    return kernel()(map_)


def zip_kernel(formula):
    """kernel(a, b, out, params): out[i] ← formula(a[i], b[i], *params); a size-1 operand
    broadcasts."""
    def zip_(a, b, out, params):
        af = a.reshape(-1)
        bf = b.reshape(-1)
        of = out.reshape(-1)
        sa = 0 if af.size == 1 else 1
        sb = 0 if bf.size == 1 else 1
        for i in range(of.size):
            of[i] = formula(af[i * sa], bf[i * sb], *params)
    zip_.__qualname__ = f"zip_kernel.{formula.__name__}"
    return kernel()(zip_)


class _CpuElementwise(Elementwise):
    """The factory's kernels, but tanh forward by NumPy: its ufunc evaluates tanh with SIMD
    (≤ 1 ulp), which a per-element Numba loop does not (``math.tanh`` is a scalar libm call):
    2.16 M float32 elements in 1.7 ms against 63 ms (10 ms with the rational ``tanh_fast``),
    measured on this machine. The CUDA target keeps the formula (the GPU's tanh is fast)."""

    def tanh_forward(self, x, y):
        np.tanh(x, out=y)


ops = _CpuElementwise(map_kernel, zip_kernel)
globals().update(ops.kernels())  # relu_forward … fill: the names in Elementwise.NAMES
