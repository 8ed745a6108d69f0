"""Index arithmetic and reductions shared by the CUDA kernels (``cuda.jit(device=True)``).

Compiling a kernel that calls these with ``cuda.compile_ptx`` asks numba-cuda for the current
device's compute capability (``CUDADispatcher.compile_device``), which fails on a machine
without a GPU; ``tests/cuda/test_cuda_ptx.py`` supplies one (sm_90) for that reason.
"""
from __future__ import annotations

from numba import cuda

__all__ = ["unravel3", "block_sum"]


@cuda.jit(device=True)
def unravel3(j, dim1, dim2):
    """(a, b, c) with j = (a·dim1 + b)·dim2 + c: the C-order index of a flat position j."""
    return j // (dim1 * dim2), (j // dim2) % dim1, j % dim2


@cuda.jit(device=True)
def block_sum(buf, value):
    """Σ of ``value`` over the threads of this block; every thread receives the total.

    ``buf`` is a float64 shared array with at least ``blockDim.x`` slots. Every thread of the
    block must call this (it synchronises the block); ``buf`` may be reused right after.
    A tree of pairwise sums that works for any block size, powers of two or not.
    """
    tid = cuda.threadIdx.x
    n_threads = cuda.blockDim.x
    buf[tid] = value
    cuda.syncthreads()
    step = 1
    while step < n_threads:
        if tid % (2 * step) == 0 and tid + step < n_threads:
            buf[tid] += buf[tid + step]
        cuda.syncthreads()
        step *= 2
    total = buf[0]
    cuda.syncthreads()
    return total
