"""A 5-seed ensemble predicting one long recording: the seeds stacked into one grouped net (one
pass: ``tinyemo.models.stacked``, what ``Ensemble.predict``, long files and streaming run) against
the seeds run one after another (the path it replaced), interleaved in the same process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_ensemble.py
    python bench/bench_ensemble.py --minutes 5 --threads 1 --rounds 2    # quick

The input is the model's (160, T) features, T = 1500 frames per minute (40 ms), random (the
speed does not depend on the values); the nets: down/up width 32 (arousal) and width 128
(valence) with the paper's defaults and random weights, 5 seeds each. Forward only, no graph
(``no_grad``), float32. Two paths: ``windowed``, what ``tinyemo predict`` runs on a long file
(``serve.windowed.WindowedEnsemble``: windows of at most 8192 outputs; seed by seed is its
``stack=False``, every seed on each window, as before) and ``whole``, the whole sequence at once (``--paths``). The load average of the machine is recorded beside the figures
(``os.getloadavg``): on a shared machine, compare the two paths only within one run.
Writes bench/results/ensemble.json and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import machine_info, threads, time_interleaved, write_json_atomic  # noqa: E402

from tinyemo import Tensor, no_grad  # noqa: E402
from tinyemo.models.config import ModelConfig  # noqa: E402
from tinyemo.models.nets import build_model  # noqa: E402
from tinyemo.models.stacked import stack_seeds  # noqa: E402
from tinyemo.serve.windowed import WindowedEnsemble  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "ensemble.json")
ROWS = {"downup32": ("down/up, width 32", "arousal"), "downup128": ("down/up, width 128", "valence")}


def _seeds(target: str, n: int) -> list:
    cfg = ModelConfig.for_arch("downup", target)
    return [build_model(cfg, seed=s).eval() for s in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="recording length")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--paths", nargs="+", default=["windowed", "whole"], choices=["windowed", "whole"])
    args = ap.parse_args()
    frames = int(args.minutes * 1500)
    x = Tensor(np.random.default_rng(0).standard_normal((160, frames)).astype(np.float32))
    results = {"machine": machine_info(), "frames": frames, "seeds": args.seeds, "rows": []}
    print(f"{args.seeds} seeds, {args.minutes:g} min ({frames} frames), forward only\n")
    print("| model | path | threads | seed by seed | one pass | speed-up | load (1 min) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    rows_t = np.ascontiguousarray(x.numpy().T)          # (T, 160): what the windowed path takes
    for key in args.rows:
        label, target = ROWS[key]
        models = _seeds(target, args.seeds)
        stacked = stack_seeds(models)
        with no_grad():
            want = np.mean([m(x).numpy().reshape(-1) for m in models], axis=0)
            err = float(np.abs(stacked(x).numpy().mean(axis=0) - want).max())

        def windowed(nets):
            nets.push(rows_t)
            return nets.finish()[target]

        fns = {"whole": {
            "seed_by_seed": lambda: np.mean([m(x).numpy().reshape(-1) for m in models], axis=0),
            "one_pass": lambda: stacked(x).numpy().mean(axis=0)}, "windowed": {
            "seed_by_seed": lambda: windowed(WindowedEnsemble({target: models}, stack=False)),
            "one_pass": lambda: windowed(WindowedEnsemble({target: models}, stack=True))}}
        for path in args.paths:
            for n in args.threads:
                with threads(n), no_grad():
                    t = time_interleaved(fns[path], rounds=args.rounds, calls=3)
                load = os.getloadavg()[0]
                ratio = t["seed_by_seed"]["median"] / t["one_pass"]["median"]
                results["rows"].append({"model": key, "path": path, "threads": n, "timings": t,
                                        "speedup": ratio, "max_abs_difference": err,
                                        "loadavg_1min": load})
                print(f"| {label} | {path} | {n} | {t['seed_by_seed']['median'] * 1e3:.0f} ms | "
                      f"{t['one_pass']['median'] * 1e3:.0f} ms | {ratio:.2f}× | {load:.2f} |",
                      flush=True)
    write_json_atomic(RESULTS, results)


if __name__ == "__main__":
    main()
