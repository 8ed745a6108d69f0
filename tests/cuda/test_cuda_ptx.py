"""Every ``@cuda.jit`` kernel compiles to sm_90 PTX for real, in float32 and float64.

The simulator runs kernels as Python, so it never types or lowers them; this compiles each one
with numba-cuda's NVVM (``numba.cuda.compile_ptx``), which needs no GPU, only the NVVM/NVRTC
wheels (``pip install "numba-cuda[cu13]"``). Signatures are those the launchers produce:
C-contiguous arrays, Python ints as int64, Python floats as float64.
"""
from __future__ import annotations

import importlib
import pkgutil

import pytest

from .conftest import SIMULATOR

pytestmark = [
    pytest.mark.no_cuda_needed,
    pytest.mark.skipif(SIMULATOR, reason="compile_ptx needs the real compiler: run without "
                                         "NUMBA_ENABLE_CUDASIM"),
]

CC = (9, 0)


def _nvvm_problem() -> str | None:
    """Why PTX cannot be compiled here, or None when it can."""
    try:
        from numba import cuda, float32
    except ImportError as exc:
        return f"numba-cuda is not installed: {exc}"

    def probe(x):
        x[0] = 1

    try:
        cuda.compile_ptx(probe, (float32[::1],), cc=CC)
    except Exception as exc:  # missing NVVM/NVRTC shows up as various errors
        return f"NVVM/NVRTC unusable ({type(exc).__name__}: {exc}); pip install 'numba-cuda[cu13]'"
    return None


if not SIMULATOR:
    _PROBLEM = _nvvm_problem()
    if _PROBLEM is not None:
        pytestmark.append(pytest.mark.skip(reason=_PROBLEM))


def _signatures():
    """(module, kernel name) → signature(F) for the float type F (float32 or float64)."""
    from numba import boolean, float64, int64, types

    def f1(t):
        return t[::1]

    def f2(t):
        return t[:, ::1]

    def f3(t):
        return t[:, :, ::1]

    def a3(t):  # any strides: a channel slice of a bidirectional layer's output
        return t[:, :, :]

    def f4(t):
        return t[:, :, :, ::1]

    i3 = int64[:, :, ::1]
    d1 = float64[::1]
    return {
        ("adam", "_adam_kernel"): lambda F: (f1(F),) * 4 + (types.UniTuple(F, 8),),
        ("arithmetic", "_sum_kernel"): lambda F: (f1(F), f1(F)),
        ("ccc", "_forward_kernel"): lambda F: (f1(F), f1(F), d1, f1(F)),
        ("ccc", "_swap_kernel"): lambda F: (d1, d1),
        ("ccc", "_backward_kernel"): lambda F: (f1(F), f1(F), d1, f1(F), f1(F)),
        # the tiled kernels end with tile_k (tiles.launch appends it)
        ("conv1d", "_forward_kernel"): lambda F: (f3(F), f3(F), f1(F), int64, int64, int64,
                                                  f3(F), int64),
        ("conv1d", "_backward_input_kernel"): lambda F: (f3(F), f3(F), int64, int64, int64,
                                                         f3(F), int64),
        ("conv1d", "_backward_weight_kernel"): lambda F: (f3(F), f3(F), int64, int64, int64,
                                                          int64, f4(F), int64),
        ("conv1d", "_sum_splits_kernel"): lambda F: (f4(F), f3(F)),
        ("conv1d", "_backward_bias_kernel"): lambda F: (f3(F), f1(F)),
        ("conv_transpose1d", "_add_bias_kernel"): lambda F: (f1(F), f3(F)),
        ("lstm", "_project_kernel"): lambda F: (f3(F), f2(F), f3(F)),
        ("lstm", "_step_kernel"): lambda F: (f2(F), f1(F), int64, int64, int64, boolean, F,
                                             f3(F), f3(F), f3(F)),
        ("lstm", "_output_kernel"): lambda F: (f3(F), a3(F)),
        ("lstm", "_step_backward_kernel"): lambda F: (f2(F),) + (int64,) * 5 + (boolean, F) + (
            f3(F), f3(F), a3(F), f3(F), f2(F)),
        ("lstm", "_grad_w_hh_kernel"): lambda F: (f3(F), f3(F), int64, f2(F)),
        ("lstm", "_grad_w_ih_kernel"): lambda F: (f3(F), f3(F), f2(F)),
        ("lstm", "_grad_b_kernel"): lambda F: (f3(F), f1(F)),
        ("lstm", "_grad_x_kernel"): lambda F: (f3(F), f2(F), f3(F)),
        ("max_pool1d", "_forward_kernel"): lambda F: (f3(F), int64, int64, f3(F), i3),
        ("max_pool1d", "_scatter_kernel"): lambda F: (f3(F), i3, f3(F)),
        ("moving_average1d", "_forward_kernel"): lambda F: (f3(F), int64, int64, f3(F)),
        ("moving_average1d", "_backward_kernel"): lambda F: (f3(F), int64, int64, f3(F)),
        ("pad1d", "_pad_kernel"): lambda F: (f3(F), int64, f3(F)),
    }


