"""float32 calls of the shared formulas in float32 arithmetic (``kernels/float32_twin.py``)
against the formulas as written, where Numba types every literal float64 and a float32 call
computes in float64: the LSTM step kernels (one layer, one direction) and the tanh gradient,
interleaved in one process, one thread.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_float32_formulas.py

The "as written" kernels are the library's kernel source compiled here against the formulas
registered without their twins (a stand-in module), so both sides run the same loops. Prints a
Markdown table and the largest relative difference of outputs and gradients.
"""
from __future__ import annotations

import os
import sys
import types

import numpy as np
from numba import njit
from numba.extending import register_jitable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lstm_ab import compare, library, recompiled  # noqa: E402
from timing import threads, time_interleaved  # noqa: E402

from tinyemo.kernels import formulas as source  # noqa: E402
from tinyemo.kernels.cpu import elementwise as E  # noqa: E402


def _as_written():
    """A module of the formulas registered as written (no float32 twin), for @njit code."""
    module = types.ModuleType("tinyemo_formulas_as_written")
    scope = dict(vars(source))
    inlined = ("lstm_cell", "lstm_cell_grad")
    for name in source.__all__:
        fn = types.FunctionType(getattr(source, name).__code__, scope, name)
        register_jitable(inline="always" if name in inlined else "never")(fn)
        scope[name] = fn
        setattr(module, name, fn)
    module.kernel = lambda **options: (lambda f: njit(**options)(f))
    sys.modules[module.__name__] = module
    return module


def main() -> None:
    written = _as_written()
    kernels = {"written": recompiled(F=written), "twin": library()}
    tanh_grad_w = E.zip_kernel(written.tanh_grad)
    rng = np.random.default_rng(0)
    frames = 7500
    print(f"load average {os.getloadavg()[0]:.2f}\n")
    print("| kernel | as written (float64 arithmetic) | float32 twin | twin / written |")
    print("|---|---:|---:|---:|")
    worst = 0.0
    for h, c in ((64, 160), (16, 160)):
        times, diff = compare(kernels, h, c, frames, rng, rounds=6, calls=3)
        worst = max(worst, diff)
        for name, t in times.items():
            ta, tb = t["written"] * 1e3, t["twin"] * 1e3
            print(f"| LSTM {name}, H={h}, C={c}, {frames} frames | {ta:.2f} ms | {tb:.2f} ms | "
                  f"{tb / ta:.2f} |", flush=True)
    y = np.tanh(rng.standard_normal((32, frames))).astype(np.float32)
    g = rng.standard_normal((32, frames)).astype(np.float32)
    out_w, out_t = np.empty_like(y), np.empty_like(y)
    with threads(1):
        t = time_interleaved({"w": lambda: tanh_grad_w(y, g, out_w, ()),
                              "t": lambda: E.tanh_backward(y, g, out_t)}, rounds=6, calls=5)
    worst = max(worst, float(np.abs(out_w - out_t).max() / np.abs(out_w).max()))
    ta, tb = t["w"]["median"] * 1e3, t["t"]["median"] * 1e3
    print(f"| tanh gradient, 32 × {frames} | {ta:.3f} ms | {tb:.3f} ms | {tb / ta:.2f} |")
    print(f"\nlargest relative difference, outputs and gradients: {worst:.1e}; "
          f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
