"""Elementwise arithmetic on the CPU for the ``Tensor`` operators (``+ - *``, ``sum``).

Operands are C-contiguous; an operand of size 1 broadcasts against the other (scalars only,
no general broadcasting). ``out`` has the shape of the larger operand.
"""
from __future__ import annotations

from numba import njit

__all__ = ["axpby", "mul", "sum_all"]


@njit(cache=True)
def axpby(alpha, a, beta, b, out):
    """out ← alpha·a + beta·b."""
    af = a.reshape(-1)
    bf = b.reshape(-1)
    of = out.reshape(-1)
    sa = 0 if af.size == 1 else 1
    sb = 0 if bf.size == 1 else 1
    for i in range(of.size):
        of[i] = alpha * af[i * sa] + beta * bf[i * sb]


@njit(cache=True)
def mul(a, b, out):
    """out ← a·b."""
    af = a.reshape(-1)
    bf = b.reshape(-1)
    of = out.reshape(-1)
    sa = 0 if af.size == 1 else 1
    sb = 0 if bf.size == 1 else 1
    for i in range(of.size):
        of[i] = af[i * sa] * bf[i * sb]


@njit(cache=True)
def sum_all(a, out):
    """out[0] ← Σ a (accumulated in float64)."""
    af = a.reshape(-1)
    acc = 0.0
    for i in range(af.size):
        acc += af[i]
    out.reshape(-1)[0] = acc
