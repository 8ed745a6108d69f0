"""The memory pool as numba-cuda's memory manager (``tinyemo.engine.cuda_memory``).

Without a GPU: the plugin's numba side (owned pointers, views, finalizers, reset, the
out-of-memory retry, numba's interface check and both ways of installing it) runs on numba-cuda's
real classes with a fake driver. On a GPU: the pool serves the whole test session (see
``conftest.py``) and training steps after the first take every block from it. The simulator has
no memory managers, so none of this runs there.
"""
from __future__ import annotations

import gc
import os
import subprocess
import sys

import numpy as np
import pytest

from .conftest import CUDA_AVAILABLE, SIMULATOR

pytestmark = pytest.mark.skipif(SIMULATOR, reason="the CUDA simulator has no memory managers")
GPU = pytest.mark.skipif(SIMULATOR or not CUDA_AVAILABLE, reason="needs a CUDA GPU")


def _fake_manager(capacity=None):
    """A PooledMemoryManager whose driver hands out fake addresses (up to ``capacity`` bytes)."""
    from numba.cuda.cudadrv import driver

    from tinyemo.engine.cuda_memory import PooledMemoryManager

    log = {"allocs": [], "frees": [], "live": {}}

    class Fake(PooledMemoryManager):
        @staticmethod
        def _driver_alloc(nbytes):
            if capacity is not None and sum(log["live"].values()) + nbytes > capacity:
                raise driver.CudaAPIError(driver.binding.CUresult.CUDA_ERROR_OUT_OF_MEMORY,
                                          "out of memory")
            address = 0x10000 + sum(log["allocs"])
            log["allocs"].append(nbytes)
            log["live"][address] = nbytes
            return driver.binding.CUdeviceptr(address)

        @staticmethod
        def _driver_free(pointer):
            log["frees"].append(int(pointer))
            del log["live"][int(pointer)]

    class Context:  # what the plugin keeps a weak proxy of
        pass
    context = Context()
    return Fake(context=context), log, context


@pytest.mark.no_cuda_needed
def test_arrays_and_views_keep_their_block_until_the_last_is_gone():
    manager, log, _context = _fake_manager()
    first = manager.memalloc(1000)
    assert first.size == 1000 and int(first.device_pointer) == 0x10000
    view = first.view(200)  # what slicing a device array makes
    assert int(view.device_pointer) == 0x10000 + 200
    del first
    gc.collect()
    assert manager.pool.stats()["in_use_blocks"] == 1  # the view holds the block
    del view
    gc.collect()
    s = manager.pool.stats()
    assert (s["in_use_blocks"], s["cached_blocks"], s["cached_bytes"]) == (0, 1, 1024)
    again = manager.memalloc(700)  # same size class: the cached block, no driver call
    assert int(again.device_pointer) == 0x10000 and log["allocs"] == [1024]
    assert manager.pool.stats()["hits"] == 1


@pytest.mark.no_cuda_needed
def test_reset_frees_every_block_in_use_or_cached():
    manager, log, _context = _fake_manager()
    kept = manager.memalloc(100)
    dropped = manager.memalloc(5000)
    del dropped
    gc.collect()
    manager.reset()
    assert sorted(log["frees"]) == sorted([0x10000, 0x10000 + 512]) and not log["live"]
    assert manager.pool.stats()["reserved_bytes"] == 0
    del kept


@pytest.mark.no_cuda_needed
def test_out_of_memory_releases_the_cache_and_retries():
    manager, log, _context = _fake_manager(capacity=4096)
    a = manager.memalloc(3000)
    del a
    gc.collect()
    b = manager.memalloc(4000)  # 3072 cached + 4096 > capacity: release, then fits
    assert log["frees"] == [0x10000] and manager.pool.stats()["oom_retries"] == 1
    assert b.size == 4000


@pytest.mark.no_cuda_needed
def test_numba_accepts_the_plugin():
    """numba's interface check (``set_memory_manager`` instantiates it with no context)."""
    from tinyemo.engine.cuda_memory import PooledMemoryManager
    assert PooledMemoryManager(context=None).interface_version == 1


def _run(code: str, **env_changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_ENABLE_CUDASIM", "TINYEMO_CUDA_POOL", "NUMBA_CUDA_MEMORY_MANAGER")}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)


_INSTALL = ("from numba.cuda.cudadrv import driver\n"
            "from tinyemo.engine import cuda_memory\n"
            "print(cuda_memory.install())\n"
            "driver._ensure_memory_manager()  # what creating a context does first\n"
            "print(driver._memory_manager.__name__)\n")


@pytest.mark.no_cuda_needed
@pytest.mark.parametrize("env, expected", [
    ({}, "True\nPooledMemoryManager"),
    ({"TINYEMO_CUDA_POOL": "0"}, "False\nNumbaCUDAMemoryManager"),
    ({"NUMBA_CUDA_MEMORY_MANAGER": "tinyemo.engine.cuda_memory"}, "True\nPooledMemoryManager"),
])
def test_installing_the_pool(env, expected):
    result = _run(_INSTALL, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.no_cuda_needed
def test_a_bad_pool_setting_is_a_clear_error():
    result = _run("from tinyemo.engine import cuda_memory\ncuda_memory.install()",
                  TINYEMO_CUDA_POOL="maybe")
    assert result.returncode != 0
    assert "ValueError: TINYEMO_CUDA_POOL must be 1 or 0 (on or off), got 'maybe'" in result.stderr


@GPU
def test_the_pool_serves_device_arrays_on_a_gpu():
    from tinyemo.engine import backend, cuda_memory
    gpu = backend.cuda_module()
    before = cuda_memory.stats()
    assert before is not None, "the pool is not numba's memory manager in this session"
    a = gpu.zeros((1000,), np.float32)  # 4000 bytes: the 4096-byte class
    del a
    b = gpu.empty((950,), np.float32)  # 3800 bytes, the same class: served from the cache
    after = cuda_memory.stats()
    assert after["hits"] > before["hits"] and after["in_use_blocks"] >= 1
    del b


@GPU
@pytest.mark.parametrize("arch", ["dilated", "downup"])
def test_training_steps_after_the_first_take_every_block_from_the_pool(arch):
    import tinyemo.engine.functional as F
    from tinyemo import Tensor
    from tinyemo.engine import backend, cuda_memory
    from tinyemo.engine.optim import Adam
    from tinyemo.models.config import ModelConfig
    from tinyemo.models.nets import build_model

    backend.cuda_module()
    cfg = ModelConfig.for_arch(arch, "arousal", width=8, in_channels=16)
    model = build_model(cfg, seed=0).to("cuda")
    opt = Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((16, 500), dtype=np.float32)).to("cuda")
    y = Tensor(np.sin(np.arange(500, dtype=np.float32) / 50)).to("cuda")
    counts = []
    for _ in range(4):
        opt.zero_grad()
        F.ccc_loss(model(x), y).backward()
        opt.step()
        gc.collect()
        counts.append(cuda_memory.stats()["driver_allocs"])
    assert counts[1] == counts[2] == counts[3], counts
