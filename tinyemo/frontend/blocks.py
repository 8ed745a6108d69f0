"""Reading an audio file block by block, with :func:`read_audio`'s semantics (samples on the
int16 scale, channels averaged, the same checks) but a fixed amount of memory."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np

from tinyemo.frontend.audio import INT16_SCALE, check_wav_complete
from tinyemo.frontend.filterbank import check_samples
from tinyemo.frontend.resampling import ResampleStream

__all__ = ["audio_info", "audio_blocks", "resampled_blocks", "BLOCK_SAMPLES"]

BLOCK_SAMPLES = 1 << 18     # samples per block (16 s at 16 kHz; 2 MiB of float64 per channel)


def audio_info(path: str | os.PathLike) -> tuple[int, int]:
    """(sample rate, samples) from the header; ValueError naming ``path`` when the file is
    missing, unreadable, truncated (WAV) or empty."""
    import soundfile as sf  # libsndfile loads on first use: import tinyemo stays light

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such audio file")
    check_wav_complete(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise ValueError(f"{path}: cannot read audio ({exc})") from None
    if info.samplerate <= 0:
        raise ValueError(f"{path}: bad sample rate {info.samplerate} Hz in the header")
    if info.frames == 0:
        raise ValueError(f"{path}: audio is empty (0 samples)")
    return int(info.samplerate), int(info.frames)


def audio_blocks(path: str | os.PathLike, block_samples: int = BLOCK_SAMPLES,
                 start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
    """Yield (n,) float64 blocks of at most ``block_samples`` samples whose concatenation is
    ``read_audio(path)[0][start:stop]``. Raises ValueError naming ``path`` as :func:`read_audio`
    does (missing, unreadable, truncated, empty, NaN/inf)."""
    import soundfile as sf  # libsndfile loads on first use: import tinyemo stays light

    path = Path(path)
    if int(block_samples) != block_samples or block_samples < 1:
        raise ValueError(f"block_samples must be a positive integer, got {block_samples!r}")
    _, declared = audio_info(path)
    stop = declared if stop is None else min(int(stop), declared)
    if not 0 <= start < stop:
        raise ValueError(f"{path}: no samples from {start} to {stop} (it has {declared})")
    declared, done = stop - start, 0
    try:
        with sf.SoundFile(str(path)) as f:
            as_int16 = f.subtype in ("PCM_16", "PCM_S8", "PCM_U8")
            if start:
                f.seek(int(start))
            while done < declared:
                n = min(int(block_samples), declared - done)
                if as_int16:
                    data = f.read(n, dtype="int16", always_2d=True)
                    data = data.astype(np.float64)
                else:
                    data = f.read(n, dtype="float64", always_2d=True) * INT16_SCALE
                if data.shape[0] == 0:
                    break
                samples = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
                check_samples(samples, str(path), first=done)
                done += samples.shape[0]
                yield np.ascontiguousarray(samples)
    except (sf.LibsndfileError, RuntimeError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: cannot read audio ({exc})") from exc
    if done < declared:
        raise ValueError(f"{path}: audio is truncated ({done} of {declared} samples readable)")


def resampled_blocks(blocks: Iterator[np.ndarray], rate: int, target_rate: int | None
                     ) -> Iterator[np.ndarray]:
    """``blocks`` at ``rate`` Hz as blocks at ``target_rate`` Hz, exactly as
    :func:`resample` would resample their concatenation (to float64 rounding); unchanged when
    the rates agree or ``target_rate`` is None."""
    if target_rate is None or int(target_rate) == int(rate):
        yield from blocks
        return
    stream = ResampleStream(rate, target_rate)
    for block in blocks:
        yield stream.push(block)
    yield stream.finish()
