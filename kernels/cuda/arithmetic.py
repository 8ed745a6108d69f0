"""``sum_all`` on CUDA, the twin of ``kernels/cpu/arithmetic.py``: one block whose threads
stride over the input and combine in float64 (the element-wise ``axpby`` and ``mul`` are in
``elementwise.py``)."""
from __future__ import annotations

from numba import cuda, float64

from tinyemo.kernels.cuda.device_functions import block_sum
from tinyemo.kernels.cuda.launch import flat, per_block

__all__ = ["sum_all"]


@cuda.jit
def _sum_kernel(a, out):
    # a single block
    buf = cuda.shared.array(0, float64)
    acc = 0.0
    for i in range(cuda.threadIdx.x, a.shape[0], cuda.blockDim.x):
        acc += float(a[i])  # float64 sums in the simulator too, as on the GPU
    total = block_sum(buf, acc)
    if cuda.threadIdx.x == 0:
        out[0] = total


def sum_all(a, out):
    """out[0] ← Σ a (accumulated in float64)."""
    per_block(_sum_kernel, 1, flat(a), flat(out))
