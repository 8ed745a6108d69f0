"""The transposed conv's backward (stride > 1, ``kernels/cpu/conv_transpose1d.py``) at the down/up
net's shapes: both gradients from one kernel call, G gathered from gy once per block
(``conv_transpose1d_backward(x, gy, w, s, gx, gw)``), against one call per gradient, which
gathers G twice: what the two former kernels (``…_backward_input``, ``…_backward_weight``) did,
run here as the same kernel with one output each (``None`` for the other). Inputs are cycled
over 9 recordings as in a training epoch, so gy comes from memory, not cache.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_conv_transpose_backward.py
    python bench/bench_conv_transpose_backward.py --threads 1 --rounds 3

The load average is printed with the figures: on a shared machine, compare within a run only.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import threads, time_interleaved  # noqa: E402

from tinyemo.kernels.cpu.conv_transpose1d import conv_transpose1d_backward  # noqa: E402

# (C_in, C_out, K = s, n_x): every up-sampling level of down/up-32 and down/up-128 (9 recordings
# of 7,533 frames: 93 → 279 → 837 → 2511 → 7533).
LAYERS = [(c, c, 3, n_x) for c in (32, 128) for n_x in (93, 279, 837, 2511)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"load average {os.getloadavg()[0]:.2f}\n")
    print("| layer (C_in → C_out, K = s, n_x → n_y) | threads | one call per gradient | "
          "one call for both | both / separate |")
    print("|---|---:|---:|---:|---:|")
    for c_in, c_out, s, n_x in LAYERS:
        n_y = s * (n_x - 1) + s
        w = rng.standard_normal((c_in, c_out, s), dtype=np.float32)
        pairs = [(rng.standard_normal((1, c_in, n_x), dtype=np.float32),
                  rng.standard_normal((1, c_out, n_y), dtype=np.float32)) for _ in range(9)]
        gx, gw = np.empty((1, c_in, n_x), np.float32), np.empty_like(w)
        gx1, gw1 = np.empty_like(gx), np.empty_like(w)
        x, gy = pairs[0]
        conv_transpose1d_backward(x, gy, w, s, gx, gw)
        conv_transpose1d_backward(x, gy, w, s, gx1, None)
        conv_transpose1d_backward(x, gy, w, s, None, gw1)
        np.testing.assert_array_equal(gx1, gx)
        np.testing.assert_array_equal(gw1, gw)

        def separate(it):
            x, gy = next(it)
            conv_transpose1d_backward(x, gy, w, s, gx1, None)
            conv_transpose1d_backward(x, gy, w, s, None, gw1)

        def both(it):
            conv_transpose1d_backward(*next(it), w, s, gx, gw)

        for n in args.threads:
            cycles = [itertools.cycle(pairs) for _ in range(2)]
            with threads(n):
                t = time_interleaved({"separate": lambda: separate(cycles[0]),
                                      "both": lambda: both(cycles[1])},
                                     rounds=args.rounds, calls=9)
            a, b = (t[key]["median"] * 1e3 for key in ("separate", "both"))
            print(f"| {c_in}→{c_out}, {s}, {n_x} → {n_y} | {n} | {a:.3f} ms | {b:.3f} ms | "
                  f"{b / a:.2f} |", flush=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
