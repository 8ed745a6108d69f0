"""dropout: forward and backward side by side. Element-wise (each value kept with probability
1 − p) or channel-wise (each channel of a (C, T) sequence kept or dropped for all its frames,
SpatialDropout1D / ``torch.nn.Dropout1d``); the kept values are scaled by 1 / (1 − p), so the
expected output is the input and evaluation needs no rescaling.

The op takes the uniform draws u ∈ [0, 1) (one per element of x; channel-wise: one per channel,
repeated over time) and keeps x where u ≥ p. Both passes are one kernel: the forward applies
it to x, the backward (dropout is linear in x) to the upstream gradient, with the same saved
draws. Kernel: ``dropout`` in ``kernels/elementwise.py`` (one formula, both targets); reference:
``kernels/reference.py:dropout``; tests: ``tests/engine/test_dropout.py``.
"""
from __future__ import annotations

import numpy as np

from tinyemo.engine import backend
from tinyemo.engine.autograd import Function
from tinyemo.engine.ops.checks import check_float_array, contiguous

__all__ = ["DropoutFn", "dropout_draws", "DROPOUT_MODES"]

DROPOUT_MODES = ("element", "channel")


def check_probability(p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p < 1:
        raise ValueError(f"dropout probability p must be in [0, 1), got {p!r}")
    return float(p)


def dropout_draws(shape: tuple, mode: str, rng: np.random.Generator, dtype, like):
    """Uniform draws in [0, 1) for a dropout mask over ``shape`` on ``like``'s target:
    one per element, or (``mode="channel"``) one per channel, repeated over the time axis."""
    if mode not in DROPOUT_MODES:
        raise ValueError(f"dropout mode must be one of {DROPOUT_MODES}, got {mode!r}")
    if mode == "channel":
        if len(shape) < 2:
            raise ValueError(f"channel dropout needs (C, T) or (N, C, T) input, got {shape}")
        per_channel = rng.random(tuple(shape[:-1]) + (1,))
        draws = np.repeat(per_channel, shape[-1], axis=-1)
    else:
        draws = rng.random(tuple(shape))
    return backend.to_device(np.ascontiguousarray(draws, dtype=dtype), backend.device_of(like))


class DropoutFn(Function):
    """y = x / (1 − p) where u ≥ p, else 0 (``draws`` u: x's shape, dtype and target)."""

    @staticmethod
    def forward(ctx, x, draws, p):
        check_float_array("input", x, (1, 2, 3))
        p = check_probability(p)
        if tuple(draws.shape) != tuple(x.shape) or draws.dtype != x.dtype:
            raise ValueError(f"dropout draws must match the input: shape {tuple(x.shape)} "
                             f"{x.dtype}, got {tuple(draws.shape)} {draws.dtype}")
        x, draws = contiguous(x), contiguous(draws)
        y = backend.empty(x.shape, x.dtype, x)
        backend.kernels(x).dropout(x, draws, p, y)
        ctx.save(draws, p)
        return y

    def backward(ctx, grad):
        draws, p = ctx.saved
        gx = backend.empty(draws.shape, draws.dtype, draws)
        backend.kernels(grad).dropout(contiguous(grad), draws, p, gx)
        return gx, None
