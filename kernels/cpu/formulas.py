"""The shared formulas (``kernels/formulas.py``) built for ``@njit`` code, and the decorator of
the CPU kernels that call them.

Each formula is registered as a Numba overload (``numba.extending.overload``, what
``register_jitable`` does for a plain function): callable from ``@njit`` code and compiled into
the kernel's module, where LLVM inlines it (these are a few arithmetic operations; the
element-wise loops vectorise as hand-written ones do, see ``bench/README.md``). Numba-level
inlining (``inline="always"``) is not used for most: it refuses calls with ``*args``, which is
how the map/zip kernels pass an op's scalar parameters. The function object itself stays the
plain function, which matters for caching: a kernel made by a factory closes over its formula,
Numba's cache key pickles a closure's cells, and a plain function pickles by name, the same in
every process (a Numba dispatcher pickles with a per-process id, so a kernel closing over one
would miss the cache on every run).

**float32 in, float32 arithmetic.** Numba types a Python literal as float64 (``1``, ``0.5``, a
float global), and a float32 value meeting one becomes float64: ``gy * (1 - y * y)`` on float32
runs in float64, and so did every float32 LSTM step (the rational tanh's nine coefficients, five
times per unit), at half the vector width and with double-precision divisions. So each formula
is registered as an overload (``numba.extending.overload``) with a float32 twin: the same source
with every numeric literal and float global it reads turned into a float32 constant
(:func:`_float32_twin`, an AST rewrite). A call whose arguments are all float32 (flags may be
booleans) runs the twin; any other (float64, ints, arrays, float64 parameters such as axpby's α,
β or the CCC's float64 means) runs the formula as written. The twin computes what the formula
computes, rounded to float32 at each step instead of once at the end (measured: LSTM outputs and
gradients within 4.3e-7 relative of the float64-arithmetic path; one step of the 2 × 64 BLSTM's
forward 25.8 → 19.0 ms over 7,500 frames, backward 41.3 → 35.5 ms, one thread).

Numba's cache only tracks the kernel's own file. :func:`kernel` therefore puts a digest of
``kernels/formulas.py`` and of this file into the cached kernel's name: editing a formula (or how
they are built) recompiles every CPU kernel that calls one, instead of silently running the old
code.
"""
from __future__ import annotations

import ast
import hashlib
import inspect
import sys
import textwrap

import numpy as np
from numba import njit, types
from numba.extending import overload

from tinyemo.kernels import formulas as _source
from tinyemo.kernels.formulas import *  # noqa: F401,F403  (the same functions, now callable from @njit code)
from tinyemo.kernels.formulas import __all__ as _names

__all__ = list(_names) + ["kernel", "SOURCE_DIGEST"]

# Inlined in Numba's IR: LLVM alone does not inline formulas this large (a call left in the loop
# over the units stops it vectorising; the window scan, not inlined, made max-pool 2.4× slower),
# and Numba prunes the branch on the cell formulas' ``fast`` flag when a kernel passes a
# constant. (Formulas the map/zip factories call take ``*params``, which Numba cannot inline.)
_INLINED = ("lstm_cell", "lstm_cell_grad", "window_argmax", "window_takes")


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


def _float32_twin(formula):
    """``formula`` compiled again from its source with its numeric literals and the float
    globals of its module as float32 constants (its other globals, such as the formulas it
    calls, as they are). Only for calls whose arguments are all float32: a literal used as an
    index or a count would be wrong as a float."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(formula)))
    rewrite = _Float32Literals()
    tree = ast.fix_missing_locations(rewrite.visit(tree))
    namespace = dict(vars(_source))
    namespace.update({name: np.float32(value) for name, value in vars(_source).items()
                      if type(value) is float})
    namespace.update(rewrite.constants)
    exec(compile(tree, inspect.getsourcefile(formula), "exec"), namespace)  # noqa: S102
    return namespace[formula.__name__]


def _all_float32(args) -> bool:
    """Whether a call's argument types are float32 scalars (and perhaps boolean flags)."""
    floats = [a for a in args if isinstance(a, types.Float)]
    return bool(floats) and all(a.bitwidth == 32 for a in floats) and all(
        isinstance(a, (types.Float, types.Boolean)) for a in args)


def _register(formula, inline: str) -> None:
    twin = _float32_twin(formula)

    @overload(formula, inline=inline, strict=False)
    def _choose(*args):
        return twin if _all_float32(args) else formula


for _name in _names:
    _register(getattr(_source, _name), "always" if _name in _INLINED else "never")

# The formulas and how they are built here (the inlining policy changes the compiled code too).
SOURCE_DIGEST = hashlib.sha256((inspect.getsource(_source) + inspect.getsource(
    sys.modules[__name__])).encode()).hexdigest()[:12]


def kernel(**options):
    """``@njit(cache=True, **options)`` for a CPU kernel that calls the formulas: its cache entry
    is named after the formulas' source digest (see the module docstring)."""
    def wrap(function):
        function.__qualname__ = f"{function.__qualname__}_{SOURCE_DIGEST}"
        return njit(cache=True, **options)(function)
    return wrap
