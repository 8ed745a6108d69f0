"""Command-line entry points: ``tinyemo train|predict|evaluate|plot|sweep|export|profile``
(and the thin ``scripts/*.py`` wrappers). Thread counts are set here and only here.

Each command checks every option, path and file it will touch before it creates anything
(settings objects check themselves; their field names map to options: ``up_kernel_size`` →
``--up-kernel-size``), and reports every failure as one ``error:`` line on stderr with exit
status 2, warnings as ``warning:`` lines, and Ctrl-C as one line (status 130) saying how to
continue.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

__all__ = ["main", "train_main", "predict_main", "evaluate_main", "plot_main", "sweep_main",
           "baseline_main", "export_main", "profile_main", "stream_main", "COMMANDS"]

# Settings fields whose command-line option is not ``--<field-name>``.
_OPTION_OF = {"seeds": "--seed/--runs", "targets": "--target"}


# ---------------------------------------------------------------- the boundary

def _option(parser: argparse.ArgumentParser, field: str) -> str:
    """The option that sets ``field`` (an argparse dest or a settings field), or the field."""
    for action in parser._actions:
        if action.dest == field and action.option_strings:
            return max(action.option_strings, key=len)
    return _OPTION_OF.get(field, field)


def _os_error(exc: OSError) -> str:
    cause = exc.strerror or str(exc)
    return f"{exc.filename}: {cause}" if exc.filename else cause


def _boundary(parser: argparse.ArgumentParser, run: Callable[[], int],
              interrupted: Callable[[], str] = lambda: "interrupted") -> int:
    """Run a command: its failures become one line each (never a traceback), its warnings
    ``warning:`` lines, Ctrl-C a line from ``interrupted`` and status 130."""
    from tinyemo.util.notices import TinyemoWarning
    from tinyemo.util.settings import SettingError

    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, TinyemoWarning):
            print(f"warning: {message}", file=sys.stderr, flush=True)
        else:
            original(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always", TinyemoWarning)
        warnings.showwarning = show
        try:
            return run()
        except KeyboardInterrupt:
            print(interrupted(), file=sys.stderr)
            return 130
        except SettingError as exc:
            print(f"error: {_option(parser, exc.field)}: {exc.problem}", file=sys.stderr)
        except OSError as exc:
            print(f"error: {_os_error(exc)}", file=sys.stderr)
        except (ValueError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
        except MemoryError:
            print("error: out of memory", file=sys.stderr)
    return 2


class _Progress:
    """Progress bars on stderr when it is a terminal (tqdm), nothing with --quiet or when it
    is not; notes (``say``) go to stdout unless --quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bars = not quiet and sys.stderr.isatty()

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def note(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    def counter(self, desc: str, unit: str = "rec") -> Callable[[int, int], None] | None:
        """A ``progress(done, total)`` callback drawing one bar, or None."""
        if not self.bars:
            return None
        from tqdm import tqdm
        state: dict = {}

        def progress(done: int, total: int) -> None:
            if "bar" not in state:
                state["bar"] = tqdm(total=total, desc=desc, unit=unit, leave=False)
            bar = state["bar"]
            bar.update(done - bar.n)
            if done >= total:
                bar.close()
        return progress

    def epochs(self):
        """A ``progress(items, desc)`` wrapper for a training epoch's recordings: no ETA (the
        first epoch includes compiling, and early stopping makes the epoch count unknown)."""
        if not self.bars:
            return None
        from tqdm import tqdm
        return lambda items, desc: tqdm(items, desc=desc, leave=False, unit="rec",
                                        bar_format="{desc}: {n_fmt}/{total_fmt} {unit} "
                                                   "[{elapsed}]")


def _check_threads(threads: int | None) -> None:
    from tinyemo.util.runtime import check_threads
    from tinyemo.util.settings import SettingError
    try:
        check_threads(threads)
    except ValueError as exc:
        raise SettingError("threads", str(exc)) from None


def _check_device(device: str) -> None:
    """``--device cuda`` needs a usable GPU: known before anything is created."""
    if device == "cuda":
        from tinyemo.engine.backend import cuda_module
        from tinyemo.util.settings import SettingError
        try:
            cuda_module()
        except RuntimeError as exc:
            raise SettingError("device", str(exc)) from None


def _check_out_path(out: Path, option: str = "out") -> None:
    """A folder the command will write into: absent or a folder, never a file."""
    from tinyemo.util.settings import SettingError
    if out.exists() and not out.is_dir():
        raise SettingError(option, f"{out} exists and is not a folder")


# ---------------------------------------------------------------- train

def _kernel_sizes(text: str):
    """``--kernel-size``: one width (``4``) or one per layer/level (``5,5,3,3``)."""
    try:
        sizes = tuple(int(k) for k in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K or K1,K2,… (integers), got {text!r}") \
            from None
    return sizes[0] if "," not in text else sizes


def train_parser() -> argparse.ArgumentParser:
    from tinyemo.models.config import ARCHITECTURES
    from tinyemo.train.loop import TrainConfig
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
    p.add_argument("--sample-rate", type=int,
                   help="the front end's rate in Hz; other audio is resampled to it (default: "
                        "the corpus's most common rate)")
    p.add_argument("--out", type=Path, help="output folder (default runs/<arch>, or the next free)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int)
    p.add_argument("--quiet", action="store_true")
    return p


def _free_out(arch: str) -> Path:
    """runs/<arch>, or the first runs/<arch>-N that is absent or an empty folder."""
    base = Path("runs") / arch
    out, n = base, 1
    while out.exists() and (not out.is_dir() or any(out.iterdir())):
        n += 1
        out = base.with_name(f"{arch}-{n}")
    return out


def _data_source(args) -> Path | None:
    """The corpus path of --data/--manifest (checked), or None for the synthetic corpus."""
    from tinyemo.data import PRESETS
    from tinyemo.util.settings import SettingError
    if args.data and args.manifest:
        raise SettingError("data", "give --data or --manifest, not both")
    if args.manifest:
        path = Path(args.manifest)
        if not path.is_file():
            raise SettingError("manifest", f"{path}: no such file")
        return path
    if args.data:
        path = Path(args.data)
        if not path.exists():
            raise SettingError("data", f"{path}: no such corpus folder or manifest")
        return path
    if args.preset not in PRESETS:
        raise SettingError("preset", f"unknown preset {args.preset!r}; choose one of "
                           f"{', '.join(PRESETS)}")
    if args.data_seed < 0:
        raise SettingError("data_seed", f"must be >= 0, got {args.data_seed}")
    return None


def _load_examples(args, source: Path | None, ui: _Progress):
    from tinyemo.data.cached import synthetic_corpus
    from tinyemo.data.examples import load_examples
    if source is None:
        ui.say(f"using the synthetic corpus (preset {args.preset!r}, seed {args.data_seed}); "
               f"--data DIR or --manifest FILE for your own")
        bar = ui.counter("generating the synthetic corpus")

        def generating(done, total):
            if done == 0:
                ui.note(f"generating the synthetic corpus: {total} recordings (once; reused "
                        f"afterwards)")
            if bar:
                bar(done, total)
        source = synthetic_corpus(args.preset, args.data_seed, progress=generating)
    start = time.perf_counter()
    examples, data_info = load_examples(source, progress=ui.counter("features"),
                                        sample_rate=args.sample_rate, normalise=args.normalise)
    ui.say(f"{data_info['recordings']} recordings from {source} at {data_info['sample_rate']} "
           f"Hz: features ready in {time.perf_counter() - start:.1f} s")
    return examples, data_info


def _train(args, state: dict) -> int:
    from tinyemo.runs.experiment import (
        ExperimentConfig,
        check_resume,
        run_record,
        train_experiment,
    )
    from tinyemo.runs.folder import CONFIG, check_out_folder
    from tinyemo.runs.tables import results_table
    from tinyemo.train.loop import TrainConfig
    from tinyemo.util.compile_notice import announce_compilation
    from tinyemo.util.runtime import configure_process
    from tinyemo.util.settings import SettingError
    ui = _Progress(args.quiet)
    # check everything: settings objects first, then the process, the data, the output folder
    targets = ("arousal", "valence") if args.target == "both" else (args.target,)
    model_fields = ("width", "kernel_size", "depth", "filter_length", "up_kernel_size", "pool",
                    "activation", "init", "dropout", "dropout_mode", "input_average")
    train_fields = ("epochs", "patience", "lr", "l2", "loss", "device", "selection",
                    "decoupled_weight_decay", "clip_grad_norm", "lr_schedule", "lr_factor",
                    "lr_patience", "min_lr", "input_noise", "time_masks", "time_mask_seconds")
    config = ExperimentConfig(
        arch=args.arch, targets=targets, seeds=tuple(range(args.seed, args.seed + args.runs)),
        train=TrainConfig(**{k: getattr(args, k) for k in train_fields}),
        model={k: getattr(args, k) for k in model_fields if getattr(args, k) is not None},
        sample_rate=args.sample_rate, normalise=args.normalise)
    _check_threads(args.threads)
    _check_device(args.device)
    source = _data_source(args)
    out = args.out or _free_out(args.arch)
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
    return _boundary(parser, lambda: _train(args, state), lambda: _train_interrupted(argv, state))


# ---------------------------------------------------------------- predict, evaluate, plot

def predict_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo predict", description="Predict arousal and valence "
                                "every 40 ms for audio files with a trained model folder, "
                                "files of any length in bounded memory. Streaming from "
                                "standard input: tinyemo predict --stream --help; "
                                + _latency_help() + ".")
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    p.add_argument("audio", nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path, help="folder for one CSV per audio file")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int)
    p.add_argument("--quiet", action="store_true", help="no progress bar or notes")
    p.add_argument("--dither", type=float, help="the fbank dither instead of the model's (0: "
                   "what the graph of tinyemo export computes)")
    return p


def predict_main(argv=None) -> int:
    if "--stream" in (sys.argv[1:] if argv is None else argv):
        return stream_main(argv)
    parser = predict_parser()
    args = parser.parse_args(argv)

    def run() -> int:
        from tinyemo.runs.folder import read_config
        from tinyemo.serve.predict import predict_files
        from tinyemo.util.compile_notice import announce_compilation
        from tinyemo.util.runtime import configure_process
        ui = _Progress(args.quiet)
        _check_threads(args.threads)
        _check_device(args.device)
        read_config(args.model)
        _check_out_path(args.out)
        if args.dither is not None and not args.dither >= 0:
            from tinyemo.util.settings import SettingError
            raise SettingError("dither", f"must be >= 0, got {args.dither}")
        for audio in args.audio:
            if not audio.is_file():
                raise ValueError(f"{audio}: no such audio file")
        configure_process(args.threads)
        with announce_compilation(ui.note):
            paths = predict_files(args.model, args.audio, args.out, args.device,
                                  progress=ui.counter("files", unit="file"), dither=args.dither)
        for path in paths:
            print(path)
        return 0
    return _boundary(parser, run)


def evaluate_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo evaluate", description="Score a trained model "
                                "folder on a labelled corpus partition (AVEC-style CCC over "
                                "the concatenated recordings, and per recording).")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--data", required=True, type=Path, help="AVEC 2016 folder or .csv manifest")
    p.add_argument("--partition", default="dev")
    p.add_argument("--target", help="score only this target (default: every target of the model)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int)
    p.add_argument("--quiet", action="store_true", help="no progress bar or notes")
    return p


def evaluate_main(argv=None) -> int:
    parser = evaluate_parser()
    args = parser.parse_args(argv)

    def run() -> int:
        from tinyemo.runs.folder import read_config
        from tinyemo.serve.predict import evaluate
        from tinyemo.util.compile_notice import announce_compilation
        from tinyemo.util.runtime import configure_process
        ui = _Progress(args.quiet)
        _check_threads(args.threads)
        _check_device(args.device)
        read_config(args.model)
        if not args.data.exists():
            raise ValueError(f"{args.data}: no such corpus folder or manifest")
        configure_process(args.threads)
        with announce_compilation(ui.note):
            print(evaluate(args.model, args.data, args.partition, args.device, args.target,
                           progress=ui.counter("features")))
        return 0
    return _boundary(parser, run)


def plot_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo plot", description="Plot predictions against the "
                                "gold standard (the paper's Figure 5) from prediction CSVs.")
    p.add_argument("csv", nargs="+", type=Path,
                   help="predictions/<partition>/<id>.csv; several models of one recording "
                        "share its panels, other recordings get their own")
    p.add_argument("--out", required=True, type=Path, help="PNG file")
    p.add_argument("--start", type=float, default=0.0, help="seconds")
    p.add_argument("--duration", type=float, default=60.0, help="seconds")
    p.add_argument("--labels", nargs="*", help="a legend name per CSV")
    return p


