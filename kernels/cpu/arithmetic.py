"""``sum_all`` on the CPU (the element-wise ``axpby`` and ``mul`` are in ``elementwise.py``)."""
from __future__ import annotations

from numba import njit

__all__ = ["sum_all"]


@njit(cache=True)
def sum_all(a, out):
    """out[0] ← Σ a (accumulated in float64)."""
    af = a.reshape(-1)
    acc = 0.0
    for i in range(af.size):
        acc += af[i]
    out.reshape(-1)[0] = acc
