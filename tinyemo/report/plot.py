"""Prediction plots against the gold standard (the paper's Figure 5). matplotlib is optional:
``pip install 'tinyemo[plot]'``."""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyemo.util.fileio import atomic_write
from tinyemo.util.notices import warn

__all__ = ["plot_prediction_csv", "plot_tracks", "plot_layout", "Panel"]


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    try:
        with open(path, encoding="utf-8") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)    # loadtxt's "no data": said below
            header = f.readline().strip().split(",")
            values = np.loadtxt(f, delimiter=",", ndmin=2)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such predictions file") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not a predictions CSV ({exc})") from None
    if values.size == 0:
        raise ValueError(f"{path}: no rows (an empty predictions CSV)")
    if "time" not in header or values.shape[1] != len(header):
        raise ValueError(f"{path}: expected a header with 'time' and one column per value")
    for name, column in zip(header, values.T):
        missing = int(np.isnan(column).sum())
        if missing:
            warn(f"{path}: {name} is NaN in {missing} of {column.size} rows; those are not drawn")
    return dict(zip(header, values.T))


def plot_tracks(time, gold: dict, predictions: dict, out: Path, title: str = "") -> None:
    """One panel per target: the gold standard and each named prediction over ``time``."""
    targets = list(gold) or sorted({t for p in predictions.values() for t in p})
    _render([Panel(title, target, time, gold.get(target),
                   {n: p[target] for n, p in predictions.items() if target in p})
             for target in targets], out, title)


@dataclass
class Panel:
    """One plot panel: a recording's ``target`` over ``time``, its gold standard (or None) and
    each named prediction."""

    recording: str
    target: str
    time: np.ndarray
    gold: np.ndarray | None
    predictions: dict[str, np.ndarray]


def _render(panels: list[Panel], out: Path, title: str = "") -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("plotting needs matplotlib: pip install 'tinyemo[plot]'") from None
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.6 * len(panels)), squeeze=False)
    several = len({p.recording for p in panels}) > 1
    for ax, panel in zip(axes[:, 0], panels):
        if panel.gold is not None:
            ax.plot(panel.time, panel.gold, color="black", lw=2, label="gold standard")
        for name, track in panel.predictions.items():
            ax.plot(panel.time, track, lw=1.2, label=name)
        ax.set_ylabel(panel.target)
        if several:
            ax.set_title(panel.recording, fontsize=9)
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


def _run_name(path: Path) -> str:
    """``runs/downup`` for ``runs/downup/predictions/dev/dev_1.csv``; else the file's folder."""
    path = Path(path)
    if len(path.parents) >= 3 and path.parent.parent.name == "predictions":
        return str(path.parent.parent.parent)
    return str(path.parent)


def _legend_names(csvs: list[Path]) -> list[str]:
    """A distinct legend name per CSV of one recording: the run folder's name, the run's
    path where those collide, then numbered."""
    short = [Path(_run_name(c)).name or _run_name(c) for c in csvs]
    names = [_run_name(c) if short.count(n) > 1 else n for c, n in zip(csvs, short)]
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if names.count(name) == 1 else f"{name} ({seen[name]})")
    return out


def plot_layout(csvs: list[Path], start: float = 0.0, duration: float = 60.0,
                labels: list[str] | None = None) -> list[Panel]:
    """The panels for prediction CSVs (``predictions/<part>/<id>.csv``): one per recording and
    target, each recording's predictions (one per CSV of it, e.g. dilated and down/up) drawn
    against that recording's own gold standard, over ``[start, start + duration)`` s. CSVs of
    different recordings get their own panels; two CSVs of one name whose gold standards
    differ (two corpora) are refused."""
    csvs = [Path(c) for c in csvs]
    if labels and len(labels) != len(csvs):
        raise ValueError(f"{len(labels)} --labels for {len(csvs)} CSV files")
    tables = [_read_csv(c) for c in csvs]
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(csvs):
        groups.setdefault(c.stem, []).append(i)
    panels = []
    for rec, members in groups.items():
        names = dict(zip(members, [labels[i] for i in members] if labels
                         else _legend_names([csvs[i] for i in members])))
        if len(set(names.values())) != len(names):
            raise ValueError(f"--labels must differ for CSVs of one recording ({rec}), got "
                             f"{list(names.values())}")
        first = members[0]
        time = tables[first]["time"]
        keep = (time >= start) & (time < start + duration)
        if not keep.any():
            raise ValueError(f"{csvs[first]}: no frames between {start} s and {start + duration} s")
        gold: dict[str, np.ndarray] = {}
        for i in members:
            if len(tables[i]["time"]) != len(time):
                raise ValueError(f"{csvs[i]}: {len(tables[i]['time'])} frames, {csvs[first]} of "
                                 f"the same recording has {len(time)}")
            for k, v in tables[i].items():
                if not k.endswith("_gold"):
                    continue
                t = k[:-len("_gold")]
                if t in gold and not np.allclose(gold[t], v, atol=1e-5):
                    raise ValueError(f"{csvs[i]} and {csvs[first]} are both {rec!r} but their "
                                     f"{t} gold standards differ (two corpora?); plot them "
                                     f"separately")
                gold.setdefault(t, v)
        targets = list(dict.fromkeys(k for i in members for k in tables[i]
                                     if k != "time" and not k.endswith("_gold")))
        for t in targets:
            panels.append(Panel(rec, t, time[keep], gold[t][keep] if t in gold else None,
                                {names[i]: tables[i][t][keep] for i in members if t in tables[i]}))
    return panels


def plot_prediction_csv(csvs: list[Path], out: Path, start: float = 0.0, duration: float = 60.0,
                        labels: list[str] | None = None) -> None:
    """Plot :func:`plot_layout`'s panels for prediction CSVs to the PNG ``out``."""
    panels = plot_layout(csvs, start, duration, labels)
    recordings = list(dict.fromkeys(p.recording for p in panels))
    _render(panels, Path(out), title=recordings[0] if len(recordings) == 1 else "")
