"""openSMILE's eGeMAPS descriptors on the filterbanks' frame grid: the framing the module
docstring states (read from openSMILE's own configuration and measured on process_signal), the
row-for-row mapping to Kaldi's fbank frames, the NaN/inf rule, the cache, the errors."""
from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import tinyemo.frontend.descriptors as desc
from tinyemo.frontend import FbankOptions, FeatureCache, extract, fbank, read_audio
from tinyemo.frontend.audio import INT16_SCALE, resample
from tinyemo.frontend.descriptors import (
    LLD_DIMS, descriptors, extract_descriptors, extract_features, feature_dims, opensmile_frames,
)

opensmile = pytest.importorskip("opensmile")

SPEECH = Path(__file__).parents[1] / "testdata" / "speech" / "arctic_a0007.wav"


def _smile():
    return opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                           feature_level=opensmile.FeatureLevel.LowLevelDescriptors)


def _speech(n: int | None = None) -> np.ndarray:
    samples, _ = read_audio(SPEECH)
    return samples[:n] if n else samples


def _direct(samples: np.ndarray, rate: int) -> pd.DataFrame:
    """openSMILE called as its documentation shows (float samples in [-1, 1))."""
    with warnings.catch_warnings():       # "Segment too short, filling with NaN."
        warnings.simplefilter("ignore", UserWarning)
        return _smile().process_signal((samples / INT16_SCALE).astype(np.float32), rate)


def test_the_configuration_frames_every_10_ms_from_the_frame_start():
    """What the docstring reads from openSMILE's files: two framers, 20 ms and 60 ms, 10 ms
    step, time stamp = frame start (frameCenterSpecial = left)."""
    conf = Path(opensmile.__file__).parent / "core/config/gemaps/v01b/GeMAPSv01b_core.lld.conf.inc"
    sections = re.split(r"^\[", conf.read_text(), flags=re.M)
    framers = [dict(re.findall(r"^(frameSize|frameStep|frameCenterSpecial) = (\S+)", sec, re.M))
               for sec in sections if re.match(r"\w+:cFramer\]", sec)]
    assert sorted((float(f["frameSize"]), float(f["frameStep"]), f["frameCenterSpecial"])
                  for f in framers) == [(0.020, 0.010, "left"), (0.060, 0.010, "left")]
    v02 = Path(opensmile.__file__).parent / "core/config/egemaps/v02/eGeMAPSv02.conf"
    assert "GeMAPSv01b_core.lld.conf.inc" in v02.read_text()


@pytest.mark.parametrize("rate", [8000, 16000, 44100])
def test_process_signal_frame_count_and_times(rate):
    """The measured count floor((N - 0.05 rate) / hop) + 1 (N >= 0.06 rate; else one row of
    NaN), every row starting at 0.01 i s."""
    rng = np.random.default_rng(rate)
    for seconds in (0.03, 0.059, 0.06, 0.07, 0.1, 0.5, 1.0, 1.013, 1.027, 2.0049):
        n = int(round(seconds * rate))
        x = rng.standard_normal(n) * 3000.0
        frames = _direct(x, rate)
        assert len(frames) == opensmile_frames(n, rate), (rate, n)
        start = frames.index.get_level_values("start").total_seconds().to_numpy()
        np.testing.assert_allclose(start, 0.01 * np.arange(len(frames)), atol=1e-9)
        assert np.isnan(frames.to_numpy()).all() == (n < 0.06 * rate)
        assert frames.shape[1] == LLD_DIMS


@pytest.mark.parametrize("n", [400, 559, 560, 960, 1599, 1600, 16000, 16159, 16160, 64000])
def test_descriptors_sit_on_the_fbank_frames(n):
    """Row i ← openSMILE's row i; as many rows as Kaldi fbank frames of the same samples;
    rows openSMILE does not emit repeat its last row."""
    x = _speech(n)
    opts = FbankOptions(dither=0.0)
    got = descriptors(x, 16000, opts)
    kaldi = fbank(x, 16000, options=opts)
    assert got.shape == (kaldi.shape[0], LLD_DIMS) and got.dtype == np.float32
    theirs = np.nan_to_num(_direct(x, 16000).to_numpy(np.float32), nan=0.0)
    k = min(len(theirs), len(got))
    np.testing.assert_array_equal(got[:k], theirs[:k])
    np.testing.assert_array_equal(got[k:], np.repeat(theirs[-1:], len(got) - k, axis=0))
    if n >= 960:                      # 25 ms against openSMILE's 50 ms offset: 2 or 3 rows
        assert kaldi.shape[0] - opensmile_frames(n, 16000) in (2, 3)


def test_one_hop_of_delay_moves_both_front_ends_by_one_row():
    """The grids agree in time: 10 ms of silence in front moves every fbank frame and every
    frame-local descriptor (loudness, spectral slopes, MFCCs) by exactly one row."""
    x = _speech(32000)
    y = np.concatenate([np.zeros(160), x])
    opts = FbankOptions(dither=0.0)
    np.testing.assert_allclose(fbank(y, 16000, options=opts)[1:], fbank(x, 16000, options=opts),
                               rtol=1e-5, atol=1e-4)
    a, b = descriptors(x, 16000, opts), descriptors(y, 16000, opts)
    local = [0, 3, 4, 6, 7, 8, 9]      # loudness, slopes, MFCC 1–4: no voicing decision
    rows = slice(3, opensmile_frames(x.size, 16000) - 1)
    np.testing.assert_allclose(b[1:][rows, local], a[rows, local], rtol=1e-4, atol=1e-4)


