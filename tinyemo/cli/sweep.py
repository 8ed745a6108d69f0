"""``tinyemo sweep SPACE.toml``: search the settings in SPACE on the development partition, then
train the best ones per target with ``--runs`` seeds and score test once."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

__all__ = ["sweep_main"]


def _parser() -> argparse.ArgumentParser:
    from tinyemo.sweep.driver import PRUNERS, SAMPLERS
    p = argparse.ArgumentParser(
        prog="tinyemo sweep", description="Choose model and training settings on the dev "
        "partition (Optuna: grid, random or TPE search, pruning by epoch), then train the best "
        "per target with --runs seeds and score test once.")
    p.add_argument("space", type=Path, help="the search space, a TOML file "
                   "(examples/sweep-tiny.toml; see README, 'Choose settings')")
    p.add_argument("--data", help="a corpus folder in the AVEC 2016 (RECOLA) layout")
    p.add_argument("--manifest", help="a CSV manifest (audio,speaker,partition,<target>…)")
    p.add_argument("--preset", default="quick", help="synthetic corpus preset when no data is given")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the synthetic corpus")
    p.add_argument("--target", choices=("arousal", "valence", "both"), default="both")
    p.add_argument("--trials", type=int, help="trials per target (default 20; grid: its size)")
    p.add_argument("--sampler", choices=SAMPLERS, default="tpe")
    p.add_argument("--pruner", choices=PRUNERS, default="none",
                   help="stop weak trials early on their per-epoch dev CCC")
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
    base = out = Path("runs") / "sweep"
    n = 1
    while out.exists():
        n += 1
        out = base.with_name(f"sweep-{n}")
    return out


def _executor(args):
    if args.workers is not None:
        from tinyemo.sweep.executors import LocalWorkers
        return LocalWorkers(args.workers, args.threads)
    if args.dask_local is not None or args.scheduler is not None:
        from tinyemo.sweep.dask_executor import DaskExecutor
        return DaskExecutor(scheduler=args.scheduler, local_workers=args.dask_local)
    from tinyemo.sweep.executors import InProcess
    return InProcess()


def sweep_main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    say = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    progress = not args.quiet and sys.stderr.isatty()
    if progress:
        from tqdm import tqdm
        say = tqdm.write
    if args.resume and args.out is None:
        print("error: --resume needs --out (the sweep folder to continue)", file=sys.stderr)
        return 2
    executor = out = None
    try:
        from tinyemo.data import default_corpus
        from tinyemo.sweep.driver import SweepConfig, check_folder, run_sweep
        from tinyemo.sweep.features import describe, load_examples_on
        from tinyemo.sweep.report import read_compared
        from tinyemo.sweep.space import read_space
        for name in ("workers", "dask_local", "threads"):
            value = getattr(args, name)
            if value is not None and value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
        if args.data and args.manifest:
            raise ValueError("give --data or --manifest, not both")
        space = read_space(args.space)
        compared = read_compared(args.compare)
        local = args.workers or args.dask_local
        threads = args.threads or (max(1, (os.cpu_count() or 1) // local) if local else None)
        targets = ("arousal", "valence") if args.target == "both" else (args.target,)
        config = SweepConfig(space, targets=targets, trials=args.trials or (
            10**6 if args.sampler == "grid" else 20), sampler=args.sampler, pruner=args.pruner,
            seeds_per_trial=args.seeds_per_trial, runs=args.runs, seed=args.seed,
            device=args.device, threads=threads if local or args.scheduler else None)
        from tinyemo.util.runtime import configure_process
        configure_process(args.threads)
        if args.manifest or args.data:
            source = Path(args.manifest or args.data)
        else:
            say(f"using the synthetic corpus (preset {args.preset!r}, seed {args.data_seed}); "
                f"--data DIR or --manifest FILE for your own")
            source = default_corpus(args.preset, args.data_seed)
        out = args.out or _free_out()
        check_folder(out, config, describe(source)[1], args.resume)
        executor = _executor(args)
        start = time.perf_counter()
        examples, data_info = load_examples_on(executor, source)
        say(f"{data_info['recordings']} recordings from {source}: features ready in "
            f"{time.perf_counter() - start:.1f} s; {config.budget()} trial(s) per target, "
            f"{executor.slots} at a time, into {out}")
        run_sweep(examples, config, out, executor=executor, data_info=data_info,
                  resume=args.resume, say=say, progress=progress, compared=compared)
    except KeyboardInterrupt:
        again = [a for a in argv if a != "--resume"]
        if args.out is None:
            again += ["--out", str(out or "DIR")]
        print(f"\ninterrupted; continue with: tinyemo sweep {shlex.join(again)} --resume",
              file=sys.stderr)
        return 130
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if executor is not None:
            executor.close()
    if not args.quiet:
        print((out / "results.md").read_text())
    print(f"sweep in {out}")
    return 0
