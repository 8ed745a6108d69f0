"""A caching allocator's bookkeeping: size classes, free lists, reuse, release and statistics.

:class:`BlockPool` hands out blocks of device memory that a driver allocates (``alloc(nbytes)``
→ a pointer, ``free(pointer)``) and keeps freed blocks for the next request of the same size
class instead of giving them back, so a training loop that allocates the same activations every
step stops calling the driver after its first step. It knows nothing about CUDA (tests drive it
with fake pointers); ``tinyemo.engine.cuda_memory`` plugs it into numba-cuda.

- **Size classes** (:func:`size_class`): requests up to 1 MiB round up to a multiple of 512
  bytes; larger ones to one of four classes per doubling (waste under 25 %). Recordings of
  slightly different lengths (7500 or 7501 frames) then share blocks instead of each growing the
  cache.
- **Reuse**: a freed block waits in its class's free list (last in, first out) for the next
  request of that class. A block is reused in the order the work was queued, which is safe for
  work on one CUDA stream (tinyemo launches everything on the default stream): a kernel that
  still reads a freed block runs before any later kernel that writes its new owner.
- **Release**: :meth:`BlockPool.release_cached` gives every cached block back to the driver; an
  allocation that fails for lack of memory (``is_out_of_memory(exc)``) does that and tries once
  more; :meth:`BlockPool.clear` also forgets the blocks in use (the context is going away).
- **Returns never block**: :meth:`BlockPool.give_back` only appends to a queue, so a garbage
  collector that frees an array in the middle of another allocation cannot corrupt the lists;
  the queue is drained under a lock by the next call that reads or changes them.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Block", "BlockPool", "size_class", "SMALL_LIMIT", "GRANULE"]

GRANULE = 512          # bytes: the rounding of small requests (CUDA aligns allocations to 256)
SMALL_LIMIT = 1 << 20  # requests up to 1 MiB round to GRANULE; larger ones to quarter-octaves


def size_class(nbytes: int) -> int:
    """The block size serving a request of ``nbytes`` bytes (see the module docstring)."""
    if nbytes < 0:
        raise ValueError(f"cannot allocate a negative number of bytes ({nbytes})")
    if nbytes <= SMALL_LIMIT:
        return max(GRANULE, -(-nbytes // GRANULE) * GRANULE)
    step = 1 << (nbytes.bit_length() - 3)  # a quarter of the power of two below nbytes
    return -(-nbytes // step) * step


@dataclass(frozen=True)
class Block:
    """One driver allocation of ``nbytes`` (its size class) at ``pointer``."""
    pointer: Any
    nbytes: int


class BlockPool:
    """Blocks of driver memory, cached by size class (see the module docstring)."""

    def __init__(self, alloc: Callable[[int], Any], free: Callable[[Any], None], *,
                 is_out_of_memory: Callable[[BaseException], bool] = lambda exc: False):
        self._alloc = alloc
        self._free = free
        self._is_out_of_memory = is_out_of_memory
        self._lock = threading.Lock()
        self._cached: dict[int, list[Block]] = {}  # size class → free blocks
        self._returned: deque[Block] = deque()      # given back, not yet filed (give_back)
        self._counts = dict(requests=0, hits=0, driver_allocs=0, driver_frees=0,
                            oom_retries=0, in_use_blocks=0, in_use_bytes=0, cached_blocks=0,
                            cached_bytes=0, peak_reserved_bytes=0)

    # -- the allocator's two operations --------------------------------------------------------
    def take(self, nbytes: int) -> Block:
        """A block of at least ``nbytes`` bytes: a cached one of its class, else a new one."""
        cls = size_class(nbytes)
        with self._lock:
            self._file_returned()
            c = self._counts
            c["requests"] += 1
            free = self._cached.get(cls)
            if free:
                block = free.pop()
                c["hits"] += 1
                c["cached_blocks"] -= 1
                c["cached_bytes"] -= cls
            else:
                block = Block(self._driver_alloc(cls), cls)
            c["in_use_blocks"] += 1
            c["in_use_bytes"] += cls
            c["peak_reserved_bytes"] = max(c["peak_reserved_bytes"],
                                           c["in_use_bytes"] + c["cached_bytes"])
            return block

    def give_back(self, block: Block) -> None:
        """Return ``block`` for reuse. Safe from a finalizer at any moment: it only queues."""
        self._returned.append(block)

    # -- releasing memory to the driver ---------------------------------------------------------
    def release_cached(self) -> int:
        """Free every cached block with the driver; returns the bytes released."""
        with self._lock:
            self._file_returned()
            return self._release_cached()

    def clear(self) -> None:
        """Free the cached blocks and forget those in use (their context is being destroyed)."""
        with self._lock:
            self._file_returned()
            self._release_cached()
            self._counts["in_use_blocks"] = 0
            self._counts["in_use_bytes"] = 0

    def stats(self) -> dict:
        """Counts since creation: ``requests``, ``hits`` (served from the cache),
        ``driver_allocs`` / ``driver_frees`` (calls to the driver), ``oom_retries``; the current
        ``in_use_blocks``/``in_use_bytes``, ``cached_blocks``/``cached_bytes`` and
        ``reserved_bytes`` (both), and ``peak_reserved_bytes``."""
        with self._lock:
            self._file_returned()
            c = dict(self._counts)
        c["reserved_bytes"] = c["in_use_bytes"] + c["cached_bytes"]
        return c

    # -- internals (called with the lock held) ---------------------------------------------------
    def _file_returned(self) -> None:
        c = self._counts
        while True:
            try:
                block = self._returned.popleft()
            except IndexError:
                return
            self._cached.setdefault(block.nbytes, []).append(block)
            c["in_use_blocks"] -= 1
            c["in_use_bytes"] -= block.nbytes
            c["cached_blocks"] += 1
            c["cached_bytes"] += block.nbytes

    def _driver_alloc(self, nbytes: int):
        try:
            pointer = self._alloc(nbytes)
        except Exception as exc:
            if not self._is_out_of_memory(exc):
                raise
            self._counts["oom_retries"] += 1
            self._release_cached()
            pointer = self._alloc(nbytes)  # a second failure propagates
        self._counts["driver_allocs"] += 1
        return pointer

    def _release_cached(self) -> int:
        released = 0
        for blocks in self._cached.values():
            while blocks:
                block = blocks.pop()
                self._free(block.pointer)
                self._counts["driver_frees"] += 1
                self._counts["cached_blocks"] -= 1
                self._counts["cached_bytes"] -= block.nbytes
                released += block.nbytes
        return released
