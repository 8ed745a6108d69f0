"""Statistics of per-frame descriptors over sliding windows centred on each 40 ms frame: the
features of the windowed-statistics baselines (Valstar et al., 2016; Povolny et al., 2016).

A window of ``size`` frames (odd, ``size = 2 h + 1``) centred on frame ``t`` covers frames
``t − h … t + h``; frames beyond either end of the recording are the first or last frame
repeated (SciPy's ``mode="nearest"``), so every window holds ``size`` values. For each column
of ``x`` (T, D) and each frame:

- **mean** and **std** (population): prefix sums of ``x`` and ``x²`` over the edge-padded
  track, ``S[t + size] − S[t]``, in float64 after removing the column's mean (so ``E[x²] −
  E[x]²`` does not cancel for descriptors far from zero): O(T) per column, any window length;
- **percentile p**: the order statistic of rank ``⌊size · p / 100⌋`` (0-based; p = 100 is the
  maximum) of the window's sorted values, no interpolation. Computed by
  :func:`scipy.ndimage.percentile_filter` on each column as a 1-D signal, which SciPy runs as
  a running-window rank filter in C, O(T log size) per column (not a sort per window).

``tests/helpers/baselines_reference.py`` holds the slow loop that defines the same numbers.
"""
from __future__ import annotations

import numpy as np

from tinyemo.data.grid import FRAME_S
from tinyemo.util.settings import SettingError

__all__ = ["check_windows_fit", "window_size", "window_statistics", "stacked_statistics",
           "statistic_names", "check_window_sizes"]


def window_size(seconds: float) -> int:
    """Frames of a centred window about ``seconds`` long: ``2 · round(seconds / 0.08) + 1``
    (4 s → 101 frames); at least 1."""
    if not np.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"window length must be a positive number of seconds, got {seconds!r}")
    return 2 * int(round(seconds / (2 * FRAME_S))) + 1


def check_windows_fit(windows_s, longest_s: float) -> None:
    """Windows longer than the longest recording summarise whole recordings (the same row for
    every frame) at a cost that grows with their length: SettingError (``--windows``)."""
    too_long = [s for s in windows_s if s > longest_s]
    if too_long:
        raise SettingError("windows_s", f"{', '.join(f'{s:g}' for s in too_long)} s: longer "
                           f"than the longest recording ({longest_s:g} s), whose statistics "
                           f"such a window would repeat for every frame; give windows of at "
                           f"most {longest_s:g} s")


def check_window_sizes(windows_s) -> None:
    """Candidate window lengths must give distinct window sizes: SettingError (``windows_s``,
    the command line's ``--windows``) otherwise."""
    sizes = [window_size(s) for s in windows_s]
    if len(set(sizes)) != len(sizes):
        raise SettingError("windows_s", f"need distinct window lengths (each rounds to an odd "
                           f"number of 40 ms frames), got {list(windows_s)} s → {sizes} frames")


# rules for the baselines' settings (tinyemo.util.settings.check_fields)
def seconds_rule(v):
    if not v:
        return "must list at least one value"
    bad = [s for s in v if not s > 0]
    return f"must be positive numbers of seconds, got {list(v)}" if bad else None


def positives_rule(v):
    return None if v and min(v) > 0 else f"must be positive numbers, got {list(v)}"


def percentiles_rule(v):
    return None if all(0 <= p <= 100 for p in v) else f"must lie in [0, 100], got {list(v)}"


def statistic_names(percentiles) -> list[str]:
    """Names of the statistics, in column-block order: mean, std, p<percentile>…"""
    return ["mean", "std"] + [f"p{p:g}" for p in percentiles]


def window_statistics(x: np.ndarray, size: int, percentiles=(10, 50, 90)) -> np.ndarray:
    """(T, D) per-frame descriptors → (T, D · (2 + len(percentiles))) float32 window statistics:
    blocks of D columns in the order of :func:`statistic_names` (see the module docstring)."""
    from scipy.ndimage import percentile_filter  # scipy loads on first use: import tinyemo stays light

    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"descriptors must be (frames, dims) with frames > 0, got {x.shape}")
    if int(size) != size or size < 1 or size % 2 == 0:
        raise ValueError(f"window size must be an odd number of frames >= 1, got {size!r}")
    for p in percentiles:
        if not 0 <= p <= 100:
            raise ValueError(f"percentiles must lie in [0, 100], got {p!r}")
    t, d = x.shape
    h = size // 2
    centred = x.astype(np.float64) - x.mean(axis=0, dtype=np.float64)      # (T, D)
    padded = np.pad(centred, ((h, h), (0, 0)), mode="edge")                   # (T + 2h, D)
    out = np.empty((t, d * (2 + len(percentiles))), np.float32)
    s1 = np.concatenate([np.zeros((1, d)), np.cumsum(padded, axis=0)])        # (T + 2h + 1, D)
    s2 = np.concatenate([np.zeros((1, d)), np.cumsum(padded**2, axis=0)])
    mean = (s1[size:] - s1[:-size]) / size                                    # (T, D)
    var = (s2[size:] - s2[:-size]) / size - mean**2
    out[:, :d] = mean + x.mean(axis=0, dtype=np.float64)
    out[:, d:2 * d] = np.sqrt(np.maximum(var, 0.0))
    xf = np.ascontiguousarray(x.T, dtype=np.float32)                          # (D, T)
    for k, p in enumerate(percentiles):
        block = out[:, (2 + k) * d:(3 + k) * d]
        for j in range(d):
            block[:, j] = percentile_filter(xf[j], p, size=size, mode="nearest")
    return out


def stacked_statistics(x: np.ndarray, sizes, percentiles=(10, 50, 90)) -> np.ndarray:
    """:func:`window_statistics` for each window size in ``sizes``, side by side:
    (T, len(sizes) · D · (2 + len(percentiles))) float32."""
    return np.concatenate([window_statistics(x, s, percentiles) for s in sizes], axis=1)
