"""The ops as functions, with PyTorch's names and conventions, so any of them can be checked
against ``torch.nn.functional``. Inputs may be Tensors or arrays; results are Tensors.

Shapes are channels first: a sequence is (C, T), a batch (N, C, T).
"""
from __future__ import annotations

import numpy as np

from tinyemo.engine.autograd import Tensor
from tinyemo.engine.ops.activations import ReluFn, TanhFn
from tinyemo.engine.ops.ccc import CCCFn
from tinyemo.engine.ops.conv1d import Conv1dFn
from tinyemo.engine.ops.conv_transpose1d import ConvTranspose1dFn
from tinyemo.engine.ops.dropout import DropoutFn, dropout_draws
from tinyemo.engine.ops.lstm import LSTMFn
from tinyemo.engine.ops.max_pool1d import MaxPool1dFn
from tinyemo.engine.ops.moving_average1d import MovingAverage1dFn
from tinyemo.engine.ops.pad1d import Pad1dFn

__all__ = ["conv1d", "conv_transpose1d", "max_pool1d", "relu", "tanh", "ccc", "pad1d", "lstm",
           "ccc_loss", "mse_loss", "moving_average1d", "dropout"]


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """x (C_in, T) or (N, C_in, T), weight (C_out, C_in/groups, K), bias (C_out,) or None.
    ``padding``: an int, a (left, right) pair, or ``"same"`` (stride 1; the odd frame of an
    even kernel goes on the right, as in PyTorch). ``groups``: PyTorch's meaning."""
    return Conv1dFn.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation,
                          groups=groups)


def conv_transpose1d(x, weight, bias=None, stride=1, groups=1) -> Tensor:
    """The paper's y = T x: x (C_in, n_x) or (N, C_in, n_x), weight (C_in, C_out/groups, K);
    output length s·(n_x − 1) + K. ``groups``: PyTorch's meaning."""
    return ConvTranspose1dFn.apply(x, weight, bias, stride=stride, groups=groups)


def max_pool1d(x, kernel_size, stride=None) -> Tensor:
    """Max over windows of ``kernel_size`` every ``stride`` frames (default: kernel_size);
    trailing frames that do not fill a window are dropped, as PyTorch does."""
    return MaxPool1dFn.apply(x, kernel_size=kernel_size, stride=stride)


def lstm(x, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse_weights=None) -> Tensor:
    """One LSTM layer over x (C, T) or (N, C, T) with zero initial states: PyTorch's equations,
    gate order (i, f, g, o) and layout, weight_ih (4H, C), weight_hh (4H, H), biases (4H,) or
    None. ``reverse_weights`` = (weight_ih, weight_hh, bias_ih, bias_hh) of a second direction
    that reads the sequence backwards (a bidirectional layer). Output (D·H, T) or (N, D·H, T),
    the reverse direction in the last H channels."""
    weights = (weight_ih, weight_hh, bias_ih, bias_hh)
    if reverse_weights is not None:
        if len(reverse_weights) != 4:
            raise ValueError("reverse_weights must be (weight_ih, weight_hh, bias_ih, bias_hh), "
                             f"got {len(reverse_weights)} entries")
        weights += tuple(reverse_weights)
    return LSTMFn.apply(x, *weights)


def relu(x) -> Tensor:
    return ReluFn.apply(x)


def tanh(x) -> Tensor:
    return TanhFn.apply(x)


def pad1d(x, left: int, right: int) -> Tensor:
    """Zeros before/after the time axis; negative amounts crop instead."""
    return Pad1dFn.apply(x, left=left, right=right)


def moving_average1d(x, window: int) -> Tensor:
    """The mean over a centred window of ``window`` frames, same length; at the edges the mean
    is over the frames present (see ``tinyemo.engine.ops.moving_average1d``)."""
    return MovingAverage1dFn.apply(x, window=window)


def dropout(x, p: float, mode: str = "element", *, rng, training: bool = True) -> Tensor:
    """Zero each value (``mode="element"``) or each channel of a (C, T) / (N, C, T) sequence for
    all its frames (``"channel"``) with probability ``p``, scaling the rest by 1 / (1 − p);
    draws from the ``numpy.random.Generator`` ``rng``. The identity when not ``training`` or
    ``p == 0``. x (..., C, T)."""
    x = _tensor(x)
    if not training or p == 0:
        return x
    draws = dropout_draws(x.shape, mode, rng, x.dtype, x.data)
    return DropoutFn.apply(x, draws, p=p)


def ccc(prediction, target) -> Tensor:
    """Concordance correlation coefficient over all elements (population moments): a 0-d
    Tensor, differentiable in both arguments."""
    return CCCFn.apply(prediction, target)


def ccc_loss(prediction, target) -> Tensor:
    """1 − CCC: the paper's training loss."""
    return 1.0 - ccc(prediction, target)


def mse_loss(prediction, target) -> Tensor:
    """Mean squared error over all elements (the alternative loss), like :func:`ccc`: the
    shapes may differ ((1, T) against (T,)) as long as the element counts agree."""
    p, t = _tensor(prediction), _tensor(target)
    n_p, n_t = int(np.prod(p.shape)), int(np.prod(t.shape))
    if n_p != n_t:
        raise ValueError(f"mse_loss: prediction {tuple(p.shape)} and target {tuple(t.shape)} "
                         f"hold different numbers of elements")
    diff = p.reshape((n_p,)) - t.reshape((n_t,))
    return (diff * diff).mean()


def _tensor(value) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)
