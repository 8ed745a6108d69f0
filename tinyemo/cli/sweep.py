"""``tinyemo sweep SPACE.toml``: search the settings in SPACE on the development partition, then
train the best ones per target with ``--runs`` seeds and score test once."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

from tqdm import tqdm

from tinyemo.cli.boundary import Progress, run_command
from tinyemo.cli.corpus import add_corpus_options, corpus_path, data_source, targets_of
from tinyemo.frontend.descriptors import require_opensmile
from tinyemo.sweep.dask_executor import DaskExecutor
from tinyemo.sweep.driver import CHOOSE, FINAL_ON, PRUNERS, SAMPLERS, SweepConfig, run_sweep
from tinyemo.sweep.folder import check_folder
from tinyemo.sweep.executors import InProcess, LocalWorkers
from tinyemo.sweep.features import describe, load_examples_on
from tinyemo.sweep.report import read_compared
from tinyemo.sweep.space import read_space
from tinyemo.util.runtime import configure_process

__all__ = ["sweep_main", "sweep_parser"]


def sweep_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tinyemo sweep", description="Choose model and training settings on the dev "
        "partition (Optuna: grid, random or TPE search, pruning by epoch), then train the best "
        "per target with --runs seeds and score test once.")
    p.add_argument("space", type=Path, help="the search space, a TOML file "
                   "(examples/sweep-tiny.toml; see README, 'Choose settings')")
    add_corpus_options(p)
    p.add_argument("--trials", type=int, help="trials per target (default 20; grid: its size)")
    p.add_argument("--sampler", choices=SAMPLERS, default="tpe")
    p.add_argument("--pruner", choices=PRUNERS, default="none",
                   help="stop weak trials early on their per-epoch dev CCC")
    p.add_argument("--prune-after", type=int, metavar="N", help="no trial is pruned before "
                   "epoch N (default: the space's patience, at least 2)")
    p.add_argument("--choose", choices=CHOOSE, default="best", help="the trial whose settings "
                   "the final runs train: the best dev CCC, or the fewest weights within one "
                   "standard error (bootstrap over the dev, or held-out, recordings) of the best")
    p.add_argument("--selection-folds", type=int, metavar="K", help="score each trial on K "
                   "speaker-disjoint folds of train+dev (train on K-1, score the held-out "
                   "fold) instead of on dev; the final runs train as --final-on says")
    p.add_argument("--final-on", choices=FINAL_ON, default="train", help="what the final runs "
                   "train on: train, stopping on dev (the paper), or, with --selection-folds, "
                   "train+dev for the folds' median best epoch (no held-out dev)")
    p.add_argument("--final-defaults", action="store_true", help="also train the defaults "
                   "trial's settings as the final runs are trained, and report both on test "
                   "with a paired bootstrap interval of their difference (results.md)")
    p.add_argument("--seeds-per-trial", type=int, default=3, help="seeds trained per trial")
    p.add_argument("--runs", type=int, default=5, help="seeds of the final training of the best "
                   "settings (0: no final training)")
    p.add_argument("--seed", type=int, default=0, help="first seed (trials, final runs, sampler)")
    p.add_argument("--compare", type=Path, nargs="+", default=[], metavar="RUN",
                   help="run folders (tinyemo train or tinyemo baseline outputs, e.g. the "
                        "literature baselines) whose dev/test CCC results.md shows beside the "
                        "chosen settings'")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local worker processes (default: trials run "
                       "in this process)")
    where.add_argument("--dask-local", type=int, metavar="N",
                       help="start a Dask LocalCluster of N worker processes")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="an existing Dask cluster's scheduler, e.g. tcp://HOST:8786")
    p.add_argument("--threads", type=int, help="BLAS/Numba threads per trial (default: the "
                   "cores shared out among local workers)")
    p.add_argument("--out", type=Path, help="output folder (default runs/sweep, or the next free)")
    p.add_argument("--resume", action="store_true", help="continue the sweep saved in --out")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--quiet", action="store_true")
    return p


def _free_out() -> Path:
    """runs/sweep, or the first runs/sweep-N that does not exist."""
    base = out = Path("runs") / "sweep"
    n = 1
    while out.exists():
        n += 1
        out = base.with_name(f"sweep-{n}")
    return out


def _trials(args) -> int:
    """--trials; else, resuming, the trials the sweep was started with; else 20 (grid: all)."""
    if args.trials is not None:
        return args.trials
    saved = args.out / "sweep.json" if args.resume and args.out else None
    if saved is not None and saved.is_file():
        try:
            return int(json.loads(saved.read_text())["trials"])
        except (ValueError, KeyError, TypeError):
            pass                       # check_folder names what is wrong with the file
    return 10**6 if args.sampler == "grid" else 20


def _executor(args):
    if args.workers is not None:
        return LocalWorkers(args.workers, args.threads)
    if args.dask_local is not None or args.scheduler is not None:
        return DaskExecutor(scheduler=args.scheduler, local_workers=args.dask_local)
    return InProcess()


def _sweep(args, state: dict) -> int:
    progress = not args.quiet and sys.stderr.isatty()
    ui = Progress(args.quiet)
    say = ui.say
    if progress:
        say = tqdm.write      # notes between the bars on stderr
    # check everything: options, the space, compared folders, the corpus, the sweep folder
    if args.resume and args.out is None:
        raise ValueError("--resume needs --out (the sweep folder to continue)")
    for name in ("workers", "dask_local", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    source = data_source(args)
    space = read_space(args.space)
    if space.fixed().get("features", "fbank") != "fbank":
        require_opensmile()
    compared = read_compared(args.compare)
    local = args.workers or args.dask_local
    threads = args.threads or (max(1, (os.cpu_count() or 1) // local) if local else None)
    config = SweepConfig(space, targets=targets_of(args), trials=_trials(args),
        sampler=args.sampler, pruner=args.pruner, prune_after=args.prune_after,
        choose=args.choose, selection_folds=args.selection_folds, final_on=args.final_on,
        final_defaults=args.final_defaults,
        seeds_per_trial=args.seeds_per_trial, runs=args.runs, seed=args.seed,
        device=args.device, threads=threads if local or args.scheduler else None)
    configure_process(args.threads)
    source = corpus_path(args, source, ui)
    out = state["out"] = args.out or _free_out()
    check_folder(out, config, describe(source)[1], args.resume)
    # then create
    executor = state["executor"] = _executor(args)
    start = time.perf_counter()
    examples, data_info = load_examples_on(executor, source,
                                           space.fixed().get("features", "fbank"))
    say(f"{data_info['recordings']} recordings from {source}: features ready in "
        f"{time.perf_counter() - start:.1f} s; {config.budget()} trial(s) per target, "
        f"{executor.slots} at a time, into {out}")
    summary = run_sweep(examples, config, out, executor=executor, data_info=data_info,
                        resume=args.resume, say=say, progress=progress, compared=compared)
    if not args.quiet:
        print((out / "results.md").read_text())
    print(f"sweep in {out}")
    empty = [t for t, entry in summary.items() if entry.get("trial") is None]
    if empty:
        raise RuntimeError(f"no trial of {' or '.join(empty)} completed; see {out / 'trials.csv'}")
    return 0


def _interrupted(argv: list[str], args, state: dict) -> str:
    again = [a for a in argv if a != "--resume"]
    if args.out is None:
        again += ["--out", str(state.get("out") or "DIR")]
    return f"\ninterrupted; continue with: tinyemo sweep {shlex.join(again)} --resume"


def sweep_main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = sweep_parser()
    args = parser.parse_args(argv)
    state: dict = {}
    try:
        return run_command(parser, lambda: _sweep(args, state),
                           lambda: _interrupted(argv, args, state))
    finally:
        if state.get("executor") is not None:
            state["executor"].close()
