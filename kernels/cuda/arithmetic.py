"""Elementwise arithmetic on CUDA for the ``Tensor`` operators, the twin of
``kernels/cpu/arithmetic.py``. Operands are C-contiguous device arrays; an operand of size 1
broadcasts against the other (scalars only). ``out`` has the shape of the larger operand.
``sum_all`` is one block whose threads stride over the input and combine in float64."""
from __future__ import annotations

from numba import cuda, float64

from .device_functions import block_sum
from .launch import flat, per_block, per_element

__all__ = ["axpby", "mul", "sum_all"]


@cuda.jit
def _axpby_kernel(alpha, a, a_step, beta, b, b_step, out):
    i = cuda.grid(1)
    if i >= out.shape[0]:
        return
    out[i] = alpha * a[i * a_step] + beta * b[i * b_step]


@cuda.jit
def _mul_kernel(a, a_step, b, b_step, out):
    i = cuda.grid(1)
    if i >= out.shape[0]:
        return
    out[i] = a[i * a_step] * b[i * b_step]


@cuda.jit
def _sum_kernel(a, out):
    # a single block
    buf = cuda.shared.array(0, float64)
    acc = 0.0
    for i in range(cuda.threadIdx.x, a.shape[0], cuda.blockDim.x):
        acc += float(a[i])  # float64 sums in the simulator too, as on the GPU
    total = block_sum(buf, acc)
    if cuda.threadIdx.x == 0:
        out[0] = total


def _step(array) -> int:
    """0 for a broadcast (size-1) operand, else 1."""
    return 0 if array.size == 1 else 1


def axpby(alpha, a, beta, b, out):
    """out ← alpha·a + beta·b."""
    per_element(_axpby_kernel, out.size, float(alpha), flat(a), _step(a), float(beta), flat(b),
                _step(b), flat(out))


def mul(a, b, out):
    """out ← a·b."""
    per_element(_mul_kernel, out.size, flat(a), _step(a), flat(b), _step(b), flat(out))


def sum_all(a, out):
    """out[0] ← Σ a (accumulated in float64)."""
    per_block(_sum_kernel, 1, flat(a), flat(out))
