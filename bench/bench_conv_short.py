"""conv1d on short sequences: the column matrix (im2col, one GEMM over C_in·K rows) against one
GEMM per tap on views of x, forward, input gradient and weight gradient, interleaved, at the
down/up net's deep-layer shapes (stride 1, K = 3, 'same' padding). ``kernels/cpu/conv1d.py``'s
``_columns`` rule comes from this benchmark; the kernel's own time is printed beside both.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_conv_short.py
    python bench/bench_conv_short.py --threads 1 --rounds 3

The load average is printed with the figures: on a shared machine, compare within a run only.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from numba import njit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import threads, time_interleaved  # noqa: E402

from tinyemo.kernels.cpu import conv1d as K  # noqa: E402
from tinyemo.kernels.cpu.blas import gemm  # noqa: E402

SHAPES = [(32, 93), (32, 279), (32, 837), (64, 93), (64, 279), (128, 93), (128, 279), (128, 837)]
TAPS, PAD = 3, 1


@njit(cache=True)
def _columns_forward(x, w, b, y):
    c_out, c_in, k = w.shape
    col = np.empty((1, c_in * k, y.shape[2]), dtype=x.dtype)
    K.im2col(x, k, 1, 1, PAD, col)
    for o in range(c_out):
        y[0, o, :] = b[o]
    gemm(1.0, np.ascontiguousarray(w).reshape(c_out, c_in * k), False, col[0], False, 1.0, y[0])


@njit(cache=True)
def _columns_input(gy, w, gx):
    c_out, c_in, k = w.shape
    gcol = np.empty((1, c_in * k, gy.shape[2]), dtype=gx.dtype)
    gemm(1.0, np.ascontiguousarray(w).reshape(c_out, c_in * k), True, gy[0], False, 0.0, gcol[0])
    K.col2im(gcol, k, 1, 1, PAD, gx)


@njit(cache=True)
def _columns_weight(x, gy, gw):
    c_out, c_in, k = gw.shape
    col = np.empty((1, c_in * k, gy.shape[2]), dtype=x.dtype)
    K.im2col(x, k, 1, 1, PAD, col)
    g2 = np.zeros((c_out, c_in * k), dtype=gw.dtype)
    gemm(1.0, gy[0], False, col[0], True, 1.0, g2)
    gw[:] = g2.reshape(c_out, c_in, k)


@njit(cache=True)
def taps_forward(x, w, b, dilation, pad_left, y):
    """The per-tap route (stride 1, batch 1), whatever the kernel would choose; also timed by
    ``bench_conv_stacked.py``."""
    wk = K._taps(w)
    c_out, t_out, t_in = y.shape[1], y.shape[2], x.shape[2]
    for o in range(c_out):
        y[0, o, :] = b[o]
    for j in range(wk.shape[0]):
        q = j * dilation - pad_left
        lo, hi = max(0, -q), min(t_out, t_in - q)
        gemm(1.0, wk[j], False, x[0, :, lo + q:hi + q], False, 1.0, y[0, :, lo:hi])


@njit(cache=True)
def _taps_input(gy, w, gx):
    wk = K._taps(w)
    t_out, t_in = gy.shape[2], gx.shape[2]
    gx[:] = 0
    for j in range(wk.shape[0]):
        q = j - PAD
        lo, hi = max(0, -q), min(t_out, t_in - q)
        gemm(1.0, wk[j], True, gy[0, :, lo:hi], False, 1.0, gx[0, :, lo + q:hi + q])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print("| channels × frames | threads | pass | columns µs | taps µs | kernel µs (its route) |")
    print("|---|---:|---|---:|---:|---:|")
    for c, t in SHAPES:
        x = rng.standard_normal((1, c, t)).astype(np.float32)
        w = (0.1 * rng.standard_normal((c, c, TAPS))).astype(np.float32)
        b = rng.standard_normal(c).astype(np.float32)
        gy = rng.standard_normal((1, c, t)).astype(np.float32)
        y, y2, gx, gx2 = (np.empty_like(x) for _ in range(4))
        gw, gw2 = np.empty_like(w), np.empty_like(w)
        _columns_forward(x, w, b, y)
        taps_forward(x, w, b, 1, PAD, y2)
        _columns_input(gy, w, gx)
        _taps_input(gy, w, gx2)
        _columns_weight(x, gy, gw)
        K.conv1d_backward_weight(x, gy, 1, 1, PAD, gw2)
        for a, b_ in ((y, y2), (gx, gx2), (gw, gw2)):      # both routes compute the same thing
            np.testing.assert_allclose(a, b_, rtol=1e-4, atol=1e-3)
        route = "columns" if K._columns(c, TAPS, t) else "taps"
        passes = {
            "forward": (lambda: _columns_forward(x, w, b, y), lambda: taps_forward(x, w, b, 1, PAD, y2),
                        lambda: K.conv1d_forward(x, w, b, 1, 1, PAD, y2)),
            "input gradient": (lambda: _columns_input(gy, w, gx), lambda: _taps_input(gy, w, gx2),
                               lambda: K.conv1d_backward_input(gy, w, 1, 1, PAD, gx2)),
            # the kernel's per-tap weight gradient is the stacked one (one GEMM, K shifted gy)
            "weight gradient": (lambda: _columns_weight(x, gy, gw), None,
                                lambda: K.conv1d_backward_weight(x, gy, 1, 1, PAD, gw2)),
        }
        for n in args.threads:
            with threads(n):
                for name, (cols, taps, kernel) in passes.items():
                    fns = {"columns": cols, "kernel": kernel}
                    if taps is not None:
                        fns["taps"] = taps
                    r = time_interleaved(fns, rounds=args.rounds, calls=20)
                    med = {k: v["median"] * 1e6 for k, v in r.items()}
                    taps_cell = f"{med['taps']:.0f}" if "taps" in med else "(the kernel's)"
                    print(f"| {c} × {t} | {n} | {name} | {med['columns']:.0f} | {taps_cell} | "
                          f"{med['kernel']:.0f} ({route}) |")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
