"""Small in-memory corpora and spaces for the sweep tests (tiny shapes: a trial takes < 1 s)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from tinyemo.data.corpus import Recording
from tinyemo.data.examples import Example

SPACE = """
arch = "downup"
depth = 2
width = [4, 8]
lr = { low = 1e-3, high = 1e-2, log = true }
epochs = 3
patience = 3
"""


def examples(n_train=4, n_dev=2, n_test=2, t=162, seed=0, c=6) -> dict[str, Example]:
    """Features whose slow first two channels drive arousal and valence, plus noise channels;
    every partition labelled (test too, so tests can show test labels are never read)."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n_train + n_dev + n_test):
        part = "train" if i < n_train else "dev" if i < n_train + n_dev else "test"
        latent = [np.convolve(rng.standard_normal(t + 30), np.ones(30) / 30, "valid")[:t]
                  for _ in range(2)]
        x = rng.standard_normal((c, t)).astype(np.float32)
        x[0] += 4 * latent[0]
        x[1] += 2 * latent[1]
        rec = Recording(f"{part}_{i}", f"spk{i}", part, f"/nonexistent/{part}_{i}.wav")
        out[rec.id] = Example(rec, x, {"arousal": latent[0].astype(np.float32),
                                       "valence": latent[1].astype(np.float32)})
    return out


def space_file(tmp_path: Path, text: str = SPACE, name: str = "space.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def read_trials(folder: Path, drop=("seconds", "attempts")) -> list[dict]:
    """trials.csv as dicts, without the columns that differ from run to run."""
    with open(folder / "trials.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(f)]


def reported(folder: Path, target: str = "arousal") -> dict[int, dict[int, float]]:
    """Each trial's per-epoch reports as Optuna's storage holds them."""
    import optuna
    from optuna.storages.journal import JournalFileBackend
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(folder / "optuna.journal")))
    study = optuna.load_study(study_name=target, storage=storage)
    return {t.number: dict(t.intermediate_values) for t in study.trials}


def slow_bootstrap(per_seed: dict, labels: list, seed: int, draws: int) -> np.ndarray:
    """Each draw: recordings picked with replacement, concatenated, CCC per seed, mean (the
    slow reference of :mod:`tinyemo.sweep.luck`)."""
    from tinyemo.util.metrics import ccc
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(labels), size=(draws, len(labels)))
    out = []
    for row in picks:
        y = np.concatenate([labels[i] for i in row])
        out.append(np.mean([ccc(np.concatenate([p[i] for i in row]), y)
                            for p in per_seed.values()]))
    return np.array(out)


class ReadWatch(dict):
    """Labels that record, at each read, what ``state()`` says then (e.g. whether the final
    runs have started): a test shows when test labels were first read."""

    def __init__(self, labels: dict, state):
        super().__init__(labels)
        self.state, self.reads = state, []

    def __getitem__(self, key):
        self.reads.append(self.state())
        return super().__getitem__(key)
