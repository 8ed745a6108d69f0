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
