"""One ONNX exporter per layer type, in a registry.

An exporter takes the graph, the layer and the name of its input (1, C, T) float32 and returns
the name of its output. ``export_module`` looks the layer's type up (then its base classes);
an unregistered type is a ValueError naming it, so a new layer cannot be exported silently
wrong. To support a new layer: ``@register(MyLayer) def _my_layer(g, layer, x): ...`` in a
module that :mod:`tinyemo.export` imports (``layers``, ``recurrent``).
"""
from __future__ import annotations

from typing import Callable

from tinyemo.engine import nn
from tinyemo.export.graph import Graph

__all__ = ["register", "export_module", "EXPORTERS"]

EXPORTERS: dict[type, Callable[[Graph, nn.Module, str], str]] = {}


def register(layer_type: type):
    def decorate(fn):
        EXPORTERS[layer_type] = fn
        return fn
    return decorate


def export_module(g: Graph, module: nn.Module, x: str) -> str:
    for cls in type(module).__mro__:
        if cls in EXPORTERS:
            return EXPORTERS[cls](g, module, x)
    raise ValueError(f"cannot export layer {type(module).__name__} to ONNX: no exporter "
                     "registered for it (tinyemo.export.registry.register)")


