"""The synthetic corpus: deterministic, RECOLA-like labels, annotator lag, audio that follows arousal.

Everything is measured from the files on disk (audio, ARFF, latents.npz), not from the
generator's internals.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.ndimage import uniform_filter1d

from tinyemo.data import (
    PRESETS, default_corpus, default_corpus_path, generate, load_corpus, read_individual_ratings,
    synthetic,
)

FR = 640  # samples per 40 ms label frame at 16 kHz


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("tiny"), "tiny", seed=0)


@pytest.fixture(scope="module")
def minute(tmp_path_factory):
    """The tiny preset's 7 recordings, 60 s each: long enough to measure slow trends."""
    return generate(tmp_path_factory.mktemp("minute"), "tiny", seed=3, duration_s=60.0)


def files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_identical_files_different_seed_differs(tiny, tmp_path):
    again = files(generate(tmp_path / "again", "tiny", seed=0))
    first = files(tiny)
    assert again.keys() == first.keys() and len(first) == 12 * 5 + 2
    assert all(again[k] == first[k] for k in first)
    other = files(generate(tmp_path / "other", "tiny", seed=1))
    for k in [k for k in first if k.suffix in (".wav", ".arff", ".npz")]:
        assert other[k] != first[k], k


def test_layout_reads_back(tiny):
    corpus = load_corpus(tiny)
    assert [len(corpus.partition(p)) for p in ("train", "dev", "test")] == [6, 3, 3]
    assert corpus.targets == ("arousal", "valence")
    for rec in corpus:  # unlike RECOLA, the test partition is labelled
        info = sf.info(str(rec.audio))
        assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, "PCM_16", 480000)
        assert rec.labels["arousal"].shape == rec.labels["valence"].shape == (751,)
        times, ratings, names = read_individual_ratings(tiny, rec.id, "valence")
        assert ratings.shape == (751, 6) and len(names) == 6
        np.testing.assert_allclose(ratings.mean(axis=1), rec.labels["valence"], atol=2e-6)
    meta = json.loads((tiny / "metadata.json").read_text())
    assert (meta["preset"], meta["seed"], meta["config"]["duration_s"]) == ("tiny", 0, 30.0)
    stats = meta["label_statistics"]["all"]["arousal"]
    assert {"mean", "std", "min", "max", "power_below_1hz", "acf_halftime_s", "spline_rebuild_ccc",
            "annotator_ccc_concatenated", "annotator_ccc_per_recording_mean"} <= set(stats)
    assert (meta["generator_version"], meta["generator_fingerprint"]) == (
        synthetic.GENERATOR_VERSION, synthetic.generator_fingerprint())
    assert len(meta["recordings"]) == 12 and meta["recordings"][0]["speaker"]["sex"] in "MF"


