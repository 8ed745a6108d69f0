"""Features for a sweep, extracted once, one task per recording on the sweep's executor.

Each task reads one recording's audio (on a cluster: at the same path, e.g. NFS) and computes
its log-mels into the feature cache where it runs, and returns them; the driver puts them in
its own cache (nothing to do when the cache is shared), then :func:`tinyemo.data.examples.
load_examples` normalises, stacks and aligns them from there exactly as ``tinyemo train`` does.
"""
from __future__ import annotations

from pathlib import Path

from tinyemo.data.examples import Example, corpus_rate, load_examples
from tinyemo.data.fingerprint import corpus_fingerprint
from tinyemo.data.loading import load_corpus
from tinyemo.frontend import FbankOptions
from tinyemo.frontend.cache import FeatureCache, extract

__all__ = ["load_examples_on", "describe"]


def _extract(job: tuple[str, int]):
    """One recording's (T10, 40) log-mels at the corpus's rate, from (or into) the feature
    cache where this runs."""
    audio, rate = job
    return extract(audio, sample_rate=rate)


def describe(source: Path) -> tuple[object, dict]:
    """(corpus, data_info) of ``source`` without computing features: the ``data_info`` that
    :func:`tinyemo.data.examples.load_examples` gives (root, recordings, sample rate, fingerprint)."""
    corpus = load_corpus(source)
    return corpus, {"root": str(Path(source).resolve()), "recordings": len(corpus),
                    "sample_rate": corpus_rate(corpus), "fingerprint": corpus_fingerprint(corpus)}


def load_examples_on(executor, source: Path, features: str = "fbank"
                     ) -> tuple[dict[str, Example], dict]:
    """(examples, data_info) of the corpus at ``source``, as :func:`tinyemo.data.examples.
    load_examples` gives them, with the log-mel extraction spread over ``executor`` (openSMILE
    descriptors, for ``features`` other than fbank, are computed here, once)."""
    corpus = load_corpus(source)
    rate = corpus_rate(corpus)
    feats = executor.map(_extract, [(str(rec.audio), rate) for rec in corpus])
    cache, options = FeatureCache(), FbankOptions()
    for rec, f in zip(corpus, feats):
        key = cache.key(rec.audio, options, None, rate)
        if cache.get(key) is None:
            cache.put(key, f)
    return load_examples(source, sample_rate=rate, features=features)