def plot_main(argv=None) -> int:
    parser = plot_parser()
    args = parser.parse_args(argv)

    def run() -> int:
        from tinyemo.report.plot import plot_prediction_csv
        from tinyemo.util.settings import SettingError
        if args.out.is_dir():
            raise SettingError("out", f"{args.out} is a folder; give a .png file name")
        if not args.duration > 0:
            raise SettingError("duration", f"must be > 0 seconds, got {args.duration}")
        plot_prediction_csv(args.csv, args.out, args.start, args.duration, args.labels)
        print(args.out)
        return 0
    return _boundary(parser, run)


def sweep_main(argv=None) -> int:
    """``tinyemo sweep``: see tinyemo/sweep/command.py."""
    from tinyemo.cli.sweep import sweep_main as run
    return run(argv)


# ---------------------------------------------------------------- baseline

def baseline_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo baseline", description="Fit a literature baseline "
                                "(tinyemo/baselines: AVEC 2016 eGeMAPS + linear SVR, or windowed "
                                "log-mel statistics + ridge), settings chosen on dev, into a run "
                                "folder like tinyemo train's, and report the paper's table.")
    p.add_argument("--kind", choices=("avec2016", "windowed"), required=True,
                   help="avec2016 (needs pip install 'tinyemo[baselines]') or windowed")
    p.add_argument("--data", help="a corpus folder in the AVEC 2016 (RECOLA) layout")
    p.add_argument("--manifest", help="a CSV manifest (audio,speaker,partition,<target>…)")
    p.add_argument("--preset", default="quick",
                   help="synthetic corpus preset when no data is given")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the synthetic corpus")
    p.add_argument("--target", choices=("arousal", "valence", "both"), default="both")
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
    from tinyemo.baselines.common import baseline_module, check_out, train_baseline
    from tinyemo.data import load_corpus
    from tinyemo.data.cached import synthetic_corpus
    from tinyemo.runs.tables import results_table
    from tinyemo.util.runtime import configure_process
    from tinyemo.util.settings import SettingError
    ui = _Progress(args.quiet)
    # check everything: settings, the optional dependencies, the data, the output folder
    module = baseline_module(args.kind)
    config = module.Config(windows_s=tuple(args.windows_s)) if args.windows_s else module.Config()
    _check_threads(args.threads)
    if args.sample_rate is not None and args.sample_rate < 1:
        raise SettingError("sample_rate", f"must be >= 1 (Hz), got {args.sample_rate}")
    module.check(training=True)
    source = _data_source(args)
    out = args.out or _free_out(args.kind)
    try:
        check_out(out)
    except ValueError as exc:
        raise SettingError("out", str(exc)) from None
    # then create
    configure_process(args.threads)
    if source is None:
        ui.say(f"using the synthetic corpus (preset {args.preset!r}, seed {args.data_seed}); "
               f"--data DIR or --manifest FILE for your own")
        source = synthetic_corpus(args.preset, args.data_seed,
                                  progress=ui.counter("generating the synthetic corpus"))
    corpus = load_corpus(source)
    targets = ("arousal", "valence") if args.target == "both" else (args.target,)
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
    return _boundary(parser, lambda: _baseline(args),
                     lambda: "interrupted; nothing is kept until config.json is written last: "
                             "run the command again")


