"""Which target holds an array, and the few array services the ops need on either target.

Host arrays are NumPy ``ndarray``; device arrays are numba-cuda device arrays. The kernel table
for an array is ``tinyemo.kernels.cpu`` or ``tinyemo.kernels.cuda`` (same names, same argument
order, array services included: every function below asks the array's table, none branches on
the device). ``numba.cuda`` is imported only when a device array or ``device="cuda"`` is seen, so
``import tinyemo`` never loads it.
"""
from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

__all__ = ["device_of", "is_device_array", "table", "kernels", "empty", "zeros", "to_numpy",
           "to_device", "cuda_module"]


def is_device_array(array) -> bool:
    """True for a numba-cuda device array. The CUDA simulator's ``FakeCUDAArray`` has no
    ``__cuda_array_interface__`` but, like the real ``DeviceNDArray``, ``__cuda_ndarray__``."""
    if isinstance(array, np.ndarray):
        return False
    return (bool(getattr(array, "__cuda_ndarray__", False))
            or hasattr(array, "__cuda_array_interface__"))


def device_of(array) -> str:
    """``"cpu"`` for a NumPy array, ``"cuda"`` for a numba-cuda device array."""
    if isinstance(array, np.ndarray):
        return "cpu"
    if is_device_array(array):
        return "cuda"
    raise TypeError(f"expected a NumPy array or a CUDA device array, got {type(array).__name__}")


def cuda_module() -> ModuleType:
    """``tinyemo.kernels.cuda``, imported on first use; a clear error when CUDA is unusable.
    The first call also installs the device memory pool (``tinyemo.engine.cuda_memory``)."""
    try:
        from numba import cuda  # CUDA: only when asked for (numba-cuda is an extra)
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("device='cuda' needs numba-cuda: pip install 'tinyemo[cuda]'") from exc
    if not cuda.is_available():
        raise RuntimeError("device='cuda' was asked for but no usable CUDA GPU was found "
                           "(set NUMBA_ENABLE_CUDASIM=1 to run the kernels in the simulator)")
    from numba import config  # CUDA's settings: only when CUDA is asked for
    if not config.ENABLE_CUDASIM:  # the simulator has no memory managers
        from tinyemo.engine import cuda_memory  # CUDA: only when asked for
        try:
            cuda_memory.install()  # device arrays from a memory pool (TINYEMO_CUDA_POOL=0: off)
        except ValueError as exc:  # a bad TINYEMO_CUDA_POOL: the same kind of error as above
            raise RuntimeError(str(exc)) from None
    return importlib.import_module("tinyemo.kernels.cuda")


_TABLES: dict[str, ModuleType] = {}   # each device's table once found (every op asks: ~10 µs)


def table(device: str) -> ModuleType:
    """The kernel table of ``device``: ``tinyemo.kernels.cpu`` or ``tinyemo.kernels.cuda``."""
    found = _TABLES.get(device)
    if found is not None:
        return found
    if device == "cpu":
        found = importlib.import_module("tinyemo.kernels.cpu")
    elif device == "cuda":
        found = cuda_module()
    else:
        raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")
    _TABLES[device] = found
    return found


def kernels(array) -> ModuleType:
    """The kernel table of the target that holds ``array``."""
    if isinstance(array, np.ndarray):
        return _TABLES.get("cpu") or table("cpu")
    return table(device_of(array))


def empty(shape, dtype, like):
    """An uninitialised array on the same target as ``like``."""
    return kernels(like).empty(shape, dtype)


def zeros(shape, dtype, like):
    """A zero array on the same target as ``like``."""
    return kernels(like).zeros(shape, dtype)


def to_numpy(array) -> np.ndarray:
    """A host copy (or the array itself, when it already is one)."""
    return kernels(array).to_host(array)


def to_device(array, device: str):
    """``array`` on ``device`` (``"cpu"`` or ``"cuda"``), copied only when it must move."""
    target = table(device)
    if device_of(array) == device:
        return array
    return target.to_device(to_numpy(array))
