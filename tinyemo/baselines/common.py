"""What both baselines share: their optional dependencies, the run folder they write (the same
layout as ``tinyemo train``, so ``evaluate``, ``predict``, ``plot`` and ``scripts/tables.py``
read it like any model's), and loading that folder back as a predictor.

    OUT/config.json                       kind, candidate grids, the settings chosen per target
                                          and every candidate's dev score (how they were chosen)
    OUT/<target>/model.npz                the fitted model: scaler mean/scale, coef, intercept
    OUT/predictions/<partition>/<id>.csv  time, <target>[, <target>_gold] every 40 ms
    OUT/results.json                      {target: {partition: {ccc, rmse, pearson}, "runs": [...]}}
    OUT/results.md                        the paper's table

Each baseline module (``avec2016``, ``windowed``) provides ``Config`` (a frozen dataclass with
``to_dict``/``from_dict``, checked by :func:`tinyemo.util.settings.check_fields`),
``check(training)``, ``features(corpus, config, progress, sample_rate)``,
``fit(train, dev, targets, config, say)`` and ``predict(arrays, chosen, config, examples)``.
Settings are chosen on the dev partition only; the test partition is predicted and scored,
never read while fitting. ``config.json`` is written last: a folder holding it is complete.
"""
from __future__ import annotations

import importlib
import json
import time
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from tinyemo.baselines.windows import check_windows_fit
from tinyemo.data.corpus import PARTITIONS
from tinyemo.data.examples import Example, check_targets, corpus_rate
from tinyemo.data.fingerprint import corpus_fingerprint
from tinyemo.frontend.blocks import audio_info
from tinyemo.runs.folder import BASELINE_KINDS, CONFIG, check_out_folder, read_config
from tinyemo.runs.predictions import write_predictions
from tinyemo.runs.tables import results_table
from tinyemo.util.fileio import save_npz, write_json, write_text
from tinyemo.util.metrics import score
from tinyemo.util.settings import SettingError

__all__ = ["KINDS", "EXTRA", "require", "baseline_module", "train_baseline", "BaselineModel",
           "is_baseline_folder", "check_out"]

KINDS = BASELINE_KINDS
EXTRA = "pip install 'tinyemo[baselines]'"
MODEL = "model.npz"
_PIP_NAMES = {"sklearn": "scikit-learn"}