# ---------------------------------------------------------------- deployment

def _seconds(s: float) -> str:
    return f"{s:.2f} s" if s != float("inf") else "the whole recording"


def _latency_help() -> str:
    from tinyemo.serve.windowed import default_latencies
    per_arch = ", ".join(f"{arch} {_seconds(s)}" for arch, s in default_latencies().items())
    return (f"streaming latency = the model's right-hand context + at most one chunk: "
            f"{per_arch} (the paper's settings at 16 kHz)")


def stream_parser() -> argparse.ArgumentParser:
    from tinyemo.serve.stream_pipe import STREAM_FORMATS
    p = argparse.ArgumentParser(
        prog="tinyemo predict --stream",
        description="Predict arousal and valence from audio on standard input (WAV, or raw PCM "
        "with --format/--rate/--channels; other rates than the model's are resampled) and "
        "write 'time,<target>…' CSV rows to standard output as soon as they are final, "
        "flushing each. " + _latency_help() + ".")
    p.add_argument("--stream", action="store_true", required=True,
                   help="read standard input, write rows as they become final")
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    p.add_argument("--profile", type=Path, help="speaker profile (tinyemo profile): normalise "
                   "with its fixed statistics; the rows then equal the offline prediction")
    p.add_argument("--running", action="store_true", help="normalise with the running "
                   "statistics of the stream so far instead (no enrolment; early rows noisier)")
    p.add_argument("--format", choices=STREAM_FORMATS, default="wav",
                   help="wav (format, rate and channels from its header) or raw little-endian PCM")
    p.add_argument("--rate", type=int, help="raw PCM sample rate (default: the model's)")
    p.add_argument("--channels", type=int, default=1, help="raw PCM channels (averaged)")
    p.add_argument("--chunk", type=int, default=4096, help="bytes read at a time, at most")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int)
    p.add_argument("--quiet", action="store_true", help="no note of the latency on stderr")
    return p


