"""How far a model looks: its receptive field in frames, and the left/right context and
frame grid that streaming, bounded-memory prediction and export need (:func:`context`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from tinyemo.engine import nn
from tinyemo.engine.ops.conv1d import resolve_padding
from tinyemo.engine.ops.moving_average1d import window_sides
from tinyemo.models.nets import BLSTM, Averaged, DownUp

__all__ = ["receptive_field", "Context", "context"]


def receptive_field(model: nn.Module) -> float:
    """Input frames that can influence one output frame (walking the layers in order);
    ``math.inf`` for the BLSTM, whose every output frame depends on the whole sequence."""
    if any(isinstance(m, BLSTM) for m in model.modules()):
        return math.inf
    rf, jump = 1.0, 1.0
    for layer in model.modules():
        if isinstance(layer, nn.Conv1d):
            rf += (layer.weight.shape[2] - 1) * layer.dilation * jump
        elif isinstance(layer, nn.MaxPool1d):
            rf += (layer.kernel_size - 1) * jump
            jump *= layer.stride or layer.kernel_size
        elif isinstance(layer, nn.ConvTranspose1d):
            rf += (math.ceil(layer.weight.shape[2] / layer.stride) - 1) * jump
            jump /= layer.stride
        elif isinstance(layer, nn.MovingAverage1d):
            rf += layer.window - 1
    return int(round(rf))


@dataclass(frozen=True)
class Context:
    """Which input frames an output frame can depend on: output ``t`` reads at most frames
    ``t - left … t + right``, and the net treats frames alike only ``grid`` frames apart (the
    down/up net's pooling grid: pool**depth; 1 for the others). A window of frames that starts
    on a multiple of ``grid`` gives every output whose frames lie inside it exactly as the whole
    sequence does. ``right`` is the latency of streaming prediction, in frames. A recurrent
    net's context is unbounded (``math.inf``)."""

    left: int
    right: int
    grid: int = 1


def _interval_back(layer: nn.Module, lo: int, hi: int) -> tuple[int, int, int]:
    """(lo', hi', s): the input frames ``layer`` reads for its output frames lo … hi, and its
    down-sampling factor s (1 for none, −s for an up-sampling layer). Unknown layers are an
    error naming them."""
    if isinstance(layer, nn.Conv1d):
        k, d = layer.weight.shape[2], layer.dilation
        left, _ = resolve_padding(layer.padding, k, d, layer.stride)
        return lo * layer.stride - left, hi * layer.stride - left + d * (k - 1), layer.stride
    if isinstance(layer, nn.MaxPool1d):
        s = layer.stride or layer.kernel_size
        return lo * s, hi * s + layer.kernel_size - 1, s
    if isinstance(layer, nn.ConvTranspose1d):
        k, s = layer.weight.shape[2], layer.stride
        # out[t] sums in[i] for s·i <= t <= s·i + k − 1 (at least in[t // s], conservatively)
        return min(math.ceil((lo - k + 1) / s), lo // s), hi // s, -s
    if isinstance(layer, nn.Pad1d):
        return lo - layer.left, hi - layer.left, 1
    if isinstance(layer, (nn.ReLU, nn.Tanh, nn.Dropout)):   # dropout: the identity in eval
        return lo, hi, 1
    if isinstance(layer, nn.MovingAverage1d):
        left, right = window_sides(layer.window)
        return lo - left, hi + right, 1
    if isinstance(layer, nn.LSTM):   # its state carries every earlier (and later) frame
        return -math.inf, math.inf if layer.bidirectional else hi, 1
    raise ValueError(f"context: no rule for layer {type(layer).__name__}")


def _stages(module: nn.Module) -> list[nn.Module] | None:
    """The modules a composite model applies in order; None for a single layer."""
    if isinstance(module, DownUp):
        return [module.net]
    if isinstance(module, nn.Sequential):
        return module.layers
    if isinstance(module, BLSTM):
        return [module.lstm, module.out]
    if isinstance(module, Averaged):
        return [module.average, module.model]
    return None


def _walk_back(module: nn.Module, lo: int, hi: int) -> tuple[int, int]:
    """The input frames ``module`` reads for its output frames lo … hi."""
    stages = _stages(module)
    if stages is None:
        lo, hi, _ = _interval_back(module, lo, hi)
        return lo, hi
    for stage in reversed(stages):
        lo, hi = _walk_back(stage, lo, hi)
    return lo, hi


def _grid(module: nn.Module) -> int:
    """The product of the down-sampling factors on the way through ``module``."""
    stages = _stages(module)
    if stages is None:
        return max(_interval_back(module, 0, 0)[2], 1)
    return math.prod(_grid(stage) for stage in stages)


def context(model: nn.Module) -> Context:
    """The model's left and right context and pooling grid (see :class:`Context`), from its
    layers: every phase of the pooling grid is walked back to the input."""
    grid = _grid(model)
    left = right = 0
    base = 1000 * grid   # any position far from the edges: context is periodic with the grid
    for t in range(base, base + grid):
        lo, hi = _walk_back(model, t, t)
        left, right = max(left, t - lo), max(right, hi - t)
    return Context(left, right, grid)
