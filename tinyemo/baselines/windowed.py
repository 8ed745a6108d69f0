"""Windowed-statistics ridge regression, in the manner of Povolny et al. (AVEC 2016): tinyemo's
own log-mel features summarised over centred windows of several lengths, stacked, and a
linear (ridge) regression; the window set and the penalty chosen on dev.

Features: the nets' inputs (:func:`tinyemo.data.examples.prepare`: 40 Kaldi log-mels every 10 ms,
speaker z-normalised, 4 frames stacked per 40 ms label, aligned to the labels), with the 4
stacked 10 ms frames averaged back to one 40-dim vector per 40 ms frame. Per window length:
mean, std and the ``percentiles`` of each of the 40 bands (:mod:`.windows`), i.e. 200
columns; a window set is a run of consecutive candidate lengths (1–2 s, 2–5 s, …, 1–20 s),
whose blocks are stacked side by side (5 lengths, 1000 columns at most).

Ridge: each column standardised with the train frames' mean and std, then
``w = argmin (1/n) Σ (y − ȳ − z·w)² + alpha ‖w‖²`` over the n train frames (``alpha`` per
frame: scikit-learn's ``Ridge(alpha=alpha · n)``), intercept ȳ. Every candidate (window set,
alpha) is solved and scored from moments: one pass over train and one over dev accumulates
Σx, Σxxᵀ, Σxy, Σy, Σy² for every candidate length at once, so the dev CCC of a candidate
(over the concatenated dev recordings, as AVEC scores it) is exact without storing a feature
matrix. No optional dependency.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from tinyemo.baselines.windows import (
    percentiles_rule, positives_rule, seconds_rule, check_window_sizes, stacked_statistics, statistic_names,
    window_size,
)
from tinyemo.data.examples import Example, prepare
from tinyemo.frontend import FbankOptions
from tinyemo.frontend.features import MIN_STD
from tinyemo.util.settings import check_fields

__all__ = ["Config", "check", "features", "fit", "predict", "Moments", "ridge_path",
           "ccc_from_moments"]

STACK = 4   # 10 ms frames per 40 ms label frame in the nets' inputs


@dataclass(frozen=True)
class Config:
    """Candidate window lengths (s), statistics and ridge penalties (per frame)."""

    windows_s: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 20.0)
    percentiles: tuple[float, ...] = (10.0, 50.0, 90.0)
    alphas: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
    fbank: FbankOptions = field(default_factory=FbankOptions)

    def __post_init__(self):
        check_fields(self, windows_s=seconds_rule, alphas=positives_rule, percentiles=percentiles_rule)
        object.__setattr__(self, "windows_s", tuple(sorted(float(s) for s in self.windows_s)))
        check_window_sizes(self.windows_s)

    def window_sets(self) -> list[tuple[float, ...]]:
        """Runs of consecutive candidate lengths, shortest runs first."""
        w = self.windows_s
        return [w[i:i + k] for k in range(1, len(w) + 1) for i in range(len(w) - k + 1)]

    def to_dict(self) -> dict:
        return {**asdict(self), "fbank": self.fbank.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        return cls(windows_s=tuple(d["windows_s"]), percentiles=tuple(d["percentiles"]),
                   alphas=tuple(d["alphas"]), fbank=FbankOptions(**d["fbank"]))


def check(training: bool) -> None:
    """Nothing optional is needed."""


def features(corpus, config: Config, progress=None, sample_rate: int | None = None
             ) -> dict[str, Example]:
    """The nets' inputs (audio resampled to ``sample_rate``) with the 4 stacked 10 ms frames
    averaged: x (40, T) per recording."""
    out = {}
    for key, ex in prepare(corpus, config.fbank, progress=progress,
                           sample_rate=sample_rate).items():
        c, t = ex.x.shape
        x = ex.x.reshape(STACK, c // STACK, t).mean(axis=0)        # (40, T)
        out[key] = Example(ex.recording, np.ascontiguousarray(x, np.float32), ex.y)
    return out


class Moments:
    """Running sums over frames of features ``x`` (P,) and targets ``y`` (K,), accumulated
    after subtracting a fixed ``shift`` from x (the first batch's mean) so that covariances
    do not cancel; :meth:`stats` returns (mean (P,), cov (P, P), y mean (K,), y var (K,),
    cross-cov (P, K)), population moments in float64."""

    def __init__(self):
        self.n = 0

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        x = np.asarray(x, np.float64)                                # (T, P)
        y = np.asarray(y, np.float64).reshape(len(x), -1)            # (T, K)
        if self.n == 0:
            self.shift = x.mean(axis=0)
            p, k = x.shape[1], y.shape[1]
            self.sx, self.sxx = np.zeros(p), np.zeros((p, p))
            self.sy, self.syy, self.sxy = np.zeros(k), np.zeros(k), np.zeros((p, k))
        xc = x - self.shift
        self.n += len(x)
        self.sx += xc.sum(axis=0)
        self.sxx += xc.T @ xc
        self.sy += y.sum(axis=0)
        self.syy += (y * y).sum(axis=0)
        self.sxy += xc.T @ y

    def stats(self):
        n = self.n
        m = self.sx / n
        my = self.sy / n
        return (m + self.shift, self.sxx / n - np.outer(m, m), my, self.syy / n - my**2,
                self.sxy / n - np.outer(m, my))


def _scale(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
    return np.where(sd < MIN_STD, 1.0, sd)


def ridge_path(cov: np.ndarray, cxy: np.ndarray, sd: np.ndarray, alphas) -> list[np.ndarray]:
    """Ridge weights on standardised columns for each alpha (per frame), from the train
    covariance (P, P), cross-covariance with the targets (P, K) and column scales (P,):
    ``W = (C_z + alpha I)⁻¹ C_zy`` (P, K), one Cholesky solve per alpha (an eigendecomposition
    shared by all alphas is several times slower at these sizes)."""
    from scipy.linalg import solve  # scipy loads on first use: import tinyemo stays light

    cz = cov / np.outer(sd, sd)
    czy = cxy / sd[:, None]
    eye = np.eye(len(cz))
    return [solve(cz + a * eye, czy, assume_a="pos") for a in alphas]


def ccc_from_moments(w: np.ndarray, mean: np.ndarray, sd: np.ndarray, intercept: float,
                     dev_mean, dev_cov, dev_ymean: float, dev_yvar: float, dev_cxy) -> float:
    """CCC over the dev frames of ``intercept + ((x − mean) / sd) · w``, from dev moments."""
    v = w / sd
    mp = intercept + (dev_mean - mean) @ v
    vp = v @ dev_cov @ v
    cov = v @ dev_cxy
    den = vp + dev_yvar + (mp - dev_ymean) ** 2
    return 1.0 if den == 0 else float(2 * cov / den)


def fit(train: list[Example], dev: list[Example], targets: tuple[str, ...], config: Config,
        say=print) -> dict:
    """{target: (arrays, chosen, selection)}: the ridge model of the best (window set, alpha)
    by dev CCC, the settings chosen and every candidate's dev CCC."""
    sizes = [window_size(s) for s in config.windows_s]
    bands = train[0].x.shape[0]
    width = bands * len(statistic_names(config.percentiles))   # columns per window length
    mom = {"train": Moments(), "dev": Moments()}
    for part, exs in (("train", train), ("dev", dev)):
        for ex in exs:
            y = np.stack([ex.y[t] for t in targets], axis=1)
            mom[part].add(stacked_statistics(ex.x.T, sizes, config.percentiles), y)
    mu, cov, my, _, cxy = mom["train"].stats()
    d_mu, d_cov, d_my, d_vy, d_cxy = mom["dev"].stats()
    sd = _scale(cov)
    rows = {t: [] for t in targets}
    for lengths in config.window_sets():
        idx = np.concatenate([np.arange(k * width, (k + 1) * width)
                              for k in (config.windows_s.index(s) for s in lengths)])
        sub = np.ix_(idx, idx)
        dev_cov = d_cov[sub]
        for alpha, w in zip(config.alphas, ridge_path(cov[sub], cxy[idx], sd[idx], config.alphas)):
            for k, target in enumerate(targets):
                dev_ccc = ccc_from_moments(w[:, k], mu[idx], sd[idx], my[k], d_mu[idx], dev_cov,
                                           d_my[k], d_vy[k], d_cxy[idx, k])
                rows[target].append({"windows_s": list(lengths), "alpha": alpha,
                                     "dev_ccc": dev_ccc, "_w": w[:, k], "_idx": idx})
    fits = {}
    for k, target in enumerate(targets):
        best = max(rows[target], key=lambda r: r["dev_ccc"])
        idx = best["_idx"]
        arrays = {"mean": mu[idx], "scale": sd[idx], "coef": best["_w"],
                  "intercept": np.array(my[k])}
        chosen = {"windows_s": best["windows_s"], "alpha": best["alpha"],
                  "dev_ccc": best["dev_ccc"], "features": len(idx),
                  "rule": "max dev CCC over every (window set, alpha)"}
        say(f"  {target}: windows {best['windows_s']} s, alpha {best['alpha']:g} "
            f"(dev CCC {best['dev_ccc']:.3f}, {len(rows[target])} candidates)")
        fits[target] = (arrays, chosen, [{k2: v for k2, v in r.items() if not k2.startswith("_")}
                                         for r in rows[target]])
    return fits


def predict(arrays: dict, chosen: dict, config: Config, examples: list[Example]) -> list:
    """(T,) float32 predictions per example with a fitted model."""
    sizes = [window_size(s) for s in chosen["windows_s"]]
    out = []
    for ex in examples:
        f = stacked_statistics(ex.x.T, sizes, config.percentiles).astype(np.float64)
        z = (f - arrays["mean"]) / arrays["scale"]
        out.append((float(arrays["intercept"]) + z @ arrays["coef"]).astype(np.float32))
    return out
