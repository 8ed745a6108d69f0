"""A whole experiment: for each target, N seeds trained into one output folder, their
predictions averaged (the paper's 5-run ensemble), scored per partition and written out.

    OUT/config.json                     everything that defines the experiment
    OUT/<target>/seed<k>/               checkpoint.npz, best.npz, log.csv (one run)
    OUT/predictions/<partition>/<id>.csv  time, <target>[, <target>_gold] every 40 ms
    OUT/results.json                    {target: {partition: {ccc, rmse, pearson}, "runs": [...]}}
    OUT/results.md                      the table in the paper's format
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from .checkpoint import load_checkpoint
from .fileio import write_json, write_text
from .frontend import FbankOptions
from .metrics import score
from .models import ModelConfig, build_model
from .pipeline import Example, check_targets
from .training import BEST, TrainConfig, predict_examples, train_run

__all__ = ["train_experiment", "Ensemble", "write_predictions", "results_table", "PARTITIONS"]

PARTITIONS = ("train", "dev", "test")


class Ensemble:
    """The best weights of every seed of every target in an experiment folder."""

    def __init__(self, out: Path, device: str = "cpu"):
        out = Path(out)
        self.device = device
        cfg_path = out / "config.json"
        try:
            self.config = json.loads(cfg_path.read_text())
        except FileNotFoundError:
            raise ValueError(f"{cfg_path}: not a tinyemo model folder (no config.json)") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"{cfg_path}: corrupt configuration ({exc})") from None
        self.models: dict[str, list] = {}
        for target, mcfg in self.config["models"].items():
            runs = []
            for seed in self.config["seeds"]:
                path = out / target / f"seed{seed}" / BEST
                model = build_model(ModelConfig(**mcfg))
                load_checkpoint(path, model)
                runs.append(model.to(device))
            self.models[target] = runs

    @property
    def targets(self) -> list[str]:
        return list(self.models)

    def predict(self, examples: list[Example], target: str) -> tuple[list, list[list]]:
        """(mean over seeds, per-seed predictions), each a list of (T,) arrays per example."""
        per_run = [predict_examples(m, examples, self.device) for m in self.models[target]]
        mean = [np.mean([run[i] for run in per_run], axis=0) for i in range(len(examples))]
        return mean, per_run


def train_experiment(examples: dict[str, Example], arch: str, targets: list[str], seeds: list[int],
                     train_cfg: TrainConfig, out: Path, model_overrides: dict | None = None,
                     data_info: dict | None = None, resume: bool = False,
                     say: Callable[[str], None] = print, progress=None,
                     fbank: FbankOptions | None = None) -> dict:
    """Train every (target, seed), then predict, score and write the results. Returns results."""
    out = Path(out)
    parts = {p: [ex for ex in examples.values() if ex.recording.partition == p] for p in PARTITIONS}
    root = data_info.get("root") if data_info else None
    for target in targets:
        check_targets(parts["train"], target, "train", root)
        check_targets(parts["dev"], target, "dev", root)
    in_channels = next(iter(examples.values())).x.shape[0]
    models = {t: ModelConfig.for_arch(arch, t, in_channels=in_channels, **(model_overrides or {}))
              for t in targets}
    config = {"arch": arch, "targets": targets, "seeds": seeds, "train": asdict(train_cfg),
              "models": {t: m.to_dict() for t, m in models.items()}, "data": data_info or {},
              "fbank": (fbank or FbankOptions()).to_dict()}
    _write_config(out / "config.json", config, resume)
    runs: dict[str, list] = {}
    for target in targets:
        runs[target] = [train_run(models[target], train_cfg, parts["train"], parts["dev"], target,
                                  seed, out / target / f"seed{seed}", resume, say, progress)
                        for seed in seeds]
    ensemble = Ensemble(out, train_cfg.device)
    results: dict = {}
    predictions: dict = {}
    for target in targets:
        results[target] = {"runs": [dict(r) for r in runs[target]]}
        for part, exs in parts.items():
            if not exs:
                continue
            mean, per_run = ensemble.predict(exs, target)
            predictions.setdefault(part, {})[target] = mean
            if all(target in ex.y for ex in exs):
                gold = [ex.y[target] for ex in exs]
                results[target][part] = score(mean, gold)
                for r, run_pred in zip(results[target]["runs"], per_run):
                    r[part] = score(run_pred, gold)
    for part, by_target in predictions.items():
        write_predictions(out / "predictions" / part, parts[part], by_target)
    write_json(out / "results.json", results)
    write_text(out / "results.md", results_table({arch: results}))
    return results


def _write_config(path: Path, config: dict, resume: bool) -> None:
    if path.exists():
        saved = json.loads(path.read_text())
        if not resume:
            raise ValueError(f"{path}: this folder already holds an experiment; pass --resume to "
                             f"continue it or choose another --out folder")
        if saved != json.loads(json.dumps(config)):
            changed = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
            raise ValueError(f"{path}: saved with another configuration (differs in {changed}); "
                             f"resume with the same options or use another --out folder")
        return
    write_json(path, config)


def write_predictions(folder: Path, examples: list[Example], by_target: dict) -> None:
    """One CSV per recording: time, each target's prediction (and its gold standard if known)."""
    for i, ex in enumerate(examples):
        t = 0.04 * np.arange(ex.x.shape[1])
        cols = {"time": t}
        for target, preds in by_target.items():
            cols[target] = preds[i]
            if target in ex.y:
                cols[f"{target}_gold"] = ex.y[target]
        lines = [",".join(cols)] + [",".join(f"{v:.6g}" if k != "time" else f"{v:.2f}"
                                             for k, v in zip(cols, row))
                                    for row in zip(*cols.values())]
        write_text(folder / f"{ex.id}.csv", "\n".join(lines) + "\n")


def results_table(results_by_model: dict) -> str:
    """Markdown in the paper's format: per target, Dev RMSE, Dev CCC, Test RMSE, Test CCC."""
    lines = []
    targets = sorted({t for res in results_by_model.values() for t in res},
                     key=lambda t: (t != "arousal", t))
    for target in targets:
        lines += [f"**{target}**", "", "| model | Dev RMSE | Dev CCC | Test RMSE | Test CCC |",
                  "|---|---|---|---|---|"]
        for model, res in results_by_model.items():
            if target not in res:
                continue
            cells = [f"{res[target][p][m]:.3f}" if p in res[target] else "n/a"
                     for p in ("dev", "test") for m in ("rmse", "ccc")]
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
