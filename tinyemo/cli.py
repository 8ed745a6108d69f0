"""Command-line entry points: ``tinyemo train|predict|evaluate|plot|export|profile`` (and the thin
``scripts/*.py`` wrappers). Thread counts are set here and only here."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["main", "train_main", "predict_main", "evaluate_main", "plot_main",
           "export_main", "profile_main", "stream_main"]


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
    examples, data_info = load_examples(source)
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
    p.add_argument("--weight-decay", type=float, default=TrainConfig.weight_decay)
    p.add_argument("--loss", choices=("ccc", "mse"), default="ccc")
    p.add_argument("--width", type=int, help="channels (default: the paper's per arch/target)")
    p.add_argument("--kernel-size", type=int)
    p.add_argument("--depth", type=int)
    p.add_argument("--filter-length", type=int, help="single: the filter length L in frames")
    p.add_argument("--up-kernel-size", type=int,
                   help="downup: transposed-conv width (default 3 = the stride; wider overlaps)")
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
        examples, data_info = _load_examples(args, say)
        out = args.out or _free_out(args.arch)
        targets = ["arousal", "valence"] if args.target == "both" else [args.target]
        cfg = TrainConfig(epochs=args.epochs, patience=args.patience, lr=args.lr,
                          weight_decay=args.weight_decay, loss=args.loss, device=args.device)
        overrides = {"width": args.width, "kernel_size": args.kernel_size, "depth": args.depth,
                     "filter_length": args.filter_length, "up_kernel_size": args.up_kernel_size}
        say(f"training {args.arch} for {', '.join(targets)}: {args.runs} run(s) into {out}")
        config = ExperimentConfig(arch=args.arch, targets=tuple(targets),
                                  seeds=tuple(range(args.seed, args.seed + args.runs)), train=cfg,
                                  model={k: v for k, v in overrides.items() if v is not None})
        results = train_experiment(examples, config, out, data_info=data_info, resume=args.resume,
                                   say=say, progress=_progress(args.quiet))
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(results_table({args.arch: results}))
    print(f"results in {out}")
    return 0


def predict_main(argv=None) -> int:
    if "--stream" in (sys.argv[1:] if argv is None else argv):
        return stream_main(argv)
    from .predict import predict_files
    p = argparse.ArgumentParser(prog="tinyemo predict", description="Predict arousal and valence "
                                "every 40 ms for audio files with a trained model folder.")
    p.add_argument("--stream", action="store_true", help="read WAV or raw PCM from standard "
                   "input and write CSV rows as they become final (tinyemo predict --stream "
                   "--help); " + _latency_help())
    p.add_argument("--dither", type=float, help="override the model's fbank dither (0: the "
                   "features of the exported ONNX graph)")
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    p.add_argument("audio", nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path, help="folder for one CSV per audio file")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int)
    args = p.parse_args(argv)
    _configure_process(args.threads)
    try:
        for path in predict_files(args.model, args.audio, args.out, args.device,
                                  dither=args.dither):
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


def _latency_help() -> str:
    from .windowed import default_latencies
    per_arch = ", ".join(f"{arch} {s:.2f} s" for arch, s in default_latencies().items())
    return (f"latency = the model's right-hand context + at most one chunk: {per_arch} "
            "(the paper's default settings at 16 kHz)")


def stream_main(argv=None) -> int:
    """``tinyemo predict --stream``: standard input → CSV rows on standard output."""
    from .stream import NORMALISATIONS
    from .stream_io import STREAM_FORMATS, predict_stream
    p = argparse.ArgumentParser(
        prog="tinyemo predict --stream",
        description="Predict arousal and valence from audio on standard input (WAV, or raw PCM "
        "with --format/--rate/--channels) and write 'time,<target>…' CSV rows to standard "
        "output as soon as they are final, flushing each. " + _latency_help() + ".")
    p.add_argument("--stream", action="store_true", required=True)
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    p.add_argument("--profile", type=Path, help="speaker profile (tinyemo profile): normalise "
                   "with its fixed statistics; predictions then equal the offline ones")
    p.add_argument("--running", action="store_true", help="normalise with running statistics "
                   "of the stream so far instead of a profile (no enrolment; early rows noisier)")
    p.add_argument("--format", choices=STREAM_FORMATS, default="wav",
                   help="wav (from its header) or raw little-endian PCM")
    p.add_argument("--rate", type=int, help="raw PCM sample rate (default: the model's)")
    p.add_argument("--channels", type=int, default=1, help="raw PCM channels (averaged)")
    p.add_argument("--chunk", type=int, default=4096, help="bytes read at a time (at most)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int)
    p.add_argument("--quiet", action="store_true", help="do not report the latency on stderr")
    args = p.parse_args(argv)
    if (args.profile is None) == (not args.running):
        print("error: give --profile FILE or --running (how to normalise the stream)",
              file=sys.stderr)
        return 2
    _configure_process(args.threads)
    normalisation = "running" if args.running else NORMALISATIONS[0]

    def started(predictor):
        if not args.quiet:
            rates = (f"{predictor.input_rate} Hz resampled to {predictor.sample_rate} Hz (the "
                     "model's)" if predictor.input_rate != predictor.sample_rate
                     else f"{predictor.sample_rate} Hz")
            print(f"streaming {rates}; rows final {predictor.latency_s:.2f} s after their time "
                  "stamp (+ one chunk)", file=sys.stderr, flush=True)
    try:
        predict_stream(args.model, sys.stdin.buffer, sys.stdout, fmt=args.format, rate=args.rate,
                       channels=args.channels, normalisation=normalisation, profile=args.profile,
                       chunk_bytes=args.chunk, device=args.device, on_start=started)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: rows written so far are final", file=sys.stderr)
        return 130
    return 0


def export_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="tinyemo export", description="Export a trained model "
                                "folder (every seed of every target, averaged) to ONNX "
                                "(pip install \"tinyemo[export]\").")
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    p.add_argument("--out", required=True, type=Path, help="the .onnx file to write")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--with-frontend", action="store_true", default=True,
                      help="input: the waveform (default): Kaldi fbank, per-recording "
                      "normalisation and stacking inside the graph, as tinyemo predict --dither 0")
    mode.add_argument("--features", action="store_true",
                      help="input: stacked normalised features (T, C); the nets alone")
    p.add_argument("--sample-rate", type=int, help="the waveform's rate when the model folder "
                   "does not record it")
    p.add_argument("--opset", type=int, help="ONNX opset (default: the onnx package's newest)")
    args = p.parse_args(argv)
    from .export import export_onnx
    try:
        meta = export_onnx(args.model, args.out, features=args.features,
                           sample_rate=args.sample_rate, opset=args.opset)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: input {meta['input'].split(':')[0]}, outputs {meta['targets']} every "
          f"{meta['frame_period_s']} s")
    return 0


def profile_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="tinyemo profile", description="Save a speaker profile "
                                "(mean and std of the 10-ms log-mels) for tinyemo predict "
                                "--stream --profile: from enrolment audio of the speaker, or "
                                "from the model's training corpus.")
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    p.add_argument("audio", nargs="*", type=Path, help="enrolment recordings of one speaker")
    p.add_argument("--from-training", action="store_true",
                   help="pool the model's training partition instead (all its speakers)")
    p.add_argument("--out", required=True, type=Path, help="the profile file to write (.npz)")
    args = p.parse_args(argv)
    if bool(args.audio) == args.from_training:
        print("error: give enrolment audio files or --from-training", file=sys.stderr)
        return 2
    from .ensemble import Ensemble
    from .export import check_writable
    from .profile import profile_of_files, training_profile
    from .stream import model_options, model_sample_rate
    try:
        check_writable(args.out)
        ensemble = Ensemble(args.model)
        options, rate = model_options(ensemble)[0], model_sample_rate(ensemble)
        profile = (training_profile(ensemble.config, options, rate) if args.from_training
                   else profile_of_files(args.audio, options, rate))
        profile.save(args.out)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = profile.frames * options.frame_shift / 1000
    print(f"{args.out}: {profile.frames} frames ({seconds:.1f} s) from {profile.source}")
    return 0


COMMANDS = {"train": train_main, "predict": predict_main, "evaluate": evaluate_main,
            "plot": plot_main, "export": export_main, "profile": profile_main}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: tinyemo {{{','.join(COMMANDS)}}} [options]  (tinyemo COMMAND --help)",
              file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])
