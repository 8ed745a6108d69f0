"""A run folder on disk (``tinyemo train --out DIR``, ``tinyemo baseline --out DIR``): whether a
folder may receive a run (new, empty, or a run to resume), its ``config.json`` read back and
checked key by key for both kinds of folder (trained nets, fitted baselines), and what differs
between a saved configuration and a new one (what a resume must match).
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from tinyemo.data.examples import NORMALISATIONS
from tinyemo.frontend import FbankOptions
from tinyemo.frontend.descriptors import FEATURES
from tinyemo.models.config import ARCHITECTURES, ModelConfig
from tinyemo.train.loop import TrainConfig
from tinyemo.util.fileio import LOCK_FILE
from tinyemo.util.settings import SettingError

__all__ = ["CONFIG", "BASELINE_KINDS", "check_out_folder", "read_config", "config_differences",
           "is_baseline_config"]

CONFIG = "config.json"
# the literature baselines (tinyemo.baselines) whose fitted folders share this layout
BASELINE_KINDS = ("avec2016", "windowed")


_LISTED = 8          # names shown in one message before "and N more"


def check_out_folder(out: Path, resume: bool, require_run: bool = False) -> dict | None:
    """Before anything is created: may ``out`` receive a run? It may be a new folder (its
    nearest existing parent writable), an empty folder, or a tinyemo run when ``resume``
    (whose validated configuration is returned). ``require_run``: with ``resume``, a folder
    without a run is an error rather than a fresh start. ValueError naming the folder."""
    out = Path(out)
    config = out / CONFIG
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a folder")
    if out.is_dir():
        if config.exists():
            if not resume:
                raise ValueError(f"{config}: this folder already holds an experiment; pass "
                                 f"--resume to continue it or choose another --out folder")
            saved = read_config(out)
            _check_writable(out, out)
            return saved
        entries = sorted(p.name for p in out.iterdir() if p.name != LOCK_FILE)
        if entries:
            raise ValueError(f"{out}: folder is not empty and holds no tinyemo run (no "
                             f"{CONFIG}; it has {_listing(entries)}); choose an empty or new "
                             f"--out folder")
        _check_writable(out, out)
    else:
        parent = next(p for p in out.parents if p.exists()) if not out.exists() else out
        if not parent.is_dir():
            raise ValueError(f"{out}: cannot create it: {parent} is not a folder")
        _check_writable(out, parent)
    if resume and require_run:
        raise ValueError(f"{out}: nothing to resume (no {CONFIG}); leave out --resume to "
                         f"start a new run there")
    return None


def _check_writable(out: Path, folder: Path) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{out}: cannot write in {folder} (permission denied)")


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")



# settings renamed since an older tinyemo wrote them: section → {old name: new name}
_RENAMED = {"train": {"weight_decay": "l2"}}   # the same L2, named apart from AdamW's decay


def read_config(folder: Path) -> dict:
    """The ``config.json`` of a run folder, every key checked: a missing, mistyped or invalid
    entry is a ValueError naming the file and the key (``models.arousal.width``)."""
    folder = Path(folder)
    path = folder / CONFIG
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder}: not a tinyemo run folder (it is a file; expected the folder "
                         f"that tinyemo train wrote)")
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such run folder")
    if not path.is_file():
        finals = sorted(p.name for p in folder.glob("final-*-trial*") if (p / CONFIG).is_file())
        if finals:     # a sweep's folder: its run folders are inside
            raise ValueError(f"{folder}: a sweep folder, not a run folder; give one of the run "
                             f"folders it holds: {', '.join(str(folder / f) for f in finals)}")
        raise ValueError(f"{folder}: not a tinyemo run folder (no {CONFIG})")
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: corrupt: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: corrupt JSON: {exc.msg} at line {exc.lineno}, column "
                         f"{exc.colno}") from None
    _migrate(saved)
    _check_saved(saved, path)
    return saved


def _migrate(saved) -> None:
    """Old names of renamed settings (:data:`_RENAMED`) read as the new ones, and models saved
    before ``activation`` was a setting as the activation they ran (relu; single: tanh), in
    place."""
    if not isinstance(saved, dict):
        return
    for section, renames in _RENAMED.items():
        values = saved.get(section)
        if isinstance(values, dict):
            for old, new in renames.items():
                if old in values and new not in values:
                    values[new] = values.pop(old)
    models = saved.get("models")
    for model in models.values() if isinstance(models, dict) else ():
        if isinstance(model, dict) and "activation" not in model:   # before the setting
            model["activation"] = "tanh" if model.get("arch") == "single" else "relu"


def _check_saved(saved, path: Path) -> None:
    def bad(key: str, problem: str) -> ValueError:
        return ValueError(f"{path}: key {key!r}: {problem}")

    if not isinstance(saved, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(saved).__name__}")
    if is_baseline_config(saved):      # written by tinyemo baseline (tinyemo/baselines)
        return _check_baseline(saved, bad)
    for key in ("arch", "targets", "seeds", "train", "models"):
        if key not in saved:
            raise bad(key, "missing")
    if saved["arch"] not in ARCHITECTURES:
        raise bad("arch", f"must be one of {', '.join(ARCHITECTURES)}, got {saved['arch']!r}")
    targets = saved["targets"]
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
        raise bad("targets", f"must be a non-empty list of names, got {targets!r}")
    seeds = saved["seeds"]
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise bad("seeds", f"must be a non-empty list of integers >= 0, got {seeds!r}")
    _build(TrainConfig, saved["train"], "train", bad)
    models = saved["models"]
    if not isinstance(models, dict):
        raise bad("models", f"must be an object (target → model settings), got {models!r}")
    for target in targets:
        if target not in models:
            raise bad(f"models.{target}", "missing")
        model = _build(ModelConfig, models[target], f"models.{target}", bad)
        if model.arch != saved["arch"]:
            raise bad(f"models.{target}.arch", f"{model.arch!r} differs from arch "
                      f"{saved['arch']!r}")
    if "fbank" in saved:
        _build(FbankOptions, saved["fbank"], "fbank", bad)
    rate = saved.get("sample_rate")
    if rate is not None and (not isinstance(rate, int) or isinstance(rate, bool) or rate < 1):
        raise bad("sample_rate", f"must be a positive integer (Hz) or null, got {rate!r}")
    if saved.get("normalise", "speaker") not in NORMALISATIONS:
        raise bad("normalise", f"must be one of {', '.join(NORMALISATIONS)}, got "
                  f"{saved['normalise']!r}")
    if saved.get("features", "fbank") not in FEATURES:    # absent: saved before the setting
        raise bad("features", f"must be one of {', '.join(FEATURES)}, got "
                  f"{saved['features']!r}")
    if not isinstance(saved.get("data", {}), dict):
        raise bad("data", f"must be an object, got {saved['data']!r}")


def _build(cls, value, key: str, bad):
    """``cls(**value)``, its problems reported as ``key.field``."""
    if not isinstance(value, dict):
        raise bad(key, f"must be an object, got {value!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    for name in value:
        if name not in names:
            raise bad(f"{key}.{name}", f"unknown setting (known: {', '.join(sorted(names))})")
    try:
        return cls(**value)
    except SettingError as exc:
        raise bad(f"{key}.{exc.field}", exc.problem) from None
    except (ValueError, TypeError) as exc:
        raise bad(key, str(exc)) from None


def config_differences(saved: dict, new: dict, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between a saved configuration and a new one. A key
    the saved one lacks (written by an older tinyemo, before the setting existed) is not
    compared."""
    diffs = []
    for key, old in saved.items():
        name = f"{prefix}{key}"
        if key not in new:
            diffs.append(name)
        elif isinstance(old, dict) and isinstance(new[key], dict):
            diffs += config_differences(old, new[key], f"{name}.")
        elif old != new[key]:
            diffs.append(name)
    return diffs