def stream_main(argv=None) -> int:
    """``tinyemo predict --stream``: standard input → CSV rows on standard output."""
    parser = stream_parser()
    args = parser.parse_args(argv)

    def run() -> int:
        from tinyemo.runs.folder import read_config
        from tinyemo.serve.stream_pipe import predict_stream
        from tinyemo.util.runtime import configure_process
        from tinyemo.util.settings import SettingError
        ui = _Progress(args.quiet)
        if (args.profile is None) == (not args.running):
            raise SettingError("profile", "give --profile FILE or --running (how to normalise "
                               "the stream)")
        for name in ("rate", "channels", "chunk"):
            value = getattr(args, name)
            if value is not None and value < 1:
                raise SettingError(name, f"must be >= 1, got {value}")
        _check_threads(args.threads)
        _check_device(args.device)
        read_config(args.model)
        if args.profile is not None and not args.profile.is_file():
            raise ValueError(f"{args.profile}: no such profile")
        configure_process(args.threads)

        def started(predictor):
            rates = (f"{predictor.input_rate} Hz resampled to {predictor.sample_rate} Hz (the "
                     "model's)" if predictor.input_rate != predictor.sample_rate
                     else f"{predictor.sample_rate} Hz")
            when = (f"rows final {predictor.latency_s:.2f} s after their time stamp (+ one "
                    "chunk)" if predictor.latency_s != float("inf") else
                    "every row comes at the end (the model's context is the whole recording)")
            ui.note(f"streaming {rates}; {when}")
        predict_stream(args.model, sys.stdin.buffer, sys.stdout, fmt=args.format, rate=args.rate,
                       channels=args.channels, normalisation="running" if args.running
                       else "profile", profile=args.profile, chunk_bytes=args.chunk,
                       device=args.device, on_start=started)
        return 0
    return _boundary(parser, run, lambda: "interrupted: the rows written so far are final")


