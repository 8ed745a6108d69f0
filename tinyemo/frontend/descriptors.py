"""openSMILE's eGeMAPS low-level descriptors on the filterbanks' frame grid, and the model
input features built from either or both (``fbank``, ``lld``, ``fbank+lld``).

openSMILE (``opensmile`` 2.x, ``FeatureSet.eGeMAPSv02`` at ``FeatureLevel.
LowLevelDescriptors``; its ``eGeMAPSv02.conf`` includes ``GeMAPSv01b_core.lld.conf.inc``) gives
:data:`LLD_DIMS` descriptors per frame — loudness, alpha ratio, Hammarberg index, spectral
slopes and flux, MFCC 1–4, F0 (semitones from 27.5 Hz), jitter, shimmer, HNR, H1–H2, H1–A3,
F1–F3 frequency, bandwidth and amplitude. Its framing, read from those configuration files and
measured on ``process_signal`` (``tests/frontend/test_descriptors.py``):

- two framers, both ``frameStep = 0.010`` and ``frameCenterSpecial = left``: 20 ms Hamming
  frames (energy and spectral descriptors) and 60 ms Gaussian frames (F0, jitter, shimmer, HNR,
  harmonics, formants). Frame ``i`` of both starts at sample ``i * hop`` (hop = rate / 100);
  ``process_signal``'s index gives ``start = 0.01 i`` s;
- every descriptor is then smoothed by a centred 3-frame moving average (``sma3``; ``sma3nz``
  for the voicing-dependent ones: F0, jitter, shimmer, HNR, harmonics, formants). On unvoiced
  frames F0, jitter, shimmer, HNR, H1–H2 and H1–A3 are exactly 0 and the formant amplitudes
  (relative to F0) sit at openSMILE's floor, −201 (near voiced frames the smoothing mixes
  that floor with their values);
- a signal of N samples gives ``floor((N - 0.05 rate) / hop) + 1`` frames when
  N >= 0.06 rate (the 60 ms frames bound it), and a single all-NaN row when shorter.

Kaldi's ``compute-fbank-feats`` (``snip_edges=true``, ``--frame-shift=10``) starts frame ``i``
at sample ``i * hop`` too and gives ``floor((N - win) / hop) + 1`` frames (win = 25 ms: two or
three more than openSMILE). The mapping: **filterbank frame i ← openSMILE frame i** (the same
start time, ``0.01 i`` s; the centres differ: 12.5 ms after the start for Kaldi's 25 ms frames,
10 ms and 30 ms for openSMILE's 20 ms and 60 ms ones — openSMILE's own time stamps are kept, not
shifted); the last frames, which openSMILE does not emit, repeat its last frame (the rule of
:func:`stack_frames` and :func:`align_to_labels`). It needs a 10 ms ``frame_shift``,
``snip_edges`` and a sample rate that is a multiple of 100 Hz (otherwise Kaldi's hop, truncated
to whole samples, drifts from openSMILE's): anything else is a ValueError.

Missing values, one rule: openSMILE's values for unvoiced frames (0, −201…) are kept — after
the z-normalisation every model input gets, each is one fixed value per speaker that means
"unvoiced"; NaN (a signal shorter than 60 ms) and ±inf become 0, openSMILE's own "no value".
No NaN reaches a net.

openSMILE is licensed for research and personal use only, not commercial use: only ``lld``
and ``fbank+lld`` load it; ``fbank``, the paper's features, never does.
"""
from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from tinyemo.frontend.audio import INT16_SCALE, read_audio
from tinyemo.frontend.cache import FeatureCache, extract
from tinyemo.frontend.filterbank import frame_geometry, num_frames
from tinyemo.frontend.options import FbankOptions

__all__ = ["descriptors", "extract_descriptors", "extract_features", "feature_dims",
           "check_grid", "check_features", "opensmile_frames", "require_opensmile", "FEATURES",
           "LLD_SET", "LLD_DIMS", "EXTRA"]

FEATURES = ("fbank", "lld", "fbank+lld")   # model inputs: the paper's, openSMILE's, both
LLD_SET = "eGeMAPSv02"
LLD_DIMS = 25
HOP_MS = 10.0               # openSMILE's frameStep (eGeMAPSv02, all levels)
SHORT_S, FIRST_S = 0.06, 0.05   # shorter signals give one NaN row; frame count offset (measured)
FORMAT_VERSION = 1          # bump when the descriptors cached for the same key would change
EXTRA = "pip install 'tinyemo[baselines]'"


def require_opensmile():
    """The ``opensmile`` module, or RuntimeError naming the extra that installs it."""
    try:
        import opensmile  # optional (the baselines extra), research/personal licence
    except ImportError:
        raise RuntimeError(f"openSMILE descriptor features (lld) need the opensmile package, "
                           f"which is not installed: {EXTRA}") from None
    return opensmile


@lru_cache(maxsize=1)
def _smile():
    opensmile = require_opensmile()
    return opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                           feature_level=opensmile.FeatureLevel.LowLevelDescriptors)


