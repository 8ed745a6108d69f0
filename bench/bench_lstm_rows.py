"""The LSTM step's recurrent product (``kernels/cpu/lstm.py``, ``_add_vector_matrix``): four rows
of the weight at a time, in reverse order on alternate steps, against one row at a time in one
order (the former product), in the library's own step kernels (one layer, one direction,
float32), interleaved in one process, one thread.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_lstm_rows.py

The former kernels are the library's kernel source compiled here with the former product
(spelt out below), so both sides run the same loops otherwise. Prints a Markdown table and the
largest relative difference of outputs and gradients (the sums' order differs).
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys

import numpy as np
from numba import njit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import threads, time_interleaved  # noqa: E402

from tinyemo.kernels.cpu import lstm as L  # noqa: E402


@njit(inline="always")
def _one_row_at_a_time(v, m, out, backwards):
    """The former product: out += v · m as one axpy per row, rows in one order every step."""
    for u in range(v.shape[0]):
        vu = v[u]
        row = m[u]
        for k in range(out.shape[0]):
            out[k] += vu * row[k]


def _former_kernels():
    scope = dict(vars(L))
    scope["_add_vector_matrix"] = _one_row_at_a_time
    code = inspect.getsource(L._forward_kernel) + "\n" + inspect.getsource(L._backward_kernel)
    exec(compile(code, L.__file__, "exec"), scope)  # noqa: S102
    return scope["_forward_kernel"](True), scope["_backward_kernel"](True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    former = _former_kernels()
    rng = np.random.default_rng(0)
    frames = 7500
    print(f"load average {os.getloadavg()[0]:.2f}\n")
    print("| kernel | one row at a time | four rows, alternating order | new / former |")
    print("|---|---:|---:|---:|")
    worst = 0.0
    for h, c in ((64, 160), (64, 128), (16, 160)):
        x = rng.standard_normal((1, c, frames)).astype(np.float32)
        w_ih = (0.1 * rng.standard_normal((4 * h, c))).astype(np.float32)
        w_hh = (0.1 * rng.standard_normal((4 * h, h))).astype(np.float32)
        b = np.zeros(4 * h, np.float32)
        gy = rng.standard_normal((1, h, frames)).astype(np.float32)
        state = {k: (np.empty((frames, 1, 4 * h), np.float32), np.empty((frames, 1, h), np.float32),
                     np.empty((frames, 1, h), np.float32), np.empty((1, h, frames), np.float32))
                 for k in ("former", "new")}
        grads = {k: (np.empty_like(x), np.empty_like(w_ih), np.empty_like(w_hh), np.empty_like(b))
                 for k in ("former", "new")}
        kernels = {"former": former, "new": (L._FORWARD[True], L._BACKWARD[True])}

        def forward(k):
            return lambda: kernels[k][0](x, w_ih, w_hh, b, False, *state[k])

        def backward(k):
            gates, cell, hidden, _ = state[k]
            return lambda: kernels[k][1](x, w_ih, w_hh, False, gates, cell, hidden, gy, *grads[k])

        for k in ("former", "new"):
            forward(k)()
            backward(k)()
        for a, b_ in zip(state["former"] + grads["former"], state["new"] + grads["new"]):
            worst = max(worst, float(np.abs(a - b_).max() / max(np.abs(a).max(), 1e-30)))
        with threads(1):
            for name, make in (("forward", forward), ("backward", backward)):
                r = time_interleaved({k: make(k) for k in ("former", "new")},
                                     rounds=args.rounds, calls=10)
                old, new = r["former"]["median"] * 1e3, r["new"]["median"] * 1e3
                print(f"| LSTM {name}, H={h}, C={c}, {frames} steps | {old:.2f} ms | {new:.2f} ms "
                      f"| {new / old:.2f} |", flush=True)
    print(f"\nlargest relative difference, outputs and gradients: {worst:.1e}")


if __name__ == "__main__":
    main()
