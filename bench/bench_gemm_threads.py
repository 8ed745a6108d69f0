"""The GEMMs of the paper's nets at 1 and 2 BLAS threads: does a second thread ever slow one down?

Every conv, transposed conv and LSTM kernel hands its arithmetic to ``blas.gemm`` (NumPy's
OpenBLAS), which picks its own thread count per call; everything else the kernels do (shifted
sums, gathers, scatters, element-wise passes) runs on the calling thread. So a per-op thread rule
could only matter where OpenBLAS's own choice loses: this benchmark times each GEMM shape the
dilated, down/up and BLSTM epochs call (``C (M×N) = A (M×K) · B (K×N)``, float32, through
``blas.gemm``) at 1 and at 2 threads, interleaved, and prints the ratio.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_gemm_threads.py
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from numba import njit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import threads  # noqa: E402

from tinyemo.kernels.cpu.blas import gemm  # noqa: E402

# (where it is called, M, N, K): per-tap conv GEMMs (C_out, frames, C_in), the stacked input-layer
# forward's block (K·C_out, block, C_in), the stride-1 weight gradient's block (K·C_out or C_in
# rows, 1024 frames summed), the transposed conv's column block and the LSTM's input projection.
SHAPES = [
    ("conv 32→32 per tap, 93 frames", 32, 93, 32),
    ("conv 32→32 per tap, 837 frames", 32, 837, 32),
    ("conv 32→32 per tap, 2511 frames", 32, 2511, 32),
    ("conv 32→32 per tap, 7500 frames", 32, 7500, 32),
    ("conv 160→32 K=3 stacked forward block", 96, 1022, 160),
    ("conv 160→32 K=3 weight gradient block", 160, 96, 1024),
    ("conv 32→32 K=3 weight gradient block", 96, 32, 1024),
    ("transposed conv 32→32 K=s=3 forward block", 96, 2730, 32),
    ("conv 128→128 per tap, 93 frames", 128, 93, 128),
    ("conv 128→128 per tap, 837 frames", 128, 837, 128),
    ("conv 128→128 per tap, 2511 frames", 128, 2511, 128),
    ("conv 160→128 per tap, 7533 frames", 128, 7533, 160),
    ("conv 160→128 K=3 weight gradient block", 384, 160, 1024),
    ("transposed conv 128→128 K=s=3 forward block", 384, 682, 128),
    ("LSTM 64 units input projection (7500 steps)", 7500, 256, 160),
]


@njit(cache=True)
def _calls(a, b, c, n):
    for _ in range(n):
        gemm(1.0, a, False, b, False, 0.0, c)


def _time(a, b, c, n, rounds):
    per_call = []
    for _ in range(rounds):
        start = time.perf_counter()
        _calls(a, b, c, n)
        per_call.append((time.perf_counter() - start) / n)
    return float(np.median(per_call))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7, help="timed rounds per thread count")
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    print("| GEMM (M × N × K) | 1 thread | 2 threads | 2 / 1 |")
    print("|---|---:|---:|---:|")
    for label, m, n, k in SHAPES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        calls = max(3, int(1e8 / (2 * m * n * k)))   # ~0.1 GFLOP a round
        _calls(a, b, c, 1)                          # compile or load, first call apart
        best = {1: [], 2: []}
        for _ in range(2):                          # interleaved: 1, 2, 1, 2
            for nt in (1, 2):
                with threads(nt):
                    best[nt].append(_time(a, b, c, calls, args.rounds))
        one, two = min(best[1]), min(best[2])
        print(f"| {label} ({m} × {n} × {k}) | {one * 1e6:.1f} µs | {two * 1e6:.1f} µs | "
              f"{two / one:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
