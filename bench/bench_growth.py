"""How cost grows: one training epoch against frames per recording (1 k … 60 k) for the dilated
and down/up-32 nets, tinyemo and PyTorch, 1 and 2 threads (interleaved per length); and, from
``bench_long_audio.py``'s JSON, ``tinyemo predict``'s time and peak memory against recording
length. Draws bench/results/growth.png (two panels) and writes bench/results/growth.json.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_long_audio.py \\
        --minutes 1 10 60 240 --repeats 1 --out bench/results/long_audio_growth.json
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_growth.py
    python bench/bench_growth.py --recordings 1 --frames 1000 7500 30000 --rounds 1   # quick
    python bench/bench_growth.py --replot       # redraw from results/growth.json

The epoch is ``bench_epoch.py``'s with ``--recordings`` recordings of each length (default 9).
The load average is recorded per point; on a shared machine compare curves only within a run.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_epoch import epoch_data, tinyemo_epoch, torch_epoch  # noqa: E402
from timing import machine_info, threads, time_interleaved, try_import_torch, write_json_atomic  # noqa: E402

from tinyemo.models.config import ModelConfig  # noqa: E402
from tinyemo.util.runtime import keep_freed_memory  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
MODELS = {"dilated": ("dilated", 32), "downup32": ("downup", 32)}


def measure(args, torch) -> list[dict]:
    points = []
    for frames in args.frames:
        xs, ys = epoch_data(args.recordings, frames)
        for key, (arch, width) in MODELS.items():
            cfg = ModelConfig.for_arch(arch, "arousal", width=width)
            for n in args.threads:
                with threads(n):
                    fns = {"tinyemo": tinyemo_epoch(cfg, xs, ys, "cpu")[0]}
                    if torch is not None:
                        fns["torch"] = torch_epoch(torch, cfg, xs, ys, "cpu")[0]
                    stats = time_interleaved(fns, rounds=args.rounds, calls=1)
                point = {"model": key, "frames": frames, "threads": n,
                         "loadavg_1min": os.getloadavg()[0],
                         **{k: v["median"] for k, v in stats.items()}}
                points.append(point)
                print(point, flush=True)
    return points


def plot(points, long_rows, long_load, out: str, recordings: int) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    styles = {("tinyemo", 1): "-o", ("tinyemo", 2): "-s", ("torch", 1): "--o", ("torch", 2): "--s"}
    colors = {"dilated": "tab:blue", "downup32": "tab:orange"}
    for key in MODELS:
        for (side, n), style in styles.items():
            pts = sorted((p["frames"], p[side]) for p in points
                         if p["model"] == key and p["threads"] == n and side in p)
            if pts:
                f, s = zip(*pts)
                left.plot(f, s, style, color=colors[key], label=f"{key}, {side}, {n} thr")
    load = max(p["loadavg_1min"] for p in points)
    left.set(xscale="log", yscale="log", xlabel="frames per recording (40 ms)",
             ylabel=f"epoch time (s), {recordings} recording(s)",
             title=f"training epoch (load average up to {load:.1f})")
    left.legend(fontsize=7)
    if long_rows:
        minutes = [r["minutes"] for r in long_rows]
        right.plot(minutes, [r["bounded"]["seconds"] for r in long_rows], "-o", color="tab:green",
                   label="predict time (s)")
        right.set(xscale="log", yscale="log", xlabel="recording length (min)",
                  ylabel="seconds",
                  title=f"tinyemo predict, 5 seeds × 2 targets (load at end {long_load})")
        mem = right.twinx()
        mem.plot(minutes, [r["bounded"]["peak_rss_mb"] for r in long_rows], "-s",
                 color="tab:red", label="peak memory (MB)")
        mem.set(ylabel="peak RSS (MB)", ylim=(0, None))
        right.legend(loc="upper left", fontsize=8)
        mem.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, nargs="+", default=[1000, 3000, 7500, 15000, 30000, 60000])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--recordings", type=int, default=9)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--long", default=os.path.join(HERE, "long_audio_growth.json"),
                    help="bench_long_audio.py's JSON for the prediction panel")
    ap.add_argument("--replot", action="store_true",
                    help="draw the PNG from results/growth.json and --long without measuring")
    args = ap.parse_args()
    keep_freed_memory()
    saved = os.path.join(HERE, "growth.json")
    if args.replot:
        with open(saved) as f:
            run = json.load(f)
        points, recordings = run["epoch"], run["recordings"]
    else:
        points, recordings = measure(args, try_import_torch()), args.recordings
        write_json_atomic(saved, {"machine": machine_info(), "recordings": recordings,
                                  "epoch": points, "command": " ".join(["python"] + sys.argv)})
    long_rows, long_load = [], "?"
    if os.path.exists(args.long):
        with open(args.long) as f:
            long_run = json.load(f)
        long_rows, long_load = long_run["rows"], long_run.get("load_average_at_end", ["?"])[0]
    plot(points, long_rows, long_load, os.path.join(HERE, "growth.png"), recordings)


if __name__ == "__main__":
    main()
