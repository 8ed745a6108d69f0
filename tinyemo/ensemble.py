"""A trained experiment folder as a predictor, and the prediction CSVs it reads and writes.

``Ensemble(folder)`` loads the best weights of every seed of every target; ``predict`` averages
the seeds (the paper's 5-run ensemble). ``write_predictions`` writes one CSV per recording,
``time,<target>[,<target>_gold]`` every 40 ms; ``read_predictions`` reads a folder of them back.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .checkpoint import load_checkpoint
from .data.grid import FRAME_S
from .fileio import write_text
from .models import ModelConfig, build_model
from .pipeline import Example
from .training import BEST, predict_examples

__all__ = ["Ensemble", "write_predictions", "read_predictions"]


class Ensemble:
    """The best weights of every seed of every target in an experiment folder."""

    def __init__(self, out: Path, device: str = "cpu"):
        from .runfolder import read_config
        out = Path(out)
        self.device = device
        self.config = read_config(out)     # every key checked: errors name the file and key
        if "baseline" in self.config:
            raise ValueError(f"{out} holds a fitted {self.config['baseline']} "
                             f"baseline, not trained nets: export, streaming and profiles need "
                             f"a folder from tinyemo train")
        self.models: dict[str, list] = {}
        for target, mcfg in self.config["models"].items():
            runs = []
            for seed in self.config["seeds"]:
                path = out / target / f"seed{seed}" / BEST
                model = build_model(ModelConfig(**mcfg))
                load_checkpoint(path, model)
                runs.append(model.to(device).eval())
            self.models[target] = runs

    @property
    def targets(self) -> list[str]:
        return list(self.models)

    @property
    def sample_rate(self) -> int | None:
        """The front end's sample rate (Hz) the models were trained at; None for a folder
        saved before tinyemo recorded it."""
        return self.config.get("sample_rate")

    def predict(self, examples: list[Example], target: str) -> tuple[list, list[list]]:
        """(mean over seeds, per-seed predictions), each a list of (T,) arrays per example."""
        per_run = [predict_examples(m, examples, self.device) for m in self.models[target]]
        mean = [np.mean([run[i] for run in per_run], axis=0) for i in range(len(examples))]
        return mean, per_run


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
