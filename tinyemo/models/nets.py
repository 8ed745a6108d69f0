"""The paper's models, built from the engine's layers. Each maps features (160, T) to one
prediction per frame (1, T).

- ``single``: one conv filter of length L over the input → tanh → linear regression (Fig. 1).
- ``dilated``: ``depth`` conv layers of ``width`` channels, kernel ``kernel_size``, dilation
  ``dilation_base**n`` at layer n, non-causal 'same' padding, the hidden activation; then a 1×1
  conv.
- ``downup``: ``depth`` × (conv → activation → max-pool by ``pool``), one intermediate conv,
  ``depth`` × (transposed conv, stride ``pool`` → activation), then a 1×1 conv. Any input
  length: padded with zeros to a multiple of pool**depth inside, the output cropped back to T.
- ``blstm``: the paper's reference model: ``num_layers`` bidirectional LSTM layers of
  ``hidden_size`` units per direction (``nn.LSTM``), then a linear output layer per frame (a 1×1
  conv over the 2·hidden_size channels). Its receptive field is the whole sequence.

Settings beyond the paper's (its defaults unchanged): the conv nets' hidden ``activation``
(relu | tanh), ``init`` (he | xavier), ``dropout`` after every hidden activation (element- or
channel-wise), per-layer ``kernel_size`` lists, the transposed convs' ``up_kernel_size``
(≥ ``pool``), and ``input_average``: a fixed moving average of the input over that many seconds
ahead of any architecture (``tinyemo.engine.ops.moving_average1d``).
"""
from __future__ import annotations

import math

import numpy as np

from tinyemo.engine import functional as F
from tinyemo.engine import nn
from tinyemo.engine.ops.conv1d import resolve_padding
from tinyemo.models.config import ModelConfig

__all__ = ["DownUp", "Averaged", "BLSTM", "build_model"]


def _hidden(cfg: ModelConfig, rng: np.random.Generator) -> list[nn.Module]:
    """The activation after a hidden layer, and its dropout when there is one."""
    layers = [nn.activation(cfg.activation)]
    if cfg.dropout > 0:
        layers.append(nn.Dropout(cfg.dropout, cfg.dropout_mode, rng=rng))
    return layers


class DownUp(nn.Module):
    """The down-sampling/up-sampling net; see the module docstring."""

    def __init__(self, cfg: ModelConfig, rng: np.random.Generator, dtype, noise):
        w, p = cfg.width, cfg.pool
        kernels = cfg.kernel_sizes(cfg.depth + 1)
        layers: list[nn.Module] = []
        c_in = cfg.in_channels
        for level in range(cfg.depth):
            layers += [nn.Conv1d(c_in, w, kernels[level], padding="same", rng=rng, dtype=dtype,
                                 init=cfg.init), *_hidden(cfg, noise), nn.MaxPool1d(p)]
            c_in = w
        layers += [nn.Conv1d(w, w, kernels[cfg.depth], padding="same", rng=rng, dtype=dtype,
                             init=cfg.init), *_hidden(cfg, noise)]
        extra = cfg.up_kernel_size - p           # frames a wider up-filter adds per level
        for _ in range(cfg.depth):
            layers += [nn.ConvTranspose1d(w, w, cfg.up_kernel_size, stride=p, rng=rng,
                                          dtype=dtype, init=cfg.init)]
            if extra:
                layers += [nn.Pad1d(-(extra // 2), -(extra - extra // 2))]
            layers += _hidden(cfg, noise)
        layers += [nn.Conv1d(w, 1, 1, rng=rng, dtype=dtype, init="zeros")]
        self.net = nn.Sequential(*layers)
        self.multiple = p ** cfg.depth

    def forward(self, x):
        t = x.shape[-1]  # Tensor.shape is a tuple
        extra = math.ceil(t / self.multiple) * self.multiple - t
        if not extra:
            return self.net(x)
        # The zeros up to the grid are the first conv's own right padding (no padded copy of
        # the input: the same numbers); the output is cropped back to T.
        first, *rest = self.net.layers
        left, right = resolve_padding(first.padding, first.weight.shape[2], first.dilation,
                                      first.stride)
        h = F.conv1d(x, first.weight, first.bias, first.stride, (left, right + extra),
                     first.dilation, first.groups)
        for layer in rest:
            h = layer(h)
        return F.pad1d(h, 0, -extra)


class Averaged(nn.Module):
    """``model`` behind a fixed moving average of its input (``ModelConfig.input_average``);
    the average sees the recording itself, before any padding the model adds inside."""

    def __init__(self, window: int, model: nn.Module):
        self.average = nn.MovingAverage1d(window)
        self.model = model

    def forward(self, x):
        return self.model(self.average(x))


class BLSTM(nn.Module):
    """Bidirectional LSTM layers, then a linear output per frame; see the module docstring."""

    def __init__(self, cfg: ModelConfig, rng: np.random.Generator, dtype):
        self.lstm = nn.LSTM(cfg.in_channels, cfg.hidden_size, cfg.num_layers, bidirectional=True,
                            rng=rng, dtype=dtype)
        self.out = nn.Conv1d(2 * cfg.hidden_size, 1, 1, rng=rng, dtype=dtype, init="zeros")

    def forward(self, x):
        return self.out(self.lstm(x))


def build_model(cfg: ModelConfig, seed: int = 0, dtype=np.float32) -> nn.Module:
    """A freshly initialised model for ``cfg``; the weights are a function of ``seed``.
    Hidden layers start He- or Xavier-uniform (``cfg.init``; the LSTM as PyTorch's), the
    output regression at zero (see ``tinyemo.engine.nn``). Dropout draws from its own generator
    (seeded from ``seed`` too, so turning dropout on leaves the initial weights unchanged);
    training reseeds it per step. ``input_average`` puts the moving average ahead of any
    architecture."""
    rng = np.random.default_rng(seed)
    noise = np.random.default_rng([seed, 1])
    if cfg.arch == "blstm":
        model: nn.Module = BLSTM(cfg, rng, dtype)
    elif cfg.arch == "single":
        model = nn.Sequential(
            nn.Conv1d(cfg.in_channels, 1, cfg.filter_length, padding="same", rng=rng,
                      dtype=dtype, init=cfg.init),
            *_hidden(cfg, noise), nn.Conv1d(1, 1, 1, rng=rng, dtype=dtype, init="zeros"))
    elif cfg.arch == "dilated":
        layers: list[nn.Module] = []
        c_in = cfg.in_channels
        for n, k in enumerate(cfg.kernel_sizes(cfg.depth)):
            layers += [nn.Conv1d(c_in, cfg.width, k, padding="same",
                                 dilation=cfg.dilation_base ** n, rng=rng, dtype=dtype,
                                 init=cfg.init), *_hidden(cfg, noise)]
            c_in = cfg.width
        layers += [nn.Conv1d(cfg.width, 1, 1, rng=rng, dtype=dtype, init="zeros")]
        model = nn.Sequential(*layers)
    else:
        model = DownUp(cfg, rng, dtype, noise)
    return Averaged(cfg.average_frames, model) if cfg.average_frames else model
