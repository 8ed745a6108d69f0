"""The seeds of one target as one network, so an ensemble predicts in one pass.

S conv nets of one architecture (the seeds of a target) become one net whose channels are the
S nets side by side: the first conv, which reads the shared input, becomes one conv with S·C_out
outputs (one wider GEMM, the input read once); every later conv and transposed conv becomes a
grouped one (``groups`` = S, PyTorch's meaning) whose group s holds seed s's weights; the
channel-wise layers (activations, pooling, padding, moving averages, dropout) are unchanged.
Output channel s of the stacked net is seed s's prediction, computed with the same operands,
so it equals the seed-by-seed output to float32 rounding.

Recurrent nets (the BLSTM) do not stack: :func:`stack_seeds` returns None for them and callers
run the seeds one by one.
"""
from __future__ import annotations

import copy

import numpy as np

from tinyemo.engine import backend, nn
from tinyemo.models.nets import Averaged, DownUp

__all__ = ["Stacked", "stack_seeds"]

# Layers that act on each channel alone (or hold other layers): they stack as they are.
_CHANNELWISE = (nn.Sequential, nn.MaxPool1d, nn.ReLU, nn.Tanh, nn.Pad1d, nn.MovingAverage1d,
                nn.Dropout, DownUp, Averaged)


class Stacked(nn.Module):
    """S seeds' nets as one: x (C, T) or (N, C, T) → (S, T) or (N, S, T), row s seed s's
    prediction (each seed's own output is (1, T))."""

    def __init__(self, net: nn.Module, seeds: int):
        self.net, self.seeds = net, seeds

    def forward(self, x):
        return self.net(x)


def _joined(params, axis: int) -> nn.Parameter:
    """The seeds' parameters concatenated along ``axis``, on the first one's device."""
    host = np.concatenate([p.numpy() for p in params], axis=axis)
    return nn.Parameter(backend.to_device(host, params[0].device))


def stack_seeds(models: list[nn.Module]) -> Stacked | None:
    """One :class:`Stacked` net for ``models`` (the same architecture, different weights), or
    None when a layer cannot be stacked (a recurrent one). The models are left unchanged."""
    first = models[0]
    if any(not isinstance(m, (nn.Conv1d, nn.ConvTranspose1d, *_CHANNELWISE))
           for m in first.modules()):
        return None
    # Copy the structure, not the weights: every parameter is replaced below.
    net = copy.deepcopy(first, memo={id(p): None for p in first.parameters()})
    shared = True   # the channels still hold the common input (before the first conv)
    for layer, *seeds in zip(net.modules(), *(m.modules() for m in models)):
        if not isinstance(layer, (nn.Conv1d, nn.ConvTranspose1d)):
            continue
        conv = isinstance(layer, nn.Conv1d)
        if shared and layer.groups != 1:
            return None
        # weight (C_out, C_in/g, K) for a conv, (C_in, C_out/g, K) for a transposed conv: the
        # seeds' groups follow each other along axis 0, except for a first layer that reads the
        # shared input through a transposed conv (its outputs, axis 1, are the seeds' own).
        axis = 1 if shared and not conv else 0
        layer.weight = _joined([s.weight for s in seeds], axis)
        layer.bias = None if seeds[0].bias is None else _joined([s.bias for s in seeds], 0)
        layer.groups = 1 if shared else layer.groups * len(models)
        shared = False
    return Stacked(net, len(models)).eval()
