"""Shared benchmark plumbing: thread control, robust timing, machine facts, atomic JSON.

Threads are set in one place for every pool a benchmark touches: Numba's ``prange`` pool
(``numba.set_num_threads``), every BLAS/OpenMP library loaded in the process (threadpoolctl:
SciPy's OpenBLAS, which Numba's ``np.dot`` and tinyemo's ``gemm`` call, and NumPy's), and
PyTorch's intra-op pool (``torch.set_num_threads``) when PyTorch is loaded.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager

__all__ = ["threads", "time_call", "time_interleaved", "machine_info", "write_json_atomic", "try_import_torch",
           "sgemm_peak"]


def try_import_torch():
    """PyTorch if importable (a peer for comparison only, never a tinyemo dependency)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


@contextmanager
def threads(n: int):
    """Run the body with ``n`` threads in Numba, every BLAS/OpenMP pool and PyTorch."""
    import numba
    import scipy.linalg  # noqa: F401  (load SciPy's BLAS so threadpoolctl sees and limits it)
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    old_numba = numba.get_num_threads()
    old_torch = torch.get_num_threads() if torch is not None else None
    numba.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        numba.set_num_threads(old_numba)
        if torch is not None:
            torch.set_num_threads(old_torch)


def time_call(fn, repeats: int = 15, min_seconds: float = 0.2, max_repeats: int = 200) -> dict:
    """Time ``fn()``: the first call apart (JIT compile or cache load), then the median of at
    least ``repeats`` calls and of as many as fit in ``min_seconds`` (up to ``max_repeats``).

    Returns seconds: ``first``, ``median``, ``min``, ``iqr`` (spread), and ``repeats``.
    """
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    fn()  # warm caches and thread pools
    samples = []
    budget_end = time.perf_counter() + min_seconds
    while len(samples) < repeats or (time.perf_counter() < budget_end and len(samples) < max_repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return _stats(first, samples)


def _stats(first, samples) -> dict:
    quart = statistics.quantiles(samples, n=4) if len(samples) >= 4 else [min(samples), 0, max(samples)]
    return {"first": first, "median": statistics.median(samples), "min": min(samples),
            "iqr": quart[2] - quart[0], "repeats": len(samples)}


def time_interleaved(fns: dict, rounds: int = 5, calls: int = 5, settle: float = 0.2,
                     round_budget: float = 0.3, warmup: float = 0.3) -> dict:
    """Time several functions fairly on a shared machine.

    Each is called once apart (the first call: compile or cache load), then repeatedly for
    ``warmup`` seconds (a thread pool that just changed size is slow for its first calls); then
    in each of
    ``rounds`` rounds every function in turn runs one untimed warm-up call and ``calls`` timed
    ones (fewer if they would take over ``round_budget`` seconds; no warm-up for those), after
    ``settle`` seconds of sleep (so the previous library's idle worker threads stop spinning).
    Load from other processes then hits every function alike. Returns {name: stats} as
    :func:`time_call`.
    """
    first, samples, n_calls = {}, {name: [] for name in fns}, {}
    for name, fn in fns.items():
        start = time.perf_counter()
        fn()
        first[name] = time.perf_counter() - start
        end = time.perf_counter() + warmup
        while time.perf_counter() < end:
            fn()
        start = time.perf_counter()
        fn()
        n_calls[name] = max(1, min(calls, int(round_budget / (time.perf_counter() - start))))
    for _ in range(rounds):
        for name, fn in fns.items():
            time.sleep(settle)
            if n_calls[name] > 1:
                fn()  # warm caches and thread pools
            for _ in range(n_calls[name]):
                start = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - start)
    return {name: _stats(first[name], samples[name]) for name in fns}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpu_flags() -> list[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    return sorted(f for f in flags if f.startswith(("avx", "fma")))
    except OSError:
        pass
    return []


def machine_info() -> dict:
    """CPU, cores, library versions, the BLAS kernels in use (threadpoolctl), BLAS env vars."""
    import numba
    import numpy
    import scipy
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_info

    torch = sys.modules.get("torch")
    return {
        "cpu": _cpu_model(), "cpu_flags": _cpu_flags(), "logical_cpus": os.cpu_count(),
        "platform": platform.platform(), "python": platform.python_version(),
        "numpy": numpy.__version__, "scipy": scipy.__version__, "numba": numba.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "torch_config": torch.__config__.parallel_info().splitlines()[:6] if torch else None,
        "blas": [{k: lib.get(k) for k in ("internal_api", "version", "architecture",
                                          "threading_layer", "filepath")}
                 for lib in threadpool_info() if lib.get("user_api") == "blas"],
        "env": {k: v for k, v in os.environ.items()
                if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "NUMBA_"))},
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def write_json_atomic(path: str, obj) -> None:
    """Write JSON to a temporary file in the same folder, then rename it over ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def sgemm_peak(repeats: int = 5) -> float:
    """The best float32 GEMM rate (GFLOP/s) NumPy's OpenBLAS reaches here, over a few sizes,
    with the threads set now: measured beside a timing, it says whether the cores were free
    (a second core taken by another process shows as one core's rate at 2 threads)."""
    import numpy as np

    rng = np.random.default_rng(0)
    best = 0.0
    for m, k, n in ((512, 512, 4096), (1024, 1024, 1024), (256, 768, 7500)):
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        a @ b
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            best = max(best, 2.0 * m * k * n / (time.perf_counter() - start) / 1e9)
    return best
