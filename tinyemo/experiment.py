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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .ensemble import Ensemble, write_predictions
from .fileio import write_json, write_text
from .frontend import FbankOptions
from .metrics import score
from .models import ModelConfig
from .pipeline import NORMALISATIONS, Example, check_targets
from .training import TrainConfig, train_run

__all__ = ["ExperimentConfig", "train_experiment", "results_table", "PARTITIONS"]

PARTITIONS = ("train", "dev", "test")


@dataclass(frozen=True)
class ExperimentConfig:
    """What an experiment trains: ``arch`` with the paper's defaults for each target, changed
    by ``model`` (ModelConfig field → value), for every target × seed, with ``train``, on
    features z-normalised per ``normalise`` (``speaker`` or ``recording``; the examples must
    have been prepared that way, and predict/evaluate prepare new audio the same way)."""

    arch: str = "downup"
    targets: tuple[str, ...] = ("arousal", "valence")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    train: TrainConfig = field(default_factory=TrainConfig)
    model: dict = field(default_factory=dict)
    fbank: FbankOptions = field(default_factory=FbankOptions)
    normalise: str = "speaker"

    def __post_init__(self):
        if self.normalise not in NORMALISATIONS:
            raise ValueError(f"normalise must be one of {NORMALISATIONS}, got {self.normalise!r}")
        self.model_configs(in_channels=160)   # every model setting checked before any work

    def model_configs(self, in_channels: int) -> dict[str, ModelConfig]:
        """Each target's model configuration for inputs of ``in_channels`` channels."""
        return {t: ModelConfig.for_arch(self.arch, t, in_channels=in_channels, **self.model)
                for t in self.targets}


def train_experiment(examples: dict[str, Example], config: ExperimentConfig, out: Path, *,
                     data_info: dict | None = None, resume: bool = False,
                     say: Callable[[str], None] = print, progress=None) -> dict:
    """Train every (target, seed) of ``config`` into ``out``, then predict, score and write
    the results. ``data_info`` (the corpus' root, size...) is saved in ``config.json``.
    Returns the results (see the module docstring)."""
    out = Path(out)
    parts = {p: [ex for ex in examples.values() if ex.recording.partition == p] for p in PARTITIONS}
    root = data_info.get("root") if data_info else None
    prepared = (data_info or {}).get("normalise", config.normalise)
    if prepared != config.normalise:
        raise ValueError(f"normalise: the experiment asks for per-{config.normalise} "
                         f"z-normalisation but the examples were normalised per {prepared}")
    for target in config.targets:
        check_targets(parts["train"], target, "train", root)
        check_targets(parts["dev"], target, "dev", root)
    models = config.model_configs(next(iter(examples.values())).x.shape[0])
    saved = {"arch": config.arch, "targets": list(config.targets), "seeds": list(config.seeds),
             "train": asdict(config.train), "models": {t: m.to_dict() for t, m in models.items()},
             "data": data_info or {}, "fbank": config.fbank.to_dict(),
             "normalise": config.normalise}
    _write_config(out / "config.json", saved, resume)
    runs = {target: [train_run(models[target], config.train, parts["train"], parts["dev"], target,
                               seed, out / target / f"seed{seed}", resume, say, progress)
                     for seed in config.seeds]
            for target in config.targets}
    ensemble = Ensemble(out, config.train.device)
    results: dict = {}
    predictions: dict = {}
    for target in config.targets:
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
    write_text(out / "results.md", results_table({config.arch: results}))
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


def results_table(results_by_model: dict, partitions: tuple[str, ...] = ("dev", "test")) -> str:
    """Markdown in the paper's format: per target, RMSE and CCC of each of ``partitions``
    ("n/a" where a model has no score for one)."""
    lines = []
    targets = sorted({t for res in results_by_model.values() for t in res},
                     key=lambda t: (t != "arousal", t))
    header = " | ".join(f"{p.capitalize()} {m}" for p in partitions for m in ("RMSE", "CCC"))
    for target in targets:
        lines += [f"**{target}**", "", f"| model | {header} |",
                  "|---" * (1 + 2 * len(partitions)) + "|"]
        for model, res in results_by_model.items():
            if target not in res:
                continue
            cells = [f"{res[target][p][m]:.3f}" if p in res[target] else "n/a"
                     for p in partitions for m in ("rmse", "ccc")]
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
