"""Host arrays for the CPU target: the array services ``tinyemo.backend`` asks each target for,
the same names and arguments as ``kernels/cuda/arrays.py`` (NumPy arrays, C-contiguous)."""
from __future__ import annotations

import numpy as np

from tinyemo.kernels.cpu.elementwise import fill

__all__ = ["empty", "zeros", "fill", "to_device", "to_host", "contiguous"]


def empty(shape, dtype):
    """An uninitialised C-contiguous array."""
    return np.empty(shape, dtype=dtype)


def zeros(shape, dtype):
    """An array of zeros."""
    return np.zeros(shape, dtype=dtype)


def to_device(host_array):
    """The host array on this target: C-contiguous, a copy only when it is not (0-d stays 0-d,
    unlike with ``np.ascontiguousarray``)."""
    return np.asarray(host_array, order="C")


def to_host(array):
    """The array itself: it already lives on the host."""
    return array


def contiguous(array):
    """A C-contiguous array (a copy only when needed)."""
    return np.ascontiguousarray(array)
