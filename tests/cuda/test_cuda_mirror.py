"""``kernels/cuda`` mirrors ``kernels/cpu``: every CPU kernel has a CUDA twin with the same
argument names in the same order (the ops call either with one argument list). Needs no GPU:
importing ``tinyemo.kernels.cuda`` only defines the kernels, compiling happens at launch."""
from __future__ import annotations

import inspect

import pytest

pytestmark = pytest.mark.no_cuda_needed


def _parameters(function) -> list[str]:
    function = getattr(function, "py_func", function)  # a Numba dispatcher's Python function
    return list(inspect.signature(function).parameters)


def test_every_cpu_kernel_has_a_cuda_twin_with_the_same_arguments():
    from tinyemo.kernels import cpu, cuda
    missing = sorted(set(cpu.__all__) - set(cuda.__all__))
    assert not missing, f"CPU kernels without a CUDA twin: {missing}"
    for name in cpu.__all__:
        assert _parameters(getattr(cuda, name)) == _parameters(getattr(cpu, name)), name


def test_cuda_target_provides_the_array_services_backend_needs():
    from tinyemo.kernels import cuda
    assert _parameters(cuda.empty) == ["shape", "dtype"]
    assert _parameters(cuda.zeros) == ["shape", "dtype"]
    assert _parameters(cuda.to_device) == ["host_array"]
