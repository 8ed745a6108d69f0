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
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from tinyemo.data.corpus import PARTITIONS, check_partitions
from tinyemo.data.examples import NORMALISATIONS, Example, check_targets
from tinyemo.data.fingerprint import describe_changes, fingerprint_changes, warn_shared_audio
from tinyemo.frontend import FbankOptions
from tinyemo.frontend.descriptors import FEATURES
from tinyemo.models.config import ARCHITECTURES, ModelConfig, used_settings
from tinyemo.models.memory import check_trainable
from tinyemo.runs.ensemble import Ensemble
from tinyemo.runs.folder import CONFIG, check_out_folder, config_differences
from tinyemo.runs.predictions import write_predictions
from tinyemo.runs.tables import results_table
from tinyemo.train.loop import DivergedError, TrainConfig, train_run
from tinyemo.util.fileio import folder_lock, write_json, write_text
from tinyemo.util.metrics import score
from tinyemo.util.notices import warn
from tinyemo.util.settings import SettingError, check_fields, one_of

__all__ = ['ExperimentConfig', 'split_partitions', 'run_record', 'check_resume', 'train_experiment',
           'sample_rate_rule', 'MIN_SAMPLE_RATE', 'MAX_SAMPLE_RATE']

TRAIN_ON = ("train", "train+dev")


@dataclass(frozen=True)
class ExperimentConfig:
    """What an experiment trains: ``arch`` with the paper's defaults for each target, changed
    by ``model`` (ModelConfig field → value), for every target × seed, with ``train``.
    ``sample_rate``: the front end's rate in Hz (None: the corpus's most common rate); audio
    at another rate is resampled to it. ``normalise``: features z-normalised per ``speaker``
    (the paper) or per ``recording`` (the examples must have been prepared that way;
    predict/evaluate prepare new audio the same way). ``features``: the model inputs, ``fbank``
    (the paper's log-mels), ``lld`` (openSMILE's eGeMAPS descriptors) or ``fbank+lld``
    (:mod:`tinyemo.frontend.descriptors`; the examples must have been prepared that way).
    ``train_on``: the partitions the runs train on, ``train`` (the paper: dev selects the
    epoch) or ``train+dev`` (no held-out dev: ``train.selection`` must be ``fixed``; dev's
    scores are then not held out and are kept apart, as ``dev_trained_on``). Checks itself
    when made (SettingError)."""

    arch: str = "downup"
    targets: tuple[str, ...] = ("arousal", "valence")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    train: TrainConfig = field(default_factory=TrainConfig)
    model: dict = field(default_factory=dict)
    fbank: FbankOptions = field(default_factory=FbankOptions)
    sample_rate: int | None = None
    normalise: str = "speaker"
    features: str = "fbank"
    train_on: str = "train"

    def __post_init__(self) -> None:
        check_fields(self, arch=one_of(*ARCHITECTURES), sample_rate=sample_rate_rule,
                     normalise=one_of(*NORMALISATIONS), features=one_of(*FEATURES),
                     train_on=one_of(*TRAIN_ON))
        if self.train_on == "train+dev" and self.train.selection != "fixed":
            raise SettingError("train_on", "train+dev leaves no dev to select epochs on: "
                               "needs train selection 'fixed' (a set number of epochs)")
        if not self.targets or len(set(self.targets)) != len(self.targets):
            raise SettingError("targets", f"need distinct target names, got {self.targets!r}")
        if not self.seeds:
            raise SettingError("seeds", "no seeds: at least one run is needed")
        if min(self.seeds) < 0 or len(set(self.seeds)) != len(self.seeds):
            raise SettingError("seeds", f"need distinct seeds >= 0, got {self.seeds!r}")
        self.model_configs(ModelConfig.in_channels)   # the model settings check themselves

    def model_configs(self, in_channels: int) -> dict[str, ModelConfig]:
        """Each target's model configuration for inputs of ``in_channels`` channels."""
        return {t: ModelConfig.for_arch(self.arch, t, in_channels=in_channels, **self.model)
                for t in self.targets}


MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4000, 192000   # telephone band … studio audio


def sample_rate_rule(rate) -> str | None:
    """None for a front-end rate tinyemo trains at, else the problem (``--sample-rate``)."""
    if MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        return None
    return (f"must be {MIN_SAMPLE_RATE} … {MAX_SAMPLE_RATE} Hz (the front end's rate; audio "
            f"at other rates is resampled to it), got {rate}")


def split_partitions(examples: dict[str, Example]) -> dict[str, list[Example]]:
    """The examples of each of :data:`PARTITIONS`; a recording in any other partition (a
    misspelt ``tset``, an ``eval_1.wav``) is an error listing them, not silently left out."""
    check_partitions(ex.recording for ex in examples.values())
    return {p: [ex for ex in examples.values() if ex.recording.partition == p] for p in PARTITIONS}


