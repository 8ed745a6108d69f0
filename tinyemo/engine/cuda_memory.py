"""A memory pool for CUDA device arrays, as a numba-cuda External Memory Management plugin.

numba-cuda's own manager calls ``cuMemAlloc`` for every device array and queues a ``cuMemFree``
(flushed every few frees; each flush waits for the GPU) when it dies, so a training step, which
allocates every activation and gradient anew, pays a driver allocation per op and stalls on the
frees. :class:`PooledMemoryManager` serves device arrays from a :class:`~tinyemo.engine.memory_pool.BlockPool`
instead: after the first step every block comes from the cache (``tests/cuda/test_cuda_pool.py``
checks that on a GPU). numba-cuda ships no pooling manager; RMM's plugin would bring a large
dependency for the same job, and this one's bookkeeping is tested without a GPU.

On by default: ``tinyemo.engine.backend.cuda_module()`` (the first use of ``device="cuda"``) calls
:func:`install` before any CUDA context exists. ``TINYEMO_CUDA_POOL=0`` turns it off (numba's
manager then serves every array); ``NUMBA_CUDA_MEMORY_MANAGER=tinyemo.engine.cuda_memory`` installs it
in any numba-cuda program (numba's documented plugin switch; this module's
``_numba_memory_manager``). Not installed where a CUDA context was created before (numba keeps
the manager a context started with) or where ``NUMBA_CUDA_MEMORY_MANAGER`` names another plugin.
The CUDA simulator has no memory managers (its arrays are NumPy arrays): this module cannot be
imported there, and ``cuda_module()`` skips it.

Blocks are reused in stream order (see ``tinyemo.engine.memory_pool``): right for tinyemo, which runs
everything on the default stream. Code that runs kernels on other streams should synchronise
before it drops an array, or turn the pool off. Host (pinned, mapped) memory stays numba's
(``HostOnlyCUDAMemoryManager``). Importing this module imports ``numba.cuda``.
"""
from __future__ import annotations

import os
import weakref

from numba import config as numba_config
from numba.cuda.cudadrv import driver as _driver
from numba.cuda.cudadrv.driver import (
    AutoFreePointer,
    GetIpcHandleMixin,
    HostOnlyCUDAMemoryManager,
    MemoryInfo,
)

from tinyemo.engine.memory_pool import BlockPool

__all__ = ["PooledMemoryManager", "install", "enabled", "stats", "release_cached"]

ENV = "TINYEMO_CUDA_POOL"
_INTERFACE_VERSION = 1  # numba's EMM plugin interface


def _is_out_of_memory(exc: BaseException) -> bool:
    return (isinstance(exc, _driver.CudaAPIError)
            and exc.code == _driver.binding.CUresult.CUDA_ERROR_OUT_OF_MEMORY)


class PooledMemoryManager(GetIpcHandleMixin, HostOnlyCUDAMemoryManager):
    """numba-cuda EMM plugin: device memory from a :class:`BlockPool` (one per context)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool = BlockPool(self._driver_alloc, self._driver_free,
                              is_out_of_memory=_is_out_of_memory)

    @staticmethod
    def _driver_alloc(nbytes):
        return _driver.driver.cuMemAlloc(nbytes)

    @staticmethod
    def _driver_free(pointer):
        _driver.driver.cuMemFree(pointer)

    def initialize(self):
        # as numba's manager: size the queue of pending host-memory frees from the device
        if self.deallocations.memory_capacity == _driver._SizeNotSet:
            self.deallocations.memory_capacity = self.get_memory_info().total

    def memalloc(self, size):
        """An owned pointer to ``size`` bytes; its block returns to the pool when the last array
        using it (or a view of it) is gone."""
        block = self.pool.take(size)
        key = int(block.pointer)
        allocations = self.allocations
        pool = self.pool

        def finalizer():
            allocations.pop(key, None)
            pool.give_back(block)

        # As numba's own manager does: the AutoFreePointer stays in self.allocations; every
        # array or view holds an owned pointer that counts a reference to it, and when the
        # count drops to zero it calls the finalizer.
        mem = AutoFreePointer(weakref.proxy(self.context), block.pointer, size,
                              finalizer=finalizer)
        allocations[key] = mem
        return mem.own()

    def get_memory_info(self):
        free, total = _driver.driver.cuMemGetInfo()
        return MemoryInfo(free=free, total=total)

    def reset(self):
        super().reset()  # drops the live pointers: their blocks come back to the pool
        self.pool.clear()

    @property
    def interface_version(self):
        return _INTERFACE_VERSION


_numba_memory_manager = PooledMemoryManager  # for NUMBA_CUDA_MEMORY_MANAGER=tinyemo.engine.cuda_memory


def enabled() -> bool:
    """Whether ``TINYEMO_CUDA_POOL`` asks for the pool (unset: yes)."""
    value = os.environ.get(ENV, "1").strip().lower()
    if value in ("1", "on", "true", "yes", ""):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise ValueError(f"{ENV} must be 1 or 0 (on or off), got {os.environ[ENV]!r}")


def install() -> bool:
    """Make :class:`PooledMemoryManager` numba-cuda's memory manager for contexts created from
    now on; True when it is (or already was) the manager, False when it is off or cannot be
    (see the module docstring)."""
    if not enabled():
        return False
    chosen = getattr(_driver, "_memory_manager", None)  # set when a context was created
    if chosen is PooledMemoryManager or numba_config.CUDA_MEMORY_MANAGER == __name__:
        return True
    if numba_config.CUDA_MEMORY_MANAGER != "default" or chosen is not None:
        return False
    _driver.set_memory_manager(PooledMemoryManager)
    return True


def _current_manager():
    from numba import cuda  # CUDA: only when asked for
    manager = cuda.current_context().memory_manager
    return manager if isinstance(manager, PooledMemoryManager) else None


def stats() -> dict | None:
    """The current context's pool statistics (``BlockPool.stats``), or None without the pool."""
    manager = _current_manager()
    return manager.pool.stats() if manager is not None else None


def release_cached() -> int:
    """Give the current context's cached blocks back to the driver (e.g. before handing the GPU
    to another library); returns the bytes released (0 without the pool)."""
    manager = _current_manager()
    return manager.pool.release_cached() if manager is not None else 0
