"""Scores as AVEC 2016 computes them: CCC, RMSE and Pearson's r over a partition's recordings
concatenated (and per recording). float64 throughout; inputs are 1-D arrays or lists of them."""
from __future__ import annotations

import numpy as np

__all__ = ["ccc", "rmse", "pearson", "score", "score_per_recording"]


def ccc(prediction, target) -> float:
    """Concordance correlation coefficient (population moments); 1 for two equal constants."""
    x, y = np.asarray(prediction, np.float64), np.asarray(target, np.float64)
    den = x.var() + y.var() + (x.mean() - y.mean()) ** 2
    return 1.0 if den == 0 else float(2 * np.mean((x - x.mean()) * (y - y.mean())) / den)


def rmse(prediction, target) -> float:
    x, y = np.asarray(prediction, np.float64), np.asarray(target, np.float64)
    return float(np.sqrt(np.mean((x - y) ** 2)))


def pearson(prediction, target) -> float:
    x, y = np.asarray(prediction, np.float64), np.asarray(target, np.float64)
    sx, sy = x.std(), y.std()
    return 0.0 if sx == 0 or sy == 0 else float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy))


def score(predictions: list, targets: list) -> dict:
    """{"ccc", "rmse", "pearson"} over the concatenation of the recordings (AVEC's way)."""
    if len(predictions) != len(targets) or not predictions:
        raise ValueError(f"need matching, non-empty lists (got {len(predictions)} predictions "
                         f"and {len(targets)} targets)")
    x, y = np.concatenate(predictions), np.concatenate(targets)
    return {"ccc": ccc(x, y), "rmse": rmse(x, y), "pearson": pearson(x, y)}


def score_per_recording(predictions: list, targets: list) -> dict:
    """Mean and standard deviation over recordings of each recording's own scores."""
    rows = [score([p], [t]) for p, t in zip(predictions, targets)]
    return {f"{k}_{stat}": float(fn([r[k] for r in rows]))
            for k in ("ccc", "rmse", "pearson") for stat, fn in (("mean", np.mean), ("std", np.std))}
