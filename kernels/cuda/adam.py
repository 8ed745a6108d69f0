"""One Adam step on CUDA, in place, the twin of ``kernels/cpu/adam.py``: classic L2 (weight
decay added to the gradient before the moments). All arrays share one shape and are
C-contiguous device arrays; ``step`` counts from 1. One thread per parameter element; the bias
corrections are computed once on the host."""
from __future__ import annotations

import math

from numba import cuda

from .launch import flat, per_element

__all__ = ["adam_step"]


@cuda.jit
def _adam_kernel(p, g, m, v, lr, beta1, beta2, eps, weight_decay, bias1, bias2):
    i = cuda.grid(1)
    if i >= p.shape[0]:
        return
    gi = g[i] + weight_decay * p[i]
    m[i] = beta1 * m[i] + (1.0 - beta1) * gi
    v[i] = beta2 * v[i] + (1.0 - beta2) * gi * gi
    p[i] -= lr * (m[i] / bias1) / (math.sqrt(v[i] / bias2) + eps)


def adam_step(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """param, m, v ← one Adam update from grad (none of them reallocated)."""
    bias1 = 1.0 - float(beta1) ** step
    bias2 = 1.0 - float(beta2) ** step
    per_element(_adam_kernel, param.size, flat(param), flat(grad), flat(m), flat(v),
                float(lr), float(beta1), float(beta2), float(eps), float(weight_decay),
                bias1, bias2)
