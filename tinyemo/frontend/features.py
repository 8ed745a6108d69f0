"""From 10-ms filterbank frames to the model's 40-ms input: stacking, label alignment and
speaker-level z-normalisation (Khorram et al., 2017, section 4.1)."""
from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np

__all__ = ["stack_frames", "align_to_labels", "speaker_normalise", "speaker_statistics",
           "FRAME_S", "MIN_STD"]

FRAME_S = 0.04          # one output frame (4 stacked 10-ms frames), one AVEC 2016 label: 40 ms
MIN_STD = 1e-5          # dimensions whose speaker std is below this are only centred


def stack_frames(feats: np.ndarray, n: int = 4) -> np.ndarray:
    """Concatenate ``n`` consecutive frames into one.

    feats: (T10, D). Returns (ceil(T10 / n), n * D) float32, row t = feats[n t], ...,
    feats[n t + n - 1] side by side. A last incomplete group is completed by repeating the
    last frame, so no audio is dropped.
    """
    feats = np.asarray(feats)
    if feats.ndim != 2:
        raise ValueError(f"features must be 2-D (frames, dims), got shape {feats.shape}")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    t10, dims = feats.shape
    if t10 == 0:
        raise ValueError("cannot stack zero frames")
    missing = -t10 % n
    if missing:
        feats = np.concatenate([feats, np.repeat(feats[-1:], missing, axis=0)])
    return np.ascontiguousarray(feats, dtype=np.float32).reshape(-1, n * dims)


def align_to_labels(stacked: np.ndarray, n_labels: int, name: str,
                    tolerance_s: float = 1.0, period_s: float = FRAME_S) -> np.ndarray:
    """Make the feature sequence exactly as long as its label track.

    stacked: (T, D), one row per label period (``period_s``). The rule: if T > n_labels the
    extra frames at the end are cropped; if T < n_labels the last frame is repeated at the end.
    A difference of more than ``tolerance_s`` seconds is a ValueError naming ``name`` (the
    recording). Returns (n_labels, D); the input itself when the lengths already agree.
    """
    stacked = np.asarray(stacked)
    if stacked.ndim != 2 or stacked.shape[0] == 0:
        raise ValueError(f"{name}: features must be (frames, dims) with frames > 0, "
                         f"got shape {stacked.shape}")
    if int(n_labels) != n_labels or n_labels < 1:
        raise ValueError(f"{name}: the label track must have at least one frame, got {n_labels}")
    n_labels = int(n_labels)
    t = stacked.shape[0]
    diff_s = abs(t - n_labels) * period_s
    if diff_s > tolerance_s + 1e-9:
        raise ValueError(
            f"{name}: features ({t} frames = {t * period_s:.2f} s) and labels ({n_labels} "
            f"frames = {n_labels * period_s:.2f} s) differ by {diff_s:.2f} s, more than the "
            f"{tolerance_s} s tolerance; check that the audio and label files match")
    if t == n_labels:
        return stacked
    if t > n_labels:
        return stacked[:n_labels]
    return np.concatenate([stacked, np.repeat(stacked[-1:], n_labels - t, axis=0)])


def _speaker_of(rec_id: Hashable, speakers: Mapping) -> Hashable:
    spk = speakers.get(rec_id)
    # An unknown speaker is its own speaker; the tuple cannot collide with a real speaker name.
    return ("<recording>", rec_id) if spk is None else spk


def speaker_statistics(features: Mapping[Hashable, np.ndarray],
                       speakers: Mapping[Hashable, Hashable]) -> dict:
    """Per-speaker (mean (D,), std (D,)) float64, pooled over every frame of every recording of
    that speaker. ``std`` is the population standard deviation, with dimensions below
    :data:`MIN_STD` set to 1 (they are only centred)."""
    counts: dict = {}
    sums: dict = {}
    for rec_id, feats in features.items():
        x = np.asarray(feats, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"{rec_id}: features must be (frames, dims) with frames > 0, "
                             f"got shape {x.shape}")
        spk = _speaker_of(rec_id, speakers)
        if spk in sums and sums[spk].shape != (x.shape[1],):
            raise ValueError(f"{rec_id}: {x.shape[1]} feature dims, other recordings of "
                             f"speaker {spk!r} have {sums[spk].shape[0]}")
        counts[spk] = counts.get(spk, 0) + x.shape[0]
        sums[spk] = sums.get(spk, 0.0) + x.sum(axis=0)
    means = {spk: sums[spk] / counts[spk] for spk in sums}
    sq: dict = {}
    for rec_id, feats in features.items():   # second pass: no cancellation in the variance
        spk = _speaker_of(rec_id, speakers)
        d = np.asarray(feats, dtype=np.float64) - means[spk]
        sq[spk] = sq.get(spk, 0.0) + np.einsum("td,td->d", d, d)
    stats = {}
    for spk, count in counts.items():
        std = np.sqrt(sq[spk] / count)
        stats[spk] = (means[spk], np.where(std < MIN_STD, 1.0, std))
    return stats


def speaker_normalise(features: Mapping[Hashable, np.ndarray],
                      speakers: Mapping[Hashable, Hashable]) -> dict:
    """Speaker-level z-normalisation.

    features: recording id → (T, D). speakers: recording id → speaker; a recording missing
    from it (or mapped to None) is its own speaker. Each recording is normalised with the mean
    and std pooled over all frames of all recordings of its speaker (see
    :func:`speaker_statistics`). Returns recording id → (T, D) float32, same keys and order.
    """
    stats = speaker_statistics(features, speakers)
    out = {}
    for rec_id, feats in features.items():
        mean, std = stats[_speaker_of(rec_id, speakers)]
        out[rec_id] = ((np.asarray(feats, dtype=np.float64) - mean) / std).astype(np.float32)
    return out
