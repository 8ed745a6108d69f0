"""One Adam step on the CPU, in place, with classic L2 regularisation (weight decay added to
the gradient before the moments, as in ``torch.optim.Adam(weight_decay=…)``).

All arrays share one shape and are C-contiguous; ``step`` counts from 1.
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["adam_step"]


@njit(cache=True)
def adam_step(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """param, m, v ← one Adam update from grad (none of them reallocated)."""
    p = param.reshape(-1)
    g = grad.reshape(-1)
    mf = m.reshape(-1)
    vf = v.reshape(-1)
    bias1 = 1.0 - beta1 ** step
    bias2 = 1.0 - beta2 ** step
    for i in range(p.size):
        gi = g[i] + weight_decay * p[i]
        mf[i] = beta1 * mf[i] + (1.0 - beta1) * gi
        vf[i] = beta2 * vf[i] + (1.0 - beta2) * gi * gi
        p[i] -= lr * (mf[i] / bias1) / (np.sqrt(vf[i] / bias2) + eps)
