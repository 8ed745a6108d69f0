"""AVEC-style post-processing: each step does what it says, in numbers, and a step that does
not raise dev CCC is not kept."""
from __future__ import annotations

import numpy as np
import pytest

from tinyemo.baselines.postprocess import PostProcess, fit_postprocess, shift_track
from tinyemo.util.metrics import ccc


def _slow(rng, n, width=60):
    """A slow, label-like track: white noise smoothed over ``width`` frames."""
    x = np.convolve(rng.standard_normal(n + width), np.ones(width) / width, "valid")[:n]
    return 0.2 * x / x.std()


def test_shift_track_delays_with_edge_padding():
    y = np.arange(6.0)
    np.testing.assert_array_equal(shift_track(y, 2), [0, 0, 0, 1, 2, 3])
    np.testing.assert_array_equal(shift_track(y, -2), [2, 3, 4, 5, 5, 5])
    np.testing.assert_array_equal(shift_track(y, 0), y)


def test_a_known_annotation_delay_is_recovered_on_dev_and_applies_to_test():
    rng = np.random.default_rng(0)
    lag = 75                                    # 3 s: the gold standard lags the speech
    latent = [_slow(rng, 2000 + lag) for _ in range(4)]
    gold = [z[:2000] for z in latent]           # gold[t] = latent[t - lag] (reindexed)
    preds = [z[lag:lag + 2000] for z in latent]  # the model sees the speech: no lag
    pp = fit_postprocess(preds[:3], gold[:3])
    assert pp.shift == lag
    assert pp.history["none"] < 0.6 and pp.history["final"] > 0.95   # edges are padded
    test = pp.apply(preds[3:])
    assert ccc(test[0][lag:], gold[3][lag:]) == pytest.approx(1.0, abs=1e-9)


def test_median_filter_removes_a_spike():
    y = np.zeros(50)
    y[20] = 10.0
    out = PostProcess(median=5).apply(y)
    np.testing.assert_array_equal(out, np.zeros(50))
    step = np.r_[np.zeros(25), np.ones(25)]     # and keeps an edge where it is
    np.testing.assert_array_equal(PostProcess(median=5).apply(step), step)


def test_median_filter_is_chosen_for_spiky_predictions():
    rng = np.random.default_rng(1)
    gold = [_slow(rng, 3000) for _ in range(3)]
    preds = []
    for g in gold:
        p = g.copy()
        spikes = rng.choice(len(p), 150, replace=False)
        p[spikes] += rng.choice([-1.0, 1.0], 150)   # 5 % of frames off by 5 std
        preds.append(p)
    pp = fit_postprocess(preds, gold, shifts=(0,))
    assert pp.median > 1 and pp.history["median"]["kept"]
    assert pp.history["final"] > 0.95 > pp.history["none"]


def test_scale_correction_reaches_the_gold_mean_and_std():
    rng = np.random.default_rng(2)
    gold = [_slow(rng, 2500) + 0.1 for _ in range(3)]
    preds = [0.3 * g + 0.5 for g in gold]         # right shape, wrong scale and offset
    pp = fit_postprocess(preds, gold, shifts=(0,), medians=(3,))
    assert pp.scaling in ("std", "linear") and pp.shift == 0 and pp.median == 1
    out = np.concatenate(pp.apply(preds))
    g = np.concatenate(gold)
    assert out.std() == pytest.approx(g.std(), rel=1e-9)
    assert out.mean() == pytest.approx(g.mean(), abs=1e-12)
    assert pp.history["none"] < 0.2 and pp.history["final"] == pytest.approx(1.0, abs=1e-9)


def test_a_step_that_does_not_help_is_not_kept():
    rng = np.random.default_rng(3)
    gold = [_slow(rng, 2000) for _ in range(3)]
    noisy = [g + 0.05 * _slow(rng, 2000, width=200) for g in gold]  # slow error: no step helps
    pp = fit_postprocess(noisy, gold)
    assert (pp.shift, pp.median, pp.scaling) == (0, 1, "none")
    assert pp.steps == []
    assert not any(pp.history[k]["kept"] for k in ("shift", "median", "scaling"))
    assert pp.history["final"] == pp.history["none"]
    np.testing.assert_array_equal(pp.apply(noisy[0]), noisy[0])


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="shape"):
        fit_postprocess([np.zeros(10)], [np.zeros(11)])
    with pytest.raises(ValueError, match="non-empty"):
        fit_postprocess([], [])
    with pytest.raises(ValueError, match="odd"):
        PostProcess(median=4)
    pp = PostProcess(shift=3, median=5, scaling="std", a=2.0, b=0.1)
    assert PostProcess.from_dict(pp.to_dict()) == pp
