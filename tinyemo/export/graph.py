"""A small builder over ``onnx.helper``: nodes, constants and unique names for one graph."""
from __future__ import annotations

import numpy as np

__all__ = ["Graph"]


class Graph:
    """Collects the nodes and initialisers of an ONNX graph in the order they are added.

    ``op("Conv", x, w, kernel_shape=[3])`` adds a node and returns its output's name (a list
    of names with ``outputs=n``); ``const(array)`` adds an initialiser and returns its name.
    """

    def __init__(self):
        from onnx import helper, numpy_helper
        self._helper, self._numpy_helper = helper, numpy_helper
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value, dtype=None, hint: str = "const") -> str:
        if dtype is None and np.asarray(value).dtype == np.float64:
            raise TypeError("give float64 constants an explicit dtype (float32 is the default)")
        array = np.asarray(value, dtype=dtype)
        name = self.name(hint)
        self.initializers.append(self._numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def i64(self, *values: int) -> str:
        """A 1-D int64 constant (shapes, axes, indices)."""
        return self.const(np.array(values, dtype=np.int64), hint="i64")

    def scalar(self, value, dtype) -> str:
        return self.const(value, dtype=dtype, hint="scalar")

    def tensor(self, value) -> object:
        """A TensorProto for an attribute (ConstantOfShape's ``value``)."""
        return self._numpy_helper.from_array(np.asarray(value))

    def op(self, op_type: str, *inputs: str, outputs: int = 1, name: str | None = None,
           **attrs):
        outs = [name] if name and outputs == 1 else [self.name(op_type.lower())
                                                     for _ in range(outputs)]
        self.nodes.append(self._helper.make_node(op_type, list(inputs), outs,
                                                 name=self.name(f"n_{op_type}"), **attrs))
        return outs[0] if outputs == 1 else outs
