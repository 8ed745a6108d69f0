"""Corpus → model inputs: shapes, alignment to the labels, speaker z-normalisation, the cache,
and unlabelled recordings covering the whole audio."""
from __future__ import annotations

import numpy as np
import soundfile as sf

from tinyemo.data import generate, load_corpus
from tinyemo.data.corpus import Corpus, Recording
from tinyemo.data.examples import prepare
from tinyemo.data.grid import frames_for_duration
from tinyemo.frontend import FeatureCache


def test_prepare_aligns_normalises_and_caches(tmp_path):
    root = generate(tmp_path / "corpus", "tiny", seed=3, n_train=2, n_dev=1, n_test=1,
                    duration_s=8.0, workers=1)
    corpus = load_corpus(root)
    cache = FeatureCache(tmp_path / "features")
    examples = prepare(corpus, cache=cache)
    assert list(examples) == list(corpus.ids) and cache.misses == 4 and cache.hits == 0
    for rec in corpus:
        ex = examples[rec.id]
        n = len(rec.labels["arousal"])
        assert ex.x.shape == (160, n) and ex.x.dtype == np.float32 and ex.x.flags.c_contiguous
        assert n == frames_for_duration(8.0) == 201
        # each recording is its own speaker: every mel bin, over all its 10-ms frames (the 4
        # stacked phases together), is z-normalised, up to the one frame alignment repeats
        bins = ex.x.reshape(4, 40, n).transpose(1, 0, 2).reshape(40, -1)
        np.testing.assert_allclose(bins.mean(axis=1), 0, atol=0.02)
        np.testing.assert_allclose(bins.std(axis=1), 1, atol=0.02)
        # the 4 stacked frames are 4 consecutive 10-ms frames of the same 40 bins
        assert np.corrcoef(ex.x[:40].ravel(), ex.x[40:80].ravel())[0, 1] > 0.5
    again = prepare(corpus, cache=cache)
    assert cache.hits == 4
    for rec_id in examples:
        np.testing.assert_array_equal(again[rec_id].x, examples[rec_id].x)


def test_unlabelled_recordings_cover_the_whole_audio(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "speech.wav"
    sf.write(str(path), (rng.standard_normal(16000 * 3 + 500) * 1000).astype(np.int16), 16000)
    corpus = Corpus([Recording("speech", "speech", "predict", path)])
    (ex,) = prepare(corpus, cache=False).values()
    assert ex.x.shape == (160, int((3 + 500 / 16000) / 0.04) + 1) and not ex.y


def test_descriptor_features_are_normalised_and_stacked_like_the_filterbanks(tmp_path):
    """``fbank+lld``: each 10 ms frame's 40 log-mels then 25 descriptors, z-normalised per
    speaker, stacked 4 to a row; the log-mel part equals the ``fbank`` examples exactly, the
    descriptor part the independently z-normalised openSMILE frames; never NaN."""
    from tinyemo.frontend.descriptors import extract_descriptors
    from tinyemo.frontend.features import stack_frames
    root = generate(tmp_path / "corpus", "tiny", seed=3, n_train=2, n_dev=1, n_test=1,
                    duration_s=8.0, workers=1)
    corpus = load_corpus(root)
    cache = FeatureCache(tmp_path / "features")
    fb = prepare(corpus, cache=cache)
    both = prepare(corpus, cache=cache, features="fbank+lld")
    lld = prepare(corpus, cache=cache, features="lld")
    assert cache.misses == 4 + 4 and cache.hits == 4 + 4   # descriptors cached once, reused
    speakers = {r.id: r.speaker for r in corpus}
    for rec in corpus:
        n = len(rec.labels["arousal"])
        x = both[rec.id].x.reshape(4, 65, n)              # (phase, channel, T)
        assert both[rec.id].x.shape == (260, n) and np.isfinite(both[rec.id].x).all()
        np.testing.assert_array_equal(x[:, :40].reshape(160, n), fb[rec.id].x)
        np.testing.assert_array_equal(x[:, 40:].reshape(100, n), lld[rec.id].x)
        # the reference: the speaker's pooled raw descriptors, z-normalised by hand (float64)
        same = [r for r in corpus if speakers[r.id] == speakers[rec.id]]
        pooled = np.concatenate([extract_descriptors(r.audio, cache=False) for r in same])
        mean, std = pooled.mean(axis=0), pooled.std(axis=0)
        std = np.where(std < 1e-5, 1.0, std)
        raw = extract_descriptors(rec.audio, cache=False)
        ref = stack_frames(((raw - mean) / std).astype(np.float32))[:n]
        ref = np.concatenate([ref, np.repeat(ref[-1:], n - len(ref), axis=0)]).T   # align
        np.testing.assert_allclose(lld[rec.id].x, ref, rtol=1e-4, atol=1e-4)
