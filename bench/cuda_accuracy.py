"""What float32 accumulation costs in the CUDA conv kernels, against float64 ground truth.

    python bench/cuda_accuracy.py --out results/accuracy-cuda.json          # on a GPU: full shapes
    NUMBA_ENABLE_CUDASIM=1 python bench/cuda_accuracy.py --simulate          # simulator: see below

For each contraction of the paper's layers (conv forward, input and weight gradient, bias
gradient; transposed conv forward), float32 inputs are run through the CUDA kernels, which
accumulate in float32, and compared with the same inputs in float64 through the CPU kernels (the
truth, tested against the slow references). Reported per row, relative to the largest |truth|:

- ``cuda_fp32``: the CUDA kernel (float32 accumulation);
- ``cpu_fp32``: the CPU kernel on the float32 inputs (BLAS sgemm: float32 accumulation too), the
  error the CPU tests and training already live with;
- ``rounding``: the truth rounded to float32, the error a float64 accumulator would leave: the
  most float64 accumulation could buy.

``--simulate`` keeps each row's reduction (what float32 accumulation error grows with: C_in·K
terms for the forward, C_out·K for the input gradient, the frames for the weight and bias
gradients) at the paper's length and shrinks only the dimensions that are not summed over, so
the simulator (one Python thread per CUDA thread) finishes in seconds. The simulator rounds a
multiply and an add apart where the GPU fuses them (one rounding), so its error is an upper bound
of the GPU's.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tinyemo.kernels.cpu as cpu  # noqa: E402
from timing import write_json_atomic  # noqa: E402
from tinyemo.kernels.shapes import conv1d_out_len, conv_transpose1d_out_len  # noqa: E402

# (label, C_in, C_out, K, T, dilation): the layers of bench_kernels.rows()
CONVS = [("conv 160→32 K=3 T=7500", 160, 32, 3, 7500, 1),
         ("conv 32→32 K=2 d=64 T=7500", 32, 32, 2, 7500, 64),
         ("conv 128→128 K=3 T=2500", 128, 128, 3, 2500, 1)]
TRANSPOSED = [("transposed conv 128→128 K=3 s=3 n_x=92", 128, 128, 3, 92, 3)]


def _errors(got32, truth64, cpu32) -> dict:
    scale = float(np.max(np.abs(truth64))) or 1.0
    return {"cuda_fp32": float(np.max(np.abs(got32.astype(np.float64) - truth64)) / scale),
            "cpu_fp32": float(np.max(np.abs(cpu32.astype(np.float64) - truth64)) / scale),
            "rounding": float(np.max(np.abs(truth64.astype(np.float32).astype(np.float64)
                                            - truth64)) / scale),
            "max_abs_truth": scale}


def _conv_rows(gpu, rng, simulate, only=""):
    rows = []
    for label, c_in, c_out, k, t, dil in [c for c in CONVS if only in c[0]]:
        total = dil * (k - 1)
        left, right = total // 2, total - total // 2
        # forward and input gradient: sums over channels × taps; simulate: 24 frames, 2 outputs
        t_short = 24 + total if simulate else t
        for which in ("forward", "input gradient"):
            co, ci = (min(c_out, 2), c_in) if simulate and which == "forward" else \
                ((c_out, min(c_in, 2)) if simulate else (c_out, c_in))
            x = rng.standard_normal((1, ci, t_short))
            w = rng.standard_normal((co, ci, k)) / np.sqrt(ci * k)
            b = rng.standard_normal(co)
            t_out = conv1d_out_len(t_short, k, 1, dil, left, right)
            if which == "forward":
                def run(target, xs, ws, bs):
                    y = _empty(target, (1, co, t_out), xs.dtype)
                    target.conv1d_forward(xs, ws, bs, 1, dil, left, y)
                    return y
                args = (x, w, b)
            else:
                gy = rng.standard_normal((1, co, t_out))

                def run(target, gys, ws):
                    gx = _empty(target, (1, ci, t_short), gys.dtype)
                    target.conv1d_backward_input(gys, ws, 1, dil, left, gx)
                    return gx
                args = (gy, w)
            rows.append(_compare(f"{label} {which}", gpu, run, args,
                                 reduced=(ci * k if which == "forward" else co * k)))
        # weight and bias gradients: sums over all T_out frames; simulate: 2 × 2 channels
        ci, co = (min(c_in, 2), min(c_out, 2)) if simulate else (c_in, c_out)
        x = rng.standard_normal((1, ci, t))
        t_out = conv1d_out_len(t, k, 1, dil, left, right)
        gy = rng.standard_normal((1, co, t_out))

        def weight(target, xs, gys):
            gw = _empty(target, (co, ci, k), xs.dtype)
            target.conv1d_backward_weight(xs, gys, 1, dil, left, gw)
            return gw

        def bias(target, gys):
            gb = _empty(target, (co,), gys.dtype)
            target.conv1d_backward_bias(gys, gb)
            return gb
        rows.append(_compare(f"{label} weight gradient", gpu, weight, (x, gy), reduced=t_out))
        rows.append(_compare(f"{label} bias gradient", gpu, bias, (gy,), reduced=t_out))
    for label, c_in, c_out, k, n_x, stride in [c for c in TRANSPOSED if only in c[0]]:
        co = min(c_out, 2) if simulate else c_out
        x = rng.standard_normal((1, c_in, n_x))
        w = rng.standard_normal((c_in, co, k)) / np.sqrt(c_in)
        b = rng.standard_normal(co)
        n_y = conv_transpose1d_out_len(n_x, k, stride)

        def transposed(target, xs, ws, bs):
            y = _empty(target, (1, co, n_y), xs.dtype)
            target.conv_transpose1d_forward(xs, ws, bs, stride, y)
            return y
        rows.append(_compare(f"{label} forward", gpu, transposed, (x, w, b), reduced=c_in))
    return rows


def _empty(target, shape, dtype):
    return np.empty(shape, dtype) if target is cpu else target.empty(shape, dtype)


def _compare(name, gpu, run, args64, reduced) -> dict:
    args32 = [a.astype(np.float32) for a in args64]
    truth = run(cpu, *args64)
    cpu32 = run(cpu, *args32)
    got = run(gpu, *[gpu.to_device(a) for a in args32]).copy_to_host()
    row = {"row": name, "terms_summed": int(reduced), "shape": list(truth.shape),
           **_errors(got, truth, cpu32)}
    print(f"| {name} | {reduced} | {row['cuda_fp32']:.2e} | {row['cpu_fp32']:.2e} | "
          f"{row['rounding']:.2e} |", flush=True)
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--simulate", action="store_true",
                   help="shrink the dimensions that are not summed over (for the CUDA simulator)")
    p.add_argument("--out", help="JSON results (default: print only)")
    p.add_argument("--only", help="only the rows whose name contains this text")
    args = p.parse_args(argv)
    from tinyemo.engine.backend import cuda_module
    try:
        gpu = cuda_module()
    except RuntimeError as exc:
        print(f"CUDA unavailable: {exc}", file=sys.stderr)
        return 2
    print("| contraction | terms summed | CUDA fp32 | CPU fp32 | float32 rounding |\n"
          "|---|---:|---:|---:|---:|")
    rows = _conv_rows(gpu, np.random.default_rng(0), args.simulate, args.only or "")
    if not rows:
        print(f"no row matches --only {args.only!r}", file=sys.stderr)
        return 2
    report = {"benchmark": "cuda_accuracy", "simulate": args.simulate,
              "command": " ".join(["python"] + sys.argv), "rows": rows,
              "max": {key: max(r[key] for r in rows) for key in ("cuda_fp32", "cpu_fp32",
                                                                  "rounding")}}
    if args.out:
        write_json_atomic(args.out, report)
        print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
