"""The synthetic corpus in the cache, for entry points: generated once with progress, and
what a killed generation leaves behind cleaned up on the next run.

:func:`~tinyemo.data.synthetic.default_corpus` generates into a hidden temporary sibling
(``.<name>.XXXXXXXX``, ``<name>`` = ``<preset>-seed<n>-<generator fingerprint>``) that is
renamed into place when complete, so a process killed mid-way (kill -9, power loss) leaves that
folder behind. :func:`synthetic_corpus` marks each generation with a lock file
``.<name>.<pid>@<host>.lock`` for its duration, and
before generating removes the temporaries of a corpus that no live process is generating:
those beside a lock whose process is gone, and any untouched for :data:`STALE_AGE_S`.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Callable

from tinyemo.data.synthetic import PRESETS, default_corpus, default_corpus_path

__all__ = ["synthetic_corpus", "clean_stale_temporaries", "STALE_AGE_S"]

STALE_AGE_S = 6 * 3600.0
"""A temporary corpus folder not modified for this long is stale whatever its lock says."""
_POLL_S = 0.25


def synthetic_corpus(preset: str = "quick", seed: int = 0,
                     progress: Callable[[int, int], None] | None = None) -> Path:
    """:func:`~tinyemo.data.synthetic.default_corpus` for ``preset`` and ``seed``, after
    removing what killed generations left. ``progress(done, total)`` is called with the
    recordings written so far while it generates, from 0 to ``total`` (not at all when the
    corpus is ready)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    target = default_corpus_path(preset, seed)      # <preset>-seed<n>-<generator fingerprint>
    name, parent = target.name, target.parent
    if (parent / name / "metadata.json").is_file():
        return parent / name
    parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(parent, name)
    lock = parent / f".{name}.{os.getpid()}@{_host()}.lock"
    lock.touch()
    total = len(PRESETS[preset].ids())
    if progress:
        progress(0, total)
    watcher = _Watcher(parent, name, total, progress) if progress else None
    try:
        path = default_corpus(preset, seed)
    finally:
        if watcher:
            watcher.stop()
        lock.unlink(missing_ok=True)
    if progress:
        progress(total, total)
    return path


def clean_stale_temporaries(parent: Path, name: str) -> list[Path]:
    """Remove the temporary folders of corpus ``name`` under ``parent`` that no live process
    is generating, and the lock files of dead ones; returns the folders removed."""
    parent = Path(parent)
    live, dead = [], []
    for lock in parent.glob(f".{name}.*.lock"):
        (live if _lock_alive(lock) else dead).append(lock)
    removed = []
    now = time.time()
    for tmp in parent.glob(f".{name}.*"):
        if not tmp.is_dir() or tmp.suffix == ".lock":
            continue
        idle = now - _newest_mtime(tmp)
        if idle > STALE_AGE_S or (dead and not live):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    for lock in dead:
        lock.unlink(missing_ok=True)
    return removed


def _host() -> str:
    return socket.gethostname().replace("@", "_").replace(".", "_") or "localhost"


def _lock_alive(lock: Path) -> bool:
    """A lock of this host whose process runs, or another host's lock (whose processes we
    cannot see) younger than STALE_AGE_S."""
    owner = lock.name[:-len(".lock")].rsplit(".", 1)[-1]
    pid, _, host = owner.partition("@")
    if host != _host() or not pid.isdigit():
        try:
            return time.time() - lock.stat().st_mtime < STALE_AGE_S
        except OSError:
            return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's live process
        return True
    return True


def _newest_mtime(folder: Path) -> float:
    newest = folder.stat().st_mtime
    for root, dirs, files in os.walk(folder):
        for entry in dirs + files:
            try:
                newest = max(newest, os.stat(os.path.join(root, entry)).st_mtime)
            except OSError:
                pass
    return newest


class _Watcher:
    """Reports the recordings written into this process's temporary corpus folder (the one
    that appears after it starts) while default_corpus generates them."""

    def __init__(self, parent: Path, name: str, total: int, progress: Callable[[int, int], None]):
        self.parent, self.name, self.total, self.progress = parent, name, total, progress
        self.before = set(parent.glob(f".{name}.*"))
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        count = 0
        while not self.done.wait(_POLL_S):
            try:
                mine = [p for p in self.parent.glob(f".{self.name}.*")
                        if p not in self.before and p.is_dir()]
                n = len(list((mine[0] / "recordings_audio").glob("*.wav"))) if mine else 0
            except OSError:   # the folder was renamed into place meanwhile
                continue
            if n != count:
                count = n
                self.progress(n, self.total)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()
