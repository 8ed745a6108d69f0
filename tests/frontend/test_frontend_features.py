"""Audio reading, dither, frame stacking, label alignment, speaker normalisation, feature cache."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyemo.frontend.cache as cache_mod
from tinyemo.frontend import (
    FbankOptions, FeatureCache, align_to_labels, extract, fbank, read_audio, speaker_normalise,
    stack_frames,
)

RATE = 16000


def tone(n: int = RATE, freq: float = 440.0, amp: float = 0.3, rate: int = RATE) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)


# --- audio ---------------------------------------------------------------------------------

def test_read_audio_int16_scale_and_formats(tmp_path):
    ints = np.array([0, 1, -1, 32767, -32768, 1234], dtype=np.int16)
    sf.write(tmp_path / "a.wav", ints, RATE, subtype="PCM_16")
    samples, rate = read_audio(tmp_path / "a.wav")
    assert rate == RATE and samples.dtype == np.float64
    np.testing.assert_array_equal(samples, ints)
    sf.write(tmp_path / "a.flac", ints, RATE, subtype="PCM_16")
    np.testing.assert_array_equal(read_audio(tmp_path / "a.flac")[0], ints)
    sf.write(tmp_path / "f.wav", ints / 32768.0, RATE, subtype="FLOAT")
    np.testing.assert_allclose(read_audio(tmp_path / "f.wav")[0], ints, atol=1e-6)


def test_read_audio_channels(tmp_path):
    left, right = np.full(100, 1000, np.int16), np.full(100, -3000, np.int16)
    sf.write(tmp_path / "s.wav", np.stack([left, right], axis=1), RATE, subtype="PCM_16")
    np.testing.assert_array_equal(read_audio(tmp_path / "s.wav")[0], np.full(100, -1000.0))
    np.testing.assert_array_equal(read_audio(tmp_path / "s.wav", channel=1)[0], right)
    np.testing.assert_array_equal(read_audio(tmp_path / "s.wav", channel=0)[0], left)


def test_read_audio_resamples(tmp_path):
    sf.write(tmp_path / "t.wav", tone(48000, rate=48000), 48000, subtype="PCM_16")
    samples, rate = read_audio(tmp_path / "t.wav", sample_rate=RATE)
    assert rate == RATE and samples.shape == (RATE,)
    ref = 32768 * 0.3 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)
    np.testing.assert_allclose(samples[100:-100], ref[100:-100], atol=10.0)


# --- fbank basics --------------------------------------------------------------------------

def test_dither_is_seeded_and_zero_disables():
    x = 32768 * tone()
    a, b = fbank(x, RATE), fbank(x, RATE)
    np.testing.assert_array_equal(a, b)
    c = fbank(x, RATE, seed=1)
    assert np.abs(a - c).max() > 0.01                    # another seed, other noise ...
    loud = a >= a.max(axis=1, keepdims=True) - 1.0
    assert np.abs(a - c)[loud].max() < 1e-3              # ... that only touches quiet bins
    rng = np.random.default_rng(5)
    d = fbank(x, RATE, rng=rng)
    assert np.abs(d - a).max() > 0
    np.testing.assert_array_equal(fbank(x, RATE, dither=0.0, seed=1),
                                  fbank(x, RATE, dither=0.0, seed=2))
    silent = fbank(np.zeros(RATE), RATE, dither=0.0)
    np.testing.assert_array_equal(silent, np.log(np.finfo(np.float32).eps))
    assert fbank(np.zeros(RATE), RATE).min() > np.log(np.finfo(np.float32).eps) + 1


def test_shapes_and_defaults():
    assert FbankOptions().num_mel_bins == 40 and FbankOptions().dither == 1.0
    x = tone(RATE)
    assert fbank(x, RATE).shape == (98, 40)                      # 1 + (16000 - 400) // 160
    assert fbank(x, RATE, snip_edges=False).shape == (100, 40)   # (16000 + 80) // 160
    assert fbank(x, RATE, use_energy=True, num_mel_bins=23).shape == (98, 24)
    assert fbank(tone(8000, rate=8000), 8000).shape == (98, 40)


# --- stacking and alignment ----------------------------------------------------------------

def test_stack_frames():
    feats = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    out = stack_frames(feats, 4)
    assert out.shape == (3, 12) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0], feats[0:4].ravel())
    np.testing.assert_array_equal(out[1], feats[4:8].ravel())
    np.testing.assert_array_equal(out[2], np.concatenate([feats[8], feats[9], feats[9], feats[9]]))
    assert stack_frames(feats[:8], 4).shape == (2, 12)
    np.testing.assert_array_equal(stack_frames(feats, 1), feats)
    with pytest.raises(ValueError, match="2-D"):
        stack_frames(np.zeros(5))


def test_align_to_labels_rule():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    assert align_to_labels(x, 10, "rec") is x
    np.testing.assert_array_equal(align_to_labels(x, 7, "rec"), x[:7])          # crop the end
    padded = align_to_labels(x, 13, "rec")                                      # repeat the last
    assert padded.shape == (13, 2)
    np.testing.assert_array_equal(padded[10:], np.repeat(x[-1:], 3, axis=0))
    long = np.zeros((7501 + 25, 160), np.float32)                               # exactly 1 s over
    assert align_to_labels(long, 7501, "dev_1").shape == (7501, 160)


@pytest.mark.parametrize("t, n_labels", [(7501, 7475), (7475, 7501), (100, 150)])
def test_align_to_labels_error_names_recording(t, n_labels):
    with pytest.raises(ValueError, match=r"train_7: features .* differ by \d+\.\d+ s"):
        align_to_labels(np.zeros((t, 4)), n_labels, "train_7")


def test_paper_layout_five_minutes():
    feats = np.zeros((29998, 40), np.float32)             # 300 s, snip-edges
    stacked = align_to_labels(stack_frames(feats), 7501, "train_1")
    assert stacked.shape == (7501, 160)


# --- speaker normalisation -----------------------------------------------------------------

def test_speaker_normalise_pools_over_recordings():
    a = np.array([[1.0, 5.0], [3.0, 5.0]], np.float32)
    b = np.array([[5.0, 5.0], [7.0, 5.0]], np.float32)
    c = np.array([[10.0, -1.0], [20.0, 1.0]], np.float32)
    out = speaker_normalise({"a": a, "b": b, "c": c}, {"a": "s1", "b": "s1"})
    # speaker s1: dim 0 = {1, 3, 5, 7} → mean 4, std sqrt(5); dim 1 constant → centred only
    np.testing.assert_allclose(out["a"][:, 0], [-3 / np.sqrt(5), -1 / np.sqrt(5)], rtol=1e-6)
    np.testing.assert_allclose(out["b"][:, 0], [1 / np.sqrt(5), 3 / np.sqrt(5)], rtol=1e-6)
    np.testing.assert_array_equal(out["a"][:, 1], 0.0)
    np.testing.assert_allclose(out["c"], [[-1, -1], [1, 1]], rtol=1e-6)   # its own speaker
    assert list(out) == ["a", "b", "c"] and all(v.dtype == np.float32 for v in out.values())


def test_unknown_speaker_does_not_collide_with_speaker_names():
    x, y = np.array([[0.0], [2.0]]), np.array([[100.0], [104.0]])
    out = speaker_normalise({"r1": x, "s": y}, {"r1": "s"})    # "s" is a recording, not "s"
    np.testing.assert_allclose(out["s"], [[-1.0], [1.0]])


@settings(deadline=None, max_examples=20)
@given(st.lists(st.integers(2, 30), min_size=1, max_size=4), st.integers(0, 1000))
def test_speaker_normalise_zero_mean_unit_std(lengths, seed):
    rng = np.random.default_rng(seed)
    feats = {f"r{i}": rng.normal(3.0, 2.0, (n, 5)) for i, n in enumerate(lengths)}
    out = speaker_normalise(feats, {k: "spk" for k in feats})
    pooled = np.concatenate(list(out.values()))
    np.testing.assert_allclose(pooled.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(pooled.std(axis=0), 1.0, atol=1e-5)


# --- cache ---------------------------------------------------------------------------------

@pytest.fixture
def wav(tmp_path) -> Path:
    path = tmp_path / "rec.wav"
    sf.write(path, tone(RATE // 2), RATE, subtype="PCM_16")
    return path


def test_cache_hit_miss_and_invalidation(tmp_path, wav, monkeypatch):
    cache = FeatureCache(tmp_path / "cache")
    first = extract(wav, cache=cache)
    assert (cache.hits, cache.misses) == (0, 1) and first.shape == (48, 40)
    assert len(list((tmp_path / "cache").rglob("*.npz"))) == 1

    def no_compute(*args, **kwargs):
        raise AssertionError("fbank recomputed on a cache hit")
    with monkeypatch.context() as m:
        m.setattr(cache_mod, "fbank", no_compute)
        np.testing.assert_array_equal(extract(wav, cache=cache), first)
    assert cache.hits == 1

    changed = extract(wav, cache=cache, num_mel_bins=23)          # an option change
    assert changed.shape == (48, 23) and cache.misses == 2
    extract(wav, FbankOptions(preemphasis_coefficient=0.9), cache=cache)
    assert cache.misses == 3
    sf.write(wav, tone(RATE // 2, freq=1000.0), RATE, subtype="PCM_16")   # new audio bytes
    new = extract(wav, cache=cache)
    assert cache.misses == 4 and np.abs(new - first).max() > 1.0
    assert len(list((tmp_path / "cache").rglob("*.npz"))) == 4


def test_cache_default_root_and_corrupt_entry(tmp_path, wav, monkeypatch):
    monkeypatch.setenv("TINYEMO_CACHE", str(tmp_path / "root"))
    cache = FeatureCache()
    assert cache.root == tmp_path / "root" / "features"
    feats = extract(wav, cache=cache)
    entry = next(cache.root.rglob("*.npz"))
    entry.write_bytes(b"garbage")                                  # a damaged entry is a miss
    np.testing.assert_array_equal(extract(wav, cache=cache), feats)
    assert cache.misses == 2
    np.testing.assert_array_equal(np.load(entry)["feats"], feats)  # and was rewritten


def test_cache_write_is_atomic(tmp_path, wav, monkeypatch):
    cache = FeatureCache(tmp_path / "cache")
    key = cache.key(wav, FbankOptions())
    old = np.ones((3, 40), np.float32)
    cache.put(key, old)

    def dies_midway(f, **arrays):
        f.write(b"PK\x03\x04 partial bytes")
        raise KeyboardInterrupt("killed while writing")
    monkeypatch.setattr(np, "savez", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        cache.put(key, np.zeros((3, 40), np.float32))
    monkeypatch.undo()
    np.testing.assert_array_equal(cache.get(key), old)            # the old entry survives
    assert [p.name for p in cache.path_of(key).parent.iterdir()] == [f"{key}.npz"]


def test_unseeded_dither_is_not_cached(tmp_path, wav):
    cache = FeatureCache(tmp_path / "cache")
    extract(wav, cache=cache, seed=None)
    assert not (tmp_path / "cache").exists()
