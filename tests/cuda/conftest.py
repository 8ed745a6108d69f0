"""The CUDA target's tests. Kernels run on a GPU when there is one, else in numba's CUDA
simulator (``NUMBA_ENABLE_CUDASIM=1``, where ``numba.cuda.is_available()`` is true).

Without either, every test here is skipped except those marked ``no_cuda_needed``: the PTX
compilation tests (NVVM compiles without a GPU) and the import-hygiene tests.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def _cuda_available() -> tuple[bool, str]:
    try:
        from numba import cuda
    except ImportError as exc:  # numba-cuda is an optional extra
        return False, f"numba-cuda is not installed ({exc}): pip install 'tinyemo[cuda]'"
    if not cuda.is_available():
        return False, "no usable CUDA GPU (set NUMBA_ENABLE_CUDASIM=1 to use the simulator)"
    return True, ""


CUDA_AVAILABLE, CUDA_MISSING = _cuda_available()

if CUDA_AVAILABLE and not SIMULATOR:
    # Before any test creates the CUDA context: the suite then runs on the memory pool, as
    # tinyemo does (backend.cuda_module() installs it; the kernel tests call the kernels directly).
    from tinyemo.engine import cuda_memory
    cuda_memory.install()


def pytest_configure(config):
    config.addinivalue_line("markers", "no_cuda_needed: runs without a GPU or the CUDA simulator")


def pytest_collection_modifyitems(config, items):
    if CUDA_AVAILABLE:
        return
    skip = pytest.mark.skip(reason=CUDA_MISSING)
    for item in items:
        if HERE in Path(item.path).parents and item.get_closest_marker("no_cuda_needed") is None:
            item.add_marker(skip)


@pytest.fixture
def device() -> str:
    """The device name the tests move models and tensors to."""
    if not CUDA_AVAILABLE:
        pytest.skip(CUDA_MISSING)
    return "cuda"


@pytest.fixture(scope="session", autouse=True)
def _fast_simulator_barriers():
    """The simulator runs one Python thread per CUDA thread; ``syncthreads`` barriers then wait
    on the GIL's switch interval (5 ms). A shorter interval makes block reductions ~5× faster."""
    if not SIMULATOR:
        yield
        return
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(previous)
