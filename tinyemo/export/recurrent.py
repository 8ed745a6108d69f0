"""ONNX exporters for the recurrent layers: ``nn.LSTM`` (PyTorch's layout and gate order) and
the ``blstm`` model.

ONNX's LSTM op takes the gates in the order i, o, f, c where PyTorch (and tinyemo) stores
i, f, g, o; its bias is the input and recurrent biases side by side; its activations default
to PyTorch's (sigmoid, tanh, tanh) and its initial states to zero, as tinyemo's.
"""
from __future__ import annotations

import numpy as np

from tinyemo.engine import nn
from tinyemo.export.registry import export_module, register
from tinyemo.models.nets import BLSTM

__all__ = ["onnx_gates"]


def onnx_gates(w: np.ndarray) -> np.ndarray:
    """PyTorch's (4H, …) gate blocks i, f, g, o → ONNX's i, o, f, c."""
    i, f, g, o = np.split(np.asarray(w, dtype=np.float32), 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


@register(nn.LSTM)
def _lstm(g, layer, x):
    """x (1, C, T) → (1, D·H, T), the reverse direction in the last H channels."""
    h = layer.hidden_size
    directions = ("", "_reverse") if layer.bidirectional else ("",)
    y = g.op("Transpose", x, perm=[2, 0, 1])                              # (T, 1, C)
    for k in range(layer.num_layers):
        w_ih, w_hh, b_ih, b_hh = zip(*(
            tuple(getattr(layer, f"{name}_l{k}{d}", None)
                  for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            for d in directions))
        w = np.stack([onnx_gates(p.numpy()) for p in w_ih])               # (D, 4H, C)
        r = np.stack([onnx_gates(p.numpy()) for p in w_hh])               # (D, 4H, H)
        if b_ih[0] is None:
            b = np.zeros((len(directions), 8 * h), np.float32)
        else:
            b = np.stack([np.concatenate([onnx_gates(bi.numpy()), onnx_gates(bh.numpy())])
                          for bi, bh in zip(b_ih, b_hh)])                  # (D, 8H)
        out = g.op("LSTM", y, g.const(w, hint="lstm_w"), g.const(r, hint="lstm_r"),
                   g.const(b.astype(np.float32), hint="lstm_b"), hidden_size=h,
                   direction="bidirectional" if layer.bidirectional else "forward")
        # Y (T, D, 1, H) → (T, 1, D·H): the directions side by side, forward first
        y = g.op("Reshape", g.op("Transpose", out, perm=[0, 2, 1, 3]), g.i64(0, 0, -1))
    return g.op("Transpose", y, perm=[1, 2, 0])                           # (1, D·H, T)


@register(BLSTM)
def _blstm(g, model, x):
    return export_module(g, model.out, export_module(g, model.lstm, x))
