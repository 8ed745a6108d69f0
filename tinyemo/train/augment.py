"""Training-time augmentation of the features: Gaussian noise and time masks.

Applied to a training recording's (C, T) features before the model sees them, a fresh draw for
every (seed, epoch, recording) (:func:`step_rng`), never to development or test data. Features
are z-normalised, so the noise's standard deviation is in units of a feature's spread and a
masked frame holds 0, the feature's mean. Masks as SpecAugment's time masks (Park et al.,
2019): each covers a width drawn uniformly from 0 … ``time_mask_seconds`` (in 40 ms frames) at a
uniformly drawn start; masks may overlap. Noise first, then masks (masked frames are exactly 0).
"""
from __future__ import annotations

import zlib

import numpy as np

from tinyemo.data.grid import FRAME_S

__all__ = ["step_rng", "augment", "AUGMENT_STREAM", "DROPOUT_STREAM"]

AUGMENT_STREAM, DROPOUT_STREAM = 1, 2


def step_rng(seed: int, epoch: int, recording_id: str, stream: int) -> np.random.Generator:
    """The generator of one training step's randomness: a pure function of the run's seed, the
    epoch, the recording (by a stable hash of its id, not Python's salted ``hash``) and the
    ``stream`` (augmentation or dropout), so a resumed run draws exactly what it would have."""
    return np.random.default_rng([seed, epoch, zlib.crc32(recording_id.encode()), stream])


def augment(x: np.ndarray, rng: np.random.Generator, noise_std: float = 0.0,
            time_masks: int = 0, time_mask_seconds: float = 0.0) -> np.ndarray:
    """A new (C, T) array: ``x`` plus N(0, noise_std²) noise, then ``time_masks`` masks of at
    most ``time_mask_seconds`` set to 0. ``x`` itself is not modified."""
    out = np.array(x, dtype=x.dtype, copy=True)
    if noise_std > 0:
        out += (noise_std * rng.standard_normal(out.shape)).astype(out.dtype)
    t_len = out.shape[-1]
    max_width = min(t_len, int(round(time_mask_seconds / FRAME_S)))
    for _ in range(time_masks):
        width = int(rng.integers(0, max_width + 1))
        start = int(rng.integers(0, t_len - width + 1))
        out[..., start:start + width] = 0
    return out
