"""An experiment folder on disk (``tinyemo train --out DIR``): whether a folder may receive a
run, its ``config.json`` read back and checked key by key, and what a resume must match: the
same settings and the same corpus (a fingerprint of every recording's audio and labels).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .frontend import FbankOptions
from .frontend.cache import file_digest
from .models import ARCHITECTURES, ModelConfig
from .pipeline import NORMALISATIONS
from .settings import SettingError
from .training import TrainConfig

__all__ = ["CONFIG", "check_out_folder", "read_config", "config_differences",
           "corpus_fingerprint", "fingerprint_changes", "describe_changes"]

CONFIG = "config.json"
_LISTED = 8          # names shown in one message before "and N more"
# settings renamed since an older tinyemo wrote them: section → {old name: new name}
_RENAMED = {"train": {"weight_decay": "l2"}}   # the same L2, named apart from AdamW's decay


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
        entries = sorted(p.name for p in out.iterdir())
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
    if "baseline" in saved:      # written by tinyemo baseline (tinyemo/baselines)
        from .baselines.common import check_saved
        return check_saved(saved, bad)
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


def corpus_fingerprint(corpus) -> dict:
    """Per recording: partition, speaker, the audio file's SHA-256 and each label track's
    SHA-256 (its values on the 40 ms grid), so a resume can tell what changed."""
    out = {}
    for rec in corpus:
        out[rec.id] = {"partition": rec.partition, "speaker": rec.speaker, "file": str(rec.audio),
                       "audio": file_digest(rec.audio),
                       "labels": {t: hashlib.sha256(np.ascontiguousarray(v, np.float32).tobytes())
                                  .hexdigest() for t, v in sorted(rec.labels.items())},
                       "label_files": {t: str(p) for t, p in sorted(rec.label_files.items())}}
    return out


def fingerprint_changes(old: dict, new: dict) -> list[str]:
    """What differs between two corpus fingerprints, one phrase per change."""
    changes = []
    for rid in sorted(set(old) | set(new)):
        if rid not in new:
            changes.append(f"recording {rid} removed")
            continue
        if rid not in old:
            changes.append(f"recording {rid} added ({new[rid].get('file')})")
            continue
        o, n = old[rid], new[rid]
        if o.get("audio") != n.get("audio"):
            changes.append(f"{rid}: audio {n.get('file')} changed")
        labels_o, labels_n = o.get("labels", {}), n.get("labels", {})
        for t in sorted(set(labels_o) | set(labels_n)):
            if labels_o.get(t) != labels_n.get(t):
                what = "added" if t not in labels_o else "removed" if t not in labels_n else "changed"
                file = n.get("label_files", {}).get(t) or o.get("label_files", {}).get(t)
                changes.append(f"{rid}: {t} labels {what}" + (f" ({file})" if file else ""))
        for key in ("partition", "speaker"):
            if o.get(key) != n.get(key):
                changes.append(f"{rid}: {key} {o.get(key)!r} → {n.get(key)!r}")
    return changes


def describe_changes(changes: list[str]) -> str:
    """The first few changes, "; "-separated."""
    more = len(changes) - _LISTED
    return "; ".join(changes[:_LISTED]) + (f"; and {more} more" if more > 0 else "")
