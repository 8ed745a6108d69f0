"""Speech-like audio whose prosody follows latent arousal and valence (synthetic corpus).

A source-filter synthesiser: a Rosenberg glottal pulse train with jitter and shimmer plus
pulse-synchronous aspiration noise, shaped per vowel by a cascade of five 2nd-order formant
resonators and a spectral-tilt pole whose coefficients glide from a consonant locus to the vowel
target; consonants are band-passed noise bursts (fricatives, plosive bursts); syllables group
into phrases with declining pitch and pauses; background noise at a per-recording SNR.

Cues, per syllable, in units of the latent's standard deviation (``za``, ``zv``), each with
speaker-internal random variation of comparable or larger size, so one syllable says little and
many seconds say a lot:
- arousal: loudness, pitch level and accent range, speaking rate and pausing, spectral tilt
  (glottal closing time);
- valence (weaker): pitch slope within the vowel, formant shift and brightness (smiling),
  breathiness, jitter.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, lfilter, sosfilt

__all__ = ["SAMPLE_RATE", "CueModel", "Speaker", "draw_speaker", "synthesize"]

SAMPLE_RATE = 16000
VOWELS_HZ = np.array([[730, 1090, 2440], [270, 2290, 3010], [300, 870, 2240], [530, 1840, 2480],
                      [570, 840, 2410], [660, 1720, 2410], [440, 1020, 2240], [490, 1350, 1690]])
"""F1–F3 (Hz) of eight vowels (Peterson & Barney, adult male)."""
HIGH_FORMANTS_HZ = (3500.0, 4500.0)
BANDWIDTHS_HZ = np.array([80.0, 100.0, 140.0, 200.0, 250.0])
LOCI_F2_HZ = (1000.0, 1800.0, 2300.0)  # labial, alveolar, velar onset
CONSONANT_BANDS_HZ = ((4000, 7500), (2000, 5000), (1000, 7000), (500, 4000))  # s, sh, f, burst


@dataclass(frozen=True)
class CueModel:
    """Effect sizes: per latent standard deviation, and the syllable-to-syllable noise."""

    loud_db: float = 2.5          # arousal → vowel level (dB)
    loud_noise_db: float = 3.5
    pitch_st: float = 1.5         # arousal → pitch level (semitones)
    pitch_noise_st: float = 1.5
    accent_st: float = 3.0        # accent excursion, scaled by exp(range * za)
    range_: float = 0.25
    rate: float = 0.10            # arousal → log syllable rate
    dur_noise: float = 0.35       # log-normal syllable duration spread
    pause_logit: float = -0.4     # arousal → log-odds of a pause after a syllable
    tilt: float = 0.2             # arousal → log glottal closing time (shorter: flatter tilt)
    slope_st: float = 1.2         # valence → pitch rise over the vowel (semitones)
    slope_noise_st: float = 2.0
    formant_shift: float = 0.05   # valence → relative formant frequency shift
    bright: float = 0.3           # valence → log narrowing of F3–F5 bandwidths (brighter voice)
    breath: float = -0.6          # valence → log aspiration level
    jitter: float = -0.4          # valence → log jitter


@dataclass(frozen=True)
class Speaker:
    """Per-recording voice: base pitch (Hz), vocal-tract scale, level (dBFS), rate (syll/s)..."""

    sex: str
    f0_hz: float
    formant_scale: float
    level_dbfs: float
    rate_syl_s: float
    closing: float       # glottal closing time, fraction of the period
    breathiness: float   # aspiration noise level relative to the pulses
    jitter: float        # relative period perturbation (std)
    shimmer: float       # relative amplitude perturbation (std)
    snr_db: float


def draw_speaker(rng: np.random.Generator) -> Speaker:
    """A random speaker; male and female equally likely."""
    female = bool(rng.random() < 0.5)
    return Speaker(
        sex="F" if female else "M",
        f0_hz=float(rng.uniform(180, 240) if female else rng.uniform(95, 140)),
        formant_scale=float(rng.uniform(1.10, 1.22) if female else rng.uniform(0.95, 1.05)),
        level_dbfs=float(rng.uniform(-30, -24)), rate_syl_s=float(rng.uniform(3.8, 5.2)),
        closing=float(rng.uniform(0.12, 0.2)), breathiness=float(rng.uniform(0.02, 0.08)),
        jitter=float(rng.uniform(0.005, 0.015)), shimmer=float(rng.uniform(0.03, 0.08)),
        snr_db=float(rng.uniform(15, 30)))


def _plan(rng, duration, za, zv, spk: Speaker, cue: CueModel) -> dict[str, np.ndarray]:
    """Syllable timings (s) and per-syllable cue values; ``za``/``zv``: callables t → z-score."""
    cols = {k: [] for k in ("c0", "v0", "v1", "ctype", "locus", "vowel", "st0", "st1", "db",
                            "closing", "breath", "jitter", "shift", "bright")}
    t, phrase_t0 = 0.2 + 0.3 * rng.random(), 0.0
    base_dur = 1.0 / spk.rate_syl_s
    while True:
        a, v = za(t), zv(t)
        dur = base_dur * np.exp(-cue.rate * a + cue.dur_noise * rng.standard_normal())
        dur = float(np.clip(dur, 0.08, 0.6))
        if t + dur > duration - 0.1:
            break
        ctype = int(rng.integers(-1, 4))  # -1: no onset consonant
        cdur = 0.0 if ctype < 0 else dur * rng.uniform(0.2, 0.4)
        accent = cue.accent_st * np.exp(cue.range_ * a) * (rng.random() < 0.35) * rng.uniform(0.5, 1)
        level = (cue.pitch_st * a + cue.pitch_noise_st * rng.standard_normal() + accent
                 - 1.5 * min(t - phrase_t0, 3.0))  # declination over the phrase
        slope = cue.slope_st * v + cue.slope_noise_st * rng.standard_normal()
        for k, val in (("c0", t), ("v0", t + cdur), ("v1", t + dur), ("ctype", ctype),
                       ("locus", rng.integers(3)), ("vowel", rng.integers(len(VOWELS_HZ))),
                       ("st0", level - slope / 2), ("st1", level + slope / 2),
                       ("db", cue.loud_db * a + cue.loud_noise_db * rng.standard_normal() + accent),
                       ("closing", spk.closing * np.exp(-cue.tilt * a + 0.1 * rng.standard_normal())),
                       ("breath", spk.breathiness * np.exp(cue.breath * v + 0.3 * rng.standard_normal())),
                       ("jitter", spk.jitter * np.exp(cue.jitter * v + 0.3 * rng.standard_normal())),
                       ("shift", cue.formant_shift * v + 0.03 * rng.standard_normal()),
                       ("bright", np.exp(-cue.bright * v + 0.2 * rng.standard_normal()))):
            cols[k].append(val)
        t += dur
        if rng.random() < 1 / (1 + np.exp(-(-1.5 + cue.pause_logit * a))):  # pause
            long = rng.random() < 0.4
            t += float(np.exp(rng.normal(np.log(0.6 if long else 0.2), 0.4)))
            if long:
                phrase_t0 = t
    return {k: np.asarray(v) for k, v in cols.items()}


def _glottal_source(rng, n, plan, spk: Speaker) -> np.ndarray:
    """(n,) Rosenberg flow-derivative source with jitter, shimmer and aspiration noise."""
    fs = SAMPLE_RATE
    v0 = np.round(plan["v0"] * fs).astype(np.int64)
    v1 = np.maximum(np.round(plan["v1"] * fs).astype(np.int64) - 1, v0 + 1)
    knots = np.stack([v0, v1], 1).ravel()

    def track(a, b=None):  # per-sample linear interpolation of per-vowel start/end values
        return np.interp(np.arange(n), knots, np.stack([a, a if b is None else b], 1).ravel())

    f0 = spk.f0_hz * 2.0 ** (track(plan["st0"], plan["st1"]) / 12)
    period = np.floor(np.cumsum(f0 / fs)).astype(np.int64)
    wobble = rng.standard_normal((2, period[-1] + 2))
    f0 = f0 * (1 + track(plan["jitter"]) * wobble[0, period])
    phase = np.cumsum(f0 / fs)
    frac, k = phase % 1.0, phase.astype(np.int64)
    rise, fall = 0.45, track(plan["closing"])
    flow = np.where(frac < rise, 0.5 * (1 - np.cos(np.pi * frac / rise)),
                    np.where(frac < rise + fall, np.cos(0.5 * np.pi * np.minimum(frac - rise, fall) / fall), 0.0))
    flow *= 1 + spk.shimmer * wobble[1, np.minimum(k, wobble.shape[1] - 1)]
    source = np.diff(flow, prepend=0.0) * (fs / (np.pi * 200))  # unit-ish peak at 200 Hz
    open_phase = frac < rise + fall
    source += track(plan["breath"]) * (0.3 + 0.7 * open_phase) * rng.standard_normal(n)
    return source


def _resonator_sos(freqs, bws, pole) -> np.ndarray:
    """(6, 6) SOS: five unit-DC-gain resonators (Klatt) and a one-pole spectral tilt."""
    r = np.exp(-np.pi * bws / SAMPLE_RATE)
    c = -2 * r * np.cos(2 * np.pi * freqs / SAMPLE_RATE)
    sos = np.zeros((6, 6))
    sos[:5, 0], sos[:5, 3], sos[:5, 4], sos[:5, 5] = 1 + c + r * r, 1, c, r * r
    sos[5] = [1 - pole, 0, 0, 1, -pole, 0]
    return sos


def synthesize(rng: np.random.Generator, duration: float, za, zv, spk: Speaker,
               cue: CueModel = CueModel()) -> tuple[np.ndarray, dict]:
    """(n,) float64 waveform in [-1, 1] at 16 kHz, n = round(duration * 16000), and a summary.

    ``za``, ``zv``: callables mapping time (s) to the arousal / valence latent in standard
    deviations. The summary holds the syllable count, speech fraction and speech level.
    """
    fs, n = SAMPLE_RATE, int(round(duration * SAMPLE_RATE))
    plan = _plan(rng, duration, za, zv, spk, cue)
    source = _glottal_source(rng, n, plan, spk)
    speech = np.zeros(n)
    noise = rng.standard_normal(n)
    cons_sos = [butter(4, band, btype="bandpass", fs=fs, output="sos") for band in CONSONANT_BANDS_HZ]
    tail = int(0.01 * fs)
    for i in range(len(plan["c0"])):  # one syllable at a time: consonant, then the vowel
        c0, v0, v1 = (int(round(plan[k][i] * fs)) for k in ("c0", "v0", "v1"))
        gain = 10 ** (plan["db"][i] / 20)
        if v0 > c0:
            ct, m = int(plan["ctype"][i]), v0 - c0
            if ct == 3:  # plosive: closure silence, then a decaying burst
                env = np.where(np.arange(m) < m // 2, 0.0, np.exp(-np.arange(m) / (0.012 * fs)) * 2)
            else:
                env = np.sin(np.linspace(0, np.pi, m)) ** 2
            burst = sosfilt(cons_sos[ct], noise[c0:v0]) * env
            speech[c0:v0] += 0.25 * gain * burst
        m = v1 - v0
        ramp = np.minimum(1.0, np.minimum(np.arange(m) / (0.015 * fs), (m - np.arange(m)) / (0.025 * fs)))
        seg = np.concatenate([source[v0:v1] * ramp, np.zeros(tail)])
        scale = spk.formant_scale * (1 + plan["shift"][i])
        target = np.concatenate([VOWELS_HZ[plan["vowel"][i]], HIGH_FORMANTS_HZ]) * scale
        start = target.copy()
        start[1] = LOCI_F2_HZ[plan["locus"][i]] * scale
        start[0] = 0.6 * target[0]
        bws = BANDWIDTHS_HZ * (1 + 2 * plan["breath"][i])
        bws[2:] *= plan["bright"][i]
        pole = float(np.clip(0.3 + 0.4 * (plan["closing"][i] - 0.1) / 0.1, 0.1, 0.9))
        edges = np.minimum([0, m // 8, m // 4, 3 * m // 8, len(seg)], len(seg))
        zi = np.zeros((6, 2))
        out = np.empty_like(seg)
        for j in range(4):  # formant glide from the consonant locus in three steps
            w = min(1.0, (j + 0.5) / 3)
            sos = _resonator_sos(start + w * (target - start), bws, pole)
            out[edges[j]:edges[j + 1]], zi = sosfilt(sos, seg[edges[j]:edges[j + 1]], zi=zi)
        rms = np.sqrt(np.mean(out[:m] ** 2)) + 1e-12
        end = min(n, v1 + tail)
        speech[v0:end] += (gain / rms) * out[:end - v0]
    active = np.abs(speech) > 1e-6
    speech_rms = np.sqrt(np.mean(speech[active] ** 2)) if active.any() else 1.0
    speech *= 10 ** (spk.level_dbfs / 20) / speech_rms
    hum = sum(np.sin(2 * np.pi * h * 50 * np.arange(n) / fs + h) / h for h in (1, 2, 3))
    rumble = lfilter([1.0], [1.0, -0.99], rng.standard_normal(n)) * np.sqrt(1 - 0.99**2)
    bg = 2 * rumble + rng.standard_normal(n) + 0.3 * hum  # low-frequency rumble, hiss, mains hum
    bg *= 10 ** ((spk.level_dbfs - spk.snr_db) / 20) / np.sqrt(np.mean(bg**2))
    wave = speech + bg
    peak = np.abs(wave).max()
    if peak > 0.99:
        wave *= 0.99 / peak
    summary = {"syllables": int(len(plan["c0"])), "speech_fraction": float(active.mean()),
               "voiced_seconds": float(np.sum(plan["v1"] - plan["v0"]))}
    return wave, summary
