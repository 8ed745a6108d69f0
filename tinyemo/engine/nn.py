"""Layers: parameters, modules and a sequential container over the functional ops.

Parameters are float32 by default (``dtype=np.float64`` for gradient checks) and initialised
from a seeded ``numpy.random.Generator``, so a model is a pure function of its seed: weights
He-uniform, U(−√(6/fan_in), √(6/fan_in)), which keeps the signal's scale through a deep ReLU
stack (PyTorch's default, U(±1/√fan_in), shrinks it about 2.4× per layer: a 10-layer net then
starts with near-constant outputs and CCC training stalls); biases zero. A regression output
layer can start at zero (``init="zeros"``): the first predictions are then 0, not an O(1)
offset from labels that live in ±0.5, and its gradient (features × upstream) is still nonzero.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import numpy as np

from tinyemo.engine import backend
from tinyemo.engine import functional as F
from tinyemo.engine.autograd import Tensor

__all__ = ["Parameter", "Module", "Sequential", "Conv1d", "ConvTranspose1d", "MaxPool1d",
           "ReLU", "Tanh", "Pad1d", "MovingAverage1d", "Dropout", "LSTM", "activation", "INITS"]

INITS = ("he", "xavier")


class Parameter(Tensor):
    """A Tensor that requires grad and that ``Module.parameters()`` finds."""

    __slots__ = ()

    def __init__(self, data):
        super().__init__(data, requires_grad=True)


class Module:
    """Base class: parameters and child modules found by attribute, in definition order.

    A module is in training mode until ``eval()``; ``train()`` switches back. The mode matters
    only to stochastic layers (dropout), which are the identity in evaluation mode."""

    training = True  # the class default; train()/eval() set it on every module of a tree

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def modules(self) -> Iterator["Module"]:
        """This module and every module below it, in definition order."""
        yield self
        for value in vars(self).values():
            children = value if isinstance(value, (list, tuple)) else (value,)
            for child in children:
                if isinstance(child, Module):
                    yield from child.modules()

    def train(self, mode: bool = True) -> "Module":
        """Training mode (stochastic layers active) for this module and all below; returns self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: stochastic layers are the identity. Returns self."""
        return self.train(False)

    def reseed(self, rng: np.random.Generator) -> None:
        """Draw the random numbers of every stochastic layer below from ``rng`` (in forward
        order), so a training step's noise is a function of its seed."""
        for m in self.modules():
            if hasattr(m, "rng"):
                m.rng = rng

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
            elif isinstance(value, Module):
                yield from value.named_parameters(prefix + name + ".")
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield from item.named_parameters(f"{prefix}{name}.{i}.")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def num_parameters(self) -> int:
        return int(sum(np.prod(p.shape) for p in self.parameters()))

    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Host copies of every parameter, by dotted name."""
        return OrderedDict((n, p.numpy().copy()) for n, p in self.named_parameters())

    def load_state_dict(self, state: dict, source: str = "state") -> None:
        """Copy arrays into the parameters; names, shapes and dtypes must match exactly."""
        params = dict(self.named_parameters())
        if set(state) != set(params):
            missing, extra = sorted(set(params) - set(state)), sorted(set(state) - set(params))
            raise ValueError(f"{source}: parameters do not match this model "
                             f"(missing {missing}, unexpected {extra})")
        for name, p in params.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"{source}: {name} has shape {value.shape}, model expects {p.shape}")
            p.data = backend.to_device(value.astype(p.dtype, copy=True), p.device)

    def to(self, device: str) -> "Module":
        """Move every parameter to ``device`` in place; returns self."""
        for p in self.parameters():
            p.data = backend.to_device(p.data, device)
            p.grad = None
        return self


def _uniform(rng: np.random.Generator, shape, bound: float, dtype) -> Parameter:
    return Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype))


def _init_bound(init: str, fan_in: float, fan_out: float) -> float:
    """He: √(6/fan_in); Xavier/Glorot (TensorFlow's ``glorot_uniform``): √(6/(fan_in + fan_out))."""
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    return float(np.sqrt(6.0 / (fan_in if init == "he" else fan_in + fan_out)))


def _zeros(shape, dtype) -> Parameter:
    return Parameter(np.zeros(shape, dtype=dtype))


def _check_groups(groups, in_channels, out_channels) -> int:
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1 \
            or in_channels % groups or out_channels % groups:
        raise ValueError(f"groups must be an integer >= 1 dividing in_channels ({in_channels}) "
                         f"and out_channels ({out_channels}), got {groups!r}")
    return int(groups)


class Conv1d(Module):
    """weight (C_out, C_in/groups, K), bias (C_out,); padding an int, (left, right) or
    ``"same"``; ``groups`` as in PyTorch."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True, *, groups=1, rng: np.random.Generator, dtype=np.float32,
                 init: str = "he"):
        self.groups = _check_groups(groups, in_channels, out_channels)
        fan = in_channels // self.groups
        shape = (out_channels, fan, kernel_size)
        if init == "zeros":
            self.weight = _zeros(shape, dtype)
        else:   # fans as TensorFlow counts them: channels × kernel taps
            bound = _init_bound(init, fan * kernel_size, out_channels // self.groups * kernel_size)
            self.weight = _uniform(rng, shape, bound, dtype)
        self.bias = _zeros((out_channels,), dtype) if bias else None
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x):
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class ConvTranspose1d(Module):
    """The paper's y = T x. weight (C_in, C_out/groups, K), bias (C_out,); ``groups`` as in
    PyTorch."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, bias=True, *,
                 groups=1, rng: np.random.Generator, dtype=np.float32, init: str = "he"):
        self.groups = _check_groups(groups, in_channels, out_channels)
        c_in, c_out = in_channels // self.groups, out_channels // self.groups
        if init == "he":    # each output frame sums in_channels × ⌈K/stride⌉ inputs (of its group)
            bound = _init_bound("he", c_in * -(-kernel_size // stride), 0)
        else:   # TensorFlow's fans for conv2d_transpose: K·C_out and K·C_in, summed
            bound = _init_bound(init, kernel_size * c_out, kernel_size * c_in)
        self.weight = _uniform(rng, (in_channels, c_out, kernel_size), bound, dtype)
        self.bias = _zeros((out_channels,), dtype) if bias else None
        self.stride = stride

    def forward(self, x):
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.groups)


class LSTM(Module):
    """``torch.nn.LSTM`` for channels-first sequences: x (C, T) or (N, C, T) → (D·H, T) or
    (N, D·H, T), D = 2 when ``bidirectional`` (the reverse direction in the last H channels),
    zero initial states. Parameters carry PyTorch's names and shapes, in its order
    (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, then ``…_reverse``,
    then layer 1 …), so a PyTorch state dict loads as it is. Initialised as PyTorch does:
    every weight and bias U(−1/√H, 1/√H)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, bidirectional=False,
                 *, rng: np.random.Generator, dtype=np.float32):
        if min(input_size, hidden_size, num_layers) < 1:
            raise ValueError(f"LSTM sizes must be >= 1, got input_size={input_size}, "
                             f"hidden_size={hidden_size}, num_layers={num_layers}")
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.bias, self.bidirectional = bias, bidirectional
        bound = 1.0 / np.sqrt(hidden_size)
        directions = ("", "_reverse") if bidirectional else ("",)
        for layer in range(num_layers):
            c_in = input_size if layer == 0 else hidden_size * len(directions)
            for suffix in directions:
                shapes = [("weight_ih", (4 * hidden_size, c_in)),
                          ("weight_hh", (4 * hidden_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (4 * hidden_size,)), ("bias_hh", (4 * hidden_size,))]
                for name, shape in shapes:
                    setattr(self, f"{name}_l{layer}{suffix}",
                            Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype)))

    def _weights(self, layer: int, suffix: str):
        return tuple(getattr(self, f"{name}_l{layer}{suffix}", None)
                     for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def forward(self, x):
        for layer in range(self.num_layers):
            x = F.lstm(x, *self._weights(layer, ""),
                       reverse_weights=self._weights(layer, "_reverse") if self.bidirectional
                       else None)
        return x


class MaxPool1d(Module):
    def __init__(self, kernel_size, stride=None):
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x):
        return F.max_pool1d(x, self.kernel_size, self.stride)


class Pad1d(Module):
    """Zero-pad (negative: crop) the time axis by ``left`` and ``right`` frames."""

    def __init__(self, left: int, right: int):
        self.left, self.right = left, right

    def forward(self, x):
        return F.pad1d(x, self.left, self.right)


class MovingAverage1d(Module):
    """A fixed (parameter-free) box filter over time: the mean over a centred window of
    ``window`` frames, same length, the mean over the frames present at the edges."""

    def __init__(self, window: int):
        self.window = window

    def forward(self, x):
        return F.moving_average1d(x, self.window)


class Dropout(Module):
    """Dropout with probability ``p`` in training mode, the identity in eval mode. ``mode``:
    ``"element"`` (each value) or ``"channel"`` (each channel of a recording, for all frames).
    Draws from ``rng``; ``Module.reseed`` replaces it (training does so at every step)."""

    def __init__(self, p: float, mode: str = "element", *, rng: np.random.Generator):
        self.p, self.mode, self.rng = p, mode, rng

    def forward(self, x):
        return F.dropout(x, self.p, self.mode, rng=self.rng, training=self.training)


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


ACTIVATIONS = {"relu": ReLU, "tanh": Tanh}


def activation(name: str) -> Module:
    """The activation layer called ``name`` (``relu`` or ``tanh``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()


class Sequential(Module):
    def __init__(self, *layers: Module):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __iter__(self):
        return iter(self.layers)

    def __len__(self):
        return len(self.layers)
