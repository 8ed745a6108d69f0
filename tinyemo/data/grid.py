"""The 40 ms label grid, and the rules every reader shares to put labels on it.

Label frame ``j`` is the rating at ``0.04 j`` seconds (AVEC 2016: 7501 frames for 300 s). This
module owns the grid's period, how many frames cover a duration, how far a label file may
stray from the grid or from its audio, and how a numeric cell of a label file is parsed, so
the AVEC 2016 reader, the manifest reader and the pipeline agree to the last frame.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyemo.frontend.audio import check_wav_complete
from tinyemo.frontend.features import FRAME_S   # seconds between label frames (25 Hz)

__all__ = ["FRAME_S", "LABEL_TOLERANCE_S", "GRID_TOLERANCE_S", "frames_for_duration",
           "resample_to_grid", "parse_number", "audio_duration", "check_label_duration",
           "check_tracks_agree"]

LABEL_TOLERANCE_S = 1.0
"""A label track may end at most this many seconds before or after the audio does."""

GRID_TOLERANCE_S = 1e-3
"""A time stamp within this many seconds of ``0.04 j`` is on the grid (AVEC ARFF files)."""

FRAME_EPS = 1e-6
"""Frames of slack when counting grid points up to a time: 7.2 s is 180 frames even when
floating point makes it 179.99999999."""


def frames_for_duration(duration_s: float) -> int:
    """Grid frames at t = 0, 0.04, … up to and including ``duration_s``: ⌊d / 0.04⌋ + 1."""
    return int(np.floor(duration_s / FRAME_S + FRAME_EPS)) + 1


def resample_to_grid(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(T,) float32: ``values`` at ``times`` (s) linearly interpolated at ``0.04 j`` s for the
    :func:`frames_for_duration` frames up to ``times[-1]``; points before ``times[0]`` take
    ``values[0]``."""
    n = frames_for_duration(times[-1])
    return np.interp(FRAME_S * np.arange(n), times, values).astype(np.float32)


def parse_number(token: str, path: Path, line: int, column: str, missing: str | None = None) -> float:
    """One numeric cell of a label file. ValueError naming the file, line and column when it
    is not a number, or NaN/infinite. ``missing``: a token that stands for a missing value
    (ARFF's ``?``), reported as such."""
    if missing is not None and token == missing:
        raise ValueError(f"{path}, line {line}: missing or non-finite value {token!r} in column "
                         f"{column}")
    try:
        value = float(token)
    except ValueError:
        raise ValueError(f"{path}, line {line}: non-numeric value {token!r} in column "
                         f"{column}") from None
    if not np.isfinite(value):
        raise ValueError(f"{path}, line {line}: non-finite value {token!r} in column {column}")
    return value


def audio_duration(path: Path) -> float:
    """Duration in seconds of an audio file, from its header (``soundfile.info``); a WAV
    whose data chunk is cut short is a ValueError saying so."""
    import soundfile as sf  # libsndfile loads on first use: import tinyemo stays light

    check_wav_complete(Path(path))   # a cut-off WAV is truncated audio, not labels too long
    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError) as e:
        raise ValueError(f"{path}: cannot read audio header: {e}") from None
    return info.frames / info.samplerate


def check_label_duration(n_frames: int, audio: Path, label_file: Path, line: int | None) -> None:
    """Raise ValueError if a label track of ``n_frames`` frames ends more than
    ``LABEL_TOLERANCE_S`` seconds before or after the audio. ``line``: the track's last line."""
    dur = audio_duration(audio)
    end = FRAME_S * (n_frames - 1)
    where = f"{label_file}" + (f", line {line}" if line is not None else "")
    if end > dur + LABEL_TOLERANCE_S:
        raise ValueError(f"{where}: label track runs to {end:.2f} s but the audio {audio.name} "
                         f"lasts {dur:.2f} s (more than {LABEL_TOLERANCE_S:g} s longer)")
    if end < dur - LABEL_TOLERANCE_S:
        raise ValueError(f"{where}: label track ends at {end:.2f} s but the audio {audio.name} "
                         f"lasts {dur:.2f} s (more than {LABEL_TOLERANCE_S:g} s shorter)")


def check_tracks_agree(rec_id: str, tracks: dict[str, tuple[np.ndarray, Path]]) -> None:
    """All label tracks of one recording must have the same number of frames (to train on
    them together); ValueError naming the label files otherwise. ``tracks``: target →
    (track, the file it was read from)."""
    if len({len(track) for track, _ in tracks.values()}) > 1:
        detail = ", ".join(f"{t} {path} has {len(track)} frames"
                           for t, (track, path) in tracks.items())
        raise ValueError(f"recording {rec_id!r}: its label files differ in length ({detail}); "
                         f"every target needs the same 40 ms frames")
