"""Concordance correlation coefficient and its gradient, on the CPU.

CCC = 2·s_xy / (s_x² + s_y² + (μ_x − μ_y)²) with population moments (divide by T), x the
prediction and y the target, both (T,). Moments accumulate in float64 whatever the input dtype.
``stats`` (5,) float64 receives [μ_x, μ_y, s_x², s_y², s_xy]; ``out`` (1,) receives the CCC.
The value and the gradient are the formulas ``formulas.ccc_*``, shared with the CUDA twin.

Degenerate case: when the denominator is 0 (x and y constant and equal) the CCC is defined as 1
with a zero gradient. A constant prediction against a varying target is regular: CCC = 0 there
and the gradient is finite.
"""
from __future__ import annotations

from tinyemo.kernels.cpu import formulas as F

__all__ = ["ccc_forward", "ccc_backward", "ccc_swap_stats"]


@F.kernel()
def ccc_forward(x, y, stats, out):
    """out[0] ← CCC(x, y); stats ← the five moments backward needs."""
    t = x.shape[0]
    mx = 0.0
    my = 0.0
    for i in range(t):
        mx += x[i]
        my += y[i]
    mx /= t
    my /= t
    vx = 0.0
    vy = 0.0
    cxy = 0.0
    for i in range(t):
        sx, sy, sxy = F.ccc_centred_products(x[i], y[i], mx, my)
        vx += sx
        vy += sy
        cxy += sxy
    vx /= t
    vy /= t
    cxy /= t
    F.ccc_store(stats, out, mx, my, vx, vy, cxy)


@F.kernel()
def ccc_swap_stats(stats, swapped):
    """swapped ← the moments with prediction and target exchanged (for ∂CCC/∂target)."""
    for i in range(5):
        swapped[i] = stats[F.ccc_swap_source(i)]


@F.kernel()
def ccc_backward(x, y, stats, g, gx):
    """gx (T,) ← g[0] · ∂CCC/∂x, with g (1,) the upstream gradient of the scalar CCC."""
    t = x.shape[0]
    mx, my = stats[0], stats[1]
    a, b = F.ccc_grad_coefficients(t, mx, my, stats[2], stats[3], stats[4], g[0])
    for i in range(t):
        gx[i] = F.ccc_grad(x[i], y[i], mx, my, a, b)