def export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo export", description="Export a trained model "
                                "folder (every seed of every target, averaged) to ONNX "
                                "(pip install \"tinyemo[export]\").")
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    p.add_argument("--out", required=True, type=Path, help="the .onnx file to write")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--with-frontend", action="store_true", default=True,
                      help="input: the waveform (the default): Kaldi fbank, per-recording "
                      "normalisation and stacking in the graph, as tinyemo predict --dither 0")
    mode.add_argument("--features", action="store_true",
                      help="input: stacked normalised features (T, C); the nets alone")
    p.add_argument("--sample-rate", type=int, help="the waveform's rate when the model folder "
                   "does not record it")
    p.add_argument("--opset", type=int, help="ONNX opset (default: the onnx package's newest)")
    return p


def export_main(argv=None) -> int:
    parser = export_parser()
    args = parser.parse_args(argv)

    def run() -> int:
        from tinyemo.export import check_writable, export_onnx
        from tinyemo.runs.folder import read_config
        read_config(args.model)
        check_writable(args.out)
        meta = export_onnx(args.model, args.out, features=args.features,
                           sample_rate=args.sample_rate, opset=args.opset)
        print(f"{args.out}: input {meta['input'].split(':')[0]}, outputs {meta['targets']} "
              f"every {meta['frame_period_s']} s")
        return 0
    return _boundary(parser, run)


