"""``tinyemo baseline``: fit a literature baseline into a run folder like ``tinyemo train``'s."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .common import KINDS

__all__ = ["main"]


def _free_out(kind: str) -> Path:
    base = Path("runs") / kind
    out, n = base, 1
    while (out / "config.json").exists():
        n += 1
        out = base.with_name(f"{kind}-{n}")
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo baseline", description="Fit a literature baseline "
                                "(AVEC 2016 eGeMAPS + linear SVR, or windowed log-mel statistics "
                                "+ ridge), settings chosen on dev, and report the paper's table.")
    p.add_argument("--kind", choices=KINDS, required=True,
                   help="avec2016 (needs pip install 'tinyemo[baselines]') or windowed")
    p.add_argument("--data", help="a corpus folder in the AVEC 2016 (RECOLA) layout")
    p.add_argument("--manifest", help="a CSV manifest (audio,speaker,partition,<target>…)")
    p.add_argument("--preset", default="quick",
                   help="synthetic corpus preset when no data is given")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the synthetic corpus")
    p.add_argument("--target", choices=("arousal", "valence", "both"), default="both")
    p.add_argument("--windows", type=float, nargs="+", metavar="SECONDS",
                   help="candidate window lengths in seconds (default avec2016: 2 4 6 8 10; "
                        "windowed: 1 2 5 10 20)")
    p.add_argument("--out", type=Path, help="output folder (default runs/<kind>, or the next free)")
    p.add_argument("--threads", type=int)
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    say = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    try:
        from ..runtime import configure_process
        from .common import baseline_module, train_baseline
        configure_process(args.threads)
        if args.data and args.manifest:
            raise ValueError("give --data or --manifest, not both")
        module = baseline_module(args.kind)
        config = module.Config(windows_s=tuple(args.windows)) if args.windows else module.Config()
        module.check(training=True)
        out = args.out or _free_out(args.kind)
        if (out / "config.json").exists():
            raise ValueError(f"{out / 'config.json'}: this folder already holds a model; choose "
                             f"another --out folder")
        from ..data import default_corpus, load_corpus
        if args.manifest or args.data:
            source = Path(args.manifest or args.data)
        else:
            say(f"using the synthetic corpus (preset {args.preset!r}, seed {args.data_seed}); "
                f"--data DIR or --manifest FILE for your own")
            source = default_corpus(args.preset, args.data_seed)
        corpus = load_corpus(source)
        targets = ("arousal", "valence") if args.target == "both" else (args.target,)
        start = time.perf_counter()
        say(f"{args.kind} baseline for {', '.join(targets)} on {len(corpus)} recordings from "
            f"{source} into {out}")
        results = train_baseline(args.kind, corpus, out, config=config, targets=targets,
                                 data_info={"root": str(source), "recordings": len(corpus)},
                                 say=say)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing is kept unless config.json was written; run it again",
              file=sys.stderr)
        return 130
    from ..experiment import results_table
    print(results_table({args.kind: results}))
    print(f"results in {out} ({time.perf_counter() - start:.0f} s)")
    return 0
