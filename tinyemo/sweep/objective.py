"""One trial of a sweep, as a worker runs it: its settings trained with every seed, scored on
the development partition only.

The seeds train in lockstep, one epoch each in turn (each is an ordinary resumable run of
:func:`tinyemo.train.loop.train_run`, paused after every epoch; the last seed still running, or
the only one, runs on without pauses), and after each epoch the mean over seeds of their best
dev CCC so far goes to ``report(epoch, value)``, which answers whether to prune the trial there
(the outcome lists these reports too). The trial's score is the mean over seeds of each seed's
best dev CCC (spread: population std), and beside it the dev CCC of the seeds' ensemble (their best weights'
predictions averaged). Nothing here sees the test partition: a worker is given ``train`` and
``dev`` only.

    <folder>/seed<k>/   log.csv, best.npz (checkpoint.npz while the trial runs)
    <folder>/result.json  the outcome, so a finished trial is never trained again
    <folder>/dev-predictions.npz  a complete trial's seeds' dev predictions (the bootstrap's;
                          with folds, the held-out ones of every fold, pooled)
    <folder>/attempts     how many times the trial was started here
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from tinyemo.data.examples import Example
from tinyemo.engine.checkpoint import load_checkpoint, read_meta
from tinyemo.models.config import ModelConfig
from tinyemo.models.nets import build_model
from tinyemo.sweep.luck import save_predictions
from tinyemo.sweep.space import split_settings
from tinyemo.train.loop import (
    BEST, CHECKPOINT, DivergedError, TrainConfig, TrainState, predict_examples, train_run,
)
from tinyemo.util.fileio import write_json, write_text
from tinyemo.util.metrics import score
from tinyemo.util.runtime import set_threads

__all__ = ["TrialTask", "TrialData", "run_trial", "trial_configs", "os_failure", "DEFAULTS"]

DEFAULTS = -1          # the number of each target's defaults trial (outside Optuna)

RESULT = "result.json"
ATTEMPTS = "attempts"


@dataclass(frozen=True)
class TrialTask:
    """What a worker needs to run one trial (small: it travels to the worker each time)."""

    target: str
    number: int
    settings: dict
    seeds: tuple[int, ...]
    folder: str
    device: str = "cpu"
    threads: int | None = None
    ask: bool = True        # wait for the driver's answer after each epoch (False: no pruner)

    @property
    def key(self) -> str:
        return f"{self.target}-{self.number}"

    def identity(self) -> dict:
        return json.loads(json.dumps({"target": self.target, "settings": self.settings,
                                      "seeds": list(self.seeds), "device": self.device}))


@dataclass(frozen=True)
class TrialData:
    """The examples trials train on (train) and are scored on (dev): sent to each worker once.
    ``folds``: with cross-validated selection, each fold's (train, held-out) examples, drawn
    from train and dev; a trial then trains every seed on every fold and is scored on the
    held-out recordings (``train`` and ``dev`` are then unused by trials)."""

    train: tuple[Example, ...]
    dev: tuple[Example, ...]
    folds: tuple[tuple[tuple[Example, ...], tuple[Example, ...]], ...] = ()


@dataclass(frozen=True)
class _Run:
    """One training run of a trial: a seed, on one fold or on train/dev."""

    seed: int
    train: tuple[Example, ...]
    dev: tuple[Example, ...]
    dir: Path


def _runs(task: TrialTask, data: TrialData) -> dict:
    """The trial's runs by name: its seeds (``seed<k>/``), or every fold × seed
    (``fold<i>-seed<k>/``)."""
    folder = Path(task.folder)
    if not data.folds:
        return {s: _Run(s, data.train, data.dev, folder / f"seed{s}") for s in task.seeds}
    return {f"fold{i}-seed{s}": _Run(s, train, dev, folder / f"fold{i}-seed{s}")
            for i, (train, dev) in enumerate(data.folds) for s in task.seeds}


def trial_configs(settings: dict, target: str, in_channels: int, device: str = "cpu"
                  ) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configurations of ``settings`` (ValueError/TypeError if invalid)."""
    arch, model, train = split_settings(settings)
    model = {k: tuple(v) if isinstance(v, list) else v for k, v in model.items()}
    train = {k: tuple(v) if isinstance(v, list) else v for k, v in train.items()}
    model_cfg = ModelConfig.for_arch(arch, target, in_channels=in_channels, **model)
    return model_cfg, TrainConfig(**train, device=device)


class _Pause(Exception):
    """Raised from ``on_epoch`` to stop one seed after the lockstep's epoch (it stays resumable)."""


