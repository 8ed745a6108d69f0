"""Independent kernel calls side by side on the CPU's cores: the table service
``side_by_side(tasks, work)`` (the CUDA target runs them in turn, on its stream).

What it is for: work with no parallelism inside a call but several independent calls, such as
the two directions of a bidirectional LSTM layer, whose step-by-step recurrence is serial. With
at least two threads set (``tinyemo.util.runtime.set_threads``: Numba's count, which the entry
points set with BLAS's) and enough ``work`` per task, the tasks run in a small pool of Python
threads (the kernels release the GIL: ``nogil``) while :func:`gemm` is pinned to one thread
each (``blas.single_threaded``), so the cores are split between the calls instead of within
each GEMM. Otherwise, and where BLAS's thread count cannot be set, they run one after another.

The cost rule: a task is worth a thread when its work (multiply-adds, the caller's estimate)
is at least ``MIN_WORK``, 2^20: handing two empty tasks to the threads and back costs ~35 µs
here (median, loaded 2-core machine), and a million multiply-adds of these kernels take
~0.1-1 ms."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numba

from tinyemo.kernels.cpu.blas import can_set_threads, single_threaded

__all__ = ["side_by_side", "MIN_WORK"]

MIN_WORK = 1 << 20
_POOLS: dict[int, ThreadPoolExecutor] = {}     # by size: one per thread count ever set
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tinyemo")
        return _POOLS[workers]


def side_by_side(tasks, work: float) -> None:
    """Run every callable of ``tasks`` once (``work``: each one's multiply-adds), side by side
    when the threads set and the work allow (see the module's docstring), else in turn. An
    exception of a task is raised here, after every task has ended."""
    threads = min(len(tasks), numba.get_num_threads())
    if threads < 2 or work < MIN_WORK or not can_set_threads():
        for task in tasks:
            task()
        return
    pool = _pool(threads - 1)
    with single_threaded():
        futures = [pool.submit(task) for task in tasks[1:]]
        try:
            tasks[0]()
        finally:
            for future in futures:
                future.exception()       # wait for every one before leaving the block
        for future in futures:
            future.result()
