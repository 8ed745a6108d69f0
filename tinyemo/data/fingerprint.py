"""A corpus's fingerprint: per recording its partition, speaker, the audio file's SHA-256 and
each label track's SHA-256, so a resume can tell what changed (:func:`fingerprint_changes`).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tinyemo.frontend.cache import file_digest
from tinyemo.util.notices import warn

__all__ = ["corpus_fingerprint", "fingerprint_changes", "describe_changes", "warn_shared_audio"]

_LISTED = 8          # changes shown in one message before "and N more"

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


def warn_shared_audio(recordings) -> None:
    """A warning naming the recordings of different partitions whose audio files are
    byte-identical (a copy of a training file in test makes its score no test at all). The
    digests are the feature cache's (computed once per file and process)."""
    first: dict[str, object] = {}
    pairs = []
    for rec in recordings:
        if rec.audio is None or not Path(rec.audio).is_file():
            continue        # examples built in memory: no file to compare
        seen = first.setdefault(file_digest(rec.audio), rec)
        if seen is not rec and seen.partition != rec.partition:
            pairs.append(f"{seen.id} ({seen.partition}, {seen.audio}) and {rec.id} "
                         f"({rec.partition}, {rec.audio})")
    if pairs:
        more = f"; and {len(pairs) - _LISTED} more" if len(pairs) > _LISTED else ""
        warn(f"byte-identical audio in two partitions: {'; '.join(pairs[:_LISTED])}{more}; "
             "the scores of the later partition are not independent of the earlier")
