"""``tinyemo baseline``: fit a literature baseline (AVEC 2016 eGeMAPS + linear SVR, or
windowed log-mel statistics + ridge) into a run folder like ``tinyemo train``'s."""
from __future__ import annotations

import argparse
from pathlib import Path

from tinyemo.baselines.common import baseline_module, check_out, train_baseline
from tinyemo.cli.boundary import Progress, check_threads, free_out, run_command
from tinyemo.cli.corpus import add_corpus_options, corpus_path, data_source, targets_of
from tinyemo.data import load_corpus
from tinyemo.runs.experiment import sample_rate_rule
from tinyemo.runs.tables import results_table
from tinyemo.util.runtime import configure_process
from tinyemo.util.settings import SettingError

__all__ = ["baseline_main", "baseline_parser"]


def baseline_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo baseline", description="Fit a literature baseline "
                                "(tinyemo/baselines: AVEC 2016 eGeMAPS + linear SVR, or windowed "
                                "log-mel statistics + ridge), settings chosen on dev, into a run "
                                "folder like tinyemo train's, and report the paper's table.")
    p.add_argument("--kind", choices=("avec2016", "windowed"), required=True,
                   help="avec2016 (needs pip install 'tinyemo[baselines]') or windowed")
    add_corpus_options(p)
    p.add_argument("--windows", dest="windows_s", type=float, nargs="+", metavar="SECONDS",
                   help="candidate window lengths in seconds (default avec2016: 2 4 6 8 10; "
                        "windowed: 1 2 5 10 20)")
    p.add_argument("--sample-rate", type=int,
                   help="the rate in Hz audio is used at (default: the corpus's most common)")
    p.add_argument("--out", type=Path, help="output folder (default runs/<kind>, or the next free)")
    p.add_argument("--threads", type=int)
    p.add_argument("--quiet", action="store_true")
    return p


def _baseline(args) -> int:
    ui = Progress(args.quiet)
    # check everything: settings, the optional dependencies, the data, the output folder
    module = baseline_module(args.kind)
    config = module.Config(windows_s=tuple(args.windows_s)) if args.windows_s else module.Config()
    check_threads(args.threads)
    if args.sample_rate is not None and sample_rate_rule(args.sample_rate):
        raise SettingError("sample_rate", sample_rate_rule(args.sample_rate))
    module.check(training=True)
    source = data_source(args)
    out = args.out or free_out(args.kind)
    try:
        check_out(out)
    except ValueError as exc:
        raise SettingError("out", str(exc)) from None
    # then create
    configure_process(args.threads)
    source = corpus_path(args, source, ui)
    corpus = load_corpus(source)
    targets = targets_of(args)
    ui.say(f"{args.kind} baseline for {', '.join(targets)} on {len(corpus)} recordings from "
           f"{source} into {out}")
    results = train_baseline(args.kind, corpus, out, config=config, targets=targets,
                             source=source, sample_rate=args.sample_rate, say=ui.say,
                             progress=ui.counter("features"))
    print(results_table({args.kind: results}))
    print(f"results in {out}")
    return 0


def baseline_main(argv=None) -> int:
    parser = baseline_parser()
    args = parser.parse_args(argv)
    return run_command(parser, lambda: _baseline(args),
                       lambda: "interrupted; nothing is kept until config.json is written last: "
                               "run the command again")

