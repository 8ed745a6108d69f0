"""Central differences for the gradient checks: every element, float64."""
from __future__ import annotations

import numpy as np


def numeric_grad(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂x by central differences, element by element; f maps x (float64) to a float."""
    x = np.array(x, dtype=np.float64, order="C")  # reshape(-1) below must be a view
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + h
        up = f(x)
        flat[i] = keep - h
        down = f(x)
        flat[i] = keep
        gflat[i] = (up - down) / (2 * h)
    return g


def ccc_loss_of(model, param, x, target):
    """f(v): the CCC loss of ``model`` on (x, target) with ``param``'s values replaced by v
    (restored after), without recording a graph: for ``numeric_grad(f, param.data)``."""
    import tinyemo
    from tinyemo.engine import functional as F

    def f(v):
        keep, param.data = param.data, v
        try:
            with tinyemo.no_grad():
                return F.ccc_loss(model(x), target).item()
        finally:
            param.data = keep
    return f


def assert_grad_close(analytic, numeric, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """Relative error ≤ rtol where values are not tiny; absolute ≤ atol elsewhere."""
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    assert analytic.shape == numeric.shape, (analytic.shape, numeric.shape)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    err = np.abs(analytic - numeric)
    bad = err > np.maximum(rtol * scale, atol)
    assert not bad.any(), (f"{bad.sum()} of {bad.size} gradient elements off; worst abs error "
                           f"{err.max():.3g} at {np.unravel_index(err.argmax(), err.shape)}")