def require(module: str, kind: str):
    """Import an optional dependency of the ``kind`` baseline, or RuntimeError naming the
    extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        name = _PIP_NAMES.get(module, module)
        raise RuntimeError(f"the {kind} baseline needs {name}, which is not installed: "
                           f"{EXTRA}") from None


def baseline_module(kind: str):
    if kind not in KINDS:
        raise ValueError(f"unknown baseline {kind!r}; choose one of {', '.join(KINDS)}")
    return importlib.import_module(f".{kind}", __package__)


def is_baseline_folder(folder: Path) -> bool:
    """Whether ``folder/config.json`` was written by a baseline (not ``tinyemo train``)."""
    try:
        return "baseline" in json.loads((Path(folder) / "config.json").read_text())
    except (OSError, ValueError):
        return False


def check_out(out: Path) -> None:
    """Before anything is created: ``out`` may receive a baseline (new, or an empty folder in
    a writable place). ValueError naming the folder."""
    if (Path(out) / CONFIG).exists():
        raise ValueError(f"{Path(out) / CONFIG}: this folder already holds a model; choose "
                         f"another --out folder")
    check_out_folder(out, resume=False)


def train_baseline(kind: str, corpus, out: Path, *, config=None,
                   targets: tuple[str, ...] = ("arousal", "valence"), source: Path | None = None,
                   sample_rate: int | None = None, say: Callable[[str], None] = print,
                   progress=None) -> dict:
    """Fit the ``kind`` baseline on ``corpus`` (read from ``source``) on train, settings chosen
    on dev, predict every partition and write the run folder ``out``. Audio is used at
    ``sample_rate`` (None: the corpus's most common rate), recorded for prediction. Returns
    the results (as results.json)."""
    module = baseline_module(kind)
    config = config if config is not None else module.Config()
    out = Path(out)
    module.check(training=True)
    check_out(out)
    start = time.perf_counter()
    root = source if source is not None else getattr(corpus, "root", None)
    labelled = {p: [r for r in corpus if r.partition == p] for p in ("train", "dev")}
    for target in targets:
        for part, recs in labelled.items():
            # the label checks of the nets, before any feature is computed
            check_targets([Example(r, np.empty((0, 0)), r.labels) for r in recs], target, part,
                          root)
    rate = corpus_rate(corpus, sample_rate)
    check_windows_fit(config.windows_s, max(frames / file_rate for file_rate, frames in
                                            (audio_info(r.audio) for r in corpus)))
    examples = module.features(corpus, config, progress, rate)
    parts = {p: [ex for ex in examples.values() if ex.recording.partition == p]
             for p in PARTITIONS}
    say(f"{kind}: {len(parts['train'])} train / {len(parts['dev'])} dev recordings; "
        f"choosing settings on dev")
    fits = module.fit(parts["train"], parts["dev"], tuple(targets), config, say)
    for target, (arrays, _, _) in fits.items():
        save_npz(out / target / MODEL, **arrays)
    results, predictions = {}, {}
    for target, (arrays, chosen, _) in fits.items():
        results[target] = {}
        for part, exs in parts.items():
            if not exs:
                continue
            pred = module.predict(arrays, chosen, config, exs)
            predictions.setdefault(part, {})[target] = pred
            if all(target in ex.y for ex in exs):
                results[target][part] = score(pred, [ex.y[target] for ex in exs])
        # one deterministic fit: a single "run", so tools that list runs see it
        results[target]["runs"] = [{p: results[target][p] for p in PARTITIONS
                                    if p in results[target]}]
    for part, by_target in predictions.items():
        write_predictions(out / "predictions" / part, parts[part], by_target)
    write_json(out / "results.json", results)
    write_text(out / "results.md", results_table({kind: results}))
    data_info = {"root": str(root) if root is not None else None, "recordings": len(corpus),
                 "sample_rate": rate, "fingerprint": corpus_fingerprint(corpus)}
    saved = {"baseline": kind, "targets": list(targets), "settings": config.to_dict(),
             "sample_rate": rate, "chosen": {t: fit[1] for t, fit in fits.items()},
             "selection": {t: fit[2] for t, fit in fits.items()}, "data": data_info,
             "seconds": round(time.perf_counter() - start, 1)}
    write_json(out / "config.json", json.loads(json.dumps(saved, default=float)))
    return results


def _settings(folder: Path, saved: dict):
    """The kind's settings object from a baseline folder's ``config.json`` (whose other keys
    :func:`tinyemo.runs.folder.read_config` checked): ValueError naming the file and key."""
    path = folder / CONFIG
    try:
        return baseline_module(saved["baseline"]).Config.from_dict(saved["settings"])
    except SettingError as exc:
        raise ValueError(f"{path}: key 'settings.{exc.field}': {exc.problem}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: key 'settings': invalid ({exc})") from None


class BaselineModel:
    """A baseline's run folder as a predictor, with the interface of :class:`Ensemble`:
    ``config``, ``targets``, ``sample_rate``, ``examples(corpus)`` (the features this baseline
    reads) and ``predict(examples, target)`` → (predictions, [predictions])."""

    def __init__(self, folder: Path):
        folder = Path(folder)
        self.config = read_config(folder)   # every key checked: errors name the file and key
        self.kind = self.config["baseline"]
        self.module = baseline_module(self.kind)
        self.settings = _settings(folder, self.config)
        self.module.check(training=False)
        self.arrays = {}
        for target in self.config["targets"]:
            npz = folder / target / MODEL
            try:
                with np.load(npz, allow_pickle=False) as data:
                    self.arrays[target] = {k: data[k] for k in data.files}
            except (OSError, ValueError, zipfile.BadZipFile) as exc:
                raise ValueError(f"{npz}: cannot read the fitted model ({exc})") from None

    @property
    def name(self) -> str:
        return self.kind

    @property
    def targets(self) -> list[str]:
        return list(self.arrays)

    @property
    def sample_rate(self) -> int | None:
        return self.config.get("sample_rate")

    def examples(self, corpus, progress=None) -> dict[str, Example]:
        return self.module.features(corpus, self.settings, progress, self.sample_rate)

    def predict(self, examples: list[Example], target: str) -> tuple[list, list[list]]:
        pred = self.module.predict(self.arrays[target], self.config["chosen"][target],
                                   self.settings, examples)
        return pred, [pred]
