"""The shared formulas (``kernels/formulas.py``) as ``cuda.jit(device=True)`` functions, under
the same names, for the CUDA kernels to call.

A formula that calls another formula names it as a global of ``kernels/formulas.py``, where it
is the plain Python function, which CUDA code cannot call. So each formula is compiled from a
copy of the function whose globals hold the device versions: the same code, resolved on this
target. Device functions compile when the first kernel that calls them does.
"""
from __future__ import annotations

import types

from numba import cuda

from tinyemo.kernels import formulas as _source
from tinyemo.kernels.formulas import __all__

_device_globals = dict(vars(_source))
for _name in __all__:
    _plain = getattr(_source, _name)
    _device_globals[_name] = cuda.jit(device=True)(types.FunctionType(
        _plain.__code__, _device_globals, _name, _plain.__defaults__, _plain.__closure__))
globals().update({_name: _device_globals[_name] for _name in __all__})
