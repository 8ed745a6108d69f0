"""``tinyemo export``: a trained model folder (every seed of every target, averaged) as an
ONNX graph, with its front end or without it."""
from __future__ import annotations

import argparse
from pathlib import Path

from tinyemo.cli.boundary import run_command
from tinyemo.export import export_onnx
from tinyemo.util.fileio import check_writable
from tinyemo.export.audonnx import export_audonnx
from tinyemo.runs.folder import read_config
from tinyemo.util.settings import SettingError

__all__ = ["export_main", "export_parser"]


def export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo export", description="Export a trained model "
                                "folder (every seed of every target, averaged) to ONNX "
                                "(pip install \"tinyemo[export]\").")
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    dest = p.add_mutually_exclusive_group(required=True)
    dest.add_argument("--out", type=Path, help="the .onnx file to write")
    dest.add_argument("--audonnx", type=Path, metavar="DIR", help="a folder audonnx.load(DIR) "
                      "opens: model.onnx (waveform in; an extra output 'emotion', frames × "
                      "targets) and model.yaml (its labels: the targets)")
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
        read_config(args.model)
        if args.audonnx is not None:
            if args.features:
                raise SettingError("features", "--audonnx exports the waveform graph")
            export_audonnx(args.model, args.audonnx, sample_rate=args.sample_rate,
                           opset=args.opset)
            print(f"{args.audonnx}: model.onnx and model.yaml (audonnx.load)")
            return 0
        check_writable(args.out, "the .onnx file")
        meta = export_onnx(args.model, args.out, features=args.features,
                           sample_rate=args.sample_rate, opset=args.opset)
        print(f"{args.out}: input {meta['input'].split(':')[0]}, outputs {meta['targets']} "
              f"every {meta['frame_period_s']} s")
        return 0
    return run_command(parser, run)

