"""The float32 twin of a formula (``kernels/formulas.py``): its source compiled again with every
numeric literal, and every float global of the formulas module, as a float32 constant.

Why: Numba types a Python literal (``1``, ``0.5``) or a float global as float64, and a float32
value meeting one becomes float64, so ``gy * (1 - y * y)`` on float32 runs in float64, as did
every float32 LSTM step (the rational tanh's nine coefficients, five times per unit): half the
vector width on the CPU, double-precision units on the GPU. Each target's build registers the
formula as an overload that runs the twin when every argument is a float32 scalar (booleans
allowed: the cell formulas' ``fast`` flag) and the formula as written otherwise (float64, ints,
arrays, float64 parameters such as axpby's α and β or the CCC's float64 means). The twin
computes what the formula computes, rounded to float32 at each step instead of once at the end.
Only for float32 calls: a literal used as an index or a count would be wrong as a float.
"""
from __future__ import annotations

import ast
import inspect
import textwrap

import numpy as np
from numba.core import types

from tinyemo.kernels import formulas as _source

__all__ = ["float32_twin", "all_float32"]


class _Float32Literals(ast.NodeTransformer):
    """Every int or float literal → a name bound to the same value as a float32 constant."""

    def __init__(self):
        self.constants: dict[str, np.float32] = {}

    def visit_Constant(self, node):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            return node
        name = f"_float32_{len(self.constants)}"
        self.constants[name] = np.float32(node.value)
        return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)


def float32_twin(formula, namespace: dict):
    """``formula`` compiled from its source with ``namespace`` as its globals (what the other
    formulas' names resolve to on the target), its literals and the formulas module's float
    globals as float32 constants."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(formula)))
    rewrite = _Float32Literals()
    tree = ast.fix_missing_locations(rewrite.visit(tree))
    scope = dict(namespace)
    scope.update({name: np.float32(value) for name, value in vars(_source).items()
                  if type(value) is float})
    scope.update(rewrite.constants)
    exec(compile(tree, inspect.getsourcefile(formula), "exec"), scope)  # noqa: S102
    return scope[formula.__name__]


def all_float32(args) -> bool:
    """Whether a call's argument types are float32 scalars (and perhaps boolean flags)."""
    floats = [a for a in args if isinstance(a, types.Float)]
    return bool(floats) and all(a.bitwidth == 32 for a in floats) and all(
        isinstance(a, (types.Float, types.Boolean)) for a in args)
