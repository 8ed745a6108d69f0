"""Log mel filterbank energies with the semantics of Kaldi's ``compute-fbank-feats``.

Vectorised over frames: frames are strided views of the waveform, processed in blocks small
enough to stay in cache, with one real FFT and one mel GEMM per block, in float32 like Kaldi.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinyemo.frontend.mel import mel_banks
from tinyemo.frontend.options import FbankOptions

__all__ = ["fbank", "frame_geometry", "num_frames", "feature_window", "check_samples",
           "MAX_ABS_SAMPLE"]

FLOAT_EPSILON = float(np.finfo(np.float32).eps)   # Kaldi's floor before every log
MS_PER_SECOND = 1000.0
FRAMES_PER_BLOCK = 512                            # frames per vectorised block (cache size)
# A million times int16 full scale: far above any real recording, far below where the float32
# power spectrum overflows (~1e15), so a file written at the wrong scale is named, not NaN.
MAX_ABS_SAMPLE = 32768.0 * 1e6


def _f32(x: float) -> float:
    """``x`` rounded through float32, as Kaldi stores its (BaseFloat) options."""
    return float(np.float32(x))


def check_samples(wave: np.ndarray, name: str, first: int = 0) -> None:
    """ValueError naming ``name`` when a sample of ``wave`` (on the int16 scale; ``first``: the
    index of its first sample in the whole signal) is NaN, infinite or beyond
    :data:`MAX_ABS_SAMPLE` (float audio written at the wrong scale: every row would be NaN)."""
    finite = np.isfinite(wave)
    if not finite.all():
        bad = first + int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{name}: audio has NaN or infinite samples (first at sample {bad})")
    peak = float(np.max(np.abs(wave), initial=0.0))
    if peak > MAX_ABS_SAMPLE:
        raise ValueError(f"{name}: samples reach {peak / 32768.0:.3g} times full scale (written "
                         "at the wrong scale?): rescale the audio to ±1 (float) or int16")


def frame_geometry(sample_rate: float, options: FbankOptions) -> tuple[int, int, int]:
    """(window_size, window_shift, padded_window_size) in samples, as Kaldi computes them."""
    # Kaldi truncates: samp_freq * 0.001 * frame_length_ms, computed in double.
    size = int(_f32(sample_rate) * (1.0 / MS_PER_SECOND) * _f32(options.frame_length))
    shift = int(_f32(sample_rate) * (1.0 / MS_PER_SECOND) * _f32(options.frame_shift))
    padded = 1 << max(size - 1, 0).bit_length() if options.round_to_power_of_two else size
    return size, shift, padded


def num_frames(num_samples: int, window_size: int, window_shift: int, snip_edges: bool) -> int:
    """Kaldi's ``NumFrames``: frames fully inside the signal (snip_edges) or centred ones."""
    if snip_edges:
        return 0 if num_samples < window_size else 1 + (num_samples - window_size) // window_shift
    return (num_samples + window_shift // 2) // window_shift


@lru_cache(maxsize=64)
def feature_window(window_type: str, size: int, blackman_coeff: float = 0.42) -> np.ndarray:
    """Kaldi's ``FeatureWindowFunction``, shape (size,) float32, read-only."""
    i = np.arange(size, dtype=np.float64)
    a = 2.0 * np.pi / (size - 1) if size > 1 else 0.0
    if window_type == "hanning":
        w = 0.5 - 0.5 * np.cos(a * i)
    elif window_type == "sine":
        w = np.sin(0.5 * a * i)
    elif window_type == "hamming":
        w = 0.54 - 0.46 * np.cos(a * i)
    elif window_type == "povey":  # Hann raised to 0.85: like Hamming, but goes to zero at the edges
        w = (0.5 - 0.5 * np.cos(a * i)) ** 0.85
    elif window_type == "rectangular":
        w = np.ones(size)
    elif window_type == "blackman":
        w = blackman_coeff - 0.5 * np.cos(a * i) + (0.5 - blackman_coeff) * np.cos(2 * a * i)
    else:
        raise ValueError(f"unknown window_type {window_type!r}")
    w = w.astype(np.float32)
    w.setflags(write=False)
    return w


def _frames_view(wave: np.ndarray, size: int, shift: int, n_frames: int,
                 snip_edges: bool) -> np.ndarray:
    """Strided (n_frames, size) view of the frames; with snip_edges=False the signal is first
    padded by Kaldi's reflection (sample -1 is sample 0, sample n is sample n-1)."""
    if not snip_edges:
        first = shift // 2 - size // 2                      # start of frame 0 (Kaldi's rounding)
        last_end = (n_frames - 1) * shift + first + size
        left, right = max(0, -first), max(0, last_end - wave.size)
        wave = np.pad(wave, (left, right), mode="symmetric")
        wave = wave[left + first:] if first >= 0 else wave
    return sliding_window_view(wave, size)[::shift][:n_frames]


def fbank(waveform, sample_rate: float, *, options: FbankOptions | None = None,
          rng: np.random.Generator | None = None, name: str = "waveform",
          **overrides) -> np.ndarray:
    """Kaldi ``compute-fbank-feats`` on one waveform.

    waveform: (num_samples,) on the int16 scale (as Kaldi reads WAV files), any real dtype.
    sample_rate: Hz. options: an :class:`FbankOptions`; keyword ``overrides`` use Kaldi's flag
    names with underscores (``num_mel_bins=23``, ``snip_edges=False``, ...). rng: the dither
    generator (default: seeded from ``options.seed``). name: the file name used in errors.

    Returns (num_frames, num_mel_bins) float32, or (num_frames, num_mel_bins + 1) with
    use_energy (log energy first, or last with htk_compat). Raises ValueError naming ``name``
    for empty, non-finite or too-short input.
    """
    opts = FbankOptions.from_kwargs(options, **overrides)
    wave = np.asarray(waveform)
    if wave.ndim != 1:
        raise ValueError(f"{name}: waveform must be 1-D (num_samples,), got shape {wave.shape}")
    if not np.issubdtype(wave.dtype, np.number) or np.iscomplexobj(wave):
        raise ValueError(f"{name}: waveform must be real numbers, got dtype {wave.dtype}")
    if not (np.isfinite(sample_rate) and sample_rate > 0):
        raise ValueError(f"{name}: sample rate must be positive, got {sample_rate!r}")
    if wave.size == 0:
        raise ValueError(f"{name}: audio is empty (0 samples)")
    check_samples(wave, name)
    wave = wave.astype(np.float32, copy=False)

    size, shift, padded = frame_geometry(sample_rate, opts)
    if size < 2 or shift < 1:
        raise ValueError(f"{name}: frame_length {opts.frame_length} ms / frame_shift "
                         f"{opts.frame_shift} ms is under 2 / 1 samples at {sample_rate} Hz")
    # Kaldi returns no frames (snip_edges) or reflects repeatedly; here it is an error.
    if wave.size < size:
        raise ValueError(
            f"{name}: audio is shorter than one frame ({wave.size} samples = "
            f"{wave.size / sample_rate:.4f} s < frame_length {opts.frame_length} ms = {size} "
            "samples)")
    n_frames = num_frames(wave.size, size, shift, opts.snip_edges)
    if n_frames == 0:
        raise ValueError(f"{name}: audio is shorter than half a frame shift ({wave.size} "
                         f"samples), so snip_edges=False gives no frame")
    weights = mel_banks(opts.num_mel_bins, padded, sample_rate, opts.low_freq, opts.high_freq)
    window = feature_window(opts.window_type, size, opts.blackman_coeff)
    if opts.dither != 0.0 and rng is None:
        rng = np.random.default_rng(opts.seed)

    frames = _frames_view(wave, size, shift, n_frames, opts.snip_edges)  # (n_frames, size)
    # Only FFT bins that some mel bin weighs enter the GEMM.
    used = np.flatnonzero(weights.any(axis=1))
    lo, hi = int(used[0]), int(used[-1]) + 1
    band = np.ascontiguousarray(weights[lo:hi])                 # (hi - lo, num_mel_bins)
    n_out = opts.num_mel_bins + (1 if opts.use_energy else 0)
    out = np.empty((n_frames, n_out), dtype=np.float32)
    energy_col = opts.num_mel_bins if opts.htk_compat else 0
    mel_cols = slice(1, n_out) if opts.use_energy and not opts.htk_compat \
        else slice(0, opts.num_mel_bins)
    for start in range(0, n_frames, FRAMES_PER_BLOCK):
        rows = slice(start, min(start + FRAMES_PER_BLOCK, n_frames))
        out[rows, mel_cols], log_energy = _process_block(
            frames[rows], window, band, lo, padded, opts, rng)
        if opts.use_energy:
            if opts.energy_floor > 0.0:
                np.maximum(log_energy, np.float32(np.log(opts.energy_floor)), out=log_energy)
            out[rows, energy_col] = log_energy
    return out


def _process_block(frames, window, band, lo, padded, opts, rng):
    """Kaldi's ``ProcessWindow`` then ``FbankComputer::Compute`` on a block of frames.

    frames: (n, window_size) view; band: mel weights of FFT bins lo... Returns the mel
    energies (n, num_mel_bins) float32 and the log energies (n,) float32 (None without
    use_energy).
    """
    import scipy.fft  # imported on first use: keeps `import tinyemo.frontend` light

    x = np.array(frames, dtype=np.float32)                      # (n, window_size) own copy
    if opts.dither != 0.0:
        x += np.float32(opts.dither) * rng.standard_normal(x.shape, dtype=np.float32)
    if opts.remove_dc_offset:
        x -= x.mean(axis=1, dtype=np.float64, keepdims=True).astype(np.float32)
    log_energy = None
    if opts.use_energy and opts.raw_energy:
        log_energy = _log_energy(x)
    coeff = np.float32(opts.preemphasis_coefficient)
    if coeff != 0.0:
        # Kaldi's pre-emphasis treats the sample before the frame as the first sample itself.
        x[:, 1:] -= coeff * x[:, :-1]
        x[:, 0] *= np.float32(1.0) - coeff
    x *= window
    if opts.use_energy and not opts.raw_energy:
        log_energy = _log_energy(x)
    spec = scipy.fft.rfft(x, n=padded, axis=1, workers=1)[:, lo:lo + band.shape[0]]
    power = np.square(spec.real)                                # (n, band rows) float32
    power += np.square(spec.imag)
    if not opts.use_power:
        np.sqrt(power, out=power)
    mel = power @ band                                          # (n, num_mel_bins)
    if opts.use_log_fbank:
        np.maximum(mel, np.float32(FLOAT_EPSILON), out=mel)
        np.log(mel, out=mel)
    return mel, log_energy


def _log_energy(x: np.ndarray) -> np.ndarray:
    """log of each frame's energy, floored like Kaldi: (n, L) → (n,) float32."""
    energy = np.einsum("ij,ij->i", x, x, dtype=np.float64)
    return np.log(np.maximum(energy, FLOAT_EPSILON)).astype(np.float32)
