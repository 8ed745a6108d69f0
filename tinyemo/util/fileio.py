"""Atomic file writes and the cache folder: nothing already saved is lost if a write dies.

Every file tinyemo writes (features, corpora, checkpoints, predictions, results) goes through
:func:`atomic_write`: the bytes land in a temporary file in the same folder, are flushed to
disk, and only then replace the target with ``os.replace`` (atomic on POSIX and Windows).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

__all__ = ["cache_root", "atomic_write", "write_text", "write_json", "save_npz", "folder_lock",
           "check_writable", "LOCK_FILE"]

LOCK_FILE = ".lock"     # held by the process writing a run folder (:func:`folder_lock`)


def cache_root() -> Path:
    """The folder for cached features and generated corpora.

    ``$TINYEMO_CACHE`` if set, else ``$XDG_CACHE_HOME/tinyemo``, else ``~/.cache/tinyemo``.
    """
    env = os.environ.get("TINYEMO_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "tinyemo" if xdg else Path.home() / ".cache" / "tinyemo"


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[io.IOBase]:
    """Open a temporary sibling of ``path`` for writing; on success it replaces ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was; an
    OSError that names no file (a full disk) is given ``path`` as its ``filename``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:   # the temporary name means nothing to the user: name the target
        exc.filename = str(path)
        raise
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)   # "disk full" alone does not say which file
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_write(path, "w") as f:
        f.write(text)


def write_json(path: str | os.PathLike, obj) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Save arrays to an uncompressed ``.npz`` atomically."""
    with atomic_write(path, "wb") as f:
        np.savez(f, **arrays)


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, busy: str) -> Iterator[None]:
    """Hold ``folder/.lock`` (:data:`LOCK_FILE`; an exclusive ``flock``, freed by the OS when
    the process dies, so a killed run leaves no stale lock); ValueError ``"<folder>: <busy>"``
    when another process holds it. Without ``fcntl`` (not POSIX) there is no guard."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a") as f:
        try:
            import fcntl  # POSIX only
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:
            pass
        except OSError:
            raise ValueError(f"{folder}: {busy}") from None
        yield


def check_writable(out: Path, what: str = "the file") -> Path:
    """ValueError naming ``out`` when a file cannot be written there (checked before any
    work, so a failed command leaves nothing behind); ``what``: the file, in the message."""
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"{out}: is a folder; give the path of {what} to write")
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{out}: cannot be written ({parent} is not a folder)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{out}: cannot be written (no write permission in {parent})")
    return out
