"""Recordings and corpora: the data model every reader returns.

A corpus is a list of recordings. Each recording has an id, a speaker, a partition (``train``,
``dev``, ``test`` or any name), an audio file, and zero or more label tracks on the 40 ms grid:
label frame ``j`` is the rating at ``0.04 * j`` seconds, as in the AVEC 2016 gold standard
(7501 frames for a 300 s recording; ``grid.py`` owns that grid). Recordings without labels
(RECOLA's test partition) are kept: they can still be predicted. The readers live beside this
module (``avec2016.py``, ``manifest.py``; ``loading.load_corpus`` picks one); this one imports
none of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from tinyemo.data.grid import FRAME_S

__all__ = ["Recording", "Corpus", "PARTITIONS", "check_partitions"]

PARTITIONS = ("train", "dev", "test")
"""The partitions of the AVEC 2016 protocol: fit on train, choose on dev, score test once."""


@dataclass(frozen=True, eq=False, repr=False)
class Recording:
    """One recording: ``labels`` maps a target name to a (T,) float32 track on the 40 ms grid;
    ``label_files`` names the file each track was read from (for error messages)."""

    id: str
    speaker: str
    partition: str
    audio: Path
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    label_files: dict[str, Path] = field(default_factory=dict)   # target → the file it came from

    def __post_init__(self) -> None:
        object.__setattr__(self, "audio", Path(self.audio))
        object.__setattr__(self, "label_files", {k: Path(v) for k, v in self.label_files.items()})
        tracks = {}
        for name, track in self.labels.items():
            track = np.ascontiguousarray(track, dtype=np.float32)
            if track.ndim != 1:
                raise ValueError(f"recording {self.id!r}: label track {name!r} must be 1-D, "
                                 f"got shape {track.shape}")
            tracks[name] = track
        object.__setattr__(self, "labels", tracks)

    def __repr__(self) -> str:
        tracks = ", ".join(f"{k}: {v.shape[0]} frames" for k, v in self.labels.items()) or "unlabelled"
        return (f"Recording({self.id!r}, speaker={self.speaker!r}, partition={self.partition!r}, "
                f"audio={str(self.audio)!r}, {tracks})")

    @property
    def labelled(self) -> bool:
        """Whether the recording has at least one label track."""
        return bool(self.labels)

    def times(self, target: str) -> np.ndarray:
        """(T,) float64 seconds of each frame of ``labels[target]``: ``0.04 * j``."""
        return FRAME_S * np.arange(self.labels[target].shape[0])


class Corpus:
    """An ordered collection of recordings with unique ids; ``root`` is where it was read from.

    Iterating yields recordings; ``corpus["dev_1"]`` and ``corpus[0]`` look one up;
    ``corpus.partition("train")`` lists one partition in corpus order.
    """

    def __init__(self, recordings: Iterable[Recording], root: str | Path | None = None) -> None:
        self.recordings: list[Recording] = list(recordings)
        self.root = Path(root) if root is not None else None
        seen: dict[str, Recording] = {}
        for rec in self.recordings:
            if rec.id in seen:
                raise ValueError(f"duplicate recording id {rec.id!r}: {seen[rec.id].audio} and "
                                 f"{rec.audio}" + (f" (corpus {self.root})" if self.root else ""))
            seen[rec.id] = rec
        self._by_id = seen

    def __len__(self) -> int:
        return len(self.recordings)

    def __iter__(self) -> Iterator[Recording]:
        return iter(self.recordings)

    def __getitem__(self, key: int | str) -> Recording:
        if isinstance(key, str):
            try:
                return self._by_id[key]
            except KeyError:
                raise KeyError(f"no recording {key!r} in corpus {self.root}") from None
        return self.recordings[key]

    def __contains__(self, key: str) -> bool:
        return key in self._by_id

    def __repr__(self) -> str:
        parts = ", ".join(f"{p}={len(self.partition(p))}" for p in self.partitions)
        return f"Corpus({self.root}, {len(self)} recordings: {parts}; targets={list(self.targets)})"

    def partition(self, name: str) -> list[Recording]:
        """Recordings of partition ``name``, in corpus order (empty if there are none)."""
        return [r for r in self.recordings if r.partition == name]

    @property
    def partitions(self) -> tuple[str, ...]:
        """Partition names in order of first appearance."""
        return tuple(dict.fromkeys(r.partition for r in self.recordings))

    @property
    def targets(self) -> tuple[str, ...]:
        """Sorted names of all label tracks present in any recording (e.g. arousal, valence)."""
        return tuple(sorted({t for r in self.recordings for t in r.labels}))

    @property
    def speakers(self) -> tuple[str, ...]:
        """Speaker names in order of first appearance."""
        return tuple(dict.fromkeys(r.speaker for r in self.recordings))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.recordings)


def check_partitions(recordings: Iterable[Recording], source: str | Path | None = None) -> None:
    """ValueError listing the recordings in no partition of :data:`PARTITIONS` (a misspelt
    ``devel`` or ``tset``): they are never silently left out of training or scoring."""
    others = [r for r in recordings if r.partition not in PARTITIONS]
    if others:
        found = ", ".join(f"{r.id} ({r.partition!r})" for r in others[:8])
        more = f" and {len(others) - 8} more" if len(others) > 8 else ""
        where = f"{source}: " if source else ""
        raise ValueError(f"{where}{len(others)} recording(s) in no partition of "
                         f"{'/'.join(PARTITIONS)}: {found}{more}; rename them or leave them out")
