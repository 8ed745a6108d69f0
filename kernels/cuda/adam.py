"""One Adam step on CUDA, in place, the twin of ``kernels/cpu/adam.py``: the same formula
(``formulas.adam``) with the same hoisted constants (``formulas.adam_constants``, computed on the
host) cast to the arrays' dtype. All arrays share one shape and are C-contiguous device arrays;
``step`` counts from 1. One thread per element."""
from __future__ import annotations

from numba import cuda

from tinyemo.kernels.formulas import adam_constants
from tinyemo.kernels.cuda import formulas as F
from tinyemo.kernels.cuda.launch import flat, per_element

__all__ = ["adam_step"]


@cuda.jit
def _adam_kernel(p, g, m, v, c):
    i = cuda.grid(1)
    if i >= p.shape[0]:
        return
    p[i], m[i], v[i] = F.adam(p[i], g[i], m[i], v[i], *c)


def adam_step(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """param, m, v ← one Adam update from grad (none of them reallocated)."""
    c = tuple(param.dtype.type(k) for k in adam_constants(lr, beta1, beta2, eps, weight_decay,
                                                          step))
    per_element(_adam_kernel, param.size, flat(param), flat(grad), flat(m), flat(v), c)
