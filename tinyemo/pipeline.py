"""Corpus → model inputs: log-mel features of every recording, z-normalised per speaker (the
paper) or per recording (the authors' later code), stacked to the 40 ms label rate, aligned to
the label track, channels first.

    audio ─extract─▶ (T10, 40) ─z-norm per speaker─▶ ─stack 4─▶ (T, 160) ─align─▶ (160, T)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data.corpus import Corpus, Recording
from .data.grid import audio_duration, frames_for_duration
from .frontend import FbankOptions, align_to_labels, extract, speaker_normalise, stack_frames
from .frontend.cache import FeatureCache

__all__ = ["Example", "prepare", "load_examples", "check_targets", "NORMALISATIONS"]

# z-normalisation statistics pooled over all recordings of a speaker, or over each recording
NORMALISATIONS = ("speaker", "recording")


@dataclass(frozen=True)
class Example:
    """One recording ready for a model: ``x`` (C, T) float32; ``y`` target → (T,) float32."""

    recording: Recording
    x: np.ndarray
    y: dict[str, np.ndarray]

    @property
    def id(self) -> str:
        return self.recording.id


def prepare(corpus: Corpus, options: FbankOptions | None = None,
            cache: FeatureCache | bool | None = True, stack: int = 4,
            progress=None, normalise: str = "speaker") -> dict[str, Example]:
    """Features for every recording of ``corpus`` (all partitions, so speaker statistics pool
    over all of a speaker's recordings; ``normalise="recording"``: each recording's own).
    Labelled recordings are aligned to their label track (all tracks of one recording must
    agree in length); unlabelled ones get :func:`frames_for_duration` frames. ``progress``: an
    optional callable(done, total)."""
    if normalise not in NORMALISATIONS:
        raise ValueError(f"normalise must be one of {NORMALISATIONS}, got {normalise!r}")
    feats = {}
    for i, rec in enumerate(corpus):
        feats[rec.id] = extract(rec.audio, options, cache)
        if progress:
            progress(i + 1, len(corpus))
    # a recording missing from the speaker map is its own speaker
    speakers = {r.id: r.speaker for r in corpus} if normalise == "speaker" else {}
    normed = speaker_normalise(feats, speakers)
    examples = {}
    for rec in corpus:
        lengths = {len(v) for v in rec.labels.values()}
        if len(lengths) > 1:
            raise ValueError(f"{rec.audio}: label tracks of recording {rec.id!r} differ in "
                             f"length ({sorted(lengths)} frames)")
        n = lengths.pop() if lengths else frames_for_duration(audio_duration(rec.audio))
        x = align_to_labels(stack_frames(normed[rec.id], stack), n, name=str(rec.audio))
        examples[rec.id] = Example(rec, np.ascontiguousarray(x.T, dtype=np.float32),
                                   {k: np.asarray(v, np.float32) for k, v in rec.labels.items()})
    return examples


def load_examples(source: Path, options: FbankOptions | None = None, progress=None,
                  normalise: str = "speaker") -> tuple[dict[str, Example], dict]:
    """(examples, data_info) of the corpus at ``source`` (an AVEC 2016 folder or a manifest),
    features from the on-disk cache; ``data_info`` says where they came from and how they
    were normalised."""
    from .data.loading import load_corpus
    corpus = load_corpus(source)
    return prepare(corpus, options, progress=progress, normalise=normalise), {
        "root": str(source), "recordings": len(corpus), "normalise": normalise}


def check_targets(examples: list[Example], target: str, partition: str, root: Path | None) -> None:
    """Training and early stopping need the ``target`` track, varying, on every recording."""
    where = f" of {root}" if root else ""
    if not examples:
        raise ValueError(f"the {partition!r} partition{where} is empty")
    for ex in examples:
        y = ex.y.get(target)
        if y is None:
            raise ValueError(f"{ex.recording.audio}: recording {ex.id!r} ({partition}) has no "
                             f"{target} labels")
        if np.ptp(y) == 0:
            raise ValueError(f"{ex.recording.audio}: the {target} labels of recording {ex.id!r} "
                             f"are constant ({y[0]:g}); CCC is undefined on a constant track")
