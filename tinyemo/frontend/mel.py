"""Kaldi's triangular mel filterbank (``MelBanks`` in Kaldi's ``feat/mel-computations.cc``)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["mel_scale", "inverse_mel_scale", "mel_banks"]

MEL_BREAK_HZ = 700.0
MEL_HIGH_FREQ_Q = 1127.0


def mel_scale(freq):
    """Hz → mel, Kaldi's natural-log form ``1127 ln(1 + f / 700)``."""
    return MEL_HIGH_FREQ_Q * np.log1p(np.asarray(freq, dtype=np.float64) / MEL_BREAK_HZ)


def inverse_mel_scale(mel):
    """mel → Hz, the inverse of :func:`mel_scale`."""
    return MEL_BREAK_HZ * np.expm1(np.asarray(mel, dtype=np.float64) / MEL_HIGH_FREQ_Q)


def resolve_high_freq(high_freq: float, sample_rate: float) -> float:
    """Kaldi's rule: a ``high_freq`` of zero or below is an offset from the Nyquist frequency."""
    nyquist = 0.5 * sample_rate
    return high_freq if high_freq > 0.0 else nyquist + high_freq


def mel_banks(num_bins: int, padded_window_size: int, sample_rate: float,
              low_freq: float = 20.0, high_freq: float = 0.0) -> np.ndarray:
    """The mel weight matrix, shape (padded_window_size // 2 + 1, num_bins) float32.

    Row k weights FFT bin k (k · sample_rate / padded_window_size Hz). Like Kaldi, only bins
    below Nyquist can carry weight: the Nyquist row is zero. The result is cached and read-only.
    """
    return _mel_banks(int(num_bins), int(padded_window_size), float(sample_rate),
                      float(low_freq), float(high_freq))


@lru_cache(maxsize=64)
def _mel_banks(num_bins: int, padded_window_size: int, sample_rate: float,
               low_freq: float, high_freq: float) -> np.ndarray:
    nyquist = 0.5 * sample_rate
    high = resolve_high_freq(high_freq, sample_rate)
    if not (0.0 <= low_freq < nyquist and 0.0 < high <= nyquist and high > low_freq):
        raise ValueError(
            f"bad mel frequency range: low_freq {low_freq} Hz, high_freq {high_freq} Hz "
            f"(→ {high} Hz) at sample rate {sample_rate} Hz; need 0 <= low < high <= "
            f"Nyquist ({nyquist} Hz)")
    # Kaldi does this arithmetic in single precision; mirroring it keeps bin edges identical.
    f32 = np.float32
    num_fft_bins = padded_window_size // 2
    fft_bin_width = f32(sample_rate) / f32(padded_window_size)
    mel_low = f32(mel_scale(f32(low_freq)))
    mel_high = f32(mel_scale(f32(high)))
    mel_delta = (mel_high - mel_low) / f32(num_bins + 1)

    bins = np.arange(num_bins, dtype=f32)
    left = (mel_low + bins * mel_delta)[None, :]              # (1, num_bins)
    center = (mel_low + (bins + 1) * mel_delta)[None, :]
    right = (mel_low + (bins + 2) * mel_delta)[None, :]
    freqs = fft_bin_width * np.arange(num_fft_bins, dtype=f32)
    mel = mel_scale(freqs).astype(f32)[:, None]               # (num_fft_bins, 1)

    up = (mel - left) / (center - left)
    down = (right - mel) / (right - center)
    weights = np.where(mel <= center, up, down)
    weights = np.where((mel > left) & (mel < right), weights, f32(0))
    out = np.zeros((num_fft_bins + 1, num_bins), dtype=f32)
    out[:num_fft_bins] = weights
    if not out.any(axis=0).all():
        empty = int(np.flatnonzero(~out.any(axis=0))[0])
        raise ValueError(
            f"mel bin {empty} of {num_bins} covers no FFT bin ({padded_window_size}-point FFT "
            f"at {sample_rate} Hz, {low_freq}-{high} Hz): use fewer mel bins or a longer frame")
    out.setflags(write=False)
    return out
