"""Prediction plots against the gold standard (the paper's Figure 5). matplotlib is optional:
``pip install 'tinyemo[plot]'``."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .fileio import atomic_write

__all__ = ["plot_prediction_csv", "plot_tracks"]


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    try:
        with open(path, encoding="utf-8") as f:
            header = f.readline().strip().split(",")
            values = np.loadtxt(f, delimiter=",", ndmin=2)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such predictions file") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not a predictions CSV ({exc})") from None
    if "time" not in header or values.shape[1] != len(header):
        raise ValueError(f"{path}: expected a header with 'time' and one column per value")
    return dict(zip(header, values.T))


def plot_tracks(time, gold: dict, predictions: dict, out: Path, title: str = "") -> None:
    """One panel per target: the gold standard and each named prediction over ``time``."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("plotting needs matplotlib: pip install 'tinyemo[plot]'") from None
    targets = list(gold) or sorted({t for p in predictions.values() for t in p})
    fig, axes = plt.subplots(len(targets), 1, figsize=(10, 2.6 * len(targets)), sharex=True,
                             squeeze=False)
    for ax, target in zip(axes[:, 0], targets):
        if target in gold:
            ax.plot(time, gold[target], color="black", lw=2, label="gold standard")
        for name, tracks in predictions.items():
            if target in tracks:
                ax.plot(time, tracks[target], lw=1.2, label=name)
        ax.set_ylabel(target)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    with atomic_write(out, "wb") as f:
        f.write(buf.getvalue())


def plot_prediction_csv(csvs: list[Path], out: Path, start: float = 0.0, duration: float = 60.0,
                        labels: list[str] | None = None) -> None:
    """Plot ``[start, start + duration)`` seconds of prediction CSVs (``predictions/<part>/
    <id>.csv``) of one recording, e.g. dilated and down/up, against its gold standard."""
    if labels and len(labels) != len(csvs):
        raise ValueError(f"{len(labels)} labels for {len(csvs)} CSV files")
    tables = [_read_csv(Path(c)) for c in csvs]
    time = tables[0]["time"]
    keep = (time >= start) & (time < start + duration)
    if not keep.any():
        raise ValueError(f"{csvs[0]}: no frames between {start} s and {start + duration} s")
    gold = {k[:-5]: v[keep] for k, v in tables[0].items() if k.endswith("_gold")}
    preds = {}
    for i, (path, table) in enumerate(zip(csvs, tables)):
        if len(table["time"]) != len(time):
            raise ValueError(f"{path}: {len(table['time'])} frames, {csvs[0]} has {len(time)}")
        name = labels[i] if labels else Path(path).parent.parent.parent.name or Path(path).stem
        preds[name] = {k: v[keep] for k, v in table.items() if k != "time" and not k.endswith("_gold")}
    plot_tracks(time[keep], gold, preds, Path(out), title=Path(csvs[0]).stem)