def check_grid(options: FbankOptions, sample_rate: int, name: str = "waveform") -> None:
    """ValueError naming ``name`` unless filterbank frame i and openSMILE frame i start at the
    same sample (10 ms shift, snip_edges, a rate that is a multiple of 100 Hz)."""
    if options.frame_shift != HOP_MS or not options.snip_edges:
        raise ValueError(f"{name}: openSMILE descriptors sit on a 10 ms grid from t = 0; the "
                         f"filterbank options give frame_shift={options.frame_shift:g} ms, "
                         f"snip_edges={options.snip_edges} (need 10 and True)")
    if int(sample_rate) != sample_rate or sample_rate % 100:
        raise ValueError(f"{name}: openSMILE descriptors need a sample rate that is a multiple "
                         f"of 100 Hz (its 10 ms hop in whole samples), got {sample_rate} Hz; "
                         f"resample the audio (--sample-rate)")


def opensmile_frames(num_samples: int, sample_rate: int) -> int:
    """How many rows ``process_signal`` returns for ``num_samples`` at ``sample_rate`` (a
    multiple of 100 Hz): see the module docstring."""
    hop = sample_rate // 100
    if num_samples < round(SHORT_S * sample_rate):
        return 1
    return (num_samples - round(FIRST_S * sample_rate)) // hop + 1


def descriptors(samples: np.ndarray, sample_rate: int, options: FbankOptions | None = None,
                name: str = "waveform") -> np.ndarray:
    """eGeMAPS descriptors of ``samples`` (num_samples,) on the int16 scale, one row per
    filterbank frame of the same samples under ``options`` (frame length; shift and edges as
    :func:`check_grid` requires). Returns (T10, :data:`LLD_DIMS`) float32, finite."""
    opts = options or FbankOptions()
    check_grid(opts, sample_rate, name)
    samples = np.asarray(samples)
    size, shift, _ = frame_geometry(sample_rate, opts)
    n = num_frames(samples.size, size, shift, snip_edges=True)
    if n == 0:
        raise ValueError(f"{name}: audio too short for one {opts.frame_length:g} ms frame "
                         f"({samples.size} samples at {sample_rate} Hz)")
    with warnings.catch_warnings():   # "Segment too short, filling with NaN": the rule below
        warnings.simplefilter("ignore", UserWarning)
        frames = _smile().process_signal((samples / INT16_SCALE).astype(np.float32),
                                         int(sample_rate))
    values = np.nan_to_num(frames.to_numpy(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if values.shape[0] >= n:
        return np.ascontiguousarray(values[:n])
    return np.concatenate([values, np.repeat(values[-1:], n - values.shape[0], axis=0)])


def extract_descriptors(path: str | os.PathLike, options: FbankOptions | None = None,
                        cache: FeatureCache | bool | None = True, *, channel: int | None = None,
                        sample_rate: int | None = None) -> np.ndarray:
    """:func:`descriptors` of one audio file, read as :func:`extract` reads it (``channel``;
    resampled to ``sample_rate`` first). Cached in the filterbanks' :class:`FeatureCache`,
    keyed by the audio bytes, the descriptor set, the openSMILE version, the frame grid
    (frame length and shift, snip_edges), the channel and the rate (with the resampler)."""
    opts = options or FbankOptions()
    if cache is True:
        cache = FeatureCache()
    key = None
    if cache:
        if not Path(path).is_file():
            raise ValueError(f"{path}: no such audio file")
        key = cache.key_of(path, {
            "descriptors": LLD_SET, "opensmile": require_opensmile().__version__,
            "format_version": FORMAT_VERSION, "frame_length": opts.frame_length,
            "frame_shift": opts.frame_shift, "snip_edges": opts.snip_edges,
            "channel": channel, "sample_rate": sample_rate})
        feats = cache.get(key)
        if feats is not None:
            return feats
    samples, rate = read_audio(path, channel=channel, sample_rate=sample_rate)
    feats = descriptors(samples, rate, opts, name=str(path))
    if key is not None:
        cache.put(key, feats)
    return feats


def feature_dims(features: str, options: FbankOptions | None = None) -> int:
    """Columns of one 10 ms frame of ``features`` (filterbanks first, then descriptors)."""
    opts = options or FbankOptions()
    fb = opts.num_mel_bins + (1 if opts.use_energy else 0)
    return {"fbank": fb, "lld": LLD_DIMS, "fbank+lld": fb + LLD_DIMS}[check_features(features)]


def check_features(features: str) -> str:
    if features not in FEATURES:
        raise ValueError(f"features must be one of {', '.join(FEATURES)}, got {features!r}")
    return features


def extract_features(path: str | os.PathLike, features: str = "fbank",
                     options: FbankOptions | None = None,
                     cache: FeatureCache | bool | None = True, *, channel: int | None = None,
                     sample_rate: int | None = None) -> np.ndarray:
    """The 10 ms frames of one audio file a model with ``features`` reads: (T10, D) float32,
    D = :func:`feature_dims`; ``fbank+lld`` puts each frame's filterbanks and descriptors side
    by side (filterbanks first). The grid is the filterbanks' (:func:`extract`)."""
    check_features(features)
    if cache is True:
        cache = FeatureCache()   # one for both: a read-only cache warns once
    parts = []
    if features in ("fbank", "fbank+lld"):
        parts.append(extract(path, options, cache, channel=channel, sample_rate=sample_rate))
    if features in ("lld", "fbank+lld"):
        parts.append(extract_descriptors(path, options, cache, channel=channel,
                                         sample_rate=sample_rate))
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
