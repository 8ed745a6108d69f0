"""ONNX exporters of the engine's layers and of the conv models' wrappers, each registered
for its layer type (:mod:`tinyemo.export.registry`)."""
from __future__ import annotations

import numpy as np

from tinyemo.engine import nn
from tinyemo.engine.ops.conv1d import resolve_padding
from tinyemo.engine.ops.moving_average1d import window_sides
from tinyemo.export.graph import Graph
from tinyemo.export.registry import export_module, register
from tinyemo.models.nets import Averaged, DownUp
from tinyemo.models.stacked import Stacked

__all__: list[str] = []   # the exporters register themselves

INT64_MAX = np.iinfo(np.int64).max

def _array(p) -> np.ndarray:
    return np.ascontiguousarray(p.numpy(), dtype=np.float32)


def _time_len(g: Graph, x: str) -> str:
    """(1,) int64: the length of x's last axis."""
    return g.op("Shape", x, start=2, end=3)


@register(nn.Sequential)
def _sequential(g, layer, x):
    for child in layer:
        x = export_module(g, child, x)
    return x


@register(nn.Conv1d)
def _conv1d(g, layer, x):
    w = _array(layer.weight)
    k = w.shape[2]
    left, right = resolve_padding(layer.padding, k, layer.dilation, layer.stride)
    inputs = [x, g.const(w, hint="conv_w")]
    if layer.bias is not None:
        inputs.append(g.const(_array(layer.bias), hint="conv_b"))
    return g.op("Conv", *inputs, kernel_shape=[k], pads=[left, right],
                dilations=[layer.dilation], strides=[layer.stride], group=layer.groups)


@register(nn.ConvTranspose1d)
def _conv_transpose1d(g, layer, x):
    # tinyemo's y = T x is ONNX's ConvTranspose with no padding: length s·(n − 1) + K.
    w = _array(layer.weight)
    inputs = [x, g.const(w, hint="convt_w")]
    if layer.bias is not None:
        inputs.append(g.const(_array(layer.bias), hint="convt_b"))
    return g.op("ConvTranspose", *inputs, kernel_shape=[w.shape[2]], strides=[layer.stride],
                group=layer.groups)


@register(nn.MaxPool1d)
def _max_pool1d(g, layer, x):
    # ONNX Runtime's MaxPool skips NaN, so a NaN input would come out as numbers. x − x is 0,
    # or NaN where x is, and its average over the same windows adds that NaN back.
    pool = {"kernel_shape": [layer.kernel_size], "strides": [layer.stride or layer.kernel_size]}
    nan_of_window = g.op("AveragePool", g.op("Sub", x, x), **pool)
    return g.op("Add", g.op("MaxPool", x, **pool), nan_of_window)


@register(nn.Pad1d)
def _pad1d(g, layer, x):
    crop_left, crop_right = max(0, -layer.left), max(0, -layer.right)
    if crop_left or crop_right:
        end = -crop_right if crop_right else INT64_MAX
        x = g.op("Slice", x, g.i64(crop_left), g.i64(end), g.i64(2))
    pad_left, pad_right = max(0, layer.left), max(0, layer.right)
    if pad_left or pad_right:
        x = g.op("Pad", x, g.i64(0, 0, pad_left, 0, 0, pad_right))
    return x


@register(nn.ReLU)
def _relu(g, layer, x):
    return g.op("Relu", x)


@register(nn.Tanh)
def _tanh(g, layer, x):
    return g.op("Tanh", x)


@register(nn.Dropout)
def _dropout(g, layer, x):
    return x    # exported models predict: dropout is the identity in evaluation


@register(nn.MovingAverage1d)
def _moving_average1d(g, layer, x):
    # Each channel as its own sequence (C, 1, T), summed over the window by a Conv of ones
    # with zero padding, divided by how many frames each window holds (the window shrinks at
    # the edges: the mean over the frames present, as tinyemo's op).
    left, right = window_sides(layer.window)
    ones = g.const(np.ones((1, 1, layer.window), np.float32), hint="box")
    per_channel = g.op("Transpose", x, perm=[1, 0, 2])
    sums = g.op("Conv", per_channel, ones, kernel_shape=[layer.window], pads=[left, right])
    present = g.op("ConstantOfShape", g.op("Concat", g.i64(1, 1), _time_len(g, x), axis=0),
                   value=g.tensor(np.ones(1, np.float32)))
    counts = g.op("Conv", present, ones, kernel_shape=[layer.window], pads=[left, right])
    return g.op("Transpose", g.op("Div", sums, counts), perm=[1, 0, 2])


@register(Averaged)
def _averaged(g, layer, x):
    return export_module(g, layer.model, export_module(g, layer.average, x))


@register(DownUp)
def _downup(g, layer, x):
    # Zeros up to a multiple of pool**depth, the net, then the first T frames (as forward).
    t = _time_len(g, x)
    m = g.i64(layer.multiple)
    padded = g.op("Mul", g.op("Div", g.op("Add", t, g.i64(layer.multiple - 1)), m), m)
    pads = g.op("Concat", g.i64(0, 0, 0, 0, 0), g.op("Sub", padded, t), axis=0)
    y = export_module(g, layer.net, g.op("Pad", x, pads))
    return g.op("Slice", y, g.i64(0), t, g.i64(2))



@register(Stacked)
def _stacked(g, layer, x):
    # The seeds' predictions are the stacked net's channels (1, S, T): their mean, (1, 1, T).
    return g.op("ReduceMean", export_module(g, layer.net, x), g.i64(1), keepdims=1)
