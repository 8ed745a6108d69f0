"""Where one training epoch's time goes: tinyemo's ops (``tinyemo.engine.profiler``) beside
PyTorch's profiler on the same model, and every conv / transposed-conv / LSTM call's GFLOP/s
against the best OpenBLAS sgemm rate measured in the same run (the physical limit's stand-in).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/profile_epoch.py
    python bench/profile_epoch.py --rows downup32 --threads 1 --recordings 3     # quick

The epoch is ``bench_epoch.py``'s (9 recordings × 7500 frames, forward + backward (1 − CCC) +
Adam, float32, the same models). One warm-up epoch, then ``--epochs`` profiled epochs; times
are per epoch. Shares are of the measured epoch time (ops plus what lies between them: the
"unprofiled" row). The load average is recorded beside every table: on a shared machine,
compare only within a run. Writes bench/results/profile.json and bench/results/profile.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_epoch import ROWS, epoch_data, torch_model  # noqa: E402
from timing import machine_info, sgemm_peak, threads, try_import_torch, write_json_atomic  # noqa: E402

from tinyemo import Tensor  # noqa: E402
from tinyemo.engine import functional as F  # noqa: E402
from tinyemo.engine.optim import Adam  # noqa: E402
from tinyemo.engine.profiler import profile  # noqa: E402
from tinyemo.models.config import ModelConfig  # noqa: E402
from tinyemo.models.nets import build_model  # noqa: E402
from tinyemo.util.runtime import keep_freed_memory  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "profile.json")
REPORT = os.path.join(HERE, "results", "profile.md")


def flops(record) -> float:
    """Floating-point operations of a conv, transposed-conv or LSTM call (0 for the rest);
    a backward counts the input gradient and the weight gradient that it computes (each as
    much work as the forward)."""
    op, phase = record.label.split(".")
    times = float(sum(record.grads[:2])) if phase == "backward" else 1.0
    if op == "Conv1dFn":
        (xs, ws, *_), ys = record.inputs, record.output
        c_out, c_group, k = ws
        return times * 2.0 * int(np.prod(ys)) * c_group * k
    if op == "ConvTranspose1dFn":
        xs, ws = record.inputs[:2]
        return times * 2.0 * int(np.prod(xs)) * ws[1] * ws[2]
    if op == "LSTMFn":
        xs, w_ih = record.inputs[:2]
        gates, c_in = w_ih
        hidden = gates // 4
        directions = 2 if len(record.inputs) > 5 and record.inputs[5] is not None else 1
        times = 2.0 if phase == "backward" else 1.0   # the recurrence's gradient always runs
        return times * directions * 2.0 * xs[-1] * gates * (c_in + hidden)
    return 0.0


def tinyemo_profile(cfg, xs, ys, epochs: int):
    model = build_model(cfg, seed=0)
    opt = Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
    xt, yt = [Tensor(x) for x in xs], [Tensor(y) for y in ys]

    def epoch():
        for x, y in zip(xt, yt):
            opt.zero_grad()
            F.ccc_loss(model(x), y).backward()
            opt.step()
    epoch()
    start = time.perf_counter()
    for _ in range(epochs):
        epoch()
    plain = (time.perf_counter() - start) / epochs
    with profile() as prof:
        start = time.perf_counter()
        for _ in range(epochs):
            epoch()
        profiled = (time.perf_counter() - start) / epochs
    return prof, plain, profiled


def torch_profile(torch, cfg, xs, ys, top: int):
    model, multiple = torch_model(torch, cfg)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
    xt = [torch.from_numpy(x)[None] for x in xs]
    yt = [torch.from_numpy(y) for y in ys]

    def epoch():
        for x, y in zip(xt, yt):
            opt.zero_grad()
            t = x.shape[-1]
            pad = -t % multiple
            p = model(torch.nn.functional.pad(x, (0, pad)) if pad else x)[0, 0, :t]
            mp, my = p.mean(), y.mean()
            cov = ((p - mp) * (y - my)).mean()
            loss = 1 - 2 * cov / (p.var(unbiased=False) + y.var(unbiased=False) + (mp - my) ** 2)
            loss.backward()
            opt.step()
    epoch()
    start = time.perf_counter()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        epoch()
    seconds = time.perf_counter() - start
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:top]
    return seconds, [(e.key, e.count, e.self_cpu_time_total / 1e3) for e in events]


def report(key, n_threads, load, peak, prof, plain, profiled, epochs, torch_rows) -> tuple[str, dict]:
    totals = prof.totals()
    summed = sum(s for s, _ in totals.values()) / epochs
    lines = [f"### {ROWS[key][0]}, {n_threads} thread(s) (load average {load:.2f})", "",
             f"tinyemo epoch {plain * 1e3:.0f} ms unprofiled, {profiled * 1e3:.0f} ms profiled; "
             f"sgemm peak measured in this run {peak:.0f} GFLOP/s.", "",
             "| tinyemo op | calls/epoch | ms/epoch | share | GFLOP/s | of sgemm peak |",
             "|---|---:|---:|---:|---:|---:|"]
    groups = {"forward": 0.0, "backward": 0.0, "Adam": 0.0, "CCC": 0.0}
    for label, (seconds, calls) in totals.items():
        work = sum(flops(r) for r in prof.records if r.label == label)
        rate = work / seconds / 1e9 if work else None
        cells = f"{rate:.1f} | {rate / peak:.0%}" if rate else " | "
        lines.append(f"| {label} | {calls // epochs} | {seconds / epochs * 1e3:.1f} | "
                     f"{seconds / epochs / profiled:.0%} | {cells} |")
        part = ("CCC" if label.startswith("CCC") else "Adam" if label.startswith("Adam")
                else "backward" if label.endswith("backward") or label == "accumulate"
                else "forward")
        groups[part] += seconds / epochs
    lines.append(f"| (unprofiled: Python between ops) | | {(profiled - summed) * 1e3:.1f} | "
                 f"{(profiled - summed) / profiled:.0%} | | |")
    layers: dict = {}
    for r in prof.records:
        if flops(r):
            entry = layers.setdefault((r.label, r.inputs[:2], r.output), [0.0, 0.0])
            entry[0] += r.seconds
            entry[1] += flops(r)
    lines += ["", "| kernel call (input, weight → output) | ms/epoch | GFLOP/s | of sgemm peak |",
              "|---|---:|---:|---:|"]
    for (label, inputs, output), (seconds, work) in layers.items():
        rate = work / seconds / 1e9
        shapes = " ".join("×".join(map(str, s)) for s in inputs)
        lines.append(f"| {label} {shapes} → {'×'.join(map(str, output))} | "
                     f"{seconds / epochs * 1e3:.1f} | {rate:.1f} | {rate / peak:.0%} |")
    lines += ["", "| phase | ms/epoch | share |", "|---|---:|---:|"]
    lines += [f"| {k} | {v * 1e3:.1f} | {v / profiled:.0%} |" for k, v in groups.items()]
    if torch_rows:
        seconds, events = torch_rows
        lines += ["", f"PyTorch epoch under its profiler: {seconds * 1e3:.0f} ms", "",
                  "| PyTorch op (self CPU) | calls | ms |", "|---|---:|---:|"]
        lines += [f"| {name} | {count} | {ms:.1f} |" for name, count, ms in events]
    record = {"model": key, "threads": n_threads, "loadavg_1min": load, "sgemm_peak": peak,
              "epoch_s": plain, "profiled_epoch_s": profiled,
              "ops": {k: {"seconds_per_epoch": s / epochs, "calls": c} for k, (s, c) in totals.items()},
              "phases": groups}
    return "\n".join(lines) + "\n", record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--recordings", type=int, default=9)
    ap.add_argument("--frames", type=int, default=7500)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--top", type=int, default=12, help="PyTorch ops listed")
    args = ap.parse_args()
    keep_freed_memory()
    torch = try_import_torch()
    xs, ys = epoch_data(args.recordings, args.frames)
    text, records = [], []
    for key in args.rows:
        _, arch, width = ROWS[key]
        cfg = ModelConfig.for_arch(arch, "arousal", width=width)
        for n in args.threads:
            with threads(n):
                peak = sgemm_peak()
                prof, plain, profiled = tinyemo_profile(cfg, xs, ys, args.epochs)
                peer = torch_profile(torch, cfg, xs, ys, args.top) if torch else None
            part, rec = report(key, n, os.getloadavg()[0], peak, prof, plain, profiled,
                               args.epochs, peer)
            print(part, flush=True)
            text.append(part)
            records.append(rec)
    write_json_atomic(RESULTS, {"machine": machine_info(), "rows": records,
                                "command": " ".join(["python"] + sys.argv)})
    with open(REPORT, "w") as f:
        f.write("\n".join(text))


if __name__ == "__main__":
    main()
