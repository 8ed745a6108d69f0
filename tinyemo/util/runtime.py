"""Process-wide settings that only entry points (the command line, benchmarks) may change:
never at import, since they affect everything else running in the process."""
from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["configure_process", "check_threads", "set_threads", "keep_freed_memory",
           "available_cores"]

_M_TRIM_THRESHOLD = -1   # glibc mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3


def configure_process(threads: int | None) -> None:
    """What every entry point sets before its work: glibc keeping freed memory, and
    ``threads`` for Numba and the BLAS/FFT pools (ValueError for a bad count)."""
    keep_freed_memory()
    set_threads(threads)


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def check_threads(n: int | None) -> None:
    """ValueError unless ``n`` is None or 1 … :func:`available_cores` (more threads than
    cores only slow a run down). Changes nothing: entry points call it before any work."""
    if n is None:
        return
    cores = available_cores()
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= cores:
        raise ValueError(f"thread count must be between 1 and {cores} (the cores available "
                         f"here), got {n}")


def set_threads(n: int | None) -> None:
    """Numba's parallel loops and every BLAS/OpenMP/FFT pool use ``n`` threads (None: leave)."""
    if n is None:
        return
    check_threads(n)
    import numba  # numba loads with the first kernel: import tinyemo stays light
    from threadpoolctl import threadpool_limits  # (as numba)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    threadpool_limits(n)


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed blocks instead of returning them to the OS.

    By default glibc serves blocks above 128 KiB–32 MiB with fresh ``mmap``s and gives them back
    on ``free``, so every activation and gradient of a training step (a few MB each) is
    page-faulted in anew: measured ~2,200 faults and ~20 % of a down/up-128 step. With a high
    mmap threshold the heap keeps them and the next step reuses them. Returns whether it applied
    (glibc on Linux only).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 256 << 20) and libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    except (OSError, AttributeError):
        return False
    return bool(ok)
