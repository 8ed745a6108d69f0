"""How much of a sweep's choice is luck: a bootstrap over the dev recordings of the trials' dev
CCC, and the one-standard-error rule.

Each complete trial leaves its seeds' dev predictions (``dev-predictions.npz``: the best
weights' predictions, concatenated, with the recordings' lengths and the labels). A bootstrap
draw resamples the dev recordings with replacement and scores every trial on the same draw
(paired: differences between trials are measured on the same recordings) with the trial's own
statistic, the mean over seeds of the CCC over the drawn recordings concatenated. CCC is
computed from each recording's sums (n, Σy, Σŷ, Σy², Σŷ², Σyŷ), so a draw costs no copy.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyemo.util.fileio import save_npz

__all__ = ["DRAWS", "PREDICTIONS", "save_predictions", "Bootstrap", "bootstrap", "bootstrap_sums",
           "recording_sums", "draws_of", "simplest_within_1se"]

DRAWS = 1000
PREDICTIONS = "dev-predictions.npz"


def save_predictions(folder: Path, per_seed: dict[int, list], labels: list) -> None:
    """``folder/dev-predictions.npz``: each seed's predictions per dev recording and the labels."""
    save_npz(Path(folder) / PREDICTIONS, lengths=np.array([len(y) for y in labels]),
             target=np.concatenate(labels).astype(np.float64),
             **{f"seed{s}": np.concatenate(p).astype(np.float64) for s, p in per_seed.items()})


def recording_sums(pairs) -> np.ndarray:
    """(recordings, 6): n, Σy, Σŷ, Σy², Σŷ², Σyŷ of each (prediction ŷ, gold y) pair."""
    out = np.zeros((len(pairs), 6))
    for r, (pp, yy) in enumerate(pairs):
        pp, yy = np.asarray(pp, np.float64), np.asarray(yy, np.float64)
        out[r] = (yy.size, yy.sum(), pp.sum(), yy @ yy, pp @ pp, yy @ pp)
    return out


def _sums(folder: Path) -> np.ndarray:
    """(seeds, recordings, 6): per seed and recording n, Σy, Σŷ, Σy², Σŷ², Σyŷ."""
    with np.load(Path(folder) / PREDICTIONS) as f:
        bounds = np.cumsum(np.concatenate([[0], f["lengths"]]))
        y = f["target"]
        preds = [f[k] for k in sorted(f.files) if k.startswith("seed")]
    spans = list(zip(bounds[:-1], bounds[1:]))
    return np.stack([recording_sums([(p[a:b], y[a:b]) for a, b in spans]) for p in preds])


def _ccc(sums: np.ndarray) -> np.ndarray:
    """CCC from summed statistics (..., 6), population moments (as util.metrics.ccc)."""
    n, sy, sp, syy, spp, syp = np.moveaxis(sums, -1, 0)
    my, mp = sy / n, sp / n
    vy, vp, cov = syy / n - my ** 2, spp / n - mp ** 2, syp / n - my * mp
    den = vy + vp + (my - mp) ** 2
    return np.where(den == 0, 1.0, 2 * cov / np.where(den == 0, 1.0, den))


def draws_of(recordings: int, seed: int, draws: int = DRAWS) -> np.ndarray:
    """(draws, recordings): how often each recording is drawn in each bootstrap resample."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, recordings, size=(draws, recordings))
    return np.stack([np.bincount(row, minlength=recordings) for row in picks])


@dataclass(frozen=True)
class Bootstrap:
    """One trial's dev CCC (mean over seeds) on every draw, and on all the dev recordings;
    ``seeds``: each seed's CCC on all of them."""

    value: float
    draws: np.ndarray
    seeds: np.ndarray

    @property
    def seed_std(self) -> float:
        """The seed spread: the (population) standard deviation over seeds."""
        return float(np.std(self.seeds))

    @property
    def interval(self) -> tuple[float, float]:
        return tuple(float(v) for v in np.percentile(self.draws, [2.5, 97.5]))

    @property
    def se(self) -> float:
        """The bootstrap standard error."""
        return float(np.std(self.draws))

    def minus(self, other: "Bootstrap") -> tuple[float, float, float]:
        """This trial's dev CCC minus ``other``'s and the 95 % interval of the paired difference."""
        low, high = np.percentile(self.draws - other.draws, [2.5, 97.5])
        return self.value - other.value, float(low), float(high)


def bootstrap(folder: Path, counts: np.ndarray) -> Bootstrap:
    """The bootstrap of the trial in ``folder`` over the resamples ``counts`` (``draws_of``)."""
    return bootstrap_sums(_sums(folder), counts)


def bootstrap_sums(sums: np.ndarray, counts: np.ndarray) -> Bootstrap:
    """The bootstrap of per-seed, per-recording sums (seeds, recordings, 6) over ``counts``."""
    drawn = np.einsum("dr,srk->dsk", counts.astype(np.float64), sums)
    seeds = _ccc(sums.sum(axis=1))
    return Bootstrap(float(np.mean(seeds)), np.mean(_ccc(drawn), axis=1), seeds)


def simplest_within_1se(scored: list[tuple[object, float, int]], se: float):
    """The one-standard-error rule: of ``scored`` (trial, dev CCC, weights), those within ``se``
    of the best, the one with the fewest weights (ties: the higher dev CCC, then the earlier)."""
    best = max(value for _, value, _ in scored)
    near = [(weights, -value, i) for i, (_, value, weights) in enumerate(scored)
            if value >= best - se]
    return scored[min(near)[2]][0]