def is_baseline_config(saved: dict) -> bool:
    """Whether a run folder's configuration was written by ``tinyemo baseline``."""
    return "baseline" in saved


def _check_baseline(saved: dict, bad) -> None:
    """The keys every baseline's ``config.json`` has. Its ``settings`` are checked against
    the kind's own settings class when the folder is loaded
    (:class:`tinyemo.baselines.BaselineModel`), with the same kind of error."""
    kind = saved.get("baseline")
    if kind not in BASELINE_KINDS:
        raise bad("baseline", f"must be one of {', '.join(BASELINE_KINDS)}, got {kind!r}")
    targets = saved.get("targets")
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
        raise bad("targets", f"must be a non-empty list of names, got {targets!r}")
    if not isinstance(saved.get("settings"), dict):
        raise bad("settings", f"must be an object, got {saved.get('settings')!r}")
    chosen = saved.get("chosen")
    for target in targets:
        if not isinstance(chosen, dict) or not isinstance(chosen.get(target), dict):
            raise bad(f"chosen.{target}", "missing")
    rate = saved.get("sample_rate")
    if rate is not None and (not isinstance(rate, int) or isinstance(rate, bool) or rate < 1):
        raise bad("sample_rate", f"must be a positive integer (Hz) or null, got {rate!r}")