def run_record(config: ExperimentConfig, in_channels: int, data_info: dict | None) -> dict:
    """What ``config.json`` holds for ``config``: the resolved model of each target, the
    training settings, the front end (options, sample rate, normalisation, features) and
    the data."""
    data_info = data_info or {}
    rate = data_info.get("sample_rate", config.sample_rate)
    if config.sample_rate is not None and rate != config.sample_rate:
        raise ValueError(f"the features were computed at {rate} Hz, the configuration asks "
                         f"for {config.sample_rate} Hz")
    prepared = data_info.get("normalise", config.normalise)
    if prepared != config.normalise:
        raise ValueError(f"the features were z-normalised per {prepared}, the configuration "
                         f"asks for per {config.normalise} (--normalise)")
    prepared = data_info.get("features", config.features)
    if prepared != config.features:
        raise ValueError(f"the examples hold {prepared} features, the configuration asks for "
                         f"{config.features} (--features)")
    return {"arch": config.arch, "targets": list(config.targets), "seeds": list(config.seeds),
            "train": asdict(config.train),
            "models": {t: m.to_dict() for t, m in config.model_configs(in_channels).items()},
            "data": data_info, "fbank": config.fbank.to_dict(), "sample_rate": rate,
            "normalise": config.normalise, "features": config.features,
            **({"train_on": config.train_on} if config.train_on != "train" else {})}


def _comparable(record: dict, unknown: set) -> dict:
    """``record`` without the ``unknown`` keys, each model reduced to the settings it uses."""
    out = {k: v for k, v in record.items() if k not in unknown}
    if isinstance(out.get("models"), dict):
        out["models"] = {t: used_settings(m) if isinstance(m, dict) else m
                         for t, m in out["models"].items()}
    return out


def check_resume(saved: dict, record: dict, path: Path) -> None:
    """A resume must match the saved run: the same settings (the keys it records; the sample
    rate when ``record`` knows it) and the same corpus (its fingerprint, when both have one).
    ValueError naming what differs."""
    new = json.loads(json.dumps(record))
    saved = {"features": "fbank", **saved}   # folders saved before the setting: log-mels
    unknown = {"data"} | ({"sample_rate"} if new.get("sample_rate") is None else set())
    diffs = config_differences(_comparable(saved, unknown), _comparable(new, unknown))
    if diffs:
        raise ValueError(f"{path}: saved with another configuration (differs in "
                         f"{', '.join(diffs)}); resume with the same options or use another "
                         f"--out folder")
    old_fp = saved.get("data", {}).get("fingerprint")
    new_fp = new["data"].get("fingerprint")
    if old_fp is not None and new_fp is not None:
        changes = fingerprint_changes(old_fp, new_fp)
        if changes:
            raise ValueError(f"{path}: the corpus changed since this run was saved "
                             f"({describe_changes(changes)}); a resume would mix models of "
                             f"the old and the new data: train into a new --out folder")
    elif new_fp is not None:
        warn(f"{path}: saved without a corpus fingerprint (by an older tinyemo): cannot check "
             f"that the corpus is unchanged")


def _remove_new_run(out: Path, existed: bool) -> None:
    """Remove what this call created in ``out`` (absent or empty before it)."""
    if not existed:
        shutil.rmtree(out, ignore_errors=True)
        return
    for entry in out.iterdir():
        shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()


def train_experiment(examples: dict[str, Example], config: ExperimentConfig, out: Path, *,
                     data_info: dict | None = None, resume: bool = False,
                     say: Callable[[str], None] = print, progress=None) -> dict:
    """Train every (target, seed) of ``config`` into ``out``, then predict, score and write
    the results. ``data_info`` (the corpus' root, sample rate, fingerprint...) is saved in
    ``config.json``. With ``resume`` a run saved in ``out`` is continued if it matches
    (settings and corpus), otherwise refused before anything is written. Returns the
    results (see the module docstring)."""
    out = Path(out)
    parts = split_partitions(examples)
    warn_shared_audio(ex.recording for ex in examples.values())
    root = data_info.get("root") if data_info else None
    for target in config.targets:
        check_targets(parts["train"], target, "train", root)
        check_targets(parts["dev"], target, "dev", root)
    in_channels = next(iter(examples.values())).x.shape[0]
    models = config.model_configs(in_channels)
    frames = [ex.x.shape[-1] for ex in examples.values()]
    for target, model in models.items():
        check_trainable(model, frames, target=target)
    record = run_record(config, in_channels, data_info)
    saved = check_out_folder(out, resume)
    if saved is not None:
        check_resume(saved, record, out / CONFIG)
    existed = out.exists()
    with folder_lock(out, "another tinyemo train is running in this folder; wait for it to "
                     "finish or train into another --out folder"):
        if saved is None:
            write_json(out / CONFIG, record)
        fit, held = ((parts["train"] + parts["dev"], []) if config.train_on == "train+dev"
                     else (parts["train"], parts["dev"]))
        try:
            runs = {target: [train_run(models[target], config.train, fit, held, target, seed,
                                       out / target / f"seed{seed}", resume, say, progress)
                             for seed in config.seeds]
                    for target in config.targets}
        except DivergedError:
            if saved is None and not any(out.rglob("*.npz")):   # nothing saved: leave nothing
                _remove_new_run(out, existed)
            raise
        return _score_and_write(out, config, parts, runs)


def _score_and_write(out: Path, config: ExperimentConfig, parts: dict[str, list[Example]],
                     runs: dict[str, list[dict]]) -> dict:
    """Predict every partition with the trained ensemble, score it, write the predictions and
    results into ``out``; returns the results."""
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
                key = (f"{part}_trained_on" if part == "dev" and config.train_on == "train+dev"
                       else part)                   # not held out: never a dev score
                results[target][key] = score(mean, gold)
                for r, run_pred in zip(results[target]["runs"], per_run):
                    r[key] = score(run_pred, gold)
    for part, by_target in predictions.items():
        write_predictions(out / "predictions" / part, parts[part], by_target)
    write_json(out / "results.json", results)
    write_text(out / "results.md", results_table({config.arch: results}))
    return results
