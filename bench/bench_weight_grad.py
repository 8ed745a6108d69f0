"""The stride-1 conv1d weight gradient three ways, interleaved, at the paper's layer shapes: the
shifted-gy stack built and multiplied in blocks of frames (``kernels/cpu/conv1d.py``,
``_weight_grad_stacked``, ``_WEIGHT_BLOCK``), the whole sequence's stack at once (the formulation
the blocks replaced) and one GEMM per tap over the whole sequence (``_weight_grad_taps``); the
kernel's own choice (``conv1d_backward_weight``) is one of the first and the last. Inputs are
cycled over 9 recordings as in a training epoch, so x and gy come from memory, not cache.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_weight_grad.py
    python bench/bench_weight_grad.py --threads 1 --rounds 3

The load average is printed with the figures: on a shared machine, compare within a run only.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys

import numpy as np
from numba import njit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import threads, time_interleaved  # noqa: E402

from tinyemo.kernels.cpu import conv1d as K  # noqa: E402
from tinyemo.kernels.cpu.blas import gemm  # noqa: E402

# (label, C_in, C_out, K, dilation, frames): the dilated net's input and dilated layers, the
# down/up net's convs at most levels (width 32 and 128; not width 128 at 93 frames, which takes
# the column-matrix route, timed in bench_conv_short.py), the output layer.
LAYERS = [("dilated in 160→32 K=2", 160, 32, 2, 1, 7500),
          ("dilated 32→32 K=2 d=1", 32, 32, 2, 1, 7500),
          ("dilated 32→32 K=2 d=64", 32, 32, 2, 64, 7500),
          ("down/up in 160→32 K=3", 160, 32, 3, 1, 7533),
          ("down/up 32→32 K=3, 1/3", 32, 32, 3, 1, 2511),
          ("down/up 32→32 K=3, 1/9", 32, 32, 3, 1, 837),
          ("down/up 32→32 K=3, 1/81", 32, 32, 3, 1, 93),
          ("down/up in 160→128 K=3", 160, 128, 3, 1, 7533),
          ("down/up 128→128 K=3, 1/3", 128, 128, 3, 1, 2511),
          ("down/up 128→128 K=3, 1/9", 128, 128, 3, 1, 837),
          ("down/up 128→128 K=3, 1/27", 128, 128, 3, 1, 279),
          ("output 128→1 K=1", 128, 1, 1, 1, 7533)]


@njit(cache=True)
def _whole_stack(x, gy, dilation, pad_left, gw):
    """The replaced formulation: the K shifted copies of gy for the whole sequence, one GEMM."""
    c_out, c_in, k = gw.shape
    t_out = gy.shape[2]
    t_in = x.shape[2]
    stack = np.empty((k * c_out, t_in), dtype=gw.dtype)
    rows_in = c_in >= k * c_out
    g = np.zeros((c_in, k * c_out) if rows_in else (k * c_out, c_in), dtype=gw.dtype)
    for j in range(k):
        q = j * dilation - pad_left
        lo = max(0, -q)
        hi = max(lo, min(t_out, t_in - q))
        for o in range(c_out):
            row = stack[j * c_out + o]
            row[:lo + q] = 0
            row[lo + q:hi + q] = gy[0, o, lo:hi]
            row[hi + q:] = 0
    if rows_in:
        gemm(1.0, x[0], False, stack, True, 1.0, g)
    else:
        gemm(1.0, stack, False, x[0], True, 1.0, g)
    for o in range(c_out):
        for c in range(c_in):
            for j in range(k):
                gw[o, c, j] = g[c, j * c_out + o] if rows_in else g[j * c_out + o, c]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"block {K._WEIGHT_BLOCK} frames; load average {os.getloadavg()[0]:.2f}\n")
    print("| layer | threads | whole stack | in blocks | per tap | blocks / whole | per tap / blocks |"
          " kernel's choice |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for label, c_in, c_out, k, d, frames in LAYERS:
        pad = d * (k - 1) // 2 if k > 2 else d * (k - 1)
        t_out = frames + 2 * pad - d * (k - 1) if k > 2 else frames
        pairs = [(rng.standard_normal((1, c_in, frames), dtype=np.float32),
                  rng.standard_normal((1, c_out, t_out), dtype=np.float32)) for _ in range(9)]
        x, gy = pairs[0]
        gw_old, gw_new, gw_taps = (np.empty((c_out, c_in, k), np.float32) for _ in range(3))
        _whole_stack(x, gy, d, pad, gw_old)
        K._weight_grad_stacked(x, gy, d, pad, gw_new)
        K._weight_grad_taps(x, gy, 1, d, pad, gw_taps)
        for gw in (gw_new, gw_taps):
            np.testing.assert_allclose(gw, gw_old, rtol=1e-4, atol=1e-3 * np.abs(gw_old).max())
        choice = "stacked" if K._stacked_weight_grad(c_in, c_out, k) else "per tap"
        if K._columns(c_in, k, t_out):
            choice = "columns"
        for n in args.threads:
            cycle = {name: itertools.cycle(pairs) for name in ("whole", "blocks", "taps")}
            with threads(n):
                t = time_interleaved({
                    "whole": lambda: _whole_stack(*next(cycle["whole"]), d, pad, gw_old),
                    "blocks": lambda: K._weight_grad_stacked(*next(cycle["blocks"]), d, pad, gw_new),
                    "taps": lambda: K._weight_grad_taps(*next(cycle["taps"]), 1, d, pad, gw_taps)},
                    rounds=args.rounds, calls=9)
            a, b, c = (t[key]["median"] * 1e3 for key in ("whole", "blocks", "taps"))
            print(f"| {label} | {n} | {a:.3f} ms | {b:.3f} ms | {c:.3f} ms | {b / a:.2f} | "
                  f"{c / b:.2f} | {choice} |", flush=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
