"""A/B timing of LSTM step kernels, shared by the benchmarks that compare a library kernel with
a variant of it (``bench_float32_formulas.py``, ``bench_lstm_rows.py``).

:func:`recompiled` compiles the library's own forward and backward kernel source
(``kernels/cpu/lstm.py``, float32 ``fast`` activations) with some of its module-level names
replaced, so a variant differs from the library's kernels in that one dependency only;
:func:`compare` runs two or more such kernel pairs on the same random layer, checks how far
their outputs and gradients differ and times them interleaved on one thread.
"""
from __future__ import annotations

import inspect
import sys
import types

import numpy as np
from numba import njit

from timing import threads, time_interleaved

from tinyemo.kernels.cpu import lstm as L


def library():
    """The library's float32 (forward, backward) LSTM kernels."""
    return L._FORWARD[True], L._BACKWARD[True]


def _uncached(formulas):
    """``formulas`` with a ``kernel`` decorator that never caches. The kernels' cache entries are
    named after their qualified name and first line, which every variant compiled here shares:
    cached, the second variant of a run (or any variant of a later run) would load the first
    one's machine code instead of compiling its own."""
    module = types.ModuleType(f"{formulas.__name__}_uncached")
    module.__dict__.update({k: v for k, v in vars(formulas).items() if not k.startswith("__")})
    module.kernel = lambda **options: (lambda f: njit(**{**options, "cache": False})(f))
    sys.modules[module.__name__] = module
    return module


def recompiled(**replace):
    """The library's float32 (forward, backward) kernels compiled, uncached, from their source
    with the module-level names in ``replace`` (e.g. ``F=`` the formulas,
    ``_add_vector_matrix=``) replaced."""
    scope = dict(vars(L))
    scope.update(replace)
    scope["F"] = _uncached(scope["F"])
    code = inspect.getsource(L._forward_kernel) + "\n" + inspect.getsource(L._backward_kernel)
    exec(compile(code, L.__file__, "exec"), scope)  # noqa: S102
    return scope["_forward_kernel"](True), scope["_backward_kernel"](True)


def compare(kernels: dict, h: int, c: int, frames: int, rng, rounds: int, calls: int):
    """Time every (forward, backward) pair of ``kernels`` ({name: pair}) on one layer of ``h``
    units over ``c`` input channels and ``frames`` steps, one thread, interleaved. Returns
    ({"forward"|"backward": {name: median seconds}}, the largest relative difference of any
    pair's outputs and gradients from the first pair's)."""
    x = rng.standard_normal((1, c, frames)).astype(np.float32)
    w_ih = (0.1 * rng.standard_normal((4 * h, c))).astype(np.float32)
    w_hh = (0.1 * rng.standard_normal((4 * h, h))).astype(np.float32)
    b = np.zeros(4 * h, np.float32)
    gy = rng.standard_normal((1, h, frames)).astype(np.float32)
    state = {k: (np.empty((frames, 1, 4 * h), np.float32), np.empty((frames, 1, h), np.float32),
                 np.empty((frames, 1, h), np.float32), np.empty((1, h, frames), np.float32))
             for k in kernels}
    grads = {k: (np.empty_like(x), np.empty_like(w_ih), np.empty_like(w_hh), np.empty_like(b))
             for k in kernels}

    def forward(k):
        return lambda: kernels[k][0](x, w_ih, w_hh, b, False, *state[k])

    def backward(k):
        return lambda: kernels[k][1](x, w_ih, w_hh, False, *state[k][:3], gy, *grads[k])

    for k in kernels:
        forward(k)()
        backward(k)()
    first, worst = next(iter(kernels)), 0.0
    for k in kernels:
        for a, b_ in zip(state[first] + grads[first], state[k] + grads[k]):
            worst = max(worst, float(np.abs(a - b_).max() / max(np.abs(a).max(), 1e-30)))
    times = {}
    with threads(1):
        for name, make in (("forward", forward), ("backward", backward)):
            r = time_interleaved({k: make(k) for k in kernels}, rounds=rounds, calls=calls)
            times[name] = {k: v["median"] for k, v in r.items()}
    return times, worst
