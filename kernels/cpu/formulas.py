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

**float32 in, float32 arithmetic** (``kernels/float32_twin.py``): each overload runs the
formula's float32 twin when every argument is a float32 scalar, the formula as written
otherwise (LSTM outputs and gradients within 4.3e-7 relative of the float64-arithmetic path;
the LSTM step kernels 0.81-0.98x their time: ``bench/bench_float32_formulas.py``).

Numba's cache only tracks the kernel's own file. :func:`kernel` therefore puts a digest of
``kernels/formulas.py``, ``kernels/float32_twin.py`` and this file into the cached kernel's
name: editing a formula (or how they are built) recompiles every CPU kernel that calls one,
instead of silently running the old code.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import sys

from numba import njit
from numba.extending import overload

from tinyemo.kernels import float32_twin as _twin
from tinyemo.kernels import formulas as _source
from tinyemo.kernels.float32_twin import all_float32, float32_twin
from tinyemo.kernels.formulas import *  # noqa: F401,F403  (the same functions, now callable from @njit code)
from tinyemo.kernels.formulas import __all__ as _names

__all__ = list(_names) + ["kernel", "SOURCE_DIGEST"]

# Inlined in Numba's IR: LLVM alone does not inline formulas this large (a call left in the loop
# over the units stops it vectorising; the window scan, not inlined, made max-pool 2.4× slower),
# and Numba prunes the branch on the cell formulas' ``fast`` flag when a kernel passes a
# constant. (Formulas the map/zip factories call take ``*params``, which Numba cannot inline.)
_INLINED = ("lstm_cell", "lstm_cell_grad", "window_argmax", "window_takes")


def _register(formula, inline: str) -> None:
    twin = functools.cache(lambda: float32_twin(formula, vars(_source)))  # built when first typed

    @overload(formula, inline=inline, strict=False)
    def _choose(*args):
        return twin() if all_float32(args) else formula


for _name in _names:
    _register(getattr(_source, _name), "always" if _name in _INLINED else "never")

# The formulas and how they are built here (the inlining policy changes the compiled code too).
SOURCE_DIGEST = hashlib.sha256((inspect.getsource(_source) + inspect.getsource(_twin) +
                                inspect.getsource(sys.modules[__name__])).encode()).hexdigest()[:12]


def kernel(**options):
    """``@njit(cache=True, **options)`` for a CPU kernel that calls the formulas: its cache entry
    is named after the formulas' source digest (see the module docstring)."""
    def wrap(function):
        function.__qualname__ = f"{function.__qualname__}_{SOURCE_DIGEST}"
        return njit(cache=True, **options)(function)
    return wrap