def profile_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo profile", description="Save a speaker profile "
                                "(mean and std of the 10-ms log-mels) for tinyemo predict "
                                "--stream --profile: from enrolment audio of the speaker, or "
                                "from the model's training corpus.")
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    p.add_argument("audio", nargs="*", type=Path, help="enrolment recordings of one speaker")
    p.add_argument("--from-training", action="store_true",
                   help="pool the model's training partition instead (all its speakers)")
    p.add_argument("--out", required=True, type=Path, help="the profile file to write (.npz)")
    return p


def profile_main(argv=None) -> int:
    parser = profile_parser()
    args = parser.parse_args(argv)

    def run() -> int:
        from tinyemo.export import check_writable
        from tinyemo.runs.ensemble import Ensemble
        from tinyemo.serve.profile import profile_of_files, training_profile
        from tinyemo.serve.streaming import model_options, model_sample_rate
        from tinyemo.util.settings import SettingError
        if bool(args.audio) == args.from_training:
            raise SettingError("from_training", "give enrolment audio files or --from-training")
        check_writable(args.out)
        for audio in args.audio:
            if not audio.is_file():
                raise ValueError(f"{audio}: no such audio file")
        ensemble = Ensemble(args.model)
        options, rate = model_options(ensemble)[0], model_sample_rate(ensemble)
        profile = (training_profile(ensemble.config, options, rate) if args.from_training
                   else profile_of_files(args.audio, options, rate))
        profile.save(args.out)
        seconds = profile.frames * options.frame_shift / 1000
        print(f"{args.out}: {profile.frames} frames ({seconds:.1f} s) from {profile.source}")
        return 0
    return _boundary(parser, run)


# ---------------------------------------------------------------- tinyemo COMMAND

COMMANDS = {"train": train_main, "predict": predict_main, "evaluate": evaluate_main,
            "plot": plot_main, "sweep": sweep_main, "baseline": baseline_main,
            "export": export_main, "profile": profile_main}
SUMMARIES = {
    "train": "train arousal/valence models on a corpus (default: the synthetic one) and print "
             "the paper's table",
    "predict": "write arousal and valence every 40 ms for audio files with a trained model",
    "evaluate": "score a trained model on a labelled corpus partition (CCC, RMSE)",
    "plot": "plot prediction CSVs against the gold standard (the paper's Figure 5)",
    "sweep": "choose settings on the dev partition (Optuna), then train the best and score test",
    "baseline": "fit a literature baseline (AVEC 2016 eGeMAPS + SVR, or windowed statistics + "
                "ridge) like a model",
    "export": "export a trained model (with its front end) to ONNX",
    "profile": "save a speaker profile for streaming prediction (predict --stream)",
}


def _usage() -> str:
    from tinyemo import __version__
    width = max(map(len, COMMANDS))
    lines = ["usage: tinyemo COMMAND [options]   (tinyemo COMMAND --help for its options)", "",
             f"tinyemo {__version__}: continuous speech emotion recognition (Khorram et al., "
             f"Interspeech 2017)", "", "commands:"]
    lines += [f"  {name:<{width}}  {SUMMARIES[name]}" for name in COMMANDS]
    lines += ["", "options:", "  -h, --help  this list", "  --version   the version"]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv and argv[0] == "--version":
        from tinyemo import __version__
        print(f"tinyemo {__version__}")
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(_usage(), file=sys.stderr)
        if argv:
            print(f"error: unknown command {argv[0]!r}", file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
