"""The device memory pool's bookkeeping (``tinyemo.engine.memory_pool``), driven by a fake driver:
size classes, reuse, release, out-of-memory retry, statistics, and returns that arrive from a
garbage collector in the middle of another allocation. No GPU and no numba.cuda needed."""
from __future__ import annotations

import threading

import pytest

from tinyemo.engine.memory_pool import GRANULE, SMALL_LIMIT, Block, BlockPool, size_class


class FakeDriver:
    """Hands out increasing addresses; ``capacity`` bytes at most (then raises OutOfMemory)."""

    class OutOfMemory(Exception):
        pass

    def __init__(self, capacity=None):
        self.capacity = capacity
        self.live: dict[int, int] = {}
        self.next_address = 0x1000
        self.allocs: list[int] = []
        self.frees: list[int] = []

    def alloc(self, nbytes):
        if self.capacity is not None and sum(self.live.values()) + nbytes > self.capacity:
            raise self.OutOfMemory(nbytes)
        address = self.next_address
        self.next_address += nbytes
        self.live[address] = nbytes
        self.allocs.append(nbytes)
        return address

    def free(self, address):
        del self.live[address]
        self.frees.append(address)


def _pool(driver):
    return BlockPool(driver.alloc, driver.free,
                     is_out_of_memory=lambda exc: isinstance(exc, FakeDriver.OutOfMemory))