class _Diverged(Exception):
    pass


def run_trial(task: TrialTask, data: TrialData, report: Callable[[int, float], bool]) -> dict:
    """Train ``task``'s settings with each of its seeds (resuming whatever its folder holds) and
    return the outcome: ``status`` complete | pruned | failed, ``message`` for a failure, and
    dev_ccc_mean, dev_ccc_std, dev_ccc_seeds, dev_ccc_ensemble, best_epochs, epochs_trained,
    seconds, attempts, and ``reports``: the [epoch, value] pairs reported. Every exception of
    the trial is caught into a failed outcome; one of the system's (OSError: disk full,
    permission) also sets ``retry``: the trial's settings are not to blame, nothing of the
    outcome is saved, and a resumed sweep runs the trial again."""
    try:
        return _run_trial(task, data, report)
    except OSError as exc:
        return os_failure(exc)


def os_failure(exc: OSError) -> dict:
    """The outcome of a trial stopped by the system rather than by its settings."""
    where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
    return {"status": "failed", "retry": True,
            "message": f"{type(exc).__name__}: {where}{exc.strerror or exc}"}


def _run_trial(task: TrialTask, data: TrialData, report) -> dict:
    start = time.perf_counter()
    folder = Path(task.folder)
    saved = _saved_result(folder, task)
    if saved is not None:
        return saved
    attempts = _count_attempt(folder)
    if task.threads is not None:
        set_threads(task.threads)
    try:
        model_cfg, train_cfg = trial_configs(task.settings, task.target,
                                             data.train[0].x.shape[0], task.device)
        build_model(model_cfg)
    except (ValueError, TypeError) as exc:
        return _finish(folder, task, {"status": "failed", "message": f"invalid settings: {exc}"},
                       start, attempts)
    reports: list = []

    def noted(epoch: int, value: float) -> bool:
        reports.append([epoch, value])
        return report(epoch, value)
    try:
        outcome = _lockstep(task, model_cfg, train_cfg, data, noted)
    except (_Diverged, DivergedError) as exc:
        outcome = {"status": "failed", "message": str(exc)}
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad trial must not end the sweep
        return {"status": "failed", "message": f"{type(exc).__name__}: {exc}",
                "seconds": time.perf_counter() - start, "attempts": attempts, "reports": reports}
    return _finish(folder, task, dict(outcome, reports=reports), start, attempts)


def _lockstep(task, model_cfg, train_cfg, data, report) -> dict:
    runs = _runs(task, data)
    names = list(runs)
    while True:
        states = {s: _state(runs[s].dir) for s in names}
        running = [s for s in names if not states[s].done]
        if not running:
            break
        epoch = min(states[s].epoch for s in running) + 1
        if len(running) == 1:                  # the last seed left runs on without pausing
            try:
                _advance(task, model_cfg, train_cfg, runs[running[0]], None,
                         _reporter(report, states, running[0], names))
            except _Pruned as stop:
                epoch = stop.epoch
                states = {s: _state(runs[s].dir) for s in names}
                break
            continue
        for s in running:
            if states[s].epoch < epoch:
                _advance(task, model_cfg, train_cfg, runs[s], epoch)
        states = {s: _state(runs[s].dir) for s in names}
        if report(epoch, _mean_best(states, names, epoch)):
            break
    if any(not states[s].done for s in names):
        return {"status": "pruned", "message": f"pruned after epoch {epoch}",
                "dev_ccc_mean": _mean_best(states, names, epoch),
                **_per_seed(states, names, epoch)}
    per_seed = _per_seed(states, names)
    ensemble = _ensemble_ccc(task, model_cfg, data, runs)
    return {"status": "complete", "dev_ccc_mean": float(np.mean(per_seed["dev_ccc_seeds"])),
            "dev_ccc_ensemble": ensemble, **per_seed}


class _Pruned(Exception):
    def __init__(self, epoch: int):
        super().__init__(epoch)
        self.epoch = epoch


def _mean_best(states: dict, seeds, epoch: int) -> float:
    """What the pruner sees after ``epoch``: the mean over seeds of each one's best dev CCC so far."""
    return float(np.mean([_best_until(states[s], epoch) for s in seeds]))


def _reporter(report, states: dict, seed: int, seeds):
    """``each(state)`` for the last running seed: report after every epoch it trains."""
    def each(state: TrainState) -> None:
        now = {**states, seed: state}
        if report(state.epoch, _mean_best(now, seeds, state.epoch)):
            raise _Pruned(state.epoch)
    return each


