"""Sweep throughput: trials per hour in this process, in 1 and 2 local worker processes and on
a Dask LocalCluster of 1 and 2 worker processes; and what an executor adds per trial and per
epoch (the scheduler's overhead), measured with trials that do almost nothing.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_sweep.py   # ~10 min
    python bench/bench_sweep.py --quick                                        # smoke run

Throughput: real trials on the ``tiny`` synthetic corpus (6 train / 3 dev recordings × 30 s):
down/up width 8, depth 2, 4 epochs, one seed, lr drawn at random (so every executor trains the
same trials). Each executor is started (timed apart: processes, imports, the examples shipped)
and warmed with one trial per worker (Numba's cache loaded in each process); then in each
round every executor in turn runs a fresh sweep of ``--trials`` trials (interleaved, so a
shared machine's load hits all alike). Trials per hour = trials / median sweep time.

Overhead: trivial trials (6 × 81 frames, width 4, one layer) with 1 and with 10 epochs, run
one at a time (1 worker); per-trial time through an executor minus in this process, fitted as
a + b · epochs: a = per trial (task out, outcome back), b = per epoch (the report's round trip
to the driver and its answer). The driver's own bookkeeping (Optuna ask/tell, trials.csv) is in
both and is reported apart.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import machine_info, threads, write_json_atomic  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "sweep.json")
SPACE = "arch = 'downup'\ndepth = 2\nwidth = 8\nlr = { low = 1e-3, high = 1e-2, log = true }\n" \
        "epochs = 4\npatience = 4\n"
TRIVIAL = "arch = 'downup'\ndepth = 1\nwidth = 4\nlr = { low = 1e-3, high = 1e-2, log = true }\n" \
          "epochs = {epochs}\npatience = {epochs}\n"


def _executors(which):
    from tinyemo.sweep.dask_executor import DaskExecutor
    from tinyemo.sweep.executors import InProcess, LocalWorkers
    makers = {
        "in-process, 1 thread": (lambda: InProcess(), 1),
        "in-process, 2 threads": (lambda: InProcess(), 2),
        "local workers x1, 1 thread": (lambda: LocalWorkers(1, threads=1), 1),
        "local workers x2, 1 thread each": (lambda: LocalWorkers(2, threads=1), 1),
        "Dask LocalCluster x1, 1 thread": (lambda: DaskExecutor(local_workers=1), 1),
        "Dask LocalCluster x2, 1 thread each": (lambda: DaskExecutor(local_workers=2), 1),
    }
    return {k: v for k, v in makers.items() if k in which}


def _sweep(executor, data, space_text, trials, n_threads, tmp: Path, seed: int) -> float:
    from tinyemo.sweep import SweepConfig, read_space, run_sweep
    path = tmp / f"space-{seed}.toml"
    path.write_text(space_text)
    out = tmp / f"out-{seed}"
    cfg = SweepConfig(read_space(path), targets=("arousal",), trials=trials, sampler="random",
                      seeds_per_trial=1, runs=0, seed=seed, threads=n_threads)
    with threads(n_threads):
        start = time.perf_counter()
        run_sweep(data, cfg, out, executor=executor, say=lambda s: None)
        seconds = time.perf_counter() - start
    shutil.rmtree(out)
    return seconds


def throughput(data, names, trials, rounds, tmp: Path) -> dict:
    from tinyemo.sweep.objective import TrialData
    rows, live = {}, {}
    parts = {p: tuple(e for e in data.values() if e.recording.partition == p) for p in ("train", "dev")}
    for name, (make, n) in _executors(names).items():
        start = time.perf_counter()
        executor = make()
        executor.start(TrialData(parts["train"], parts["dev"]))
        started = time.perf_counter() - start
        warm = _sweep(executor, data, SPACE, executor.slots, n, tmp, seed=1000)
        live[name] = (executor, n)
        rows[name] = {"start_s": started, "warmup_s": warm, "sweeps_s": []}
        print(f"{name}: started in {started:.1f} s, warm-up ({executor.slots} trial(s)) {warm:.1f} s",
              flush=True)
    for r in range(rounds):
        for name, (executor, n) in live.items():
            time.sleep(0.5)
            rows[name]["sweeps_s"].append(_sweep(executor, data, SPACE, trials, n, tmp, seed=r))
            print(f"  round {r + 1}: {name}: {rows[name]['sweeps_s'][-1]:.1f} s", flush=True)
    for name, (executor, _) in live.items():
        executor.close()
        med = statistics.median(rows[name]["sweeps_s"])
        rows[name].update(median_s=med, trials=trials, trials_per_hour=trials / med * 3600)
    return rows


def _trivial_examples(n_train=4, n_dev=2, t=81, c=4):
    import numpy as np

    from tinyemo.data.corpus import Recording
    from tinyemo.data.examples import Example
    rng = np.random.default_rng(0)
    out = {}
    for i in range(n_train + n_dev):
        part = "train" if i < n_train else "dev"
        y = np.convolve(rng.standard_normal(t + 20), np.ones(20) / 20, "valid")[:t]
        x = rng.standard_normal((c, t)).astype(np.float32)
        x[0] += 4 * y
        rec = Recording(f"{part}_{i}", f"s{i}", part, f"/nonexistent/{part}_{i}.wav")
        out[rec.id] = Example(rec, x, {"arousal": y.astype(np.float32)})
    return out


def overhead(names, trials, rounds, tmp: Path) -> dict:
    """Per-trial seconds of trivial trials (1 and 10 epochs) through each executor, one at a time."""
    from tinyemo.sweep.objective import TrialData, TrialTask, run_trial
    data = _trivial_examples()
    parts = {p: tuple(e for e in data.values() if e.recording.partition == p) for p in ("train", "dev")}
    out = {}
    for name, (make, n) in _executors(names).items():
        executor = make()
        executor.start(TrialData(parts["train"], parts["dev"]))
        _sweep(executor, data, TRIVIAL.replace("{epochs}", "2"), 1, n, tmp, seed=999)   # warm
        per = {}
        for epochs in (1, 10):
            samples = [_sweep(executor, data, TRIVIAL.replace("{epochs}", str(epochs)), trials, n, tmp,
                              seed=r) / trials for r in range(rounds)]
            per[epochs] = statistics.median(samples)
        executor.close()
        out[name] = {"per_trial_s": per}
        print(f"{name}: {per[1] * 1e3:.0f} ms per 1-epoch trial, {per[10] * 1e3:.0f} ms per "
              f"10-epoch trial", flush=True)
    # the trial alone, without driver or executor
    task = TrialTask("arousal", 0, {"arch": "downup", "depth": 1, "width": 4, "lr": 3e-3,
                                    "epochs": 1, "patience": 1}, (0,), str(tmp / "alone"))
    alone = []
    with threads(1):
        for r in range(trials):
            shutil.rmtree(tmp / "alone", ignore_errors=True)
            start = time.perf_counter()
            run_trial(task, TrialData(parts["train"], parts["dev"]), lambda e, v: False)
            alone.append(time.perf_counter() - start)
    base = out["in-process, 1 thread"]["per_trial_s"]
    for name, row in out.items():
        p = row["per_trial_s"]
        per_epoch = ((p[10] - base[10]) - (p[1] - base[1])) / 9
        row.update(per_trial_overhead_s=(p[1] - base[1]) - per_epoch, per_epoch_overhead_s=per_epoch)
    out["trial alone (run_trial, 1 epoch)"] = {"per_trial_s": {1: statistics.median(alone)}}
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="few trials and rounds (smoke run)")
    p.add_argument("--trials", type=int, help="trials per timed sweep (default 8; --quick 2)")
    p.add_argument("--rounds", type=int, help="timed sweeps per executor (default 3; --quick 1)")
    p.add_argument("--out", default=RESULTS)
    args = p.parse_args()
    trials = args.trials or (2 if args.quick else 8)
    rounds = args.rounds or (1 if args.quick else 3)
    from tinyemo.data import default_corpus
    from tinyemo.data.examples import load_examples
    from tinyemo.util.runtime import keep_freed_memory
    keep_freed_memory()
    data, _ = load_examples(default_corpus("tiny"))
    names = ["in-process, 1 thread", "in-process, 2 threads", "local workers x1, 1 thread",
             "local workers x2, 1 thread each", "Dask LocalCluster x1, 1 thread",
             "Dask LocalCluster x2, 1 thread each"]
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        print("throughput (tiny corpus, down/up width 8, 4 epochs, 1 seed)", flush=True)
        rows = throughput(data, names, trials, rounds, tmp)
        print("overhead (trivial trials, one at a time)", flush=True)
        over_names = ["in-process, 1 thread", "local workers x1, 1 thread",
                      "Dask LocalCluster x1, 1 thread"]
        over = overhead(over_names, 10 if args.quick else 30, rounds, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_json_atomic(args.out, {"machine": machine_info(), "load_average": os.getloadavg(),
                                 "trials": trials, "rounds": rounds, "throughput": rows,
                                 "overhead": over})
    print("\n| executor | start | trials per hour | ratio to in-process, 1 thread |")
    print("|---|---:|---:|---:|")
    base = rows["in-process, 1 thread"]["trials_per_hour"]
    for name, r in rows.items():
        print(f"| {name} | {r['start_s']:.1f} s | {r['trials_per_hour']:.0f} | "
              f"{r['trials_per_hour'] / base:.2f} |")
    print("\n| executor | per trial (1 epoch) | overhead per trial | overhead per epoch |")
    print("|---|---:|---:|---:|")
    for name, r in over.items():
        extra = (f"{r['per_trial_overhead_s'] * 1e3:.0f} ms | {r['per_epoch_overhead_s'] * 1e3:.1f} ms"
                 if "per_trial_overhead_s" in r else "– | –")
        print(f"| {name} | {r['per_trial_s'][1] * 1e3:.0f} ms | {extra} |")
    print(f"\nload average during the run: {os.getloadavg()} (a shared 2-core machine)")
    print(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
