"""``tinyemo predict`` (files, or ``--stream`` from standard input) and ``tinyemo evaluate``
(score a model folder on a labelled partition)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinyemo.cli.boundary import (Progress, add_run_options, check_model_run, check_out_path,
                                  run_command)
from tinyemo.serve.collection import check_files, check_table_path, csv_paths, write_table
from tinyemo.serve.dask_files import DaskCluster, dask_available
from tinyemo.serve.load import load_model
from tinyemo.serve.predict import evaluate, predict_files
from tinyemo.serve.segments import Windows
from tinyemo.serve.stream_pipe import STREAM_FORMATS, predict_stream
from tinyemo.serve.windowed import default_latencies
from tinyemo.util.compile_notice import announce_compilation
from tinyemo.util.runtime import configure_process
from tinyemo.util.settings import SettingError

__all__ = ["predict_main", "predict_parser", "evaluate_main", "evaluate_parser", "stream_main", "stream_parser"]


def predict_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo predict", description="Predict arousal and valence "
                                "every 40 ms for audio files with a trained model folder, "
                                "files of any length in bounded memory. Streaming from "
                                "standard input: tinyemo predict --stream --help; "
                                + _latency_help() + ".")
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    p.add_argument("audio", nargs="+", type=Path)
    p.add_argument("--out", type=Path, help="folder for one CSV per audio file (files sharing "
                   "a name in different folders: the input tree mirrored under it)")
    p.add_argument("--output", type=Path, help="one table of every file instead of (or, with "
                   "--out, beside) the CSVs: table.csv (file, start, end in seconds, one column "
                   "per target) or table.parquet (pyarrow)")
    p.add_argument("--window", type=float, help="rows of the --output table per window of "
                   "this many seconds (with --hop): each target's mean over the frames in it")
    p.add_argument("--hop", type=float, help="seconds between windows (with --window)")
    p.add_argument("--segments", type=Path, help="rows of the --output table per segment of "
                   "this table: CSV file,start,end (seconds) or RTTM (file id = audio name)")
    p.add_argument("--std", action="store_true", help="per window or segment, also each "
                   "target's standard deviation (<target>_std)")
    p.add_argument("--workers", type=int, default=1, help="local processes, one file at a "
                   "time each (the same numbers as one)")
    p.add_argument("--dask-local", type=int, metavar="N", help="a local Dask cluster of N "
                   "processes, one task per file (pip install 'tinyemo[dask]')")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler (tcp://HOST:8786) "
                   "whose workers see the audio and the model at the same paths")
    p.add_argument("--skip-existing", action="store_true", help="keep the CSVs already in "
                   "--out (each is written whole, so a present one is finished)")
    add_run_options(p)
    p.add_argument("--dither", type=float, help="the fbank dither instead of the model's (0: "
                   "what the graph of tinyemo export computes)")
    return p


def predict_main(argv=None) -> int:
    if "--stream" in (sys.argv[1:] if argv is None else argv):
        return stream_main(argv)
    parser = predict_parser()
    args = parser.parse_args(argv)

    def run() -> int:
        ui = Progress(args.quiet)
        check_model_run(args)
        segments = _check_table_options(args)
        if args.out is not None:
            check_out_path(args.out)
        if args.dither is not None and not args.dither >= 0:
            raise SettingError("dither", f"must be >= 0, got {args.dither}")
        if args.workers < 1:
            raise SettingError("workers", f"must be >= 1, got {args.workers}")
        cluster = _check_cluster(args)
        check_files(args.audio)
        csvs = csv_paths(args.audio, args.out) if args.out is not None else None
        configure_process(args.threads)
        progress = ui.counter("files", unit="file")
        with announce_compilation(ui.note):
            if args.output is None:
                paths = predict_files(args.model, args.audio, args.out, args.device,
                                      progress=progress, dither=args.dither,
                                      num_workers=args.workers, skip_existing=args.skip_existing,
                                      cluster=cluster)
            else:
                table = load_model(args.model, args.device).process_files(
                    args.audio, segments=segments, std=args.std, num_workers=args.workers,
                    progress=progress or False, dither=args.dither, csv_out=csvs,
                    cluster=cluster)
                paths = [*(csvs or []), write_table(table, args.output)]
        for path in paths:
            print(path)
        return 0
    return run_command(parser, run, lambda: "interrupted: the CSVs written so far are whole; "
                       "--skip-existing continues")


def _check_cluster(args) -> DaskCluster | None:
    chosen = [o for o, v in (("workers", args.workers > 1), ("dask_local", args.dask_local),
                             ("scheduler", args.scheduler)) if v]
    if len(chosen) > 1:
        raise SettingError(chosen[1], f"give one of --workers, --dask-local, --scheduler "
                           f"(got {', '.join('--' + c.replace('_', '-') for c in chosen)})")
    if args.dask_local is None and args.scheduler is None:
        return None
    try:
        cluster = DaskCluster(args.scheduler, args.dask_local)
    except ValueError as exc:
        raise SettingError("dask_local" if args.scheduler is None else "scheduler",
                           str(exc)) from None
    dask_available()
    return cluster


def _check_table_options(args):
    """The segments of the --output table (None: one row per frame), every option checked."""
    if args.out is None and args.output is None:
        raise SettingError("out", "give --out DIR (one CSV per file) and/or --output TABLE")
    if (args.window is None) != (args.hop is None):
        raise SettingError("window", "--window and --hop go together")
    if args.window is not None and args.segments is not None:
        raise SettingError("segments", "give --segments or --window/--hop, not both")
    per_segment = args.window is not None or args.segments is not None
    if (per_segment or args.std) and args.output is None:
        raise SettingError("output", "rows per window or segment go to one table: give "
                           "--output table.csv or table.parquet")
    if args.output is not None:
        try:
            check_table_path(args.output)
        except ValueError as exc:
            raise SettingError("output", str(exc)) from None
        if args.skip_existing:
            raise SettingError("skip_existing", "only with --out alone (a table is written "
                               "whole, from every file)")
    if args.skip_existing and args.out is None:
        raise SettingError("skip_existing", "needs --out")
    if args.window is not None:
        try:
            return Windows(args.window, args.hop)
        except ValueError as exc:
            raise SettingError("window", str(exc).removeprefix("segments: ")) from None
    return args.segments


def evaluate_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo evaluate", description="Score a trained model "
                                "folder on a labelled corpus partition (AVEC-style CCC over "
                                "the concatenated recordings, and per recording).")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--data", required=True, type=Path, help="AVEC 2016 folder or .csv manifest")
    p.add_argument("--partition", default="dev")
    p.add_argument("--target", help="score only this target (default: every target of the model)")
    add_run_options(p)
    return p


def evaluate_main(argv=None) -> int:
    parser = evaluate_parser()
    args = parser.parse_args(argv)

    def run() -> int:
        ui = Progress(args.quiet)
        check_model_run(args)
        if not args.data.exists():
            raise ValueError(f"{args.data}: no such corpus folder or manifest")
        configure_process(args.threads)
        with announce_compilation(ui.note):
            print(evaluate(args.model, args.data, args.partition, args.device, args.target,
                           progress=ui.counter("features")))
        return 0
    return run_command(parser, run)


def _seconds(s: float) -> str:
    return f"{s:.2f} s" if s != float("inf") else "the whole recording"


def _latency_help() -> str:
    per_arch = ", ".join(f"{arch} {_seconds(s)}" for arch, s in default_latencies().items())
    return (f"streaming latency = the model's right-hand context + at most one chunk: "
            f"{per_arch} (the paper's settings at 16 kHz)")


def stream_parser() -> argparse.ArgumentParser:
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
    add_run_options(p, quiet="no note of the latency on stderr")
    return p


def stream_main(argv=None) -> int:
    """``tinyemo predict --stream``: standard input → CSV rows on standard output."""
    parser = stream_parser()
    args = parser.parse_args(argv)

    def run() -> int:
        ui = Progress(args.quiet)
        if (args.profile is None) == (not args.running):
            raise SettingError("profile", "give --profile FILE or --running (how to normalise "
                               "the stream)")
        for name in ("rate", "channels", "chunk"):
            value = getattr(args, name)
            if value is not None and value < 1:
                raise SettingError(name, f"must be >= 1, got {value}")
        check_model_run(args)
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
    return run_command(parser, run, lambda: "interrupted: the rows written so far are final")

