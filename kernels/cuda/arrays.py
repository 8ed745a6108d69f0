"""Device arrays for the CUDA target: allocation and upload (``tinyemo.backend`` calls these).

Arrays are numba-cuda device arrays (``FakeCUDAArray`` under ``NUMBA_ENABLE_CUDASIM=1``),
C-contiguous. ``zeros`` fills on the device, so no host array of that size is made.
"""
from __future__ import annotations

import numpy as np
from numba import cuda

from .launch import flat, per_element

__all__ = ["empty", "zeros", "to_device", "fill"]


@cuda.jit
def _fill_kernel(value, out):
    i = cuda.grid(1)
    if i >= out.shape[0]:
        return
    out[i] = value


def fill(array, value: float) -> None:
    """Every element of the C-contiguous device array ``array`` ← ``value``."""
    out = flat(array)
    per_element(_fill_kernel, out.shape[0], float(value), out)


def empty(shape, dtype):
    """An uninitialised C-contiguous device array."""
    return cuda.device_array(tuple(int(s) for s in shape), dtype=np.dtype(dtype))


def zeros(shape, dtype):
    """A device array of zeros (filled by a kernel, not copied from the host)."""
    array = empty(shape, dtype)
    fill(array, 0)
    return array


def to_device(host_array):
    """A C-contiguous device copy of a host array (0-d stays 0-d, unlike with
    ``np.ascontiguousarray``)."""
    return cuda.to_device(np.asarray(host_array, order="C"))
