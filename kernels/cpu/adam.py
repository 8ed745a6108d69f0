"""One Adam step on the CPU, in place, with classic L2 regularisation (weight decay added to
the gradient before the moments, as in ``torch.optim.Adam(weight_decay=…)``).

All arrays share one shape and are C-contiguous; ``step`` counts from 1. The update is the
formula ``formulas.adam`` (the CUDA twin calls the same one); the step's constants are hoisted
out of the loop (``formulas.adam_constants``) and cast to the arrays' dtype, so the arithmetic
runs in float32 like PyTorch's for float32 parameters and the loop vectorises.
"""
from __future__ import annotations

import numpy as np

from tinyemo.kernels.cpu import formulas as F

__all__ = ["adam_step"]


@F.kernel(error_model="numpy")  # no zero-division check: the loop vectorises
def _adam_loop(p, g, m, v, c):
    for i in range(p.size):
        p[i], m[i], v[i] = F.adam(p[i], g[i], m[i], v[i], *c)


@F.kernel()
def adam_step(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """param, m, v ← one Adam update from grad (none of them reallocated)."""
    k = F.adam_constants(lr, beta1, beta2, eps, weight_decay, step)
    c = np.empty(8, dtype=param.dtype)  # the constants in the arrays' dtype
    for j in range(8):
        c[j] = k[j]
    _adam_loop(param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1),
               (c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]))
