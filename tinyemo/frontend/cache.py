"""On-disk feature cache, keyed by the audio's bytes and every option, written atomically."""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from tinyemo.frontend.audio import RESAMPLER, read_audio
from tinyemo.frontend.filterbank import fbank
from tinyemo.frontend.options import FbankOptions
from tinyemo.util.fileio import cache_root, save_npz
from tinyemo.util.notices import warn

__all__ = ["FeatureCache", "extract", "FORMAT_VERSION", "file_digest"]

FORMAT_VERSION = 1          # bump when the features computed for the same key would change
HASH_CHUNK_BYTES = 1 << 20


_digests: dict[tuple, str] = {}   # (path, size, mtime_ns, inode) → digest, this process


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, hex. Remembered for the process while the file's size,
    modification time and inode stay the same (the cache key and the corpus fingerprint both
    need it)."""
    st = os.stat(path)
    stamp = (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if stamp in _digests:
        return _digests[stamp]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(HASH_CHUNK_BYTES), b""):
            h.update(chunk)
    _digests[stamp] = h.hexdigest()
    return _digests[stamp]


class FeatureCache:
    """Features on disk under ``root`` (default ``tinyemo.util.fileio.cache_root() / "features"``).

    Each entry is ``<root>/<key[:2]>/<key>.npz`` holding one array ``feats``; the key hashes
    the audio file's bytes, the :class:`FbankOptions`, the channel, the target sample rate with
    the resampler (:data:`~tinyemo.frontend.audio.RESAMPLER`) and
    :data:`FORMAT_VERSION`, so a changed file or option never reuses stale features. Entries
    are written atomically; an unreadable entry counts as a miss and is rewritten. A cache
    that cannot be written (read-only, full, not a folder) warns once and is only read.
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else cache_root() / "features"
        self.hits = 0
        self.misses = 0
        self.writable = True

    def key(self, path: str | os.PathLike, options: FbankOptions, channel: int | None = None,
            sample_rate: int | None = None) -> str:
        """The cache key (64 hex digits) for these audio bytes and options."""
        return self.key_of(path, {"format_version": FORMAT_VERSION, "options": options.to_dict(),
                                  "channel": channel, "sample_rate": sample_rate})

    def key_of(self, path: str | os.PathLike, spec: dict) -> str:
        """The cache key (64 hex digits) for the audio bytes of ``path`` and ``spec`` (every
        option that decides the features, JSON-serialisable; with a ``sample_rate``, the
        resampler is added)."""
        try:
            digest = file_digest(path)
        except OSError as exc:
            raise ValueError(f"{path}: cannot read audio ({exc})") from exc
        spec = {**spec, "audio_sha256": digest}
        if spec.get("sample_rate") is not None:
            spec["resampler"] = RESAMPLER
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def path_of(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> np.ndarray | None:
        """The cached (T, D) float32 array, or None on a miss."""
        path = self.path_of(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                feats = data["feats"]
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
            self.misses += 1
            return None
        self.hits += 1
        return feats

    def put(self, key: str, feats: np.ndarray) -> None:
        """Store ``feats``; on an OSError, warn once and stop writing (features are still
        computed, just not kept)."""
        if not self.writable:
            return
        try:
            save_npz(self.path_of(key), feats=np.asarray(feats, dtype=np.float32))
        except OSError as exc:
            self.writable = False
            warn(f"feature cache {self.root} cannot be written ({exc.strerror or exc}); "
                 f"computing features without it (set TINYEMO_CACHE to a writable folder)")


def extract(path: str | os.PathLike, options: FbankOptions | None = None,
            cache: FeatureCache | bool | None = True, *, channel: int | None = None,
            sample_rate: int | None = None, **overrides) -> np.ndarray:
    """Log mel filterbank features of one audio file: :func:`read_audio` then :func:`fbank`.

    options / overrides: Kaldi fbank options (defaults: Kaldi's, 40 bins). cache: True for
    the default :class:`FeatureCache`, a FeatureCache, or False/None for none. channel and
    sample_rate go to :func:`read_audio`. Returns (T10, num_mel_bins) float32 (one more column
    with use_energy). Dither with ``seed=None`` is not reproducible, so it is never cached.
    """
    opts = FbankOptions.from_kwargs(options, **overrides)
    if cache is True:
        cache = FeatureCache()
    if opts.dither != 0.0 and opts.seed is None:
        cache = None
    key = None
    if cache:
        if not Path(path).is_file():
            raise ValueError(f"{path}: no such audio file")
        key = cache.key(path, opts, channel, sample_rate)
        feats = cache.get(key)
        if feats is not None:
            return feats
    samples, rate = read_audio(path, channel=channel, sample_rate=sample_rate)
    feats = fbank(samples, rate, options=opts, name=str(path))
    if key is not None:
        cache.put(key, feats)
    return feats
