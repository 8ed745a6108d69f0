"""Many files: ``tinyemo predict`` in one process, with ``--workers 2`` and with
``--dask-local 2``, over 50 short files and over a few long ones: files per second and peak
memory.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_predict_many.py
    python bench/bench_predict_many.py --short 50 --short-seconds 10 --long 4 --long-minutes 60
    python bench/bench_predict_many.py --long-minutes 5 --repeats 1      # quick

Each measurement is the whole command in a fresh process (``python -m tinyemo predict``), so
its time includes what a user waits for: imports, Numba's cache loads, starting the worker
processes or the Dask cluster, and every file; files/s = files / that wall time (median of
``--repeats``). Memory: the peak resident set (``ru_maxrss``) of the largest process of the
run — the driver or any worker, whichever peaked highest — an upper bound on each worker's
(measured through a fresh intermediate process whose waited-for descendants are exactly that
run's). The model is the main job's: down/up, 5 seeds × (arousal width 32, valence width 128),
random weights; the audio: real speech tiled with random gains and noise (16 kHz, 16-bit),
in a temporary folder. Threads: one per process (``--threads 1``; the workers split the
machine's cores). Writes bench/results/predict_many.json and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_long_audio import write_audio, write_model  # noqa: E402
from timing import machine_info, write_json_atomic  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "predict_many.json"
MODES = {"1 process": [], "2 workers": ["--workers", "2"], "Dask × 2": ["--dask-local", "2"]}


def measure_child(argv: list[str]) -> None:
    """In a fresh process: run the command, print its wall time and the peak RSS of its
    largest descendant."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024}))


def measure(model: Path, files: list[Path], out: Path, extra: list[str]) -> dict:
    argv = [sys.executable, "-m", "tinyemo", "predict", "--model", str(model), "--out",
            str(out), "--quiet", "--threads", "1", *extra, *map(str, files)]
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(argv)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--short", type=int, default=50)
    p.add_argument("--short-seconds", type=float, default=10.0)
    p.add_argument("--long", type=int, default=4)
    p.add_argument("--long-minutes", type=float, default=60.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args()
    if args.child:
        return measure_child(json.loads(args.child))
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="tinyemo-bench-many-") as tmp:
        tmp = Path(tmp)
        write_model(tmp / "model")
        sets = {f"{args.short} × {args.short_seconds:g} s":
                ([tmp / "short" / f"s{i}.wav" for i in range(args.short)], args.short_seconds),
                f"{args.long} × {args.long_minutes:g} min":
                ([tmp / "long" / f"l{i}.wav" for i in range(args.long)], 60 * args.long_minutes)}
        for name, (files, seconds) in sets.items():
            files[0].parent.mkdir()
            for i, f in enumerate(files):
                write_audio(f, seconds, seed=i)
            measure(tmp / "model", files[:1], tmp / "warm", [])     # Numba's cache filled
            for mode, extra in MODES.items():
                runs = [measure(tmp / "model", files, tmp / f"out-{len(rows)}-{r}", extra)
                        for r in range(args.repeats)]
                wall = statistics.median(r["seconds"] for r in runs)
                rows.append({"files": name, "mode": mode, "seconds": wall,
                             "files_per_s": len(files) / wall,
                             "audio_s_per_s": len(files) * seconds / wall,
                             "peak_mib": max(r["peak_mib"] for r in runs)})
                print(f"{name}, {mode}: {wall:.1f} s, {len(files) / wall:.3g} files/s, "
                      f"peak {rows[-1]['peak_mib']:.0f} MiB", flush=True)
    result = {"machine": machine_info(), "load_before": load, "load_after": os.getloadavg()[0],
              "repeats": args.repeats, "rows": rows}
    write_json_atomic(str(args.out), result)
    print(f"\nload average {load:.1f} before, {result['load_after']:.1f} after "
          f"(a shared machine)\n")
    print("| files | run | wall time | files/s | audio s/s | peak RSS, largest process |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['files']} | {r['mode']} | {r['seconds']:.1f} s | {r['files_per_s']:.3g} | "
              f"{r['audio_s_per_s']:.0f} | {r['peak_mib']:.0f} MiB |")


if __name__ == "__main__":
    main()
