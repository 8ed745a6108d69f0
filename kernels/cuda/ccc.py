"""Concordance correlation coefficient and its gradient on CUDA, the twin of
``kernels/cpu/ccc.py`` (same formula, same degenerate case, same ``stats`` layout).

CCC = 2·s_xy / (s_x² + s_y² + (μ_x − μ_y)²) with population moments, x the prediction and y the
target, both (T,) device arrays. ``stats`` (5,) float64 receives [μ_x, μ_y, s_x², s_y², s_xy];
``out`` (1,) the CCC. When the denominator is 0 the CCC is 1 with a zero gradient.

Forward: a single block; its threads stride over T and combine in float64 (means first, then
the centred moments: the same two passes as the CPU). Backward: one thread per element. The
value and the gradient are the formulas ``formulas.ccc_*``, shared with the CPU.
"""
from __future__ import annotations

from numba import cuda, float64

from tinyemo.kernels.cuda import formulas as F
from tinyemo.kernels.cuda.device_functions import block_sum
from tinyemo.kernels.cuda.launch import per_block, per_element

__all__ = ["ccc_forward", "ccc_backward", "ccc_swap_stats"]


@cuda.jit
def _forward_kernel(x, y, stats, out):
    # a single block
    buf = cuda.shared.array(0, float64)
    t = x.shape[0]
    sx = 0.0
    sy = 0.0
    for i in range(cuda.threadIdx.x, t, cuda.blockDim.x):
        sx += float(x[i])  # float(): float64 sums in the simulator too, as on the GPU
        sy += float(y[i])
    mx = block_sum(buf, sx) / t
    my = block_sum(buf, sy) / t
    vx = 0.0
    vy = 0.0
    cxy = 0.0
    for i in range(cuda.threadIdx.x, t, cuda.blockDim.x):
        sx, sy, sxy = F.ccc_centred_products(x[i], y[i], mx, my)
        vx += sx
        vy += sy
        cxy += sxy
    vx = block_sum(buf, vx) / t
    vy = block_sum(buf, vy) / t
    cxy = block_sum(buf, cxy) / t
    if cuda.threadIdx.x == 0:
        F.ccc_store(stats, out, mx, my, vx, vy, cxy)


@cuda.jit
def _swap_kernel(stats, swapped):
    i = cuda.grid(1)
    if i >= 5:
        return
    swapped[i] = stats[F.ccc_swap_source(i)]


@cuda.jit
def _backward_kernel(x, y, stats, g, gx):
    i = cuda.grid(1)
    t = x.shape[0]
    if i >= t:
        return
    mx, my = stats[0], stats[1]
    a, b = F.ccc_grad_coefficients(t, mx, my, stats[2], stats[3], stats[4], g[0])
    gx[i] = F.ccc_grad(x[i], y[i], mx, my, a, b)


def ccc_forward(x, y, stats, out):
    """out[0] ← CCC(x, y); stats ← the five moments backward needs."""
    per_block(_forward_kernel, 1, x, y, stats, out)


def ccc_swap_stats(stats, swapped):
    """swapped ← the moments with prediction and target exchanged (for ∂CCC/∂target)."""
    per_element(_swap_kernel, 5, stats, swapped)


def ccc_backward(x, y, stats, g, gx):
    """gx (T,) ← g[0] · ∂CCC/∂x, with g (1,) the upstream gradient of the scalar CCC."""
    per_element(_backward_kernel, x.shape[0], x, y, stats, g, gx)
