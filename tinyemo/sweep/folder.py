"""The sweep folder's guards: what may be resumed there (nothing that differs from the saved
sweep, naming what changed) and the lock that keeps a second sweep out while one runs."""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator

from tinyemo.data.fingerprint import fingerprint_changes
from tinyemo.util.fileio import folder_lock

__all__ = ["check_folder", "lock_folder", "JOURNAL"]

JOURNAL = "optuna.journal"


def check_folder(out: Path, config, data_info: dict | None, resume: bool) -> None:
    """Refuse, before anything is written, a folder that holds something else, a sweep without
    --resume, or a saved sweep that differs from ``config`` (naming what changed)."""
    saved_path = out / "sweep.json"
    if not saved_path.exists():
        if resume:
            raise ValueError(f"{out}: no sweep to resume here (no sweep.json)")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ValueError(f"{out}: exists and is not an empty folder; choose another --out")
        return
    if not resume:
        raise ValueError(f"{saved_path}: this folder already holds a sweep; pass --resume to "
                         f"continue it or choose another --out folder")
    try:
        saved = json.loads(saved_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{saved_path}: corrupt ({exc})") from None
    saved = {"final_on": "train", **saved}          # sweeps saved before --final-on
    now = config.identity(data_info)
    changes = [f"space: {c}" for c in config.space.changes(saved.get("space", {}))]
    changes += [f"{k}: {saved.get(k)!r} -> {now[k]!r}" for k in now
                if k not in ("space", "data") and saved.get(k) != now[k]]
    old_data, new_data = saved.get("data", {}), now["data"]
    if old_data != new_data:
        said = [f"data: {c}" for c in fingerprint_changes(old_data.get("fingerprint", {}),
                                                          new_data.get("fingerprint", {}))]
        said += [f"data: {k} {old_data.get(k)!r} -> {new_data.get(k)!r}" for k in
                 ("root", "recordings") if old_data.get(k) != new_data.get(k)]
        changes += said or ["data: the corpus changed"]
    if changes:
        raise ValueError(f"{saved_path}: --resume with a changed sweep ({'; '.join(changes)}); "
                         f"resume with the same space file and options, or use another --out")
    started = saved.get("trials")
    if started is not None and config.budget() < started:
        raise ValueError(f"{saved_path}: --resume with --trials {config.budget()}, fewer than the "
                         f"{started} per target this sweep was started with; give --trials "
                         f"{started} or more")


@contextlib.contextmanager
def lock_folder(out: Path) -> Iterator[None]:
    """Make ``out`` and hold its lock while the sweep runs (:func:`~tinyemo.util.fileio.
    folder_lock`, the one train holds; the OS frees it if the process dies); then any lock
    Optuna's journal left behind is stale and goes."""
    with folder_lock(out, "another sweep is running in this folder"):
        with_suffix = out / (JOURNAL + ".lock")
        if with_suffix.exists() or with_suffix.is_symlink():
            os.unlink(with_suffix)
        yield