def _advance(task, model_cfg, train_cfg, run: _Run, epoch, each=None) -> None:
    """Train ``run`` until it has ``epoch`` epochs (None: until it stops), calling
    ``each(state)`` after every epoch."""
    seed = run.seed
    def on_epoch(state: TrainState) -> None:
        row = state.log[-1]
        if not (math.isfinite(row["train_loss"]) and math.isfinite(row["dev_ccc"])):
            raise _Diverged(f"training diverged: train loss {row['train_loss']}, dev CCC "
                            f"{row['dev_ccc']} at epoch {state.epoch} (seed {seed})")
        if each is not None:
            each(state)
        if epoch is not None and state.epoch >= epoch:
            raise _Pause
    try:
        train_run(model_cfg, train_cfg, list(run.train), list(run.dev), task.target, seed,
                  run.dir, resume=True, say=lambda s: None, on_epoch=on_epoch)
    except _Pause:
        pass


def _state(run_dir: Path) -> TrainState:
    path = run_dir / CHECKPOINT
    if not path.exists():
        return TrainState()
    return TrainState.from_dict(read_meta(path).get("state"), str(path))


def _best_until(state: TrainState, epoch: int) -> float:
    return max(row["dev_ccc"] for row in state.log[:epoch])


def _per_seed(states: dict, seeds, epoch: int | None = None) -> dict:
    """Each seed's best dev CCC, its epoch and the epochs trained (up to ``epoch`` if given)."""
    logs = {s: states[s].log[:epoch] if epoch else states[s].log for s in seeds}
    ccc = {s: [row["dev_ccc"] for row in logs[s]] for s in seeds}
    best = [max(ccc[s]) for s in seeds]
    return {"dev_ccc_std": float(np.std(best)), "dev_ccc_seeds": best,
            "best_epochs": [1 + int(np.argmax(ccc[s])) for s in seeds],
            "epochs_trained": [len(logs[s]) for s in seeds]}


def _ensemble_ccc(task, model_cfg, data, runs: dict) -> float:
    """Dev CCC of the seeds' best weights, their predictions averaged; each seed's predictions
    are kept in the trial's folder for the bootstrap (:mod:`.luck`). With folds: the mean over
    folds of each fold's ensemble on its held-out recordings, and each seed's predictions kept
    for the held-out recordings of every fold, pooled (each train and dev recording once)."""
    groups: dict = {}                          # the held-out examples -> their seeds' runs
    for run in runs.values():
        groups.setdefault(id(run.dev), (run.dev, []))[1].append(run)
    scores = []
    pooled: dict = {s: [] for s in task.seeds}
    pooled_labels: list = []
    for dev, group in groups.values():
        per_seed = []
        for run in group:
            model = build_model(model_cfg)
            load_checkpoint(run.dir / BEST, model)
            per_seed.append(predict_examples(model.to(task.device), list(dev), task.device))
            pooled[run.seed] += per_seed[-1]
        labels = [ex.y[task.target] for ex in dev]
        pooled_labels += labels
        mean = [np.mean([p[i] for p in per_seed], axis=0) for i in range(len(dev))]
        scores.append(score(mean, labels)["ccc"])
    save_predictions(Path(task.folder), pooled, pooled_labels)
    return float(np.mean(scores))


def _finish(folder: Path, task: TrialTask, outcome: dict, start: float, attempts: int) -> dict:
    """Save the outcome (so the trial is never trained again), then drop the checkpoints."""
    outcome = dict(outcome, seconds=time.perf_counter() - start, attempts=attempts)
    write_json(folder / RESULT, {"identity": task.identity(), "outcome": outcome})
    for checkpoint in folder.glob(f"*/{CHECKPOINT}"):
        checkpoint.unlink(missing_ok=True)
    return outcome


def _saved_result(folder: Path, task: TrialTask) -> dict | None:
    try:
        saved = json.loads((folder / RESULT).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if saved.get("identity") != task.identity():
        raise ValueError(f"{folder / RESULT}: saved by another trial ({saved.get('identity')}); "
                         f"this folder belongs to a different sweep")
    return saved["outcome"]


def _count_attempt(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        n = int((folder / ATTEMPTS).read_text()) + 1
    except (FileNotFoundError, ValueError):
        n = 1
    write_text(folder / ATTEMPTS, f"{n}\n")
    return n


def outcome_fields() -> list[str]:
    """The outcome's numeric fields, in the order trials.csv lists them."""
    return ["dev_ccc_mean", "dev_ccc_std", "dev_ccc_ensemble", "dev_ccc_seeds", "best_epochs",
            "epochs_trained", "seconds", "attempts"]

