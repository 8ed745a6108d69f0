"""Device arrays for the CUDA target: the array services ``tinyemo.backend`` asks each target
for, the same names and arguments as ``kernels/cpu/arrays.py``.

Arrays are numba-cuda device arrays (``FakeCUDAArray`` under ``NUMBA_ENABLE_CUDASIM=1``),
C-contiguous. ``zeros`` fills on the device, so no host array of that size is made.
"""
from __future__ import annotations

import numpy as np
from numba import cuda

from tinyemo.kernels.cuda.elementwise import fill

__all__ = ["empty", "zeros", "fill", "to_device", "to_host", "contiguous"]


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


def to_host(array):
    """A host (NumPy) copy of the device array."""
    return array.copy_to_host()


def contiguous(array):
    """The array itself when C-contiguous; device kernels do not take strided views."""
    if not array.is_c_contiguous():
        raise ValueError("non-contiguous CUDA arrays are not supported")
    return array
