"""The label statistics behind Figure 4 and the synthetic corpus's calibration
(tinyemo.data.latents), each against an independent computation on known signals."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from tinyemo.data.latents import acf_halftime, annotator_agreement, spline_rebuild_ccc


def ccc64(x, y):
    """CCC with population moments, written out (the paper's formula)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    return 2 * cov / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)


def tracks():
    """Three recordings of slow sinusoids plus faster wiggles, lengths that are not a multiple
    of the factors (so the last frame is never a kept frame)."""
    rng = np.random.default_rng(0)
    out = []
    for n in (1000, 1338, 2250):
        t = np.arange(n) * 0.04
        x = np.sin(2 * np.pi * t / rng.uniform(8, 15)) + 0.3 * np.sin(2 * np.pi * t / 1.7 + 1.0)
        out.append(x + 0.05 * np.cumsum(rng.standard_normal(n)) / np.sqrt(n))
    return out


@pytest.mark.parametrize("factor", [4, 16, 64, 128])
def test_spline_rebuild_keeps_every_fth_frame_only(factor):
    ts = tracks()
    rebuilt = []
    for x in ts:       # independent: scipy's CubicSpline through x[0], x[f], x[2f], ... only
        kept = x[::factor]
        rebuilt.append(CubicSpline(factor * np.arange(len(kept)), kept)(np.arange(len(x))))
    expected = ccc64(np.concatenate(ts), np.concatenate(rebuilt))
    assert spline_rebuild_ccc(ts, factor) == pytest.approx(expected, rel=1e-12)
    # the old rule (the last frame added as an extra knot) gives another number
    extra = []
    for x in ts:
        knots = np.append(np.arange(0, len(x), factor), len(x) - 1)
        extra.append(CubicSpline(knots, x[knots])(np.arange(len(x))))
    assert abs(ccc64(np.concatenate(ts), np.concatenate(extra)) - expected) > 1e-9


def test_spline_rebuild_of_a_cubic_is_exact():
    """A not-a-knot spline reproduces a cubic everywhere, extrapolation included."""
    t = np.arange(777) / 777.0
    x = 2 * t ** 3 - 3 * t ** 2 + 0.5 * t - 1
    assert spline_rebuild_ccc([x, x[::-1].copy()], 64) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="fewer than 2 knots"):
        spline_rebuild_ccc([x[:50]], 64)


def halftime_by_hand(x):
    """First lag (s) where the biased autocorrelation of mean-removed x reaches 0.5."""
    d = x - x.mean()
    r = np.correlate(d, d, mode="full")[len(d) - 1:]
    return np.nonzero(r <= 0.5 * r[0])[0][0] * 0.04


def test_acf_halftime_is_the_median_of_the_recordings():
    t = np.arange(3000) * 0.04
    ts = [np.cos(2 * np.pi * t / period) for period in (12.0, 30.0, 24.0)]
    each = [halftime_by_hand(x) for x in ts]
    assert each[0] < each[2] < each[1] and each[2] == pytest.approx(24.0 / 6, abs=0.2)
    assert acf_halftime(ts) == pytest.approx(each[2], abs=1e-9)          # the middle one
    assert [acf_halftime([x]) for x in ts] == pytest.approx(each, abs=1e-9)
    # pooling the recordings' autocorrelations instead gives another number
    pooled = sum(np.correlate(x - x.mean(), x - x.mean(), "full")[len(x) - 1:] for x in ts)
    assert abs(np.nonzero(pooled <= 0.5 * pooled[0])[0][0] * 0.04 - each[2]) > 0.3


def test_annotator_agreement_two_definitions():
    rng = np.random.default_rng(1)
    gold, ratings = [], []
    for n, offset in ((500, 0.0), (800, 0.6), (650, -0.4)):
        g = np.sin(np.arange(n) / 40.0) + offset
        r = g[:, None] + rng.normal(0, 0.4, (n, 3)) + np.array([0.2, -0.1, 0.3]) * (offset + 1)
        gold.append(g)
        ratings.append(r)
    got = annotator_agreement(gold, ratings)
    allg, allr = np.concatenate(gold), np.concatenate(ratings)
    assert got["concatenated"] == pytest.approx(
        np.mean([ccc64(allr[:, a], allg) for a in range(3)]), rel=1e-12)
    assert got["per_recording_mean"] == pytest.approx(
        np.mean([ccc64(r[:, a], g) for g, r in zip(gold, ratings) for a in range(3)]), rel=1e-12)
    # between-recording offsets that raters follow count in the concatenated CCC only
    assert got["concatenated"] > got["per_recording_mean"] + 0.02
