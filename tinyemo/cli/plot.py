"""``tinyemo plot``: prediction CSVs against the gold standard (the paper's Figure 5)."""
from __future__ import annotations

import argparse
from pathlib import Path

from tinyemo.cli.boundary import run_command
from tinyemo.report.plot import plot_prediction_csv
from tinyemo.util.settings import SettingError

__all__ = ["plot_main", "plot_parser"]


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
        if args.out.is_dir():
            raise SettingError("out", f"{args.out} is a folder; give a .png file name")
        if not args.duration > 0:
            raise SettingError("duration", f"must be > 0 seconds, got {args.duration}")
        plot_prediction_csv(args.csv, args.out, args.start, args.duration, args.labels)
        print(args.out)
        return 0
    return run_command(parser, run)

