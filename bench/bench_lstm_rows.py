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
import os
import sys

import numpy as np
from numba import njit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lstm_ab import compare, library, recompiled  # noqa: E402


@njit(inline="always")
def _one_row_at_a_time(v, m, out, backwards):
    """The former product: out += v · m as one axpy per row, rows in one order every step."""
    for u in range(v.shape[0]):
        vu = v[u]
        row = m[u]
        for k in range(out.shape[0]):
            out[k] += vu * row[k]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    kernels = {"former": recompiled(_add_vector_matrix=_one_row_at_a_time), "new": library()}
    rng = np.random.default_rng(0)
    frames = 7500
    print(f"load average {os.getloadavg()[0]:.2f}\n")
    print("| kernel | one row at a time | four rows, alternating order | new / former |")
    print("|---|---:|---:|---:|")
    worst = 0.0
    for h, c in ((64, 160), (64, 128), (16, 160)):
        times, diff = compare(kernels, h, c, frames, rng, rounds=args.rounds, calls=10)
        worst = max(worst, diff)
        for name, t in times.items():
            old, new = t["former"] * 1e3, t["new"] * 1e3
            print(f"| LSTM {name}, H={h}, C={c}, {frames} steps | {old:.2f} ms | {new:.2f} ms "
                  f"| {new / old:.2f} |", flush=True)
    print(f"\nlargest relative difference, outputs and gradients: {worst:.1e}")


if __name__ == "__main__":
    main()