def _elementwise_signatures():
    """Factory-made element-wise kernel → signature(F), with the parameter tuples their
    launchers pass (``Elementwise`` in ``kernels/elementwise.py``)."""
    from numba import float64, int64, types

    def f1(t):
        return t[::1]

    none, two = types.Tuple(()), types.UniTuple(float64, 2)
    return {
        "map.relu": lambda F: (f1(F), f1(F), none),
        "map.tanh": lambda F: (f1(F), f1(F), none),
        "map.constant": lambda F: (f1(F), f1(F), types.UniTuple(float64, 1)),
        "zip.relu_grad": lambda F: (f1(F), int64, f1(F), int64, f1(F), none),
        "zip.tanh_grad": lambda F: (f1(F), int64, f1(F), int64, f1(F), none),
        "zip.axpby": lambda F: (f1(F), int64, f1(F), int64, f1(F), two),
        "zip.mul": lambda F: (f1(F), int64, f1(F), int64, f1(F), none),
        "zip.dropout": lambda F: (f1(F), int64, f1(F), int64, f1(F), two),
    }


def _kernels_in_package():
    """(module, name) of every global (non-device) ``@cuda.jit`` function in kernels.cuda."""
    import tinyemo.kernels.cuda as package
    from numba.cuda.dispatcher import CUDADispatcher
    found = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, obj in vars(module).items():
            if (isinstance(obj, CUDADispatcher) and obj.__module__ == module.__name__
                    and not obj.targetoptions.get("device")):
                found.add((info.name, name))
    return found


@pytest.fixture
def sm90_current_device(monkeypatch):
    """numba-cuda compiles a kernel's device functions (``cuda.jit(device=True)``) for the
    *current* device's compute capability (``CUDADispatcher.compile_device`` calls
    ``get_current_device()``), which raises without a GPU; report sm_90, the PTX target."""
    import numba.cuda.dispatcher as dispatcher

    class _Sm90:
        compute_capability = CC

    monkeypatch.setattr(dispatcher, "get_current_device", lambda: _Sm90())


def test_every_kernel_has_a_signature():
    """A new kernel without a PTX signature here fails, so none goes untested."""
    from tinyemo.kernels.cuda.elementwise import KERNELS
    assert _kernels_in_package() == set(_signatures())
    assert set(KERNELS) == set(_elementwise_signatures())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("module_name, kernel_name", sorted(_signatures()))
def test_kernel_compiles_to_ptx(module_name, kernel_name, dtype, sm90_current_device):
    import numba
    from numba import cuda

    module = importlib.import_module(f"tinyemo.kernels.cuda.{module_name}")
    kernel = getattr(module, kernel_name)
    signature = _signatures()[(module_name, kernel_name)](getattr(numba, dtype))
    ptx, return_type = cuda.compile_ptx(kernel.py_func, signature, cc=CC)
    assert ".target sm_90" in ptx
    assert ".entry" in ptx and kernel_name in ptx
    assert str(return_type) == "none"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(_elementwise_signatures()))
def test_elementwise_kernel_compiles_to_ptx(name, dtype, sm90_current_device):
    import numba
    from numba import cuda
    from tinyemo.kernels.cuda.elementwise import KERNELS
    signature = _elementwise_signatures()[name](getattr(numba, dtype))
    ptx, return_type = cuda.compile_ptx(KERNELS[name].py_func, signature, cc=CC)
    assert ".target sm_90" in ptx and ".entry" in ptx
    assert str(return_type) == "none"


def test_fill_compiles_for_int64_arrays(sm90_current_device):
    """``zeros`` serves int64 arrays too (max-pool's argmax has that dtype)."""
    from numba import cuda, float64, int64, types
    from tinyemo.kernels.cuda.elementwise import KERNELS
    ptx, _ = cuda.compile_ptx(KERNELS["map.constant"].py_func,
                              (int64[::1], int64[::1], types.UniTuple(float64, 1)), cc=CC)
    assert ".target sm_90" in ptx


@pytest.mark.parametrize("module_name, kernel_name", [("lstm", "_step_kernel"),
                                                      ("lstm", "_step_backward_kernel")])
def test_float32_lstm_steps_compile_without_float64_arithmetic(module_name, kernel_name,
                                                               sm90_current_device):
    """The cell formulas' float32 twins (``kernels/float32_twin.py``): a float32 step runs no
    float64 instruction (before them: ~190 in the forward step, each literal promoting its
    operand); the float64 step, the formulas as written, does."""
    import re

    import numba
    from numba import cuda

    kernel = getattr(importlib.import_module(f"tinyemo.kernels.cuda.{module_name}"), kernel_name)
    counts = {}
    for dtype in ("float32", "float64"):
        signature = _signatures()[(module_name, kernel_name)](getattr(numba, dtype))
        ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=CC)
        counts[dtype] = len(re.findall(r"\.f64\b", ptx))
    assert counts["float32"] == 0 and counts["float64"] > 0


def test_float32_tanh_gradient_compiles_without_float64_arithmetic(sm90_current_device):
    import re

    import numba
    from numba import cuda
    from tinyemo.kernels.cuda.elementwise import KERNELS
    signature = _elementwise_signatures()["zip.tanh_grad"](numba.float32)
    ptx, _ = cuda.compile_ptx(KERNELS["zip.tanh_grad"].py_func, signature, cc=CC)
    assert not re.findall(r"\.f64\b", ptx)
