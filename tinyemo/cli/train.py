"""``tinyemo train``: train arousal/valence nets (every seed of every target) into a run
folder and print the paper's table; ``--resume`` continues a run after Ctrl-C or kill -9."""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from tinyemo.cli.boundary import (Progress, add_run_options, check_device, check_threads, free_out,
                                  run_command)
from tinyemo.cli.corpus import add_corpus_options, corpus_path, data_source, targets_of
from tinyemo.data.examples import load_examples
from tinyemo.frontend.descriptors import FEATURES, require_opensmile
from tinyemo.models.config import ARCHITECTURES
from tinyemo.runs.experiment import ExperimentConfig, check_resume, run_record, train_experiment
from tinyemo.runs.folder import CONFIG, check_out_folder
from tinyemo.runs.tables import results_table
from tinyemo.train.loop import TrainConfig
from tinyemo.util.compile_notice import announce_compilation
from tinyemo.util.runtime import configure_process
from tinyemo.util.settings import SettingError

__all__ = ["train_main", "train_parser"]


def _kernel_sizes(text: str):
    """``--kernel-size``: one width (``4``) or one per layer/level (``5,5,3,3``)."""
    try:
        sizes = tuple(int(k) for k in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K or K1,K2,… (integers), got {text!r}") \
            from None
    return sizes[0] if "," not in text else sizes


def train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo train", description="Train arousal/valence models "
                                "(Khorram et al., 2017) and report the paper's table.")
    p.add_argument("--arch", choices=ARCHITECTURES, default="downup")
    add_corpus_options(p)
    p.add_argument("--runs", type=int, default=5, help="seeds per target; predictions averaged")
    p.add_argument("--seed", type=int, default=0, help="first seed (runs use seed … seed+runs-1)")
    p.add_argument("--epochs", type=int, default=TrainConfig.epochs, help="maximum epochs")
    p.add_argument("--patience", type=int, default=TrainConfig.patience)
    p.add_argument("--lr", type=float, default=TrainConfig.lr)
    p.add_argument("--loss", choices=("ccc", "mse"), default="ccc")
    p.add_argument("--width", type=int, help="channels (default: the paper's per arch/target)")
    p.add_argument("--kernel-size", type=_kernel_sizes, metavar="K[,K…]",
                   help="conv width, or one per layer (dilated) / per level (downup; one more "
                        "for the intermediate conv)")
    p.add_argument("--depth", type=int)
    p.add_argument("--filter-length", type=int, help="single: the filter length L in frames")
    p.add_argument("--up-kernel-size", type=int,
                   help="downup: transposed-conv width, >= --pool (default: the pool factor; "
                        "wider overlaps)")
    g = p.add_argument_group("model settings beyond the paper's (defaults: the paper's)")
    g.add_argument("--pool", type=int, help="downup: pooling / up-sampling factor (default 3)")
    g.add_argument("--activation", metavar="relu|tanh",
                   help="hidden-layer activation (default tanh)")
    g.add_argument("--init", metavar="he|xavier", help="weight init (default he)")
    g.add_argument("--dropout", type=float, help="drop probability after each hidden layer")
    g.add_argument("--dropout-mode", metavar="element|channel",
                   help="drop single values, or whole channels of a recording (default element)")
    g.add_argument("--input-average", type=float, metavar="SECONDS",
                   help="a fixed moving average of the input features over this window")
    g = p.add_argument_group("optimisation and selection")
    g.add_argument("--l2", type=float, default=TrainConfig.l2,
                   help="L2 as the paper: l2·w added to the gradient (loss + l2/2·Σw²)")
    g.add_argument("--decoupled-weight-decay", type=float,
                   default=TrainConfig.decoupled_weight_decay,
                   help="AdamW's decay: each step w ← w − lr·λ·w, apart from the gradient")
    g.add_argument("--clip-grad-norm", type=float, default=TrainConfig.clip_grad_norm,
                   help="largest global gradient norm (0: no clipping)")
    g.add_argument("--lr-schedule", metavar="constant|plateau", default=TrainConfig.lr_schedule,
                   help="plateau: lr × --lr-factor after more than --lr-patience epochs "
                        "without a better dev CCC")
    g.add_argument("--lr-factor", type=float, default=TrainConfig.lr_factor)
    g.add_argument("--lr-patience", type=int, default=TrainConfig.lr_patience)
    g.add_argument("--min-lr", type=float, default=TrainConfig.min_lr)
    g.add_argument("--selection", metavar="patience|budget|fixed", default=TrainConfig.selection,
                   help="stop after --patience epochs without improvement, or train the whole "
                        "--epochs budget (both keep the best dev epoch), or train exactly --epochs "
                        "and keep the last (fixed)")
    g.add_argument("--input-noise", type=float, default=TrainConfig.input_noise,
                   help="std of Gaussian noise added to the training features (z-units)")
    g.add_argument("--time-masks", type=int, default=TrainConfig.time_masks,
                   help="time masks per training recording and epoch")
    g.add_argument("--time-mask-seconds", type=float, default=TrainConfig.time_mask_seconds,
                   help="longest time mask")
    g.add_argument("--normalise", metavar="speaker|recording", default="speaker",
                   help="z-normalise features per speaker (the paper) or per recording")
    g.add_argument("--features", choices=FEATURES, default="fbank",
                   help="model inputs: 40 log-mels (the paper), openSMILE's eGeMAPS frame-level "
                        "descriptors (lld; research/personal use only) or both")
    p.add_argument("--sample-rate", type=int,
                   help="the front end's rate in Hz; other audio is resampled to it (default: "
                        "the corpus's most common rate)")
    p.add_argument("--out", type=Path, help="output folder (default runs/<arch>, or the next free)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    add_run_options(p)
    return p


def _load_examples(args, source: Path | None, ui: Progress):
    source = corpus_path(args, source, ui)
    start = time.perf_counter()
    examples, data_info = load_examples(source, progress=ui.counter("features"),
                                        sample_rate=args.sample_rate, normalise=args.normalise,
                                        features=args.features)
    ui.say(f"{data_info['recordings']} recordings from {source} at {data_info['sample_rate']} "
           f"Hz: features ready in {time.perf_counter() - start:.1f} s")
    return examples, data_info


def _train(args, state: dict) -> int:
    ui = Progress(args.quiet)
    # check everything: settings objects first, then the process, the data, the output folder
    targets = targets_of(args)
    model_fields = ("width", "kernel_size", "depth", "filter_length", "up_kernel_size", "pool",
                    "activation", "init", "dropout", "dropout_mode", "input_average")
    train_fields = ("epochs", "patience", "lr", "l2", "loss", "device", "selection",
                    "decoupled_weight_decay", "clip_grad_norm", "lr_schedule", "lr_factor",
                    "lr_patience", "min_lr", "input_noise", "time_masks", "time_mask_seconds")
    config = ExperimentConfig(
        arch=args.arch, targets=targets, seeds=tuple(range(args.seed, args.seed + args.runs)),
        train=TrainConfig(**{k: getattr(args, k) for k in train_fields}),
        model={k: getattr(args, k) for k in model_fields if getattr(args, k) is not None},
        sample_rate=args.sample_rate, normalise=args.normalise, features=args.features)
    if args.features != "fbank":
        require_opensmile()
    check_threads(args.threads)
    check_device(args.device)
    source = data_source(args)
    out = args.out or free_out(args.arch)
    try:
        saved = check_out_folder(out, args.resume, require_run=True)
    except ValueError as exc:
        raise SettingError("out", str(exc)) from None
    if saved is not None:   # the settings must match now; the corpus is compared once read
        channels = next(iter(saved["models"].values()))["in_channels"]
        check_resume(saved, run_record(config, channels, None), out / CONFIG)
    # then create
    state["out"] = out
    configure_process(args.threads)
    with announce_compilation(ui.note):
        examples, data_info = _load_examples(args, source, ui)
        ui.say(f"training {args.arch} for {', '.join(targets)}: {args.runs} run(s) into {out}")
        results = train_experiment(examples, config, out, data_info=data_info,
                                   resume=args.resume, say=ui.say, progress=ui.epochs())
    print(results_table({args.arch: results}))
    print(f"results in {out}")
    return 0


def _train_interrupted(argv: list[str], state: dict) -> str:
    out = state.get("out")
    if out is None or not (Path(out) / "config.json").is_file():
        return "interrupted before training started; nothing to resume"
    rest, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--out":
            skip = True
        elif not (arg.startswith("--out=") or arg == "--resume"):
            rest.append(arg)
    return ("interrupted; continue with: "
            + shlex.join(["tinyemo", "train", *rest, "--resume", "--out", str(out)]))


def train_main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = train_parser()
    args = parser.parse_args(argv)
    state: dict = {}
    return run_command(parser, lambda: _train(args, state), lambda: _train_interrupted(argv, state))

