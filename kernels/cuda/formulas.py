"""The shared formulas (``kernels/formulas.py``) as CUDA device functions, under the same names,
for the CUDA kernels to call.

A formula that calls another formula names it as a global of ``kernels/formulas.py``, where it
is the plain Python function, which CUDA code cannot call. So each formula is compiled from a
copy of the function whose globals hold this target's versions: the same code, resolved on this
target. Each name is a CUDA overload (``numba.cuda.extending.overload``) that, as on the CPU,
runs the formula's float32 twin (``kernels/float32_twin.py``) when every argument is a float32
scalar and the formula as written otherwise: before, a float32 LSTM step compiled to ~190
float64 PTX instructions, each literal promoting its operand. Device code compiles when the
first kernel that calls it does. In the simulator (``NUMBA_ENABLE_CUDASIM=1``) the names run as
Python: the formula as written, which NumPy's float32 scalars keep in float32.
"""
from __future__ import annotations

import functools
import types

from numba.cuda.extending import overload

from tinyemo.kernels import formulas as _source
from tinyemo.kernels.float32_twin import all_float32, float32_twin
from tinyemo.kernels.formulas import __all__

_device_globals = dict(vars(_source))


def _copy(name):
    """The formula with this target's names as its globals (a function the simulator runs)."""
    plain = getattr(_source, name)
    return types.FunctionType(plain.__code__, _device_globals, name, plain.__defaults__,
                              plain.__closure__)


def _register(name):
    stub = _copy(name)                      # the name CUDA kernels call
    written = _copy(name)                   # what a call that is not all float32 compiles
    twin = functools.cache(lambda: float32_twin(getattr(_source, name), _device_globals))

    @overload(stub, target="cuda", strict=False)
    def _choose(*args):                     # at compile time, once every name is registered
        return twin() if all_float32(args) else written
    return stub


for _name in __all__:
    _device_globals[_name] = _register(_name)
globals().update({_name: _device_globals[_name] for _name in __all__})
