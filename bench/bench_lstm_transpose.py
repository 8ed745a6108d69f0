"""The LSTM backward's first pass (``kernels/cpu/lstm.py``): the upstream gradient gy (N, H, T),
channels first, copied time-major into gy_t (T, N, H) so each step reads one contiguous row.
The loop order the kernel uses (a step's H units written together, gy's rows read H at a time)
against the former one (gy's rows read in order, each write 4H bytes from the last), both spelt
out here as they are in the kernel, float32, one thread, interleaved.

    python bench/bench_lstm_transpose.py

Prints a Markdown table. The two orders write the same array (checked).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from numba import njit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import threads, time_interleaved  # noqa: E402


@njit(cache=True)
def _rows_of_gy(gy, gy_t):
    """The former order: along each of gy's rows."""
    n_seq, h, t_len = gy.shape
    for n in range(n_seq):
        for j in range(h):
            for t in range(t_len):
                gy_t[t, n, j] = gy[n, j, t]


@njit(cache=True)
def _rows_of_gy_t(gy, gy_t):
    """The kernel's order: one step (a row of gy_t) at a time."""
    n_seq, h, t_len = gy.shape
    for n in range(n_seq):
        for t in range(t_len):
            for j in range(h):
                gy_t[t, n, j] = gy[n, j, t]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--frames", type=int, default=7500)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"load average {os.getloadavg()[0]:.2f}\n")
    print("| H | steps | gy's rows in order (former) | a step at a time (now) | now / former |")
    print("|---:|---:|---:|---:|---:|")
    for h in (16, 64, 128):
        gy = rng.standard_normal((1, h, args.frames), dtype=np.float32)
        a, b = np.empty((args.frames, 1, h), np.float32), np.empty((args.frames, 1, h), np.float32)
        _rows_of_gy(gy, a)
        _rows_of_gy_t(gy, b)
        assert np.array_equal(a, b)
        with threads(1):
            t = time_interleaved({"former": lambda: _rows_of_gy(gy, a),
                                  "now": lambda: _rows_of_gy_t(gy, b)}, rounds=args.rounds,
                                 calls=20)
        old, new = t["former"]["median"] * 1e6, t["now"]["median"] * 1e6
        print(f"| {h} | {args.frames} | {old:.0f} µs | {new:.0f} µs | {new / old:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
