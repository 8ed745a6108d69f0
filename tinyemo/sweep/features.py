"""Features for a sweep, extracted once, one task per recording on the sweep's executor.

Each task reads one recording's audio (on a cluster: at the same path, e.g. NFS) and computes
its log-mels into the feature cache where it runs, and returns them; the driver puts them in
its own cache (nothing to do when the cache is shared), then :func:`tinyemo.pipeline.prepare`
normalises, stacks and aligns them from there exactly as ``tinyemo train`` does.
"""
from __future__ import annotations

from pathlib import Path

from ..pipeline import Example

__all__ = ["load_examples_on"]


def _extract(audio: str):
    """One recording's (T10, 40) log-mels, from (or into) the feature cache where this runs."""
    from ..frontend.cache import extract
    return extract(audio)


def load_examples_on(executor, source: Path) -> tuple[dict[str, Example], dict]:
    """(examples, data_info) of the corpus at ``source``, as :func:`tinyemo.pipeline.
    load_examples` gives them, with the extraction spread over ``executor``."""
    from ..data.loading import load_corpus
    from ..frontend import FbankOptions
    from ..frontend.cache import FeatureCache
    from ..pipeline import load_examples
    corpus = load_corpus(source)
    feats = executor.map(_extract, [str(rec.audio) for rec in corpus])
    cache, options = FeatureCache(), FbankOptions()
    for rec, f in zip(corpus, feats):
        key = cache.key(rec.audio, options)
        if cache.get(key) is None:
            cache.put(key, f)
    return load_examples(source)
