"""Latent emotion trajectories, simulated annotators, and label statistics (synthetic corpus).

Everything here lives on the 40 ms label grid (25 Hz): frame ``j`` is at ``0.04 * j`` seconds.
A latent trajectory is what the synthetic speaker "feels" and what drives the audio; annotators
perceive it late (2–4 s), smooth it, rescale and offset it, and add slow noise of their own; the
gold standard is their mean, as in RECOLA.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.ndimage import gaussian_filter1d
from scipy.stats import norm

from tinyemo.data.grid import FRAME_S
from tinyemo.util.metrics import ccc

__all__ = ["LabelModel", "smooth_noise", "latent_track", "draw_annotators", "annotate", "label_statistics",
           "low_power_fraction", "acf_halftime", "spline_rebuild_ccc", "annotator_agreement"]


@dataclass(frozen=True)
class LabelModel:
    """How one target's latent trajectory and its annotations are drawn (units: label units, s).

    The latent is ``mean + std * g(z)`` where ``z`` is unit-variance: a per-recording offset
    (a fraction ``between`` of the variance) plus slow noise whose power spectrum is
    ``(1 + (2 pi f timescale_s)^2)^-2`` (autocorrelation ``(1 + |t|/tau) exp(-|t|/tau)``), of
    which a fraction ``drift`` has the slower ``drift_timescale_s`` instead; ``g`` is a
    standardised exponential with skewness set by ``skew`` (0: Gaussian).

    Annotators are the same people for every recording of a corpus (as RECOLA's six): each has
    a personal lag, scale and bias, varied per recording by ``lag_jitter_s``, ``scale_rec_sd``
    and ``bias_rec_sd``, a per-recording smoothing width, and slow noise. Biases and noise are
    in units of ``std``; scales are log-normal with mean 1.
    """

    mean: float
    std: float
    skew: float = 0.0
    between: float = 0.05
    timescale_s: float = 2.9
    drift: float = 0.0
    drift_timescale_s: float = 15.0
    n_annotators: int = 6
    lag_s: tuple[float, float] = (2.0, 4.0)
    lag_jitter_s: float = 0.3
    smooth_s: tuple[float, float] = (0.2, 0.8)
    scale_sd: float = 0.6
    scale_rec_sd: float = 0.2
    bias_sd: float = 1.5
    bias_rec_sd: float = 0.4
    noise_sd: float = 0.45
    noise_timescale_s: float = 1.5


def smooth_noise(rng: np.random.Generator, n: int, timescale_s: float) -> np.ndarray:
    """(n,) float64 unit-variance Gaussian noise at 25 Hz with spectrum (1 + (2 pi f tau)^2)^-2.

    Drawn in the frequency domain on a grid padded by 10 time constants so that it does not
    wrap around; the variance is 1 in expectation (not forced per draw).
    """
    m = int(n + np.ceil(10 * timescale_s / FRAME_S))
    f = np.fft.rfftfreq(m, d=FRAME_S)
    gain = 1.0 / (1.0 + (2 * np.pi * f * timescale_s) ** 2)
    full = np.concatenate([gain, gain[1:(m + 1) // 2][::-1]])  # |H| over all m FFT bins
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal(m)) * gain, n=m)
    return x[:n] / np.sqrt(np.mean(full**2))


def _skewed(z: np.ndarray, k: float) -> np.ndarray:
    """``sign(k)`` times standardised ``exp(|k| z)``: mean 0, variance 1 for standard normal
    ``z``, monotone in ``z``, with a long upper tail for ``k > 0`` and a long lower tail for ``k < 0``."""
    if abs(k) < 1e-9:
        return z
    k2 = k * k
    return np.sign(k) * (np.exp(abs(k) * z * np.sign(k)) - np.exp(k2 / 2)) / np.sqrt((np.exp(k2) - 1) * np.exp(k2))


def latent_track(rng: np.random.Generator, n: int, model: LabelModel) -> np.ndarray:
    """(n,) float64 latent trajectory on the 40 ms grid (label units)."""
    offset = rng.standard_normal()
    within = smooth_noise(rng, n, model.timescale_s)
    if model.drift > 0:   # drawn after, so a model without drift draws what it always drew
        within = (np.sqrt(1 - model.drift) * within
                  + np.sqrt(model.drift) * smooth_noise(rng, n, model.drift_timescale_s))
    z = np.sqrt(model.between) * offset + np.sqrt(1 - model.between) * within
    return model.mean + model.std * _skewed(z, model.skew)


def draw_annotators(rng: np.random.Generator, model: LabelModel) -> dict[str, np.ndarray]:
    """Personal traits of ``model.n_annotators`` annotators: ``lag_s``, ``scale``, ``bias`` (A,).

    Lags, log-scales and biases sit at evenly spread quantiles of their distributions (uniform
    over ``lag_s``; normal), assigned to annotators at random, so that panels differ in who is
    who but not in how much they disagree; scales average 1 and biases 0 over the panel.
    """
    a = model.n_annotators
    q = (np.arange(a) + 0.5) / a  # evenly spread quantiles, shuffled: every panel is as diverse
    lags = model.lag_s[0] + (model.lag_s[1] - model.lag_s[0]) * rng.permutation(q)
    scale = np.exp(model.scale_sd * norm.ppf(rng.permutation(q)))
    bias = model.bias_sd * model.std * norm.ppf(rng.permutation(q))
    return {"lag_s": lags, "scale": scale / scale.mean(), "bias": bias - bias.mean()}


def annotate(rng: np.random.Generator, latent: np.ndarray, pre: int, model: LabelModel,
             traits: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Simulated annotators (``traits`` from :func:`draw_annotators`) rating ``latent[pre:]``.

    ``latent``: (pre + T,) with ``pre`` frames of history before the recording starts
    (``pre * 0.04`` must exceed the largest lag). Returns ``ratings`` (T, A) float64 and the
    lags used (A,) in s. Annotator ``a``: ``mean + scale_a * (smooth_a(latent)(t - lag_a) -
    mean) + bias_a + noise_a(t)``, with lag, scale and bias varied per recording.
    """
    n = latent.shape[0] - pre
    a = len(traits["lag_s"])
    lo, hi = model.lag_s
    lags = np.clip(traits["lag_s"] + model.lag_jitter_s * rng.uniform(-1, 1, size=a), lo, hi)
    widths = rng.uniform(*model.smooth_s, size=a)
    sd = model.scale_rec_sd
    scales = traits["scale"] * np.exp(sd * rng.standard_normal(a) - sd**2 / 2)
    biases = traits["bias"] + model.bias_rec_sd * model.std * rng.standard_normal(a)
    ratings = np.empty((n, a))
    for i in range(a):  # a handful of annotators
        shift = int(round(lags[i] / FRAME_S))
        if shift > pre:
            raise ValueError(f"annotator lag {lags[i]:.2f} s exceeds the {pre * FRAME_S:.2f} s of history")
        seen = gaussian_filter1d(latent, widths[i] / FRAME_S, mode="nearest")[pre - shift:pre - shift + n]
        noise = model.noise_sd * model.std * smooth_noise(rng, n, model.noise_timescale_s)
        ratings[:, i] = model.mean + scales[i] * (seen - model.mean) + biases[i] + noise
    return ratings, lags


def acf_halftime(tracks: list[np.ndarray], max_lag: int = 1000) -> float:
    """Median over recordings of the seconds until a recording's autocorrelation first falls
    to 0.5 (per recording: mean removed, biased estimate ``sum_t d_t d_(t+k) / sum_t d_t^2``,
    at most ``max_lag`` frames; ``inf`` for a recording that never falls that far)."""
    return float(np.median([_halftime(t, max_lag) for t in tracks]))


def _halftime(track: np.ndarray, max_lag: int) -> float:
    d = np.asarray(track, np.float64) - np.mean(track)
    spec = np.fft.rfft(d, n=2 * len(d))                 # zero-padded: no wrap-around
    acf = np.fft.irfft(np.abs(spec) ** 2)[:min(max_lag, len(d) - 1) + 1]
    if acf[0] <= 0:
        return 0.0
    below = np.nonzero(acf <= 0.5 * acf[0])[0]
    return float(below[0] * FRAME_S) if below.size else float("inf")


def low_power_fraction(tracks: list[np.ndarray], cutoff_hz: float = 1.0) -> float:
    """Fraction of the (per-recording mean-removed) label power below ``cutoff_hz``."""
    low = total = 0.0
    for t in tracks:
        p = np.abs(np.fft.rfft(t - t.mean())) ** 2
        f = np.fft.rfftfreq(len(t), d=FRAME_S)
        low += p[f < cutoff_hz].sum()
        total += p.sum()
    return float(low / total) if total > 0 else 1.0


def spline_rebuild_ccc(tracks: list[np.ndarray], factor: int) -> float:
    """CCC, over the concatenated tracks, of the tracks against their rebuild from frames
    0, f, 2f, ... only (labels kept every ``factor`` frames): a not-a-knot cubic spline through
    those frames, extrapolated past the last one (no extra knot at the end)."""
    rebuilt = []
    for t in tracks:
        knots = np.arange(0, len(t), factor)
        if len(knots) < 2:
            raise ValueError(f"a track of {len(t)} frames has fewer than 2 knots at factor {factor}")
        rebuilt.append(CubicSpline(knots, t[knots])(np.arange(len(t))))
    return ccc(np.concatenate(tracks), np.concatenate(rebuilt))


def annotator_agreement(gold: list[np.ndarray], ratings: list[np.ndarray]) -> dict[str, float]:
    """One rater against the gold standard: CCC of each annotator's track with the gold
    standard (which includes that annotator), averaged over annotators, two ways:
    ``concatenated`` (each annotator's recordings concatenated, one CCC per annotator) and
    ``per_recording_mean`` (one CCC per annotator and recording, all averaged).
    ``gold``: list of (T_r,); ``ratings``: list of (T_r, A)."""
    allg, allr = np.concatenate(gold), np.concatenate(ratings)
    return {"concatenated": float(np.mean([ccc(allr[:, i], allg) for i in range(allr.shape[1])])),
            "per_recording_mean": float(np.mean([ccc(r[:, i], g) for r, g in zip(ratings, gold)
                                                 for i in range(r.shape[1])]))}


def label_statistics(gold: list[np.ndarray], ratings: list[np.ndarray] | None = None) -> dict:
    """Statistics of a target's gold standard over several recordings.

    ``gold``: list of (T_r,) tracks; ``ratings``: optional list of (T_r, A) annotator tracks.
    Returns mean, std, min, max (recordings pooled), ``power_below_1hz`` (per-recording mean
    removed, pooled), ``acf_halftime_s`` (median of the recordings' half-times),
    ``spline_rebuild_ccc`` at factors 64 and 128 (recordings concatenated) and, with ratings,
    ``annotator_ccc_concatenated`` and ``annotator_ccc_per_recording_mean`` (see
    :func:`annotator_agreement`).
    """
    allg = np.concatenate(gold)
    out = {
        "mean": float(allg.mean()), "std": float(allg.std()),
        "min": float(allg.min()), "max": float(allg.max()),
        "power_below_1hz": low_power_fraction(gold),
        "acf_halftime_s": acf_halftime(gold),
        "spline_rebuild_ccc": {str(f): spline_rebuild_ccc(gold, f) for f in (64, 128)
                               if min(len(t) for t in gold) > 2 * f},
    }
    if ratings is not None:
        agreement = annotator_agreement(gold, ratings)
        out["annotator_ccc_concatenated"] = agreement["concatenated"]
        out["annotator_ccc_per_recording_mean"] = agreement["per_recording_mean"]
    return out
