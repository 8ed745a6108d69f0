"""A trained run folder as one predictor: every seed of every target, their predictions
averaged per target (the paper's 5-run average). The seeds of a conv-net target run in one
pass, stacked into one grouped net (``models.stacked``); a BLSTM's seeds run one by one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyemo.data.examples import Example
from tinyemo.engine import backend
from tinyemo.engine.autograd import Tensor, no_grad
from tinyemo.engine.checkpoint import load_checkpoint
from tinyemo.models.config import ModelConfig
from tinyemo.models.nets import build_model
from tinyemo.models.stacked import Stacked, stack_seeds
from tinyemo.runs.folder import read_config
from tinyemo.train.loop import BEST, predict_examples

__all__ = ["Ensemble"]


class Ensemble:
    """The best weights of every seed of every target in an experiment folder."""

    def __init__(self, out: Path, device: str = "cpu"):
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
        # target → the seeds as one grouped net (None: run them one by one)
        self.stacked: dict[str, Stacked | None] = {t: stack_seeds(r) for t, r in self.models.items()}

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
        stacked = self.stacked[target]
        if stacked is None:
            per_run = [predict_examples(m, examples, self.device) for m in self.models[target]]
        else:
            with no_grad():
                rows = [stacked(Tensor(backend.to_device(ex.x, self.device))).numpy()
                        for ex in examples]                                   # (S, T) each
            per_run = [[r[s] for r in rows] for s in range(stacked.seeds)]
        mean = [np.mean([run[i] for run in per_run], axis=0) for i in range(len(examples))]
        return mean, per_run
