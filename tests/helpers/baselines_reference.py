"""Slow, obviously-correct references for the baselines' window statistics: a loop over frames
that builds each centred window (edges repeated) and computes each statistic directly."""
from __future__ import annotations

import numpy as np


def window_statistics(x: np.ndarray, size: int, percentiles) -> np.ndarray:
    """(T, D) → (T, D · (2 + len(percentiles))) float64: per frame and column, the mean, the
    population std and each percentile p as the element of rank ⌊size·p/100⌋ (capped at the
    last) of the sorted window of ``size`` frames centred on the frame, frames beyond the ends
    replaced by the first or last frame."""
    x = np.asarray(x, np.float64)
    t, d = x.shape
    h = size // 2
    rows = []
    for i in range(t):
        idx = [min(max(j, 0), t - 1) for j in range(i - h, i + h + 1)]
        window = x[idx]                                            # (size, D)
        stats = [window.mean(axis=0), window.std(axis=0)]
        ordered = np.sort(window, axis=0)
        for p in percentiles:
            stats.append(ordered[min(int(size * p / 100.0), size - 1)])
        rows.append(np.concatenate(stats))
    return np.array(rows)