def test_unvoiced_frames_keep_opensmiles_values_and_nan_becomes_zero(monkeypatch):
    x = _speech()
    got = descriptors(x, 16000)
    unvoiced = got[:, 10] == 0                     # F0 (semitones from 27.5 Hz)
    assert 0 < unvoiced.sum() < len(got)
    assert (got[unvoiced][:, [11, 12, 13, 14, 15]] == 0).all()  # jitter … H1–A3
    assert np.isfinite(got).all()
    short = descriptors(x[:500], 16000)            # one 25 ms frame; openSMILE: a NaN row
    assert short.shape == (1, LLD_DIMS) and (short == 0).all()
    silence = descriptors(np.zeros(16000), 16000)
    assert np.isfinite(silence).all()

    class Fake:                                    # the rule for inf as well
        def process_signal(self, signal, rate):
            values = np.arange(3 * LLD_DIMS, dtype=np.float64).reshape(3, LLD_DIMS) + 1
            values[0, 1], values[1, 2], values[2, 3] = np.inf, -np.inf, np.nan
            return pd.DataFrame(values)
    monkeypatch.setattr(desc, "_smile", lambda: Fake())
    got = descriptors(x[:880], 16000)             # 4 fbank frames, 3 rows
    assert got.shape == (4, LLD_DIMS)
    assert got[0, 1] == got[1, 2] == got[2, 3] == 0 and got[3, 3] == 0
    np.testing.assert_array_equal(got[3], got[2])
    assert got[0, 0] == 1 and got[2, 4] == 2 * LLD_DIMS + 5


@pytest.mark.parametrize("change, message", [
    ({"frame_shift": 20.0}, "frame_shift=20 ms"),
    ({"snip_edges": False}, "snip_edges=False"),
])
def test_other_grids_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        descriptors(_speech(16000), 16000, FbankOptions(**change))


def test_rates_off_the_10_ms_sample_grid_are_refused(tmp_path):
    with pytest.raises(ValueError, match="multiple of 100 Hz.*22050 Hz"):
        descriptors(np.zeros(22050), 22050)
    sf.write(tmp_path / "a.wav", np.zeros(22050, np.int16), 22050, subtype="PCM_16")
    with pytest.raises(ValueError, match=rf"{tmp_path / 'a.wav'}: openSMILE"):
        extract_descriptors(tmp_path / "a.wav", cache=False)


def test_resampled_first_as_the_filterbanks_are(tmp_path):
    x = _speech()
    y = resample(x, 16000, 22050)
    sf.write(tmp_path / "a.wav", np.clip(np.round(y), -32768, 32767).astype(np.int16), 22050,
             subtype="PCM_16")
    got = extract_descriptors(tmp_path / "a.wav", cache=False, sample_rate=16000)
    samples, rate = read_audio(tmp_path / "a.wav", sample_rate=16000)
    np.testing.assert_array_equal(got, descriptors(samples, rate))
    assert got.shape[0] == extract(tmp_path / "a.wav", cache=False, sample_rate=16000).shape[0]


def test_cached_by_audio_bytes_and_every_option(tmp_path):
    cache = FeatureCache(tmp_path / "cache")
    wav = tmp_path / "a.wav"
    sf.write(wav, _speech(24000).astype(np.int16), 16000, subtype="PCM_16")
    first = extract_descriptors(wav, cache=cache)
    assert (cache.hits, cache.misses) == (0, 1)
    np.testing.assert_array_equal(extract_descriptors(wav, cache=cache), first)
    assert cache.hits == 1
    extract_descriptors(wav, FbankOptions(frame_length=20.0), cache=cache)   # another grid
    extract_descriptors(wav, cache=cache, sample_rate=8000)
    assert (cache.hits, cache.misses) == (1, 3)
    sf.write(wav, _speech(24000)[::-1].astype(np.int16), 16000, subtype="PCM_16")
    changed = extract_descriptors(wav, cache=cache)
    assert cache.misses == 4 and not np.array_equal(changed, first)
    # the log-mels of the same file are another entry of the same cache
    np.testing.assert_array_equal(extract(wav, cache=cache), extract(wav, cache=False))


def test_features_put_each_frames_filterbanks_then_descriptors_side_by_side(tmp_path):
    both = extract_features(SPEECH, "fbank+lld", cache=False)
    fb, lld = extract(SPEECH, cache=False), extract_descriptors(SPEECH, cache=False)
    np.testing.assert_array_equal(both, np.concatenate([fb, lld], axis=1))
    np.testing.assert_array_equal(extract_features(SPEECH, "lld", cache=False), lld)
    np.testing.assert_array_equal(extract_features(SPEECH, "fbank", cache=False), fb)
    assert [feature_dims(f) for f in ("fbank", "lld", "fbank+lld")] == [40, 25, 65]
    assert feature_dims("fbank+lld", FbankOptions(num_mel_bins=23, use_energy=True)) == 49
    with pytest.raises(ValueError,
                       match="features must be one of fbank, lld, fbank\\+lld, got 'mfcc'"):
        extract_features(SPEECH, "mfcc")


def test_missing_opensmile_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "opensmile", None)
    desc._smile.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"pip install 'tinyemo\[baselines\]'"):
            descriptors(_speech(16000), 16000)
    finally:
        desc._smile.cache_clear()
    np.testing.assert_array_equal(extract_features(SPEECH, "fbank", cache=False),
                                  extract(SPEECH, cache=False))   # fbank never needs it
