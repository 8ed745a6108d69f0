"""The AVEC 2016 audio baseline (Valstar et al., 2016): eGeMAPS low-level descriptors summarised
over a window centred on each 40 ms frame, standardised on train, a linear SVR, then the
challenge's post-processing, every setting chosen on dev.

Features: openSMILE's eGeMAPSv02 low-level descriptors (``opensmile.Smile(feature_set=
FeatureSet.eGeMAPSv02, feature_level=FeatureLevel.LowLevelDescriptors)``: 25 descriptors —
loudness, alpha ratio, Hammarberg index, spectral slopes and flux, MFCC 1–4, F0, jitter,
shimmer, HNR, H1–H2, H1–A3, F1–F3 frequency/bandwidth/amplitude — one frame every 10 ms, frame
``i`` starting at ``0.01 i`` s). Frames ``4j … 4j+3`` are averaged onto label frame ``j``
(the nets' stacking rule), then aligned to the labels as the nets' features are. Cached on
disk under ``<cache>/egemaps``. Per frame: mean, std and the 20th/50th/80th percentiles of
each descriptor over the window (:mod:`.windows`), i.e. 125 columns — the statistics of the
eGeMAPS functionals, computed over all frames (openSMILE's functionals take some descriptors
over voiced frames only; unvoiced frames hold its sentinel values here).

Model: columns standardised with the train frames' mean and std; ``sklearn.svm.LinearSVR``
(liblinear's dual solver for the ε-insensitive (L1) loss, ε = 0, random_state 0) on the train
frames' labels minus their mean. For every (window length, C), the AVEC post-processing is
fitted on dev with :func:`tinyemo.baselines.postprocess.fit_postprocess` — delay compensation (−2 … +6 s)
then bias or bias-and-scale correction, each kept only if dev CCC rises, no median filter —
and the candidate with the best post-processed dev CCC is kept; its shift, scale and bias are
then fixed constants applied to every partition.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tinyemo.baselines.common import require
from tinyemo.baselines.postprocess import PostProcess, fit_postprocess
from tinyemo.baselines.windows import (
    percentiles_rule, positives_rule, seconds_rule, check_window_sizes, window_size, window_statistics,
)
from tinyemo.data.examples import Example
from tinyemo.data.examples import warn_resampling
from tinyemo.data.grid import audio_duration, check_tracks_agree, frames_for_duration
from tinyemo.frontend import align_to_labels, read_audio, stack_frames
from tinyemo.frontend.audio import INT16_SCALE, audio_rate
from tinyemo.frontend.cache import FeatureCache, file_digest
from tinyemo.frontend.features import MIN_STD
from tinyemo.util.fileio import cache_root
from tinyemo.util.metrics import ccc
from tinyemo.util.notices import warn
from tinyemo.util.settings import at_least, check_fields

__all__ = ["Config", "check", "features", "lld", "fit", "predict"]

KIND = "avec2016"
STACK = 4                 # 10 ms descriptor frames per 40 ms label frame
SCALINGS = ("bias", "std")  # AVEC: bias, or bias and scale (std matched to dev gold)
FORMAT_VERSION = 1        # bump when the cached descriptors for the same audio would change


@dataclass(frozen=True)
class Config:
    """Candidate window lengths (s) and SVR complexities; the window statistics."""

    windows_s: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0, 10.0)
    complexities: tuple[float, ...] = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)
    percentiles: tuple[float, ...] = (20.0, 50.0, 80.0)
    max_iter: int = 2000

    def __post_init__(self):
        check_fields(self, windows_s=seconds_rule, complexities=positives_rule, percentiles=percentiles_rule,
                     max_iter=at_least(1))
        object.__setattr__(self, "windows_s", tuple(sorted(float(s) for s in self.windows_s)))
        check_window_sizes(self.windows_s)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def check(training: bool) -> None:
    """openSMILE always (features); scikit-learn to train (a fitted model is plain NumPy)."""
    require("opensmile", KIND)
    if training:
        require("sklearn", KIND)


def _smile():
    opensmile = require("opensmile", KIND)
    return opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                           feature_level=opensmile.FeatureLevel.LowLevelDescriptors)


def lld(path: Path, smile=None, cache: bool = True, sample_rate: int | None = None) -> np.ndarray:
    """(T10, 25) float32 eGeMAPSv02 low-level descriptors of an audio file, 10 ms apart, read
    as the nets read audio (:func:`read_audio`: mono, resampled to ``sample_rate`` if given)
    and scaled to [-1, 1)."""
    opensmile = require("opensmile", KIND)
    store = FeatureCache(cache_root() / "egemaps") if cache else None
    key = None
    if store is not None:
        if not Path(path).is_file():
            raise ValueError(f"{path}: no such audio file")
        spec = {"audio_sha256": file_digest(path), "features": "eGeMAPSv02 LLD",
                "opensmile": opensmile.__version__, "sample_rate": sample_rate,
                "format_version": FORMAT_VERSION}
        key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
        cached = store.get(key)
        if cached is not None:
            return cached
    samples, rate = read_audio(path, sample_rate=sample_rate)
    frames = (smile or _smile()).process_signal((samples / INT16_SCALE).astype(np.float32), rate)
    values = frames.to_numpy(np.float32)
    if values.shape[0] == 0:
        raise ValueError(f"{path}: too short for eGeMAPS descriptors (no 10 ms frame)")
    if store is not None:
        store.put(key, values)
    return values


def features(corpus, config: Config, progress=None, sample_rate: int | None = None
             ) -> dict[str, Example]:
    """x (25, T) per recording: descriptors (audio resampled to ``sample_rate``) averaged over
    each 40 ms label frame, aligned to its labels (or, unlabelled, to the audio's duration) by
    the nets' rule."""
    for rec in corpus:         # before any work: the tracks of a recording agree in length
        check_tracks_agree(rec.id, {t: (v, rec.label_files.get(t, rec.audio))
                                    for t, v in rec.labels.items()})
    if sample_rate is not None:
        warn_resampling({rec.id: audio_rate(rec.audio) for rec in corpus}, sample_rate)
    smile = _smile()
    out = {}
    for i, rec in enumerate(corpus):
        values = lld(rec.audio, smile, sample_rate=sample_rate)
        per_label = stack_frames(values, STACK)                           # (T, 4 · 25)
        per_label = per_label.reshape(len(per_label), STACK, -1).mean(axis=1)  # (T, 25)
        lengths = {len(v) for v in rec.labels.values()}
        n = lengths.pop() if lengths else frames_for_duration(audio_duration(rec.audio))
        x = align_to_labels(per_label, n, name=str(rec.audio))
        out[rec.id] = Example(rec, np.ascontiguousarray(x.T, np.float32),
                              {k: np.asarray(v, np.float32) for k, v in rec.labels.items()})
        if progress:
            progress(i + 1, len(corpus))
    return out


def _standardised(examples, size, config, mean=None, scale=None):
    feats = [window_statistics(ex.x.T, size, config.percentiles) for ex in examples]
    if mean is None:
        allf = np.concatenate(feats).astype(np.float64)
        mean, scale = allf.mean(axis=0), allf.std(axis=0)
        scale = np.where(scale < MIN_STD, 1.0, scale)
    return [((f - mean) / scale).astype(np.float32) for f in feats], mean, scale


def fit(train: list[Example], dev: list[Example], targets: tuple[str, ...], config: Config,
        say=print) -> dict:
    """{target: (arrays, chosen, selection)}: the SVR and post-processing of the best
    (window length, C) by post-processed dev CCC, and every candidate's dev CCC."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVR

    best: dict = {t: None for t in targets}
    rows: dict = {t: [] for t in targets}
    for seconds in config.windows_s:
        size = window_size(seconds)
        z_train, mean, scale = _standardised(train, size, config)
        z_dev, _, _ = _standardised(dev, size, config, mean, scale)
        z_all = np.concatenate(z_train)
        for target in targets:
            y = np.concatenate([ex.y[target] for ex in train]).astype(np.float64)
            gold = [ex.y[target] for ex in dev]
            for c in config.complexities:
                svr = LinearSVR(C=c, epsilon=0.0, loss="epsilon_insensitive", dual=True,
                                max_iter=config.max_iter, random_state=0)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", ConvergenceWarning)
                    svr.fit(z_all, y - y.mean())
                coef = svr.coef_.astype(np.float64)
                intercept = float(svr.intercept_[0]) + float(y.mean())
                pred = [z @ coef + intercept for z in z_dev]
                pp = fit_postprocess(pred, gold, medians=(), scalings=SCALINGS)
                row = {"window_s": seconds, "window_frames": size, "C": c,
                       "dev_ccc_raw": ccc(np.concatenate(pred), np.concatenate(gold)),
                       "dev_ccc": pp.history["final"], "postprocess": pp.steps,
                       "converged": not any(issubclass(w.category, ConvergenceWarning)
                                            for w in caught)}
                rows[target].append(row)
                if best[target] is None or row["dev_ccc"] > best[target][0]["dev_ccc"]:
                    arrays = {"mean": mean, "scale": scale, "coef": coef,
                              "intercept": np.array(intercept)}
                    best[target] = (row, arrays, pp)
        say(f"  window {seconds:g} s: " + "  ".join(
            f"{t} best dev CCC {max(r['dev_ccc'] for r in rows[t] if r['window_s'] == seconds):.3f}"
            for t in targets))
    fits = {}
    for target in targets:
        row, arrays, pp = best[target]
        chosen = {"window_s": row["window_s"], "window_frames": row["window_frames"],
                  "C": row["C"], "dev_ccc_raw": row["dev_ccc_raw"], "dev_ccc": row["dev_ccc"],
                  "postprocess": pp.to_dict(), "steps": pp.steps,
                  "rule": "max post-processed dev CCC over every (window, C); post-processing "
                          "(delay, then bias or bias+scale) fitted on dev for each"}
        if not row["converged"]:
            warn(f"avec2016 {target}: the linear SVR chosen on dev (window {row['window_s']:g} "
                 f"s, C {row['C']:g}) stopped at max_iter={config.max_iter} before converging")
        say(f"  {target}: window {row['window_s']:g} s, C {row['C']:g}, "
            f"{', '.join(pp.steps) or 'no post-processing'} (dev CCC {row['dev_ccc']:.3f})")
        fits[target] = (arrays, chosen, rows[target])
    return fits


def predict(arrays: dict, chosen: dict, config: Config, examples: list[Example]) -> list:
    """(T,) float32 predictions per example: window statistics, the train scaler, the SVR,
    then the post-processing chosen on dev."""
    pp = PostProcess.from_dict(chosen["postprocess"])
    z, _, _ = _standardised(examples, chosen["window_frames"], config, arrays["mean"],
                            arrays["scale"])
    return [pp.apply_track(f.astype(np.float64) @ arrays["coef"] + float(arrays["intercept"]))
            .astype(np.float32) for f in z]
