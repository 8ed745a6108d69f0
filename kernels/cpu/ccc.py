"""Concordance correlation coefficient and its gradient, on the CPU.

CCC = 2·s_xy / (s_x² + s_y² + (μ_x − μ_y)²) with population moments (divide by T), x the
prediction and y the target, both (T,). Moments accumulate in float64 whatever the input dtype.
``stats`` (5,) float64 receives [μ_x, μ_y, s_x², s_y², s_xy]; ``out`` (1,) receives the CCC.

Degenerate case: when the denominator is 0 (x and y constant and equal) the CCC is defined as 1
with a zero gradient. A constant prediction against a varying target is regular: CCC = 0 there
and the gradient is finite.
"""
from __future__ import annotations

from numba import njit

__all__ = ["ccc_forward", "ccc_backward", "ccc_swap_stats"]


@njit(cache=True)
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
        dx = x[i] - mx
        dy = y[i] - my
        vx += dx * dx
        vy += dy * dy
        cxy += dx * dy
    vx /= t
    vy /= t
    cxy /= t
    stats[0] = mx
    stats[1] = my
    stats[2] = vx
    stats[3] = vy
    stats[4] = cxy
    den = vx + vy + (mx - my) ** 2
    out[0] = 1.0 if den == 0.0 else 2.0 * cxy / den


@njit(cache=True)
def ccc_swap_stats(stats, swapped):
    """swapped ← the moments with prediction and target exchanged (for ∂CCC/∂target)."""
    swapped[0] = stats[1]
    swapped[1] = stats[0]
    swapped[2] = stats[3]
    swapped[3] = stats[2]
    swapped[4] = stats[4]


@njit(cache=True)
def ccc_backward(x, y, stats, g, gx):
    """gx (T,) ← g[0] · ∂CCC/∂x, with g (1,) the upstream gradient of the scalar CCC."""
    t = x.shape[0]
    mx, my, vx, vy, cxy = stats[0], stats[1], stats[2], stats[3], stats[4]
    den = vx + vy + (mx - my) ** 2
    if den == 0.0:
        gx[:] = 0
        return
    # ∂s_xy/∂x_i = (y_i − μ_y)/T;  ∂den/∂x_i = 2(x_i − μ_x)/T + 2(μ_x − μ_y)/T
    a = 2.0 * g[0] / (t * den)
    bcoef = 4.0 * g[0] * cxy / (t * den * den)
    for i in range(t):
        gx[i] = a * (y[i] - my) - bcoef * ((x[i] - mx) + (mx - my))
