"""Element-wise kernels on CUDA: the map/zip factories of ``kernels/elementwise.py``.

Each factory returns a launcher over one ``@cuda.jit`` kernel per formula (the formula's device
function from ``formulas.py``): one thread per element of the flattened output, bounds check
first. Arrays are C-contiguous device arrays of any shape; ``params`` a tuple of scalars.
:data:`KERNELS` lists every kernel made, for the PTX compile tests.
"""
from __future__ import annotations

from numba import cuda

from tinyemo.kernels.elementwise import Elementwise
from tinyemo.kernels.cuda import formulas
from tinyemo.kernels.cuda.launch import flat, per_element

__all__ = ["map_kernel", "zip_kernel", "ops", "KERNELS"] + list(Elementwise.NAMES)

KERNELS: dict = {}  # "map.relu" / "zip.axpby" → the @cuda.jit kernel


def _step(array) -> int:
    """0 for a broadcast (size-1) operand, else 1."""
    return 0 if array.size == 1 else 1


def map_kernel(formula):
    """launch(x, out, params): out[i] ← formula(x[i], *params)."""
    device_formula = getattr(formulas, formula.__name__)

    @cuda.jit
    def map_(x, out, params):
        i = cuda.grid(1)
        if i >= out.shape[0]:
            return
        out[i] = device_formula(x[i], *params)

    KERNELS[f"map.{formula.__name__}"] = map_

    def launch(x, out, params):
        per_element(map_, out.size, flat(x), flat(out), params)
    return launch


def zip_kernel(formula):
    """launch(a, b, out, params): out[i] ← formula(a[i], b[i], *params); a size-1 operand
    broadcasts."""
    device_formula = getattr(formulas, formula.__name__)

    @cuda.jit
    def zip_(a, a_step, b, b_step, out, params):
        i = cuda.grid(1)
        if i >= out.shape[0]:
            return
        out[i] = device_formula(a[i * a_step], b[i * b_step], *params)

    KERNELS[f"zip.{formula.__name__}"] = zip_

    def launch(a, b, out, params):
        per_element(zip_, out.size, flat(a), _step(a), flat(b), _step(b), flat(out), params)
    return launch


ops = Elementwise(map_kernel, zip_kernel)
globals().update(ops.kernels())  # relu_forward … fill: the names in Elementwise.NAMES
