"""One Adam step on the CPU, in place, with classic L2 regularisation (weight decay added to
the gradient before the moments, as in ``torch.optim.Adam(weight_decay=…)``).

All arrays share one shape and are C-contiguous; ``step`` counts from 1.

The step-dependent constants are hoisted out of the loop (``lr / (1 − β1^t)`` and
``1 / sqrt(1 − β2^t)``: one division per element instead of three) and the arithmetic runs in
the arrays' dtype (float32 like PyTorch for float32 parameters), so the loop vectorises.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["adam_step"]


@njit(cache=True, error_model="numpy")  # no zero-division check: the loop vectorises
def _adam_loop(p, g, mf, vf, c):
    b1 = c[0]
    one_m_b1 = c[1]
    b2 = c[2]
    one_m_b2 = c[3]
    wd = c[4]
    step_size = c[5]
    inv_sqrt_bias2 = c[6]
    eps = c[7]
    for i in range(p.size):
        gi = g[i] + wd * p[i]
        mi = b1 * mf[i] + one_m_b1 * gi
        vi = b2 * vf[i] + one_m_b2 * gi * gi
        mf[i] = mi
        vf[i] = vi
        p[i] -= step_size * mi / (np.sqrt(vi) * inv_sqrt_bias2 + eps)


@njit(cache=True)
def adam_step(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """param, m, v ← one Adam update from grad (none of them reallocated)."""
    bias1 = 1.0 - beta1 ** step
    bias2 = 1.0 - beta2 ** step
    c = np.empty(8, dtype=param.dtype)  # the constants in the arrays' dtype
    c[0] = beta1
    c[1] = 1.0 - beta1
    c[2] = beta2
    c[3] = 1.0 - beta2
    c[4] = weight_decay
    c[5] = lr / bias1
    c[6] = 1.0 / math.sqrt(bias2)
    c[7] = eps
    _adam_loop(param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1), c)
