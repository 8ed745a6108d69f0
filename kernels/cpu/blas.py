"""BLAS GEMM callable from ``@njit`` code on strided 2-D views, with ``beta`` (accumulate).

``np.dot`` inside Numba needs contiguous operands and cannot accumulate; the conv kernels want
``C[:, a:b] += A @ X[:, c:d]`` on views of larger arrays. :func:`gemm` calls the Fortran
``sgemm``/``dgemm`` directly, with leading dimensions taken from the views' strides.

Which BLAS: NumPy's own OpenBLAS when its wheel bundles one (``numpy.libs/libscipy_openblas64_``;
on AVX-512 its ``sgemm`` runs ~30 % faster than the older OpenBLAS SciPy bundles), else the one
SciPy exports through ``scipy.linalg.cython_blas`` (which Numba's ``np.dot`` also uses).
:data:`BLAS_LIBRARY` names the one in use.

The function pointer is registered with LLVM under a fixed symbol name and declared as an
external function, so kernels calling :func:`gemm` still cache (``cache=True``): the address is
resolved when cached code is linked, never frozen into it. (Numba's cache does not track
dependencies across files: the symbol names are part of every cached caller, so keep them.)
Pointer arguments are declared as ``intp`` (same width and calling convention as a pointer on
64-bit ABIs). Integer arguments go in 8-byte slots: an ILP64 BLAS reads them whole, an LP64 one
reads the low 4 bytes, which hold the same value on a little-endian machine; so one compiled
kernel serves either library.
"""
from __future__ import annotations

import ctypes
import glob
import os
import sys
import threading
from contextlib import contextmanager

import llvmlite.binding as llvm
import numpy as np
from numba import njit, types
from numba.extending import get_cython_function_address

__all__ = ["gemm", "BLAS_LIBRARY", "can_set_threads", "single_threaded"]


def _numpy_openblas():
    """(path, {"sgemm": address, "dgemm": address}, the library) for NumPy's bundled ILP64
    OpenBLAS, or None."""
    if sys.byteorder != "little":
        return None
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "libscipy_openblas64_*.so*"))):
        try:
            lib = ctypes.CDLL(path)
            return path, {name: ctypes.cast(getattr(lib, f"scipy_{name}_64_"), ctypes.c_void_p).value
                          for name in ("sgemm", "dgemm")}, lib
        except (OSError, AttributeError):
            continue
    return None


def _register():
    found = _numpy_openblas()
    if found is None:
        found = ("scipy.linalg.cython_blas",
                 {name: get_cython_function_address("scipy.linalg.cython_blas", name)
                  for name in ("sgemm", "dgemm")}, None)
    for name, address in found[1].items():
        llvm.add_symbol(f"tinyemo_blas_{name}", address)
    return found[0], found[2]


BLAS_LIBRARY, _LIBRARY = _register()


def _thread_functions(lib):
    try:
        return lib.scipy_openblas_get_num_threads64_, lib.scipy_openblas_set_num_threads64_
    except AttributeError:       # pragma: no cover - an OpenBLAS without them
        return None


_THREADS = None if _LIBRARY is None else _thread_functions(_LIBRARY)


def can_set_threads() -> bool:
    """Whether :func:`single_threaded` can pin :func:`gemm`'s BLAS to one thread (NumPy's
    OpenBLAS: yes; SciPy's, reached through ``cython_blas``: no)."""
    return _THREADS is not None


_PINNED = {"depth": 0, "before": 1}
_PIN_LOCK = threading.Lock()


@contextmanager
def single_threaded():
    """:func:`gemm` runs on one thread, in its caller's, until the block ends (then the count
    before it again): for GEMMs that callers run side by side. Blocks may overlap (nested, or
    in several threads): the count comes back when the last one ends. Needs
    :func:`can_set_threads`."""
    get, set_ = _THREADS
    with _PIN_LOCK:
        if _PINNED["depth"] == 0:
            _PINNED["before"] = get()
            set_(1)
        _PINNED["depth"] += 1
    try:
        yield
    finally:
        with _PIN_LOCK:
            _PINNED["depth"] -= 1
            if _PINNED["depth"] == 0:
                set_(_PINNED["before"])

# Fortran calling convention: every argument by address (transa, transb, m, n, k, alpha, a,
# lda, b, ldb, beta, c, ldc).
_SIGNATURE = types.void(*([types.intp] * 13))
_sgemm = types.ExternalFunction("tinyemo_blas_sgemm", _SIGNATURE)
_dgemm = types.ExternalFunction("tinyemo_blas_dgemm", _SIGNATURE)

_N = ord("N")
_T = ord("T")


@njit(cache=True)
def _leading(view):
    """Row stride in elements of a 2-D view whose rows are contiguous (at least 1)."""
    if view.shape[1] > 1 and view.strides[1] != view.itemsize:
        raise ValueError("gemm needs views with contiguous rows")
    if view.shape[0] <= 1:
        return max(view.shape[1], 1)
    return max(view.strides[0] // view.itemsize, view.shape[1], 1)


@njit(cache=True)
def gemm(alpha, a, trans_a, b, trans_b, beta, c):
    """c ← alpha·op(a)·op(b) + beta·c on row-major 2-D views with contiguous rows.

    op(a) is ``a.T`` when ``trans_a`` (and likewise for b); c (M, N), op(a) (M, K), op(b) (K, N).
    Views may be slices of larger arrays (any row stride). All three must share a float dtype.
    Does nothing when M or N is 0; with K = 0 it scales c by beta.
    """
    m, n = c.shape
    k = a.shape[0] if trans_a else a.shape[1]
    if m == 0 or n == 0:
        return
    # Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: hand BLAS (b, a) with swapped sizes.
    chars = np.empty(2, np.uint8)
    chars[0] = _T if trans_b else _N
    chars[1] = _T if trans_a else _N
    ints = np.zeros(6, np.int64)
    ints[0] = n
    ints[1] = m
    ints[2] = k
    ints[3] = _leading(b)
    ints[4] = _leading(a)
    ints[5] = _leading(c)
    scalars = np.empty(2, c.dtype)
    scalars[0] = alpha
    scalars[1] = beta
    pc = chars.ctypes.data
    pi = ints.ctypes.data
    ps = scalars.ctypes.data
    if c.itemsize == 4:
        _sgemm(pc, pc + 1, pi, pi + 8, pi + 16, ps, b.ctypes.data, pi + 24, a.ctypes.data,
               pi + 32, ps + 4, c.ctypes.data, pi + 40)
    else:
        _dgemm(pc, pc + 1, pi, pi + 8, pi + 16, ps, b.ctypes.data, pi + 24, a.ctypes.data,
               pi + 32, ps + 8, c.ctypes.data, pi + 40)
    # A use after the call keeps the argument buffers alive until BLAS has returned.
    if ints[0] != n or chars.shape[0] != 2 or scalars.shape[0] != 2:
        raise ValueError("gemm: corrupted arguments")
