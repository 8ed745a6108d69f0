"""Corpus → model inputs: the 10 ms frames of every recording (log-mels, the paper's; openSMILE's
eGeMAPS descriptors; or both side by side: ``features``, see :mod:`tinyemo.frontend.descriptors`),
z-normalised per speaker (the paper) or per recording (the authors' later code), stacked to the
40 ms label rate, aligned to the label track, channels first.

    audio ─extract─▶ (T10, D) ─z-norm per speaker─▶ ─stack 4─▶ (T, 4D) ─align─▶ (4D, T)
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyemo.data.corpus import Corpus, Recording
from tinyemo.data.fingerprint import corpus_fingerprint
from tinyemo.data.grid import audio_duration, check_tracks_agree, frames_for_duration
from tinyemo.data.loading import load_corpus
from tinyemo.frontend import FbankOptions, align_to_labels, speaker_normalise, stack_frames
from tinyemo.frontend.audio import audio_rate
from tinyemo.frontend.cache import FeatureCache
from tinyemo.frontend.descriptors import check_features, extract_features
from tinyemo.util.notices import warn

__all__ = ["Example", "prepare", "load_examples", "check_targets", "corpus_rate",
           "NORMALISATIONS"]

_LISTED = 5   # recordings named in one warning before "and N more"
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
            progress=None, sample_rate: int | None = None,
            normalise: str = "speaker", features: str = "fbank",
            training: bool = False) -> dict[str, Example]:
    """Features for every recording of ``corpus`` (all partitions, so speaker statistics pool
    over all of a speaker's recordings; ``normalise="recording"``: each recording's own). Labelled recordings are aligned to their label track
    (all tracks of one recording must agree in length); unlabelled ones get
    :func:`frames_for_duration` frames. ``sample_rate``: the front end's rate; audio at
    another rate is resampled to it, with one warning naming those recordings (and another
    for audio recorded at a lower rate, whose upper band is missing; ``training``: the model
    is trained on them, see :func:`warn_resampling`). ``progress``: an optional
    callable(done, total). ``features``: ``fbank`` (the paper), ``lld`` or ``fbank+lld``
    (:func:`tinyemo.frontend.descriptors.extract_features`)."""
    check_features(features)
    if normalise not in NORMALISATIONS:
        raise ValueError(f"normalise must be one of {', '.join(NORMALISATIONS)}, "
                         f"got {normalise!r}")
    for rec in corpus:         # before any work: the tracks of a recording agree in length
        check_tracks_agree(rec.id, {t: (v, rec.label_files.get(t, rec.audio))
                                    for t, v in rec.labels.items()})
    if cache is True:
        cache = FeatureCache()   # one for all recordings: a read-only cache warns once
    if sample_rate is not None:
        warn_resampling({rec.id: audio_rate(rec.audio) for rec in corpus}, sample_rate,
                        training)
    feats = {}
    for i, rec in enumerate(corpus):
        feats[rec.id] = extract_features(rec.audio, features, options, cache,
                                         sample_rate=sample_rate)
        if progress:
            progress(i + 1, len(corpus))
    # a recording missing from the speaker map is its own speaker
    speakers = {r.id: r.speaker for r in corpus} if normalise == "speaker" else {}
    normed = speaker_normalise(feats, speakers)
    examples = {}
    for rec in corpus:
        lengths = {len(v) for v in rec.labels.values()}
        n = lengths.pop() if lengths else frames_for_duration(audio_duration(rec.audio))
        x = align_to_labels(stack_frames(normed[rec.id], stack), n, name=str(rec.audio))
        examples[rec.id] = Example(rec, np.ascontiguousarray(x.T, dtype=np.float32),
                                   {k: np.asarray(v, np.float32) for k, v in rec.labels.items()})
    return examples


def warn_resampling(rates: dict[str, int], sample_rate: int, training: bool = False) -> None:
    """One warning for the recordings resampled to ``sample_rate``, one for those whose own
    rate is lower (their band above rate/2 is empty: the model never saw such audio). With
    ``training`` (a model is trained on them) the second speaks of the training audio, and
    is not given when every recording is lower (:func:`corpus_rate` warned: no band to miss)."""
    def listing(ids):
        shown = ", ".join(f"{i} ({rates[i]} Hz)" for i in ids[:_LISTED])
        return shown + (f" and {len(ids) - _LISTED} more" if len(ids) > _LISTED else "")

    other = [i for i, r in rates.items() if r != sample_rate]
    if other:
        warn(f"resampling {len(other)} of {len(rates)} recording(s) to {sample_rate} Hz, the "
             f"front end's rate: {listing(other)}")
    low = [i for i in other if rates[i] < sample_rate]
    band = f"the band above {min((rates[i] for i in low), default=0) // 2} Hz is missing"
    if low and not training:
        warn(f"{listing(low)}: recorded below the front end's {sample_rate} Hz, so {band}; a "
             f"model trained on audio with that band may predict them poorly")
    elif low and len(low) < len(rates):
        warn(f"{listing(low)}: recorded below the front end's {sample_rate} Hz, so {band} in "
             f"them but not in the other recordings: the model learns from a band they lack")


def corpus_rate(corpus: Corpus, declared: int | None = None) -> int:
    """The rate to compute a corpus's features at: ``declared``, else the most common sample
    rate of its audio (the highest among equally common ones), stated in a warning when the
    corpus mixes rates; a warning when ``declared`` is above every recording's rate."""
    rates = Counter(audio_rate(rec.audio) for rec in corpus)
    if declared is not None:
        top = max(rates, default=declared)
        if declared > top:   # upsampled: slower, and nothing above top / 2 Hz to learn from
            warn(f"--sample-rate {declared} Hz is above the rate of every recording (at most "
                 f"{top} Hz): the band above {top // 2} Hz is empty in all of them, so "
                 f"{top} Hz gives the same information {declared / top:.3g}× faster")
        return int(declared)
    chosen = max(rates, key=lambda r: (rates[r], r))
    if len(rates) > 1:
        mix = ", ".join(f"{r} Hz: {n}" for r, n in sorted(rates.items()))
        warn(f"the corpus mixes sample rates ({mix} recordings); using {chosen} Hz, the most "
             f"common (--sample-rate to choose another)")
    return chosen


def load_examples(source: Path, options: FbankOptions | None = None, progress=None,
                  sample_rate: int | None = None, normalise: str = "speaker",
                  features: str = "fbank") -> tuple[dict[str, Example], dict]:
    """(examples, data_info) of the corpus at ``source`` (an AVEC 2016 folder or a manifest),
    features from the on-disk cache at ``sample_rate`` (None: :func:`corpus_rate`).
    ``data_info`` says where they came from: root, number of recordings, sample rate, the
    z-normalisation (per ``normalise``), the ``features`` and a fingerprint of every
    recording's audio and labels (``tinyemo.data.fingerprint.corpus_fingerprint``)."""
    corpus = load_corpus(source)
    rate = corpus_rate(corpus, sample_rate)
    examples = prepare(corpus, options, progress=progress, sample_rate=rate, normalise=normalise,
                       features=features, training=True)
    return examples, {"root": str(Path(source).resolve()), "recordings": len(corpus),
                      "sample_rate": rate, "normalise": normalise, "features": features,
                      "fingerprint": corpus_fingerprint(corpus)}


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
