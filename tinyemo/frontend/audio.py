"""Reading audio files the way Kaldi sees them: samples on the int16 scale."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from tinyemo.frontend.filterbank import check_samples

__all__ = ["read_audio", "check_audio_path", "resample", "check_wav_complete", "audio_rate", "INT16_SCALE", "RESAMPLER"]

INT16_SCALE = 32768.0   # soundfile's float samples lie in [-1, 1); Kaldi reads raw int16 values
RESAMPLER = "scipy.signal.resample_poly/kaiser5"   # what :func:`resample` computes (cache keys)


def read_audio(path: str | os.PathLike, channel: int | None = None,
               sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read an audio file (WAV, FLAC, OGG, anything libsndfile reads).

    Returns (samples, rate): samples (num_samples,) float64 on the int16 scale (a 16-bit PCM
    file gives its integer values exactly; other encodings are scaled so that full scale is
    ±32768). Multi-channel audio is averaged to mono unless ``channel`` (0-based) picks one.
    With ``sample_rate`` the signal is resampled to that rate (polyphase, scipy).
    Raises ValueError naming the file if it is missing, unreadable, truncated or empty, or
    holds NaN/inf samples or samples beyond a million times full scale (a wrong scale).
    """
    import soundfile as sf  # the C library loads when audio is first read

    path = check_audio_path(path)
    check_wav_complete(path)
    try:
        with sf.SoundFile(str(path)) as f:
            rate, frames_declared = int(f.samplerate), int(f.frames)
            if rate <= 0:
                raise ValueError(f"{path}: bad sample rate {rate} Hz in the header")
            if f.subtype in ("PCM_16", "PCM_S8", "PCM_U8"):
                data = f.read(dtype="int16", always_2d=True).astype(np.float64)
            else:
                data = f.read(dtype="float64", always_2d=True) * INT16_SCALE
    except (sf.LibsndfileError, RuntimeError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: cannot read audio ({exc})") from exc
    if frames_declared > 0 and data.shape[0] < frames_declared:
        raise ValueError(f"{path}: audio is truncated ({data.shape[0]} of {frames_declared} "
                         "samples readable)")
    if data.shape[0] == 0:
        raise ValueError(f"{path}: audio is empty (0 samples)")
    if channel is None:
        samples = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    else:
        if not -data.shape[1] <= channel < data.shape[1]:
            raise ValueError(f"{path}: channel {channel} requested but the file has "
                             f"{data.shape[1]} channel(s)")
        samples = data[:, channel]
    samples = np.ascontiguousarray(samples)
    check_samples(samples, str(path))
    if sample_rate is not None and int(sample_rate) != rate:
        samples = resample(samples, rate, int(sample_rate), name=str(path))
        rate = int(sample_rate)
    return samples, rate


def check_audio_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path; ValueError when it is a folder or does not exist."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not an audio file; give the files in it "
                         f"(e.g. {path}/*.wav)")
    if not path.is_file():
        raise ValueError(f"{path}: no such audio file")
    return path


def check_wav_complete(path: Path) -> None:
    """libsndfile silently shortens a WAV whose data chunk is cut off; refuse it instead.

    Walks the RIFF chunks up to ``data`` and compares its declared size with the bytes present.
    Streaming writers that leave the size as 0 or 0xFFFFFFFF (unknown) are accepted.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return
        order = "little" if head[:4] == b"RIFF" else "big"
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            declared = int.from_bytes(chunk[4:8], order)
            if chunk[:4] == b"data":
                available = size - pos - 8
                if declared not in (0, 0xFFFFFFFF) and declared > available:
                    raise ValueError(f"{path}: audio is truncated (data chunk declares "
                                     f"{declared} bytes, {available} present)")
                return
            pos += 8 + declared + (declared & 1)


def audio_rate(path: str | os.PathLike) -> int:
    """The sample rate (Hz) in an audio file's header; ValueError naming the file."""
    import soundfile as sf  # libsndfile loads on first use: import tinyemo stays light

    try:
        return int(sf.info(str(path)).samplerate)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise ValueError(f"{path}: cannot read audio header ({exc})") from None


def resample(samples: np.ndarray, rate: int, target_rate: int,
             name: str = "waveform") -> np.ndarray:
    """Polyphase resampling (scipy ``resample_poly``, Kaiser window) of (num_samples,) from
    ``rate`` to ``target_rate`` Hz; returns (ceil(num_samples * target / rate),) float64."""
    from scipy.signal import resample_poly  # scipy loads on first use: import tinyemo stays light

    if rate <= 0 or target_rate <= 0:
        raise ValueError(f"{name}: sample rates must be positive, got {rate} → {target_rate}")
    g = math.gcd(int(rate), int(target_rate))
    return resample_poly(np.asarray(samples, dtype=np.float64), target_rate // g, rate // g)
