"""Kernel throughput for the paper's layer shapes, against PyTorch in the same process.

    python bench/bench_kernels.py            # full run → bench/results/kernels.json + table
    python bench/bench_kernels.py --quick    # smoke run (few repeats)
    python bench/bench_kernels.py --device cuda   # GPU → results/kernels-cuda.json (cuda_rows.py)

On CUDA: the same rows with ``tinyemo.kernels.cuda`` on device arrays, a synchronize ending
each timed call, PyTorch CUDA as the peer when it has CUDA, one row per layer (no threads), and
the K=2048 row (no CUDA FFT kernel) only with ``--include-long``. ``--frames-scale`` /
``--channels-scale`` shrink the shapes, e.g. for the simulator (``NUMBA_ENABLE_CUDASIM=1``).

Each row runs forward and backward (all gradients: input, weight, bias) at 1 and 2 threads,
float32, batch 1. tinyemo is timed at the kernel level: output allocation plus the kernel calls
its op makes (the conv op's FFT-or-direct choice included); PyTorch at the ATen level: the
forward through ``torch.nn.functional`` under ``no_grad`` and the backward through
``aten.convolution_backward`` / ``aten.max_pool2d_with_indices_backward`` (no autograd
engine on either side). FLOP counts (multiply and add counted apart):

- conv forward 2·C_out·C_in·K·T_out; backward 4·C_out·C_in·K·T_out (input and weight
  gradients; the bias gradient's C_out·T_out adds are not counted);
- transposed conv forward 2·C_in·C_out·K·n_x; backward 4·C_in·C_out·K·n_x;
- max-pool forward C·T_out·(K − 1) comparisons; backward C·T_out adds.

The FFT path is credited with the direct conv's FLOPs (an effective rate).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cuda_rows  # noqa: E402
import tinyemo.kernels.cpu as cpu  # noqa: E402
from timing import (  # noqa: E402
    machine_info,
    threads,
    time_interleaved,
    try_import_torch,
    write_json_atomic,
)
from tinyemo.kernels.cpu import conv1d_fft  # noqa: E402
from tinyemo.kernels.shapes import conv1d_out_len, conv_transpose1d_out_len  # noqa: E402

from tinyemo.util.runtime import keep_freed_memory  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "kernels.json")


def _torch_device(torch, device):
    """``torch.nn.functional``, host array → tensor on ``device``, and the call-end sync."""
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return torch.nn.functional, (lambda a: torch.from_numpy(a).to(device)), sync


def _conv_row(name, c_in, c_out, k, t, dilation=1):
    total = dilation * (k - 1)
    left, right = total // 2, total - total // 2  # 'same', the odd frame on the right
    t_out = conv1d_out_len(t, k, 1, dilation, left, right)
    flops = 2.0 * c_out * c_in * k * t_out
    use_fft = conv1d_fft.fft_preferred(c_in, c_out, k, dilation, 1, t_out)
    table = cpu.conv1d_kernels(c_in, c_out, k, dilation, 1, t_out)  # the op's choice
    fwd_k, gx_k, gw_k = (table.conv1d_forward, table.conv1d_backward_input,
                         table.conv1d_backward_weight)

    def tinyemo(rng):
        x = rng.standard_normal((1, c_in, t), dtype=np.float32)
        w = rng.standard_normal((c_out, c_in, k), dtype=np.float32) / (c_in * k) ** 0.5
        b = rng.standard_normal(c_out, dtype=np.float32)
        gy = rng.standard_normal((1, c_out, t_out), dtype=np.float32)

        def fwd():
            y = np.empty((1, c_out, t_out), np.float32)
            fwd_k(x, w, b, 1, dilation, left, y)

        def bwd():
            gx, gw, gb = np.empty_like(x), np.empty_like(w), np.empty_like(b)
            gx_k(gy, w, 1, dilation, left, gx)
            gw_k(x, gy, 1, dilation, left, gw)
            table.conv1d_backward_bias(gy, gb)
        return fwd, bwd

    def torch_fns(torch, rng, device="cpu"):
        f, on, sync = _torch_device(torch, device)
        x = on(rng.standard_normal((1, c_in, t), dtype=np.float32))
        w = on(rng.standard_normal((c_out, c_in, k), dtype=np.float32))
        b = on(rng.standard_normal(c_out, dtype=np.float32))
        gy = on(rng.standard_normal((1, c_out, t_out), dtype=np.float32))
        sym = left == right
        xp = x if sym else f.pad(x, (left, right))

        def fwd():
            with torch.no_grad():
                f.conv1d(x, w, b, padding=left if sym else "same", dilation=dilation)
            sync()

        def bwd():
            torch.ops.aten.convolution_backward(gy, xp, w, [c_out], [1], [left if sym else 0],
                                                [dilation], False, [0], 1, [True, True, True])
            sync()
        return fwd, bwd

    label = f"conv {c_in}→{c_out} K={k}" + (f" d={dilation}" if dilation > 1 else "") + f" T={t}"
    return {"name": label, "path": "fft" if use_fft else "direct", "kind": "conv",
            "shape": dict(c_in=c_in, c_out=c_out, kernel=k, t=t, t_out=t_out, dilation=dilation,
                          left=left),
            "flops": {"forward": flops, "backward": 2 * flops}, "tinyemo": tinyemo,
            "torch": torch_fns}


def _conv_transpose_row(c_in, c_out, k, stride, n_x):
    n_y = conv_transpose1d_out_len(n_x, k, stride)
    flops = 2.0 * c_in * c_out * k * n_x

    def tinyemo(rng):
        x = rng.standard_normal((1, c_in, n_x), dtype=np.float32)
        w = rng.standard_normal((c_in, c_out, k), dtype=np.float32) / c_in ** 0.5
        b = rng.standard_normal(c_out, dtype=np.float32)
        gy = rng.standard_normal((1, c_out, n_y), dtype=np.float32)

        def fwd():
            y = np.empty((1, c_out, n_y), np.float32)
            cpu.conv_transpose1d_forward(x, w, b, stride, y)

        def bwd():
            gx, gw, gb = np.empty_like(x), np.empty_like(w), np.empty_like(b)
            cpu.conv_transpose1d_backward(x, gy, w, stride, gx, gw)
            cpu.conv_transpose1d_backward_bias(gy, gb)
        return fwd, bwd

    def torch_fns(torch, rng, device="cpu"):
        f, on, sync = _torch_device(torch, device)
        x = on(rng.standard_normal((1, c_in, n_x), dtype=np.float32))
        w = on(rng.standard_normal((c_in, c_out, k), dtype=np.float32))
        b = on(rng.standard_normal(c_out, dtype=np.float32))
        gy = on(rng.standard_normal((1, c_out, n_y), dtype=np.float32))

        def fwd():
            with torch.no_grad():
                f.conv_transpose1d(x, w, b, stride=stride)
            sync()

        def bwd():
            torch.ops.aten.convolution_backward(gy, x, w, [c_out], [stride], [0], [1], True,
                                                [0], 1, [True, True, True])
            sync()
        return fwd, bwd

    return {"name": f"transposed conv {c_in}→{c_out} K={k} s={stride} n_x={n_x}", "path": "direct",
            "kind": "conv_transpose", "shape": dict(c_in=c_in, c_out=c_out, kernel=k,
                                                    stride=stride, n_x=n_x, n_y=n_y),
            "flops": {"forward": flops, "backward": 2 * flops}, "tinyemo": tinyemo,
            "torch": torch_fns}


def _max_pool_row(c, t, k, stride):
    t_out = (t - k) // stride + 1

    def tinyemo(rng):
        x = rng.standard_normal((1, c, t), dtype=np.float32)
        gy = rng.standard_normal((1, c, t_out), dtype=np.float32)
        argmax = np.empty((1, c, t_out), np.int64)
        cpu.max_pool1d_forward(x, k, stride, np.empty((1, c, t_out), np.float32), argmax)

        def fwd():
            y = np.empty((1, c, t_out), np.float32)
            am = np.empty((1, c, t_out), np.int64)
            cpu.max_pool1d_forward(x, k, stride, y, am)

        def bwd():
            cpu.max_pool1d_backward(gy, argmax, np.empty_like(x))
        return fwd, bwd

    def torch_fns(torch, rng, device="cpu"):
        f, on, sync = _torch_device(torch, device)
        x = on(rng.standard_normal((1, c, t), dtype=np.float32))
        gy = on(rng.standard_normal((1, c, t_out), dtype=np.float32))
        with torch.no_grad():
            _, idx = f.max_pool1d(x, k, stride, return_indices=True)
        x4, gy4, idx4 = x.unsqueeze(-2), gy.unsqueeze(-2), idx.unsqueeze(-2)

        def fwd():
            with torch.no_grad():
                f.max_pool1d(x, k, stride, return_indices=True)
            sync()

        def bwd():
            torch.ops.aten.max_pool2d_with_indices_backward(gy4, x4, [1, k], [1, stride], [0, 0],
                                                            [1, 1], False, idx4)
            sync()
        return fwd, bwd

    return {"name": f"max-pool {k}/{stride} on {c}×{t}", "path": "direct", "kind": "max_pool",
            "shape": dict(c=c, t=t, kernel=k, stride=stride, t_out=t_out),
            "flops": {"forward": float(c * t_out * (k - 1)), "backward": float(c * t_out)},
            "tinyemo": tinyemo, "torch": torch_fns}


def rows(frames_scale: float = 1.0, channels_scale: float = 1.0):
    """The layer shapes of DESIGN.md (dilated, down/up and Figure 1 models); the scales shrink
    every time axis / channel count (rounded, at least 1; a pool keeps at least one window)."""
    def t(n, least=1):
        return max(least, round(n * frames_scale))

    def c(n):
        return max(1, round(n * channels_scale))
    return [
        _conv_row("in", c(160), c(32), 3, t(7500)),
        _conv_row("dil", c(32), c(32), 2, t(7500), dilation=64),
        _conv_row("mid", c(128), c(128), 3, t(2500)),
        _conv_transpose_row(c(128), c(128), 3, 3, t(92)),
        _max_pool_row(c(32), t(7500, least=3), 3, 3),
        {**_conv_row("fig1", c(160), 1, 2048, t(7500)), "long": True},  # FFT on the CPU
    ]


def run(quick: bool, thread_counts, use_torch: bool, device: str = "cpu", include_long=False,
        frames_scale=1.0, channels_scale=1.0, only: str = "") -> dict:
    torch = try_import_torch() if use_torch else None
    timing = dict(rounds=1, calls=3, settle=0.05) if quick else dict(rounds=6, calls=5, settle=0.2)
    notes = []
    if device == "cuda":
        thread_counts = [None]  # no host thread pools on the GPU: one row per layer
        torch, timing, notes = cuda_rows.setup(torch, timing)
    for note in notes:
        print("note:", note, flush=True)
    results = []
    for row in [r for r in rows(frames_scale, channels_scale) if only in r["name"]]:
        path = "direct" if device == "cuda" else row["path"]  # CUDA has direct kernels only
        if device == "cuda" and row.get("long") and not include_long:
            notes.append(f"skipped {row['name']}: no CUDA FFT kernel, and the direct CUDA conv "
                         "at K=2048 is very slow (--include-long runs it)")
            print("note:", notes[-1], flush=True)
            continue
        rng = np.random.default_rng(0)
        ours = cuda_rows.tinyemo_cuda(row, rng) if device == "cuda" else row["tinyemo"](rng)
        theirs = row["torch"](torch, rng, device) if torch is not None else None
        for n in thread_counts:
            with threads(n) if n is not None else contextlib.nullcontext():
                timed = [time_interleaved({"tinyemo": ours[i]} | ({"torch": theirs[i]} if theirs else {}),
                                          **timing) for i in range(2)]
            mine = [t["tinyemo"] for t in timed]
            peer = [t.get("torch") for t in timed]
            for i, which in enumerate(("forward", "backward")):
                flops = row["flops"][which]
                results.append({
                    "row": row["name"], "path": path, "pass": which, "threads": n,
                    "flops": flops, "tinyemo": mine[i], "torch": peer[i],
                    "tinyemo_gflops": flops / mine[i]["median"] / 1e9,
                    "torch_gflops": flops / peer[i]["median"] / 1e9 if peer[i] else None,
                    "ratio": mine[i]["median"] / peer[i]["median"] if peer[i] else None,
                    "ratio_min": mine[i]["min"] / peer[i]["min"] if peer[i] else None,
                })
                print(_line(results[-1]), flush=True)
    report = {"benchmark": "kernels", "device": device, "dtype": "float32", "batch": 1,
              "quick": quick, "frames_scale": frames_scale, "channels_scale": channels_scale,
              "notes": notes, "command": " ".join(["python"] + sys.argv),
              "machine": machine_info(), "results": results}
    if device == "cuda":
        report["gpu"] = cuda_rows.gpu_info(torch)
    return report


def _line(r) -> str:
    peer = r["torch"]
    cells = [r["row"] + (" (FFT)" if r["path"] == "fft" else ""), r["pass"],
             "–" if r["threads"] is None else str(r["threads"]),
             f"{r['tinyemo']['median'] * 1e3:.3f}", f"{r['tinyemo_gflops']:.1f}",
             f"{peer['median'] * 1e3:.3f}" if peer else "–",
             f"{r['torch_gflops']:.1f}" if peer else "–",
             f"{r['ratio']:.2f}" if peer else "–", f"{r['ratio_min']:.2f}" if peer else "–",
             f"{r['tinyemo']['first'] * 1e3:.0f}"]
    return "| " + " | ".join(cells) + " |"


def markdown(report) -> str:
    head = ("| layer | pass | threads | tinyemo ms | tinyemo GFLOP/s | PyTorch ms | "
            "PyTorch GFLOP/s | ratio | ratio of best | tinyemo first call ms |\n"
            "|---|---|---|---|---|---:|---:|---:|---:|---:|")
    return "\n".join([head] + [_line(r) for r in report["results"]])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke run")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="CPU only")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    parser.add_argument("--include-long", action="store_true",
                        help="CUDA: run the FFT row (K=2048) with the direct CUDA conv (slow)")
    parser.add_argument("--frames-scale", type=float, default=1.0,
                        help="multiply every time axis (e.g. 0.002 for the CUDA simulator)")
    parser.add_argument("--channels-scale", type=float, default=None,
                        help="multiply every channel count (default 1; 1/64 in the CUDA simulator)")
    parser.add_argument("--only", help="only the rows whose name contains this text")
    parser.add_argument("--out", default=None,
                        help=f"JSON results (default {RESULTS}, kernels-cuda.json with "
                             "--device cuda; -quick before .json with --quick)")
    args = parser.parse_args(argv)
    keep_freed_memory()  # for both libraries: freed arrays are reused, not page-faulted anew
    if args.out is None:
        out = RESULTS.replace(".json", "-cuda.json") if args.device == "cuda" else RESULTS
        args.out = out.replace(".json", "-quick.json") if args.quick else out
    if args.device == "cuda" and (reason := cuda_rows.unusable()):
        print(f"CUDA benchmark unavailable: {reason}", file=sys.stderr)
        return 2
    if args.channels_scale is None:  # the simulator's block reductions cost ~0.3 s a block
        args.channels_scale = 1 / 64 if args.device == "cuda" and cuda_rows.simulated() else 1.0
    report = run(args.quick, args.threads, not args.no_torch, args.device, args.include_long,
                 args.frames_scale, args.channels_scale, args.only or "")
    write_json_atomic(args.out, report)
    print("\n" + markdown(report))
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
