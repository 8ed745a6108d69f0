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
    from tinyemo.kernels.table import NAMES
    for table in (cpu, cuda):
        missing = sorted(name for name in NAMES if not callable(getattr(table, name, None)))
        assert not missing, f"{table.__name__} lacks {missing}"
    for name in NAMES:
        assert _parameters(getattr(cuda, name)) == _parameters(getattr(cpu, name)), name


@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_both_targets_provide_the_array_services_backend_needs(target):
    import importlib
    table = importlib.import_module(f"tinyemo.kernels.{target}")
    assert _parameters(table.empty) == ["shape", "dtype"]
    assert _parameters(table.zeros) == ["shape", "dtype"]
    assert _parameters(table.fill) == ["array", "value"]
    assert _parameters(table.to_device) == ["host_array"]
    assert _parameters(table.to_host) == ["array"]
    assert _parameters(table.contiguous) == ["array"]
    assert _parameters(table.conv1d_kernels) == ["c_in", "c_out", "kernel_size", "dilation",
                                                 "stride", "t_out"]
