"""conv1d forward, stride 1: one GEMM per tap on views of x against the taps stacked on the
output side (one GEMM of K·C_out rows per block of frames, then a shifted sum;
``kernels/cpu/conv1d.py``, ``_forward_stacked``), interleaved, with the kernel's own choice
(``_stacked_outputs``) beside them. Inputs are cycled over 9 recordings as in a training epoch,
so x comes from memory, not from a cache warm from the previous call.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_conv_stacked.py
    python bench/bench_conv_stacked.py --threads 1 --rounds 3

The load average is printed with the figures: on a shared machine, compare within a run only.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_conv_short import taps_forward  # noqa: E402
from timing import threads, time_interleaved  # noqa: E402

from tinyemo.kernels.cpu import conv1d as K  # noqa: E402

# (C_in, C_out, K, dilation): the paper's input layers (160 stacked features in), the dilated
# net's and down/up net's hidden layers, and a few around the rule's edges.
SHAPES = [(160, 32, 3, 1), (160, 32, 2, 1), (160, 16, 3, 1), (160, 64, 2, 1), (160, 128, 3, 1),
          (128, 32, 3, 1), (64, 32, 2, 1), (64, 16, 3, 1), (32, 32, 3, 1), (32, 32, 2, 8),
          (128, 128, 3, 1)]
FRAMES, RECORDINGS = 7500, 9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print("| C_in → C_out, K, dilation | threads | taps µs | stacked µs | kernel µs (its route) "
          "| stacked / taps |")
    print("|---|---:|---:|---:|---:|---:|")
    for c_in, c_out, k, d in SHAPES:
        xs = [rng.standard_normal((1, c_in, FRAMES)).astype(np.float32)
              for _ in range(RECORDINGS)]
        w = (0.1 * rng.standard_normal((c_out, c_in, k))).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)
        left = d * (k - 1) // 2
        y_taps, y_stacked, y_kernel = (np.empty((1, c_out, FRAMES), np.float32) for _ in range(3))
        taps_forward(xs[0], w, b, d, left, y_taps)
        K._forward_stacked(xs[0], w, b, d, left, y_stacked)
        np.testing.assert_allclose(y_stacked, y_taps, rtol=1e-4, atol=1e-4)   # the same thing
        route = "stacked" if K._stacked_outputs(c_in, c_out, k, FRAMES) else "taps"
        cycle = {name: itertools.cycle(xs) for name in ("taps", "stacked", "kernel")}
        fns = {"taps": lambda: taps_forward(next(cycle["taps"]), w, b, d, left, y_taps),
               "stacked": lambda: K._forward_stacked(next(cycle["stacked"]), w, b, d, left,
                                                     y_stacked),
               "kernel": lambda: K.conv1d_forward(next(cycle["kernel"]), w, b, 1, d, left,
                                                  y_kernel)}
        for n in args.threads:
            with threads(n):
                r = time_interleaved(fns, rounds=args.rounds, calls=18)
            med = {name: v["median"] * 1e6 for name, v in r.items()}
            print(f"| {c_in} → {c_out}, K={k}, d={d} | {n} | {med['taps']:.0f} | "
                  f"{med['stacked']:.0f} | {med['kernel']:.0f} ({route}) | "
                  f"{med['stacked'] / med['taps']:.2f} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
