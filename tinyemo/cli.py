"""Command-line entry points: ``tinyemo train|predict|evaluate|plot`` (and the thin
``scripts/*.py`` wrappers). Thread counts are set here and only here."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["main", "train_main", "predict_main", "evaluate_main", "plot_main"]


def _configure_process(threads: int | None) -> None:
    from .runtime import configure_process
    try:
        configure_process(threads)
    except ValueError as exc:
        raise SystemExit(f"--threads: {exc}") from None


def _progress(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return lambda items, desc: tqdm(items, desc=desc, leave=False, unit="rec")


def _load_examples(args, say):
    from .data import default_corpus
    from .pipeline import load_examples
    if args.data and args.manifest:
        raise SystemExit("give --data or --manifest, not both")
    if args.manifest or args.data:
        source = Path(args.manifest or args.data)
    else:
        say(f"using the synthetic corpus (preset {args.preset!r}, seed {args.data_seed}); "
            f"--data DIR or --manifest FILE for your own")
        source = default_corpus(args.preset, args.data_seed)
    start = time.perf_counter()
    examples, data_info = load_examples(source, normalise=getattr(args, "normalise", "speaker"))
    say(f"{data_info['recordings']} recordings from {source}: features ready in "
        f"{time.perf_counter() - start:.1f} s")
    return examples, data_info


def _free_out(arch: str) -> Path:
    base = Path("runs") / arch
    out, n = base, 1
    while (out / "config.json").exists():
        n += 1
        out = base.with_name(f"{arch}-{n}")
    return out


def _kernel_sizes(text: str):
    """``--kernel-size``: one width (``4``) or one per layer/level (``5,5,3,3``)."""
    try:
        sizes = tuple(int(k) for k in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K or K1,K2,… (integers), got {text!r}") \
            from None
    return sizes[0] if "," not in text else sizes


def train_main(argv=None) -> int:
    from .experiment import ExperimentConfig, results_table, train_experiment
    from .models import ARCHITECTURES
    from .training import TrainConfig
    p = argparse.ArgumentParser(prog="tinyemo train", description="Train arousal/valence models "
                                "(Khorram et al., 2017) and report the paper's table.")
    p.add_argument("--arch", choices=ARCHITECTURES, default="downup")
    p.add_argument("--data", help="a corpus folder in the AVEC 2016 (RECOLA) layout")
    p.add_argument("--manifest", help="a CSV manifest (audio,speaker,partition,<target>…)")
    p.add_argument("--preset", default="quick", help="synthetic corpus preset when no data is given")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the synthetic corpus")
    p.add_argument("--target", choices=("arousal", "valence", "both"), default="both")
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
                   help="hidden-layer activation (default relu; single: tanh)")
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
    g.add_argument("--selection", metavar="patience|budget", default=TrainConfig.selection,
                   help="stop after --patience epochs without improvement, or train the whole "
                        "--epochs budget; both keep the best dev epoch")
    g.add_argument("--input-noise", type=float, default=TrainConfig.input_noise,
                   help="std of Gaussian noise added to the training features (z-units)")
    g.add_argument("--time-masks", type=int, default=TrainConfig.time_masks,
                   help="time masks per training recording and epoch")
    g.add_argument("--time-mask-seconds", type=float, default=TrainConfig.time_mask_seconds,
                   help="longest time mask")
    g.add_argument("--normalise", metavar="speaker|recording", default="speaker",
                   help="z-normalise features per speaker (the paper) or per recording")
    p.add_argument("--out", type=Path, help="output folder (default runs/<arch>, or the next free)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    say = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    if args.runs < 1:
        raise SystemExit("--runs must be >= 1")
    if args.resume and args.out is None:
        raise SystemExit("--resume needs --out (the folder to continue)")
    _configure_process(args.threads)
    try:
        targets = ["arousal", "valence"] if args.target == "both" else [args.target]
        train_fields = ("epochs", "patience", "lr", "l2", "loss", "device", "selection",
                        "decoupled_weight_decay", "clip_grad_norm", "lr_schedule", "lr_factor",
                        "lr_patience", "min_lr", "input_noise", "time_masks", "time_mask_seconds")
        cfg = TrainConfig(**{k: getattr(args, k) for k in train_fields})
        model_fields = ("width", "kernel_size", "depth", "filter_length", "up_kernel_size",
                        "pool", "activation", "init", "dropout", "dropout_mode", "input_average")
        overrides = {k: getattr(args, k) for k in model_fields}
        config = ExperimentConfig(arch=args.arch, targets=tuple(targets),
                                  seeds=tuple(range(args.seed, args.seed + args.runs)), train=cfg,
                                  model={k: v for k, v in overrides.items() if v is not None},
                                  normalise=args.normalise)   # checks every setting
        examples, data_info = _load_examples(args, say)
        out = args.out or _free_out(args.arch)
        say(f"training {args.arch} for {', '.join(targets)}: {args.runs} run(s) into {out}")
        results = train_experiment(examples, config, out, data_info=data_info, resume=args.resume,
                                   say=say, progress=_progress(args.quiet))
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(results_table({args.arch: results}))
    print(f"results in {out}")
    return 0


def predict_main(argv=None) -> int:
    from .predict import predict_files
    p = argparse.ArgumentParser(prog="tinyemo predict", description="Predict arousal and valence "
                                "every 40 ms for audio files with a trained model folder.")
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    p.add_argument("audio", nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path, help="folder for one CSV per audio file")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int)
    args = p.parse_args(argv)
    _configure_process(args.threads)
    try:
        for path in predict_files(args.model, args.audio, args.out, args.device):
            print(path)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def evaluate_main(argv=None) -> int:
    from .predict import evaluate
    p = argparse.ArgumentParser(prog="tinyemo evaluate", description="Score a trained model "
                                "folder on a labelled corpus partition (AVEC-style CCC).")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--data", required=True, type=Path, help="AVEC 2016 folder or .csv manifest")
    p.add_argument("--partition", default="dev")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int)
    args = p.parse_args(argv)
    _configure_process(args.threads)
    try:
        print(evaluate(args.model, args.data, args.partition, args.device))
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def plot_main(argv=None) -> int:
    from .plot import plot_prediction_csv
    p = argparse.ArgumentParser(prog="tinyemo plot", description="Plot predictions against the "
                                "gold standard (the paper's Figure 5) from a predictions CSV.")
    p.add_argument("csv", nargs="+", type=Path, help="predictions/<partition>/<id>.csv, one per model")
    p.add_argument("--out", required=True, type=Path, help="PNG file")
    p.add_argument("--start", type=float, default=0.0, help="seconds")
    p.add_argument("--duration", type=float, default=60.0, help="seconds")
    p.add_argument("--labels", nargs="*", help="a legend name per CSV")
    args = p.parse_args(argv)
    try:
        plot_prediction_csv(args.csv, args.out, args.start, args.duration, args.labels)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(args.out)
    return 0


COMMANDS = {"train": train_main, "predict": predict_main, "evaluate": evaluate_main,
            "plot": plot_main}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: tinyemo {{{','.join(COMMANDS)}}} [options]  (tinyemo COMMAND --help)",
              file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])
