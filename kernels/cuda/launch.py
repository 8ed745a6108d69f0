"""Grid arithmetic shared by the CUDA launchers (plain Python, run on the host).

Two launch shapes:

- :func:`per_element`: one thread per output element, ``ceil(n / THREADS_PER_BLOCK)`` blocks;
  the kernel checks ``cuda.grid(1) < n`` before anything else.
- :func:`per_block`: one block per output element (a reduction); the block's threads stride
  over the reduced elements and combine with :func:`.device_functions.block_sum` in
  ``THREADS_PER_BLOCK`` float64 slots of dynamic shared memory, sized here at launch.
"""
from __future__ import annotations

from tinyemo.kernels.cuda import config

__all__ = ["per_element", "per_block", "flat"]

_REDUCE_ITEMSIZE = 8  # block reductions accumulate in float64


def per_element(kernel, n_threads: int, *args) -> None:
    """Launch ``kernel(*args)`` with at least ``n_threads`` threads (none when it is 0)."""
    if n_threads <= 0:
        return
    tpb = config.THREADS_PER_BLOCK
    kernel[(n_threads + tpb - 1) // tpb, tpb](*args)


def per_block(kernel, n_blocks: int, *args) -> None:
    """Launch ``kernel(*args)`` with one block per output element and its reduction buffer."""
    if n_blocks <= 0:
        return
    tpb = config.THREADS_PER_BLOCK
    kernel[n_blocks, tpb, 0, tpb * _REDUCE_ITEMSIZE](*args)


def flat(array):
    """A 1-D view of a C-contiguous device array (0-d arrays become shape (1,))."""
    return array.reshape(array.size)