@pytest.mark.parametrize("nbytes, expected", [
    (0, GRANULE), (1, GRANULE), (GRANULE, GRANULE), (GRANULE + 1, 2 * GRANULE),
    (30_000, 30_208), (SMALL_LIMIT, SMALL_LIMIT),
    (SMALL_LIMIT + 1, SMALL_LIMIT + SMALL_LIMIT // 4),  # quarter-octaves above 1 MiB
    (4 << 20, 4 << 20), ((4 << 20) + 1, 5 << 20),
    (128 * 7500 * 4, 4 << 20), (128 * 7501 * 4, 4 << 20),  # 7500 and 7501 frames share
])
def test_size_classes(nbytes, expected):
    assert size_class(nbytes) == expected


def test_size_classes_cover_the_request_waste_under_a_quarter_and_are_monotonic():
    previous = 0
    for nbytes in list(range(0, 70_000, 97)) + [SMALL_LIMIT + k * 131_071 for k in range(200)]:
        cls = size_class(nbytes)
        assert cls >= nbytes and cls >= previous
        assert nbytes <= SMALL_LIMIT or cls - nbytes < nbytes / 4
        assert cls % GRANULE == 0
        previous = cls
    with pytest.raises(ValueError, match="negative"):
        size_class(-1)


def test_a_freed_block_serves_the_next_request_of_its_class():
    driver = FakeDriver()
    pool = _pool(driver)
    a = pool.take(1000)
    assert a == Block(0x1000, 1024) and driver.allocs == [1024]
    pool.give_back(a)
    b = pool.take(600)  # same class (1024): the cached block, no driver call
    assert b is a and driver.allocs == [1024]
    c = pool.take(2000)  # another class: a new block
    assert c.nbytes == 2048 and driver.allocs == [1024, 2048]
    s = pool.stats()
    assert (s["requests"], s["hits"], s["driver_allocs"], s["driver_frees"]) == (3, 1, 2, 0)
    assert (s["in_use_blocks"], s["in_use_bytes"], s["cached_bytes"]) == (2, 3072, 0)


def test_blocks_are_reused_last_in_first_out():
    pool = _pool(FakeDriver())
    a, b = pool.take(100), pool.take(100)
    pool.give_back(a)
    pool.give_back(b)
    assert pool.take(100) is b and pool.take(100) is a


def test_statistics_follow_takes_and_returns():
    pool = _pool(FakeDriver())
    blocks = [pool.take(n) for n in (100, 5000, 3 << 20)]
    s = pool.stats()
    assert s["in_use_bytes"] == 512 + 5120 + (3 << 20) and s["reserved_bytes"] == s["in_use_bytes"]
    for block in blocks[1:]:
        pool.give_back(block)
    s = pool.stats()
    assert (s["in_use_blocks"], s["in_use_bytes"]) == (1, 512)
    assert (s["cached_blocks"], s["cached_bytes"]) == (2, 5120 + (3 << 20))
    assert s["peak_reserved_bytes"] == 512 + 5120 + (3 << 20) == s["reserved_bytes"]


def test_release_cached_gives_every_cached_block_back_to_the_driver():
    driver = FakeDriver()
    pool = _pool(driver)
    kept, freed = pool.take(100), [pool.take(n) for n in (100, 2000, 2000)]
    for block in freed:
        pool.give_back(block)
    assert pool.release_cached() == 512 + 2048 + 2048
    assert sorted(driver.frees) == sorted(b.pointer for b in freed)
    assert list(driver.live) == [kept.pointer]
    s = pool.stats()
    assert (s["cached_blocks"], s["cached_bytes"], s["driver_frees"]) == (0, 0, 3)
    pool.take(2000)  # nothing cached any more: a driver allocation
    assert pool.stats()["driver_allocs"] == 5


def test_out_of_memory_releases_the_cache_and_retries_once():
    driver = FakeDriver(capacity=4096)
    pool = _pool(driver)
    a, b = pool.take(1024), pool.take(2048)
    pool.give_back(b)  # 2048 cached, 1024 in use: 3072 of 4096 reserved
    c = pool.take(3000)  # needs 3072: fails, the cache goes back, the retry fits
    assert c.nbytes == 3072 and driver.frees == [b.pointer]
    s = pool.stats()
    assert s["oom_retries"] == 1 and s["cached_bytes"] == 0
    with pytest.raises(FakeDriver.OutOfMemory):  # still too big after the release: raised
        pool.take(1024)
    assert a.pointer in driver.live


def test_other_driver_errors_propagate_without_releasing_the_cache():
    driver = FakeDriver()

    def broken(nbytes):
        raise RuntimeError("driver says no")
    pool = BlockPool(broken, driver.free, is_out_of_memory=lambda exc: False)
    with pytest.raises(RuntimeError, match="driver says no"):
        pool.take(10)
    assert pool.stats()["oom_retries"] == 0


def test_a_return_from_a_finalizer_in_the_middle_of_an_allocation_is_not_lost():
    """A garbage collector may free an array (and return its block) at any bytecode, also
    inside ``take``: here the driver call itself returns a block meanwhile."""
    driver = FakeDriver()
    pool = _pool(driver)
    early = pool.take(100)

    def alloc_with_a_collection(nbytes):
        pool.give_back(early)
        return driver.alloc(nbytes)
    pool._alloc = alloc_with_a_collection
    late = pool.take(5000)
    s = pool.stats()
    assert (s["in_use_blocks"], s["in_use_bytes"]) == (1, late.nbytes)
    assert (s["cached_blocks"], s["cached_bytes"]) == (1, 512)
    assert pool.take(100) is early


def test_clear_frees_the_cache_and_forgets_blocks_in_use():
    driver = FakeDriver()
    pool = _pool(driver)
    pool.take(100)
    pool.give_back(pool.take(200))
    pool.clear()
    s = pool.stats()
    assert (s["in_use_blocks"], s["cached_blocks"], s["reserved_bytes"]) == (0, 0, 0)
    assert len(driver.frees) == 1


def test_training_steps_after_the_first_make_no_driver_calls():
    """Each step allocates activations for a recording of 7499, 7500 or 7501 frames and frees
    them at its end: once each length has been seen, no step calls the driver, and the lengths
    share most blocks (only 32 × 7501 floats cross a 512-byte class boundary)."""
    driver = FakeDriver()
    pool = _pool(driver)
    allocs_after = []
    for step, frames in enumerate([7500, 7501, 7499, 7500, 7501, 7499]):
        blocks = [pool.take(c * frames * 4) for c in (160, 32, 32, 128, 128, 1) for _ in range(3)]
        for block in blocks:
            pool.give_back(block)
        allocs_after.append(pool.stats()["driver_allocs"])
    assert allocs_after == [18, 24, 24, 24, 24, 24]
    assert pool.stats()["hits"] == 6 * 18 - 24


def test_concurrent_takes_and_returns_keep_the_counts_consistent():
    driver = FakeDriver()
    pool = _pool(driver)

    def work():
        for n in range(300):
            pool.give_back(pool.take(100 + 37 * (n % 50)))
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = pool.stats()
    assert s["requests"] == 1200 and s["in_use_blocks"] == 0 and s["in_use_bytes"] == 0
    assert s["cached_bytes"] == sum(driver.live.values())
    assert s["hits"] + s["driver_allocs"] == 1200