def test_audio_is_speech_like(tiny):
    """Pauses and syllables: frame energy spans a wide range; no clipping; not silent."""
    x, _ = sf.read(str(load_corpus(tiny)["train_1"].audio))
    db = 10 * np.log10(np.mean(x[: len(x) // FR * FR].reshape(-1, FR) ** 2, axis=1) + 1e-12)
    assert np.percentile(db, 90) - np.percentile(db, 10) > 12
    assert -45 < np.percentile(db, 90) < -5 and np.abs(x).max() < 1.0


def low_fraction(track):
    p = np.abs(np.fft.rfft(track - track.mean())) ** 2
    return p[np.fft.rfftfreq(len(track), 0.04) < 1.0].sum() / p.sum()


def test_label_spectra_mostly_below_1hz(minute):
    corpus = load_corpus(minute)
    latents = np.load(minute / "latents.npz")
    for rec in corpus:
        for target in ("arousal", "valence"):
            assert low_fraction(rec.labels[target].astype(float)) > 0.95
            assert low_fraction(latents[f"{rec.id}.{target}"].astype(float)) > 0.95


def test_gold_standard_lags_latent_by_2_to_4_s(minute):
    corpus = load_corpus(minute)
    latents = np.load(minute / "latents.npz")
    lags = np.arange(0, 176)  # 0 … 7 s in frames
    for target in ("arousal", "valence"):
        xc = np.zeros(len(lags))
        for rec in corpus:  # pooled over recordings: gold(t) against latent(t - lag)
            g = rec.labels[target] - rec.labels[target].mean()
            z = latents[f"{rec.id}.{target}"] - latents[f"{rec.id}.{target}"].mean()
            xc += [np.dot(g[k:], z[:len(z) - k]) / (len(z) - k) for k in lags]
        peak = lags[np.argmax(xc)] * 0.04
        assert 2.0 <= peak <= 4.0, (target, peak)


def frame_db(x):
    return 10 * np.log10(np.mean(x[: len(x) // FR * FR].reshape(-1, FR) ** 2, axis=1) + 1e-12)


def pitch_semitones(x, fs=16000):
    """Per 40 ms frame: autocorrelation pitch in semitones re 100 Hz, NaN where unvoiced."""
    fr = x[: len(x) // FR * FR].reshape(-1, FR)
    fr = fr - fr.mean(axis=1, keepdims=True)
    ac = np.fft.irfft(np.abs(np.fft.rfft(fr, 2 * FR)) ** 2)[:, :FR]
    lo, hi = fs // 400, fs // 70
    k = lo + np.argmax(ac[:, lo:hi], axis=1)
    clarity = ac[np.arange(len(k)), k] / (ac[:, 0] + 1e-12)
    return np.where(clarity > 0.5, 12 * np.log2(fs / k / 100.0), np.nan)


def smooth(v, width):
    """Moving average over ``width`` frames that skips NaN."""
    ok = ~np.isnan(v)
    num = uniform_filter1d(np.where(ok, v, 0.0), width)
    den = uniform_filter1d(ok.astype(float), width)
    return np.where(den > 0.1, num / np.maximum(den, 1e-9), np.nan)


def test_loudness_and_pitch_from_audio_track_arousal(minute):
    corpus = load_corpus(minute)
    latents = np.load(minute / "latents.npz")
    a_all, loud_all, pitch_all = [], [], []
    for rec in corpus:
        x, _ = sf.read(str(rec.audio))
        a = latents[f"{rec.id}.arousal"]
        loud = 10 * np.log10(uniform_filter1d(10 ** (frame_db(x) / 10), 75))  # 3 s of energy
        pitch = smooth(pitch_semitones(x), 75)
        m = min(len(a), len(loud))
        ok = ~np.isnan(pitch[:m])
        for dst, v in ((a_all, a[:m]), (loud_all, loud[:m]), (pitch_all, pitch[:m])):
            dst.append(v[ok] - v[ok].mean())  # within-recording: each speaker has own level
    a, loud, pitch = map(np.concatenate, (a_all, loud_all, pitch_all))
    assert np.corrcoef(a, loud)[0, 1] > 0.5
    assert np.corrcoef(a, pitch)[0, 1] > 0.2


def test_presets_and_overrides():
    assert [(c.n_train, c.n_dev, c.n_test, c.duration_s) for c in (PRESETS["quick"], PRESETS["recola"])] \
        == [(9, 9, 9, 90.0), (9, 9, 9, 300.0)]
    with pytest.raises(ValueError, match="unknown preset"):
        generate("/nonexistent", "huge")
    with pytest.raises(ValueError, match="unknown synthetic-corpus option"):
        generate("/nonexistent", "tiny", duration=3)


def test_generate_refuses_non_empty_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        generate(tmp_path, "tiny", n_train=1, n_dev=0, n_test=0, duration_s=3.0)


def test_default_corpus_generates_once_and_reuses(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYEMO_CACHE", str(tmp_path))
    stale = default_corpus_path("tiny", seed=5)
    assert stale.parent == tmp_path / "corpora" and stale.name.startswith("tiny-seed5-")
    stale.mkdir(parents=True)
    (stale / "half_written.wav").write_bytes(b"")  # no metadata.json: not reused
    path = default_corpus("tiny", seed=5)
    assert path == stale and (path / "metadata.json").is_file() and not (path / "half_written.wav").exists()
    stamp = os.stat(path / "metadata.json").st_mtime_ns
    assert default_corpus("tiny", seed=5) == path
    assert os.stat(path / "metadata.json").st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "corpora").iterdir()] == [path.name]  # no temp left
    assert len(load_corpus(path)) == 12


def test_a_changed_generator_gets_a_new_cache_folder(tmp_path, monkeypatch):
    """The cache key holds a hash of the generator's source: editing any generator module (or
    bumping GENERATOR_VERSION) makes default_corpus generate afresh, never reuse stale files."""
    here = Path(synthetic.__file__).parent
    copies = []
    for name in synthetic.GENERATOR_SOURCES:
        copies.append(tmp_path / name)
        copies[-1].write_bytes((here / name).read_bytes())
    assert synthetic.generator_fingerprint(tuple(copies)) == synthetic.generator_fingerprint()
    with copies[1].open("a") as f:                       # latents.py, one comment added
        f.write("# changed\n")
    assert synthetic.generator_fingerprint(tuple(copies)) != synthetic.generator_fingerprint()
    monkeypatch.setenv("TINYEMO_CACHE", str(tmp_path))
    before = default_corpus_path("tiny", seed=0)
    monkeypatch.setattr(synthetic, "GENERATOR_VERSION", synthetic.GENERATOR_VERSION + 1)
    after = default_corpus_path("tiny", seed=0)
    assert before != after and before.parent == after.parent
