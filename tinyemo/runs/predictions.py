"""Prediction CSVs of a run folder: ``predictions/<partition>/<id>.csv`` with ``time``, one
column per target and, for labelled recordings, ``<target>_gold``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyemo.data.examples import Example
from tinyemo.data.grid import FRAME_S
from tinyemo.util.fileio import write_text

__all__ = ["write_predictions", "read_predictions"]


def write_predictions(folder: Path, examples: list[Example], by_target: dict) -> None:
    """One CSV per recording: time, each target's prediction (and its gold standard if known)."""
    for i, ex in enumerate(examples):
        t = FRAME_S * np.arange(ex.x.shape[1])
        cols = {"time": t}
        for target, preds in by_target.items():
            cols[target] = preds[i]
            if target in ex.y:
                cols[f"{target}_gold"] = ex.y[target]
        lines = [",".join(cols)] + [",".join(f"{v:.6g}" if k != "time" else f"{v:.2f}"
                                             for k, v in zip(cols, row))
                                    for row in zip(*cols.values())]
        write_text(folder / f"{ex.id}.csv", "\n".join(lines) + "\n")


def read_predictions(folder: Path, partition: str) -> dict[str, dict[str, np.ndarray]]:
    """``{id: {column: (T,) array}}`` from ``folder/predictions/<partition>/*.csv``, in natural
    order (dev_2 before dev_10). ValueError when there are none."""
    files = sorted((Path(folder) / "predictions" / partition).glob("*.csv"),
                   key=lambda p: (len(p.stem), p.stem))
    if not files:
        raise ValueError(f"{folder}: no predictions/{partition}/*.csv (not an experiment folder?)")
    out = {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            header = f.readline().strip().split(",")
            values = np.loadtxt(f, delimiter=",", ndmin=2)
        out[path.stem] = dict(zip(header, values.T))
    return out
