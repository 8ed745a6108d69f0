"""A sweep that survives its workers: the same sweep on a Dask LocalCluster of 2 worker
processes with no kills and with one worker SIGKILLed every N trials (at the killed trial's
second epoch report; the nanny starts a new one): trials completed, trials retried, wall time,
and whether every trial's result is the uninterrupted one.

    python bench/bench_sweep_kill.py              # 12 trials, a kill every 3rd, 2 rounds
    python bench/bench_sweep_kill.py --quick      # 6 trials, a kill every 3rd, 1 round

Trials: the ``tiny`` synthetic corpus, down/up width 8, depth 2, 4 epochs, one seed, lr drawn
at random (the same trials in both sweeps). Rounds alternate no-kill and kill sweeps, so a
shared machine's load hits both alike; the table gives medians.
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import machine_info, write_json_atomic  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "sweep_kill.json")
SPACE = "arch = 'downup'\ndepth = 2\nwidth = 8\nlr = { low = 1e-3, high = 1e-2, log = true }\n" \
        "epochs = 4\npatience = 4\n"


def _rows(out: Path) -> list[dict]:
    with open(out / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


def _sweep(data, trials: int, every: int | None, tmp: Path, name: str) -> dict:
    from tinyemo.sweep import SweepConfig, read_space, run_sweep
    from tinyemo.sweep.dask_executor import DaskExecutor
    space = tmp / "space.toml"
    space.write_text(SPACE)
    cfg = SweepConfig(read_space(space), targets=("arousal",), trials=trials, sampler="random",
                      seeds_per_trial=1, runs=0, threads=1)
    executor = DaskExecutor(local_workers=2)
    killed: list[int] = []

    def kill(task, epoch, value):
        if every and task.number >= 0 and task.number % every == every - 1 and epoch == 2 \
                and task.number not in killed:
            pid = executor.pid_of(task)
            if pid is not None:
                killed.append(task.number)
                os.kill(pid, signal.SIGKILL)
    try:
        start = time.perf_counter()
        run_sweep(data, cfg, tmp / name, executor=executor, say=lambda s: None, on_report=kill)
        seconds = time.perf_counter() - start
    finally:
        executor.close()
    rows = _rows(tmp / name)
    return {"seconds": seconds, "killed": len(killed),
            "completed": sum(r["status"] == "complete" for r in rows),
            "retried": sum(int(r["attempts"] or 1) > 1 for r in rows),
            "results": [(r["trial"], r["status"], r["dev_ccc_mean"]) for r in rows]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="6 trials, one round")
    p.add_argument("--trials", type=int, help="trials per sweep (default 12; --quick 6)")
    p.add_argument("--every", type=int, default=3, help="kill the worker of every N-th trial")
    p.add_argument("--rounds", type=int, help="sweeps of each kind (default 2; --quick 1)")
    p.add_argument("--out", default=RESULTS)
    args = p.parse_args()
    trials = args.trials or (6 if args.quick else 12)
    rounds = args.rounds or (1 if args.quick else 2)
    from tinyemo.data import default_corpus
    from tinyemo.data.examples import load_examples
    data, _ = load_examples(default_corpus("tiny"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-kill-"))
    runs: dict[str, list[dict]] = {"no kills": [], f"a kill every {args.every} trials": []}
    try:
        for r in range(rounds):
            for kind, every in zip(runs, (None, args.every)):
                runs[kind].append(_sweep(data, trials, every, tmp, f"{r}-{every}"))
                print(f"round {r}, {kind}: {runs[kind][-1]['seconds']:.1f} s, "
                      f"{runs[kind][-1]['killed']} kill(s)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    reference = runs["no kills"][0]["results"]
    table = {}
    for kind, sweeps in runs.items():
        table[kind] = {"trials": trials, "rounds": rounds,
                       "median_seconds": statistics.median(s["seconds"] for s in sweeps),
                       "seconds": [s["seconds"] for s in sweeps],
                       "kills": [s["killed"] for s in sweeps],
                       "completed": [s["completed"] for s in sweeps],
                       "retried": [s["retried"] for s in sweeps],
                       "same_results_as_no_kills": all(s["results"] == reference for s in sweeps)}
    print(f"\n| sweep ({trials} trials, Dask LocalCluster x2) | kills | completed | retried | "
          f"wall time (median) | results as without kills |\n|---|---:|---:|---:|---:|---|")
    for kind, row in table.items():
        print(f"| {kind} | {row['kills']} | {row['completed']} | {row['retried']} | "
              f"{row['median_seconds']:.1f} s | {row['same_results_as_no_kills']} |")
    write_json_atomic(args.out, {"machine": machine_info(), "load_average": os.getloadavg(),
                                 "space": SPACE, "every": args.every, "sweeps": table})
    return 0


if __name__ == "__main__":
    sys.exit(main())
